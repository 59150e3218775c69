//! Work moved off the request: [`carry_request`].

/// Wraps `work` so that it runs inside the current span (the request) and subscriber
/// wherever it is called: `tokio::task::spawn_blocking`, actix's `web::block`, a rayon or
/// thread pool. Reports logged in it then carry the request's tenant, user, trace,
/// breadcrumbs and transaction; without it they carry none (a thread-pool thread has no
/// current span), and the layer says so once on stderr when a service with requests
/// reports outside any.
///
/// ```
/// # async fn demo() {
/// let rows = tokio::task::spawn_blocking(tracing_error_reports::carry_request(|| {
///     tracing::error!("query failed"); // the request's tenant, user and trace
///     0
/// }))
/// .await;
/// # }
/// ```
pub fn carry_request<F, R>(work: F) -> impl FnOnce() -> R + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
{
    let span = tracing::Span::current();
    // The request running here: the current span's, or, for a span borrowed from another
    // request (ADR-025), the one below it.
    let base = crate::entered::innermost();
    let dispatch = tracing::dispatcher::get_default(|dispatch| dispatch.clone());
    move || {
        tracing::dispatcher::with_default(&dispatch, || {
            crate::entered::with_base(base, || span.in_scope(work))
        })
    }
}
