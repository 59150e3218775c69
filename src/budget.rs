//! Sentry's size limits (and its tag rules, `report::normalize_tags`), applied to every
//! envelope after scrubbing: an event or
//! transaction over Relay's `max_event_size` is refused whole (`413`), so a report is
//! trimmed to fit instead, in a fixed order that keeps what matters most, and says in
//! its `trimmed` context ([`TRIMMED_CONTEXT`]) what was cut.
//!
//! Limits are Relay's documented defaults (<https://docs.sentry.io/product/relay/options/>,
//! "Size Limits"): `limits.max_event_size` 1 MiB (events and transactions),
//! `limits.max_attachment_size` and `limits.max_envelope_size` 50 MiB (the lower of the
//! values Relay has documented), and the 1,000 spans per transaction Sentry's SDKs keep.
//!
//! Order for an error event, each step only while the event is still over its budget:
//! 1. values over 1 KiB in the fields, spans and other contexts, `extra` and breadcrumb
//!    data and messages are cut to 1 KiB (the largest values first);
//! 2. the oldest breadcrumbs are dropped (the newest kept);
//! 3. context and `extra` values are cut further (256, then 64 bytes), then dropped;
//! 4. last, stack traces keep their innermost frames and every remaining text is cut:
//!    the exception chain (types and values) and the message are never dropped.
//!
//! A transaction keeps at most [`MAX_SPANS`] spans; then span and context data values
//! are cut (1 KiB, 256, 64 bytes), then the last spans dropped, then every text cut.

use std::io;

use sentry::protocol::{
    Breadcrumb, Context, Event, Exception, Map, Stacktrace, Transaction, Value,
};
use sentry::Envelope;
use serde::Serialize;

use crate::report::normalize_tags;
use crate::wire::TRIMMED_CONTEXT;

/// Relay's `limits.max_event_size`: the largest event or transaction item it accepts.
pub(crate) const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Relay's `limits.max_attachment_size`.
pub(crate) const MAX_ATTACHMENT_BYTES: usize = 50 * 1024 * 1024;
/// Relay's `limits.max_envelope_size`.
pub(crate) const MAX_ENVELOPE_BYTES: usize = 50 * 1024 * 1024;
/// Spans a transaction keeps (Sentry SDKs' `max_spans`).
pub(crate) const MAX_SPANS: usize = 1000;

/// What the trimmed item may use: the limit less room for the `trimmed` context and
/// for the envelope's item header.
const BUDGET: usize = MAX_EVENT_BYTES - 4 * 1024;
/// The caps values are cut to, step by step.
const VALUE_CAPS: [usize; 3] = [1024, 256, 64];
/// The cap of every text in the last step.
const LAST_CAP: usize = 512;
/// Stack frames kept per stack trace in the last step (the innermost).
const KEPT_FRAMES: usize = 64;
/// Exceptions kept in the last step (the logged error and its nearest causes).
const KEPT_EXCEPTIONS: usize = 32;

/// What trimming cut from one report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Trimmed {
    /// The item's size before trimming, in bytes of JSON.
    pub(crate) original_bytes: usize,
    pub(crate) values_cut: usize,
    pub(crate) breadcrumbs_dropped: usize,
    pub(crate) spans_dropped: usize,
    pub(crate) frames_dropped: usize,
    pub(crate) attachments_dropped: usize,
}

impl Trimmed {
    fn context(&self) -> Context {
        let mut map = Map::new();
        map.insert("original_bytes".into(), Value::from(self.original_bytes));
        map.insert("limit_bytes".into(), Value::from(MAX_EVENT_BYTES));
        for (name, n) in [
            ("values_cut", self.values_cut),
            ("breadcrumbs_dropped", self.breadcrumbs_dropped),
            ("spans_dropped", self.spans_dropped),
            ("frames_dropped", self.frames_dropped),
            ("attachments_dropped", self.attachments_dropped),
        ] {
            if n > 0 {
                map.insert(name.into(), Value::from(n));
            }
        }
        Context::Other(map)
    }
}

/// Bytes of `value` as JSON, counted without building the text.
pub(crate) fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serialising protocol types into a counter does not fail; if it did, the size
    // counts as over any limit, so the report is trimmed rather than refused.
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// An upper bound of [`json_len`], found without writing the JSON: every text counted as
/// if each of its bytes were escaped (`\u00XX`, 6 bytes) and every number at its widest.
/// Most reports are far under their limit, and this proves it at a fraction of the cost
/// of formatting them. `usize::MAX` when serialising fails, as `json_len`.
pub(crate) fn json_len_bound<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut bound = bound::Bound(0);
    match value.serialize(&mut bound) {
        Ok(()) => bound.0,
        Err(_) => usize::MAX,
    }
}

/// A `serde::Serializer` that adds up an upper bound of serde_json's compact output.
mod bound {
    use serde::ser::{self, Serialize};

