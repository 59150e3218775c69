//! Whole-process CPU of a service-shaped workload: every thread counted, this crate's
//! worker (conversion, scrubbing) included. Writes target/criterion/total_cpu.json for
//! benches/report.py.
//!
//! The workload: `REQUESTS` requests, each a root span with a formatted `tenant_id`
//! (`%`, a `Display` value), `user_id`, `request` and `route`, 20 info events with 3
//! fields, a child span with 5 warn events, and, every `N`th request, an error event with
//! a 2-deep `source()` chain (N = none, 10, 1).
//!
//! Both sides hand every envelope to a transport that serialises it to its wire bytes and
//! drops them (`common::SerialiseAndDrop`), as an HTTP transport would before sending:
//! the bytes are paid for on both sides (`TOTAL_CPU_SERIALISE=0`: not serialised).
//!
//! Each (subscriber, N) runs in a fresh child process (this binary, re-executed), several
//! times, interleaved; the median is reported. A child measures `getrusage(RUSAGE_SELF)`
//! (all threads) and `getrusage(RUSAGE_THREAD)` (the calling thread) around the requests,
//! after a warm-up, and after flushing this crate's worker, so every report is converted,
//! scrubbed and handed to the (discarding) transport inside the measured window.
//!
//! Environment: `TOTAL_CPU_REPS` (default 7), `TOTAL_CPU_REQUESTS` (default 20000),
//! `TOTAL_CPU_ONLY` (run one subscriber: floor, sentry_tracing, this_crate),
//! `TOTAL_CPU_SERIALISE` (default 1), `TOTAL_CPU_PROFILE=1` (a child skips timing the
//! scrubber alone, so a profiler sees only the workload: `TOTAL_CPU_PROFILE=1
//! TOTAL_CPU_CHILD=this_crate:1 valgrind --tool=callgrind <bench binary>`).

mod common;

use std::error::Error;
use std::fmt;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_subscriber::prelude::*;

const CHILD_ENV: &str = "TOTAL_CPU_CHILD";
const WARM_UP: u64 = 500;
const SUBSCRIBERS: [&str; 3] = ["floor", "sentry_tracing", "this_crate"];
/// Error every N requests; 0 = never.
const ERROR_EVERY: [u64; 3] = [0, 10, 1];

#[derive(Debug)]
struct Timeout;
impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection to db.internal:5432 timed out after 5s")
    }
}
impl Error for Timeout {}

#[derive(Debug)]
struct QueryFailed(Timeout);
impl fmt::Display for QueryFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("query on table orders failed")
    }
}
impl Error for QueryFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[derive(Debug)]
struct CheckoutFailed(QueryFailed);
impl fmt::Display for CheckoutFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checkout failed")
    }
}
impl Error for CheckoutFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

/// Size of the first envelope on the wire, serialised once: the size of one report.
static REPORT_BYTES: AtomicUsize = AtomicUsize::new(0);
/// The first report as it reached the transport, to time the scrubber on its own.
static FIRST_REPORT: std::sync::Mutex<Option<sentry::protocol::Event<'static>>> =
    std::sync::Mutex::new(None);

/// Serialises each envelope (unless `TOTAL_CPU_SERIALISE=0`) and drops it, keeping the
/// first one's size and report.
struct SerialiseMeasuringFirst {
    serialise: bool,
}

impl sentry::Transport for SerialiseMeasuringFirst {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        if self.serialise {
            let mut wire = Vec::new();
            let _ = envelope.to_writer(&mut wire);
            std::hint::black_box(wire);
        }
        if REPORT_BYTES.load(Ordering::Relaxed) == 0 {
            let mut wire = Vec::new();
            if envelope.to_writer(&mut wire).is_ok() {
                REPORT_BYTES.store(wire.len(), Ordering::Relaxed);
            }
            if let Some(event) = envelope.event() {
                *FIRST_REPORT.lock().expect("not poisoned") = Some(event.clone());
            }
        }
        std::hint::black_box(envelope);
    }
}

/// A tenant as services log it: a value of their own type, formatted with `%`.
struct Tenant(u64);

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenant-{:04}", self.0)
    }
}

