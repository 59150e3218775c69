//! `sentry::capture_*` inside a request, with a tenant tag and a user set on the main hub
//! at start-up: the event goes out under the request's tenant and user, never the main
//! hub's (issue 22 item 7). 1,000 interleaved requests of 50 tenants on a 4-thread
//! runtime, received by the loopback receiver. (Own test binary: the main hub is
//! process-wide.)

mod common;

use std::time::Duration;

use common::{harness, tag};
use sentry::protocol::User;
use tracing::instrument::WithSubscriber;
use tracing::{info, info_span, Dispatch, Instrument, Span};
use tracing_subscriber::prelude::*;

const REQUESTS: usize = 1_000;
const TENANTS: usize = 50;

fn tenant(task: usize) -> String {
    format!("tenant-{}", task % TENANTS)
}

/// Every third request has no user: the main hub's user must not fill it in.
fn user(task: usize) -> Option<String> {
    (!task.is_multiple_of(3)).then(|| format!("user-{task}"))
}

#[derive(Debug)]
struct Declined(usize);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment declined for request {}", self.0)
    }
}

impl std::error::Error for Declined {}

#[test]
fn a_direct_capture_goes_out_under_the_requests_tenant_and_user_not_the_main_hubs() {
    let h = harness(|b| {
        b.bind_main_hub(true)
            .flood_limit(None)
            .queue_capacity(std::num::NonZeroUsize::new(5_000).expect("not zero"))
    });
    // What a service sets once at start-up: the deployment's own tenant and operator.
    sentry::Hub::main().configure_scope(|scope| {
        scope.set_tag("tenant_id", "main-hub-tenant");
        scope.set_tag("region", "eu-1");
        scope.set_user(Some(User {
            id: Some("operator".into()),
            ..Default::default()
        }));
    });
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(h.layer));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut handles = Vec::new();
        for task in 0..REQUESTS {
            let span = tracing::dispatcher::with_default(&dispatch, || {
                info_span!(
                    "request",
                    task,
                    tenant_id = tracing::field::Empty,
                    user_id = tracing::field::Empty
                )
            });
            let work = async move {
                info!(task, "authenticating");
                tokio::task::yield_now().await;
                Span::current().record("tenant_id", tenant(task).as_str());
                if let Some(user) = user(task) {
                    Span::current().record("user_id", user.as_str());
                }
                tokio::task::yield_now().await;
                if task.is_multiple_of(2) {
                    sentry::capture_error(&Declined(task));
                } else {
                    sentry::capture_message(
                        &format!("payment declined for request {task}"),
                        sentry::Level::Error,
                    );
                }
            };
            handles.push(tokio::spawn(
                work.instrument(span).with_subscriber(dispatch.clone()),
            ));
        }
        for handle in handles {
            handle.await.expect("request ran");
        }
    });
    assert!(h.guard.flush(Duration::from_secs(60)));
    let events = h
        .receiver
        .wait_for_events(REQUESTS, Duration::from_secs(60));
    assert_eq!(events.len(), REQUESTS, "{:?}", h.guard.stats());
    let (mut checked, mut wrong, mut reasons) = (0, 0, Vec::new());
    for event in &events {
        let text = format!("{:?} {:?}", event.message, event.exception);
        let task: Option<usize> =
            text.split("payment declined for request ")
                .nth(1)
                .and_then(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .ok()
                });
        let Some(task) = task else {
            wrong += 1;
            reasons.push(format!("an event of no request: {text}"));
            continue;
        };
        checked += 1;
        let got_user = event.user.as_ref().and_then(|u| u.id.clone());
        let ok = tag(event, "tenant_id") == Some(tenant(task).as_str())
            && got_user == user(task)
            // The hub's other values still fill in what the request has none of.
            && tag(event, "region") == Some("eu-1");
        if !ok {
            wrong += 1;
            if reasons.len() < 5 {
                reasons.push(format!(
                    "request {task}: tenant {:?}, user {got_user:?}, region {:?}",
                    tag(event, "tenant_id"),
                    tag(event, "region")
                ));
            }
        }
    }
    println!("direct captures under a main-hub scope: {checked} reports checked, {wrong} wrong");
    assert_eq!(wrong, 0, "{reasons:?}");
    assert_eq!(checked, REQUESTS);
}
