//! A real tonic gRPC service (h2 underneath) with the layer in a subscriber that enables
//! every span, as a service run with `RUST_LOG=trace` or no global filter has (issue 24,
//! item 1): only the RPCs become transactions, never h2's internal spans.
//!
//! The messages are UTF-8 strings through a hand-written codec, so no protoc is needed.

mod common;

#[path = "support/grpc.rs"]
mod grpc;

use grpc::{Orders, Utf8Codec};
use tonic::{Request, Response};
use tracing_subscriber::prelude::*;

/// The RPC's span, as a service writes it with `Server::trace_fn`: INFO, named by the
/// method.
fn rpc_span(request: &http::Request<()>) -> tracing::Span {
    tracing::info_span!("grpc", otel.name = %request.uri().path(), tenant_id = tracing::field::Empty)
}

const RPCS: usize = 6;

#[test]
fn only_rpcs_become_transactions_never_h2_spans() {
    let h = common::harness(|b| b.traces_sample_rate(1.0));
    // No filter: every span of tonic, hyper and h2 reaches the layer.
    tracing_subscriber::registry()
        .with(h.layer)
        .try_init()
        .expect("the only subscriber of this test binary");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .trace_fn(rpc_span)
                .add_service(Orders)
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
        for order in 0..RPCS {
            client.ready().await.expect("ready");
            let answer: Response<String> = client
                .unary(
                    Request::new(order.to_string()),
                    http::uri::PathAndQuery::from_static("/demo.Orders/Get"),
                    Utf8Codec,
                )
                .await
                .expect("the call succeeds");
            assert_eq!(answer.into_inner(), format!("order {order}"));
        }
        drop(client);
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
    });
    // Every task (h2's connections included) ends and closes its spans.
    drop(runtime);
    assert!(h.guard.flush(common::WAIT), "everything delivered");
    let transactions = h.receiver.transactions();
    let names: Vec<String> = transactions
        .iter()
        .map(|t| t.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "/demo.Orders/Get").count(),
        RPCS,
        "one transaction per RPC; got {names:?}"
    );
    assert_eq!(transactions.len(), RPCS, "nothing else: {names:?}");
}
