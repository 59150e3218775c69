//! A service written the everyday way: axum with tower-http's `TraceLayer` and
//! `CatchPanicLayer`, anyhow and eyre errors, the `log` crate through
//! `tracing_log::LogTracer`, `#[instrument(err)]`. Served for real (debug build), called
//! with a real HTTP client; the assertions are on what the loopback Sentry received.

mod common;

use std::error::Error as StdError;
use std::sync::Once;

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use common::{crumb_messages, harness, tag, Harness, WAIT};
use sentry::protocol::{Event, Level};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::field::Empty;
use tracing::{error, info, info_span, instrument, Instrument, Span};
use tracing_subscriber::prelude::*;

/// Two modules of the service that log through the `log` crate, and a noisy library.
mod billing {
    pub fn charge_failed() -> u32 {
        log::info!("charging card");
        let line = line!() + 1;
        log::error!("charge failed at the provider");
        line
    }
}

mod shipping {
    pub fn label_failed() -> u32 {
        let line = line!() + 1;
        log::error!("label printer offline");
        line
    }
}

mod noisy {
    pub fn complain() {
        log::error!(target: "noisy_lib", "connection pool exhausted");
    }
}

#[derive(Debug)]
struct DbError {
    code: u32,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database error {}", self.code)
    }
}

impl StdError for DbError {}

#[instrument(err)]
async fn load_orders() -> Result<Vec<u32>, std::io::Error> {
    Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "orders db refused the connection",
    ))
}

#[instrument(err(Debug))]
async fn load_invoices() -> Result<Vec<u32>, DbError> {
    Err(DbError { code: 57 })
}

fn anyhow_chain() -> anyhow::Error {
    let io = std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    );
    anyhow::Error::new(io)
        .context("calling payment provider")
        .context("charging order 4000")
}

fn eyre_chain() -> eyre::Report {
    eyre::eyre!("connection reset by peer")
        .wrap_err("calling payment provider")
        .wrap_err("charging order 4000")
}

fn io_error() -> std::io::Error {
    std::io::Error::other("payment provider returned 502")
}

