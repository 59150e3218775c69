//! A structured log as the calling thread queues it ([`PendingLog`]) and the Sentry log it
//! becomes on the worker: Sentry's log protocol
//! (<https://develop.sentry.dev/sdk/telemetry/logs/>), in `sentry-types`' own [`Log`]
//! type so the envelope is the one the `sentry` crate writes and parses.

use std::time::SystemTime;

use sentry::protocol::{Log, LogAttribute, LogLevel, Map, SpanId, TraceId, Value};
use tracing::{Level, Metadata};

use super::pending::LogSource;
use crate::errors::CapturedError;
use crate::fields::FieldValue;
use crate::identity::Identity;
use crate::wire::TENANT_TAG;

/// `sentry.origin` of every log this crate sends (Sentry's `auto.<category>.<integration>`
/// convention for data an integration captured).
pub(crate) const LOG_ORIGIN: &str = "auto.log.tracing_error_reports";

/// A tracing event to be sent as a Sentry log, recorded on the calling thread: typed
/// values and shared text only; every `String` and the attribute map are made on the
/// worker.
#[derive(Debug)]
pub(crate) struct PendingLog {
    pub(crate) timestamp: SystemTime,
    pub(crate) metadata: &'static Metadata<'static>,
    /// Set for `log` records: their own target, module, file and line.
    pub(crate) log_source: Option<LogSource>,
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
    /// The event's tenant and user, else its request's (the nearest span's value).
    pub(crate) identity: Identity,
    /// The request's trace and the span the event was logged in; `None` outside any
    /// request (the process's own trace is used then).
    pub(crate) trace: Option<(TraceId, SpanId)>,
    /// The `tags.*` fields of the spans the event was logged in, nearest first (the
    /// event's own come first from `fields`).
    pub(crate) span_tags: Vec<(&'static str, FieldValue)>,
}

/// The Sentry log level of a tracing level.
pub(crate) fn log_level(level: &Level) -> LogLevel {
    match *level {
        Level::TRACE => LogLevel::Trace,
        Level::DEBUG => LogLevel::Debug,
        Level::INFO => LogLevel::Info,
        Level::WARN => LogLevel::Warn,
        Level::ERROR => LogLevel::Error,
    }
}

/// OpenTelemetry's `SeverityNumber` of a level: the first of its range (TRACE 1,
/// DEBUG 5, INFO 9, WARN 13, ERROR 17), as Sentry's log protocol takes it.
pub(crate) fn severity_number(level: &Level) -> u8 {
    match *level {
        Level::TRACE => 1,
        Level::DEBUG => 5,
        Level::INFO => 9,
        Level::WARN => 13,
        Level::ERROR => 17,
    }
}

fn attribute(value: &FieldValue) -> LogAttribute {
    match value {
        FieldValue::Str(s) => LogAttribute(Value::String(s.clone())),
        FieldValue::I64(v) => LogAttribute(Value::from(*v)),
        // Sentry's `integer` is 64-bit signed; larger values go as text (as
        // `sentry-types` itself writes a `u64` that does not fit).
        FieldValue::U64(v) => match i64::try_from(*v) {
            Ok(v) => LogAttribute(Value::from(v)),
            Err(_) => LogAttribute(Value::String(v.to_string())),
        },
        // A non-finite double is not JSON: text.
        FieldValue::F64(v) if v.is_finite() => LogAttribute(Value::from(*v)),
        FieldValue::F64(v) => LogAttribute(Value::String(v.to_string())),
        FieldValue::Bool(v) => LogAttribute(Value::Bool(*v)),
    }
}

fn text(value: impl Into<String>) -> LogAttribute {
    LogAttribute(Value::String(value.into()))
}

impl PendingLog {
    /// The Sentry log: body (the event's message), level, severity number, trace id
    /// and these attributes (Sentry's names where it has them):
    /// - each event field under its own name, typed (`string`, `integer`, `double`,
    ///   `boolean`); an error field as its chain (`Type: message: Cause: ...`);
    /// - `tenant_id`, `user.id`, the `tags.*` fields of the event and its spans;
    /// - `sentry.trace.parent_span_id` (the span the event was logged in);
    /// - `code.file.path`, `code.line.number`, `code.module.name` (OpenTelemetry's
    ///   names), `logger.name` (the event's target), `sentry.origin`;
    /// - `sentry.environment`, `sentry.release`, `sentry.sdk.name`,
    ///   `sentry.sdk.version`, `server.address`, from `defaults`.
    ///
    /// No `sentry.message.template`: tracing hands a layer the message already
    /// formatted (`fmt::Arguments` behind `dyn Debug`), so its template is not known;
    /// the structured fields are the parameters, each an attribute of its own.
    /// `process_trace`: the trace id of logs outside any request.
    pub(crate) fn into_log(
        self,
        defaults: &Map<String, LogAttribute>,
        process_trace: TraceId,
    ) -> Log {
        let level = self.metadata.level();
        // Collected lowest precedence first and built in one pass: a sorted bulk build
        // keeps the last of equal keys, and is cheaper than a search per insert.
        let mut entries: Vec<(String, LogAttribute)> = Vec::with_capacity(
            defaults.len() + self.span_tags.len() + self.fields.len() + self.errors.len() + 10,
        );
        entries.extend(defaults.iter().map(|(k, v)| (k.clone(), v.clone())));
        // Nearest span first wins, then the event's own fields, the first of a name first.
        for (name, value) in self.span_tags.iter().rev() {
            entries.push(((*name).to_owned(), attribute(value)));
        }
        for (name, chain) in self.errors.iter().rev() {
            let text_of_chain = chain
                .iter()
                .map(|e| format!("{}: {}", e.type_name, e.message))
                .collect::<Vec<_>>()
                .join(": ");
            entries.push(((*name).to_owned(), text(text_of_chain)));
        }
        // tracing-log's own fields (`log.target`, `log.file`, ...): their content is the
        // `logger.name` and `code.*` attributes below, as a report's logger and location.
        let from_log = self.log_source.is_some();
        for (name, value) in self.fields.iter().rev() {
            if from_log && name.starts_with("log.") {
                continue;
            }
            entries.push(((*name).to_owned(), attribute(value)));
        }
        if let Some(tenant) = &self.identity.tenant {
            entries.push((TENANT_TAG.to_owned(), text(&**tenant)));
        }
        if let Some(user) = &self.identity.user {
            entries.push(("user.id".to_owned(), text(&**user)));
        }
        let (trace_id, span_id) = match self.trace {
            Some((trace_id, span_id)) => (trace_id, Some(span_id)),
            None => (process_trace, None),
        };
        if let Some(span_id) = span_id {
            entries.push((
                "sentry.trace.parent_span_id".to_owned(),
                text(span_id.to_string()),
            ));
        }
        let (target, module, file, line) = match &self.log_source {
            Some(source) => (
                source.target.as_str(),
                source.module_path.as_deref(),
                source.file.as_deref(),
                source.line,
            ),
            None => (
                self.metadata.target(),
                self.metadata.module_path(),
                self.metadata.file(),
                self.metadata.line(),
            ),
        };
        entries.push(("logger.name".to_owned(), text(target)));
        if let Some(module) = module {
            entries.push(("code.module.name".to_owned(), text(module)));
        }
        if let Some(file) = file {
            entries.push(("code.file.path".to_owned(), text(file)));
        }
        if let Some(line) = line {
            entries.push((
                "code.line.number".to_owned(),
                LogAttribute(Value::from(line)),
            ));
        }
        entries.push(("sentry.origin".to_owned(), text(LOG_ORIGIN)));
        let attributes: Map<String, LogAttribute> = entries.into_iter().collect();
        let body = self
            .message
            .unwrap_or_else(|| self.metadata.name().to_owned());
        Log {
            level: log_level(level),
            body,
            trace_id: Some(trace_id),
            timestamp: self.timestamp,
            severity_number: severity_number(level).try_into().ok(),
            attributes,
        }
    }
}

/// The attributes every log of a client carries: its environment, release, server name
/// and this SDK's name and version (Sentry's default log attributes).
pub(crate) fn default_attributes(options: &sentry::ClientOptions) -> Map<String, LogAttribute> {
    let mut attributes = Map::new();
    if let Some(environment) = &options.environment {
        attributes.insert("sentry.environment".to_owned(), text(&**environment));
    }
    if let Some(release) = &options.release {
        attributes.insert("sentry.release".to_owned(), text(&**release));
    }
    if let Some(server) = &options.server_name {
        attributes.insert("server.address".to_owned(), text(&**server));
    }
    attributes.insert(
        "sentry.sdk.name".to_owned(),
        text(concat!("sentry.rust.", env!("CARGO_PKG_NAME"))),
    );
    attributes.insert(
        "sentry.sdk.version".to_owned(),
        text(env!("CARGO_PKG_VERSION")),
    );
    attributes
}
