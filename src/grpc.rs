//! gRPC servers (tonic, or any tower-based gRPC server): a request span per RPC, named
//! by its method, and one report per server-side failure. Feature `tonic`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::field::Empty;
use tracing::Instrument;

use crate::entered;
use crate::integration;

/// The target of the RPC spans and of the reports of failed RPCs.
const TARGET: &str = "grpc";

/// gRPC status codes that are the server's failure, each reported once: `UNKNOWN` (2),
/// `INTERNAL` (13), `UNAVAILABLE` (14) and `DATA_LOSS` (15), the codes the gRPC spec
/// (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>) says a server's own
/// fault produces. The others (`NOT_FOUND`, `INVALID_ARGUMENT`, `PERMISSION_DENIED`,
/// `DEADLINE_EXCEEDED`, ...) are the caller's and only set the transaction's status.
pub fn is_server_failure(code: i32) -> bool {
    matches!(code, 2 | 13 | 14 | 15)
}

/// The name of a gRPC status code (`INTERNAL`), as in the gRPC spec.
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// A tower layer for gRPC servers: `tonic::transport::Server::builder().layer(GrpcLayer)`.
///
/// Each RPC runs in an INFO span `grpc.server` that starts a request (its own
/// breadcrumbs, trace id and transaction), with `sentry.name` the method's path
/// (`/shop.Orders/Get`), `sentry.op` `grpc.server`, `rpc.system`, `rpc.service`,
/// `rpc.method`, the caller's trace (`sentry-trace`, `baggage` or `traceparent` metadata)
/// and `tenant_id` and `user_id` declared empty for the service to record. When the RPC
/// ends with a status, in its headers (a handler's `Err(Status)`: tonic's trailers-only
/// response) or in the trailers after a streamed body ([`GrpcBody`]: the span stays open
/// until the body ends), the span records `rpc.grpc.status_code`, which sets the transaction's
/// status as Sentry maps gRPC codes (`not_found`, `internal_error`, ...), and a server
/// failure ([`is_server_failure`]) is reported once: an ERROR event
/// `<method> failed: <CODE>: <grpc-message>`, unless the RPC already reported an error
/// itself. Every report of the RPC carries Sentry's `request` interface (method, URL,
/// metadata as headers), scrubbed like every value.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcLayer;

impl<S> tower_layer::Layer<S> for GrpcLayer {
    type Service = GrpcService<S>;

    fn layer(&self, inner: S) -> GrpcService<S> {
        GrpcService { inner }
    }
}

/// The service [`GrpcLayer`] wraps around a gRPC server.
#[derive(Clone, Debug)]
pub struct GrpcService<S> {
    inner: S,
}

impl<S, B, RB> tower_service::Service<http::Request<B>> for GrpcService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
    RB: Send + 'static,
{
    type Response = http::Response<GrpcBody<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let span = rpc_span(&request);
        let path = request.uri().path().to_owned();
        let future = span.in_scope(|| self.inner.call(request));
        Box::pin(async move {
            let response = match future.instrument(span.clone()).await {
                Ok(response) => response,
                Err(err) => {
                    // A layer inside (a timeout, a load shedder) failed the RPC: no
                    // response, so no status; tonic answers UNKNOWN.
                    span.in_scope(|| service_failed(&span, &path, &err));
                    return Err(err);
                }
            };
            let mut rpc = Rpc { span, path };
            // A trailers-only response (a handler's `Err(Status)`) has its status here;
            // otherwise it comes in the trailers after the body.
            let rpc = match rpc.record_status(response.headers()) {
                true => None,
                false => Some(rpc),
            };
            Ok(response.map(|inner| GrpcBody { inner, rpc }))
        })
    }
}

/// The RPC a response body belongs to, until its status is read.
#[derive(Debug)]
struct Rpc {
    span: tracing::Span,
    path: String,
}

impl Rpc {
    /// Records the status in `headers`, if they carry one; `false` when they do not.
    fn record_status(&mut self, headers: &http::HeaderMap) -> bool {
        self.span
            .in_scope(|| record_status(&self.span, &self.path, headers))
    }
}

pin_project_lite::pin_project! {
    /// The response body of an RPC under [`GrpcLayer`]: the body as the server made it,
    /// keeping the RPC's span (and so its transaction) open until the body ends, and
    /// reading the status from the trailers that end a streamed response (a
    /// server-streaming RPC failing mid-stream, or any response whose status is not in its
    /// headers).
    #[derive(Debug)]
    pub struct GrpcBody<B> {
        #[pin]
        inner: B,
        rpc: Option<Rpc>,
    }
}

impl<B: http_body::Body> http_body::Body for GrpcBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(Ok(frame)) = &frame {
            if let Some(trailers) = frame.trailers_ref() {
                // The trailers end the body: the status is final, and the span (the
                // transaction) closes with it.
                if let Some(mut rpc) = this.rpc.take() {
                    rpc.record_status(trailers);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn rpc_span<B>(request: &http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let headers = || {
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    };
    let incoming = integration::incoming_trace(headers());
    let span = tracing::info_span!(
        target: TARGET,
        "grpc.server",
        sentry.name = path,
        sentry.op = "grpc.server",
        sentry.trace = incoming.as_deref(),
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        tenant_id = Empty,
        user_id = Empty,
    );
    integration::record_request(&span, request);
    span
}

/// Records the RPC's status from its headers or trailers and reports a server failure
/// once; `false` when they carry no status.
fn record_status(span: &tracing::Span, path: &str, headers: &http::HeaderMap) -> bool {
    let Some(code) = headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i32>().ok())
    else {
        return false;
    };
    span.record("rpc.grpc.status_code", code);
    if !is_server_failure(code) {
        return true;
    }
    let reported = entered::innermost().is_some_and(|node| node.request.was_reported());
    if reported {
        return true;
    }
    let message = headers
        .get("grpc-message")
        .and_then(|value| value.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    let name = code_name(code);
    tracing::error!(target: TARGET, grpc_code = name, "{path} failed: {name}: {message}");
    true
}

/// An RPC whose inner service returned an error instead of a response: UNKNOWN (as
/// tonic answers it), reported once unless the RPC already reported an error itself.
fn service_failed(span: &tracing::Span, path: &str, err: &dyn std::fmt::Display) {
    const UNKNOWN: i32 = 2;
    span.record("rpc.grpc.status_code", UNKNOWN);
    if entered::innermost().is_some_and(|node| node.request.was_reported()) {
        return;
    }
    let name = code_name(UNKNOWN);
    tracing::error!(target: TARGET, grpc_code = name, "{path} failed: {name}: {err}");
}

/// `grpc-message` is percent-encoded (gRPC over HTTP/2 spec); invalid escapes stay.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("db%20down%3A%20retry"), "db down: retry");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn only_server_faults_are_reported() {
        let reported: Vec<i32> = (0..=16).filter(|c| is_server_failure(*c)).collect();
        assert_eq!(reported, [2, 13, 14, 15]);
    }
}
