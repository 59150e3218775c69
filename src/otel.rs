//! The OpenTelemetry trace and span ids of a span, read from tracing-opentelemetry
//! when it is in the same subscriber, so Sentry shows the ids Tempo shows without a
//! `link_trace` call or a `trace_id` field.
//!
//! Two minors are read: 0.34 (opentelemetry 0.33) with feature `opentelemetry`, and
//! 0.33 (opentelemetry 0.32) with feature `opentelemetry-0-33`. Each version's span
//! data is a distinct type, so a subscriber holds the layer of one of them and the
//! other's lookup finds nothing.

use sentry::protocol::{SpanId, TraceId};
use tracing::span::Id;
use tracing::Dispatch;

/// Reads the ids through one tracing-opentelemetry version: both versions have the
/// same public `get_otel_context` (it starts the OpenTelemetry span if it is not
/// started yet, as `OpenTelemetrySpanExt::context` and entering the span do).
macro_rules! ids_of {
    ($name:ident, $tracing_otel:ident, $otel:ident) => {
        fn $name(dispatch: &Dispatch, id: &Id) -> Option<(TraceId, SpanId)> {
            use $otel::trace::TraceContextExt;
            let context = $tracing_otel::get_otel_context(id, dispatch)?;
            let span = context.span();
            let span_context = span.span_context();
            span_context.is_valid().then(|| {
                (
                    TraceId::from(span_context.trace_id().to_bytes()),
                    SpanId::from(span_context.span_id().to_bytes()),
                )
            })
        }
    };
}

#[cfg(feature = "opentelemetry")]
ids_of!(ids_0_34, tracing_opentelemetry, opentelemetry);
#[cfg(not(feature = "opentelemetry"))]
fn ids_0_34(_: &Dispatch, _: &Id) -> Option<(TraceId, SpanId)> {
    None
}

#[cfg(feature = "opentelemetry-0-33")]
ids_of!(ids_0_33, tracing_opentelemetry_0_33, opentelemetry_0_32);
#[cfg(not(feature = "opentelemetry-0-33"))]
fn ids_0_33(_: &Dispatch, _: &Id) -> Option<(TraceId, SpanId)> {
    None
}

/// The span's OpenTelemetry ids, `None` without a readable tracing-opentelemetry in
/// `dispatch`, before its layer has seen the span, or when its context is invalid.
/// It must not be called while this span's extensions are locked for writing.
pub(crate) fn ids(dispatch: &Dispatch, id: &Id) -> Option<(TraceId, SpanId)> {
    ids_0_34(dispatch, id).or_else(|| ids_0_33(dispatch, id))
}
