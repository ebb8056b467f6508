//! In-process HTTP tests of the fault knobs: rate cap, 503s, 500 after placing, hangs,
//! latency, and the shutdown that releases hung requests.

use std::time::{Duration, Instant};

use serde_json::json;

use super::tests::{NUMBER, call, call_body, client, post_call, sandbox};
use super::*;

#[tokio::test]
async fn above_the_rate_cap_requests_get_429_with_retry_after() {
    let sandbox = sandbox(SandboxConfig {
        rate_cap: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!(call(&sandbox, &call_body(NUMBER)).await.0, 201);
    assert_eq!(call(&sandbox, &call_body(NUMBER)).await.0, 201);
    let (status, headers, body) = call(&sandbox, &call_body(NUMBER)).await;
    assert_eq!(status, 429);
    assert!(body["detail"].is_string());
    let retry_after: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert_eq!(retry_after, 1);
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 2);
    assert_eq!(stats.responses.get("429"), Some(&1));
    assert_eq!(stats.max_requests_in_one_second, 3);
    assert_eq!(stats.max_calls_in_one_second, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_first_requests_per_number_get_503_without_placing_a_call() {
    let sandbox = sandbox(SandboxConfig {
        fail_503_first: 2,
        ..Default::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(call(&sandbox, &call_body(NUMBER)).await.0);
    }
    assert_eq!(statuses, [503, 503, 201]);
    let (status, _, body) = call(&sandbox, &call_body("+15550003333")).await;
    assert_eq!(
        (status, body),
        (503, json!({"detail": "Service temporarily unavailable"}))
    );
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 1);
    assert_eq!(stats.calls_per_number.get(NUMBER), Some(&1));
    assert_eq!(stats.responses.get("503"), Some(&3));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_ratio_of_one_fails_every_request_with_503() {
    let sandbox = sandbox(SandboxConfig {
        fail_503: 1.0,
        ..Default::default()
    })
    .await;
    assert_eq!(call(&sandbox, &call_body(NUMBER)).await.0, 503);
    assert_eq!(sandbox.stats().total_calls, 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn fail_500_after_places_the_call_then_answers_500() {
    let sandbox = sandbox(SandboxConfig {
        fail_500_after: 1.0,
        ..Default::default()
    })
    .await;
    let (status, _, body) = call(&sandbox, &call_body(NUMBER)).await;
    assert_eq!(
        (status, body),
        (500, json!({"detail": "Internal Server Error"}))
    );
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 1);
    assert_eq!(stats.calls_per_number.get(NUMBER), Some(&1));
    assert_eq!(stats.responses.get("500"), Some(&1));
    assert_eq!(sandbox.calls().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_hung_call_is_placed_and_the_client_times_out() {
    let sandbox = sandbox(SandboxConfig {
        hang: 1.0,
        ..Default::default()
    })
    .await;
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client builds");
    let error = quick
        .post(format!("{}{CALL_PATH}", sandbox.url()))
        .bearer_auth("sandbox-token")
        .body(call_body(NUMBER))
        .send()
        .await
        .expect_err("a hung request never answers");
    assert!(error.is_timeout(), "{error}");
    let stats = sandbox.stats();
    assert_eq!(stats.total_calls, 1);
    assert_eq!(stats.responses.get("hang"), Some(&1));
    let stopped = tokio::time::timeout(Duration::from_secs(2), sandbox.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "shutdown must not wait for the hung request"
    );
}

#[tokio::test]
async fn shutdown_releases_a_request_that_is_still_waiting() {
    let sandbox = sandbox(SandboxConfig {
        hang: 1.0,
        ..Default::default()
    })
    .await;
    let url = format!("{}{CALL_PATH}", sandbox.url());
    let waiting = tokio::spawn(async move {
        let response = client()
            .post(url)
            .bearer_auth("sandbox-token")
            .body(call_body(NUMBER))
            .send()
            .await;
        response.map(|r| r.status().as_u16())
    });
    while !sandbox.stats().responses.contains_key("hang") {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stopped = tokio::time::timeout(Duration::from_secs(2), sandbox.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown must release the hung request");
    let status = waiting.await.expect("the client task ends");
    assert_eq!(status.ok(), Some(504));
}

#[tokio::test]
async fn latency_delays_every_call_request_even_refused_ones() {
    let latency = "40ms".parse().ok();
    let sandbox = sandbox(SandboxConfig {
        latency,
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(post_call(&sandbox, None, &call_body(NUMBER)).await.0, 401);
    assert!(started.elapsed() >= Duration::from_millis(40));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let url = format!("{}/sandbox/stats", sandbox.url());
    drop(sandbox);
    let mut refused = false;
    for _ in 0..100 {
        if client().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        refused,
        "the port must stop answering once the sandbox is dropped"
    );
}
