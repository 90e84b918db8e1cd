//! The `playhouse` command-line client: talks the Playhouse protocol to a
//! running server and prints every frame as JSON, its game payload decoded
//! through the game's own `.proto` schema, read at run time. For people
//! debugging a game (binary frames are hard to read) and for scripts
//! (`--json`: one object a line).
//!
//! ```text
//! playhouse info ws://127.0.0.1:8080/ws
//! playhouse rooms ws://127.0.0.1:8080/ws
//! playhouse connect ws://127.0.0.1:8080/ws --token arena.v2.proto --proto game-example/schemas/arena/v2.proto
//!     join-or-create arena name=ann
//!     input {"moveX": 1}
//! playhouse decode --token arena.v2.msgpack 82a4...
//! ```
//!
//! The library holds the plain parts (schema, payloads, frames, commands,
//! byte arguments, endpoints), each tested without a server; `main.rs` is
//! argument parsing, [`connect`] the loop around a connection.

#![warn(missing_docs)]

pub mod bytes_arg;
pub mod command;
pub mod connect;
pub mod frame;
pub mod http;
pub mod output;
pub mod payload;
pub mod schema;
