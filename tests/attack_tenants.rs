//! Attack, family 2: tenants. Many concurrent requests of different tenants/users in span
//! layouts a real service has. Every breadcrumb, span and message carries a marker `[tN/uM]`
//! of the identity it was logged under; any report / transaction / last_event_id holding
//! another identity's marker is a failure.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{harness, tag};
use sentry::protocol::{Event, Transaction};
use tracing::{field::Empty, info, info_span, Instrument};
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
    for (m, id) in ids.lock().unwrap().iter() {
        if let Some(id) = id {
            match by_id.get(id) {
                Some(owner) if owner == m => {}
                Some(owner) => {
                    println!("{what}: LAST_EVENT_ID of {m} is {owner}'s report");
                    failures += 1;
                }
                None => println!("{what}: last_event_id of {m} not among received (flood?)"),
            }
        }
    }
    let ev_marks: usize = events.iter().map(|e| markers_in(&serde_json::to_string(e).unwrap()).len()).sum();
    let tx_marks: usize = txs.iter().map(|t| markers_in(&serde_json::to_string(t).unwrap()).len()).sum();
    let tx_tenants: Vec<String> = txs.iter().map(|t| format!("{:?}/{:?}", t.tags.get("tenant_id"), markers_in(&serde_json::to_string(t).unwrap()).first())).take(4).collect();
    println!("{what}: {} events, {} transactions, {failures} failures (markers: {ev_marks} in events, {tx_marks} in transactions; e.g. {tx_tenants:?})", events.len(), txs.len());
    failures
}

#[tracing::instrument(fields(marker = %marker(t, u)))]
async fn load_account(t: usize, u: usize) {
    info!("load account {}", marker(t, u));
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..5))).await;
    info!("account loaded {}", marker(t, u));
}

async fn one_request(t: usize, u: usize, ids: Ids) {
    let m = marker(t, u);
    load_account(t, u).await;
    // a spawned child task, carried in the request span
    let m2 = m.clone();
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            info!("child task {m2}");
        }
        .in_current_span(),
    )
    .await
    .unwrap();
    // blocking work, carried
    let m3 = m.clone();
    tokio::task::spawn_blocking(tracing_error_reports::carry_request(move || {
        info!("blocking {m3}");
    }))
    .await
    .unwrap();
    // select! of two branches
    let a = async {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..3))).await;
        info!("branch a {m}");
    };
    let b = async {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..3))).await;
        info!("branch b {m}");
    };
    tokio::select! { _ = a => {}, _ = b => {} }
    tokio::task::yield_now().await;
    tracing::error!("checkout failed {m}");
    tokio::task::yield_now().await;
    let id = tracing_error_reports::last_event_id();
    ids.lock().unwrap().push((m, id));
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

/// Plain request spans, tenant known at creation, many concurrent.
#[test]
fn concurrent_request_spans() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let n = 60;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let mut hs = Vec::new();
            for i in 0..n {
                let (t, u) = (i % 5, i);
                let span = info_span!("request", otel.kind = "server", tenant_id = format!("t{t}"), user_id = u as u64);
                hs.push(tokio::spawn(one_request(t, u, ids.clone()).instrument(span)));
            }
            for h in hs {
                h.await.unwrap();
            }
        })
    });
    let events = receiver.wait_for_events(n, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "concurrent_request_spans");
    assert_eq!(events.len(), n);
    assert_eq!(f, 0);
}

/// Tenant and user recorded after authentication (Empty at creation), with an INFO
/// breadcrumb logged before authentication, in a `connection` span serving keep-alive requests.
#[test]
fn keepalive_connection_tenant_recorded_late() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let conns = 12;
    let per = 4;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let mut hs = Vec::new();
            for c in 0..conns {
                let ids = ids.clone();
                let conn = info_span!("connection", peer = %format!("10.0.0.{c}:5000"));
                hs.push(tokio::spawn(
                    async move {
                        for r in 0..per {
                            let (t, u) = ((c + r) % 4, c * 10 + r);
                            let span = info_span!("request", method = "GET", uri = "/orders", tenant_id = Empty, user_id = Empty);
                            async {
                                info!("headers parsed");
                                tokio::task::yield_now().await;
                                let s = tracing::Span::current();
                                s.record("tenant_id", format!("t{t}"));
                                s.record("user_id", u as u64);
                                one_request(t, u, ids.clone()).await;
                            }
                            .instrument(span)
                            .await;
                        }
                    }
                    .instrument(conn),
                ));
            }
            for h in hs {
                h.await.unwrap();
            }
        })
    });
    let n = conns * per;
    let events = receiver.wait_for_events(n, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "keepalive_connection_tenant_recorded_late");
    assert_eq!(events.len(), n);
    assert_eq!(f, 0);
}

