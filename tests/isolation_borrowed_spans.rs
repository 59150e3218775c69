//! A span made inside one tenant's request and entered later inside another's (a pooled
//! connection's span, a lazily built client's span kept in a `OnceLock`) is borrowed: the
//! events inside it belong to the request running it (ADR-025). Every breadcrumb, span and
//! message carries a marker `[tN/uM]` of the identity it was logged under; a report,
//! transaction or `last_event_id()` holding another identity's marker is a failure.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{harness, tag};
use sentry::protocol::{Event, Transaction};
use tracing::{info, info_span, Instrument};
use tracing_subscriber::prelude::*;

fn marker(t: usize, u: usize) -> String {
    format!("[t{t}/u{u}]")
}

/// All markers `[tX/uY]` in a text.
fn markers_in(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("[t") {
        let r = &rest[i..];
        if let Some(j) = r.find(']') {
            let m = &r[..=j];
            if m.contains("/u") && m.len() < 16 {
                v.push(m.to_string());
            }
        }
        rest = &rest[i + 2..];
    }
    v
}

fn identity_of(e: &Event<'static>) -> Option<String> {
    let t = tag(e, "tenant_id")?;
    let u = e.user.as_ref()?.id.clone()?;
    Some(format!("[{t}/u{u}]"))
}

type Ids = Arc<Mutex<Vec<(String, Option<sentry::types::Uuid>)>>>;

fn check(events: &[Event<'static>], txs: &[Transaction<'static>], ids: &Ids, what: &str) -> usize {
    let mut failures = 0;
    let mut by_id: HashMap<sentry::types::Uuid, String> = HashMap::new();
    for e in events {
        let own = identity_of(e);
        let json = serde_json::to_string(e).unwrap();
        by_id.insert(e.event_id, own.clone().unwrap_or_default());
        let msg = e.message.clone().unwrap_or_default();
        let msg_marks = markers_in(&msg);
        let expect = msg_marks.first().cloned();
        if own.is_none() || own != expect {
            println!("{what}: EVENT IDENTITY {:?} for message {msg:?}", own);
            failures += 1;
        }
        for m in markers_in(&json) {
            if Some(&m) != expect.as_ref() {
                println!("{what}: FOREIGN {m} in report of {expect:?} ({msg})");
                failures += 1;
                break;
            }
        }
    }
    for tx in txs {
        let json = serde_json::to_string(tx).unwrap();
        let ms = markers_in(&json);
        if let Some(first) = ms.first() {
            if ms.iter().any(|m| m != first) {
                let mut uniq = ms.clone();
                uniq.sort();
                uniq.dedup();
                println!("{what}: TRANSACTION {:?} mixes {:?}", tx.name, uniq);
                failures += 1;
            }
        }
    }
    // Flood control is off: every request's last_event_id() is its own report.
    for (m, id) in ids.lock().unwrap().iter() {
        match id.and_then(|id| by_id.get(&id)) {
            Some(owner) if owner == m => {}
            owner => {
                println!("{what}: LAST_EVENT_ID of {m} is {id:?}, of {owner:?}");
                failures += 1;
            }
        }
    }
    let ev_marks: usize = events
        .iter()
        .map(|e| markers_in(&serde_json::to_string(e).unwrap()).len())
        .sum();
    let tx_marks: usize = txs
        .iter()
        .map(|t| markers_in(&serde_json::to_string(t).unwrap()).len())
        .sum();
    let tx_tenants: Vec<String> = txs
        .iter()
        .map(|t| {
            format!(
                "{:?}/{:?}",
                t.tags.get("tenant_id"),
                markers_in(&serde_json::to_string(t).unwrap()).first()
            )
        })
        .take(4)
        .collect();
    println!("{what}: {} events, {} transactions, {failures} failures (markers: {ev_marks} in events, {tx_marks} in transactions; e.g. {tx_tenants:?})", events.len(), txs.len());
    failures
}

