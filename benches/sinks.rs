//! What `Scrubbed` costs a sink, all in one run: an info event with 3 harmless fields
//! through fmt unwrapped and wrapped (goal: at most 1.3x), the same event with one
//! secret field (reported), and a span's lifecycle through tracing-opentelemetry
//! unwrapped and wrapped (goal: at most 1.3x).
//!
//! Timed in CPU time of the benchmarking thread, like the other benches.
//!
//!     cargo bench --bench sinks

mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use opentelemetry::trace::TracerProvider as _;
use tracing::Dispatch;
use tracing_error_reports::scrub::{ScrubLayerExt, ScrubRules, Scrubber};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

fn scrubber() -> Arc<Scrubber> {
    Arc::new(Scrubber::new(&ScrubRules::default()).expect("default rules compile"))
}

/// fmt as a service configures it (timestamps, levels, targets, span context), writing
/// to `io::sink` so the terminal is not measured.
fn fmt_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(std::io::sink)
}

/// tracing-opentelemetry with a tracer whose provider has no exporter: spans are built
/// and dropped, so the layer's own work is measured.
fn otel_layer<S>() -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("bench");
    std::mem::forget(provider);
    tracing_opentelemetry::layer().with_tracer(tracer)
}

fn in_request(
    c: &mut Criterion,
    group: &str,
    subscribers: Vec<(&str, Dispatch)>,
    event: impl Fn(),
) {
    let mut group = c.benchmark_group(group);
    for (name, dispatch) in subscribers {
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("request", tenant_id = "acme", route = "/orders");
            let _entered = span.enter();
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                common::iter_cpu(b, &event)
            });
        });
    }
    group.finish();
}

fn fmt_subscribers() -> Vec<(&'static str, Dispatch)> {
    let scrubber = scrubber();
    vec![
        (
            "fmt",
            Dispatch::new(tracing_subscriber::registry().with(fmt_layer())),
        ),
        (
            "scrubbed_fmt",
            Dispatch::new(tracing_subscriber::registry().with(fmt_layer().scrubbed(&scrubber))),
        ),
    ]
}

/// The info event of the layer benches: 3 harmless fields and a message.
fn info_event(c: &mut Criterion) {
    in_request(c, "sink_info_event", fmt_subscribers(), || {
        tracing::info!(
            order_id = 17,
            attempt = 2,
            status = "retrying",
            "loading orders"
        );
    });
}

/// The same with one secret field: the wrapped layer gets a rebuilt event.
fn info_event_with_secret(c: &mut Criterion) {
    in_request(c, "sink_info_event_secret", fmt_subscribers(), || {
        tracing::info!(
            order_id = 17,
            password = "hunter2",
            status = "retrying",
            "loading orders"
        );
    });
}

fn span_lifecycle(c: &mut Criterion) {
    let scrubber = scrubber();
    let subscribers = vec![
        (
            "otel",
            Dispatch::new(tracing_subscriber::registry().with(otel_layer())),
        ),
        (
            "scrubbed_otel",
            Dispatch::new(tracing_subscriber::registry().with(otel_layer().scrubbed(&scrubber))),
        ),
    ];
    let mut group = c.benchmark_group("sink_span_lifecycle");
    for (name, dispatch) in subscribers {
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                common::iter_cpu(b, || {
                    let span = tracing::info_span!(
                        "request",
                        tenant_id = "acme",
                        route = "/orders",
                        attempt = 2
                    );
                    let _entered = span.enter();
                })
            });
        });
    }
    group.finish();
}

/// Where a wrapped event's time goes: `Scrubber::scrub_field` per field value, and its
/// two parts (the key rules and the value rules).
fn scrub_field(c: &mut Criterion) {
    use std::hint::black_box;
    use tracing_error_reports::scrub::ScrubReport;
    let s = scrubber();
    let mut group = c.benchmark_group("sink_scrub_field");
    let mut report = ScrubReport::default();
    group.bench_function("scrub_field", |b| {
        common::iter_cpu(b, || {
            s.scrub_field(black_box("status"), black_box("retrying"), &mut report)
                .len()
        })
    });
    group.bench_function("is_sensitive_key", |b| {
        common::iter_cpu(b, || s.is_sensitive_key(black_box("status")))
    });
    group.bench_function("scrub_str", |b| {
        common::iter_cpu(b, || s.scrub_str(black_box("retrying"), &mut report).len())
    });
    group.finish();
}

/// A layer that does nothing, to isolate what the wrapper costs.
struct Quiet;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Quiet {}

/// The wrapper alone (around a layer that does nothing) against `scrub_field` on the
/// same four values called directly: the difference is the wrapper's own work
/// (visiting, formatting into the per-thread buffer).
fn wrapper_alone(c: &mut Criterion) {
    use std::hint::black_box;
    use tracing_error_reports::scrub::ScrubReport;
    let s = scrubber();
    let subscribers = vec![
        (
            "quiet",
            Dispatch::new(tracing_subscriber::registry().with(Quiet)),
        ),
        (
            "scrubbed_quiet",
            Dispatch::new(tracing_subscriber::registry().with(Quiet.scrubbed(&s))),
        ),
    ];
    in_request(c, "sink_wrapper_alone", subscribers, || {
        tracing::info!(
            order_id = 17,
            attempt = 2,
            status = "retrying",
            "loading orders"
        );
    });
    let mut report = ScrubReport::default();
    let mut group = c.benchmark_group("sink_wrapper_alone");
    group.bench_function("scrub_field_x4", |b| {
        common::iter_cpu(b, || {
            for (key, text) in [
                ("message", "loading orders"),
                ("order_id", "17"),
                ("attempt", "2"),
                ("status", "retrying"),
            ] {
                black_box(
                    s.scrub_field(black_box(key), black_box(text), &mut report)
                        .len(),
                );
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(40);
    targets = info_event, info_event_with_secret, span_lifecycle, scrub_field, wrapper_alone
}
criterion_main!(benches);