/// One long-lived span per HTTP/1.1 connection whose tenant/user is re-recorded for each
/// request on it (the connection span IS the request span). Breadcrumbs of the previous
/// request's tenant must not reach the next tenant's report.
#[test]
fn one_span_re_recorded_per_request() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let conns = 8;
    let per = 3;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let mut hs = Vec::new();
            for c in 0..conns {
                let ids = ids.clone();
                let span = info_span!("http_conn", otel.kind = "server", tenant_id = Empty, user_id = Empty);
                hs.push(tokio::spawn(
                    async move {
                        for r in 0..per {
                            let (t, u) = ((c + r) % 3, c * 10 + r);
                            let s = tracing::Span::current();
                            s.record("tenant_id", format!("t{t}"));
                            s.record("user_id", u as u64);
                            one_request(t, u, ids.clone()).await;
                        }
                    }
                    .instrument(span),
                ));
            }
            for h in hs {
                h.await.unwrap();
            }
        })
    });
    let n = conns * per;
    let events = receiver.wait_for_events(n, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "one_span_re_recorded_per_request");
    assert_eq!(events.len(), n);
    assert_eq!(f, 0);
}

/// Worker: a long-lived `worker` span, each job a span declaring the tenant, jobs of
/// different tenants interleaved on the same worker task via join of futures.
#[test]
fn worker_with_interleaved_jobs() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let jobs = 30;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let worker = info_span!("worker", queue = "emails");
            let ids2 = ids.clone();
            async move {
                let mut futs = Vec::new();
                for j in 0..jobs {
                    let (t, u) = (j % 6, 100 + j);
                    let job = info_span!("job", tenant_id = format!("t{t}"), user_id = u as u64);
                    futs.push(one_request(t, u, ids2.clone()).instrument(job));
                }
                // all polled on one task: interleaved on the same thread
                join_all(futs).await;
            }
            .instrument(worker)
            .await;
        })
    });
    let events = receiver.wait_for_events(jobs, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "worker_with_interleaved_jobs");
    assert_eq!(events.len(), jobs);
    assert_eq!(f, 0);
}

async fn join_all<F: std::future::Future<Output = ()>>(futs: Vec<F>) {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).map(Some).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for f in futs.iter_mut() {
            if let Some(fut) = f {
                if fut.as_mut().poll(cx).is_ready() {
                    *f = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await
}

/// The request span closes early (handler returned, response sent) while a spawned
/// background task of that request keeps logging and then fails; meanwhile other tenants'
/// requests run on the same threads.
#[test]
fn early_closed_request_span_background_task() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let n = 24;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let mut bg = Vec::new();
            for i in 0..n {
                let (t, u) = (i % 4, 200 + i);
                let span = info_span!("request", otel.kind = "server", tenant_id = format!("t{t}"), user_id = u as u64);
                let ids = ids.clone();
                let handle = async move {
                    info!("accepted {}", marker(t, u));
                    let ids2 = ids.clone();
                    // fire and forget, carried in the request's span
                    tokio::spawn(
                        async move {
                            tokio::time::sleep(Duration::from_millis(20 + fastrand::u64(0..20))).await;
                            info!("bg step {}", marker(t, u));
                            tracing::error!("bg failed {}", marker(t, u));
                            ids2.lock().unwrap().push((marker(t, u), tracing_error_reports::last_event_id()));
                        }
                        .in_current_span(),
                    )
                }
                .instrument(span)
                .await;
                bg.push(handle);
            }
            for b in bg {
                b.await.unwrap();
            }
        })
    });
    let events = receiver.wait_for_events(n, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "early_closed_request_span_background_task");
    assert_eq!(events.len(), n);
    assert_eq!(f, 0);
}

/// A future created (and first polled) in one tenant's request, moved and finished inside
/// another's request, a common bug pattern with shared caches / singleflight: the error it
/// logs is under the span it was instrumented with (tenant A), so A's identity, never B's
/// breadcrumbs.
#[test]
fn singleflight_shared_future() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let pairs = 10;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let mut hs = Vec::new();
            for p in 0..pairs {
                let (ta, ua) = (0, 300 + p);
                let (tb, ub) = (1, 400 + p);
                let ids = ids.clone();
                let sa = info_span!("request", otel.kind = "server", tenant_id = format!("t{ta}"), user_id = ua as u64);
                let sb = info_span!("request", otel.kind = "server", tenant_id = format!("t{tb}"), user_id = ub as u64);
                hs.push(tokio::spawn(async move {
                    let ids_a = ids.clone();
                    // the shared future, instrumented with A's request span
                    let shared = async move {
                        info!("cache fill {}", marker(ta, ua));
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        tracing::error!("cache fill failed {}", marker(ta, ua));
                        ids_a.lock().unwrap().push((marker(ta, ua), tracing_error_reports::last_event_id()));
                    }
                    .instrument(sa.clone());
                    let mut shared = Box::pin(shared);
                    // poll it once in A
                    let _ = futures_poll_once(shared.as_mut()).await;
                    // B awaits it inside its own request after logging B breadcrumbs
                    async {
                        info!("b waits {}", marker(tb, ub));
                        shared.await;
                        tracing::error!("b failed {}", marker(tb, ub));
                        ids.lock().unwrap().push((marker(tb, ub), tracing_error_reports::last_event_id()));
                    }
                    .instrument(sb)
                    .await;
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
        })
    });
    let events = receiver.wait_for_events(pairs * 2, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(500));
    let f = check(&events, &receiver.transactions(), &ids, "singleflight_shared_future");
    assert_eq!(events.len(), pairs * 2);
    assert_eq!(f, 0);
}