/// One route per way of logging an error; each answers 500.
async fn idiom(Path(name): Path<String>) -> StatusCode {
    match name.as_str() {
        "instrument_err" => drop(load_orders().await),
        "instrument_err_debug" => drop(load_invoices().await),
        "display" => {
            let e = io_error();
            error!(%e);
        }
        "debug" => {
            let e = anyhow_chain();
            error!(?e);
        }
        "error_display" => {
            let e = io_error();
            error!(error = %e);
        }
        "error_debug" => {
            let err = anyhow_chain();
            error!(error = ?err);
        }
        "anyhow_dyn" => {
            let err = anyhow_chain();
            error!(
                error = &*err as &(dyn StdError + 'static),
                "checkout failed"
            );
        }
        "anyhow_message_dyn" => {
            let err = anyhow::anyhow!("payment provider returned 502");
            error!(error = &*err as &(dyn StdError + 'static));
        }
        "eyre_debug" => {
            let err = eyre_chain();
            error!(error = ?err);
        }
        "eyre_dyn" => {
            let err = eyre_chain();
            error!(
                error = &*err as &(dyn StdError + 'static),
                "checkout failed"
            );
        }
        "boxed_string" => {
            let err: Box<dyn StdError + Send + Sync> =
                "postgres://orders:s3cr3t@db.internal:5432 refused the connection".into();
            error!(error = &*err as &(dyn StdError + 'static));
        }
        _ => return StatusCode::NOT_FOUND,
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn log_route(Path(module): Path<String>) -> String {
    match module.as_str() {
        "billing" => billing::charge_failed().to_string(),
        "shipping" => shipping::label_failed().to_string(),
        _ => {
            noisy::complain();
            String::new()
        }
    }
}

async fn tagged() -> StatusCode {
    let checkout = info_span!("checkout", tags.region = "eu", order = 4000);
    async {
        error!(
            tags.team = "billing",
            r#type = "card_declined",
            value = 42,
            "charge declined"
        );
    }
    .instrument(checkout)
    .await;
    StatusCode::PAYMENT_REQUIRED
}

async fn fail() -> StatusCode {
    info!("loading orders");
    error!(error = %io_error(), "could not load orders");
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn panics() -> &'static str {
    info!("recomputing totals");
    panic!("totals overflowed");
}

/// Authentication: records tenant and user on the current span, the request span.
async fn authenticate(headers: HeaderMap, request: Request, next: Next) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let (Some(tenant), Some(user)) = (header("x-tenant-id"), header("x-user-id")) {
        Span::current().record("tenant_id", tenant.as_str());
        Span::current().record("user_id", user.as_str());
    }
    next.run(request).await
}

/// `recipe`: the README's INFO request span declaring `tenant_id`/`user_id`; otherwise
/// tower-http's defaults (a DEBUG span with method, uri and version).
fn app(recipe: bool) -> Router {
    let routes = Router::new()
        .route("/idiom/{name}", get(idiom))
        .route("/log/{module}", get(log_route))
        .route("/tagged", get(tagged))
        .route("/fail", get(fail))
        .route(
            "/silent-500",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/panic", get(panics))
        .layer(middleware::from_fn(authenticate))
        .layer(CatchPanicLayer::new());
    if recipe {
        routes.layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                info_span!(
                    "request",
                    method = %request.method(),
                    uri = %request.uri(),
                    tenant_id = Empty,
                    user_id = Empty,
                )
            }),
        )
    } else {
        routes.layer(TraceLayer::new_for_http())
    }
}

struct Service {
    harness: Harness,
    runtime: tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    client: reqwest::blocking::Client,
}

impl Service {
    fn start(recipe: bool) -> Service {
        static LOG_TRACER: Once = Once::new();
        LOG_TRACER.call_once(|| tracing_log::LogTracer::init().expect("LogTracer installed"));
        let mut harness = harness(|b| b.install_panic_hook(true).ignore_target("noisy_lib"));
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::registry().with(harness.layer.take().expect("layer")),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            // Every server thread logs through this service's subscriber, as with `.init()`.
            .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&dispatch)))
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        runtime.spawn(async move { axum::serve(listener, app(recipe)).await });
        let client = reqwest::blocking::Client::builder()
            .timeout(WAIT)
            .build()
            .expect("client");
        Service {
            harness,
            runtime,
            addr,
            client,
        }
    }

    /// GETs `path` as `tenant`; the status, or None if the connection broke.
    fn get(&self, path: &str, tenant: &str) -> Option<(u16, String)> {
        let response = self
            .client
            .get(format!("http://{}{path}", self.addr))
            .header("x-tenant-id", tenant)
            .header("x-user-id", "user-7")
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().unwrap_or_default()))
    }

    /// Everything received once every queued report was delivered.
    fn settled_events(&self) -> Vec<Event<'static>> {
        assert!(self.harness.guard.flush(WAIT), "everything delivered");
        self.harness.receiver.events()
    }

    fn stop(self) {
        self.runtime.shutdown_background();
    }
}

fn of_tenant<'a>(events: &'a [Event<'static>], tenant: &str) -> Vec<&'a Event<'static>> {
    events
        .iter()
        .filter(|e| tag(e, "tenant_id") == Some(tenant))
        .collect()
}

/// (type, value) of each exception, root cause first.
fn exceptions(event: &Event<'static>) -> Vec<(String, String)> {
    event
        .exception
        .values
        .iter()
        .map(|e| (e.ty.clone(), e.value.clone().unwrap_or_default()))
        .collect()
}

fn values(event: &Event<'static>) -> Vec<String> {
    exceptions(event).into_iter().map(|(_, v)| v).collect()
}

const CHAIN: [&str; 3] = [
    "connection reset by peer",
    "calling payment provider",
    "charging order 4000",
];

