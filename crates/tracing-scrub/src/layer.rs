//! [`Scrubbed`]: any other layer (fmt, tracing-loki, tracing-opentelemetry, your own),
//! fed events, span attributes and span records with the crate's scrubbing rules applied.
//!
//! A layer cannot change what its siblings see, so the wrapper rebuilds what it hands
//! on: the same callsite, metadata (level, target, name, field names) and parent, with
//! every field value that [`Scrubber::scrub_field`] changes replaced. Values that contain
//! nothing sensitive reach the wrapped layer as they were; an event, span or record with
//! nothing sensitive at all is forwarded untouched, and detecting that allocates nothing
//! beyond what detection itself needs (values are formatted into a reused per-thread buffer).

use std::any::TypeId;
use std::cell::Cell;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tracing_core::field::{DisplayValue, Field, Value, ValueSet, Visit};
use tracing_core::span::{self, Attributes, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::fmt::format::DefaultFields;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanData};

use crate::engine::{ScrubReport, Scrubber, MAX_DEPTH};

/// A per-thread buffer larger than this is released after use rather than kept.
const KEPT_BUFFER_BYTES: usize = 64 * 1024;

/// What a value whose `Debug` or `Display` implementation panicked is replaced by.
const PANICKED: &str = "<formatting panicked>";

thread_local! {
    /// Text of the field being inspected. Taken out while in use, so a `Debug`
    /// implementation that logs (re-entering the subscriber) gets a fresh one.
    static TEXT: Cell<String> = const { Cell::new(String::new()) };
}

/// A layer that sees everything scrubbed: `inner` receives the same events and spans,
/// with every sensitive field value replaced as the [`Scrubber`] says (the rules Sentry
/// reports get, when built from the same [`ScrubRules`](crate::ScrubRules)).
///
/// - **Events** (`on_event`), **span attributes** (`on_new_span`) and **span records**
///   (`on_record`) are scrubbed field by field: a value under a sensitive key is
///   replaced whole, secrets inside any other value are replaced where they stand.
///   A string stays a string (`record_str`); numbers, booleans and bytes stay typed
///   unless scrubbed; a `Debug` value or a scrubbed number is handed on as text
///   (`record_debug`, so fmt prints it unquoted as before); an error keeps its
///   `source()` chain, each level's `Display` scrubbed. Every value is checked as
///   [`Scrubber::scrub_field`] would (numbers and `Debug` values as their text). A
///   clean value costs a lookup of its key's verdict by the field name's address and
///   one pass over its bytes (integers below 10^8 are not even formatted); an event,
///   span or record with nothing sensitive is forwarded as it is, and the wrapper
///   allocates nothing for it.
/// - **Around the whole subscriber** (`registry().with(..).with(..).scrubbed(&s)`, the
///   recommended use): `Scrubbed<S>` is then a [`Subscriber`] and every layer in `S`
///   gets scrubbed attributes, records and events, storage layers included.
/// - **Around one layer, it protects that layer only.** Storage layers keep span
///   fields in the span's extensions for other layers: tracing-error's `ErrorLayer`,
///   bunyan's `JsonStorageLayer`, and fmt layers, which share one formatted copy per
///   field formatter type (made by the first of them to see the span). Such a layer
///   before a wrapped one hands it the unscrubbed span fields; wrap the whole subscriber.
/// - Needs a subscriber that looks spans up (the `Registry`): a span record carries
///   no field set of its own. Sensitive values that cannot be rebuilt (a record of an
///   unknown span) are not forwarded at all.
/// - Callsites, levels, targets, names, field names and parents are unchanged; filters
///   (`enabled`, `event_enabled`, `register_callsite`, per-layer filters on `inner` or
///   on the wrapper) decide on the original values, which never leave the process.
/// - Every other [`Layer`] method is forwarded as is, and `downcast_raw` reaches `inner`,
///   so tracing-opentelemetry's `WithContext` (used by `OpenTelemetrySpanExt`) and
///   per-layer filters keep working.
///
/// ```
/// use std::sync::Arc;
/// use tracing_scrub::{ScrubLayerExt, ScrubRules, Scrubber};
/// use tracing_subscriber::prelude::*;
///
/// let scrubber = Arc::new(Scrubber::new(&ScrubRules::default()).expect("valid rules"));
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().scrubbed(&scrubber));
/// tracing::subscriber::with_default(subscriber, || {
///     // fmt prints `password="[Filtered]"`.
///     tracing::info!(password = "hunter2", "login");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Scrubbed<L> {
    inner: L,
    scrubber: Arc<Scrubber>,
    /// Spans holding a sensitive value whose fields a layer before this one had already
    /// stored unscrubbed (shared by clones).
    stored_raw: Arc<AtomicU64>,
}

