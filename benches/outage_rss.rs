//! Resident memory through a long Sentry outage with the disk spool on (issue 27): a
//! service's stream of error reports against an endpoint that refuses connections, with
//! VmRSS (`/proc/self/status`) sampled at intervals. Memory must stay flat: what cannot
//! be sent waits on disk (bounded by the spool's limits), not in memory.
//!
//! Time is compressed: `OUTAGE_SECS` (default 600, the 10 minutes) of a service
//! logging `ERRORS_PER_SEC` errors a second (default 100, of 50 tenants, from 4 threads)
//! run `COMPRESS` times faster (default 10: 1,000 errors a second for 60 s). Every report
//! is reported (flood control off), and the spool holds at most `SPOOL_FILES` files
//! (default 2,000), so it fills to its bound and evicts within the run. Writes
//! target/criterion/outage_rss.json for benches/report.py.
//!
//! `cargo bench --bench outage_rss`

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_subscriber::prelude::*;

const TENANTS: u64 = 50;
const THREADS: u64 = 4;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

/// Files and bytes in the spool directory (all DSN subdirectories).
fn spool_usage(dir: &std::path::Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            files += 1;
            bytes += file.metadata().map_or(0, |m| m.len());
        }
    }
    (files, bytes)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let outage = env_u64("OUTAGE_SECS", 600);
    let rate = env_u64("ERRORS_PER_SEC", 100);
    let compress = env_u64("COMPRESS", 10);
    let real = Duration::from_secs_f64(outage as f64 / compress as f64);
    let sample_every = Duration::from_secs(2).min(real / 10);
    let total = outage * rate;
    let spool_files = env_u64("SPOOL_FILES", 2_000) as usize;

    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let spool = common::BenchDir::new("outage-rss");
    let (layer, guard) = tracing_error_reports::init(
        tracing_error_reports::Config::builder()
            .dsn(format!("http://key@{refused}/1"))
            .traces_sample_rate(0.0)
            .install_panic_hook(false)
            .spool_dir(&spool.0)
            .spool_limits(spool_files, 64 * 1024 * 1024)
            // Every error a report: the worst case for memory.
            .flood_limit(None)
            .build()
            .expect("valid config"),
    );
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    let start = Instant::now();
    let logged = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let dispatch = dispatch.clone();
            let logged = logged.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    // Each thread its share of the stream, paced to the compressed rate.
                    let mine = total / THREADS;
                    let per = real.as_secs_f64() / mine as f64;
                    for i in 0..mine {
                        let due = start + Duration::from_secs_f64(per * i as f64);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let n = i * THREADS + t;
                        let span = tracing::info_span!(
                            "request",
                            tenant_id = n % TENANTS,
                            route = "/orders"
                        );
                        let _entered = span.enter();
                        tracing::info!(order_id = n, "loading order");
                        tracing::error!(
                            order_id = n,
                            attempt = 1,
                            "payment {n} failed: upstream refused the charge"
                        );
                        logged.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
        })
        .collect();

    let mut samples = Vec::new();
    let mut next = start;
    loop {
        let finished = threads.iter().all(|t| t.is_finished());
        let now = Instant::now();
        if now >= next || finished {
            let elapsed = now - start;
            let (files, bytes) = spool_usage(&spool.0);
            samples.push((
                elapsed.as_secs_f64() * compress as f64,
                logged.load(Ordering::Relaxed),
                rss_mib(),
                files,
                bytes,
            ));
            next += sample_every;
        }
        if finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(50).min(next.saturating_duration_since(now)));
    }
    for t in threads {
        let _ = t.join();
    }
    let stats = guard.stats();

    // After the first sample (warm-up: threads, runtime, first reports), RSS must not grow.
    let warm = samples
        .iter()
        .skip(samples.len() / 10)
        .map(|s| s.2)
        .collect::<Vec<_>>();
    let first = warm.first().copied().unwrap_or(0.0);
    let max = warm.iter().copied().fold(0.0, f64::max);
    let last = warm.last().copied().unwrap_or(0.0);
    println!("simulated s | errors logged | RSS MiB | spool files | spool bytes");
    for (t, n, rss, files, bytes) in &samples {
        println!("{t:>11.0} | {n:>13} | {rss:>7.1} | {files:>11} | {bytes:>11}");
    }
    println!(
        "outage {outage} s at {rate} errors/s, run {compress}x faster ({:.0} s): RSS after warm-up \
         {first:.1} -> {last:.1} MiB (max {max:.1}); stats: queued {}, dropped at the queue {}, \
         spooled {}, spool written {}, evicted {}, write_failed {}, failed {}, suppressed {}",
        real.as_secs_f64(),
        stats.queued,
        stats.dropped_queue_full + stats.dropped_in_transport,
        stats.spooled,
        stats.spool.written,
        stats.spool.evicted,
        stats.spool.write_failed,
        stats.failed,
        stats.suppressed,
    );
    let json = format!(
        "{{\"outage_secs\": {outage}, \"errors_per_sec\": {rate}, \"compress\": {compress}, \
         \"errors\": {total}, \"rss_first_mib\": {first:.2}, \"rss_last_mib\": {last:.2}, \
         \"rss_max_mib\": {max:.2}, \"queued\": {}, \"dropped\": {}, \"spooled\": {}, \
         \"evicted\": {}, \"samples\": [{}]}}",
        stats.queued,
        stats.dropped_queue_full + stats.dropped_in_transport,
        stats.spooled,
        stats.spool.evicted,
        samples
            .iter()
            .map(|(t, n, rss, files, bytes)| format!("[{t:.0}, {n}, {rss:.2}, {files}, {bytes}]"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("outage_rss.json"), &json).expect("write outage_rss.json");
    // Not dropped: the guard's shutdown would wait for the refusing endpoint.
    std::mem::forget(guard);
    drop(spool);
    std::process::exit(0);
}
