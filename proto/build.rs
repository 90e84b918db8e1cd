//! Generates the wire types from `schemas/` with prost-build, parsing the
//! `.proto` files with protox (pure Rust), so no system `protoc` is needed.
//!
//! Every generated type also derives serde, camelCase like protobufjs, so the
//! MessagePack codec and the protobuf codec share one source of truth.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "schemas/playhouse/envelope.proto",
        "schemas/arena/v1.proto",
        "schemas/arena/v2.proto",
        "schemas/bench/v1.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["schemas"])?;
    prost_build::Config::new()
        .bytes(["."])
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .type_attribute(".", "#[serde(rename_all = \"camelCase\")]")
        .message_attribute(".", "#[serde(default)]")
        // Absent when 0, so a room's shared frame encodes without it and each
        // session's seq can be appended per client (playhouse::protocol::stamp).
        .field_attribute(".playhouse.envelope.ServerMsg.seq", "#[serde(skip_serializing_if = \"crate::is_zero\")]")
        .compile_fds(fds)?;
    Ok(())
}
