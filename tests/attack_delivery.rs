//! Attack, family 3: hangs and losses. Each test bounds the time a service's thread may
//! spend and checks what is counted/delivered.

mod common;

use std::fmt;
use std::time::{Duration, Instant};

use common::{harness, WAIT};
use tracing_error_reports::testing::Behaviour;
use tracing_subscriber::prelude::*;

fn log_errors(n: usize, tag: &str) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let span = tracing::info_span!("request", tenant_id = "acme", user_id = i as u64);
        let _e = span.enter();
        tracing::info!("crumb {i}");
        tracing::error!(i, "failure {tag} {i}");
    }
    start.elapsed()
}

/// Sentry hangs (reads the request, never answers). Logging must not block; the guard's
/// drop must return within shutdown_timeout (+ slack); the losses must be counted.
#[test]
fn hanging_sentry() {
    let h = harness(|b| b.shutdown_timeout(Duration::from_secs(1)).http_timeout(Duration::from_secs(30)));
    h.receiver.set_behaviour(Behaviour::Hang);
    let sub = tracing_subscriber::registry().with(h.layer);
    let took = tracing::subscriber::with_default(sub, || log_errors(3000, "hang"));
    println!("3000 error! with hanging Sentry took {took:?}");
    let stats = h.guard.stats();
    let start = Instant::now();
    drop(h.guard);
    let dropped = start.elapsed();
    println!("guard drop took {dropped:?}; stats before drop {stats:?}");
    assert!(took < Duration::from_secs(3), "logging blocked: {took:?}");
    assert!(dropped < Duration::from_millis(1800), "guard drop took {dropped:?}");
}

/// Slow Sentry (3 s per envelope) with the default http timeout: no blocking.
#[test]
fn slow_sentry() {
    let h = harness(|b| b.shutdown_timeout(Duration::from_secs(1)));
    h.receiver.set_behaviour(Behaviour::Delay(Duration::from_secs(3)));
    let sub = tracing_subscriber::registry().with(h.layer);
    let took = tracing::subscriber::with_default(sub, || log_errors(200, "slow"));
    let start = Instant::now();
    let flushed = h.guard.flush(Duration::from_millis(500));
    let f = start.elapsed();
    println!("slow: logging {took:?}, flush(500ms) -> {flushed} in {f:?}");
    let start = Instant::now();
    drop(h.guard);
    let d = start.elapsed();
    println!("slow: drop {d:?}");
    assert!(f < Duration::from_millis(1200));
    assert!(d < Duration::from_millis(1800));
}

/// 429 with Retry-After, then healthy again: reports during the back-off are counted as
/// rate limited, reports after it are delivered.
#[test]
fn rate_limited_then_recovers() {
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    receiver.set_behaviour(Behaviour::Status(
        429,
        vec![("Retry-After".into(), "2".into()), ("X-Sentry-Rate-Limits".into(), "2:error;transaction:organization".into())],
    ));
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        log_errors(5, "first");
        std::thread::sleep(Duration::from_millis(500));
        receiver.set_behaviour(Behaviour::Healthy);
        log_errors(5, "during");
        std::thread::sleep(Duration::from_millis(2500));
        log_errors(5, "after");
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(10, WAIT);
    let stats = h.guard.stats();
    let after = events.iter().filter(|e| e.message.as_deref().unwrap_or("").contains("after")).count();
    println!("429: stats {stats:?}; events after back-off delivered: {after}");
    drop(h.guard);
    assert_eq!(after, 5);
    assert_eq!(stats.delivered + stats.rate_limited + stats.failed, stats.queued);
}