async fn futures_poll_once<F: std::future::Future + Unpin>(mut f: F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(move |cx| std::task::Poll::Ready(std::pin::Pin::new(&mut f).poll(cx))).await
}

/// Events that carry their own identity (error!(tenant_id = ..)) inside another tenant's
/// request: e.g. an admin request acting on a customer's account.
#[test]
fn event_level_identity_inside_other_request() {
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    tracing::subscriber::with_default(sub, || {
        let span = info_span!("request", otel.kind = "server", tenant_id = "t9", user_id = 900_u64);
        let _e = span.enter();
        info!("admin breadcrumb {}", marker(9, 900));
        tracing::error!(tenant_id = "t3", user_id = 33_u64, "customer op failed {}", marker(3, 33));
        ids.lock().unwrap().push((marker(3, 33), tracing_error_reports::last_event_id()));
    });
    let events = receiver.wait_for_events(1, common::WAIT);
    drop(h.guard);
    let f = check(&events, &[], &ids, "event_level_identity_inside_other_request");
    assert_eq!(f, 0);
}

/// Inside tenant A's request, a child span declaring tenant_id = Empty that gets tenant B
/// recorded later (an admin endpoint acting for a customer resolved after a lookup).
#[test]
fn child_tenant_recorded_late_differs() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    tracing::subscriber::with_default(sub, || {
        let a = info_span!("request", otel.kind = "server", tenant_id = "t1", user_id = 11_u64);
        let _ea = a.enter();
        info!("a crumb {}", marker(1, 11));
        {
            let act = info_span!("act_as", tenant_id = Empty, user_id = Empty);
            let _eb = act.enter();
            act.record("tenant_id", "t2");
            act.record("user_id", 22_u64);
            info!("b crumb {}", marker(2, 22));
            tracing::error!("b failed {}", marker(2, 22));
            ids.lock().unwrap().push((marker(2, 22), tracing_error_reports::last_event_id()));
        }
        tracing::error!("a failed {}", marker(1, 11));
        ids.lock().unwrap().push((marker(1, 11), tracing_error_reports::last_event_id()));
    });
    let events = receiver.wait_for_events(2, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    for e in &events {
        println!("late child: {:?} tenant={:?} user={:?} crumbs={:?}", e.message, tag(e, "tenant_id"), e.user.as_ref().and_then(|u| u.id.clone()), common::crumb_messages(e));
    }
    let f = check(&events, &receiver.transactions(), &ids, "child_tenant_recorded_late_differs");
    assert_eq!(f, 0);
}

/// Same, user only: same tenant, the child's user recorded later (support agent acting
/// for a user of the same tenant).
#[test]
fn child_user_recorded_late_differs() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    tracing::subscriber::with_default(sub, || {
        let a = info_span!("request", otel.kind = "server", tenant_id = "t1", user_id = 11_u64);
        let _ea = a.enter();
        info!("a crumb {}", marker(1, 11));
        {
            let act = info_span!("act_as", user_id = Empty);
            let _eb = act.enter();
            act.record("user_id", 12_u64);
            info!("b crumb {}", marker(1, 12));
            tracing::error!("b failed {}", marker(1, 12));
            ids.lock().unwrap().push((marker(1, 12), tracing_error_reports::last_event_id()));
        }
        tracing::error!("a failed {}", marker(1, 11));
        ids.lock().unwrap().push((marker(1, 11), tracing_error_reports::last_event_id()));
    });
    let events = receiver.wait_for_events(2, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    for e in &events {
        println!("late user: {:?} tenant={:?} user={:?} crumbs={:?}", e.message, tag(e, "tenant_id"), e.user.as_ref().and_then(|u| u.id.clone()), common::crumb_messages(e));
    }
    let f = check(&events, &receiver.transactions(), &ids, "child_user_recorded_late_differs");
    assert_eq!(f, 0);
}

