//! A structured log as the calling thread queues it ([`PendingLog`]) and the Sentry log it
//! becomes on the worker: Sentry's log protocol
//! (<https://develop.sentry.dev/sdk/telemetry/logs/>), in `sentry-types`' own [`Log`]
//! type so the envelope is the one the `sentry` crate writes and parses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::SystemTime;

use std::time::UNIX_EPOCH;

use sentry::protocol::{Log, LogAttribute, LogLevel, Map, SpanId, TraceId, Value};
use tracing::{Level, Metadata};

use super::pending::LogSource;
use crate::errors::CapturedError;
use crate::fields::FieldValue;
use crate::identity::Identity;
use crate::scrub::{LogAttributeKey, Scrubber};
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

/// A field value as the JSON value of its attribute, its text moved, not copied.
pub(super) fn attribute_value(value: FieldValue) -> Value {
    match value {
        FieldValue::Str(s) => Value::String(s),
        FieldValue::I64(v) => Value::from(v),
        FieldValue::U64(v) => match i64::try_from(v) {
            Ok(v) => Value::from(v),
            Err(_) => Value::String(v.to_string()),
        },
        FieldValue::F64(v) if v.is_finite() => Value::from(v),
        FieldValue::F64(v) => Value::String(v.to_string()),
        FieldValue::Bool(v) => Value::Bool(v),
    }
}

fn text(value: impl Into<String>) -> LogAttribute {
    LogAttribute(Value::String(value.into()))
}

/// A log's parts other than its attributes.
struct Parts {
    level: Level,
    body: String,
    trace_id: TraceId,
    timestamp: SystemTime,
    source: Source,
}

/// Where a log was logged: its `logger.name`, `code.*` and `sentry.origin` attributes.
enum Source {
    /// A tracing callsite: the same attributes for every log of it.
    Callsite(&'static Metadata<'static>),
    /// A `log` record's own target, module, file and line.
    Log(LogSource),
}

