//! Per-span and per-request state.
//!
//! Every span the layer sees gets a [`SpanNode`] at `on_new_span` ([`SpanNode::new`]),
//! kept in the span's extensions and in the per-thread stack of entered spans
//! (`entered`): its own identity, its other fields, its parent's node and a shared
//! handle to its request's [`RequestState`]. Reports walk the node chain
//! ([`SpanNode::snapshot`]), so neither a report nor the panic hook needs the registry
//! or its locks.
//!
//! A request is a root span, or a span that declares a tenant field inside a request
//! whose root does not (ADR-025): its breadcrumbs, trace id, transaction and last
//! event id live in the `RequestState`, so they outlive the child spans that logged
//! them and are never seen by another request, whatever thread or task runs it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use sentry::protocol::{SpanId, TraceId};
use tracing::Metadata;

use crate::crumb::PackedCrumb;
use crate::fields::FieldValue;
use crate::flood::hash_tenant;
use crate::hub_scope::HubScope;
use crate::identity::{Identity, IdentityFields};
use crate::propagation::IncomingTrace;
use crate::span_fields::{span_status, Naming};
use crate::sync::{lock, Wait};
use crate::transaction::{child_span, FinishedTransaction, TransactionState};

/// Breadcrumbs kept per request by default (Sentry's own default).
pub(crate) const DEFAULT_MAX_BREADCRUMBS: usize = 100;
/// Share of requests sent as transactions by default.
pub(crate) const DEFAULT_TRACES_SAMPLE_RATE: f32 = 0.1;

/// What spans and requests are made with, read at every new span. Filled by
/// `ConfigBuilder` (`tenant_fields`, `user_fields`, `trace_id_fields`,
/// `max_breadcrumbs`, `traces_sample_rate`).
#[derive(Clone, Debug)]
pub(crate) struct RequestSettings {
    pub(crate) identity: IdentityFields,
    pub(crate) max_breadcrumbs: usize,
    pub(crate) traces_sample_rate: f32,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            identity: IdentityFields::default(),
            max_breadcrumbs: DEFAULT_MAX_BREADCRUMBS,
            traces_sample_rate: DEFAULT_TRACES_SAMPLE_RATE,
        }
    }
}

/// State shared by all spans of one request.
#[derive(Debug)]
pub(crate) struct RequestState {
    own_trace_id: TraceId,
    /// A trace id recorded on one of the request's spans (`trace_id` field, e.g. by
    /// [`link_trace`](crate::link_trace) from OpenTelemetry): it wins over our own.
    linked_trace_id: OnceLock<TraceId>,
    pub(crate) root_name: &'static str,
    /// The caller's span when the request continues an incoming trace (`sentry.trace`).
    pub(crate) incoming_parent: Option<SpanId>,
    /// The root span's `sentry.name` / `otel.name`, when it has one: the transaction
    /// name, which wins over `root_name`.
    name: Mutex<Option<Arc<str>>>,
    /// Whether an error event or a panic was reported in the request: its transaction
    /// status becomes `internal_error` unless an HTTP status says more.
    errored: AtomicBool,
    /// Whether the root span declares a tenant field: spans inside it never start a
    /// request of their own.
    pub(crate) tenant_scoped: bool,
    /// Whether the root span may be a transaction ([`may_be_transaction`]); when not
    /// (a library's DEBUG span), a span inside it that may starts a request of its own.
    pub(crate) may_be_transaction: bool,
    breadcrumbs: Mutex<VecDeque<PackedCrumb>>,
    max_breadcrumbs: usize,
    pub(crate) transaction: Option<TransactionState>,
    /// The id of this request's last report that was queued (`None` after one held
    /// back by flood control), for [`last_event_id`](crate::last_event_id).
    last_event_id: Mutex<Option<sentry::types::Uuid>>,
    /// Whether `last_event_id` holds an id: a report held back by flood control in a
    /// tight loop clears it without taking the lock each time.
    has_last_event_id: AtomicBool,
    /// The layer that made the request (the address of its shared state): the panic
    /// hook reports through it. An address, not an `Arc`: no request touches a
    /// reference count every other request's thread touches too.
    pub(crate) layer: usize,
    /// Whether a report (an error or a panic) was made in this request.
    reported: AtomicBool,
}

