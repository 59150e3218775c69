//! Delivery throughput: error reports per second through this crate's own HTTP
//! transport to a loopback endpoint that answers `200` at once (a minimal axum server
//! that counts envelopes and parses nothing), end to end: logged on the calling thread,
//! converted and scrubbed on the worker, posted by the HTTP thread.
//!
//! `DELIVERY_REPORTS` (default 20,000) error events are logged in one burst into queues
//! that hold them all (flood control off, queues twice the burst: one tenant fills half), then the guard flushes; the rate is the
//! reports delivered over the wall time from the first event to the end of the flush.
//! Wall time: on a shared machine the figure moves with the load (the run's load average
//! is printed). Writes target/criterion/delivery.json for benches/report.py.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use tracing_subscriber::prelude::*;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let reports: u64 = std::env::var("DELIVERY_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let received = Arc::new(AtomicU64::new(0));
    let counted = received.clone();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    let app = axum::Router::new().route(
        "/api/{project}/envelope/",
        post(move |_body: axum::body::Bytes| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::OK
            }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await });

    let config = tracing_error_reports::Config::builder()
        .dsn(format!("http://public@{addr}/1"))
        .traces_sample_rate(0.0)
        .install_panic_hook(false)
        .flood_limit(None)
        // Twice the burst: one tenant may fill only half of a queue (tenant-fair admission).
        .queue_capacity(std::num::NonZeroUsize::new(2 * reports as usize).expect("not zero"))
        .build()
        .expect("valid config");
    let (layer, guard) = tracing_error_reports::init(config);
    let subscriber = tracing_subscriber::registry().with(layer);
    let start = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", tenant_id = "acme", route = "/orders");
        let _entered = span.enter();
        for order in 0..reports {
            tracing::error!(order, "payment provider returned 502");
        }
    });
    let logged = start.elapsed();
    let flushed = guard.flush(Duration::from_secs(600));
    let elapsed = start.elapsed();
    let stats = guard.stats();
    let per_second = stats.delivered as f64 / elapsed.as_secs_f64();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "delivered {} of {reports} reports (failed {}, dropped {}, server counted {}) in {:.2} s \
         (logging took {:.2} s, flushed: {flushed}): {per_second:.0} reports/s; load average {}",
        stats.delivered,
        stats.failed,
        stats.dropped_queue_full + stats.dropped_in_transport,
        received.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        logged.as_secs_f64(),
        load.split_whitespace().next().unwrap_or("?"),
    );
    // CPU of this crate's threads (worker, HTTP; their names are cut to 15 bytes, so
    // one sum) and of the server's, per report: what a core could deliver, whatever else
    // the machine runs.
    let crate_ns: u64 = thread_cpu_ns()
        .iter()
        .filter(|(name, _)| name.starts_with("tracing-error"))
        .map(|(_, ns)| ns)
        .sum();
    let per_report_us = crate_ns as f64 / stats.delivered.max(1) as f64 / 1000.0;
    println!(
        "worker and HTTP threads: {per_report_us:.2} µs CPU per report delivered ({:.0} \
         reports/s per core they use)",
        1e6 / per_report_us
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let json = format!(
        "{{\"reports\": {reports}, \"delivered\": {}, \"seconds\": {:.4}, \"per_second\": {per_second:.1}, \"crate_threads_us_per_report\": {per_report_us:.3}}}",
        stats.delivered,
        elapsed.as_secs_f64()
    );
    std::fs::write(dir.join("delivery.json"), json).expect("write delivery.json");
}

/// Each thread of this process: its name and CPU time (user + system) in nanoseconds,
/// from `/proc/self/task/*/stat` (Linux; empty elsewhere).
fn thread_cpu_ns() -> Vec<(String, u64)> {
    // Clock ticks are 100 Hz on every Linux this runs on (`getconf CLK_TCK`).
    const NS_PER_TICK: u64 = 10_000_000;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: fields after the closing parenthesis.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3.
        let ticks = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        out.push((name, (ticks(11) + ticks(12)) * NS_PER_TICK));
    }
    out
}
