//! The spans entered on this thread, innermost last.
//!
//! Finding an event's span through the registry costs a slab lookup and an
//! extensions lock per event. Every enter and exit passes through the layer anyway,
//! so it keeps its own per-thread stack of the entered spans' nodes, keyed by layer
//! instance (several subscribers may share a thread). While a span is entered it is
//! alive, so its entry cannot be confused with a later span of the same id. The panic
//! hook and [`last_event_id`](crate::last_event_id) read it too: it takes no lock.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing::span::Id;

use crate::request::SpanNode;

struct Entry {
    layer: usize,
    id: u64,
    /// The tokio task that entered the span, if any: an `Entered` guard held across an
    /// `.await` leaves the span on this thread's stack while other tasks run here; they
    /// must not see it ([`visible`]).
    task: Option<tokio::task::Id>,
    /// The node events inside the span belong to: the span's own, or, for a span of
    /// another request entered here ([`effective`]), the node of the span below it.
    node: Arc<SpanNode>,
    /// Whether `node` is the node of the span below, not the span's own.
    borrowed: bool,
}

/// The node events inside a span entered on top of `below` belong to.
///
/// A span made inside one request and entered later inside another (a pooled
/// connection's span, a lazily built client's span kept in a `OnceLock`) is borrowed:
/// the thread is running the request below it. Its events, breadcrumbs, child spans
/// and `last_event_id` belong to that request and identity, and the borrowed span's
/// request contributes nothing (ADR-025). A span is borrowed when it is not a
/// descendant of the span below and does not start a request the service made of its
/// own (a known request span or one declaring the tenant or user, such as a job span
/// made with `parent: None` under a worker span).
///
/// A span once lent that way and entered where no request runs (a task spawned with
/// `.in_current_span()` inside the borrowed span) belongs to no request:
/// [`SpanNode::detached`].
fn effective(node: Arc<SpanNode>, below: Option<&Entry>) -> (Arc<SpanNode>, bool) {
    let Some(below) = below else {
        if detaches(&node) {
            return (node.detached(), true);
        }
        return (node, false);
    };
    let descendant = node.scope().any(|span| std::ptr::eq(span, &*below.node));
    let own_request = node.starts_request && (node.request.known || node.request.tenant_scoped);
    if descendant || own_request {
        (node, false)
    } else {
        node.lent.store(true, Ordering::Relaxed);
        (below.node.clone(), true)
    }
}

/// Whether `node`, entered where no request runs, belongs to none: it was lent to another
/// request and is part of the request of the span it was made in (a pooled connection's
/// span made inside a handler). A lent span that starts a request of its own (h2's
/// `Connection` span, made outside any request) keeps it: no other request's data is there.
fn detaches(node: &SpanNode) -> bool {
    node.lent.load(Ordering::Relaxed) && !node.starts_request
}

thread_local! {
    static ENTERED: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Entries on one thread's stack past which those of tasks not running are dropped (a
/// service holding `Entered` guards across `.await` leaves one per suspended guard).
const MAX_ENTRIES: usize = 256;

/// Whether `entry` belongs to the code running now: entered outside any task, or by
/// the task being polled. A span a suspended task left entered (`span.enter()` held
/// across `.await`: the task moved on, its guard did not) belongs to that task, not to
/// the one now running on this thread (found by an attacker: 300 of 300 reports carried
/// another task's tenant, user and breadcrumbs).
fn visible(entry: &Entry, task: Option<tokio::task::Id>) -> bool {
    entry.task.is_none() || entry.task == task
}

fn current_task() -> Option<tokio::task::Id> {
    tokio::task::try_id()
}

static HIDDEN_TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says once that a task's entered span was found on a thread running another task.
fn tell_hidden(entry: &Entry) {
    if !HIDDEN_TOLD.swap(true, Ordering::Relaxed) {
        // A `tracing` event would go nowhere: we are inside the dispatch of one.
        eprintln!(
            "tracing-error-reports: span `{}` is still entered on a thread where another task \
             runs: a `span.enter()` guard is held across an `.await`. Events of other tasks \
             on this thread get no tenant, user or breadcrumbs from it (tracing's own current \
             span is wrong there too). Use `.instrument(span)` for async code (clippy: \
             `await_holding_invalid_type` with `tracing::span::Entered`; said once)",
            entry.node.metadata.name()
        );
    }
}

/// This layer's innermost entry visible to the running task; hidden ones passed over
/// are told about once.
fn current_entry(stack: &[Entry], layer: usize) -> Option<&Entry> {
    let task = current_task();
    let mut entries = stack.iter().rev().filter(|e| e.layer == layer);
    entries.find(|e| {
        let seen = visible(e, task);
        if !seen {
            tell_hidden(e);
        }
        seen
    })
}

/// Notes span `id` entered; true if it was lent to another request before and is
/// entered here where no request runs (so its events belong to none).
pub(crate) fn push(layer: usize, id: &Id, node: Arc<SpanNode>) -> bool {
    ENTERED
        .try_with(|stack| {
            let mut stack = stack.try_borrow_mut().ok()?;
            let task = current_task();
            if stack.len() >= MAX_ENTRIES {
                stack.retain(|e| visible(e, task));
            }
            let below = current_entry(&stack, layer);
            let detached = below.is_none() && detaches(&node);
            let (node, borrowed) = effective(node, below);
            stack.push(Entry {
                layer,
                id: id.into_u64(),
                task,
                node,
                borrowed,
            });
            Some(detached)
        })
        .ok()
        .flatten()
        .unwrap_or(false)
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

/// Whether span `id` is on this thread's stack for `layer` only as another task's entry
/// (left entered across an `.await`), or this layer's entries here are all another
/// task's: the registry's current span is then not the running task's, and must not be
/// used in its place.
pub(crate) fn hidden(layer: usize, id: Option<&Id>) -> bool {
    let id = id.map(Id::into_u64);
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            let task = current_task();
            let mut mine = stack.iter().rev().filter(|e| e.layer == layer);
            Some(match id {
                Some(id) => mine.find(|e| e.id == id).is_some_and(|e| !visible(e, task)),
                None => {
                    let (mut any, mut seen) = (false, false);
                    for e in mine {
                        any = true;
                        seen |= visible(e, task);
                    }
                    any && !seen
                }
            })
        })
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Runs `f` with this layer's innermost entered span, if any.
pub(crate) fn with_current<R>(layer: usize, f: impl FnOnce(&Arc<SpanNode>) -> R) -> Option<R> {
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            let entry = current_entry(&stack, layer)?;
            Some(f(&entry.node))
        })
        .ok()
        .flatten()
}