fn request(n: u64, error_every: u64) {
    let span = tracing::info_span!(
        "request",
        tenant_id = %Tenant(n % 16),
        user_id = 4242 + n % 100,
        request = n,
        route = "/api/v1/orders/{order_id}/checkout"
    );
    let _entered = span.enter();
    for step in 0..20 {
        tracing::info!(step, table = "orders", rows = 17, "query done");
    }
    {
        let db = tracing::info_span!("db", pool = "primary");
        let _db = db.enter();
        for attempt in 0..5 {
            tracing::warn!(
                attempt,
                slow_ms = 250,
                query = "select_orders",
                "slow query"
            );
        }
    }
    if error_every != 0 && n.is_multiple_of(error_every) {
        let err = CheckoutFailed(QueryFailed(Timeout));
        tracing::error!(
            error = &err as &(dyn Error + 'static),
            order_id = 4017,
            "request failed"
        );
    }
}

/// CPU time (user + system) in nanoseconds: of the whole process, or the calling thread.
#[cfg(target_os = "linux")]
fn cpu_ns(who: libc::c_int) -> u64 {
    // SAFETY: getrusage writes one rusage to the valid pointer it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}

struct Sample {
    /// CPU of `Scrubber::scrub_envelope` alone on one report (this crate, with errors).
    scrub_ns: u64,
    total_ns: u64,
    thread_ns: u64,
    wall_ns: u64,
    reports: u64,
    lost: u64,
    report_bytes: usize,
}

#[cfg(target_os = "linux")]
fn child(subscriber: &str, error_every: u64, requests: u64) -> Sample {
    let mut guard = None;
    let serialise = env_u64("TOTAL_CPU_SERIALISE", 1) != 0;
    let dispatch = match subscriber {
        "floor" => common::floor(),
        "sentry_tracing" if serialise => common::sentry_tracing_with(common::SerialiseAndDrop),
        "sentry_tracing" => common::sentry_tracing(),
        "this_crate" => {
            // No flood control (sentry-tracing has none: every error is reported), and a
            // queue that holds every report, so none is dropped unmeasured (twice the
            // reports: past half full, tenant-fair admission refuses a tenant its share).
            let config = tracing_error_reports::Config::builder()
                .dsn("https://public@sentry.invalid/1")
                .traces_sample_rate(0.0)
                .install_panic_hook(false)
                .flood_limit(None)
                .queue_capacity(
                    std::num::NonZeroUsize::new(2 * (requests + WARM_UP) as usize)
                        .expect("not zero"),
                )
                .build()
                .expect("valid config");
            let (layer, g) = tracing_error_reports::init_with_transport(
                config,
                Arc::new(Arc::new(SerialiseMeasuringFirst { serialise })),
            );
            guard = Some(g);
            tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
        }
        other => panic!("unknown subscriber {other}"),
    };
    let flush = || {
        if let Some(g) = &guard {
            assert!(g.flush(Duration::from_secs(120)), "flush timed out");
        }
        if let Some(client) = sentry::Hub::main().client() {
            client.flush(Some(Duration::from_secs(120)));
        }
    };
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..WARM_UP {
            request(n, error_every);
        }
    });
    flush();
    common::wait_for_one_time_threads();
    let before = guard.as_ref().map(|g| g.stats());
    let (total0, thread0, wall0) = (
        cpu_ns(libc::RUSAGE_SELF),
        cpu_ns(libc::RUSAGE_THREAD),
        Instant::now(),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..requests {
            request(n, error_every);
        }
    });
    let thread_ns = cpu_ns(libc::RUSAGE_THREAD) - thread0;
    flush();
    let total_ns = cpu_ns(libc::RUSAGE_SELF) - total0;
    let wall_ns = wall0.elapsed().as_nanos() as u64;
    let (reports, lost) = match (before, guard.as_ref().map(|g| g.stats())) {
        (Some(b), Some(a)) => (
            a.handed_to_transport - b.handed_to_transport,
            (a.dropped_queue_full - b.dropped_queue_full) + (a.suppressed - b.suppressed),
        ),
        _ => (0, 0),
    };
    let profiling = env_u64("TOTAL_CPU_PROFILE", 0) != 0;
    Sample {
        scrub_ns: if profiling { 0 } else { scrub_cost() },
        total_ns,
        thread_ns,
        wall_ns,
        reports,
        lost,
        report_bytes: REPORT_BYTES.load(Ordering::Relaxed),
    }
}

/// Calling-thread CPU of scrubbing the first report again, net of cloning and dropping it.
#[cfg(target_os = "linux")]
fn scrub_cost() -> u64 {
    use tracing_error_reports::scrub::{ScrubRules, Scrubber};
    const TIMES: u64 = 1000;
    let Some(event) = FIRST_REPORT.lock().expect("not poisoned").take() else {
        return 0;
    };
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let t0 = cpu_ns(libc::RUSAGE_THREAD);
    for _ in 0..TIMES {
        std::hint::black_box(sentry::Envelope::from(event.clone()));
    }
    let t1 = cpu_ns(libc::RUSAGE_THREAD);
    for _ in 0..TIMES {
        std::hint::black_box(scrubber.scrub_envelope(sentry::Envelope::from(event.clone())));
    }
    let t2 = cpu_ns(libc::RUSAGE_THREAD);
    ((t2 - t1).saturating_sub(t1 - t0)) / TIMES
}

