//! Work moved off the request (issue 24, item 4): an error logged inside
//! `spawn_blocking` has no request unless the closure is wrapped in `carry_request`,
//! which gives it the request's tenant, breadcrumbs, trace and transaction name.

mod common;

use common::{crumb_messages, harness, tag, WAIT};
use tracing::{error, info, info_span, Instrument};
use tracing_subscriber::prelude::*;

#[test]
fn carry_request_takes_the_request_into_spawn_blocking() {
    let h = harness(|b| b);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    let _default = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(
        async {
            info!("loading the export");
            let carried = tokio::task::spawn_blocking(tracing_error_reports::carry_request(|| {
                error!(step = "carried", "export query failed");
            }));
            carried.await.expect("blocking task");
            // The same without it: the blocking thread has no current span.
            let dispatch = tracing::dispatcher::get_default(|d| d.clone());
            let bare = tokio::task::spawn_blocking(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    error!(step = "bare", "export query failed");
                })
            });
            bare.await.expect("blocking task");
        }
        .instrument(info_span!("export", tenant_id = "acme")),
    );
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(2, WAIT);
    assert_eq!(events.len(), 2);
    let step = |e: &sentry::protocol::Event<'static>| {
        serde_json::to_string(&e.contexts).unwrap_or_default()
    };
    let carried = events
        .iter()
        .find(|e| step(e).contains("carried"))
        .expect("the carried report");
    assert_eq!(tag(carried, "tenant_id"), Some("acme"));
    assert_eq!(crumb_messages(carried), ["loading the export"]);
    assert_eq!(carried.transaction.as_deref(), Some("export"));
    let bare = events
        .iter()
        .find(|e| step(e).contains("bare"))
        .expect("the bare report");
    assert_eq!(tag(bare, "tenant_id"), None);
    assert_eq!(bare.transaction, None);
}
