//! Every case of the PII corpus (`crates/tracing-scrub/tests/data/pii-corpus-*.jsonl`,
//! copies of the project's shared corpus, kept with the scrubber), through the real
//! layer, worker, transport and HTTP to a loopback Sentry: no secret may reach the wire,
//! every kept string must.
//!
//! Tracing field names are static, so each case is code: `tests/data/pii_corpus_cases.rs`
//! is generated from the corpus files by [`generate`] and committed (no build script runs in
//! users' builds). `generated_cases_are_current` fails when it is stale; regenerate with
//! `UPDATE_PII_CORPUS=1 cargo test --test pii_corpus generated_cases_are_current`.

mod common;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

mod pii;

use pii::cases as generated;

/// The corpus files, in the order their cases are generated.
const CORPUS_FILES: &[&str] = &[
    "pii-corpus-public.jsonl",
    "pii-corpus-attacker.jsonl",
    "pii-corpus-attacker3.jsonl",
];
/// Where the corpus files are: with the scrubber's own corpus test.
const CORPUS_DIR: &str = "crates/tracing-scrub/tests/data";
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
                "    Case {{ file: {name:?}, id: {id:?}, place: {place:?}, secrets: &{secret:?}, keep: &{keep:?} }},"
            );
            let body = match place {
                // A `tags.*` field is an event field that becomes a tag.
                "event_field" | "tag" => {
                    format!("tracing::error!({key:?} = {value:?}, \"pii corpus case\"); 1")
                }
                "span_field_grandparent" => format!(
                    "tracing::info_span!(\"request\", {key:?} = {value:?}).in_scope(|| \
                     tracing::info_span!(\"step\").in_scope(|| tracing::error!(\"pii corpus case\"))); 1"
                ),
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
                "error_chain_inner" => format!(
                    "let chained = CorpusError::new(\"request failed\", Some(CorpusError::new({value:?}, None))); \
                     tracing::error!(error = &chained as &(dyn std::error::Error + 'static), \"pii corpus case\"); 1"
                ),
                "breadcrumb" => format!(
                    "tracing::info_span!(\"request\").in_scope(|| {{ tracing::info!({key:?} = {value:?}, \"step\"); \
                     tracing::error!(\"pii corpus case\"); }}); 1"
                ),
                "breadcrumb_warn" => format!(
                    "tracing::info_span!(\"request\").in_scope(|| {{ tracing::warn!({key:?} = {value:?}, \"step\"); \
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
        files.iter().map(|(n, _)| format!("{CORPUS_DIR}/{n}")).collect::<Vec<_>>().join(", ")
    )
}

