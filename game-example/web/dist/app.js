console.log("arena web client placeholder");