impl<L> Scrubbed<L> {
    /// Wraps `inner`. Share one compiled [`Scrubber`] between all wrapped layers (with
    /// tracing-error-reports, take it from its `Config::scrubber` to use exactly the
    /// rules Sentry reports get).
    pub fn new(inner: L, scrubber: Arc<Scrubber>) -> Self {
        Scrubbed {
            inner,
            scrubber,
            stored_raw: Arc::default(),
        }
    }

    /// How many spans holding a sensitive value reached this wrapped layer after a layer
    /// before it had stored their fields formatted and unscrubbed (fmt's and
    /// tracing-error's `FormattedFields<DefaultFields>`, which a wrapped fmt layer with
    /// the default field formatter reuses as they are). Not zero: that layer prints raw
    /// span fields; wrap the whole subscriber instead (`registry().with(..).scrubbed(&s)`).
    /// The first time, this is also said once on stderr. Storage of other types (bunyan's
    /// `JsonStorageLayer`, fmt's JSON fields) cannot be seen from here.
    pub fn raw_fields_stored_before(&self) -> u64 {
        self.stored_raw.load(Ordering::Relaxed)
    }

    /// The wrapped layer.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// The wrapped layer, mutably (e.g. to reconfigure it through `reload`).
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    /// The wrapped layer, unwrapped.
    pub fn into_inner(self) -> L {
        self.inner
    }
}

/// `.scrubbed(&scrubber)` on any layer or subscriber: [`Scrubbed::new`] as a method.
/// Implemented for every type (a `Layer` bound would leave the subscriber type of layers
/// generic over it, such as fmt's, uninferable); the result is a layer when `self` is one
/// and a subscriber when `self` is one that looks spans up (a `Registry` stack). Neither
/// is `tracing_subscriber::fmt()`'s builder: call its `.finish()` first
/// (`fmt().json().finish().scrubbed(&scrubber)`).
pub trait ScrubLayerExt: Sized {
    /// This layer, fed scrubbed events and spans (see [`Scrubbed`]).
    fn scrubbed(self, scrubber: &Arc<Scrubber>) -> Scrubbed<Self> {
        Scrubbed::new(self, scrubber.clone())
    }
}

impl<L> ScrubLayerExt for L {}

