//! One error propagated with `?` through nested `#[instrument(err)]` functions is one
//! report; the later lines about it are breadcrumbs, counted in `stats().deduplicated`
//! (issue 22 item 3). Two failures, even with the same text (a retry), stay two.

mod isolation_support;

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use isolation_support::{runtime, setup, tenant, Tally};
use sentry::protocol::{Event, Level};
use tracing::instrument::WithSubscriber;
use tracing::{info, info_span, Dispatch, Instrument};
use tracing_subscriber::prelude::*;

const REQUESTS: usize = 250;

#[tracing::instrument(err)]
async fn query(task: usize) -> Result<()> {
    tokio::task::yield_now().await;
    Err(anyhow!("connection reset by peer"))
}

#[tracing::instrument(err)]
async fn load(task: usize) -> Result<()> {
    query(task).await?;
    Ok(())
}

#[tracing::instrument(err)]
async fn handle(task: usize) -> Result<()> {
    load(task).await?;
    Ok(())
}

#[tracing::instrument(err(Debug))]
async fn cache(task: usize) -> Result<()> {
    Err(anyhow!("cache unavailable"))
}

#[tracing::instrument(err(Debug))]
async fn warm(task: usize) -> Result<()> {
    cache(task).await?;
    Ok(())
}

#[tracing::instrument(err)]
async fn fetch(task: usize) -> Result<()> {
    tokio::task::yield_now().await;
    Err(anyhow!("upstream timed out"))
}

/// Two attempts failing alike: two failures; the second propagates out.
#[tracing::instrument(err)]
async fn fetch_with_retry(task: usize) -> Result<()> {
    if fetch(task).await.is_err() {
        info!(task, "retrying");
    }
    fetch(task).await
}

fn text(event: &Event<'static>) -> String {
    format!("{:?} {:?}", event.message, event.exception)
}

fn task_of(event: &Event<'static>) -> Option<u64> {
    match event.contexts.get("spans") {
        Some(sentry::protocol::Context::Other(spans)) => {
            spans.get("request")?.get("task")?.as_u64()
        }
        _ => None,
    }
}

#[test]
fn one_propagated_error_is_one_report_and_two_failures_stay_two() {
    let (layer, s) = setup(|b| b.flood_limit(None));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..REQUESTS {
            let span = tracing::dispatcher::with_default(
                &dispatch,
                || info_span!("request", tenant_id = %tenant(task), task),
            );
            let work = async move {
                let _ = handle(task).await;
                let _ = warm(task).await;
                let _ = fetch_with_retry(task).await;
            };
            handles.push(tokio::spawn(
                work.instrument(span).with_subscriber(dispatch.clone()),
            ));
        }
        for handle in handles {
            handle.await.expect("request ran");
        }
    });
    s.settle();
    let events = s.memory.events();
    let mut per_task: HashMap<u64, Vec<&Event<'static>>> = HashMap::new();
    let mut tally = Tally::default();
    for event in &events {
        tally.report();
        let task = task_of(event);
        tally.check(task.is_some(), || {
            format!("a report outside its request: {}", text(event))
        });
        if let Some(task) = task {
            per_task.entry(task).or_default().push(event);
        }
    }
    for (task, reports) in &per_task {
        let count = |needle: &str| reports.iter().filter(|e| text(e).contains(needle)).count();
        let (reset, cache, timeout) = (
            count("connection reset by peer"),
            count("cache unavailable"),
            count("upstream timed out"),
        );
        tally.check((reset, cache, timeout) == (1, 1, 2), || {
            format!("task {task}: {reset} / {cache} / {timeout} reports of the three failures")
        });
        // The first failure's two later lines are breadcrumbs of the request.
        let cache_report = reports
            .iter()
            .find(|e| text(e).contains("cache unavailable"));
        let propagated = cache_report.map_or(0, |e| {
            e.breadcrumbs
                .values
                .iter()
                .filter(|b| b.level == Level::Error)
                // `#[instrument(err)]` logs only `error`: it is the message.
                .filter(|b| b.message.as_deref() == Some("connection reset by peer"))
                .count()
        });
        tally.check(propagated == 2, || {
            format!("task {task}: {propagated} error breadcrumbs before the second failure")
        });
    }
    assert_eq!(per_task.len(), REQUESTS, "every request reported");
    assert_eq!(
        events.len(),
        4 * REQUESTS,
        "four failures per request: {:?}",
        s.guard.stats()
    );
    assert_eq!(
        s.guard.stats().deduplicated,
        4 * REQUESTS as u64,
        "two, one and one propagated lines per request"
    );
    tally.finish("dedupe", 3 * REQUESTS);
}

