//! No accepted report lost at a normal exit (issue 24, item 3). Each scenario is a CLI
//! run as a child process of this one (this binary again, without the test harness, so
//! that `main` and `process::exit` are the real ones): it logs three errors, then ends
//! through `std::process::exit(2)` with its guard alive, or by returning from `main`
//! after dropping its guard at once (`let (layer, _) = init(..)`). The loopback
//! receiver must hold the three reports when the child has exited. Against a Sentry that
//! refuses connections or never answers, the child still exits (a generous hang guard,
//! no timing assertion) and says so in exactly one stderr line.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracing_error_reports::testing::{Behaviour, SentryReceiver};
use tracing_error_reports::Config;
use tracing_subscriber::prelude::*;

const CHILD: &str = "EXIT_TEST_CHILD";
const DSN: &str = "EXIT_TEST_DSN";
/// Only a hung exit fails on time.
const HANG_GUARD: Duration = Duration::from_secs(90);

fn main() {
    if let Ok(mode) = std::env::var(CHILD) {
        return child(&mode);
    }
    let tests: &[(&str, fn())] = &[
        (
            "process_exit_delivers_every_report",
            process_exit_delivers_every_report,
        ),
        (
            "process_exit_delivers_the_release_health_sessions",
            process_exit_delivers_the_release_health_sessions,
        ),
        (
            "process_exit_counts_a_failed_request_still_open",
            process_exit_counts_a_failed_request_still_open,
        ),
        (
            "dropped_guard_delivers_every_report",
            dropped_guard_delivers_every_report,
        ),
        (
            "unreachable_sentry_is_said_once",
            unreachable_sentry_is_said_once,
        ),
        (
            "unreachable_sentry_with_the_guard_kept_is_said_once",
            unreachable_sentry_with_the_guard_kept_is_said_once,
        ),
        (
            "hanging_sentry_ends_the_exit_and_is_said_once",
            hanging_sentry_ends_the_exit_and_is_said_once,
        ),
        (
            "a_report_outside_any_request_is_said_once",
            a_report_outside_any_request_is_said_once,
        ),
        #[cfg(feature = "opentelemetry")]
        (
            "jobs_sharing_an_opentelemetry_trace_are_said_and_detached_jobs_are_not",
            jobs_sharing_an_opentelemetry_trace_are_said_and_detached_jobs_are_not,
        ),
        (
            "color_eyre_installed_after_init_is_said",
            color_eyre_installed_after_init_is_said,
        ),
        (
            "a_panic_prints_stds_lines_scrubbed",
            a_panic_prints_stds_lines_scrubbed,
        ),
        (
            "a_panic_with_reporting_off_prints_stds_lines_scrubbed",
            a_panic_with_reporting_off_prints_stds_lines_scrubbed,
        ),
        (
            "scrub_panic_output_false_keeps_the_raw_message",
            scrub_panic_output_false_keeps_the_raw_message,
        ),
    ];
    for (name, test) in tests {
        test();
        println!("test {name} ... ok");
    }
    println!("exit: {} passed, 0 failed", tests.len());
}

// ---- the child: a small CLI -------------------------------------------------------

#[derive(Debug)]
struct ImportError {
    file: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not import {}", self.file)
    }
}

impl std::error::Error for ImportError {}

#[tracing::instrument(err)]
fn import(file: &str) -> Result<(), ImportError> {
    Err(ImportError {
        file: file.to_owned(),
    })
}

/// A GitHub token, as the README's demo plants one in a panic message.
const TOKEN: &str = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

/// A customer number only the project's PiiConfig (the child's [`CUSTOMER_RULE`]) removes.
const CUSTOMER: &str = "KN-2024-12345";
const CUSTOMER_RULE: &str = r#"{"rules":{"customer":{"type":"pattern","pattern":"KN-[0-9]{4}-[0-9]{5}",
    "redaction":{"method":"replace","text":"[customer]"}}},"applications":{"$string":["customer"]}}"#;

