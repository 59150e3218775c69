//! Panics become fatal reports carrying the panicking code's span context.
//!
//! One process-wide hook is installed (once). At each panic it finds this crate's
//! reporting without the registry and without waiting on any lock (ADR-026): through
//! the innermost span the layer saw entered on this thread (so it works wherever the
//! layer sits: `reload::Layer`, `with_filter`, `Option`, `Vec<Box<dyn Layer>>`, any
//! `Layered` order), else through the current subscriber (`downcast_ref`), else the
//! only reporting alive in the process. Span data another thread holds is left out
//! rather than waited for. The previously installed hook always runs afterwards.
//!
//! The hook waits for delivery only when the process is about to end: on the main
//! thread (its panic ends the process unless caught) and when panics abort. A panic on
//! any other thread (a tokio worker running a task, a spawned thread) queues its report
//! and returns at once: that thread goes on running other tasks, and the worker and
//! HTTP threads deliver the report as they deliver every other. The stack is captured
//! unresolved; symbols (the slow part, up to a second for the first panic of a debug
//! build) are resolved on the worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};

use crate::admission::{admit, Failure};
use crate::entered;
use crate::identity::{Identity, IdentityKey};
use crate::layer::ErrorReportLayer;
use crate::report::{Occurrence, PanicDetails, PendingReport, Stack};
use crate::reporting::{live_reporting, only_live_panic_reporting, Reporting};
use crate::request::SpanNode;
use crate::scrub::Scrubber;
use crate::sync::{enter_busy, Wait};

static INSTALL: Once = Once::new();

/// What std's panic lines are scrubbed with when no reporting is live: set by an `init`
/// that left reporting off.
static OFFLINE_SCRUBBER: OnceLock<Arc<Scrubber>> = OnceLock::new();

/// Installs the hook for a process whose reporting is off: it reports nothing, but
/// prints std's panic lines scrubbed with `scrubber`, as when reporting is on.
pub(crate) fn install_offline_hook(scrubber: Arc<Scrubber>) {
    let _ = OFFLINE_SCRUBBER.set(scrubber);
    install_hook();
}

/// Installs the hook once per process.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        // `take_hook` left std's default hook in place: taking it again gives a box of
        // it, whose vtable is the previous hook's only if that was std's default too.
        let default = std::panic::take_hook();
        #[allow(ambiguous_wide_pointer_comparisons)]
        let previous_is_std = std::ptr::eq(&*previous, &*default);
        drop(default);
        let hook: Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send> =
            Box::new(move |info| {
                let reporting = report_panic(info);
                // Reporting off (no DSN, an invalid one): stderr is still a sink.
                let scrubber = match &reporting {
                    Some(r) => r.settings.scrub_panic_output.then_some(&r.scrubber),
                    None => OFFLINE_SCRUBBER.get(),
                };
                match scrubber.filter(|_| previous_is_std) {
                    Some(scrubber) => print_scrubbed(info, scrubber),
                    None => previous(info),
                }
            });
        OURS.store(hook_address(&*hook), Ordering::Relaxed);
        std::panic::set_hook(hook);
    });
}

/// The address of the installed hook's captured state (never moves: it is boxed).
static OURS: AtomicUsize = AtomicUsize::new(0);
static REPLACED_TOLD: AtomicBool = AtomicBool::new(false);

fn hook_address(hook: &(dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send)) -> usize {
    (hook as *const (dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send)).cast::<()>() as usize
}

/// Says once on stderr when the hook `init` installed was replaced since
/// (`color_eyre::install()` or `std::panic::set_hook` after `init`): panics are then
/// not reported. Looked at by taking the hook and putting it back at once, so a panic
/// on another thread in between would miss it: called only by the exit hook, when the
/// process is ending (a guard dropped while other threads run, as tests do, lost
/// 4 of 1,000 concurrent panic reports in `tests/isolation_panics.rs`).
pub(crate) fn tell_if_hook_replaced() {
    let ours = OURS.load(Ordering::Relaxed);
    if ours == 0 || std::thread::panicking() || REPLACED_TOLD.load(Ordering::Relaxed) {
        return;
    }
    let hook = std::panic::take_hook();
    // Another hook with state of its own (color-eyre's): std's default hook, which a
    // test harness puts back before the process exits, is stateless and not counted.
    let replaced = hook_address(&*hook) != ours && std::mem::size_of_val(&*hook) != 0;
    std::panic::set_hook(hook);
    if replaced && !REPLACED_TOLD.swap(true, Ordering::Relaxed) {
        eprintln!(
            "tracing-error-reports: the panic hook `init` installed was replaced \
             (`color_eyre::install()` or `std::panic::set_hook` after `init`): panics were \
             not reported. Install the other hook before `init`; this crate's hook then \
             runs first and calls it"
        );
    }
}

