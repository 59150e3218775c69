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

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
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