/// Runs `body` under a fresh layer (every transaction sampled, no flood control), waits
/// for `expected` reports and fails on any report, transaction or `last_event_id()`
/// holding another identity's marker. The reports, for the test's own checks.
fn run_isolated(what: &str, expected: usize, body: impl FnOnce(&Ids)) -> Vec<Event<'static>> {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let ids: Ids = Default::default();
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || body(&ids));
    let events = h.receiver.wait_for_events(expected, common::WAIT);
    // The guard's drop flushes the transactions of the spans closed last.
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    for e in events.iter().take(3) {
        println!(
            "{what}: {:?} tenant={:?} user={:?} crumbs={:?}",
            e.message,
            tag(e, "tenant_id"),
            e.user.as_ref().and_then(|u| u.id.clone()),
            common::crumb_messages(e)
        );
    }
    assert_eq!(check(&events, &h.receiver.transactions(), &ids, what), 0);
    events
}

/// The event id the calling request sees after its report, under its marker.
fn note_event_id(ids: &Ids, t: usize, u: usize) {
    ids.lock()
        .unwrap()
        .push((marker(t, u), tracing_error_reports::last_event_id()));
}

fn rt() -> tokio::runtime::Runtime {
    // the scoped dispatcher of the test, on every runtime thread (workers and blocking pool)
    let d = tracing::dispatcher::get_default(|d| d.clone());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&d)))
        .enable_all()
        .build()
        .unwrap()
}

/// A span created once under tenant A's request (a pooled connection's span, a lazily built
/// client's span) and re-entered later by tenant B's requests.
#[test]
fn a_pooled_span_entered_in_another_request_reports_under_that_request() {
    let events = run_isolated("pooled_span_reused_across_tenants", 2, |ids| {
        let pool_span;
        {
            let a = info_span!(
                "request",
                otel.kind = "server",
                tenant_id = "t1",
                user_id = 11_u64
            );
            let _ea = a.enter();
            pool_span = info_span!("pg_conn", db = "orders");
            info!("a crumb {}", marker(1, 11));
            tracing::error!("a failed {}", marker(1, 11));
            note_event_id(ids, 1, 11);
        }
        {
            let b = info_span!(
                "request",
                otel.kind = "server",
                tenant_id = "t2",
                user_id = 22_u64
            );
            let _eb = b.enter();
            info!("b crumb {}", marker(2, 22));
            let _p = pool_span.enter();
            info!("b query {}", marker(2, 22));
            {
                // A span made inside the borrowed span belongs to B's request too.
                let _q = info_span!("query", marker = %marker(2, 22)).entered();
                info!("b statement {}", marker(2, 22));
            }
            tracing::error!("b query failed {}", marker(2, 22));
            note_event_id(ids, 2, 22);
        }
    });
    let b = events
        .iter()
        .find(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("b query failed"))
        })
        .expect("B's report");
    assert_eq!(tag(b, "tenant_id"), Some("t2"));
    let crumbs = common::crumb_messages(b);
    for expected in ["b crumb", "b query", "b statement"] {
        assert!(
            crumbs.iter().any(|c| c.starts_with(expected)),
            "{expected} in {crumbs:?}"
        );
    }
}

/// Async form: a client created lazily in the first request (its span made there), shared by
/// every later request through an Arc, its calls `.instrument(client.span.clone())`.
#[test]
fn a_lazily_built_client_span_shared_by_requests_reports_under_each_request() {
    let n = 12;
    run_isolated("lazily_built_client_span_shared_async", n, |ids| {
        rt().block_on(async {
            let client: Arc<std::sync::OnceLock<tracing::Span>> = Default::default();
            let mut hs = Vec::new();
            for i in 0..n {
                let (t, u) = (i % 3, 500 + i);
                let span = info_span!(
                    "request",
                    otel.kind = "server",
                    tenant_id = format!("t{t}"),
                    user_id = u as u64
                );
                let client = client.clone();
                let ids = ids.clone();
                hs.push(tokio::spawn(
                    async move {
                        info!("handler {}", marker(t, u));
                        let cspan = client
                            .get_or_init(|| info_span!("payments_client", peer = "api.pay.io"))
                            .clone();
                        async {
                            info!("calling payments {}", marker(t, u));
                            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..5))).await;
                            tracing::error!("payments call failed {}", marker(t, u));
                        }
                        .instrument(cspan)
                        .await;
                        note_event_id(&ids, t, u);
                    }
                    .instrument(span),
                ));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            for h in hs {
                h.await.unwrap();
            }
        })
    });
}

