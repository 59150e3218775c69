//! A broken or slow Sentry never hurts the service, and no accepted report is lost
//! silently. Each case drives the real HTTP transport against a loopback server whose
//! behaviour the test sets, and checks the time spent on the calling thread, the time
//! shutdown takes, and that delivered and dropped reports add up to what was emitted.

mod common;

use std::time::{Duration, Instant};

use tracing_error_reports::testing::{Behaviour, SentryReceiver};
use tracing_error_reports::{Config, ReportStats};
use tracing_subscriber::prelude::*;

const SHUTDOWN: Duration = Duration::from_millis(500);
/// Scheduling noise on a shared 2-core machine.
const MARGIN: Duration = Duration::from_millis(400);

struct Outcome {
    emitted: u64,
    calling_thread: Duration,
    shutdown: Duration,
    /// Read right after the bounded shutdown flush: the transport may still be sending.
    stats: ReportStats,
    /// Read after a second, long flush (only when asked for): nothing is moving any more.
    settled: Option<ReportStats>,
    received: usize,
}

/// Emits `count` error reports (one callsite, flood control off) to `dsn`, flushes with
/// the shutdown timeout, reads the counts, then drops the guard; times all three.
fn run(
    dsn: &str,
    count: u64,
    receiver: Option<&SentryReceiver>,
    configure: impl FnOnce(tracing_error_reports::ConfigBuilder) -> tracing_error_reports::ConfigBuilder,
) -> Outcome {
    run_with_shutdown(dsn, count, receiver, SHUTDOWN, None, configure)
}

fn run_with_shutdown(
    dsn: &str,
    count: u64,
    receiver: Option<&SentryReceiver>,
    shutdown_timeout: Duration,
    settle: Option<Duration>,
    configure: impl FnOnce(tracing_error_reports::ConfigBuilder) -> tracing_error_reports::ConfigBuilder,
) -> Outcome {
    let config = configure(
        Config::builder()
            .dsn(dsn)
            .install_panic_hook(false)
            .traces_sample_rate(0.0)
            .flood_limit(None)
            .http_timeout(Duration::from_millis(300))
            .shutdown_timeout(shutdown_timeout),
    )
    .build()
    .expect("valid");
    let (layer, guard) = tracing_error_reports::init(config);
    let subscriber = tracing_subscriber::registry().with(layer);
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("request", tenant_id = "acme").entered();
        for i in 0..count {
            tracing::info!(i, "working");
            tracing::error!(i, "failed");
        }
    });
    let calling_thread = started.elapsed();
    // The same bounded wait that dropping the guard does; then read what happened.
    let closing = Instant::now();
    guard.flush(shutdown_timeout);
    let shutdown = closing.elapsed();
    let stats = guard.stats();
    // Counts compared with what the server saw must have stopped moving first.
    let settled = settle.map(|timeout| {
        // `flush` is false when reports failed: settled is nothing left in flight.
        let _ = guard.flush(timeout);
        let stats = guard.stats();
        assert_eq!(stats.pending(), 0, "settled within {timeout:?}: {stats:?}");
        stats
    });
    let dropping = Instant::now();
    drop(guard);
    assert!(
        dropping.elapsed() <= shutdown_timeout + MARGIN,
        "drop took {:?}",
        dropping.elapsed()
    );
    let received = receiver.map_or(0, |r| r.events().len());
    println!(
        "emitted {count}: calling thread {calling_thread:?} ({:?}/report), shutdown {shutdown:?}, \
         queued {}, dropped {}; delivered {}, failed {}, rate limited {}, pending {}; server got {received}",
        calling_thread / count.max(1) as u32,
        stats.queued,
        stats.dropped_queue_full,
        stats.delivered,
        stats.failed,
        stats.rate_limited,
        stats.pending(),
    );
    Outcome {
        emitted: count,
        calling_thread,
        shutdown,
        stats,
        settled,
        received,
    }
}

fn assert_bounded(outcome: &Outcome) {
    // "Returns at once": far below one HTTP round trip per report.
    assert!(
        outcome.calling_thread < Duration::from_millis(5) * outcome.emitted as u32 / 10 + MARGIN,
        "calling thread took {:?} for {} reports",
        outcome.calling_thread,
        outcome.emitted
    );
    assert!(
        outcome.shutdown <= SHUTDOWN + MARGIN,
        "shutdown took {:?}",
        outcome.shutdown
    );
    assert_eq!(
        outcome.stats.queued + outcome.stats.dropped_queue_full + outcome.stats.suppressed,
        outcome.emitted,
        "every report is queued or counted as dropped: {:?}",
        outcome.stats
    );
}

/// Error events Sentry's client reports in these envelopes say were dropped for `reason`
/// (read from the wire: the protocol type keeps its fields private).
fn discarded(received: &[tracing_error_reports::testing::Received], reason: &str) -> u64 {
    received
        .iter()
        .flat_map(|r| r.body.split(|b| *b == b'\n'))
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter_map(|item| {
            item.get("discarded_events")
                .and_then(|d| d.as_array())
                .cloned()
        })
        .flatten()
        .filter(|d| d["reason"] == reason && d["category"] == "error")
        .map(|d| d["quantity"].as_u64().unwrap_or(0))
        .sum()
}

