//! Every case of the PII corpus (`tests/data/pii-corpus-public.jsonl` and
//! `tests/data/pii-corpus-attacker.jsonl`, copies of the project's shared corpus), through
//! the real layer, worker, transport and HTTP to a loopback Sentry: no secret may reach
//! the wire, every kept string must.
//!
//! Tracing field names are static, so each case is code: `tests/data/pii_corpus_cases.rs`
//! is generated from the corpus files by [`generate`] and committed (no build script runs in
//! users' builds). `generated_cases_are_current` fails when it is stale; regenerate with
//! `UPDATE_PII_CORPUS=1 cargo test --test pii_corpus generated_cases_are_current`.

mod common;

use std::fmt;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

pub struct Case {
    pub id: &'static str,
    pub place: &'static str,
    pub secrets: &'static [&'static str],
    pub keep: &'static [&'static str],
}

#[derive(Debug)]
struct CorpusError {
    message: String,
    source: Option<Box<CorpusError>>,
}

impl CorpusError {
    fn new(message: &str, source: Option<CorpusError>) -> Self {
        CorpusError {
            message: message.to_owned(),
            source: source.map(Box::new),
        }
    }
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CorpusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

mod generated {
    use super::{Case, CorpusError};
    include!("data/pii_corpus_cases.rs");
}

/// The corpus files, in the order their cases are generated.
const CORPUS_FILES: &[&str] = &["pii-corpus-public.jsonl", "pii-corpus-attacker.jsonl"];
const GENERATED: &str = "tests/data/pii_corpus_cases.rs";

fn strings(value: &serde_json::Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The Rust source of the cases of `files` (`(name, contents)`): a `CASES` table and a
/// `run_case(index)` that logs case `index` the way its `place` says.
fn generate(files: &[(&str, String)]) -> String {
    use std::fmt::Write as _;
    let mut cases = String::new();
    let mut arms = String::new();
    let mut index = 0;
    for (name, text) in files {
        for (line_no, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let case: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", line_no + 1));
            let id = case["id"].as_str().unwrap_or("?");
            let place = case["place"].as_str().unwrap_or("?");
            let key = case["key"].as_str().unwrap_or("detail");
            let value = case["value"].as_str().unwrap_or("");
            let (secret, keep) = (strings(&case, "secret"), strings(&case, "keep"));
            let _ = writeln!(
                cases,
                "    Case {{ id: {id:?}, place: {place:?}, secrets: &{secret:?}, keep: &{keep:?} }},"
            );
            let body = match place {
                "event_field" => {
                    format!("tracing::error!({key:?} = {value:?}, \"pii corpus case\"); 1")
                }
                "span_field" => format!(
                    "tracing::info_span!(\"request\", {key:?} = {value:?}).in_scope(|| tracing::error!(\"pii corpus case\")); 1"
                ),
                "span_record" => format!(
                    "let span = tracing::info_span!(\"request\", {key:?} = tracing::field::Empty); \
                     span.record({key:?}, {value:?}); span.in_scope(|| tracing::error!(\"pii corpus case\")); 1"
                ),
                "message" => format!("tracing::error!(\"{{}}\", {value:?}); 1"),
                "error_chain" => format!(
                    "let top = CorpusError::new({value:?}, None); \
                     tracing::error!(error = &top as &(dyn std::error::Error + 'static), \"pii corpus case\"); \
                     let chained = CorpusError::new(\"request failed\", Some(CorpusError::new({value:?}, None))); \
                     tracing::error!(error = &chained as &(dyn std::error::Error + 'static), \"pii corpus case\"); 2"
                ),
                "breadcrumb" => format!(
                    "tracing::info_span!(\"request\").in_scope(|| {{ tracing::info!({key:?} = {value:?}, \"step\"); \
                     tracing::error!(\"pii corpus case\"); }}); 1"
                ),
                "breadcrumb_message" => format!(
                    "tracing::info_span!(\"request\").in_scope(|| {{ tracing::info!(\"{{}}\", {value:?}); \
                     tracing::error!(\"pii corpus case\"); }}); 1"
                ),
                "panic" => format!(
                    "tracing::info_span!(\"request\").in_scope(|| {{ \
                     let _ = std::panic::catch_unwind(|| panic!(\"{{}}\", {value:?})); }}); 1"
                ),
                other => panic!("{name}:{}: unknown place {other:?}", line_no + 1),
            };
            let _ = writeln!(arms, "        {index} => {{ {body} }}");
            index += 1;
        }
    }
    format!(
        "// @generated by tests/pii_corpus.rs (`generate`) from {}; do not edit.\n\
         pub const CASES: &[Case] = &[\n{cases}];\n\
         /// Runs case `index`; returns how many reports it makes.\n\
         pub fn run_case(index: usize) -> usize {{\n    match index {{\n{arms}        _ => 0,\n    }}\n}}\n",
        files.iter().map(|(n, _)| format!("tests/data/{n}")).collect::<Vec<_>>().join(", ")
    )
}

#[test]
fn generated_cases_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for name in CORPUS_FILES {
        let path = root.join("tests/data").join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // In the project's checkout the shared corpus is the source; the copy must match it.
        let shared = root
            .join("../shared/pii-corpus")
            .join(name.trim_start_matches("pii-corpus-"));
        if let Ok(source) = std::fs::read_to_string(&shared) {
            assert!(
                source == text,
                "{} differs from {}: copy it over",
                path.display(),
                shared.display()
            );
        }
        files.push((*name, text));
    }
    let code = generate(&files);
    let generated = root.join(GENERATED);
    if std::env::var_os("UPDATE_PII_CORPUS").is_some() {
        std::fs::write(&generated, &code).expect("tests/data is writable");
    }
    let committed = std::fs::read_to_string(&generated).unwrap_or_default();
    assert!(
        committed == code,
        "{GENERATED} is stale: run UPDATE_PII_CORPUS=1 cargo test --test pii_corpus generated_cases_are_current"
    );
    assert_eq!(generated::CASES.len(), code.matches("    Case {").count());
}

/// Every string in the envelopes, JSON escapes undone, so an escaped secret is found too.
fn unescaped_text(body: &[u8]) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                walk(v, out);
            }),
            other => {
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }
    let mut out = String::new();
    for line in body.split(|b| *b == b'\n') {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
            walk(&v, &mut out);
        }
    }
    out
}

