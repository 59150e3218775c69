//! Which events and panics become reports: policy in plain functions, called by the
//! layer and the panic hook. [`AdmissionSettings::route_event`] sends an event to a report, a
//! breadcrumb or nowhere (level, target, event filter); [`admit`] decides whether a
//! failure, an error event or a panic alike, is reported (sampling, flood control) and
//! marks its request.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tracing::{Level, Metadata};

use crate::flood::{ErrorLinks, EventHashes, FloodControl};
use crate::identity::IdentityFields;
use crate::request::SpanNode;
use crate::sync::{enter_busy, Wait};
use crate::worker::Counters;

/// Share of error events and panics sent by default: all of them, as Sentry's own.
pub(crate) const DEFAULT_SAMPLE_RATE: f32 = 1.0;

/// Event targets that never become reports or breadcrumbs by default: the SDK, HTTP
/// stacks and exporters, whose own errors would otherwise feed back into Sentry.
/// Matched as `target` prefixes at a `::` boundary (README: "Ignored targets").
pub(crate) const IGNORED_TARGETS: &[&str] = &[
    "sentry",
    "sentry_core",
    "tracing_error_reports",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "tracing_opentelemetry",
    "tracing_loki",
    "tonic",
];

/// Targets of middleware that log a request's failure after the application did:
/// tower-http's `TraceLayer` (`on_failure`, ERROR by default), `CatchPanicLayer`
/// ("Service panicked", after the panic hook reported the panic) and warp's trace filter
/// ("unable to process request (internal error)" for every 5xx).
const FAILURE_CLASSIFIERS: &[&str] = &[
    "tower_http::trace",
    "tower_http::catch_panic",
    "warp::filters::trace",
];

/// A user-supplied predicate on event metadata (see `ConfigBuilder::event_filter`).
#[derive(Clone)]
pub(crate) struct EventFilter(pub(crate) Arc<dyn Fn(&Metadata<'_>) -> bool + Send + Sync>);

/// Set once a panicking `event_filter` has been said.
static FILTER_PANIC_TOLD: AtomicBool = AtomicBool::new(false);

impl EventFilter {
    /// Whether the filter lets `metadata` through. A panic in it is contained (it runs
    /// on the logging thread, inside `tracing`'s dispatch): the event is let through, as
    /// without a filter, counted in `ReportStats::event_filter_panics` and said once.
    pub(crate) fn allows(&self, metadata: &Metadata<'_>, counters: &Counters) -> bool {
        // Busy: the panic is the filter's, not the service's to report.
        let busy = enter_busy();
        let allowed = std::panic::catch_unwind(AssertUnwindSafe(|| (self.0)(metadata)));
        drop(busy);
        allowed.unwrap_or_else(|_| {
            counters.event_filter_panics.fetch_add(1, Ordering::Relaxed);
            if !FILTER_PANIC_TOLD.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "tracing-error-reports: the `event_filter` callback panicked on an event \
                     of `{}`; such events are reported as if it let them through (counted in \
                     `ReportStats::event_filter_panics`; said once)",
                    metadata.target()
                );
            }
            true
        })
    }
}

impl std::fmt::Debug for EventFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventFilter(..)")
    }
}

/// What admission reads, filled by `ConfigBuilder` (`event_level`, `breadcrumb_level`,
/// `event_filter`, `ignore_target`, `sample_rate`, `install_panic_hook`).
#[derive(Clone, Debug)]
pub(crate) struct AdmissionSettings {
    pub(crate) event_level: Level,
    pub(crate) breadcrumb_level: Level,
    pub(crate) event_filter: Option<EventFilter>,
    /// Sorted by first byte, so a target is compared only with those of its own first
    /// byte (every event's target is checked).
    ignored_targets: Vec<IgnoredTarget>,
    /// For each first byte, the range of `ignored_targets` that start with it.
    ignored_by_initial: [(u16, u16); 256],
    /// What is known of each event callsite, once computed.
    callsites: CallsiteVerdicts,
    /// Share of error events and panics reported (Sentry's `sample_rate`).
    pub(crate) sample_rate: f32,
    /// Whether panics are reported (the hook is installed by `init`).
    pub(crate) report_panics: bool,
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        let mut settings = AdmissionSettings {
            event_level: Level::ERROR,
            breadcrumb_level: Level::INFO,
            event_filter: None,
            ignored_targets: Vec::new(),
            ignored_by_initial: [(0, 0); 256],
            callsites: CallsiteVerdicts::default(),
            sample_rate: DEFAULT_SAMPLE_RATE,
            report_panics: true,
        };
        for target in IGNORED_TARGETS {
            settings.ignore_target(Cow::Borrowed(target));
        }
        settings
    }
}

