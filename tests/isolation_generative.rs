//! The safety net of the request boundary (issue 22 item 6, ADR-025), over random span
//! trees and schedules from a seeded generator: outer spans (none, a connection with or
//! without the tenant field, a worker holding its owner's tenant, a connection marked
//! `otel.kind = "server"` that makes all its requests one), request spans of five
//! shapes recording tenant and user after authentication, and, inside them, breadcrumbs,
//! errors, spawned tasks, blocking tasks, moved futures in child spans and
//! `last_event_id()` calls. Whatever the boundary decides, no report, transaction or
//! `last_event_id()` may hold data recorded under another tenant or user.
//!
//! Every line logged carries `t` and `u`: the tenant and user in effect when it was
//! logged, as the test knows them (`-` for none). `BOUNDARY_CASES` and `BOUNDARY_SEED`
//! change the case count (default 4,000) and the seed.

mod isolation_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use isolation_support::{field, setup, tag, Tally};
use sentry::protocol::{Context, Event, Value};
use tracing::instrument::WithSubscriber;
use tracing::{error, info, info_span, Dispatch, Instrument, Span};
use tracing_subscriber::prelude::*;

const NONE: &str = "-";

/// The tenant and user in effect, as the test knows them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Who {
    tenant: Option<String>,
    user: Option<String>,
}

