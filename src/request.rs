//! Per-span and per-request state.
//!
//! Every span the layer sees gets a [`SpanNode`] at `on_new_span` ([`SpanNode::new`]),
//! kept in the span's extensions and in the per-thread stack of entered spans
//! (`entered`): its own identity, its other fields, its parent's node and a shared
//! handle to its request's [`RequestState`]. Reports walk the node chain
//! ([`SpanNode::snapshot`]), so neither a report nor the panic hook needs the registry
//! or its locks.
//!
//! Where a request starts is [`starts_request`] (ADR-025): its breadcrumbs, trace id,
//! transaction and last event id live in the `RequestState`, so they outlive the child
//! spans that logged them and are never seen by another request, whatever thread or
//! task runs it. Within a request, breadcrumbs, event ids and child spans are kept
//! under the identity they were recorded under ([`IdentityKey`]): should the boundary
//! put two tenants' work in one request, neither's report reads the other's.

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
use crate::identity::{Identity, IdentityFields, IdentityKey};
use crate::propagation::IncomingTrace;
use crate::span_fields::{marks_request, span_status, Naming};
use crate::sync::{lock, Wait};
use crate::transaction::TraceHeader;
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
    /// Release health is on (`auto_session_tracking`): requests keep their start time.
    pub(crate) sessions: bool,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            identity: IdentityFields::default(),
            max_breadcrumbs: DEFAULT_MAX_BREADCRUMBS,
            traces_sample_rate: DEFAULT_TRACES_SAMPLE_RATE,
            sessions: false,
        }
    }
}

/// State shared by all spans of one request.
#[derive(Debug)]
pub(crate) struct RequestState {
    own_trace_id: TraceId,
    /// What the request's envelopes say in their `trace` header.
    pub(crate) trace_header: TraceHeader,
    /// A trace id recorded on one of the request's spans (`trace_id` field, e.g. by
    /// [`link_trace`](crate::link_trace) from OpenTelemetry): it wins over our own.
    linked_trace_id: OnceLock<TraceId>,
    pub(crate) root_name: &'static str,
    /// The root span's level: a global filter changed since may disable request spans
    /// of that level inside it ([`Self::may_hide_requests`]).
    root_level: tracing::Level,
    /// Set once a request span may have been made, unseen, inside this one.
    hid_requests: AtomicBool,
    /// The caller's span when the request continues an incoming trace (`sentry.trace`).
    pub(crate) incoming_parent: Option<SpanId>,
    /// The root span's `sentry.name` / `otel.name`, when it has one: the transaction
    /// name, which wins over `root_name`.
    name: Mutex<Option<Arc<str>>>,
    /// Whether an error event or a panic was reported in the request: its transaction
    /// status becomes `internal_error` unless an HTTP status says more.
    errored: AtomicBool,
    /// Whether the span that started it is known to handle one request
    /// ([`marks_request`]): spans inside it start no request of their own unless their
    /// identity conflicts with the enclosing one.
    pub(crate) known: bool,
    /// Whether the span that started it declares a tenant or user field (a service's
    /// request, as opposed to a library's span).
    pub(crate) tenant_scoped: bool,
    /// Whether the root span may be a transaction ([`may_be_transaction`]); when not
    /// (a library's DEBUG span), a span inside it that may starts a request of its own.
    pub(crate) may_be_transaction: bool,
    /// Each with the identity of the scope it was logged in.
    breadcrumbs: Mutex<VecDeque<(IdentityKey, PackedCrumb)>>,
    max_breadcrumbs: usize,
    pub(crate) transaction: Option<TransactionState>,
    /// The ids of this request's last queued reports, one per identity reported
    /// under, newest last (an identity's entry is removed when its report was held
    /// back by flood control), for [`last_event_id`](crate::last_event_id).
    last_event_ids: Mutex<Vec<(IdentityKey, sentry::types::Uuid)>>,
    /// Whether `last_event_id` holds an id: a report held back by flood control in a
    /// tight loop clears it without taking the lock each time.
    has_last_event_id: AtomicBool,
    /// The layer that made the request (the address of its shared state): the panic
    /// hook reports through it. An address, not an `Arc`: no request touches a
    /// reference count every other request's thread touches too.
    pub(crate) layer: usize,
    /// Whether a report (an error or a panic) was made in this request.
    reported: AtomicBool,
    /// The error values reported in this request (`flood::EventHashes::error`), each with the
    /// spans enclosing the span it was reported in (their `own_span_id`s, within the
    /// request), newest last: the same error logged again in one of those spans is the
    /// one failure propagating outward.
    reported_errors: Mutex<Vec<(u64, Vec<SpanId>)>>,
    /// Sentry's `request` interface of the HTTP or gRPC request this is, when a framework
    /// integration gave it (`actix`, `tonic`): every report of the request carries it.
    http_request: OnceLock<Arc<sentry::protocol::Request>>,
    /// When the request started, kept only with release health on (its session's
    /// started minute).
    pub(crate) started: Option<SystemTime>,
    /// Whether it panicked (the panic hook saw the panic inside it).
    crashed: AtomicBool,
    /// Whether release health counted it (once: when its root span closed, or at exit).
    pub(crate) session_counted: AtomicBool,
}

