//! Sentry structured logs (issue 28) at the loopback receiver, parsed by the `sentry`
//! crate's envelope parser: off by default; when on, typed attributes, the request's
//! tenant, user, `tags.*` and trace (the error report's own), the span id, the source
//! location and the release; flood control per callsite and tenant, told to Sentry in
//! client reports.

mod common;

use common::{harness, WAIT};
use sentry::protocol::{Context, Log, LogLevel, Value};
use tracing::{debug, error, info, info_span, warn, Level};
use tracing_error_reports::FloodLimit;
use tracing_subscriber::prelude::*;

fn attribute<'a>(log: &'a Log, name: &str) -> Option<&'a Value> {
    log.attributes.get(name).map(|a| &a.0)
}

fn text<'a>(log: &'a Log, name: &str) -> Option<&'a str> {
    attribute(log, name).and_then(Value::as_str)
}

/// Log items Sentry's client reports in these bodies say were dropped for `reason`.
fn discarded_logs(bodies: &[u8], reason: &str) -> u64 {
    bodies
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter_map(|item| {
            item.get("discarded_events")
                .and_then(|d| d.as_array())
                .cloned()
        })
        .flatten()
        .filter(|d| d["reason"] == reason && d["category"] == "log_item")
        .map(|d| d["quantity"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn logs_arrive_typed_with_their_requests_tenant_user_tags_and_trace() {
    let h = harness(|b| b.enable_logs(Level::INFO));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!(
            "request",
            tenant_id = "acme",
            user_id = "u-7",
            tags.team = "billing"
        )
        .in_scope(|| {
            info_span!("step").in_scope(|| {
                info!(
                    order_id = 42u64,
                    amount = 9.5,
                    paid = true,
                    note = "shipped",
                    "order shipped"
                );
                debug!("below the log level");
                error!(order_id = 42u64, "payment failed");
            });
        });
        warn!("outside any request");
    });
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    let received = h.receiver.wait_for(2, WAIT);
    assert!(
        received.iter().all(|r| r.envelope.is_ok()),
        "every envelope parses"
    );
    let logs = h.receiver.logs();
    let bodies: Vec<&str> = logs.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["order shipped", "payment failed", "outside any request"],
        "INFO and more severe, in order"
    );
    let report = h
        .receiver
        .events()
        .pop()
        .expect("the error is reported too");
    let Some(Context::Trace(trace)) = report.contexts.get("trace") else {
        panic!("the report has a trace context");
    };

    let shipped = &logs[0];
    assert_eq!(shipped.level, LogLevel::Info);
    assert_eq!(
        serde_json::to_value(shipped.severity_number).expect("json"),
        9
    );
    assert_eq!(attribute(shipped, "order_id"), Some(&Value::from(42)));
    assert_eq!(attribute(shipped, "amount"), Some(&Value::from(9.5)));
    assert_eq!(attribute(shipped, "paid"), Some(&Value::Bool(true)));
    assert_eq!(text(shipped, "note"), Some("shipped"));
    assert_eq!(text(shipped, "tenant_id"), Some("acme"));
    assert_eq!(text(shipped, "user.id"), Some("u-7"));
    assert_eq!(text(shipped, "tags.team"), Some("billing"));
    assert_eq!(shipped.trace_id, Some(trace.trace_id), "the report's trace");
    assert_eq!(
        text(shipped, "sentry.trace.parent_span_id"),
        Some(trace.span_id.to_string().as_str()),
        "the span it was logged in, as the report's"
    );
    assert!(text(shipped, "code.file.path").is_some_and(|f| f.ends_with("logs.rs")));
    assert!(attribute(shipped, "code.line.number").is_some_and(Value::is_i64));
    assert_eq!(text(shipped, "code.module.name"), Some("logs"));
    assert_eq!(text(shipped, "logger.name"), Some("logs"));
    assert_eq!(text(shipped, "sentry.environment"), Some("test"));
    assert_eq!(text(shipped, "sentry.release"), Some("tests@1.0.0"));
    assert!(text(shipped, "sentry.sdk.name").is_some());

    let failed = &logs[1];
    assert_eq!(failed.level, LogLevel::Error);
    assert_eq!(failed.trace_id, Some(trace.trace_id));

    let outside = &logs[2];
    assert_eq!(outside.level, LogLevel::Warn);
    assert!(outside.trace_id.is_some(), "the process's own trace");
    assert_ne!(outside.trace_id, Some(trace.trace_id));
    assert_eq!(text(outside, "tenant_id"), None);
    assert_eq!(text(outside, "sentry.trace.parent_span_id"), None);

    // On the wire the attributes carry Sentry's types.
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    for typed in [
        r#""order_id":{"value":42,"type":"integer"}"#,
        r#""amount":{"value":9.5,"type":"double"}"#,
        r#""paid":{"value":true,"type":"boolean"}"#,
    ] {
        assert!(wire.contains(typed), "{typed} in {wire}");
    }
    let stats = h.guard.stats();
    assert_eq!(stats.logs_queued, 3, "{stats:?}");
    assert_eq!(stats.logs_dropped + stats.logs_suppressed, 0, "{stats:?}");
}

