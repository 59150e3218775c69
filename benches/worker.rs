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

/// A project's PiiConfig of 20 rules (issue 29), of every kind a team writes: built-in
/// data types, patterns, key rules, an alias and a `multiple`, on generic and specific
/// selectors.
const PII_CONFIG_20_RULES: &str = r#"{
  "rules": {
    "order_ids": {"type": "pattern", "pattern": "ORD-[0-9]{4,}", "redaction": {"method": "replace", "text": "[order]"}},
    "customer_ids": {"type": "pattern", "pattern": "(?i)cust(omer)?[-_ ]?[0-9]{3,}"},
    "tokens": {"type": "pattern", "pattern": "(?i)(token|key|secret)[=:]\\s*([^\\s&,;]+)", "replaceGroups": [2], "redaction": {"method": "mask"}},
    "long_numbers": {"type": "pattern", "pattern": "[0-9]{9,}", "redaction": {"method": "hash"}},
    "internal_hosts": {"type": "pattern", "pattern": "[a-z0-9-]+\\.internal", "redaction": {"method": "replace", "text": "[host]"}},
    "x_headers": {"type": "redact_pair", "keyPattern": "^x-(api|internal)-"},
    "secrets": {"type": "redact_pair", "keyPattern": "(?i)secret|private|credential"},
    "session": {"type": "redact_pair", "keyPattern": "(?i)^sess"},
    "cards": {"type": "alias", "rule": "@creditcard:mask"},
    "contact": {"type": "multiple", "rules": ["@email", "@ip"], "hide_inner": true}
  },
  "applications": {
    "$string": ["@ip", "@email", "@creditcard", "@iban", "@usssn", "@pemkey", "@urlauth", "@bearer",
                "order_ids", "customer_ids", "tokens", "long_numbers", "internal_hosts"],
    "$http.headers.*": ["x_headers"],
    "extra.** || contexts.**": ["secrets", "session"],
    "$frame.vars.**": ["@password"],
    "$user.* && !$user.id": ["@anything:remove"],
    "$breadcrumb.data.**": ["cards"],
    "$exception.value": ["contact"]
  }
}"#;

/// The cost of a 20-rule PiiConfig on top of the built-in policy: the 1.5 KB report
/// scrubbed and serialised with and without it, measured interleaved in the same run
/// (the ratio printed), then each by criterion.
fn worker_pii_config(c: &mut Criterion) {
    let builtin = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let config = tracing_error_reports::scrub::PiiConfig::from_json(PII_CONFIG_20_RULES)
        .expect("the bench's PiiConfig is valid");
    let rules: usize = serde_json::from_str::<serde_json::Value>(PII_CONFIG_20_RULES)
        .expect("json")["applications"]
        .as_object()
        .expect("applications")
        .values()
        .map(|refs| refs.as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(rules, 20, "rule references in `applications`");
    let with_pii = Scrubber::new(&ScrubRules::default())
        .expect("defaults compile")
        .with_pii_config(std::sync::Arc::new(config));
    // `PII_CONFIG_PROFILE=N`: the report with the PiiConfig N times, then exit (profiling;
    // `PII_CONFIG_PROFILE_BUILTIN=N`: with the built-in policy alone).
    for (var, scrubber) in [
        ("PII_CONFIG_PROFILE", &with_pii),
        ("PII_CONFIG_PROFILE_BUILTIN", &builtin),
    ] {
        if let Some(times) = std::env::var(var).ok().and_then(|n| n.parse::<u32>().ok()) {
            for _ in 0..times {
                std::hint::black_box(scrub_and_serialise(scrubber, report()));
            }
            std::process::exit(0);
        }
    }
    // Interleaved, so load on the machine falls on both alike: medians of CPU time.
    let (mut alone, mut with) = (Vec::new(), Vec::new());
    for _ in 0..3000 {
        for (scrubber, times) in [(&builtin, &mut alone), (&with_pii, &mut with)] {
            let event = report();
            let start = common::thread_cpu();
            let out = scrub_and_serialise(scrubber, event);
            times.push(common::thread_cpu() - start);
            drop(std::hint::black_box(out));
        }
    }
    alone.sort_unstable();
    with.sort_unstable();
    let (alone, with) = (alone[alone.len() / 2], with[with.len() / 2]);
    eprintln!(
        "pii_config: 1.5 KB report, built-in policy alone {alone:?}, with a 20-rule PiiConfig \
         {with:?}: ratio {:.2}x (goal: at most 1.5x)",
        with.as_secs_f64() / alone.as_secs_f64()
    );
    let mut group = c.benchmark_group("worker_pii_config");
    for (name, scrubber) in [
        ("builtin_policy_1_5kb_report", &builtin),
        ("builtin_and_20_rule_pii_config_1_5kb_report", &with_pii),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let event = report();
                    let start = common::thread_cpu();
                    let out = scrub_and_serialise(scrubber, event);
                    spent += common::thread_cpu() - start;
                    drop(std::hint::black_box(out));
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3)).sample_size(30);
    targets = worker, worker_attach_stacktrace, worker_pii_config
}
criterion_main!(benches);
