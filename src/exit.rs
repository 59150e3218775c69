//! Delivery at process exit. Returning from `main` and `std::process::exit` both end
//! in libc's `exit`, which kills every thread, the worker's too, without running the
//! destructors of values still alive (the layer in a global subscriber, a guard the
//! user kept in a static or dropped at once). An `atexit` hook, registered by the
//! first `init`, gives each live reporting its final flush, bounded by its shutdown
//! timeout (all at once, so the exit waits at most the longest), and says in one
//! stderr line what was not delivered, unless the guard's drop already said it for
//! the same reports.
//!
//! The hook runs after the exiting thread's thread-locals were destroyed, so it waits
//! by polling, never through blocking channel operations, `std::thread::current`,
//! `tracing` or anything else that reads them. Linux only (the `libc` dependency);
//! elsewhere the guard's drop is the final flush.

/// Registers the exit hook once per process.
pub(crate) fn deliver_at_exit() {
    #[cfg(target_os = "linux")]
    {
        static REGISTER: std::sync::Once = std::sync::Once::new();
        REGISTER.call_once(|| {
            // SAFETY: getpid has no preconditions.
            PID.store(
                unsafe { libc::getpid() },
                std::sync::atomic::Ordering::Relaxed,
            );
            // SAFETY: `at_exit` is an `extern "C" fn()` that never unwinds.
            if unsafe { libc::atexit(at_exit) } != 0 {
                eprintln!(
                    "tracing-error-reports: could not register the exit hook; \
                     reports still queued when the process exits may be lost"
                );
            }
        });
    }
}

/// The process that registered the hook: a forked child that calls `exit` has no
/// worker thread to flush through (only the forking thread is copied).
#[cfg(target_os = "linux")]
static PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

#[cfg(target_os = "linux")]
extern "C" fn at_exit() {
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != PID.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    // A panic must not unwind into libc.
    let _ = std::panic::catch_unwind(flush_live);
}

#[cfg(target_os = "linux")]
fn flush_live() {
    use std::time::Instant;

    use crate::reporting::live_reportings;
    use crate::worker::POLL;

    struct Waiting {
        reporting: std::sync::Arc<crate::reporting::Reporting>,
        accepted: u64,
        deadline: Instant,
        answer: Option<crossbeam_channel::Receiver<bool>>,
        flushed: Option<bool>,
    }
    let live = live_reportings();
    // Failed requests still open end here, unseen: release health counts them now.
    for reporting in &live {
        if let Some(sessions) = &reporting.worker.sessions {
            sessions.end_failed_at_exit();
        }
    }
    let now = Instant::now();
    // Every flush is asked for first, then all are awaited together.
    let mut waiting: Vec<Waiting> = live
        .into_iter()
        .filter(|reporting| reporting.worker.unsettled())
        .map(|reporting| {
            reporting.worker.begin_shutdown(true);
            let deadline = now
                .checked_add(reporting.worker.shutdown_timeout)
                .unwrap_or_else(|| crate::sync::deadline_after(reporting.worker.shutdown_timeout));
            Waiting {
                accepted: reporting.worker.accepted(),
                answer: reporting.worker.request_flush_polling(deadline),
                reporting,
                deadline,
                flushed: None,
            }
        })
        .collect();
    loop {
        for wait in waiting.iter_mut().filter(|w| w.flushed.is_none()) {
            wait.flushed = match &wait.answer {
                None => Some(false),
                Some(answer) => match answer.try_recv() {
                    Ok(flushed) => Some(flushed),
                    Err(crossbeam_channel::TryRecvError::Disconnected) => Some(false),
                    Err(crossbeam_channel::TryRecvError::Empty) => {
                        (Instant::now() >= wait.deadline).then_some(false)
                    }
                },
            };
        }
        if waiting.iter().all(|w| w.flushed.is_some()) {
            break;
        }
        std::thread::sleep(POLL);
    }
    for wait in waiting {
        let flushed = wait.flushed.unwrap_or(false);
        if let Some(line) = wait.reporting.worker.settle(wait.accepted, flushed) {
            eprintln!("tracing-error-reports: {line}");
        }
    }
    crate::panic::tell_if_hook_replaced();
}
