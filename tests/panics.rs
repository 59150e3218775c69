//! A panic becomes a fatal report with the panicking code's span context; the hook
//! that was installed before still runs. (Own test binary: the panic hook is global.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::{crumb_messages, harness, tag, WAIT};
use sentry::protocol::Level;
use tracing::{info, info_span};
use tracing_subscriber::prelude::*;

static PREVIOUS_HOOK_RAN: AtomicUsize = AtomicUsize::new(0);

#[test]
fn a_panic_is_reported_with_tenant_breadcrumbs_and_location_and_the_old_hook_runs() {
    std::panic::set_hook(Box::new(|_| {
        PREVIOUS_HOOK_RAN.fetch_add(1, Ordering::SeqCst);
    }));
    let h = harness(|b| b.install_panic_hook(true));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "acme", user_id = "u-1").entered();
        info!("about to divide");
        let result = std::panic::catch_unwind(|| {
            let _inner = info_span!("compute").entered();
            panic!("division by zero in invoice 12");
        });
        assert!(result.is_err());
    });
    let elapsed = started.elapsed();
    assert_eq!(
        PREVIOUS_HOOK_RAN.load(Ordering::SeqCst),
        1,
        "the earlier hook ran"
    );
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.level, Level::Fatal);
    assert_eq!(tag(event, "tenant_id"), Some("acme"));
    assert_eq!(
        event.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("u-1")
    );
    let exception = event.exception.values.last().expect("exception");
    assert_eq!(exception.ty, "panic");
    assert_eq!(
        exception.value.as_deref(),
        Some("division by zero in invoice 12")
    );
    assert_eq!(
        exception.mechanism.as_ref().and_then(|m| m.handled),
        Some(false)
    );
    assert!(exception
        .stacktrace
        .as_ref()
        .is_some_and(|s| !s.frames.is_empty()));
    let crumbs: Vec<_> = crumb_messages(event);
    assert_eq!(crumbs, ["about to divide"]);
    // The hook flushed before returning, so the report was out before unwinding went on.
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}