fn receiver_with(behaviour: Behaviour) -> SentryReceiver {
    let receiver = SentryReceiver::start().expect("loopback receiver");
    receiver.set_behaviour(behaviour);
    receiver
}

#[test]
fn a_healthy_server_gets_a_burst_of_1000_reports_complete() {
    let receiver = receiver_with(Behaviour::Healthy);
    let outcome = run_with_shutdown(
        &receiver.dsn(),
        1000,
        Some(&receiver),
        Duration::from_secs(20),
        None,
        |b| b,
    );
    assert!(
        outcome.calling_thread < Duration::from_secs(1),
        "{:?}",
        outcome.calling_thread
    );
    assert_eq!(outcome.stats.dropped_queue_full, 0);
    let events = receiver.wait_for_events(1000, Duration::from_secs(20));
    assert_eq!(events.len(), 1000, "all delivered");
    assert_eq!(outcome.stats.delivered, 1000, "and counted as delivered");
    assert_eq!(
        outcome.stats.failed + outcome.stats.rate_limited + outcome.stats.pending(),
        0
    );
}

#[test]
fn graceful_shutdown_delivers_everything_queued() {
    // A slowish server: the queue is still full when the guard is dropped.
    let receiver = receiver_with(Behaviour::Delay(Duration::from_millis(5)));
    let outcome = run_with_shutdown(
        &receiver.dsn(),
        100,
        Some(&receiver),
        Duration::from_secs(10),
        None,
        |b| b,
    );
    assert_eq!(outcome.stats.queued, 100);
    assert_eq!(outcome.received, 100, "delivered before the flush returned");
    assert_eq!(outcome.stats.delivered, 100);
}

#[test]
fn a_refused_connection_costs_the_service_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let outcome = run_with_shutdown(
        &format!("http://key@127.0.0.1:{port}/1"),
        200,
        None,
        SHUTDOWN,
        // The HTTP client is built on the HTTP thread (hundreds of ms in a loaded debug
        // build): compare counts once they stopped moving.
        Some(Duration::from_secs(10)),
        |b| b,
    );
    assert_bounded(&outcome);
    assert_eq!(outcome.stats.delivered, 0);
    assert_eq!(outcome.stats.failed + outcome.stats.pending(), 200);
    let settled = outcome.settled.expect("settled");
    assert_eq!(
        settled.failed, 200,
        "every connection error is counted as failed"
    );
}

#[test]
fn a_server_that_never_answers_never_blocks_logging_or_shutdown() {
    let receiver = receiver_with(Behaviour::Hang);
    let outcome = run(&receiver.dsn(), 200, Some(&receiver), |b| b);
    assert_bounded(&outcome);
    assert_eq!(outcome.stats.delivered, 0);
    assert!(
        outcome.stats.pending() > 0,
        "still queued behind the hanging request"
    );
    assert_eq!(
        outcome.stats.failed + outcome.stats.pending(),
        200,
        "timeouts count as failed"
    );
}

#[test]
fn a_server_answering_after_5_seconds_never_blocks_logging_or_shutdown() {
    let receiver = receiver_with(Behaviour::Delay(Duration::from_secs(5)));
    let outcome = run(&receiver.dsn(), 200, Some(&receiver), |b| {
        b.http_timeout(Duration::from_secs(10))
    });
    assert_bounded(&outcome);
    assert_eq!(outcome.stats.delivered + outcome.stats.failed, 0);
    assert_eq!(
        outcome.stats.pending(),
        200,
        "none answered within the shutdown timeout"
    );
}

#[test]
fn a_failing_server_never_blocks_logging_or_shutdown() {
    let receiver = receiver_with(Behaviour::Status(500, Vec::new()));
    // The bounded shutdown is checked on `stats`; the comparison with the server's
    // count waits for the transport to finish (it keeps sending after a timed-out
    // flush returns, and a debug build may need more than 500 ms for 200 answers).
    let outcome = run_with_shutdown(
        &receiver.dsn(),
        200,
        Some(&receiver),
        SHUTDOWN,
        Some(Duration::from_secs(60)),
        |b| b,
    );
    assert_bounded(&outcome);
    assert_eq!(outcome.stats.delivered, 0);
    assert_eq!(outcome.stats.failed + outcome.stats.pending(), 200);
    let settled = outcome.settled.expect("asked for");
    assert_eq!(settled.delivered, 0);
    assert_eq!(settled.failed, 200, "every 500 answer is counted as failed");
    assert_eq!(settled.pending(), 0);
    let seen = receiver.wait_for_events(200, Duration::from_secs(10)).len();
    assert_eq!(
        settled.failed as usize, seen,
        "each failure is a request the server answered 500"
    );
}

