//! The published JSON Schema (docs/scenario.schema.json) is generated from
//! the scenario DTOs; this test fails when the types change and the file was
//! not regenerated (`cargo run --release -- schema > docs/scenario.schema.json`).

#[test]
fn published_schema_matches_the_types() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.schema.json");
    let published: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("docs/scenario.schema.json exists"),
    )
    .expect("the published schema is JSON");
    assert_eq!(
        published,
        sim_core::scenario::json_schema(),
        "docs/scenario.schema.json is stale: regenerate it with `cargo run --release -- schema > docs/scenario.schema.json`"
    );
}
