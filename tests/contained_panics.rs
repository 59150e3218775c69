//! A panic inside a user's `Debug` or `Display`, contained while the layer formats a
//! field or the message, is not a panic of the service: no fatal report, and the event
//! is still reported with what could be formatted (issue 22 item 5). (Own test binary:
//! the panic hook is process-wide.)

mod common;

use std::fmt;

use common::{harness, WAIT};
use sentry::protocol::Level;
use tracing_subscriber::prelude::*;

struct PanicsInDebug;
impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Order { id: 42, ")?;
        panic!("Debug exploded")
    }
}

struct PanicsInDisplay;
impl fmt::Display for PanicsInDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display exploded")
    }
}

#[test]
fn a_contained_formatting_panic_is_no_fatal_report_and_the_event_is_reported() {
    let h = harness(|b| b.flood_limit(None).install_panic_hook(true));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            tenant_id = "acme",
            detail = tracing::field::Empty,
            shown = ?PanicsInDebug
        );
        let _entered = request.enter();
        request.record("detail", tracing::field::display(PanicsInDisplay));
        tracing::info!(value = ?PanicsInDebug, "breadcrumb with a panicking Debug");
        tracing::error!(value = ?PanicsInDebug, "field Debug panicked");
        tracing::error!(value = %PanicsInDisplay, "field Display panicked");
        tracing::error!("order {} failed: {:?}", 42, PanicsInDebug);
    });
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(3, WAIT);
    let fatal: Vec<_> = events.iter().filter(|e| e.level == Level::Fatal).collect();
    assert!(
        fatal.is_empty(),
        "contained panics reported as fatal: {fatal:#?}"
    );
    assert_eq!(events.len(), 3, "{events:#?}");
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    assert!(
        messages.contains(&"field Debug panicked".to_owned()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"field Display panicked".to_owned()),
        "{messages:?}"
    );
    let formatted = messages
        .iter()
        .find(|m| m.starts_with("order 42 failed"))
        .unwrap_or_else(|| panic!("the message as far as it was formatted: {messages:?}"));
    assert!(
        formatted.contains("Order { id: 42") && formatted.contains("panicked"),
        "{formatted}"
    );
    for event in &events {
        assert_eq!(
            event.tags.get("tenant_id").map(String::as_str),
            Some("acme"),
            "the request's context survives the panic"
        );
    }
}

/// An `event_filter` that panics (here on one target) runs on the logging thread, inside
/// `tracing`'s dispatch: the panic is contained, the event reported as if the filter let it
/// through and counted, and no fatal report is made of it.
#[test]
fn a_panicking_event_filter_is_contained_counted_and_the_event_reported() {
    let h = harness(|b| {
        b.flood_limit(None)
            .install_panic_hook(true)
            .event_filter(|meta| {
                if meta.target() == "flaky" {
                    panic!("event filter exploded");
                }
                meta.target() != "noisy"
            })
    });
    let layer = h.layer.expect("reporting on");
    let stats = {
        let subscriber = tracing_subscriber::registry().with(layer);
        let dispatch = tracing::Dispatch::new(subscriber);
        tracing::dispatcher::with_default(&dispatch, || {
            let _request = tracing::info_span!("request", tenant_id = "acme").entered();
            tracing::info!(target: "flaky", "breadcrumb the filter panics on");
            tracing::error!(target: "flaky", "payment failed");
            tracing::error!(target: "noisy", "filtered out");
            tracing::error!("checkout failed");
        });
        dispatch
            .downcast_ref::<tracing_subscriber::layer::Layered<
                tracing_error_reports::ErrorReportLayer,
                tracing_subscriber::Registry,
            >>()
            .expect("the subscriber")
            .downcast_ref::<tracing_error_reports::ErrorReportLayer>()
            .expect("the layer")
            .stats()
    };
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(2, WAIT);
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    assert_eq!(events.len(), 2, "{messages:?}");
    assert!(
        events.iter().all(|e| e.level != Level::Fatal),
        "{events:#?}"
    );
    assert!(
        messages.contains(&"payment failed".to_owned()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"checkout failed".to_owned()),
        "{messages:?}"
    );
    assert_eq!(stats.event_filter_panics, 2, "{stats:?}");
    let checkout = events
        .iter()
        .find(|e| e.message.as_deref() == Some("checkout failed"))
        .expect("checkout report");
    assert_eq!(
        common::crumb_messages(checkout),
        vec!["breadcrumb the filter panics on".to_owned()]
    );
}
