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
use std::sync::{Arc, OnceLock};

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::admission::{admit, is_propagated, is_repeated_failure, Failure, Route};
use crate::crumb::PackedCrumb;
use crate::entered;
use crate::fields::FieldRecorder;
use crate::flood::{event_hashes, ErrorLinks, EventHashes};
use crate::hub_scope;
use crate::identity::IdentityKey;
use crate::logs::{admit_log, queue_log};
use crate::metrics::{admit_metrics, has_metric_fields, queue_metrics};
use crate::report::{EventDetails, LogSource, Occurrence, PendingReport, Stack};
use crate::reporting::Reporting;
use crate::request::SpanNode;
use crate::sync::{enter_busy, is_busy, Wait};

/// Turns error events into Sentry reports and info/warn events into breadcrumbs of
/// their request. Made by [`init`](crate::init); absent (`None`) when reporting is off.
pub struct ErrorReportLayer {
    pub(crate) reporting: Arc<Reporting>,
    /// The subscriber the layer is in (weak: the subscriber owns the layer), for
    /// reading tracing-opentelemetry's span ids through its public API.
    dispatch: OnceLock<tracing::dispatcher::WeakDispatch>,
    /// Whether a tracing-opentelemetry layer sits below this one in the subscriber
    /// (seen in the subscriber's type), decided once.
    otel_below: OnceLock<bool>,
}

impl std::fmt::Debug for ErrorReportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReportLayer")
            .field("settings", &self.reporting.settings)
            .finish_non_exhaustive()
    }
}

/// Set once the diagnostic about an OpenTelemetry layer the crate cannot read has been printed.
static UNREADABLE_OTEL_TOLD: AtomicBool = AtomicBool::new(false);
/// Whether a span lent to another request was entered outside any request (said once).
static DETACHED_TOLD: AtomicBool = AtomicBool::new(false);

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

/// Set once the diagnostic about a second layer of this crate in one subscriber has been printed.
static SECOND_LAYER_TOLD: AtomicBool = AtomicBool::new(false);

/// The text of that diagnostic.
pub(crate) const SECOND_LAYER_DIAGNOSTIC: &str = "tracing-error-reports: two ErrorReportLayers \
are in one subscriber (`.with(layer).with(layer2)`, or `init` called twice and both layers \
added): the spans belong to the first; the second reports errors inside them with the first \
one's context and keeps no breadcrumbs of its own there. Add one layer per subscriber. \
(Said once per process.)";

fn tell_second_layer() {
    if !SECOND_LAYER_TOLD.swap(true, Ordering::Relaxed) {
        eprintln!("{SECOND_LAYER_DIAGNOSTIC}");
    }
}

/// Set once the diagnostic about a subscriber that enables no error event has been printed.
static ALL_DISABLED_TOLD: AtomicBool = AtomicBool::new(false);

/// The text of that diagnostic.
pub(crate) const ALL_DISABLED_DIAGNOSTIC: &str = "tracing-error-reports: this subscriber \
enables no ERROR event, so nothing will be reported (or printed). A layer in it disables \
everything: most often an empty `Vec` of layers (optional sinks collected in a `Vec`: an empty \
`Vec` is a layer whose interest is `never` and whose level is OFF, tracing-subscriber issue \
3563), or a global filter set to `off`. Add optional sinks as `Option<Layer>` instead, or \
only a non-empty `Vec`. (Said once per process.)";

/// An ERROR event callsite of no module: what the subscriber says about it is what it says
/// about an error logged anywhere without a filter naming its target.
struct Probe;

static PROBE: Probe = Probe;

static PROBE_METADATA: Metadata<'static> = Metadata::new(
    "error reporting probe",
    "error_reporting_probe",
    tracing::Level::ERROR,
    None,
    None,
    None,
    tracing::field::FieldSet::new(&[], tracing_core::identify_callsite!(&PROBE)),
    tracing_core::metadata::Kind::EVENT,
);

