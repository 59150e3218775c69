//! What sentry-tracing users expect of transactions: names and ops from `sentry.name`,
//! `sentry.op` and `otel.name`, and a status that says whether the request failed.

mod common;

use common::{harness, WAIT};
use sentry::protocol::{Context, SpanStatus, Transaction};
use tracing::{error, info_span};
use tracing_subscriber::prelude::*;

fn trace<'a>(tx: &'a Transaction<'static>) -> &'a sentry::protocol::TraceContext {
    match tx.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("trace context, got {other:?}"),
    }
}

fn by_name<'a>(txs: &'a [Transaction<'static>], name: &str) -> &'a Transaction<'static> {
    txs.iter()
        .find(|tx| tx.name.as_deref() == Some(name))
        .unwrap_or_else(|| {
            let names: Vec<_> = txs.iter().map(|tx| tx.name.clone()).collect();
            panic!("no transaction {name:?} among {names:?}")
        })
}

#[test]
fn sentry_name_op_and_otel_name_name_transactions_spans_and_reports() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        // Named at creation, as sentry-tracing users write it.
        info_span!(
            "request",
            sentry.name = "GET /orders/{id}",
            sentry.op = "http.server"
        )
        .in_scope(|| {
            info_span!(
                "query",
                sentry.op = "db.sql.query",
                sentry.name = "SELECT orders"
            )
            .in_scope(|| {});
            info_span!("render", otel.name = "render order").in_scope(|| {});
            info_span!("plain").in_scope(|| {});
        });
        // Named later, once the route is known; `otel.name` when there is no `sentry.name`.
        let late = info_span!(
            "request",
            otel.name = "HTTP request",
            sentry.name = tracing::field::Empty,
        );
        late.in_scope(|| {});
        late.record("sentry.name", "POST /checkout");
        late.in_scope(|| error!("checkout failed"));
        drop(late);
        info_span!("job", otel.name = "nightly export").in_scope(|| {});
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(4, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 3);

    let orders = by_name(&txs, "GET /orders/{id}");
    assert_eq!(trace(orders).op.as_deref(), Some("http.server"));
    assert!(
        !trace(orders).data.contains_key("sentry.name")
            && !trace(orders).data.contains_key("sentry.op"),
        "naming fields are not data: {:?}",
        trace(orders).data
    );
    let span = |op: &str| {
        orders
            .spans
            .iter()
            .find(|s| s.op.as_deref() == Some(op))
            .unwrap_or_else(|| panic!("span {op}: {:?}", orders.spans))
    };
    assert_eq!(
        span("db.sql.query").description.as_deref(),
        Some("SELECT orders")
    );
    assert_eq!(span("render").description.as_deref(), Some("render order"));
    assert!(!span("render").data.contains_key("otel.name"));
    assert_eq!(span("plain").description.as_deref(), Some("parity::plain"));

    let checkout = by_name(&txs, "POST /checkout");
    assert_eq!(trace(checkout).op.as_deref(), Some("request"));
    let events = h.receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].transaction.as_deref(),
        Some("POST /checkout"),
        "a report names the transaction it happened in"
    );

    assert_eq!(
        trace(by_name(&txs, "nightly export")).op.as_deref(),
        Some("job")
    );
}

