//! Unit tests of the FastAPI-shaped validation errors.

use super::*;

fn errors(body: &str) -> Vec<Value> {
    match validate_call(body.as_bytes()) {
        Ok(ok) => panic!("expected 422 for {body}, got {ok:?}"),
        Err(errors) => errors,
    }
}

fn kinds(errors: &[Value]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or("?").to_owned(),
                e["loc"].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_full_valid_body_passes() {
    let body = r#"{"numberToCall":"+96612341234","firstName":"John","lastName":"Doe",
        "email":"john.doe@example.com","contactUuid":"0b6c3d1e-5d8f-4f61-9a57-2f1f0c6a9e10",
        "createIfNotExists":false,"updateExisting":true,
        "aiSettingsTemplateId":"0b6c3d1e-5d8f-4f61-9a57-2f1f0c6a9e10",
        "promptTags":{"amount":"120.50"},"metadata":{"row":7,"nested":{"a":1}},"unknown":1}"#;
    let (value, fields) = validate_call(body.as_bytes()).expect("valid body");
    assert_eq!(fields.number, "+96612341234");
    assert!(!fields.create_if_not_exists);
    assert_eq!(value["metadata"]["row"], 7);
}

#[test]
fn nulls_in_optional_fields_are_accepted_and_create_defaults_to_true() {
    let body = r#"{"numberToCall":"+15551234567","email":null,"createIfNotExists":null}"#;
    let (_, fields) = validate_call(body.as_bytes()).expect("valid body");
    assert!(fields.create_if_not_exists);
}

#[test]
fn missing_number_is_field_required() {
    let found = errors(r#"{"firstName":"A"}"#);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["type"], "missing");
    assert_eq!(found[0]["loc"], json!(["body", "numberToCall"]));
    assert_eq!(found[0]["msg"], "Field required");
    assert_eq!(found[0]["input"], json!({"firstName": "A"}));
}

#[test]
fn invalid_json_gives_json_invalid_with_the_byte_position() {
    let found = errors("{\n \"numberToCall\": }");
    assert_eq!(found[0]["type"], "json_invalid");
    assert_eq!(found[0]["msg"], "JSON decode error");
    assert_eq!(found[0]["loc"], json!(["body", 19]));
    let empty = errors("  ");
    assert_eq!(empty[0]["type"], "missing");
    assert_eq!(empty[0]["loc"], json!(["body"]));
}

#[test]
fn a_body_that_is_not_an_object_is_refused() {
    let found = errors("[1,2]");
    assert_eq!(found[0]["type"], "model_attributes_type");
    assert_eq!(found[0]["loc"], json!(["body"]));
}

#[test]
fn number_must_be_an_e164_string() {
    let found = errors(r#"{"numberToCall":"0551234567"}"#);
    assert_eq!(found[0]["type"], "string_pattern_mismatch");
    assert_eq!(
        found[0]["msg"],
        r"String should match pattern '^\+[1-9]\d{6,14}$'"
    );
    assert_eq!(found[0]["ctx"]["pattern"], E164_PATTERN);
    assert_eq!(
        errors(r#"{"numberToCall":15551234567}"#)[0]["type"],
        "string_type"
    );
    for good in ["+1555123", "+123456789012345"] {
        assert!(is_e164(good), "{good}");
    }
    for bad in [
        "+0555123456",
        "+155512",
        "+1234567890123456",
        "+1 5551234567",
        "15551234567",
        "+",
    ] {
        assert!(!is_e164(bad), "{bad}");
    }
}

#[test]
fn email_must_look_like_an_address() {
    let found = errors(r#"{"numberToCall":"+15551234567","email":"john.example.com"}"#);
    assert_eq!(found[0]["type"], "value_error");
    assert_eq!(found[0]["loc"], json!(["body", "email"]));
    assert_eq!(
        found[0]["msg"],
        "value is not a valid email address: An email address must have an @-sign."
    );
    assert_eq!(email_problem("a@b.co"), None);
    assert_eq!(email_problem("ü@bücher.de"), None);
    for bad in [
        "@b.co",
        "a@",
        "a@localhost",
        "a b@c.de",
        "a@-b.de",
        "a@b..de",
        "a@b.123",
    ] {
        assert!(email_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn uuids_are_parsed_like_pydantic() {
    let found =
        errors(r#"{"numberToCall":"+15551234567","contactUuid":"nope","aiSettingsTemplateId":7}"#);
    assert_eq!(
        kinds(&found),
        [
            ("uuid_parsing".into(), r#"["body","contactUuid"]"#.into()),
            (
                "uuid_type".into(),
                r#"["body","aiSettingsTemplateId"]"#.into()
            ),
        ]
    );
    let msg = found[0]["msg"].as_str().unwrap_or_default();
    assert!(msg.starts_with("Input should be a valid UUID, "), "{msg}");
}

#[test]
fn booleans_follow_pydantic_lax_mode() {
    let ok = r#"{"numberToCall":"+15551234567","createIfNotExists":"no","updateExisting":1}"#;
    let (_, fields) = validate_call(ok.as_bytes()).expect("lax booleans are accepted");
    assert!(!fields.create_if_not_exists);
    let found = errors(
        r#"{"numberToCall":"+15551234567","createIfNotExists":"maybe","updateExisting":[]}"#,
    );
    assert_eq!(
        kinds(&found),
        [
            (
                "bool_parsing".into(),
                r#"["body","createIfNotExists"]"#.into()
            ),
            ("bool_type".into(), r#"["body","updateExisting"]"#.into()),
        ]
    );
}

#[test]
fn prompt_tags_are_strings_and_metadata_is_an_object() {
    let found =
        errors(r#"{"numberToCall":"+15551234567","promptTags":{"a":"x","b":2},"metadata":[1]}"#);
    assert_eq!(
        kinds(&found),
        [
            ("string_type".into(), r#"["body","promptTags","b"]"#.into()),
            ("dict_type".into(), r#"["body","metadata"]"#.into()),
        ]
    );
    assert_eq!(
        errors(r#"{"numberToCall":"+15551234567","promptTags":"x"}"#)[0]["type"],
        "dict_type"
    );
}

#[test]
fn every_error_is_reported_in_field_order() {
    let found = errors(r#"{"firstName":1,"email":"x","createIfNotExists":"?","metadata":"m"}"#);
    let locs: Vec<String> = kinds(&found).into_iter().map(|(_, loc)| loc).collect();
    assert_eq!(
        locs,
        [
            r#"["body","numberToCall"]"#,
            r#"["body","firstName"]"#,
            r#"["body","email"]"#,
            r#"["body","createIfNotExists"]"#,
            r#"["body","metadata"]"#,
        ]
    );
}

#[test]
fn auth_body_needs_both_credentials_as_strings() {
    let ok = validate_auth(br#"{"clientId":"id","clientSecret":"s"}"#).expect("valid");
    assert_eq!(ok, ("id".to_owned(), "s".to_owned()));
    let found = validate_auth(br#"{"clientId":5}"#).expect_err("invalid");
    assert_eq!(
        kinds(&found),
        [
            ("string_type".into(), r#"["body","clientId"]"#.into()),
            ("missing".into(), r#"["body","clientSecret"]"#.into()),
        ]
    );
    assert_eq!(
        validate_auth(b"{").expect_err("bad json")[0]["type"],
        "json_invalid"
    );
}