impl tracing_core::Callsite for Probe {
    fn set_interest(&self, _: tracing_core::subscriber::Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        &PROBE_METADATA
    }
}

/// Whether `dispatch` disables every error event: it has no interest in an ERROR
/// callsite (what an empty `Vec` of layers answers for every callsite).
pub(crate) fn disables_all_errors(dispatch: &tracing::Dispatch) -> bool {
    dispatch.register_callsite(&PROBE_METADATA).is_never()
}

/// Whether a request that declares a tenant was seen: the process is a service, whose
/// reports outside any request most likely come from work moved off its request.
static SERVICE_REQUESTS_SEEN: AtomicBool = AtomicBool::new(false);
static NO_REQUEST_TOLD: AtomicBool = AtomicBool::new(false);

/// Says once that a service reported outside any request.
fn tell_no_request(target: &str) {
    if SERVICE_REQUESTS_SEEN.load(Ordering::Relaxed)
        && !NO_REQUEST_TOLD.swap(true, Ordering::Relaxed)
    {
        eprintln!(
            "tracing-error-reports: an error of `{target}` was reported outside any request: \
             it has no tenant, user, trace or breadcrumbs. A task started with tokio::spawn \
             keeps its request with `.in_current_span()`; work moved off a request \
             (spawn_blocking, actix's web::block, a thread pool) keeps it when wrapped in \
             `tracing_error_reports::carry_request(|| ..)` (said once)"
        );
    }
}

fn tell_unseen_span() {
    if !UNSEEN_SPAN_TOLD.swap(true, Ordering::Relaxed) {
        // A `tracing` event would go nowhere: we are inside the dispatch of one.
        eprintln!("{UNSEEN_SPAN_DIAGNOSTIC}");
    }
}

impl ErrorReportLayer {
    pub(crate) fn new(reporting: Arc<Reporting>) -> ErrorReportLayer {
        ErrorReportLayer {
            reporting,
            dispatch: OnceLock::new(),
            otel_below: OnceLock::new(),
        }
    }

    /// Identifies this layer instance in per-thread state.
    fn key(&self) -> usize {
        self.reporting.key()
    }

    /// Whether `node` is this layer's: a second layer of the crate in the subscriber finds
    /// the first one's nodes in the spans' extensions and leaves them alone.
    fn owns(&self, node: &SpanNode) -> bool {
        node.request.layer == self.key()
    }

