//! The README's warp and poem recipes on real servers (issue 24, item 8): one report per
//! server failure. warp: the trace filter's own 5xx line is folded into the handler's
//! report (not a second report, nor an exception titled "None"), a 5xx nothing reported
//! is reported once by that line, and a rejection is one report with the request's
//! tenant (`.recover()` outside the trace filter: warp logs no line outside it). poem: a
//! handler's `Err` with a 5xx, which poem logs at INFO only, is reported once by the
//! recipe's middleware; not a 404, and not again when the handler reported its own error.
//! (One binary for both: one global subscriber, one receiver.)

mod common;

use std::sync::Arc;

use common::{tag, WAIT};
use poem::{Endpoint, EndpointExt, IntoResponse};
use tracing::field::Empty;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

/// A planted secret in a failure's text: never sent unscrubbed.
const TOKEN: &str = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

// ---- warp, as in the README's "Use it in a warp service" ----

#[derive(Debug)]
struct LedgerDown;
impl warp::reject::Reject for LedgerDown {}

async fn warp_order(id: String) -> Result<warp::reply::Response, warp::Rejection> {
    use warp::Reply;
    tracing::Span::current().record("tenant_id", "warp-co");
    tracing::info!(order = %id, "loading order");
    let failed = |text: String| {
        warp::reply::with_status(text, warp::http::StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
    };
    match id.as_str() {
        "logged" => {
            tracing::error!(order = %id, "payment provider rejected the capture");
            Ok(failed("payment failed".into()))
        }
        "silent" => Ok(failed("ledger write failed".into())),
        "rejected" => Err(warp::reject::custom(LedgerDown)),
        _ => Ok(Reply::into_response(format!("order {id}"))),
    }
}

fn warp_routes(
) -> impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible> + Clone {
    use warp::Filter;
    warp::path!("orders" / String)
        .and_then(warp_order)
        // The request span: INFO, a server request, the identity fields declared.
        .with(warp::trace(|info| {
            tracing::info_span!(
                "request",
                otel.kind = "server",
                http.request.method = %info.method(),
                url.path = %info.path(),
                tenant_id = Empty,
                user_id = Empty,
            )
        }))
        .recover(|rejection: warp::Rejection| async move {
            // Unmatched paths and the like: warp's own answer.
            Ok::<_, std::convert::Infallible>(warp::reply::with_status(
                format!("{rejection:?}"),
                if rejection.is_not_found() {
                    warp::http::StatusCode::NOT_FOUND
                } else {
                    warp::http::StatusCode::INTERNAL_SERVER_ERROR
                },
            ))
        })
}

// ---- poem, as in the README's "Use it in a poem service" ----

#[poem::handler]
async fn poem_order(poem::web::Path(id): poem::web::Path<String>) -> poem::Result<String> {
    use poem::http::StatusCode;
    tracing::Span::current().record("tenant_id", "poem-co");
    tracing::info!(order = %id, "loading order");
    match id.as_str() {
        "boom" => Err(poem::Error::from_string(
            format!("ledger write failed; token={TOKEN}"),
            StatusCode::INTERNAL_SERVER_ERROR,
        )),
        "missing" => Err(poem::Error::from_string(
            "no such order",
            StatusCode::NOT_FOUND,
        )),
        "logged" => {
            tracing::error!(order = %id, "payment provider rejected the capture");
            Err(poem::Error::from_string(
                "payment failed",
                StatusCode::INTERNAL_SERVER_ERROR,
            ))
        }
        _ => Ok(format!("order {id}")),
    }
}

/// The recipe's middleware: a request span per request, and one report per 5xx that
/// the request did not report itself (poem logs handler errors at INFO only).
async fn report_failures<E: Endpoint>(
    endpoint: Arc<E>,
    request: poem::Request,
) -> poem::Result<poem::Response> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        http.request.method = %method,
        url.path = %path,
        http.response.status_code = Empty,
        tenant_id = Empty,
        user_id = Empty,
    );
    async move {
        let result = endpoint
            .call(request)
            .await
            .map(IntoResponse::into_response);
        let status = match &result {
            Ok(response) => response.status(),
            Err(err) => err.status(),
        };
        tracing::Span::current().record("http.response.status_code", status.as_u16());
        if status.is_server_error() && tracing_error_reports::last_event_id().is_none() {
            match &result {
                // The path as a field, not in the title: one Sentry issue per failure,
                // not one per URL (poem gives no route template here).
                Err(err) => {
                    tracing::error!(error = %err, url.path = %path, "{method} failed: {status}")
                }
                Ok(_) => tracing::error!(url.path = %path, "{method} failed: {status}"),
            }
        }
        result
    }
    .instrument(span)
    .await
}

#[test]
fn warp_and_poem_failures_are_reported_once_each() {
    let h = common::harness(|b| b);
    tracing_subscriber::registry()
        .with(h.layer)
        .try_init()
        .expect("the only subscriber of this test binary");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (warp_addr, poem_addr) = runtime.block_on(async {
        let warp_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let warp_addr = warp_listener.local_addr().expect("addr");
        tokio::spawn(warp::serve(warp_routes()).incoming(warp_listener).run());
        let poem_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let poem_addr = poem_listener.local_addr().expect("addr");
        let app = poem::Route::new()
            .at("/orders/:id", poem::get(poem_order))
            .around(report_failures);
        let acceptor = poem::listener::TcpAcceptor::from_tokio(poem_listener).expect("acceptor");
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        (warp_addr, poem_addr)
    });
    let client = reqwest::blocking::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client");
    let status = |url: String| client.get(url).send().expect("answered").status().as_u16();
    let warp: Vec<u16> = ["1", "logged", "silent", "rejected"]
        .iter()
        .map(|id| status(format!("http://{warp_addr}/orders/{id}")))
        .collect();
    assert_eq!(warp, [200, 500, 500, 500]);
    let poem: Vec<u16> = ["1", "boom", "missing", "logged"]
        .iter()
        .map(|id| status(format!("http://{poem_addr}/orders/{id}")))
        .collect();
    assert_eq!(poem, [200, 500, 404, 500]);
    assert!(h.guard.flush(WAIT));
    drop(runtime);

    let events = h.receiver.events();
    let mut reports: Vec<(String, String, Vec<String>)> = events
        .iter()
        .map(|e| {
            (
                tag(e, "tenant_id").unwrap_or("<none>").to_owned(),
                e.message.clone().unwrap_or_default(),
                e.exception
                    .values
                    .iter()
                    .map(|x| x.value.clone().unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    reports.sort();
    let report = |tenant: &str, message: &str, exceptions: &[&str]| {
        (
            tenant.to_owned(),
            message.to_owned(),
            exceptions.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        reports,
        [
            report(
                "poem-co",
                "GET failed: 500 Internal Server Error",
                &["ledger write failed; token=[Filtered]"]
            ),
            report("poem-co", "payment provider rejected the capture", &[]),
            // The handler's report; warp's own 5xx line about it is a breadcrumb.
            report("warp-co", "payment provider rejected the capture", &[]),
            // Nothing reported the 5xx: warp's line is its report, without a "None".
            report("warp-co", "unable to process request (internal error)", &[]),
            report(
                "warp-co",
                "unable to process request (internal error)",
                &["Rejection(LedgerDown)"]
            ),
        ],
        "{events:#?}"
    );
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    assert!(!wire.contains(TOKEN), "the token reached Sentry");
}
