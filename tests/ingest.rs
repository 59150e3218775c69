//! What Sentry's ingest (Relay) accepts and keeps (issue 25): size limits, tags Sentry
//! keeps, client reports for every discard, strict `traceparent`, configuration values.
//! Each report is checked as the loopback receiver got it, parsed by the `sentry`
//! crate's own envelope parser.

mod common;

use common::{crumb_messages, harness, WAIT};
use sentry::protocol::Context;
use tracing::{error, info, info_span};
use tracing_error_reports::testing::Received;
use tracing_error_reports::wire::{MOVED_TAGS_CONTEXT, TRIMMED_CONTEXT};
use tracing_subscriber::prelude::*;

/// Relay's `limits.max_event_size` (its documented default).
const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The envelope's items as sent: (item type, payload bytes). Read from the raw body,
/// not from the parsed envelope: the size Relay checks is the size on the wire.
fn item_sizes(received: &Received) -> Vec<(String, usize)> {
    let body = &received.body;
    let line_end = |from: usize| {
        body[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |p| from + p)
    };
    let mut items = Vec::new();
    let mut at = line_end(0) + 1;
    while at < body.len() {
        let header_end = line_end(at);
        let header: serde_json::Value =
            serde_json::from_slice(&body[at..header_end]).expect("item header is JSON");
        let start = header_end + 1;
        let len = match header.get("length").and_then(|l| l.as_u64()) {
            Some(len) => len as usize,
            None => line_end(start) - start,
        };
        let ty = header["type"].as_str().unwrap_or_default().to_owned();
        items.push((ty, len));
        at = start + len + 1;
    }
    items
}

fn largest_item(received: &[Received], ty: &str) -> usize {
    received
        .iter()
        .flat_map(item_sizes)
        .filter(|(t, _)| t == ty)
        .map(|(_, len)| len)
        .max()
        .unwrap_or(0)
}

fn text(len: usize, seed: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + ((i * 7 + seed) % 26) as u8))
        .collect()
}

#[test]
fn a_request_with_chatty_breadcrumbs_is_trimmed_to_sentrys_event_limit() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "acme").entered();
        // 100 chatty lines, each with twelve fields of 3 KB: 3.6 MB of breadcrumbs.
        for i in 0..100_usize {
            let t = |k: usize| text(3_000, i + k);
            info!(
                payload = t(0).as_str(),
                headers = t(1).as_str(),
                body = t(2).as_str(),
                response = t(3).as_str(),
                query = t(4).as_str(),
                cookies = t(5).as_str(),
                route = t(6).as_str(),
                client = t(7).as_str(),
                upstream = t(8).as_str(),
                cache = t(9).as_str(),
                plan = t(10).as_str(),
                result = t(11).as_str(),
                "line {i}"
            );
        }
        let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out");
        error!(
            error = &err as &(dyn std::error::Error + 'static),
            "order failed"
        );
    });
    // Scrubbing 3.6 MB in a debug build, beside the binary's other tests on a loaded CI
    // machine, took longer than the usual 10 s once: this flush returns when done.
    let heavy = std::time::Duration::from_secs(90);
    assert!(h.guard.flush(heavy));
    let events = h.receiver.wait_for_events(1, heavy);
    assert_eq!(events.len(), 1, "the report arrives");
    let event = &events[0];
    let size = largest_item(&h.receiver.received(), "event");
    assert!(size <= MAX_EVENT_BYTES, "event item of {size} bytes");
    assert_eq!(event.message.as_deref(), Some("order failed"));
    assert_eq!(
        event
            .exception
            .values
            .last()
            .and_then(|e| e.value.as_deref()),
        Some("upstream timed out")
    );
    // The newest breadcrumbs are kept, in order, the oldest dropped.
    let crumbs = crumb_messages(event);
    assert!(!crumbs.is_empty() && crumbs.len() < 100, "{}", crumbs.len());
    assert_eq!(crumbs.last().map(String::as_str), Some("line 99"));
    let first_kept = 100 - crumbs.len();
    assert_eq!(crumbs[0], format!("line {first_kept}"));
    // The largest values were cut first: every kept field is at most 1 KiB (cut after
    // scrubbing: `cookies` was filtered whole).
    for crumb in &event.breadcrumbs.values {
        assert_eq!(crumb.data.len(), 12);
        for (key, value) in &crumb.data {
            let value = value.as_str().expect("text");
            if key == "cookies" {
                assert_eq!(value, "[Filtered]");
            } else {
                assert!(
                    value.len() <= 1024 && value.ends_with('…'),
                    "{}",
                    value.len()
                );
            }
        }
    }
    let Some(Context::Other(trimmed)) = event.contexts.get(TRIMMED_CONTEXT) else {
        panic!("a trimmed report says so: {:?}", event.contexts.keys());
    };
    assert_eq!(
        trimmed.get("breadcrumbs_dropped").and_then(|v| v.as_u64()),
        Some(first_kept as u64)
    );
    assert!(
        trimmed
            .get("original_bytes")
            .and_then(|v| v.as_u64())
            .is_some_and(|b| b > 2 * MAX_EVENT_BYTES as u64),
        "{trimmed:?}"
    );
    assert_eq!(h.guard.stats().trimmed, 1);
    assert_eq!(h.guard.stats().delivered, 1);
    eprintln!(
        "event: {size} bytes sent, {} breadcrumbs kept of 100",
        crumbs.len()
    );
}

