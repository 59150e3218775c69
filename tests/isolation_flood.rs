//! Flood control never hides a different failure, or another tenant's (issue 11,
//! section 4), in the axum shape where every failure goes through one callsite: the
//! `IntoResponse` of the application's error type, which logs the error and answers
//! with `last_event_id()`. 1,001 requests over 50 tenants on a multi-thread runtime.

mod isolation_support;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use isolation_support::{runtime, setup, tag, tenant, Tally, TASKS, TENANTS};
use sentry::protocol::{Context, Value};
use tower::ServiceExt;
use tracing::instrument::WithSubscriber;
use tracing::{info_span, Instrument};
use tracing_error_reports::FloodLimit;
use tracing_subscriber::prelude::*;

/// The application's error type, as axum services write it.
#[derive(Debug)]
enum AppError {
    Payment(u64),
    NotFound(u64),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Payment(order) => {
                write!(f, "payment provider returned 502 for order {order}")
            }
            AppError::NotFound(order) => write!(f, "order {order} not found"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        let support_id = tracing_error_reports::last_event_id()
            .map_or_else(|| "none".to_owned(), |id| id.to_string());
        (StatusCode::INTERNAL_SERVER_ERROR, support_id).into_response()
    }
}

async fn order(Path((kind, order)): Path<(String, u64)>) -> Result<&'static str, AppError> {
    tokio::task::yield_now().await;
    Err(match kind.as_str() {
        "payment" => AppError::Payment(order),
        _ => AppError::NotFound(order),
    })
}

/// The request span with the tenant, as the auth middleware would set it.
async fn request_span(request: Request, next: Next) -> Response {
    let (tenant, task) = {
        let header = |name: &str| -> String {
            let value = request.headers().get(name).and_then(|v| v.to_str().ok());
            value.unwrap_or_default().to_owned()
        };
        (header("x-tenant"), header("x-task"))
    };
    let span = info_span!("request", tenant_id = %tenant, task = %task);
    next.run(request).instrument(span).await
}

struct Sent {
    task: usize,
    tenant: String,
    kind: &'static str,
    support_id: String,
}

async fn call(app: Router, task: usize, tenant: String, kind: &'static str) -> Sent {
    let request = Request::builder()
        .uri(format!("/orders/{kind}/{}", 1000 + task))
        .header("x-tenant", &tenant)
        .header("x-task", task.to_string())
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("body");
    Sent {
        task,
        tenant,
        kind,
        support_id: String::from_utf8_lossy(&body).into_owned(),
    }
}

const FLOOD: usize = 150;
const LIMIT: NonZeroU32 = NonZeroU32::new(100).expect("not zero");
const WINDOW: Duration = Duration::from_secs(3);

#[test]
fn one_tenants_flood_of_one_failure_hides_no_other_failure_or_tenant() {
    let (layer, s) = setup(|b| b.flood_limit(Some(FloodLimit::new(LIMIT, WINDOW))));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let app = Router::new()
        .route("/orders/{kind}/{order}", get(order))
        .layer(middleware::from_fn(request_span));
    let acme = tenant(0);
    let sent = runtime().block_on(
        async {
            let mut sent = Vec::new();
            // 150 payment failures of one tenant.
            let flood: Vec<_> = (0..FLOOD)
                .map(|task| {
                    tokio::spawn(
                        call(app.clone(), task, acme.clone(), "payment")
                            .with_subscriber(dispatch.clone()),
                    )
                })
                .collect();
            for handle in flood {
                sent.push(handle.await.expect("request ran"));
            }
            // Then every tenant, `acme` included with the other failure, interleaved.
            let rest: Vec<_> = (FLOOD..TASKS)
                .map(|task| {
                    let t = tenant(task);
                    let kind = if t == tenant(0) || task % 2 == 0 {
                        "missing"
                    } else {
                        "payment"
                    };
                    tokio::spawn(call(app.clone(), task, t, kind).with_subscriber(dispatch.clone()))
                })
                .collect();
            for handle in rest {
                sent.push(handle.await.expect("request ran"));
            }
            // Once the window has passed, the flooded key reports again and says how
            // many of its reports were held back.
            tokio::time::sleep(WINDOW + Duration::from_millis(200)).await;
            sent.push(call(app.clone(), TASKS, acme.clone(), "payment").await);
            sent
        }
        .with_subscriber(dispatch.clone()),
    );
    s.settle();
    let events = s.memory.events();
    let by_id: HashMap<String, &sentry::protocol::Event<'static>> =
        events.iter().map(|e| (e.event_id.to_string(), e)).collect();
    let mut tally = Tally::default();
    let mut flooded_reported = 0;
    let mut flooded_held_back = 0;
    for request in &sent {
        tally.report();
        let flooded = request.tenant == acme && request.kind == "payment";
        let Some(event) = by_id.get(&request.support_id) else {
            // Only the flooded key may be held back; its response then has no id.
            tally.check(flooded && request.support_id == "none", || {
                format!(
                    "task {} ({}, {}) answered {:?}, not an id of a report Sentry got",
                    request.task, request.tenant, request.kind, request.support_id
                )
            });
            flooded_held_back += 1;
            continue;
        };
        if flooded {
            flooded_reported += 1;
        }
        let span_task = match event.contexts.get("spans") {
            Some(Context::Other(spans)) => spans
                .get("request")
                .and_then(|r| r.get("task"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        tally.check(
            tag(event, "tenant_id") == Some(request.tenant.as_str())
                && span_task == Some(request.task.to_string()),
            || {
                format!(
                    "task {} of {} got the id of a report of {:?} task {span_task:?}",
                    request.task,
                    request.tenant,
                    tag(event, "tenant_id")
                )
            },
        );
    }
    // The held-back reports of the flooded key are all told on its later reports.
    let told: u64 = events
        .iter()
        .filter(|e| tag(e, "tenant_id") == Some(acme.as_str()) && mentions(e, "payment provider"))
        .filter_map(|e| match e.contexts.get("fields") {
            Some(Context::Other(f)) => f.get("suppressed_before").and_then(Value::as_u64),
            _ => None,
        })
        .sum();
    println!(
        "flooded key: {flooded_reported} reported, {flooded_held_back} held back, {told} told"
    );
    assert!(flooded_held_back > 0, "the flood was limited");
    assert_eq!(
        told, flooded_held_back as u64,
        "every held-back report told"
    );
    assert_eq!(
        flooded_reported + flooded_held_back,
        FLOOD + 1,
        "every flooded request accounted for"
    );
    assert_eq!(
        events.len(),
        TASKS + 1 - flooded_held_back,
        "every other request reported"
    );
    let tenants: std::collections::HashSet<_> =
        events.iter().filter_map(|e| tag(e, "tenant_id")).collect();
    assert_eq!(tenants.len(), TENANTS, "every tenant reached Sentry");
    tally.finish("flood control, axum AppError", TASKS);
}

/// Whether the report's message, exception values or `error` field mention `text`
/// (wherever the `error = %e` text ends up).
fn mentions(event: &sentry::protocol::Event<'static>, text: &str) -> bool {
    let error_field = match event.contexts.get("fields") {
        Some(Context::Other(f)) => f.get("error").and_then(Value::as_str),
        _ => None,
    };
    event.message.as_deref().is_some_and(|m| m.contains(text))
        || error_field.is_some_and(|m| m.contains(text))
        || event
            .exception
            .values
            .iter()
            .any(|e| e.value.as_deref().is_some_and(|v| v.contains(text)))
}