/// Places for breadcrumbs a request gets at its first one (about 2.3 KiB).
const INITIAL_BREADCRUMBS: usize = 16;

/// Says once that a span declaring a tenant hides request spans a filter refused.
fn tell_hiding(root_name: &str) {
    static TOLD: AtomicBool = AtomicBool::new(false);
    if !TOLD.swap(true, Ordering::Relaxed) {
        // A `tracing` event would go nowhere: we are inside the dispatch of one.
        eprintln!(
            "tracing-error-reports: span `{root_name}` declares a tenant or user, and a \
             filter of the whole subscriber disables request spans inside it (a global \
             `EnvFilter` or a `reload` to a lower level): they are made for no layer, so \
             its events are reported without tenant, user or breadcrumbs rather than with \
             its own. Filter the console layer, not the whole subscriber (said once)"
        );
    }
}

/// Error values remembered per request for the dedupe.
const MAX_REPORTED_ERRORS: usize = 16;

impl RequestState {
    /// A request started by the span `root` (what the boundary read of it).
    pub(crate) fn new(
        root_metadata: &'static Metadata<'static>,
        root: &NewSpan,
        layer: usize,
        max_breadcrumbs: usize,
        transaction: Option<TransactionState>,
        incoming: Option<IncomingTrace>,
        trace_header: TraceHeader,
    ) -> Self {
        // An incoming trace is linked first: it wins over OpenTelemetry's and `trace_id`.
        let linked_trace_id = OnceLock::new();
        if let Some(incoming) = &incoming {
            let _ = linked_trace_id.set(incoming.trace_id());
        }
        RequestState {
            own_trace_id: random_trace_id(),
            trace_header,
            linked_trace_id,
            root_name: root_metadata.name(),
            root_level: *root_metadata.level(),
            hid_requests: AtomicBool::new(false),
            incoming_parent: incoming.map(|incoming| incoming.parent_span_id()),
            name: Mutex::new(None),
            errored: AtomicBool::new(false),
            known: root.marks_request,
            tenant_scoped: root.declares_identity,
            may_be_transaction: root.may_be_transaction,
            breadcrumbs: Mutex::new(VecDeque::new()),
            max_breadcrumbs,
            transaction,
            last_event_ids: Mutex::new(Vec::new()),
            has_last_event_id: AtomicBool::new(false),
            layer,
            reported: AtomicBool::new(false),
            reported_errors: Mutex::new(Vec::new()),
            http_request: OnceLock::new(),
            started: None,
            crashed: AtomicBool::new(false),
            session_counted: AtomicBool::new(false),
        }
    }

    /// Whether the request's span declares a tenant or user and request spans of other
    /// tenants may run inside it unseen: its level is more verbose than the subscriber
    /// enables now (a connection span made at INFO before a `reload` to WARN: the next
    /// request's INFO span on that connection is made for no layer, and its events would
    /// look like the connection's tenant's). Once so, always so: its breadcrumbs may be
    /// the unseen requests'. Its events then belong to no request (they lose tenant,
    /// user and breadcrumbs rather than take another tenant's).
    pub(crate) fn may_hide_requests(&self) -> bool {
        if !self.tenant_scoped {
            return false;
        }
        if self.hid_requests.load(Ordering::Relaxed) {
            return true;
        }
        if self.root_level > tracing::level_filters::LevelFilter::current() {
            if !self.hid_requests.swap(true, Ordering::Relaxed) {
                tell_hiding(self.root_name);
            }
            return true;
        }
        false
    }

