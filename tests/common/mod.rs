//! Shared set-up: a loopback Sentry receiver and a layer pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use tracing_error_reports::testing::SentryReceiver;
use tracing_error_reports::{Config, ConfigBuilder, ErrorReportLayer, ReportingGuard};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Harness {
    pub receiver: SentryReceiver,
    pub layer: Option<ErrorReportLayer>,
    pub guard: ReportingGuard,
}

/// A receiver and a layer sending to it; `configure` adjusts the builder.
pub fn harness(configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Harness {
    let receiver = SentryReceiver::start().expect("loopback receiver starts");
    let builder = Config::builder()
        .dsn(receiver.dsn())
        .environment("test")
        .release("tests@1.0.0")
        .install_panic_hook(false)
        .traces_sample_rate(0.0);
    let config = configure(builder).build().expect("test config is valid");
    let (layer, guard) = tracing_error_reports::init(config);
    assert!(layer.is_some(), "reporting must be on with a loopback DSN");
    Harness {
        receiver,
        layer,
        guard,
    }
}

pub fn tag<'a>(event: &'a sentry::protocol::Event<'static>, name: &str) -> Option<&'a str> {
    event.tags.get(name).map(String::as_str)
}

/// The messages of an event's breadcrumbs, oldest first.
pub fn crumb_messages(event: &sentry::protocol::Event<'static>) -> Vec<String> {
    event
        .breadcrumbs
        .values
        .iter()
        .filter_map(|b| b.message.clone())
        .collect()
}

/// A handler as services write them: a breadcrumb, then an error inside a child span.
pub async fn handle_failing_query() {
    use tracing::Instrument as _;
    tracing::info!("loading orders");
    async { tracing::error!("query failed") }
        .instrument(tracing::info_span!("db_query", table = "orders"))
        .await;
}
