//! What `sentry::configure_scope` set on the main hub and a layer report takes (with
//! `bind_main_hub(true)`): read on the calling thread, applied on the worker.

use sentry::protocol::{Context, Event, Map, User, Value};

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
