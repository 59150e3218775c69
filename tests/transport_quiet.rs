//! The crate's own HTTP stack (reqwest, hyper, h2, rustls, tokio) never logs into the
//! service's subscriber: an unfiltered sibling sink at TRACE, with `log` records
//! forwarded by `LogTracer` as services do, receives the application's lines and not
//! one line of the transport, while reports are delivered. (Own test binary: the
//! subscriber is the global default, as in a service, so every thread logs through it.)

mod common;

use std::sync::{Arc, Mutex};

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

/// Every event's target and level, as an unfiltered sink (a Loki or OTLP logs bridge
/// with no filter) gets it.
#[derive(Clone, Default)]
struct AllEvents(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AllEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        self.0
            .lock()
            .expect("lock")
            .push(format!("{} {}", meta.level(), meta.target()));
    }
}

/// Crates of an HTTP client stack, whichever of them the transport uses.
const HTTP_STACK: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio",
    "mio",
    "want",
    "tower",
    "http",
];

#[test]
fn no_line_of_the_transports_http_stack_reaches_an_unfiltered_sink() {
    tracing_log::LogTracer::init().expect("the only logger of this test binary");
    let h = harness(|b| b);
    let seen = AllEvents::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(h.layer)
            .with(seen.clone()),
    )
    .expect("the only global subscriber of this test binary");

    for i in 0..3 {
        let _request = tracing::info_span!("request", tenant_id = "acme", i).entered();
        tracing::info!(i, "handling");
        tracing::error!(i, "application error");
    }
    assert!(h.guard.flush(WAIT));
    assert_eq!(h.receiver.wait_for_events(3, WAIT).len(), 3);
    assert_eq!(h.guard.stats().delivered, 3, "{:?}", h.guard.stats());

    let seen = seen.0.lock().expect("lock").clone();
    let from_stack: Vec<&String> = seen
        .iter()
        .filter(|line| {
            let target = line.split(' ').nth(1).unwrap_or_default();
            let krate = target.split("::").next().unwrap_or_default();
            HTTP_STACK.contains(&krate)
        })
        .collect();
    let application = seen
        .iter()
        .filter(|l| l.ends_with(" transport_quiet"))
        .count();
    println!(
        "unfiltered sink: {} lines, {application} of the application, {} of the HTTP stack",
        seen.len(),
        from_stack.len()
    );
    assert_eq!(application, 6, "{seen:#?}");
    assert!(from_stack.is_empty(), "{from_stack:#?}");
}