#[test]
fn every_common_way_of_logging_an_error_gives_one_titled_report_with_an_exception() {
    let service = Service::start(true);
    let idioms = [
        "instrument_err",
        "instrument_err_debug",
        "display",
        "debug",
        "error_display",
        "error_debug",
        "anyhow_dyn",
        "anyhow_message_dyn",
        "eyre_debug",
        "eyre_dyn",
        "boxed_string",
    ];
    for name in idioms {
        let (status, _) = service
            .get(&format!("/idiom/{name}"), name)
            .expect("answered");
        assert_eq!(status, 500, "{name}");
    }
    let events = service.settled_events();
    let report = |name: &str| {
        let reports = of_tenant(&events, name);
        assert_eq!(reports.len(), 1, "{name}: one failure, one report");
        let report = reports[0].clone();
        let title = report.message.clone().unwrap_or_default();
        assert!(!title.trim().is_empty(), "{name}: a title");
        assert!(!report.exception.values.is_empty(), "{name}: an exception");
        for (ty, _) in exceptions(&report) {
            let identifier_path = !ty.is_empty()
                && ty
                    .split("::")
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'));
            assert!(
                identifier_path,
                "{name}: type {ty:?} is a type name, not text of the message"
            );
        }
        assert_eq!(
            report.user.as_ref().and_then(|u| u.id.as_deref()),
            Some("user-7"),
            "{name}"
        );
        report
    };

    let instrumented = report("instrument_err");
    assert_eq!(
        instrumented.message.as_deref(),
        Some("orders db refused the connection")
    );
    assert_eq!(
        exceptions(&instrumented),
        [(
            "Error".to_owned(),
            "orders db refused the connection".to_owned()
        )]
    );
    assert_eq!(instrumented.logger.as_deref(), Some("idioms"));

    let debug_instrumented = report("instrument_err_debug");
    assert_eq!(
        debug_instrumented.message.as_deref(),
        Some("DbError { code: 57 }")
    );
    assert_eq!(values(&debug_instrumented), ["DbError { code: 57 }"]);

    for name in ["display", "error_display"] {
        let event = report(name);
        assert_eq!(
            event.message.as_deref(),
            Some("payment provider returned 502"),
            "{name}"
        );
        assert_eq!(
            exceptions(&event),
            [(
                "Error".to_owned(),
                "payment provider returned 502".to_owned()
            )],
            "{name}"
        );
        // The error is the exception, not also a field.
        assert!(!event.contexts.contains_key("fields"), "{name}");
    }

    // anyhow's and eyre's `Debug` ("Caused by:" list): the chain, root cause first.
    for name in ["debug", "error_debug", "eyre_debug"] {
        let event = report(name);
        assert_eq!(
            event.message.as_deref(),
            Some("charging order 4000"),
            "{name}"
        );
        assert_eq!(values(&event), CHAIN, "{name}");
        let text = format!("{:?}", event.exception);
        assert!(
            !text.contains("Location") && !text.contains("idioms.rs"),
            "{name}: no location section: {text}"
        );
    }
    // `&*err as &dyn Error`: the chain through `source()`.
    for name in ["anyhow_dyn", "eyre_dyn"] {
        let event = report(name);
        assert_eq!(event.message.as_deref(), Some("checkout failed"), "{name}");
        assert_eq!(values(&event), CHAIN, "{name}");
        let types: Vec<_> = exceptions(&event).into_iter().map(|(t, _)| t).collect();
        assert_eq!(types.last().map(String::as_str), Some("Error"), "{name}");
    }
    // The io::Error at the root keeps the type its Debug names.
    assert_eq!(
        exceptions(&report("anyhow_dyn"))[0].0,
        "Custom",
        "io::Error's Debug is `Custom {{ kind: .., error: .. }}`"
    );

    let message_only = report("anyhow_message_dyn");
    assert_eq!(
        exceptions(&message_only),
        [(
            "Error".to_owned(),
            "payment provider returned 502".to_owned()
        )],
        "never the first word of the message as the type"
    );
    assert_eq!(
        message_only.message.as_deref(),
        Some("payment provider returned 502")
    );

    let boxed = report("boxed_string");
    assert_eq!(exceptions(&boxed)[0].0, "Error");
    let text = serde_json::to_string(&boxed).expect("json");
    assert!(!text.contains("s3cr3t"), "{text}");
    service.stop();
}