/// 413 for large envelopes: a huge event (large message, many large fields, 150 breadcrumbs
/// of ten 2 MiB fields each) must stay under Sentry's 1 MiB event limit; a 413 answer is
/// counted as failed, and the following small events still arrive.
#[test]
fn huge_event_and_413() {
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let big = "x".repeat(2 * 1024 * 1024);
    receiver.set_behaviour(Behaviour::Status(413, vec![]));
    let took = tracing::subscriber::with_default(sub, || {
        let start = Instant::now();
        let span = tracing::info_span!("request", tenant_id = "acme", s1 = %big, s2 = %big, s3 = %big);
        let _e = span.enter();
        for i in 0..150 {
            tracing::info!(b0 = %big, b1 = %big, b2 = %big, b3 = %big, b4 = %big, b5 = %big, b6 = %big, b7 = %big, b8 = %big, b9 = %big, "crumb {i}");
        }
        tracing::error!(a = %big, b = %big, c = %big, d = %big, e = %big, f = %big, "{}", big);
        let took = start.elapsed();
        receiver.wait_for(1, WAIT);
        std::thread::sleep(Duration::from_millis(200));
        receiver.set_behaviour(Behaviour::Healthy);
        tracing::error!("third healthy");
        took
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(2, WAIT);
    let stats = h.guard.stats();
    let statuses: Vec<u16> = receiver.received().iter().map(|r| r.status).collect();
    let sizes: Vec<usize> = receiver.received().iter().map(|r| r.body.len()).collect();
    println!("huge: logging took {took:?}; statuses {statuses:?}; envelope sizes {sizes:?}; stats {stats:?}; events {}", events.len());
    drop(h.guard);
    assert!(sizes.iter().all(|s| *s < 1024 * 1024), "an envelope over 1 MiB was sent");
    assert!(events.iter().any(|e| e.message.as_deref() == Some("third healthy")));
    assert!(stats.failed >= 1, "413 not counted as failed");
}

/// 500 on every request: counted as failed, and nothing blocks.
#[test]
fn server_error_500() {
    let h = harness(|b| b.shutdown_timeout(Duration::from_secs(1)));
    h.receiver.set_behaviour(Behaviour::Status(500, vec![]));
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || log_errors(20, "500"));
    let flushed = h.guard.flush(Duration::from_secs(3));
    let stats = h.guard.stats();
    println!("500: flushed {flushed}; stats {stats:?}");
    drop(h.guard);
    assert_eq!(stats.failed, 20);
}

/// Unreachable Sentry (a closed port): no block, counted.
#[test]
fn unreachable_sentry() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = tracing_error_reports::Config::builder()
        .dsn(format!("http://k@127.0.0.1:{port}/1"))
        .install_panic_hook(false)
        .shutdown_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let (layer, guard) = tracing_error_reports::init(config);
    let sub = tracing_subscriber::registry().with(layer);
    let took = tracing::subscriber::with_default(sub, || log_errors(100, "unreach"));
    let flushed = guard.flush(Duration::from_secs(3));
    let stats = guard.stats();
    println!("unreachable: took {took:?}, flushed {flushed}, stats {stats:?}");
    let start = Instant::now();
    drop(guard);
    assert!(start.elapsed() < Duration::from_millis(1800));
    assert_eq!(stats.failed + stats.rate_limited + stats.delivered, stats.queued);
}

struct Bomb;
impl fmt::Debug for Bomb {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug exploded with password=Bo0mPw!")
    }
}
impl fmt::Display for Bomb {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display exploded with token=Bo0mTok!")
    }
}

