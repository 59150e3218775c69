//! Sentry error reports from `tracing`, scrubbed of secrets and tagged with the tenant.
//!
//! [`ErrorReportLayer`] is a [`tracing_subscriber::Layer`]: add it to the subscriber
//! your service already has (fmt, tracing-opentelemetry, tracing-loki, ...). It
//! changes nothing the other layers see.
//!
//! - `error!` events and panics become Sentry events; `info!`/`warn!` events become
//!   breadcrumbs of the request they happened in; an `error` field holding
//!   a `&dyn Error` becomes the exception chain, and so does an error logged as text
//!   (`error = %e`, `?err` of anyhow or eyre, `#[instrument(err)]`). `log` records
//!   forwarded by `tracing_log::LogTracer` keep their own target, file and line;
//!   `tags.*` fields become Sentry tags.
//! - `tenant_id` and `user_id` fields of the enclosing spans (nearest first; a field of
//!   the event itself wins) become the `tenant_id` tag and the Sentry user.
//! - Every envelope is scrubbed of secrets and personal data ([`scrub`]) on its way to
//!   the transport, whatever produced it.
//! - Initialisation is fail-open: no DSN means no layer, a bad DSN means a log line
//!   and no layer, never a panic.
//! - Conversion, scrubbing and sending happen on a background thread behind a bounded
//!   queue; drops are counted ([`ReportingGuard::stats`]).
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! // Reads SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE, SENTRY_TRACES_SAMPLE_RATE.
//! let (error_reports, guard) = tracing_error_reports::init_from_env!();
//! let subscriber = tracing_subscriber::registry().with(error_reports);
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("request", tenant_id = "acme", user_id = 7);
//!     let _entered = span.enter();
//!     tracing::info!(route = "/orders", "loading orders");
//!     tracing::error!(password = "hunter2", "could not load orders");
//! });
//! // Without SENTRY_DSN reporting is off, and the guard says why.
//! println!("{:?}", guard.status());
//! ```
//!
//! # Cargo features
//! - `rustls` (default): TLS for `https` DSNs through rustls.
//! - `native-tls`: TLS through the platform's library instead.
//! - `testing`: the `testing` module, a loopback Sentry receiver for tests and demos
//!   (the crate's own tests and examples turn it on; production builds leave it off).
//! - `opentelemetry`: reports and transactions take their trace and span ids from
//!   tracing-opentelemetry 0.34 (opentelemetry 0.33) in the same subscriber, and
//!   [`link_trace`] records that trace id, so Sentry reports, Tempo traces and Loki lines
//!   of a request share one trace id.
//! - `opentelemetry-0-33`: the same for tracing-opentelemetry 0.33 (opentelemetry 0.32).
//!   Both may be on. Any other version's ids are not read: the layer uses its own ids
//!   and says so once on stderr.

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![warn(unreachable_pub)]

mod config;
mod crumb;
#[cfg(doctest)]
mod docs;
mod entered;
mod fields;
mod flood;
mod http;
mod init;
mod layer;
mod link;
mod manual;
#[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
mod otel;
mod panic;
mod performance;
mod propagation;
mod report;
mod request;
pub mod scrub;
mod shared;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
mod worker;

pub use config::{
    Config, ConfigBuilder, ConfigError, DisabledReason, DEFAULT_ENVIRONMENT, DEFAULT_HTTP_TIMEOUT,
    DEFAULT_IGNORED_TARGETS, DEFAULT_MAX_BREADCRUMBS, DEFAULT_PANIC_FLUSH_TIMEOUT,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_TENANT_FIELD,
    DEFAULT_TRACES_SAMPLE_RATE, DEFAULT_TRACE_ID_FIELD, DEFAULT_USER_FIELD, ENV_DSN,
    ENV_ENVIRONMENT, ENV_RELEASE, ENV_SAMPLE_RATE, ENV_TRACES_SAMPLE_RATE,
};
pub use flood::{DEFAULT_FLOOD_WINDOW, DEFAULT_REPORTS_PER_WINDOW};
pub use init::{init, init_with_transport, ReportingGuard, ReportingStatus};
pub use layer::ErrorReportLayer;
pub use link::link_trace;
pub use performance::{
    span_status_from_http, HTTP_STATUS_FIELDS, MAX_SPANS_PER_TRANSACTION, OTEL_NAME_FIELD,
    SENTRY_NAME_FIELD, SENTRY_OP_FIELD,
};
pub use propagation::{IncomingTrace, SENTRY_TRACE_FIELD};
pub use report::{FIELDS_CONTEXT, LOCATION_CONTEXT, SPANS_CONTEXT, TENANT_TAG, TRACE_ID_TAG};
pub use worker::ReportStats;

/// The Sentry event id of the current request's last report, so a log line or an
/// HTTP response can point at it.
///
/// The request is the one of the innermost span this crate's layer saw entered on
/// the calling thread (ADR-025 says what a request is); after an `.await` it is still
/// the task's own request, never one that ran on the same thread meanwhile. `None`
/// outside any request, before the request's first report, and when its last report
/// was held back by flood control or dropped because the queue was full: the id, when
/// there is one, is always of a report that was queued for Sentry.
pub fn last_event_id() -> Option<sentry::types::Uuid> {
    entered::innermost().and_then(|node| node.request.last_event_id())
}

/// [`init`] from the `SENTRY_*` variables, with the release defaulting to the
/// calling crate's `name@version`.
#[macro_export]
macro_rules! init_from_env {
    () => {
        $crate::init(
            $crate::Config::builder()
                .default_release($crate::release_name!())
                .with_env()
                .build_lenient(),
        )
    };
}