#[test]
fn log_records_have_their_own_logger_location_and_ignored_targets() {
    let service = Service::start(true);
    let billing_line = service
        .get("/log/billing", "log-billing")
        .expect("answered")
        .1;
    let shipping_line = service
        .get("/log/shipping", "log-shipping")
        .expect("answered")
        .1;
    let _ = service.get("/log/noisy", "log-noisy").expect("answered");
    let events = service.settled_events();

    assert!(
        of_tenant(&events, "log-noisy").is_empty(),
        "ignore_target(\"noisy_lib\") stops a log::error! of that target"
    );
    for (tenant, logger, line, message) in [
        (
            "log-billing",
            "idioms::billing",
            &billing_line,
            "charge failed at the provider",
        ),
        (
            "log-shipping",
            "idioms::shipping",
            &shipping_line,
            "label printer offline",
        ),
    ] {
        let reports = of_tenant(&events, tenant);
        assert_eq!(reports.len(), 1, "{tenant}");
        let report = reports[0];
        assert_eq!(report.message.as_deref(), Some(message));
        assert_eq!(report.logger.as_deref(), Some(logger));
        let location = match &report.contexts["location"] {
            sentry::protocol::Context::Other(map) => map.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            location.get("file").and_then(|v| v.as_str()),
            Some("tests/idioms.rs")
        );
        assert_eq!(
            location.get("line").map(|v| v.to_string()).as_deref(),
            Some(line.as_str())
        );
        assert_eq!(
            location.get("module_path").and_then(|v| v.as_str()),
            Some(logger)
        );
        if let Some(sentry::protocol::Context::Other(fields)) = report.contexts.get("fields") {
            assert!(fields.keys().all(|k| !k.starts_with("log.")), "{fields:?}");
        }
    }
    let billing = of_tenant(&events, "log-billing")[0];
    let crumb = billing
        .breadcrumbs
        .values
        .iter()
        .find(|c| c.message.as_deref() == Some("charging card"))
        .expect("the log::info! is a breadcrumb");
    assert_eq!(crumb.category.as_deref(), Some("idioms::billing"));
    assert!(crumb.data.keys().all(|k| !k.starts_with("log.")));
    service.stop();
}

#[test]
fn tags_fields_become_tags_and_reserved_names_do_not_cost_the_report() {
    let service = Service::start(true);
    let (status, _) = service.get("/tagged", "tags").expect("answered");
    assert_eq!(status, 402);
    let events = service.settled_events();
    let reports = of_tenant(&events, "tags");
    assert_eq!(reports.len(), 1);
    let report = reports[0];
    assert_eq!(report.message.as_deref(), Some("charge declined"));
    assert_eq!(tag(report, "team"), Some("billing"), "{:?}", report.tags);
    assert_eq!(tag(report, "region"), Some("eu"), "from the enclosing span");
    assert_eq!(
        report.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("user-7")
    );
    let fields = match &report.contexts["fields"] {
        sentry::protocol::Context::Other(map) => map.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        fields.get("type_").and_then(|v| v.as_str()),
        Some("card_declined"),
        "{fields:?}"
    );
    assert_eq!(fields.get("value").and_then(|v| v.as_u64()), Some(42));
    assert!(fields.keys().all(|k| !k.starts_with("tags.")), "{fields:?}");
    service.stop();
}