/// Not borrowed: a job span made with `parent: None` (the README's recipe for jobs of a
/// worker) and declaring its tenant, entered under a worker span holding the pool owner's
/// tenant, is a request of its own, whose reports carry the job's tenant.
#[test]
fn a_job_span_made_without_a_parent_under_a_worker_span_stays_its_own_request() {
    let events = run_isolated("job_without_parent", 3, |ids| {
        let _worker = info_span!("worker", tenant_id = "t0", user_id = 1_u64).entered();
        info!("worker started {}", marker(0, 1));
        for (t, u) in [(1, 11), (2, 22), (3, 33)] {
            let job =
                info_span!(parent: None, "job", tenant_id = format!("t{t}"), user_id = u as u64);
            let _job = job.enter();
            info!("job crumb {}", marker(t, u));
            {
                let _step = info_span!("step", marker = %marker(t, u)).entered();
                tracing::error!("job failed {}", marker(t, u));
            }
            note_event_id(ids, t, u);
        }
    });
    assert_eq!(events.len(), 3);
    for e in &events {
        assert!(common::crumb_messages(e)
            .iter()
            .any(|c| c.starts_with("job crumb")));
    }
}

/// Work moved off the request with `carry_request` from inside a borrowed span (a blocking
/// call of the shared client) stays in the request that ran it.
#[test]
fn work_carried_off_a_borrowed_span_stays_in_the_request_running_it() {
    let events = run_isolated("carried_off_borrowed", 3, |ids| {
        rt().block_on(async {
            let client: Arc<std::sync::OnceLock<tracing::Span>> = Default::default();
            for (t, u) in [(1, 11), (2, 22), (3, 33)] {
                let span = info_span!(
                    "request",
                    otel.kind = "server",
                    tenant_id = format!("t{t}"),
                    user_id = u as u64
                );
                let client = client.clone();
                let ids = ids.clone();
                tokio::spawn(
                    async move {
                        info!("handler {}", marker(t, u));
                        let cspan = client
                            .get_or_init(|| info_span!("blocking_client", peer = "ldap"))
                            .clone();
                        async {
                            tokio::task::spawn_blocking(tracing_error_reports::carry_request(
                                move || {
                                    info!("bind {}", marker(t, u));
                                    tracing::error!("bind failed {}", marker(t, u));
                                },
                            ))
                            .await
                            .unwrap();
                        }
                        .instrument(cspan)
                        .await;
                        note_event_id(&ids, t, u);
                    }
                    .instrument(span),
                )
                .await
                .unwrap();
            }
        })
    });
    assert_eq!(events.len(), 3);
    for e in &events {
        let crumbs = common::crumb_messages(e);
        assert!(
            crumbs.iter().any(|c| c.starts_with("handler")),
            "{crumbs:?}"
        );
        assert!(crumbs.iter().any(|c| c.starts_with("bind")), "{crumbs:?}");
    }
}