type Case<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct Declined(#[source] std::io::Error);

#[tracing::instrument(err)]
async fn read_config() -> std::result::Result<(), std::io::Error> {
    Err(std::io::Error::other("config unreadable"))
}

/// One failure logged once as it happens and again where the service catches it, in the
/// shapes services write (a newcomer's worker got two reports of one failure): `&dyn
/// Error` then anyhow's `?e` (its `Debug`: `Caused by:`, and a backtrace with
/// `RUST_BACKTRACE=1`), with or without `.context(..)`, eyre's `?e`, and
/// `#[instrument(err)]` then anyhow's `?e`. Each is one report. A different failure
/// caught the same way is its own report.
#[test]
fn one_failure_through_anyhow_or_eyre_is_one_report_whatever_the_representation() {
    // anyhow and eyre read it when the error is made: every case below has a backtrace.
    std::env::set_var("RUST_LIB_BACKTRACE", "1");
    let (layer, s) = setup(|b| b.flood_limit(None));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let charge = || async {
        let failed: std::result::Result<(), Declined> =
            Err(Declined(std::io::Error::other("issuer down")));
        failed.inspect_err(|e| {
            tracing::error!(
                error = e as &(dyn std::error::Error + 'static),
                "charge failed"
            )
        })
    };
    tracing::dispatcher::with_default(&dispatch, || {
        runtime().block_on(async {
            let cases: Vec<(&str, Case<'_>)> = vec![
                (
                    "anyhow",
                    Box::pin(async {
                        let r: Result<()> = async {
                            charge().instrument(info_span!("charge")).await?;
                            Ok(())
                        }
                        .await;
                        if let Err(e) = r {
                            tracing::error!(error = ?e, "job failed")
                        }
                    }),
                ),
                (
                    "anyhow with context",
                    Box::pin(async {
                        use anyhow::Context;
                        let r: Result<()> = async {
                            charge()
                                .instrument(info_span!("charge"))
                                .await
                                .context("billing step")?;
                            Ok(())
                        }
                        .await;
                        if let Err(e) = r {
                            tracing::error!(error = ?e, "job failed")
                        }
                    }),
                ),
                (
                    "eyre",
                    Box::pin(async {
                        let r: eyre::Result<()> = async {
                            charge().instrument(info_span!("charge")).await?;
                            Ok(())
                        }
                        .await;
                        if let Err(e) = r {
                            tracing::error!(error = ?e, "job failed")
                        }
                    }),
                ),
                (
                    "instrument(err) then anyhow",
                    Box::pin(async {
                        let r: Result<()> = async {
                            read_config().await?;
                            Ok(())
                        }
                        .await;
                        if let Err(e) = r {
                            tracing::error!(error = ?e, "job failed")
                        }
                    }),
                ),
                (
                    "a different failure",
                    Box::pin(async {
                        let _ = charge().instrument(info_span!("charge")).await;
                        let other: Result<()> = Err(anyhow!("ledger locked"));
                        if let Err(e) = other {
                            tracing::error!(error = ?e, "job failed")
                        }
                    }),
                ),
            ];
            for (name, case) in cases {
                case.instrument(info_span!("job", tenant_id = "acme", case = name))
                    .await;
            }
        })
    });
    s.settle();
    let events = s.memory.events();
    let mut per_case: HashMap<String, usize> = HashMap::new();
    for event in &events {
        let case = match event.contexts.get("spans") {
            Some(sentry::protocol::Context::Other(spans)) => spans
                .get("job")
                .and_then(|job| job.get("case"))
                .and_then(|c| c.as_str())
                .map(str::to_owned),
            _ => None,
        };
        *per_case.entry(case.unwrap_or_default()).or_default() += 1;
    }
    for case in [
        "anyhow",
        "anyhow with context",
        "eyre",
        "instrument(err) then anyhow",
    ] {
        assert_eq!(per_case.get(case), Some(&1), "{case}: {per_case:?}");
    }
    assert_eq!(
        per_case.get("a different failure"),
        Some(&2),
        "{per_case:?}"
    );
    assert_eq!(s.guard.stats().deduplicated, 4);
}
