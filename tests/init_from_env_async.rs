//! `init_from_env!()` inside `#[tokio::main]` with `SENTRY_DSN` set, as a service's
//! `main` calls it (a test binary of its own: it sets the process environment).

use std::time::Duration;

use tracing_error_reports::testing::SentryReceiver;
use tracing_subscriber::prelude::*;

#[tokio::main]
async fn service_main(dsn: String) {
    std::env::set_var("SENTRY_DSN", &dsn);
    std::env::set_var("SENTRY_ENVIRONMENT", "async-main");
    let (error_reports, guard) = tracing_error_reports::init_from_env!();
    assert!(guard.is_enabled(), "{:?}", guard.status());
    tracing_subscriber::registry().with(error_reports).init();
    tokio::spawn(async { tracing::error!("failed inside a task") })
        .await
        .expect("task");
    tracing::error!("failed in main");
    drop(guard); // inside the runtime: flushes, must not panic
}

#[test]
fn init_from_env_inside_tokio_main() {
    let receiver = SentryReceiver::start().expect("receiver");
    service_main(receiver.dsn());
    let events = receiver.wait_for_events(2, Duration::from_secs(10));
    let mut titles: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    titles.sort();
    assert_eq!(titles, ["failed in main", "failed inside a task"]);
    assert!(events
        .iter()
        .all(|e| e.environment.as_deref() == Some("async-main")
            && e.release.as_deref()
                == Some(concat!("tracing-error-reports@", env!("CARGO_PKG_VERSION")))));
}
