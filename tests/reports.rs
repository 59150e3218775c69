//! Error events, breadcrumbs, tenant and user, as a Sentry server receives them.

mod common;

use std::fmt;

use common::{crumb_messages, harness, tag, WAIT};
use sentry::protocol::{Context, Level};
use tracing::{error, info, info_span, warn};
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct ConnectError {
    source: std::io::Error,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not reach the database")
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[test]
fn an_error_event_arrives_with_tenant_user_breadcrumbs_and_exception_chain() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = info_span!("request", tenant_id = "acme", user_id = 42_u64);
        let _entered = request.enter();
        info!(route = "/orders", "loading orders");
        {
            let _db = info_span!("db_query", table = "orders").entered();
            warn!(attempt = 2, "slow query");
        }
        tracing::debug!("not a breadcrumb");
        let err = ConnectError {
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        };
        error!(
            error = &err as &(dyn std::error::Error + 'static),
            order_id = 17,
            "order failed"
        );
    });
    assert!(
        h.guard.flush(WAIT),
        "flush completes against a healthy server"
    );
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1, "exactly one report");
    let event = &events[0];

    assert_eq!(event.level, Level::Error);
    assert_eq!(event.message.as_deref(), Some("order failed"));
    assert_eq!(event.logger.as_deref(), Some("reports"));
    assert_eq!(event.release.as_deref(), Some("tests@1.0.0"));
    assert_eq!(event.environment.as_deref(), Some("test"));
    assert_eq!(event.transaction.as_deref(), Some("request"));

    assert_eq!(tag(event, "tenant_id"), Some("acme"));
    let user = event.user.as_ref().expect("user context");
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(
        user.other.get("tenant_id").and_then(|v| v.as_str()),
        Some("acme")
    );

    let chain: Vec<_> = event
        .exception
        .values
        .iter()
        .map(|e| (e.ty.as_str(), e.value.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        chain,
        [
            ("Custom", "connect timed out"),
            ("ConnectError", "could not reach the database")
        ],
        "root cause first, logged error last"
    );
    assert!(event.exception.values[1].mechanism.is_some());

    let crumbs: Vec<_> = event
        .breadcrumbs
        .values
        .iter()
        .map(|b| (b.level, b.message.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        crumbs,
        [
            (Level::Info, "loading orders"),
            (Level::Warning, "slow query")
        ],
        "breadcrumbs of the request, including the exited child span's"
    );
    assert_eq!(
        event.breadcrumbs.values[0]
            .data
            .get("route")
            .and_then(|v| v.as_str()),
        Some("/orders")
    );

    let Some(Context::Other(fields)) = event.contexts.get("fields") else {
        panic!("fields context missing: {:?}", event.contexts.keys());
    };
    assert_eq!(fields.get("order_id").and_then(|v| v.as_u64()), Some(17));
    let Some(Context::Other(spans)) = event.contexts.get("spans") else {
        panic!("spans context missing");
    };
    assert!(spans.contains_key("request"));
    let Some(Context::Trace(trace)) = event.contexts.get("trace") else {
        panic!("trace context missing");
    };
    assert_eq!(
        tag(event, "trace_id"),
        Some(trace.trace_id.to_string().as_str())
    );
    let Some(Context::Other(location)) = event.contexts.get("location") else {
        panic!("location context missing");
    };
    assert!(location
        .get("file")
        .and_then(|v| v.as_str())
        .is_some_and(|f| f.ends_with("reports.rs")));
}

#[test]
fn nearest_span_wins_and_an_event_field_overrides() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _outer = info_span!("request", tenant_id = "outer", user_id = "u-outer").entered();
        let _inner = info_span!("job", tenant_id = "inner").entered();
        error!("from inner");
        error!(tenant_id = "explicit", "with its own tenant");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(2, WAIT);
    let by_message = |m: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(m))
            .unwrap_or_else(|| panic!("no event {m:?}"))
    };
    let inner = by_message("from inner");
    assert_eq!(tag(inner, "tenant_id"), Some("inner"));
    // The outer span's user is tenant `outer`'s: not taken under another tenant.
    assert_eq!(inner.user.as_ref().and_then(|u| u.id.as_deref()), None);
    assert_eq!(
        tag(by_message("with its own tenant"), "tenant_id"),
        Some("explicit")
    );
}

