//! A stack's symbols, looked up on a thread of their own.
//!
//! The first lookup loads the binary's debug info: milliseconds in a warm release build,
//! seconds in a debug build or from a cold disk (4.9 s seen by a newcomer, 1 s+ on a CI
//! machine just after the build). The worker must not stall on it (every other tenant's
//! reports wait, and a `process::exit` flush loses them), and the report must not lose
//! its frames either (the first panic is often the one that matters). So the worker
//! waits [`FIRST_WAIT`] (only when no other stack is ahead in line), then sets the
//! report aside and goes on; the report is sent
//! when its symbols arrive, at the latest after [`LONGEST_WAIT`] or at a flush, with
//! addresses only.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long the worker waits for a stack's symbols before it sets the report aside.
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(200);

/// How long a report set aside waits for its symbols before it goes with addresses.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Stacks waiting for the symbols thread; past that, a stack goes with addresses (a
/// panic storm must not queue unbounded clones of stacks).
const QUEUE: usize = 64;

/// A stack walked on the calling thread, its symbols looked up on the worker's side.
#[derive(Debug)]
pub(crate) struct Stack {
    pub(crate) backtrace: backtrace::Backtrace,
    /// Symbols looked up, or given up on: conversion looks up no more.
    pub(crate) settled: bool,
}

impl Stack {
    /// The calling thread's stack, walked now, without symbols.
    pub(crate) fn here() -> Stack {
        Stack {
            backtrace: backtrace::Backtrace::new_unresolved(),
            settled: false,
        }
    }
}

/// A lookup in progress.
pub(crate) struct Lookup {
    resolved: Receiver<backtrace::Backtrace>,
    /// Whether the symbols thread had nothing else to do when it was asked: only then is
    /// waiting for it worth the worker's time (behind a backlog, a panic storm's 60
    /// stacks, each wait would run out and add up).
    pub(crate) first_in_line: bool,
}

/// Stacks given to the symbols thread and not yet answered.
static BACKLOG: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What became of a lookup.
pub(crate) enum Looked {
    Resolved(backtrace::Backtrace),
    NotYet,
    /// The symbols thread is gone: no symbols will come.
    Never,
}

impl Lookup {
    pub(crate) fn wait(&self, wait: Duration) -> Looked {
        match self.resolved.recv_timeout(wait) {
            Ok(resolved) => Looked::Resolved(resolved),
            Err(RecvTimeoutError::Timeout) => Looked::NotYet,
            Err(RecvTimeoutError::Disconnected) => Looked::Never,
        }
    }
}

type Job = (backtrace::Backtrace, SyncSender<backtrace::Backtrace>);

fn jobs() -> Option<&'static Mutex<SyncSender<Job>>> {
    static JOBS: OnceLock<Option<Mutex<SyncSender<Job>>>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("sentry-symbols".into())
            .spawn(move || {
                for (mut backtrace, reply) in rx {
                    slow_down();
                    backtrace.resolve();
                    BACKLOG.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                    let _ = reply.send(backtrace);
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    })
    .as_ref()
}

/// Starts looking up `backtrace`'s symbols; `None` when no thread can be had or its
/// queue is full.
pub(crate) fn look_up(backtrace: &backtrace::Backtrace) -> Option<Lookup> {
    use std::sync::atomic::Ordering;
    let (reply, resolved) = sync_channel(1);
    let jobs = jobs()?.lock().unwrap_or_else(|e| e.into_inner());
    let before = BACKLOG.fetch_add(1, Ordering::AcqRel);
    if jobs.try_send((backtrace.clone(), reply)).is_err() {
        BACKLOG.fetch_sub(1, Ordering::AcqRel);
        return None;
    }
    Some(Lookup {
        resolved,
        first_in_line: before == 0,
    })
}

/// Settles `stack` within `wait`: its symbols, or its addresses only.
pub(crate) fn settle_within(stack: &mut Stack, wait: Duration) {
    if stack.settled {
        return;
    }
    stack.settled = true;
    if let Some(lookup) = look_up(&stack.backtrace) {
        let wait = if lookup.first_in_line {
            wait
        } else {
            Duration::ZERO
        };
        if let Looked::Resolved(resolved) = lookup.wait(wait) {
            stack.backtrace = resolved;
        }
    }
}

/// An added delay before each lookup, to test a slow symbolizer (`testing` feature).
static DELAY_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn slow_down() {
    let ms = DELAY_MS.load(std::sync::atomic::Ordering::Relaxed);
    if ms > 0 {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Makes every later symbol lookup take `delay` longer (tests of a slow symbolizer).
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn set_lookup_delay(delay: Duration) {
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    DELAY_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved_frames(backtrace: &backtrace::Backtrace) -> usize {
        backtrace
            .frames()
            .iter()
            .filter(|f| !f.symbols().is_empty())
            .count()
    }

    #[test]
    fn a_slow_lookup_is_given_up_on_and_a_settled_stack_is_looked_up_no_more() {
        let mut stack = Stack::here();
        settle_within(&mut stack, Duration::from_secs(60));
        assert!(stack.settled);
        assert!(resolved_frames(&stack.backtrace) > 0);

        // A lookup that takes longer than the wait: addresses only, settled.
        set_lookup_delay(Duration::from_millis(500));
        let mut slow = Stack::here();
        settle_within(&mut slow, Duration::from_millis(10));
        set_lookup_delay(Duration::ZERO);
        assert!(slow.settled);
        assert_eq!(resolved_frames(&slow.backtrace), 0);
        assert!(!slow.backtrace.frames().is_empty());
        settle_within(&mut slow, Duration::from_secs(60));
        assert_eq!(
            resolved_frames(&slow.backtrace),
            0,
            "settled: not looked up again"
        );

        // The slow lookup still finishes, and a later one is answered after it.
        let lookup = look_up(&Stack::here().backtrace).expect("queued");
        match lookup.wait(Duration::from_secs(60)) {
            Looked::Resolved(resolved) => assert!(resolved_frames(&resolved) > 0),
            _ => panic!("the symbols thread answers"),
        }
    }
}