#[test]
fn generated_cases_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for name in CORPUS_FILES {
        let path = root.join(CORPUS_DIR).join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // In the project's checkout the shared corpus is the source; the copy must match it.
        let shared = root
            .ancestors()
            .map(|dir| dir.join("shared/pii-corpus"))
            .find(|dir| dir.is_dir())
            .unwrap_or_default()
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

/// One run at a time: the panic hook each harness installs is process-wide, so a panic
/// case of one run would be reported to another run's receiver.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Places whose value is in a tracing event (its fields or message), so in its log.
const EVENT_PLACES: &[&str] = &[
    "event_field",
    "tag",
    "message",
    "error_chain",
    "error_chain_inner",
    "breadcrumb",
    "breadcrumb_warn",
    "breadcrumb_message",
];

/// Runs `cases` with structured logs on (INFO and more severe): the strings that leaked
/// into a log on the wire, and the kept strings of event places that no log carries.
/// Every case but a panic's reaches a tracing event, so a log.
fn run_logs_through_the_wire(cases: &[(usize, &pii::Case)]) -> (Outcome, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let h = harness(|b| {
        b.install_panic_hook(true)
            .flood_limit(None)
            .enable_logs(tracing::Level::INFO)
            .log_flood_limit(None)
    });
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let mut outcome = Outcome::default();
    let mut logs_seen = 0;
    tracing::subscriber::with_default(subscriber, || {
        for (index, case) in cases {
            let before = h.receiver.received().len();
            let expected = generated::run_case(*index) + usize::from(case.place != "panic");
            assert!(h.guard.flush(WAIT), "{}: flush timed out", case.id);
            let received = h.receiver.wait_for(before + expected, WAIT);
            assert!(
                received.len() >= before + expected,
                "{}: envelopes missing",
                case.id
            );
            let mut logs = Vec::new();
            for r in &received[before..] {
                let envelope = r.envelope.as_ref().expect("every envelope parses");
                for item in envelope.items() {
                    if let sentry::protocol::EnvelopeItem::ItemContainer(
                        sentry::protocol::ItemContainer::Logs(batch),
                    ) = item
                    {
                        logs.extend(batch.iter().cloned());
                    }
                }
            }
            if case.place != "panic" {
                assert!(!logs.is_empty(), "{}: no log", case.id);
            }
            logs_seen += logs.len();
            let json = serde_json::to_vec(&logs).expect("logs serialise");
            let raw_text = String::from_utf8_lossy(&json).into_owned();
            let text = unescaped_text(&json);
            for secret in case.secrets {
                outcome.secret_checks += 1;
                if pii::holds_secret(&raw_text, secret) || pii::holds_secret(&text, secret) {
                    outcome
                        .leaked
                        .push(format!("{} ({}): {secret}", case.id, case.place));
                }
            }
            if EVENT_PLACES.contains(&case.place) {
                for keep in case.keep {
                    outcome.keep_checks += 1;
                    if !text.contains(keep) {
                        outcome
                            .over_scrubbed
                            .push(format!("{} ({}): {keep}", case.id, case.place));
                    }
                }
            }
        }
    });
    (outcome, logs_seen)
}

/// Runs `cases` (indices into the generated table) through the whole pipeline: the
/// strings that leaked and the kept strings that were lost, and the counts checked.
fn run_through_the_wire(cases: &[(usize, &pii::Case)]) -> Outcome {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let h = harness(|b| b.install_panic_hook(true).flood_limit(None));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    let mut outcome = Outcome::default();
    tracing::subscriber::with_default(subscriber, || {
        for (index, case) in cases {
            let before = h.receiver.received().len();
            let expected = generated::run_case(*index);
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
                outcome.secret_checks += 1;
                if pii::holds_secret(&raw_text, secret) || pii::holds_secret(&text, secret) {
                    if std::env::var("PII_DEBUG").is_ok() {
                        let at = raw_text.find(secret).unwrap_or(0);
                        eprintln!(
                            "LEAK {}: ...{}...",
                            case.id,
                            &raw_text[at.saturating_sub(300)..(at + 100).min(raw_text.len())]
                        );
                    }
                    outcome
                        .leaked
                        .push(format!("{} ({}): {secret}", case.id, case.place));
                }
            }
            for keep in case.keep {
                outcome.keep_checks += 1;
                if !text.contains(keep) {
                    outcome
                        .over_scrubbed
                        .push(format!("{} ({}): {keep}", case.id, case.place));
                }
            }
        }
    });
    // Across the whole run too: a secret must not surface in any later report either.
    let all = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    let all_text = unescaped_text(&h.receiver.wire_bytes());
    for (_, case) in cases {
        for secret in case.secrets {
            if pii::holds_secret(&all, secret) || pii::holds_secret(&all_text, secret) {
                let entry = format!("{} ({}): {secret} [anywhere]", case.id, case.place);
                if !outcome.leaked.iter().any(|l| l.starts_with(case.id)) {
                    outcome.leaked.push(entry);
                }
            }
        }
    }
    outcome
}

#[derive(Default)]
struct Outcome {
    secret_checks: usize,
    keep_checks: usize,
    leaked: Vec<String>,
    over_scrubbed: Vec<String>,
}

impl Outcome {
    fn assert_clean(&self, what: &str, cases: usize) {
        println!(
            "PII corpus {what}: {cases} cases; leaked {} / {} secrets, over-scrubbed {} / {} kept strings",
            self.leaked.len(),
            self.secret_checks,
            self.over_scrubbed.len(),
            self.keep_checks
        );
        assert!(
            self.leaked.is_empty() && self.over_scrubbed.is_empty(),
            "leaked:\n{}\nover-scrubbed:\n{}",
            self.leaked.join("\n"),
            self.over_scrubbed.join("\n")
        );
    }
}

#[test]
fn no_secret_of_the_corpus_reaches_the_wire_and_every_kept_string_does() {
    let cases: Vec<(usize, &pii::Case)> = generated::CASES.iter().enumerate().collect();
    assert_eq!(
        cases.len(),
        116 + 69 + 83,
        "116 public, 69 attacker and 83 attacker3 cases"
    );
    run_through_the_wire(&cases).assert_clean(&CORPUS_FILES.join(" + "), cases.len());
}

#[test]
fn no_secret_of_the_corpus_reaches_the_wire_in_a_structured_log() {
    let cases: Vec<(usize, &pii::Case)> = generated::CASES.iter().enumerate().collect();
    let (outcome, logs) = run_logs_through_the_wire(&cases);
    println!("{logs} logs on the wire");
    outcome.assert_clean(
        &format!("{} as structured logs", CORPUS_FILES.join(" + ")),
        cases.len(),
    );
}
