//! What the framework integrations (`actix`, `tonic`, any `http::Request` through
//! [`record_request`]) share: the caller's trace read from the request's headers, and
//! Sentry's `request` interface given to the request their span starts.

use sentry::protocol::{Map, Request, Url};

use crate::entered;
#[cfg(any(feature = "actix-web", feature = "tonic"))]
use crate::propagation::IncomingTrace;

/// The caller's trace (`sentry-trace` with `baggage`, else `traceparent`) in the
/// `sentry-trace` form the `sentry.trace` field takes; headers whose value is not text
/// are skipped.
#[cfg(any(feature = "actix-web", feature = "tonic"))]
pub(crate) fn incoming_trace<'a, I>(headers: I) -> Option<String>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let headers = headers
        .into_iter()
        .filter_map(|(name, value)| Some((name, std::str::from_utf8(value).ok()?)));
    IncomingTrace::from_headers(headers).map(|trace| trace.to_string())
}

/// An HTTP request as Sentry's `request` interface reads it.
pub(crate) struct HttpRequestParts<'a> {
    pub(crate) method: &'a str,
    /// `http` or `https`.
    pub(crate) scheme: &'a str,
    /// The `Host` (or HTTP/2 `:authority`); without one the URL is left out.
    pub(crate) host: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
}

/// Sentry's `request` interface
/// (<https://develop.sentry.dev/sdk/data-model/event-payloads/request/>), filled as
/// sentry-actix and sentry-tower fill it: the method, the URL (`scheme://host/path`, its
/// query apart in `query_string`) and every header, a repeated one's values joined by
/// `, ` (RFC 9110, 5.3), a value that is not UTF-8 converted lossily. Nothing is filtered
/// here: the report's scrubber treats these values like every other (credential headers,
/// cookies, secret query values), with the same rules and `send_default_pii` choice.
pub(crate) fn request_interface<'a, I>(parts: &HttpRequestParts<'_>, headers: I) -> Request
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut map: Map<String, String> = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value);
        map.entry(name.to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    let url = parts
        .host
        .filter(|host| !host.is_empty())
        .and_then(|host| Url::parse(&format!("{}://{host}{}", parts.scheme, parts.path)).ok());
    Request {
        url,
        method: Some(parts.method.to_owned()),
        query_string: parts
            .query
            .filter(|query| !query.is_empty())
            .map(str::to_owned),
        headers: map,
        ..Default::default()
    }
}

/// Gives the request that `span` starts Sentry's `request` interface of `request`: every
/// report of that request then carries its method, URL (`scheme://host/path`, the host
/// from the URI or the `Host` header, `http` when the URI has no scheme; none without a
/// host), query string and headers, each value scrubbed by the reporting's rules like any
/// other (`Authorization`, `Cookie`, API keys and secret query values filtered), as
/// sentry-tower sends them. For an HTTP server whose request span is the service's own
/// (tower-http's `TraceLayer` `make_span_with`, an axum or poem middleware):
///
/// ```
/// # let request = http::Request::builder().uri("/orders?page=2").body(()).unwrap();
/// let span = tracing::info_span!("request", otel.kind = "server");
/// tracing_error_reports::record_request(&span, &request);
/// ```
///
/// Does nothing when the span does not start a request of this crate's layer (no layer in
/// the subscriber, the span filtered out for it, or inside another request); the first
/// interface given to a request stays. `actix::ErrorReports` and `tonic::GrpcLayer` call it
/// themselves.
pub fn record_request<B>(span: &tracing::Span, request: &http::Request<B>) {
    attach_request(span, || {
        let uri = request.uri();
        // HTTP/2 requests carry `:authority` in the URI; `Host` is HTTP/1's.
        let host = uri
            .authority()
            .map(|authority| authority.as_str())
            .or_else(|| {
                request
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|host| host.to_str().ok())
            });
        let parts = HttpRequestParts {
            method: request.method().as_str(),
            scheme: uri.scheme_str().unwrap_or("http"),
            host,
            path: uri.path(),
            query: uri.query(),
        };
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        request_interface(&parts, headers)
    });
}

/// Gives the request `span` starts its `request` interface, built only when this
/// crate's layer saw the span and made it start a request.
pub(crate) fn attach_request(span: &tracing::Span, build: impl FnOnce() -> Request) {
    let Some(metadata) = span.metadata() else {
        return;
    };
    span.in_scope(|| {
        let node = entered::innermost()
            .filter(|node| node.starts_request && std::ptr::eq(node.metadata, metadata));
        if let Some(node) = node {
            node.request.set_http_request(build());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_has_method_url_query_and_joined_headers() {
        let parts = HttpRequestParts {
            method: "GET",
            scheme: "http",
            host: Some("127.0.0.1:8080"),
            path: "/orders/7",
            query: Some("page=2"),
        };
        let headers = [
            ("accept", &b"text/plain"[..]),
            ("x-tag", b"a"),
            ("x-tag", b"b"),
        ];
        let request = request_interface(&parts, headers);
        assert_eq!(request.method.as_deref(), Some("GET"));
        assert_eq!(
            request.url.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:8080/orders/7")
        );
        assert_eq!(request.query_string.as_deref(), Some("page=2"));
        assert_eq!(request.headers["x-tag"], "a, b");
        assert_eq!(request.headers["accept"], "text/plain");
    }

    #[test]
    fn no_host_no_url() {
        let parts = HttpRequestParts {
            method: "POST",
            scheme: "http",
            host: None,
            path: "/a",
            query: None,
        };
        let request = request_interface(&parts, []);
        assert!(request.url.is_none());
        assert!(request.query_string.is_none());
    }
}
