//! Panics and `link_trace` wherever the layer sits (issue 11, sections 5 and 6):
//! inside `reload::Layer`, `with_filter`, `Option`, `Vec<Box<dyn Layer>>` and either
//! `Layered` order with fmt; and a panic raised while fmt holds a span's extensions
//! lock never hangs the hook. 1,000 interleaved tasks over 50 tenants per
//! configuration; each prints reports checked and wrong. (Own binary: the panic hook
//! is process-wide.)

mod isolation_support;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, Once};
use std::time::Duration;

use isolation_support::{crumb_tasks, runtime, setup, tag, tenant, Tally, TASKS};
use tracing::instrument::WithSubscriber;
use tracing::{info, info_span, Dispatch, Instrument};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Layer, Registry};

/// Panic messages the previously installed hook saw, and how often.
static PREVIOUS_HOOK_SAW: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

/// Installs a quiet hook that records messages, before any `init` wraps it.
fn previous_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if !text.contains(" task ") {
                // Not one of the tests' own panics (a failed assertion): show it.
                eprintln!("panic: {text} at {:?}", info.location());
            }
            let mut saw = PREVIOUS_HOOK_SAW.lock().unwrap_or_else(|e| e.into_inner());
            *saw.get_or_insert_with(HashMap::new)
                .entry(text)
                .or_default() += 1;
        }));
    });
}

fn previous_hook_saw(message: &str) -> usize {
    let saw = PREVIOUS_HOOK_SAW.lock().unwrap_or_else(|e| e.into_inner());
    saw.as_ref()
        .and_then(|m| m.get(message).copied())
        .unwrap_or(0)
}

fn sink_fmt<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer().with_writer(std::io::sink)
}

#[derive(Clone, Copy, Debug)]
enum Placement {
    Reload,
    WithFilter,
    Option,
    VecOfBoxes,
    AfterFmt,
    BeforeFmt,
}

fn dispatch_with(placement: Placement, layer: tracing_error_reports::ErrorReportLayer) -> Dispatch {
    match placement {
        Placement::Reload => {
            let (layer, handle) = tracing_subscriber::reload::Layer::new(Some(layer));
            // Keep the handle alive, as a service that reloads would.
            std::mem::forget(handle);
            Dispatch::new(tracing_subscriber::registry().with(layer))
        }
        Placement::WithFilter => {
            Dispatch::new(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)))
        }
        Placement::Option => Dispatch::new(tracing_subscriber::registry().with(Some(layer))),
        Placement::VecOfBoxes => {
            let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> =
                vec![sink_fmt().boxed(), layer.boxed()];
            Dispatch::new(tracing_subscriber::registry().with(layers))
        }
        Placement::AfterFmt => {
            Dispatch::new(tracing_subscriber::registry().with(sink_fmt()).with(layer))
        }
        Placement::BeforeFmt => {
            Dispatch::new(tracing_subscriber::registry().with(layer).with(sink_fmt()))
        }
    }
}

fn panics_and_link_trace(placement: Placement) {
    previous_hook();
    let (layer, s) = setup(|b| {
        b.install_panic_hook(true)
            .flood_limit(None)
            .panic_flush_timeout(Duration::ZERO)
    });
    let dispatch = dispatch_with(placement, layer);
    let linked = runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let d = dispatch.clone();
            let (span, linked) = tracing::dispatcher::with_default(&d, || {
                let span = info_span!(
                    "request",
                    tenant_id = %tenant(task),
                    task,
                    trace_id = tracing::field::Empty
                );
                let linked = tracing_error_reports::link_trace(&span);
                (span, linked)
            });
            let work = async move {
                info!(task, "before the panic");
                tokio::task::yield_now().await;
                let caught = std::panic::catch_unwind(|| {
                    panic!("{placement:?} task {task}");
                });
                assert!(caught.is_err());
                (task, linked)
            };
            handles.push(tokio::spawn(work.instrument(span).with_subscriber(d)));
        }
        let mut linked = HashMap::new();
        for handle in handles {
            let (task, id) = handle.await.expect("task ran");
            linked.insert(task, id);
        }
        linked
    });
    s.settle();
    let events = s.memory.events();
    let mut tally = Tally::default();
    let prefix = format!("{placement:?} task ");
    for event in &events {
        tally.report();
        let value = event
            .exception
            .values
            .last()
            .and_then(|e| e.value.clone())
            .unwrap_or_default();
        let Some(task) = value
            .strip_prefix(&prefix)
            .and_then(|t| t.parse::<usize>().ok())
        else {
            tally.check(false, || {
                format!("{placement:?}: unexpected report {value:?}")
            });
            continue;
        };
        tally.check(
            tag(event, "tenant_id") == Some(tenant(task).as_str()),
            || {
                format!(
                    "{placement:?}: task {task} tenant {:?}",
                    tag(event, "tenant_id")
                )
            },
        );
        let link = linked.get(&task).cloned().flatten();
        tally.check(
            link.is_some() && tag(event, "trace_id") == link.as_deref(),
            || {
                format!(
                    "{placement:?}: task {task} linked {link:?}, report {:?}",
                    tag(event, "trace_id")
                )
            },
        );
        let crumbs = crumb_tasks(event);
        tally.check(crumbs == [Some(task as u64)], || {
            format!("{placement:?}: task {task} breadcrumbs {crumbs:?}")
        });
        tally.check(previous_hook_saw(&value) == 1, || {
            format!("{placement:?}: the previous hook did not run once for {value:?}")
        });
    }
    assert_eq!(events.len(), TASKS, "{placement:?}: every panic reported");
    tally.finish(&format!("panics through {placement:?}"), 4 * TASKS);
}