/// The parent node of a span made under the entered span `parent`: the node of the
/// request running it when `parent` is a borrowed span (so spans made in it belong to
/// that request too), else `None` (the span's own node is the parent).
pub(crate) fn borrowed_parent(layer: usize, parent: &Id) -> Option<Arc<SpanNode>> {
    let parent = parent.into_u64();
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            let entry = current_entry(&stack, layer)?;
            (entry.borrowed && entry.id == parent).then(|| entry.node.clone())
        })
        .ok()
        .flatten()
}

/// Runs `work` with `base` (a request's node taken on another thread by
/// [`carry_request`](crate::carry_request)) at the bottom of this thread's stack, so a
/// span entered in `work` that is borrowed there (ADR-025) is borrowed here too.
pub(crate) fn with_base<R>(base: Option<Arc<SpanNode>>, work: impl FnOnce() -> R) -> R {
    let Some(node) = base else {
        return work();
    };
    struct Pop(usize);
    impl Drop for Pop {
        fn drop(&mut self) {
            // No registry span has this id (its ids are slab indices + 1).
            pop(self.0, &Id::from_u64(u64::MAX));
        }
    }
    let layer = node.request.layer;
    let pushed = ENTERED
        .try_with(|stack| {
            let mut stack = stack.try_borrow_mut().ok()?;
            stack.push(Entry {
                layer,
                id: u64::MAX,
                task: current_task(),
                node,
                borrowed: false,
            });
            Some(())
        })
        .ok()
        .flatten();
    let _pop = pushed.map(|()| Pop(layer));
    work()
}

/// The innermost entered span of any layer of this crate, if any.
pub(crate) fn innermost() -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|stack| {
            let stack = stack.try_borrow().ok()?;
            let task = current_task();
            stack
                .iter()
                .rev()
                .find(|e| visible(e, task))
                .map(|entry| entry.node.clone())
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

/// A span declaring a tenant or user that the subscriber was asked to make on this
/// thread (the layer's `enabled` runs first, before the filters below it decide), and
/// the entered span it would have been made in. Made: `on_new_span` clears it. Events
/// meanwhile may be inside it, unseen ([`attempt_pending`]; or in its fields' values,
/// evaluated before it is made). Still here at the next span asked for, made, entered or
/// left: a filter refused it, and a request runs unseen inside that span
/// ([`RequestState::mark_hiding_requests`]).
struct Attempt {
    layer: usize,
    callsite: tracing::callsite::Identifier,
    parent: Option<Arc<SpanNode>>,
}

thread_local! {
    static ATTEMPT: RefCell<Option<Attempt>> = const { RefCell::new(None) };
}

/// Notes that a span of `callsite` declaring a tenant or user is being asked for.
pub(crate) fn attempt_span(layer: usize, callsite: tracing::callsite::Identifier) {
    settle_attempt();
    let parent = with_current(layer, Arc::clone);
    let _ = ATTEMPT.try_with(|attempt| {
        if let Ok(mut attempt) = attempt.try_borrow_mut() {
            *attempt = Some(Attempt {
                layer,
                callsite,
                parent,
            });
        }
    });
}

/// A span of `callsite` was made: the attempt for it succeeded.
pub(crate) fn span_made(layer: usize, callsite: &tracing::callsite::Identifier) {
    let made = ATTEMPT.try_with(|attempt| {
        let mut attempt = attempt.try_borrow_mut().ok()?;
        let matches = attempt
            .as_ref()
            .is_some_and(|a| a.layer == layer && &a.callsite == callsite);
        matches.then(|| attempt.take()).flatten()
    });
    drop(made);
    settle_attempt();
}

/// An attempt still pending was refused: the span it was asked in hides a request.
pub(crate) fn settle_attempt() {
    let refused = ATTEMPT
        .try_with(|attempt| attempt.try_borrow_mut().ok()?.take())
        .ok()
        .flatten();
    if let Some(parent) = refused.and_then(|a| a.parent) {
        parent.request.mark_hiding_requests();
    }
}

/// Whether a span declaring a tenant or user was asked for on this thread and is neither
/// made nor known refused: an event now may be inside that request, unseen, and belongs
/// to no request it can be told from.
pub(crate) fn attempt_pending(layer: usize) -> bool {
    ATTEMPT
        .try_with(|attempt| {
            attempt
                .try_borrow()
                .is_ok_and(|a| a.as_ref().is_some_and(|a| a.layer == layer))
        })
        .unwrap_or(false)
}
