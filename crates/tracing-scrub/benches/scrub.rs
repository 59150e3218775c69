//! The scrubber on adversarial 8 KiB values (one per shape in
//! `tests/data/scrub_shapes.rs`): the goal is under 1 ms per value, worst case, in a
//! release build. `cargo bench --bench scrub`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

#[path = "../tests/data/scrub_shapes.rs"]
mod shapes;

#[path = "../tests/data/log_lines.rs"]
mod log_lines;

fn adversarial(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let mut group = c.benchmark_group("scrub_adversarial_8k");
    group.throughput(Throughput::Bytes(8 * 1024));
    for (name, unit) in shapes::SHAPES {
        let text = shapes::build(unit, 8 * 1024);
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| {
                let mut report = ScrubReport::default();
                scrubber
                    .scrub_str(std::hint::black_box(text), &mut report)
                    .len()
            })
        });
    }
    group.finish();
}

/// Ordinary text, as most of a report is: the cost every string pays.
fn ordinary(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let mut group = c.benchmark_group("scrub_ordinary");
    for (name, text) in [
        ("category", "billing::checkout"),
        (
            "message",
            "step 3 of the checkout finished for order 4017 after 2 attempts",
        ),
        (
            "exception",
            "could not query orders: connection reset by peer (os error 104)",
        ),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| {
                let mut report = ScrubReport::default();
                scrubber
                    .scrub_str(std::hint::black_box(text), &mut report)
                    .len()
            })
        });
    }
    group.finish();
}

/// Throughput on a stream of distinct log lines (cold: `scrub_str` remembers nothing, and
/// no line repeats another), clean and with a credential in every fourth line. MB/s is
/// criterion's "thrpt" (bytes of input per second).
fn throughput(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let mut group = c.benchmark_group("scrub_throughput");
    for (name, lines) in [
        ("clean_lines", log_lines::clean_lines(4096, 1)),
        ("lines_with_secrets", log_lines::lines_with_secrets(4096, 2)),
    ] {
        let bytes: usize = lines.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &lines, |b, lines| {
            b.iter(|| {
                let mut report = ScrubReport::default();
                lines
                    .iter()
                    .map(|l| {
                        scrubber
                            .scrub_str(std::hint::black_box(l), &mut report)
                            .len()
                    })
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

/// Clean text of 8 KiB (nothing in it to scrub), cold: no memory of earlier texts is
/// involved (`scrub_str`). Throughput in bytes: the cost every byte of a clean report
/// pays. ASCII log lines with timestamps, ids and numbers; plain prose; non-ASCII
/// prose (Japanese, Russian, German).
fn clean(c: &mut Criterion) {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let mut group = c.benchmark_group("scrub_clean_8k");
    group.throughput(Throughput::Bytes(8 * 1024));
    for (name, unit) in [
        (
            "ascii_log",
            "2026-12-02T10:15:30.123Z INFO orders::checkout: order 4017 shipped in 3 parcels after 250 ms (worker 7, attempt 2 of 5)\n",
        ),
        (
            "ascii_prose",
            "the request finished without errors and the queue drained before the deadline so nothing was retried ",
        ),
        (
            "non_ascii_prose",
            "注文は発送されました。Заказ отправлен без ошибок. Die Bestellung wurde verschickt. ",
        ),
    ] {
        let text = shapes::build(unit, 8 * 1024);
        assert_eq!(
            scrubber.scrub_str(&text, &mut ScrubReport::default()),
            text.as_str(),
            "{name} must be clean"
        );
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| {
                let mut report = ScrubReport::default();
                scrubber
                    .scrub_str(std::hint::black_box(text), &mut report)
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = adversarial, ordinary, throughput, clean
}
criterion_main!(benches);
