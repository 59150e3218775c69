//! Flood control: each report key may send a bounded number of reports per window;
//! later ones in the window are counted and dropped before they are queued, and the
//! next report of the same key says how many were held back (`suppressed_before`).
//!
//! The key is what Sentry would group on plus the tenant (ADR-027): the callsite (for
//! `log` records, the record's target, file and line), the error types, the message
//! template (the message with every token that contains a digit replaced) and the
//! tenant. One noisy failure, or one noisy tenant, cannot use up the budget of the
//! others.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::Metadata;

use crate::fields::{CapturedError, FieldValue};

/// Reports one key may send per window, by default.
pub const DEFAULT_REPORTS_PER_WINDOW: u32 = 100;
/// The flood-control window, by default.
pub const DEFAULT_FLOOD_WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at once; beyond this, keys whose window has passed are forgotten, and
/// if none has, new keys share one overflow budget.
const MAX_KEYS: usize = 8192;
/// The key all reports share once [`MAX_KEYS`] keys are tracked.
const OVERFLOW_KEY: u64 = 0;

#[derive(Debug)]
struct Slot {
    window_start: Instant,
    sent: u32,
    suppressed: u64,
}

#[derive(Debug)]
pub(crate) struct FloodControl {
    limit: Option<(u32, Duration)>,
    slots: Mutex<HashMap<u64, Slot>>,
}

/// What identifies a report for flood control.
pub(crate) struct ReportKey<'a> {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) message: Option<&'a str>,
    pub(crate) fields: &'a [(&'static str, FieldValue)],
    pub(crate) errors: &'a [(&'static str, Vec<CapturedError>)],
    pub(crate) tenant: Option<&'a str>,
}

/// Fields of a `log` record (tracing-log) that stand for its real callsite.
const LOG_CALLSITE_FIELDS: [&str; 3] = ["log.target", "log.file", "log.line"];

impl ReportKey<'_> {
    fn hash(&self) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        // A callsite's metadata is a static: its address identifies it. tracing-log
        // routes every `log` record of a level through one callsite, so the record's
        // own target, file and line are added.
        (self.metadata as *const Metadata<'static> as usize).hash(&mut h);
        for (name, value) in self.fields {
            if LOG_CALLSITE_FIELDS.contains(name) {
                name.hash(&mut h);
                value.to_text().hash(&mut h);
            }
        }
        for (_, chain) in self.errors {
            for error in chain {
                error.type_name.hash(&mut h);
            }
            if let Some(outer) = chain.first() {
                hash_template(&outer.message, &mut h);
            }
        }
        // `error = %e` is text, not an error: its template separates failures too.
        for (name, value) in self.fields {
            if *name == "error" {
                if let FieldValue::Str(text) = value {
                    hash_template(text, &mut h);
                }
            }
        }
        if let Some(message) = self.message {
            hash_template(message, &mut h);
        }
        self.tenant.hash(&mut h);
        // 0 is the overflow key.
        h.finish().max(1)
    }
}

/// Hashes `text` with every alphanumeric token that contains a digit (ids, counts,
/// UUIDs, hex) replaced by one placeholder: "order 17 failed" and "order 18 failed"
/// share a template.
fn hash_template(text: &str, h: &mut impl Hasher) {
    let mut token = 0..0;
    let mut has_digit = false;
    let flush = |token: &std::ops::Range<usize>, has_digit: bool, h: &mut dyn Hasher| {
        if has_digit {
            h.write_u8(0xff);
        } else {
            h.write(text[token.clone()].as_bytes());
        }
    };
    for (at, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if token.is_empty() {
                token = at..at;
                has_digit = false;
            }
            token.end = at + c.len_utf8();
            has_digit |= c.is_ascii_digit();
        } else {
            if !token.is_empty() {
                flush(&token, has_digit, h);
                token = 0..0;
            }
            h.write_u32(c as u32);
        }
    }
    if !token.is_empty() {
        flush(&token, has_digit, h);
    }
}

impl FloodControl {
    pub(crate) fn new(limit: Option<(u32, Duration)>) -> Self {
        FloodControl {
            limit,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Whether flood control is on at all (when off, no key is computed).
    pub(crate) fn is_on(&self) -> bool {
        self.limit.is_some()
    }

    /// `Some(n)` if a report with this key may go now (`n` of the key held back since
    /// its last report), `None` if the key is over its limit for the current window.
    pub(crate) fn admit(&self, key: &ReportKey<'_>) -> Option<u64> {
        let Some((per_window, window)) = self.limit else {
            return Some(0);
        };
        let mut key = key.hash();
        let now = Instant::now();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= MAX_KEYS && !slots.contains_key(&key) {
            slots.retain(|_, slot| now.duration_since(slot.window_start) < window);
            if slots.len() >= MAX_KEYS {
                key = OVERFLOW_KEY;
            }
        }
        let slot = slots.entry(key).or_insert(Slot {
            window_start: now,
            sent: 0,
            suppressed: 0,
        });
        if now.duration_since(slot.window_start) >= window {
            slot.window_start = now;
            slot.sent = 0;
        }
        if slot.sent >= per_window {
            slot.suppressed += 1;
            return None;
        }
        slot.sent += 1;
        Some(std::mem::take(&mut slot.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        hash_template(text, &mut h);
        h.finish()
    }

    #[test]
    fn tokens_with_digits_share_a_template_and_words_do_not() {
        assert_eq!(template("order 17 failed"), template("order 18 failed"));
        assert_eq!(
            template("user 3f2a-99 not found"),
            template("user 0c1d-12 not found")
        );
        assert_ne!(template("order 17 failed"), template("order 17 refunded"));
        assert_ne!(template("a b"), template("ab"));
    }
}