    /// A span declaring a tenant or user was asked for inside this request and refused
    /// by a filter (`warn,conn_lib=info` with the connection's span enabled and the
    /// request's not): from now on [`Self::may_hide_requests`].
    pub(crate) fn mark_hiding_requests(&self) {
        if self.tenant_scoped && !self.hid_requests.swap(true, Ordering::Relaxed) {
            tell_hiding(self.root_name);
        }
    }

    /// Marks it crashed; whether it was not marked crashed or errored before.
    pub(crate) fn mark_crashed(&self) -> bool {
        !self.crashed.swap(true, Ordering::Relaxed) && !self.errored()
    }

    pub(crate) fn crashed(&self) -> bool {
        self.crashed.load(Ordering::Relaxed)
    }

    /// Sets the request's `request` interface; the first one given stays.
    pub(crate) fn set_http_request(&self, request: sentry::protocol::Request) {
        let _ = self.http_request.set(Arc::new(request));
    }

    pub(crate) fn mark_reported(&self) {
        self.reported.store(true, Ordering::Relaxed);
    }

    pub(crate) fn was_reported(&self) -> bool {
        self.reported.load(Ordering::Relaxed)
    }

    /// Notes that error value `error` was reported in span `node`.
    pub(crate) fn note_reported_error(&self, error: u64, node: &Arc<SpanNode>) {
        let enclosing = node
            .scope()
            .skip(1)
            .take_while(|span| Arc::ptr_eq(&span.request, &node.request))
            .map(|span| span.own_span_id)
            .collect();
        if let Some(mut reported) = lock(&self.reported_errors, Wait::Block) {
            if reported.len() >= MAX_REPORTED_ERRORS {
                reported.remove(0);
            }
            reported.push((error, enclosing));
        }
    }

