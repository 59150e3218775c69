//! The disk spool (issue 27) with real processes, real files and real HTTP on loopback.
//! Sentry "down" is a port nothing listens on (connections refused); "back" is the
//! loopback receiver bound to that same port later. Processes are this test binary
//! again (`SPOOL_TEST_CHILD` names the part it plays). No timing assertion: only
//! generous hang guards.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sentry::protocol::Event;
use sentry::Envelope;
use tracing_error_reports::testing::{Behaviour, SentryReceiver};
use tracing_error_reports::{Config, ErrorReportLayer, ReportingGuard};
use tracing_subscriber::prelude::*;

const CHILD: &str = "SPOOL_TEST_CHILD";
const DIR: &str = "SPOOL_TEST_DIR";
const DSN: &str = "SPOOL_TEST_DSN";
const COUNT: &str = "SPOOL_TEST_COUNT";
const HOLD: &str = "SPOOL_TEST_HOLD";
/// Set: the "hang" child ends with `std::process::exit(2)` instead of dropping its guard.
const EXIT: &str = "SPOOL_TEST_EXIT";
/// A generous bound: 1,000 envelopes take 10 s at the tests' 10 ms pacing.
const HANG_GUARD: Duration = Duration::from_secs(300);
const TENANTS: u64 = 50;

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "spool-test-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A DSN whose port nothing listens on yet, and that port.
fn down() -> (String, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    (format!("http://publickey@{addr}/1"), addr)
}

fn start(
    dsn: &str,
    dir: &Path,
) -> (
    Option<tracing_error_reports::ErrorReportLayer>,
    ReportingGuard,
) {
    let config = Config::builder()
        .dsn(dsn)
        .spool_dir(dir)
        // 10 ms, not the default 100 ms: 1,000 files drain in 10 s, not 100 s (CI's budget).
        .spool_pacing(Duration::from_millis(10))
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .flood_limit(None)
        .http_timeout(Duration::from_millis(500))
        // Generous for a loaded CI machine: what is not on disk by then is lost.
        .shutdown_timeout(Duration::from_secs(10))
        .build()
        .expect("valid");
    tracing_error_reports::init(config)
}

/// Reports `count` errors as a service does: request tasks of 50 tenants on a tokio
/// runtime, each error marked `job-<n>-` (n from 0, in the order they are logged).
fn report_errors(dispatch: &tracing::Dispatch, first: u64, count: u64) {
    tracing::dispatcher::with_default(dispatch, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            for n in first..first + count {
                let tenant = format!("tenant-{}", n % TENANTS);
                let task = async move {
                    tracing::error!(attempt = 3, "job-{n}- failed: upstream unavailable");
                };
                use tracing::Instrument;
                tokio::spawn(task.instrument(tracing::info_span!("request", tenant_id = %tenant)))
                    .await
                    .expect("task");
            }
        });
    });
}

fn dispatch(layer: Option<ErrorReportLayer>) -> tracing::Dispatch {
    tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
}

fn wait_until(what: &str, guard: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < guard, "hung waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `n` of an event's `job-<n>-` mark.
fn job(event: &Event<'static>) -> Option<u64> {
    let text = serde_json::to_string(event).expect("serialises");
    let start = text.find("job-")? + 4;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Spooled files still to send (unclaimed or claimed), in every DSN's directory.
fn pending_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(".v1.envelope") || name.contains(".v1.envelope.claimed-") {
                files.push(file.path());
            }
        }
    }
    files
}

/// How many times each job arrived.
fn arrivals(events: &[Event<'static>]) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for event in events {
        *seen.entry(job(event).expect("a marked event")).or_insert(0) += 1;
    }
    seen
}

// ---- the children ------------------------------------------------------------------

