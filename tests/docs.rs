//! The documentation stays true: every relative link and anchor in README.md and
//! docs/ resolves, and the figures the docs quote are the code's constants.

use std::path::{Path, PathBuf};

use tracing_error_reports as ter;

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("docs/ is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut files);
    files
}

/// Markdown outside fenced code blocks.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut found = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

/// GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens.
fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for link in links(&text) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (path, anchor) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("in a folder").join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", file.display()));
                continue;
            }
            if !anchor.is_empty() {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: {link} (no such heading)", file.display()));
                }
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).expect("readable")
}

#[test]
fn quoted_defaults_are_the_codes_constants() {
    let readme = read("README.md");
    let adr = read("docs/adr/024-sentry-integration.md");
    let env_rows = [
        format!(
            "| `{}` | `{}` |",
            ter::env::ENVIRONMENT,
            ter::defaults::ENVIRONMENT
        ),
        format!(
            "| `{}` | `{}` |",
            ter::env::TRACES_SAMPLE_RATE,
            ter::defaults::TRACES_SAMPLE_RATE
        ),
    ];
    for row in &env_rows {
        assert!(readme.contains(row.as_str()), "README lacks {row}");
        assert!(adr.contains(row.as_str()), "ADR-024 lacks {row}");
    }
    let figures = [
        format!("{} reports", ter::defaults::QUEUE_CAPACITY),
        format!("{} reports a minute", ter::defaults::FLOOD_LIMIT.reports),
        format!("({} s)", ter::defaults::SHUTDOWN_TIMEOUT.as_secs()),
        format!("timeout ({} s)", ter::defaults::HTTP_TIMEOUT.as_secs()),
        format!("{} s bound", ter::defaults::PANIC_FLUSH_TIMEOUT.as_secs()),
    ];
    assert_eq!(
        ter::defaults::FLOOD_LIMIT.per.as_secs(),
        60,
        "docs say 'a minute'"
    );
    for figure in &figures {
        assert!(readme.contains(figure.as_str()), "README lacks {figure:?}");
    }
    let adr_figures = [
        format!("bounded queue ({}", ter::defaults::QUEUE_CAPACITY),
        format!("HTTP timeout {} s", ter::defaults::HTTP_TIMEOUT.as_secs()),
        format!(
            "{} reports per\n   key per minute",
            ter::defaults::FLOOD_LIMIT.reports
        ),
        format!(
            "{} % of requests",
            (ter::defaults::TRACES_SAMPLE_RATE * 100.0).round()
        ),
    ];
    for figure in &adr_figures {
        assert!(adr.contains(figure.as_str()), "ADR-024 lacks {figure:?}");
    }
    let adr022 = read("docs/adr/022-reports-leave-the-calling-thread.md");
    for figure in [
        format!("bounded queue ({} reports)", ter::defaults::QUEUE_CAPACITY),
        format!("{} s timeout", ter::defaults::HTTP_TIMEOUT.as_secs()),
        format!(
            "({} s by default)",
            ter::defaults::SHUTDOWN_TIMEOUT.as_secs()
        ),
        format!(
            "at most {} reports a minute",
            ter::defaults::FLOOD_LIMIT.reports
        ),
    ] {
        assert!(adr022.contains(figure.as_str()), "ADR-022 lacks {figure:?}");
    }
    assert!(
        adr.contains(&format!("(at most {})", ter::defaults::MAX_BREADCRUMBS))
            || readme.contains(&format!("(at most {})", ter::defaults::MAX_BREADCRUMBS))
    );
}

#[test]
fn the_readme_names_every_national_id_scheme_the_scrubber_checks() {
    let readme = read("README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let missing: Vec<&str> = tracing_error_reports::scrub::national_id_schemes()
        .filter(|name| !readme.contains(name))
        .collect();
    let count = tracing_error_reports::scrub::national_id_schemes().count();
    assert!(count >= 20, "only {count} schemes");
    assert!(
        readme.contains(&format!("{count} schemes")),
        "README gives another count than {count}"
    );
    assert!(missing.is_empty(), "README lacks {missing:?}");
}
