//! Subscribers compared by the benches, all built the same way in one process.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use sentry::{Envelope, Transport};
use tracing::Dispatch;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;

/// CPU time of the calling thread.
#[cfg(target_os = "linux")]
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
pub fn thread_cpu() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Runs `f` as criterion's iterations, timed in CPU time of the benchmarking thread:
/// time the thread is descheduled (other load on the machine) does not count.
pub fn iter_cpu<O>(b: &mut criterion::Bencher<'_>, mut f: impl FnMut() -> O) {
    b.iter_custom(|iters| {
        let start = thread_cpu();
        for _ in 0..iters {
            std::hint::black_box(f());
        }
        thread_cpu() - start
    })
}

/// A transport that drops every envelope: the network is not measured.
pub struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, envelope: Envelope) {
        std::hint::black_box(envelope);
    }
}

/// A transport that serialises every envelope to its wire bytes, as an HTTP transport
/// does before sending, then drops them: both sides of a comparison pay for the bytes.
pub struct SerialiseAndDrop;

impl Transport for SerialiseAndDrop {
    fn send_envelope(&self, envelope: Envelope) {
        let mut wire = Vec::new();
        let _ = envelope.to_writer(&mut wire);
        std::hint::black_box(wire);
    }
}

/// The floor: a bare registry.
pub fn floor() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry())
}

/// The anchor: sentry-tracing's layers, each with the per-layer level filter its docs
/// recommend, with a client bound to the main hub.
pub fn sentry_tracing() -> Dispatch {
    sentry_tracing_with(Discard)
}

/// [`sentry_tracing`] sending through `transport`.
pub fn sentry_tracing_with<T: Transport>(transport: T) -> Dispatch {
    let mut options = sentry::ClientOptions::default();
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(Arc::new(transport)));
    // Without the default integrations (OS/runtime contexts): the cheapest configuration
    // of the anchor, so the ratios are conservative.
    options.default_integrations = false;
    let options = options.traces_sample_rate(0.0);
    sentry::Hub::main().bind_client(Some(Arc::new(sentry::Client::from(options))));
    Dispatch::new(
        tracing_subscriber::registry()
            .with(sentry_tracing::SpanLayer::new().with_filter(LevelFilter::INFO))
            // WARN and INFO become breadcrumbs, ERROR becomes an event (sentry-tracing's
            // classic mapping, and this crate's): errors are not also breadcrumbs.
            .with(sentry_tracing::BreadcrumbLayer::new().with_filter(
                tracing_subscriber::filter::filter_fn(|m| {
                    *m.level() <= tracing::Level::INFO && *m.level() > tracing::Level::ERROR
                }),
            ))
            .with(sentry_tracing::ErrorLayer::new().with_filter(LevelFilter::ERROR)),
    )
}

/// This crate's layer, sending through a discarding transport. The guard is leaked so
/// the worker lives as long as the bench.
pub fn this_crate(flood_control: bool) -> tracing_error_reports::ErrorReportLayer {
    let mut builder = tracing_error_reports::Config::builder()
        .dsn("https://public@sentry.invalid/1")
        .traces_sample_rate(0.0)
        .install_panic_hook(false);
    if !flood_control {
        builder = builder.flood_limit(None);
    }
    let (layer, guard) = tracing_error_reports::init_with_transport(
        builder.build().expect("valid config"),
        Arc::new(Arc::new(Discard)),
    );
    std::mem::forget(guard);
    layer.expect("enabled")
}

pub fn with_this_crate(flood_control: bool) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(this_crate(flood_control)))
}

/// For comparison: a `None` of tracing-subscriber's no-op layer, to show what
/// `Option<Layer>` itself costs.
pub fn option_none() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(None::<tracing_subscriber::layer::Identity>))
}

/// Reporting configured off: the layer is `None`.
pub fn disabled() -> Dispatch {
    let (layer, _guard) = tracing_error_reports::init(
        tracing_error_reports::Config::builder()
            .build()
            .expect("valid"),
    );
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

fn otel_layer<S>() -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use opentelemetry::trace::TracerProvider as _;
    // No exporter: spans are built and dropped, as with a no-op exporter.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = provider.tracer("bench");
    std::mem::forget(provider);
    tracing_opentelemetry::layer().with_tracer(tracer)
}

/// The full stack without this crate: registry + tracing-opentelemetry.
pub fn full_stack_without() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(otel_layer()))
}

/// The full stack with this crate.
pub fn full_stack_with() -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(otel_layer())
            .with(this_crate(false)),
    )
}

/// This crate's layer sending over real HTTP to `dsn` (for the failure-mode cases),
/// with a disk spool in `spool` if given.
pub fn with_this_crate_at(dsn: &str, spool: Option<&std::path::Path>) -> Dispatch {
    let mut builder = tracing_error_reports::Config::builder()
        .dsn(dsn)
        .traces_sample_rate(0.0)
        .install_panic_hook(false)
        .flood_limit(None)
        .http_timeout(std::time::Duration::from_secs(1));
    if let Some(dir) = spool {
        builder = builder.spool_dir(dir);
    }
    let (layer, guard) = tracing_error_reports::init(builder.build().expect("valid config"));
    std::mem::forget(guard);
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// A fresh directory under the system's temporary one, for a bench's disk spool;
/// removed (with what the spool left) when dropped.
pub struct BenchDir(pub std::path::PathBuf);

impl BenchDir {
    pub fn new(name: &str) -> BenchDir {
        let dir = std::env::temp_dir().join(format!(
            "tracing-error-reports-bench-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench directory");
        BenchDir(dir)
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (without spending CPU) until the scrubber's one-time load of the phone metadata,
/// on a thread of its own started by the first text that may hold a finding, has finished: about 30 ms
/// of CPU once per process, which would otherwise land in the measured window of a run
/// whose warm-up was short (no errors) and read as 1.5 µs per request of 20,000.
#[cfg(target_os = "linux")]
pub fn wait_for_one_time_threads() {
    let running = || {
        std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| {
            tasks.flatten().any(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|name| name.starts_with("tracing-scrub-p"))
            })
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Elsewhere: nothing to wait for that can be seen.
#[cfg(not(target_os = "linux"))]
pub fn wait_for_one_time_threads() {}
