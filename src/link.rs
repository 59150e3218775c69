//! One trace id for Sentry, Tempo and Loki.
//!
//! [`link_trace`] records the request's trace id into the span's `trace_id` field:
//! the OpenTelemetry trace id when tracing-opentelemetry is in the subscriber (feature
//! `opentelemetry` or `opentelemetry-0-33`), else the id this crate made for the request. From then on the
//! Sentry reports and transaction of the request carry that id (`contexts.trace` and
//! the `trace_id` tag), and so does every Loki line of the request, since tracing-loki
//! writes span fields into each line.

use std::sync::Arc;

use sentry::protocol::TraceId;
use tracing::Span;
use tracing_subscriber::registry::LookupSpan;

use crate::identity::DEFAULT_TRACE_ID_FIELD;
use crate::request::SpanNode;

/// Records the request's trace id into `span`'s `trace_id` field (declare it, e.g.
/// `trace_id = tracing::field::Empty`) and returns it as 32 hex digits. `None` when
/// `span` is disabled or no trace id can be found.
///
/// The layer's own trace id is found through the subscriber's
/// `tracing_subscriber::Registry`, wherever the layer sits in it (`reload::Layer`,
/// `with_filter`, `Option`, `Vec<Box<dyn Layer>>`, any order of `with`).
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let (layer, _guard) = tracing_error_reports::init(
///     tracing_error_reports::Config::builder()
///         .dsn("http://key@127.0.0.1:9/1")
///         .build()
///         .expect("valid"),
/// );
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
///     let trace_id = tracing_error_reports::link_trace(&span).expect("a trace id");
///     assert_eq!(trace_id.len(), 32);
/// });
/// ```
pub fn link_trace(span: &Span) -> Option<String> {
    let trace_id = otel_trace_id(span).or_else(|| own_trace_id(span))?;
    let text = trace_id.to_string();
    span.record(DEFAULT_TRACE_ID_FIELD, text.as_str());
    Some(text)
}

#[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
fn otel_trace_id(span: &Span) -> Option<TraceId> {
    span.with_subscriber(|(id, dispatch)| {
        crate::otel::ids(dispatch, id).map(|(trace_id, _)| trace_id)
    })
    .flatten()
}

#[cfg(not(any(feature = "opentelemetry", feature = "opentelemetry-0-33")))]
fn otel_trace_id(_: &Span) -> Option<TraceId> {
    None
}

fn own_trace_id(span: &Span) -> Option<TraceId> {
    span.with_subscriber(|(id, dispatch)| {
        // `Layered` forwards `downcast_ref` to the registry below every layer.
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(id)?;
        let extensions = span.extensions();
        extensions
            .get::<Arc<SpanNode>>()
            .map(|node| node.request.trace_id())
    })
    .flatten()
}
