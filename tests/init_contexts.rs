//! `init` in every context a service calls it from, in a debug build, with a DSN: it
//! returns at once, reports arrive, and dropping the guard there does not panic.
//! (reqwest's blocking client owns a runtime; built or dropped inside an async context
//! it panics with "Cannot drop a runtime in a context where blocking is not allowed".)

mod common;

use common::{harness, Harness, WAIT};
use tracing_subscriber::prelude::*;

/// Logs one error through the harness's layer and checks it arrived; drops the guard
/// (and so flushes) on the calling thread, whatever context that is.
fn report_and_drop(context: &str) {
    let Harness {
        receiver,
        layer,
        guard,
    } = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!(context, "reported from {context}");
    });
    drop(guard);
    let events = receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1, "{context}: the report arrives");
    let expected = format!("reported from {context}");
    assert_eq!(events[0].message.as_deref(), Some(expected.as_str()));
}

/// As `#[tokio::main]` writes it: the macro on a function that is not `main`.
#[tokio::main]
async fn multi_thread_main() {
    report_and_drop("tokio::main (multi-thread)");
}

#[tokio::main(flavor = "current_thread")]
async fn current_thread_main() {
    report_and_drop("tokio::main (current-thread)");
}

#[test]
fn init_inside_tokio_main_multi_thread() {
    multi_thread_main();
}

#[test]
fn init_inside_tokio_main_current_thread() {
    current_thread_main();
}

#[tokio::test]
async fn init_inside_tokio_test() {
    report_and_drop("tokio::test");
}

async fn start_service() {
    report_and_drop("async fn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_inside_an_async_fn_on_a_spawned_task() {
    tokio::spawn(start_service()).await.expect("task finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_inside_spawn_blocking() {
    tokio::task::spawn_blocking(|| report_and_drop("spawn_blocking"))
        .await
        .expect("blocking task finished");
}

#[test]
fn a_guard_made_outside_and_dropped_inside_an_async_context_does_not_panic() {
    let Harness {
        receiver,
        layer,
        guard,
    } = harness(|b| b);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        tracing::dispatcher::with_default(&dispatch, || tracing::error!("from a task"));
        drop(dispatch);
        drop(guard);
    });
    assert_eq!(receiver.wait_for_events(1, WAIT).len(), 1);
}
