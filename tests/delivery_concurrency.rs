//! Delivery posts several envelopes at once to a healthy endpoint, boundedly (issue 26:
//! one connection capped delivery at about 5,000 envelopes a second, and a long error
//! storm against an instant server lost reports at the full queue).

mod common;

use std::time::Duration;

use tracing_error_reports::testing::Behaviour;
use tracing_subscriber::prelude::*;

/// Posts in flight at once against an endpoint that answered with success
/// (`http::MAX_IN_FLIGHT`).
const MAX_IN_FLIGHT: usize = 8;

#[test]
fn a_healthy_endpoint_gets_several_posts_at_once_and_a_hanging_one_at_most_eight() {
    let common::Harness {
        receiver,
        layer,
        guard,
    } = common::harness(|b| {
        b.flood_limit(None)
            .http_timeout(Duration::from_secs(60))
            .shutdown_timeout(Duration::from_millis(200))
    });
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", tenant_id = "acme");
        let _entered = span.enter();
        tracing::error!(order = 1, "payment provider returned 502");
        assert!(guard.flush(common::WAIT), "the first report is answered");
        // Every post from now on is read and never answered: each one in flight holds
        // a connection of its own.
        receiver.set_behaviour(Behaviour::Hang);
        for order in 2..=40 {
            tracing::error!(order, "payment provider returned 502");
        }
    });
    let received = receiver.wait_for(1 + MAX_IN_FLIGHT, common::WAIT);
    assert_eq!(
        received.len(),
        1 + MAX_IN_FLIGHT,
        "posted at once after a success: the one answered and {MAX_IN_FLIGHT} in flight"
    );
    assert!(received[1..].iter().all(|r| r.status == 0));
    // Bounded: the other 31 wait for a place while the 8 hang (a ninth post would
    // arrive within this wait).
    let later = receiver.wait_for(2 + MAX_IN_FLIGHT, Duration::from_millis(500));
    assert_eq!(later.len(), 1 + MAX_IN_FLIGHT);
    let stats = guard.stats();
    assert_eq!(stats.delivered, 1);
    assert_eq!(stats.queued, 40);
    assert_eq!(stats.dropped_queue_full + stats.dropped_in_transport, 0);
}