impl<S, L> Layer<S> for Scrubbed<L>
where
    // Span records carry no field set of their own: it is looked up with the span.
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        match self.scrubbed_values(|| Some(attrs.metadata()), |v| attrs.record(v)) {
            Scrub::Clean => self.inner.on_new_span(attrs, id, ctx),
            // Never for a span's own attributes (they carry their metadata).
            Scrub::Unbuildable => {}
            Scrub::Rebuilt(rebuilt) => {
                let stored_before = self.check_stored_before(&ctx, id);
                rebuilt.attributes(attrs, |scrubbed| {
                    self.inner.on_new_span(scrubbed, id, ctx.clone())
                });
                if !stored_before {
                    mark_stored_scrubbed(&ctx, id);
                }
            }
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_record(&self, span: &span::Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // A record carries no field set of its own: the span's metadata has it.
        let metadata = || ctx.metadata(span);
        match self.scrubbed_values(metadata, |v| values.record(v)) {
            Scrub::Clean => self.inner.on_record(span, values, ctx),
            Scrub::Rebuilt(rebuilt) => {
                rebuilt.record(|scrubbed| self.inner.on_record(span, scrubbed, ctx))
            }
            // Unknown span, so no field set to rebuild with: dropped, never sent as is.
            Scrub::Unbuildable => {}
        }
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        match self.scrubbed_values(|| Some(event.metadata()), |v| event.record(v)) {
            Scrub::Clean => self.inner.on_event(event, ctx),
            // Never for an event (it carries its metadata).
            Scrub::Unbuildable => {}
            Scrub::Rebuilt(rebuilt) => {
                rebuilt.event(event, |scrubbed| self.inner.on_event(scrubbed, ctx))
            }
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    #[doc(hidden)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; `inner` upholds the contract for its own types.
        unsafe { self.inner.downcast_raw(id) }
    }
}

/// Marks a span whose formatted fields a wrapped layer stored: from scrubbed values.
struct StoredScrubbed;

/// After a wrapped layer took a span's scrubbed attributes, none stored before: if
/// formatted fields are stored now, the wrapped layer stored them, scrubbed, and a later
/// wrapped layer must not take them for raw.
fn mark_stored_scrubbed<S>(ctx: &Context<'_, S>, id: &span::Id)
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    let Some(span) = ctx.span(id) else {
        return;
    };
    let mut extensions = span.extensions_mut();
    if extensions
        .get_mut::<FormattedFields<DefaultFields>>()
        .is_some()
        && extensions.get_mut::<StoredScrubbed>().is_none()
    {
        extensions.insert(StoredScrubbed);
    }
}

impl<L> Scrubbed<L> {
    /// Counts (and says once) a span holding a sensitive value whose fields an earlier
    /// layer already stored formatted: the wrapped layer would reuse them raw. Whether
    /// formatted fields were stored at all.
    fn check_stored_before<S>(&self, ctx: &Context<'_, S>, id: &span::Id) -> bool
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        static SAID: AtomicBool = AtomicBool::new(false);
        let Some(span) = ctx.span(id) else {
            return false;
        };
        {
            let extensions = span.extensions();
            if extensions.get::<FormattedFields<DefaultFields>>().is_none() {
                return false;
            }
            // Stored by a layer that is itself wrapped (`fmt.scrubbed()` before
            // `loki.scrubbed()`): from scrubbed values.
            if extensions.get::<StoredScrubbed>().is_some() {
                return true;
            }
        }
        self.stored_raw.fetch_add(1, Ordering::Relaxed);
        if !SAID.swap(true, Ordering::Relaxed) {
            eprintln!(
                "tracing-scrub: span `{}` holds a sensitive value, and a layer before a \
                 `.scrubbed()` layer (fmt, tracing-error's ErrorLayer) already stored its \
                 fields unscrubbed, which the wrapped layer may print; scrub the whole \
                 subscriber instead: `registry().with(..).scrubbed(&scrubber)`",
                span.name()
            );
        }
        true
    }
}

/// The whole subscriber, scrubbed at its entry: `Scrubbed<S>` around a subscriber stack
/// (a `Registry` with its layers) is itself a [`Subscriber`] that hands the stack every
/// span's attributes, record and event with sensitive values replaced, so no layer in
/// it (formatters, storage layers such as tracing-error's `ErrorLayer` or bunyan's
/// `JsonStorageLayer`, exporters) ever sees a raw value. Everything else (callsites,
/// filters, ids, entering and leaving, `downcast_raw`, span lookups) is forwarded as is.
impl<S> Subscriber for Scrubbed<S>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> span::Id {
        match self.scrubbed_values(|| Some(attrs.metadata()), |v| attrs.record(v)) {
            // `Unbuildable` never happens here: a span's attributes carry their metadata.
            Scrub::Clean | Scrub::Unbuildable => self.inner.new_span(attrs),
            Scrub::Rebuilt(rebuilt) => {
                rebuilt.attributes(attrs, |scrubbed| self.inner.new_span(scrubbed))
            }
        }
    }

    fn record(&self, span: &span::Id, values: &Record<'_>) {
        let metadata = || self.inner.span_data(span).map(|data| data.metadata());
        match self.scrubbed_values(metadata, |v| values.record(v)) {
            Scrub::Clean => self.inner.record(span, values),
            Scrub::Rebuilt(rebuilt) => rebuilt.record(|scrubbed| self.inner.record(span, scrubbed)),
            // Unknown span, so no field set to rebuild with: dropped, never passed on as is.
            Scrub::Unbuildable => {}
        }
    }

    fn record_follows_from(&self, span: &span::Id, follows: &span::Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.inner.event_enabled(event)
    }

    fn event(&self, event: &Event<'_>) {
        match self.scrubbed_values(|| Some(event.metadata()), |v| event.record(v)) {
            Scrub::Clean => self.inner.event(event),
            // Never for an event (it carries its metadata); never passed on as is.
            Scrub::Unbuildable => {}
            Scrub::Rebuilt(rebuilt) => rebuilt.event(event, |scrubbed| self.inner.event(scrubbed)),
        }
    }

    fn enter(&self, span: &span::Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &span::Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &span::Id) -> span::Id {
        self.inner.clone_span(id)
    }

    #[allow(deprecated)]
    fn drop_span(&self, id: span::Id) {
        self.inner.drop_span(id);
    }

    fn try_close(&self, id: span::Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner.current_span()
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded unchanged; `inner` upholds the contract for its own types.
        unsafe { self.inner.downcast_raw(id) }
    }
}

