//! Request isolation in the configurations real services have (issue 11, sections
//! 1-3): work without a request span, request spans the layer cannot see, long-lived
//! outer spans, and `last_event_id()` across `.await`. Every test runs at least 1,000
//! interleaved tasks over 50 tenants on a multi-thread runtime and prints how many
//! reports it checked and how many were wrong.

mod isolation_support;

use std::collections::{HashMap, HashSet};
use std::process::Command;

use isolation_support::{
    crumb_tasks, runtime, setup, tag, task_of, tenant, Setup, Tally, TASKS, TENANTS,
};
use sentry::protocol::{Context, Value};
use tracing::instrument::WithSubscriber;
use tracing::{debug_span, error, info, info_span, warn, Dispatch, Instrument};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;

fn trace_id_of(event: &sentry::protocol::Event<'static>) -> Option<String> {
    tag(event, "trace_id").map(str::to_owned)
}

/// How the tasks of [`without_a_visible_request`] run.
#[derive(Clone, Copy, Debug)]
enum NoRequest {
    /// Half the tasks in request spans, the others `tokio::spawn`ed without a span
    /// or run with `spawn_blocking`.
    SpawnedWithoutSpan,
    /// tower-http's default DEBUG request span under `RUST_LOG=info`.
    DebugSpanUnderInfo,
    /// An INFO request span under `RUST_LOG=warn`, breadcrumbs at WARN.
    InfoSpanUnderWarn,
}

fn without_a_visible_request(shape: NoRequest) {
    let (layer, s) = setup(|b| b.flood_limit(None));
    let filter = match shape {
        NoRequest::SpawnedWithoutSpan => None,
        NoRequest::DebugSpanUnderInfo => Some(EnvFilter::new("info")),
        NoRequest::InfoSpanUnderWarn => Some(EnvFilter::new("warn")),
    };
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(filter).with(layer));
    runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let t = tenant(task);
            let work = async move {
                for step in 0..3 {
                    info!(task, step, "step");
                    warn!(task, step, "slow step");
                    tokio::task::yield_now().await;
                }
                error!(task, tenant_id = %t, "task failed");
            };
            let d = dispatch.clone();
            let handle = match shape {
                NoRequest::SpawnedWithoutSpan if task % 2 == 1 => {
                    if task % 3 == 0 {
                        tokio::task::spawn_blocking(move || {
                            tracing::dispatcher::with_default(&d, || {
                                for step in 0..3 {
                                    info!(task, step, "blocking step");
                                }
                                error!(task, tenant_id = %tenant(task), "task failed");
                            })
                        })
                    } else {
                        tokio::spawn(work.with_subscriber(d))
                    }
                }
                NoRequest::DebugSpanUnderInfo => {
                    let span = tracing::dispatcher::with_default(
                        &d,
                        || debug_span!("request", tenant_id = %tenant(task), task),
                    );
                    tokio::spawn(work.instrument(span).with_subscriber(d))
                }
                _ => {
                    let span = tracing::dispatcher::with_default(
                        &d,
                        || info_span!("request", tenant_id = %tenant(task), task),
                    );
                    tokio::spawn(work.instrument(span).with_subscriber(d))
                }
            };
            handles.push(handle);
        }
        for handle in handles {
            handle.await.expect("task ran");
        }
    });
    s.settle();
    let events = s.memory.events();
    let mut tally = Tally::default();
    for event in &events {
        tally.report();
        let task = task_of(event);
        let crumbs = crumb_tasks(event);
        tally.check(task.is_some() && crumbs.iter().all(|c| *c == task), || {
            format!("{shape:?}: task {task:?} carries breadcrumbs of {crumbs:?}")
        });
        let expected = task.map(|t| tenant(t as usize));
        tally.check(tag(event, "tenant_id") == expected.as_deref(), || {
            format!(
                "{shape:?}: task {task:?} has tenant {:?}",
                tag(event, "tenant_id")
            )
        });
    }
    assert_eq!(events.len(), TASKS, "{shape:?}: one report per task");
    tally.finish(&format!("{shape:?}"), 2 * TASKS);
}