/// Whether std's note about `RUST_BACKTRACE` was printed (std prints it once).
static NOTE_PRINTED: AtomicBool = AtomicBool::new(false);

/// How std's panic hook prints a backtrace: `RUST_BACKTRACE` unset or `0` none, `full`
/// every frame, anything else the short form. `RUST_LIB_BACKTRACE` is for
/// `Backtrace::capture` only; std's hook ignores it, and so does this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BacktraceStyle {
    Off,
    Short,
    Full,
}

fn backtrace_style(value: Option<&std::ffi::OsStr>) -> BacktraceStyle {
    match value {
        None => BacktraceStyle::Off,
        Some(v) if v == "0" => BacktraceStyle::Off,
        Some(v) if v == "full" => BacktraceStyle::Full,
        Some(_) => BacktraceStyle::Short,
    }
}

/// What std's default hook prints, with the message scrubbed by the reporting's rules:
/// `thread '<name>' (<OS thread id>) panicked at <location>:`, the message, and the
/// backtrace as `RUST_BACKTRACE` asks (short: only the frames between std's
/// short-backtrace markers, so none of the hooks'), else std's note, once.
fn print_scrubbed(info: &std::panic::PanicHookInfo<'_>, scrubber: &Scrubber) {
    let message = payload_text(info);
    let mut found = crate::scrub::ScrubReport::default();
    let message = scrubber.scrub_for_sink("message", &message, &mut found);
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let id = os_thread_id()
        .map(|id| format!(" ({id})"))
        .unwrap_or_default();
    let mut text = match info.location() {
        Some(location) => format!("\nthread '{name}'{id} panicked at {location}:\n{message}\n"),
        None => format!("\nthread '{name}'{id} panicked:\n{message}\n"),
    };
    match backtrace_style(std::env::var_os("RUST_BACKTRACE").as_deref()) {
        BacktraceStyle::Off => {
            if !NOTE_PRINTED.swap(true, Ordering::Relaxed) {
                text.push_str(
                    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
                );
            }
        }
        BacktraceStyle::Full => {
            let backtrace = std::backtrace::Backtrace::force_capture();
            text.push_str(&format!("stack backtrace:\n{backtrace:#}\n"));
        }
        BacktraceStyle::Short => {
            let backtrace = std::backtrace::Backtrace::force_capture().to_string();
            text.push_str("stack backtrace:\n");
            text.push_str(&short_backtrace(&backtrace));
            text.push_str(
                "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
            );
        }
    }
    // `eprint!`, as std's hook: a test harness's output capture gets it too.
    eprint!("{text}");
}

#[cfg(target_os = "linux")]
fn os_thread_id() -> Option<i64> {
    // SAFETY: gettid has no preconditions and cannot fail.
    Some(i64::from(unsafe { libc::gettid() }))
}

#[cfg(not(target_os = "linux"))]
fn os_thread_id() -> Option<i64> {
    None
}

