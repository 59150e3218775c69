//! No feedback loop: with Loki and the OTLP endpoint down, the exporters' own error
//! lines reach the other layers but never become Sentry reports. (Own test binary: the
//! subscriber is the global default, as in a service, so the exporters' background
//! threads log through it.)
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use std::time::Duration;

use common::{harness, WAIT};
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::prelude::*;

/// Counts the exporters' own warnings and errors, as a sibling layer sees them.
#[derive(Clone, Default)]
struct ExporterErrors(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ExporterErrors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        let exporter =
            meta.target().starts_with("tracing_loki") || meta.target().starts_with("opentelemetry");
        if exporter && *meta.level() <= tracing::Level::WARN {
            self.0.lock().expect("lock").push(meta.target().to_owned());
        }
    }
}

#[test]
fn dead_loki_and_otlp_endpoints_never_become_sentry_reports() {
    let dead = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
    };
    let (dead_otlp, dead_loki) = (dead(), dead());
    let h = harness(|b| b);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(wire::otlp_exporter(dead_otlp))
        .build();
    let (loki_layer, loki_controller, loki_task) = wire::loki(dead_loki, "dead");
    let seen = ExporterErrors::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(h.layer)
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("dead")))
            .with(loki_layer)
            .with(seen.clone()),
    )
    .expect("the only global subscriber of this test binary");
    let runtime = wire::runtime();
    let loki_done = runtime.spawn(loki_task);
    for i in 0..3 {
        let _request = tracing::info_span!("request", tenant_id = "acme", i).entered();
        tracing::error!(i, "application error");
    }
    let _ = provider.force_flush();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let both_failed = || {
        let seen = seen.0.lock().expect("lock");
        seen.iter().any(|t| t.starts_with("tracing_loki"))
            && seen.iter().any(|t| t.starts_with("opentelemetry"))
    };
    while !both_failed() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    runtime.block_on(async {
        loki_controller.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), loki_done).await;
    });
    assert!(
        both_failed(),
        "both exporters logged their failures: {:?}",
        seen.0.lock().expect("lock")
    );
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(3, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let loggers: Vec<_> = h
        .receiver
        .events()
        .iter()
        .filter_map(|e| e.logger.clone())
        .collect();
    assert_eq!(
        loggers, ["feedback_loop"; 3],
        "only the application's own errors: {loggers:?}"
    );
    assert_eq!(events.len(), 3);
}