impl Who {
    fn t(&self) -> &str {
        self.tenant.as_deref().unwrap_or(NONE)
    }
    fn u(&self) -> &str {
        self.user.as_deref().unwrap_or(NONE)
    }
    /// The nearest value of each part wins (ADR-021).
    fn within(&self, outer: &Who) -> Who {
        Who {
            tenant: self.tenant.clone().or_else(|| outer.tenant.clone()),
            user: self.user.clone().or_else(|| outer.user.clone()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Outer {
    None,
    Connection,
    ConnectionDeclaringTenant,
    /// Holds its owner's tenant.
    Worker,
    /// Marked `otel.kind = "server"`: its requests are one request (the rule shares).
    KnownConnection,
}

#[derive(Clone, Copy, Debug)]
enum RequestShape {
    /// Declares tenant and user empty, records both after authentication.
    DeclaresEmpty,
    /// Tenant known at creation, user recorded after authentication.
    TenantAtCreation,
    /// No identity fields; a `handler` span with tenant and user runs after authentication.
    HandlerSpan,
    /// `otel.kind = "server"`, tenant and user recorded after authentication.
    ServerKind,
    /// Declares only the user (the tenant is the outer span's, if any).
    UserOnly,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Crumb,
    Error,
    Spawned {
        fails: bool,
    },
    Blocking {
        fails: bool,
    },
    ChildSpan {
        fails: bool,
    },
    /// A call through a client whose span was made lazily in whichever request first
    /// used it (a span of another request, borrowed: ADR-025).
    SharedClient {
        fails: bool,
    },
    LastEventId,
    Yield,
}

#[derive(Clone, Debug)]
struct RequestPlan {
    shape: RequestShape,
    tenant: String,
    user: String,
    before_auth: Vec<Step>,
    after_auth: Vec<Step>,
}

#[derive(Clone, Debug)]
struct CasePlan {
    outer: Outer,
    owner: String,
    requests: Vec<RequestPlan>,
}

fn step(rng: &mut fastrand::Rng, before_auth: bool) -> Step {
    match rng.u8(0..if before_auth { 5 } else { 10 }) {
        0 | 1 => Step::Crumb,
        2 => Step::LastEventId,
        3 => Step::Yield,
        4 => Step::Error,
        5 => Step::Spawned { fails: rng.bool() },
        6 => Step::Blocking { fails: rng.bool() },
        7 => Step::ChildSpan { fails: rng.bool() },
        8 => Step::SharedClient { fails: rng.bool() },
        _ => Step::LastEventId,
    }
}

fn plan(rng: &mut fastrand::Rng) -> CasePlan {
    let outer = match rng.u8(0..5) {
        0 => Outer::None,
        1 => Outer::Connection,
        2 => Outer::ConnectionDeclaringTenant,
        3 => Outer::Worker,
        _ => Outer::KnownConnection,
    };
    let owner = format!("t{}", rng.u8(0..50));
    let mut requests: Vec<RequestPlan> = Vec::new();
    for _ in 0..rng.usize(2..6) {
        let shape = match rng.u8(0..5) {
            0 => RequestShape::DeclaresEmpty,
            1 => RequestShape::TenantAtCreation,
            2 => RequestShape::HandlerSpan,
            3 => RequestShape::ServerKind,
            _ => RequestShape::UserOnly,
        };
        // Often the same tenant as the previous request with another user: users of one
        // tenant must not see each other's data either.
        let tenant = match requests.last() {
            Some(previous) if rng.u8(0..3) == 0 => previous.tenant.clone(),
            _ => format!("t{}", rng.u8(0..50)),
        };
        let before = (0..rng.usize(0..3)).map(|_| step(rng, true)).collect();
        let mut after: Vec<Step> = (0..rng.usize(1..6)).map(|_| step(rng, false)).collect();
        after.push(Step::Error);
        after.push(Step::LastEventId);
        requests.push(RequestPlan {
            shape,
            tenant,
            user: format!("u{}", rng.u8(0..150)),
            before_auth: before,
            after_auth: after,
        });
    }
    CasePlan {
        outer,
        owner,
        requests,
    }
}

/// What a `last_event_id()` call saw.
#[derive(Debug)]
struct Query {
    who: Who,
    after_own_error: bool,
    id: Option<String>,
}

struct Run {
    dispatch: Dispatch,
    errors: AtomicU64,
    queries: Mutex<Vec<Query>>,
    /// The shared client's span, made in the first request that calls it.
    client: std::sync::OnceLock<Span>,
}

fn crumb(who: &Who) {
    info!(t = who.t(), u = who.u(), "step");
}

fn fail(run: &Run, who: &Who) {
    let n = run.errors.fetch_add(1, Ordering::Relaxed);
    error!(t = who.t(), u = who.u(), n, "failed");
}

async fn run_steps(run: Arc<Run>, steps: Vec<Step>, who: Who, failed: &mut bool) {
    for step in steps {
        match step {
            Step::Crumb => crumb(&who),
            Step::Yield => tokio::task::yield_now().await,
            Step::Error => {
                fail(&run, &who);
                *failed = true;
            }
            Step::LastEventId => {
                let id = tracing_error_reports::last_event_id().map(|id| id.to_string());
                lock(&run.queries).push(Query {
                    who: who.clone(),
                    after_own_error: *failed,
                    id,
                });
            }
            Step::Spawned { fails } => {
                let (r, w) = (run.clone(), who.clone());
                let child = async move {
                    crumb(&w);
                    tokio::task::yield_now().await;
                    if fails {
                        fail(&r, &w);
                    }
                };
                tokio::spawn(
                    child
                        .in_current_span()
                        .with_subscriber(run.dispatch.clone()),
                )
                .await
                .expect("spawned task ran");
            }
            Step::Blocking { fails } => {
                let (r, w, span) = (run.clone(), who.clone(), Span::current());
                tokio::task::spawn_blocking(move || {
                    tracing::dispatcher::with_default(&r.dispatch, || {
                        span.in_scope(|| {
                            crumb(&w);
                            if fails {
                                fail(&r, &w);
                            }
                        })
                    })
                })
                .await
                .expect("blocking task ran");
            }
            Step::SharedClient { fails } => {
                let span = run
                    .client
                    .get_or_init(|| info_span!("payments_client", peer = "pay"))
                    .clone();
                let (r, w) = (run.clone(), who.clone());
                async move {
                    crumb(&w);
                    tokio::task::yield_now().await;
                    if fails {
                        fail(&r, &w);
                    }
                }
                .instrument(span)
                .await;
            }
            Step::ChildSpan { fails } => {
                // Made here, moved into another task, run there.
                let (r, w) = (run.clone(), who.clone());
                let child = async move {
                    crumb(&w);
                    tokio::task::yield_now().await;
                    if fails {
                        fail(&r, &w);
                    }
                };
                let span = info_span!("step", t = who.t(), u = who.u());
                let moved = child.instrument(span);
                tokio::spawn(moved.with_subscriber(run.dispatch.clone()))
                    .await
                    .expect("child span ran");
            }
        }
        if matches!(
            step,
            Step::Spawned { fails: true }
                | Step::Blocking { fails: true }
                | Step::ChildSpan { fails: true }
                | Step::SharedClient { fails: true }
        ) {
            *failed = true;
        }
    }
}

async fn run_request(run: Arc<Run>, plan: RequestPlan, outer: Who) {
    let mut failed = false;
    let at_creation = match plan.shape {
        RequestShape::TenantAtCreation => Who {
            tenant: Some(plan.tenant.clone()),
            user: None,
        },
        _ => Who::default(),
    };
    let before = at_creation.within(&outer);
    run_steps(run.clone(), plan.before_auth.clone(), before, &mut failed).await;
    let authenticated = match plan.shape {
        RequestShape::UserOnly => Who {
            tenant: None,
            user: Some(plan.user.clone()),
        },
        _ => Who {
            tenant: Some(plan.tenant.clone()),
            user: Some(plan.user.clone()),
        },
    };
    let who = authenticated.within(&outer);
    // `last_event_id()` is the current identity's: an error before authentication was
    // another identity's (none, or the outer span's).
    failed = false;
    match plan.shape {
        RequestShape::HandlerSpan => {
            let handler = info_span!("handler", tenant_id = %plan.tenant, user_id = %plan.user);
            run_steps(run, plan.after_auth, who, &mut failed)
                .instrument(handler)
                .await;
        }
        _ => {
            let span = Span::current();
            if authenticated.tenant.is_some() {
                span.record("tenant_id", plan.tenant.as_str());
            }
            span.record("user_id", plan.user.as_str());
            run_steps(run, plan.after_auth, who, &mut failed).await;
        }
    }
}

fn request_span(shape: RequestShape, plan: &RequestPlan) -> Span {
    use tracing::field::Empty;
    match shape {
        RequestShape::DeclaresEmpty => info_span!("request", tenant_id = Empty, user_id = Empty),
        RequestShape::TenantAtCreation => {
            info_span!("request", tenant_id = %plan.tenant, user_id = Empty)
        }
        RequestShape::HandlerSpan => info_span!("request"),
        RequestShape::ServerKind => {
            info_span!(
                "request",
                otel.kind = "server",
                tenant_id = Empty,
                user_id = Empty
            )
        }
        RequestShape::UserOnly => info_span!("request", user_id = Empty),
    }
}

async fn run_case(run: Arc<Run>, case: CasePlan) {
    let outer_who = match case.outer {
        Outer::Worker => Who {
            tenant: Some(case.owner.clone()),
            user: None,
        },
        _ => Who::default(),
    };
    let outer_span = match case.outer {
        Outer::None => Span::none(),
        Outer::Connection => info_span!("connection"),
        Outer::ConnectionDeclaringTenant => {
            info_span!("connection", tenant_id = tracing::field::Empty)
        }
        Outer::Worker => info_span!("worker", tenant_id = %case.owner),
        Outer::KnownConnection => info_span!(
            "connection",
            otel.kind = "server",
            tenant_id = tracing::field::Empty
        ),
    };
    let work = {
        let run = run.clone();
        async move {
            crumb(&outer_who);
            let mut handles = Vec::new();
            for plan in case.requests {
                let span = request_span(plan.shape, &plan);
                let request = run_request(run.clone(), plan, outer_who.clone());
                handles.push(tokio::spawn(
                    request
                        .instrument(span)
                        .with_subscriber(run.dispatch.clone()),
                ));
            }
            for handle in handles {
                handle.await.expect("request ran");
            }
        }
    };
    work.instrument(outer_span).await;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

/// Whether data recorded under tenant `t` and user `u` may be in a report of
/// `tenant` / `user`: each part recorded is unknown or the same.
fn may_hold(tenant: Option<&str>, user: Option<&str>, t: &str, u: &str) -> bool {
    (t == NONE || Some(t) == tenant) && (u == NONE || Some(u) == user)
}

#[test]
fn no_report_transaction_or_last_event_id_holds_another_identitys_data() {
    let cases: usize = std::env::var("BOUNDARY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let seed: u64 = std::env::var("BOUNDARY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(22);
    let (layer, s) = setup(|b| b.flood_limit(None).traces_sample_rate(1.0));
    let run = Arc::new(Run {
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        errors: AtomicU64::new(0),
        queries: Mutex::new(Vec::new()),
        client: std::sync::OnceLock::new(),
    });
    let mut rng = fastrand::Rng::with_seed(seed);
    let plans: Vec<CasePlan> = (0..cases).map(|_| plan(&mut rng)).collect();
    // Every runtime thread logs through the test's subscriber, as with `.init()`: a
    // span closed where its future is dropped (after `with_subscriber`'s poll) then
    // releases its parent in this subscriber, so outer spans close and send theirs.
    let thread_dispatch = run.dispatch.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    for batch in plans.chunks(100) {
        rt.block_on(async {
            let mut handles = Vec::new();
            for case in batch.iter().cloned() {
                handles.push(tokio::spawn(
                    run_case(run.clone(), case).with_subscriber(run.dispatch.clone()),
                ));
            }
            for handle in handles {
                handle.await.expect("case ran");
            }
        });
        // Keeps the queue short: no report may be lost to a full queue.
        s.settle();
    }
    let events = s.memory.events();
    let transactions = s.memory.transactions();
    let mut tally = Tally::default();
    let mut by_id: HashMap<String, &Event<'static>> = HashMap::new();
    let (mut crumbs, mut spans, mut tx_spans) = (0usize, 0usize, 0usize);
    for event in &events {
        tally.report();
        by_id.insert(event.event_id.to_string(), event);
        let tenant = tag(event, "tenant_id");
        let user = event.user.as_ref().and_then(|u| u.id.as_deref());
        let expected = (
            field(event, "t").and_then(Value::as_str),
            field(event, "u").and_then(Value::as_str),
        );
        tally.check(
            expected.0.is_some()
                && expected.0 == Some(tenant.unwrap_or(NONE))
                && expected.1 == Some(user.unwrap_or(NONE)),
            || format!("a report of {expected:?} is tagged {tenant:?} / {user:?}"),
        );
        for crumb in &event.breadcrumbs.values {
            crumbs += 1;
            let (t, u) = (
                text(crumb.data.get("t")).unwrap_or(NONE),
                text(crumb.data.get("u")).unwrap_or(NONE),
            );
            tally.check(may_hold(tenant, user, t, u), || {
                format!("a report of {tenant:?}/{user:?} holds a breadcrumb of {t}/{u}")
            });
        }
        if let Some(Context::Other(map)) = event.contexts.get("spans") {
            for span in map.values() {
                let Some(fields) = span.as_object() else {
                    continue;
                };
                spans += 1;
                let (t, u) = (
                    text(fields.get("t")).unwrap_or(NONE),
                    text(fields.get("u")).unwrap_or(NONE),
                );
                let (st, su) = (
                    text(fields.get("tenant_id")).unwrap_or(NONE),
                    text(fields.get("user_id")).unwrap_or(NONE),
                );
                tally.check(
                    may_hold(tenant, user, t, u) && may_hold(tenant, user, st, su),
                    || {
                        format!(
                            "a report of {tenant:?}/{user:?} holds a span of {t}/{u} ({st}/{su})"
                        )
                    },
                );
            }
        }
    }
    let errors = run.errors.load(Ordering::Relaxed) as usize;
    assert_eq!(
        events.len(),
        errors,
        "one report per error: {:?}",
        s.guard.stats()
    );
    for tx in &transactions {
        tally.report();
        let tenant = tx.tags.get("tenant_id").map(String::as_str);
        let user = tx.user.as_ref().and_then(|u| u.id.as_deref());
        for span in &tx.spans {
            tx_spans += 1;
            let (t, u) = (
                text(span.data.get("t")).unwrap_or(NONE),
                text(span.data.get("u")).unwrap_or(NONE),
            );
            let (st, su) = (
                text(span.data.get("tenant_id")).unwrap_or(NONE),
                text(span.data.get("user_id")).unwrap_or(NONE),
            );
            tally.check(
                may_hold(tenant, user, t, u) && may_hold(tenant, user, st, su),
                || {
                    format!(
                        "a transaction of {tenant:?}/{user:?} lists a span of {t}/{u} ({st}/{su})"
                    )
                },
            );
        }
    }
    let queries = std::mem::take(&mut *lock(&run.queries));
    let mut own = 0;
    for query in &queries {
        tally.report();
        if query.after_own_error {
            tally.check(query.id.is_some(), || {
                format!("{:?}: no last_event_id after its own report", query.who)
            });
        }
        let Some(id) = &query.id else { continue };
        let event = by_id.get(id);
        let seen = event.map(|e| {
            (
                tag(e, "tenant_id"),
                e.user.as_ref().and_then(|u| u.id.as_deref()),
            )
        });
        tally.check(
            seen.is_some_and(|(t, u)| {
                may_hold(
                    query.who.tenant.as_deref(),
                    query.who.user.as_deref(),
                    t.unwrap_or(NONE),
                    u.unwrap_or(NONE),
                )
            }),
            || {
                format!(
                    "{:?} got the last_event_id of a report of {seen:?}",
                    query.who
                )
            },
        );
        if event.and_then(|e| field(e, "t")).and_then(Value::as_str) == Some(query.who.t()) {
            own += 1;
        }
    }
    println!(
        "{cases} cases (seed {seed}): {} reports, {} transactions, {crumbs} breadcrumbs, \
         {spans} report spans, {tx_spans} transaction spans, {} last_event_id calls \
         ({own} of the caller's identity)",
        events.len(),
        transactions.len(),
        queries.len()
    );
    tally.finish(&format!("{cases} generated cases"), cases);
}