    pub(super) struct Bound(pub(super) usize);

    #[derive(Debug)]
    pub(super) struct Failed;

    impl std::fmt::Display for Failed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("not serialisable")
        }
    }
    impl std::error::Error for Failed {}
    impl ser::Error for Failed {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Failed
        }
    }

    /// The widest number serde_json writes: an `i128` (40 characters; an `f64` takes at
    /// most 24, a non-finite one `null`).
    const NUMBER: usize = 40;

    /// A text of `len` bytes, quoted, every byte escaped.
    fn text(len: usize) -> usize {
        len.saturating_mul(6).saturating_add(2)
    }

    impl Bound {
        fn add(&mut self, n: usize) -> Result<(), Failed> {
            self.0 = self.0.saturating_add(n);
            Ok(())
        }
    }

    type Done = Result<(), Failed>;

    impl ser::Serializer for &mut Bound {
        type Ok = ();
        type Error = Failed;
        type SerializeSeq = Self;
        type SerializeTuple = Self;
        type SerializeTupleStruct = Self;
        type SerializeTupleVariant = Self;
        type SerializeMap = Self;
        type SerializeStruct = Self;
        type SerializeStructVariant = Self;

        fn serialize_bool(self, _: bool) -> Done {
            self.add(5)
        }
        fn serialize_i8(self, _: i8) -> Done {
            self.add(NUMBER)
        }
        fn serialize_i16(self, _: i16) -> Done {
            self.add(NUMBER)
        }
        fn serialize_i32(self, _: i32) -> Done {
            self.add(NUMBER)
        }
        fn serialize_i64(self, _: i64) -> Done {
            self.add(NUMBER)
        }
        fn serialize_i128(self, _: i128) -> Done {
            self.add(NUMBER)
        }
        fn serialize_u8(self, _: u8) -> Done {
            self.add(NUMBER)
        }
        fn serialize_u16(self, _: u16) -> Done {
            self.add(NUMBER)
        }
        fn serialize_u32(self, _: u32) -> Done {
            self.add(NUMBER)
        }
        fn serialize_u64(self, _: u64) -> Done {
            self.add(NUMBER)
        }
        fn serialize_u128(self, _: u128) -> Done {
            self.add(NUMBER)
        }
        fn serialize_f32(self, _: f32) -> Done {
            self.add(NUMBER)
        }
        fn serialize_f64(self, _: f64) -> Done {
            self.add(NUMBER)
        }
        fn serialize_char(self, _: char) -> Done {
            self.add(text(4))
        }
        fn serialize_str(self, v: &str) -> Done {
            self.add(text(v.len()))
        }
        fn serialize_bytes(self, v: &[u8]) -> Done {
            // An array of numbers: `255,` each.
            self.add(v.len().saturating_mul(4).saturating_add(2))
        }
        fn serialize_none(self) -> Done {
            self.add(4)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Done {
            self.add(4)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Done {
            self.add(4)
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Done {
            self.add(text(variant.len()))
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Done {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            value: &T,
        ) -> Done {
            // `{"variant":value}`
            self.add(text(variant.len()).saturating_add(3))?;
            value.serialize(self)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self, Failed> {
            self.add(2)?;
            Ok(self)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self, Failed> {
            self.add(2)?;
            Ok(self)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Failed> {
            self.add(2)?;
            Ok(self)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            _: usize,
        ) -> Result<Self, Failed> {
            // `{"variant":[...]}`
            self.add(text(variant.len()).saturating_add(5))?;
            Ok(self)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self, Failed> {
            self.add(2)?;
            Ok(self)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Failed> {
            self.add(2)?;
            Ok(self)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            _: usize,
        ) -> Result<Self, Failed> {
            // `{"variant":{...}}`
            self.add(text(variant.len()).saturating_add(5))?;
            Ok(self)
        }
    }

    /// An element after a comma.
    fn element<T: Serialize + ?Sized>(bound: &mut Bound, value: &T) -> Done {
        bound.add(1)?;
        value.serialize(bound)
    }

    /// `"key":value` after a comma.
    fn field<T: Serialize + ?Sized>(bound: &mut Bound, key: &'static str, value: &T) -> Done {
        bound.add(text(key.len()).saturating_add(2))?;
        value.serialize(bound)
    }

    impl ser::SerializeSeq for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            element(self, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeTuple for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            element(self, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeTupleStruct for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            element(self, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeTupleVariant for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            element(self, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeMap for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
            // A comma and a colon, and quotes around a key that is not text.
            self.add(4)?;
            key.serialize(&mut **self)
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            value.serialize(&mut **self)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeStruct for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
            field(self, key, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
    impl ser::SerializeStructVariant for &mut Bound {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Done {
            field(self, key, value)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
}

/// Cuts `text` to at most `cap` bytes (at a character boundary, ending in `…`).
fn cut_text(text: &mut String, cap: usize) -> bool {
    if text.len() <= cap {
        return false;
    }
    let mut end = cap.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    true
}

/// Cuts every string in `value` to `cap` bytes; how many were cut.
fn cut_value(value: &mut Value, cap: usize) -> usize {
    match value {
        Value::String(text) => usize::from(cut_text(text, cap)),
        Value::Array(items) => items.iter_mut().map(|v| cut_value(v, cap)).sum(),
        Value::Object(map) => map.values_mut().map(|v| cut_value(v, cap)).sum(),
        _ => 0,
    }
}

fn cut_map(map: &mut Map<String, Value>, cap: usize) -> usize {
    map.values_mut().map(|v| cut_value(v, cap)).sum()
}

/// Cuts the values of the free-form contexts (fields, spans, ...) and of the trace
/// context's data; Sentry's typed contexts are small and kept.
fn cut_contexts(contexts: &mut Map<String, Context>, cap: usize) -> usize {
    contexts
        .iter_mut()
        .map(|(_, context)| match context {
            Context::Other(map) => cut_map(map, cap),
            Context::Trace(trace) => cut_map(&mut trace.data, cap),
            _ => 0,
        })
        .sum()
}

/// Empties the free-form contexts (the keys stay, with `null`); how many values went.
fn drop_context_values(contexts: &mut Map<String, Context>) -> usize {
    let mut dropped = 0;
    for (_, context) in contexts.iter_mut() {
        if let Context::Other(map) = context {
            for value in map.values_mut() {
                if !value.is_null() {
                    *value = Value::Null;
                    dropped += 1;
                }
            }
        }
    }
    dropped
}

fn cut_breadcrumb(crumb: &mut Breadcrumb, cap: usize) -> usize {
    let message = crumb.message.as_mut().is_some_and(|m| cut_text(m, cap));
    usize::from(message) + cut_map(&mut crumb.data, cap)
}

/// Keeps the innermost `KEPT_FRAMES` frames (Sentry lists the innermost last).
fn cut_frames(stacktrace: &mut Stacktrace) -> usize {
    let excess = stacktrace.frames.len().saturating_sub(KEPT_FRAMES);
    stacktrace.frames.drain(..excess);
    excess
}

fn cut_exception(exception: &mut Exception, cap: usize) -> (usize, usize) {
    let mut cut = usize::from(cut_text(&mut exception.ty, cap));
    cut += usize::from(exception.value.as_mut().is_some_and(|v| cut_text(v, cap)));
    let mut frames = 0;
    if let Some(stacktrace) = exception.stacktrace.as_mut() {
        frames += cut_frames(stacktrace);
        for frame in &mut stacktrace.frames {
            cut += cut_map(&mut frame.vars, 64);
            frame.pre_context.clear();
            frame.post_context.clear();
        }
    }
    (cut, frames)
}

/// Fits an error event to [`MAX_EVENT_BYTES`]; `None` when it already fits.
pub(crate) fn fit_event(event: &mut Event<'static>) -> Option<Trimmed> {
    if json_len_bound(&*event) <= MAX_EVENT_BYTES {
        return None;
    }
    let size = json_len(&*event);
    if size <= MAX_EVENT_BYTES {
        return None;
    }
    let mut trimmed = Trimmed {
        original_bytes: size,
        ..Trimmed::default()
    };
    let fits = |event: &Event<'static>| json_len(event) <= BUDGET;

    // 1. The largest values, wherever they are but the exception and the message.
    trimmed.values_cut += cut_contexts(&mut event.contexts, VALUE_CAPS[0])
        + cut_map(&mut event.extra, VALUE_CAPS[0])
        + event
            .breadcrumbs
            .values
            .iter_mut()
            .map(|crumb| cut_breadcrumb(crumb, VALUE_CAPS[0]))
            .sum::<usize>();
    // 2. The oldest breadcrumbs (listed first): their sizes are counted once.
    let mut over = json_len(&*event).saturating_sub(BUDGET);
    if over > 0 {
        let crumbs = &mut event.breadcrumbs.values;
        let mut dropped = 0;
        while over > 0 && dropped < crumbs.len() {
            // The crumb and its comma.
            over = over.saturating_sub(json_len(&crumbs[dropped]) + 1);
            dropped += 1;
        }
        crumbs.drain(..dropped);
        trimmed.breadcrumbs_dropped = dropped;
    }
    // 3. Fields, span data and `extra`, cut further, then dropped.
    for cap in &VALUE_CAPS[1..] {
        if fits(event) {
            break;
        }
        trimmed.values_cut +=
            cut_contexts(&mut event.contexts, *cap) + cut_map(&mut event.extra, *cap);
    }
    if !fits(event) {
        trimmed.values_cut += drop_context_values(&mut event.contexts) + event.extra.len();
        event.extra.clear();
    }
    // 4. What is left is the exception chain, the message, tags and stack traces.
    if !fits(event) {
        let excess = event.exception.values.len().saturating_sub(KEPT_EXCEPTIONS);
        // The root causes are listed first and the logged error last: keep the latter.
        event.exception.values.drain(..excess);
        trimmed.values_cut += excess;
        for exception in &mut event.exception.values {
            let (cut, frames) = cut_exception(exception, LAST_CAP * 8);
            trimmed.values_cut += cut;
            trimmed.frames_dropped += frames;
        }
        for thread in &mut event.threads.values {
            if let Some(stacktrace) = thread.stacktrace.as_mut() {
                trimmed.frames_dropped += cut_frames(stacktrace);
            }
        }
        if let Some(message) = event.message.as_mut() {
            trimmed.values_cut += usize::from(cut_text(message, LAST_CAP * 8));
        }
    }
    if !fits(event) {
        // Anything else that is large: tags, the request, the user, crumbs, frames.
        trimmed.values_cut += cut_everything(event);
    }
    if !fits(event) {
        // Only many tiny parts remain (tags, frames): the report keeps its exception.
        trimmed.breadcrumbs_dropped += event.breadcrumbs.values.len();
        event.breadcrumbs.values.clear();
        for exception in &mut event.exception.values {
            if let Some(stacktrace) = exception.stacktrace.as_mut() {
                trimmed.frames_dropped += stacktrace.frames.len();
                stacktrace.frames.clear();
            }
        }
        event.threads.values.clear();
        trimmed.values_cut += event.tags.len() + event.contexts.len();
        event.tags.clear();
        event
            .contexts
            .retain(|_, context| matches!(context, Context::Trace(_)));
        event.request = None;
        event.user = None;
    }
    event
        .contexts
        .insert(TRIMMED_CONTEXT.to_owned(), trimmed.context());
    Some(trimmed)
}

/// Cuts every text of an event (round-tripped through JSON: every field of Sentry's
/// protocol is reached, whatever set it) to [`LAST_CAP`] bytes.
fn cut_everything(event: &mut Event<'static>) -> usize {
    let Ok(mut json) = serde_json::to_value(&*event) else {
        return 0;
    };
    // The exception chain and the message keep their longer cut of step 4.
    let exception = json
        .as_object_mut()
        .and_then(|o| o.remove("exception"))
        .unwrap_or(Value::Null);
    let message = json
        .as_object_mut()
        .and_then(|o| o.remove("message"))
        .unwrap_or(Value::Null);
    let cut = cut_value(&mut json, LAST_CAP);
    if let Some(object) = json.as_object_mut() {
        object.insert("exception".into(), exception);
        object.insert("message".into(), message);
    }
    match serde_json::from_value::<Event<'static>>(json) {
        Ok(cut_event) => {
            *event = cut_event;
            cut
        }
        Err(_) => 0,
    }
}

/// Fits a transaction to [`MAX_SPANS`] spans and [`MAX_EVENT_BYTES`]; `None` when it
/// already does. Dropped spans are added to the trace context's `dropped_spans`.
pub(crate) fn fit_transaction(tx: &mut Transaction<'static>) -> Option<Trimmed> {
    let mut trimmed = Trimmed::default();
    if tx.spans.len() > MAX_SPANS {
        trimmed.spans_dropped = tx.spans.len() - MAX_SPANS;
        tx.spans.truncate(MAX_SPANS);
    }
    if trimmed.spans_dropped == 0 && json_len_bound(&*tx) <= MAX_EVENT_BYTES {
        return None;
    }
    let size = json_len(&*tx);
    if size <= MAX_EVENT_BYTES && trimmed.spans_dropped == 0 {
        return None;
    }
    trimmed.original_bytes = size;
    let fits = |tx: &Transaction<'static>| json_len(tx) <= BUDGET;
    for cap in VALUE_CAPS {
        if fits(tx) {
            break;
        }
        trimmed.values_cut += cut_contexts(&mut tx.contexts, cap)
            + cut_map(&mut tx.extra, cap)
            + tx.spans
                .iter_mut()
                .map(|span| {
                    cut_map(&mut span.data, cap)
                        + usize::from(span.description.as_mut().is_some_and(|d| cut_text(d, cap)))
                })
                .sum::<usize>();
    }
    // The last spans go first: the request's early work explains the rest.
    let mut over = json_len(&*tx).saturating_sub(BUDGET);
    while over > 0 {
        let Some(span) = tx.spans.pop() else { break };
        over = over.saturating_sub(json_len(&span) + 1);
        trimmed.spans_dropped += 1;
    }
    if !fits(tx) {
        trimmed.values_cut += drop_context_values(&mut tx.contexts) + tx.extra.len();
        tx.extra.clear();
        trimmed.values_cut += tx.tags.len();
        tx.tags.clear();
        tx.request = None;
    }
    if trimmed.spans_dropped > 0 {
        if let Some(Context::Trace(trace)) = tx.contexts.get_mut("trace") {
            let before = trace
                .data
                .get("dropped_spans")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            trace.data.insert(
                "dropped_spans".into(),
                Value::from(before + trimmed.spans_dropped as u64),
            );
        }
    }
    tx.contexts
        .insert(TRIMMED_CONTEXT.to_owned(), trimmed.context());
    Some(trimmed)
}

/// Fits every event and transaction of `envelope` to what Sentry keeps (its tags
/// normalised, `report::normalize_tags`) and to Relay's limits, and its
/// attachments to theirs (one over [`MAX_ATTACHMENT_BYTES`] is dropped, then the
/// largest while the envelope is over [`MAX_ENVELOPE_BYTES`]). Returns the envelope and
/// how many reports were trimmed; what was cut is said in each report's `trimmed`
/// context.
pub(crate) fn fit_envelope(envelope: Envelope) -> (Envelope, u64) {
    use sentry::protocol::EnvelopeItem;
    let headers = envelope.headers().clone();
    let mut items: Vec<EnvelopeItem> = envelope.into_items().collect();
    let mut trimmed_reports = 0;
    let mut attachments_dropped = 0;
    for item in &mut items {
        let trimmed = match item {
            EnvelopeItem::Event(event) => {
                normalize_tags(&mut event.tags, &mut event.contexts);
                fit_event(event)
            }
            EnvelopeItem::Transaction(tx) => {
                normalize_tags(&mut tx.tags, &mut tx.contexts);
                fit_transaction(tx)
            }
            _ => None,
        };
        trimmed_reports += u64::from(trimmed.is_some());
    }
    let attachment_len = |item: &EnvelopeItem| match item {
        EnvelopeItem::Attachment(a) => a.buffer.len(),
        _ => 0,
    };
    items.retain(|item| {
        let keep = attachment_len(item) <= MAX_ATTACHMENT_BYTES;
        attachments_dropped += usize::from(!keep);
        keep
    });
    // An event or transaction left untrimmed is at most `MAX_EVENT_BYTES`: with no large
    // attachments that bound settles it, and the reports are not serialised again.
    let bound: usize = items
        .iter()
        .map(|item| match item {
            EnvelopeItem::Attachment(a) => a.buffer.len(),
            EnvelopeItem::Event(_) | EnvelopeItem::Transaction(_) => MAX_EVENT_BYTES,
            _ => 0,
        })
        .fold(0, usize::saturating_add);
    let mut total: usize = if bound <= MAX_ENVELOPE_BYTES && trimmed_reports == 0 {
        bound
    } else {
        items
            .iter()
            .map(|item| match item {
                EnvelopeItem::Attachment(a) => a.buffer.len(),
                EnvelopeItem::Event(e) => json_len(&**e),
                EnvelopeItem::Transaction(t) => json_len(&**t),
                _ => 0,
            })
            .sum()
    };
    while total > MAX_ENVELOPE_BYTES {
        let Some((largest, len)) = items
            .iter()
            .enumerate()
            .map(|(i, item)| (i, attachment_len(item)))
            .max_by_key(|(_, len)| *len)
            .filter(|(_, len)| *len > 0)
        else {
            break;
        };
        items.remove(largest);
        total -= len;
        attachments_dropped += 1;
    }
    if attachments_dropped > 0 {
        // Said in the report the attachments belonged to.
        for item in &mut items {
            let contexts = match item {
                EnvelopeItem::Event(e) => &mut e.contexts,
                EnvelopeItem::Transaction(t) => &mut t.contexts,
                _ => continue,
            };
            if !contexts.contains_key(TRIMMED_CONTEXT) {
                trimmed_reports += 1;
            }
            let context = contexts
                .entry(TRIMMED_CONTEXT.to_owned())
                .or_insert_with(|| Trimmed::default().context());
            if let Context::Other(map) = context {
                map.insert(
                    "attachments_dropped".into(),
                    Value::from(attachments_dropped),
                );
            }
        }
    }
    let mut out = Envelope::new().with_headers(headers);
    for item in items {
        out.add_item(item);
    }
    (out, trimmed_reports)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime};

    use proptest::prelude::*;
    use proptest::test_runner::{Config as RunnerConfig, TestRunner};
    use sentry::protocol::{Frame, Span};

    use super::*;

    /// A report's shape: counts and sizes of its parts; the text itself is cheap filler
    /// (`seed` varies it), so cases can reach several MiB.
    #[derive(Clone, Debug)]
    struct Shape {
        message: usize,
        exceptions: Vec<(usize, usize)>,
        crumbs: Vec<(usize, Vec<usize>)>,
        fields: Vec<usize>,
        spans: Vec<Vec<usize>>,
        tags: usize,
        seed: u8,
    }

    fn shape() -> impl Strategy<Value = Shape> {
        let size = prop_oneof![0..64usize, 0..2_048usize, 0..8_192usize, 8_000..9_000usize];
        (
            size.clone(),
            prop::collection::vec((size.clone(), 0..80usize), 1..40),
            prop::collection::vec(
                (size.clone(), prop::collection::vec(size.clone(), 0..6)),
                0..300,
            ),
            prop::collection::vec(size.clone(), 0..60),
            prop::collection::vec(prop::collection::vec(size, 0..8), 0..20),
            0..200usize,
            any::<u8>(),
        )
            .prop_map(
                |(message, exceptions, crumbs, fields, spans, tags, seed)| Shape {
                    message,
                    exceptions,
                    crumbs,
                    fields,
                    spans,
                    tags,
                    seed,
                },
            )
    }

    /// `len` bytes of text, with a multi-byte character now and then (cuts must land
    /// on character boundaries).
    fn text(len: usize, seed: u8) -> String {
        let mut s = String::with_capacity(len);
        let mut i = usize::from(seed);
        while s.len() < len {
            s.push(if i % 37 == 0 {
                'é'
            } else {
                char::from(b'a' + (i % 26) as u8)
            });
            i += 1;
        }
        s
    }

    fn event_of(shape: &Shape) -> Event<'static> {
        let t = |len| text(len, shape.seed);
        let mut event = Event {
            message: Some(t(shape.message)),
            ..Default::default()
        };
        for (i, (len, frames)) in shape.exceptions.iter().enumerate() {
            event.exception.values.push(Exception {
                ty: format!("Error{i}"),
                value: Some(t(*len)),
                stacktrace: (*frames > 0).then(|| Stacktrace {
                    frames: (0..*frames)
                        .map(|f| Frame {
                            function: Some(format!("app::module::function_{f}")),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (i, (len, data)) in shape.crumbs.iter().enumerate() {
            event.breadcrumbs.values.push(Breadcrumb {
                timestamp: start + Duration::from_millis(i as u64),
                message: Some(format!("{i} {}", t(*len))),
                data: data
                    .iter()
                    .enumerate()
                    .map(|(k, len)| (format!("field{k}"), Value::from(t(*len))))
                    .collect(),
                ..Default::default()
            });
        }
        let fields = shape
            .fields
            .iter()
            .enumerate()
            .map(|(k, len)| (format!("field{k}"), Value::from(t(*len))))
            .collect();
        event
            .contexts
            .insert("fields".into(), Context::Other(fields));
        let spans = shape
            .spans
            .iter()
            .enumerate()
            .map(|(s, fields)| {
                let map: Map<String, Value> = fields
                    .iter()
                    .enumerate()
                    .map(|(k, len)| (format!("f{k}"), Value::from(t(*len))))
                    .collect();
                (format!("span{s}"), Value::Object(map.into_iter().collect()))
            })
            .collect();
        event.contexts.insert("spans".into(), Context::Other(spans));
        event
            .contexts
            .insert("trace".into(), Context::Trace(Box::default()));
        for k in 0..shape.tags {
            event.tags.insert(format!("tag{k}"), t(200));
        }
        event
    }

    static LARGEST_EVENT: AtomicUsize = AtomicUsize::new(0);
    static LARGEST_INPUT: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn random_reports_fit_and_keep_their_exception_message_and_newest_breadcrumbs() {
        // Few cases of up to several MiB each (a debug build serialises them slowly).
        let mut runner = TestRunner::new(RunnerConfig {
            cases: 40,
            max_shrink_iters: 64,
            ..RunnerConfig::default()
        });
        runner
            .run(&shape(), |shape| {
                let original = event_of(&shape);
                let before = json_len(&original);
                let mut event = original.clone();
                let trimmed = fit_event(&mut event);
                let after = json_len(&event);
                LARGEST_EVENT.fetch_max(after, Ordering::Relaxed);
                LARGEST_INPUT.fetch_max(before, Ordering::Relaxed);
                prop_assert!(after <= MAX_EVENT_BYTES, "{before} -> {after}");
                prop_assert_eq!(trimmed.is_some(), before > MAX_EVENT_BYTES);
                prop_assert_eq!(
                    event.contexts.contains_key(TRIMMED_CONTEXT),
                    trimmed.is_some()
                );
                // The exception chain: the logged error and its nearest causes, their
                // types and the start of their values.
                let kept = &event.exception.values;
                let all = &original.exception.values;
                prop_assert!(kept.len() >= all.len().min(KEPT_EXCEPTIONS));
                for (kept, orig) in kept.iter().rev().zip(all.iter().rev()) {
                    prop_assert_eq!(&kept.ty, &orig.ty);
                    let value = kept.value.as_deref().unwrap_or("");
                    let prefix = value.trim_end_matches('…');
                    prop_assert!(orig.value.as_deref().unwrap_or("").starts_with(prefix));
                    prop_assert!(
                        prefix.len() >= orig.value.as_ref().map_or(0, |v| v.len().min(1024))
                    );
                }
                let message = event.message.as_deref().unwrap_or("");
                prop_assert!(original
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .starts_with(message.trim_end_matches('…')));
                // Breadcrumbs: the newest ones, in order.
                let crumbs = &event.breadcrumbs.values;
                let orig_crumbs = &original.breadcrumbs.values;
                let first = orig_crumbs.len() - crumbs.len();
                for (kept, orig) in crumbs.iter().zip(&orig_crumbs[first..]) {
                    prop_assert_eq!(kept.timestamp, orig.timestamp);
                }
                if let Some(t) = trimmed {
                    prop_assert_eq!(t.breadcrumbs_dropped, first);
                    prop_assert_eq!(t.original_bytes, before);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "largest event after fitting: {} bytes (largest input {} bytes)",
            LARGEST_EVENT.load(Ordering::Relaxed),
            LARGEST_INPUT.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn random_transactions_fit_with_at_most_the_span_cap() {
        let mut runner = TestRunner::new(RunnerConfig {
            cases: 24,
            max_shrink_iters: 64,
            ..RunnerConfig::default()
        });
        let strategy = (
            prop::collection::vec((0..4_000usize, 0..4usize), 0..1_400),
            any::<u8>(),
        );
        runner
            .run(&strategy, |(spans, seed)| {
                let mut tx = Transaction {
                    name: Some("GET /orders".into()),
                    spans: spans
                        .iter()
                        .map(|(len, n)| Span {
                            description: Some(text(*len, seed)),
                            data: (0..*n)
                                .map(|k| (format!("db.{k}"), Value::from(text(*len, seed))))
                                .collect(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                tx.contexts
                    .insert("trace".into(), Context::Trace(Box::default()));
                let before = json_len(&tx);
                let trimmed = fit_transaction(&mut tx);
                let after = json_len(&tx);
                prop_assert!(after <= MAX_EVENT_BYTES, "{before} -> {after}");
                prop_assert!(tx.spans.len() <= MAX_SPANS);
                prop_assert_eq!(
                    trimmed.is_some(),
                    before > MAX_EVENT_BYTES || spans.len() > MAX_SPANS
                );
                let dropped = match tx.contexts.get("trace") {
                    Some(Context::Trace(trace)) => trace.data.get("dropped_spans").cloned(),
                    _ => None,
                };
                let lost = spans.len() - tx.spans.len();
                prop_assert_eq!(dropped, (lost > 0).then(|| Value::from(lost)));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_small_report_is_left_alone() {
        let mut event = Event {
            message: Some("order failed".into()),
            ..Default::default()
        };
        let copy = event.clone();
        assert_eq!(fit_event(&mut event), None);
        assert_eq!(event, copy);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            // Control characters, quotes, backslashes, any Unicode.
            "(\\PC|[\\x00-\\x1f\"\\\\\u{7f}-\u{9f}])*".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map("\\PC{0,12}|[\\x00-\\x1f\"]{0,3}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Every kind of part an event or transaction has, holding `value`'s text.
    fn full_event(value: &Value, text: &str) -> (Event<'static>, Transaction<'static>) {
        use sentry::protocol::{
            AppContext, Context, DebugMeta, Level, LogEntry, Mechanism, OsContext, Request,
            RuntimeContext, SpanStatus, Thread, TraceContext, User,
        };
        let map: Map<String, Value> = [
            ("k".to_owned(), value.clone()),
            (text.to_owned(), Value::from(text)),
        ]
        .into_iter()
        .collect();
        let frame = Frame {
            function: Some(text.to_owned()),
            lineno: Some(u64::MAX),
            vars: map.clone(),
            ..Default::default()
        };
        let stacktrace = Stacktrace {
            frames: vec![frame.clone(), frame],
            ..Default::default()
        };
        let mut contexts = Map::new();
        contexts.insert("fields".into(), Context::Other(map.clone()));
        contexts.insert(
            "os".into(),
            Context::Os(Box::new(OsContext {
                name: Some(text.to_owned()),
                other: map.clone(),
                ..Default::default()
            })),
        );
        contexts.insert(
            "runtime".into(),
            Context::Runtime(Box::new(RuntimeContext {
                version: Some(text.to_owned()),
                ..Default::default()
            })),
        );
        contexts.insert(
            "app".into(),
            Context::App(Box::new(AppContext {
                app_name: Some(text.to_owned()),
                ..Default::default()
            })),
        );
        contexts.insert(
            "trace".into(),
            Context::Trace(Box::new(TraceContext {
                op: Some(text.to_owned()),
                status: Some(SpanStatus::InternalError),
                data: map.clone(),
                ..Default::default()
            })),
        );
        let user = User {
            id: Some(text.to_owned()),
            other: map.clone(),
            ..Default::default()
        };
        let request = Request {
            method: Some(text.to_owned()),
            data: Some(text.to_owned()),
            headers: [(text.to_owned(), text.to_owned())].into_iter().collect(),
            ..Default::default()
        };
        let event = Event {
            level: Level::Fatal,
            fingerprint: vec![text.to_owned().into()].into(),
            message: Some(text.to_owned()),
            logentry: Some(LogEntry {
                message: text.to_owned(),
                params: vec![value.clone()],
            }),
            logger: Some(text.to_owned()),
            transaction: Some(text.to_owned()),
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789),
            user: Some(user.clone()),
            request: Some(request.clone()),
            contexts: contexts.clone(),
            breadcrumbs: vec![Breadcrumb {
                category: Some(text.to_owned()),
                message: Some(text.to_owned()),
                level: Level::Warning,
                data: map.clone(),
                ..Default::default()
            }]
            .into(),
            exception: vec![Exception {
                ty: text.to_owned(),
                value: Some(text.to_owned()),
                stacktrace: Some(stacktrace.clone()),
                mechanism: Some(Mechanism {
                    ty: text.to_owned(),
                    handled: Some(false),
                    data: map.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            }]
            .into(),
            threads: vec![Thread {
                name: Some(text.to_owned()),
                stacktrace: Some(stacktrace),
                ..Default::default()
            }]
            .into(),
            tags: [(text.to_owned(), text.to_owned())].into_iter().collect(),
            extra: map.clone(),
            debug_meta: std::borrow::Cow::Owned(DebugMeta::default()),
            ..Default::default()
        };
        let tx = Transaction {
            name: Some(text.to_owned()),
            user: Some(user),
            request: Some(request),
            contexts,
            tags: [(text.to_owned(), text.to_owned())].into_iter().collect(),
            extra: map.clone(),
            spans: vec![Span {
                description: Some(text.to_owned()),
                data: map,
                status: Some(SpanStatus::Ok),
                ..Default::default()
            }],
            ..Default::default()
        };
        (event, tx)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The bound that lets a report skip its exact size is never under that size:
        /// whatever the texts (escapes, control characters, any Unicode) and numbers,
        /// in every part of an event or transaction.
        #[test]
        fn the_size_bound_is_never_under_the_size(
            value in json_value(),
            text in "(\\PC|[\\x00-\\x1f\"\\\\])*",
        ) {
            prop_assert!(json_len_bound(&value) >= json_len(&value));
            let (event, tx) = full_event(&value, &text);
            prop_assert!(json_len_bound(&event) >= json_len(&event));
            prop_assert!(json_len_bound(&tx) >= json_len(&tx));
        }
    }

    /// Over the envelope limit only through its attachments: the largest go, and the
    /// report says so; under it (an event at its own limit beside a large attachment,
    /// where the untrimmed-size bound is not enough), nothing goes.
    #[test]
    fn attachments_over_the_envelope_limit_are_dropped_largest_first() {
        use sentry::protocol::{Attachment, EnvelopeItem};
        let attachment = |len: usize| Attachment {
            buffer: vec![b'a'; len],
            filename: format!("{len}.bin"),
            ..Default::default()
        };
        let envelope = |sizes: &[usize]| {
            let mut envelope = Envelope::from(Event {
                message: Some("x".repeat(MAX_EVENT_BYTES - 4096)),
                ..Default::default()
            });
            for &len in sizes {
                envelope.add_item(attachment(len));
            }
            envelope
        };
        let names = |envelope: &Envelope| -> Vec<String> {
            envelope
                .items()
                .filter_map(|item| match item {
                    EnvelopeItem::Attachment(a) => Some(a.filename.clone()),
                    _ => None,
                })
                .collect()
        };
        let (kept, trimmed) = fit_envelope(envelope(&[30 << 20, 25 << 20, 1 << 20]));
        assert_eq!(trimmed, 1);
        assert_eq!(
            names(&kept),
            [format!("{}.bin", 25 << 20), format!("{}.bin", 1 << 20)]
        );
        let context = kept.event().and_then(|e| e.contexts.get(TRIMMED_CONTEXT));
        let Some(Context::Other(map)) = context else {
            panic!("{context:?}")
        };
        assert_eq!(map.get("attachments_dropped"), Some(&Value::from(1)));
        // 49 MiB + 2 KiB of attachment and a 1 MiB - 4 KiB event: the bound (an event
        // at 1 MiB) says over, the sizes say under.
        let near = (49 << 20) + (2 << 10);
        let (kept, trimmed) = fit_envelope(envelope(&[near]));
        assert_eq!(trimmed, 0);
        assert_eq!(names(&kept), [format!("{near}.bin")]);
    }
}
