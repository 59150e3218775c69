//! The axum example, served for real and called with a real HTTP client: a failing
//! request and a panicking one become one report each (tower-http's own lines about
//! them are breadcrumbs), with the tenant and user that the authentication middleware
//! recorded on tower-http's request span, and Sentry's `request` interface
//! (`record_request`), its credentials filtered.

mod common;

#[path = "../examples/axum_service.rs"]
#[allow(dead_code)]
mod service;

use std::time::Duration;

use common::crumb_messages;
use sentry::protocol::Level;
use tracing_error_reports::testing::SentryReceiver;
use tracing_error_reports::Config;
use tracing_subscriber::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// A vendor API key sent under header and query names that do not say `secret`.
const VENDOR_KEY: &str = "Qv7Lm2Kp9Rz4Tv8WxB3n";

#[test]
fn failures_and_panics_are_reported_with_the_authenticated_tenant_and_user() {
    let receiver = SentryReceiver::start().expect("receiver");
    let (layer, guard) = tracing_error_reports::init(
        Config::builder()
            .dsn(receiver.dsn())
            .install_panic_hook(true)
            .traces_sample_rate(0.0)
            .build()
            .expect("valid"),
    );
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        // Every server thread logs through the test's subscriber, as with `.init()`.
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { axum::serve(listener, service::app()).await });

    let client = reqwest::blocking::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client");
    let get = |path: &str, tenant: &str, user: &str| {
        client
            .get(format!("http://{addr}{path}"))
            .header("x-tenant-id", tenant)
            .header("authorization", format!("Bearer {user}"))
            // Credentials under names without a secret word (vendor key headers).
            .header("x-ordersvc-key", VENDOR_KEY)
            .header("dd-application-key", VENDOR_KEY)
            .header("x-honeycomb-team", VENDOR_KEY)
            .header("x-cache-key", "orders:list")
            .send()
    };
    let ok = get("/orders", "acme", "user-7").expect("answered");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().expect("body"), "[1, 2, 3]");
    let failed = get(
        &format!("/orders/fail?appkey={VENDOR_KEY}&sid={VENDOR_KEY}&page=2"),
        "acme",
        "user-7",
    )
    .expect("answered");
    assert_eq!(failed.status(), 500);
    let event_id = failed
        .headers()
        .get("x-sentry-event-id")
        .and_then(|v| v.to_str().ok())
        .expect("event id header")
        .to_owned();
    // CatchPanicLayer answers 500 for the panicking handler.
    let panicked = get("/orders/panic", "globex", "user-9").expect("answered");
    assert_eq!(panicked.status(), 500);

    assert!(guard.flush(WAIT));
    let events = receiver.events();
    assert_eq!(events.len(), 2, "one failure, one panic: {events:#?}");
    let failure = events
        .iter()
        .find(|e| e.level == Level::Error)
        .expect("the failure");
    assert_eq!(
        failure.event_id.to_string(),
        event_id,
        "the response names the report"
    );
    assert_eq!(
        failure.tags.get("tenant_id").map(String::as_str),
        Some("acme")
    );
    assert_eq!(
        failure.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("user-7")
    );
    let value = failure
        .exception
        .values
        .last()
        .and_then(|e| e.value.clone())
        .unwrap_or_default();
    assert!(
        value.contains("[Filtered]") && !value.contains("s3cr3t"),
        "{value}"
    );
    // Both reports carry Sentry's `request` interface (`record_request` in the request
    // span), the bearer credential filtered.
    for (event, path, tenant) in [
        (failure, "/orders/fail", "acme"),
        (
            events
                .iter()
                .find(|e| e.level == Level::Fatal)
                .expect("the panic"),
            "/orders/panic",
            "globex",
        ),
    ] {
        let request = event.request.as_ref().expect("the request interface");
        assert_eq!(request.method.as_deref(), Some("GET"));
        let url = request.url.as_ref().expect("the URL");
        assert_eq!(url.as_str(), format!("http://{addr}{path}"));
        assert_eq!(
            request.headers.get("x-tenant-id").map(String::as_str),
            Some(tenant)
        );
        for name in ["x-ordersvc-key", "dd-application-key", "x-honeycomb-team"] {
            assert_eq!(
                request.headers.get(name).map(String::as_str),
                Some("[Filtered]"),
                "{name}"
            );
        }
        assert_eq!(
            request.headers.get("x-cache-key").map(String::as_str),
            Some("orders:list")
        );
        if path == "/orders/fail" {
            let query = request.query_string.as_deref().unwrap_or_default();
            assert!(
                !query.contains(VENDOR_KEY) && query.contains("page=2"),
                "{query}"
            );
        }
        let authorization = request.headers.get("authorization").map(String::as_str);
        assert!(
            matches!(authorization, None | Some("[Filtered]")),
            "{authorization:?}"
        );
    }
    let crumb = &failure.breadcrumbs.values[0];
    assert_eq!(crumb.message.as_deref(), Some("loading orders"));
    assert_eq!(
        crumb.data.get("authorization").and_then(|v| v.as_str()),
        Some("[Filtered]")
    );

    let panic = events
        .iter()
        .find(|e| e.level == Level::Fatal)
        .expect("the panic");
    assert_eq!(
        panic.tags.get("tenant_id").map(String::as_str),
        Some("globex")
    );
    assert_eq!(
        panic.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("user-9")
    );
    assert_eq!(
        panic.message.as_deref(),
        Some("totals overflowed for this tenant")
    );
    let crumbs: Vec<_> = crumb_messages(panic);
    assert_eq!(
        crumbs,
        ["recomputing totals"],
        "only the panicking request's breadcrumbs"
    );
    drop(dispatch);
}

