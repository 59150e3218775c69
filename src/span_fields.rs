//! Span fields the layer reads besides the tenant, user and trace id fields (whose
//! names are settings, see [`defaults`](crate::defaults)): the names sentry-tracing and
//! tracing-opentelemetry give them, so spans written for either work unchanged.

/// Names the Sentry transaction or span, as in sentry-tracing.
pub const SENTRY_NAME: &str = "sentry.name";
/// The Sentry operation (`op`), as in sentry-tracing.
pub const SENTRY_OP: &str = "sentry.op";
/// Names the span for OpenTelemetry (tracing-opentelemetry's convention); used as the
/// Sentry name when `sentry.name` is absent.
pub const OTEL_NAME: &str = "otel.name";
/// The HTTP response status, first present wins: OpenTelemetry's current semantic
/// convention, then its older one.
pub const HTTP_STATUS: [&str; 2] = ["http.response.status_code", "http.status_code"];
/// An incoming trace in `sentry-trace` format (`{trace_id}-{span_id}[-{sampled}]`), as
/// in sentry-tracing. Read when the span that starts a request is created; recorded
/// later it is ignored (the request's trace and sampling decision are fixed by then).
pub const SENTRY_TRACE: &str = "sentry.trace";
