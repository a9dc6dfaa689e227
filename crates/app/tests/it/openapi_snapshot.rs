//! The OpenAPI document is the contract API users generate clients from: any change to it shows up here as a
//! snapshot diff to review (`INSTA_UPDATE=always cargo test -p shanzhi --test it -- openapi_snapshot`, then read
//! the diff of `snapshots/`). CI never writes snapshots, so an unreviewed change fails.

#[test]
fn openapi_document_is_the_reviewed_one() {
    let (_, doc) = shanzhi_web::api::router();
    let json = serde_json::to_value(&doc).unwrap();
    assert!(
        json["paths"].as_object().is_some_and(|p| p.len() > 50),
        "the document lists the API's paths"
    );
    insta::assert_json_snapshot!("openapi", json);
}