#[test]
fn a_429_with_retry_after_pauses_sending_without_blocking() {
    let receiver = receiver_with(Behaviour::Status(
        429,
        vec![("Retry-After".into(), "60".into())],
    ));
    let outcome = run_with_shutdown(
        &receiver.dsn(),
        200,
        Some(&receiver),
        SHUTDOWN,
        Some(Duration::from_secs(60)),
        |b| b,
    );
    assert_bounded(&outcome);
    assert_eq!(outcome.stats.delivered, 0);
    assert_eq!(outcome.stats.rate_limited + outcome.stats.pending(), 200);
    let settled = outcome.settled.expect("asked for");
    assert_eq!(settled.rate_limited, 200, "{settled:?}");
    assert_eq!(
        receiver.events().len(),
        1,
        "after the first 429 nothing more is sent for 60 s"
    );
}

#[test]
fn rate_limits_pause_sending_and_the_losses_are_reported_when_sending_resumes() {
    let common::Harness {
        receiver,
        layer,
        guard,
    } = common::harness(|b| b.flood_limit(None));
    receiver.set_behaviour(Behaviour::Status(
        429,
        vec![("X-Sentry-Rate-Limits".into(), "1:error:organization".into())],
    ));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!("first: answered with 429");
        // Answered, but not accepted: `flush` says so.
        assert!(!guard.flush(Duration::from_secs(5)));
        receiver.set_behaviour(Behaviour::Healthy);
        for _ in 0..5 {
            tracing::error!("held back by the rate limit");
        }
        // Held back, not sent.
        assert!(!guard.flush(Duration::from_secs(5)));
        // Envelopes may still go out while limited, carrying only client reports.
        assert_eq!(
            receiver.events().len(),
            1,
            "no event is sent while rate limited"
        );
        std::thread::sleep(Duration::from_millis(1200));
        tracing::error!("after the limit");
        assert!(guard.flush(Duration::from_secs(5)));
    });
    receiver.wait_for_events(2, Duration::from_secs(5));
    let lost = discarded(&receiver.received(), "ratelimit_backoff");
    assert_eq!(
        lost, 5,
        "the next envelope tells Sentry what the rate limit dropped"
    );
    assert_eq!(receiver.events().len(), 2, "the first and the last event");
}

#[test]
fn queue_overflow_is_counted_and_reported_to_sentry() {
    let common::Harness {
        receiver,
        layer,
        guard,
    } = common::harness(|b| {
        b.flood_limit(None)
            .queue_capacity(std::num::NonZeroUsize::new(2).expect("not zero"))
    });
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..500 {
            tracing::error!(i, "burst");
        }
        // False when the 2-slot HTTP queue still drops while it drains (counted below).
        let _ = guard.flush(Duration::from_secs(10));
        tracing::error!("after the burst");
        assert!(guard.flush(Duration::from_secs(10)));
    });
    let stats = guard.stats();
    assert!(
        stats.dropped_queue_full > 0,
        "a 2-slot queue overflows: {stats:?}"
    );
    assert_eq!(stats.queued + stats.dropped_queue_full, 501);
    let reported = discarded(&receiver.received(), "queue_overflow");
    // Both queues (the worker's and the HTTP one) are 2 slots here.
    assert_eq!(
        reported,
        stats.dropped_queue_full + stats.dropped_in_transport,
        "every drop reached Sentry as a client report"
    );
    assert_eq!(receiver.events().len() as u64, stats.delivered);
    assert_eq!(
        stats.queued,
        stats.delivered + stats.dropped_in_transport + stats.failed
    );
}

/// `flush` says whether the reports went out, not only whether the queue drained; a
/// timeout too long for `Instant` (`Duration::MAX`) waits as long as delivery takes and
/// never panics, in `flush` as in the guard's drop.
#[test]
fn flush_tells_failed_delivery_and_duration_max_never_panics() {
    let emit = |dsn: String| {
        let config = Config::builder()
            .dsn(dsn)
            .install_panic_hook(false)
            .flood_limit(None)
            .shutdown_timeout(Duration::MAX)
            .http_timeout(Duration::from_secs(2))
            .build()
            .expect("valid");
        let (layer, guard) = tracing_error_reports::init(config);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("first failure");
            tracing::error!("second failure");
        });
        let flushed = guard.flush(Duration::MAX);
        let stats = guard.stats();
        drop(guard);
        (flushed, stats)
    };
    let receiver = SentryReceiver::start().expect("receiver");
    let (flushed, stats) = emit(receiver.dsn());
    assert!(flushed, "{stats:?}");
    assert_eq!(receiver.wait_for_events(2, common::WAIT).len(), 2);
    // Port 1 refuses connections: the queue drains, nothing went out.
    let (flushed, stats) = emit("http://public@127.0.0.1:1/1".to_owned());
    assert!(!flushed, "{stats:?}");
    assert_eq!(stats.failed, 2, "{stats:?}");
}

#[test]
fn a_zero_http_timeout_is_refused() {
    let err = Config::builder()
        .dsn("http://public@127.0.0.1:1/1")
        .http_timeout(Duration::ZERO)
        .build()
        .expect_err("refused");
    assert!(matches!(
        err,
        tracing_error_reports::ConfigError::ZeroHttpTimeout
    ));
    assert!(err.to_string().contains("http_timeout"), "{err}");
}