/// The frames of a printed `std::backtrace::Backtrace` that std's short style shows:
/// after the last `__rust_end_short_backtrace` frame (the panic machinery and hooks
/// above it go) and before the first `__rust_begin_short_backtrace` after it (the
/// runtime's start below it goes), numbered from 0 again. Without the markers (a
/// build without symbols), every frame.
fn short_backtrace(printed: &str) -> String {
    let mut frames: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in printed.lines() {
        let trimmed = line.trim_start();
        let header = trimmed
            .split_once(": ")
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        match (header, frames.last_mut()) {
            (Some((_, symbol)), _) => frames.push((symbol, Vec::new())),
            (None, Some((_, rest))) => rest.push(line),
            (None, None) => {}
        }
    }
    let start = frames
        .iter()
        .rposition(|(symbol, _)| symbol.contains("__rust_end_short_backtrace"))
        .map_or(0, |i| i + 1);
    let end = frames[start..]
        .iter()
        .position(|(symbol, _)| symbol.contains("__rust_begin_short_backtrace"))
        .map_or(frames.len(), |i| start + i);
    let mut out = String::new();
    for (n, (symbol, rest)) in frames[start..end].iter().enumerate() {
        out.push_str(&format!("{n:4}: {symbol}\n"));
        for line in rest {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
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

/// Reports the panic; returns the reporting it belongs to (also when the panic was not
/// admitted), `None` when there is none or the panic came from this crate's own code.
fn report_panic(info: &std::panic::PanicHookInfo<'_>) -> Option<Arc<Reporting>> {
    // A panic inside our own code (a `Debug` impl we called, say) is not reported:
    // the worker may be what is broken.
    let _busy = enter_busy()?;
    let node = entered::innermost();
    // Whether or not it is reported, the request crashed (release health).
    let first_failure = node
        .as_ref()
        .is_some_and(|node| node.request.mark_crashed());
    let reporting: Option<Arc<Reporting>> = match &node {
        Some(node) => live_reporting(node.request.layer),
        None => tracing::dispatcher::get_default(|dispatch| {
            dispatch
                .downcast_ref::<ErrorReportLayer>()
                .map(|layer| layer.reporting.clone())
        })
        .or_else(only_live_panic_reporting),
    };
    let reporting = reporting?;
    if let (true, Some(node), Some(sessions)) = (first_failure, &node, &reporting.worker.sessions) {
        sessions.failed(node, Wait::Never);
    }
    if admit(
        &reporting.gate(),
        Failure::Panic,
        node.as_ref(),
        Wait::Never,
    )
    .is_none()
    {
        return Some(reporting);
    }
    let scope = SpanNode::snapshot(node.as_ref(), Identity::default(), Wait::Never);
    let key = IdentityKey::of(&scope.identity);
    let details = PanicDetails {
        message: payload_text(info),
        location: info.location().map(|l| (l.file().to_owned(), l.line())),
        thread: std::thread::current().name().map(str::to_owned),
        stacktrace: Some(Stack::here()),
    };
    let report = PendingReport::new(Occurrence::Panic(details), scope);
    let event_id = report.event_id;
    let queued = reporting.worker.send_report(report);
    if let Some(node) = &node {
        node.request
            .set_last_event_id(key, queued.then_some(event_id), Wait::Never);
    }
    if process_may_end() {
        reporting
            .worker
            .flush(reporting.settings.panic_flush_timeout);
    }
    Some(reporting)
}

/// Whether this panic may end the process: panics abort, or it is the main thread's
/// (std names it `main`), whose unwinding ends the process unless the panic is caught.
/// Other threads' panics end only that thread or task, so the hook must not hold them.
fn process_may_end() -> bool {
    cfg!(panic = "abort") || std::thread::current().name() == Some("main")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backtrace_style_is_read_as_std_reads_it() {
        use std::ffi::OsStr;
        assert_eq!(backtrace_style(None), BacktraceStyle::Off);
        assert_eq!(backtrace_style(Some(OsStr::new("0"))), BacktraceStyle::Off);
        assert_eq!(
            backtrace_style(Some(OsStr::new("full"))),
            BacktraceStyle::Full
        );
        assert_eq!(
            backtrace_style(Some(OsStr::new("1"))),
            BacktraceStyle::Short
        );
        assert_eq!(
            backtrace_style(Some(OsStr::new("yes"))),
            BacktraceStyle::Short
        );
    }

    #[test]
    fn a_short_backtrace_keeps_the_frames_between_std_markers_renumbered() {
        let printed = "   0: tracing_error_reports::panic::hook\n             at src/panic.rs:1:1\n   1: std::panicking::panic_with_hook\n   2: std::sys::backtrace::__rust_end_short_backtrace\n   3: std::panicking::begin_panic\n             at std/panicking.rs:9:5\n   4: service::handler\n             at src/main.rs:5:5\n   5: std::sys::backtrace::__rust_begin_short_backtrace\n   6: std::rt::lang_start\n";
        let short = short_backtrace(printed);
        assert_eq!(
            short,
            "   0: std::panicking::begin_panic\n             at std/panicking.rs:9:5\n   1: service::handler\n             at src/main.rs:5:5\n"
        );
        // A build without the markers keeps every frame.
        let bare = "   0: a\n   1: b\n";
        assert_eq!(short_backtrace(bare), bare);
    }

    #[test]
    fn a_real_backtrace_taken_in_a_hook_loses_the_hook_frames() {
        let captured = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = captured.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |_| {
            let printed = std::backtrace::Backtrace::force_capture().to_string();
            if let Ok(mut s) = sink.lock() {
                *s = short_backtrace(&printed);
            }
        }));
        let _ = std::panic::catch_unwind(|| panic!("x"));
        std::panic::set_hook(previous);
        let short = captured.lock().map(|s| s.clone()).unwrap_or_default();
        // The hook's own frames and the panic machinery above std's marker are gone.
        assert!(!short.contains("force_capture"), "{short}");
        assert!(!short.contains("panic_with_hook"), "{short}");
        assert!(
            short.contains("a_real_backtrace_taken_in_a_hook_loses_the_hook_frames"),
            "{short}"
        );
        assert!(!short.contains("short_backtrace"), "{short}");
    }
}
