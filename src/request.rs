//! Per-span and per-request state, kept in span extensions.
//!
//! Every span gets a [`SpanState`] at `on_new_span`: its own tenant and user values
//! (if it has those fields), its other fields, and a shared handle to its request's
//! [`RequestState`]. A request is a root span; its breadcrumbs and trace id live in
//! the `RequestState`, so they outlive the child spans that logged them and are never
//! seen by another request, whatever thread or task runs it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::crumb::PackedCrumb;
use crate::fields::FieldValue;
use crate::performance::TransactionState;
use sentry::protocol::{SpanId, TraceId};

/// State shared by all spans of one request (one root span).
#[derive(Debug)]
pub(crate) struct RequestState {
    own_trace_id: TraceId,
    /// A trace id recorded on one of the request's spans (`trace_id` field, e.g. by
    /// [`link_trace`](crate::link_trace) from OpenTelemetry): it wins over our own.
    linked_trace_id: OnceLock<TraceId>,
    pub(crate) root_name: &'static str,
    breadcrumbs: Mutex<VecDeque<PackedCrumb>>,
    max_breadcrumbs: usize,
    pub(crate) transaction: Option<TransactionState>,
    /// Whether a report (an error or a panic) was made in this request.
    reported: AtomicBool,
}

impl RequestState {
    pub(crate) fn new(
        root_name: &'static str,
        trace_id: TraceId,
        max_breadcrumbs: usize,
        transaction: Option<TransactionState>,
    ) -> Self {
        RequestState {
            own_trace_id: trace_id,
            linked_trace_id: OnceLock::new(),
            root_name,
            breadcrumbs: Mutex::new(VecDeque::new()),
            max_breadcrumbs,
            transaction,
            reported: AtomicBool::new(false),
        }
    }

    pub(crate) fn mark_reported(&self) {
        self.reported.store(true, Ordering::Relaxed);
    }

    pub(crate) fn was_reported(&self) -> bool {
        self.reported.load(Ordering::Relaxed)
    }

    /// The request's trace id: the linked one if any, else our own.
    pub(crate) fn trace_id(&self) -> TraceId {
        *self.linked_trace_id.get().unwrap_or(&self.own_trace_id)
    }

    /// Links the request to an outside trace; the first link wins.
    pub(crate) fn link(&self, trace_id: TraceId) {
        let _ = self.linked_trace_id.set(trace_id);
    }

    /// Adds a breadcrumb, evicting the oldest beyond the bound.
    pub(crate) fn push(&self, crumb: PackedCrumb) {
        if self.max_breadcrumbs == 0 {
            return;
        }
        let mut crumbs = self.breadcrumbs.lock().unwrap_or_else(|e| e.into_inner());
        if crumbs.len() >= self.max_breadcrumbs {
            let evicted = crumbs.pop_front();
            crumbs.push_back(crumb);
            drop(crumbs);
            // Freed outside the lock.
            drop(evicted);
            return;
        }
        crumbs.push_back(crumb);
    }

    /// The breadcrumbs so far: a cheap copy of handles, not of the crumbs.
    pub(crate) fn snapshot(&self) -> Vec<PackedCrumb> {
        let crumbs = self.breadcrumbs.lock().unwrap_or_else(|e| e.into_inner());
        crumbs.iter().cloned().collect()
    }
}

/// This crate's data about one span. Private: it cannot collide with other layers'
/// extensions (tracing-opentelemetry's `OtelData`, for example).
#[derive(Debug)]
pub(crate) struct SpanState {
    pub(crate) tenant: Option<Arc<str>>,
    pub(crate) user: Option<Arc<str>>,
    /// Other fields, shared so a report can take them without copying.
    pub(crate) fields: Arc<Vec<(&'static str, FieldValue)>>,
    pub(crate) request: Arc<RequestState>,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    /// Set only for spans of sampled requests: when they started.
    pub(crate) started: Option<SystemTime>,
}

pub(crate) fn random_trace_id() -> TraceId {
    TraceId::from(fastrand::u128(1..).to_be_bytes())
}

pub(crate) fn random_span_id() -> SpanId {
    SpanId::from(fastrand::u64(1..).to_be_bytes())
}
