//! The calling thread's CPU per error report at a service's pace (issue 27): Sentry
//! healthy, refusing connections, or accepting them and never answering, each without
//! and with the disk spool, all in one run. Unlike `layer`'s `error_event_endpoint`
//! (a tight loop, where every case soon drops at a full queue), the errors come at
//! `ERRORS_PER_SEC` (default 2,000, a busy service) in bursts of 20, so a healthy
//! pipeline keeps up and each report takes the path a service's reports take: queued.
//! Only the bursts are timed, in CPU time of the calling thread; the pauses are not.
//! Writes target/criterion/outage_cpu.json for benches/report.py.
//!
//! `cargo bench --bench outage_cpu`

mod common;

use std::time::{Duration, Instant};

use tracing_error_reports::testing::{Behaviour, SentryReceiver};

const BURST: u32 = 20;
const ERRORS: u32 = 6_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

/// Median calling-thread CPU per error, in nanoseconds, of `ERRORS` errors logged in
/// bursts at `rate` a second.
fn paced(dispatch: &tracing::Dispatch, rate: u64) -> f64 {
    let pause = Duration::from_secs_f64(f64::from(BURST) / rate as f64);
    let mut per_error = Vec::new();
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!("request", tenant_id = "acme", route = "/orders");
        let _entered = span.enter();
        let mut next = Instant::now();
        for burst in 0..ERRORS / BURST {
            let start = common::thread_cpu();
            for i in 0..BURST {
                tracing::error!(
                    order_id = burst * BURST + i,
                    attempt = 2,
                    status = "failed",
                    "order failed"
                );
            }
            per_error.push((common::thread_cpu() - start).as_nanos() as f64 / f64::from(BURST));
            next += pause;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    // The first bursts pay for first-use costs (thread-locals, the span's buffers).
    per_error.drain(..per_error.len() / 10);
    per_error.sort_by(f64::total_cmp);
    per_error[per_error.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rate = env_u64("ERRORS_PER_SEC", 2_000);
    let healthy = SentryReceiver::start().expect("receiver");
    let hanging = SentryReceiver::start().expect("receiver");
    hanging.set_behaviour(Behaviour::Hang);
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let refused = format!("http://key@{refused}/1");
    let spools = ["healthy", "refused", "hanging"].map(common::BenchDir::new);
    let cases = [
        ("healthy", healthy.dsn(), None),
        ("refused", refused.clone(), None),
        ("hanging", hanging.dsn(), None),
        ("healthy_spool", healthy.dsn(), Some(&spools[0].0)),
        ("refused_spool", refused, Some(&spools[1].0)),
        ("hanging_spool", hanging.dsn(), Some(&spools[2].0)),
    ];
    let mut results = Vec::new();
    // `OUTAGE_CASES=refused,healthy`: only these (to profile one).
    let only = std::env::var("OUTAGE_CASES").ok();
    for (name, dsn, spool) in &cases {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|c| c == *name))
        {
            continue;
        }
        let dispatch = common::with_this_crate_at(dsn, spool.map(|p| p.as_path()));
        results.push((*name, paced(&dispatch, rate)));
    }
    let healthy_ns = results.first().map_or(1.0, |r| r.1);
    println!("{ERRORS} errors at {rate}/s in bursts of {BURST}, calling-thread CPU per error:");
    for (name, ns) in &results {
        println!("{name:>14}: {ns:>8.1} ns  {:.2}x healthy", ns / healthy_ns);
    }
    let json = format!(
        "{{\"errors\": {ERRORS}, \"errors_per_sec\": {rate}, \"burst\": {BURST}, \"cases\": {{{}}}}}",
        results
            .iter()
            .map(|(name, ns)| format!("\"{name}\": {ns:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("outage_cpu.json"), &json).expect("write outage_cpu.json");
}
