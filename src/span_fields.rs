//! What a span's fields say besides the identity (`identity`): its Sentry name and op,
//! an incoming trace, and its HTTP status. The names are those sentry-tracing and
//! tracing-opentelemetry use, so spans written for either work unchanged (README's table
//! "Span fields the layer reads").

use std::sync::Arc;

use sentry::protocol::{Map, SpanStatus};
use tracing::Metadata;

use crate::fields::FieldValue;
use crate::propagation::{sentry_baggage, IncomingTrace};

/// Names the Sentry transaction or span, as in sentry-tracing.
const SENTRY_NAME: &str = "sentry.name";
/// The Sentry operation (`op`), as in sentry-tracing.
const SENTRY_OP: &str = "sentry.op";
/// Names the span for OpenTelemetry (tracing-opentelemetry's convention); used as the
/// Sentry name when `sentry.name` is absent.
const OTEL_NAME: &str = "otel.name";
/// An incoming trace in `sentry-trace` format (`{trace_id}-{span_id}[-{sampled}]`), as in
/// sentry-tracing. Read when the span that starts a request is created; recorded later it
/// is ignored (the request's trace and sampling decision are fixed by then).
const SENTRY_TRACE: &str = "sentry.trace";
/// OpenTelemetry's span kind, as tracing-opentelemetry reads it: `server` and `consumer`
/// spans handle one incoming request or message.
const OTEL_KIND: &str = "otel.kind";
/// An explicit request marker: a span declaring this field (any value, or
/// `field::Empty`) starts a request of its own; the term is sentry-python's isolation
/// scope, one per request.
pub(crate) const REQUEST_MARKER: &str = "sentry.isolation_scope";
/// The target and name of tower-http's `TraceLayer` span (`DefaultMakeSpan`).
const TOWER_HTTP_TARGET: &str = "tower_http::";
const TOWER_HTTP_SPAN: &str = "request";

/// An incoming trace as a W3C `traceparent` header value, parsed strictly
/// ([`IncomingTrace::from_traceparent`]); `sentry.trace` wins when both are valid.
const TRACEPARENT: &str = "traceparent";
/// The caller's W3C `baggage` header value: its `sentry-*` entries are the head's dynamic
/// sampling context, passed on unchanged with a continued trace.
const BAGGAGE: &str = "baggage";
/// The HTTP response status, first present wins: OpenTelemetry's current semantic
/// convention, then its older one.
const HTTP_STATUS: [&str; 2] = ["http.response.status_code", "http.status_code"];
/// The gRPC status code (OpenTelemetry's semantic convention); wins over an HTTP status,
/// which is `200` for every gRPC call.
const GRPC_STATUS: &str = "rpc.grpc.status_code";

/// A span's Sentry name and op, taken from its fields (the naming fields are removed
/// from the span's data, as sentry-tracing does).
#[derive(Debug, Default, Clone)]
pub(crate) struct Naming {
    pub(crate) sentry_name: Option<Arc<str>>,
    pub(crate) otel_name: Option<Arc<str>>,
    pub(crate) op: Option<Arc<str>>,
    /// A valid `sentry.trace` value; only read when the span starts a request.
    pub(crate) incoming: Option<IncomingTrace>,
    /// A valid `traceparent` value.
    pub(crate) traceparent: Option<IncomingTrace>,
    /// Whether a `sentry.trace` or `traceparent` value was given but refused.
    pub(crate) refused_trace: bool,
    /// The `sentry-*` entries of a `baggage` value.
    pub(crate) baggage: Option<Arc<Map<String, String>>>,
}

