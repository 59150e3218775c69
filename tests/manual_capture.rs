//! `sentry::capture_*` called directly, with the crate's client bound to the main hub:
//! inside a request the event carries the request's tenant, user, trace and
//! breadcrumbs like the layer's own reports, is scrubbed, and is counted.
//! (Own test binary: the main hub is process-wide.)

mod common;

use common::{crumb_messages, harness, tag, WAIT};
use sentry::protocol::Context;
use tracing::{error, info, info_span};
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct ConnectError;

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("postgres://orders:s3cr3t@db:5432 refused the connection")
    }
}

impl std::error::Error for ConnectError {}

#[test]
fn a_direct_capture_in_a_request_carries_its_context_is_scrubbed_and_counted() {
    let h = harness(|b| {
        b.bind_main_hub(true)
            .ignore_error("ignored on purpose")
            .traces_sample_rate(0.0)
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = info_span!(
            "checkout",
            tenant_id = "acme",
            user_id = "user-7",
            sentry.name = "POST /checkout"
        );
        let _entered = request.enter();
        info!("loading cart");
        sentry::capture_error(&ConnectError);
        error!("the layer's own report of the same request");
        sentry::capture_message("ignored on purpose", sentry::Level::Error);
        drop(_entered);
        // Outside any request: sent as it is, still counted.
        sentry::capture_message("no request here", sentry::Level::Warning);
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(3, WAIT);
    assert_eq!(events.len(), 3, "{events:?}");
    let direct = events
        .iter()
        .find(|e| !e.exception.values.is_empty())
        .expect("the direct capture");
    let layer = events
        .iter()
        .find(|e| e.message.as_deref() == Some("the layer's own report of the same request"))
        .expect("the layer's report");
    assert_eq!(tag(direct, "tenant_id"), Some("acme"));
    assert_eq!(
        direct.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("user-7")
    );
    assert_eq!(direct.transaction.as_deref(), Some("POST /checkout"));
    assert_eq!(crumb_messages(direct), ["loading cart"]);
    let trace_id = |e: &sentry::protocol::Event<'static>| match e.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace.trace_id.to_string(),
        _ => panic!("trace context"),
    };
    assert_eq!(trace_id(direct), trace_id(layer), "one request, one trace");
    assert_eq!(tag(direct, "trace_id"), tag(layer, "trace_id"));
    let value = direct.exception.values[0].value.clone().unwrap_or_default();
    assert!(
        value.contains("[Filtered]") && !value.contains("s3cr3t"),
        "{value}"
    );
    let outside = events
        .iter()
        .find(|e| e.message.as_deref() == Some("no request here"))
        .expect("the capture outside a request");
    assert_eq!(tag(outside, "tenant_id"), None);
    assert!(outside.breadcrumbs.values.is_empty());

    let stats = h.guard.stats();
    assert_eq!(stats.queued, 1, "{stats:?}");
    assert_eq!(stats.captured_directly, 3, "{stats:?}");
    assert_eq!(stats.discarded, 1, "{stats:?}");
    assert_eq!(stats.delivered, 3, "{stats:?}");
    assert_eq!(stats.pending(), 0, "{stats:?}");
}