#[test]
fn logs_are_off_by_default() {
    let h = harness(|b| b);
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!("request", tenant_id = "acme").in_scope(|| {
            info!("step");
            error!("failed");
        });
    });
    assert!(h.guard.flush(WAIT));
    assert_eq!(h.receiver.wait_for_events(1, WAIT).len(), 1);
    assert!(h.receiver.logs().is_empty());
    assert_eq!(h.guard.stats().logs_queued, 0);
}

/// A `log` record (through tracing-log, as `LogTracer` forwards it) is a log of its own
/// logger and location, `logger.name` and `code.*`; tracing-log's `log.*` fields, which
/// hold the same, are not repeated as attributes (a newcomer saw both).
#[test]
fn a_log_records_source_is_its_logger_and_code_attributes_once() {
    let h = harness(|b| b.enable_logs(Level::INFO));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!("request", tenant_id = "acme").in_scope(|| {
            let _ = tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("pool exhausted"))
                    .level(log::Level::Warn)
                    .target("legacy::db")
                    .module_path(Some("legacy::db"))
                    .file(Some("src/legacy/db.rs"))
                    .line(Some(42))
                    .build(),
            );
        });
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    let logs = h.receiver.logs();
    let log = logs
        .iter()
        .find(|l| l.body == "pool exhausted")
        .expect("the record's log");
    assert_eq!(text(log, "logger.name"), Some("legacy::db"));
    assert_eq!(text(log, "code.file.path"), Some("src/legacy/db.rs"));
    assert_eq!(text(log, "code.module.name"), Some("legacy::db"));
    assert_eq!(attribute(log, "code.line.number"), Some(&Value::from(42)));
    let repeated: Vec<&String> = log
        .attributes
        .keys()
        .filter(|k| k.starts_with("log."))
        .collect();
    assert!(repeated.is_empty(), "{repeated:?}");
    assert_eq!(text(log, "tenant_id"), Some("acme"));
}

