//! Optional sinks collected in a `Vec`: an empty `Vec` of layers disables every event for
//! the whole subscriber (tracing-subscriber #3563), so no error could be reported while
//! startup said "error reporting enabled". The layer says so once on stderr; with the
//! shapes that work (`Option<Layer>`, a non-empty `Vec`) it says nothing and reports.

mod common;

use std::process::Command;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;

const CHILD: &str = "EMPTY_SINKS_CHILD";
const TOLD: &str = "enables no ERROR event";

type Sinks = Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>>;

/// Run as a child process: its stderr is what the parent checks.
#[test]
fn child() {
    let Some(shape) = std::env::var_os(CHILD) else {
        return;
    };
    let h = harness(|b| b);
    let error_reports = h.layer.expect("enabled");
    let report = || tracing::error!("the application's error");
    match shape.to_str() {
        Some("empty-vec") => {
            let optional: Sinks = Vec::new();
            let subscriber = tracing_subscriber::registry()
                .with(optional)
                .with(error_reports);
            tracing::subscriber::with_default(subscriber, report);
        }
        Some("option") => {
            let optional: Option<tracing_subscriber::fmt::Layer<_>> = None;
            let subscriber = tracing_subscriber::registry()
                .with(optional)
                .with(error_reports);
            tracing::subscriber::with_default(subscriber, report);
        }
        Some("vec") => {
            let optional: Sinks = vec![tracing_subscriber::fmt::layer().boxed()];
            let subscriber = tracing_subscriber::registry()
                .with(optional)
                .with(error_reports);
            tracing::subscriber::with_default(subscriber, report);
        }
        other => panic!("unknown shape {other:?}"),
    }
    assert!(h.guard.flush(WAIT));
    // Flushed: whatever was reported has been delivered.
    println!("\nREPORTS {}", h.receiver.events().len());
}

fn run(shape: &str) -> (usize, usize) {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, shape)
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let reports = stdout
        .lines()
        .find_map(|l| l.split("REPORTS ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    (stderr.matches(TOLD).count(), reports)
}

#[test]
fn an_empty_vec_of_sinks_is_told_once_and_the_shapes_that_work_are_not() {
    let (told, reports) = run("empty-vec");
    assert_eq!((told, reports), (1, 0), "an empty Vec disables everything");
    assert_eq!(run("option"), (0, 1));
    assert_eq!(run("vec"), (0, 1));
}
