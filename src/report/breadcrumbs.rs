//! A request's breadcrumbs, unpacked into Sentry's type.

use sentry::protocol::{self, Breadcrumb, Value};
use tracing::Level;

use crate::crumb::PackedCrumb;

/// Sentry's level of a `tracing` level (`TRACE` and `DEBUG` are Sentry's `debug`).
pub(super) fn sentry_level(level: &Level) -> protocol::Level {
    match *level {
        Level::ERROR => protocol::Level::Error,
        Level::WARN => protocol::Level::Warning,
        Level::INFO => protocol::Level::Info,
        _ => protocol::Level::Debug,
    }
}

/// Sentry's breadcrumb of a packed one: its message, fields as data, target as category.
pub(super) fn breadcrumb(crumb: &PackedCrumb) -> Breadcrumb {
    let (message, mut data) = crumb.unpack();
    // A `log` record forwarded by tracing-log: its target is in `log.target`.
    let log_target = match data.remove("log.target") {
        Some(Value::String(target)) => {
            data.retain(|key, _| !key.starts_with("log."));
            Some(target)
        }
        _ => None,
    };
    // `#[instrument(err)]` logs only `error`: that is the breadcrumb's message then, as
    // Sentry's UI lists breadcrumbs by message.
    let message = message.or_else(|| match data.get("error") {
        Some(Value::String(error)) => Some(error.clone()),
        _ => None,
    });
    Breadcrumb {
        timestamp: crumb.timestamp,
        ty: "default".into(),
        category: Some(log_target.unwrap_or_else(|| crumb.metadata.target().to_owned())),
        level: sentry_level(crumb.metadata.level()),
        message,
        data,
    }
}
