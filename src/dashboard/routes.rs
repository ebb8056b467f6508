//! The dashboard's URLs. Every handler reads the ledger inside `spawn_blocking`, on the
//! dashboard's own read connection, and answers with one clear sentence when it cannot.
//!
//! - `GET /`: the campaigns.
//! - `GET /campaigns/NAME`: the campaign's page (the HTML report, live).
//! - `GET /campaigns/NAME.json`: exactly what `dialer status NAME --json` prints.
//! - `GET /campaigns/NAME/live?by=COLUMN`: the page's figures, for the refresh.
//! - `GET /campaigns/NAME/rows.json`: the rows, as the page's inline data.
//! - `POST /campaigns/NAME/control` `{"action":"pause"|"cancel"}`: only with a token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{App, pages};
use crate::ledger::{Campaign, ControlAction, Ledger, LedgerError};
use crate::report::html::{self, HtmlOptions, Live, Page};
use crate::report::{ReportError, StatusFilter, Summary};

pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(index))
        .route("/campaigns/{name}", get(campaign))
        .route("/campaigns/{name}/live", get(live))
        .route("/campaigns/{name}/rows.json", get(rows))
        .route("/campaigns/{name}/control", post(control))
}

/// Why a request failed, as the response says it.
enum Failure {
    NoCampaign(String),
    Forbidden(&'static str),
    BadRequest(String),
    Internal(String),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (code, text) = match self {
            Failure::NoCampaign(name) => (
                StatusCode::NOT_FOUND,
                format!("no campaign named {name:?} in the ledger"),
            ),
            Failure::Forbidden(why) => (StatusCode::FORBIDDEN, why.to_string()),
            Failure::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
            Failure::Internal(why) => (StatusCode::INTERNAL_SERVER_ERROR, why),
        };
        (code, format!("{text}\n")).into_response()
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Failure {
        match e {
            LedgerError::NoSuchCampaign(name) => Failure::NoCampaign(name),
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Failure {
        match e {
            ReportError::Ledger(e) => e.into(),
            other => Failure::Internal(other.to_string()),
        }
    }
}

/// Runs a ledger read off the async runtime.
async fn read<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&Ledger) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let ledger = app.ledger.clone();
    tokio::task::spawn_blocking(move || f(&ledger))
        .await
        .map_err(|_| Failure::Internal("the ledger read stopped".into()))?
}

/// The URL path of a campaign's page.
pub(super) fn base(name: &str) -> String {
    format!("/campaigns/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

async fn index(State(app): State<Arc<App>>) -> Result<Html<String>, Failure> {
    read(&app, |l| {
        let mut lines = Vec::new();
        for c in l.list_campaigns()? {
            let s = Summary::load(l, &c)?;
            lines.push((c, s));
        }
        Ok(Html(pages::index(&lines)))
    })
    .await
}

#[derive(Deserialize)]
struct ByQuery {
    by: Option<String>,
}

/// A campaign by the name in the URL.
fn find(l: &Ledger, name: &str) -> Result<Campaign, Failure> {
    Ok(l.campaign(name)?)
}

async fn campaign(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(q): Query<ByQuery>,
) -> Result<Response, Failure> {
    let controls = app.token.is_some();
    read(&app, move |l| {
        // A campaign may itself be called "x.json"; only a name that is not one is a suffix.
        if let Some(stem) = name.strip_suffix(".json")
            && l.find_campaign(&name)?.is_none()
        {
            let c = find(l, stem)?;
            let json = serde_json::to_string_pretty(&Summary::load(l, &c)?)
                .map_err(|e| Failure::Internal(e.to_string()))?;
            return Ok(([(header::CONTENT_TYPE, "application/json")], json + "\n").into_response());
        }
        let c = find(l, &name)?;
        let opts = HtmlOptions {
            filter: StatusFilter::default(),
            by: q.by,
            live: Some(Live {
                base: base(&c.name),
                controls,
            }),
        };
        let mut page = Vec::with_capacity(64 * 1024);
        html::write(l, &c, &opts, &mut page)?;
        Ok(Html(page).into_response())
    })
    .await
}

async fn live(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(q): Query<ByQuery>,
) -> Result<Response, Failure> {
    read(&app, move |l| {
        let c = find(l, &name)?;
        let page = Page::load(l, &c, q.by.as_deref())?;
        let body = serde_json::json!({ "html": page.sections(true), "version": page.version() });
        Ok(axum::Json(body).into_response())
    })
    .await
}

async fn rows(State(app): State<Arc<App>>, Path(name): Path<String>) -> Result<Response, Failure> {
    read(&app, move |l| {
        let c = find(l, &name)?;
        let mut out = Vec::with_capacity(64 * 1024);
        html::write_rows_json(l, c.id, &StatusFilter::default(), &mut out)?;
        Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct ControlBody {
    action: String,
}

/// Records a pause or cancel request. The guard has checked the bearer token already; a
/// browser cannot add that header to a cross-site form, so no other site can press these.
async fn control(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    body: Option<axum::Json<ControlBody>>,
) -> Result<Response, Failure> {
    if app.token.is_none() {
        return Err(Failure::Forbidden(
            "pause and cancel need the dashboard to run with DIALER_DASHBOARD_TOKEN",
        ));
    }
    let Some(axum::Json(body)) = body else {
        return Err(Failure::BadRequest(
            "send JSON {\"action\": \"pause\"} or {\"action\": \"cancel\"}".into(),
        ));
    };
    let action = ControlAction::parse(&body.action).ok_or_else(|| {
        Failure::BadRequest(format!(
            "unknown action {:?}; use pause or cancel",
            body.action
        ))
    })?;
    let c = read(&app, move |l| find(l, &name)).await?;
    let by = format!("dashboard@{}", peer.ip());
    let req = app.ledger.request_control(c.id, action, by).await?;
    tracing::info!(campaign = %c.name, action = action.as_str(), "control requested from the dashboard");
    Ok((StatusCode::ACCEPTED, axum::Json(req)).into_response())
}