/// A task spawned with `.in_current_span()` inside a borrowed span runs in that span
/// alone, with no request below it: which request it was spawned in is unknowable, so
/// its reports carry no request's tenant or user, never the tenant of the request that
/// made the span (nor its breadcrumbs).
#[test]
fn a_task_spawned_in_a_borrowed_span_reports_under_no_other_tenant() {
    let h = harness(|b| b.traces_sample_rate(0.0).flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        rt().block_on(async {
            let pool: Arc<std::sync::OnceLock<tracing::Span>> = Default::default();
            for (t, u) in [(1, 11), (2, 22), (3, 33)] {
                let span = info_span!(
                    "request",
                    otel.kind = "server",
                    tenant_id = format!("t{t}"),
                    user_id = u as u64
                );
                let pool = pool.clone();
                async move {
                    info!("handler {}", marker(t, u));
                    // Made in the first request, entered by every later one.
                    let conn = pool
                        .get_or_init(|| info_span!("pg_conn", db = "orders"))
                        .clone();
                    let handle = {
                        let _entered = conn.enter();
                        tokio::spawn(
                            async move {
                                info!("spawned crumb {}", marker(t, u));
                                tracing::error!("spawned query failed {}", marker(t, u));
                            }
                            .in_current_span(),
                        )
                    };
                    handle.await.unwrap();
                    tracing::error!("handler failed {}", marker(t, u));
                }
                .instrument(span)
                .await;
            }
        })
    });
    let events = h.receiver.wait_for_events(6, common::WAIT);
    drop(h.guard);
    assert_eq!(events.len(), 6);
    let mut failures = Vec::new();
    for e in &events {
        let message = e.message.clone().unwrap_or_default();
        let own = markers_in(&message).first().cloned().expect("a marker");
        let json = serde_json::to_string(e).unwrap();
        // Another identity's marker anywhere, or a tenant tag that is not the message's.
        if markers_in(&json).iter().any(|m| *m != own) {
            failures.push(format!("foreign marker in {message}"));
        }
        if let Some(tenant) = tag(e, "tenant_id") {
            if !own.starts_with(&format!("[{tenant}/")) {
                failures.push(format!("tenant {tenant} on {message}"));
            }
        }
        if message.starts_with("handler failed") {
            assert_eq!(
                identity_of(e),
                Some(own),
                "a request's own report keeps its identity"
            );
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// An event naming another tenant than its request's (an operator's job acting for
/// tenant t2 inside t1's request) is that tenant's report: it carries neither the
/// request tenant's user nor its breadcrumbs. One naming the same tenant keeps the user.
#[test]
fn an_event_of_another_tenant_takes_nothing_of_the_requests_tenant() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "t1", user_id = 11_u64).entered();
        info!("private crumb {}", marker(1, 11));
        tracing::error!(tenant_id = "t2", "sync for the other tenant failed");
        tracing::error!(tenant_id = "t1", "own tenant failed {}", marker(1, 11));
    });
    let events = h.receiver.wait_for_events(2, common::WAIT);
    assert_eq!(events.len(), 2);
    let other = events
        .iter()
        .find(|e| tag(e, "tenant_id") == Some("t2"))
        .expect("t2's report");
    let user = other.user.as_ref().and_then(|u| u.id.clone());
    assert_eq!(user, None, "t1's user on t2's report");
    let json = serde_json::to_string(other).unwrap();
    assert!(
        markers_in(&json).is_empty(),
        "t1's data on t2's report: {json}"
    );
    let own = events
        .iter()
        .find(|e| tag(e, "tenant_id") == Some("t1"))
        .expect("t1's report");
    assert_eq!(identity_of(own), Some(marker(1, 11)));
    assert!(common::crumb_messages(own)
        .iter()
        .any(|c| c.starts_with("private crumb")));
}

/// A breadcrumb naming another tenant, or another user, than its request's (found by a
/// fifth attacker) is kept under that identity: the request's own report never shows it;
/// one naming the request's own tenant, or none, is shown.
#[test]
fn a_breadcrumb_naming_another_tenant_or_user_stays_out_of_the_requests_report() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "t1", user_id = 11_u64).entered();
        info!("own crumb");
        info!(tenant_id = "t1", "own tenant's crumb");
        info!(tenant_id = "t2", "crumb of another tenant");
        info!(user_id = 99_u64, "crumb of another user");
        info!(
            tenant_id = "t2",
            user_id = 11_u64,
            "crumb of another tenant's user 11"
        );
        tracing::error!("own request failed");
    });
    let events = h.receiver.wait_for_events(1, common::WAIT);
    assert_eq!(events.len(), 1);
    assert_eq!(
        common::crumb_messages(&events[0]),
        ["own crumb", "own tenant's crumb"]
    );
}

/// A span made outside any request (h2's `Connection` span) and entered inside requests
/// keeps its own request where no request runs: no other request's data is there, its
/// breadcrumbs stay together across entries, and nothing is said on stderr.
#[test]
fn a_span_made_outside_any_request_keeps_its_own_request_after_being_lent() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let connection = info_span!("Connection", peer = "10.0.0.7");
        {
            let _request = info_span!("request", tenant_id = "t1", user_id = 11_u64).entered();
            connection.in_scope(|| info!("frame sent {}", marker(1, 11)));
        }
        connection.in_scope(|| info!("connection window updated"));
        connection.in_scope(|| tracing::error!("connection reset by peer"));
    });
    let events = h.receiver.wait_for_events(1, common::WAIT);
    assert_eq!(events.len(), 1);
    let crumbs = common::crumb_messages(&events[0]);
    assert!(
        crumbs.iter().any(|c| c == "connection window updated"),
        "{crumbs:?}"
    );
    let json = serde_json::to_string(&events[0]).unwrap();
    assert!(markers_in(&json).is_empty(), "t1's data: {json}");
    assert_eq!(tag(&events[0], "tenant_id"), None);
}

