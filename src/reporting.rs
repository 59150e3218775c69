//! The reporting `init` started, shared by the layer, the panic hook, direct captures
//! and the guard: its settings, the worker and flood control; and the registry of the
//! live ones, through which the panic hook and direct captures find theirs without
//! waiting.

use std::sync::{Arc, RwLock, TryLockError, Weak};
use std::time::Duration;

use crate::admission::{AdmissionSettings, Gate};
use crate::flood::{FloodControl, FloodLimit, DEFAULT_FLOOD_LIMIT};
use crate::logs::LogSettings;
use crate::metrics::MetricSettings;
use crate::report::CaptureSettings;
use crate::request::RequestSettings;
use crate::scrub::Scrubber;
use crate::worker::{PiiConfigStats, ReportStats, Worker};

/// How long a panic that may end the process waits for its report by default.
pub(crate) const DEFAULT_PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything the layer and the panic hook read, each part the settings type of the
/// module that reads it. Filled by `ConfigBuilder`, moved whole into [`Reporting`] by `init`.
#[derive(Clone, Debug)]
pub(crate) struct ReportingSettings {
    pub(crate) admission: AdmissionSettings,
    pub(crate) requests: RequestSettings,
    pub(crate) capture: CaptureSettings,
    pub(crate) logs: LogSettings,
    pub(crate) metrics: MetricSettings,
    pub(crate) flood_limit: Option<FloodLimit>,
    /// How long a panic that may end the process waits for its report's delivery.
    pub(crate) panic_flush_timeout: Duration,
    /// Whether the panic hook prints std's panic lines scrubbed instead of calling std's
    /// default hook.
    pub(crate) scrub_panic_output: bool,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        ReportingSettings {
            admission: AdmissionSettings::default(),
            requests: RequestSettings::default(),
            capture: CaptureSettings::default(),
            logs: LogSettings::default(),
            metrics: MetricSettings::default(),
            flood_limit: Some(DEFAULT_FLOOD_LIMIT),
            panic_flush_timeout: DEFAULT_PANIC_FLUSH_TIMEOUT,
            scrub_panic_output: true,
        }
    }
}

/// One live reporting: what the layer, the panic hook and the guard share.
#[derive(Debug)]
pub(crate) struct Reporting {
    pub(crate) settings: ReportingSettings,
    pub(crate) worker: Worker,
    pub(crate) flood: FloodControl,
    /// Flood control of structured logs (per callsite and tenant).
    pub(crate) log_flood: FloodControl,
    /// Flood control of metrics (per callsite and tenant).
    pub(crate) metric_flood: FloodControl,
    /// The scrubber of every envelope, for what the panic hook prints.
    pub(crate) scrubber: Arc<Scrubber>,
}

impl Reporting {
    pub(crate) fn new(
        settings: ReportingSettings,
        worker: Worker,
        scrubber: Arc<Scrubber>,
    ) -> Reporting {
        Reporting {
            flood: FloodControl::new(settings.flood_limit),
            log_flood: FloodControl::new(settings.logs.flood_limit),
            metric_flood: FloodControl::new(settings.metrics.flood_limit),
            settings,
            worker,
            scrubber,
        }
    }

    /// The counts [`ReportingGuard::stats`](crate::ReportingGuard::stats) gives: the
    /// worker's, and the project's PiiConfig matches (kept by the scrubber).
    pub(crate) fn stats(&self) -> ReportStats {
        let mut stats = self.worker.counters.snapshot();
        if let Some(config) = self.scrubber.pii_config() {
            stats.pii_config = PiiConfigStats {
                dry_run: config.is_dry_run(),
                matches: config.matches(),
            };
        }
        stats
    }

    /// What [`admit`](crate::admission::admit) reads.
    #[inline]
    pub(crate) fn gate(&self) -> Gate<'_> {
        Gate {
            settings: &self.settings.admission,
            identity: &self.settings.requests.identity,
            flood: &self.flood,
            counters: &self.worker.counters,
        }
    }

    /// Identifies this reporting in per-thread state and in requests: its address.
    #[inline]
    pub(crate) fn key(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }
}

/// The reporting set up by `init` that is still alive: the panic hook's last resort
/// when a panic happens outside any span and the layer cannot be found in the current
/// subscriber (inside `reload::Layer`, which hides its layer from `downcast_ref`).
/// A read-write lock: panics on many threads at once read it together.
static LIVE: RwLock<Vec<Weak<Reporting>>> = RwLock::new(Vec::new());

/// Reads `LIVE` without ever blocking (only `init` writes it, for the instant of a
/// push): a bounded spin rides out that instant, where giving up at once lost the
/// report of a panic that coincided with another `init` (1 in 1,000 in
/// `tests/isolation_panics.rs`, whose tests start reportings while others panic).
fn read_live() -> Option<std::sync::RwLockReadGuard<'static, Vec<Weak<Reporting>>>> {
    for _ in 0..LIVE_SPINS {
        match LIVE.try_read() {
            Ok(live) => return Some(live),
            Err(TryLockError::Poisoned(e)) => return Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    }
    None
}

/// Tries of [`read_live`]: a push under the write lock takes well under a microsecond.
const LIVE_SPINS: u32 = 10_000;

pub(crate) fn register_live(reporting: &Arc<Reporting>) {
    let mut live = LIVE.write().unwrap_or_else(|e| e.into_inner());
    live.retain(|weak| weak.strong_count() > 0);
    live.push(Arc::downgrade(reporting));
}

/// The live reporting whose shared state is at `key` (never waits).
pub(crate) fn live_reporting(key: usize) -> Option<Arc<Reporting>> {
    let live = read_live()?;
    live.iter()
        .find(|weak| weak.as_ptr() as usize == key)
        .and_then(Weak::upgrade)
}

/// The only live reporting that reports panics, if there is exactly one (never waits).
pub(crate) fn only_live_panic_reporting() -> Option<Arc<Reporting>> {
    let live = read_live()?;
    let mut found = live
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|reporting| reporting.settings.admission.report_panics);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Every live reporting (never waits; empty if `init` holds the registry right now).
pub(crate) fn live_reportings() -> Vec<Arc<Reporting>> {
    read_live()
        .map(|live| live.iter().filter_map(Weak::upgrade).collect())
        .unwrap_or_default()
}
