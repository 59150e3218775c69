//! An axum HTTP service the way services are written: tower-http's `TraceLayer` makes
//! the request span, `CatchPanicLayer` turns a panic into a 500, and an authentication
//! middleware records the tenant and user on the request span. Routes log, fail and panic.
//!
//! ```text
//! SENTRY_DSN=... cargo run --example axum_service
//! curl -H 'x-tenant-id: acme' -H 'authorization: Bearer user-7' localhost:3000/orders/fail
//! ```
//!
//! The request span is an INFO span that *declares* `tenant_id` and `user_id` as
//! `field::Empty`: a span only takes values for fields it declared, so recording them
//! into tower-http's default span (DEBUG, with `method`, `uri` and `version` only) does
//! nothing. A failed request answers with the Sentry event id (`x-sentry-event-id`),
//! and logs it, so a support ticket, a Loki line and the Sentry issue point at each other.
//! One failure is one report: tower-http's own ERROR lines for a request that was
//! already reported (its `response failed` classification, CatchPanic's `Service
//! panicked`) become breadcrumbs.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::field::Empty;
use tracing::{error, info, info_span, Span};
use tracing_error_reports::scrub::ScrubLayerExt;
use tracing_subscriber::prelude::*;

/// The service's routes, with authentication, panic catching and the request span.
pub fn app() -> Router {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/fail", get(fail))
        .route("/orders/panic", get(panics))
        .layer(middleware::from_fn(authenticate))
        .layer(CatchPanicLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // The transaction's status follows the response's.
                .on_response(|response: &Response, _latency, span: &Span| {
                    span.record("http.response.status_code", response.status().as_u16());
                }),
        )
}

/// One root span per request: a request in this crate's sense (breadcrumbs, tenant).
/// INFO, so it exists under the usual filters; `tenant_id` and `user_id` are declared
/// empty, to be recorded once authentication knows them. Its transaction is named after
/// the route (`GET /orders/fail`, not the raw path) and judged by the response status;
/// a caller's `sentry-trace` / `traceparent` header makes it continue the caller's trace.
fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched route", MatchedPath::as_str);
    let name = format!("{} {route}", request.method());
    let incoming = tracing_error_reports::IncomingTrace::from_headers(
        request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
    );
    let span = info_span!(
        "request",
        sentry.trace = incoming.as_ref().map(tracing::field::display),
        sentry.name = %name,
        sentry.op = "http.server",
        otel.name = %name,
        method = %request.method(),
        path = %request.uri().path(),
        http.response.status_code = Empty,
        tenant_id = Empty,
        user_id = Empty,
        trace_id = Empty,
    );
    tracing_error_reports::link_trace(&span);
    // Sentry's `request` interface (method, URL, headers; scrubbed) on the request's reports.
    tracing_error_reports::record_request(&span, request);
    span
}

/// "Authentication": the tenant and user become known only now, and are recorded on the
/// current span, the request span.
async fn authenticate(request: Request, next: Next) -> Response {
    if let Some((tenant, user)) = credentials(request.headers()) {
        let span = Span::current();
        span.record("tenant_id", tenant.as_str());
        span.record("user_id", user.as_str());
    }
    next.run(request).await
}

fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
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
    // A Sentry metric too when metrics are on (SENTRY_ENABLE_METRICS=true).
    info!(
        monotonic_counter.order_failures = 1_u64,
        db = "orders",
        "order query failed"
    );
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
    // SENTRY_*, as `init_from_env!()` reads them; the scrubbing rules shared with the
    // console. Inside the runtime is fine: nothing of `init` blocks or owns a runtime.
    let config = tracing_error_reports::Config::builder()
        .default_release(tracing_error_reports::release_name!())
        .with_env()
        .build_lenient();
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .with(error_reports)
        // Every layer sees scrubbed values: the console prints no password either.
        .scrubbed(&scrubber)
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
    // Ctrl-C, or SIGTERM as Kubernetes, Docker and systemd stop a service: unwaited, it
    // kills the process with its queued reports.
    let shutdown = async {
        #[cfg(unix)]
        let terminate = async {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => drop(terminate.recv().await),
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        info!("shutting down");
    };
    if let Err(err) = axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
    {
        error!(%err, "server stopped");
    }
    // Delivers what is still queued (at most the shutdown timeout, 2 s).
    drop(guard);
}