impl Naming {
    /// Moves the naming fields out of `fields` into `self`; later values win.
    pub(crate) fn take_from(&mut self, fields: &mut Vec<(&'static str, FieldValue)>) {
        if !fields.iter().any(|(name, _)| {
            matches!(
                *name,
                SENTRY_NAME | SENTRY_OP | OTEL_NAME | SENTRY_TRACE | TRACEPARENT
            )
        }) {
            return;
        }
        fields.retain(|(name, value)| {
            let slot = match *name {
                SENTRY_NAME => &mut self.sentry_name,
                SENTRY_OP => &mut self.op,
                OTEL_NAME => &mut self.otel_name,
                BAGGAGE => {
                    self.baggage = sentry_baggage(&value.to_text()).map(Arc::new);
                    return false;
                }
                SENTRY_TRACE | TRACEPARENT => {
                    let text = value.to_text();
                    let parsed = if *name == SENTRY_TRACE {
                        IncomingTrace::from_sentry_trace(&text)
                    } else {
                        IncomingTrace::from_traceparent(&text)
                    };
                    // An empty value is no header at all, not a refused one.
                    self.refused_trace |= parsed.is_none() && !text.trim().is_empty();
                    if *name == SENTRY_TRACE {
                        self.incoming = parsed;
                        return false;
                    }
                    // A W3C header is also a field like any other (a span that does not
                    // start a request keeps it, and the trace id in it is no secret).
                    self.traceparent = parsed;
                    return true;
                }
                _ => return true,
            };
            *slot = Some(Arc::from(value.to_text()));
            false
        });
    }

    /// The incoming trace to continue: `sentry.trace`, else `traceparent`. `refused`:
    /// a header was given and none valid, so the request starts a new trace.
    pub(crate) fn take_incoming(&mut self) -> (Option<IncomingTrace>, bool) {
        let incoming = self.incoming.take().or(self.traceparent.take());
        (incoming, incoming.is_none() && self.refused_trace)
    }

    /// The name: `sentry.name`, else `otel.name`.
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.sentry_name.as_ref().or(self.otel_name.as_ref())
    }
}

