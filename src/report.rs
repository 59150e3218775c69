//! What the calling thread hands to the worker, and how the worker turns it into
//! Sentry's types. Conversion, scrubbing and serialisation all happen on the worker.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use sentry::protocol::{
    self, Breadcrumb, Context, Event, Exception, Map, Mechanism, SpanId, TraceContext, TraceId,
    Transaction, User, Value,
};
use tracing::{Level, Metadata};

use crate::crumb::PackedCrumb;
use crate::fields::{chain_from_text, is_error_field, CapturedError, FieldValue};
use crate::performance::FinishedTransaction;
use crate::scrub::short_source_path;

pub(crate) use crate::wire::{
    FIELDS_CONTEXT, LOCATION_CONTEXT, SPANS_CONTEXT, TENANT_TAG, TRACE_ID_TAG,
};

/// Prefix of fields that become Sentry tags (`tags.team = "billing"`), as with
/// sentry-tracing.
pub(crate) const TAG_FIELD_PREFIX: &str = "tags.";

/// Where a `log` record came from (through `tracing_log::LogTracer`), from its
/// normalised metadata: the forwarding callsite's own metadata says only `log`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogSource {
    pub(crate) target: String,
    pub(crate) module_path: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
}

impl LogSource {
    pub(crate) fn of(metadata: &Metadata<'_>) -> LogSource {
        LogSource {
            target: metadata.target().to_owned(),
            module_path: metadata.module_path().map(str::to_owned),
            file: metadata.file().map(str::to_owned),
            line: metadata.line(),
        }
    }
}

/// A span of the reported event's scope, nearest first.
#[derive(Debug)]
pub(crate) struct SpanSnapshot {
    pub(crate) name: &'static str,
    pub(crate) fields: Arc<Vec<(&'static str, FieldValue)>>,
}

/// The context of the code that logged: tenant, user, trace, spans, breadcrumbs.
#[derive(Debug, Default)]
pub(crate) struct ScopeSnapshot {
    pub(crate) tenant: Option<Arc<str>>,
    pub(crate) user: Option<Arc<str>>,
    pub(crate) trace: Option<(TraceId, SpanId)>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) spans: Vec<SpanSnapshot>,
    pub(crate) breadcrumbs: Vec<PackedCrumb>,
    /// What `sentry::configure_scope` set on the calling thread's hub (layer reports).
    pub(crate) hub: Option<Box<crate::manual::HubScope>>,
}

/// A panic, as seen by the hook on the panicking thread.
#[derive(Debug)]
pub(crate) struct PanicDetails {
    pub(crate) message: String,
    pub(crate) location: Option<(String, u32)>,
    pub(crate) thread: Option<String>,
    /// Captured unresolved by the hook; resolved on the worker.
    pub(crate) stacktrace: Option<backtrace::Backtrace>,
}

/// One report waiting for the worker.
#[derive(Debug)]
pub(crate) struct PendingReport {
    pub(crate) event_id: sentry::types::Uuid,
    pub(crate) timestamp: SystemTime,
    pub(crate) metadata: Option<&'static Metadata<'static>>,
    /// Set for `log` records: their own target, module, file and line.
    pub(crate) log_source: Option<LogSource>,
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
    pub(crate) panic: Option<PanicDetails>,
    /// The logging thread's stack (`attach_stacktrace`), captured unresolved on that
    /// thread; resolved and trimmed on the worker ([`caller_stacktrace`]).
    pub(crate) stacktrace: Option<backtrace::Backtrace>,
    pub(crate) scope: ScopeSnapshot,
    /// Earlier reports of the same flood-control key that flood control held back.
    pub(crate) suppressed: u64,
}

/// Sentry drops tag values containing newlines. Values longer than Sentry's 200
/// characters are cut by the scrubber *after* scrubbing (a secret straddling the cut
/// must be found whole).
fn tag_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn sentry_level(level: &Level) -> protocol::Level {
    match *level {
        Level::ERROR => protocol::Level::Error,
        Level::WARN => protocol::Level::Warning,
        Level::INFO => protocol::Level::Info,
        _ => protocol::Level::Debug,
    }
}

fn breadcrumb(crumb: &PackedCrumb) -> Breadcrumb {
    let (message, mut data) = crumb.unpack();
    // A `log` record forwarded by tracing-log: its target is in `log.target`.
    let log_target = match data.remove("log.target") {
        Some(Value::String(target)) => {
            data.retain(|key, _| !key.starts_with("log."));
            Some(target)
        }
        _ => None,
    };
    Breadcrumb {
        timestamp: crumb.timestamp,
        ty: "default".into(),
        category: Some(log_target.unwrap_or_else(|| crumb.metadata.target().to_owned())),
        level: sentry_level(crumb.metadata.level()),
        message,
        data,
    }
}

