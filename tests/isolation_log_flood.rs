//! Flood control keys `log` records (through tracing-log's `LogTracer`) by the record's
//! own target, file and line, not by the one callsite tracing-log gives every record of
//! a level, and by tenant: one noisy library cannot use up another's budget. 1,000
//! tasks over 50 tenants on a multi-thread runtime. (Own binary: `LogTracer` is
//! process-wide.)

mod isolation_support;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use isolation_support::{runtime, setup, tag, tenant, Tally, TASKS, TENANTS};
use sentry::protocol::{Context, Value};
use tracing::instrument::WithSubscriber;
use tracing::{info_span, Instrument};
use tracing_error_reports::FloodLimit;
use tracing_subscriber::prelude::*;

mod billing {
    pub fn fail(order: usize) {
        log::error!(target: "app::billing", "could not process order {order}");
    }
}

mod shipping {
    pub fn fail(order: usize) {
        log::error!(target: "app::shipping", "could not process order {order}");
    }
}

const LIMIT: u32 = 10;

/// The `log` record's target, wherever the layer puts it (the `logger`, or the
/// `log.target` field).
fn record_target(event: &sentry::protocol::Event<'static>) -> Option<String> {
    let field = match event.contexts.get("fields") {
        Some(Context::Other(f)) => f.get("log.target").and_then(Value::as_str),
        _ => None,
    };
    field
        .or(event.logger.as_deref().filter(|l| l.starts_with("app::")))
        .map(str::to_owned)
}

#[test]
fn log_records_of_two_modules_and_many_tenants_have_budgets_of_their_own() {
    tracing_log::LogTracer::init().expect("the only logger of this binary");
    // A window no run of this test outlasts: every key gets exactly LIMIT reports.
    let (layer, s) = setup(|b| {
        b.flood_limit(Some(FloodLimit::new(
            NonZeroU32::new(LIMIT).expect("not zero"),
            Duration::from_secs(3600),
        )))
    });
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    runtime().block_on(async {
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let d = dispatch.clone();
            let span = tracing::dispatcher::with_default(
                &d,
                || info_span!("request", tenant_id = %tenant(task), task),
            );
            let work = async move {
                billing::fail(task);
                tokio::task::yield_now().await;
                shipping::fail(task);
            };
            handles.push(tokio::spawn(work.instrument(span).with_subscriber(d)));
        }
        for handle in handles {
            handle.await.expect("task ran");
        }
    });
    s.settle();
    let events = s.memory.events();
    let mut tally = Tally::default();
    let mut per_key: HashMap<(String, String), u32> = HashMap::new();
    for event in &events {
        tally.report();
        let target = record_target(event);
        let tenant = tag(event, "tenant_id").map(str::to_owned);
        tally.check(target.is_some() && tenant.is_some(), || {
            format!("report without its record's target or tenant: {event:?}")
        });
        if let (Some(target), Some(tenant)) = (target, tenant) {
            *per_key.entry((tenant, target)).or_default() += 1;
        }
    }
    // 1,000 tasks over 50 tenants: 20 records per tenant and module, LIMIT of each kept.
    for t in 0..TENANTS {
        for target in ["app::billing", "app::shipping"] {
            let got = per_key
                .get(&(tenant(t), target.to_owned()))
                .copied()
                .unwrap_or(0);
            tally.check(got == LIMIT, || {
                format!("{} {target}: {got} reports, expected {LIMIT}", tenant(t))
            });
        }
    }
    let held_back = s.guard.stats().suppressed;
    println!(
        "log records: {} reported, {held_back} held back",
        events.len()
    );
    assert_eq!(events.len(), TENANTS * 2 * LIMIT as usize);
    assert_eq!(held_back as usize, 2 * TASKS - events.len());
    tally.finish("log records by target and tenant", TASKS);
}