#[test]
fn with_the_request_span_recipe_one_failure_is_one_report() {
    let service = Service::start(true);
    assert_eq!(service.get("/fail", "fail").map(|r| r.0), Some(500));
    assert_eq!(service.get("/silent-500", "silent").map(|r| r.0), Some(500));
    assert_eq!(service.get("/panic", "panic").map(|r| r.0), Some(500));
    let events = service.settled_events();

    let fail = of_tenant(&events, "fail");
    assert_eq!(fail.len(), 1, "the application's report only");
    assert_eq!(fail[0].message.as_deref(), Some("could not load orders"));
    assert_eq!(crumb_messages(fail[0]), ["loading orders"]);

    // Nothing of the application's: tower-http's classification is the report.
    let silent = of_tenant(&events, "silent");
    assert_eq!(silent.len(), 1);
    assert_eq!(silent[0].message.as_deref(), Some("response failed"));
    assert_eq!(
        silent[0].logger.as_deref(),
        Some("tower_http::trace::on_failure")
    );
    let classification = match silent[0].contexts.get("fields") {
        Some(sentry::protocol::Context::Other(fields)) => fields.get("classification").cloned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        classification.as_ref().and_then(|v| v.as_str()),
        Some("Status code: 500 Internal Server Error")
    );
    // A dependency's callsite is named from its crate directory: no home directory,
    // no Cargo registry layout.
    let file = match silent[0].contexts.get("location") {
        Some(sentry::protocol::Context::Other(location)) => location
            .get("file")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        other => panic!("{other:?}"),
    };
    let file = file.expect("tower-http's callsite has a file");
    assert!(
        file.starts_with("tower-http-") && file.ends_with("on_failure.rs"),
        "{file}"
    );

    let panic = of_tenant(&events, "panic");
    assert_eq!(panic.len(), 1, "one fatal report: {panic:?}");
    assert_eq!(panic[0].level, Level::Fatal);
    assert_eq!(panic[0].message.as_deref(), Some("totals overflowed"));
    // Stack frames of dependencies and std: no home directory or registry layout.
    let paths: Vec<&str> = panic[0]
        .exception
        .values
        .iter()
        .filter_map(|e| e.stacktrace.as_ref())
        .chain(
            panic[0]
                .threads
                .values
                .iter()
                .filter_map(|t| t.stacktrace.as_ref()),
        )
        .chain(panic[0].stacktrace.as_ref())
        .flat_map(|st| st.frames.iter())
        .filter_map(|f| f.abs_path.as_deref())
        .collect();
    assert!(
        paths.iter().any(|p| p.starts_with("tokio-")),
        "a tokio frame, named from its crate directory: {paths:?}"
    );
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("/registry/src/") && !p.contains(".rustup")),
        "{paths:?}"
    );
    assert_eq!(events.len(), 3, "{events:#?}");
    service.stop();
}

#[test]
fn with_tower_http_defaults_one_failure_is_one_report_but_recording_the_tenant_does_nothing() {
    let service = Service::start(false);
    assert_eq!(service.get("/fail", "acme").map(|r| r.0), Some(500));
    let events = service.settled_events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].message.as_deref(), Some("could not load orders"));
    // tower-http's default span (DEBUG) has no `tenant_id` field: recording it is a no-op.
    assert_eq!(tag(&events[0], "tenant_id"), None);

    assert_eq!(service.get("/panic", "acme").map(|r| r.0), Some(500));
    let events = service.settled_events();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[1].level, Level::Fatal);
    service.stop();
}

#[test]
fn tags_fields_of_the_request_span_tag_its_transaction() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = info_span!("request", tags.tier = "gold", r#type = "api");
        let _entered = request.enter();
        info!("handled");
    });
    assert!(h.guard.flush(WAIT));
    let transactions = h.receiver.transactions();
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.tags.get("tier").map(String::as_str), Some("gold"));
    let data = match tx.contexts.get("trace") {
        Some(sentry::protocol::Context::Trace(trace)) => trace.data.clone(),
        other => panic!("{other:?}"),
    };
    assert!(data.keys().all(|k| !k.starts_with("tags.")), "{data:?}");
    assert_eq!(data.get("type").and_then(|v| v.as_str()), Some("api"));
}