#[test]
fn no_secret_of_the_corpus_reaches_the_wire_and_every_kept_string_does() {
    let cases = generated::CASES;
    assert_eq!(cases.len(), 185, "116 public and 69 attacker cases");
    let h = harness(|b| b.install_panic_hook(true).flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let mut leaked = Vec::new();
    let mut over_scrubbed = Vec::new();
    let (mut secret_checks, mut keep_checks) = (0, 0);
    tracing::subscriber::with_default(subscriber, || {
        for (index, case) in cases.iter().enumerate() {
            let before = h.receiver.received().len();
            let expected = generated::run_case(index);
            assert!(h.guard.flush(WAIT), "{}: flush timed out", case.id);
            let received = h.receiver.wait_for(before + expected, WAIT);
            assert_eq!(
                received.len(),
                before + expected,
                "{}: expected {expected} report(s)",
                case.id
            );
            for r in &received[before..] {
                assert!(r.envelope.is_ok(), "{}: unparsable envelope", case.id);
            }
            let raw: Vec<u8> = received[before..]
                .iter()
                .flat_map(|r| r.body.clone())
                .collect();
            let raw_text = String::from_utf8_lossy(&raw).into_owned();
            let text = unescaped_text(&raw);
            for secret in case.secrets {
                secret_checks += 1;
                if raw_text.contains(secret) || text.contains(secret) {
                    if std::env::var("PII_DEBUG").is_ok() {
                        let at = raw_text.find(secret).unwrap_or(0);
                        eprintln!(
                            "LEAK {}: ...{}...",
                            case.id,
                            &raw_text[at.saturating_sub(300)..(at + 100).min(raw_text.len())]
                        );
                    }
                    leaked.push(format!("{} ({}): {secret}", case.id, case.place));
                }
            }
            for keep in case.keep {
                keep_checks += 1;
                if !text.contains(keep) {
                    over_scrubbed.push(format!("{} ({}): {keep}", case.id, case.place));
                }
            }
        }
    });
    // Across the whole run too: a secret must not surface in any later report either.
    let all = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    let all_text = unescaped_text(&h.receiver.wire_bytes());
    for case in cases {
        for secret in case.secrets {
            if all.contains(secret) || all_text.contains(secret) {
                let entry = format!("{} ({}): {secret} [anywhere]", case.id, case.place);
                if !leaked.iter().any(|l| l.starts_with(case.id)) {
                    leaked.push(entry);
                }
            }
        }
    }
    println!(
        "PII corpus {}: {} cases; leaked {} / {secret_checks} secrets, over-scrubbed {} / {keep_checks} kept strings",
        CORPUS_FILES.join(" + "),
        cases.len(),
        leaked.len(),
        over_scrubbed.len()
    );
    assert!(
        leaked.is_empty() && over_scrubbed.is_empty(),
        "leaked:\n{}\nover-scrubbed:\n{}",
        leaked.join("\n"),
        over_scrubbed.join("\n")
    );
}