#[test]
fn panics_and_link_trace_through_reload() {
    panics_and_link_trace(Placement::Reload);
}

#[test]
fn panics_and_link_trace_through_with_filter() {
    panics_and_link_trace(Placement::WithFilter);
}

#[test]
fn panics_and_link_trace_through_option() {
    panics_and_link_trace(Placement::Option);
}

#[test]
fn panics_and_link_trace_through_a_vec_of_boxed_layers() {
    panics_and_link_trace(Placement::VecOfBoxes);
}

#[test]
fn panics_and_link_trace_with_the_layer_after_fmt() {
    panics_and_link_trace(Placement::AfterFmt);
}

#[test]
fn panics_and_link_trace_with_the_layer_before_fmt() {
    panics_and_link_trace(Placement::BeforeFmt);
}

/// A value whose `Debug` panics, as a buggy field type in a service might.
struct Exploding(usize);

impl fmt::Debug for Exploding {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of task {} exploded", self.0)
    }
}

fn panic_while_fmt_holds_the_span_lock(placement: Placement) {
    previous_hook();
    let (layer, s) = setup(|b| {
        b.install_panic_hook(true)
            .flood_limit(None)
            .panic_flush_timeout(Duration::ZERO)
    });
    let dispatch = dispatch_with(placement, layer);
    // The hook must return: a watchdog turns a hang into a failure instead of a
    // stuck test run.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        runtime().block_on(async {
            let mut handles = Vec::new();
            for task in 0..TASKS {
                let d = dispatch.clone();
                let span = tracing::dispatcher::with_default(
                    &d,
                    || info_span!("request", tenant_id = %tenant(task), task),
                );
                let work = async move {
                    info!(task, "before the panic");
                    tokio::task::yield_now().await;
                    let inner = info_span!("render", detail = tracing::field::Empty);
                    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let _entered = inner.enter();
                        // fmt formats the value while it holds the span's extensions
                        // lock for writing; the panic happens inside that lock.
                        inner.record("detail", tracing::field::debug(Exploding(task)));
                    }));
                    assert!(caught.is_err(), "fmt's formatting panicked");
                    // The span's lock is poisoned now: nothing may touch it again.
                    std::mem::forget(inner);
                };
                handles.push(tokio::spawn(work.instrument(span).with_subscriber(d)));
            }
            for handle in handles {
                handle.await.expect("task ran");
            }
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(300))
        .expect("the panic hook returned (no deadlock)");
    s.settle();
    let events = s.memory.events();
    let mut tally = Tally::default();
    for event in &events {
        tally.report();
        let value = event
            .exception
            .values
            .last()
            .and_then(|e| e.value.clone())
            .unwrap_or_default();
        let task = value
            .strip_prefix("Debug of task ")
            .and_then(|t| t.strip_suffix(" exploded"))
            .and_then(|t| t.parse::<usize>().ok());
        let Some(task) = task else {
            tally.check(false, || {
                format!("{placement:?}: unexpected report {value:?}")
            });
            continue;
        };
        tally.check(
            tag(event, "tenant_id") == Some(tenant(task).as_str()),
            || {
                format!(
                    "{placement:?}: task {task} tenant {:?}",
                    tag(event, "tenant_id")
                )
            },
        );
        tally.check(crumb_tasks(event) == [Some(task as u64)], || {
            format!(
                "{placement:?}: task {task} breadcrumbs {:?}",
                crumb_tasks(event)
            )
        });
        tally.check(previous_hook_saw(&value) >= 1, || {
            format!("{placement:?}: the previous hook did not run for {value:?}")
        });
    }
    assert_eq!(
        events.len(),
        TASKS,
        "{placement:?}: every panic reported once"
    );
    tally.finish(&format!("panic under fmt's lock, {placement:?}"), 3 * TASKS);
}

#[test]
fn a_panic_inside_fmts_span_lock_never_hangs_the_hook_layer_after_fmt() {
    panic_while_fmt_holds_the_span_lock(Placement::AfterFmt);
}

#[test]
fn a_panic_inside_fmts_span_lock_never_hangs_the_hook_layer_before_fmt() {
    panic_while_fmt_holds_the_span_lock(Placement::BeforeFmt);
}
