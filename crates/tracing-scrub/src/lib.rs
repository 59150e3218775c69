//! Client-side scrubbing of secrets and personal data, for any `tracing` sink.
//!
//! Two kinds of rules, both applied everywhere:
//! - **keys**: a value under a key that names a secret (`password`, `x-api-key`,
//!   `refreshToken`, ...) is replaced whole, recursively;
//! - **values**: secrets inside any string (bearer tokens, JWTs, cloud keys, private
//!   keys, cards, IBANs, SSNs, URL credentials, `key=value` pairs, JSON in strings, and
//!   emails and IPs while [`ScrubRules::send_default_pii`] is off) are replaced where they
//!   stand, keeping the rest of the text readable.
//!
//! Structure inside text is followed: the whole value under a sensitive key is replaced
//! whatever wraps it (`Some("..")`, `ApiKey("..")`, lists, maps, `{:#?}` output, JSON,
//! XML, YAML, CLI flags, URLs). Vendor tokens are recognised by their documented formats
//! (each rule with its source); credentials no key names are found by what surrounds them
//! (prose, command lines, transcripts, credential files, libraries' `Debug` and error
//! shapes, encodings) and by their shape (a vendor-style prefix and a random body). Every
//! detector is linear in its input. One pass over a
//! string's bytes first rules out what cannot be there (no `@`, too few digits, no
//! token-length run, ...), so ordinary text skips the regex passes and the structure
//! scanner; what it rules out could not have been found.
//!
//! Texts are cut to [`MAX_VALUE_BYTES`] only *after* scrubbing, so a secret straddling
//! the cut is found whole first.
//!
//! ```
//! use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};
//!
//! let scrubber = Scrubber::new(&ScrubRules::default()).expect("valid rules");
//! let mut report = ScrubReport::default();
//! let text = scrubber.scrub_str("login failed: password=hunter2 user=42", &mut report);
//! assert_eq!(text, "login failed: password=[Filtered] user=42");
//! assert_eq!(report.total(), 1);
//! ```
//!
//! # Cargo features
//! - `layer` (default): [`Scrubbed`], a wrapper around a whole subscriber stack (every
//!   layer in it, storage layers included, sees only scrubbed values) or around one
//!   `tracing_subscriber::Layer` (fmt, tracing-loki, tracing-opentelemetry, your own),
//!   and [`ScrubLayerExt::scrubbed`].
//! - `sentry`: scrubbing of Sentry's protocol types in place (`Scrubber::scrub_event`,
//!   `scrub_transaction`, `scrub_envelope`), on `sentry-types` alone: no Sentry client,
//!   HTTP stack or async runtime is built; and a project's Sentry `PiiConfig`
//!   ("Advanced Data Scrubbing" rules, [`PiiConfig`]) enforced on top of the crate's
//!   own policy ([`Scrubber::with_pii_config`]).
//!
//! Without features the crate needs only `regex`, `aho-corasick`, `memchr`, `serde_json`,
//! `rustc-hash`, `unicode-normalization` and `phonenumber`.

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![warn(unreachable_pub)]

mod cards;
mod checksums;
mod clean;
mod engine;
mod finding;
mod keys;
#[cfg(feature = "layer")]
mod layer;
mod locale_words;
mod national_ids;
mod normalize;
mod paths;
mod personal;
mod phones;
#[cfg(feature = "sentry")]
mod pii_config;
#[cfg(feature = "sentry")]
mod protocol;
mod rules;
mod secrets;
mod text;
mod values;
mod vendors;
mod words;

pub use engine::{ScrubReport, Scrubber, MAX_DEPTH, MAX_VALUE_BYTES};
#[cfg(feature = "layer")]
pub use layer::{ScrubLayerExt, Scrubbed};
pub use paths::short_source_path;
#[cfg(feature = "sentry")]
pub use pii_config::{DataScrubbingSettings, PiiConfig, PiiConfigError, PiiConfigPlace};
#[cfg(feature = "sentry")]
pub use protocol::{
    context_key, LogAttributeKey, RefusedItem, MAX_TAG_CHARS, PII_CONFIG_CONTEXT,
    REFUSED_BINARY_ATTACHMENT, REFUSED_RAW, REFUSED_UNKNOWN, SCRUB_CONTEXT, SPANS_CONTEXT,
    UNSCRUBBABLE,
};
pub use rules::{PatternError, ScrubRules, DEFAULT_REPLACEMENT};

/// The national id schemes recognised in text, by name (`"BR CPF"`, `"IN Aadhaar"`,
/// ...): each with its published format and check rule, its source named in the code.
/// For documentation and tests.
#[doc(hidden)]
pub fn national_id_schemes() -> impl Iterator<Item = &'static str> {
    national_ids::SCHEMES.iter().map(|s| s.name)
}

/// The README's example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "layer"))]
#[doc = include_str!("../README.md")]
pub struct Readme;