#[test]
fn status_comes_from_http_status_fields_and_reported_errors() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let ok = info_span!("ok", http.response.status_code = tracing::field::Empty);
        ok.in_scope(|| {});
        ok.record("http.response.status_code", 200_u16);
        drop(ok);
        info_span!("missing", http.response.status_code = 404_u16).in_scope(|| {});
        info_span!("throttled", http.status_code = "429").in_scope(|| {});
        info_span!("down", http.status_code = 503_i64).in_scope(|| {});
        // An error in one child: that child and the transaction fail, the sibling does not.
        info_span!("failing").in_scope(|| {
            info_span!("fine_step").in_scope(|| {});
            info_span!("bad_step").in_scope(|| error!("step failed"));
        });
        // A failed HTTP status says more than the error that went with it.
        info_span!("unavailable", http.response.status_code = 503_u16)
            .in_scope(|| error!("upstream gone"));
        // A success status does not hide a reported error.
        info_span!("handled", http.response.status_code = 200_u16)
            .in_scope(|| error!("swallowed failure"));
        // Nonsense in the field is ignored, not a panic.
        info_span!("garbled", http.status_code = "teapot").in_scope(|| {});
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(11, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 8);
    let status = |name: &str| trace(by_name(&txs, name)).status;
    assert_eq!(status("ok"), Some(SpanStatus::Ok));
    assert_eq!(status("missing"), Some(SpanStatus::NotFound));
    assert_eq!(status("throttled"), Some(SpanStatus::ResourceExhausted));
    assert_eq!(status("down"), Some(SpanStatus::Unavailable));
    assert_eq!(status("failing"), Some(SpanStatus::InternalError));
    assert_eq!(status("unavailable"), Some(SpanStatus::Unavailable));
    assert_eq!(status("handled"), Some(SpanStatus::InternalError));
    assert_eq!(status("garbled"), Some(SpanStatus::Ok));
    let failing = by_name(&txs, "failing");
    let child = |op: &str| {
        failing
            .spans
            .iter()
            .find(|s| s.op.as_deref() == Some(op))
            .and_then(|s| s.status)
    };
    assert_eq!(child("fine_step"), Some(SpanStatus::Ok));
    assert_eq!(child("bad_step"), Some(SpanStatus::InternalError));
}

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const CALLER: &str = "b6e54d2f8d3ab74d";

#[test]
fn a_request_continues_an_incoming_trace_and_its_sampling_decision() {
    // A rate that samples practically nothing: only the caller's decision can.
    let h = harness(|b| b.traces_sample_rate(1e-9));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let sampled = format!("{TRACE}-{CALLER}-1");
        info_span!("sampled", sentry.trace = sampled.as_str()).in_scope(|| {
            info_span!("step").in_scope(|| error!("failed in a continued trace"));
        });
        let declined = format!("{TRACE}-{CALLER}-0");
        info_span!("declined", sentry.trace = declined.as_str())
            .in_scope(|| error!("failed, caller did not sample"));
        info_span!("garbled", sentry.trace = "not-a-trace").in_scope(|| error!("own trace"));
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(4, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1, "only the caller-sampled request");
    let tx = by_name(&txs, "sampled");
    let ctx = trace(tx);
    assert_eq!(ctx.trace_id.to_string(), TRACE);
    assert_eq!(
        ctx.parent_span_id.map(|id| id.to_string()).as_deref(),
        Some(CALLER)
    );
    assert!(!ctx.data.contains_key("sentry.trace"));
    assert!(tx.spans.iter().all(|s| s.trace_id.to_string() == TRACE));

    let events = h.receiver.events();
    assert_eq!(events.len(), 3);
    let trace_of = |message: &str| {
        let event = events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .unwrap_or_else(|| panic!("{message}"));
        match event.contexts.get("trace") {
            Some(Context::Trace(trace)) => trace.trace_id.to_string(),
            _ => panic!("trace context"),
        }
    };
    assert_eq!(trace_of("failed in a continued trace"), TRACE);
    assert_eq!(trace_of("failed, caller did not sample"), TRACE);
    assert_ne!(trace_of("own trace"), TRACE);
}

#[test]
fn a_sample_rate_of_zero_keeps_tracing_off_whatever_the_caller_decided() {
    let h = harness(|b| b.traces_sample_rate(0.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let sampled = format!("{TRACE}-{CALLER}-1");
        info_span!("sampled", sentry.trace = sampled.as_str()).in_scope(|| error!("failed"));
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    assert!(h.receiver.transactions().is_empty());
    assert_eq!(h.receiver.events().len(), 1);
}

#[derive(Debug)]
struct ConnectError;

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database unreachable")
    }
}

impl std::error::Error for ConnectError {}