/// A span created once under tenant A's request (a pooled connection's span, a lazily built
/// client's span) and re-entered later by tenant B's requests.
#[test]
fn pooled_span_reused_across_tenants() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    tracing::subscriber::with_default(sub, || {
        let pool_span;
        {
            let a = info_span!("request", otel.kind = "server", tenant_id = "t1", user_id = 11_u64);
            let _ea = a.enter();
            pool_span = info_span!("pg_conn", db = "orders");
            info!("a crumb {}", marker(1, 11));
            tracing::error!("a failed {}", marker(1, 11));
            ids.lock().unwrap().push((marker(1, 11), tracing_error_reports::last_event_id()));
        }
        {
            let b = info_span!("request", otel.kind = "server", tenant_id = "t2", user_id = 22_u64);
            let _eb = b.enter();
            info!("b crumb {}", marker(2, 22));
            let _p = pool_span.enter();
            info!("b query {}", marker(2, 22));
            tracing::error!("b query failed {}", marker(2, 22));
            ids.lock().unwrap().push((marker(2, 22), tracing_error_reports::last_event_id()));
        }
    });
    let events = receiver.wait_for_events(2, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    for e in &events {
        println!("pooled: {:?} tenant={:?} user={:?} crumbs={:?}", e.message, tag(e, "tenant_id"), e.user.as_ref().and_then(|u| u.id.clone()), common::crumb_messages(e));
    }
    let f = check(&events, &receiver.transactions(), &ids, "pooled_span_reused_across_tenants");
    assert_eq!(f, 0);
}

/// Nested request: tenant B's span (known at creation) inside tenant A's request, then
/// A fails after B's child closed.
#[test]
fn nested_other_tenant_then_parent_fails() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    tracing::subscriber::with_default(sub, || {
        let a = info_span!("request", otel.kind = "server", tenant_id = "t1", user_id = 11_u64);
        let _ea = a.enter();
        info!("a crumb {}", marker(1, 11));
        {
            let _b = info_span!("webhook_delivery", tenant_id = "t2", user_id = 22_u64, marker = %marker(2, 22)).entered();
            info!("b crumb {}", marker(2, 22));
            {
                let _inner = info_span!("http_call", marker = %marker(2, 22)).entered();
            }
        }
        tracing::error!("a failed {}", marker(1, 11));
        ids.lock().unwrap().push((marker(1, 11), tracing_error_reports::last_event_id()));
    });
    let events = receiver.wait_for_events(1, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    let f = check(&events, &receiver.transactions(), &ids, "nested_other_tenant_then_parent_fails");
    assert_eq!(f, 0);
}

/// Async form: a client created lazily in the first request (its span made there), shared by
/// every later request through an Arc, its calls `.instrument(client.span.clone())`.
#[test]
fn lazily_built_client_span_shared_async() {
    let h = harness(|b| b.traces_sample_rate(1.0).flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let ids: Ids = Default::default();
    let n = 12;
    tracing::subscriber::with_default(sub, || {
        rt().block_on(async {
            let client: Arc<std::sync::OnceLock<tracing::Span>> = Default::default();
            let mut hs = Vec::new();
            for i in 0..n {
                let (t, u) = (i % 3, 500 + i);
                let span = info_span!("request", otel.kind = "server", tenant_id = format!("t{t}"), user_id = u as u64);
                let client = client.clone();
                let ids = ids.clone();
                hs.push(tokio::spawn(
                    async move {
                        info!("handler {}", marker(t, u));
                        let cspan = client.get_or_init(|| info_span!("payments_client", peer = "api.pay.io")).clone();
                        async {
                            info!("calling payments {}", marker(t, u));
                            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..5))).await;
                            tracing::error!("payments call failed {}", marker(t, u));
                        }
                        .instrument(cspan)
                        .await;
                        ids.lock().unwrap().push((marker(t, u), tracing_error_reports::last_event_id()));
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
    let events = receiver.wait_for_events(n, common::WAIT);
    drop(h.guard);
    std::thread::sleep(Duration::from_millis(300));
    if let Some(e) = events.iter().find(|e| e.message.as_deref().map(|m| m.contains("t2/u505")).unwrap_or(false)) {
        println!("sample: {:?} tenant={:?} user={:?} crumbs={:?}", e.message, tag(e, "tenant_id"), e.user.as_ref().and_then(|u| u.id.clone()), common::crumb_messages(e));
    }
    println!("last_event_ids: {:?}", ids.lock().unwrap().iter().map(|(m, id)| (m.clone(), id.is_some())).collect::<Vec<_>>());
    let f = check(&events, &receiver.transactions(), &ids, "lazily_built_client_span_shared_async");
    assert_eq!(f, 0);
}
