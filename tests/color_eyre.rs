//! color-eyre's reports: their `Debug` output is coloured (ANSI codes) and carries
//! location, help and backtrace sections. Only the chain reaches Sentry, as an
//! exception or interpolated into a message.
//! (A test binary of its own: color-eyre's hook is process-wide.)

mod common;

use color_eyre::eyre::{eyre, WrapErr};
use color_eyre::Section;
use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

#[test]
fn color_eyre_reports_arrive_as_the_chain_without_colours_or_help() {
    color_eyre::install().expect("color-eyre installed once");
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let report = || {
        Err::<(), _>(eyre!("card declined"))
            .wrap_err("charging order 4000")
            .suggestion("check the card's expiry date")
            .expect_err("an error")
    };
    let debug = format!("{:?}", report());
    assert!(
        debug.contains('\u{1b}') && debug.contains("Suggestion"),
        "the input is coloured and has help: {debug:?}"
    );
    tracing::subscriber::with_default(subscriber, || {
        let err = report();
        tracing::error!(error = ?err);
        tracing::error!(
            error = &*err as &(dyn std::error::Error + 'static),
            "checkout failed"
        );
        // The report interpolated into the message, as services write it.
        tracing::error!("checkout failed: {err:?}");
    });
    let mut events = h.receiver.wait_for_events(3, WAIT);
    assert_eq!(events.len(), 3);
    // Posts may be in flight together: arrival order is not the order logged.
    events.sort_by_key(|e| match e.message.as_deref() {
        Some("charging order 4000") => 0,
        Some("checkout failed") => 1,
        _ => 2,
    });
    let interpolated = &events[2];
    let message = interpolated.message.as_deref().unwrap_or_default();
    // Its ANSI codes, backtrace (absolute paths) and help are not the message: the chain is.
    assert_eq!(
        message,
        "checkout failed: \n   0: charging order 4000\n   1: card declined"
    );
    assert!(debug.len() > 1000, "multi-KB input: {} bytes", debug.len());
    for event in &events[..2] {
        let values: Vec<_> = event
            .exception
            .values
            .iter()
            .map(|e| e.value.clone().unwrap_or_default())
            .collect();
        assert_eq!(values, ["card declined", "charging order 4000"]);
        // The event's own `location` context names this file; the report's must not.
        let json = serde_json::to_string(&(&event.exception, &event.message)).expect("json");
        for absent in [
            "\\u001b",
            "Suggestion",
            "expiry",
            "Location",
            "color_eyre.rs",
            "BACKTRACE",
        ] {
            assert!(!json.contains(absent), "{absent} reached Sentry: {json}");
        }
    }
    assert_eq!(events[0].message.as_deref(), Some("charging order 4000"));
    assert_eq!(events[1].message.as_deref(), Some("checkout failed"));
}