/// Subscriber and error frequency of one configuration.
type Case = (&'static str, u64);
/// Total, calling-thread and wall time per request, and the scrubber's time per report, in ns.
type Measured = [f64; 4];

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(target_os = "linux")]
fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let requests = env_u64("TOTAL_CPU_REQUESTS", 20_000);
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (subscriber, every) = spec.split_once(':').expect("subscriber:every");
        let s = child(subscriber, every.parse().expect("every"), requests);
        println!(
            "{} {} {} {} {} {} {}",
            s.total_ns, s.thread_ns, s.wall_ns, s.reports, s.lost, s.report_bytes, s.scrub_ns
        );
        return;
    }
    let reps = env_u64("TOTAL_CPU_REPS", 7).max(1);
    let only = std::env::var("TOTAL_CPU_ONLY").ok();
    let exe = std::env::current_exe().expect("own path");
    let subscribers: Vec<&'static str> = SUBSCRIBERS
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| o == *s))
        .collect();
    let mut report_bytes = 0;
    let mut samples: Vec<(Case, Vec<Measured>)> = Vec::new();
    for &every in &ERROR_EVERY {
        for &s in &subscribers {
            samples.push(((s, every), Vec::new()));
        }
    }
    for rep in 0..reps {
        for ((subscriber, every), out) in samples.iter_mut() {
            let output = Command::new(&exe)
                .env(CHILD_ENV, format!("{subscriber}:{every}"))
                .output()
                .expect("run child");
            assert!(
                output.status.success(),
                "child {subscriber}:{every} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let line = String::from_utf8_lossy(&output.stdout);
            let v: Vec<u64> = line
                .split_whitespace()
                .map(|x| x.parse().expect("number"))
                .collect();
            let expected = if *every == 0 {
                0
            } else {
                requests.div_ceil(*every)
            };
            if *subscriber == "this_crate" {
                assert_eq!(v[4], 0, "reports dropped or suppressed: not measured");
                assert_eq!(v[3], expected, "every report reached the transport");
                report_bytes = report_bytes.max(v[5]);
            }
            let per = |ns: u64| ns as f64 / requests as f64;
            out.push([per(v[0]), per(v[1]), per(v[2]), v[6] as f64]);
            eprintln!(
                "rep {rep} {subscriber:>14} every={every}: total {:.2} µs/req, calling thread {:.2} µs/req",
                per(v[0]) / 1000.0,
                per(v[1]) / 1000.0
            );
        }
    }
    let mut rows = Vec::new();
    for ((subscriber, every), out) in &samples {
        let col = |i: usize| median(&mut out.iter().map(|s| s[i]).collect::<Vec<_>>());
        let (total, thread, wall, scrub) = (col(0), col(1), col(2), col(3));
        let totals: Vec<f64> = out.iter().map(|s| s[0]).collect();
        let lo = totals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = totals.iter().copied().fold(0.0, f64::max);
        println!(
            "{subscriber:>14} every={every}: total {:.2} µs/req (min {:.2}, max {:.2}), calling thread {:.2} µs/req, wall {:.2} µs/req",
            total / 1000.0,
            lo / 1000.0,
            hi / 1000.0,
            thread / 1000.0,
            wall / 1000.0
        );
        if scrub > 0.0 {
            println!(
                "{subscriber:>14} every={every}: Scrubber::scrub_envelope alone: {:.2} µs per report",
                scrub / 1000.0
            );
        }
        rows.push(format!(
            "{{\"subscriber\": \"{subscriber}\", \"error_every\": {every}, \"total_ns\": {total:.1}, \"total_min_ns\": {lo:.1}, \"total_max_ns\": {hi:.1}, \"thread_ns\": {thread:.1}, \"wall_ns\": {wall:.1}, \"scrub_ns\": {scrub:.1}}}"
        ));
    }
    if report_bytes > 0 {
        println!("one report on the wire (this crate, after scrubbing): {report_bytes} bytes");
    }
    // Marginal CPU of one report: every request erring minus none, per side.
    let total_of = |subscriber: &str, every: u64| {
        samples
            .iter()
            .find(|((s, e), _)| *s == subscriber && *e == every)
            .map(|(_, out)| median(&mut out.iter().map(|m| m[0]).collect::<Vec<_>>()))
    };
    let marginal = |subscriber: &str| Some(total_of(subscriber, 1)? - total_of(subscriber, 0)?);
    if let (Some(ours), Some(theirs)) = (marginal("this_crate"), marginal("sentry_tracing")) {
        println!(
            "marginal CPU per error report: this crate {:.2} µs, sentry-tracing {:.2} µs, ratio {:.3}",
            ours / 1000.0,
            theirs / 1000.0,
            ours / theirs
        );
    }
    let serialise = env_u64("TOTAL_CPU_SERIALISE", 1) != 0;
    let json = format!(
        "{{\"requests\": {requests}, \"reps\": {reps}, \"report_bytes\": {report_bytes}, \"serialised\": {serialise}, \"rows\": [{}]}}",
        rows.join(", ")
    );
    if only.is_none() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(dir.join("total_cpu.json"), &json).expect("write total_cpu.json");
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("total_cpu measures CPU time with getrusage: Linux only");
}