#[test]
fn work_without_a_span_never_carries_another_requests_breadcrumbs() {
    without_a_visible_request(NoRequest::SpawnedWithoutSpan);
}

#[test]
fn a_disabled_debug_request_span_never_shares_breadcrumbs_between_requests() {
    without_a_visible_request(NoRequest::DebugSpanUnderInfo);
}

#[test]
fn a_disabled_info_request_span_never_shares_breadcrumbs_between_requests() {
    without_a_visible_request(NoRequest::InfoSpanUnderWarn);
}

/// Runs `TASKS` requests, each logging a breadcrumb, an error from a noisy target and
/// its own error, through `subscriber`.
fn requests_with_noise(dispatch: &Dispatch) {
    runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let d = dispatch.clone();
            let span = tracing::dispatcher::with_default(
                &d,
                || info_span!("request", tenant_id = %tenant(task), user_id = task, task),
            );
            let work = async move {
                info!(task, "loading");
                tokio::task::yield_now().await;
                error!(target: "noisy_dependency", task, "connection reset");
                tokio::task::yield_now().await;
                error!(task, "request failed");
            };
            handles.push(tokio::spawn(work.instrument(span).with_subscriber(d)));
        }
        for handle in handles {
            handle.await.expect("task ran");
        }
    });
}

#[test]
fn an_event_filter_narrows_events_without_hiding_tenant_user_trace_or_breadcrumbs() {
    let (layer, s) = setup(|b| {
        b.flood_limit(None)
            .event_filter(|meta| meta.target() != "noisy_dependency")
    });
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    requests_with_noise(&dispatch);
    s.settle();
    let events = s.memory.events();
    let mut tally = Tally::default();
    let mut traces = HashSet::new();
    for event in &events {
        tally.report();
        let task = event.contexts.get("spans").and_then(|c| match c {
            Context::Other(spans) => spans.get("request")?.get("task")?.as_u64(),
            _ => None,
        });
        let Some(task) = task else {
            tally.check(false, || format!("report without its span: {event:?}"));
            continue;
        };
        tally.check(event.logger.as_deref() != Some("noisy_dependency"), || {
            format!("task {task}: the filtered target was reported")
        });
        tally.check(
            tag(event, "tenant_id") == Some(tenant(task as usize).as_str())
                && event.user.as_ref().and_then(|u| u.id.clone()) == Some(task.to_string()),
            || {
                format!(
                    "task {task}: tenant {:?}, user {:?}",
                    tag(event, "tenant_id"),
                    event.user
                )
            },
        );
        let trace = trace_id_of(event);
        tally.check(trace.is_some() && traces.insert(trace.clone()), || {
            format!("task {task}: trace id {trace:?} missing or shared")
        });
        let crumbs = event.breadcrumbs.values.len();
        tally.check(crumbs == 1, || format!("task {task}: {crumbs} breadcrumbs"));
    }
    assert_eq!(
        events.len(),
        TASKS,
        "only the service's own errors are reported"
    );
    tally.finish("event filter", 4 * TASKS);
}

const CHILD: &str = "ISOLATION_UNSEEN_SPAN_CHILD";

/// Run as a child process (its stderr is what the parent checks): the layer behind a
/// per-layer WARN filter next to a fmt layer, errors inside INFO request spans it
/// never sees.
#[test]
fn unseen_span_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (layer, s) = setup(|b| b.flood_limit(None));
    // The service's fmt layer sees INFO spans; the error-report layer is wrapped in a
    // WARN filter, as a new user would write to "report only warnings and errors".
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
            .with(layer.with_filter(LevelFilter::WARN)),
    );
    requests_with_noise(&dispatch);
    s.settle();
    let events = s.memory.events();
    let without_tenant = events
        .iter()
        .filter(|e| tag(e, "tenant_id").is_none())
        .count();
    println!("CHILD-RESULT {} {without_tenant}", events.len());
}

