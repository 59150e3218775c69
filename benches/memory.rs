//! Resident memory over 10 million events across 100,000 requests: breadcrumb buffers
//! must be freed with their request. Writes target/criterion/memory.json for
//! benches/report.py.

mod common;

use std::sync::Arc;

const REQUESTS: u64 = 100_000;
const EVENTS_PER_REQUEST: u64 = 100;
const ERROR_EVERY: u64 = 100;
const CHECKPOINTS: u64 = 10;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let smaps = std::env::var_os("MEMORY_SMAPS").is_some();
    if smaps {
        println!("before init: {:.2} MiB", rss_mib());
        let scrubber = tracing_error_reports::scrub::Scrubber::new(
            &tracing_error_reports::scrub::ScrubRules::default(),
        );
        println!("a scrubber alone: {:.2} MiB", rss_mib());
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if std::env::var_os("MEMORY_TRIM").is_some() {
            // SAFETY: malloc_trim only returns free heap pages to the kernel.
            unsafe { libc::malloc_trim(0) };
            println!("the scrubber after malloc_trim: {:.2} MiB", rss_mib());
        }
        drop(scrubber);
        if std::env::var_os("MEMORY_SCRUBBER_ONLY").is_some() {
            return;
        }
    }
    let layer = {
        let config = tracing_error_reports::Config::builder()
            .dsn("https://public@sentry.invalid/1")
            .traces_sample_rate(0.0)
            .install_panic_hook(false)
            .build()
            .expect("valid");
        let (layer, guard) =
            tracing_error_reports::init_with_transport(config, Arc::new(Arc::new(common::Discard)));
        std::mem::forget(guard);
        layer
    };
    use tracing_subscriber::prelude::*;
    if smaps {
        println!("after init: {:.2} MiB", rss_mib());
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if std::env::var_os("MEMORY_TRIM").is_some() {
            // SAFETY: malloc_trim only returns free heap pages to the kernel.
            unsafe { libc::malloc_trim(0) };
            println!("after malloc_trim: {:.2} MiB", rss_mib());
        }
    }
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let mut checkpoints = Vec::new();
    tracing::dispatcher::with_default(&dispatch, || {
        for request in 0..REQUESTS {
            let span = tracing::info_span!("request", tenant_id = "acme", request);
            let _entered = span.enter();
            for step in 0..EVENTS_PER_REQUEST {
                tracing::info!(step, table = "orders", "query done");
            }
            if request % ERROR_EVERY == 0 {
                tracing::error!(request, "request failed");
            }
            if (request + 1) % (REQUESTS / CHECKPOINTS) == 0 {
                checkpoints.push(((request + 1) * EVENTS_PER_REQUEST, rss_mib()));
            }
        }
    });
    let first = checkpoints.first().map_or(0.0, |c| c.1);
    let last = checkpoints.last().map_or(0.0, |c| c.1);
    let json = format!(
        "{{\"events\": {}, \"requests\": {REQUESTS}, \"error_every\": {ERROR_EVERY}, \"growth_mib\": {:.2}, \"checkpoints\": [{}]}}",
        REQUESTS * EVENTS_PER_REQUEST,
        last - first,
        checkpoints
            .iter()
            .map(|(e, r)| format!("[{e}, {r:.2}]"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("memory.json"), &json).expect("write memory.json");
    println!("{json}");
    if smaps {
        print_resident_mappings();
    }
}

/// What holds the resident set (`MEMORY_SMAPS=1`): each mapping's resident KiB, largest
/// first (`[heap]` and anonymous ones are the allocator's; a file is its code or data).
fn print_resident_mappings() {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut rows: Vec<(u64, String)> = Vec::new();
    let mut name = String::new();
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            name = line
                .split_whitespace()
                .skip(5)
                .collect::<Vec<_>>()
                .join(" ");
            if name.is_empty() {
                name = format!("anonymous {first}");
            }
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            rows.push((kb, name.clone()));
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    for (kb, name) in rows.iter().take(15) {
        println!("{kb:>8} KiB  {name}");
    }
}