#[test]
fn events_of_the_ignored_targets_and_the_log_filter_never_become_logs() {
    let h = harness(|b| {
        b.enable_logs(Level::INFO)
            .log_filter(|meta| meta.target() != "noisy")
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info!(target: "hyper::client", "connection reused");
        info!(target: "noisy", "chatter");
        info!("kept");
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    let bodies: Vec<String> = h.receiver.logs().into_iter().map(|l| l.body).collect();
    assert_eq!(bodies, ["kept"]);
}

fn log_loop(tenant: &str, times: usize) {
    info_span!("request", tenant_id = tenant).in_scope(|| {
        for i in 0..times {
            info!(i, "polling the queue");
        }
    });
}

#[test]
fn one_tenants_log_loop_is_held_back_without_touching_another_tenants_logs() {
    let limit = 20;
    let h = harness(|b| {
        b.enable_logs(Level::INFO)
            .log_flood_limit(Some(FloodLimit::new(
                std::num::NonZeroU32::new(limit).expect("not zero"),
                std::time::Duration::from_secs(3600),
            )))
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let looped = 500;
    tracing::subscriber::with_default(subscriber, || {
        log_loop("loud", looped);
        log_loop("quiet", 5);
    });
    assert!(h.guard.flush(WAIT));
    // The client report goes with the flush's own envelope.
    h.receiver.wait_for(2, WAIT);
    let logs = h.receiver.logs();
    let of = |tenant: &str| {
        logs.iter()
            .filter(|l| text(l, "tenant_id") == Some(tenant))
            .count()
    };
    assert_eq!(of("loud"), limit as usize, "the loop's budget");
    assert_eq!(of("quiet"), 5, "the other tenant's logs, all of them");
    let stats = h.guard.stats();
    let held = (looped - limit as usize) as u64;
    assert_eq!(stats.logs_suppressed, held, "{stats:?}");
    assert_eq!(
        discarded_logs(&h.receiver.wire_bytes(), "sample_rate"),
        held,
        "told to Sentry as log_item"
    );
}

#[test]
fn a_batch_holds_at_most_100_logs() {
    let h = harness(|b| b.enable_logs(Level::INFO).log_flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..250 {
            info!(i, "tick");
        }
    });
    assert!(h.guard.flush(WAIT));
    let received = h.receiver.wait_for(3, WAIT);
    let mut batches: Vec<usize> = received
        .iter()
        .filter_map(|r| r.envelope.as_ref().ok())
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            sentry::protocol::EnvelopeItem::ItemContainer(
                sentry::protocol::ItemContainer::Logs(logs),
            ) => Some(logs.len()),
            _ => None,
        })
        .collect();
    // Posts run concurrently after a success: their arrival order is not the send order.
    batches.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(batches, [100, 100, 50], "by count, then the flush");
}

/// A project's PiiConfig (issue 29) applies to logs as Sentry applies it: the log is
/// `$log`, its `body` and `attributes.<name>.value` are selected; what its rules remove
/// is gone at the receiver, though the crate's own policy keeps it.
#[test]
fn a_projects_pii_config_scrubs_log_bodies_and_attributes() {
    let config = r#"{
        "rules": {
            "orders": {"type": "pattern", "pattern": "ORD-[0-9]+",
                       "redaction": {"method": "replace", "text": "[order]"}},
            "customer": {"type": "redact_pair", "keyPattern": "^customer_",
                         "redaction": {"method": "remove"}}
        },
        "applications": {
            "$log.body": ["orders"],
            "$log.attributes.note.value": ["orders"],
            "$log.**": ["customer"]
        }
    }"#;
    let h = harness(|b| b.enable_logs(Level::INFO).pii_config_json(config));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info_span!("request", tenant_id = "acme").in_scope(|| {
            info!(
                customer_ref = "C-99172",
                note = "re ORD-5531",
                order_count = 3u64,
                "shipped ORD-1234 to the depot"
            );
        });
    });
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    h.receiver.wait_for(1, WAIT);
    let logs = h.receiver.logs();
    let [log] = logs.as_slice() else {
        panic!("one log: {logs:?}");
    };
    assert_eq!(log.body, "shipped [order] to the depot");
    assert_eq!(text(log, "note"), Some("re [order]"));
    assert_eq!(
        attribute(log, "customer_ref"),
        None,
        "a removed attribute is dropped"
    );
    assert_eq!(attribute(log, "order_count"), Some(&Value::from(3)));
    assert_eq!(
        text(log, "tenant_id"),
        Some("acme"),
        "other attributes stay"
    );
    assert_eq!(log.level, LogLevel::Info, "the level is never a rule's");

    // The same log without the project's rules: the built-in policy keeps all three.
    let h = harness(|b| b.enable_logs(Level::INFO));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info!(
            customer_ref = "C-99172",
            note = "re ORD-5531",
            "shipped ORD-1234 to the depot"
        );
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(1, WAIT);
    let logs = h.receiver.logs();
    assert_eq!(logs[0].body, "shipped ORD-1234 to the depot");
    assert_eq!(text(&logs[0], "customer_ref"), Some("C-99172"));
}

