//! A report as the calling thread queues it: one constructor, [`PendingReport::new`], for
//! error events, panics and the request context of a direct capture.

use std::time::SystemTime;

use tracing::Metadata;

use crate::errors::CapturedError;
use crate::fields::FieldValue;
use crate::request::ScopeSnapshot;

use super::symbols::Stack;

/// What a report captures on the calling thread besides the event. Filled by
/// `ConfigBuilder` (`attach_stacktrace`, `bind_main_hub`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CaptureSettings {
    /// Whether error events carry the logging thread's stack trace.
    pub(crate) attach_stacktrace: bool,
    /// Whether reports read the main hub's scope (`bind_main_hub`): about half a
    /// microsecond per report, paid only by services that use the hub.
    pub(crate) hub_scope: bool,
}

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

/// An error event, as recorded on the calling thread.
#[derive(Debug)]
pub(crate) struct EventDetails {
    pub(crate) metadata: &'static Metadata<'static>,
    /// Set for `log` records: their own target, module, file and line.
    pub(crate) log_source: Option<LogSource>,
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
    /// The logging thread's stack (`attach_stacktrace`), captured unresolved on that
    /// thread; resolved and trimmed on the worker.
    pub(crate) stacktrace: Option<Stack>,
    /// Earlier reports of the same flood-control key that flood control held back.
    pub(crate) suppressed: u64,
}

/// A panic, as seen by the hook on the panicking thread.
#[derive(Debug)]
pub(crate) struct PanicDetails {
    pub(crate) message: String,
    pub(crate) location: Option<(String, u32)>,
    pub(crate) thread: Option<String>,
    /// Captured unresolved by the hook; resolved on the worker.
    pub(crate) stacktrace: Option<Stack>,
}

/// What a report is about.
#[derive(Debug)]
pub(crate) enum Occurrence {
    /// An error event.
    Event(EventDetails),
    /// A panic.
    Panic(PanicDetails),
    /// Nothing of its own: the request context a direct `sentry::capture_*` takes.
    RequestContext,
}

/// One report waiting for the worker.
#[derive(Debug)]
pub(crate) struct PendingReport {
    pub(crate) event_id: sentry::types::Uuid,
    pub(crate) timestamp: SystemTime,
    pub(crate) occurrence: Occurrence,
    pub(crate) scope: ScopeSnapshot,
}

impl PendingReport {
    /// A report of `occurrence` in `scope`, with a new event id, stamped now.
    #[inline]
    pub(crate) fn new(occurrence: Occurrence, scope: ScopeSnapshot) -> PendingReport {
        PendingReport {
            event_id: sentry::types::random_uuid(),
            timestamp: SystemTime::now(),
            occurrence,
            scope,
        }
    }

    /// The stack walked on the calling thread, if any.
    pub(crate) fn stack_mut(&mut self) -> Option<&mut Stack> {
        match &mut self.occurrence {
            Occurrence::Event(details) => details.stacktrace.as_mut(),
            Occurrence::Panic(details) => details.stacktrace.as_mut(),
            Occurrence::RequestContext => None,
        }
    }
}
