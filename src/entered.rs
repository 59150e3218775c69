//! The spans entered on this thread, innermost last.
//!
//! Finding an event's span through the registry costs a slab lookup and an
//! extensions lock per event. Every enter and exit passes through the layer anyway,
//! so it keeps its own per-thread stack of the entered spans' nodes, keyed by layer
//! instance (several subscribers may share a thread). While a span is entered it is
//! alive, so its entry cannot be confused with a later span of the same id. The panic
//! hook and [`last_event_id`](crate::last_event_id) read it too: it takes no lock.

use std::cell::RefCell;
use std::sync::Arc;

use tracing::span::Id;

use crate::request::SpanNode;

struct Entry {
    layer: usize,
    id: u64,
    node: Arc<SpanNode>,
}

thread_local! {
    static ENTERED: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn push(layer: usize, id: &Id, node: Arc<SpanNode>) {
    let _ = ENTERED.try_with(|stack| {
        if let Ok(mut stack) = stack.try_borrow_mut() {
            stack.push(Entry {
                layer,
                id: id.into_u64(),
                node,
            });
        }
    });
}

/// Removes the innermost entry of this span (spans may exit out of order).
pub(crate) fn pop(layer: usize, id: &Id) {
    let id = id.into_u64();
    let removed = ENTERED.try_with(|stack| {
        let mut stack = stack.try_borrow_mut().ok()?;
        let at = stack.iter().rposition(|e| e.layer == layer && e.id == id)?;
        Some(stack.remove(at))
    });
    // The node (and its request's breadcrumbs) may be freed here: outside the borrow.
    drop(removed);
}

/// Runs `f` with this layer's innermost entered span, if any.
pub(crate) fn with_current<R>(layer: usize, f: impl FnOnce(&Arc<SpanNode>) -> R) -> Option<R> {
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            let entry = stack.iter().rev().find(|e| e.layer == layer)?;
            Some(f(&entry.node))
        })
        .ok()
        .flatten()
}

/// The innermost entered span of any layer of this crate, if any.
pub(crate) fn innermost() -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            stack.last().map(|entry| entry.node.clone())
        })
        .ok()
        .flatten()
}

/// The Sentry event id of the current request's last report, so a log line or an
/// HTTP response can point at it.
///
/// The request is the one of the innermost span this crate's layer saw entered on
/// the calling thread (ADR-025 says what a request is); after an `.await` it is still
/// the task's own request, never one that ran on the same thread meanwhile. The report
/// is one made under the caller's tenant and user (or before they were known), never
/// another tenant's or user's, even where two share a request. `None`
/// outside any request, before the request's first report, and when its last report
/// was held back by flood control or dropped because the queue was full: the id, when
/// there is one, is always of a report that was queued for Sentry.
pub fn last_event_id() -> Option<sentry::types::Uuid> {
    innermost().and_then(|node| node.request.last_event_id(node.scope_key()))
}