/// Runs the part named by `SPOOL_TEST_CHILD` when this binary is a child; a no-op test
/// otherwise.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let dsn = std::env::var(DSN).expect("dsn");
    let dir = PathBuf::from(std::env::var(DIR).expect("dir"));
    let count: u64 = std::env::var(COUNT).map_or(0, |c| c.parse().expect("count"));
    let (layer, guard) = start(&dsn, &dir);
    let service = dispatch(layer);
    match mode.as_str() {
        // Sentry down: reports `count` errors, waits until all are spooled, says so;
        // then holds (to be killed) or exits.
        "fill" => {
            report_errors(&service, 0, count);
            wait_until("the spool", HANG_GUARD, || guard.stats().spooled == count);
            println!("SPOOLED {count}");
            if std::env::var(HOLD).is_ok() {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        // Sentry back: waits until nothing is left to send from the spool.
        "drain" => {
            wait_until("the spool to drain", HANG_GUARD, || {
                pending_files(&dir).is_empty()
            });
        }
        // Sentry hangs: reports `count` errors and ends at once, by the guard's drop or
        // by `process::exit(2)` (the exit hook's flush).
        "hang" => {
            report_errors(&service, 0, count);
            println!("STATS {:?}", guard.stats());
            if std::env::var(EXIT).is_ok() {
                std::process::exit(2);
            }
            drop(guard);
            return;
        }
        // Reports `count` errors and flushes (the spool directory may be unusable).
        "report" => {
            report_errors(&service, 0, count);
            guard.flush(Duration::from_secs(5));
        }
        other => panic!("unknown child part {other}"),
    }
    println!("STATS {:?}", guard.stats());
}

fn child(mode: &str, dsn: &str, dir: &Path, count: u64, hold: bool) -> Child {
    child_with(mode, dsn, dir, count, hold, &[])
}

fn child_with(
    mode: &str,
    dsn: &str,
    dir: &Path,
    count: u64,
    hold: bool,
    env: &[(&str, &str)],
) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("own path"));
    command
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env(DSN, dsn)
        .env(DIR, dir)
        .env(COUNT, count.to_string())
        .env_remove("SENTRY_DSN")
        .env_remove("SENTRY_SPOOL_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if hold {
        command.env(HOLD, "1");
    }
    command.envs(env.iter().copied());
    command.spawn().expect("child starts")
}

struct Ended {
    stdout: String,
    stderr: String,
}

impl Ended {
    /// The child's `ReportStats` as its `Debug` text.
    fn stats(&self) -> &str {
        self.stdout
            .lines()
            // The harness prints `test child_entry ... ` before it on the same line.
            .find_map(|l| l.split_once("STATS ").map(|(_, stats)| stats))
            .unwrap_or_else(|| panic!("no stats in {}\n{}", self.stdout, self.stderr))
    }

    fn spool_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains("tracing-error-reports: spool:"))
            .collect()
    }
}

fn finish(child: Child) -> Ended {
    finish_with(child, 0)
}

fn finish_with(mut child: Child, code: i32) -> Ended {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("a child did not exit within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let ended = Ended {
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    };
    assert_eq!(
        status.code(),
        Some(code),
        "child failed: {}\n{}",
        ended.stdout,
        ended.stderr
    );
    ended
}

