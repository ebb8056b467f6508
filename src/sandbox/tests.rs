//! In-process HTTP tests of the documented behaviour: 201, 401, token exchange, 422, 404.
//! Fault knobs are in `tests_faults.rs`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::*;

pub(super) const NUMBER: &str = "+15550001111";

pub(super) async fn sandbox(config: SandboxConfig) -> Sandbox {
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    start(config, listen)
        .await
        .expect("the sandbox binds to a free loopback port")
}

thread_local! {
    // Building a client loads TLS roots (tens of ms); each test runs on its own thread with
    // its own runtime, so one client per thread is reused only within one test.
    static CLIENT: reqwest::Client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a plain reqwest client builds");
}

pub(super) fn client() -> reqwest::Client {
    CLIENT.with(reqwest::Client::clone)
}

/// POSTs `body` (raw text) to the call endpoint; returns status, headers and JSON body.
pub(super) async fn post_call(
    sandbox: &Sandbox,
    token: Option<&str>,
    body: &str,
) -> (u16, HeaderMap, Value) {
    let mut request = client()
        .post(format!("{}{CALL_PATH}", sandbox.url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(super) fn call_body(number: &str) -> String {
    json!({ "numberToCall": number, "metadata": { "row": 2 } }).to_string()
}

pub(super) async fn call(sandbox: &Sandbox, body: &str) -> (u16, HeaderMap, Value) {
    post_call(sandbox, Some("sandbox-token"), body).await
}

async fn post_auth(sandbox: &Sandbox, body: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{}{AUTH_PATH}", sandbox.url()))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the sandbox answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn responses(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(label, n)| (label.to_string(), *n))
        .collect()
}

#[tokio::test]
async fn a_valid_call_is_placed_answered_201_and_counted() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let (status, _, body) = call(&sandbox, &call_body(NUMBER)).await;
    assert_eq!(status, 201);
    assert_eq!(body["status"], "initiated");
    assert_eq!(body["numberToCall"], NUMBER);
    let id = body["id"].as_str().expect("an id");
    assert_eq!(
        uuid::Uuid::parse_str(id).map(|u| u.get_version_num()),
        Ok(4)
    );
    call(&sandbox, &call_body(NUMBER)).await;

    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 2);
    assert_eq!(stats.calls_per_number, responses(&[(NUMBER, 2)]));
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.responses, responses(&[("201", 2)]));
    assert_eq!(stats.max_calls_in_one_second, 2);
    assert_eq!(stats.max_requests_in_one_second, 2);

    let url = sandbox.url();
    let over_http: Stats = client()
        .get(format!("{url}/sandbox/stats"))
        .send()
        .await
        .expect("stats answer")
        .json()
        .await
        .expect("stats JSON");
    assert_eq!(over_http, stats);
    let kept: Vec<Value> = client()
        .get(format!("{url}/sandbox/calls"))
        .send()
        .await
        .expect("calls answer")
        .json()
        .await
        .expect("calls JSON");
    assert_eq!(kept, sandbox.calls());
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0]["metadata"]["row"], 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn calls_without_a_valid_token_get_401_and_place_nothing() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let (status, headers, body) = post_call(&sandbox, None, &call_body(NUMBER)).await;
    assert_eq!(
        (status, body),
        (401, json!({"detail": "Not authenticated"}))
    );
    assert_eq!(
        headers.get("www-authenticate").map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let (status, _, body) = post_call(&sandbox, Some("wrong"), &call_body(NUMBER)).await;
    assert_eq!(
        (status, body),
        (401, json!({"detail": "Invalid or expired token"}))
    );
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 0);
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.responses, responses(&[("401", 2)]));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_issued_token_places_calls_until_it_expires() {
    let config = SandboxConfig {
        token_ttl: Duration::from_millis(150),
        ..Default::default()
    };
    let sandbox = sandbox(config).await;
    let (status, body) = post_auth(
        &sandbox,
        r#"{"clientId":"sandbox-client","clientSecret":"sandbox-secret"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let token = body["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned();
    assert!(
        token.starts_with("eyJ") && token.split('.').count() == 3,
        "{token}"
    );

    let (status, _, _) = post_call(&sandbox, Some(&token), &call_body(NUMBER)).await;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, body) = post_call(&sandbox, Some(&token), &call_body(NUMBER)).await;
    assert_eq!(
        (status, body),
        (401, json!({"detail": "Invalid or expired token"}))
    );
    assert_eq!(sandbox.stats().total_calls, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_credentials_and_bad_bodies() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let (status, body) = post_auth(
        &sandbox,
        r#"{"clientId":"sandbox-client","clientSecret":"guess"}"#,
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["detail"].is_string());
    let (status, body) = post_auth(&sandbox, r#"{"clientId":"sandbox-client"}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "clientSecret"]));
    assert_eq!(body["detail"][0]["type"], "missing");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_validation_error_answers_422_in_fastapi_form() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let cases = [
        ("{not json", "json_invalid", json!(["body", 1])),
        (
            r#"{"firstName":"A"}"#,
            "missing",
            json!(["body", "numberToCall"]),
        ),
        (
            r#"{"numberToCall":"0551234567"}"#,
            "string_pattern_mismatch",
            json!(["body", "numberToCall"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","email":"nope"}"#,
            "value_error",
            json!(["body", "email"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","contactUuid":"x"}"#,
            "uuid_parsing",
            json!(["body", "contactUuid"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","aiSettingsTemplateId":"1234"}"#,
            "uuid_parsing",
            json!(["body", "aiSettingsTemplateId"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","promptTags":{"a":1}}"#,
            "string_type",
            json!(["body", "promptTags", "a"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","promptTags":[]}"#,
            "dict_type",
            json!(["body", "promptTags"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","metadata":"m"}"#,
            "dict_type",
            json!(["body", "metadata"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","createIfNotExists":"perhaps"}"#,
            "bool_parsing",
            json!(["body", "createIfNotExists"]),
        ),
        (
            r#"{"numberToCall":"+15550001111","updateExisting":{}}"#,
            "bool_type",
            json!(["body", "updateExisting"]),
        ),
    ];
    for (body, kind, loc) in &cases {
        let (status, _, answer) = call(&sandbox, body).await;
        assert_eq!(status, 422, "{body}");
        let errors = answer["detail"].as_array().expect("detail is a list");
        assert_eq!(errors.len(), 1, "{body}: {answer}");
        assert_eq!(&errors[0]["type"], kind, "{body}");
        assert_eq!(&errors[0]["loc"], loc, "{body}");
        assert!(errors[0]["msg"].is_string(), "{body}");
    }
    let (status, _, answer) = call(&sandbox, r#"{"email":"x","metadata":1}"#).await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["detail"].as_array().map(Vec::len),
        Some(3),
        "every error is reported"
    );
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 0);
    assert_eq!(
        stats.responses,
        responses(&[("422", cases.len() as u64 + 1)])
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn create_if_not_exists_false_needs_a_known_contact() {
    let known = "+15550002222";
    let config = SandboxConfig {
        known_number: vec![known.to_owned()],
        ..Default::default()
    };
    let sandbox = sandbox(config).await;
    let no_create =
        |number: &str| json!({"numberToCall": number, "createIfNotExists": false}).to_string();
    let (status, _, body) = call(&sandbox, &no_create(NUMBER)).await;
    assert_eq!(
        (status, body),
        (404, json!({"detail": "Contact not found"}))
    );
    assert_eq!(call(&sandbox, &no_create(known)).await.0, 201);
    // A call that may create the contact does, after which the 404 is gone.
    assert_eq!(call(&sandbox, &call_body(NUMBER)).await.0, 201);
    assert_eq!(call(&sandbox, &no_create(NUMBER)).await.0, 201);
    let stats = sandbox.stats();
    assert_eq!(
        stats.calls_per_number,
        responses(&[(NUMBER, 2), (known, 1)])
    );
    assert_eq!(stats.responses, responses(&[("201", 3), ("404", 1)]));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_answer_fastapi_404() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let response = client()
        .get(format!("{}/nope", sandbox.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.json::<Value>().await.ok(),
        Some(json!({"detail": "Not Found"}))
    );
    sandbox.shutdown().await;
}
