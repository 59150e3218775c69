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
}
