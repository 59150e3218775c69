//! What the worker thread does per report: scrub every item of the envelope and
//! serialise it, for a report of about 1.5 KB on the wire and one with 100 breadcrumbs.
//!
//! Timed in CPU time of the benchmarking thread (`CLOCK_THREAD_CPUTIME_ID`), around the
//! scrubbing and serialising only, so other load on the machine inflates it less than
//! wall time; throughput in bytes of report JSON on the wire.

mod common;

use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sentry::protocol::{Breadcrumb, Context, Event, Exception, Level, Map, User, Value};
use sentry::Envelope;
use tracing_error_reports::scrub::{ScrubRules, Scrubber};

fn report() -> Event<'static> {
    report_with_breadcrumbs(5)
}

/// Numbers each report built, so no two reports' messages are the same text (the
/// scrubber remembers texts found clean; a real report's messages carry ids and counts).
static REPORTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn report_with_breadcrumbs(breadcrumbs: i32) -> Event<'static> {
    let n = REPORTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut fields = Map::new();
    fields.insert("order_id".into(), Value::from(4017));
    fields.insert("route".into(), Value::from("/v1/checkout"));
    fields.insert(
        "api_key".into(),
        Value::from("sk_live_51HqLyjWDarjtT1zdp7dc"),
    );
    fields.insert("attempt".into(), Value::from(2));
    let mut event = Event {
        level: Level::Error,
        message: Some("checkout failed for order 4017, password=hunter2 was rejected".into()),
        logger: Some("billing::checkout".into()),
        transaction: Some("request".into()),
        exception: vec![
            Exception {
                ty: "Custom".into(),
                value: Some("timed out after 5s".into()),
                ..Default::default()
            },
            Exception {
                ty: "DbError".into(),
                value: Some(
                    "could not query postgres://orders:s3cr3t@db.internal:5432/orders".into(),
                ),
                ..Default::default()
            },
        ]
        .into(),
        user: Some(User {
            id: Some("42".into()),
            ..Default::default()
        }),
        breadcrumbs: (0..breadcrumbs)
            .map(|i| Breadcrumb {
                timestamp: SystemTime::now(),
                category: Some("billing::checkout".into()),
                message: Some(format!("step {i} of checkout {n} finished")),
                data: [
                    ("step".to_owned(), Value::from(i)),
                    ("table".to_owned(), Value::from("orders")),
                ]
                .into_iter()
                .collect(),
                ..Default::default()
            })
            .collect::<Vec<_>>()
            .into(),
        ..Default::default()
    };
    event.tags.insert("tenant_id".into(), "acme".into());
    event
        .contexts
        .insert("fields".into(), Context::Other(fields));
    event
}

fn scrub_and_serialise(scrubber: &Scrubber, event: Event<'static>) -> Vec<u8> {
    let envelope = scrubber.scrub_envelope(Envelope::from(event));
    let mut out = Vec::with_capacity(2048);
    envelope.to_writer(&mut out).expect("serialises");
    out
}

fn worker(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    // `WORKER_PROFILE=N`: scrub and serialise the 100-breadcrumb report N times and exit,
    // for an instruction count (`valgrind --tool=callgrind`) free of timer noise.
    if let Some(times) = std::env::var("WORKER_PROFILE")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for _ in 0..times {
            std::hint::black_box(scrub_and_serialise(&scrubber, report_with_breadcrumbs(100)));
        }
        std::process::exit(0);
    }
    let mut group = c.benchmark_group("worker");
    for (name, make) in [
        (
            "scrub_and_serialise_1_5kb_report",
            report as fn() -> Event<'static>,
        ),
        ("scrub_and_serialise_100_breadcrumbs", || {
            report_with_breadcrumbs(100)
        }),
    ] {
        // Bytes of report JSON on the wire, after scrubbing.
        let wire = scrub_and_serialise(&scrubber, make());
        eprintln!("{name}: report size on the wire: {} bytes", wire.len());
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let event = make();
                    let start = common::thread_cpu();
                    let out = scrub_and_serialise(&scrubber, event);
                    spent += common::thread_cpu() - start;
                    drop(std::hint::black_box(out));
                }
                spent
            })
        });
    }
    group.finish();
}

/// The 1.5 KB report with the logging thread's stack on its exception
/// (`attach_stacktrace`, issue 16): the calling thread only walks the stack; the
/// worker resolves its symbols, then scrubs and serialises the larger report. Timed:
/// resolving (symbol data cached after the first, as in a running service),
/// converting, scrubbing, serialising. The stack is a real one of this bench.
fn worker_attach_stacktrace(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let unresolved = backtrace::Backtrace::new_unresolved();
    let with_stack = |unresolved: &backtrace::Backtrace| {
        let mut resolved = unresolved.clone();
        resolved.resolve();
        let mut event = report();
        if let Some(last) = event.exception.values.last_mut() {
            last.stacktrace = sentry_backtrace::backtrace_to_stacktrace(&resolved);
        }
        scrub_and_serialise(&scrubber, event)
    };
    let wire = with_stack(&unresolved);
    eprintln!(
        "attach_stacktrace: report with a {}-frame stack on the wire: {} bytes",
        unresolved.frames().len(),
        wire.len()
    );
    let mut group = c.benchmark_group("worker_attach_stacktrace");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("resolve_scrub_and_serialise_1_5kb_report_with_stack", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let start = common::thread_cpu();
                let out = with_stack(&unresolved);
                spent += common::thread_cpu() - start;
                drop(std::hint::black_box(out));
            }
            spent
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3)).sample_size(30);
    targets = worker, worker_attach_stacktrace
}
criterion_main!(benches);