    /// This layer's node of span `span`, if it made one.
    fn own_node<S>(
        &self,
        span: &tracing_subscriber::registry::SpanRef<'_, S>,
    ) -> Option<Arc<SpanNode>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        span.extensions()
            .get::<Arc<SpanNode>>()
            .filter(|node| self.owns(node))
            .cloned()
    }

    /// Gives `node` the OpenTelemetry ids of span `id` when tracing-opentelemetry is in
    /// the subscriber and has seen the span (feature `opentelemetry`). Called at the
    /// span's first enter and at its close, never at its creation: reading the ids starts
    /// the OpenTelemetry span, which `OpenTelemetrySpanExt::set_parent` must precede.
    ///
    /// The subscriber is the one registered with this layer (`on_register_dispatch`,
    /// which `Option<Layer>` and `Vec<Layer>` do not forward), else the thread's
    /// default when `on_enter` runs: that one is used only if its registry holds this
    /// very span node, since tracing-opentelemetry panics on a span id it has not seen.
    #[cfg_attr(
        not(any(feature = "opentelemetry", feature = "opentelemetry-0-33")),
        allow(unused_variables)
    )]
    fn adopt_otel(&self, node: &Arc<SpanNode>, id: &Id) {
        #[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
        {
            if node.otel_span_id.get().is_some() || node.otel_tried.swap(true, Ordering::Relaxed) {
                return;
            }
            let dispatch = match self.dispatch.get().and_then(|weak| weak.upgrade()) {
                Some(dispatch) => dispatch,
                None => {
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
            };
            // Whatever OpenTelemetry logs while starting its span is not ours to report.
            let _busy = enter_busy();
            node.adopt_otel(&dispatch, id);
        }
    }

    /// Counts of queued, dropped and suppressed reports so far.
    pub fn stats(&self) -> crate::ReportStats {
        self.reporting.stats()
    }

    /// The node of the span an event belongs to: the innermost entered span for
    /// contextual events (no registry lookup), else the event's explicit parent.
    fn event_node<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Option<Arc<SpanNode>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let node = if event.is_contextual() {
            match entered::with_current(self.key(), Arc::clone) {
                Some(node) => Some(node),
                // The registry's current span is another task's (entered across an
                // `.await`).
                None if entered::hidden(self.key(), None) => return None,
                None => None,
            }
        } else {
            None
        };
        // Another layer's node too (two layers in one subscriber, or a reloaded layer
        // with requests of the old one still open): read for the report's context.
        let node = node.or_else(|| {
            let span = ctx.event_span(event)?;
            let extensions = span.extensions();
            extensions.get::<Arc<SpanNode>>().cloned()
        })?;
        (!self.hides_requests(&node)).then_some(node)
    }

    fn on_breadcrumb<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, names_identity: bool)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let crumb = PackedCrumb::pack(event);
        let mut crumb = Some(crumb);
        // An event naming a tenant or user of its own (`info!(tenant_id = "globex", ..)`
        // inside acme's request) is kept under that identity: acme's reports never
        // show it.
        // Inside a request span a filter may have just refused: of no request.
        if entered::attempt_pending(self.key()) {
            return;
        }
        let own = names_identity
            .then(|| self.own_identity_key(event))
            .flatten();
        let key = |node: &SpanNode| match own {
            Some(own) => own.over(node.scope_key()),
            None => node.scope_key(),
        };
        if event.is_contextual() {
            let pushed = entered::with_current(self.key(), |node| {
                if let Some(crumb) = crumb.take() {
                    if !node.request.may_hide_requests() {
                        node.request.push(key(node), crumb);
                    }
                }
            });
            if pushed.is_some() {
                return;
            }
        }
        let Some(crumb) = crumb else { return };
        if event.is_contextual() && entered::hidden(self.key(), None) {
            return;
        }
        // A breadcrumb of no known request is dropped: attached anywhere else it could
        // show one tenant's data in another's report (ADR-023).
        if let Some(span) = ctx.event_span(event) {
            if let Some(node) = self.own_node(&span) {
                if !node.request.may_hide_requests() {
                    node.request.push(key(&node), crumb);
                }
            }
        }
    }

    /// Whether events in `node` may belong to a request span a filter refused inside it
    /// (its request may hide requests, or one was just asked for on this thread): they
    /// then belong to no request.
    fn hides_requests(&self, node: &SpanNode) -> bool {
        node.request.may_hide_requests() || entered::attempt_pending(self.key())
    }

    /// Whether `metadata` declares a tenant or user field.
    fn declares_identity(&self, metadata: &Metadata<'_>) -> bool {
        let identity = &self.reporting.settings.requests.identity;
        identity.declares_tenant(metadata) || identity.declares_user(metadata)
    }

    /// The identity `event` names in its own fields (asked only of events whose callsite
    /// has identity fields: most have none, and nothing is recorded for them).
    fn own_identity_key(&self, event: &Event<'_>) -> Option<IdentityKey> {
        let identity = &self.reporting.settings.requests.identity;
        let mut recorder = FieldRecorder::default();
        event.record(&mut recorder);
        let own = IdentityKey::of(&identity.read(&recorder.fields));
        (own != IdentityKey::default()).then_some(own)
    }

    /// Sends `event` as a structured log if the log settings take it (flood control
    /// per callsite and tenant, then recorded and queued for the worker's batch).
    fn on_log<S>(&self, event: &Event<'_>, normalized: Option<&Metadata<'_>>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let reporting = &self.reporting;
        let settings = &reporting.settings;
        let counters = &reporting.worker.counters;
        if !settings.logs.route(
            normalized.unwrap_or(event.metadata()),
            &settings.admission,
            counters,
        ) {
            return;
        }
        let Some(_busy) = enter_busy() else {
            return;
        };
        let node = self.event_node(event, ctx);
        let identity = &settings.requests.identity;
        if admit_log(
            &reporting.log_flood,
            identity,
            event,
            node.as_ref(),
            counters,
        ) {
            queue_log(
                &reporting.worker,
                identity,
                event,
                normalized,
                node.as_ref(),
            );
        }
    }

    /// Sends the metric fields of `event` as Sentry metrics (flood control per callsite
    /// and tenant, then recorded and queued for the worker's batch).
    fn on_metrics<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(_busy) = enter_busy() else {
            return;
        };
        let reporting = &self.reporting;
        let node = self.event_node(event, ctx);
        let identity = &reporting.settings.requests.identity;
        let counters = &reporting.worker.counters;
        if admit_metrics(
            &reporting.metric_flood,
            identity,
            event,
            node.as_ref(),
            counters,
        ) {
            queue_metrics(&reporting.worker, identity, event, node.as_ref());
        }
    }

    /// `hashes`: the event's error hash and flood key ([`event_hashes`]).
    fn on_error<S>(
        &self,
        event: &Event<'_>,
        normalized: Option<&Metadata<'_>>,
        ctx: &Context<'_, S>,
        hashes: &EventHashes,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let gate = self.reporting.gate();
        if event.is_contextual() {
            // The innermost entered span's node, borrowed for the decision: a report that
            // is held back (a flood) or sampled out touches no reference count. Spans
            // entered by a `Debug` impl meanwhile are not tracked, and events inside it
            // are this layer's own (busy), so the borrow hides nothing that counts.
            // Flood control reads the span's tenant as it is (a held-back report takes
            // nothing of it); an admitted one leaves a span that may hide requests below.
            let decided = entered::with_current(self.key(), |node| {
                admit(&gate, Failure::Event(hashes), Some(node), Wait::Block)
            });
            match decided {
                Some(Some(suppressed)) => {
                    let node = entered::with_current(self.key(), Arc::clone)
                        .filter(|node| !self.hides_requests(node));
                    self.report(event, normalized, node, suppressed, hashes.error);
                    return;
                }
                Some(None) => return,
                None => {}
            }
        }
        let node = self.event_node(event, ctx);
        let seen_but_hiding = || {
            entered::attempt_pending(self.key())
                || ctx.event_span(event).is_some_and(|span| {
                    span.extensions()
                        .get::<Arc<SpanNode>>()
                        .is_some_and(|node| node.request.may_hide_requests())
                })
        };
        if node.is_none() && event.is_contextual() && entered::hidden(self.key(), None) {
            // Told by `entered` (another task's span left entered across an `.await`).
        } else if node.is_none() && seen_but_hiding() {
            // Told by `request` (a span whose requests the filter now hides).
        } else if node.is_none() && event.is_contextual() && ctx.current_span().id().is_some() {
            tell_unseen_span();
        } else if node.is_none() {
            tell_no_request(event.metadata().target());
        }
        if let Some(suppressed) = admit(&gate, Failure::Event(hashes), node.as_ref(), Wait::Block) {
            self.report(event, normalized, node, suppressed, hashes.error);
        }
    }

    /// Records an admitted error event and queues its report.
    fn report(
        &self,
        event: &Event<'_>,
        normalized: Option<&Metadata<'_>>,
        node: Option<Arc<SpanNode>>,
        suppressed: u64,
        error: Option<ErrorLinks>,
    ) {
        let settings = &self.reporting.settings;
        let mut recorder = FieldRecorder::default();
        event.record(&mut recorder);
        let own = settings.requests.identity.read(&recorder.fields);
        let mut scope = SpanNode::snapshot(node.as_ref(), own, Wait::Block);
        let key = IdentityKey::of(&scope.identity);
        if settings.capture.hub_scope {
            scope.hub = hub_scope::hub_scope();
        }
        let details = EventDetails {
            metadata: event.metadata(),
            log_source: normalized.map(LogSource::of),
            message: recorder.message,
            fields: recorder.fields,
            errors: recorder.errors,
            // Only the stack walk here: symbols are resolved on the worker.
            stacktrace: settings.capture.attach_stacktrace.then(Stack::here),
            suppressed,
        };
        let report = PendingReport::new(Occurrence::Event(details), scope);
        let event_id = report.event_id;
        let queued = self.reporting.worker.send_report(report);
        // Only the layer that owns the request keeps its ids: the other's report went
        // elsewhere (another DSN).
        if let Some(node) = node.as_ref().filter(|node| self.owns(node)) {
            node.request
                .set_last_event_id(key, queued.then_some(event_id), Wait::Block);
            if let Some(error) = error {
                node.request.note_reported_error(error.outermost(), node);
            }
        }
    }
}