fn stat(stats: &str, name: &str) -> u64 {
    let start = stats
        .find(&format!(" {name}: "))
        .unwrap_or_else(|| panic!("{name} in {stats}"))
        + name.len()
        + 3;
    stats[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

// ---- the tests ---------------------------------------------------------------------

/// Sentry refuses connections while a service reports 1,000 errors of 50 tenants; it
/// comes back: every error arrives exactly once, from the spool in order of age.
#[test]
fn an_outage_loses_no_error_and_the_spool_sends_them_once_in_order_of_age() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 1000;
    let (dsn, addr) = down();
    let dir = TempDir::new("outage");
    let (layer, guard) = start(&dsn, &dir.0);
    let started = Instant::now();
    let service = dispatch(layer);
    report_errors(&service, 0, ERRORS);
    wait_until("1,000 spooled", HANG_GUARD, || {
        guard.stats().spooled == ERRORS
    });
    let outage = guard.stats();
    println!("spooled {ERRORS} in {:?}: {outage:?}", started.elapsed());
    assert_eq!(outage.failed, 0, "nothing lost: {outage:?}");
    assert_eq!(outage.dropped_in_transport, 0, "{outage:?}");
    assert_eq!(pending_files(&dir.0).len() as u64, ERRORS);

    let receiver = SentryReceiver::start_on(addr).expect("Sentry comes back on its port");
    // A live report: its success resumes sending from the spool at once.
    report_errors(&service, ERRORS, 1);
    let events = receiver.wait_for_events(ERRORS as usize + 1, HANG_GUARD);
    let seen = arrivals(&events);
    assert_eq!(seen.len() as u64, ERRORS + 1, "every error arrived");
    assert!(
        seen.values().all(|&n| n == 1),
        "duplicates: {:?}",
        seen.iter().filter(|(_, &n)| n > 1).collect::<Vec<_>>()
    );
    let spooled: Vec<&Event<'static>> = events.iter().filter(|e| job(e) != Some(ERRORS)).collect();
    for pair in spooled.windows(2) {
        assert!(
            pair[0].timestamp <= pair[1].timestamp,
            "sent out of order of age: job {:?} after job {:?}",
            job(pair[1]),
            job(pair[0])
        );
    }
    let mut tenants = BTreeMap::new();
    for event in &spooled {
        *tenants
            .entry(common::tag(event, "tenant_id").expect("tenant").to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(tenants.len() as u64, TENANTS);
    assert!(
        tenants.values().all(|&n| n == ERRORS / TENANTS),
        "{tenants:?}"
    );
    wait_until("the spool to empty", HANG_GUARD, || {
        pending_files(&dir.0).is_empty()
    });
    let stats = guard.stats();
    println!("after: {stats:?}");
    assert!(stats.spool.replayed >= ERRORS, "{stats:?}");
    // The live report too when it came within a second of the last probe (the
    // circuit still open: spooled, then sent from there).
    assert_eq!(stats.spool.sent_reports, stats.spooled, "{stats:?}");
    assert!(stats.spooled - ERRORS <= 1, "{stats:?}");
    assert_eq!(stats.spool.evicted + stats.spool.discarded, 0, "{stats:?}");
}

/// A process with a full spool is killed (`SIGKILL`); a new process on the same
/// directory and DSN delivers every complete file, once.
#[test]
fn after_a_kill_9_the_next_process_delivers_every_complete_file() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 200;
    let (dsn, addr) = down();
    let dir = TempDir::new("kill");
    let mut filler = child("fill", &dsn, &dir.0, ERRORS, true);
    let stdout = filler.stdout.take().expect("stdout");
    let mut said = false;
    for line in BufReader::new(stdout).lines() {
        if line.expect("line").contains("SPOOLED") {
            said = true;
            break;
        }
    }
    assert!(said, "the child spooled its errors");
    filler.kill().expect("SIGKILL");
    let _ = filler.wait();
    let complete = pending_files(&dir.0)
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .ok()
                .is_some_and(|b| Envelope::from_slice(&b).is_ok())
        })
        .count();
    println!("complete files after kill -9: {complete}");
    assert_eq!(complete as u64, ERRORS);

    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    let drained = finish(child("drain", &dsn, &dir.0, 0, false));
    println!("drain: {}", drained.stats());
    let events = receiver.wait_for_events(complete, Duration::from_secs(10));
    let seen = arrivals(&events);
    assert_eq!(seen.len(), complete, "every complete file delivered");
    assert!(seen.values().all(|&n| n == 1), "no duplicates");
}

/// Two processes send from one directory at once: no file arrives twice.
#[test]
fn two_processes_on_one_directory_send_no_file_twice() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 300;
    let (dsn, addr) = down();
    let dir = TempDir::new("two");
    let filled = finish(child("fill", &dsn, &dir.0, ERRORS, false));
    assert_eq!(stat(filled.stats(), "spooled"), ERRORS);
    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    let a = child("drain", &dsn, &dir.0, 0, false);
    let b = child("drain", &dsn, &dir.0, 0, false);
    let (a, b) = (finish(a), finish(b));
    let (sent_a, sent_b) = (stat(a.stats(), "replayed"), stat(b.stats(), "replayed"));
    println!("process a sent {sent_a}, process b sent {sent_b}");
    let events = receiver.wait_for_events(ERRORS as usize, Duration::from_secs(10));
    let seen = arrivals(&events);
    assert_eq!(seen.len() as u64, ERRORS, "every file delivered");
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert_eq!(events.len() as u64, ERRORS);
    assert_eq!(sent_a + sent_b, ERRORS);
}

