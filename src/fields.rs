//! Captured field values: what a `tracing` visitor records, owned so it can
//! leave the calling thread.

use std::error::Error;
use std::fmt::{self, Write as _};

use serde_json::Value;
use tracing::field::{Field, Visit};

/// One recorded field value, kept typed so numbers stay numbers in Sentry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl FieldValue {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::I64(v) => Value::from(*v),
            FieldValue::U64(v) => Value::from(*v),
            FieldValue::F64(v) => Value::from(*v),
            FieldValue::Bool(v) => Value::Bool(*v),
        }
    }

    /// The value as tag or user-context text.
    pub(crate) fn to_text(&self) -> String {
        match self {
            FieldValue::Str(s) => s.clone(),
            FieldValue::I64(v) => v.to_string(),
            FieldValue::U64(v) => v.to_string(),
            FieldValue::F64(v) => v.to_string(),
            FieldValue::Bool(v) => v.to_string(),
        }
    }
}

/// Longest string kept from one field, message or error text (Sentry's own limit for
/// messages and exception values is 8,192 characters; longer ones it would cut anyway).
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// Longest text captured from one field, message or error, in bytes: twice what is sent.
/// The scrubber sees the whole capture and cuts to [`MAX_VALUE_BYTES`] only after
/// scrubbing, so a secret straddling the sent bound is found whole and replaced.
pub const CAPTURE_BYTES: usize = 2 * MAX_VALUE_BYTES;

/// The largest character boundary of `s` at or below `max` (`str::floor_char_boundary`
/// is not stable at the crate's minimum Rust version): the one char-boundary cut.
pub(crate) fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Where to cut `s` (longer than `max`) so that no part of a word survives at the cut:
/// back to the last whitespace within 512 bytes of the bound, then past any digit groups
/// before it (a card number cut in the middle would leave digits that no longer match).
fn capture_cut(s: &str, max: usize) -> usize {
    let cut = floor_char_boundary(s, max - '…'.len_utf8());
    let b = s.as_bytes();
    let floor = cut.saturating_sub(512);
    let mut k = cut;
    while k > floor && !b[k - 1].is_ascii_whitespace() {
        k -= 1;
    }
    if k == floor {
        return cut;
    }
    while k > floor && (b[k - 1].is_ascii_digit() || matches!(b[k - 1], b' ' | b'-' | b'.')) {
        k -= 1;
    }
    k
}

/// Cuts `s` to at most [`CAPTURE_BYTES`] at a word boundary, marking the cut.
pub(crate) fn bounded(mut s: String) -> String {
    if s.len() > CAPTURE_BYTES {
        let cut = capture_cut(&s, CAPTURE_BYTES);
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// `str` to an owned, bounded `String` without copying more than the bound.
fn bounded_str(s: &str) -> String {
    if s.len() <= CAPTURE_BYTES {
        return s.to_owned();
    }
    let cut = capture_cut(s, CAPTURE_BYTES);
    let mut out = String::with_capacity(cut + '…'.len_utf8());
    out.push_str(&s[..cut]);
    out.push('…');
    out
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut (for text
/// that is already scrubbed).
pub(crate) fn cut_at(s: &mut String, max: usize) {
    if s.len() > max {
        s.truncate(floor_char_boundary(s, max - '…'.len_utf8()));
        s.push('…');
    }
}

/// Formats with `write` into a bounded string, isolated so a panicking `Debug` or
/// `Display` impl in user code cannot unwind through the subscriber into the caller.
fn contained(what: &str, write: impl FnOnce(&mut Capped) -> fmt::Result) -> String {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut s = Capped(String::new());
        let _ = write(&mut s);
        bounded(s.0)
    }))
    .unwrap_or_else(|_| format!("<{what} implementation panicked>"))
}

/// `Debug` output of a value, bounded and contained.
pub(crate) fn debug_string(value: &dyn fmt::Debug) -> String {
    contained("Debug", |s| write!(s, "{value:?}"))
}

fn display_string(value: &dyn fmt::Display) -> String {
    contained("Display", |s| write!(s, "{value}"))
}

/// Stops formatting a little past the bound: a 10 MB `Debug` output is never built.
struct Capped(String);

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.0.len() > CAPTURE_BYTES {
            return Err(fmt::Error);
        }
        let room = CAPTURE_BYTES + 4 - self.0.len();
        if s.len() <= room {
            self.0.push_str(s);
            Ok(())
        } else {
            self.0.push_str(&s[..floor_char_boundary(s, room)]);
            Err(fmt::Error)
        }
    }
}

/// One error of an `error` field's `source()` chain.
#[derive(Clone, Debug)]
pub(crate) struct CapturedError {
    pub(crate) type_name: String,
    pub(crate) message: String,
}

/// How many `source()` links are followed; a cycle or a very deep chain
/// must not stall the calling thread.
pub(crate) const MAX_ERROR_CHAIN: usize = 32;

fn capture_chain(error: &(dyn Error + 'static)) -> Vec<CapturedError> {
    let mut chain = Vec::new();
    let mut next: Option<&(dyn Error + 'static)> = Some(error);
    while let Some(err) = next {
        if chain.len() == MAX_ERROR_CHAIN {
            break;
        }
        let debug = debug_string(&err);
        chain.push(CapturedError {
            type_name: sentry::parse_type_from_debug(&debug).to_owned(),
            message: display_string(&err),
        });
        next = err.source();
    }
    chain
}

/// Records an event's fields: the message separately, errors as chains,
/// everything else as named values.
#[derive(Default)]
pub(crate) struct FieldRecorder {
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
}

impl FieldRecorder {
    fn push(&mut self, field: &Field, value: FieldValue) {
        if field.name() == "message" {
            self.message = Some(value.to_text());
        } else {
            self.fields.push((field.name(), value));
        }
    }
}

impl Visit for FieldRecorder {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, FieldValue::U64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, FieldValue::Str(bounded_str(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.errors.push((field.name(), capture_chain(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, FieldValue::Str(debug_string(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Boom;
    impl fmt::Debug for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("debug exploded")
        }
    }

    #[test]
    fn a_panicking_debug_impl_is_contained() {
        let text = debug_string(&Boom);
        assert_eq!(text, "<Debug implementation panicked>");
    }

    #[test]
    fn huge_values_are_cut_at_the_bound_without_being_built() {
        struct Endless;
        impl fmt::Debug for Endless {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                loop {
                    f.write_str("é0123456789")?;
                }
            }
        }
        let text = debug_string(&Endless);
        assert!(
            text.len() <= CAPTURE_BYTES && text.ends_with('…'),
            "{}",
            text.len()
        );
        let big = "x".repeat(10 << 20);
        assert!(bounded_str(&big).len() <= CAPTURE_BYTES);
    }

    #[test]
    fn error_chain_follows_sources_with_type_names() {
        let inner = std::io::Error::other("disk on fire");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("could not save")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let chain = capture_chain(&Outer(inner));
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].type_name, "Outer");
        assert_eq!(chain[0].message, "could not save");
        assert_eq!(chain[1].message, "disk on fire");
    }
}
