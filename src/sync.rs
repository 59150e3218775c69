//! Thread primitives the whole crate uses: how a lock is taken (the panic hook must never
//! wait, ADR-026), and whether the current thread is inside the crate's own reporting
//! code (whose events must not become reports).

use std::cell::Cell;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// The instant `timeout` from now; a timeout too long for `Instant` (`Duration::MAX`)
/// is a century, never an overflow panic.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

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

thread_local! {
    /// Set on the worker thread and while the layer handles an event: events emitted
    /// there (by the SDK, the HTTP client, or a `Debug` impl) must not become reports.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is inside this crate's own reporting code.
pub(crate) fn is_busy() -> bool {
    BUSY.with(Cell::get)
}

/// Marks the current thread busy until the returned guard drops; `None` if it already was.
pub(crate) fn enter_busy() -> Option<BusyGuard> {
    BUSY.with(|busy| (!busy.replace(true)).then_some(BusyGuard))
}

/// Marks the current thread busy for the rest of its life (the worker thread).
pub(crate) fn busy_for_good() {
    BUSY.with(|busy| busy.set(true));
}

pub(crate) struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.with(|busy| busy.set(false));
    }
}
