//! The PII corpus cases (generated from the shared corpus files into
//! `tests/data/pii_corpus_cases.rs`), shared by the corpus and full-stack tests.
//!
//! A crate of its own: the cases are some 260 callsites of code, which every test binary
//! including them compiled again.

use std::fmt;

pub struct Case {
    /// The corpus file the case is from (read by people looking at a failure).
    pub file: &'static str,
    pub id: &'static str,
    pub place: &'static str,
    pub secrets: &'static [&'static str],
    pub keep: &'static [&'static str],
}

/// Whether `secret` is in `text`. A short all-digit secret (a PIN such as `4417`) counts
/// only as a number of its own: inside a longer number, a hex id or a timestamp of some
/// other report (`..44172..`, `a4417f..`, `1796530346.4417`, an event id's group
/// `15da2754-75c7-4417-a9db-8b5766b2ca30`) it is a coincidence, not a leak.
pub fn holds_secret(text: &str, secret: &str) -> bool {
    if secret.len() >= 8 || !secret.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(secret);
    }
    let b = text.as_bytes();
    text.match_indices(secret).any(|(at, _)| {
        if in_uuid(b, at, at + secret.len()) {
            return false;
        }
        let end = at + secret.len();
        // Nor the fraction of a decimal (a timestamp's `1796530346.4417`).
        let decimal = |p: usize| b[p] == b'.' && p > 0 && b[p - 1].is_ascii_digit();
        at.checked_sub(1)
            .is_none_or(|p| !b[p].is_ascii_alphanumeric() && !decimal(p))
            && b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// Whether `b[start..end]` lies in a hyphenated UUID (8-4-4-4-12 hex digits).
fn in_uuid(b: &[u8], start: usize, end: usize) -> bool {
    let part = |c: &u8| c.is_ascii_hexdigit() || *c == b'-';
    let from = b[..start]
        .iter()
        .rposition(|c| !part(c))
        .map_or(0, |p| p + 1);
    let to = b[end..]
        .iter()
        .position(|c| !part(c))
        .map_or(b.len(), |p| end + p);
    let groups: Vec<usize> = b[from..to].split(|c| *c == b'-').map(<[u8]>::len).collect();
    groups == [8, 4, 4, 4, 12]
}

#[derive(Debug)]
pub struct CorpusError {
    message: String,
    source: Option<Box<CorpusError>>,
}

impl CorpusError {
    pub fn new(message: &str, source: Option<CorpusError>) -> Self {
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

pub mod cases {
    use super::{Case, CorpusError};
    include!("../../../tests/data/pii_corpus_cases.rs");
}
