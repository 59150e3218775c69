//! The `tracing_subscriber::Layer`.
//!
//! It never filters through `Layer::enabled` or `register_callsite` (that would hide
//! events from sibling layers such as fmt, tracing-opentelemetry or tracing-loki);
//! it looks at the level and target of each event it is given and ignores the rest.
//! To narrow it further, wrap it in a per-layer filter with `with_filter`.

use std::any::TypeId;
use std::sync::Arc;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::crumb::PackedCrumb;
use crate::entered;
use crate::fields::{FieldRecorder, FieldValue};
use crate::flood::FloodControl;
use crate::panic::DispatchContext;
use crate::performance::{child_span, FinishedTransaction, TransactionState};
use crate::report::{LogSource, PendingReport, ScopeSnapshot, SpanSnapshot};
use crate::request::{random_span_id, random_trace_id, RequestState, SpanState};
use crate::worker::{enter_busy, is_busy, Worker};

/// Targets of middleware that log a request's failure after the application did:
/// tower-http's `TraceLayer` (`on_failure`, ERROR by default) and `CatchPanicLayer`
/// ("Service panicked", after the panic hook reported the panic).
const FAILURE_CLASSIFIERS: &[&str] = &["tower_http::trace", "tower_http::catch_panic"];

/// Settings the layer reads on every event, resolved once at `init`.
#[derive(Debug)]
pub(crate) struct LayerSettings {
    pub(crate) event_level: Level,
    pub(crate) breadcrumb_level: Level,
    pub(crate) tenant_fields: Vec<&'static str>,
    pub(crate) user_fields: Vec<&'static str>,
    pub(crate) trace_id_fields: Vec<&'static str>,
    pub(crate) max_breadcrumbs: usize,
    pub(crate) traces_sample_rate: f32,
    pub(crate) ignored_targets: Vec<std::borrow::Cow<'static, str>>,
    /// First bytes of the ignored targets: most targets are ruled out by one lookup.
    pub(crate) ignored_initials: [bool; 256],
}

impl LayerSettings {
    pub(crate) fn initials(targets: &[std::borrow::Cow<'static, str>]) -> [bool; 256] {
        let mut initials = [false; 256];
        for target in targets {
            if let Some(first) = target.as_bytes().first() {
                initials[usize::from(*first)] = true;
            }
        }
        initials
    }
}

/// Everything the layer and the panic hook share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: LayerSettings,
    pub(crate) worker: Worker,
    pub(crate) flood: FloodControl,
    /// Breadcrumbs logged outside any span; seen only by errors outside any span.
    pub(crate) orphan: RequestState,
}

impl Shared {
    fn is_ignored(&self, target: &str) -> bool {
        let first = target.as_bytes().first().map_or(0, |b| usize::from(*b));
        if !self.settings.ignored_initials[first] {
            return false;
        }
        self.settings.ignored_targets.iter().any(|prefix| {
            target.starts_with(prefix.as_ref())
                && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
        })
    }

    /// Resolves tenant and user: the event's own fields first, then the nearest span
    /// that has them.
    pub(crate) fn snapshot<'a, R: LookupSpan<'a>>(
        &self,
        span: Option<SpanRef<'a, R>>,
        event_fields: &[(&'static str, FieldValue)],
    ) -> ScopeSnapshot {
        let field = |names: &[&'static str]| {
            event_fields
                .iter()
                .find(|(name, _)| names.contains(name))
                .map(|(_, v)| Arc::<str>::from(v.to_text()))
        };
        let mut snapshot = ScopeSnapshot {
            tenant: field(&self.settings.tenant_fields),
            user: field(&self.settings.user_fields),
            ..Default::default()
        };
        let Some(span) = span else {
            snapshot.breadcrumbs = self.orphan.snapshot();
            return snapshot;
        };
        let mut request = None;
        for (depth, span) in span.scope().enumerate() {
            let extensions = span.extensions();
            let Some(state) = extensions.get::<SpanState>() else {
                continue;
            };
            if depth == 0 {
                // Every snapshot is taken for a report (an error or a panic).
                state.request.mark_reported();
                snapshot.trace = Some((state.request.trace_id(), state.span_id));
                snapshot.transaction = Some(state.request.root_name);
                request = Some(state.request.clone());
            }
            if snapshot.tenant.is_none() {
                snapshot.tenant.clone_from(&state.tenant);
            }
            if snapshot.user.is_none() {
                snapshot.user.clone_from(&state.user);
            }
            snapshot.spans.push(SpanSnapshot {
                name: span.name(),
                fields: state.fields.clone(),
            });
        }
        if let Some(request) = request {
            snapshot.breadcrumbs = request.snapshot();
        }
        snapshot
    }
}

/// Turns error events into Sentry reports and info/warn events into breadcrumbs of
/// their request. Made by [`init`](crate::init); absent (`None`) when reporting is off.
pub struct ErrorReportLayer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) panic_context: DispatchContext,
}