impl Source {
    /// Its attributes, the log's highest precedence.
    fn attributes(self, out: &mut Vec<(&'static str, Value)>) {
        let (target, module, file, line) = match self {
            Source::Log(source) => (source.target, source.module_path, source.file, source.line),
            Source::Callsite(metadata) => (
                metadata.target().to_owned(),
                metadata.module_path().map(str::to_owned),
                metadata.file().map(str::to_owned),
                metadata.line(),
            ),
        };
        out.push(("logger.name", Value::String(target)));
        if let Some(module) = module {
            out.push(("code.module.name", Value::String(module)));
        }
        if let Some(file) = file {
            out.push(("code.file.path", Value::String(file)));
        }
        if let Some(line) = line {
            out.push(("code.line.number", Value::from(line)));
        }
        out.push(("sentry.origin", Value::String(LOG_ORIGIN.to_owned())));
    }
}

impl PendingLog {
    /// Moves the log's attributes, without the client's defaults and its source's, into
    /// `out`, lowest precedence first (of equal names the last wins), and returns the
    /// rest (the source's attributes come last: [`Source::attributes`]): the one list of
    /// what a log carries, for [`into_log`](Self::into_log) and [`LogWriter`].
    fn take_parts(self, process_trace: TraceId, out: &mut Vec<(&'static str, Value)>) -> Parts {
        let level = *self.metadata.level();
        // Nearest span first wins, then the event's own fields, the first of a name first.
        for (name, value) in self.span_tags.into_iter().rev() {
            out.push((name, attribute_value(value)));
        }
        for (name, chain) in self.errors.iter().rev() {
            let text_of_chain = chain
                .iter()
                .map(|e| format!("{}: {}", e.type_name, e.message))
                .collect::<Vec<_>>()
                .join(": ");
            out.push((name, Value::String(text_of_chain)));
        }
        // tracing-log's own fields (`log.target`, `log.file`, ...): their content is the
        // `logger.name` and `code.*` attributes below, as a report's logger and location.
        let from_log = self.log_source.is_some();
        for (name, value) in self.fields.into_iter().rev() {
            if from_log && name.starts_with("log.") {
                continue;
            }
            out.push((name, attribute_value(value)));
        }
        if let Some(tenant) = &self.identity.tenant {
            out.push((TENANT_TAG, Value::String(tenant.to_string())));
        }
        if let Some(user) = &self.identity.user {
            out.push(("user.id", Value::String(user.to_string())));
        }
        let trace_id = match self.trace {
            Some((trace_id, span_id)) => {
                out.push((
                    "sentry.trace.parent_span_id",
                    Value::String(json::span_id_hex(&span_id)),
                ));
                trace_id
            }
            None => process_trace,
        };
        let metadata = self.metadata;
        Parts {
            level,
            body: self.message.unwrap_or_else(|| metadata.name().to_owned()),
            trace_id,
            timestamp: self.timestamp,
            source: match self.log_source {
                Some(source) => Source::Log(source),
                None => Source::Callsite(metadata),
            },
        }
    }

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
        let mut own = Vec::with_capacity(self.span_tags.len() + self.fields.len() + 10);
        let parts = self.take_parts(process_trace, &mut own);
        parts.source.attributes(&mut own);
        // Built in one pass from the lowest precedence up: a sorted bulk build keeps
        // the last of equal keys.
        let attributes: Map<String, LogAttribute> = defaults
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(
                own.into_iter()
                    .map(|(k, v)| (k.to_owned(), LogAttribute(v))),
            )
            .collect();
        Log {
            level: log_level(&parts.level),
            body: parts.body,
            trace_id: Some(parts.trace_id),
            timestamp: parts.timestamp,
            severity_number: severity_number(&parts.level).try_into().ok(),
            attributes,
        }
    }
}

/// Writes logs as the JSON of `sentry-types`' [`Log`] (the same bytes `serde_json`
/// writes for it: fields in its order, attributes sorted by name), scrubbed as the
/// transport scrubs a `log` item, without building a `Log`: attribute names are
/// borrowed, values moved from the pending log, and the client's default attributes
/// (configuration: environment, release, server name, SDK) are scrubbed and written
/// once, at start. With a PiiConfig, whose `$log` selectors need the whole log, the
/// log is built, scrubbed and serialised instead.
#[derive(Debug)]
pub(crate) struct LogWriter {
    /// The default attributes, scrubbed, sorted by name: name and `"name":{..}`.
    defaults: Vec<(String, Vec<u8>)>,
    /// The same, unscrubbed, for the PiiConfig's path (which scrubs the whole log).
    default_map: Map<String, LogAttribute>,
    process_trace: TraceId,
    scrubber: std::sync::Arc<Scrubber>,
    /// Reused between logs: one log's attributes.
    scratch: Vec<(&'static str, Value)>,
    /// The source attributes of each tracing callsite seen (by its metadata's address:
    /// callsites are static and few) with the defaults, scrubbed and written once,
    /// sorted by name.
    callsites: HashMap<usize, Fixed, BuildHasherDefault<AddressHasher>>,
    /// Each attribute name seen (field names and this crate's: `'static` texts, by
    /// address and length): what the scrubber's rules say about it and its JSON, decided
    /// and written once, not for every log. Bounded by [`MAX_NAMES`].
    names: HashMap<(usize, usize), Name, BuildHasherDefault<AddressHasher>>,
}

/// What is kept of an attribute name: the scrubber's decision and `"name":`.
#[derive(Debug)]
struct Name {
    key: LogAttributeKey,
    json: Box<[u8]>,
}

impl Name {
    fn new(scrubber: &Scrubber, name: &str) -> Name {
        let mut json = Vec::with_capacity(name.len() + 3);
        json::string(&mut json, name);
        json.push(b':');
        Name {
            key: scrubber.log_attribute_key(name),
            json: json.into_boxed_slice(),
        }
    }
}

/// Most attribute names kept (a service's field names number in the hundreds; names
/// are `'static`, so only a program with more distinct ones than this reaches it, and
/// then the rest are decided at each log).
const MAX_NAMES: usize = 4096;

/// Hashes addresses (a `'static` name's or metadata's): Fx's multiply, no SipHash.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

/// Attributes scrubbed and written: name and the attribute's JSON, `"name":{..}`,
/// sorted by name.
type Written = Vec<(&'static str, Vec<u8>)>;

/// An attribute every log of a callsite carries, scrubbed and written: the client's
/// default or the source's.
#[derive(Debug)]
struct FixedAttribute {
    name: Box<str>,
    /// `"name":{..}`.
    json: Vec<u8>,
    /// The source's (`logger.name`, `code.*`, `sentry.origin`): wins over a field of
    /// its name, which wins over a default.
    from_source: bool,
}

/// A callsite's fixed attributes, sorted by name.
type Fixed = Vec<FixedAttribute>;

/// The client's `defaults` and a `source`'s attributes (both sorted) merged by name; of
/// one name the source's.
fn fixed_attributes(defaults: &[(String, Vec<u8>)], source: Written) -> Fixed {
    let mut fixed: Fixed = defaults
        .iter()
        .filter(|(name, _)| !source.iter().any(|(source, _)| source == name))
        .map(|(name, json)| FixedAttribute {
            name: name.as_str().into(),
            json: json.clone(),
            from_source: false,
        })
        .collect();
    fixed.extend(source.into_iter().map(|(name, json)| FixedAttribute {
        name: name.into(),
        json,
        from_source: true,
    }));
    fixed.sort_by(|a, b| a.name.cmp(&b.name));
    fixed
}

/// Scrubs, cuts and writes `attributes`, sorted by name (the last of equal names).
fn written(scrubber: &Scrubber, mut attributes: Vec<(&'static str, Value)>) -> Written {
    attributes.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Written = Vec::with_capacity(attributes.len());
    for (name, mut value) in attributes {
        scrubber.scrub_log_attribute(name, &mut value);
        cut_value(&mut value);
        let mut bytes = Vec::new();
        json::string(&mut bytes, name);
        bytes.push(b':');
        json::attribute(&mut bytes, value);
        match out.last_mut() {
            Some(last) if last.0 == name => last.1 = bytes,
            _ => out.push((name, bytes)),
        }
    }
    out
}

/// JSON written by hand where `serde_json`'s generic path costs most of a log: strings
/// (escaped exactly as `serde_json` escapes them), attributes (`LogAttribute`'s shape),
/// and trace and span ids as hex. The proptest
/// `the_written_json_is_the_scrubbed_logs_serialisation` compares the bytes.
mod json {
    use std::hash::{Hash, Hasher};

    use sentry::protocol::{LogAttribute, SpanId, TraceId, Value};

    /// What `serde_json` writes for `value` (for the values not written by hand).
    fn serde_write<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
        // Writing to memory fails only for a type that refuses to serialise: none here.
        let _ = serde_json::to_writer(out, value);
    }

    /// Whether one of the 8 bytes of `word` is a control byte (below 0x20), `"` or `\`:
    /// the bytes JSON escapes (each test is exact: no byte is missed).
    fn escapes_in(word: u64) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word & HIGHS;
        (below(word, 0x20) | below(word ^ (ONES * 0x22), 1) | below(word ^ (ONES * 0x5c), 1)) != 0
    }

    fn escapes(byte: u8) -> bool {
        byte < 0x20 || byte == b'"' || byte == b'\\'
    }

    /// The first byte at or after `from` that JSON escapes, 8 bytes at a time.
    fn next_escape(bytes: &[u8], mut from: usize) -> Option<usize> {
        while let Some(chunk) = bytes.get(from..from + 8) {
            match <[u8; 8]>::try_from(chunk) {
                Ok(word) if !escapes_in(u64::from_le_bytes(word)) => from += 8,
                _ => break,
            }
        }
        bytes
            .get(from..)?
            .iter()
            .position(|&b| escapes(b))
            .map(|at| from + at)
    }

    /// `text` as a JSON string: the runs that need no escape copied whole.
    pub(super) fn string(out: &mut Vec<u8>, text: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = text.as_bytes();
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        let mut start = 0;
        while let Some(at) = next_escape(bytes, start) {
            out.extend_from_slice(&bytes[start..at]);
            let byte = bytes[at];
            match byte {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ]),
            }
            start = at + 1;
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b'"');
    }