impl RequestState {
    pub(crate) fn new(
        root_name: &'static str,
        tenant_scoped: bool,
        may_be_transaction: bool,
        layer: usize,
        max_breadcrumbs: usize,
        transaction: Option<TransactionState>,
        incoming: Option<IncomingTrace>,
    ) -> Self {
        // An incoming trace is linked first: it wins over OpenTelemetry's and `trace_id`.
        let linked_trace_id = OnceLock::new();
        if let Some(incoming) = &incoming {
            let _ = linked_trace_id.set(incoming.trace_id());
        }
        RequestState {
            own_trace_id: random_trace_id(),
            linked_trace_id,
            root_name,
            incoming_parent: incoming.map(|incoming| incoming.parent_span_id()),
            name: Mutex::new(None),
            errored: AtomicBool::new(false),
            tenant_scoped,
            may_be_transaction,
            breadcrumbs: Mutex::new(VecDeque::new()),
            max_breadcrumbs,
            transaction,
            last_event_id: Mutex::new(None),
            has_last_event_id: AtomicBool::new(false),
            layer,
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

    /// The transaction name: the root span's `sentry.name` / `otel.name`, else its name.
    pub(crate) fn name(&self, wait: Wait) -> Arc<str> {
        lock(&self.name, wait)
            .and_then(|name| name.clone())
            .unwrap_or_else(|| Arc::from(self.root_name))
    }

    pub(crate) fn set_name(&self, name: Arc<str>) {
        if let Some(mut slot) = lock(&self.name, Wait::Block) {
            *slot = Some(name);
        }
    }

    pub(crate) fn mark_errored(&self) {
        self.errored.store(true, Ordering::Relaxed);
    }

    pub(crate) fn errored(&self) -> bool {
        self.errored.load(Ordering::Relaxed)
    }

    /// Adds a breadcrumb, evicting the oldest beyond the bound.
    pub(crate) fn push(&self, crumb: PackedCrumb) {
        if self.max_breadcrumbs == 0 {
            return;
        }
        let Some(mut crumbs) = lock(&self.breadcrumbs, Wait::Block) else {
            return;
        };
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

    /// The breadcrumbs so far: a cheap copy of handles, not of the crumbs. Empty when
    /// `wait` is `Never` and another thread holds them.
    pub(crate) fn snapshot(&self, wait: Wait) -> Vec<PackedCrumb> {
        lock(&self.breadcrumbs, wait)
            .map(|crumbs| crumbs.iter().cloned().collect())
            .unwrap_or_default()
    }

    #[inline]
    pub(crate) fn set_last_event_id(&self, id: Option<sentry::types::Uuid>, wait: Wait) {
        // A report held back in a tight loop clears nothing: one load, no call.
        if id.is_none() && !self.has_last_event_id.load(Ordering::Relaxed) {
            return;
        }
        self.store_last_event_id(id, wait);
    }

    fn store_last_event_id(&self, id: Option<sentry::types::Uuid>, wait: Wait) {
        if let Some(mut last) = lock(&self.last_event_id, wait) {
            self.has_last_event_id
                .store(id.is_some(), Ordering::Relaxed);
            *last = id;
        }
    }

    pub(crate) fn last_event_id(&self) -> Option<sentry::types::Uuid> {
        lock(&self.last_event_id, Wait::Block).and_then(|last| *last)
    }
}

/// A span's own values that `record` may change.
#[derive(Debug, Default)]
pub(crate) struct SpanData {
    pub(crate) identity: Identity,
    /// Other fields. Kept inline (one allocation less per span); a report copies
    /// them, and reports are far rarer than spans.
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    /// `sentry.name`, `sentry.op` and `otel.name`, kept out of `fields`.
    pub(crate) naming: Naming,
}

/// Whether a request sharing its enclosing span's OpenTelemetry trace was told.
#[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
static SHARED_TRACE_TOLD: AtomicBool = AtomicBool::new(false);

/// This crate's data about one span, stored as `Arc<SpanNode>` in the span's
/// extensions. Private: it cannot collide with other layers' extensions
/// (tracing-opentelemetry's `OtelData`, for example).
#[derive(Debug)]
pub(crate) struct SpanNode {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) data: Mutex<SpanData>,
    /// [`hash_tenant`] of this span's own tenant, 0 for none: flood control reads it
    /// for every error without taking the lock.
    pub(crate) tenant_hash: AtomicU64,
    /// The nearest enclosing span the layer saw (possibly of an outer request).
    pub(crate) parent: Option<Arc<SpanNode>>,
    pub(crate) request: Arc<RequestState>,
    /// Our own span id, used until (or unless) the OpenTelemetry one is known.
    pub(crate) own_span_id: SpanId,
    /// The OpenTelemetry span id, once read from tracing-opentelemetry (`crate::otel`).
    pub(crate) otel_span_id: OnceLock<SpanId>,
    /// Whether `on_enter` has tried to read it: tried once, so a subscriber without
    /// tracing-opentelemetry pays the lookup once per span, not per entry.
    #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
    pub(crate) otel_tried: AtomicBool,
    /// Whether this span starts its request.
    pub(crate) starts_request: bool,
    /// Set only for spans of sampled requests: when they started.
    pub(crate) started: Option<SystemTime>,
    /// Whether an error event was reported directly in this span (its span status).
    pub(crate) errored: AtomicBool,
}

impl SpanNode {
    /// The tenant of `node`'s scope when the event has none of its own.
    /// Its hash for flood control: no lock, nothing cloned.
    pub(crate) fn scope_tenant_hash(node: Option<&Arc<SpanNode>>) -> Option<u64> {
        node?.scope().find_map(|span| {
            let hash = span.tenant_hash.load(Ordering::Relaxed);
            (hash != 0).then_some(hash)
        })
    }

    /// Sets the span's own tenant (at creation or `record`).
    fn tenant_hash_of(tenant: Option<&str>) -> AtomicU64 {
        AtomicU64::new(tenant.map_or(0, hash_tenant))
    }

    /// A new span's node: its own identity and fields, and its request, which is its
    /// parent's or a new one (the boundary rule of [`starts_request`]). `fields` are the
    /// span's recorded attributes; `layer` is the address of the layer's shared state.
    pub(crate) fn new(
        settings: &RequestSettings,
        layer: usize,
        metadata: &'static Metadata<'static>,
        mut fields: Vec<(&'static str, FieldValue)>,
        parent: Option<Arc<SpanNode>>,
    ) -> Arc<SpanNode> {
        let mut naming = Naming::default();
        naming.take_from(&mut fields);
        let identity = settings.identity.read(&fields);
        let declares_tenant =
            identity.tenant.is_some() || settings.identity.declares_tenant(metadata);
        let transactable = may_be_transaction(metadata, &naming, declares_tenant);
        let within = parent
            .as_ref()
            .filter(|parent| !starts_request(declares_tenant, transactable, &identity, parent));
        let (request, starts_request, sampled) = match within {
            Some(parent) => (parent.request.clone(), false, parent.started.is_some()),
            None => {
                let incoming = naming.incoming.take();
                let transaction = if transactable {
                    TransactionState::sample(
                        settings.traces_sample_rate,
                        incoming.and_then(|incoming| incoming.sampled()),
                    )
                } else {
                    None
                };
                let sampled = transaction.is_some();
                let request = Arc::new(RequestState::new(
                    metadata.name(),
                    declares_tenant,
                    transactable,
                    layer,
                    settings.max_breadcrumbs,
                    transaction,
                    incoming,
                ));
                (request, true, sampled)
            }
        };
        if let Some(trace_id) = settings.identity.linked_trace_id(&fields) {
            request.link(trace_id);
        }
        if starts_request {
            if let Some(name) = naming.name() {
                request.set_name(name.clone());
            }
        }
        // Built in its `Arc`: a node is a few hundred bytes, copied once less.
        Arc::new(SpanNode {
            metadata,
            tenant_hash: SpanNode::tenant_hash_of(identity.tenant.as_deref()),
            data: Mutex::new(SpanData {
                identity,
                fields,
                naming,
            }),
            parent,
            request,
            own_span_id: random_span_id(),
            otel_span_id: OnceLock::new(),
            #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
            otel_tried: AtomicBool::new(false),
            starts_request,
            started: sampled.then(SystemTime::now),
            errored: AtomicBool::new(false),
        })
    }

    /// Takes what `Span::record` recorded: a linked trace id, the name, the identity (a
    /// recorded value replaces the span's own) and the other fields.
    pub(crate) fn record(
        &self,
        settings: &RequestSettings,
        mut fields: Vec<(&'static str, FieldValue)>,
    ) {
        if let Some(trace_id) = settings.identity.linked_trace_id(&fields) {
            self.request.link(trace_id);
        }
        let identity = settings.identity.read(&fields);
        let Some(mut data) = lock(&self.data, Wait::Block) else {
            return;
        };
        let had_name = data.naming.name().cloned();
        data.naming.take_from(&mut fields);
        if self.starts_request {
            if let Some(name) = data.naming.name().filter(|n| had_name.as_ref() != Some(*n)) {
                self.request.set_name(name.clone());
            }
        }
        if let Some(tenant) = &identity.tenant {
            self.tenant_hash
                .store(hash_tenant(tenant), Ordering::Relaxed);
        }
        data.identity.update(identity);
        let own = &mut data.fields;
        for (name, value) in fields {
            match own.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => own.push((name, value)),
            }
        }
    }

    /// The report's context from the span it happened in, `own` being the event's own
    /// identity. With `Wait::Never` (the panic hook) a span whose data another thread
    /// holds is left out, never waited on.
    pub(crate) fn snapshot(
        node: Option<&Arc<SpanNode>>,
        own: Identity,
        wait: Wait,
    ) -> ScopeSnapshot {
        let mut snapshot = ScopeSnapshot {
            identity: own,
            ..Default::default()
        };
        let Some(node) = node else {
            return snapshot;
        };
        snapshot.trace = Some((node.request.trace_id(), node.span_id()));
        snapshot.transaction = Some(node.request.name(wait));
        snapshot.breadcrumbs = node.request.snapshot(wait);
        for span in node.scope() {
            let Some(data) = lock(&span.data, wait) else {
                continue;
            };
            snapshot.identity.fill_from(&data.identity);
            snapshot.spans.push(SpanSnapshot {
                name: span.metadata.name(),
                fields: Arc::new(data.fields.clone()),
            });
        }
        snapshot
    }

    /// Closes the span of a sampled request: a child span is recorded into its request's
    /// transaction; the span that starts the request returns the finished transaction.
    #[inline]
    pub(crate) fn close(&self) -> Option<FinishedTransaction> {
        // Most spans are of unsampled requests: answered here, without a call.
        let started = self.started?;
        let tx = self.request.transaction.as_ref()?;
        self.finish(started, tx)
    }

    fn finish(&self, started: SystemTime, tx: &TransactionState) -> Option<FinishedTransaction> {
        let finished = SystemTime::now();
        let data = lock(&self.data, Wait::Block)?;
        if !self.starts_request {
            let status = span_status(&data.fields, self.errored.load(Ordering::Relaxed));
            tx.record(child_span(
                self.metadata,
                &data.naming,
                status,
                self.request.trace_id(),
                self.span_id(),
                self.parent_span_id(),
                started,
                finished,
                &data.fields,
            ));
            return None;
        }
        let (spans, dropped_spans) = tx.take();
        Some(FinishedTransaction {
            name: self.request.name(Wait::Block),
            parent_span_id: self.request.incoming_parent,
            op: match &data.naming.op {
                Some(op) => op.clone(),
                None => Arc::from(self.metadata.name()),
            },
            status: span_status(&data.fields, self.request.errored()),
            trace_id: self.request.trace_id(),
            span_id: self.span_id(),
            started,
            finished,
            spans,
            dropped_spans,
            identity: data.identity.clone(),
            fields: Arc::new(data.fields.clone()),
        })
    }

    /// The span id Sentry shows: OpenTelemetry's when known, so one span has one id
    /// in Sentry and Tempo.
    pub(crate) fn span_id(&self) -> SpanId {
        *self.otel_span_id.get().unwrap_or(&self.own_span_id)
    }

    /// The parent's span id within the request; `None` for the span that starts it.
    pub(crate) fn parent_span_id(&self) -> Option<SpanId> {
        if self.starts_request {
            return None;
        }
        self.parent.as_ref().map(|parent| parent.span_id())
    }

    /// Takes the span's OpenTelemetry ids, if not done yet: the span id becomes
    /// OpenTelemetry's and the request is linked to its trace.
    #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
    pub(crate) fn adopt_otel(&self, dispatch: &tracing::Dispatch, id: &tracing::span::Id) {
        if self.otel_span_id.get().is_some() {
            return;
        }
        if let Some((trace_id, span_id)) = crate::otel::ids(dispatch, id) {
            // A job under a long-lived worker span is a request of its own here, but
            // OpenTelemetry gives it the worker's trace: every job would share one id.
            let shares_parents_trace = self.starts_request
                && self
                    .parent
                    .as_ref()
                    .is_some_and(|parent| parent.request.trace_id() == trace_id);
            if shares_parents_trace && !SHARED_TRACE_TOLD.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "tracing-error-reports: the request `{}` started under span `{}` shares \
                     its OpenTelemetry trace id, so its reports and transaction do too: \
                     create such spans with `parent: None` and `follows_from` the outer one \
                     for a trace of their own (README, \"Jobs of a worker\"; said once)",
                    self.metadata.name(),
                    self.parent.as_ref().map_or("", |p| p.metadata.name()),
                );
            }
            self.request.link(trace_id);
            let _ = self.otel_span_id.set(span_id);
        }
    }

    /// This span and its ancestors, nearest first.
    pub(crate) fn scope(self: &Arc<Self>) -> impl Iterator<Item = &SpanNode> {
        std::iter::successors(Some(&**self), |node| node.parent.as_deref())
    }
}

/// The request boundary (ADR-025): a new span starts a request of its own, rather than
/// joining its parent's, when it declares a tenant field and its parent's request is not
/// tenant-scoped (a worker's job, a connection's request, a request inside an
/// instrumented `main`), or when its tenant, known at creation, differs from the
/// enclosing one's (one tenant's request under a span of another: never one request).
/// A root span always starts one. So does a span that may be a transaction inside a
/// request that may not (a library's DEBUG `Connection` span around the requests it
/// serves, a `debug`-level `#[instrument]` on `serve`): it is the request the service made.
fn starts_request(
    declares_tenant: bool,
    may_be_transaction: bool,
    identity: &Identity,
    parent: &Arc<SpanNode>,
) -> bool {
    if may_be_transaction && !parent.request.may_be_transaction {
        return true;
    }
    if !declares_tenant {
        return false;
    }
    let other_tenant = identity.tenant.as_deref().is_some_and(|own| {
        SpanNode::scope_tenant_hash(Some(parent))
            .is_some_and(|enclosing| enclosing != hash_tenant(own))
    });
    !parent.request.tenant_scoped || other_tenant
}

/// Whether a span may be a transaction (sampled at `traces_sample_rate` when it starts
/// a request): at INFO or above, the default `span_filter` of sentry-tracing, or marked
/// by the service: `sentry.op`, `sentry.name` or a tenant field (`declares_tenant`; no
/// library declares the service's tenant). The DEBUG and TRACE spans libraries make for
/// their own internals (h2's `Connection`, `server_handshake`, `send_data`) never are;
/// they still scope breadcrumbs and reports as requests.
pub(crate) fn may_be_transaction(
    metadata: &Metadata<'_>,
    naming: &Naming,
    declares_tenant: bool,
) -> bool {
    *metadata.level() <= tracing::Level::INFO
        || naming.op.is_some()
        || naming.sentry_name.is_some()
        || declares_tenant
}

/// A span of the reported event's scope, nearest first.
#[derive(Debug)]
pub(crate) struct SpanSnapshot {
    pub(crate) name: &'static str,
    pub(crate) fields: Arc<Vec<(&'static str, FieldValue)>>,
}

/// What a report takes from the code that logged: identity, trace, spans, breadcrumbs.
#[derive(Debug, Default)]
pub(crate) struct ScopeSnapshot {
    /// The event's own identity, filled from its spans, nearest first.
    pub(crate) identity: Identity,
    pub(crate) trace: Option<(TraceId, SpanId)>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) spans: Vec<SpanSnapshot>,
    pub(crate) breadcrumbs: Vec<PackedCrumb>,
    /// What `sentry::configure_scope` set on the main hub (layer reports, `bind_main_hub`).
    pub(crate) hub: Option<Box<HubScope>>,
}

pub(crate) fn random_trace_id() -> TraceId {
    TraceId::from(fastrand::u128(1..).to_be_bytes())
}

pub(crate) fn random_span_id() -> SpanId {
    SpanId::from(fastrand::u64(1..).to_be_bytes())
}