/// A directory that cannot be made: one clear line, every envelope counted, the
/// reports counted failed as without a spool, and the process ends.
#[test]
fn an_unusable_directory_is_said_once_and_every_loss_counted() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (dsn, _addr) = down();
    let tmp = TempDir::new("unusable");
    let file = tmp.0.join("not-a-directory");
    std::fs::write(&file, b"").expect("file");
    let ended = finish(child("report", &dsn, &file.join("spool"), 5, false));
    let lines = ended.spool_lines();
    assert_eq!(lines.len(), 1, "{}", ended.stderr);
    assert!(lines[0].contains("cannot be used"), "{}", lines[0]);
    let stats = ended.stats();
    // The 5 reports, and the flush's client-report envelope.
    assert!(stat(stats, "write_failed") >= 5, "{stats}");
    assert_eq!(stat(stats, "failed"), 5, "{stats}");
    assert_eq!(stat(stats, "spooled"), 0, "{stats}");
}

/// Corrupt, truncated and other-version files beside good ones: one line each,
/// counted, never sent, never a panic; the good ones arrive.
#[test]
fn corrupt_truncated_and_other_version_files_are_said_counted_and_skipped() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 3;
    let (dsn, addr) = down();
    let dir = TempDir::new("corrupt");
    finish(child("fill", &dsn, &dir.0, ERRORS, false));
    let files = pending_files(&dir.0);
    assert_eq!(files.len() as u64, ERRORS);
    let good = &files[0];
    let bytes = std::fs::read(good).expect("read");
    let name = good
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let sub = good.parent().expect("dsn dir");
    // Same shape of name, older than every good file: sent first if it were sendable.
    let renamed = |seq: &str| {
        let mut parts: Vec<String> = name.split('-').map(str::to_owned).collect();
        parts[1] = "00000000000000000001".into();
        parts[3] = seq.into();
        parts.join("-")
    };
    // Private, as the crate writes its files: only their content is wrong.
    for (seq, content) in [
        ("9999999991", &bytes[..bytes.len() / 2]),
        ("9999999992", b"{\"garbage".as_slice()),
    ] {
        let path = sub.join(renamed(seq));
        std::fs::write(&path, content).expect("plant");
        private(&path);
    }
    let other_version = renamed("9999999993").replace(".v1.", ".v0.");
    std::fs::write(sub.join(&other_version), &bytes).expect("plant");

    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    let ended = finish(child("drain", &dsn, &dir.0, 0, false));
    let lines = ended.spool_lines();
    assert_eq!(lines.len(), 3, "one line per bad file: {}", ended.stderr);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("corrupt or truncated"))
            .count(),
        2
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("another format version"))
            .count(),
        1
    );
    let stats = ended.stats();
    assert_eq!(stat(stats, "unreadable"), 3, "{stats}");
    assert_eq!(stat(stats, "replayed"), ERRORS, "{stats}");
    assert!(
        sub.join(&other_version).exists(),
        "left for the version that wrote it"
    );
    let events = receiver.wait_for_events(ERRORS as usize, Duration::from_secs(10));
    assert_eq!(arrivals(&events).len() as u64, ERRORS);
    assert_eq!(events.len() as u64, ERRORS);
}