/// Span lookups reach the wrapped subscriber's registry (for code that looks spans up
/// through the dispatcher, and for layers added on top, which see raw values: add
/// `.scrubbed()` last).
impl<'lookup, S> LookupSpan<'lookup> for Scrubbed<S>
where
    S: LookupSpan<'lookup>,
{
    type Data = S::Data;

    fn span_data(&'lookup self, id: &span::Id) -> Option<Self::Data> {
        self.inner.span_data(id)
    }

    fn register_filter(&mut self) -> tracing_subscriber::filter::FilterId {
        self.inner.register_filter()
    }
}

/// What scrubbing made of a set of values.
enum Scrub {
    /// Nothing sensitive: forward the original.
    Clean,
    /// Every value, owned, sensitive ones replaced.
    Rebuilt(Rebuilt),
    /// Something sensitive, but no field set to rebuild the values with.
    Unbuildable,
}

impl<L> Scrubbed<L> {
    fn scrubbed_values(
        &self,
        metadata: impl FnOnce() -> Option<&'static Metadata<'static>>,
        record: impl Fn(&mut dyn Visit),
    ) -> Scrub {
        let mut text = TEXT.try_with(Cell::take).unwrap_or_default();
        let mut detect = Detect {
            scrubber: &self.scrubber,
            text: &mut text,
            found: false,
            clean: 0,
        };
        record(&mut detect);
        let clean = detect.clean;
        let result = match (detect.found, detect.found.then(metadata).flatten()) {
            (false, _) => Scrub::Clean,
            (true, None) => Scrub::Unbuildable,
            (true, Some(metadata)) => {
                let mut snapshot = Snapshot {
                    scrubber: &self.scrubber,
                    text: &mut text,
                    values: (0..metadata.fields().len()).map(|_| None).collect(),
                    clean,
                    seen: 0,
                    known_clean: false,
                };
                record(&mut snapshot);
                Scrub::Rebuilt(Rebuilt {
                    metadata,
                    values: snapshot.values,
                })
            }
        };
        if text.capacity() <= KEPT_BUFFER_BYTES {
            text.clear();
            let _ = TEXT.try_with(|cell| cell.set(text));
        }
        result
    }
}

/// Scrubbed values of a callsite, indexed like its fields, from which the span's
/// attributes, a record or an event are built again for the inner layer.
struct Rebuilt {
    metadata: &'static Metadata<'static>,
    values: Vec<Option<Owned>>,
}

