//! Generates the envelope types from `schemas/playhouse/envelope.proto`
//! (see `playhouse-build` for how: prost + serde, no system `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    playhouse_build::compile(&["schemas/playhouse/envelope.proto"], &["schemas"])
}
