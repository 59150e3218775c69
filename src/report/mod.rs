//! Report building: what the calling thread hands to the worker ([`PendingReport`],
//! [`FinishedTransaction`](crate::transaction::FinishedTransaction)), and how the worker
//! turns it into Sentry's types. Conversion, scrubbing and serialisation all happen on
//! the worker. One file per concern of the event:
//! - `pending`: the report as queued, made by one constructor;
//! - `event`: the event, assembled from the parts below;
//! - `exception`: message and title, exception chain, panic, stack trace;
//! - `tags`: the one rule for tags of events and transactions;
//! - `contexts`: the `fields`, `spans`, `location` and `trace` contexts;
//! - `symbols`: a stack's symbols, looked up on a thread of their own;
//! - `breadcrumbs`: the request's breadcrumbs;
//! - `transaction`: a finished request's transaction;
//! - `log`: a tracing event as a Sentry structured log (`PendingLog`);
//! - `metric`: a tracing event's metric fields as Sentry metrics (`PendingMetrics`).

mod breadcrumbs;
mod contexts;
mod event;
mod exception;
mod log;
mod metric;
mod pending;
mod symbols;
mod tags;
mod transaction;

pub(crate) use exception::mark_in_app;
pub(crate) use log::{default_attributes as default_log_attributes, LogWriter, PendingLog};
pub(crate) use metric::{metric_of, metric_value, PendingMetrics, METRIC_UNIT_FIELD};
pub(crate) use pending::{
    CaptureSettings, EventDetails, LogSource, Occurrence, PanicDetails, PendingReport,
};
#[cfg(feature = "testing")]
pub(crate) use symbols::set_lookup_delay;
pub(crate) use symbols::{
    look_up as look_up_symbols, Looked, Lookup, Stack, FIRST_WAIT as SYMBOLS_FIRST_WAIT,
    LONGEST_WAIT as SYMBOLS_LONGEST_WAIT,
};
pub(crate) use tags::{is_tag_field, normalize_tags};