/// Panicking Debug/Display impls in event fields, span fields, and recorded span fields.
/// The service thread's own call panics (as with any subscriber); afterwards the layer must
/// keep working and no raw secret from the panic message leaves.
#[test]
fn panicking_debug_impls() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let mut outcomes = Vec::new();
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!("request", tenant_id = "acme", extra = tracing::field::Empty);
        let _e = span.enter();
        outcomes.push(("event ?bomb", std::panic::catch_unwind(|| tracing::error!(x = ?Bomb, "with debug bomb")).is_ok()));
        outcomes.push(("event %bomb", std::panic::catch_unwind(|| tracing::error!(x = %Bomb, "with display bomb")).is_ok()));
        outcomes.push(("span field", std::panic::catch_unwind(|| {
            let s = tracing::info_span!("child", b = ?Bomb);
            let _g = s.enter();
        }).is_ok()));
        outcomes.push(("record", std::panic::catch_unwind(|| {
            tracing::Span::current().record("extra", tracing::field::debug(Bomb));
        }).is_ok()));
        outcomes.push(("message", std::panic::catch_unwind(|| tracing::error!("{:?}", Bomb)).is_ok()));
        tracing::error!("after the bombs");
    });
    let events = receiver.wait_for_events(1, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let events2 = receiver.events();
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    println!("bombs: outcomes (true = no panic reached the caller) {outcomes:?}");
    println!("bombs: {} events: {:?}", events2.len(), events2.iter().map(|e| e.message.clone()).collect::<Vec<_>>());
    drop(h.guard);
    let _ = events;
    assert!(events2.iter().any(|e| e.message.as_deref() == Some("after the bombs")));
    assert!(!wire.contains("Bo0mPw!") && !wire.contains("Bo0mTok!"), "panic message secret on the wire");
}

/// init twice: two layers, two guards. Each layer's reports go to its own DSN; dropping the
/// first guard must not break the second.
#[test]
fn init_twice() {
    let h1 = harness(|b| b);
    let h2 = harness(|b| b);
    let r1 = h1.receiver;
    let r2 = h2.receiver;
    let sub = tracing_subscriber::registry().with(h1.layer).with(h2.layer);
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!("request", tenant_id = "acme");
        let _e = span.enter();
        tracing::error!("both one");
        drop(h1.guard);
        tracing::error!("both two");
    });
    let e2 = r2.wait_for_events(2, WAIT);
    let e1 = r1.events();
    println!("init twice: first got {:?}, second got {:?}", e1.iter().map(|e| e.message.clone()).collect::<Vec<_>>(), e2.iter().map(|e| e.message.clone()).collect::<Vec<_>>());
    drop(h2.guard);
    assert_eq!(e2.len(), 2);
    assert!(e1.len() >= 1);
}

/// The layer behind tracing-subscriber's reload layer, swapped at run time.
#[test]
fn reload_layer() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    let (reloadable, handle) = tracing_subscriber::reload::Layer::new(h.layer);
    let sub = tracing_subscriber::registry().with(reloadable);
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!("request", tenant_id = "acme");
        let _e = span.enter();
        tracing::info!("crumb before reload");
        tracing::error!("before reload");
        let old = handle.modify(|l| { let _ = l.take(); }).is_ok();
        tracing::error!("while removed");
        println!("reload: removed {old}");
    });
    let events = receiver.wait_for_events(1, WAIT);
    println!("reload: {:?}", events.iter().map(|e| e.message.clone()).collect::<Vec<_>>());
    drop(h.guard);
    assert_eq!(events.len(), 1);
}

