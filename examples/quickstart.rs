//! A small multi-tenant workload whose errors, breadcrumbs and a panic become
//! Sentry reports.
//!
//! - With `SENTRY_DSN` unset, it starts a Sentry endpoint on loopback, sends the
//!   reports there over real HTTP, and prints them as that server received them.
//! - With `SENTRY_DSN` set, the same binary sends to that Sentry.
//!
//! ```text
//! cargo run --example quickstart
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example quickstart
//! ```

use std::fmt;
use std::time::Duration;

use sentry::protocol::{Context, Event};
use tracing::{error, info, info_span, warn};
use tracing_error_reports::scrub::ScrubLayerExt;
use tracing_error_reports::testing::SentryReceiver;
use tracing_error_reports::Config;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct DbError {
    url: String,
    source: std::io::Error,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not query {}", self.url)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// One request of one tenant: breadcrumbs with secrets in them, then a failure.
fn handle_request(tenant: &str, user: u32, order: u32) {
    let span = info_span!(
        "request",
        tenant_id = tenant,
        user_id = tracing::field::Empty,
        order
    );
    let _entered = span.enter();
    info!(
        route = "/v1/checkout",
        authorization = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "request received"
    );
    span.record("user_id", user);
    {
        let _charge = info_span!("charge_card").entered();
        warn!("retrying charge of card 4111 1111 1111 1111 for {tenant}");
    }
    let err = DbError {
        url: "postgres://orders:s3cr3t-pw@db.internal:5432/orders".into(),
        source: std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out after 5s"),
    };
    error!(
        error = &err as &(dyn std::error::Error + 'static),
        api_key = "sk_live_51HqLyjWDarjtT1zdp7dc",
        customer_email = "jane.doe@example.com",
        "checkout failed for order {order}, password=hunter2 was rejected"
    );
    // The request's own report: the id to hand to the customer or log.
    if let Some(event_id) = tracing_error_reports::last_event_id() {
        info!(sentry_event_id = %event_id, "reported to Sentry");
    }
}

fn panicking_request() {
    let _span = info_span!("request", tenant_id = "globex", user_id = 7).entered();
    info!("recomputing invoice totals");
    let _ = std::panic::catch_unwind(|| {
        panic!("invoice total overflowed; token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB");
    });
}

fn main() {
    let external = std::env::var("SENTRY_DSN").is_ok_and(|d| !d.trim().is_empty());
    // Without a DSN, a real HTTP endpoint on loopback stands in for Sentry.
    let receiver = (!external).then(|| SentryReceiver::start().expect("bind a loopback port"));
    let mut builder = Config::builder()
        .default_release(tracing_error_reports::release_name!())
        .with_env();
    if let Some(receiver) = &receiver {
        builder = builder.dsn(receiver.dsn()).environment("demo");
    }
    let config = builder.build_lenient();
    // The same compiled rules scrub the console: a secret in the logs is as much a leak.
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);

    // A per-layer filter keeps the HTTP client's debug lines out of the console.
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
        .scrubbed(&scrubber);
    tracing_subscriber::registry()
        .with(fmt)
        .with(error_reports)
        .init();

    for (i, tenant) in ["acme", "initech", "umbrella"].iter().enumerate() {
        handle_request(tenant, 100 + i as u32, 4000 + i as u32);
    }
    panicking_request();

    let delivered = guard.flush(Duration::from_secs(5));
    let stats = guard.stats();
    println!();
    println!("reporting: {:?}", guard.status());
    println!(
        "reports queued {}, delivered {}, failed {}, dropped {}; transactions queued {}; flushed: {delivered}",
        stats.queued,
        stats.delivered,
        stats.failed,
        stats.dropped_queue_full + stats.dropped_in_transport,
        stats.transactions_queued
    );
    match receiver {
        Some(receiver) => {
            let events = receiver.wait_for_events(4, Duration::from_secs(5));
            println!(
                "\n{} reports received by the loopback Sentry at {} (parsed from the wire):\n",
                events.len(),
                receiver.addr()
            );
            for (i, event) in events.iter().enumerate() {
                print_event(i + 1, event);
            }
        }
        None => println!("sent to the Sentry of SENTRY_DSN (event ids in the log above)"),
    }
}

fn print_event(n: usize, event: &Event<'static>) {
    println!(
        "#{n} {:?} \"{}\"",
        event.level,
        event.message.as_deref().unwrap_or("")
    );
    println!(
        "   tenant_id={}  user={}  release={}  environment={}",
        event.tags.get("tenant_id").map_or("-", String::as_str),
        event
            .user
            .as_ref()
            .and_then(|u| u.id.as_deref())
            .unwrap_or("-"),
        event.release.as_deref().unwrap_or("-"),
        event.environment.as_deref().unwrap_or("-"),
    );
    for exception in &event.exception.values {
        println!(
            "   exception {}: {}",
            exception.ty,
            exception.value.as_deref().unwrap_or("")
        );
    }
    if let Some(Context::Other(fields)) = event.contexts.get("fields") {
        let shown: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("   fields: {}", shown.join("  "));
    }
    for crumb in &event.breadcrumbs.values {
        let data: Vec<String> = crumb.data.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "   breadcrumb {:?} \"{}\" {}",
            crumb.level,
            crumb.message.as_deref().unwrap_or(""),
            data.join("  ")
        );
    }
    if let Some(Context::Other(scrub)) = event.contexts.get("scrubbing") {
        println!(
            "   scrubbed: {} values, rules {}",
            scrub.get("filtered").map_or(0, |v| v.as_u64().unwrap_or(0)),
            scrub
                .get("rules")
                .map(|r| r.to_string())
                .unwrap_or_default()
        );
    }
    println!();
}
