//! Every order of the four layers (fmt, this crate, tracing-opentelemetry to OTLP,
//! tracing-loki) gives the same outputs: what fmt prints, what Tempo and Loki receive
//! on the wire, and what Sentry receives. This crate changes nothing its siblings see.
//! With fmt, OTLP and Loki wrapped in `Scrubbed`, every order gives the same outputs
//! too, and none of them holds the secrets the workload logs.
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{crumb_messages, harness, tag, WAIT};
use opentelemetry::trace::TracerProvider as _;
use tracing_error_reports::scrub::{ScrubLayerExt, ScrubRules, Scrubber};
use tracing_error_reports::testing::SentryReceiver;
use tracing_subscriber::layer::Layer;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Registry;

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What each of the four sinks got, with the run's random trace id masked.
#[derive(Debug, PartialEq)]
struct Outputs {
    fmt: Vec<String>,
    sentry: Vec<String>,
    tempo: Vec<String>,
    loki: Vec<String>,
}

/// Logged by the workload; with the sinks wrapped, no output may hold them.
const SECRETS: &[&str] = &["hunter2x9", "4111 1111 1111 1111", "c2lnbmF0dXJl"];

/// Runs the workload with the four layers in `order`; with `scrubber`, fmt, OTLP and
/// Loki are wrapped in `Scrubbed`.
fn run(
    order: [usize; 4],
    runtime: &tokio::runtime::Runtime,
    scrubber: Option<&Arc<Scrubber>>,
) -> Outputs {
    let tempo = SentryReceiver::start().expect("receiver");
    let loki = SentryReceiver::start().expect("receiver");
    let printed = Buffer::default();

    let h = harness(|b| b);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(wire::otlp_exporter(tempo.addr()))
        .build();
    let (loki_layer, loki_controller, loki_task) = wire::loki(loki.addr(), "order");
    let loki_done = runtime.spawn(loki_task);
    let writer = printed.clone();
    let sink = |layer: Boxed| match scrubber {
        Some(scrubber) => layer.scrubbed(scrubber).boxed(),
        None => layer,
    };
    let mut layers: Vec<Option<Boxed>> = vec![
        Some(sink(
            tracing_subscriber::fmt::layer()
                .without_time()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .boxed(),
        )),
        Some(h.layer.expect("enabled").boxed()),
        Some(sink(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("order"))
                .boxed(),
        )),
        Some(sink(loki_layer.boxed())),
    ];
    let ordered: Vec<Boxed> = order
        .iter()
        .map(|i| layers[*i].take().expect("each once"))
        .collect();
    let subscriber = tracing_subscriber::registry().with(ordered);

    let trace_id = tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            tenant_id = "acme",
            authorization = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            trace_id = tracing::field::Empty
        );
        let trace_id = tracing_error_reports::link_trace(&request).expect("trace id");
        request.in_scope(|| {
            tracing::info!(route = "/orders", "loading");
            tracing::info_span!("db", table = "orders")
                .in_scope(|| tracing::warn!(attempt = 2, "slow"));
            tracing::error!(
                order_id = 7,
                password = "hunter2x9",
                "failed to charge 4111 1111 1111 1111"
            );
        });
        trace_id
    });
    let _ = provider.force_flush();
    runtime.block_on(async {
        loki_controller.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), loki_done).await;
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    let mask = |s: String| s.replace(&trace_id, "<trace>");

    let fmt = String::from_utf8(printed.0.lock().expect("lock").clone()).expect("utf-8");
    let sentry_out = events
        .iter()
        .map(|e| {
            assert_eq!(tag(e, "trace_id"), Some(trace_id.as_str()));
            let crumbs = crumb_messages(e);
            format!(
                "{:?} {:?} {:?} {:?}",
                e.message,
                tag(e, "tenant_id"),
                crumbs,
                e.logger
            )
        })
        .collect();
    let mut tempo_out: Vec<String> = wire::otlp_spans(&tempo.received())
        .into_iter()
        .map(|s| {
            let mut attrs: Vec<_> = s
                .attributes
                .into_iter()
                .filter(|(k, _)| !k.ends_with("_ns") && !k.starts_with("thread."))
                .collect();
            attrs.sort();
            mask(format!("{} {} {:?}", s.name, s.trace_id, attrs))
        })
        .collect();
    tempo_out.sort();
    let mut loki_out: Vec<String> = wire::loki_lines(&loki.received())
        .into_iter()
        .map(|(labels, line)| mask(format!("{labels} {line}")))
        .collect();
    loki_out.sort();
    Outputs {
        fmt: fmt.lines().map(|l| mask(l.to_owned())).collect(),
        sentry: sentry_out,
        tempo: tempo_out,
        loki: loki_out,
    }
}

fn permutations() -> Vec<[usize; 4]> {
    let mut all = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let p = [a, b, c, d];
                    if (0..4).all(|i| p.contains(&i)) {
                        all.push(p);
                    }
                }
            }
        }
    }
    all
}

#[test]
fn every_order_of_the_four_layers_gives_the_same_outputs() {
    let runtime = wire::runtime();
    let orders = permutations();
    assert_eq!(orders.len(), 24);
    let first = run(orders[0], &runtime, None);
    assert_eq!(first.fmt.len(), 3, "{:?}", first.fmt);
    assert_eq!(first.sentry.len(), 1);
    assert_eq!(first.tempo.len(), 2, "{:?}", first.tempo);
    assert_eq!(first.loki.len(), 3, "{:?}", first.loki);
    for order in &orders[1..] {
        assert_eq!(
            run(*order, &runtime, None),
            first,
            "order {order:?} (0 fmt, 1 this crate, 2 otel, 3 loki)"
        );
    }
    // Unwrapped, the siblings print and export the secrets as logged.
    for secret in SECRETS {
        assert!(first.fmt.iter().any(|l| l.contains(secret)), "{secret}");
    }
    println!("24 layer orders, identical outputs: {first:#?}");
}

#[test]
fn every_order_with_scrubbed_sinks_gives_the_same_outputs_without_secrets() {
    let runtime = wire::runtime();
    let scrubber = Arc::new(Scrubber::new(&ScrubRules::default()).expect("defaults compile"));
    let orders = permutations();
    let first = run(orders[0], &runtime, Some(&scrubber));
    assert_eq!(first.fmt.len(), 3, "{:?}", first.fmt);
    assert_eq!(first.sentry.len(), 1);
    assert_eq!(first.tempo.len(), 2, "{:?}", first.tempo);
    assert_eq!(first.loki.len(), 3, "{:?}", first.loki);
    let all = format!("{first:?}");
    for secret in SECRETS {
        assert!(!all.contains(secret), "{secret} in {first:#?}");
    }
    assert!(
        first.fmt[2].contains("failed to charge [Filtered]"),
        "{:?}",
        first.fmt
    );
    assert!(
        all.contains("\\\"password\\\":\\\"[Filtered]\\\""),
        "{first:#?}"
    );
    for order in &orders[1..] {
        assert_eq!(
            run(*order, &runtime, Some(&scrubber)),
            first,
            "order {order:?} (0 fmt, 1 this crate, 2 otel, 3 loki), sinks scrubbed"
        );
    }
    println!("24 layer orders with scrubbed sinks, identical outputs: {first:#?}");
}
