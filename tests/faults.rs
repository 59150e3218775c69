//! Faults in user data stay contained: panicking `Debug`/`Display`, huge values, deeply
//! nested JSON, endless error chains. The service goes on, nothing panics across the
//! layer, and each report still arrives, cut to sizes Sentry accepts.

mod common;

use std::fmt;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

struct PanicsInDebug;
impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug exploded")
    }
}

struct PanicsInDisplay;
impl fmt::Display for PanicsInDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display exploded")
    }
}

/// An error that is its own source: an endless chain.
#[derive(Debug)]
struct Ouroboros;
impl fmt::Display for Ouroboros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("round and round")
    }
}
impl std::error::Error for Ouroboros {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self)
    }
}

/// Sentry's limit for one event (uncompressed) is 1 MB.
const MAX_EVENT_BYTES: usize = 1_000_000;

#[test]
fn faulty_user_data_never_breaks_the_service_and_reports_stay_within_limits() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let huge = "y".repeat(10 << 20);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    static OUROBOROS: Ouroboros = Ouroboros;
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("request", tenant_id = "acme").entered();
        tracing::info!(value = ?PanicsInDebug, "breadcrumb with a panicking Debug");
        tracing::info!(huge = huge.as_str(), "breadcrumb with a 10 MB field");
        tracing::error!(value = ?PanicsInDebug, "panicking Debug");
        tracing::error!(value = %PanicsInDisplay, "panicking Display");
        tracing::error!(huge = huge.as_str(), "10 MB field");
        tracing::error!("{huge}");
        tracing::error!(detail = nested.as_str(), "deeply nested JSON");
        tracing::error!(
            error = &OUROBOROS as &(dyn std::error::Error + 'static),
            "endless chain"
        );
    });
    assert!(h.guard.flush(WAIT), "the worker survived");
    let received = h.receiver.wait_for(6, WAIT);
    let events = h.receiver.events();
    assert_eq!(events.len(), 6, "every report arrived");
    for r in &received {
        assert!(
            r.body.len() < MAX_EVENT_BYTES,
            "{} bytes sent",
            r.body.len()
        );
    }
    for event in &events {
        let message = event.message.as_deref().unwrap_or("");
        assert!(message.len() <= 8192, "message of {} bytes", message.len());
    }
    let shown = |m: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(m))
            .and_then(|e| match e.contexts.get("fields") {
                Some(sentry::protocol::Context::Other(f)) => f.get("value").cloned(),
                _ => None,
            })
    };
    assert_eq!(
        shown("panicking Debug")
            .and_then(|v| v.as_str().map(str::to_owned))
            .as_deref(),
        Some("<Debug implementation panicked>")
    );
    let chain = events
        .iter()
        .find(|e| e.message.as_deref() == Some("endless chain"))
        .map(|e| e.exception.values.len());
    assert_eq!(chain, Some(32), "the chain is cut at 32 links");
    let crumbs = &events[0].breadcrumbs.values;
    assert_eq!(crumbs.len(), 2);
    assert_eq!(
        crumbs[0].data.get("value").and_then(|v| v.as_str()),
        Some("<Debug implementation panicked>")
    );
}