fn child(mode: &str) {
    let dsn = std::env::var(DSN).expect("the parent passes a DSN");
    // An empty DSN: reporting off, as with `SENTRY_DSN` unset.
    let builder = match dsn.as_str() {
        "" => Config::builder(),
        dsn => Config::builder().dsn(dsn),
    };
    let config = builder
        .release("exit-cli@1.0.0")
        .shutdown_timeout(Duration::from_secs(1))
        // A debug build's first panic resolves symbols for most of the default 2 s on a
        // loaded machine (README, "Use it in a CLI").
        .panic_flush_timeout(Duration::from_secs(10))
        .scrub_panic_output(mode != "raw_panic")
        .pii_config_json(CUSTOMER_RULE)
        .build()
        .expect("valid config");
    match mode {
        // A service's request, then two errors on a thread outside any request.
        "no_request" => {
            let (layer, _guard) = tracing_error_reports::init(config);
            install(layer);
            let request = tracing::info_span!("request", tenant_id = "acme");
            request.in_scope(|| tracing::info!("handling"));
            for _ in 0..2 {
                std::thread::spawn(|| tracing::error!("export query failed"))
                    .join()
                    .expect("thread");
            }
        }
        // A worker's jobs with tracing-opentelemetry in the subscriber: under the worker
        // span (one OpenTelemetry trace), or with `parent: None` and `follows_from`.
        #[cfg(feature = "opentelemetry")]
        "otel_jobs" | "otel_detached_jobs" => {
            use opentelemetry::trace::TracerProvider as _;
            let (layer, _guard) = tracing_error_reports::init(config);
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("jobs")))
                .with(layer)
                .init();
            let worker = tracing::info_span!("worker");
            let _worker = worker.enter();
            for tenant in ["acme", "globex", "initech"] {
                let job = if mode == "otel_jobs" {
                    tracing::info_span!("job", tenant_id = tenant)
                } else {
                    let job = tracing::info_span!(parent: None, "job", tenant_id = tenant);
                    job.follows_from(&worker);
                    job
                };
                job.in_scope(|| tracing::error!("job failed"));
            }
        }
        // color-eyre installed after `init` replaces its panic hook.
        "eyre_after_init" => {
            let (layer, _guard) = tracing_error_reports::init(config);
            install(layer);
            color_eyre::install().expect("color-eyre installed");
        }
        // The README's demo: a panic whose message holds a token, on the main thread.
        "panic" | "raw_panic" => {
            let (layer, _guard) = tracing_error_reports::init(config);
            install(layer);
            let total: u64 = std::env::args().count() as u64;
            panic!("invoice total overflowed at {total}; token={TOKEN} customer {CUSTOMER}");
        }
        // The guard is kept, but `process::exit` never drops it.
        "exit" => {
            let (layer, _guard) = tracing_error_reports::init(config);
            install(layer);
            import_three();
            std::process::exit(2);
        }
        // Three requests that went well, counted for release health only (no report).
        "sessions_exit" => {
            let (layer, _guard) = tracing_error_reports::init(
                Config::builder()
                    .dsn(dsn)
                    .release("exit-cli@1.0.0")
                    .auto_session_tracking(true)
                    .build()
                    .expect("valid config"),
            );
            install(layer);
            for user in ["u1", "u2", "u3"] {
                tracing::info_span!("request", user_id = user)
                    .in_scope(|| tracing::info!("handled"));
            }
            std::process::exit(0);
        }
        // At exit: one request answered, one still open after an error, one still open
        // without (a connection span, say).
        "sessions_open_exit" => {
            let (layer, _guard) = tracing_error_reports::init(
                Config::builder()
                    .dsn(dsn)
                    .release("exit-cli@1.0.0")
                    .auto_session_tracking(true)
                    .build()
                    .expect("valid config"),
            );
            install(layer);
            tracing::info_span!("request", user_id = "u1").in_scope(|| tracing::info!("handled"));
            let failing = tracing::info_span!("request", user_id = "u2");
            let _failing = failing.enter();
            tracing::error!("the database is gone");
            let open = tracing::info_span!("connection", user_id = "u3");
            let _open = open.enter();
            std::process::exit(0);
        }
        // The guard is dropped at once; `main` returns normally.
        "dropped_guard" => {
            let (layer, _) = tracing_error_reports::init(config);
            install(layer);
            import_three();
        }
        // The guard is kept and dropped at the end of `main`.
        "kept_guard" => {
            let (layer, guard) = tracing_error_reports::init(config);
            install(layer);
            import_three();
            drop(guard);
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn install(layer: Option<tracing_error_reports::ErrorReportLayer>) {
    tracing_subscriber::registry()
        .with(layer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .init();
}

fn import_three() {
    for file in ["a.csv", "b.csv", "c.csv"] {
        let _ = import(file);
    }
}

// ---- the parent -------------------------------------------------------------------

struct Ended {
    code: Option<i32>,
    stderr: String,
}

impl Ended {
    /// The crate's lines about undelivered reports.
    fn undelivered_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains("tracing-error-reports") && l.contains("not delivered"))
            .collect()
    }
}

fn run_child(mode: &str, dsn: &str) -> Ended {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD, mode)
        .env(DSN, dsn)
        .env_remove("SENTRY_DSN")
        // The short backtrace std prints, whatever the harness's environment says.
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child starts");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("the {mode} child did not exit within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ended {
        code: status.code(),
        stderr: reader.join().expect("stderr read"),
    }
}