#[test]
fn hooks_run_before_scrubbing_and_ignored_errors_are_dropped_and_counted() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen_in_hook = seen.clone();
    let h = harness(move |b| {
        b.before_breadcrumb(|mut crumb| {
            if crumb.message.as_deref() == Some("noise") {
                return None;
            }
            crumb.message = crumb.message.map(|m| format!("{m} (kept)"));
            Some(crumb)
        })
        .before_send(move |mut event| {
            let message = event.message.clone().unwrap_or_default();
            seen_in_hook.lock().expect("lock").push(message.clone());
            if message.contains("drop me") {
                return None;
            }
            if message.contains("hook panics") {
                panic!("a broken before_send");
            }
            event.tags.insert("enriched".into(), "yes".into());
            // A secret the hook adds is still scrubbed after it.
            event.message = Some(format!("{message} via postgres://orders:s3cr3t@db:5432"));
            Some(event)
        })
        .ignore_error("ConnectError")
        .ignore_error("expected noise")
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "acme").entered();
        tracing::info!("noise");
        tracing::info!("loading");
        error!("kept report");
        error!("please drop me");
        error!("hook panics here");
        error!(
            error = &ConnectError as &(dyn std::error::Error + 'static),
            "ignored by type"
        );
        error!("this is expected noise, ignored by message");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.tags.get("enriched").map(String::as_str), Some("yes"));
    let message = event.message.as_deref().unwrap_or_default();
    assert!(message.starts_with("kept report via "), "{message}");
    assert!(
        !message.contains("s3cr3t"),
        "scrubbed after the hook: {message}"
    );
    let crumbs: Vec<_> = event
        .breadcrumbs
        .values
        .iter()
        .filter_map(|b| b.message.clone())
        .collect();
    assert_eq!(crumbs, ["loading (kept)"]);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        ["kept report", "please drop me", "hook panics here"],
        "ignored errors never reach before_send"
    );
    let stats = h.guard.stats();
    assert_eq!(stats.queued, 5);
    assert_eq!(stats.discarded, 4, "{stats:?}");
    assert_eq!(stats.handed_to_transport, 1, "{stats:?}");
    assert_eq!(stats.pending(), 0, "{stats:?}");
}

#[test]
fn sampled_out_errors_are_counted_and_still_fail_their_transaction() {
    let h = harness(|b| b.sample_rate(0.0).traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!("request").in_scope(|| {
            error!("not sent");
            error!("not sent either");
        });
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    assert!(h.receiver.events().is_empty());
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1);
    assert_eq!(trace(&txs[0]).status, Some(SpanStatus::InternalError));
    let stats = h.guard.stats();
    assert_eq!((stats.sampled_out, stats.queued), (2, 0), "{stats:?}");
}

#[test]
fn reports_carry_server_name_os_and_rust_contexts_and_a_stack_when_asked() {
    let h = harness(|b| b.server_name("api-7").attach_stacktrace(true));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        error!("with a stack");
        error!(
            error = &ConnectError as &(dyn std::error::Error + 'static),
            "an error with a stack"
        );
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(2, WAIT);
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event.server_name.as_deref(), Some("api-7"));
        assert!(
            matches!(event.contexts.get("os"), Some(Context::Os(os)) if os.name.is_some()),
            "{:?}",
            event.contexts.get("os")
        );
        assert!(
            matches!(event.contexts.get("rust"), Some(Context::Runtime(rust)) if rust.name.as_deref() == Some("rustc") && rust.version.is_some()),
            "{:?}",
            event.contexts.get("rust")
        );
    }
    let plain = events
        .iter()
        .find(|e| e.message.as_deref() == Some("with a stack"))
        .expect("plain");
    let thread = plain.threads.values.first().expect("the logging thread");
    let frames = &thread.stacktrace.as_ref().expect("a stack").frames;
    // By its file: an inlined frame of a line-tables-only build is named `{closure#0}`.
    let innermost = frames.last().expect("frames");
    assert_eq!(
        (innermost.filename.as_deref(), innermost.in_app),
        (Some("parity.rs"), Some(true)),
        "the innermost frame is the code that logged, not the dispatch: {innermost:?}"
    );
    let with_error = events
        .iter()
        .find(|e| e.message.as_deref() == Some("an error with a stack"))
        .expect("with error");
    let logged = with_error.exception.values.last().expect("exception");
    assert!(logged.stacktrace.is_some(), "on the logged exception");
}

#[test]
fn by_default_reports_carry_no_stack_but_the_host_name() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || error!("no stack"));
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert!(events[0].threads.values.is_empty());
    assert!(events[0].exception.values.is_empty());
    assert!(
        events[0]
            .server_name
            .as_deref()
            .is_some_and(|n| !n.is_empty()),
        "{:?}",
        events[0].server_name
    );
}
