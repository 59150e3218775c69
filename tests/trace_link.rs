//! With tracing-opentelemetry in the same subscriber, a request's Sentry report, its
//! Sentry transaction and its exported OpenTelemetry spans share one trace id, in any
//! layer order, and the OpenTelemetry layer sees the same spans as without this crate.
#![cfg(feature = "opentelemetry")]

mod common;

use common::{harness, tag, WAIT};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use sentry::protocol::Context;
use tracing::{error, info, info_span};
use tracing_subscriber::prelude::*;

struct Run {
    sentry_trace: String,
    sentry_tag: String,
    transaction_trace: String,
    otel_traces: Vec<String>,
    otel_names: Vec<String>,
    linked: String,
}

fn otel() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn request() -> String {
    let span = info_span!(
        "request",
        tenant_id = "acme",
        trace_id = tracing::field::Empty
    );
    let linked = tracing_error_reports::link_trace(&span).expect("a trace id");
    span.in_scope(|| {
        info!("loading");
        info_span!("db_query").in_scope(|| error!("query failed"));
    });
    linked
}

fn run(ours_first: bool) -> Run {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let (provider, exporter) = otel();
    let tracer = provider.tracer("test");
    let linked = if ours_first {
        let subscriber = tracing_subscriber::registry()
            .with(h.layer)
            .with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::with_default(subscriber, request)
    } else {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .with(h.layer);
        tracing::subscriber::with_default(subscriber, request)
    };
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    h.receiver.wait_for(2, WAIT);
    let event = &events[0];
    let Some(Context::Trace(trace)) = event.contexts.get("trace") else {
        panic!("trace context");
    };
    let transactions = h.receiver.transactions();
    let Some(Context::Trace(tx_trace)) = transactions[0].contexts.get("trace") else {
        panic!("transaction trace context");
    };
    let spans = exporter.get_finished_spans().expect("exported spans");
    Run {
        sentry_trace: trace.trace_id.to_string(),
        sentry_tag: tag(event, "trace_id").unwrap_or_default().to_owned(),
        transaction_trace: tx_trace.trace_id.to_string(),
        otel_traces: spans
            .iter()
            .map(|s| s.span_context.trace_id().to_string())
            .collect(),
        otel_names: spans.iter().map(|s| s.name.to_string()).collect(),
        linked,
    }
}

#[test]
fn sentry_and_opentelemetry_share_the_trace_id_in_either_layer_order() {
    for ours_first in [true, false] {
        let run = run(ours_first);
        assert_eq!(run.otel_traces.len(), 2, "request and db_query exported");
        assert!(run.otel_traces.iter().all(|t| *t == run.otel_traces[0]));
        let otel_trace = &run.otel_traces[0];
        assert_eq!(
            &run.linked, otel_trace,
            "link_trace returns the OpenTelemetry trace id"
        );
        assert_eq!(&run.sentry_trace, otel_trace, "report's contexts.trace");
        assert_eq!(&run.sentry_tag, otel_trace, "report's trace_id tag");
        assert_eq!(&run.transaction_trace, otel_trace, "transaction's trace");
        let mut names = run.otel_names.clone();
        names.sort();
        assert_eq!(names, ["db_query", "request"]);
        println!("ours_first={ours_first}: one trace id {otel_trace} in Sentry report, transaction and OpenTelemetry");
    }
}

#[test]
fn the_opentelemetry_layer_exports_the_same_spans_with_or_without_this_crate() {
    let export = |with_ours: bool| {
        let (provider, exporter) = otel();
        let otel_layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let h = harness(|b| b);
        let layer = with_ours.then_some(h.layer).flatten();
        let subscriber = tracing_subscriber::registry().with(layer).with(otel_layer);
        tracing::subscriber::with_default(subscriber, || {
            let _r = info_span!("request", tenant_id = "acme", user_id = 3).entered();
            info!(step = 1, "working");
            info_span!("child", n = 2).in_scope(|| error!("failed"));
        });
        let mut spans: Vec<String> = exporter
            .get_finished_spans()
            .expect("spans")
            .iter()
            .map(|s| {
                // Timings differ from run to run; everything else must not.
                let mut attrs: Vec<String> = s
                    .attributes
                    .iter()
                    .filter(|kv| !kv.key.as_str().ends_with("_ns"))
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                attrs.sort();
                let mut events: Vec<String> = s.events.iter().map(|e| e.name.to_string()).collect();
                events.sort();
                format!("{} {:?} {:?}", s.name, attrs, events)
            })
            .collect();
        spans.sort();
        spans
    };
    let without = export(false);
    let with = export(true);
    assert!(!without.is_empty());
    assert_eq!(with, without);
}
