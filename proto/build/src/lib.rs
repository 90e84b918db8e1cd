//! Compiles `.proto` schemas into Rust types that both Playhouse codecs
//! carry, from a crate's `build.rs`.
//!
//! Every generated type is a [`prost::Message`](https://docs.rs/prost) for
//! the `proto` codec and also derives serde with camelCase field names (as
//! protobufjs names them) and `#[serde(default)]` for the `msgpack` codec, so
//! one definition serves both codecs and a MessagePack client may leave out
//! fields it does not know. The `.proto` files are parsed by protox (pure
//! Rust): no system `protoc` is needed. Playhouse's own envelope, the sample
//! game's schema and a studio's game schema are all built this way.
//!
//! ```no_run
//! // build.rs of a game crate; the crate depends on prost, serde and bytes.
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     playhouse_build::compile(&["schemas/mygame/v1.proto"], &["schemas"])
//! }
//! // src/lib.rs:
//! // pub mod v1 { include!(concat!(env!("OUT_DIR"), "/mygame.v1.rs")); }
//! ```

use std::path::Path;

/// Compiles `files` (found under `includes`) into `$OUT_DIR/<package>.rs`,
/// one file per protobuf package, and tells cargo to rebuild when a file
/// changes. `bytes` fields become [`bytes::Bytes`](https://docs.rs/bytes).
pub fn compile(files: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> Result<(), Box<dyn std::error::Error>> {
    for f in files {
        println!("cargo:rerun-if-changed={}", f.as_ref().display());
    }
    let fds = protox::compile(files, includes)?;
    prost_build::Config::new()
        .bytes(["."])
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .type_attribute(".", "#[serde(rename_all = \"camelCase\")]")
        .message_attribute(".", "#[serde(default)]")
        // Absent when 0, so a room's shared frame encodes without it and each
        // session's seq can be appended per client (playhouse_protocol::stamp).
        .field_attribute(".playhouse.envelope.ServerMsg.seq", "#[serde(skip_serializing_if = \"crate::is_zero\")]")
        // Absent when 0 (a whole state), so whole states encode as before
        // deltas existed.
        .field_attribute(".playhouse.envelope.State.baseline", "#[serde(skip_serializing_if = \"crate::is_zero\")]")
        .field_attribute(".playhouse.envelope.State.compression", "#[serde(skip_serializing_if = \"crate::is_zero\")]")
        .field_attribute(
            ".playhouse.envelope.Welcome.compression",
            "#[serde(skip_serializing_if = \"String::is_empty\")]",
        )
        .compile_fds(fds)?;
    Ok(())
}