/// Where an event goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Not this layer's: too verbose, an ignored target, or refused by the event filter.
    Skip,
    /// A breadcrumb of its request.
    Breadcrumb,
    /// A report, if [`admit`] admits it.
    Report,
}

impl AdmissionSettings {
    /// Adds a target prefix that never becomes a report or breadcrumb.
    pub(crate) fn ignore_target(&mut self, target: Cow<'static, str>) {
        // An empty prefix never matched (no first byte): not kept.
        let Some(&first) = target.as_bytes().first() else {
            return;
        };
        let head_len = target.len().min(8);
        let mask = if head_len == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * head_len)) - 1
        };
        let at = self
            .ignored_targets
            .partition_point(|t| t.prefix.as_bytes()[0] <= first);
        self.ignored_targets.insert(
            at,
            IgnoredTarget {
                head: head_word(target.as_bytes()),
                mask,
                prefix: target,
            },
        );
        self.ignored_by_initial = [(0, 0); 256];
        self.callsites = CallsiteVerdicts::default();
        for (i, ignored) in self.ignored_targets.iter().enumerate() {
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            let range = &mut self.ignored_by_initial[usize::from(ignored.prefix.as_bytes()[0])];
            if range.0 == range.1 {
                *range = (i, i);
            }
            range.1 = i.saturating_add(1);
        }
    }

    /// Whether an event at `level` may be routed anywhere: the first check of every
    /// event, before anything else is read. (`Level` orders verbosity: TRACE > ERROR.)
    #[inline]
    pub(crate) fn may_route(&self, level: &Level) -> bool {
        *level <= self.breadcrumb_level
    }

    /// Where an event with `metadata` goes (a `log` record's normalised metadata: its
    /// own target): its target, the event filter, then its level.
    #[cfg(test)]
    pub(crate) fn route(&self, metadata: &Metadata<'_>, counters: &Counters) -> Route {
        if !self.may_route(metadata.level()) {
            return Route::Skip;
        }
        self.route_unless_ignored(metadata, self.is_ignored(metadata.target()), counters)
    }

    /// What is known of event callsite `callsite`: whether its target is ignored, and
    /// whether it is one of tracing-log's (`is_log`, asked once), whose events carry a
    /// `log` record's own metadata. Computed once per callsite, kept.
    #[inline]
    pub(crate) fn callsite(
        &self,
        callsite: &'static Metadata<'static>,
        is_log: impl FnOnce() -> bool,
        names_identity: impl FnOnce() -> bool,
    ) -> CallsiteFacts {
        self.callsites.get_or(callsite, || CallsiteFacts {
            ignored: self.is_ignored(callsite.target()),
            log: is_log(),
            names_identity: names_identity(),
        })
    }

    /// Where an event of `callsite` (`facts`: what [`callsite`](Self::callsite) says of
    /// it) goes, or of `normalized` (a `log` record's metadata, which has its own target)
    /// when given: its target, the event filter, then its level.
    #[inline]
    pub(crate) fn route_event(
        &self,
        callsite: &'static Metadata<'static>,
        facts: CallsiteFacts,
        normalized: Option<&Metadata<'_>>,
        counters: &Counters,
    ) -> Route {
        let metadata = normalized.unwrap_or(callsite);
        if !self.may_route(metadata.level()) {
            return Route::Skip;
        }
        let ignored = match normalized {
            Some(normalized) => self.is_ignored(normalized.target()),
            None => facts.ignored,
        };
        self.route_unless_ignored(metadata, ignored, counters)
    }

    #[inline]
    fn route_unless_ignored(
        &self,
        metadata: &Metadata<'_>,
        ignored: bool,
        counters: &Counters,
    ) -> Route {
        if ignored {
            return Route::Skip;
        }
        if let Some(filter) = &self.event_filter {
            if !filter.allows(metadata, counters) {
                return Route::Skip;
            }
        }
        if *metadata.level() <= self.event_level {
            Route::Report
        } else {
            Route::Breadcrumb
        }
    }

    /// Whether `target` is one of the ignored targets (at a `::` boundary).
    pub(crate) fn is_ignored(&self, target: &str) -> bool {
        let Some(&first) = target.as_bytes().first() else {
            return false;
        };
        let (start, end) = self.ignored_by_initial[usize::from(first)];
        let Some(candidates) = self
            .ignored_targets
            .get(usize::from(start)..usize::from(end))
        else {
            return false;
        };
        let head = head_word(target.as_bytes());
        candidates.iter().any(|ignored| {
            let prefix = ignored.prefix.as_ref();
            head & ignored.mask == ignored.head
                && target.starts_with(prefix)
                && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
        })
    }
}