impl Rebuilt {
    fn with_set<R>(&self, f: impl FnOnce(&ValueSet<'_>) -> R) -> R {
        let refs: Vec<Option<&dyn Value>> = self
            .values
            .iter()
            .map(|v| v.as_ref().map(Owned::as_value))
            .collect();
        // One value per field of the callsite (what the `tracing` macros build
        // since tracing-core 0.1.35), so any number of fields fits.
        f(&self.metadata.fields().value_set_all(&refs))
    }

    /// The span's attributes again, with the original's parent.
    fn attributes<R>(&self, original: &Attributes<'_>, f: impl FnOnce(&Attributes<'_>) -> R) -> R {
        self.with_set(|set| {
            let scrubbed = if let Some(parent) = original.parent() {
                Attributes::child_of(parent.clone(), self.metadata, set)
            } else if original.is_root() {
                Attributes::new_root(self.metadata, set)
            } else {
                Attributes::new(self.metadata, set)
            };
            f(&scrubbed)
        })
    }

    fn record<R>(&self, f: impl FnOnce(&Record<'_>) -> R) -> R {
        self.with_set(|set| f(&Record::new(set)))
    }

    /// The event again, with the original's parent.
    fn event<R>(&self, original: &Event<'_>, f: impl FnOnce(&Event<'_>) -> R) -> R {
        self.with_set(|set| {
            let scrubbed = if let Some(parent) = original.parent() {
                Event::new_child_of(parent.clone(), self.metadata, set)
            } else if original.is_root() {
                Event::new_child_of(None, self.metadata, set)
            } else {
                Event::new(self.metadata, set)
            };
            f(&scrubbed)
        })
    }
}

/// Writes `value`'s `Debug` (or `Display`) output into `text`; false if it panicked,
/// so a panicking implementation in user code never unwinds through the subscriber.
fn write_guarded(text: &mut String, value: impl FnOnce(&mut String) -> fmt::Result) -> bool {
    text.clear();
    match catch_unwind(AssertUnwindSafe(|| value(text))) {
        Ok(_) => true,
        Err(_) => {
            text.clear();
            text.push_str(PANICKED);
            false
        }
    }
}

/// First pass: whether any value would change. Allocates nothing itself.
struct Detect<'a> {
    scrubber: &'a Scrubber,
    text: &'a mut String,
    found: bool,
    /// Values found clean before the first sensitive one (the snapshot need not rescan them).
    clean: usize,
}

impl Detect<'_> {
    fn check(&mut self, field: &Field, text: &str) {
        if !self.scrubber.field_is_clean(field.name(), text, false) {
            self.found = true;
        }
    }

    /// A non-negative integer: small ones are clean unless their key is sensitive,
    /// known without formatting them.
    fn check_number(&mut self, field: &Field, value: u64) {
        if self.scrubber.small_number_is_clean(value) {
            if self.scrubber.is_sensitive_static_key(field.name()) {
                self.check_formatted(field, true, |t| write!(t, "{value}"));
            }
        } else {
            self.check_formatted(field, true, |t| write!(t, "{value}"));
        }
    }

    /// `number`: the text is a number's, judged as Sentry reports judge numbers.
    fn check_formatted(
        &mut self,
        field: &Field,
        number: bool,
        write: impl FnOnce(&mut String) -> fmt::Result,
    ) {
        let mut text = std::mem::take(self.text);
        if write_guarded(&mut text, write) {
            if !self.scrubber.field_is_clean(field.name(), &text, number) {
                self.found = true;
            }
        } else {
            self.found = true;
        }
        *self.text = text;
    }
}

impl Detect<'_> {
    /// Checks one value; counts it as clean if nothing sensitive was found so far.
    fn value(&mut self, check: impl FnOnce(&mut Self)) {
        if self.found {
            return;
        }
        check(self);
        if !self.found {
            self.clean += 1;
        }
    }
}

