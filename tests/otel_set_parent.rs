//! The layer changes nothing tracing-opentelemetry does (issue 22 item 4): reading the
//! OpenTelemetry ids does not start the OpenTelemetry span, so the usual
//! `span.set_parent(remote_context)` right after creating the request span works in
//! every form the layer can be added in (bare, boxed, `Option`, `Vec`, `reload`,
//! filtered, and before the OpenTelemetry layer). Trace ids are checked at a real OTLP
//! receiver and in the reports and transactions.
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::{harness, WAIT};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use sentry::protocol::Context;
use tracing::{info_span, Instrument};
use tracing_error_reports::testing::SentryReceiver;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;
use wire::otlp_spans;

/// The caller's trace, as a `traceparent` header would carry it.
const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

#[derive(Clone, Copy, Debug)]
enum Form {
    Bare,
    Boxed,
    Option,
    Vec,
    Reload,
    Filtered,
    /// Bare, added before the OpenTelemetry layer.
    BareBeforeOtel,
}

fn run(form: Form) {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let tempo = SentryReceiver::start().expect("otlp receiver");
    let provider = wire::batched_provider(tempo.addr());
    // One layer value per form: its type names the subscriber below it.
    macro_rules! otel {
        () => {
            tracing_opentelemetry::layer().with_tracer(provider.tracer("set-parent"))
        };
    }
    let layer = h.layer.expect("reporting on");
    let registry = tracing_subscriber::registry();
    let dispatch = match form {
        Form::Bare => tracing::Dispatch::new(registry.with(otel!()).with(layer)),
        Form::Boxed => tracing::Dispatch::new(registry.with(otel!()).with(layer.boxed())),
        Form::Option => tracing::Dispatch::new(registry.with(otel!()).with(Some(layer))),
        Form::Vec => tracing::Dispatch::new(registry.with(otel!()).with(vec![layer.boxed()])),
        Form::Reload => {
            let (layer, _handle) = tracing_subscriber::reload::Layer::new(layer);
            tracing::Dispatch::new(registry.with(otel!()).with(layer))
        }
        Form::Filtered => tracing::Dispatch::new(
            registry
                .with(otel!())
                .with(layer.with_filter(LevelFilter::INFO)),
        ),
        Form::BareBeforeOtel => tracing::Dispatch::new(registry.with(layer).with(otel!())),
    };
    let remote = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex(REMOTE_TRACE).expect("hex"),
        SpanId::from_hex(REMOTE_SPAN).expect("hex"),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::dispatcher::with_default(&dispatch, || {
        let request = info_span!("request", tenant_id = "acme", otel.kind = "server");
        let parented = request.set_parent(remote);
        assert!(parented.is_ok(), "{form:?}: set_parent: {parented:?}");
        runtime.block_on(common::handle_failing_query().instrument(request))
    });
    let _ = provider.force_flush();
    assert!(h.guard.flush(WAIT));

    let spans = otlp_spans(&tempo.received());
    let request = spans
        .iter()
        .find(|s| s.name == "request")
        .unwrap_or_else(|| panic!("{form:?}: request exported: {spans:?}"));
    assert_eq!(request.trace_id, REMOTE_TRACE, "{form:?}: Tempo's trace");
    assert_eq!(
        request.parent_span_id, REMOTE_SPAN,
        "{form:?}: Tempo's parent"
    );

    let events = h.receiver.wait_for_events(1, WAIT);
    let Some(Context::Trace(trace)) = events[0].contexts.get("trace") else {
        panic!("{form:?}: trace context");
    };
    assert_eq!(trace.trace_id.to_string(), REMOTE_TRACE, "{form:?}: report");
    h.receiver.wait_for(2, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1, "{form:?}");
    let Some(Context::Trace(tx_trace)) = txs[0].contexts.get("trace") else {
        panic!("{form:?}: transaction trace context");
    };
    assert_eq!(
        tx_trace.trace_id.to_string(),
        REMOTE_TRACE,
        "{form:?}: transaction"
    );
    assert_eq!(tx_trace.span_id.to_string(), request.span_id, "{form:?}");
    println!("{form:?}: set_parent ok, trace {REMOTE_TRACE} in Tempo, report and transaction");
}

#[test]
fn set_parent_after_creating_the_request_span_works_in_every_layer_form() {
    for form in [
        Form::Bare,
        Form::Boxed,
        Form::Option,
        Form::Vec,
        Form::Reload,
        Form::Filtered,
        Form::BareBeforeOtel,
    ] {
        run(form);
    }
}
