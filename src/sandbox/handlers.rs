//! The HTTP face of the sandbox: the axum router and one handler per endpoint. Decisions
//! live in `state` and `validate`; this file turns them into FastAPI-shaped answers.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::state::{AfterPlace, Decision, PlacedCall, Shared};
use super::stats::Answer;
use super::tokens::TokenCheck;
use super::validate::{detail, validate_auth, validate_call};

pub const AUTH_PATH: &str = "/auth/v1/api-key/auth";
pub const CALL_PATH: &str = "/api-service/v1/ai/phone-calls/action/call";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(AUTH_PATH, post(auth))
        .route(CALL_PATH, post(call))
        .route("/sandbox/stats", get(stats))
        .route("/sandbox/calls", get(calls))
        .fallback(|| async { fixed(StatusCode::NOT_FOUND, r#"{"detail":"Not Found"}"#) })
        .with_state(shared)
}

/// How a call request is answered once its decision is made.
enum Reply {
    Now(Answer, Response),
    /// Placed, then left unanswered until the client gives up or the sandbox shuts down.
    Hang,
}

async fn call(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let arrival = shared.arrive();
    if let Some(delay) = arrival.delay {
        tokio::time::sleep(delay).await;
    }
    let (reply, placed) = answer_call(&shared, arrival.at, &headers, &body);
    if let Some(call) = &placed {
        tracing::debug!(id = %call.id, number = %call.number, "sandbox placed a call");
    }
    match reply {
        Reply::Now(answer, response) => {
            shared.count(answer);
            tracing::debug!(status = answer.label(), "sandbox answered a call request");
            response
        }
        Reply::Hang => {
            shared.count(Answer::Hang);
            tracing::debug!("sandbox leaves a call request hanging");
            // Dropped here if the client disconnects; released at shutdown so that the
            // server's graceful shutdown does not wait forever.
            shared.shutdown.cancelled().await;
            fixed(
                StatusCode::GATEWAY_TIMEOUT,
                r#"{"detail":"Gateway Timeout"}"#,
            )
        }
    }
}

/// `--known-template`: a template id the sandbox was not told about does not exist. A
/// request without one uses the default template, which always does.
fn unknown_template(known: &[String], body: &serde_json::Value) -> bool {
    let named = body.get("aiSettingsTemplateId").and_then(|t| t.as_str());
    !known.is_empty() && named.is_some_and(|t| !known.iter().any(|k| k.eq_ignore_ascii_case(t)))
}

/// Steps 2 to 8 of the call endpoint, in the documented order.
fn answer_call(
    shared: &Shared,
    arrived_at: u64,
    headers: &HeaderMap,
    body: &[u8],
) -> (Reply, Option<PlacedCall>) {
    let now = |answer, response| (Reply::Now(answer, response), None);
    match shared.tokens.check(bearer(headers)) {
        TokenCheck::Valid => {}
        TokenCheck::Missing => {
            return now(
                Answer::Unauthorized,
                unauthorized(r#"{"detail":"Not authenticated"}"#),
            );
        }
        TokenCheck::Invalid => {
            return now(
                Answer::Unauthorized,
                unauthorized(r#"{"detail":"Invalid or expired token"}"#),
            );
        }
    }
    if let Err(retry_after) = shared.admit() {
        let mut response = fixed(
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"detail":"Too Many Requests"}"#,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return now(Answer::TooManyRequests, response);
    }
    let (body, fields) = match validate_call(body) {
        Ok(valid) => valid,
        Err(errors) => {
            let response = (StatusCode::UNPROCESSABLE_ENTITY, Json(detail(errors)));
            return now(Answer::Unprocessable, response.into_response());
        }
    };
    if unknown_template(&shared.config.known_template, &body) {
        return now(
            Answer::NotFound,
            fixed(
                StatusCode::NOT_FOUND,
                r#"{"detail":"AI settings template not found"}"#,
            ),
        );
    }
    match shared.decide(arrived_at, fields, body) {
        Decision::Unavailable => now(
            Answer::Unavailable,
            fixed(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"detail":"Service temporarily unavailable"}"#,
            ),
        ),
        Decision::NotFound => now(
            Answer::NotFound,
            fixed(StatusCode::NOT_FOUND, r#"{"detail":"Contact not found"}"#),
        ),
        Decision::Placed { call, after } => {
            let reply = match after {
                AfterPlace::Created => {
                    let body = json!({
                        "id": call.id.to_string(),
                        "status": "initiated",
                        "numberToCall": call.number,
                    });
                    Reply::Now(
                        Answer::Created,
                        (StatusCode::CREATED, Json(body)).into_response(),
                    )
                }
                AfterPlace::Fail500 => Reply::Now(
                    Answer::InternalError,
                    fixed(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        r#"{"detail":"Internal Server Error"}"#,
                    ),
                ),
                AfterPlace::Hang => Reply::Hang,
            };
            (reply, Some(call))
        }
    }
}

async fn auth(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let (client_id, client_secret) = match validate_auth(&body) {
        Ok(credentials) => credentials,
        Err(errors) => {
            tracing::debug!(status = 422, "sandbox refused a token request body");
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(detail(errors))).into_response();
        }
    };
    let config = &shared.config;
    if client_id != config.client_id || client_secret != config.client_secret {
        tracing::debug!(status = 401, "sandbox refused client credentials");
        return fixed(
            StatusCode::UNAUTHORIZED,
            r#"{"detail":"Invalid client credentials"}"#,
        );
    }
    tracing::debug!(status = 200, "sandbox issued an access token");
    Json(json!({ "access_token": shared.tokens.issue() })).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    tracing::debug!("sandbox stats requested");
    Json(shared.stats()).into_response()
}

async fn calls(State(shared): State<Arc<Shared>>) -> Response {
    tracing::debug!("sandbox kept calls requested");
    Json(shared.calls()).into_response()
}

/// The token of an `Authorization: Bearer <token>` header, as FastAPI's `HTTPBearer` reads it.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthorized(json_body: &'static str) -> Response {
    let mut response = fixed(StatusCode::UNAUTHORIZED, json_body);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// A constant JSON body, written once at compile time instead of serialised per request.
fn fixed(status: StatusCode, json_body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json_body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("ascii"),
        );
        headers
    }

    #[test]
    fn bearer_reads_the_token_like_fastapi() {
        assert_eq!(bearer(&with_auth("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&with_auth("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&with_auth("Basic abc")), None);
        assert_eq!(bearer(&with_auth("Bearer")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