/// Places of [`CallsiteVerdicts`].
const CALLSITE_VERDICTS: usize = 64;

/// What is known of an event callsite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallsiteFacts {
    /// Its target is ignored.
    pub(crate) ignored: bool,
    /// It is tracing-log's: its events are `log` records with metadata of their own.
    pub(crate) log: bool,
    /// Its fields include a tenant or user field: its events name an identity of their
    /// own.
    pub(crate) names_identity: bool,
}

/// [`CallsiteFacts`] per callsite, kept in a small table indexed by the callsite's
/// address: a word holds the address and the facts (its three lowest bits; metadata is
/// 8-byte aligned on 64-bit targets, elsewhere nothing is kept), so a lookup is one load
/// and a compare, and two threads storing at once lose nothing but a cached verdict. Callsites sharing a place evict each other (computed again).
struct CallsiteVerdicts([std::sync::atomic::AtomicUsize; CALLSITE_VERDICTS]);

impl Default for CallsiteVerdicts {
    fn default() -> Self {
        CallsiteVerdicts(std::array::from_fn(|_| {
            std::sync::atomic::AtomicUsize::new(0)
        }))
    }
}

impl Clone for CallsiteVerdicts {
    fn clone(&self) -> Self {
        CallsiteVerdicts::default()
    }
}

impl std::fmt::Debug for CallsiteVerdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallsiteVerdicts(..)")
    }
}

impl CallsiteVerdicts {
    /// The facts of `callsite`, computed by `facts` when not kept.
    #[inline]
    fn get_or(
        &self,
        callsite: &'static Metadata<'static>,
        facts: impl FnOnce() -> CallsiteFacts,
    ) -> CallsiteFacts {
        let address = callsite as *const Metadata<'static> as usize;
        let place = &self.0[(address >> 4 ^ address >> 10) % CALLSITE_VERDICTS];
        let kept = place.load(Ordering::Relaxed);
        if kept & !7 == address {
            return CallsiteFacts {
                ignored: kept & 1 == 1,
                log: kept & 2 == 2,
                names_identity: kept & 4 == 4,
            };
        }
        let facts = facts();
        if address & 7 == 0 {
            let bits = usize::from(facts.ignored)
                | usize::from(facts.log) << 1
                | usize::from(facts.names_identity) << 2;
            place.store(address | bits, Ordering::Relaxed);
        }
        facts
    }
}

/// An ignored target prefix, with its first (up to 8) bytes as a word and the mask of
/// those bytes: most targets differ from it in that word, compared in one step.
#[derive(Clone, Debug)]
struct IgnoredTarget {
    head: u64,
    mask: u64,
    prefix: Cow<'static, str>,
}

/// The first (up to 8) bytes of `bytes` as a little-endian word, zero-padded.
#[inline]
fn head_word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
}

/// A failure an HTTP middleware classifies (tower-http's `TraceLayer` logs every 5xx at
/// ERROR) in a request that was already reported, by the application's own `error!` or
/// a panic: one failure, one report; the classification is a breadcrumb.
/// `reported` is asked only for a middleware's target.
#[inline]
pub(crate) fn is_repeated_failure(target: &str, reported: impl FnOnce() -> bool) -> bool {
    FAILURE_CLASSIFIERS
        .iter()
        .any(|prefix| target.starts_with(prefix))
        && reported()
}

/// Whether an error event carrying error value `error` ([`EventHashes::error`])
/// in span `node` logs an error already reported inside that span in its request: one
/// failure propagated outward with `?` through nested `#[instrument(err)]` functions (as
/// sentry-python's dedupe drops an exception already captured). It becomes a breadcrumb,
/// counted (`deduplicated`). Two failures, even with the same text, in sibling spans or
/// one after the other in one span, are two reports.
pub(crate) fn is_propagated(error: Option<ErrorLinks>, node: Option<&Arc<SpanNode>>) -> bool {
    match (error, node) {
        (Some(error), Some(node)) => node.request.is_propagated(&error, node),
        _ => false,
    }
}