/// A DSN whose port nothing listens on (connections are refused).
fn refused_dsn() -> (String, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    (format!("http://publickey@127.0.0.1:{port}/1"), port)
}

fn process_exit_delivers_every_report() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("exit", &receiver.dsn());
    assert_eq!(ended.code, Some(2), "stderr: {}", ended.stderr);
    // Delivered means answered: the receiver recorded them before the child exited.
    let events = receiver.events();
    assert_eq!(
        events.len(),
        3,
        "reports at the receiver; stderr: {}",
        ended.stderr
    );
    let mut messages: Vec<String> = events
        .iter()
        .flat_map(|e| e.exception.values.iter().filter_map(|x| x.value.clone()))
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "could not import a.csv",
            "could not import b.csv",
            "could not import c.csv"
        ]
    );
    assert!(
        ended.undelivered_lines().is_empty(),
        "stderr: {}",
        ended.stderr
    );
}

/// Sessions counted but not yet sent (due every 60 s) go out at `process::exit`, though
/// no report was made.
fn process_exit_delivers_the_release_health_sessions() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("sessions_exit", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    let aggregates: Vec<_> = receiver
        .received()
        .into_iter()
        .filter_map(|r| r.envelope.ok())
        .flat_map(|e| e.into_items())
        .filter_map(|item| match item {
            sentry::protocol::EnvelopeItem::SessionAggregates(a) => Some(a),
            _ => None,
        })
        .collect();
    let exited: u32 = aggregates
        .iter()
        .flat_map(|a| &a.aggregates)
        .map(|a| a.exited)
        .sum();
    assert_eq!(exited, 3, "{aggregates:?}; stderr: {}", ended.stderr);
    assert_eq!(aggregates[0].attributes.release, "exit-cli@1.0.0");
}

/// A request that failed and is still open at `process::exit` is counted (`errored`,
/// with its user); one still open without a failure is not (it cannot be told from a
/// connection span that never closes).
fn process_exit_counts_a_failed_request_still_open() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("sessions_open_exit", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    let buckets: Vec<_> = receiver
        .received()
        .into_iter()
        .filter_map(|r| r.envelope.ok())
        .flat_map(|e| e.into_items())
        .filter_map(|item| match item {
            sentry::protocol::EnvelopeItem::SessionAggregates(a) => Some(a),
            _ => None,
        })
        .flat_map(|a| a.aggregates)
        .map(|a| (a.distinct_id, a.exited, a.errored, a.crashed))
        .collect();
    let mut buckets = buckets;
    buckets.sort();
    assert_eq!(
        buckets,
        [
            (Some("u1".to_owned()), 1, 0, 0),
            (Some("u2".to_owned()), 0, 1, 0)
        ],
        "stderr: {}",
        ended.stderr
    );
}

fn dropped_guard_delivers_every_report() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("dropped_guard", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    assert_eq!(receiver.events().len(), 3, "stderr: {}", ended.stderr);
    assert!(
        ended.undelivered_lines().is_empty(),
        "stderr: {}",
        ended.stderr
    );
}

fn unreachable_sentry_is_said_once() {
    let (dsn, port) = refused_dsn();
    let ended = run_child("exit", &dsn);
    assert_eq!(ended.code, Some(2), "stderr: {}", ended.stderr);
    let lines = ended.undelivered_lines();
    assert_eq!(lines.len(), 1, "stderr: {}", ended.stderr);
    let line = lines[0];
    assert!(
        line.contains("3 of 3 error reports not delivered"),
        "{line}"
    );
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(line.contains("could not connect"), "{line}");
}

fn unreachable_sentry_with_the_guard_kept_is_said_once() {
    let (dsn, _) = refused_dsn();
    let ended = run_child("kept_guard", &dsn);
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    // The guard's drop says it; the exit hook does not say it again.
    let lines = ended.undelivered_lines();
    assert_eq!(lines.len(), 1, "stderr: {}", ended.stderr);
    assert!(lines[0].contains("3 failed"), "{}", lines[0]);
}

fn hanging_sentry_ends_the_exit_and_is_said_once() {
    let receiver = SentryReceiver::start().expect("receiver");
    receiver.set_behaviour(Behaviour::Hang);
    let ended = run_child("exit", &receiver.dsn());
    assert_eq!(ended.code, Some(2), "stderr: {}", ended.stderr);
    let lines = ended.undelivered_lines();
    assert_eq!(lines.len(), 1, "stderr: {}", ended.stderr);
    assert!(
        lines[0].contains("still pending after the shutdown timeout (1s)"),
        "{}",
        lines[0]
    );
}

