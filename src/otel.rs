//! The OpenTelemetry trace and span ids of a span, read from tracing-opentelemetry
//! (feature `opentelemetry`) when it is in the same subscriber, so Sentry shows the
//! ids Tempo shows without a `link_trace` call or a `trace_id` field.

use sentry::protocol::{SpanId, TraceId};
use tracing::span::Id;
use tracing::Dispatch;

/// The span's OpenTelemetry ids, `None` without tracing-opentelemetry in `dispatch`,
/// before its layer has seen the span, or when its context is invalid.
///
/// tracing-opentelemetry (0.34) keeps its span data private; its public
/// `get_otel_context` starts the OpenTelemetry span if it is not started yet, as
/// `OpenTelemetrySpanExt::context` and entering the span do. It must not be called
/// while this span's extensions are locked for writing.
pub(crate) fn ids(dispatch: &Dispatch, id: &Id) -> Option<(TraceId, SpanId)> {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        (
            TraceId::from(span_context.trace_id().to_bytes()),
            SpanId::from(span_context.span_id().to_bytes()),
        )
    })
}
