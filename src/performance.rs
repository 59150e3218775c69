//! Performance tracing: a sampled request (root span) becomes a Sentry transaction
//! whose spans are its child spans. The sampling decision is made once, when the
//! root span is created; an unsampled request records no timings at all.

use std::sync::Mutex;
use std::time::SystemTime;

use sentry::protocol::{Map, Span, SpanStatus, Value};
use tracing::Metadata;

use crate::fields::FieldValue;

/// Sentry keeps at most this many spans per transaction; more are counted, not kept.
pub const MAX_SPANS_PER_TRANSACTION: usize = 1000;

/// The child spans of a sampled request, collected as they close.
#[derive(Debug, Default)]
pub(crate) struct TransactionState {
    spans: Mutex<Vec<Span>>,
    dropped: Mutex<u64>,
}

/// A finished request's transaction, waiting for the worker.
#[derive(Debug)]
pub(crate) struct FinishedTransaction {
    pub(crate) name: &'static str,
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) trace_id: sentry::protocol::TraceId,
    pub(crate) span_id: sentry::protocol::SpanId,
    pub(crate) started: SystemTime,
    pub(crate) finished: SystemTime,
    pub(crate) spans: Vec<Span>,
    pub(crate) dropped_spans: u64,
    pub(crate) tenant: Option<std::sync::Arc<str>>,
    pub(crate) user: Option<std::sync::Arc<str>>,
    pub(crate) fields: std::sync::Arc<Vec<(&'static str, FieldValue)>>,
}

pub(crate) fn fields_map(fields: &[(&'static str, FieldValue)]) -> Map<String, Value> {
    fields
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.to_json()))
        .collect()
}

impl TransactionState {
    /// Whether a new request is sampled at `rate`.
    pub(crate) fn sample(rate: f32) -> Option<TransactionState> {
        (rate > 0.0 && (rate >= 1.0 || fastrand::f32() < rate)).then(TransactionState::default)
    }

    pub(crate) fn record(&self, span: Span) {
        let mut spans = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        if spans.len() < MAX_SPANS_PER_TRANSACTION {
            spans.push(span);
        } else {
            *self.dropped.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    }

    pub(crate) fn take(&self) -> (Vec<Span>, u64) {
        let spans = std::mem::take(&mut *self.spans.lock().unwrap_or_else(|e| e.into_inner()));
        let dropped = *self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        (spans, dropped)
    }
}

/// A closed child span of a sampled request, as Sentry's span type.
#[allow(clippy::too_many_arguments)]
pub(crate) fn child_span(
    metadata: &'static Metadata<'static>,
    trace_id: sentry::protocol::TraceId,
    span_id: sentry::protocol::SpanId,
    parent_span_id: Option<sentry::protocol::SpanId>,
    started: SystemTime,
    finished: SystemTime,
    fields: &[(&'static str, FieldValue)],
) -> Span {
    Span {
        span_id,
        trace_id,
        parent_span_id,
        same_process_as_parent: Some(true),
        op: Some(metadata.name().to_owned()),
        description: Some(format!("{}::{}", metadata.target(), metadata.name())),
        timestamp: Some(finished),
        start_timestamp: started,
        status: Some(SpanStatus::Ok),
        data: fields_map(fields),
        ..Default::default()
    }
}
