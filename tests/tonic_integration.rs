//! The `tonic` feature's `GrpcLayer` on a real tonic server (issue 24, item 2): one
//! report per server-side failure (`INTERNAL`, `UNAVAILABLE`; not `NOT_FOUND`), none
//! more when the handler reported its own error, every RPC a transaction named by its
//! method with the status Sentry maps its gRPC code to; every report with Sentry's
//! `request` interface, the credentials planted in the metadata scrubbed. A
//! server-streaming RPC failing after two lines (its status in the trailers) is reported
//! and its transaction is `internal_error`; one ending well is `ok`.

mod common;

#[path = "support/grpc.rs"]
mod grpc;

use common::WAIT;
use sentry::protocol::{Context, SpanStatus};
use tracing_error_reports::tonic::GrpcLayer;
use tracing_subscriber::prelude::*;

#[test]
fn server_failures_are_reported_once_and_rpcs_are_transactions() {
    let h = common::harness(|b| b.traces_sample_rate(1.0));
    tracing_subscriber::registry()
        .with(h.layer)
        .try_init()
        .expect("the only subscriber of this test binary");
    let calls = [
        ("Get", "1"),
        ("Get", "2"),
        ("Missing", "3"),
        ("Missing", "4"),
        ("Broken", "5"),
        ("Down", "6"),
        ("Logged", "7"),
        ("Stream", "8"),
        ("StreamOk", "9"),
    ];
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let codes: Vec<tonic::Code> = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .layer(GrpcLayer)
                .add_service(grpc::Orders)
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async {
                        let _ = stopped.await;
                    },
                ),
        );
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let mut client = tonic::client::Grpc::new(channel);
        let mut codes = Vec::new();
        for (method, order) in calls {
            let code = match grpc::call(&mut client, method, order).await {
                Ok(_) => tonic::Code::Ok,
                Err(status) => status.code(),
            };
            codes.push(code);
        }
        drop(client);
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
        codes
    });
    drop(runtime);
    use tonic::Code;
    assert_eq!(
        codes,
        [
            Code::Ok,
            Code::Ok,
            Code::NotFound,
            Code::NotFound,
            Code::Internal,
            Code::Unavailable,
            Code::Internal,
            Code::Internal,
            Code::Ok
        ]
    );
    assert!(h.guard.flush(WAIT));

    // One report per server failure: Broken and Down by the layer, Logged by its handler.
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
                "/demo.Orders/Broken".to_owned(),
                "/demo.Orders/Broken failed: INTERNAL: ledger write failed; token=[Filtered]"
                    .to_owned()
            ),
            (
                "/demo.Orders/Down".to_owned(),
                "/demo.Orders/Down failed: UNAVAILABLE: inventory backend down".to_owned()
            ),
            (
                "/demo.Orders/Logged".to_owned(),
                "payment provider rejected the capture".to_owned()
            ),
            (
                "/demo.Orders/Stream".to_owned(),
                "/demo.Orders/Stream failed: INTERNAL: ledger stream broke after 2 lines; token=[Filtered]"
                    .to_owned()
            ),
        ]
    );
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    for secret in [grpc::TOKEN, grpc::BEARER, grpc::API_KEY] {
        assert!(!wire.contains(secret), "{secret} reached Sentry");
    }
    // Every report carries Sentry's `request` interface: the RPC's method, URL and
    // metadata, its credentials scrubbed.
    for event in &events {
        let request = event.request.as_ref().expect("the request interface");
        assert_eq!(request.method.as_deref(), Some("POST"));
        let url = request.url.as_ref().expect("the RPC's URL");
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(Some(url.path()), event.transaction.as_deref());
        assert_eq!(
            request.headers.get("x-request-id").map(String::as_str),
            Some("req-42")
        );
        assert_eq!(
            request.headers.get("content-type").map(String::as_str),
            Some("application/grpc")
        );
        for credential in ["authorization", "x-api-key"] {
            let value = request.headers.get(credential).map(String::as_str);
            assert!(
                matches!(value, None | Some("[Filtered]")),
                "{credential}: {value:?}"
            );
        }
    }
    // Each report has its RPC's breadcrumb and trace.
    for event in &events {
        assert_eq!(
            common::crumb_messages(event).len(),
            1,
            "{:?}",
            event.message
        );
    }

    // Every RPC is a transaction named by its method, with Sentry's status for its code.
    let mut transactions: Vec<(String, Option<SpanStatus>, Option<String>)> = h
        .receiver
        .transactions()
        .iter()
        .map(|t| {
            let trace = match t.contexts.get("trace") {
                Some(Context::Trace(trace)) => Some(trace),
                _ => None,
            };
            (
                t.name.clone().unwrap_or_default(),
                trace.and_then(|trace| trace.status),
                trace.and_then(|trace| trace.op.clone()),
            )
        })
        .collect();
    transactions.sort_by(|a, b| a.0.cmp(&b.0));
    let op = || Some("grpc.server".to_owned());
    assert_eq!(
        transactions,
        [
            (
                "/demo.Orders/Broken".into(),
                Some(SpanStatus::InternalError),
                op()
            ),
            (
                "/demo.Orders/Down".into(),
                Some(SpanStatus::Unavailable),
                op()
            ),
            ("/demo.Orders/Get".into(), Some(SpanStatus::Ok), op()),
            ("/demo.Orders/Get".into(), Some(SpanStatus::Ok), op()),
            (
                "/demo.Orders/Logged".into(),
                Some(SpanStatus::InternalError),
                op()
            ),
            (
                "/demo.Orders/Missing".into(),
                Some(SpanStatus::NotFound),
                op()
            ),
            (
                "/demo.Orders/Missing".into(),
                Some(SpanStatus::NotFound),
                op()
            ),
            (
                "/demo.Orders/Stream".into(),
                Some(SpanStatus::InternalError),
                op()
            ),
            ("/demo.Orders/StreamOk".into(), Some(SpanStatus::Ok), op()),
        ]
    );
}

/// A layer inside `GrpcLayer` (a timeout, a load shedder) failing the RPC with an error
/// instead of a response: one report, and the transaction is not `ok`.
#[test]
fn an_inner_service_error_is_reported_and_fails_the_transaction() {
    use tower::{Layer as _, ServiceExt as _};
    let h = common::harness(|b| b.traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let inner = tower::service_fn(|_: http::Request<String>| async {
        Err::<http::Response<String>, tower::BoxError>("request timed out after 50 ms".into())
    });
    let request = http::Request::builder()
        .method("POST")
        .uri("http://orders.internal/shop.Orders/Slow")
        .header("content-type", "application/grpc")
        .body(String::new())
        .expect("request");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(GrpcLayer.layer(inner).oneshot(request))
    });
    assert!(result.is_err());
    assert!(h.guard.flush(WAIT));
    let events = h.receiver.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let message = events[0].message.clone().unwrap_or_default();
    assert!(
        message.contains("/shop.Orders/Slow failed: UNKNOWN: request timed out"),
        "{message}"
    );
    let transactions = h.receiver.transactions();
    let status = transactions
        .iter()
        .find_map(|t| match t.contexts.get("trace") {
            Some(Context::Trace(trace)) => trace.status,
            _ => None,
        });
    assert!(
        status.is_some_and(|s| s != SpanStatus::Ok),
        "transaction status {status:?}"
    );
}
