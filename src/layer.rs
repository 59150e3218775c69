//! The `tracing_subscriber::Layer`.
//!
//! It never filters through `Layer::enabled` or `register_callsite` (that would hide
//! events from sibling layers such as fmt, tracing-opentelemetry or tracing-loki);
//! it looks at the level and target of each event it is given and ignores the rest.
//! To narrow the events it reports without hiding spans from it, use
//! [`ConfigBuilder::event_filter`](crate::ConfigBuilder::event_filter): a per-layer
//! filter (`with_filter`) also hides the request spans, and with them the tenant.

use std::any::TypeId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::crumb::PackedCrumb;
use crate::entered;
use crate::fields::{FieldRecorder, FieldValue};
use crate::flood::{hash_tenant, report_key};
use crate::performance::{child_span, span_status, FinishedTransaction, Naming, TransactionState};
use crate::report::{LogSource, PendingReport};
use crate::request::{lock, random_span_id, RequestState, SpanData, SpanNode, Wait};
use crate::shared::{identity, LayerSettings, Shared};
use crate::worker::{enter_busy, is_busy};

/// Targets of middleware that log a request's failure after the application did:
/// tower-http's `TraceLayer` (`on_failure`, ERROR by default) and `CatchPanicLayer`
/// ("Service panicked", after the panic hook reported the panic).
const FAILURE_CLASSIFIERS: &[&str] = &["tower_http::trace", "tower_http::catch_panic"];

/// Turns error events into Sentry reports and info/warn events into breadcrumbs of
/// their request. Made by [`init`](crate::init); absent (`None`) when reporting is off.
pub struct ErrorReportLayer {
    pub(crate) shared: Arc<Shared>,
    /// The subscriber the layer is in (weak: the subscriber owns the layer), for
    /// reading tracing-opentelemetry's span ids through its public API.
    pub(crate) dispatch: std::sync::OnceLock<tracing::dispatcher::WeakDispatch>,
    /// Whether a tracing-opentelemetry layer sits below this one in the subscriber
    /// (seen in the subscriber's type), decided once.
    pub(crate) otel_below: std::sync::OnceLock<bool>,
}

impl std::fmt::Debug for ErrorReportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReportLayer")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

