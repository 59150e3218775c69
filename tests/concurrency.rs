//! Thousands of interleaved requests over many tenants on a multi-threaded runtime:
//! every report carries exactly its own request's tenant, user and breadcrumbs.

mod common;

use std::collections::HashMap;

use common::{harness, tag};
use tracing::{error, info, info_span, Instrument};
use tracing_subscriber::prelude::*;

const TASKS: usize = 1_000;
const TENANTS: usize = 50;
const CRUMBS_PER_TASK: usize = 3;

#[test]
fn no_report_carries_another_tasks_tenant_user_or_breadcrumbs() {
    let h = harness(|b| b.flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let dispatch = tracing::Dispatch::new(subscriber);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(TASKS);
        for task in 0..TASKS {
            let dispatch = dispatch.clone();
            let tenant = format!("tenant-{}", task % TENANTS);
            let span = tracing::dispatcher::with_default(
                &dispatch,
                || info_span!("request", tenant_id = %tenant, user_id = task, task),
            );
            let work = async move {
                for step in 0..CRUMBS_PER_TASK {
                    info!(task, step, "step");
                    // Interleave with other tasks between every breadcrumb.
                    tokio::task::yield_now().await;
                    if step == 1 {
                        async {
                            info!(task, step = 99, "inside a child span");
                            tokio::task::yield_now().await;
                        }
                        .instrument(info_span!("child"))
                        .await;
                    }
                }
                error!(task, "request failed");
            }
            .instrument(span);
            handles.push(tokio::spawn(
                tracing::instrument::WithSubscriber::with_subscriber(work, dispatch),
            ));
        }
        for handle in handles {
            handle.await.expect("task ran");
        }
    });
    let flushed = h.guard.flush(std::time::Duration::from_secs(30));
    assert!(
        flushed,
        "flush: stats {:?}, received {}",
        h.guard.stats(),
        h.receiver.received().len()
    );
    let events = h
        .receiver
        .wait_for_events(TASKS, std::time::Duration::from_secs(30));
    assert_eq!(
        events.len(),
        TASKS,
        "every request reported once; stats {:?}",
        h.guard.stats()
    );

    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut crumbs_checked = 0;
    for event in &events {
        let fields = match event.contexts.get("fields") {
            Some(sentry::protocol::Context::Other(f)) => f,
            _ => panic!("fields context"),
        };
        let task = fields["task"].as_u64().expect("task field");
        *seen.entry(task).or_default() += 1;
        let expected_tenant = format!("tenant-{}", task as usize % TENANTS);
        assert_eq!(
            tag(event, "tenant_id"),
            Some(expected_tenant.as_str()),
            "task {task}"
        );
        assert_eq!(
            event.user.as_ref().and_then(|u| u.id.clone()),
            Some(task.to_string()),
            "task {task}"
        );
        let crumb_tasks: Vec<u64> = event
            .breadcrumbs
            .values
            .iter()
            .map(|b| b.data["task"].as_u64().expect("task on breadcrumb"))
            .collect();
        assert_eq!(
            crumb_tasks.len(),
            CRUMBS_PER_TASK + 1,
            "task {task}: {crumb_tasks:?}"
        );
        assert!(
            crumb_tasks.iter().all(|t| *t == task),
            "task {task} saw {crumb_tasks:?}"
        );
        crumbs_checked += crumb_tasks.len();
    }
    assert_eq!(seen.len(), TASKS, "each task reported exactly once");
    println!(
        "checked {} reports over {TENANTS} tenants: tenant, user and {crumbs_checked} breadcrumbs all their own",
        events.len()
    );
}
