//! The `actix-web` feature's `ErrorReports` middleware on a real actix-web server
//! (issue 24, item 2): one report per server error (a handler's `Err` with a 500 or 503,
//! not a 404), none more when the handler reported its own error, every request a
//! transaction named by its route with Sentry's status for its HTTP status; every report
//! with Sentry's `request` interface (method, URL, query string, headers), the secrets
//! planted in headers and query string scrubbed.

mod common;

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use common::{tag, WAIT};
use sentry::protocol::{Context, SpanStatus};
use tracing_error_reports::actix::ErrorReports;
use tracing_subscriber::prelude::*;

const TOKEN: &str = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
/// Secrets planted in every request's headers and query string.
const BEARER: &str = "Zq8Wv2Lm9Xk4Rt6Yp1Hs3Jd5";
const SESSION: &str = "c0ok1eS3ss10nVa1ueQw7Er";
const API_KEY: &str = "Ak9Bj8Ci7Dh6Eg5Ff4Ge3Hd2";
const QUERY_TOKEN: &str = "Qt5Ru6Sv7Tw8Ux9Vy0Wz1Xa";

async fn order(id: web::Path<String>) -> actix_web::Result<HttpResponse> {
    tracing::Span::current().record("tenant_id", "acme");
    tracing::info!(order = %id, "loading order");
    match id.as_str() {
        "missing" => Err(actix_web::error::ErrorNotFound("no such order")),
        "boom" => Err(actix_web::error::ErrorInternalServerError(format!(
            "ledger write failed; token={TOKEN}"
        ))),
        "down" => Err(actix_web::error::ErrorServiceUnavailable(
            "inventory backend down",
        )),
        "logged" => {
            tracing::error!(order = %id, "payment provider rejected the capture");
            Ok(HttpResponse::InternalServerError().finish())
        }
        _ => Ok(HttpResponse::Ok().body(format!("order {id}"))),
    }
}

#[test]
fn server_errors_are_reported_once_and_requests_are_transactions() {
    let h = common::harness(|b| b.traces_sample_rate(1.0));
    tracing_subscriber::registry()
        .with(h.layer)
        .try_init()
        .expect("the only subscriber of this test binary");
    let (started, server) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| {
                App::new()
                    .wrap(ErrorReports)
                    .route("/orders/{id}", web::get().to(order))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("bind");
            let addr = server.addrs()[0];
            let server = server.run();
            let _ = started.send((addr, server.handle()));
            server.await
        })
    });
    let (addr, handle) = server.recv().expect("server started");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut statuses = Vec::new();
    for id in ["1", "2", "missing", "boom", "down", "logged"] {
        let response = client
            .get(format!(
                "http://{addr}/orders/{id}?page=2&access_token={QUERY_TOKEN}"
            ))
            .header("authorization", format!("Bearer {BEARER}"))
            .header("cookie", format!("session={SESSION}; theme=dark"))
            .header("x-api-key", API_KEY)
            .header("x-request-id", "req-42")
            .send()
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 404, 500, 503, 500]);
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(handle.stop(true));
    thread.join().expect("server thread").expect("server");
    assert!(h.guard.flush(WAIT));

    let events = h.receiver.events();
    let mut titles: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e.transaction.clone().unwrap_or_default(),
                e.message.clone().unwrap_or_default(),
            )
        })
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            (
                "GET /orders/{id}".to_owned(),
                "GET /orders/{id} failed: 500".to_owned()
            ),
            (
                "GET /orders/{id}".to_owned(),
                "GET /orders/{id} failed: 503".to_owned()
            ),
            (
                "GET /orders/{id}".to_owned(),
                "payment provider rejected the capture".to_owned()
            ),
        ]
    );
    for event in &events {
        assert_eq!(tag(event, "tenant_id"), Some("acme"), "{:?}", event.message);
        assert_eq!(
            common::crumb_messages(event).len(),
            1,
            "{:?}",
            event.message
        );
    }
    // The handler's error is the exception, scrubbed.
    let boom = events
        .iter()
        .find(|e| e.message.as_deref() == Some("GET /orders/{id} failed: 500"))
        .expect("the 500's report");
    let exception = boom.exception.values.last().expect("the handler's error");
    assert_eq!(
        exception.value.as_deref(),
        Some("ledger write failed; token=[Filtered]")
    );
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    for secret in [TOKEN, BEARER, SESSION, API_KEY, QUERY_TOKEN] {
        assert!(!wire.contains(secret), "{secret} reached Sentry");
    }
    // Every report carries Sentry's `request` interface, its secrets scrubbed.
    for event in &events {
        let request = event.request.as_ref().expect("the request interface");
        assert_eq!(request.method.as_deref(), Some("GET"));
        let url = request.url.as_ref().expect("the request's URL");
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(url.port(), Some(addr.port()));
        assert!(url.path().starts_with("/orders/"), "{url}");
        let query = request.query_string.as_deref().expect("the query string");
        assert!(query.starts_with("page=2&access_token="), "{query}");
        assert_eq!(
            request.headers.get("x-request-id").map(String::as_str),
            Some("req-42")
        );
        assert!(
            request.headers.contains_key("host"),
            "{:?}",
            request.headers
        );
        for credential in ["authorization", "cookie", "x-api-key"] {
            let value = request.headers.get(credential).map(String::as_str);
            assert!(
                matches!(value, None | Some("[Filtered]")),
                "{credential}: {value:?}"
            );
        }
    }
    let boom_request = boom.request.as_ref().expect("the 500's request");
    assert_eq!(
        boom_request.url.as_ref().map(|url| url.path()),
        Some("/orders/boom")
    );

    let mut transactions: Vec<(String, Option<SpanStatus>)> = h
        .receiver
        .transactions()
        .iter()
        .map(|t| {
            let status = match t.contexts.get("trace") {
                Some(Context::Trace(trace)) => trace.status,
                _ => None,
            };
            (t.name.clone().unwrap_or_default(), status)
        })
        .collect();
    transactions.sort_by_key(|(_, status)| format!("{status:?}"));
    let route = || "GET /orders/{id}".to_owned();
    assert_eq!(
        transactions,
        [
            (route(), Some(SpanStatus::InternalError)),
            (route(), Some(SpanStatus::InternalError)),
            (route(), Some(SpanStatus::NotFound)),
            (route(), Some(SpanStatus::Ok)),
            (route(), Some(SpanStatus::Ok)),
            (route(), Some(SpanStatus::Unavailable)),
        ]
    );
}
