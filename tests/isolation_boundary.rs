//! The request boundary (issue 22, ADR-025's table of shapes): long-lived spans that
//! declare the tenant field, a handler's `#[instrument(fields(tenant_id))]` under
//! tower-http's `TraceLayer`, and an instrumented connection handler. Each runs 1,000
//! interleaved requests of 50 tenants on a 4-thread runtime and prints how many reports
//! (and transactions, `last_event_id` answers) it checked and how many were wrong.

mod isolation_support;

use std::collections::{HashMap, HashSet};

use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use isolation_support::{
    crumb_tasks, runtime, setup, tag, task_of, tenant, Setup, Tally, TASKS, TENANTS,
};
use sentry::protocol::{Context, Event, SpanStatus, Transaction, Value};
use tower::ServiceExt;
use tower_http::trace::{DefaultMakeSpan, DefaultOnRequest, TraceLayer};
use tracing::instrument::WithSubscriber;
use tracing::{error, info, info_span, Dispatch, Instrument, Level, Span};
use tracing_subscriber::prelude::*;

/// Several users per tenant: a report must not carry another user's data either.
fn user(task: usize) -> String {
    format!("user-{}", task % (3 * TENANTS))
}

fn user_of<'a>(event: &'a Event<'static>) -> Option<&'a str> {
    event.user.as_ref().and_then(|u| u.id.as_deref())
}

fn trace_of<'a>(tx: &'a Transaction<'static>) -> Option<(String, &'a Map)> {
    match tx.contexts.get("trace") {
        Some(Context::Trace(trace)) => Some((trace.trace_id.to_string(), &trace.data)),
        _ => None,
    }
}

type Map = sentry::protocol::Map<String, Value>;

/// Authenticates (records tenant and user on the current span), then logs and fails;
/// returns the task and `last_event_id()` right after its report.
async fn request_work(task: usize) -> (usize, Option<String>) {
    info!(task, "authenticating");
    tokio::task::yield_now().await;
    Span::current().record("tenant_id", tenant(task).as_str());
    Span::current().record("user_id", user(task).as_str());
    info!(task, "loading");
    tokio::task::yield_now().await;
    error!(task, "request failed");
    let id = tracing_error_reports::last_event_id().map(|id| id.to_string());
    tokio::task::yield_now().await;
    (task, id)
}

#[tracing::instrument(skip_all, fields(tenant_id, user_id, task))]
async fn handle_request(task: usize) -> (usize, Option<String>) {
    Span::current().record("task", task);
    request_work(task).await
}

/// A connection handler as written with `#[instrument]`: the tenant field declared
/// (empty) on the connection, as on its requests.
#[tracing::instrument(skip_all, fields(tenant_id, connection))]
async fn handle_connection(connection: usize, per: usize) -> Vec<(usize, Option<String>)> {
    Span::current().record("connection", connection);
    info!("connection accepted");
    let mut seen = Vec::new();
    for n in 0..per {
        seen.push(handle_request(connection * per + n).await);
    }
    seen
}

#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Twenty `connection` spans declaring `tenant_id = Empty`, each multiplexing 50
    /// concurrently spawned request spans that declare the tenant and user fields and
    /// record them after authentication.
    ConnectionDeclaringTenant,
    /// Twenty `#[instrument(fields(tenant_id))]` connection handlers, each running 50
    /// `#[instrument(fields(tenant_id, user_id))]` request handlers in turn.
    InstrumentedConnectionHandler,
}

fn run_connections(shape: Shape) -> (Setup, Vec<(usize, Option<String>)>) {
    let (layer, s) = setup(|b| b.flood_limit(None).traces_sample_rate(1.0));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    const CONNECTIONS: usize = 20;
    let per = TASKS / CONNECTIONS;
    let seen = runtime().block_on(async {
        let mut connections = Vec::new();
        for connection in 0..CONNECTIONS {
            let d = dispatch.clone();
            let handle = match shape {
                Shape::ConnectionDeclaringTenant => {
                    let span = tracing::dispatcher::with_default(&d, || {
                        info_span!("connection", connection, tenant_id = tracing::field::Empty)
                    });
                    let inner = d.clone();
                    let work = async move {
                        info!("connection accepted");
                        let mut requests = Vec::new();
                        for n in 0..per {
                            let task = connection * per + n;
                            let span = info_span!(
                                "request",
                                task,
                                tenant_id = tracing::field::Empty,
                                user_id = tracing::field::Empty
                            );
                            requests.push(tokio::spawn(
                                request_work(task)
                                    .instrument(span)
                                    .with_subscriber(inner.clone()),
                            ));
                        }
                        let mut seen = Vec::new();
                        for request in requests {
                            seen.push(request.await.expect("request ran"));
                        }
                        seen
                    };
                    tokio::spawn(work.instrument(span).with_subscriber(d))
                }
                Shape::InstrumentedConnectionHandler => {
                    tokio::spawn(handle_connection(connection, per).with_subscriber(d))
                }
            };
            connections.push(handle);
        }
        let mut seen = Vec::new();
        for connection in connections {
            seen.extend(connection.await.expect("connection ran"));
        }
        seen
    });
    s.settle();
    (s, seen)
}

