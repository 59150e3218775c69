//! Two `ErrorReportLayer`s in one subscriber (`.with(l1).with(l2)`, or `init` called twice
//! and both added) panicked at every span creation: both inserted their node into the span's
//! extensions. The first layer owns the spans (said once on stderr); the second makes no
//! state of its own in them, reads the first one's for its reports, and never panics.

mod common;

use common::{harness, tag};
use tracing::{error, info, info_span, Instrument};
use tracing_subscriber::prelude::*;

#[test]
fn a_second_layer_in_one_subscriber_reports_with_the_first_ones_span_state() {
    let first = harness(|b| b.flood_limit(None));
    let second = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry()
        .with(first.layer)
        .with(second.layer);
    let ids = tracing::subscriber::with_default(subscriber, || {
        let mut ids = Vec::new();
        for (tenant, user) in [("acme", 1_u64), ("globex", 2)] {
            let request = info_span!(
                "request",
                otel.kind = "server",
                tenant_id = tenant,
                user_id = user
            );
            let _entered = request.enter();
            info!("loaded cart of {tenant}");
            let _child = info_span!("checkout", step = 2).entered();
            error!("checkout failed for {tenant}");
            ids.push(tracing_error_reports::last_event_id());
        }
        // Outside any span both layers report.
        error!("outside any request");
        ids
    });
    let events = first.receiver.wait_for_events(3, common::WAIT);
    assert_eq!(events.len(), 3, "the first layer reports every error");
    for (tenant, id) in [("acme", ids[0]), ("globex", ids[1])] {
        let event = events
            .iter()
            .find(|e| e.message.as_deref() == Some(&format!("checkout failed for {tenant}")))
            .expect("report of the request");
        assert_eq!(tag(event, "tenant_id"), Some(tenant));
        assert_eq!(
            common::crumb_messages(event),
            vec![format!("loaded cart of {tenant}")]
        );
        assert_eq!(
            id,
            Some(event.event_id),
            "last_event_id is the owner's report"
        );
    }
    // The second layer sends the same reports to its own DSN: the same tenant and the
    // same breadcrumbs, each once (it keeps none of its own in the first one's spans).
    let seconds = second.receiver.wait_for_events(3, common::WAIT);
    drop(first.guard);
    drop(second.guard);
    assert_eq!(seconds.len(), 3);
    for tenant in ["acme", "globex"] {
        let event = seconds
            .iter()
            .find(|e| e.message.as_deref() == Some(&format!("checkout failed for {tenant}")))
            .expect("report of the request");
        assert_eq!(tag(event, "tenant_id"), Some(tenant));
        assert_eq!(
            common::crumb_messages(event),
            vec![format!("loaded cart of {tenant}")]
        );
        assert!(!ids.contains(&Some(event.event_id)), "ids are the owner's");
    }
}

/// A reloaded layer (`reload::Layer`, a new DSN after a configuration reload) while a
/// request made under the old one is open: its errors are still reported, with its tenant.
#[test]
fn a_reloaded_layer_reports_in_a_request_of_the_old_one() {
    let old = harness(|b| b.flood_limit(None));
    let new = harness(|b| b.flood_limit(None));
    let (layer, handle) = tracing_subscriber::reload::Layer::new(old.layer);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = info_span!("request", tenant_id = "acme", user_id = 5_u64);
        let _entered = request.enter();
        info!("crumb under the old layer");
        handle.reload(new.layer).expect("reloaded");
        error!("after reload, old request");
        let _other = info_span!("request", tenant_id = "globex", user_id = 6_u64).entered();
        error!("after reload, new request");
    });
    let events = new.receiver.wait_for_events(2, common::WAIT);
    assert_eq!(events.len(), 2);
    for (message, tenant) in [
        ("after reload, old request", "acme"),
        ("after reload, new request", "globex"),
    ] {
        let event = events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .expect(message);
        assert_eq!(tag(event, "tenant_id"), Some(tenant), "{message}");
    }
}

/// The async form: spans made and entered on a multi-thread runtime through `Instrument`.
#[test]
fn two_layers_on_a_runtime_do_not_panic() {
    let first = harness(|b| b.flood_limit(None));
    let second = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry()
        .with(first.layer)
        .with(second.layer);
    let dispatch = tracing::Dispatch::new(subscriber);
    let runtime = {
        let dispatch = dispatch.clone();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&dispatch)))
            .enable_all()
            .build()
            .unwrap()
    };
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    tokio::spawn(
                        async move {
                            tokio::task::yield_now().await;
                            error!("job {i} failed");
                        }
                        .instrument(info_span!("job", tenant_id = i)),
                    )
                })
                .collect();
            for task in tasks {
                task.await.expect("no panic in a span callback");
            }
        })
    });
    let events = first.receiver.wait_for_events(8, common::WAIT);
    assert_eq!(events.len(), 8);
    assert!(events.iter().all(|e| tag(e, "tenant_id").is_some()));
}
