//! The release and server name come from the service's environment (a CI variable, the
//! host name) and go with every report: a token in them reached the wire raw. They are
//! scrubbed at the transport like every other field, and a clean one is sent exactly as set.

mod common;

use std::time::Duration;

use common::WAIT;
use tracing_error_reports::testing::SentryReceiver;
use tracing_subscriber::prelude::*;

/// Sends one error and one transaction with `release` and `server_name`; the wire bytes and
/// the parsed event and transaction.
fn send(
    release: &str,
    server_name: &str,
) -> (
    String,
    sentry::protocol::Event<'static>,
    sentry::protocol::Transaction<'static>,
) {
    let receiver = SentryReceiver::start().expect("receiver");
    let config = tracing_error_reports::Config::builder()
        .dsn(receiver.dsn())
        .install_panic_hook(false)
        .release(release.to_owned())
        .environment("prod")
        .server_name(server_name.to_owned())
        .traces_sample_rate(1.0)
        .build()
        .expect("valid config");
    let (layer, guard) = tracing_error_reports::init(config);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("request", otel.kind = "server").entered();
        tracing::error!("checkout failed");
    });
    let event = receiver.wait_for_events(1, WAIT).remove(0);
    assert!(guard.flush(WAIT));
    let deadline = std::time::Instant::now() + WAIT;
    while receiver.transactions().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let transaction = receiver.transactions().remove(0);
    drop(guard);
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    (wire, event, transaction)
}

#[test]
fn a_secret_in_the_release_or_server_name_never_reaches_the_wire() {
    let token = "ghp_Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo";
    let (wire, event, transaction) =
        send(&format!("app@1.0+{token}"), "db-admin:Pw0rd!x@db.internal");
    for secret in [&token[4..], "Pw0rd!x"] {
        assert!(!wire.contains(secret), "{secret} on the wire");
    }
    let release = event.release.as_deref().expect("a release");
    assert!(release.starts_with("app@1.0+"), "{release}");
    assert_eq!(transaction.release.as_deref(), Some(release));
}

#[test]
fn a_clean_release_and_server_name_are_sent_as_set() {
    for release in [
        "tests@1.0.0",
        "my-service@2.3.1+9f2c1e7",
        "my-service@2.3.1+0123456789abcdef0123456789abcdef01234567",
        "0123456789abcdef0123456789abcdef01234567",
        "checkout-api@2026.12.06-rc.1",
    ] {
        let (wire, event, transaction) = send(release, "web-7f9c4d-xk2lp");
        assert_eq!(event.release.as_deref(), Some(release));
        assert_eq!(transaction.release.as_deref(), Some(release));
        assert_eq!(event.server_name.as_deref(), Some("web-7f9c4d-xk2lp"));
        assert_eq!(event.environment.as_deref(), Some("prod"));
        // The trace header's release is the event's.
        assert!(
            wire.contains(&format!("\"release\":\"{release}\"")),
            "{release}"
        );
    }
}
