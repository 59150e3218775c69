//! A tonic gRPC service for the tests: `demo.Orders`, unary methods over a hand-written
//! UTF-8 codec (no protoc), and a client call.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Messages as UTF-8 text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Codec;

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
pub struct Orders;

impl tonic::server::NamedService for Orders {
    const NAME: &'static str = "demo.Orders";
}

/// A planted secret in a failure's message: never sent unscrubbed.
pub const TOKEN: &str = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

/// One method of `demo.Orders`: `Get` answers; `Missing` is the caller's fault
/// (`NOT_FOUND`); `Broken` (`INTERNAL`) and `Down` (`UNAVAILABLE`) are the server's;
/// `Logged` logs its own error before returning `INTERNAL`.
struct Method(&'static str);

impl tonic::server::UnaryService<String> for Method {
    type Response = String;
    type Future = BoxFuture<Result<Response<String>, Status>>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        let method = self.0;
        Box::pin(async move {
            let order = request.into_inner();
            tracing::info!(%order, "loading order");
            match method {
                "Missing" => Err(Status::not_found(format!("no order {order}"))),
                "Broken" => Err(Status::internal(format!(
                    "ledger write failed; token={TOKEN}"
                ))),
                "Down" => Err(Status::unavailable("inventory backend down")),
                "Logged" => {
                    tracing::error!(%order, "payment provider rejected the capture");
                    Err(Status::internal("payment failed"))
                }
                _ => Ok(Response::new(format!("order {order}"))),
            }
        })
    }
}

/// A server-streaming method of `demo.Orders`: `Stream` sends two lines and then fails
/// with `INTERNAL` (the status in the trailers after the streamed body); `StreamOk` sends
/// two lines and ends with `OK`.
struct StreamMethod(&'static str);

type Lines = tonic::codegen::tokio_stream::Iter<std::vec::IntoIter<Result<String, Status>>>;

impl tonic::server::ServerStreamingService<String> for StreamMethod {
    type Response = String;
    type ResponseStream = Lines;
    type Future = BoxFuture<Result<Response<Lines>, Status>>;

    fn call(&mut self, request: Request<String>) -> Self::Future {
        let method = self.0;
        Box::pin(async move {
            let order = request.into_inner();
            tracing::info!(%order, "streaming order lines");
            let mut lines = vec![
                Ok(format!("{order}: line 1")),
                Ok(format!("{order}: line 2")),
            ];
            if method == "Stream" {
                lines.push(Err(Status::internal(format!(
                    "ledger stream broke after 2 lines; token={TOKEN}"
                ))));
            }
            Ok(Response::new(tonic::codegen::tokio_stream::iter(lines)))
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
            let method = match request.uri().path() {
                "/demo.Orders/Get" => "Get",
                "/demo.Orders/Missing" => "Missing",
                "/demo.Orders/Broken" => "Broken",
                "/demo.Orders/Down" => "Down",
                "/demo.Orders/Logged" => "Logged",
                "/demo.Orders/Stream" | "/demo.Orders/StreamOk" => {
                    let method = match request.uri().path() {
                        "/demo.Orders/Stream" => "Stream",
                        _ => "StreamOk",
                    };
                    let mut grpc = tonic::server::Grpc::new(Utf8Codec);
                    return Ok(grpc.server_streaming(StreamMethod(method), request).await);
                }
                _ => return Ok(Status::unimplemented("no such method").into_http()),
            };
            let mut grpc = tonic::server::Grpc::new(Utf8Codec);
            Ok(grpc.unary(Method(method), request).await)
        })
    }
}

/// Secrets planted in every call's metadata: never sent unscrubbed.
pub const BEARER: &str = "Zq8Wv2Lm9Xk4Rt6Yp1Hs3Jd5";
pub const API_KEY: &str = "Ak9Bj8Ci7Dh6Eg5Ff4Ge3Hd2";

/// A call's request with the metadata a real client sends: credentials and a request id.
pub fn request(order: &str) -> Request<String> {
    let mut request = Request::new(order.to_owned());
    let metadata = request.metadata_mut();
    for (name, value) in [
        ("authorization", format!("Bearer {BEARER}")),
        ("x-api-key", API_KEY.to_owned()),
        ("x-request-id", "req-42".to_owned()),
    ] {
        if let Ok(value) = value.parse() {
            metadata.insert(name, value);
        }
    }
    request
}

/// Calls `/demo.Orders/{method}` with `order` (and the metadata of [`request`]); the
/// streaming methods' lines are joined by `|`, and their failure after some lines is
/// the call's, as a client sees it.
pub async fn call(
    client: &mut tonic::client::Grpc<tonic::transport::Channel>,
    method: &str,
    order: &str,
) -> Result<String, Status> {
    if method.starts_with("Stream") {
        return call_stream(client, method, order).await;
    }
    client
        .ready()
        .await
        .map_err(|err| Status::unavailable(err.to_string()))?;
    let path = http::uri::PathAndQuery::try_from(format!("/demo.Orders/{method}"))
        .map_err(|err| Status::invalid_argument(err.to_string()))?;
    client
        .unary(request(order), path, Utf8Codec)
        .await
        .map(Response::into_inner)
}

/// Calls the server-streaming `/demo.Orders/{method}` and reads every line; a status
/// after some lines fails the call (the lines are checked with `lines_before_failure`).
async fn call_stream(
    client: &mut tonic::client::Grpc<tonic::transport::Channel>,
    method: &str,
    order: &str,
) -> Result<String, Status> {
    client
        .ready()
        .await
        .map_err(|err| Status::unavailable(err.to_string()))?;
    let path = http::uri::PathAndQuery::try_from(format!("/demo.Orders/{method}"))
        .map_err(|err| Status::invalid_argument(err.to_string()))?;
    let mut stream = client
        .server_streaming(request(order), path, Utf8Codec)
        .await?
        .into_inner();
    let mut lines = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => return Ok(lines.join("|")),
            Err(status) => {
                // The failure came after the streamed lines: the status was in trailers.
                assert_eq!(lines.len(), 2, "lines before {status:?}");
                return Err(status);
            }
        }
    }
}
