//! The user's hooks (`before_send`, `before_breadcrumb`, `ignore_error`), run on the
//! worker before a report is scrubbed, and on the capturing thread for a direct
//! `sentry::capture_*`. A panic in a hook drops the value, never the thread.

use std::sync::Arc;

use sentry::protocol::{Breadcrumb, Event};

/// A callback that may change or drop (`None`) a value before it is sent.
pub(crate) type BeforeCallback<T> = Arc<dyn Fn(T) -> Option<T> + Send + Sync>;

/// What runs on the worker before a report is sent (and before it is scrubbed).
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before_send: Option<BeforeCallback<Event<'static>>>,
    pub(crate) before_breadcrumb: Option<BeforeCallback<Breadcrumb>>,
    pub(crate) ignore_errors: Vec<String>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("before_send", &self.before_send.is_some())
            .field("before_breadcrumb", &self.before_breadcrumb.is_some())
            .field("ignore_errors", &self.ignore_errors)
            .finish()
    }
}

/// Which hook dropped an event: Sentry's client reports name them apart
/// (`event_processor` for `ignore_error`, `before_send`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    IgnoreError,
    BeforeSend,
}

/// `before_breadcrumb` on each breadcrumb, then `ignore_error`, then `before_send`:
/// `Err` (which one) when the event is dropped.
pub(crate) fn apply_hooks(
    hooks: &Hooks,
    mut event: Event<'static>,
) -> Result<Event<'static>, Dropped> {
    if let Some(before) = &hooks.before_breadcrumb {
        let crumbs = std::mem::take(&mut event.breadcrumbs.values);
        event.breadcrumbs.values = crumbs
            .into_iter()
            .filter_map(|crumb| guarded(before, crumb))
            .collect();
    }
    if is_ignored(&hooks.ignore_errors, &event) {
        return Err(Dropped::IgnoreError);
    }
    match &hooks.before_send {
        Some(before) => guarded(before, event).ok_or(Dropped::BeforeSend),
        None => Ok(event),
    }
}

/// Runs a user callback; a panic in it drops the value rather than the worker.
fn guarded<T>(callback: &BeforeCallback<T>, value: T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(value))).unwrap_or(None)
}

/// Whether a pattern of `ignore_error` matches: an exception type exactly, or a part
/// of the message or of an exception value.
fn is_ignored(patterns: &[String], event: &Event<'static>) -> bool {
    patterns.iter().any(|pattern| {
        event
            .message
            .as_deref()
            .is_some_and(|m| m.contains(pattern.as_str()))
            || event.exception.values.iter().any(|e| {
                e.ty == *pattern
                    || e.value
                        .as_deref()
                        .is_some_and(|v| v.contains(pattern.as_str()))
            })
    })
}
