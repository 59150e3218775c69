//! Attack, family 3 (more): panicking user callbacks, dropped guards, queue overflow,
//! two layers in one subscriber.

mod common;

use std::time::{Duration, Instant};

use common::{harness, WAIT};
use tracing_error_reports::testing::Behaviour;
use tracing_subscriber::prelude::*;

fn errors(n: usize, what: &str) {
    for i in 0..n {
        let span = tracing::info_span!("request", tenant_id = "acme", user_id = i as u64);
        let _e = span.enter();
        tracing::info!("crumb {i}");
        tracing::error!("{what} {i}");
    }
}

/// before_send panics on one event (a user callback bug): the others must still arrive,
/// and the guard must still flush.
#[test]
fn before_send_panics_once() {
    let h = harness(|b| {
        b.flood_limit(None).before_send(|e| {
            if e.message.as_deref().map(|m| m.ends_with(" 3")).unwrap_or(false) {
                panic!("before_send bug");
            }
            Some(e)
        })
    });
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || errors(10, "bs"));
    let start = Instant::now();
    let flushed = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(9, WAIT);
    let stats = h.guard.stats();
    println!("before_send panic: flushed {flushed} in {:?}; {} events; stats {stats:?}", start.elapsed(), events.len());
    drop(h.guard);
    assert_eq!(events.len(), 9);
}

/// before_breadcrumb panics: the service thread must not panic, the report must still go.
#[test]
fn before_breadcrumb_panics() {
    let h = harness(|b| b.before_breadcrumb(|_c| panic!("before_breadcrumb bug")));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::subscriber::with_default(sub, || errors(3, "bb"))
    }))
    .is_ok();
    let _ = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(3, WAIT);
    println!("before_breadcrumb panic: service thread unharmed {ok}; {} events", events.len());
    drop(h.guard);
    assert!(ok);
    assert_eq!(events.len(), 3);
}

/// event_filter panics (runs on the logging thread).
#[test]
fn event_filter_panics() {
    let h = harness(|b| b.event_filter(|m| if m.level() == &tracing::Level::ERROR { panic!("filter bug") } else { true }));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::subscriber::with_default(sub, || errors(3, "ef"))
    }))
    .is_ok();
    let _ = h.guard.flush(Duration::from_secs(3));
    let events = receiver.events();
    println!("event_filter panic: service thread unharmed {ok}; {} events", events.len());
    drop(h.guard);
    assert!(ok);
}

/// The guard dropped at once (`let (layer, _) = init(..)`): later reports still go out.
#[test]
fn guard_dropped_at_once() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    drop(h.guard);
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || errors(3, "late"));
    let events = receiver.wait_for_events(3, Duration::from_secs(5));
    println!("guard dropped at once: {} of 3 events delivered while running", events.len());
    assert_eq!(events.len(), 3);
}

/// Queue overflow with a hanging Sentry: every report is accounted for.
#[test]
fn queue_overflow_accounting() {
    let h = harness(|b| b.flood_limit(None).shutdown_timeout(Duration::from_millis(500)));
    h.receiver.set_behaviour(Behaviour::Hang);
    let sub = tracing_subscriber::registry().with(h.layer);
    let start = Instant::now();
    tracing::subscriber::with_default(sub, || errors(6000, "flood"));
    let took = start.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let s = h.guard.stats();
    println!("overflow: 6000 errors in {took:?}; stats {s:?}");
    drop(h.guard);
    assert_eq!(s.queued + s.dropped_queue_full + s.suppressed + s.sampled_out, 6000);
}

/// Two ErrorReportLayers in one subscriber (two DSNs, or a library and the app each adding
/// one; or the same init run twice): the first span must not panic the service.
#[test]
fn two_layers_one_subscriber() {
    let h1 = harness(|b| b);
    let h2 = harness(|b| b);
    let sub = tracing_subscriber::registry().with(h1.layer).with(h2.layer);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!("request", tenant_id = "acme");
            let _e = span.enter();
            tracing::error!("one");
        })
    }));
    println!("two layers: span creation {}", if ok.is_ok() { "ok" } else { "PANICKED" });
    drop(h1.guard);
    drop(h2.guard);
    assert!(ok.is_ok());
}

/// Two layers, one wrapped in Option, one in a reload layer (a service migrating DSNs).
#[test]
fn two_layers_any_span_at_all() {
    let h1 = harness(|b| b);
    let h2 = harness(|b| b);
    let sub = tracing_subscriber::registry().with(h1.layer).with(h2.layer);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::subscriber::with_default(sub, || {
            let _s = tracing::debug_span!("anything").entered();
        })
    }));
    println!("two layers, a DEBUG span: {}", if ok.is_ok() { "ok" } else { "PANICKED" });
    assert!(ok.is_ok());
}

/// Reload swaps in a newly initialised layer (new DSN, e.g. after a config reload) while
/// request spans made under the old one are still open.
#[test]
fn reload_to_new_layer_with_open_request() {
    let h1 = harness(|b| b);
    let h2 = harness(|b| b);
    let (r1, r2) = (h1.receiver, h2.receiver);
    let (reloadable, handle) = tracing_subscriber::reload::Layer::new(h1.layer);
    let sub = tracing_subscriber::registry().with(reloadable);
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!("request", tenant_id = "acme", user_id = 5_u64);
            let _e = span.enter();
            tracing::info!("crumb under old layer");
            handle.reload(h2.layer).unwrap();
            tracing::error!("after reload, old request");
            let span2 = tracing::info_span!("request", tenant_id = "globex", user_id = 6_u64);
            let _e2 = span2.enter();
            tracing::error!("after reload, new request");
        })
    }));
    let _ = h1.guard.flush(Duration::from_secs(3));
    let _ = h2.guard.flush(Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(300));
    let show = |r: &tracing_error_reports::testing::SentryReceiver| {
        r.events().iter().map(|e| format!("{:?} tenant={:?} crumbs={:?}", e.message, e.tags.get("tenant_id"), common::crumb_messages(e))).collect::<Vec<_>>()
    };
    println!("reload to new layer: ok={} old receiver {:?}; new receiver {:?}", ok.is_ok(), show(&r1), show(&r2));
    assert!(ok.is_ok());
    assert_eq!(r2.events().len(), 2);
}
