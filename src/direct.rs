//! Direct `sentry::capture_*` calls through the client bound to the main hub
//! (`ConfigBuilder::bind_main_hub`): they get the current request's context, the same
//! hooks as the layer's reports, and are counted. Scrubbing applies at the transport.
//! (The other way round, the layer's own reports take the main hub's scope: `hub_scope`.)

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use sentry::protocol::Event;
use sentry::{ClientOptions, Integration};

use crate::entered;
use crate::hooks::{apply_hooks, Hooks};
use crate::identity::Identity;
use crate::report::{Occurrence, PendingReport};
use crate::reporting::live_reporting;
use crate::request::SpanNode;
use crate::sync::{is_busy, Wait};
use crate::wire::{LOCATION_CONTEXT, TENANT_TAG};

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
        let reporting = live_reporting(layer)?;
        let counters = &reporting.worker.counters;
        counters.captured_directly.fetch_add(1, Ordering::Relaxed);
        if let Some(node) = entered::with_current(layer, Arc::clone) {
            merge_request_context(&mut event, &node);
        }
        // A drop here is told to Sentry by the client itself, as `event_processor`.
        let event = apply_hooks(&self.hooks, event).ok();
        if event.is_none() {
            counters.discarded.fetch_add(1, Ordering::Relaxed);
            counters.ignored.fetch_add(1, Ordering::Relaxed);
        }
        event
    }
}

/// Adds what a layer report of the same request would carry, where the event has none:
/// tenant and trace tags, user, span contexts, transaction, breadcrumbs; the request's
/// trace context replaces the hub's. The request's tenant tag and user replace the
/// event's: sentry-core has already applied the hub's scope (a tenant tag or user set at
/// start-up, which a process-wide scope then gives every event), and inside a request the
/// tenant and user are the request's. (Reading the hub's scope here to tell its values
/// from the event's own would deadlock: the capture holds it.)
fn merge_request_context(event: &mut Event<'static>, node: &Arc<SpanNode>) {
    let scope = SpanNode::snapshot(Some(node), Identity::default(), Wait::Block);
    let context = PendingReport::new(Occurrence::RequestContext, scope).into_event();
    for (name, value) in context.tags {
        if name == TENANT_TAG {
            event.tags.insert(name, value);
        } else {
            event.tags.entry(name).or_insert(value);
        }
    }
    for (name, value) in context.contexts {
        if name == "trace" {
            // The hub's own propagation context knows nothing of the request.
            event.contexts.insert(name, value);
        } else if name != LOCATION_CONTEXT {
            event.contexts.entry(name).or_insert(value);
        }
    }
    // A user is one person: the request's whole, never mixed with the hub's.
    if context.user.is_some() {
        event.user = context.user;
    }
    if event.transaction.is_none() {
        event.transaction = context.transaction;
    }
    if event.breadcrumbs.values.is_empty() {
        event.breadcrumbs = context.breadcrumbs;
    }
}