/// A dry run of a project's PiiConfig (issue 29): what each rule would remove, in
/// reports and logs alike, is counted by rule id in `stats().pii_config`; nothing is
/// removed on the wire.
#[test]
fn a_pii_config_dry_run_counts_per_rule_in_stats_and_removes_nothing() {
    let config = r#"{
        "rules": {
            "orders": {"type": "pattern", "pattern": "ORD-[0-9]+"},
            "refs": {"type": "redact_pair", "keyPattern": "_ref$"}
        },
        "applications": {"$string": ["orders"], "$log.attributes.**": ["refs"]}
    }"#;
    let h = harness(|b| {
        b.enable_logs(Level::INFO)
            .pii_config_json(config)
            .pii_config_dry_run(true)
    });
    let before = h.guard.stats().pii_config;
    assert!(before.dry_run && before.matches.is_empty(), "{before:?}");
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        info!(customer_ref = "C-1", "shipped ORD-1 and ORD-2");
        error!("refund of ORD-3 failed");
    });
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    h.receiver.wait_for(2, WAIT);
    let stats = h.guard.stats().pii_config;
    assert!(stats.dry_run);
    let orders = stats.matches.get("orders").copied().unwrap_or(0);
    assert!(
        orders >= 3,
        "the log's two and the report's one at least: {stats:?}"
    );
    assert_eq!(stats.matches.get("refs"), Some(&1), "{stats:?}");
    assert_eq!(stats.matches.len(), 2, "{stats:?}");
    let logs = h.receiver.logs();
    let shipped = logs
        .iter()
        .find(|l| l.body.starts_with("shipped"))
        .expect("the log arrives");
    assert_eq!(
        shipped.body, "shipped ORD-1 and ORD-2",
        "a dry run removes nothing"
    );
    assert_eq!(text(shipped, "customer_ref"), Some("C-1"));
    let report = h.receiver.events().pop().expect("the error is reported");
    assert!(
        serde_json::to_string(&report)
            .expect("json")
            .contains("ORD-3"),
        "a dry run removes nothing from reports"
    );
}

/// A real axum service behind tower-http's `TraceLayer` (its request span, with the
/// user the service read from a header), run on a multi-threaded runtime whose threads
/// log through `dispatch`: `ok` requests that answer, `errored` ones that log an error,
/// `panicking` ones whose handler panics. Returns once every request was answered (or
/// its connection closed by the panic).
fn serve_requests(dispatch: tracing::Dispatch, ok: usize, errored: usize, panicking: usize) {
    use axum::routing::get;
    use tower_http::trace::TraceLayer;

    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    let app = axum::Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async {
                error!(order_id = 7u64, "payment declined");
                (axum::http::StatusCode::PAYMENT_REQUIRED, "declined")
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("handler bug");
                }
                "unreachable"
            }),
        )
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let user = request
                    .headers()
                    .get("x-user")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("anonymous");
                info_span!("request", uri = %request.uri(), user_id = user)
            }),
        );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::blocking::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client");
    let mut paths = Vec::new();
    paths.extend(std::iter::repeat_n(("/ok", "alice"), ok));
    paths.extend(std::iter::repeat_n(("/fail", "bob"), errored));
    // An email as a user id: personal data, scrubbed on the way out.
    paths.extend(std::iter::repeat_n(
        ("/panic", "carol@example.com"),
        panicking,
    ));
    for (path, user) in paths {
        let answer = client
            .get(format!("http://{addr}{path}"))
            .header("x-user", user)
            .send();
        // A panicking handler's connection is closed without an answer.
        if path != "/panic" {
            answer.expect("answered");
        }
    }
    runtime.shutdown_timeout(WAIT);
}