    /// Whether error value `error`, logged in span `node`, was already reported in a span
    /// inside `node`: one error propagated outward (`?` through nested
    /// `#[instrument(err)]` functions), not a failure of its own. The same text logged
    /// again in the same span or a sibling (a retry's second failure) is not.
    pub(crate) fn is_propagated(&self, error: &crate::flood::ErrorLinks, node: &SpanNode) -> bool {
        if !self.was_reported() {
            return false;
        }
        lock(&self.reported_errors, Wait::Block).is_some_and(|reported| {
            reported.iter().any(|(hash, enclosing)| {
                error.contains(*hash) && enclosing.contains(&node.own_span_id)
            })
        })
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

    /// Marks it errored; whether it was not marked errored or crashed before.
    pub(crate) fn mark_errored(&self) -> bool {
        !self.errored.swap(true, Ordering::Relaxed) && !self.crashed()
    }

    pub(crate) fn errored(&self) -> bool {
        self.errored.load(Ordering::Relaxed)
    }

    /// Adds a breadcrumb logged under `key`, evicting the oldest beyond the bound.
    pub(crate) fn push(&self, key: IdentityKey, crumb: PackedCrumb) {
        let crumb = (key, crumb);
        if self.max_breadcrumbs == 0 {
            return;
        }
        let Some(mut crumbs) = lock(&self.breadcrumbs, Wait::Block) else {
            return;
        };
        if crumbs.capacity() == 0 {
            // One allocation for a typical request's breadcrumbs, not one per doubling
            // from 4 (each growth also copies every crumb so far).
            crumbs.reserve_exact(self.max_breadcrumbs.min(INITIAL_BREADCRUMBS));
        }
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

    /// The breadcrumbs so far that a report of `reader` may carry
    /// ([`IdentityKey::may_see`]): a cheap copy of handles, not of the crumbs. Empty
    /// when `wait` is `Never` and another thread holds them.
    pub(crate) fn snapshot(&self, wait: Wait, reader: IdentityKey) -> Vec<PackedCrumb> {
        lock(&self.breadcrumbs, wait)
            .map(|crumbs| {
                crumbs
                    .iter()
                    .filter(|(key, _)| reader.may_see(*key))
                    .map(|(_, crumb)| crumb.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Keeps `id` as the last report made under `key`, or, with `None` (a report held
    /// back), forgets every id a reader of `key` would see.
    #[inline]
    pub(crate) fn set_last_event_id(
        &self,
        key: IdentityKey,
        id: Option<sentry::types::Uuid>,
        wait: Wait,
    ) {
        // A report held back in a tight loop clears nothing: one load, no call.
        if id.is_none() && !self.has_last_event_id.load(Ordering::Relaxed) {
            return;
        }
        self.store_last_event_id(key, id, wait);
    }

    fn store_last_event_id(&self, key: IdentityKey, id: Option<sentry::types::Uuid>, wait: Wait) {
        /// Identities remembered per request: more than one only when the boundary put
        /// several users' work in one request.
        const MAX_IDENTITIES: usize = 8;
        let Some(mut last) = lock(&self.last_event_ids, wait) else {
            return;
        };
        match id {
            Some(id) => {
                last.retain(|(k, _)| *k != key);
                if last.len() >= MAX_IDENTITIES {
                    last.remove(0);
                }
                last.push((key, id));
            }
            None => last.retain(|(k, _)| !key.may_see(*k)),
        }
        self.has_last_event_id
            .store(!last.is_empty(), Ordering::Relaxed);
    }

    /// The last report's id a reader of `key` may see: its own identity's, or one
    /// made before the identity was known.
    pub(crate) fn last_event_id(&self, key: IdentityKey) -> Option<sentry::types::Uuid> {
        let last = lock(&self.last_event_ids, Wait::Block)?;
        last.iter()
            .rev()
            .find(|(recorded, _)| key.may_see(*recorded))
            .map(|(_, id)| *id)
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

/// Set once OpenTelemetry ids were read from any span of this process.
static OTEL_IDS_READ: AtomicBool = AtomicBool::new(false);

/// Whether OpenTelemetry ids were read from any span of this process (so its layer is
/// readable: a span whose ids are missing was filtered out of it).
pub(crate) fn otel_ids_read() -> bool {
    OTEL_IDS_READ.load(Ordering::Relaxed)
}

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
    /// [`hash_tenant`] of this span's own user, 0 for none: breadcrumbs are kept under
    /// it without taking the lock.
    pub(crate) user_hash: AtomicU64,
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
    /// Whether it starts one with a new trace because the incoming `sentry.trace` or
    /// `traceparent` it was given is invalid (counted by the layer).
    pub(crate) refused_trace: bool,
    /// Set only for spans of sampled requests: when they started.
    pub(crate) started: Option<SystemTime>,
    /// Whether an error event was reported directly in this span (its span status).
    pub(crate) errored: AtomicBool,
    /// Whether the span was ever entered inside another request (borrowed, ADR-025):
    /// entered later where no request runs, it belongs to none ([`Self::detached`]).
    pub(crate) lent: AtomicBool,
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

    /// The identity of this span's scope (the nearest value of each part), as hashes:
    /// what is logged in the span is kept under it. No lock, nothing cloned.
    pub(crate) fn scope_key(&self) -> IdentityKey {
        let mut key = IdentityKey::default();
        let mut span = Some(self);
        while let Some(node) = span {
            if key.tenant == 0 {
                key.tenant = node.tenant_hash.load(Ordering::Relaxed);
            }
            if key.user == 0 {
                key.user = node.user_hash.load(Ordering::Relaxed);
            }
            if key.tenant != 0 && key.user != 0 {
                break;
            }
            span = node.parent.as_deref();
        }
        key
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
        let marks = marks_request(metadata, naming.op.as_deref(), &fields);
        let declares_tenant =
            identity.tenant.is_some() || settings.identity.declares_tenant(metadata);
        let span = NewSpan {
            marks_request: marks,
            declares_identity: settings.identity.declares_tenant(metadata)
                || settings.identity.declares_user(metadata),
            key: IdentityKey::of(&identity),
            // A known request span is a request the service made, whatever its level
            // (tower-http's `TraceLayer` span is at DEBUG).
            may_be_transaction: marks || may_be_transaction(metadata, &naming, declares_tenant),
        };
        let within = parent
            .as_ref()
            .filter(|parent| !starts_request(&span, parent));
        let mut refused_trace = false;
        let (request, starts_request, sampled) = match within {
            Some(parent) => (parent.request.clone(), false, parent.started.is_some()),
            None => {
                let incoming;
                (incoming, refused_trace) = naming.take_incoming();
                let transaction = if span.may_be_transaction {
                    TransactionState::sample(
                        settings.traces_sample_rate,
                        incoming.and_then(|incoming| incoming.sampled()),
                    )
                } else {
                    None
                };
                let sampled = transaction.is_some();
                // A continued trace passes the head's context on; one it starts has its own.
                let trace_header = TraceHeader {
                    continued: incoming.and(naming.baggage.take()),
                    sample_rate: settings.traces_sample_rate,
                    sampled,
                };
                let mut request = RequestState::new(
                    metadata,
                    &span,
                    layer,
                    settings.max_breadcrumbs,
                    transaction,
                    incoming,
                    trace_header,
                );
                request.started = settings.sessions.then(SystemTime::now);
                (Arc::new(request), true, sampled)
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
            tenant_hash: AtomicU64::new(span.key.tenant),
            user_hash: AtomicU64::new(span.key.user),
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
            refused_trace,
            started: sampled.then(SystemTime::now),
            errored: AtomicBool::new(false),
            lent: AtomicBool::new(false),
        })
    }

    /// This span as entered where no request runs after it was lent to another request:
    /// a task spawned with `.in_current_span()` inside the borrowed span runs in it alone,
    /// and which request spawned the task is unknowable. So a request of its own, never
    /// sampled, with the span's fields but no identity and none of the breadcrumbs of the
    /// request that made it: no tenant's data reaches another tenant's report (ADR-025).
    pub(crate) fn detached(&self) -> Arc<SpanNode> {
        let fields = lock(&self.data, Wait::Block)
            .map(|data| data.fields.clone())
            .unwrap_or_default();
        let anonymous = NewSpan {
            marks_request: false,
            declares_identity: false,
            key: IdentityKey::default(),
            may_be_transaction: false,
        };
        let trace_header = TraceHeader {
            continued: None,
            sample_rate: self.request.trace_header.sample_rate,
            sampled: false,
        };
        let request = RequestState::new(
            self.metadata,
            &anonymous,
            self.request.layer,
            self.request.max_breadcrumbs,
            None,
            None,
            trace_header,
        );
        Arc::new(SpanNode {
            metadata: self.metadata,
            tenant_hash: AtomicU64::new(0),
            user_hash: AtomicU64::new(0),
            data: Mutex::new(SpanData {
                identity: Identity::default(),
                fields,
                naming: Naming::default(),
            }),
            parent: None,
            request: Arc::new(request),
            own_span_id: self.own_span_id,
            otel_span_id: OnceLock::new(),
            #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
            otel_tried: AtomicBool::new(true),
            starts_request: true,
            refused_trace: false,
            started: None,
            errored: AtomicBool::new(false),
            lent: AtomicBool::new(true),
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
        if let Some(user) = &identity.user {
            self.user_hash.store(hash_tenant(user), Ordering::Relaxed);
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
        snapshot.trace_header = Some(node.request.trace_header.clone());
        snapshot.transaction = Some(node.request.name(wait));
        snapshot.http_request = node.request.http_request.get().cloned();
        let mut spans = Vec::new();
        for span in node.scope() {
            let Some(data) = lock(&span.data, wait) else {
                continue;
            };
            snapshot.identity.fill_from(&data.identity);
            spans.push((
                IdentityKey::of(&data.identity),
                SpanSnapshot {
                    name: span.metadata.name(),
                    fields: Arc::new(data.fields.clone()),
                },
            ));
        }
        // An enclosing span of another tenant or user (a worker span of the pool's
        // owner, a connection span re-recorded per request) is left out with its fields.
        let reader = IdentityKey::of(&snapshot.identity);
        snapshot.spans = spans
            .into_iter()
            .filter(|(key, _)| reader.may_see(*key))
            .map(|(_, span)| span)
            .collect();
        snapshot.breadcrumbs = node.request.snapshot(wait, reader);
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
            tx.record(
                self.scope_identity(&data.identity),
                child_span(
                    self.metadata,
                    &data.naming,
                    status,
                    self.request.trace_id(),
                    self.span_id(),
                    self.parent_span_id(),
                    started,
                    finished,
                    &data.fields,
                ),
            );
            return None;
        }
        let (spans, dropped_spans, identity) = tx.take(self.scope_identity(&data.identity));
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
            identity,
            fields: Arc::new(data.fields.clone()),
            trace_header: self.request.trace_header.clone(),
        })
    }

    /// The identity of this span's scope, `own` being its own (whose lock the caller
    /// holds): the nearest value of each part.
    fn scope_identity(&self, own: &Identity) -> Identity {
        let mut identity = own.clone();
        for outer in std::iter::successors(self.parent.as_deref(), |node| node.parent.as_deref()) {
            if identity.tenant.is_some() && identity.user.is_some() {
                break;
            }
            if let Some(outer) = lock(&outer.data, Wait::Block) {
                identity.fill_from(&outer.identity);
            }
        }
        identity
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
            OTEL_IDS_READ.store(true, Ordering::Relaxed);
        }
    }

    /// This span and its ancestors, nearest first.
    pub(crate) fn scope(self: &Arc<Self>) -> impl Iterator<Item = &SpanNode> {
        std::iter::successors(Some(&**self), |node| node.parent.as_deref())
    }
}

/// What the request boundary reads of a new span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewSpan {
    /// Known to handle one request ([`marks_request`]).
    pub(crate) marks_request: bool,
    /// Declares a tenant or user field, with a value or `field::Empty`.
    pub(crate) declares_identity: bool,
    /// Its own identity at creation.
    pub(crate) key: IdentityKey,
    /// May be a transaction ([`may_be_transaction`], or known to handle one request).
    pub(crate) may_be_transaction: bool,
}

/// The request boundary (ADR-025, its table of shapes): whether a new span under
/// `parent` starts a request of its own rather than joining the parent's. A root span
/// always does.
///
/// 1. A span whose identity, known at creation, conflicts with the enclosing one (a job
///    of tenant `globex` under a worker span of the pool's owner) starts one: one
///    request never holds two tenants or users by construction.
/// 2. A span known to handle one request ([`marks_request`]: tower-http's, `otel.kind =
///    "server"`, `sentry.op = "http.server"`, the marker) starts one, unless it is inside
///    a request started by such a span already (one request is never split).
/// 3. A span declaring a tenant or user field starts one, unless it is inside a known
///    request (a handler's `#[instrument(fields(tenant_id))]` under tower-http's span)
///    or the enclosing scope already holds a tenant (a helper inside a request that has
///    authenticated). A connection or worker span that declares `tenant_id` but holds
///    none, or an instrumented `main`, does not make its requests one.
///
/// 0. Before these: a span that may be a transaction inside a request that may not (a
///    library's DEBUG `Connection` span around the requests it serves, a `debug`-level
///    `#[instrument]` on `serve`) starts one: it is the request the service made.
///
/// What no rule can tell apart (a helper declaring `tenant_id` before its request
/// recorded one, in a request no known span marks) is isolated: a request of its own.
/// Whatever this decides, reports read only what was recorded under their identity
/// (`IdentityKey`).
pub(crate) fn starts_request(span: &NewSpan, parent: &SpanNode) -> bool {
    if span.may_be_transaction && !parent.request.may_be_transaction {
        return true;
    }
    let enclosing = parent.scope_key();
    if span.key.conflicts(enclosing) {
        return true;
    }
    if span.marks_request {
        return !parent.request.known;
    }
    span.declares_identity && !parent.request.known && enclosing.tenant == 0
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
    /// The request's dynamic sampling context (with `trace`).
    pub(crate) trace_header: Option<TraceHeader>,
    /// The request's `request` interface, when an integration gave it.
    pub(crate) http_request: Option<Arc<sentry::protocol::Request>>,
}

pub(crate) fn random_trace_id() -> TraceId {
    TraceId::from(fastrand::u128(1..).to_be_bytes())
}

pub(crate) fn random_span_id() -> SpanId {
    SpanId::from(fastrand::u64(1..).to_be_bytes())
}