    /// `value` as `sentry-types` serialises a `LogAttribute` of it.
    pub(super) fn attribute(out: &mut Vec<u8>, value: Value) {
        match value {
            Value::String(text) => {
                out.extend_from_slice(b"{\"value\":");
                string(out, &text);
                out.extend_from_slice(b",\"type\":\"string\"}");
            }
            Value::Number(number) if number.is_i64() => {
                out.extend_from_slice(b"{\"value\":");
                serde_write(out, &number);
                out.extend_from_slice(b",\"type\":\"integer\"}");
            }
            Value::Bool(value) => {
                out.extend_from_slice(match value {
                    true => b"{\"value\":true,\"type\":\"boolean\"}",
                    false => b"{\"value\":false,\"type\":\"boolean\"}",
                });
            }
            other => serde_write(out, &LogAttribute(other)),
        }
    }

    /// The raw bytes of an id, from what its `Hash` writes (`sentry-types` hashes a
    /// `TraceId` and `SpanId` as their byte arrays and shows no other way to them): the
    /// last write of `N` bytes. `None` if the id hashes otherwise.
    fn raw<const N: usize>(id: &impl Hash) -> Option<[u8; N]> {
        struct Grab<const N: usize>(Option<[u8; N]>);
        impl<const N: usize> Hasher for Grab<N> {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, bytes: &[u8]) {
                if let Ok(raw) = <[u8; N]>::try_from(bytes) {
                    self.0 = Some(raw);
                }
            }
        }
        let mut grab = Grab::<N>(None);
        id.hash(&mut grab);
        grab.0
    }

    /// `raw`'s lowercase hex into `hex` (twice its length).
    fn hex_into(hex: &mut [u8], raw: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (pair, &byte) in hex.chunks_exact_mut(2).zip(raw) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
    }

    /// A trace id as `sentry-types` writes it: its hex in a JSON string.
    pub(super) fn trace_id(out: &mut Vec<u8>, id: &TraceId) {
        match raw::<16>(id) {
            Some(raw) => {
                let mut quoted = [b'"'; 34];
                hex_into(&mut quoted[1..33], &raw);
                out.extend_from_slice(&quoted);
            }
            None => serde_write(out, id),
        }
    }

    /// A span id's hex (its `Display`).
    pub(super) fn span_id_hex(id: &SpanId) -> String {
        match raw::<8>(id) {
            Some(raw) => {
                let mut hex = [0; 16];
                hex_into(&mut hex, &raw);
                String::from_utf8(hex.to_vec()).unwrap_or_else(|_| id.to_string())
            }
            None => id.to_string(),
        }
    }
}