/// What failed.
#[derive(Clone, Copy)]
pub(crate) enum Failure<'a> {
    /// An error event, by its hashes ([`crate::flood::event_hashes`]): flood control keys
    /// it by its callsite, errors, message and tenant.
    Event(&'a EventHashes),
    /// A panic: never held back by flood control (it is rare, and may end the process).
    Panic,
}

/// What admission reads besides its settings.
pub(crate) struct Gate<'a> {
    pub(crate) settings: &'a AdmissionSettings,
    pub(crate) identity: &'a IdentityFields,
    pub(crate) flood: &'a FloodControl,
    pub(crate) counters: &'a Counters,
}

/// Whether a failure in span `node` is reported: `Some(n)`, `n` reports of its flood key
/// held back before it, or `None`, counted (`sampled_out`, `suppressed`). Sampled out or
/// not, the failure happened: the span and its request are marked errored (their
/// transaction status), and a middleware's later line about it is a breadcrumb. A report
/// not made clears the request's last event id. `wait`: the panic hook never waits.
pub(crate) fn admit(
    gate: &Gate<'_>,
    failure: Failure<'_>,
    node: Option<&Arc<SpanNode>>,
    wait: Wait,
) -> Option<u64> {
    if matches!(failure, Failure::Panic) && !gate.settings.report_panics {
        return None;
    }
    if let Some(node) = node {
        node.errored.store(true, Ordering::Relaxed);
        if node.request.mark_errored() {
            if let Some(sessions) = gate.counters.sessions() {
                sessions.failed(node, wait);
            }
        }
    }
    let not_made = |counter: &std::sync::atomic::AtomicU64| {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(node) = node {
            node.request.set_last_event_id(node.scope_key(), None, wait);
        }
    };
    let rate = gate.settings.sample_rate;
    if rate < 1.0 && fastrand::f32() >= rate {
        not_made(&gate.counters.sampled_out);
        return None;
    }
    // Flood control decides before anything is recorded or allocated.
    let admitted = match failure {
        Failure::Event(hashes) => match hashes.flood_key(|| SpanNode::scope_tenant_hash(node)) {
            Some(key) => gate.flood.admit(key),
            None => Some(0),
        },
        Failure::Panic => Some(0),
    };
    if let Some(node) = node {
        // Held back or not, the request has failed: a middleware's later line about
        // the same failure is a breadcrumb, not a second report.
        node.request.mark_reported();
    }
    if admitted.is_none() {
        not_made(&gate.counters.suppressed);
    }
    admitted
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Callsite;
    impl tracing::callsite::Callsite for Callsite {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            unreachable!("not registered")
        }
    }

    fn route(settings: &AdmissionSettings, level: Level, target: &'static str) -> Route {
        static CALLSITE: Callsite = Callsite;
        let metadata = Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::EVENT,
        );
        settings.route(&metadata, &Counters::default())
    }

    #[test]
    fn events_are_routed_by_level_target_and_filter() {
        let mut settings = AdmissionSettings::default();
        assert_eq!(route(&settings, Level::ERROR, "app"), Route::Report);
        assert_eq!(route(&settings, Level::WARN, "app"), Route::Breadcrumb);
        assert_eq!(route(&settings, Level::INFO, "app::db"), Route::Breadcrumb);
        assert_eq!(route(&settings, Level::DEBUG, "app"), Route::Skip);
        // Ignored at a `::` boundary only.
        assert_eq!(route(&settings, Level::ERROR, "hyper::client"), Route::Skip);
        assert_eq!(route(&settings, Level::ERROR, "hyper"), Route::Skip);
        assert_eq!(route(&settings, Level::ERROR, "hyperion"), Route::Report);
        settings.ignore_target(Cow::Borrowed("noisy"));
        assert_eq!(route(&settings, Level::ERROR, "noisy::x"), Route::Skip);
        settings.event_filter = Some(EventFilter(Arc::new(|m: &Metadata<'_>| {
            m.target() != "filtered"
        })));
        assert_eq!(route(&settings, Level::ERROR, "filtered"), Route::Skip);
        assert_eq!(route(&settings, Level::ERROR, "app"), Route::Report);
    }

    #[test]
    fn the_first_bytes_prefilter_agrees_with_prefix_matching() {
        let mut settings = AdmissionSettings::default();
        for prefix in ["a", "my_service::db", "noisy", "x::"] {
            settings.ignore_target(Cow::Borrowed(prefix));
        }
        let plain = |target: &str| {
            settings.ignored_targets.iter().any(|ignored| {
                let prefix = &ignored.prefix;
                target.starts_with(prefix.as_ref())
                    && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
            })
        };
        let targets = [
            "",
            "a",
            "a::b",
            "ab",
            "my_service::db",
            "my_service::dbx",
            "my_service::db::pool",
            "my_service",
            "noisy",
            "noisy::x",
            "noisyx",
            "nois",
            "tower",
            "tower::buffer",
            "towers",
            "tracing_error_reports::worker",
            "tracing_error",
            "x::",
            "x::::y",
            "hyper_util::client",
            "h2",
            "h2::proto",
            "é::a",
        ];
        for target in targets {
            assert_eq!(settings.is_ignored(target), plain(target), "{target:?}");
        }
    }

    #[test]
    fn a_callsites_verdict_is_its_own_however_many_share_a_place() {
        let settings = AdmissionSettings::default();
        let counters = Counters::default();
        let leaked = |target: &'static str| -> &'static Metadata<'static> {
            let callsite: &'static Callsite = Box::leak(Box::new(Callsite));
            Box::leak(Box::new(Metadata::new(
                "event",
                target,
                Level::INFO,
                None,
                None,
                None,
                tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(callsite)),
                tracing::metadata::Kind::EVENT,
            )))
        };
        // More callsites than places: every verdict must still be the callsite's.
        let callsites: Vec<_> = (0..4 * CALLSITE_VERDICTS)
            .map(|i| {
                leaked(if i % 3 == 0 {
                    "hyper::client"
                } else {
                    "app::db"
                })
            })
            .collect();
        for _ in 0..3 {
            for (i, callsite) in callsites.iter().enumerate() {
                let expected = if i % 3 == 0 {
                    Route::Skip
                } else {
                    Route::Breadcrumb
                };
                let facts = settings.callsite(callsite, || i % 2 == 0, || false);
                assert_eq!(facts.log, i % 2 == 0);
                assert_eq!(
                    settings.route_event(callsite, facts, None, &counters),
                    expected
                );
            }
        }
        // A `log` record's own target decides, not its callsite's.
        let log = leaked("app");
        let normalized = leaked("hyper");
        let facts = settings.callsite(log, || true, || false);
        assert_eq!(
            settings.route_event(log, facts, Some(normalized), &counters),
            Route::Skip
        );
        assert_eq!(
            settings.route_event(log, facts, None, &counters),
            Route::Breadcrumb
        );
    }

    #[test]
    fn a_middleware_line_repeats_a_failure_only_once_reported() {
        assert!(is_repeated_failure("tower_http::trace::on_failure", || {
            true
        }));
        assert!(!is_repeated_failure(
            "tower_http::trace::on_failure",
            || false
        ));
        assert!(!is_repeated_failure("app", || unreachable!(
            "not a middleware"
        )));
    }

    #[test]
    fn panics_are_sampled_but_never_held_back_and_not_reported_when_off() {
        let counters = Counters::default();
        let flood = FloodControl::new(Some(crate::flood::FloodLimit::new(
            std::num::NonZeroU32::new(1).expect("not zero"),
            std::time::Duration::from_secs(60),
        )));
        let mut settings = AdmissionSettings::default();
        let identity = IdentityFields::default();
        let panic = |settings: &AdmissionSettings| {
            let gate = Gate {
                settings,
                identity: &identity,
                flood: &flood,
                counters: &counters,
            };
            admit(&gate, Failure::Panic, None, Wait::Never)
        };
        for _ in 0..3 {
            assert_eq!(
                panic(&settings),
                Some(0),
                "flood control holds no panic back"
            );
        }
        settings.sample_rate = 0.0;
        assert_eq!(panic(&settings), None);
        assert_eq!(counters.sampled_out.load(Ordering::Relaxed), 1);
        settings.report_panics = false;
        settings.sample_rate = 1.0;
        assert_eq!(panic(&settings), None);
        assert_eq!(
            counters.sampled_out.load(Ordering::Relaxed),
            1,
            "not counted"
        );
        assert_eq!(counters.suppressed.load(Ordering::Relaxed), 0);
    }
}
