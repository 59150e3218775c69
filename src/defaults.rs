//! The default of every [`ConfigBuilder`](crate::ConfigBuilder) setting that has a
//! value (the others are off by default; each setter says so).

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use crate::FloodLimit;

/// Environment used when neither the builder nor `SENTRY_ENVIRONMENT` gives one.
pub const ENVIRONMENT: &str = "development";
/// Share of requests sent as transactions when neither the builder nor
/// `SENTRY_TRACES_SAMPLE_RATE` gives one.
pub const TRACES_SAMPLE_RATE: f32 = 0.1;
/// Share of error events sent when neither the builder nor `SENTRY_SAMPLE_RATE` gives
/// one: all of them, as Sentry's own default.
pub const SAMPLE_RATE: f32 = 1.0;
/// Span field whose value becomes the `tenant_id` tag and `user.tenant_id`.
pub const TENANT_FIELD: &str = "tenant_id";
/// Span field whose value becomes `user.id`.
pub const USER_FIELD: &str = "user_id";
/// Span field that carries the request's trace id (32 hex digits), as recorded by
/// [`link_trace`](crate::link_trace); reports and transactions use it.
pub const TRACE_ID_FIELD: &str = "trace_id";
/// Breadcrumbs kept per request (Sentry's own default).
pub const MAX_BREADCRUMBS: usize = 100;
/// Reports that may wait for the background worker before new ones are dropped (and counted).
pub const QUEUE_CAPACITY: NonZeroUsize = NonZeroUsize::new(2048).expect("2048 is not zero");
/// How long dropping the guard waits for queued reports to be delivered.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a panic waits for its report to be delivered before the process goes on unwinding.
pub const PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// Hard limit on one HTTP request to Sentry, so a server that never answers cannot stall delivery.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Flood control: 100 reports per key per minute (ADR-027 says what a key is).
pub const FLOOD_LIMIT: FloodLimit = FloodLimit::new(
    NonZeroU32::new(100).expect("100 is not zero"),
    Duration::from_secs(60),
);

/// Event targets that never become reports: the SDK, HTTP stacks and exporters, whose
/// own errors would otherwise feed back into Sentry. Matched as `target` prefixes at
/// a `::` boundary.
pub const IGNORED_TARGETS: &[&str] = &[
    "sentry",
    "sentry_core",
    "tracing_error_reports",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "tracing_opentelemetry",
    "tracing_loki",
    "tonic",
];
