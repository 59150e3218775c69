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
    std::panic::set_hook(Box::new(|info| {
        if PREVIOUS_HOOK_RAN.fetch_add(1, Ordering::SeqCst) > 0 {
            // Not the panic under test: a failed assertion.
            eprintln!("{info}");
        }
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
    // The stack ends in the code that panicked, not in std's panic machinery or this
    // crate's hook, and the test crate's frames are the service's own (in-app). Inlined
    // frames of a line-tables-only build have no path in their names: read their files.
    let frames = &exception.stacktrace.as_ref().expect("a stack").frames;
    let innermost = frames.last().expect("frames");
    assert_eq!(
        (innermost.filename.as_deref(), innermost.in_app),
        (Some("panics.rs"), Some(true)),
        "innermost frame: {innermost:?}"
    );
    for frame in frames {
        let f = frame.function.clone().unwrap_or_default();
        let path = frame.abs_path.clone().unwrap_or_default();
        // This crate's hook (std has a `panic.rs` of its own).
        let hook = path.ends_with("src/panic.rs") && !path.starts_with("/rustc/");
        let machinery = f.contains("rust_begin_unwind") || f.contains("core::panicking::");
        assert!(
            !hook && !machinery,
            "a frame of the panic machinery or the hook: {f} at {path}"
        );
        if path.starts_with("/rustc/") || f.starts_with("tracing") {
            assert_eq!(frame.in_app, Some(false), "{f} at {path}");
        }
    }
    assert!(
        frames.iter().any(|f| f
            .function
            .as_deref()
            .is_some_and(|f| f.starts_with("panics::"))
            && f.in_app == Some(true)),
        "the test crate's frames are in-app (in_app_include from the executable's name)"
    );
    let crumbs: Vec<_> = crumb_messages(event);
    assert_eq!(crumbs, ["about to divide"]);
    // The hook flushed before returning, so the report was out before unwinding went on.
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}
