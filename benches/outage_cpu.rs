//! The calling thread's CPU per error report at a service's pace (issue 27): Sentry
//! healthy, refusing connections, or accepting them and never answering, each without
//! and with the disk spool, all in one run. Unlike `layer`'s `error_event_endpoint`
//! (a tight loop, where every case soon drops at a full queue), the errors come at
//! `ERRORS_PER_SEC` (default 2,000, a busy service) in bursts of 20, so a healthy
//! pipeline keeps up and each report takes the path a service's reports take: queued.
//! Only the bursts are timed, in CPU time of the calling thread; the pauses are not.
//! Each case runs in a fresh process (3 rounds, interleaved; medians).
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

const CASES: [&str; 6] = [
    "healthy",
    "refused",
    "hanging",
    "healthy_spool",
    "refused_spool",
    "hanging_spool",
];
/// Each case runs this many times, interleaved; the median is kept.
const ROUNDS: usize = 3;

/// Runs one case in this process and prints its figure (`<name> <ns>`).
fn run_case(name: &str, rate: u64) {
    let healthy = SentryReceiver::start().expect("receiver");
    healthy.set_behaviour(if name.starts_with("hanging") {
        Behaviour::Hang
    } else {
        Behaviour::Healthy
    });
    let dsn = if name.starts_with("refused") {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        format!("http://key@{port}/1")
    } else {
        healthy.dsn()
    };
    let spool = name
        .ends_with("_spool")
        .then(|| common::BenchDir::new(name));
    let dispatch = common::with_this_crate_at(&dsn, spool.as_ref().map(|d| d.0.as_path()));
    let ns = paced(&dispatch, rate);
    println!("case {name} {ns:.1}");
    // The leaked pipeline would still try to send (and write) at exit.
    drop(spool);
    std::process::exit(0);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rate = env_u64("ERRORS_PER_SEC", 2_000);
    // Each case in a process of its own: in one process, a case ran after others was
    // slower by what the earlier ones left (threads still draining, a grown heap), up to
    // 2x, whatever its endpoint did.
    if let Ok(case) = std::env::var("OUTAGE_CASE") {
        run_case(&case, rate);
        return;
    }
    let exe = std::env::current_exe().expect("this bench's path");
    let mut figures: Vec<Vec<f64>> = vec![Vec::new(); CASES.len()];
    for _ in 0..ROUNDS {
        for (i, case) in CASES.iter().enumerate() {
            let out = std::process::Command::new(&exe)
                .env("OUTAGE_CASE", case)
                .stderr(std::process::Stdio::null())
                .output()
                .expect("run a case");
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(ns) = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("case {case} ")))
                .and_then(|v| v.trim().parse::<f64>().ok())
            {
                figures[i].push(ns);
            }
        }
    }
    let results: Vec<(&str, f64)> = CASES
        .iter()
        .zip(figures)
        .map(|(name, mut v)| {
            v.sort_by(f64::total_cmp);
            (*name, v.get(v.len() / 2).copied().unwrap_or(f64::NAN))
        })
        .collect();
    let healthy_ns = results[0].1;
    println!(
        "{ERRORS} errors at {rate}/s in bursts of {BURST}, calling-thread CPU per error \
         (median of {ROUNDS} processes per case):"
    );
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
