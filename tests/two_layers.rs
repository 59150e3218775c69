//! Two `ErrorReportLayer`s in one subscriber (`.with(l1).with(l2)`, or `init` called twice
//! and both added) panicked at every span creation: both inserted their node into the span's
//! extensions. The first layer owns the spans; the second stays inert inside them (said once
//! on stderr) and never panics.

mod common;

use common::{harness, tag};
use tracing::{error, info, info_span, Instrument};
use tracing_subscriber::prelude::*;

#[test]
fn a_second_layer_in_one_subscriber_stays_inert_inside_the_first_ones_spans() {
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
    let outside = second.receiver.wait_for_events(1, common::WAIT);
    drop(first.guard);
    drop(second.guard);
    let seconds: Vec<_> = second.receiver.events();
    assert_eq!(outside[0].message.as_deref(), Some("outside any request"));
    assert_eq!(
        seconds.len(),
        1,
        "inert inside the first layer's spans: {seconds:?}"
    );
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
