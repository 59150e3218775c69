//! With tracing-opentelemetry in the subscriber, reports and transactions carry the
//! OpenTelemetry trace and span ids by themselves: no `link_trace` call, no `trace_id`
//! field, either layer order, the layer bare or as `Option` (as `init` returns it).
//! Checked against what a real OTLP receiver (Tempo's wire format) decodes.
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::{harness, tag, WAIT};
use opentelemetry::trace::TracerProvider as _;
use sentry::protocol::Context;
use tracing::{info_span, Instrument};
use tracing_error_reports::testing::SentryReceiver;
use tracing_subscriber::prelude::*;
use wire::otlp_spans;

#[derive(Clone, Copy, Debug)]
enum Placement {
    OursFirst,
    OtelFirst,
    /// Not wrapped in `Option`: the layer is told its subscriber (`on_register_dispatch`).
    OtelFirstBare,
    OursFirstBare,
}

fn run(placement: Placement) {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let tempo = SentryReceiver::start().expect("otlp receiver");
    let provider = wire::batched_provider(tempo.addr());
    // One layer value per placement: its type names the subscriber below it.
    macro_rules! otel {
        () => {
            tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-ids"))
        };
    }
    let dispatch = match placement {
        Placement::OursFirst => {
            tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer).with(otel!()))
        }
        Placement::OtelFirst => {
            tracing::Dispatch::new(tracing_subscriber::registry().with(otel!()).with(h.layer))
        }
        Placement::OtelFirstBare => tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(otel!())
                .with(h.layer.expect("on")),
        ),
        Placement::OursFirstBare => tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(h.layer.expect("on"))
                .with(otel!()),
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(common::handle_failing_query().instrument(info_span!(
            "request",
            tenant_id = "acme",
            sentry.op = "http.server"
        )))
    });
    let _ = provider.force_flush();
    assert!(h.guard.flush(WAIT));

    let spans = otlp_spans(&tempo.received());
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{placement:?}: {name} exported: {spans:?}"))
    };
    let (request, query) = (find("request"), find("db_query"));
    assert_eq!(query.trace_id, request.trace_id);
    assert_eq!(query.parent_span_id, request.span_id);

    let events = h.receiver.wait_for_events(1, WAIT);
    h.receiver.wait_for(2, WAIT);
    let report = &events[0];
    let Some(Context::Trace(trace)) = report.contexts.get("trace") else {
        panic!("{placement:?}: trace context");
    };
    assert_eq!(
        trace.trace_id.to_string(),
        request.trace_id,
        "{placement:?}: report trace"
    );
    assert_eq!(
        tag(report, "trace_id"),
        Some(request.trace_id.as_str()),
        "{placement:?}: trace_id tag"
    );
    assert_eq!(
        trace.span_id.to_string(),
        query.span_id,
        "{placement:?}: the report names the OpenTelemetry span it happened in"
    );

    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1, "{placement:?}");
    let Some(Context::Trace(tx_trace)) = txs[0].contexts.get("trace") else {
        panic!("{placement:?}: transaction trace context");
    };
    assert_eq!(
        tx_trace.trace_id.to_string(),
        request.trace_id,
        "{placement:?}"
    );
    assert_eq!(
        tx_trace.span_id.to_string(),
        request.span_id,
        "{placement:?}"
    );
    let child = &txs[0].spans;
    assert_eq!(child.len(), 1, "{placement:?}");
    assert_eq!(child[0].span_id.to_string(), query.span_id, "{placement:?}");
    assert_eq!(
        child[0].parent_span_id.map(|id| id.to_string()).as_deref(),
        Some(request.span_id.as_str()),
        "{placement:?}"
    );
    assert_eq!(
        child[0].trace_id.to_string(),
        request.trace_id,
        "{placement:?}"
    );
    println!(
        "{placement:?}: trace {} request span {} db_query span {} in Sentry and OTLP",
        request.trace_id, request.span_id, query.span_id
    );
}

#[test]
fn reports_and_transactions_carry_opentelemetry_ids_in_every_layer_placement() {
    for placement in [
        Placement::OursFirst,
        Placement::OtelFirst,
        Placement::OtelFirstBare,
        Placement::OursFirstBare,
    ] {
        run(placement);
    }
}
