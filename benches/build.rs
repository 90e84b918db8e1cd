//! Generates the fan-out scenario's wire types from `schemas/bench/`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    playhouse_build::compile(&["schemas/bench/v1.proto"], &["schemas"])
}
