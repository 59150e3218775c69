//! When the panic hook waits for delivery (issue 16, delivery fault b). Its own
//! process without the test harness, so that `main` runs on the real main thread:
//! - a panic in a task on a tokio worker thread returns to the runtime while the
//!   transport is still blocked (the hook never flushed), and its report is
//!   delivered once the transport goes on;
//! - a panic on the main thread (which ends the process unless caught) is flushed
//!   before the hook returns.
//!
//! No clocks: the transport blocks until released and counts the flushes it is asked
//! for, so "did not wait" and "waited" are both facts, not durations.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sentry::protocol::{Event, Level};
use sentry::{Envelope, Transport};
use tracing::{error, info_span, Instrument};
use tracing_error_reports::Config;
use tracing_subscriber::prelude::*;

#[derive(Default)]
struct State {
    /// Whether `send_envelope` may return.
    open: bool,
    /// Calls of `send_envelope` that have begun.
    entered: usize,
    /// Flushes the worker asked the transport for.
    flushes: usize,
    events: Vec<Event<'static>>,
}

/// A transport that holds every envelope until released.
#[derive(Default)]
struct Gate {
    state: Mutex<State>,
    changed: Condvar,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (bounded, so a broken hook fails the run instead of hanging it) until
    /// `done` holds.
    fn wait_until(&self, done: impl Fn(&State) -> bool) -> std::sync::MutexGuard<'_, State> {
        let (state, _) = self
            .changed
            .wait_timeout_while(self.lock(), Duration::from_secs(60), |s| !done(s))
            .unwrap_or_else(|e| e.into_inner());
        state
    }

    fn release(&self) {
        self.lock().open = true;
        self.changed.notify_all();
    }
}

impl Transport for Gate {
    fn send_envelope(&self, envelope: Envelope) {
        let mut state = self.lock();
        state.entered += 1;
        self.changed.notify_all();
        // Bounded: a hook that waited for this fails the run (once the waits time out)
        // rather than hanging it.
        let (mut state, _) = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(60), |s| !s.open)
            .unwrap_or_else(|e| e.into_inner());
        if let Some(event) = envelope.event() {
            state.events.push(event.clone());
        }
        self.changed.notify_all();
    }

    fn flush(&self, _timeout: Duration) -> bool {
        self.lock().flushes += 1;
        true
    }
}

fn main() {
    // Installed before `init`, whose hook runs first and then this one: the test's own
    // panics stay quiet, any other is shown.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.to_string();
        if !text.contains("in a task") && !text.contains("on main") {
            default_hook(info);
        }
    }));
    let gate = Arc::new(Gate::default());
    let config = Config::builder()
        .dsn("http://key@127.0.0.1:9/1")
        .install_panic_hook(true)
        // Long enough that a hook waiting for delivery could not go unnoticed.
        .panic_flush_timeout(Duration::from_secs(600))
        .build()
        .expect("valid config");
    let (layer, guard) = tracing_error_reports::init_with_transport(config, Arc::new(gate.clone()));
    tracing_subscriber::registry()
        .with(layer.expect("reporting on"))
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // The transport is now holding the first report: the worker is stuck behind it.
    error!(tenant_id = "acme", "first report");
    drop(gate.wait_until(|s| s.entered == 1));

    let joined = runtime.block_on(async {
        tokio::spawn(
            async { panic!("invoice overflowed in a task") }
                .instrument(info_span!("request", tenant_id = "globex")),
        )
        .await
    });
    assert!(joined.is_err_and(|e| e.is_panic()), "the task panicked");
    // Read, then assert with the lock released: a failed assertion on the main thread
    // flushes, and the worker needs the transport's lock to finish.
    let (open, entered, flushes, delivered) = {
        let state = gate.lock();
        (state.open, state.entered, state.flushes, state.events.len())
    };
    assert!(
        !open && entered == 1 && flushes == 0 && delivered == 0,
        "the panicking task returned while the transport was still blocked, and nothing \
         was flushed (entered {entered}, flushes {flushes}, delivered {delivered})"
    );
    assert_eq!(guard.stats().queued, 2, "the panic's report is queued");
    println!("task panic: returned to the runtime with the transport blocked, 0 flushes");

    gate.release();
    let fatal = gate
        .wait_until(|s| s.events.len() == 2)
        .events
        .iter()
        .find(|e| e.level == Level::Fatal)
        .cloned()
        .expect("the task's panic is delivered once the transport goes on");
    assert_eq!(
        fatal.tags.get("tenant_id").map(String::as_str),
        Some("globex")
    );
    let frames = fatal
        .exception
        .values
        .last()
        .and_then(|e| e.stacktrace.as_ref())
        .map_or(0, |s| s.frames.len());
    assert!(frames > 0, "its stack was resolved on the worker");

    // A panic on the main thread may end the process: the hook flushes before returning.
    let caught = std::panic::catch_unwind(|| {
        let _request = info_span!("request", tenant_id = "initech").entered();
        panic!("ledger corrupt on main");
    });
    assert!(caught.is_err());
    let (flushes, fatal) = {
        let state = gate.lock();
        let fatal = state
            .events
            .iter()
            .filter(|e| e.level == Level::Fatal)
            .count();
        (state.flushes, fatal)
    };
    assert_eq!(flushes, 1, "the main thread's panic was flushed");
    assert_eq!(fatal, 2, "and was handed over before the hook returned");
    println!("main-thread panic: flushed before the hook returned");
    println!("panic_wait: 2 passed, 0 failed");
}