#[test]
fn reporting_inside_a_span_the_layer_never_saw_says_why_once_per_process() {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args([
            "--exact",
            "unseen_span_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let told = stderr.matches("inside a span this layer never saw").count();
    assert_eq!(told, 1, "{stderr}");
    assert!(
        stderr.contains("event_filter"),
        "the diagnostic names the fix: {stderr}"
    );
    let result = stdout
        .split("CHILD-RESULT ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("child result");
    // The configuration really loses the tenant: that is what the diagnostic is for.
    assert_eq!(result, format!("{} {}", 2 * TASKS, 2 * TASKS), "{stdout}");
}

/// The long-lived outer spans of issue 11 section 2.
#[derive(Clone, Copy, Debug)]
enum Outer {
    /// Ten workers, each keeping a `worker` span and running 100 `job` spans.
    Worker,
    /// Twenty connections, each a `connection` span around 50 `request` spans whose
    /// tenant is recorded after authentication.
    Connection,
    /// An `#[instrument]`ed serve function spawning every request.
    InstrumentedMain,
    /// A worker span that carries a tenant of its own (the pool's owner).
    TenantWorker,
}

#[tracing::instrument(skip_all)]
async fn serve(dispatch: Dispatch) {
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let span = info_span!("request", tenant_id = %tenant(task), task);
        handles.push(tokio::spawn(
            job(task).instrument(span).with_subscriber(dispatch.clone()),
        ));
        if task % 10 == 0 {
            info!("serving");
        }
    }
    for handle in handles {
        handle.await.expect("request ran");
    }
}

fn user(task: usize) -> String {
    format!("user-{task}")
}

async fn job(task: usize) {
    info!(task, "started");
    tokio::task::yield_now().await;
    info!(task, "halfway");
    tokio::task::yield_now().await;
    error!(task, "failed");
}

fn outer_span(shape: Outer) -> (Setup, Tally) {
    let (layer, s) = setup(|b| {
        b.flood_limit(None)
            .traces_sample_rate(1.0)
            .enable_logs(tracing::Level::INFO)
            .log_flood_limit(None)
    });
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    runtime().block_on(async {
        match shape {
            Outer::Worker | Outer::Connection | Outer::TenantWorker => {
                let (outers, per_outer) = match shape {
                    Outer::Worker | Outer::TenantWorker => (10, TASKS / 10),
                    _ => (20, TASKS / 20),
                };
                let mut handles = Vec::new();
                for outer in 0..outers {
                    let d = dispatch.clone();
                    let outer_span = tracing::dispatcher::with_default(&d, || match shape {
                        Outer::Worker => info_span!("worker", outer),
                        Outer::TenantWorker => {
                            info_span!("worker", outer, tenant_id = "pool-owner")
                        }
                        _ => info_span!("connection", outer),
                    });
                    let work = async move {
                        for n in 0..per_outer {
                            let task = outer * per_outer + n;
                            info!("polling");
                            match shape {
                                Outer::Worker | Outer::TenantWorker => {
                                    let span = info_span!(
                                        "job",
                                        tenant_id = %tenant(task),
                                        user_id = %user(task),
                                        task
                                    );
                                    job(task).instrument(span).await;
                                }
                                _ => {
                                    let span = info_span!(
                                        "request",
                                        tenant_id = tracing::field::Empty,
                                        task
                                    );
                                    async {
                                        info!(task, "authenticating");
                                        tracing::Span::current()
                                            .record("tenant_id", tenant(task).as_str());
                                        job(task).await;
                                    }
                                    .instrument(span)
                                    .await;
                                }
                            }
                        }
                    };
                    handles.push(tokio::spawn(work.instrument(outer_span).with_subscriber(d)));
                }
                for handle in handles {
                    handle.await.expect("outer task ran");
                }
            }
            Outer::InstrumentedMain => serve(dispatch.clone()).with_subscriber(dispatch).await,
        }
    });
    s.settle();
    let events = s.memory.events();
    let transactions = s.memory.transactions();
    let mut tally = Tally::default();
    let mut traces = HashMap::new();
    for event in &events {
        tally.report();
        let task = task_of(event);
        let crumbs = crumb_tasks(event);
        tally.check(
            task.is_some() && !crumbs.is_empty() && crumbs.iter().all(|c| *c == task),
            || format!("{shape:?}: task {task:?} carries breadcrumbs of {crumbs:?}"),
        );
        let expected = task.map(|t| tenant(t as usize));
        tally.check(tag(event, "tenant_id") == expected.as_deref(), || {
            format!(
                "{shape:?}: task {task:?} has tenant {:?}",
                tag(event, "tenant_id")
            )
        });
        let trace = trace_id_of(event);
        tally.check(
            trace.is_some() && traces.insert(trace.clone(), task).is_none(),
            || format!("{shape:?}: task {task:?} shares trace id {trace:?}"),
        );
        if let Some(Context::Trace(trace)) = event.contexts.get("trace") {
            tally.check(
                event.transaction.as_deref() != Some("worker")
                    && event.transaction.as_deref() != Some("connection")
                    && event.transaction.as_deref() != Some("serve"),
                || {
                    format!(
                        "{shape:?}: task {task:?} is in transaction {:?}",
                        event.transaction
                    )
                },
            );
            let _ = trace;
        }
    }
    assert_eq!(events.len(), TASKS, "{shape:?}: one report per task");
    // One transaction per request, sent when it ended, with the report's trace id.
    let mut per_task = 0;
    for tx in &transactions {
        let Some(Context::Trace(trace)) = tx.contexts.get("trace") else {
            continue;
        };
        let Some(task) = trace.data.get("task").and_then(Value::as_u64) else {
            continue;
        };
        per_task += 1;
        tally.report();
        let reported = traces
            .get(&Some(trace.trace_id.to_string()))
            .copied()
            .flatten();
        tally.check(reported == Some(task), || {
            format!("{shape:?}: transaction of task {task} has the trace of {reported:?}")
        });
        tally.check(
            tx.tags.get("tenant_id").map(String::as_str) == Some(tenant(task as usize).as_str()),
            || {
                format!(
                    "{shape:?}: transaction of task {task} has tenant {:?}",
                    tx.tags
                )
            },
        );
    }
    assert_eq!(per_task, TASKS, "{shape:?}: one transaction per request");
    // Structured logs: each carries its own request's tenant, user and trace (the
    // report's), never another's, whatever outer span it ran under.
    let logs = s.memory.logs();
    let mut job_logs = 0;
    for log in &logs {
        let attribute = |name: &str| log.attributes.get(name).map(|a| a.0.clone());
        let text = |name: &str| attribute(name).and_then(|v| v.as_str().map(str::to_owned));
        let Some(task) = attribute("task").and_then(|v| v.as_u64()) else {
            continue;
        };
        tally.report();
        let before_tenant = log.body == "authenticating";
        if !before_tenant {
            job_logs += 1;
        }
        let tenant_seen = text("tenant_id");
        tally.check(
            tenant_seen.as_deref() == Some(tenant(task as usize).as_str())
                || (before_tenant && tenant_seen.is_none()),
            || {
                format!(
                    "{shape:?}: log {:?} of task {task} has tenant {tenant_seen:?}",
                    log.body
                )
            },
        );
        let user_seen = text("user.id");
        let user_expected =
            matches!(shape, Outer::Worker | Outer::TenantWorker).then(|| user(task as usize));
        tally.check(user_seen == user_expected, || {
            format!(
                "{shape:?}: log {:?} of task {task} has user {user_seen:?}",
                log.body
            )
        });
        let reported = log
            .trace_id
            .and_then(|t| traces.get(&Some(t.to_string())).copied().flatten());
        tally.check(reported == Some(task), || {
            format!(
                "{shape:?}: log {:?} of task {task} has the trace of {reported:?}",
                log.body
            )
        });
    }
    // Logs yield to reports in the queue (their quarter of it): those dropped are
    // counted; every log queued arrives.
    let stats = s.guard.stats();
    assert_eq!(stats.logs_queued, logs.len() as u64, "{shape:?}: {stats:?}");
    assert!(
        job_logs >= TASKS,
        "{shape:?}: only {job_logs} job logs checked ({stats:?})"
    );
    println!(
        "{shape:?}: {} logs checked, {} dropped at the queue",
        logs.len(),
        stats.logs_dropped
    );
    (s, tally)
}

#[test]
fn each_job_of_a_long_lived_worker_span_is_its_own_request() {
    let (_s, tally) = outer_span(Outer::Worker);
    tally.finish("worker + jobs (reports and job transactions)", 5 * TASKS);
}

#[test]
fn each_job_of_a_worker_span_with_its_own_tenant_is_its_own_request() {
    let (_s, tally) = outer_span(Outer::TenantWorker);
    tally.finish(
        "worker with a tenant + jobs of other tenants (reports and job transactions)",
        5 * TASKS,
    );
}

#[test]
fn each_request_of_a_connection_span_is_its_own_request() {
    let (_s, tally) = outer_span(Outer::Connection);
    tally.finish(
        "connection + requests (reports and request transactions)",
        5 * TASKS,
    );
}

#[test]
fn each_request_under_an_instrumented_main_is_its_own_request() {
    let (_s, tally) = outer_span(Outer::InstrumentedMain);
    tally.finish(
        "instrumented main + requests (reports and request transactions)",
        5 * TASKS,
    );
}

#[test]
fn last_event_id_is_the_requests_own_across_awaits() {
    let (layer, s) = setup(|b| b.flood_limit(None));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let seen = runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let d = dispatch.clone();
            let span = tracing::dispatcher::with_default(
                &d,
                || info_span!("request", tenant_id = %tenant(task), task),
            );
            let work = async move {
                // Other requests report on this thread meanwhile: still none of ours.
                tokio::task::yield_now().await;
                let before = tracing_error_reports::last_event_id();
                tokio::task::yield_now().await;
                error!(task, "failed");
                let right_after = tracing_error_reports::last_event_id();
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                let later = tracing_error_reports::last_event_id();
                (task, before, right_after, later)
            };
            handles.push(tokio::spawn(work.instrument(span).with_subscriber(d)));
            if task % TENANTS == 0 {
                // Work without a request: never sees a request's id.
                let d = dispatch.clone();
                handles.push(tokio::spawn(
                    async move {
                        error!(task = TASKS + task, "background job failed");
                        tokio::task::yield_now().await;
                        (
                            TASKS + task,
                            None,
                            tracing_error_reports::last_event_id(),
                            None,
                        )
                    }
                    .with_subscriber(d),
                ));
            }
        }
        let mut seen = Vec::new();
        for handle in handles {
            seen.push(handle.await.expect("task ran"));
        }
        seen
    });
    s.settle();
    let ids: HashMap<u64, String> = s
        .memory
        .events()
        .iter()
        .filter_map(|e| Some((task_of(e)?, e.event_id.to_string())))
        .collect();
    let mut tally = Tally::default();
    for (task, before, right_after, later) in seen {
        tally.report();
        if task >= TASKS {
            tally.check(right_after.is_none(), || {
                format!("task {task} without a request got {right_after:?}")
            });
            continue;
        }
        let own = ids.get(&(task as u64)).cloned();
        tally.check(before.is_none(), || {
            format!("task {task}: {before:?} before reporting")
        });
        tally.check(
            own.is_some() && right_after.map(|id| id.to_string()) == own,
            || format!("task {task}: {right_after:?}, its report is {own:?}"),
        );
        tally.check(later == right_after, || {
            format!("task {task}: {later:?} after awaiting, {right_after:?} before")
        });
    }
    tally.finish("last_event_id", 3 * TASKS);
}
