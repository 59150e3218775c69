//! `sentry::configure_scope` values reach the layer's own reports, as they reach
//! sentry-tracing's (issue 16): with the crate's client bound to the main hub, tags,
//! extra and user set on the main hub at start-up are on every report built on any
//! thread whose hub came from it (tokio workers), while the request's tenant and
//! user and the event's own `tags.*` win over the scope's. A scope tag set inside
//! one task's hub stays that hub's. In-memory transport. (Own test binary: the main
//! hub is process-wide.)

mod isolation_support;

use std::sync::Arc;

use isolation_support::{runtime, setup, tag};
use sentry::protocol::{Event, User, Value};
use sentry::SentryFutureExt;
use tracing::instrument::WithSubscriber;
use tracing::{error, info_span, Instrument};
use tracing_subscriber::prelude::*;

fn user<'a>(event: &'a Event<'static>) -> (Option<&'a str>, Option<&'a str>) {
    let user = event.user.as_ref();
    (
        user.and_then(|u| u.id.as_deref()),
        user.and_then(|u| u.username.as_deref()),
    )
}

#[test]
fn configure_scope_tags_extra_and_user_reach_layer_reports_and_the_request_wins() {
    let (layer, s) = setup(|b| b.bind_main_hub(true));
    // At start-up, as a service does: the main hub's scope.
    sentry::Hub::main().configure_scope(|scope| {
        scope.set_tag("region", "eu");
        scope.set_tag("tenant_id", "scope-tenant");
        scope.set_extra("build", Value::from(42));
        scope.set_user(Some(User {
            id: Some("scope-user".into()),
            username: Some("ops-bot".into()),
            ..Default::default()
        }));
    });
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let runtime = runtime();
    runtime.block_on(
        async {
            let mut tasks = Vec::new();
            // One request puts its own user and tag in its worker thread's hub (as
            // Sentry's docs show): later tasks on that thread must not get them.
            tasks.push(tokio::spawn(
                async {
                    sentry::configure_scope(|scope| {
                        scope.set_tag("plan", "acme-enterprise");
                        scope.set_user(Some(User {
                            id: Some("alice-1".into()),
                            username: Some("alice".into()),
                            ..Default::default()
                        }));
                    });
                    error!("a request that set its thread's scope");
                }
                .instrument(info_span!("request", tenant_id = "initech"))
                .with_current_subscriber(),
            ));
            tokio::task::yield_now().await;
            for n in 0..50 {
                tasks.push(tokio::spawn(
                    async move {
                        error!(n, "checkout failed in a request");
                    }
                    .instrument(info_span!("request", tenant_id = "acme", user_id = "u-7"))
                    .with_current_subscriber(),
                ));
            }
            tasks.push(tokio::spawn(
                async { error!(tags.region = "us", "the event's own tag") }
                    .with_current_subscriber(),
            ));
            tasks.push(tokio::spawn(
                async { error!("outside any request") }.with_current_subscriber(),
            ));
            // A per-task hub's scope is for sentry's own captures: layer reports do not
            // read it (it cannot be told apart from a worker thread's shared hub).
            let hub = Arc::new(sentry::Hub::new_from_top(sentry::Hub::main()));
            tasks.push(tokio::spawn(
                async {
                    sentry::configure_scope(|scope| scope.set_tag("canary", "yes"));
                    error!("in a task with its own hub");
                }
                .bind_hub(hub)
                .with_current_subscriber(),
            ));
            for task in tasks {
                task.await.expect("task");
            }
        }
        .with_subscriber(dispatch),
    );
    s.settle();
    let events = s.memory.events();
    assert_eq!(events.len(), 54, "{events:?}");

    let in_request: Vec<_> = events
        .iter()
        .filter(|e| e.message.as_deref() == Some("checkout failed in a request"))
        .collect();
    assert_eq!(in_request.len(), 50);
    for event in &in_request {
        assert_eq!(tag(event, "region"), Some("eu"), "scope tag");
        assert_eq!(
            tag(event, "tenant_id"),
            Some("acme"),
            "the request's tenant wins"
        );
        assert_eq!(
            event.extra.get("build"),
            Some(&Value::from(42)),
            "scope extra"
        );
        assert_eq!(
            user(event),
            (Some("u-7"), None),
            "the request's user wins whole: never a mix of two people"
        );
        assert_eq!(
            event
                .user
                .as_ref()
                .and_then(|u| u.other.get("tenant_id"))
                .and_then(Value::as_str),
            Some("acme")
        );
        assert_eq!(tag(event, "canary"), None, "another hub's tag");
    }
    let find = |message: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .unwrap_or_else(|| panic!("{message}"))
    };
    let own_tag = find("the event's own tag");
    assert_eq!(tag(own_tag, "region"), Some("us"), "the event's tag wins");
    let outside = find("outside any request");
    assert_eq!(tag(outside, "tenant_id"), Some("scope-tenant"));
    assert_eq!(user(outside), (Some("scope-user"), Some("ops-bot")));
    let own_hub = find("in a task with its own hub");
    assert_eq!(tag(own_hub, "canary"), None);
    assert_eq!(tag(own_hub, "region"), Some("eu"));
    for event in &events {
        assert_eq!(tag(event, "plan"), None, "a thread's scope: {event:?}");
        assert_ne!(
            user(event).1,
            Some("alice"),
            "a thread's scope user: {event:?}"
        );
    }
    println!(
        "{} reports: scope tag, extra and user on each; request tenant/user and event tags won",
        events.len()
    );
}