#[test]
fn a_sampled_request_with_600_queries_is_trimmed_to_sentrys_limit() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("GET /report", tenant_id = "acme").entered();
        for i in 0..600 {
            let statement = format!("SELECT {} FROM orders WHERE id = {i}", text(3_000, i));
            info_span!("db.query", db.statement = statement.as_str()).in_scope(|| {});
        }
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1, "the transaction arrives");
    let size = largest_item(&h.receiver.received(), "transaction");
    assert!(size <= MAX_EVENT_BYTES, "transaction item of {size} bytes");
    let tx = &txs[0];
    assert!(tx.contexts.contains_key(TRIMMED_CONTEXT));
    // Every span is kept; their statements are cut, not dropped.
    assert_eq!(tx.spans.len(), 600);
    assert!(tx.spans.iter().all(|s| s
        .data
        .get("db.statement")
        .and_then(|v| v.as_str())
        .is_some_and(|s| s.starts_with("SELECT "))));
    assert_eq!(h.guard.stats().trimmed, 1);
    eprintln!("transaction: {size} bytes sent");
}

#[test]
fn tags_sentry_would_drop_are_cleaned_or_moved_never_sent_as_they_are() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!(
            "request",
            tenant_id = "acme",
            tags.region = "",
            tags.plan = "  pro\nplus ",
        )
        .entered();
        let long = "x".repeat(300);
        tracing::error!(
            "tags.http/route" = "/orders/{id}",
            tags.a_key_far_longer_than_thirty_two_chars = "v",
            tags.note = long.as_str(),
            "order failed"
        );
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    for (key, value) in &event.tags {
        assert!(
            (1..=32).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b)),
            "{key:?}"
        );
        assert!(!value.is_empty() && value.chars().count() <= 200 && !value.contains('\n'));
    }
    assert_eq!(common::tag(event, "plan"), Some("pro plus"));
    assert_eq!(
        common::tag(event, "region"),
        None,
        "an empty value is left out"
    );
    assert_eq!(common::tag(event, "note").map(str::len), Some(200));
    assert_eq!(common::tag(event, "tenant_id"), Some("acme"));
    let Some(Context::Other(moved)) = event.contexts.get(MOVED_TAGS_CONTEXT) else {
        panic!("{:?}", event.contexts.keys());
    };
    assert_eq!(
        moved.get("http/route").and_then(|v| v.as_str()),
        Some("/orders/{id}")
    );
    assert!(moved.contains_key("a_key_far_longer_than_thirty_two_chars"));
}

/// The Python interpreter of a virtualenv with Sentry's `sentry-relay` package (Relay's
/// own normalizer): `RELAY_PYTHON`, else `relay-venv` in the target directory
/// (`python3 -m venv target/relay-venv && target/relay-venv/bin/pip install sentry-relay`).
fn relay_python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("RELAY_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            Some(target.join("relay-venv/bin/python"))
        })?;
    let works = std::process::Command::new(&python)
        .args(["-c", "import sentry_relay.processing"])
        .output()
        .is_ok_and(|out| out.status.success());
    works.then_some(python)
}