#[test]
fn a_tenant_recorded_after_creation_counts() {
    let h = harness(|b| b.tenant_fields(&["org_id"]));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("request", org_id = tracing::field::Empty);
        let _entered = span.enter();
        error!("before authentication");
        span.record("org_id", "org-7");
        error!("after authentication");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(2, WAIT);
    let tenant_of = |m: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(m))
            .map(|e| tag(e, "tenant_id").map(str::to_owned))
    };
    assert_eq!(tenant_of("before authentication"), Some(None));
    assert_eq!(
        tenant_of("after authentication"),
        Some(Some("org-7".into()))
    );
}

#[test]
fn breadcrumbs_never_cross_requests_on_one_thread() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let a = info_span!("request", tenant_id = "a");
        let b = info_span!("request", tenant_id = "b");
        a.in_scope(|| info!("a-1"));
        b.in_scope(|| info!("b-1"));
        a.in_scope(|| info!("a-2"));
        b.in_scope(|| error!("b failed"));
        info!("outside any request");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let crumbs: Vec<_> = crumb_messages(&events[0]);
    assert_eq!(crumbs, ["b-1"]);
}

#[test]
fn breadcrumbs_are_bounded_per_request() {
    let h = harness(|b| b.max_breadcrumbs(5));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _r = info_span!("request").entered();
        for i in 0..20 {
            info!(i, "step");
        }
        error!("failed");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    let steps: Vec<_> = events[0]
        .breadcrumbs
        .values
        .iter()
        .filter_map(|b| b.data.get("i").and_then(|v| v.as_u64()))
        .collect();
    assert_eq!(steps, [15, 16, 17, 18, 19], "the newest five are kept");
}

#[test]
fn the_sdk_and_exporters_never_report_themselves() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        error!(target: "reqwest::connect", "connection refused");
        error!(target: "tracing_loki", "couldn't send logs to loki");
        error!(target: "opentelemetry_sdk", "export failed");
        error!(target: "hyperion", "a target that only starts like hyper");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    assert_eq!(messages, ["a target that only starts like hyper"]);
}

#[test]
fn sibling_layers_still_see_every_event() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    struct Count(Arc<AtomicUsize>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
        fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry()
        .with(h.layer)
        .with(Count(seen.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::trace!("t");
        tracing::debug!("d");
        info!("i");
        error!(target: "reqwest", "e");
    });
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}

#[test]
fn sampled_requests_become_transactions_with_their_child_spans() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _r = info_span!("checkout", tenant_id = "acme").entered();
        info_span!("charge_card", amount = 10).in_scope(|| {
            info_span!("call_bank").in_scope(|| {});
        });
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    let txs = h.receiver.transactions();
    assert_eq!(txs.len(), 1);
    let tx = &txs[0];
    assert_eq!(tx.name.as_deref(), Some("checkout"));
    assert_eq!(tx.tags.get("tenant_id").map(String::as_str), Some("acme"));
    assert_eq!(tx.release.as_deref(), Some("tests@1.0.0"));
    let mut ops: Vec<_> = tx.spans.iter().filter_map(|s| s.op.clone()).collect();
    ops.sort();
    assert_eq!(ops, ["call_bank", "charge_card"]);
    let Some(Context::Trace(trace)) = tx.contexts.get("trace") else {
        panic!("trace context");
    };
    let charge = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("charge_card"))
        .expect("span");
    let bank = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("call_bank"))
        .expect("span");
    assert_eq!(charge.parent_span_id, Some(trace.span_id));
    assert_eq!(bank.parent_span_id, Some(charge.span_id));
    assert!(tx.spans.iter().all(|s| s.trace_id == trace.trace_id));
}

