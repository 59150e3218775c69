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
use crate::fields::{CapturedError, FieldValue};
use crate::performance::{fields_map, FinishedTransaction};

/// Name of the tag and user attribute that carry the tenant.
pub const TENANT_TAG: &str = "tenant_id";
/// Name of the tag that carries the trace id, for pasting into Tempo.
pub const TRACE_ID_TAG: &str = "trace_id";
/// Name of the context with the event's own fields.
pub const FIELDS_CONTEXT: &str = "fields";
/// Name of the context with the fields of the enclosing spans, nearest first.
pub const SPANS_CONTEXT: &str = "spans";
/// Name of the context with the event's source location.
pub const LOCATION_CONTEXT: &str = "location";

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
}

/// A panic, as seen by the hook on the panicking thread.
#[derive(Debug)]
pub(crate) struct PanicDetails {
    pub(crate) message: String,
    pub(crate) location: Option<(String, u32)>,
    pub(crate) thread: Option<String>,
    pub(crate) stacktrace: Option<protocol::Stacktrace>,
}

/// One report waiting for the worker.
#[derive(Debug)]
pub(crate) struct PendingReport {
    pub(crate) event_id: sentry::types::Uuid,
    pub(crate) timestamp: SystemTime,
    pub(crate) metadata: Option<&'static Metadata<'static>>,
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
    pub(crate) panic: Option<PanicDetails>,
    /// The logging thread's stack (`attach_stacktrace`).
    pub(crate) stacktrace: Option<protocol::Stacktrace>,
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
    let (message, data) = crumb.unpack();
    Breadcrumb {
        timestamp: crumb.timestamp,
        ty: "default".into(),
        category: Some(crumb.metadata.target().to_owned()),
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

impl PendingReport {
    pub(crate) fn into_event(self) -> Event<'static> {
        let PendingReport {
            event_id,
            timestamp,
            metadata,
            message,
            fields,
            errors,
            panic,
            stacktrace,
            scope,
            suppressed,
        } = self;
        let mut event = Event {
            event_id,
            timestamp,
            level: metadata.map_or(protocol::Level::Fatal, |m| sentry_level(m.level())),
            logger: metadata.map(|m| m.target().to_owned()),
            transaction: scope.transaction.as_deref().map(str::to_owned),
            ..Default::default()
        };

        let mut exception: Vec<Exception> = errors
            .iter()
            .flat_map(|(_, chain)| exceptions(chain))
            .collect();
        if let Some(panic) = &panic {
            exception.push(Exception {
                ty: "panic".into(),
                value: Some(panic.message.clone()),
                stacktrace: panic.stacktrace.clone(),
                mechanism: Some(Mechanism {
                    ty: "panic".into(),
                    handled: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        // As Sentry's `attach_stacktrace`: on the logged error, else as the thread's.
        if let Some(stacktrace) = stacktrace {
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
        event.message = message.or_else(|| panic.as_ref().map(|p| p.message.clone()));
        if event.message.is_none() {
            event.message = exception.last().and_then(|e| e.value.clone());
        }
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

        if !fields.is_empty() || suppressed > 0 {
            let mut map = fields_map(&fields);
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
                let key = if spans.contains_key(span.name) {
                    format!("{}#{depth}", span.name)
                } else {
                    span.name.to_owned()
                };
                spans.insert(
                    key,
                    Value::Object(fields_map(&span.fields).into_iter().collect()),
                );
            }
            event
                .contexts
                .insert(SPANS_CONTEXT.to_owned(), Context::Other(spans));
        }
        let mut location = Map::new();
        if let Some(meta) = metadata {
            if let Some(file) = meta.file() {
                location.insert("file".into(), Value::from(file));
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
                location.insert("file".into(), Value::from(file.as_str()));
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
        let mut trace = TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            op: Some(self.op.to_string()),
            status: Some(self.status),
            data: fields_map(&self.fields),
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