/// Whether a span is known to handle one request (ADR-025): tower-http's `TraceLayer`
/// span, a span of OpenTelemetry kind `server` or `consumer` (`otel.kind`), a span whose
/// Sentry op names a server or a message being processed (`http.server`, `grpc.server`,
/// any `*.server`, `queue.process`, `queue.task*`, the ops of Sentry's SDKs), or one
/// declaring [`REQUEST_MARKER`]. `op` is the span's `sentry.op`; `fields` its other fields.
pub(crate) fn marks_request(
    metadata: &Metadata<'_>,
    op: Option<&str>,
    fields: &[(&'static str, FieldValue)],
) -> bool {
    if metadata.fields().field(REQUEST_MARKER).is_some() {
        return true;
    }
    if metadata.name() == TOWER_HTTP_SPAN && metadata.target().starts_with(TOWER_HTTP_TARGET) {
        return true;
    }
    let kind = fields.iter().find_map(|(name, value)| match value {
        FieldValue::Str(kind) if *name == OTEL_KIND => Some(kind),
        _ => None,
    });
    if kind.is_some_and(|kind| {
        kind.eq_ignore_ascii_case("server") || kind.eq_ignore_ascii_case("consumer")
    }) {
        return true;
    }
    op.is_some_and(|op| {
        op.ends_with(".server") || op == "queue.process" || op.starts_with("queue.task")
    })
}

/// Sentry's span status for an HTTP status code (the mapping of Sentry's SDKs,
/// e.g. sentry-python's `get_span_status_from_http_code`): 1xx-3xx are `ok`.
pub(crate) fn span_status_from_http(code: u64) -> SpanStatus {
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

/// Sentry's span status for a gRPC status code: one status per code, named alike
/// (Sentry's span statuses are gRPC's codes; `UNKNOWN` is `unknown_error`).
pub(crate) fn span_status_from_grpc(code: u64) -> SpanStatus {
    match code {
        0 => SpanStatus::Ok,
        1 => SpanStatus::Cancelled,
        3 => SpanStatus::InvalidArgument,
        4 => SpanStatus::DeadlineExceeded,
        5 => SpanStatus::NotFound,
        6 => SpanStatus::AlreadyExists,
        7 => SpanStatus::PermissionDenied,
        8 => SpanStatus::ResourceExhausted,
        9 => SpanStatus::FailedPrecondition,
        10 => SpanStatus::Aborted,
        11 => SpanStatus::OutOfRange,
        12 => SpanStatus::Unimplemented,
        13 => SpanStatus::InternalError,
        14 => SpanStatus::Unavailable,
        15 => SpanStatus::DataLoss,
        16 => SpanStatus::Unauthenticated,
        _ => SpanStatus::UnknownError,
    }
}

/// A span's status: its gRPC or HTTP status field when that says it failed, else
/// `internal_error` when an error was reported in it, else that status or `ok`.
pub(crate) fn span_status(fields: &[(&'static str, FieldValue)], errored: bool) -> SpanStatus {
    let code = |wanted: &str| {
        fields
            .iter()
            .find(|(name, _)| *name == wanted)
            .and_then(|(_, value)| match value {
                FieldValue::U64(code) => Some(*code),
                FieldValue::I64(code) => u64::try_from(*code).ok(),
                FieldValue::Str(text) => text.trim().parse().ok(),
                _ => None,
            })
    };
    let grpc = code(GRPC_STATUS).map(span_status_from_grpc);
    let http = grpc.or_else(|| {
        HTTP_STATUS
            .iter()
            .find_map(|wanted| code(wanted))
            .map(span_status_from_http)
    });
    match http {
        Some(status) if status != SpanStatus::Ok => status,
        _ if errored => SpanStatus::InternalError,
        Some(status) => status,
        None => SpanStatus::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_codes_map_as_in_sentrys_sdks() {
        let map = span_status_from_http;
        assert_eq!(map(204), SpanStatus::Ok);
        assert_eq!(map(302), SpanStatus::Ok);
        assert_eq!(map(400), SpanStatus::InvalidArgument);
        assert_eq!(map(401), SpanStatus::Unauthenticated);
        assert_eq!(map(403), SpanStatus::PermissionDenied);
        assert_eq!(map(404), SpanStatus::NotFound);
        assert_eq!(map(409), SpanStatus::AlreadyExists);
        assert_eq!(map(413), SpanStatus::FailedPrecondition);
        assert_eq!(map(418), SpanStatus::InvalidArgument);
        assert_eq!(map(429), SpanStatus::ResourceExhausted);
        assert_eq!(map(500), SpanStatus::InternalError);
        assert_eq!(map(501), SpanStatus::Unimplemented);
        assert_eq!(map(503), SpanStatus::Unavailable);
        assert_eq!(map(504), SpanStatus::DeadlineExceeded);
        assert_eq!(map(599), SpanStatus::InternalError);
        assert_eq!(map(600), SpanStatus::UnknownError);
        assert_eq!(map(42), SpanStatus::UnknownError);
    }

    #[test]
    fn a_failing_http_status_wins_over_an_error_and_ok_does_not() {
        let with = |code: FieldValue| vec![("http.response.status_code", code)];
        assert_eq!(
            span_status(&with(FieldValue::U64(503)), false),
            SpanStatus::Unavailable
        );
        assert_eq!(
            span_status(&with(FieldValue::I64(404)), true),
            SpanStatus::NotFound
        );
        assert_eq!(
            span_status(&with(FieldValue::Str(" 200 ".into())), true),
            SpanStatus::InternalError
        );
        assert_eq!(
            span_status(&with(FieldValue::U64(200)), false),
            SpanStatus::Ok
        );
        let grpc = vec![
            ("http.response.status_code", FieldValue::U64(200)),
            ("rpc.grpc.status_code", FieldValue::I64(5)),
        ];
        assert_eq!(span_status(&grpc, false), SpanStatus::NotFound);
        let grpc_ok = vec![("rpc.grpc.status_code", FieldValue::I64(0))];
        assert_eq!(span_status(&grpc_ok, true), SpanStatus::InternalError);
        let older = vec![("http.status_code", FieldValue::U64(401))];
        assert_eq!(span_status(&older, false), SpanStatus::Unauthenticated);
        assert_eq!(span_status(&[], false), SpanStatus::Ok);
    }
}