#[test]
fn unsampled_requests_send_nothing_but_their_errors() {
    let h = harness(|b| b.traces_sample_rate(0.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _r = info_span!("checkout").entered();
        info_span!("charge_card").in_scope(|| error!("declined"));
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for_events(1, WAIT);
    assert!(h.receiver.transactions().is_empty());
    assert_eq!(h.receiver.events().len(), 1);
}

#[test]
fn flood_control_bounds_reports_per_callsite_and_says_how_many_were_held_back() {
    let h = harness(|b| {
        b.flood_limit(Some(tracing_error_reports::FloodLimit::new(
            std::num::NonZeroU32::new(3).expect("not zero"),
            std::time::Duration::from_millis(300),
        )))
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let fire = || {
            for _ in 0..50 {
                error!("same callsite");
            }
        };
        fire();
        std::thread::sleep(std::time::Duration::from_millis(400));
        fire();
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(6, WAIT);
    assert_eq!(events.len(), 6, "3 per window");
    let stats = h.guard.stats();
    assert_eq!(stats.suppressed, 94);
    assert_eq!(stats.queued, 6);
    let held_back: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.contexts.get("fields") {
            Some(Context::Other(f)) => f.get("suppressed_before").and_then(|v| v.as_u64()),
            _ => None,
        })
        .collect();
    assert_eq!(
        held_back,
        [47],
        "the first report of the next window says 47 were held back"
    );
}

#[test]
fn an_explicit_parent_wins_over_the_entered_span() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let a = info_span!("request", tenant_id = "a");
        let b = info_span!("request", tenant_id = "b");
        let _in_a = a.enter();
        info!(parent: &b, "for b");
        info!("for a");
        error!(parent: &b, "b failed");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(tag(&events[0], "tenant_id"), Some("b"));
    assert_eq!(crumb_messages(&events[0]), ["for b"]);
}

#[test]
fn two_subscribers_on_one_thread_keep_their_requests_apart() {
    let first = harness(|b| b);
    let second = harness(|b| b);
    let sub_first = tracing::Dispatch::new(tracing_subscriber::registry().with(first.layer));
    let sub_second = tracing::Dispatch::new(tracing_subscriber::registry().with(second.layer));
    tracing::dispatcher::with_default(&sub_first, || {
        let _one = info_span!("request", tenant_id = "one").entered();
        info!("one-1");
        tracing::dispatcher::with_default(&sub_second, || {
            let _two = info_span!("request", tenant_id = "two").entered();
            info!("two-1");
            error!("two failed");
        });
        info!("one-2");
        error!("one failed");
    });
    assert!(first.guard.flush(WAIT) && second.guard.flush(WAIT));
    let one = first.receiver.wait_for_events(1, WAIT);
    let two = second.receiver.wait_for_events(1, WAIT);
    assert_eq!((one.len(), two.len()), (1, 1));
    assert_eq!(crumb_messages(&one[0]), ["one-1", "one-2"]);
    assert_eq!(crumb_messages(&two[0]), ["two-1"]);
    assert_eq!(tag(&two[0], "tenant_id"), Some("two"));
}

#[test]
fn spans_exited_out_of_order_leave_no_stale_request_behind() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let a = info_span!("request", tenant_id = "a");
        let b = info_span!("request", tenant_id = "b");
        let in_a = a.enter();
        let in_b = b.enter();
        drop(in_a); // a exits while b is still entered
        info!("still in b");
        drop(in_b);
        info!("outside both");
        let _c = info_span!("request", tenant_id = "c").entered();
        info!("in c");
        error!("c failed");
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(tag(&events[0], "tenant_id"), Some("c"));
    assert_eq!(crumb_messages(&events[0]), ["in c"]);
}

/// A thiserror error with a source, as services define them.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("loading order {0} failed")]
    Db(u32, #[source] DbError),
}

#[derive(Debug, thiserror::Error)]
#[error("connection refused by db-7")]
struct DbError;

/// `#[instrument(err)]` records `%e`: the `Display` of the top error only.
#[tracing::instrument(err)]
fn load_instrumented(id: u32) -> Result<(), LoadError> {
    Err(LoadError::Db(id, DbError))
}

/// The README's pattern: the error recorded as `&dyn Error`, its `source()` chain walked.
#[tracing::instrument]
fn load_with_chain(id: u32) -> Result<(), LoadError> {
    Err(LoadError::Db(id, DbError)).inspect_err(|e| {
        tracing::error!(
            error = e as &(dyn std::error::Error + 'static),
            "load failed"
        )
    })
}

#[test]
fn a_thiserror_chain_arrives_whole_with_the_documented_pattern() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _ = load_instrumented(7);
        let _ = load_with_chain(8);
    });
    let events = h.receiver.wait_for_events(2, WAIT);
    assert_eq!(events.len(), 2);
    let values = |event: &sentry::protocol::Event<'static>| -> Vec<String> {
        event
            .exception
            .values
            .iter()
            .map(|e| e.value.clone().unwrap_or_default())
            .collect()
    };
    // `#[instrument(err)]`: the top message only, the cause lost.
    assert_eq!(values(&events[0]), ["loading order 7 failed"]);
    // The pattern: the whole chain, root cause first, as Sentry lists it.
    assert_eq!(
        values(&events[1]),
        ["connection refused by db-7", "loading order 8 failed"]
    );
    assert_eq!(events[1].message.as_deref(), Some("load failed"));
}
