//! Direct `sentry::capture_*` calls through the client bound to the main hub
//! (`ConfigBuilder::bind_main_hub`): they get the current request's context, the same
//! hooks as the layer's reports, and are counted. Scrubbing applies at the transport.
//! The other way round, the layer's own reports take what `sentry::configure_scope`
//! set on the calling thread's hub ([`hub_scope`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use sentry::protocol::{Context, Event, Map, User, Value};
use sentry::{ClientOptions, Integration};

use crate::config::Hooks;
use crate::report::PendingReport;
use crate::request::{SpanNode, Wait};
use crate::shared::live_reporting;
use crate::worker::{apply_hooks, is_busy};

/// Runs in the client's event processing, on the thread that captured: the worker
/// (its own reports, left alone) or the caller of `sentry::capture_*`.
pub(crate) struct RequestContextIntegration {
    /// The layer's key (address of its shared state), set once `init` made it.
    pub(crate) layer: Arc<OnceLock<usize>>,
    pub(crate) hooks: Hooks,
}

impl Integration for RequestContextIntegration {
    fn name(&self) -> &'static str {
        "tracing-error-reports-request-context"
    }

    fn process_event(
        &self,
        mut event: Event<'static>,
        _options: &ClientOptions,
    ) -> Option<Event<'static>> {
        if is_busy() {
            // The worker sending the layer's own report, already complete.
            return Some(event);
        }
        let layer = *self.layer.get()?;
        let shared = live_reporting(layer)?;
        let counters = &shared.worker.counters;
        counters.captured_directly.fetch_add(1, Ordering::Relaxed);
        if let Some(node) = crate::entered::with_current(layer, Arc::clone) {
            merge_request_context(&mut event, &node);
        }
        let event = apply_hooks(&self.hooks, event);
        if event.is_none() {
            counters.discarded.fetch_add(1, Ordering::Relaxed);
        }
        event
    }
}

/// Adds what a layer report of the same request would carry, where the event has none:
/// tenant and trace tags, user, span contexts, transaction, breadcrumbs; the request's
/// trace context replaces the hub's.
fn merge_request_context(event: &mut Event<'static>, node: &Arc<SpanNode>) {
    let scope = SpanNode::snapshot(Some(node), None, None, Wait::Block);
    let context = PendingReport {
        event_id: event.event_id,
        timestamp: SystemTime::now(),
        metadata: None,
        log_source: None,
        message: None,
        fields: Vec::new(),
        errors: Vec::new(),
        panic: None,
        stacktrace: None,
        scope,
        suppressed: 0,
    }
    .into_event();
    for (name, value) in context.tags {
        event.tags.entry(name).or_insert(value);
    }
    for (name, value) in context.contexts {
        if name == "trace" {
            // The hub's own propagation context knows nothing of the request.
            event.contexts.insert(name, value);
        } else if name != crate::report::LOCATION_CONTEXT {
            event.contexts.entry(name).or_insert(value);
        }
    }
    if event.user.is_none() {
        event.user = context.user;
    }
    if event.transaction.is_none() {
        event.transaction = context.transaction;
    }
    if event.breadcrumbs.values.is_empty() {
        event.breadcrumbs = context.breadcrumbs;
    }
}

/// What `sentry::configure_scope` set on a hub's scope and a layer report takes:
/// tags, extra, contexts and user. Read on the calling thread (the scope is the
/// calling thread's hub's), applied on the worker.
#[derive(Debug, Default)]
pub(crate) struct HubScope {
    tags: Map<String, String>,
    extra: Map<String, Value>,
    contexts: Map<String, Context>,
    user: Option<User>,
}

/// The main (process-wide) hub's scope, when a client is bound to it (read only with
/// `bind_main_hub(true)`); `None` without one or when the scope holds nothing a report
/// takes. Only the main hub: a tokio worker thread's own hub keeps whatever one request
/// put in its scope for every later task on that thread, and a per-task hub cannot be
/// told apart from it, so per-request values come from span fields (`tags.*`), never
/// from a thread's scope. Sentry's public API reads a scope only
/// through `configure_scope`, which clones it (its maps are shared, so cheaply);
/// `apply_to_transaction` copies exactly tags, extra, contexts and user, without
/// breadcrumbs or event processors.
pub(crate) fn hub_scope() -> Option<Box<HubScope>> {
    let hub = sentry::Hub::main();
    hub.client()?;
    {
        hub.configure_scope(|scope| {
            let mut found = sentry::protocol::Transaction::default();
            scope.apply_to_transaction(&mut found);
            let hub_scope = HubScope {
                tags: found.tags,
                extra: found.extra,
                contexts: found.contexts,
                user: found.user,
            };
            let empty = hub_scope.tags.is_empty()
                && hub_scope.extra.is_empty()
                && hub_scope.contexts.is_empty()
                && hub_scope.user.is_none();
            (!empty).then(|| Box::new(hub_scope))
        })
    }
}

impl HubScope {
    /// Fills in what `event` lacks: the report's own values (tenant and user from
    /// span fields, `tags.*` fields, the request's trace) win over the hub scope's,
    /// unlike sentry-rust, where the scope's tags replace the event's.
    pub(crate) fn fill(self, event: &mut Event<'static>) {
        for (name, value) in self.tags {
            event.tags.entry(name).or_insert(value);
        }
        for (name, value) in self.extra {
            event.extra.entry(name).or_insert(value);
        }
        for (name, value) in self.contexts {
            // The trace is the request's (the hub's propagation context knows nothing of it).
            if name != "trace" {
                event.contexts.entry(name).or_insert(value);
            }
        }
        let Some(theirs) = self.user else {
            return;
        };
        // A user is one person: the report's whole, or the scope's whole, never a mix.
        if event.user.is_none() {
            event.user = Some(theirs);
        }
    }
}
