//! Generates the probe schema's types (see `playhouse-build`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    playhouse_build::compile(&["schemas/probe/v1.proto", "schemas/probe/v2.proto"], &["schemas"])
}
