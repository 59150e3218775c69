//! The scrubber's work on a stream of distinct log lines, for instruction counts, which
//! a shared and noisy machine does not change (wall time it does):
//!
//! ```text
//! cargo build --release -p tracing-scrub --example scrub_lines_cost
//! valgrind --tool=callgrind --toggle-collect='*measured*' \
//!     target/release/examples/scrub_lines_cost clean     # or: secrets, message
//! ```
//!
//! `clean`: 2,000 clean lines of `tests/data/log_lines.rs`; `secrets`: the stream with a
//! credential in every fourth line; `message`: one short message 20,000 times. The
//! lines are scrubbed three times first (the regex engines' lazy states built), then
//! once in `measured`, whose instructions callgrind counts.

#[path = "../tests/data/log_lines.rs"]
mod log_lines;

use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

#[inline(never)]
fn warm_up(scrubber: &Scrubber, lines: &[String]) -> usize {
    let mut report = ScrubReport::default();
    (0..3)
        .flat_map(|_| lines.iter())
        .map(|line| scrubber.scrub_str(line, &mut report).len())
        .sum()
}

#[inline(never)]
fn measured(scrubber: &Scrubber, lines: &[String]) -> usize {
    let mut report = ScrubReport::default();
    lines
        .iter()
        .map(|line| scrubber.scrub_str(line, &mut report).len())
        .sum()
}

fn main() {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let lines = match std::env::args().nth(1).as_deref() {
        Some("secrets") => log_lines::lines_with_secrets(2_000, 2),
        Some("message") => vec![
            "step 3 of the checkout finished for order 4017 after 2 attempts"
                .to_owned();
            20_000
        ],
        _ => log_lines::clean_lines(2_000, 1),
    };
    let bytes: usize = lines.iter().map(String::len).sum();
    let warm = warm_up(&scrubber, &lines);
    let started = std::time::Instant::now();
    let out = measured(&scrubber, &lines);
    println!(
        "{} lines, {bytes} bytes, {out} bytes out ({warm} in warm-up), {:?}",
        lines.len(),
        started.elapsed()
    );
}
