//! When tracing-opentelemetry is below the layer in the subscriber but its ids cannot
//! be read (feature `opentelemetry` off, or another tracing-opentelemetry version),
//! the layer says so once on stderr; when it can read them, it says nothing.
//! `.ci/run` runs this binary with and without the feature.

mod common;

use std::process::Command;

use opentelemetry::trace::TracerProvider as _;
use tracing::{error, info_span};
use tracing_subscriber::prelude::*;

const CHILD: &str = "OTEL_UNREADABLE_CHILD";
const TOLD: &str = "tracing-opentelemetry is in the subscriber but its span ids cannot be read";

/// Run as a child process: its stderr is what the parent checks.
#[test]
fn otel_below_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let h = common::harness(|b| b);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("unreadable"));
    if std::env::var(CHILD).as_deref() == Ok("filtered") {
        // OpenTelemetry filtered to INFO, its request spans under TRACE spans it never
        // sees (h2's `Connection` and `poll` under tonic; a newcomer was told wrongly).
        let subscriber = tracing_subscriber::registry()
            .with(otel.with_filter(tracing_subscriber::filter::LevelFilter::INFO))
            .with(h.layer);
        tracing::subscriber::with_default(subscriber, || {
            for tenant in ["acme", "globex", "initech"] {
                tracing::trace_span!("Connection").in_scope(|| {
                    tracing::trace_span!("poll").in_scope(|| {
                        info_span!("grpc.server", otel.kind = "server", tenant_id = tenant)
                            .in_scope(|| error!("failed"));
                    });
                });
            }
        });
    } else {
        let subscriber = tracing_subscriber::registry().with(otel).with(h.layer);
        tracing::subscriber::with_default(subscriber, || {
            for tenant in ["acme", "globex", "initech"] {
                info_span!("request", tenant_id = tenant).in_scope(|| error!("failed"));
            }
        });
    }
    assert!(h.guard.flush(common::WAIT));
    println!("CHILD-DONE");
}

#[test]
fn an_unreadable_opentelemetry_layer_is_told_once_and_a_readable_one_never() {
    for mode in ["plain", "filtered"] {
        told_once_if_unreadable(mode);
    }
}

fn told_once_if_unreadable(mode: &str) {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args([
            "--exact",
            "otel_below_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, mode)
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("CHILD-DONE"),
        "{stdout}\n{stderr}"
    );
    let told = stderr.matches(TOLD).count();
    let expected = if cfg!(feature = "opentelemetry") {
        0
    } else {
        1
    };
    assert_eq!(told, expected, "{mode}: {stderr}");
    if expected == 1 {
        assert!(
            stderr.contains("feature `opentelemetry`"),
            "names the fix: {stderr}"
        );
    }
}