impl Visit for Detect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.value(|d| d.check(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.value(|d| d.check_formatted(field, false, |t| write!(t, "{value:?}")));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(|d| match u64::try_from(value) {
            Ok(value) => d.check_number(field, value),
            Err(_) => d.check_formatted(field, true, |t| write!(t, "{value}")),
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(|d| d.check_number(field, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.value(|d| d.check_formatted(field, true, |t| write!(t, "{value}")));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.value(|d| d.check_formatted(field, true, |t| write!(t, "{value}")));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.value(|d| d.check_formatted(field, true, |t| write!(t, "{value}")));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(|d| d.check(field, if value { "true" } else { "false" }));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        // Non-UTF-8 bytes hold no text the value rules could find: the key decides.
        self.value(|d| d.check(field, std::str::from_utf8(value).unwrap_or_default()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.value(|d| {
            let mut level = Some(value);
            let mut depth = 0;
            while let Some(error) = level {
                if d.found || depth >= MAX_DEPTH {
                    return;
                }
                d.check_formatted(field, false, |t| write!(t, "{error}"));
                level = error.source();
                depth += 1;
            }
        });
    }
}

/// A field value as handed to the wrapped layer.
enum Owned {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
    Bytes(Box<[u8]>),
    Str(String),
    /// `Debug` output or a scrubbed value: recorded with `record_debug`, printed as is.
    Text(DisplayValue<String>),
    Error(Box<dyn Error + Send + Sync>),
}

impl Owned {
    fn as_value(&self) -> &dyn Value {
        match self {
            Owned::I64(v) => v,
            Owned::U64(v) => v,
            Owned::I128(v) => v,
            Owned::U128(v) => v,
            Owned::F64(v) => v,
            Owned::Bool(v) => v,
            Owned::Bytes(v) => v,
            Owned::Str(v) => v,
            Owned::Text(v) => v,
            Owned::Error(v) => v,
        }
    }
}

/// Second pass, only when something is sensitive: every value, owned and scrubbed.
struct Snapshot<'a> {
    scrubber: &'a Scrubber,
    text: &'a mut String,
    values: Vec<Option<Owned>>,
    /// How many values, in visiting order, detection already found clean.
    clean: usize,
    seen: usize,
    /// Whether the value being visited is one of those.
    known_clean: bool,
}

impl Snapshot<'_> {
    /// Called first for every value: notes whether detection already found it clean.
    fn next_value(&mut self) {
        self.known_clean = self.seen < self.clean;
        self.seen += 1;
    }

    fn put(&mut self, field: &Field, value: Owned) {
        if let Some(slot) = self.values.get_mut(field.index()) {
            *slot = Some(value);
        }
    }

    /// `text` scrubbed as the value of `field` (`number`: a number's text); `None`
    /// when nothing changed.
    fn scrub(&self, field: &Field, text: &str, number: bool) -> Option<String> {
        if self.known_clean {
            return None;
        }
        let mut report = ScrubReport::default();
        match self
            .scrubber
            .scrub_static_field(field.name(), text, number, &mut report)
        {
            std::borrow::Cow::Owned(scrubbed) => Some(scrubbed),
            std::borrow::Cow::Borrowed(_) => None,
        }
    }

    /// Formats a value, scrubs it, and keeps it as text.
    fn formatted(&mut self, field: &Field, write: impl FnOnce(&mut String) -> fmt::Result) {
        let text = self.format_scrubbed(field, write);
        self.put(field, Owned::Text(tracing_core::field::display(text)));
    }

    fn format_scrubbed(
        &mut self,
        field: &Field,
        write: impl FnOnce(&mut String) -> fmt::Result,
    ) -> String {
        let mut text = std::mem::take(self.text);
        write_guarded(&mut text, write);
        let out = self
            .scrub(field, &text, false)
            .unwrap_or_else(|| text.clone());
        *self.text = text;
        out
    }

    /// A number or boolean: kept typed when its text is not sensitive.
    fn typed(&mut self, field: &Field, text: &str, typed: Owned) {
        let number = !matches!(typed, Owned::Bool(_));
        let value = match self.scrub(field, text, number) {
            Some(scrubbed) => Owned::Text(tracing_core::field::display(scrubbed)),
            None => typed,
        };
        self.put(field, value);
    }

    fn typed_formatted(
        &mut self,
        field: &Field,
        typed: Owned,
        write: impl FnOnce(&mut String) -> fmt::Result,
    ) {
        let mut text = std::mem::take(self.text);
        write_guarded(&mut text, write);
        self.typed(field, &text, typed);
        *self.text = text;
    }
}

impl Visit for Snapshot<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.next_value();
        let scrubbed = self
            .scrub(field, value, false)
            .unwrap_or_else(|| value.to_owned());
        self.put(field, Owned::Str(scrubbed));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.next_value();
        self.formatted(field, |t| write!(t, "{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.next_value();
        self.typed_formatted(field, Owned::I64(value), |t| write!(t, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.next_value();
        self.typed_formatted(field, Owned::U64(value), |t| write!(t, "{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.next_value();
        self.typed_formatted(field, Owned::I128(value), |t| write!(t, "{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.next_value();
        self.typed_formatted(field, Owned::U128(value), |t| write!(t, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.next_value();
        self.typed_formatted(field, Owned::F64(value), |t| write!(t, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.next_value();
        self.typed(
            field,
            if value { "true" } else { "false" },
            Owned::Bool(value),
        );
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.next_value();
        let text = std::str::from_utf8(value).unwrap_or_default();
        let owned = match self.scrub(field, text, false) {
            Some(scrubbed) => Owned::Text(tracing_core::field::display(scrubbed)),
            None => Owned::Bytes(value.into()),
        };
        self.put(field, owned);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.next_value();
        let mut messages = Vec::new();
        let mut level = Some(value);
        while let Some(error) = level {
            if messages.len() >= MAX_DEPTH {
                break;
            }
            let message = self.format_scrubbed(field, |t| write!(t, "{error}"));
            let type_name = self.type_name(error);
            messages.push((message, type_name));
            level = error.source();
        }
        let chain = messages
            .into_iter()
            .rev()
            .fold(None, |source, (message, type_name)| {
                Some(ScrubbedError {
                    message,
                    type_name,
                    source: source.map(Box::new),
                })
            });
        if let Some(error) = chain {
            self.put(field, Owned::Error(Box::new(error)));
        }
    }
}

impl Snapshot<'_> {
    /// The type name an error's `Debug` output starts with (`DbError { .. }`,
    /// `io::Error(..)`), never its text: kept so error reporters that name exceptions
    /// by type (tracing-error-reports, Sentry's grouping) still can.
    fn type_name(&mut self, error: &(dyn Error + 'static)) -> Option<String> {
        let mut text = std::mem::take(self.text);
        let name = write_guarded(&mut text, |t| write!(t, "{error:?}"))
            .then(|| leading_type_path(&text).map(str::to_owned))
            .flatten();
        *self.text = text;
        name
    }
}

/// A path to a capitalised name at the start of `debug`, followed by a body or nothing.
fn leading_type_path(debug: &str) -> Option<&str> {
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(debug.len());
    let (path, rest) = debug.split_at(end);
    let segments_ok = !path.is_empty()
        && path.len() <= 200
        && path.split("::").all(|segment| {
            segment
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        });
    let capitalised = path
        .rsplit("::")
        .next()
        .and_then(|last| last.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase());
    let body = rest.is_empty() || rest.starts_with(['<', '(', '{']) || rest.starts_with(" {");
    (segments_ok && capitalised && body).then_some(path)
}

/// An error handed to the wrapped layer in place of the original: each level of the
/// original `source()` chain, as its scrubbed `Display` text. Its `Debug` names the
/// original's type (`DbError { message: ".." }`) when that `Debug` started with one.
struct ScrubbedError {
    message: String,
    type_name: Option<String>,
    source: Option<Box<ScrubbedError>>,
}

impl fmt::Debug for ScrubbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.type_name {
            Some(name) => write!(f, "{name} {{ message: {:?} }}", self.message),
            None => write!(f, "{:?}", self.message),
        }
    }
}

impl fmt::Display for ScrubbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for ScrubbedError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}