fn a_panic_prints_stds_lines_scrubbed() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("panic", &receiver.dsn());
    assert_eq!(
        ended.code,
        Some(101),
        "a panic's exit code; stderr: {}",
        ended.stderr
    );
    assert!(
        !ended.stderr.contains(TOKEN) && !ended.stderr.contains(CUSTOMER),
        "the token or the customer number reached stderr: {}",
        ended.stderr
    );
    assert!(
        ended.stderr.contains("customer [customer]"),
        "{}",
        ended.stderr
    );
    // std's lines, with the message scrubbed.
    // As std 1.95 prints it: the name, the OS thread id, the location.
    let line = ended
        .stderr
        .lines()
        .find(|l| l.starts_with("thread 'main' ("))
        .unwrap_or_default();
    assert!(
        line.contains(") panicked at tests/exit.rs:"),
        "stderr: {}",
        ended.stderr
    );
    // RUST_BACKTRACE=1: std's short form, which starts below the panic machinery, so
    // none of the hooks' frames (this crate's or sentry-backtrace's) show.
    assert!(
        ended.stderr.contains("stack backtrace:")
            && ended.stderr.contains("Some details are omitted")
            && !ended.stderr.contains("tracing_error_reports::panic")
            && !ended.stderr.contains("panic_with_hook"),
        "stderr: {}",
        ended.stderr
    );
    assert!(
        ended
            .stderr
            .contains("invoice total overflowed at 1; token="),
        "stderr: {}",
        ended.stderr
    );
    let events = receiver.events();
    assert_eq!(events.len(), 1, "the panic's report");
    let raw = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    assert!(!raw.contains(TOKEN), "the token reached Sentry");
    assert!(
        !raw.contains(CUSTOMER),
        "the customer number reached Sentry"
    );
}

/// Reporting off (no DSN): nothing is reported, but std's lines are still scrubbed.
fn a_panic_with_reporting_off_prints_stds_lines_scrubbed() {
    let ended = run_child("panic", "");
    assert_eq!(ended.code, Some(101), "stderr: {}", ended.stderr);
    assert!(
        !ended.stderr.contains(TOKEN),
        "the token reached stderr: {}",
        ended.stderr
    );
    assert!(
        ended
            .stderr
            .contains("invoice total overflowed at 1; token="),
        "stderr: {}",
        ended.stderr
    );
}

fn scrub_panic_output_false_keeps_the_raw_message() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("raw_panic", &receiver.dsn());
    assert_eq!(ended.code, Some(101), "stderr: {}", ended.stderr);
    // std's own hook ran, as before.
    assert!(ended.stderr.contains(TOKEN), "stderr: {}", ended.stderr);
    assert_eq!(receiver.events().len(), 1, "the panic's report");
}

fn a_report_outside_any_request_is_said_once() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("no_request", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    assert_eq!(receiver.events().len(), 2);
    let told: Vec<&str> = ended
        .stderr
        .lines()
        .filter(|l| l.contains("outside any request") && l.contains("carry_request"))
        .collect();
    assert_eq!(told.len(), 1, "stderr: {}", ended.stderr);
}

fn color_eyre_installed_after_init_is_said() {
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("eyre_after_init", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    let told = ended
        .stderr
        .lines()
        .filter(|l| l.contains("panic hook `init` installed was replaced"))
        .count();
    assert_eq!(told, 1, "stderr: {}", ended.stderr);
    // Not said when nothing replaced it.
    let ended = run_child("kept_guard", &receiver.dsn());
    assert!(
        !ended.stderr.contains("was replaced"),
        "stderr: {}",
        ended.stderr
    );
}

#[cfg(feature = "opentelemetry")]
fn jobs_sharing_an_opentelemetry_trace_are_said_and_detached_jobs_are_not() {
    let trace_ids = |receiver: &SentryReceiver| {
        let mut ids: Vec<String> = receiver
            .events()
            .iter()
            .filter_map(|e| match e.contexts.get("trace") {
                Some(sentry::protocol::Context::Trace(trace)) => Some(trace.trace_id.to_string()),
                _ => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let said = |ended: &Ended| {
        ended
            .stderr
            .lines()
            .filter(|l| l.contains("shares its OpenTelemetry trace id"))
            .count()
    };
    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("otel_jobs", &receiver.dsn());
    assert_eq!(ended.code, Some(0), "stderr: {}", ended.stderr);
    assert_eq!(receiver.events().len(), 3);
    assert_eq!(
        trace_ids(&receiver).len(),
        1,
        "three tenants' jobs in one trace"
    );
    assert_eq!(said(&ended), 1, "stderr: {}", ended.stderr);

    let receiver = SentryReceiver::start().expect("receiver");
    let ended = run_child("otel_detached_jobs", &receiver.dsn());
    assert_eq!(receiver.events().len(), 3);
    assert_eq!(trace_ids(&receiver).len(), 3, "one trace per job");
    assert_eq!(said(&ended), 0, "stderr: {}", ended.stderr);
}