/// Nothing unscrubbed touches the disk: secrets in messages, fields and span fields
/// are absent from every spooled byte, while the reports themselves are there.
#[test]
fn nothing_unscrubbed_touches_the_disk() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (dsn, _addr) = down();
    let dir = TempDir::new("secrets");
    let (layer, guard) = start(&dsn, &dir.0);
    let secrets = [
        "hunter2-Very-Secret",
        "4111111111111111",
        "jane.doe@example.com",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ];
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request =
            tracing::info_span!("request", tenant_id = "acme", user_email = secrets[2]).entered();
        tracing::info!(card = secrets[1], "charging");
        tracing::error!(
            password = secrets[0],
            authorization = %format!("Bearer {}", secrets[3]),
            "payment-marker failed for card {} with key {}",
            secrets[1],
            secrets[4]
        );
        tracing::error!(
            "login-marker failed: password={} email={}",
            secrets[0],
            secrets[2]
        );
    });
    wait_until("2 spooled", HANG_GUARD, || guard.stats().spooled == 2);
    let files = pending_files(&dir.0);
    assert_eq!(files.len(), 2);
    let mut all = Vec::new();
    for file in &files {
        all.extend(std::fs::read(file).expect("read"));
    }
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("payment-marker") && text.contains("login-marker"));
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} reached the disk");
    }
}

/// Sentry answers the first envelope from the spool with 429 and a 5 s limit on errors:
/// that error is dropped (Sentry counted it), no other error leaves the spool before the
/// limit ends, and transactions, another category, flow meanwhile.
#[test]
fn a_rate_limited_category_waits_in_the_spool_while_others_flow() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 5;
    let (dsn, addr) = down();
    let dir = TempDir::new("ratelimit");
    let config = Config::builder()
        .dsn(&dsn)
        .spool_dir(&dir.0)
        .install_panic_hook(false)
        .traces_sample_rate(1.0)
        .flood_limit(None)
        .http_timeout(Duration::from_millis(500))
        .build()
        .expect("valid");
    let (layer, guard) = tracing_error_reports::init(config);
    let service = dispatch(layer);
    // Errors first: each in a request, so each request's transaction is spooled too.
    report_errors(&service, 0, ERRORS);
    tracing::dispatcher::with_default(&service, || {
        for i in 0..5 {
            tracing::info_span!("request", tenant_id = "acme", n = i).in_scope(|| {});
        }
    });
    wait_until("errors and transactions spooled", HANG_GUARD, || {
        let s = guard.stats();
        s.spooled == ERRORS
            && s.transactions_queued > 0
            && s.spool.written >= ERRORS + s.transactions_queued
    });
    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    receiver.set_behaviour(Behaviour::Status(
        429,
        vec![(
            "X-Sentry-Rate-Limits".to_owned(),
            "5:error:organization".to_owned(),
        )],
    ));
    let first = receiver.wait_for(1, HANG_GUARD);
    let limited_at = Instant::now();
    receiver.set_behaviour(Behaviour::Healthy);
    assert_eq!(first[0].status, 429);
    let first_is_error = first[0].envelope.as_ref().is_ok_and(|e| {
        e.items()
            .any(|i| matches!(i, sentry::protocol::EnvelopeItem::Event(_)))
    });
    assert!(first_is_error, "errors are sent from the spool first");
    // For 3 s of the 5 s limit (the limit began after the 429 was recorded): no error
    // leaves the spool, and transactions, another category, do.
    while limited_at.elapsed() < Duration::from_secs(3) {
        // The one answered 429 is received (and counted by Sentry).
        assert_eq!(
            receiver.events().len(),
            1,
            "an error was sent from the spool during its rate limit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let transactions = receiver.transactions().len();
    println!("transactions sent during the error limit: {transactions}");
    assert!(transactions > 0, "transactions flow during the error limit");
    let events = receiver.wait_for_events(ERRORS as usize, HANG_GUARD);
    let seen = arrivals(&events);
    assert_eq!(seen.len() as u64, ERRORS, "every error received");
    assert!(
        seen.values().all(|&n| n == 1),
        "the one answered 429 is not sent again: {seen:?}"
    );
    wait_until("the 429 counted", HANG_GUARD, || {
        guard.stats().spool.discarded == 1
    });
}

/// A disk that fills up (a 64 KiB tmpfs; needs root, else the test says it skipped):
/// one line, every envelope that did not fit counted, the reports counted failed, no
/// panic, and the process ends.
#[test]
fn a_full_disk_is_said_once_and_every_loss_counted() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 200;
    struct Mount(PathBuf);
    impl Drop for Mount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let tmp = TempDir::new("full");
    let mounted = Command::new("mount")
        // Private: the spool refuses a directory others may write (tmpfs's default 1777).
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
        .arg(&tmp.0)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("skipped: no tmpfs could be mounted (needs root)");
        return;
    }
    let _mount = Mount(tmp.0.clone());
    let (dsn, _addr) = down();
    let ended = finish(child("report", &dsn, &tmp.0, ERRORS, false));
    let lines = ended.spool_lines();
    assert_eq!(lines.len(), 1, "{}", ended.stderr);
    assert!(lines[0].contains("cannot write"), "{}", lines[0]);
    let stats = ended.stats();
    println!("{stats}");
    let (spooled, failed) = (stat(stats, "spooled"), stat(stats, "failed"));
    assert!(spooled > 0 && failed > 0, "{stats}");
    assert_eq!(
        spooled + failed,
        ERRORS,
        "every report kept or counted lost"
    );
    // Each lost report counted once (the circuit's direct write, then the post, do not
    // count it twice), plus at most the flush's client-report envelope.
    let write_failed = stat(stats, "write_failed");
    assert!((failed..=failed + 1).contains(&write_failed), "{stats}");
    assert_eq!(pending_files(&tmp.0).len() as u64, spooled);
}

