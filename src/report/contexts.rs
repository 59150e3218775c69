//! The contexts a report carries: the event's own fields, its spans' fields, its source
//! location and its trace. Keys Sentry reserves are renamed the scrubber's one way
//! (`scrub::context_key`), in every one of them.

use sentry::protocol::{Context, Map, SpanId, TraceContext, TraceId, Value};
use tracing::Metadata;

use super::pending::{LogSource, PanicDetails};
use super::tags::is_tag_field;
use crate::fields::FieldValue;
use crate::request::SpanSnapshot;
use crate::scrub::short_source_path;
use crate::wire::{FIELDS_CONTEXT, LOCATION_CONTEXT, SPANS_CONTEXT};

/// A field's key in a context map.
fn context_key(name: &str) -> String {
    crate::scrub::context_key(name).into_owned()
}

/// A context's map of fields (tag fields are tags, not context): a context's own map,
/// or a JSON object for a span's entry, built directly (not rebuilt from the other).
fn context_map<M: FromIterator<(String, Value)>>(fields: &[(&'static str, FieldValue)]) -> M {
    fields
        .iter()
        .filter(|(name, _)| !is_tag_field(name))
        .map(|(name, value)| (context_key(name), value.to_json()))
        .collect()
}

/// The `fields` context: the event's own fields, and how many reports of its flood
/// key were held back before it (`suppressed_before`); none when both are empty.
pub(super) fn insert_fields(
    contexts: &mut Map<String, Context>,
    fields: &[(&'static str, FieldValue)],
    suppressed: u64,
) {
    if fields.iter().all(|(name, _)| is_tag_field(name)) && suppressed == 0 {
        return;
    }
    let mut map: Map<String, Value> = context_map(fields);
    if suppressed > 0 {
        map.insert("suppressed_before".to_owned(), Value::from(suppressed));
    }
    contexts.insert(FIELDS_CONTEXT.to_owned(), Context::Other(map));
}

/// The `spans` context: each span's fields under its name, nearest first (a name seen
/// before gets `#depth`).
pub(super) fn insert_spans(contexts: &mut Map<String, Context>, spans: &[SpanSnapshot]) {
    if spans.is_empty() {
        return;
    }
    let mut map = Map::new();
    for (depth, span) in spans.iter().enumerate() {
        let name = context_key(span.name);
        let key = if map.contains_key(&name) {
            format!("{name}#{depth}")
        } else {
            name
        };
        map.insert(key, Value::Object(context_map(&span.fields)));
    }
    contexts.insert(SPANS_CONTEXT.to_owned(), Context::Other(map));
}

/// An event's `location`: the `log` record's own file, line and module, else the
/// callsite's; source paths without the machine-specific part.
pub(super) fn insert_event_location(
    contexts: &mut Map<String, Context>,
    metadata: &'static Metadata<'static>,
    log_source: Option<&LogSource>,
) {
    let (file, line, module) = match log_source {
        Some(source) => (
            source.file.as_deref(),
            source.line,
            source.module_path.as_deref(),
        ),
        None => (metadata.file(), metadata.line(), metadata.module_path()),
    };
    let mut location = Map::new();
    if let Some(file) = file {
        location.insert("file".into(), Value::from(short_source_path(file)));
    }
    if let Some(line) = line {
        location.insert("line".into(), Value::from(line));
    }
    if let Some(module) = module {
        location.insert("module_path".into(), Value::from(module));
    }
    insert_location(contexts, location);
}

/// A panic's `location`: where it was raised, and the panicking thread's name.
pub(super) fn insert_panic_location(contexts: &mut Map<String, Context>, panic: &PanicDetails) {
    let mut location = Map::new();
    if let Some((file, line)) = &panic.location {
        location.insert("file".into(), Value::from(short_source_path(file)));
        location.insert("line".into(), Value::from(*line));
    }
    if let Some(thread) = &panic.thread {
        location.insert("thread".into(), Value::from(thread.as_str()));
    }
    insert_location(contexts, location);
}

fn insert_location(contexts: &mut Map<String, Context>, location: Map<String, Value>) {
    if !location.is_empty() {
        contexts.insert(LOCATION_CONTEXT.to_owned(), Context::Other(location));
    }
}

/// The `trace` context of a report: the request's trace, the span it happened in and,
/// as `op`, the transaction name.
pub(super) fn insert_trace(
    contexts: &mut Map<String, Context>,
    trace_id: TraceId,
    span_id: SpanId,
    op: Option<&str>,
) {
    let trace = TraceContext {
        trace_id,
        span_id,
        op: op.map(str::to_owned),
        ..Default::default()
    };
    contexts.insert("trace".to_owned(), Context::Trace(Box::new(trace)));
}
