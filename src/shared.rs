//! What the layer, its spans' requests and the panic hook share: the settings
//! resolved once by `ConfigBuilder::build`, the worker and flood control.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError, Weak};
use std::time::Duration;

use tracing::{Level, Metadata};

use crate::fields::FieldValue;
use crate::flood::{FloodControl, FloodLimit};
use crate::worker::Worker;

/// How a lock is taken: the panic hook must never wait (ADR-026).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    Block,
    Never,
}

/// Locks `mutex`, ignoring poisoning; `None` only when `wait` is `Never` and it is held.
pub(crate) fn lock<T>(mutex: &Mutex<T>, wait: Wait) -> Option<MutexGuard<'_, T>> {
    match wait {
        Wait::Block => Some(mutex.lock().unwrap_or_else(|e| e.into_inner())),
        Wait::Never => match mutex.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        },
    }
}

/// A user-supplied predicate on event metadata (see `ConfigBuilder::event_filter`).
#[derive(Clone)]
pub(crate) struct EventFilter(pub(crate) Arc<dyn Fn(&Metadata<'_>) -> bool + Send + Sync>);

impl std::fmt::Debug for EventFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventFilter(..)")
    }
}

/// Settings the layer reads on every event, resolved once by `ConfigBuilder::build`
/// and moved whole into the layer by `init`.
#[derive(Clone, Debug)]
pub(crate) struct LayerSettings {
    pub(crate) event_level: Level,
    pub(crate) breadcrumb_level: Level,
    pub(crate) event_filter: Option<EventFilter>,
    pub(crate) tenant_fields: Vec<&'static str>,
    pub(crate) user_fields: Vec<&'static str>,
    pub(crate) trace_id_fields: Vec<&'static str>,
    pub(crate) max_breadcrumbs: usize,
    pub(crate) traces_sample_rate: f32,
    /// Share of error events and panics reported (Sentry's `sample_rate`).
    pub(crate) sample_rate: f32,
    /// Whether error events carry the logging thread's stack trace.
    pub(crate) attach_stacktrace: bool,
    /// Whether reports read the calling thread's hub scope (`bind_main_hub`): about
    /// half a microsecond per report, paid only by services that use the hub.
    pub(crate) hub_scope: bool,
    pub(crate) ignored_targets: Vec<Cow<'static, str>>,
    /// First bytes of the ignored targets: most targets are ruled out by one lookup.
    pub(crate) ignored_initials: [bool; 256],
    pub(crate) flood_limit: Option<FloodLimit>,
    /// Whether panics are reported (the hook is installed by `init`).
    pub(crate) report_panics: bool,
    pub(crate) panic_flush_timeout: Duration,
}

impl LayerSettings {
    pub(crate) fn initials(targets: &[Cow<'static, str>]) -> [bool; 256] {
        let mut initials = [false; 256];
        for target in targets {
            if let Some(first) = target.as_bytes().first() {
                initials[usize::from(*first)] = true;
            }
        }
        initials
    }
}

/// Everything the layer and the panic hook share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: LayerSettings,
    pub(crate) worker: Worker,
    pub(crate) flood: FloodControl,
}

/// The reporting set up by `init` that is still alive: the panic hook's last resort
/// when a panic happens outside any span and the layer cannot be found in the current
/// subscriber (inside `reload::Layer`, which hides its layer from `downcast_ref`).
/// A read-write lock: panics on many threads at once read it together.
static LIVE: RwLock<Vec<Weak<Shared>>> = RwLock::new(Vec::new());

/// Reads `LIVE` without ever waiting (only `init` writes it).
fn read_live() -> Option<std::sync::RwLockReadGuard<'static, Vec<Weak<Shared>>>> {
    match LIVE.try_read() {
        Ok(live) => Some(live),
        Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

pub(crate) fn register_live(shared: &Arc<Shared>) {
    let mut live = LIVE.write().unwrap_or_else(|e| e.into_inner());
    live.retain(|weak| weak.strong_count() > 0);
    live.push(Arc::downgrade(shared));
}

/// The live reporting whose shared state is at `key` (never waits).
pub(crate) fn live_reporting(key: usize) -> Option<Arc<Shared>> {
    let live = read_live()?;
    live.iter()
        .find(|weak| weak.as_ptr() as usize == key)
        .and_then(Weak::upgrade)
}

/// The only live reporting that reports panics, if there is exactly one (never waits).
pub(crate) fn only_live_panic_reporting() -> Option<Arc<Shared>> {
    let live = read_live()?;
    let mut found = live
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|shared| shared.settings.report_panics);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The one tenant and user rule (ADR-021): the event's own fields first, then the
/// nearest span (innermost first) that has a value; within one event or span, the
/// first name of `tenant_fields` / `user_fields` that is present wins.
pub(crate) fn identity(
    names: &[&'static str],
    fields: &[(&'static str, FieldValue)],
) -> Option<Arc<str>> {
    names.iter().find_map(|wanted| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, v)| Arc::<str>::from(v.to_text()))
    })
}

impl Shared {
    pub(crate) fn is_ignored(&self, target: &str) -> bool {
        let first = target.as_bytes().first().map_or(0, |b| usize::from(*b));
        if !self.settings.ignored_initials[first] {
            return false;
        }
        self.settings.ignored_targets.iter().any(|prefix| {
            target.starts_with(prefix.as_ref())
                && (target.len() == prefix.len() || target[prefix.len()..].starts_with("::"))
        })
    }
}