fn exceptions(chain: &[CapturedError]) -> impl Iterator<Item = Exception> + '_ {
    // Sentry lists the root cause first and the error that was logged (index 0) last;
    // the logged one carries the mechanism.
    chain
        .iter()
        .enumerate()
        .rev()
        .map(move |(i, err)| Exception {
            ty: err.type_name.clone(),
            value: Some(err.message.clone()),
            mechanism: (i == 0).then(|| Mechanism {
                ty: "tracing".into(),
                handled: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        })
}

/// A context's map of fields, with keys Sentry reserves renamed.
fn context_map(fields: &[(&'static str, FieldValue)]) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(name, _)| !name.starts_with(TAG_FIELD_PREFIX))
        .map(|(name, value)| (context_key(name), value.to_json()))
        .collect()
}

/// A field's key in a context map: reserved keys renamed the scrubber's one way.
fn context_key(name: &str) -> String {
    crate::scrub::context_key(name).into_owned()
}

/// `name=value` pairs: the title of a report that has neither message nor error.
fn fields_title(fields: &[(&'static str, FieldValue)]) -> Option<String> {
    let pairs: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{name}={}", value.to_text()))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join(" "))
}

fn user(tenant: &Option<Arc<str>>, user_id: &Option<Arc<str>>) -> Option<User> {
    if tenant.is_none() && user_id.is_none() {
        return None;
    }
    let mut other = Map::new();
    if let Some(tenant) = tenant {
        other.insert(TENANT_TAG.to_owned(), Value::from(&**tenant));
    }
    Some(User {
        id: user_id.as_deref().map(str::to_owned),
        other,
        ..Default::default()
    })
}

fn trace_context(trace_id: TraceId, span_id: SpanId, op: Option<&str>) -> Context {
    Context::Trace(Box::new(TraceContext {
        trace_id,
        span_id,
        op: op.map(str::to_owned),
        ..Default::default()
    }))
}

/// The stack of the code that logged, resolved, without the frames of the dispatch to
/// the layer (Sentry lists the innermost frame last).
fn caller_stacktrace(mut backtrace: backtrace::Backtrace) -> Option<protocol::Stacktrace> {
    const DISPATCH: [&str; 6] = [
        "tracing_error_reports::",
        "tracing_subscriber::",
        "tracing_core::",
        "tracing::",
        "backtrace::",
        "sentry_backtrace::",
    ];
    // Standard-library frames in between (closures called through `FnOnce`, `Arc`).
    const GLUE: [&str; 3] = ["core::", "std::", "alloc::"];
    backtrace.resolve();
    let mut stacktrace = sentry_backtrace::backtrace_to_stacktrace(&backtrace)?;
    while stacktrace.frames.last().is_some_and(|frame| {
        frame.function.as_deref().is_some_and(|f| {
            DISPATCH.iter().any(|m| f.contains(m))
                || GLUE
                    .iter()
                    .any(|m| f.trim_start_matches('<').starts_with(m))
        })
    }) {
        stacktrace.frames.pop();
    }
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

impl PendingReport {
    pub(crate) fn into_event(self) -> Event<'static> {
        let PendingReport {
            event_id,
            timestamp,
            metadata,
            log_source,
            message,
            mut fields,
            mut errors,
            mut panic,
            stacktrace,
            scope,
            suppressed,
        } = self;
        let mut event = Event {
            event_id,
            timestamp,
            level: metadata.map_or(protocol::Level::Fatal, |m| sentry_level(m.level())),
            logger: match &log_source {
                Some(source) => Some(source.target.clone()),
                None => metadata.map(|m| m.target().to_owned()),
            },
            transaction: scope.transaction.as_deref().map(str::to_owned),
            ..Default::default()
        };
        if log_source.is_some() {
            // tracing-log's own fields; their content is the logger and location.
            fields.retain(|(name, _)| !name.starts_with("log."));
        }
        // `tags.*` fields of the event, then of the spans nearest first: the nearest wins.
        let span_fields = scope.spans.iter().flat_map(|span| span.fields.iter());
        for (name, value) in fields.iter().chain(span_fields) {
            if let Some(tag) = name.strip_prefix(TAG_FIELD_PREFIX) {
                if !tag.is_empty() && !event.tags.contains_key(tag) {
                    event
                        .tags
                        .insert(tag.to_owned(), tag_value(&value.to_text()));
                }
            }
        }
        // An error logged as text (`error = %e`, `?err`, `#[instrument(err)]`) is an
        // exception chain like an `&dyn Error` field.
        fields.retain(|(name, value)| match value {
            FieldValue::Str(text) if is_error_field(name) => {
                errors.push((*name, chain_from_text(text)));
                false
            }
            _ => true,
        });

        let mut exception: Vec<Exception> = errors
            .iter()
            .flat_map(|(_, chain)| exceptions(chain))
            .collect();
        let panic_stack = panic.as_mut().and_then(|p| p.stacktrace.take());
        if let Some(panic) = &panic {
            exception.push(Exception {
                ty: "panic".into(),
                value: Some(panic.message.clone()),
                stacktrace: panic_stack.and_then(|mut bt| {
                    bt.resolve();
                    sentry_backtrace::backtrace_to_stacktrace(&bt)
                }),
                mechanism: Some(Mechanism {
                    ty: "panic".into(),
                    handled: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        // As Sentry's `attach_stacktrace`: on the logged error, else as the thread's.
        if let Some(stacktrace) = stacktrace.and_then(caller_stacktrace) {
            match exception.last_mut() {
                Some(logged) if logged.stacktrace.is_none() => logged.stacktrace = Some(stacktrace),
                Some(_) => {}
                None => {
                    event.threads.values.push(protocol::Thread {
                        stacktrace: Some(stacktrace),
                        current: true,
                        ..Default::default()
                    });
                }
            }
        }
        // The title is never empty: the message, else the panic's or the logged
        // error's text, else the fields, else the callsite's name.
        event.message = message
            .filter(|m| !m.trim().is_empty())
            .or_else(|| panic.as_ref().map(|p| p.message.clone()))
            .or_else(|| {
                exception
                    .last()
                    .and_then(|e| e.value.clone())
                    .filter(|v| !v.trim().is_empty())
            })
            .or_else(|| fields_title(&fields))
            .or_else(|| metadata.map(|m| m.name().to_owned()));
        event.exception = exception.into();

        if let Some(tenant) = &scope.tenant {
            event.tags.insert(TENANT_TAG.to_owned(), tag_value(tenant));
        }
        event.user = user(&scope.tenant, &scope.user);
        if let Some((trace_id, span_id)) = scope.trace {
            event
                .tags
                .insert(TRACE_ID_TAG.to_owned(), trace_id.to_string());
            event.contexts.insert(
                "trace".to_owned(),
                trace_context(trace_id, span_id, scope.transaction.as_deref()),
            );
        }

        if fields.iter().any(|(n, _)| !n.starts_with(TAG_FIELD_PREFIX)) || suppressed > 0 {
            let mut map = context_map(&fields);
            if suppressed > 0 {
                map.insert("suppressed_before".to_owned(), Value::from(suppressed));
            }
            event
                .contexts
                .insert(FIELDS_CONTEXT.to_owned(), Context::Other(map));
        }
        if !scope.spans.is_empty() {
            let mut spans = Map::new();
            for (depth, span) in scope.spans.iter().enumerate() {
                let name = context_key(span.name);
                let key = if spans.contains_key(&name) {
                    format!("{name}#{depth}")
                } else {
                    name
                };
                spans.insert(
                    key,
                    Value::Object(context_map(&span.fields).into_iter().collect()),
                );
            }
            event
                .contexts
                .insert(SPANS_CONTEXT.to_owned(), Context::Other(spans));
        }
        let mut location = Map::new();
        if let Some(source) = &log_source {
            if let Some(file) = &source.file {
                location.insert("file".into(), Value::from(short_source_path(file)));
            }
            if let Some(line) = source.line {
                location.insert("line".into(), Value::from(line));
            }
            if let Some(module) = &source.module_path {
                location.insert("module_path".into(), Value::from(module.as_str()));
            }
        } else if let Some(meta) = metadata {
            if let Some(file) = meta.file() {
                location.insert("file".into(), Value::from(short_source_path(file)));
            }
            if let Some(line) = meta.line() {
                location.insert("line".into(), Value::from(line));
            }
            if let Some(module) = meta.module_path() {
                location.insert("module_path".into(), Value::from(module));
            }
        }
        if let Some(panic) = &panic {
            if let Some((file, line)) = &panic.location {
                location.insert("file".into(), Value::from(short_source_path(file)));
                location.insert("line".into(), Value::from(*line));
            }
            if let Some(thread) = &panic.thread {
                location.insert("thread".into(), Value::from(thread.as_str()));
            }
        }
        if !location.is_empty() {
            event
                .contexts
                .insert(LOCATION_CONTEXT.to_owned(), Context::Other(location));
        }
        event.breadcrumbs = scope
            .breadcrumbs
            .iter()
            .map(breadcrumb)
            .collect::<Vec<_>>()
            .into();
        if let Some(hub) = scope.hub {
            hub.fill(&mut event);
        }
        event
    }
}

impl FinishedTransaction {
    pub(crate) fn into_transaction(
        self,
        release: Option<Cow<'static, str>>,
        environment: Cow<'static, str>,
    ) -> Transaction<'static> {
        let mut tx = Transaction {
            name: Some(self.name.to_string()),
            release,
            environment: Some(environment),
            start_timestamp: self.started,
            timestamp: Some(self.finished),
            spans: self.spans,
            user: user(&self.tenant, &self.user),
            ..Default::default()
        };
        if let Some(tenant) = &self.tenant {
            tx.tags.insert(TENANT_TAG.to_owned(), tag_value(tenant));
        }
        tx.tags
            .insert(TRACE_ID_TAG.to_owned(), self.trace_id.to_string());
        for (name, value) in self.fields.iter() {
            if let Some(tag) = name
                .strip_prefix(TAG_FIELD_PREFIX)
                .filter(|t| !t.is_empty())
            {
                tx.tags.insert(tag.to_owned(), tag_value(&value.to_text()));
            }
        }
        let mut trace = TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            op: Some(self.op.to_string()),
            status: Some(self.status),
            // Not a context's top level: no key is reserved here.
            data: self
                .fields
                .iter()
                .filter(|(name, _)| !name.starts_with(TAG_FIELD_PREFIX))
                .map(|(name, value)| ((*name).to_owned(), value.to_json()))
                .collect(),
            ..Default::default()
        };
        if self.dropped_spans > 0 {
            trace
                .data
                .insert("dropped_spans".into(), Value::from(self.dropped_spans));
        }
        tx.contexts
            .insert("trace".to_owned(), Context::Trace(Box::new(trace)));
        tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrub::{ScrubRules, Scrubber, UNSCRUBBABLE};

    fn report(fields: Vec<(&'static str, FieldValue)>, spans: Vec<SpanSnapshot>) -> PendingReport {
        PendingReport {
            event_id: sentry::types::random_uuid(),
            timestamp: SystemTime::now(),
            metadata: None,
            log_source: None,
            message: Some("charge declined".into()),
            fields,
            errors: Vec::new(),
            panic: None,
            stacktrace: None,
            scope: ScopeSnapshot {
                spans,
                ..Default::default()
            },
            suppressed: 0,
        }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Str(s.to_owned())
    }

    #[test]
    fn reserved_keys_and_span_names_survive_the_scrubber() {
        let span = SpanSnapshot {
            name: "type",
            fields: Arc::new(vec![("type", text("api")), ("tags.region", text("eu"))]),
        };
        let event = report(
            vec![
                ("type", text("card_declined")),
                ("value", FieldValue::U64(42)),
                ("tags.team", text("billing")),
                ("tags.region", text("us")),
            ],
            vec![span],
        )
        .into_event();
        let scrubbed = Scrubber::new(&ScrubRules::default())
            .expect("default rules")
            .scrub_event(event);
        assert_eq!(scrubbed.message.as_deref(), Some("charge declined"));
        assert_ne!(scrubbed.message.as_deref(), Some(UNSCRUBBABLE));
        assert_eq!(
            scrubbed.tags.get("team").map(String::as_str),
            Some("billing")
        );
        // The event's own tag wins over the span's.
        assert_eq!(scrubbed.tags.get("region").map(String::as_str), Some("us"));
        let Some(Context::Other(fields)) = scrubbed.contexts.get(FIELDS_CONTEXT) else {
            panic!("{:?}", scrubbed.contexts)
        };
        assert_eq!(fields.get("type_"), Some(&Value::from("card_declined")));
        assert_eq!(fields.get("value"), Some(&Value::from(42)));
        assert!(!fields.contains_key("tags.team"));
        let Some(Context::Other(spans)) = scrubbed.contexts.get(SPANS_CONTEXT) else {
            panic!("{:?}", scrubbed.contexts)
        };
        // Inside a span's entry too: one spelling of a field across the report.
        assert_eq!(
            spans.get("type_"),
            Some(&serde_json::json!({"type_": "api"}))
        );
    }

    #[test]
    fn a_report_without_message_or_error_is_titled_by_its_fields() {
        let mut pending = report(vec![("order", FieldValue::U64(4000))], Vec::new());
        pending.message = None;
        assert_eq!(pending.into_event().message.as_deref(), Some("order=4000"));
        let mut pending = report(Vec::new(), Vec::new());
        pending.message = Some("  ".into());
        pending.errors = vec![(
            "error",
            vec![CapturedError {
                type_name: "Error".into(),
                message: "disk full".into(),
            }],
        )];
        assert_eq!(pending.into_event().message.as_deref(), Some("disk full"));
    }
}
