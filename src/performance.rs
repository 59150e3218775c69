//! Performance tracing: a sampled request (root span) becomes a Sentry transaction
//! whose spans are its child spans. The sampling decision is made once, when the
//! root span is created; an unsampled request records no timings at all.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sentry::protocol::{Map, Span, SpanStatus, Value};
use tracing::Metadata;

use crate::fields::FieldValue;
use crate::propagation::{IncomingTrace, SENTRY_TRACE_FIELD};
use crate::span_fields::{
    HTTP_STATUS as HTTP_STATUS_FIELDS, OTEL_NAME as OTEL_NAME_FIELD,
    SENTRY_NAME as SENTRY_NAME_FIELD, SENTRY_OP as SENTRY_OP_FIELD,
};
use crate::wire::MAX_SPANS_PER_TRANSACTION;

/// The child spans of a sampled request, collected as they close.
#[derive(Debug, Default)]
pub(crate) struct TransactionState {
    spans: Mutex<Vec<Span>>,
    dropped: Mutex<u64>,
}

/// A span's Sentry name and op, taken from its fields (the naming fields are removed
/// from the span's data, as sentry-tracing does).
#[derive(Debug, Default, Clone)]
pub(crate) struct Naming {
    pub(crate) sentry_name: Option<Arc<str>>,
    pub(crate) otel_name: Option<Arc<str>>,
    pub(crate) op: Option<Arc<str>>,
    /// A valid `sentry.trace` value; only read when the span starts a request.
    pub(crate) incoming: Option<IncomingTrace>,
}

impl Naming {
    /// Moves the naming fields out of `fields` into `self`; later values win.
    pub(crate) fn take_from(&mut self, fields: &mut Vec<(&'static str, FieldValue)>) {
        if !fields.iter().any(|(name, _)| {
            matches!(
                *name,
                SENTRY_NAME_FIELD | SENTRY_OP_FIELD | OTEL_NAME_FIELD | SENTRY_TRACE_FIELD
            )
        }) {
            return;
        }
        fields.retain(|(name, value)| {
            let slot = match *name {
                SENTRY_NAME_FIELD => &mut self.sentry_name,
                SENTRY_OP_FIELD => &mut self.op,
                OTEL_NAME_FIELD => &mut self.otel_name,
                SENTRY_TRACE_FIELD => {
                    if let FieldValue::Str(text) = value {
                        self.incoming = IncomingTrace::from_sentry_trace(text);
                    }
                    return false;
                }
                _ => return true,
            };
            *slot = Some(Arc::from(value.to_text()));
            false
        });
    }

    /// The name: `sentry.name`, else `otel.name`.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.sentry_name.as_ref().or(self.otel_name.as_ref())
    }
}

/// Sentry's span status for an HTTP status code (the mapping of Sentry's SDKs,
/// e.g. sentry-python's `get_span_status_from_http_code`): 1xx-3xx are `ok`.
pub fn span_status_from_http(code: u64) -> SpanStatus {
    match code {
        100..=399 => SpanStatus::Ok,
        401 => SpanStatus::Unauthenticated,
        403 => SpanStatus::PermissionDenied,
        404 => SpanStatus::NotFound,
        409 => SpanStatus::AlreadyExists,
        413 => SpanStatus::FailedPrecondition,
        429 => SpanStatus::ResourceExhausted,
        400..=498 => SpanStatus::InvalidArgument,
        501 => SpanStatus::Unimplemented,
        503 => SpanStatus::Unavailable,
        504 => SpanStatus::DeadlineExceeded,
        500..=599 => SpanStatus::InternalError,
        _ => SpanStatus::UnknownError,
    }
}

/// A span's status: its HTTP status field when that says it failed, else
/// `internal_error` when an error was reported in it, else its HTTP status or `ok`.
pub(crate) fn span_status(fields: &[(&'static str, FieldValue)], errored: bool) -> SpanStatus {
    let http = HTTP_STATUS_FIELDS.iter().find_map(|wanted| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .and_then(|(_, value)| match value {
                FieldValue::U64(code) => Some(*code),
                FieldValue::I64(code) => u64::try_from(*code).ok(),
                FieldValue::Str(text) => text.trim().parse().ok(),
                _ => None,
            })
            .map(span_status_from_http)
    });
    match http {
        Some(status) if status != SpanStatus::Ok => status,
        _ if errored => SpanStatus::InternalError,
        Some(status) => status,
        None => SpanStatus::Ok,
    }
}

/// A finished request's transaction, waiting for the worker.
#[derive(Debug)]
pub(crate) struct FinishedTransaction {
    pub(crate) name: Arc<str>,
    /// The caller's span, when the request continues an incoming trace.
    pub(crate) parent_span_id: Option<sentry::protocol::SpanId>,
    pub(crate) op: Arc<str>,
    pub(crate) status: SpanStatus,
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
    /// Whether a new request is sampled at `rate`: never at 0 (tracing off), else as
    /// the caller decided (`sampled` of an incoming trace), else at random.
    pub(crate) fn sample(rate: f32, sampled: Option<bool>) -> Option<TransactionState> {
        (rate > 0.0 && sampled.unwrap_or_else(|| rate >= 1.0 || fastrand::f32() < rate))
            .then(TransactionState::default)
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

/// A closed child span of a sampled request, as Sentry's span type: op is `sentry.op`
/// or the span's name, description is `sentry.name`, `otel.name` or `target::name`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn child_span(
    metadata: &'static Metadata<'static>,
    naming: &Naming,
    status: SpanStatus,
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