/// Sentry answers files sent from the spool with 413, then 500: each is removed, not
/// sent again, counted (`spool.discarded`) and told to Sentry with the next envelope as
/// `send_error` (only network errors keep a file).
#[test]
fn files_refused_with_413_or_5xx_are_removed_and_told_as_send_error() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 4;
    let (dsn, addr) = down();
    let dir = TempDir::new("refused");
    let (layer, guard) = start(&dsn, &dir.0);
    let service = dispatch(layer);
    report_errors(&service, 0, ERRORS);
    wait_until("errors spooled", HANG_GUARD, || {
        guard.stats().spooled == ERRORS
    });
    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    receiver.set_behaviour(Behaviour::Status(413, Vec::new()));
    receiver.wait_for(1, HANG_GUARD);
    receiver.set_behaviour(Behaviour::Status(500, Vec::new()));
    let refused = receiver.wait_for(ERRORS as usize, HANG_GUARD);
    assert_eq!(refused[0].status, 413);
    assert!(refused.iter().all(|r| r.status == 413 || r.status == 500));
    wait_until("every refused file counted", HANG_GUARD, || {
        guard.stats().spool.discarded == ERRORS
    });
    assert!(
        pending_files(&dir.0).is_empty(),
        "refused files are removed"
    );
    // Sentry healthy again: a live error carries the client report.
    receiver.set_behaviour(Behaviour::Healthy);
    report_errors(&service, ERRORS, 1);
    assert!(guard.flush(HANG_GUARD));
    let received = receiver.received();
    let send_errors: u64 = received
        .iter()
        .filter_map(|r| r.envelope.as_ref().ok())
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            sentry::protocol::EnvelopeItem::ClientReport(report) => {
                serde_json::to_value(report).ok()
            }
            _ => None,
        })
        .flat_map(|report| {
            report["discarded_events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|d| d["reason"] == "send_error" && d["category"] == "error")
        .map(|d| d["quantity"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(send_errors, ERRORS, "told to Sentry as send_error");
    // None of them was sent again.
    let seen = arrivals(&receiver.events());
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    assert_eq!(seen.len() as u64, ERRORS + 1);
}

/// The overflow case end to end: Sentry down while a service finishes 200
/// sampled requests (transactions) and 20 of them log an error, into a spool of 25 files;
/// Sentry back: all 20 errors arrive, the transactions were the ones evicted.
#[test]
fn a_transaction_flood_into_a_small_spool_keeps_every_error_end_to_end() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const REQUESTS: u64 = 200;
    const ERRORS: u64 = 20;
    let (dsn, addr) = down();
    let dir = TempDir::new("overflow");
    let config = Config::builder()
        .dsn(&dsn)
        .spool_dir(&dir.0)
        .spool_limits(25, u64::MAX)
        .spool_pacing(Duration::from_millis(10))
        .install_panic_hook(false)
        .traces_sample_rate(1.0)
        .flood_limit(None)
        .http_timeout(Duration::from_millis(500))
        .build()
        .expect("valid");
    let (layer, guard) = tracing_error_reports::init(config);
    let service = dispatch(layer);
    for i in 0..REQUESTS {
        if i % (REQUESTS / ERRORS) == 0 {
            // A request that fails: its error and its transaction.
            report_errors(&service, i / (REQUESTS / ERRORS), 1);
        } else {
            tracing::dispatcher::with_default(&service, || {
                tracing::info_span!("request", tenant_id = "acme", n = i).in_scope(|| {});
            });
        }
    }
    // Drained: every envelope sent, failed and spooled (or evicted).
    guard.flush(HANG_GUARD);
    let stats = guard.stats();
    assert_eq!(stats.spooled, ERRORS, "{stats:?}");
    assert!(stats.spool.evicted > 0, "the flood overflowed: {stats:?}");
    // At most one more: the file the spool's sender had claimed, put back after its
    // failed send.
    let files = pending_files(&dir.0);
    assert!(files.len() <= 26, "{} files: {files:?}", files.len());
    let receiver = SentryReceiver::start_on(addr).expect("Sentry back");
    let events = receiver.wait_for_events(ERRORS as usize, HANG_GUARD);
    let seen = arrivals(&events);
    assert_eq!(seen.len() as u64, ERRORS, "every error kept: {seen:?}");
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    println!(
        "errors kept under overflow: {}/{ERRORS}, evicted {}",
        seen.len(),
        stats.spool.evicted
    );
}

/// The error events Sentry accepted (answered 2xx), not those a hanging receiver read
/// and never answered.
fn accepted_events(receiver: &SentryReceiver) -> Vec<Event<'static>> {
    receiver
        .received()
        .into_iter()
        .filter(|r| (200..300).contains(&r.status))
        .filter_map(|r| r.envelope.ok())
        .flat_map(|envelope| {
            envelope
                .items()
                .filter_map(|item| match item {
                    sentry::protocol::EnvelopeItem::Event(event) => Some((**event).clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Sentry accepts connections and never answers while a service reports 60 errors and
/// ends at once (the guard's drop, or `process::exit(2)` through the exit hook): every
/// report still queued or in flight is on disk when the process has ended, within the
/// shutdown timeout, and the next start delivers each once.
fn nothing_lost_at_exit_while_sentry_hangs(exit: bool) {
    const ERRORS: u64 = 60;
    let receiver = SentryReceiver::start().expect("receiver");
    receiver.set_behaviour(Behaviour::Hang);
    let dir = TempDir::new(if exit { "hang-exit" } else { "hang-drop" });
    let env: &[(&str, &str)] = if exit { &[(EXIT, "1")] } else { &[] };
    let command = child_with("hang", &receiver.dsn(), &dir.0, ERRORS, false, env);
    let ended = finish_with(command, if exit { 2 } else { 0 });
    let files = pending_files(&dir.0);
    println!(
        "{} files on disk after {}; {}",
        files.len(),
        if exit {
            "process::exit(2)"
        } else {
            "the guard's drop"
        },
        ended.stderr.trim()
    );
    let on_disk: BTreeMap<u64, usize> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .filter_map(|b| Envelope::from_slice(&b).ok())
        .flat_map(|e| {
            e.items()
                .filter_map(|i| match i {
                    sentry::protocol::EnvelopeItem::Event(event) => job(event),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .fold(BTreeMap::new(), |mut seen, n| {
            *seen.entry(n).or_insert(0) += 1;
            seen
        });
    assert_eq!(
        on_disk.len() as u64,
        ERRORS,
        "every report on disk: {on_disk:?}"
    );

    receiver.set_behaviour(Behaviour::Healthy);
    finish(child("drain", &receiver.dsn(), &dir.0, 0, false));
    let seen = arrivals(&accepted_events(&receiver));
    assert_eq!(
        seen.len() as u64,
        ERRORS,
        "every report delivered: {seen:?}"
    );
    assert!(seen.values().all(|&n| n == 1), "duplicates: {seen:?}");
}

#[test]
fn sentry_hanging_at_the_guards_drop_loses_nothing_with_a_spool() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    nothing_lost_at_exit_while_sentry_hangs(false);
}

#[test]
fn sentry_hanging_at_process_exit_loses_nothing_with_a_spool() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    nothing_lost_at_exit_while_sentry_hangs(true);
}

/// While Sentry hangs, one timed-out post opens the circuit: the queue goes to the spool
/// at once instead of waiting behind one timed-out post after another (60 posts).
#[test]
fn while_sentry_hangs_reports_go_to_the_spool_not_to_one_timeout_after_another() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    const ERRORS: u64 = 60;
    let receiver = SentryReceiver::start().expect("receiver");
    receiver.set_behaviour(Behaviour::Hang);
    let dir = TempDir::new("circuit");
    let (layer, guard) = start(&receiver.dsn(), &dir.0);
    report_errors(&dispatch(layer), 0, ERRORS);
    wait_until("60 spooled", HANG_GUARD, || guard.stats().spooled == ERRORS);
    let posts = receiver.received().len();
    println!("posts to the hanging Sentry while 60 reports were spooled: {posts}");
    // One live post, then a live probe a second and the spool's paced probes (backing
    // off from 1 s): a few, however slowly a loaded machine reports the 60.
    assert!(posts <= 15, "{posts} posts: the queue waited behind each");
    let stats = guard.stats();
    assert_eq!(stats.failed, 0, "{stats:?}");
}

/// Mode 0600, as the crate writes its files.
fn private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let _ = path;
}

/// Files planted in the spool directory (by another user, or readable by others, or
/// holding an attachment the live path never sends) are not sent at the next start:
/// moved aside and counted; only the items this crate sends leave.
#[cfg(unix)]
#[test]
fn planted_files_are_never_sent_at_the_next_start() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let receiver = SentryReceiver::start().expect("receiver");
    let dir = TempDir::new("planted");
    // A first start makes <dir>/<key>.
    finish(child("report", &receiver.dsn(), &dir.0, 0, false));
    let key = std::fs::read_dir(&dir.0)
        .expect("list")
        .flatten()
        .next()
        .expect("the key directory")
        .path();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros();
    let envelope = |message: &str, attachment: bool| {
        let mut envelope = Envelope::from(Event {
            message: Some(message.to_owned()),
            ..Event::default()
        });
        if attachment {
            envelope.add_item(sentry::protocol::EnvelopeItem::Attachment(
                sentry::protocol::Attachment {
                    buffer: b"job-9999- password=PlantedPw9Zx".to_vec(),
                    filename: "dump.bin".into(),
                    ..Default::default()
                },
            ));
        }
        let mut body = Vec::new();
        envelope.to_writer(&mut body).expect("serialises");
        body
    };
    let plant = |seq: u32, body: &[u8]| {
        let path = key.join(format!(
            "0-{now:020}-{:010}-{seq:010}-{}.v1.envelope",
            1,
            body.len()
        ));
        std::fs::write(&path, body).expect("plant");
        private(&path);
        path
    };
    let open = plant(1, &envelope("job-1- readable by others", false));
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    plant(2, &envelope("job-2- written as the crate writes", true));
    let mut refused = 1;
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if root {
        let theirs = plant(3, &envelope("job-3- another user's", false));
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
        refused += 1;
    } else {
        println!("skipped another user's file: planting it needs root");
    }
    let ended = finish(child("drain", &receiver.dsn(), &dir.0, 0, false));
    let stats = ended.stats();
    println!("{stats}");
    assert_eq!(stat(stats, "refused"), refused, "{stats}");
    assert_eq!(stat(stats, "refused_items"), 1, "{stats}");
    assert_eq!(
        ended
            .spool_lines()
            .iter()
            .filter(|l| l.contains("not a file this crate wrote"))
            .count() as u64,
        refused,
        "{}",
        ended.stderr
    );
    let received = receiver.received();
    let jobs: Vec<u64> = accepted_events(&receiver).iter().filter_map(job).collect();
    assert_eq!(jobs, [2], "only the file this crate could have written");
    assert!(
        received
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("PlantedPw9Zx")),
        "the attachment was sent"
    );
}