impl<S> Layer<S> for ErrorReportLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Spans declaring a tenant or user: asked each time (`enabled`), so a filter below
        // that refuses one is seen ([`entered::attempt_span`]). The answer stays yes:
        // this layer filters nothing.
        if metadata.is_span() && self.declares_identity(metadata) {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        if metadata.is_span() && self.declares_identity(metadata) {
            entered::attempt_span(self.key(), metadata.callsite());
        }
        true
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        entered::span_made(self.key(), &attrs.metadata().callsite());
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut recorder = FieldRecorder::default();
        {
            // A panicking `Debug` impl is contained by the recorder: not a panic to report.
            let _busy = enter_busy();
            attrs.record(&mut recorder);
        }
        if span.extensions().get::<Arc<SpanNode>>().is_some() {
            // Another layer of this crate is in the subscriber and made the span's node:
            // a second one would panic in the extensions' `insert`.
            tell_second_layer();
            return;
        }
        let parent = span.parent().and_then(|p| {
            // The registry's current span is another task's (entered across an
            // `.await`): the running task's own entered span is the parent, if any.
            if attrs.is_contextual() && entered::hidden(self.key(), Some(&p.id())) {
                return entered::with_current(self.key(), Arc::clone);
            }
            // Made inside a borrowed span (ADR-025): of the request running it.
            let borrowed = attrs
                .is_contextual()
                .then(|| entered::borrowed_parent(self.key(), &p.id()))
                .flatten();
            borrowed.or_else(|| self.own_node(&p))
        });
        let node = SpanNode::new(
            &self.reporting.settings.requests,
            self.key(),
            span.metadata(),
            recorder.fields,
            parent,
        );
        if node.refused_trace {
            self.reporting
                .worker
                .counters
                .refused_trace_headers
                .fetch_add(1, Ordering::Relaxed);
        }
        if node.starts_request
            && node.request.tenant_scoped
            && !SERVICE_REQUESTS_SEEN.load(Ordering::Relaxed)
        {
            SERVICE_REQUESTS_SEEN.store(true, Ordering::Relaxed);
        }
        // The OpenTelemetry ids are read at the first enter (or at close), never here:
        // reading them starts the OpenTelemetry span, after which the service's
        // `set_parent(remote_context)` on the new span fails.
        span.extensions_mut().insert(node);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut recorder = FieldRecorder::default();
        {
            let _busy = enter_busy();
            values.record(&mut recorder);
        }
        let Some(node) = self.own_node(&span) else {
            return;
        };
        node.record(&self.reporting.settings.requests, recorder.fields);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        entered::settle_attempt();
        let Some(span) = ctx.span(id) else {
            return;
        };
        if let Some(node) = self.own_node(&span) {
            self.adopt_otel(&node, id);
            // A span below INFO, or after ids were read from another span, is one a
            // per-layer filter keeps from OpenTelemetry (h2's `Connection` under tonic),
            // not an unreadable version.
            if node.starts_request
                && node.otel_span_id.get().is_none()
                && *node.metadata.level() <= tracing::Level::INFO
                && !crate::request::otel_ids_read()
                && *self
                    .otel_below
                    .get_or_init(|| std::any::type_name::<S>().contains("tracing_opentelemetry::"))
                && !UNREADABLE_OTEL_TOLD.swap(true, Ordering::Relaxed)
            {
                // A `tracing` event would go nowhere: we are inside the dispatch of one.
                eprintln!("{UNREADABLE_OTEL_DIAGNOSTIC}");
            }
            let name = node.metadata.name();
            if entered::push(self.key(), id, node) && !DETACHED_TOLD.swap(true, Ordering::Relaxed) {
                // A `tracing` event would go nowhere: we are inside the dispatch of one.
                eprintln!(
                    "tracing-error-reports: span `{name}` was made in one request and entered in \
                     another, then entered outside any request (a task spawned inside it with \
                     `.in_current_span()`?): its reports carry no request's tenant or user. \
                     Spawn such tasks with `.instrument(Span::current())` before entering the \
                     shared span (README, `.in_current_span()`; said once)"
                );
            }
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        entered::settle_attempt();
        entered::pop(self.key(), id);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let admission = &self.reporting.settings.admission;
        let log = self.reporting.settings.logs.may_log(metadata.level());
        let route = admission.may_route(metadata.level());
        let metrics = self.reporting.settings.metrics.on && has_metric_fields(metadata);
        if !(route || log || metrics) || is_busy() {
            return;
        }
        if metrics {
            self.on_metrics(event, &ctx);
        }
        // A `log` record through tracing-log: its own target, file and line. Whether the
        // callsite is tracing-log's is asked once per callsite.
        let callsite = admission.callsite(
            metadata,
            || event.is_log(),
            || self.declares_identity(metadata),
        );
        let normalized = if callsite.log {
            event.normalized_metadata()
        } else {
            None
        };
        if log {
            self.on_log(event, normalized.as_ref(), &ctx);
        }
        if !route {
            return;
        }
        let route = admission.route_event(
            metadata,
            callsite,
            normalized.as_ref(),
            &self.reporting.worker.counters,
        );
        if route == Route::Skip {
            return;
        }
        let Some(_busy) = enter_busy() else {
            return;
        };
        let target = normalized
            .as_ref()
            .map_or(metadata.target(), |m| m.target());
        let repeated = || {
            is_repeated_failure(target, || {
                self.event_node(event, &ctx)
                    .is_some_and(|node| node.request.was_reported())
            })
        };
        if route == Route::Report && !repeated() {
            // One pass over the fields for the dedupe and flood control both.
            let gate = self.reporting.gate();
            let hashes = event_hashes(event, &gate.identity.tenant, gate.flood.is_on());
            let propagated = hashes.error.is_some()
                && is_propagated(hashes.error, self.event_node(event, &ctx).as_ref());
            if !propagated {
                self.on_error(event, normalized.as_ref(), &ctx, &hashes);
                return;
            }
            self.reporting
                .worker
                .counters
                .deduplicated
                .fetch_add(1, Ordering::Relaxed);
        }
        self.on_breadcrumb(event, &ctx, callsite.names_identity);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(node) = self.own_node(&span) else {
            return;
        };
        // A span never entered: its ids, if tracing-opentelemetry still has them.
        drop(span);
        self.adopt_otel(&node, &id);
        if let Some(transaction) = node.close() {
            self.reporting.worker.send_transaction(transaction);
        }
        if let Some(sessions) = &self.reporting.worker.sessions {
            if self.owns(&node) {
                sessions.end_request(&node);
            }
        }
    }

    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
        if disables_all_errors(subscriber) && !ALL_DISABLED_TOLD.swap(true, Ordering::Relaxed) {
            eprintln!("{ALL_DISABLED_DIAGNOSTIC}");
        }
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
