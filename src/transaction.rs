//! Performance tracing: a sampled request (root span) becomes a Sentry transaction
//! whose spans are its child spans. The sampling decision is made once, when the
//! root span is created; an unsampled request records no timings at all.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sentry::protocol::{Map, Span, SpanId, SpanStatus, TraceId, Value};
use tracing::Metadata;

use crate::fields::FieldValue;
use crate::identity::{Identity, IdentityKey};
use crate::span_fields::Naming;

/// Sentry keeps at most this many spans per transaction; more are counted (the trace
/// context's `dropped_spans`), not kept (README, "What becomes what").
const MAX_SPANS_PER_TRANSACTION: usize = 1000;

/// The child spans of a sampled request, collected as they close.
#[derive(Debug, Default)]
pub(crate) struct TransactionState {
    /// Each with the identity of its scope when it closed.
    spans: Mutex<Vec<(Identity, Span)>>,
    dropped: Mutex<u64>,
}

/// A finished request's transaction, waiting for the worker.
#[derive(Debug)]
pub(crate) struct FinishedTransaction {
    pub(crate) name: Arc<str>,
    /// The caller's span, when the request continues an incoming trace.
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) op: Arc<str>,
    pub(crate) status: SpanStatus,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) started: SystemTime,
    pub(crate) finished: SystemTime,
    pub(crate) spans: Vec<Span>,
    pub(crate) dropped_spans: u64,
    /// The identity of the root span's scope.
    pub(crate) identity: Identity,
    /// The root span's fields.
    pub(crate) fields: Arc<Vec<(&'static str, FieldValue)>>,
    /// The request's dynamic sampling context.
    pub(crate) trace_header: TraceHeader,
}

fn fields_map(fields: &[(&'static str, FieldValue)]) -> Map<String, Value> {
    fields
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.to_json()))
        .collect()
}

impl TransactionState {
    /// Whether a new request is sampled at `rate`: never at 0 (tracing off), else as
    /// the caller decided (`sampled` of an incoming trace), else at random.
    pub(crate) fn sample(rate: f32, sampled: Option<bool>) -> Option<TransactionState> {
        (rate > 0.0 && sampled.unwrap_or_else(|| rate >= 1.0 || fastrand::f32() < rate))
            .then(TransactionState::default)
    }

    pub(crate) fn record(&self, identity: Identity, span: Span) {
        let mut spans = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        if spans.len() < MAX_SPANS_PER_TRANSACTION {
            spans.push((identity, span));
        } else {
            *self.dropped.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    }

    /// The transaction's identity ([`transaction_identity`] of the root scope's `root`),
    /// the spans it may list ([`IdentityKey::may_see`]), and the count of those dropped
    /// beyond Sentry's limit.
    pub(crate) fn take(&self, root: Identity) -> (Vec<Span>, u64, Identity) {
        let spans = std::mem::take(&mut *self.spans.lock().unwrap_or_else(|e| e.into_inner()));
        let identity = transaction_identity(root, spans.iter().map(|(identity, _)| identity));
        let reader = IdentityKey::of(&identity);
        let spans = spans
            .into_iter()
            .filter(|(identity, _)| reader.may_see(IdentityKey::of(identity)))
            .map(|(_, span)| span)
            .collect();
        let dropped = *self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        (spans, dropped, identity)
    }
}

/// A transaction's identity: its root scope's, each part it lacks taken from its child
/// spans when they name exactly one value (a handler span declaring the tenant inside
/// tower-http's request span makes the HTTP transaction that tenant's). Children naming
/// several (the boundary kept two tenants' work in one request) give none: the
/// transaction then lists none of their spans.
pub(crate) fn transaction_identity<'a>(
    root: Identity,
    children: impl Iterator<Item = &'a Identity> + Clone,
) -> Identity {
    fn single<'a>(mut values: impl Iterator<Item = &'a Arc<str>>) -> Option<Arc<str>> {
        let first = values.next()?;
        values.all(|v| v == first).then(|| first.clone())
    }
    let mut identity = root;
    if identity.tenant.is_none() {
        identity.tenant = single(children.clone().filter_map(|c| c.tenant.as_ref()));
    }
    if identity.user.is_none() {
        let tenant = identity.tenant.clone();
        identity.user = single(
            children
                .filter(|c| c.tenant.is_none() || c.tenant == tenant)
                .filter_map(|c| c.user.as_ref()),
        );
    }
    identity
}

