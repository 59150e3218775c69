//! Feature `opentelemetry-0-33`: with tracing-opentelemetry 0.33 (the previous minor,
//! on opentelemetry 0.32 and its SDK) in the subscriber, reports and transactions
//! carry the ids that SDK exported, in either layer order, and `link_trace` returns
//! its trace id. `.ci/run` also runs this binary with only this feature on.
#![cfg(feature = "opentelemetry-0-33")]

mod common;

use std::sync::{Arc, Mutex};

use common::{harness, tag, WAIT};
use opentelemetry_0_32::trace::TracerProvider as _;
use opentelemetry_sdk_0_32::error::OTelSdkResult;
use opentelemetry_sdk_0_32::trace::{SdkTracerProvider, SpanData, SpanExporter};
use sentry::protocol::Context;
use tracing::{info_span, Instrument};
use tracing_subscriber::prelude::*;

/// Keeps what the 0.32 SDK exports.
#[derive(Clone, Debug, Default)]
struct Exported(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Exported {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.lock().expect("exported").extend(batch);
        std::future::ready(Ok(()))
    }
}

fn run(otel_first: bool) {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let exported = Exported::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exported.clone())
        .build();
    // One layer value per placement: its type names the subscriber below it.
    macro_rules! otel {
        () => {
            tracing_opentelemetry_0_33::layer().with_tracer(provider.tracer("otel-0-33"))
        };
    }
    let dispatch = if otel_first {
        tracing::Dispatch::new(tracing_subscriber::registry().with(otel!()).with(h.layer))
    } else {
        tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer).with(otel!()))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let linked = tracing::dispatcher::with_default(&dispatch, || {
        let request = info_span!(
            "request",
            tenant_id = "acme",
            trace_id = tracing::field::Empty
        );
        let linked = tracing_error_reports::link_trace(&request);
        runtime.block_on(common::handle_failing_query().instrument(request));
        linked
    });
    drop(dispatch);
    let _ = provider.force_flush();
    assert!(h.guard.flush(WAIT));

    let spans = exported.0.lock().expect("exported").clone();
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("otel_first {otel_first}: {name} exported: {spans:?}"))
    };
    let (request, query) = (find("request"), find("db_query"));
    let trace_id = request.span_context.trace_id().to_string();
    let request_span = request.span_context.span_id().to_string();
    let query_span = query.span_context.span_id().to_string();
    assert_eq!(query.span_context.trace_id().to_string(), trace_id);
    assert_eq!(query.parent_span_id.to_string(), request_span);
    assert_eq!(linked.as_deref(), Some(trace_id.as_str()), "link_trace");

    let events = h.receiver.wait_for_events(1, WAIT);
    h.receiver.wait_for(2, WAIT);
    let report = &events[0];
    let Some(Context::Trace(trace)) = report.contexts.get("trace") else {
        panic!("otel_first {otel_first}: trace context");
    };
    assert_eq!(
        trace.trace_id.to_string(),
        trace_id,
        "otel_first {otel_first}"
    );
    assert_eq!(
        trace.span_id.to_string(),
        query_span,
        "otel_first {otel_first}"
    );
    assert_eq!(tag(report, "trace_id"), Some(trace_id.as_str()));
    assert_eq!(tag(report, "tenant_id"), Some("acme"));

    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1, "otel_first {otel_first}");
    let Some(Context::Trace(tx_trace)) = txs[0].contexts.get("trace") else {
        panic!("otel_first {otel_first}: transaction trace context");
    };
    assert_eq!(tx_trace.trace_id.to_string(), trace_id);
    assert_eq!(tx_trace.span_id.to_string(), request_span);
    assert_eq!(txs[0].spans.len(), 1, "otel_first {otel_first}");
    assert_eq!(txs[0].spans[0].span_id.to_string(), query_span);
    println!("otel_first {otel_first}: trace {trace_id} request {request_span} db_query {query_span} in Sentry and the 0.32 SDK");
}

#[test]
fn reports_carry_the_ids_of_tracing_opentelemetry_0_33_in_either_order() {
    run(false);
    run(true);
}
