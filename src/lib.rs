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
//! The tags and contexts reports carry, which dashboards and alerts name, are the
//! constants of [`wire`]. The `SENTRY_*` variables, the span fields the layer reads and
//! every default are tables in the README and `Default:` lines of the
//! [`ConfigBuilder`] setters.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! // Reads SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE and the two SENTRY_*_SAMPLE_RATEs.
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

// Leaves.
mod sync;
pub mod wire;
// Capture: what the calling thread records.
mod capture;
mod crumb;
mod errors;
mod fields;
mod flood;
mod hub_scope;
mod identity;
#[cfg(any(feature = "opentelemetry", feature = "opentelemetry-0-33"))]
mod otel;
mod propagation;
mod span_fields;
// Request state.
mod entered;
mod request;
mod transaction;
// Report building.
mod report;
// Delivery.
mod budget;
mod fair;
mod hooks;
mod http;
mod log_batch;
mod sessions;
mod spool;
mod transport;
mod worker;
// Front: what `tracing`, panics and direct captures call.
mod admission;
mod carry;
mod direct;
mod layer;
mod link;
mod logs;
mod metrics;
mod panic;
mod reporting;
// Setup.
mod config;
mod env;
mod exit;
mod init;

#[cfg(feature = "actix-web")]
pub mod actix;
mod integration;
#[cfg(feature = "tonic")]
#[path = "grpc.rs"]
pub mod tonic;
// Beside the layers.
#[cfg(doctest)]
mod docs;
#[cfg(feature = "testing")]
pub mod testing;

pub use carry::carry_request;
pub use config::{Config, ConfigBuilder, ConfigError, DisabledReason, EnvError, NameProblem};
pub use entered::last_event_id;
pub use flood::FloodLimit;
pub use init::{init, init_with_transport, ReportingGuard, ReportingStatus};
pub use integration::record_request;
pub use layer::ErrorReportLayer;
pub use link::link_trace;
pub use propagation::IncomingTrace;
pub use spool::SpoolStats;
pub use worker::{PiiConfigStats, ReportStats};

/// Scrubbing of secrets and personal data: the [`tracing_scrub`] crate, which the
/// transport applies to every envelope and [`scrub::Scrubbed`] to any other sink.
pub use tracing_scrub as scrub;