/// A trace id recorded in one of the trace-id fields (32 hex digits).
fn linked_trace_id(
    settings: &LayerSettings,
    fields: &[(&'static str, FieldValue)],
) -> Option<sentry::protocol::TraceId> {
    fields
        .iter()
        .filter(|(name, _)| settings.trace_id_fields.contains(name))
        .find_map(|(_, value)| match value {
            FieldValue::Str(text) if text.len() == 32 => text.parse().ok(),
            _ => None,
        })
}

/// Set once the diagnostic about an OpenTelemetry layer the crate cannot read has been printed.
static UNREADABLE_OTEL_TOLD: AtomicBool = AtomicBool::new(false);

/// The text of that diagnostic.
pub(crate) const UNREADABLE_OTEL_DIAGNOSTIC: &str = "tracing-error-reports: tracing-opentelemetry \
is in the subscriber but its span ids cannot be read, so Sentry and Tempo show different trace \
ids. This crate reads tracing-opentelemetry 0.34 with its feature `opentelemetry` and 0.33 with \
its feature `opentelemetry-0-33`: enable the feature of your version, or use one of those \
(`cargo tree -i tracing-opentelemetry` shows which you have). \
(Said once per process.)";

/// Set once the diagnostic about reporting inside an unseen span has been printed.
static UNSEEN_SPAN_TOLD: AtomicBool = AtomicBool::new(false);

/// The text of that diagnostic.
pub(crate) const UNSEEN_SPAN_DIAGNOSTIC: &str = "tracing-error-reports: an error was reported \
inside a span this layer never saw, so the report has no tenant, user, trace or breadcrumbs. \
The span is disabled for this layer, usually by a per-layer filter such as \
`.with_filter(LevelFilter::WARN)` around it. Let the layer see INFO spans and narrow the \
events it reports with `ConfigBuilder::event_filter` / `event_level` instead. \
(Said once per process.)";

fn tell_unseen_span() {
    if !UNSEEN_SPAN_TOLD.swap(true, Ordering::Relaxed) {
        // A `tracing` event would go nowhere: we are inside the dispatch of one.
        eprintln!("{UNSEEN_SPAN_DIAGNOSTIC}");
    }
}

impl ErrorReportLayer {
    /// Identifies this layer instance in per-thread state.
    fn key(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Gives `node` the OpenTelemetry ids of span `id` when tracing-opentelemetry is in
    /// the subscriber and has seen the span (feature `opentelemetry`).
    ///
    /// The subscriber is the one registered with this layer (`on_register_dispatch`,
    /// which `Option<Layer>` and `Vec<Layer>` do not forward), else the thread's
    /// default when `on_enter` runs: that one is used only if its registry holds this
    /// very span node, since tracing-opentelemetry panics on a span id it has not seen.
    #[cfg_attr(
        not(any(feature = "opentelemetry", feature = "opentelemetry-0-33")),
        allow(unused_variables)
    )]
    fn adopt_otel(&self, node: &Arc<SpanNode>, id: &Id, inserted: bool) {
        #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
        {
            if node.otel_span_id.get().is_some()
                || (inserted && node.otel_tried.swap(true, Ordering::Relaxed))
            {
                return;
            }
            let dispatch = match self.dispatch.get().and_then(|weak| weak.upgrade()) {
                Some(dispatch) => dispatch,
                None if inserted => {
                    let dispatch = tracing::dispatcher::get_default(tracing::Dispatch::clone);
                    let ours = dispatch
                        .downcast_ref::<tracing_subscriber::Registry>()
                        .and_then(|registry| registry.span(id))
                        .is_some_and(|span| {
                            span.extensions()
                                .get::<Arc<SpanNode>>()
                                .is_some_and(|found| Arc::ptr_eq(found, node))
                        });
                    if !ours {
                        return;
                    }
                    dispatch
                }
                None => return,
            };
            // Whatever OpenTelemetry logs while starting its span is not ours to report.
            let _busy = enter_busy();
            node.adopt_otel(&dispatch, id);
        }
    }

    /// Counts of queued, dropped and suppressed reports so far.
    pub fn stats(&self) -> crate::ReportStats {
        self.shared.worker.counters.snapshot()
    }

    /// The node of the span an event belongs to: the innermost entered span for
    /// contextual events (no registry lookup), else the event's explicit parent.
    fn event_node<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Option<Arc<SpanNode>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if event.is_contextual() {
            if let Some(node) = entered::with_current(self.key(), Arc::clone) {
                return Some(node);
            }
        }
        let span = ctx.event_span(event)?;
        let extensions = span.extensions();
        extensions.get::<Arc<SpanNode>>().cloned()
    }

    /// A failure an HTTP middleware classifies (tower-http's `TraceLayer` logs every 5xx
    /// at ERROR) in a request that was already reported, by the application's own
    /// `error!` or a panic: one failure, one report; the classification is a breadcrumb.
    fn is_repeated_failure<S>(&self, target: &str, event: &Event<'_>, ctx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !FAILURE_CLASSIFIERS
            .iter()
            .any(|prefix| target.starts_with(prefix))
        {
            return false;
        }
        self.event_node(event, ctx)
            .is_some_and(|node| node.request.was_reported())
    }

    fn on_breadcrumb<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let crumb = PackedCrumb::pack(event);
        let mut crumb = Some(crumb);
        if event.is_contextual() {
            let pushed = entered::with_current(self.key(), |node| {
                if let Some(crumb) = crumb.take() {
                    node.request.push(crumb);
                }
            });
            if pushed.is_some() {
                return;
            }
        }
        let Some(crumb) = crumb else { return };
        // A breadcrumb of no known request is dropped: attached anywhere else it could
        // show one tenant's data in another's report (ADR-023).
        if let Some(span) = ctx.event_span(event) {
            if let Some(node) = span.extensions().get::<Arc<SpanNode>>() {
                node.request.push(crumb);
            }
        }
    }

    fn on_error<S>(
        &self,
        event: &Event<'_>,
        normalized: Option<&Metadata<'_>>,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if event.is_contextual() {
            // The innermost entered span's node, borrowed for the decision: a report that
            // is held back (a flood) or sampled out touches no reference count. Spans
            // entered by a `Debug` impl meanwhile are not tracked, and events inside it
            // are this layer's own (busy), so the borrow hides nothing that counts.
            let decided = entered::with_current(self.key(), |node| self.admit(event, Some(node)));
            match decided {
                Some(Some(suppressed)) => {
                    let node = entered::with_current(self.key(), Arc::clone);
                    self.report(event, normalized, node, suppressed);
                    return;
                }
                Some(None) => return,
                None => {}
            }
        }
        let node = self.event_node(event, ctx);
        if node.is_none() && event.is_contextual() && ctx.current_span().id().is_some() {
            tell_unseen_span();
        }
        if let Some(suppressed) = self.admit(event, node.as_ref()) {
            self.report(event, normalized, node, suppressed);
        }
    }

    /// Whether an error event in span `node` is reported: `Some(n)` (`n` held back
    /// before it), or `None` when sampled out or held back by flood control, counted.
    fn admit(&self, event: &Event<'_>, node: Option<&Arc<SpanNode>>) -> Option<u64> {
        let settings = &self.shared.settings;
        // Sampled out or not, the error happened: the spans' status says so.
        if let Some(node) = node {
            node.errored.store(true, Ordering::Relaxed);
            node.request.mark_errored();
        }
        if settings.sample_rate < 1.0 && fastrand::f32() >= settings.sample_rate {
            self.shared
                .worker
                .counters
                .sampled_out
                .fetch_add(1, Ordering::Relaxed);
            if let Some(node) = node {
                node.request.set_last_event_id(None, Wait::Block);
            }
            return None;
        }
        // Flood control decides before anything is recorded or allocated.
        let admitted = if self.shared.flood.is_on() {
            let key = report_key(event, &settings.tenant_fields, || {
                SpanNode::scope_tenant_hash(node)
            });
            self.shared.flood.admit(key)
        } else {
            Some(0)
        };
        if let Some(node) = node {
            // Held back or not, the request has failed: a middleware's later line about
            // the same failure is a breadcrumb, not a second report.
            node.request.mark_reported();
        }
        if admitted.is_none() {
            self.shared
                .worker
                .counters
                .suppressed
                .fetch_add(1, Ordering::Relaxed);
            if let Some(node) = node {
                node.request.set_last_event_id(None, Wait::Block);
            }
        }
        admitted
    }

    /// Records an admitted error event and queues its report.
    fn report(
        &self,
        event: &Event<'_>,
        normalized: Option<&Metadata<'_>>,
        node: Option<Arc<SpanNode>>,
        suppressed: u64,
    ) {
        let metadata = event.metadata();
        let settings = &self.shared.settings;
        let mut recorder = FieldRecorder::default();
        event.record(&mut recorder);
        let tenant = identity(&settings.tenant_fields, &recorder.fields);
        let user = identity(&settings.user_fields, &recorder.fields);
        let mut scope = SpanNode::snapshot(node.as_ref(), tenant, user, Wait::Block);
        if settings.hub_scope {
            scope.hub = crate::manual::hub_scope();
        }
        let event_id = sentry::types::random_uuid();
        let queued = self.shared.worker.send_report(PendingReport {
            event_id,
            timestamp: SystemTime::now(),
            metadata: Some(metadata),
            log_source: normalized.map(LogSource::of),
            message: recorder.message,
            fields: recorder.fields,
            errors: recorder.errors,
            panic: None,
            // Only the stack walk here: symbols are resolved on the worker.
            stacktrace: settings
                .attach_stacktrace
                .then(backtrace::Backtrace::new_unresolved),
            scope,
            suppressed,
        });
        if let Some(node) = &node {
            node.request
                .set_last_event_id(queued.then_some(event_id), Wait::Block);
        }
    }
}

