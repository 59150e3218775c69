//! Panics become fatal reports carrying the panicking code's span context.
//!
//! One process-wide hook is installed (once); at each panic it looks for this
//! crate's layer in the *current* subscriber, so scoped subscribers in tests and
//! several services in one process each report to their own Sentry client. The
//! previously installed hook always runs afterwards.

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use tracing::Dispatch;

use crate::layer::Shared;
use crate::report::{PanicDetails, PendingReport, ScopeSnapshot};
use crate::worker::enter_busy;

type SnapshotFn = fn(&Dispatch, &Shared) -> ScopeSnapshot;
type TraceIdFn = fn(&Dispatch, &tracing::span::Id) -> Option<sentry::protocol::TraceId>;

/// What the hook finds through `Dispatch::downcast_ref`.
pub(crate) struct DispatchContext {
    pub(crate) shared: Arc<Shared>,
    /// Set in `Layer::on_layer`, where the subscriber's concrete type is known.
    pub(crate) snapshot: Option<SnapshotFn>,
    /// Likewise: the trace id of a span's request.
    pub(crate) trace_id_of: Option<TraceIdFn>,
    pub(crate) flush_timeout: Duration,
    pub(crate) enabled: bool,
}

static INSTALL: Once = Once::new();

/// Installs the hook once per process.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report_panic(info);
            previous(info);
        }));
    });
}

fn payload_text(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    // A panic inside our own code (a `Debug` impl we called, say) is not reported:
    // the worker may be what is broken.
    let Some(_busy) = enter_busy() else {
        return;
    };
    tracing::dispatcher::get_default(|dispatch| {
        let Some(context) = dispatch.downcast_ref::<DispatchContext>() else {
            return;
        };
        if !context.enabled {
            return;
        }
        let scope = context
            .snapshot
            .map(|snapshot| snapshot(dispatch, &context.shared))
            .unwrap_or_default();
        let details = PanicDetails {
            message: payload_text(info),
            location: info.location().map(|l| (l.file().to_owned(), l.line())),
            thread: std::thread::current().name().map(str::to_owned),
            stacktrace: sentry_backtrace::current_stacktrace(),
        };
        let event_id = crate::new_event_id();
        crate::LAST_EVENT_ID.with(|last| last.set(Some(event_id)));
        context.shared.worker.send_report(PendingReport {
            event_id,
            timestamp: SystemTime::now(),
            metadata: None,
            log_source: None,
            message: None,
            fields: Vec::new(),
            errors: Vec::new(),
            panic: Some(details),
            scope,
            suppressed: 0,
        });
        context.shared.worker.flush(context.flush_timeout);
    });
}