/// A closed child span of a sampled request, as Sentry's span type: op is `sentry.op`
/// or the span's name, description is `sentry.name`, `otel.name` or `target::name`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn child_span(
    metadata: &'static Metadata<'static>,
    naming: &Naming,
    status: SpanStatus,
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    started: SystemTime,
    finished: SystemTime,
    fields: &[(&'static str, FieldValue)],
) -> Span {
    Span {
        span_id,
        trace_id,
        parent_span_id,
        same_process_as_parent: Some(true),
        op: Some(naming.op.as_deref().unwrap_or(metadata.name()).to_owned()),
        description: Some(match naming.name() {
            Some(name) => name.to_string(),
            None => format!("{}::{}", metadata.target(), metadata.name()),
        }),
        timestamp: Some(finished),
        start_timestamp: started,
        status: Some(status),
        data: fields_map(fields),
        ..Default::default()
    }
}

/// Context in which a report or transaction carries its request's [`TraceHeader`] to the
/// transport, which moves it to the envelope's `trace` header before scrubbing; never
/// sent as a context.
pub(crate) const TRACE_HEADER_CONTEXT: &str = "tracing_error_reports.trace_header";

/// A request's dynamic sampling context (Sentry's envelope `trace` header,
/// <https://develop.sentry.dev/sdk/telemetry/traces/dynamic-sampling-context/>): the
/// head's `sentry-*` baggage entries, unchanged, when the request continues a trace that
/// brought them; else this service's own, completed at the transport (trace id, public
/// key, release, environment, transaction, and these).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TraceHeader {
    pub(crate) continued: Option<Arc<sentry::protocol::Map<String, String>>>,
    pub(crate) sample_rate: f32,
    pub(crate) sampled: bool,
}

impl TraceHeader {
    /// As the context the transport reads ([`TRACE_HEADER_CONTEXT`]).
    pub(crate) fn context(&self) -> sentry::protocol::Context {
        use sentry::protocol::Value;
        let mut map = sentry::protocol::Map::new();
        match &self.continued {
            Some(entries) => {
                map.insert("continued".into(), Value::Bool(true));
                for (key, value) in entries.iter() {
                    map.insert(key.clone(), Value::from(value.as_str()));
                }
            }
            None => {
                map.insert(
                    "sample_rate".into(),
                    Value::from(self.sample_rate.to_string()),
                );
                map.insert("sampled".into(), Value::from(self.sampled.to_string()));
            }
        }
        sentry::protocol::Context::Other(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_keeps_sentrys_limit_of_spans_and_counts_the_rest() {
        let state = TransactionState::default();
        for _ in 0..MAX_SPANS_PER_TRANSACTION + 3 {
            state.record(Identity::default(), Span::default());
        }
        let (spans, dropped, _) = state.take(Identity::default());
        assert_eq!(spans.len(), 1000);
        assert_eq!(dropped, 3);
    }

    #[test]
    fn a_transaction_takes_the_one_identity_its_children_name_and_lists_only_theirs() {
        let who = |tenant: Option<&str>, user: Option<&str>| Identity {
            tenant: tenant.map(Arc::from),
            user: user.map(Arc::from),
        };
        let state = TransactionState::default();
        state.record(who(None, None), Span::default());
        state.record(who(Some("acme"), Some("7")), Span::default());
        let (spans, _, identity) = state.take(who(None, None));
        assert_eq!(identity, who(Some("acme"), Some("7")));
        assert_eq!(spans.len(), 2);

        state.record(who(None, None), Span::default());
        state.record(who(Some("acme"), Some("7")), Span::default());
        state.record(who(Some("globex"), Some("8")), Span::default());
        let (spans, _, identity) = state.take(who(None, None));
        assert_eq!(identity, who(None, None), "two tenants: neither");
        assert_eq!(spans.len(), 1, "only the span of no tenant");

        state.record(who(Some("acme"), Some("7")), Span::default());
        state.record(who(Some("acme"), Some("8")), Span::default());
        let (spans, _, identity) = state.take(who(Some("acme"), None));
        assert_eq!(identity, who(Some("acme"), None), "two users: neither");
        assert_eq!(spans.len(), 0);
    }
}
