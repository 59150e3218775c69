//! Every case of the PII corpus, through the real layer, worker, transport and HTTP
//! to a loopback Sentry: no secret may reach the wire, every kept string must.

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
    include!(concat!(env!("OUT_DIR"), "/pii_corpus_cases.rs"));
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
    assert!(
        !cases.is_empty(),
        "the corpus was not found (set PII_CORPUS or keep ../shared/pii-corpus/public.jsonl)"
    );
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
        generated::CORPUS_PATH,
        cases.len(),
        leaked.len(),
        over_scrubbed.len()
    );
    assert!(leaked.is_empty(), "leaked:\n{}", leaked.join("\n"));
    assert!(
        over_scrubbed.is_empty(),
        "over-scrubbed:\n{}",
        over_scrubbed.join("\n")
    );
}
