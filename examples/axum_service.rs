//! An axum HTTP service whose request span carries the tenant and user, recorded after
//! authentication from request headers, with routes that log, fail and panic.
//!
//! ```text
//! SENTRY_DSN=... cargo run --example axum_service
//! curl -H 'x-tenant-id: acme' -H 'authorization: Bearer user-7' localhost:3000/orders/fail
//! ```
//!
//! A failed request answers with the Sentry event id (`x-sentry-event-id`), and logs it,
//! so a support ticket, a Loki line and the Sentry issue point at each other.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tracing::{error, info, info_span, Instrument};
use tracing_subscriber::prelude::*;

/// The service's routes, wrapped in the request-span middleware.
pub fn app() -> Router {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/fail", get(fail))
        .route("/orders/panic", get(panics))
        .layer(middleware::from_fn(request_span))
}

/// One root span per request: a request in this crate's sense (breadcrumbs, tenant).
/// Its transaction is named after the route (`GET /orders/fail`, not the raw path) and
/// judged by the response status.
async fn request_span(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched route", MatchedPath::as_str);
    let name = format!("{} {route}", request.method());
    // A caller's `sentry-trace` / `traceparent`: this request continues its trace.
    let incoming = tracing_error_reports::IncomingTrace::from_headers(
        request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
    );
    let span = info_span!(
        parent: None,
        "request",
        sentry.trace = incoming.as_ref().map(tracing::field::display),
        sentry.name = %name,
        sentry.op = "http.server",
        otel.name = %name,
        method = %request.method(),
        path = %request.uri().path(),
        http.response.status_code = tracing::field::Empty,
        tenant_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    tracing_error_reports::link_trace(&span);
    // "Authentication": the tenant and user become known only now.
    if let Some((tenant, user)) = authenticate(request.headers()) {
        span.record("tenant_id", tenant.as_str());
        span.record("user_id", user.as_str());
    }
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

fn authenticate(headers: &HeaderMap) -> Option<(String, String)> {
    let tenant = headers.get("x-tenant-id")?.to_str().ok()?.to_owned();
    let user = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .to_owned();
    Some((tenant, user))
}

async fn list_orders() -> &'static str {
    info!(count = 3, "listed orders");
    "[1, 2, 3]"
}

async fn fail(headers: HeaderMap) -> Response {
    info!(authorization = ?headers.get("authorization"), "loading orders");
    let err = std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "postgres://orders:s3cr3t@db:5432 refused the connection",
    );
    error!(
        error = &err as &(dyn std::error::Error + 'static),
        "could not load orders"
    );
    let event_id = tracing_error_reports::last_event_id()
        .map(|id| id.to_string())
        .unwrap_or_default();
    info!(sentry_event_id = %event_id, "reported to Sentry");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("x-sentry-event-id", event_id)],
        "internal error",
    )
        .into_response()
}

async fn panics() -> &'static str {
    info!("recomputing totals");
    panic!("totals overflowed for this tenant");
}

#[tokio::main]
#[allow(dead_code)] // the tests use `app()` without `main`
async fn main() {
    let (error_reports, _guard) = tracing_error_reports::init_from_env!();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .with(error_reports)
        .init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(err) => {
            error!(%addr, %err, "cannot listen");
            return;
        }
    };
    info!(%addr, "listening");
    if let Err(err) = axum::serve(listener, app()).await {
        error!(%err, "server stopped");
    }
}
