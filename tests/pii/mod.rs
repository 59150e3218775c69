//! The PII corpus cases: the workspace crate `pii-corpus-cases` (compiled once for every
//! test binary that runs them).

pub use pii_corpus_cases::*;
