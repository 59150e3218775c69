//! Structured logs (issue 28): the calling-thread cost of one INFO event sent as a log,
//! by sentry-tracing's `LogLayer` (the anchor) and by this crate, in one run; this
//! crate with logs off for the same event; then the whole-process CPU per log (every
//! thread: sentry's batcher, this crate's worker with its scrubbing), printed as ratios and
//! written to target/criterion/logs_total.json for benches/report.py.
//!
//! Both send to a transport that serialises each envelope to its wire bytes and drops
//! them (`common::SerialiseAndDrop`): the network is not measured, but the bytes every
//! real transport writes are, on both sides (this crate writes its logs' JSON on its
//! worker, sentry's transport writes `LogLayer`'s when it sends). This crate runs
//! without flood control here (one callsite and tenant would be held back after 1,000
//! logs a minute, and held-back logs cost less).

mod common;

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tracing::{Dispatch, Level};
use tracing_subscriber::prelude::*;

/// The event of every case: 3 fields and a message, as `benches/layer.rs`'s.
fn log_info() {
    tracing::info!(
        order_id = 17,
        attempt = 2,
        status = "retrying",
        "loading orders"
    );
}

/// The same event with a message new at every log (`LOGS_MESSAGE=varied`): the scrubber
/// cannot answer it from its memory of clean texts and reads it whole.
fn log_info_varied(n: u32) {
    tracing::info!(
        order_id = 17,
        attempt = 2,
        status = "retrying",
        "loading orders for customer {n} after retry"
    );
}

/// sentry-tracing 0.49.5's `LogLayer`, its client with logs on (Sentry's own batcher).
fn sentry_log_layer() -> Dispatch {
    let mut options = sentry::ClientOptions::default();
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(Arc::new(common::SerialiseAndDrop)));
    options.default_integrations = false;
    sentry::Hub::main().bind_client(Some(Arc::new(sentry::Client::from(options))));
    Dispatch::new(tracing_subscriber::registry().with(sentry_tracing::LogLayer::new()))
}

fn this_crate(logs: bool) -> (Dispatch, tracing_error_reports::ReportingGuard) {
    let mut builder = tracing_error_reports::Config::builder()
        .dsn("https://public@sentry.invalid/1")
        .traces_sample_rate(0.0)
        .install_panic_hook(false)
        .flood_limit(None)
        .log_flood_limit(None);
    if logs {
        builder = builder.enable_logs(Level::INFO);
    }
    let (layer, guard) = tracing_error_reports::init_with_transport(
        builder.build().expect("valid config"),
        Arc::new(Arc::new(common::SerialiseAndDrop)),
    );
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, guard)
}

fn in_request(dispatch: &Dispatch, f: impl FnOnce()) {
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!("request", tenant_id = "acme", user_id = "u-7");
        let _entered = span.enter();
        f();
    });
}

fn calling_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_event");
    let anchor = sentry_log_layer();
    in_request(&anchor, || {
        group.bench_function(
            BenchmarkId::from_parameter("sentry_tracing_log_layer"),
            |b| common::iter_cpu(b, log_info),
        );
    });
    for (name, logs) in [("this_crate_logs", true), ("this_crate_logs_off", false)] {
        let (dispatch, guard) = this_crate(logs);
        in_request(&dispatch, || {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                common::iter_cpu(b, log_info)
            });
        });
        guard.flush(Duration::from_secs(30));
    }
    group.finish();
}

/// The whole process's use so far (all threads): user and system CPU, and context
/// switches (voluntary: a thread went to sleep, waiting to be woken).
#[derive(Clone, Copy)]
struct Usage {
    user: Duration,
    system: Duration,
    switches: i64,
}

fn process_usage() -> Usage {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage {
        user: time(usage.ru_utime),
        system: time(usage.ru_stime),
        switches: usage.ru_nvcsw + usage.ru_nivcsw,
    }
}