fn check_connections(shape: Shape) {
    let (s, seen) = run_connections(shape);
    let events = s.memory.events();
    let transactions = s.memory.transactions();
    let mut tally = Tally::default();
    let mut traces: HashMap<String, u64> = HashMap::new();
    let mut ids: HashMap<u64, String> = HashMap::new();
    for event in &events {
        tally.report();
        let task = task_of(event);
        let crumbs = crumb_tasks(event);
        tally.check(
            task.is_some() && crumbs.len() == 2 && crumbs.iter().all(|c| *c == task),
            || format!("{shape:?}: task {task:?} carries breadcrumbs of {crumbs:?}"),
        );
        let Some(task) = task else { continue };
        ids.insert(task, event.event_id.to_string());
        let expected = tenant(task as usize);
        tally.check(tag(event, "tenant_id") == Some(expected.as_str()), || {
            format!(
                "{shape:?}: task {task} has tenant {:?}",
                tag(event, "tenant_id")
            )
        });
        tally.check(user_of(event) == Some(user(task as usize).as_str()), || {
            format!("{shape:?}: task {task} has user {:?}", user_of(event))
        });
        let trace = tag(event, "trace_id").map(str::to_owned);
        tally.check(
            trace
                .clone()
                .is_some_and(|trace| traces.insert(trace, task).is_none()),
            || format!("{shape:?}: task {task} shares trace id {trace:?}"),
        );
        tally.check(event.transaction.as_deref() != Some("connection"), || {
            format!("{shape:?}: task {task} is in the connection's transaction")
        });
    }
    assert_eq!(events.len(), TASKS, "{shape:?}: one report per request");
    for (task, id) in &seen {
        tally.report();
        let own = ids.get(&(*task as u64));
        tally.check(own.is_some() && id.as_ref() == own, || {
            format!("{shape:?}: task {task}: last_event_id {id:?}, its report is {own:?}")
        });
    }
    let mut per_request = 0;
    for tx in &transactions {
        let Some((trace, data)) = trace_of(tx) else {
            continue;
        };
        let Some(task) = data.get("task").and_then(Value::as_u64) else {
            continue;
        };
        per_request += 1;
        tally.report();
        tally.check(traces.get(&trace) == Some(&task), || {
            format!(
                "{shape:?}: transaction of task {task} has the trace of {:?}",
                traces.get(&trace)
            )
        });
        tally.check(
            tx.tags.get("tenant_id") == Some(&tenant(task as usize))
                && tx.user.as_ref().and_then(|u| u.id.clone()) == Some(user(task as usize)),
            || {
                format!(
                    "{shape:?}: transaction of task {task}: {:?} {:?}",
                    tx.tags, tx.user
                )
            },
        );
    }
    assert_eq!(per_request, TASKS, "{shape:?}: one transaction per request");
    tally.finish(&format!("{shape:?}"), 7 * TASKS);
}

#[test]
fn requests_of_a_connection_span_declaring_the_tenant_are_requests_of_their_own() {
    check_connections(Shape::ConnectionDeclaringTenant);
}

#[test]
fn requests_of_an_instrumented_connection_handler_declaring_the_tenant_are_their_own() {
    check_connections(Shape::InstrumentedConnectionHandler);
}

/// The handler of shape 2: instrumented with the tenant, under tower-http's span.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant(task), user_id = %user(task), task = task))]
async fn failing_handler(Path(task): Path<usize>) -> StatusCode {
    info!(task, "loading");
    tokio::task::yield_now().await;
    error!(task, "handler failed");
    StatusCode::INTERNAL_SERVER_ERROR
}

