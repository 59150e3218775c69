//! A real tonic gRPC service (h2 underneath) with the layer in a subscriber that enables
//! every span, as a service run with `RUST_LOG=trace` or no global filter has (issue 24,
//! item 1): only the RPCs become transactions, never h2's internal spans.
//!
//! The messages are UTF-8 strings through a hand-written codec, so no protoc is needed.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};
use tracing_subscriber::prelude::*;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Messages as UTF-8 text.
#[derive(Clone, Copy, Debug, Default)]
struct Utf8Codec;

impl Codec for Utf8Codec {
    type Encode = String;
    type Decode = String;
    type Encoder = Utf8Codec;
    type Decoder = Utf8Codec;

    fn encoder(&mut self) -> Utf8Codec {
        Utf8Codec
    }

    fn decoder(&mut self) -> Utf8Codec {
        Utf8Codec
    }
}

impl Encoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|err| Status::invalid_argument(err.to_string()))
    }
}

/// The service `demo.Orders` with one unary method, `Get`.
#[derive(Clone, Debug, Default)]
struct Orders;

impl tonic::server::NamedService for Orders {
    const NAME: &'static str = "demo.Orders";
}

struct Get;

impl tonic::server::UnaryService<String> for Get {
    type Response = String;
    type Future = BoxFuture<Result<Response<String>, Status>>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        Box::pin(async move {
            let order = request.into_inner();
            tracing::info!(%order, "loading order");
            Ok(Response::new(format!("order {order}")))
        })
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for Orders {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            Ok(match request.uri().path() {
                "/demo.Orders/Get" => {
                    let mut grpc = tonic::server::Grpc::new(Utf8Codec);
                    grpc.unary(Get, request).await
                }
                _ => Status::unimplemented("no such method").into_http(),
            })
        })
    }
}

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