impl std::fmt::Debug for ErrorReportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReportLayer")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

/// Splits recorded fields into tenant, user and the rest.
fn take_identity(
    settings: &LayerSettings,
    fields: &[(&'static str, FieldValue)],
) -> (Option<Arc<str>>, Option<Arc<str>>) {
    let find = |names: &[&'static str]| {
        names.iter().find_map(|wanted| {
            fields
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, v)| Arc::<str>::from(v.to_text()))
        })
    };
    (find(&settings.tenant_fields), find(&settings.user_fields))
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

impl ErrorReportLayer {
    /// Identifies this layer instance in per-thread state.
    fn key(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Counts of queued, dropped and suppressed reports so far.
    pub fn stats(&self) -> crate::ReportStats {
        self.shared.worker.counters.snapshot()
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
        ctx.event_span(event).is_some_and(|span| {
            span.extensions()
                .get::<SpanState>()
                .is_some_and(|state| state.request.was_reported())
        })
    }

    fn on_breadcrumb<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let crumb = PackedCrumb::pack(event);
        let mut crumb = Some(crumb);
        if event.is_contextual() {
            let pushed = entered::with_current(self.key(), |request| {
                if let Some(crumb) = crumb.take() {
                    request.push(crumb);
                }
            });
            if pushed.is_some() {
                return;
            }
        }
        let Some(crumb) = crumb else { return };
        match ctx.event_span(event) {
            Some(span) => {
                if let Some(state) = span.extensions().get::<SpanState>() {
                    state.request.push(crumb);
                }
            }
            None => self.shared.orphan.push(crumb),
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
        let metadata = event.metadata();
        let Some(suppressed) = self.shared.flood.admit(metadata, normalized) else {
            self.shared
                .worker
                .counters
                .suppressed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        };
        let mut recorder = FieldRecorder::default();
        event.record(&mut recorder);
        let scope = self
            .shared
            .snapshot(ctx.event_span(event), &recorder.fields);
        let event_id = crate::new_event_id();
        crate::LAST_EVENT_ID.with(|last| last.set(Some(event_id)));
        self.shared.worker.send_report(PendingReport {
            event_id,
            timestamp: SystemTime::now(),
            metadata: Some(metadata),
            log_source: normalized.map(LogSource::of),
            message: recorder.message,
            fields: recorder.fields,
            errors: recorder.errors,
            panic: None,
            scope,
            suppressed,
        });
    }
}

impl<S> Layer<S> for ErrorReportLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, _subscriber: &mut S) {
        self.panic_context.snapshot = Some(snapshot_current::<S>);
        self.panic_context.trace_id_of = Some(trace_id_of::<S>);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut recorder = FieldRecorder::default();
        attrs.record(&mut recorder);
        let (tenant, user) = take_identity(&self.shared.settings, &recorder.fields);
        let parent = span.parent();
        let parent_state = parent.as_ref().and_then(|p| {
            let ext = p.extensions();
            ext.get::<SpanState>()
                .map(|s| (s.request.clone(), s.span_id, s.started.is_some()))
        });
        let (request, parent_span_id, sampled) = match parent_state {
            Some((request, parent_id, sampled)) => (request, Some(parent_id), sampled),
            None => {
                let transaction = TransactionState::sample(self.shared.settings.traces_sample_rate);
                let sampled = transaction.is_some();
                let request = Arc::new(RequestState::new(
                    span.name(),
                    random_trace_id(),
                    self.shared.settings.max_breadcrumbs,
                    transaction,
                ));
                (request, None, sampled)
            }
        };
        if let Some(trace_id) = linked_trace_id(&self.shared.settings, &recorder.fields) {
            request.link(trace_id);
        }
        let state = SpanState {
            tenant,
            user,
            fields: Arc::new(recorder.fields),
            request,
            span_id: random_span_id(),
            parent_span_id,
            started: sampled.then(SystemTime::now),
        };
        span.extensions_mut().insert(state);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut recorder = FieldRecorder::default();
        values.record(&mut recorder);
        let (tenant, user) = take_identity(&self.shared.settings, &recorder.fields);
        let mut extensions = span.extensions_mut();
        let Some(state) = extensions.get_mut::<SpanState>() else {
            return;
        };
        if let Some(trace_id) = linked_trace_id(&self.shared.settings, &recorder.fields) {
            state.request.link(trace_id);
        }
        if tenant.is_some() {
            state.tenant = tenant;
        }
        if user.is_some() {
            state.user = user;
        }
        let fields = Arc::make_mut(&mut state.fields);
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
        let request = span
            .extensions()
            .get::<SpanState>()
            .map(|state| state.request.clone());
        if let Some(request) = request {
            entered::push(self.key(), id, request);
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
        let extensions = span.extensions();
        let Some(state) = extensions.get::<SpanState>() else {
            return;
        };
        let (Some(started), Some(tx)) = (state.started, state.request.transaction.as_ref()) else {
            return;
        };
        let finished = SystemTime::now();
        let metadata: &'static Metadata<'static> = span.metadata();
        if state.parent_span_id.is_some() {
            tx.record(child_span(
                metadata,
                state.request.trace_id(),
                state.span_id,
                state.parent_span_id,
                started,
                finished,
                &state.fields,
            ));
            return;
        }
        let (spans, dropped_spans) = tx.take();
        self.shared.worker.send_transaction(FinishedTransaction {
            name: state.request.root_name,
            metadata,
            trace_id: state.request.trace_id(),
            span_id: state.span_id,
            started,
            finished,
            spans,
            dropped_spans,
            tenant: state.tenant.clone(),
            user: state.user.clone(),
            fields: state.fields.clone(),
        });
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        // Lets the panic hook find this layer (and its span data) in whatever
        // subscriber is current, as tracing-error's `WithContext` does.
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<DispatchContext>() {
            Some(&self.panic_context as *const DispatchContext as *const ())
        } else {
            None
        }
    }
}

/// The trace id of the request `id` belongs to, for [`link_trace`](crate::link_trace).
pub(crate) fn trace_id_of<S>(dispatch: &Dispatch, id: &Id) -> Option<sentry::protocol::TraceId>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let span = dispatch.downcast_ref::<S>()?.span(id)?;
    let extensions = span.extensions();
    extensions
        .get::<SpanState>()
        .map(|state| state.request.trace_id())
}

/// Resolves the current span's scope for the panic hook: a function of the concrete
/// subscriber type, stored as a plain pointer so the hook needs no generics.
pub(crate) fn snapshot_current<S>(dispatch: &Dispatch, shared: &Shared) -> ScopeSnapshot
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let subscriber = dispatch.downcast_ref::<S>();
    let current = dispatch.current_span();
    match (subscriber, current.id()) {
        (Some(subscriber), Some(id)) => shared.snapshot(subscriber.span(id), &[]),
        _ => shared.snapshot::<tracing_subscriber::Registry>(None, &[]),
    }
}
