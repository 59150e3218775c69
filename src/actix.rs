//! actix-web: a request span per request, named by its route, and one report per
//! server error (5xx). Feature `actix-web`.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use tracing::field::Empty;
use tracing::Instrument;

use crate::entered;
use crate::integration::{self, HttpRequestParts};

/// The target of the request spans and of the reports of failed requests.
const TARGET: &str = "http";
/// The route of a request no resource matched: its path would make one name per URL.
const UNMATCHED: &str = "<unmatched>";

/// actix-web middleware: `App::new().wrap(ErrorReports)`.
///
/// Each request runs in an INFO span `http.server` that starts a request (its own
/// breadcrumbs, trace id and transaction; the caller's `sentry-trace`, `baggage` or
/// `traceparent` continued), named `<METHOD> <route>` by the matched pattern
/// (`GET /orders/{id}`, `<unmatched>` when none), with `http.request.method`, `http.route`,
/// `url.path` (scrubbed like every value), `sentry.op` `http.server`, and `tenant_id` and
/// `user_id` declared empty for the service to record
/// (`tracing::Span::current().record("tenant_id", ..)`). When the response is ready the
/// span records `http.response.status_code`, whose status Sentry's HTTP mapping turns into the
/// transaction's (`not_found`, `internal_error`, ...). A 5xx response (a handler's `Err`
/// or an error response) is reported once, with the handler's error as the exception,
/// unless the request already reported an error itself; 4xx are the caller's and are not.
/// Every report of the request (the middleware's and the handler's own) carries Sentry's
/// `request` interface: method, URL, query string and headers, scrubbed like every value
/// (credential headers and cookies filtered, secret query values too).
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorReports;

impl<S, B> Transform<S, ServiceRequest> for ErrorReports
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ErrorReportsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ErrorReportsMiddleware { service }))
    }
}

/// The service [`ErrorReports`] wraps around an actix-web app.
#[derive(Debug)]
pub struct ErrorReportsMiddleware<S> {
    service: S,
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ErrorReportsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalFuture<Result<ServiceResponse<B>, actix_web::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), actix_web::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let span = request_span(&request);
        let method = request.method().as_str().to_owned();
        let future = span.in_scope(|| self.service.call(request));
        Box::pin(async move {
            let result = future.instrument(span.clone()).await;
            span.in_scope(|| match &result {
                Ok(response) => {
                    let route = response.request().match_pattern();
                    finish(
                        &span,
                        &method,
                        route.as_deref(),
                        response.status().as_u16(),
                        response.response().error(),
                    );
                }
                Err(err) => {
                    let status = err.as_response_error().status_code().as_u16();
                    finish(&span, &method, None, status, Some(err));
                }
            });
            result
        })
    }
}

fn request_span(request: &ServiceRequest) -> tracing::Span {
    let headers = || {
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    };
    let incoming = integration::incoming_trace(headers());
    let method = request.method().as_str();
    // The app's resource map matches before routing, so the handler's own reports
    // already carry the transaction's name.
    let route = request.match_pattern();
    let route = route.as_deref().unwrap_or(UNMATCHED);
    let span = tracing::info_span!(
        target: TARGET,
        "http.server",
        sentry.name = format!("{method} {route}"),
        sentry.op = "http.server",
        sentry.trace = incoming.as_deref(),
        http.request.method = method,
        url.path = request.path(),
        http.route = route,
        http.response.status_code = Empty,
        tenant_id = Empty,
        user_id = Empty,
    );
    integration::attach_request(&span, || {
        let connection = request.connection_info();
        let parts = HttpRequestParts {
            method,
            scheme: connection.scheme(),
            host: Some(connection.host()),
            path: request.path(),
            query: Some(request.query_string()),
        };
        integration::request_interface(&parts, headers())
    });
    span
}

/// Names the transaction by its route, records the status, and reports a 5xx once.
fn finish(
    span: &tracing::Span,
    method: &str,
    route: Option<&str>,
    status: u16,
    error: Option<&actix_web::Error>,
) {
    if let Some(route) = route {
        span.record("http.route", route);
        span.record("sentry.name", format!("{method} {route}"));
    }
    let route = route.unwrap_or(UNMATCHED);
    span.record("http.response.status_code", status);
    if !(500..=599).contains(&status) {
        return;
    }
    if entered::innermost().is_some_and(|node| node.request.was_reported()) {
        return;
    }
    match error {
        Some(error) => tracing::error!(
            target: TARGET,
            error = error as &(dyn std::error::Error + 'static),
            "{method} {route} failed: {status}"
        ),
        None => tracing::error!(target: TARGET, "{method} {route} failed: {status}"),
    }
}
