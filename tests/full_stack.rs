//! The whole stack in one subscriber: this crate, tracing-opentelemetry exporting OTLP
//! over HTTP (as to Tempo) and tracing-loki pushing to Loki, each to an in-process
//! receiver that decodes the real wire format. One request's trace id and tenant id
//! must be in all three, and the Sentry event id must be findable from the Loki side.
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use std::time::Duration;

use common::{harness, tag, WAIT};
use opentelemetry::trace::TracerProvider as _;
use tracing_error_reports::testing::SentryReceiver;
use tracing_subscriber::prelude::*;
use wire::{loki_lines, otlp_spans};

#[test]
fn one_request_has_one_trace_id_and_tenant_in_sentry_tempo_and_loki() {
    let h = harness(|b| b);
    let sentry = &h.receiver;
    let tempo = SentryReceiver::start().expect("otlp receiver");
    let loki = SentryReceiver::start().expect("loki receiver");
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(wire::otlp_exporter(tempo.addr()))
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("full-stack"));
    let (loki_layer, loki_controller, loki_task) = wire::loki(loki.addr(), "full-stack-test");
    let runtime = wire::runtime();
    let loki_done = runtime.spawn(loki_task);

    let subscriber = tracing_subscriber::registry()
        .with(h.layer)
        .with(otel)
        .with(loki_layer);
    let (trace_id, event_id) = tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            tenant_id = "acme",
            trace_id = tracing::field::Empty
        );
        let trace_id = tracing_error_reports::link_trace(&request).expect("trace id");
        let _entered = request.enter();
        tracing::info!(route = "/orders", "loading orders");
        tracing::error!(password = "hunter2", "could not load orders");
        let event_id = tracing_error_reports::last_event_id().expect("an event id");
        // The log line that links Loki back to Sentry.
        tracing::warn!(sentry_event_id = %event_id, "reported to Sentry");
        (trace_id, event_id.to_string())
    });
    let _ = provider.force_flush();
    runtime.block_on(async {
        loki_controller.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), loki_done).await;
    });
    assert!(h.guard.flush(WAIT));

    // Sentry
    let events = sentry.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let report = &events[0];
    assert_eq!(tag(report, "trace_id"), Some(trace_id.as_str()));
    assert_eq!(tag(report, "tenant_id"), Some("acme"));
    assert_eq!(report.event_id.to_string(), event_id);

    // Tempo (OTLP)
    let spans = otlp_spans(&tempo.received());
    let request_span = spans
        .iter()
        .find(|s| s.name == "request")
        .unwrap_or_else(|| panic!("request span exported: {spans:?}"));
    assert_eq!(request_span.trace_id, trace_id);
    assert!(request_span
        .attributes
        .contains(&("tenant_id".into(), "acme".into())));

    // Loki
    let lines = loki_lines(&loki.received());
    assert!(lines.len() >= 3, "{lines:?}");
    for (labels, line) in &lines {
        assert!(labels.contains("service=\"full-stack-test\""), "{labels}");
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
        assert_eq!(line["tenant_id"], "acme", "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|(_, line)| line["sentry_event_id"] == event_id.as_str()),
        "the Sentry event id is findable in Loki"
    );
    println!(
        "trace {trace_id}: Sentry event {event_id} (tag trace_id), Tempo span 'request', {} Loki lines",
        lines.len()
    );
}
