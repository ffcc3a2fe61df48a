//! The checked-in `docs/openapi.json` is the document the code generates, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn docs_openapi_json_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = switchboard::channels::openapi::json();
    assert!(
        checked_in == generated,
        "docs/openapi.json is not the document the code generates; regenerate it with\n\n    \
         cargo run -- openapi --write docs/openapi.json\n\n(switchboard openapi --write \
         docs/openapi.json) and commit it."
    );
}

#[test]
fn the_document_is_openapi_3_1_with_every_operation_named() {
    let document: serde_json::Value =
        serde_json::from_str(switchboard::channels::openapi::json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} lists no response"
            );
        }
    }
}