/// The known misuse, found by an attacker (300 of 300 reports with another task's tenant,
/// user and breadcrumbs): `let _g = span.enter();` held across `.await`s in tasks of a
/// multi-threaded runtime. The guard stays on the thread the task left, so tracing's own
/// current span there is another task's. A report may lose its tenant (its task moved to
/// a thread where its span was never entered), but never carries another's; children
/// made with `.instrument` under the misused span are held to the same rule.
#[test]
fn a_span_guard_held_across_await_never_gives_a_report_another_tasks_identity() {
    let tasks = 200;
    let h = harness(|b| b.traces_sample_rate(0.0).flood_limit(None));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .on_thread_start({
            let dispatch = dispatch.clone();
            move || std::mem::forget(tracing::dispatcher::set_default(&dispatch))
        })
        .build()
        .unwrap();
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                tokio::spawn(async move {
                    let (t, u) = (i % 7, 5000 + i);
                    let span =
                        info_span!("request", tenant_id = format!("t{t}"), user_id = u as u64);
                    #[allow(clippy::await_holding_invalid_type)]
                    let _entered = span.enter();
                    for step in 0..3 {
                        info!("crumb {step} {}", marker(t, u));
                        tokio::task::yield_now().await;
                    }
                    if i % 2 == 0 {
                        tracing::error!("failed {}", marker(t, u));
                    } else {
                        async { tracing::error!("query failed {}", marker(t, u)) }
                            .instrument(info_span!("query"))
                            .await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let events = h.receiver.wait_for_events(tasks, common::WAIT);
    drop(h.guard);
    assert_eq!(events.len(), tasks, "every report arrives");
    let mut failures = Vec::new();
    let mut own_identity = 0;
    for e in &events {
        let message = e.message.clone().unwrap_or_default();
        let own = markers_in(&message).first().cloned().expect("a marker");
        let json = serde_json::to_string(e).unwrap();
        if markers_in(&json).iter().any(|m| *m != own) {
            failures.push(format!("foreign marker in the report of {message}"));
        }
        match identity_of(e) {
            Some(identity) if identity == own => own_identity += 1,
            Some(identity) => failures.push(format!("identity {identity} on {message}")),
            None => {
                if tag(e, "tenant_id").is_some() || e.user.is_some() {
                    failures.push(format!("part of another identity on {message}"));
                }
            }
        }
    }
    println!("{own_identity} of {tasks} reports kept their own identity, the rest none");
    assert!(
        failures.is_empty(),
        "{} wrong: {failures:#?}",
        failures.len()
    );
}

/// A connection span declaring a tenant, made while INFO was on, then a `reload` of the
/// subscriber's filter to WARN (found by a fifth attacker): the next request's INFO span on
/// that connection is made for no layer, so its error looked like the connection
/// tenant's, with its breadcrumbs. Now the connection's events belong to no request
/// (no tenant, user or breadcrumbs, once and for all), and a request span made after the
/// filter is back keeps its own identity and nothing of the others'.
#[test]
fn a_tenant_span_whose_level_a_reload_disabled_gives_no_tenant_rather_than_its_own() {
    use tracing_subscriber::filter::LevelFilter;
    let h = harness(|b| b.flood_limit(None));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(LevelFilter::INFO);
    let subscriber = tracing_subscriber::registry().with(filter).with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let connection = info_span!("connection", tenant_id = "alpha", user_id = 1_u64);
        let _connection = connection.enter();
        tracing::warn!("alpha's crumb");
        handle.reload(LevelFilter::WARN).expect("reload");
        {
            let _request = info_span!("request", tenant_id = "beta", user_id = 2_u64).entered();
            tracing::warn!("beta's crumb");
            tracing::error!("beta failed");
        }
        handle.reload(LevelFilter::INFO).expect("reload");
        {
            let _request = info_span!("request", tenant_id = "gamma", user_id = 3_u64).entered();
            tracing::error!("gamma failed");
        }
        tracing::error!("connection failed");
    });
    let events = h.receiver.wait_for_events(3, common::WAIT);
    assert_eq!(events.len(), 3);
    let by_message = |m: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(m))
            .unwrap_or_else(|| panic!("{m}: {events:#?}"))
    };
    for message in ["beta failed", "connection failed"] {
        let event = by_message(message);
        assert_eq!(tag(event, "tenant_id"), None, "{message}: {event:#?}");
        assert_eq!(event.user, None, "{message}");
        assert!(
            common::crumb_messages(event).is_empty(),
            "{message}: {:?}",
            common::crumb_messages(event)
        );
    }
    let gamma = by_message("gamma failed");
    assert_eq!(tag(gamma, "tenant_id"), Some("gamma"));
    assert!(common::crumb_messages(gamma).is_empty());
}