/// Odd SENTRY_* values: nothing panics; values that cannot be used are refused, never used.
#[test]
fn odd_env_values() {
    let cases: &[(&str, &str)] = &[
        ("SENTRY_SAMPLE_RATE", "NaN"),
        ("SENTRY_SAMPLE_RATE", "1e-50"),
        ("SENTRY_SAMPLE_RATE", "-0"),
        ("SENTRY_SAMPLE_RATE", "0x1"),
        ("SENTRY_TRACES_SAMPLE_RATE", "inf"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0000001"),
        ("SENTRY_TRACES_SAMPLE_RATE", "１"),
        ("SENTRY_ENVIRONMENT", "prod\u{200b}"),
        ("SENTRY_ENVIRONMENT", "prod\u{202e}"),
        ("SENTRY_ENVIRONMENT", "None"),
        ("SENTRY_RELEASE", "app@1.0?token=ghp_Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo"),
        ("SENTRY_RELEASE", "  "),
        ("SENTRY_DSN", "http://key@127.0.0.1:99999/1"),
        ("SENTRY_DSN", "http://key:secretpart@127.0.0.1:1/1"),
        ("SENTRY_DSN", "http://key@127.0.0.1:1/1\nX-Injected: yes"),
        ("SENTRY_DSN", "file:///etc/passwd"),
        ("SENTRY_DSN", "http://key@127.0.0.1:1/"),
        ("SENTRY_DSN", "http://@127.0.0.1:1/1"),
    ];
    for (var, value) in cases {
        for v in ["SENTRY_SAMPLE_RATE", "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_DSN"] {
            unsafe { std::env::remove_var(v) };
        }
        unsafe { std::env::set_var(var, value) };
        if *var != "SENTRY_DSN" {
            unsafe { std::env::set_var("SENTRY_DSN", "http://k@127.0.0.1:1/1") };
        }
        let r = std::panic::catch_unwind(|| {
            let config = tracing_error_reports::Config::builder()
                .install_panic_hook(false)
                .with_env()
                .build_lenient();
            let diags = format!("{:?}", config.diagnostics());
            let (layer, guard) = tracing_error_reports::init(config);
            (diags, layer.is_some(), format!("{:?}", guard.status()))
        });
        match r {
            Ok((d, on, s)) => println!("ENV {var}={value:?}: on={on} status={s} diags={d}"),
            Err(_) => println!("ENV {var}={value:?}: PANIC"),
        }
    }
    for v in ["SENTRY_SAMPLE_RATE", "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_DSN"] {
        unsafe { std::env::remove_var(v) };
    }
}

/// The release from the environment holding a token: does it reach the wire unscrubbed?
#[test]
fn release_with_secret_on_wire() {
    let receiver = tracing_error_reports::testing::SentryReceiver::start().unwrap();
    let config = tracing_error_reports::Config::builder()
        .dsn(receiver.dsn())
        .install_panic_hook(false)
        .release("app@1.0+ghp_Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo")
        .environment("prod")
        .server_name("db-admin:Pw0rd!x@host")
        .build();
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            println!("release/server_name refused by build(): {e:?}");
            return;
        }
    };
    let (layer, guard) = tracing_error_reports::init(config);
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || tracing::error!("x"));
    receiver.wait_for_events(1, WAIT);
    drop(guard);
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    let leaks: Vec<&str> = ["Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo", "Pw0rd!x"].into_iter().filter(|s| wire.contains(s)).collect();
    println!("release/server_name leaks: {leaks:?}");
    assert!(leaks.is_empty());
}

/// process::exit in a child: reports logged just before are delivered.
#[test]
fn process_exit_child() {
    if std::env::var("ATTACK_CHILD").is_ok() {
        let dsn = std::env::var("ATTACK_DSN").unwrap();
        let config = tracing_error_reports::Config::builder().dsn(dsn).build().unwrap();
        let (layer, guard) = tracing_error_reports::init(config);
        let sub = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(sub).unwrap();
        for i in 0..3 {
            let span = tracing::info_span!("request", tenant_id = "acme");
            let _e = span.enter();
            tracing::error!("child report {i}");
        }
        std::mem::forget(guard);
        std::process::exit(3);
    }
    let receiver = tracing_error_reports::testing::SentryReceiver::start().unwrap();
    receiver.set_behaviour(Behaviour::Delay(Duration::from_millis(300)));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "process_exit_child", "--nocapture", "--test-threads=1"])
        .env("ATTACK_CHILD", "1")
        .env("ATTACK_DSN", receiver.dsn())
        .output()
        .unwrap();
    let events = receiver.wait_for_events(3, Duration::from_secs(3));
    println!("exit child: status {:?}, stderr {}, events {}", out.status.code(), String::from_utf8_lossy(&out.stderr), events.len());
    assert_eq!(events.len(), 3);
}
