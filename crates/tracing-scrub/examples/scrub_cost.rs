//! Instructions the scrubber spends on the bench's 8 KiB inputs, for counting under
//! `valgrind --tool=callgrind` (repeatable on a shared, noisy machine where wall time is
//! not): `cargo build --release -p tracing-scrub --example scrub_cost`, then
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measure*'
//! target/release/examples/scrub_cost <shape>`; the shapes are those of
//! `tests/data/scrub_shapes.rs` and `clean_ascii_log`, `clean_ascii_prose`,
//! `clean_non_ascii_prose`. Each input is scrubbed once to warm up (lazy tables,
//! libphonenumber's metadata), then `ROUNDS` times inside `measure`.

use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

#[path = "../tests/data/scrub_shapes.rs"]
mod shapes;

#[path = "../tests/data/log_lines.rs"]
mod log_lines;

const ROUNDS: usize = 10;

const CLEAN: &[(&str, &str)] = &[
    (
        "clean_ascii_log",
        "2026-12-02T10:15:30.123Z INFO orders::checkout: order 4017 shipped in 3 parcels after 250 ms (worker 7, attempt 2 of 5)\n",
    ),
    (
        "clean_ascii_prose",
        "the request finished without errors and the queue drained before the deadline so nothing was retried ",
    ),
    (
        "clean_non_ascii_prose",
        "注文は発送されました。Заказ отправлен без ошибок. Die Bestellung wurde verschickt. ",
    ),
];

#[inline(never)]
fn measure(scrubber: &Scrubber, text: &str) -> usize {
    let mut total = 0;
    for _ in 0..ROUNDS {
        let mut report = ScrubReport::default();
        total += scrubber
            .scrub_str(std::hint::black_box(text), &mut report)
            .len();
    }
    total
}

#[inline(never)]
fn measure_lines(scrubber: &Scrubber, lines: &[String]) -> usize {
    let mut total = 0;
    for _ in 0..ROUNDS {
        let mut report = ScrubReport::default();
        for line in lines {
            total += scrubber
                .scrub_str(std::hint::black_box(line), &mut report)
                .len();
        }
    }
    total
}

/// CPU time of this thread so far, in seconds (Linux; 0 elsewhere).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let lines = match name.as_str() {
        "clean_lines" => Some((
            log_lines::clean_lines(4096, 1),
            log_lines::clean_lines(512, 7),
        )),
        "lines_with_secrets" => Some((
            log_lines::lines_with_secrets(4096, 2),
            log_lines::lines_with_secrets(512, 8),
        )),
        _ => None,
    };
    if let Some((lines, warm_up)) = lines {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        for line in &warm_up {
            let _ = scrubber.scrub_str(line, &mut ScrubReport::default());
        }
        let bytes: usize = lines.iter().map(String::len).sum();
        let start = thread_cpu_seconds();
        let total = measure_lines(&scrubber, &lines);
        let cpu = thread_cpu_seconds() - start;
        println!(
            "{name} {bytes} bytes x {ROUNDS} {total}: {:.1} MB/s of CPU time",
            (bytes * ROUNDS) as f64 / cpu.max(1e-9) / 1e6
        );
        return;
    }
    let unit = shapes::SHAPES
        .iter()
        .chain(CLEAN)
        .find(|(n, _)| *n == name)
        .map(|(_, u)| *u)
        .unwrap_or_else(|| {
            eprintln!("unknown shape {name:?}");
            std::process::exit(2)
        });
    let text = shapes::build(unit, 8 * 1024);
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let _ = scrubber.scrub_str(&text, &mut ScrubReport::default());
    println!("{name} {} bytes {}", text.len(), measure(&scrubber, &text));
}