impl<S> Layer<S> for ErrorReportLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let settings = &self.shared.settings;
        let mut recorder = FieldRecorder::default();
        {
            // A panicking `Debug` impl is contained by the recorder: not a panic to report.
            let _busy = enter_busy();
            attrs.record(&mut recorder);
        }
        let mut naming = Naming::default();
        naming.take_from(&mut recorder.fields);
        let tenant = identity(&settings.tenant_fields, &recorder.fields);
        let user = identity(&settings.user_fields, &recorder.fields);
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Arc<SpanNode>>().cloned());
        let metadata = span.metadata();
        // The request boundary (ADR-025): a root span, or a span that declares a tenant
        // field inside a request whose root does not (a worker's job, a connection's
        // request, a request inside an instrumented `main`), or a span whose tenant,
        // known at creation, differs from the enclosing one's (one tenant's request
        // under a span of another: never one request).
        let declares_tenant = tenant.is_some()
            || settings
                .tenant_fields
                .iter()
                .any(|name| metadata.fields().field(name).is_some());
        let other_tenant = tenant.as_deref().is_some_and(|own| {
            SpanNode::scope_tenant_hash(parent.as_ref())
                .is_some_and(|enclosing| enclosing != hash_tenant(own))
        });
        let within = parent
            .as_ref()
            .filter(|parent| !declares_tenant || (parent.request.tenant_scoped && !other_tenant));
        let (request, starts_request, sampled) = match within {
            Some(parent) => (parent.request.clone(), false, parent.started.is_some()),
            None => {
                let incoming = naming.incoming.take();
                let transaction = TransactionState::sample(
                    settings.traces_sample_rate,
                    incoming.and_then(|incoming| incoming.sampled()),
                );
                let sampled = transaction.is_some();
                let request = Arc::new(RequestState::new(
                    span.name(),
                    declares_tenant,
                    self.key(),
                    settings.max_breadcrumbs,
                    transaction,
                    incoming,
                ));
                (request, true, sampled)
            }
        };
        if let Some(trace_id) = linked_trace_id(settings, &recorder.fields) {
            request.link(trace_id);
        }
        if starts_request {
            if let Some(name) = naming.name() {
                request.set_name(name.clone());
            }
        }
        let node = Arc::new(SpanNode {
            metadata,
            tenant_hash: SpanNode::tenant_hash_of(tenant.as_deref()),
            data: Mutex::new(SpanData {
                tenant,
                user,
                fields: recorder.fields,
                naming,
            }),
            parent,
            request,
            own_span_id: random_span_id(),
            otel_span_id: std::sync::OnceLock::new(),
            #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
            otel_tried: AtomicBool::new(false),
            starts_request,
            started: sampled.then(SystemTime::now),
            errored: AtomicBool::new(false),
        });
        // Present now when tracing-opentelemetry runs before this layer; else at `on_enter`.
        self.adopt_otel(&node, id, false);
        span.extensions_mut().insert(node);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let settings = &self.shared.settings;
        let mut recorder = FieldRecorder::default();
        {
            let _busy = enter_busy();
            values.record(&mut recorder);
        }
        let Some(node) = span.extensions().get::<Arc<SpanNode>>().cloned() else {
            return;
        };
        if let Some(trace_id) = linked_trace_id(settings, &recorder.fields) {
            node.request.link(trace_id);
        }
        let tenant = identity(&settings.tenant_fields, &recorder.fields);
        let user = identity(&settings.user_fields, &recorder.fields);
        let Some(mut data) = lock(&node.data, Wait::Block) else {
            return;
        };
        let had_name = data.naming.name().cloned();
        data.naming.take_from(&mut recorder.fields);
        if node.starts_request {
            if let Some(name) = data.naming.name().filter(|n| had_name.as_ref() != Some(*n)) {
                node.request.set_name(name.clone());
            }
        }
        if let Some(tenant) = tenant {
            node.tenant_hash
                .store(hash_tenant(&tenant), Ordering::Relaxed);
            data.tenant = Some(tenant);
        }
        if user.is_some() {
            data.user = user;
        }
        let fields = &mut data.fields;
        for (name, value) in recorder.fields {
            match fields.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => fields.push((name, value)),
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let node = span.extensions().get::<Arc<SpanNode>>().cloned();
        if let Some(node) = node {
            self.adopt_otel(&node, id, true);
            if node.starts_request
                && node.otel_span_id.get().is_none()
                && *self
                    .otel_below
                    .get_or_init(|| std::any::type_name::<S>().contains("tracing_opentelemetry::"))
                && !UNREADABLE_OTEL_TOLD.swap(true, Ordering::Relaxed)
            {
                // A `tracing` event would go nowhere: we are inside the dispatch of one.
                eprintln!("{UNREADABLE_OTEL_DIAGNOSTIC}");
            }
            entered::push(self.key(), id, node);
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        entered::pop(self.key(), id);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let level = metadata.level();
        // `Level` orders verbosity: TRACE > DEBUG > INFO > WARN > ERROR.
        if *level > self.shared.settings.breadcrumb_level || is_busy() {
            return;
        }
        // A `log` record through tracing-log: its own target, file and line.
        let normalized = event.normalized_metadata();
        let target = normalized
            .as_ref()
            .map_or(metadata.target(), |m| m.target());
        if self.shared.is_ignored(target) {
            return;
        }
        if let Some(filter) = &self.shared.settings.event_filter {
            if !(filter.0)(normalized.as_ref().unwrap_or(metadata)) {
                return;
            }
        }
        let Some(_busy) = enter_busy() else {
            return;
        };
        if *level <= self.shared.settings.event_level
            && !self.is_repeated_failure(target, event, &ctx)
        {
            self.on_error(event, normalized.as_ref(), &ctx);
        } else {
            self.on_breadcrumb(event, &ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(node) = span.extensions().get::<Arc<SpanNode>>().cloned() else {
            return;
        };
        let (Some(started), Some(tx)) = (node.started, node.request.transaction.as_ref()) else {
            return;
        };
        let finished = SystemTime::now();
        let Some(data) = lock(&node.data, Wait::Block) else {
            return;
        };
        if !node.starts_request {
            let status = span_status(&data.fields, node.errored.load(Ordering::Relaxed));
            tx.record(child_span(
                node.metadata,
                &data.naming,
                status,
                node.request.trace_id(),
                node.span_id(),
                node.parent_span_id(),
                started,
                finished,
                &data.fields,
            ));
            return;
        }
        let (spans, dropped_spans) = tx.take();
        self.shared.worker.send_transaction(FinishedTransaction {
            name: node.request.name(Wait::Block),
            parent_span_id: node.request.incoming_parent,
            op: match &data.naming.op {
                Some(op) => op.clone(),
                None => Arc::from(node.metadata.name()),
            },
            status: span_status(&data.fields, node.request.errored()),
            trace_id: node.request.trace_id(),
            span_id: node.span_id(),
            started,
            finished,
            spans,
            dropped_spans,
            tenant: data.tenant.clone(),
            user: data.user.clone(),
            fields: Arc::new(data.fields.clone()),
        });
    }

    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        // Lets the panic hook find this layer in the current subscriber when a panic
        // happens outside any span (`reload::Layer` does not forward this).
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else {
            None
        }
    }
}