/// A global filter enabling a library's connection span (declaring a tenant) but not the
/// service's request spans inside it (`warn,conn_lib=info`; found by a fifth attacker):
/// the refused request span is seen when the layer is asked (`enabled` runs first), so
/// the connection's events lose its tenant rather than give it to the request's error.
/// Request spans the filter enables, under the same filter, keep theirs.
#[test]
fn a_request_span_a_global_filter_refuses_inside_a_tenant_span_gives_no_tenant() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(
            "warn,conn_lib=info,visible=info",
        ))
        .with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let connection =
            info_span!(target: "conn_lib", "connection", tenant_id = "alpha", user_id = 1_u64);
        let _connection = connection.enter();
        tracing::warn!(target: "conn_lib", "alpha's crumb");
        {
            let _request = info_span!("request", tenant_id = "beta", user_id = 2_u64).entered();
            tracing::warn!("beta's crumb");
            tracing::error!("beta failed");
        }
        {
            let _request =
                info_span!(target: "visible", "request", tenant_id = "gamma", user_id = 3_u64)
                    .entered();
            tracing::error!("gamma failed");
        }
    });
    let events = h.receiver.wait_for_events(2, common::WAIT);
    assert_eq!(events.len(), 2);
    let beta = events
        .iter()
        .find(|e| e.message.as_deref() == Some("beta failed"))
        .expect("beta's report");
    assert_eq!(tag(beta, "tenant_id"), None, "{beta:#?}");
    assert_eq!(beta.user, None);
    assert!(common::crumb_messages(beta).is_empty());
    let gamma = events
        .iter()
        .find(|e| e.message.as_deref() == Some("gamma failed"))
        .expect("gamma's report");
    assert_eq!(tag(gamma, "tenant_id"), Some("gamma"));
    assert!(common::crumb_messages(gamma).is_empty());
}

/// A span declaring a tenant whose field's value logs while it is made (the value is
/// computed after the layer was asked for the span, before it is made): no filter
/// refused anything, so the enclosing request keeps its tenant and breadcrumbs (a sixth
/// attacker saw it lose them).
#[test]
fn a_field_value_that_logs_while_its_span_is_made_takes_nothing_from_the_request() {
    fn tenant_looked_up() -> &'static str {
        info!("looking the tenant up");
        "beta"
    }
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = info_span!("request", tenant_id = "alpha", user_id = 1_u64).entered();
        info!("alpha's crumb");
        {
            let _scope = info_span!("scope", tenant_id = %tenant_looked_up()).entered();
            tracing::error!("beta failed");
        }
        tracing::error!("alpha failed");
    });
    let events = h.receiver.wait_for_events(2, common::WAIT);
    assert_eq!(events.len(), 2);
    let alpha = events
        .iter()
        .find(|e| e.message.as_deref() == Some("alpha failed"))
        .expect("alpha's report");
    assert_eq!(tag(alpha, "tenant_id"), Some("alpha"));
    assert!(common::crumb_messages(alpha).contains(&"alpha's crumb".to_owned()));
    let beta = events
        .iter()
        .find(|e| e.message.as_deref() == Some("beta failed"))
        .expect("beta's report");
    assert_eq!(tag(beta, "tenant_id"), Some("beta"));
    assert!(!common::crumb_messages(beta).contains(&"alpha's crumb".to_owned()));
}