#[test]
fn sampled_requests_are_transactions_named_by_route_and_judged_by_response() {
    let receiver = SentryReceiver::start().expect("receiver");
    let (layer, guard) = tracing_error_reports::init(
        Config::builder()
            .dsn(receiver.dsn())
            .install_panic_hook(true)
            .traces_sample_rate(1.0)
            .build()
            .expect("valid"),
    );
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { axum::serve(listener, service::app()).await });
    let client = reqwest::blocking::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client");
    let get = |path: &str| {
        client
            .get(format!("http://{addr}{path}"))
            .header("x-tenant-id", "acme")
            .header("authorization", "Bearer user-7")
            .send()
    };
    assert_eq!(get("/orders").expect("answered").status(), 200);
    assert_eq!(get("/orders/fail").expect("answered").status(), 500);
    // CatchPanicLayer answers a panic with a 500.
    assert_eq!(get("/orders/panic").expect("answered").status(), 500);
    // Calls that continue a caller's trace: W3C, sampled; Sentry's, not sampled.
    let continued = client
        .get(format!("http://{addr}/orders"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .expect("answered");
    assert_eq!(continued.status(), 200);
    let declined = client
        .get(format!("http://{addr}/orders/fail"))
        .header(
            "sentry-trace",
            "771a43a4192642f0b136d5159a501700-b6e54d2f8d3ab74d-0",
        )
        .header(
            "baggage",
            "sentry-trace_id=771a43a4192642f0b136d5159a501700",
        )
        .send()
        .expect("answered");
    assert_eq!(declined.status(), 500);

    assert!(guard.flush(WAIT));
    // Four transactions, two failure reports, one panic report.
    receiver.wait_for(7, WAIT);
    let txs = receiver.transactions();
    let names: Vec<_> = txs.iter().map(|t| t.name.clone()).collect();
    assert_eq!(txs.len(), 4, "{names:?}");
    let trace_of = |tx: &sentry::protocol::Transaction<'static>| match tx.contexts.get("trace") {
        Some(sentry::protocol::Context::Trace(trace)) => (**trace).clone(),
        _ => panic!("trace context"),
    };
    let (continued, own): (Vec<_>, Vec<_>) = txs
        .iter()
        .partition(|tx| trace_of(tx).parent_span_id.is_some());
    assert_eq!(continued.len(), 1, "{names:?}");
    let continued_trace = trace_of(continued[0]);
    assert_eq!(continued[0].name.as_deref(), Some("GET /orders"));
    assert_eq!(
        continued_trace.trace_id.to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        continued_trace
            .parent_span_id
            .map(|id| id.to_string())
            .as_deref(),
        Some("00f067aa0ba902b7")
    );
    let judged = |name: &str| {
        let tx = own
            .iter()
            .find(|tx| tx.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no transaction {name}"));
        match tx.contexts.get("trace") {
            Some(sentry::protocol::Context::Trace(trace)) => (trace.op.clone(), trace.status),
            _ => panic!("trace context"),
        }
    };
    use sentry::protocol::SpanStatus;
    let http = Some("http.server".to_owned());
    assert_eq!(judged("GET /orders"), (http.clone(), Some(SpanStatus::Ok)));
    assert_eq!(
        judged("GET /orders/fail"),
        (http.clone(), Some(SpanStatus::InternalError))
    );
    assert_eq!(
        judged("GET /orders/panic"),
        (http, Some(SpanStatus::InternalError)),
        "a panicking request's transaction failed"
    );
    let events = receiver.events();
    let failures: Vec<_> = events.iter().filter(|e| e.level == Level::Error).collect();
    assert_eq!(failures.len(), 2);
    assert!(failures
        .iter()
        .all(|e| e.transaction.as_deref() == Some("GET /orders/fail")));
    let traces: Vec<String> = failures
        .iter()
        .filter_map(|e| match e.contexts.get("trace") {
            Some(sentry::protocol::Context::Trace(trace)) => Some(trace.trace_id.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        traces.contains(&"771a43a4192642f0b136d5159a501700".to_owned()),
        "the unsampled continued request's report is in the caller's trace: {traces:?}"
    );
    drop(dispatch);
}
