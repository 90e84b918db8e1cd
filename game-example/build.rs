//! Generates arena's wire types from `schemas/arena/` (see `playhouse-build`:
//! prost + serde for both codecs, no system `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    playhouse_build::compile(&["schemas/arena/v1.proto", "schemas/arena/v2.proto"], &["schemas"])
}