#[test]
fn an_instrumented_handler_with_a_tenant_stays_in_tower_https_request() {
    let (layer, s) = setup(|b| b.flood_limit(None).traces_sample_rate(1.0));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let app = Router::new()
        .route("/task/{task}", get(failing_handler))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(DefaultOnRequest::new().level(Level::INFO)),
        );
    runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let request = Request::get(format!("/task/{task}"))
                .body(axum::body::Body::empty())
                .expect("request");
            let app = app.clone();
            handles.push(tokio::spawn(
                async move { app.oneshot(request).await }.with_subscriber(dispatch.clone()),
            ));
        }
        for handle in handles {
            let response = handle.await.expect("ran").expect("answered");
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    });
    s.settle();
    let events = s.memory.events();
    let transactions = s.memory.transactions();
    let mut tally = Tally::default();
    // tower-http's transactions by URI: the request each report must be in.
    let mut requests: HashMap<String, &Transaction<'static>> = HashMap::new();
    for tx in &transactions {
        tally.report();
        let Some((_, data)) = trace_of(tx) else {
            tally.check(false, || "a transaction without a trace context".to_owned());
            continue;
        };
        tally.check(tx.name.as_deref() == Some("request"), || {
            format!(
                "a transaction named {:?}: the handler split its request",
                tx.name
            )
        });
        if let Some(uri) = data.get("uri").and_then(Value::as_str) {
            requests.insert(uri.to_owned(), tx);
        }
    }
    assert_eq!(
        transactions.len(),
        TASKS,
        "one transaction per HTTP request"
    );
    let mut seen_tasks = HashSet::new();
    for event in &events {
        tally.report();
        let Some(task) = task_of(event) else {
            tally.check(false, || {
                format!("a report without its task: {:?}", event.message)
            });
            continue;
        };
        seen_tasks.insert(task);
        let tx = requests.get(&format!("/task/{task}"));
        let (tx_trace, tx_status) = match tx.and_then(|tx| Some((trace_of(tx)?, tx))) {
            Some(((trace, _), tx)) => (
                Some(trace),
                match tx.contexts.get("trace") {
                    Some(Context::Trace(t)) => t.status,
                    _ => None,
                },
            ),
            None => (None, None),
        };
        tally.check(
            tx_trace.is_some() && tag(event, "trace_id") == tx_trace.as_deref(),
            || {
                format!(
                    "task {task}: reported in trace {:?}, its HTTP request is {tx_trace:?}",
                    tag(event, "trace_id")
                )
            },
        );
        tally.check(
            tx_status.is_some_and(|status| status != SpanStatus::Ok),
            || format!("task {task}: the HTTP transaction says {tx_status:?}"),
        );
        tally.check(event.transaction.as_deref() == Some("request"), || {
            format!("task {task}: under transaction {:?}", event.transaction)
        });
        let middleware = event
            .breadcrumbs
            .values
            .iter()
            .any(|b| b.message.as_deref() == Some("started processing request"));
        let crumbs = crumb_tasks(event);
        tally.check(
            middleware
                && crumbs
                    .iter()
                    .filter(|c| c.is_some())
                    .all(|c| *c == Some(task)),
            || format!("task {task}: middleware breadcrumb {middleware}, tasks {crumbs:?}"),
        );
        tally.check(
            tag(event, "tenant_id") == Some(tenant(task as usize).as_str())
                && user_of(event) == Some(user(task as usize).as_str()),
            || {
                format!(
                    "task {task}: {:?} {:?}",
                    tag(event, "tenant_id"),
                    user_of(event)
                )
            },
        );
        // The handler's span is one of the HTTP transaction's spans.
        let handler_span = tx.is_some_and(|tx| {
            tx.spans
                .iter()
                .any(|span| span.data.get("task").and_then(Value::as_u64) == Some(task))
        });
        tally.check(handler_span, || {
            format!("task {task}: the handler's span is not in its HTTP transaction")
        });
    }
    assert_eq!(
        events.len(),
        TASKS,
        "one report per request (tower-http's failure line a breadcrumb)"
    );
    assert_eq!(seen_tasks.len(), TASKS);
    tally.finish("handler under tower-http", 6 * TASKS);
}