/// The `sessions` items the receiver got, parsed by the `sentry` crate.
fn session_aggregates(
    receiver: &tracing_error_reports::testing::SentryReceiver,
) -> Vec<sentry::protocol::SessionAggregates<'static>> {
    receiver
        .received()
        .into_iter()
        .map(|r| r.envelope.expect("every envelope parses"))
        .flat_map(|envelope| {
            envelope
                .into_items()
                .filter_map(|item| match item {
                    sentry::protocol::EnvelopeItem::SessionAggregates(a) => Some(a),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn release_health_counts_each_request_of_an_axum_service_once_by_outcome() {
    let (ok, errored, panicking) = (5, 3, 2);
    let h = harness(|b| b.auto_session_tracking(true).install_panic_hook(true));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    serve_requests(dispatch, ok, errored, panicking);
    // Counted when each request span closes, which the runtime's shutdown waited for.
    assert_eq!(
        h.guard.stats().sessions,
        (ok + errored + panicking) as u64,
        "{:?}",
        h.guard.stats()
    );
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    let aggregates = session_aggregates(&h.receiver);
    assert_eq!(aggregates.len(), 1, "one item per flush: {aggregates:?}");
    let sessions = &aggregates[0];
    assert_eq!(sessions.attributes.release, "tests@1.0.0");
    assert_eq!(sessions.attributes.environment.as_deref(), Some("test"));
    let count = |user: &str| {
        sessions
            .aggregates
            .iter()
            .filter(|a| match a.distinct_id.as_deref() {
                Some("alice" | "bob") | None => a.distinct_id.as_deref() == Some(user),
                Some(_) => user == "carol",
            })
            .fold((0, 0, 0, 0), |(e, r, c, a), item| {
                (
                    e + item.exited,
                    r + item.errored,
                    c + item.crashed,
                    a + item.abnormal,
                )
            })
    };
    assert_eq!(count("alice"), (ok as u32, 0, 0, 0), "{sessions:?}");
    assert_eq!(count("bob"), (0, errored as u32, 0, 0), "{sessions:?}");
    assert_eq!(count("carol"), (0, 0, panicking as u32, 0), "{sessions:?}");
    assert!(
        !String::from_utf8_lossy(&h.receiver.wire_bytes()).contains("carol@example.com"),
        "the email user id is scrubbed: {sessions:?}"
    );
    assert!(
        sessions.aggregates.iter().all(|a| a.distinct_id.is_some()),
        "no request outside these: {sessions:?}"
    );
    // Bucketed by the minute the requests started.
    let epoch = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    };
    assert!(sessions
        .aggregates
        .iter()
        .all(|a| epoch(a.started) % 60 == 0));
    // A second flush sends nothing new.
    assert!(h.guard.flush(WAIT));
    assert_eq!(session_aggregates(&h.receiver).len(), 1);
}

#[test]
fn release_health_is_off_by_default() {
    let h = harness(|b| b);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    serve_requests(dispatch, 2, 1, 0);
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    assert!(
        !h.receiver.wait_for(1, WAIT).is_empty(),
        "the error report arrives"
    );
    assert_eq!(h.guard.stats().sessions, 0);
    assert!(session_aggregates(&h.receiver).is_empty());
}

/// Metric items Sentry's client reports in these bodies say were dropped for `reason`.
fn discarded_metrics(bodies: &[u8], reason: &str) -> u64 {
    bodies
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter_map(|item| {
            item.get("discarded_events")
                .and_then(|d| d.as_array())
                .cloned()
        })
        .flatten()
        .filter(|d| d["reason"] == reason && d["category"] == "trace_metric")
        .map(|d| d["quantity"].as_u64().unwrap_or(0))
        .sum()
}

/// Concurrent requests of two tenants on a multi-threaded runtime, each recording the
/// metrics of tracing-opentelemetry's naming in its own request span.
fn record_metrics_in_requests(dispatch: tracing::Dispatch, per_tenant: usize) {
    use tracing::Instrument;
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    // The spans are made on this thread, the events logged on the runtime's.
    let _default = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..per_tenant {
            for tenant in ["acme", "globex"] {
                let span =
                    info_span!("request", tenant_id = tenant, user_id = %format!("{tenant}-{n}"));
                tasks.push(tokio::spawn(
                    async move {
                        info!(
                            monotonic_counter.orders_placed = 2u64,
                            region = "eu",
                            "placed"
                        );
                        tokio::task::yield_now().await;
                        info!(
                            histogram.checkout_latency = 12.5,
                            metric.unit = "ms",
                            api_key = "sk_live_51HqLyjWDarjtT1zdp7dc",
                        );
                        tokio::task::yield_now().await;
                        debug!(gauge.queue_depth = -3i64, counter.in_flight = 1i64);
                        debug!(gauge.not_a_number = "seven", gauge.infinite = f64::INFINITY);
                    }
                    .instrument(span),
                ));
            }
        }
        for task in tasks {
            task.await.expect("task");
        }
    });
}

#[test]
fn metrics_arrive_typed_with_units_and_only_their_own_requests_tenant() {
    use sentry::protocol::{MetricType, Unit};
    let h = harness(|b| b.enable_metrics(true));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    let per_tenant = 10;
    record_metrics_in_requests(dispatch, per_tenant);
    assert!(h.guard.flush(WAIT), "{:?}", h.guard.stats());
    let received = h.receiver.wait_for(1, WAIT);
    assert!(
        received.iter().all(|r| r.envelope.is_ok()),
        "every envelope parses"
    );
    let metrics = h.receiver.metrics();
    // Four metrics per request: the text and the infinite value are no measurements.
    assert_eq!(metrics.len(), 2 * per_tenant * 4, "{metrics:?}");
    let text = |m: &sentry::protocol::Metric, name: &str| {
        m.attributes
            .get(name)
            .and_then(|a| a.0.as_str())
            .map(str::to_owned)
    };
    for metric in &metrics {
        let tenant = text(metric, "tenant_id")
            .unwrap_or_else(|| panic!("every metric has its tenant: {metric:?}"));
        let user = text(metric, "user.id").expect("and its user");
        assert!(
            user.starts_with(&format!("{tenant}-")),
            "no other request's user or tenant: {tenant} {user}"
        );
        assert_eq!(
            text(metric, "sentry.release").as_deref(),
            Some("tests@1.0.0")
        );
        assert!(metric.span_id.is_some(), "the span it was recorded in");
        match metric.name.as_ref() {
            "orders_placed" => {
                assert_eq!((metric.r#type, metric.value), (MetricType::Counter, 2.0));
                assert_eq!(text(metric, "region").as_deref(), Some("eu"));
                assert_eq!(metric.unit, None);
            }
            "checkout_latency" => {
                assert_eq!(
                    (metric.r#type, metric.value),
                    (MetricType::Distribution, 12.5)
                );
                assert_eq!(
                    metric.unit,
                    Some(Unit::Millisecond),
                    "`ms` is Sentry's millisecond"
                );
                let key = text(metric, "api_key").expect("the attribute, scrubbed");
                assert!(!key.contains("sk_live"), "{key}");
            }
            "queue_depth" => assert_eq!((metric.r#type, metric.value), (MetricType::Gauge, -3.0)),
            "in_flight" => assert_eq!((metric.r#type, metric.value), (MetricType::Counter, 1.0)),
            other => panic!("unexpected metric {other}"),
        }
    }
    // One trace per request: a request's metrics share it, two requests never do.
    let mut traces = std::collections::HashMap::new();
    for metric in &metrics {
        traces
            .entry(metric.trace_id)
            .or_insert_with(std::collections::HashSet::new)
            .insert(text(metric, "user.id"));
    }
    assert_eq!(traces.len(), 2 * per_tenant);
    assert!(traces.values().all(|users| users.len() == 1));
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    assert!(
        wire.contains(r#""type":"trace_metric""#),
        "the trace_metric item"
    );
    let stats = h.guard.stats();
    assert_eq!(
        stats.metrics_queued,
        (2 * per_tenant * 4) as u64,
        "{stats:?}"
    );
    assert_eq!(
        stats.metrics_dropped + stats.metrics_suppressed,
        0,
        "{stats:?}"
    );
    assert_eq!(stats.logs_queued, 0, "metrics are not logs");
}

#[test]
fn metrics_are_off_by_default() {
    let h = harness(|b| b);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    record_metrics_in_requests(dispatch, 2);
    assert!(h.guard.flush(WAIT));
    assert!(h.receiver.metrics().is_empty());
    assert_eq!(h.guard.stats().metrics_queued, 0);
}

#[test]
fn one_tenants_metric_loop_is_held_back_and_told_to_sentry() {
    let limit = 20;
    let h = harness(|b| {
        b.enable_metrics(true)
            .metric_flood_limit(Some(FloodLimit::new(
                std::num::NonZeroU32::new(limit).expect("not zero"),
                std::time::Duration::from_secs(3600),
            )))
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let looped = 500;
    tracing::subscriber::with_default(subscriber, || {
        for (tenant, times) in [("loud", looped), ("quiet", 5)] {
            info_span!("request", tenant_id = tenant).in_scope(|| {
                for _ in 0..times {
                    debug!(monotonic_counter.polls = 1u64);
                }
            });
        }
    });
    assert!(h.guard.flush(WAIT));
    h.receiver.wait_for(2, WAIT);
    let metrics = h.receiver.metrics();
    let of = |tenant: &str| {
        metrics
            .iter()
            .filter(|m| m.attributes.get("tenant_id").and_then(|a| a.0.as_str()) == Some(tenant))
            .count()
    };
    assert_eq!(of("loud"), limit as usize, "the loop's budget");
    assert_eq!(of("quiet"), 5, "the other tenant's, all of them");
    let held = (looped - limit as usize) as u64;
    assert_eq!(h.guard.stats().metrics_suppressed, held);
    assert_eq!(
        discarded_metrics(&h.receiver.wire_bytes(), "sample_rate"),
        held,
        "told to Sentry as trace_metric"
    );
}

/// A request ends when its root span closes: a background task spawned with
/// `.in_current_span()` keeps it open, so the request is counted when that task ends,
/// with the task's error (it is part of the request), never before, and once.
#[test]
fn a_request_with_a_background_task_is_counted_when_the_task_ends_with_its_error() {
    use tracing::Instrument;
    let h = harness(|b| b.auto_session_tracking(true));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(h.layer));
    let _default = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (finish, finished) = tokio::sync::oneshot::channel::<()>();
    let mut background = None;
    runtime.block_on(
        async {
            info!("answered");
            background = Some(tokio::spawn(
                async move {
                    let _ = finished.await;
                    error!("writing the audit record failed");
                }
                .in_current_span(),
            ));
            // The handler returns here: its request span handle is dropped with it.
        }
        .instrument(info_span!("request", user_id = "u-1")),
    );
    let background = background.expect("spawned");
    assert_eq!(
        h.guard.stats().sessions,
        0,
        "not counted while its background task holds the request open"
    );
    finish.send(()).expect("the task waits");
    runtime.block_on(background).expect("task");
    assert_eq!(h.guard.stats().sessions, 1, "counted when the task ended");
    assert!(h.guard.flush(WAIT));
    let aggregates = session_aggregates(&h.receiver);
    let counts: Vec<_> = aggregates
        .iter()
        .flat_map(|a| &a.aggregates)
        .map(|a| (a.exited, a.errored, a.crashed))
        .collect();
    assert_eq!(counts, [(0, 1, 0)], "one request, errored by its task");
}