/// Runs each JSON event through Relay's `StoreNormalizer` and returns, per event, the
/// processing errors it recorded (`_meta` entries with `err`).
fn relay_normalizer_errors(python: &std::path::Path, events: &[Vec<u8>]) -> Vec<Vec<String>> {
    const SCRIPT: &str = r#"
import json, sys
from sentry_relay.processing import StoreNormalizer
normalizer = StoreNormalizer(project_id=1)
def errors(meta, path):
    found = []
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key == "" and isinstance(value, dict) and value.get("err"):
                found.append("%s: %s" % (path, json.dumps(value["err"])))
            else:
                found += errors(value, path + "." + key)
    return found
for line in sys.stdin:
    event = normalizer.normalize_event(json.loads(line))
    print(json.dumps(errors(event.get("_meta") or {}, "")))
"#;
    use std::io::Write as _;
    let mut child = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    let mut input = Vec::new();
    for event in events {
        input.extend_from_slice(event);
        input.push(b'\n');
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("normalizer runs");
    writer.join().expect("writer").expect("written");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a list of errors"))
        .collect()
}

/// The raw event payloads the receiver got.
fn event_payloads(received: &[Received]) -> Vec<Vec<u8>> {
    let mut payloads = Vec::new();
    for r in received {
        let body = &r.body;
        let mut lines = body.split(|b| *b == b'\n').skip(1);
        while let Some(header) = lines.next() {
            let Ok(header) = serde_json::from_slice::<serde_json::Value>(header) else {
                break;
            };
            let Some(payload) = lines.next() else { break };
            if header["type"] == "event" {
                payloads.push(payload.to_vec());
            }
        }
    }
    payloads
}

/// Random tag keys and values, set by `before_send` (any key can reach a report that
/// way, or through the hub's scope), give no error in Relay's own normalizer.
#[test]
fn random_tags_give_no_error_in_sentrys_normalizer() {
    let Some(python) = relay_python() else {
        eprintln!(
            "skipped: no Python with sentry-relay (set RELAY_PYTHON or make target/relay-venv)"
        );
        return;
    };
    const CASES: usize = 300;
    let mut rng = fastrand::Rng::with_seed(25);
    let pieces = [
        "a", "Z", "9", "_", ".", ":", "-", "/", " ", "\n", "\t", "é", "💥", "=", "\u{7f}", "\"",
    ];
    let text = |max: usize, rng: &mut fastrand::Rng| -> String {
        let len = rng.usize(0..=max);
        (0..len)
            .map(|_| pieces[rng.usize(..pieces.len())])
            .collect()
    };
    let cases: Vec<Vec<(String, String)>> = (0..CASES)
        .map(|_| {
            (0..rng.usize(1..8))
                .map(|_| {
                    let key_len = [4, 40, 250][rng.usize(..3)];
                    let value_len = [0, 3, 30, 260][rng.usize(..4)];
                    (text(key_len, &mut rng), text(value_len, &mut rng))
                })
                .collect()
        })
        .collect();
    let cases = std::sync::Arc::new(cases);
    let hook_cases = cases.clone();
    let h = harness(move |b| {
        b.flood_limit(None).before_send(move |mut event| {
            let case: usize = event
                .message
                .as_deref()?
                .strip_prefix("case ")?
                .parse()
                .ok()?;
            for (key, value) in &hook_cases[case] {
                event.tags.insert(key.clone(), value.clone());
            }
            Some(event)
        })
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        for case in 0..CASES {
            error!("case {case}");
        }
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for_events(CASES, WAIT);
    let payloads = event_payloads(&h.receiver.received());
    assert_eq!(payloads.len(), CASES);
    let errors = relay_normalizer_errors(&python, &payloads);
    let problems: Vec<&String> = errors.iter().flatten().collect();
    let moved = h
        .receiver
        .events()
        .iter()
        .filter(|e| e.contexts.contains_key(MOVED_TAGS_CONTEXT))
        .count();
    eprintln!(
        "{CASES} events with random tags: {} normalizer errors ({moved} with moved tags)",
        problems.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
    // The normalizer does see a raw event's bad tags: the check can fail.
    let raw = br#"{"event_id":"0123456789abcdef0123456789abcdef","tags":{"a/b":"x","e":""}}"#;
    assert_eq!(
        relay_normalizer_errors(&python, &[raw.to_vec()])[0].len(),
        2
    );
}

/// A request span given a caller's `traceparent` continues its trace only when the
/// header is valid W3C Trace Context; an uppercase one (which OpenTelemetry refuses too)
/// starts a new trace and is counted.
#[test]
fn only_a_valid_traceparent_is_continued_and_a_refused_one_is_counted() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let upper = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01";
    tracing::subscriber::with_default(subscriber, || {
        for (header, name) in [(valid, "valid"), (upper, "upper"), ("", "absent")] {
            let _request = info_span!("request", traceparent = header).entered();
            error!(case = name, "request failed");
        }
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(3, WAIT);
    assert_eq!(events.len(), 3);
    let trace_of = |case: &str| {
        let event = events
            .iter()
            .find(|e| {
                matches!(e.contexts.get("fields"), Some(Context::Other(f))
                    if f.get("case").and_then(|v| v.as_str()) == Some(case))
            })
            .expect("the case's report");
        common::tag(event, "trace_id").map(str::to_owned)
    };
    assert_eq!(
        trace_of("valid").as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    let refused = trace_of("upper").expect("a trace of its own");
    assert_ne!(refused, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(
        refused.to_ascii_lowercase(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        h.guard.stats().refused_trace_headers,
        1,
        "an empty one is no header"
    );
    assert!(tracing_error_reports::IncomingTrace::from_headers([("traceparent", upper)]).is_none());
}

/// `SENTRY_DSN` longer than the 200 bytes other variables may have is still a DSN: parsed
/// when it is one, refused as too long (never "not set") past 2048 bytes.
#[test]
fn a_long_dsn_is_parsed_or_refused_as_what_it_is() {
    let receiver = tracing_error_reports::testing::SentryReceiver::start().expect("receiver");
    let key = "k".repeat(300);
    let long = format!("http://{key}@{}/1", receiver.addr());
    // Only this test of the binary reads the environment.
    std::env::set_var("SENTRY_DSN", &long);
    let config = tracing_error_reports::Config::builder()
        .with_env()
        .install_panic_hook(false)
        .build()
        .expect("valid");
    let (layer, guard) = tracing_error_reports::init(config);
    assert!(
        layer.is_some() && guard.is_enabled(),
        "{:?}",
        guard.status()
    );
    drop(guard);
    std::env::set_var(
        "SENTRY_DSN",
        format!("http://{}@example.com/1", "k".repeat(3000)),
    );
    let config = tracing_error_reports::Config::builder()
        .with_env()
        .install_panic_hook(false)
        .build()
        .expect("an environment value never fails the build");
    let (layer, guard) = tracing_error_reports::init(config);
    std::env::remove_var("SENTRY_DSN");
    assert!(layer.is_none());
    let status = format!("{:?}", guard.status());
    assert!(
        status.contains("InvalidDsn") && status.contains("bytes long"),
        "{status}"
    );
}

/// The client reports a receiver took (answered with 2xx), summed per (reason, category).
fn client_reports(received: &[Received]) -> std::collections::BTreeMap<(String, String), u64> {
    let mut sums = std::collections::BTreeMap::new();
    for r in received.iter().filter(|r| (200..300).contains(&r.status)) {
        let mut lines = r.body.split(|b| *b == b'\n').skip(1);
        while let Some(header) = lines.next() {
            let Ok(header) = serde_json::from_slice::<serde_json::Value>(header) else {
                break;
            };
            let Some(payload) = lines.next() else { break };
            if header["type"] != "client_report" {
                continue;
            }
            let report: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
            for item in report["discarded_events"].as_array().expect("a list") {
                let key = (
                    item["reason"].as_str().unwrap_or_default().to_owned(),
                    item["category"].as_str().unwrap_or_default().to_owned(),
                );
                *sums.entry(key).or_insert(0) += item["quantity"].as_u64().unwrap_or(0);
            }
        }
    }
    sums
}

fn reported(sums: &std::collections::BTreeMap<(String, String), u64>, reason: &str) -> u64 {
    sums.get(&(reason.to_owned(), "error".to_owned()))
        .copied()
        .unwrap_or(0)
}

/// Every way this crate drops an error report is told to Sentry in a client report, with
/// the count `stats()` gives: flood control and sampling, `ignore_error`, `before_send`,
/// a server error, a network error (a timeout), a rate limit's backoff.
#[test]
fn every_discard_is_told_to_sentry_with_the_count_stats_gives() {
    use tracing_error_reports::testing::Behaviour;
    let h = harness(|b| {
        b.ignore_error("ignore-me")
            .http_timeout(std::time::Duration::from_millis(300))
            .before_send(|event| {
                let drop = event
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("drop"));
                (!drop).then_some(event)
            })
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let guard = &h.guard;
    let receiver = &h.receiver;
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..130 {
            error!("flood {i}");
        }
        for i in 0..5 {
            error!("ignore-me {i}");
        }
        for i in 0..7 {
            error!("drop {i}");
        }
        assert!(guard.flush(WAIT));
        receiver.set_behaviour(Behaviour::Status(500, Vec::new()));
        for i in 0..3 {
            error!("server error {i}");
        }
        // Drained, but refused: `flush` says so.
        assert!(!guard.flush(WAIT));
        receiver.set_behaviour(Behaviour::Hang);
        for i in 0..2 {
            error!("timeout {i}");
        }
        assert!(!guard.flush(WAIT));
        receiver.set_behaviour(Behaviour::Status(
            200,
            vec![(
                "X-Sentry-Rate-Limits".into(),
                "60:error:organization".into(),
            )],
        ));
        error!("accepted, then limited");
        assert!(guard.flush(WAIT));
        receiver.set_behaviour(Behaviour::Healthy);
        for i in 0..4 {
            error!("held back {i}");
        }
    });
    // Held back by the rate limit: not sent.
    assert!(!h.guard.flush(WAIT));
    let stats = h.guard.stats();
    let sums = client_reports(&h.receiver.received());
    eprintln!("stats: {stats:?}\nclient reports: {sums:?}");
    assert_eq!((stats.suppressed, stats.ignored), (30, 5));
    assert_eq!(stats.dropped_by_before_send, 7);
    assert_eq!((stats.failed, stats.rate_limited), (5, 4));
    assert_eq!(
        reported(&sums, "sample_rate"),
        stats.sampled_out + stats.suppressed
    );
    assert_eq!(reported(&sums, "event_processor"), stats.ignored);
    assert_eq!(reported(&sums, "before_send"), stats.dropped_by_before_send);
    assert_eq!(reported(&sums, "send_error"), 3);
    assert_eq!(reported(&sums, "network_error"), 2);
    assert_eq!(reported(&sums, "ratelimit_backoff"), stats.rate_limited);
    assert_eq!(
        reported(&sums, "queue_overflow"),
        stats.dropped_queue_full + stats.dropped_in_transport
    );
}

/// Sampling and full queues too: with a queue of one report and half the errors
/// sampled, what `stats()` counts is what Sentry is told.
#[test]
fn sampled_out_and_queue_overflow_are_told_with_the_counts_of_stats() {
    let h = harness(|b| {
        b.sample_rate(0.5)
            .flood_limit(None)
            .queue_capacity(std::num::NonZeroUsize::MIN)
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..400 {
            error!("burst {i}");
        }
    });
    // False: the one-place queues still drop while they drain (counted below).
    let _ = h.guard.flush(WAIT);
    let stats = h.guard.stats();
    let sums = client_reports(&h.receiver.received());
    eprintln!("stats: {stats:?}\nclient reports: {sums:?}");
    assert!(stats.sampled_out > 0);
    assert_eq!(reported(&sums, "sample_rate"), stats.sampled_out);
    assert_eq!(
        reported(&sums, "queue_overflow"),
        stats.dropped_queue_full + stats.dropped_in_transport
    );
    assert_eq!(
        stats.queued + stats.sampled_out + stats.dropped_queue_full,
        400,
        "every error accounted for"
    );
}

/// A distinct text without digits for each `i` (flood control's template keeps letters).
fn words(mut i: usize) -> String {
    let mut word = String::new();
    loop {
        word.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return word;
        }
    }
}

/// One tenant logging 10,000 distinct error texts holds back only its own reports: the
/// next tenants' first errors are all reported (flood control once shared one budget
/// among all keys past 8,192).
#[test]
fn a_tenants_storm_of_distinct_errors_holds_back_no_other_tenants_first_error() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        {
            let _loud = info_span!("job", tenant_id = "loud").entered();
            for i in 0..10_000 {
                error!("cannot parse {}", words(i));
            }
        }
        for tenant in ["quiet-a", "quiet-b", "quiet-c"] {
            let _request = info_span!("request", tenant_id = tenant).entered();
            error!("payment declined");
        }
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(3, WAIT);
    let quiet = events
        .iter()
        .filter(|e| common::tag(e, "tenant_id").is_some_and(|t| t.starts_with("quiet-")))
        .count();
    let stats = h.guard.stats();
    eprintln!(
        "loud tenant: {} reported, {} held back; quiet tenants: {quiet}/3",
        events.len() - quiet,
        stats.suppressed
    );
    assert_eq!(quiet, 3);
    assert_eq!(stats.suppressed as usize + events.len(), 10_003);
}

/// One loud tenant logging 10,000 distinct errors as fast as it can (flood control off,
/// the default queues of 2048) and 50 quiet tenants with one error each among them: every
/// quiet report is delivered; the loud tenant's losses are counted.
#[test]
fn a_loud_tenant_cannot_crowd_quiet_tenants_out_of_the_queues() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let loud = info_span!("worker", tenant_id = "loud");
        for i in 0..10_000 {
            loud.in_scope(|| error!("cannot parse {}", words(i)));
            if i % 200 == 199 {
                let tenant = format!("quiet-{}", i / 200);
                let _request = info_span!("request", tenant_id = tenant.as_str()).entered();
                error!("payment declined");
            }
        }
    });
    // False when the loud tenant's reports were still being dropped while it drained.
    let _ = h.guard.flush(WAIT);
    let events = h.receiver.wait_for_events(50, WAIT);
    let quiet = events
        .iter()
        .filter(|e| common::tag(e, "tenant_id").is_some_and(|t| t.starts_with("quiet-")))
        .count();
    let stats = h.guard.stats();
    let lost = stats.dropped_queue_full + stats.dropped_in_transport;
    eprintln!(
        "quiet tenants delivered: {quiet}/50; loud tenant: {} delivered, {lost} dropped \
         ({} at the worker's queue, {} at the HTTP queue)",
        events.len() - quiet,
        stats.dropped_queue_full,
        stats.dropped_in_transport
    );
    assert_eq!(quiet, 50);
    assert_eq!(stats.delivered + lost, 10_050, "{stats:?}");
    assert_eq!(stats.delivered as usize, events.len());
}

/// The `trace` envelope header of each received envelope with an item of `ty`.
fn trace_headers(received: &[Received], ty: &str) -> Vec<serde_json::Value> {
    received
        .iter()
        .filter(|r| item_sizes(r).iter().any(|(t, _)| t == ty))
        .map(|r| {
            let first = r.body.split(|b| *b == b'\n').next().unwrap_or_default();
            let headers: serde_json::Value = serde_json::from_slice(first).expect("JSON");
            headers["trace"].clone()
        })
        .collect()
}

/// Dynamic sampling: a continued trace passes the head's `sentry-*` baggage on unchanged
/// in every envelope's `trace` header; a trace the service starts carries its own.
#[test]
fn envelopes_carry_the_dynamic_sampling_context() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let head = "771a43a4192642f0b136d5159a501700";
    tracing::subscriber::with_default(subscriber, || {
        {
            let _continued = info_span!(
                "request",
                sentry.trace = format!("{head}-b6e54d2f8d3ab74d-1").as_str(),
                baggage = "other=1,sentry-trace_id=771a43a4192642f0b136d5159a501700,\
                           sentry-public_key=headkey,sentry-sample_rate=0.25,sentry-sampled=true,\
                           sentry-release=frontend%402.0,sentry-environment=prod,\
                           sentry-transaction=GET%20%2Fcheckout",
            )
            .entered();
            error!("continued failure");
        }
        let _started = info_span!("checkout", tenant_id = "acme").entered();
        error!("own failure");
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for_events(2, WAIT);
    let received = h.receiver.received();
    let events = trace_headers(&received, "event");
    let transactions = trace_headers(&received, "transaction");
    assert_eq!((events.len(), transactions.len()), (2, 2));
    let head_dsc = serde_json::json!({
        "trace_id": head,
        "public_key": "headkey",
        "sample_rate": "0.25",
        "sampled": "true",
        "release": "frontend@2.0",
        "environment": "prod",
        "transaction": "GET /checkout",
    });
    let continued: Vec<_> = events
        .iter()
        .chain(&transactions)
        .filter(|dsc| dsc["trace_id"] == head)
        .collect();
    assert_eq!(
        continued.len(),
        2,
        "the event and the transaction of the request"
    );
    for dsc in continued {
        assert_eq!(*dsc, head_dsc);
    }
    let own: Vec<_> = events
        .iter()
        .chain(&transactions)
        .filter(|dsc| dsc["trace_id"] != head)
        .collect();
    assert_eq!(own.len(), 2);
    let own_trace = h
        .receiver
        .events()
        .iter()
        .find(|e| e.message.as_deref() == Some("own failure"))
        .and_then(|e| common::tag(e, "trace_id").map(str::to_owned))
        .expect("the started trace's id");
    for dsc in own {
        assert_eq!(
            *dsc,
            serde_json::json!({
                "trace_id": own_trace,
                "public_key": "publickey",
                "sample_rate": "1",
                "sampled": "true",
                "release": "tests@1.0.0",
                "environment": "test",
                "transaction": "checkout",
            })
        );
    }
    // Not a context of the report.
    assert!(h
        .receiver
        .events()
        .iter()
        .all(|e| e.contexts.keys().all(|k| !k.contains("trace_header"))));
}

/// Structured logs with large fields: every `log` item on the wire fits Relay's 1 MiB
/// per item (batches are cut by size as well as by count), every log arrives, and each
/// item header's `item_count` is the number of logs the `sentry` crate parses from it.
#[test]
fn batches_of_large_logs_fit_sentrys_item_limit_and_lose_no_log() {
    let h = harness(|b| b.enable_logs(tracing::Level::INFO).log_flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let logs = 30;
    tracing::subscriber::with_default(subscriber, || {
        info_span!("request", tenant_id = "acme").in_scope(|| {
            for i in 0..logs {
                info!(
                    a = text(20_000, i),
                    b = text(20_000, i + 1),
                    c = text(20_000, i + 2),
                    d = text(20_000, i + 3),
                    e = text(20_000, i + 4),
                    f = text(20_000, i + 5),
                    g = text(20_000, i + 6),
                    h = text(20_000, i + 7),
                    "{}",
                    text(20_000, i + 8)
                );
            }
        });
    });
    // Scrubbing megabytes of text takes a while in a debug build.
    let long = std::time::Duration::from_secs(120);
    assert!(h.guard.flush(long), "{:?}", h.guard.stats());
    let received = h.receiver.wait_for(2, long);
    let largest = largest_item(&received, "log");
    assert!(
        largest > 0 && largest <= MAX_EVENT_BYTES,
        "largest log item {largest} bytes"
    );
    let mut counted = 0;
    for r in &received {
        let envelope = r.envelope.as_ref().expect("parses");
        for item in envelope.items() {
            if let sentry::protocol::EnvelopeItem::ItemContainer(
                sentry::protocol::ItemContainer::Logs(batch),
            ) = item
            {
                counted += batch.len();
            }
        }
        let body = String::from_utf8_lossy(&r.body);
        for line in body.lines() {
            if let Ok(header) = serde_json::from_str::<serde_json::Value>(line) {
                if header["type"] == "log" {
                    assert!(header["item_count"].as_u64().is_some(), "{header}");
                }
            }
        }
    }
    assert_eq!(counted, logs, "every log arrives: {:?}", h.guard.stats());
    assert_eq!(h.guard.stats().logs_dropped, 0);
    println!(
        "{logs} logs of 9 fields of 20 KB: {} log items, the largest {largest} bytes",
        received
            .iter()
            .flat_map(item_sizes)
            .filter(|(t, _)| t == "log")
            .count()
    );
}