/// Marks where a measured run starts and ends, for callgrind's instruction counts of
/// every thread in the window: `valgrind --tool=callgrind --separate-threads=yes
/// --zero-before='*logs_window_open*' --dump-before='*logs_window_close*'` (one dump per
/// run, `LogLayer`'s and this crate's runs alternating; see benches/NOTES.md).
#[inline(never)]
fn logs_window_open(side: usize) {
    std::hint::black_box(side);
}

#[inline(never)]
fn logs_window_close(side: usize) {
    // Not the same body as `logs_window_open`'s, or the two are folded into one symbol.
    std::hint::black_box(side.wrapping_add(0x5eed));
}

/// Whole-process CPU per log, both flushed inside the window: `LOGS_TOTAL` (default
/// 20,000) logs, the median of `LOGS_RUNS` (default 5) runs each, interleaved; with
/// `LOGS_MESSAGE=varied` each log's message is new (not written for benches/report.py).
fn total_cpu(_: &mut Criterion) {
    let logs: u32 = std::env::var("LOGS_TOTAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    // Logs wait their turn in a worker queue of 2,048 places (a quarter for logs): the
    // batch is paced so none is dropped and every one is converted and scrubbed.
    let pace = 400;
    let anchor = sentry_log_layer();
    let (ours, guard) = this_crate(true);
    // Both warmed up, and the scrubber's one-time phone-metadata load done, outside the
    // measured window (it would land in whichever runs it overlaps).
    for (i, dispatch) in [&anchor, &ours].into_iter().enumerate() {
        in_request(dispatch, || {
            for n in 0..1000 {
                log_info();
                if n % pace == pace - 1 && i == 1 {
                    guard.flush(Duration::from_secs(30));
                }
            }
        });
    }
    guard.flush(Duration::from_secs(30));
    common::wait_for_one_time_threads();
    let varied = std::env::var("LOGS_MESSAGE").is_ok_and(|v| v == "varied");
    let mut counter = 0u32;
    let mut log = move || {
        if varied {
            counter = counter.wrapping_add(1);
            log_info_varied(counter);
        } else {
            log_info();
        }
    };
    let rounds: usize = std::env::var("LOGS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut runs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let names = ["sentry-tracing LogLayer", "this crate"];
    for _ in 0..rounds {
        for (i, dispatch) in [&anchor, &ours].into_iter().enumerate() {
            let start = process_usage();
            logs_window_open(i);
            in_request(dispatch, || {
                for n in 0..logs {
                    log();
                    if n % pace == pace - 1 && i == 1 {
                        guard.flush(Duration::from_secs(30));
                    }
                }
            });
            if i == 0 {
                if let Some(client) = sentry::Hub::main().client() {
                    client.flush(Some(Duration::from_secs(30)));
                }
            } else {
                guard.flush(Duration::from_secs(30));
            }
            logs_window_close(i);
            let end = process_usage();
            let per = |d: Duration| d.as_nanos() as f64 / f64::from(logs);
            let (user, system) = (per(end.user - start.user), per(end.system - start.system));
            println!(
                "  {}: {:.0} ns per log (user {user:.0}, system {system:.0}), {:.3} context \
                 switches per log",
                names[i],
                user + system,
                (end.switches - start.switches) as f64 / f64::from(logs)
            );
            runs[i].push(user + system);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (anchor_ns, ours_ns) = (median(&mut runs[0]), median(&mut runs[1]));
    // For benches/report.py: the whole-process figures of this run.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let _ = (!varied).then(|| std::fs::write(
        dir.join("logs_total.json"),
        format!(
            r#"{{"logs": {logs}, "sentry_tracing_ns": {anchor_ns:.1}, "this_crate_ns": {ours_ns:.1}}}"#
        ),
    ));
    let stats = guard.stats();
    println!(
        "total CPU per log (all threads, {logs} logs{}, median of {rounds}): sentry-tracing LogLayer \
         {anchor_ns:.0} ns, this crate {ours_ns:.0} ns, ratio {:.2} (logs dropped: {})",
        if varied { ", a new message each" } else { "" },
        ours_ns / anchor_ns,
        stats.logs_dropped
    );
}

criterion_group!(benches, calling_thread, total_cpu);
criterion_main!(benches);
