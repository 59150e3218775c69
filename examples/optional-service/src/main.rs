//! A service whose error reporting is a cargo feature (`error-reports`, on by default)
//! and, when compiled in, still optional at run time (`SENTRY_DSN` unset: no layer).

use tracing_subscriber::prelude::*;

fn main() {
    // Compiled in: a layer when SENTRY_DSN is set, `None` (no cost) when it is not.
    #[cfg(feature = "error-reports")]
    let (error_reports, _guard) = tracing_error_reports::init_from_env!();
    // Compiled out: nothing of Sentry is in the binary.
    #[cfg(not(feature = "error-reports"))]
    let error_reports: Option<tracing_subscriber::layer::Identity> = None;

    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(error_reports)
        .init();

    let _request = tracing::info_span!("request", tenant_id = "acme").entered();
    tracing::info!("serving");
    tracing::error!("something failed");
}
