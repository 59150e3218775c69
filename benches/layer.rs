//! Calling-thread cost per event and per span: the floor (bare registry), the anchor
//! (sentry-tracing as its docs recommend), this crate, and the full stack with
//! tracing-opentelemetry with and without this crate. All in one run, so the ratios
//! in BENCHMARKS.md (written by benches/report.py) compare like with like.
//!
//! Timed in CPU time of the benchmarking thread: other load on the shared machine does
//! not count.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn subscribers() -> Vec<(&'static str, Dispatch)> {
    vec![
        ("floor", common::floor()),
        ("sentry_tracing", common::sentry_tracing()),
        ("this_crate", common::with_this_crate(false)),
        ("full_stack_without", common::full_stack_without()),
        ("full_stack_with", common::full_stack_with()),
    ]
}

/// The info event of every case: 3 fields and a message.
fn log_info() {
    tracing::info!(
        order_id = 17,
        attempt = 2,
        status = "retrying",
        "loading orders"
    );
}

/// The error event of every case: 3 fields and a message.
fn log_error() {
    tracing::error!(
        order_id = 17,
        attempt = 2,
        status = "failed",
        "order failed"
    );
}

/// Benchmarks `event` on each subscriber, inside an entered request span with a
/// tenant; `prepare` runs once in the span first (to log earlier breadcrumbs).
fn in_request(
    c: &mut Criterion,
    group: &str,
    subscribers: Vec<(&'static str, Dispatch)>,
    prepare: impl Fn(),
    event: impl Fn(),
) {
    let mut group = c.benchmark_group(group);
    for (name, dispatch) in subscribers {
        tracing::dispatcher::with_default(&dispatch, || {
            // Earlier groups may have left breadcrumbs in sentry's hub scope.
            sentry::Hub::current().configure_scope(|scope| scope.clear_breadcrumbs());
            let span = tracing::info_span!("request", tenant_id = "acme", route = "/orders");
            let _entered = span.enter();
            prepare();
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                common::iter_cpu(b, &event)
            });
        });
    }
    group.finish();
}

fn info_event(c: &mut Criterion) {
    in_request(c, "info_event", subscribers(), || {}, log_info);
}

fn error_event(c: &mut Criterion) {
    in_request(c, "error_event", subscribers(), || {}, log_error);
}

fn error_after_100_breadcrumbs(c: &mut Criterion) {
    let crumbs = || {
        for i in 0..100 {
            tracing::info!(step = i, table = "orders", "query done");
        }
    };
    in_request(
        c,
        "error_after_100_breadcrumbs",
        subscribers(),
        crumbs,
        log_error,
    );
}

fn span_lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("span_lifecycle");
    for (name, dispatch) in subscribers() {
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

fn disabled(c: &mut Criterion) {
    let mut group = c.benchmark_group("disabled");
    for (name, dispatch) in [
        ("floor", common::floor()),
        ("option_none", common::option_none()),
        ("this_crate_disabled", common::disabled()),
    ] {
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("request", tenant_id = "acme");
            let _entered = span.enter();
            group.bench_function(BenchmarkId::new("info", name), |b| {
                common::iter_cpu(b, log_info)
            });
            group.bench_function(BenchmarkId::new("error", name), |b| {
                common::iter_cpu(b, log_error)
            });
        });
    }
    group.finish();
}

fn flood(c: &mut Criterion) {
    let subscribers = vec![
        ("floor", common::floor()),
        ("sentry_tracing", common::sentry_tracing()),
        ("this_crate", common::with_this_crate(true)),
    ];
    // One callsite in a tight loop: after the first reports of the window, flood
    // control holds the rest back.
    in_request(
        c,
        "flood",
        subscribers,
        || {},
        || tracing::error!(order_id = 17, "same failure again"),
    );
}

/// A failure kind as letters (no digit, so each is its own message template).
struct Kind(u64);

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut n = self.0;
        loop {
            let letter = b'a' + (n % 26) as u8;
            std::fmt::Write::write_char(f, char::from(letter))?;
            n /= 26;
            if n == 0 {
                return Ok(());
            }
        }
    }
}

/// Distinct failures of an error storm: more than flood control tracks (8,192), over
/// 1,000 tenants, each under its own key limit, so every error is a key not tracked.
const STORM_KEYS: u64 = 50_000;
const STORM_TENANTS: u64 = 1_000;

/// An error storm of many distinct failures: every event a new flood key, admitted
/// (so flood control on costs what tracking a new key costs, beside flood control off).
fn flood_storm(c: &mut Criterion) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    in_request(
        c,
        "flood_storm",
        vec![
            ("flood_on", common::with_this_crate(true)),
            ("flood_off", common::with_this_crate(false)),
        ],
        || {},
        || {
            let i = NEXT.fetch_add(1, Ordering::Relaxed) % STORM_KEYS;
            tracing::error!(
                tenant_id = i % STORM_TENANTS,
                "payment step {} failed",
                Kind(i / STORM_TENANTS)
            )
        },
    );
}

/// The calling thread's cost of an error report when Sentry is healthy, refuses
/// connections, or accepts them and never answers, each without and with a disk spool
/// (issue 27): the same, since nothing on the calling thread waits for the network or
/// the disk. In CPU time of the calling thread: what the service pays per error.
fn error_event_endpoint_states(c: &mut Criterion) {
    use tracing_error_reports::testing::{Behaviour, SentryReceiver};
    let healthy = SentryReceiver::start().expect("receiver");
    let hanging = SentryReceiver::start().expect("receiver");
    hanging.set_behaviour(Behaviour::Hang);
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let refused = format!("http://key@{refused}/1");
    let spools = ["healthy", "refused", "hanging"].map(common::BenchDir::new);
    let subscribers = vec![
        ("healthy", common::with_this_crate_at(&healthy.dsn(), None)),
        ("refused", common::with_this_crate_at(&refused, None)),
        ("hanging", common::with_this_crate_at(&hanging.dsn(), None)),
        (
            "healthy_spool",
            common::with_this_crate_at(&healthy.dsn(), Some(&spools[0].0)),
        ),
        (
            "refused_spool",
            common::with_this_crate_at(&refused, Some(&spools[1].0)),
        ),
        (
            "hanging_spool",
            common::with_this_crate_at(&hanging.dsn(), Some(&spools[2].0)),
        ),
    ];
    in_request(c, "error_event_endpoint", subscribers, || {}, log_error);
}

/// The error event with `attach_stacktrace` off and on (issue 16): on, the calling
/// thread also walks its stack. Flood control off, as in `error_event`.
fn error_event_attach_stacktrace(c: &mut Criterion) {
    let with = |attach: bool| {
        let (layer, guard) = tracing_error_reports::init_with_transport(
            tracing_error_reports::Config::builder()
                .dsn("https://public@sentry.invalid/1")
                .traces_sample_rate(0.0)
                .install_panic_hook(false)
                .flood_limit(None)
                .attach_stacktrace(attach)
                .build()
                .expect("valid config"),
            std::sync::Arc::new(std::sync::Arc::new(common::Discard)),
        );
        std::mem::forget(guard);
        Dispatch::new(tracing_subscriber::registry().with(layer))
    };
    in_request(
        c,
        "error_event_attach_stacktrace",
        vec![("off", with(false)), ("on", with(true))],
        || {},
        log_error,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(30);
    targets = info_event, error_event, error_after_100_breadcrumbs, span_lifecycle, disabled, flood, flood_storm, error_event_endpoint_states, error_event_attach_stacktrace
}
criterion_main!(benches);