/// Writes `value` as JSON into `out` (a `Vec` takes any write).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing to memory fails only for a type that refuses to serialise: none here.
    let _ = serde_json::to_writer(out, value);
}

impl LogWriter {
    pub(crate) fn new(
        options: &sentry::ClientOptions,
        scrubber: std::sync::Arc<Scrubber>,
        process_trace: TraceId,
    ) -> LogWriter {
        let default_map = default_attributes(options);
        let defaults = default_map
            .iter()
            .map(|(name, value)| {
                let mut value = value.0.clone();
                scrubber.scrub_log_attribute(name, &mut value);
                cut_value(&mut value);
                let mut written = Vec::new();
                json::string(&mut written, name);
                written.push(b':');
                json::attribute(&mut written, value);
                (name.clone(), written)
            })
            .collect();
        LogWriter {
            defaults,
            default_map,
            process_trace,
            scrubber,
            scratch: Vec::new(),
            callsites: HashMap::default(),
            names: HashMap::default(),
        }
    }

    /// Appends `log`'s JSON to `out`.
    pub(crate) fn write(&mut self, log: PendingLog, out: &mut Vec<u8>) {
        if self.scrubber.pii_config().is_some() {
            let mut log = log.into_log(&self.default_map, self.process_trace);
            self.scrubber.scrub_log_item(&mut log);
            cut_text(&mut log.body);
            for value in log.attributes.values_mut() {
                cut_value(&mut value.0);
            }
            write_json(out, &log);
            return;
        }
        let LogWriter {
            defaults,
            scrubber,
            scratch,
            process_trace,
            callsites,
            names,
            ..
        } = self;
        scratch.clear();
        let mut parts = log.take_parts(*process_trace, scratch);
        let from_record: Fixed;
        let fixed: &[FixedAttribute] = match parts.source {
            Source::Callsite(metadata) => callsites
                .entry(metadata as *const Metadata<'static> as usize)
                .or_insert_with(|| {
                    let mut attributes = Vec::new();
                    Source::Callsite(metadata).attributes(&mut attributes);
                    fixed_attributes(defaults, written(scrubber, attributes))
                }),
            Source::Log(ref mut record) => {
                let mut attributes = Vec::new();
                Source::Log(std::mem::take(record)).attributes(&mut attributes);
                from_record = fixed_attributes(defaults, written(scrubber, attributes));
                &from_record
            }
        };
        // Stable: of equal names the later, higher precedence, stays last.
        scratch.sort_by(|a, b| a.0.cmp(b.0));
        scrubber.scrub_log_body(&mut parts.body);
        cut_text(&mut parts.body);
        out.extend_from_slice(b"{\"level\":");
        write_json(out, &log_level(&parts.level));
        out.extend_from_slice(b",\"body\":");
        json::string(out, &parts.body);
        out.extend_from_slice(b",\"trace_id\":");
        json::trace_id(out, &parts.trace_id);
        out.extend_from_slice(b",\"timestamp\":");
        // As `sentry-types` writes a timestamp: whole seconds as an integer.
        match parts.timestamp.duration_since(UNIX_EPOCH) {
            Ok(t) if t.subsec_nanos() == 0 => write_json(out, &t.as_secs()),
            Ok(t) => write_json(out, &t.as_secs_f64()),
            Err(_) => out.push(b'0'),
        }
        if let Ok(number) =
            sentry::protocol::LogSeverityNumber::try_from(severity_number(&parts.level))
        {
            out.extend_from_slice(b",\"severity_number\":");
            write_json(out, &number);
        }
        out.extend_from_slice(b",\"attributes\":{");
        let mut first = true;
        let mut separator = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        let mut own = scratch.drain(..).peekable();
        let mut fixed = fixed.iter().peekable();
        loop {
            let own_name = own.peek().map(|(name, _)| *name);
            let fixed_name = fixed.peek().copied().map(|fixed| &*fixed.name);
            let name = match (own_name, fixed_name) {
                (Some(own), Some(fixed)) => own.min(fixed),
                (Some(name), None) | (None, Some(name)) => name,
                (None, None) => break,
            };
            // Of one name the source's wins, then the log's own (the last of its name),
            // then the client's default.
            let mut own_value = None;
            while let Some((own_name, value)) = own.next_if(|(own_name, _)| *own_name == name) {
                own_value = Some((own_name, value));
            }
            let fixed_value = fixed.next_if(|fixed| &*fixed.name == name);
            separator(out);
            match (fixed_value, own_value) {
                (Some(fixed), _) if fixed.from_source => out.extend_from_slice(&fixed.json),
                (_, Some((name, mut value))) => {
                    let address = (name.as_ptr() as usize, name.len());
                    let fresh;
                    let kept: &Name = if names.len() < MAX_NAMES {
                        names
                            .entry(address)
                            .or_insert_with(|| Name::new(scrubber, name))
                    } else if let Some(kept) = names.get(&address) {
                        kept
                    } else {
                        fresh = Name::new(scrubber, name);
                        &fresh
                    };
                    scrubber.scrub_log_attribute_under(kept.key, &mut value);
                    cut_value(&mut value);
                    out.extend_from_slice(&kept.json);
                    json::attribute(out, value);
                }
                (Some(fixed), None) => out.extend_from_slice(&fixed.json),
                (None, None) => {}
            }
        }
        out.extend_from_slice(b"}}");
    }
}

/// Cuts a text to [`MAX_LOG_TEXT_BYTES`] on a character boundary (after scrubbing: a
/// cut never splits a secret the scrubber must see whole).
fn cut_text(text: &mut String) {
    if text.len() > MAX_LOG_TEXT_BYTES {
        let mut end = MAX_LOG_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

fn cut_value(value: &mut Value) {
    if let Value::String(text) = value {
        cut_text(text);
    }
}

/// A single log's largest body and attribute text, in bytes, cut on a character
/// boundary (the capture bound already keeps field values far shorter): one log never
/// fills a batch alone.
pub(crate) const MAX_LOG_TEXT_BYTES: usize = 64 * 1024;

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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use proptest::prelude::*;
    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::scrub::ScrubRules;

    /// The metadata of a real INFO callsite (a `PendingLog` borrows it for good).
    fn info_metadata() -> &'static Metadata<'static> {
        type Grabbed = Arc<Mutex<Option<&'static Metadata<'static>>>>;
        struct Grab(Grabbed);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Grab {
            fn on_event(
                &self,
                event: &tracing::Event<'_>,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                *self.0.lock().expect("unpoisoned") = Some(event.metadata());
            }
        }
        let grabbed = Grabbed::default();
        let subscriber = tracing_subscriber::registry().with(Grab(grabbed.clone()));
        tracing::subscriber::with_default(subscriber, || tracing::info!(order = 1, "loading"));
        let metadata = grabbed.lock().expect("unpoisoned").take();
        metadata.expect("the event was seen")
    }

    /// Names that collide with each other, with the generated attributes and with the
    /// defaults, and texts the scrubber acts on.
    const NAMES: &[&str] = &[
        "order_id",
        "status",
        "password",
        "tags.region",
        "tenant_id",
        "logger.name",
        "sentry.release",
        "server.address",
        "log.target",
        "a",
        "zz",
    ];

    fn field_value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            prop_oneof![
                Just("retrying".to_owned()),
                Just("card 4111 1111 1111 1111".to_owned()),
                Just("mail bob@example.com now".to_owned()),
                Just("token=ghp_abcdefghijklmnopqrstuvwxyz0123456789".to_owned()),
                ".{0,40}",
                // What JSON escapes, in and across the writer's 8-byte steps.
                "[\\x00-\\x1f\"\\\\a-z\\x7f-\\u{a0}]{0,24}",
            ]
            .prop_map(FieldValue::Str),
            any::<i64>().prop_map(FieldValue::I64),
            any::<u64>().prop_map(FieldValue::U64),
            prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY)]
                .prop_map(FieldValue::F64),
            any::<bool>().prop_map(FieldValue::Bool),
        ]
    }

    fn fields() -> impl Strategy<Value = Vec<(&'static str, FieldValue)>> {
        proptest::collection::vec((proptest::sample::select(NAMES), field_value()), 0..8)
    }

    #[derive(Debug, Clone)]
    struct Input {
        message: Option<String>,
        fields: Vec<(&'static str, FieldValue)>,
        span_tags: Vec<(&'static str, FieldValue)>,
        error: Option<(String, String)>,
        tenant: Option<String>,
        user: Option<String>,
        trace: Option<(u128, u64)>,
        from_log: bool,
        nanos: u32,
    }

    fn input() -> impl Strategy<Value = Input> {
        (
            proptest::option::of(".{0,30}"),
            fields(),
            fields(),
            proptest::option::of(("[A-Za-z]{1,8}", ".{0,20}")),
            proptest::option::of("[a-z0-9@.]{1,12}"),
            proptest::option::of("[a-z0-9@.]{1,12}"),
            proptest::option::of((1u128.., 1u64..)),
            any::<bool>(),
            prop_oneof![Just(0u32), 0u32..1_000_000_000],
        )
            .prop_map(
                |(message, fields, span_tags, error, tenant, user, trace, from_log, nanos)| Input {
                    message,
                    fields,
                    span_tags,
                    error,
                    tenant,
                    user,
                    trace,
                    from_log,
                    nanos,
                },
            )
    }

    fn pending(input: &Input, metadata: &'static Metadata<'static>) -> PendingLog {
        PendingLog {
            timestamp: UNIX_EPOCH + Duration::new(1_780_000_000, input.nanos),
            metadata,
            log_source: input.from_log.then(|| LogSource {
                target: "legacy::db".into(),
                module_path: Some("legacy::db".into()),
                file: None,
                line: Some(12),
            }),
            message: input.message.clone(),
            fields: input.fields.clone(),
            errors: input
                .error
                .iter()
                .map(|(type_name, message)| {
                    (
                        "error",
                        vec![CapturedError {
                            type_name: type_name.clone(),
                            message: message.clone(),
                        }],
                    )
                })
                .collect(),
            identity: Identity {
                tenant: input.tenant.as_deref().map(Arc::from),
                user: input.user.as_deref().map(Arc::from),
            },
            trace: input.trace.map(|(trace, span)| {
                (
                    TraceId::from(trace.to_be_bytes()),
                    SpanId::from(span.to_be_bytes()),
                )
            }),
            span_tags: input.span_tags.clone(),
        }
    }

    fn options() -> sentry::ClientOptions {
        let mut options = sentry::ClientOptions::default();
        options.release = Some("app@1.0 by ops@example.com".into());
        options.environment = Some("prod".into());
        options.server_name = Some("host-1".into());
        options
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The writer's bytes are `serde_json`'s of the `sentry-types` `Log` that
        /// `into_log` builds, scrubbed as the transport scrubbed it.
        #[test]
        fn the_written_json_is_the_scrubbed_logs_serialisation(input in input()) {
            let metadata = info_metadata();
            let scrubber = Arc::new(Scrubber::new(&ScrubRules::default()).expect("rules"));
            let process_trace = TraceId::from([7; 16]);
            let mut writer = LogWriter::new(&options(), scrubber.clone(), process_trace);
            let mut expected = pending(&input, metadata)
                .into_log(&default_attributes(&options()), process_trace);
            scrubber.scrub_log_item(&mut expected);
            let expected = serde_json::to_vec(&expected).expect("serialises");
            let mut written = Vec::new();
            writer.write(pending(&input, metadata), &mut written);
            prop_assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected)
            );
            // And it parses back as a `Log`.
            let parsed: Log = serde_json::from_slice(&written).expect("a Log");
            prop_assert!(parsed.attributes.contains_key("sentry.sdk.name"));
        }
    }

    proptest! {
        /// Strings as `serde_json` escapes them, ids as `sentry-types` writes them.
        #[test]
        fn hand_written_json_is_serde_jsons(
            text in "[\\x00-\\x1f\"\\\\a-z\\x7f-\\u{a0}]{0,40}|.{0,40}",
            trace in any::<[u8; 16]>(),
            span in any::<[u8; 8]>(),
        ) {
            let mut written = Vec::new();
            json::string(&mut written, &text);
            prop_assert_eq!(written, serde_json::to_vec(&text).expect("serialises"));
            let mut written = Vec::new();
            json::trace_id(&mut written, &TraceId::from(trace));
            prop_assert_eq!(written, serde_json::to_vec(&TraceId::from(trace)).expect("ok"));
            prop_assert_eq!(json::span_id_hex(&SpanId::from(span)), SpanId::from(span).to_string());
        }
    }

    #[test]
    fn defaults_are_scrubbed_once_and_written_with_the_logs() {
        let metadata = info_metadata();
        let scrubber = Arc::new(Scrubber::new(&ScrubRules::default()).expect("rules"));
        let mut writer = LogWriter::new(&options(), scrubber, TraceId::from([7; 16]));
        let input = Input {
            message: Some("paid".into()),
            fields: vec![("password", FieldValue::Str("hunter2".into()))],
            span_tags: Vec::new(),
            error: None,
            tenant: Some("acme".into()),
            user: None,
            trace: None,
            from_log: false,
            nanos: 0,
        };
        let mut written = Vec::new();
        writer.write(pending(&input, metadata), &mut written);
        let log: Log = serde_json::from_slice(&written).expect("a Log");
        let text = |name: &str| log.attributes[name].0.as_str().map(str::to_owned);
        assert_eq!(text("sentry.environment").as_deref(), Some("prod"));
        let release = text("sentry.release").expect("release");
        assert!(!release.contains("ops@example.com"), "{release}");
        assert_ne!(text("password").as_deref(), Some("hunter2"));
        assert_eq!(text(TENANT_TAG).as_deref(), Some("acme"));
        assert_eq!(log.trace_id, Some(TraceId::from([7; 16])));
    }
}
