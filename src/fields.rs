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

/// Longest string kept from one field, message or error text: the scrubber's bound,
/// to which it cuts every text of a report after scrubbing it.
pub(crate) use crate::scrub::MAX_VALUE_BYTES;

/// Longest text captured from one field, message or error, in bytes: twice what is sent.
/// The scrubber sees the whole capture and cuts to [`MAX_VALUE_BYTES`] only after
/// scrubbing, so a secret straddling the sent bound is found whole and replaced.
pub(crate) const CAPTURE_BYTES: usize = 2 * MAX_VALUE_BYTES;

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

/// Where to cut `s` (longer than `max`) so that no part of a token survives at the cut:
/// back to the last byte that ends every token a detector matches whole (whitespace, a
/// quote, `<`, `>`: a URL's userinfo, a key/value pair, a vendor token all stop there)
/// within [`MAX_CUT_BACK`] bytes of the bound, then past any digit groups before it (a
/// card number cut in the middle would leave digits that no longer match). Scrubbing
/// may later shrink what comes before (a private key becomes `[Filtered]`) and bring
/// the end of the capture inside what is sent: it must then be whole words, never half
/// of a password (`postgres://u:Zq7vN2|..` without its `@host`).
fn capture_cut(s: &str, max: usize) -> usize {
    let cut = floor_char_boundary(s, max - '…'.len_utf8());
    let b = s.as_bytes();
    let floor = cut.saturating_sub(MAX_CUT_BACK);
    let mut k = cut;
    while k > floor && !ends_every_token(b[k - 1]) {
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

/// How far back from the capture bound a token boundary is looked for: a longer run
/// without one (a base64 blob) is cut at the bound.
const MAX_CUT_BACK: usize = 4096;

/// Bytes no detector's token runs across.
fn ends_every_token(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>')
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
        let message = display_string(&err);
        chain.push(CapturedError {
            type_name: type_from_debug(&debug, &message).to_owned(),
            message: strip_ansi(&message).into_owned(),
        });
        next = err.source();
    }
    chain
}

/// Exception type of an error whose concrete type cannot be known: a text field
/// (`error = %e`, `error = ?e`) or an error whose `Debug` output is its message.
pub(crate) const FALLBACK_ERROR_TYPE: &str = "Error";

/// The type name an error's `Debug` output starts with (`DbError { .. }`,
/// `io::ErrorKind(..)`, `Wrapped<T> { .. }`, `Timeout`), or [`FALLBACK_ERROR_TYPE`]. Never message text:
/// a `Debug` that starts with the `Display` text (anyhow, eyre, `Box<dyn Error>` from a
/// string) or with anything but a path to a capitalised name falls back.
pub(crate) fn type_from_debug<'a>(debug: &'a str, display: &str) -> &'a str {
    if !display.is_empty() && debug.starts_with(display) {
        return FALLBACK_ERROR_TYPE;
    }
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(debug.len());
    let path = &debug[..end];
    let rest = &debug[end..];
    let well_formed = !path.is_empty()
        && path.len() <= 200
        && path.split("::").all(|segment| {
            segment
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    let capitalised = path
        .rsplit("::")
        .next()
        .and_then(|last| last.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase());
    let followed_by_body =
        rest.is_empty() || rest.starts_with(['<', '(', '{']) || rest.starts_with(" {");
    if well_formed && capitalised && followed_by_body {
        path
    } else {
        FALLBACK_ERROR_TYPE
    }
}

/// `text` without ANSI escape sequences (color-eyre, colored error messages).
pub(crate) fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters final-byte (0x40..=0x7E); other escapes: ESC + one char.
        if chars.next_if_eq(&'[').is_some() {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a field holding text is an error logged the usual ways: `error = %e`,
/// `error = ?e` (what `#[instrument(err)]` emits), `%e`/`?e` of a variable `e` or
/// `err`, `exception`, `cause`, or a name ending in `_error` / `.error`.
pub(crate) fn is_error_field(name: &str) -> bool {
    matches!(name, "error" | "err" | "e" | "exception" | "cause")
        || name.ends_with("_error")
        || name.ends_with(".error")
}

/// Headers of the sections anyhow, eyre and color-eyre append to an error's `Debug`
/// output after its message. Everything from the first of them on is not the message.
const REPORT_SECTIONS: &[&str] = &[
    "Caused by:",
    "Location:",
    "Backtrace",
    "Stack backtrace:",
    "Span trace",
    "Suggestion:",
    "Note:",
    "Warning:",
    "Error:",
    "Run with",
    "━━",
];

/// An error logged as text, as a chain, logged error first: the text of an error field
/// (`%e` is its `Display`, `?e` its `Debug`). The `Debug` of anyhow and eyre reports
/// (`msg`, then `Caused by:` with one cause per line, numbered when several) and
/// color-eyre's numbered list become one entry per cause; ANSI codes and the
/// location, backtrace and help sections are left out. The type of each entry is
/// [`FALLBACK_ERROR_TYPE`]: text does not say which type it came from.
pub(crate) fn chain_from_text(text: &str) -> Vec<CapturedError> {
    let text = strip_ansi(text);
    let lines: Vec<&str> = text.lines().collect();
    let entry = |message: String| CapturedError {
        type_name: FALLBACK_ERROR_TYPE.to_owned(),
        message,
    };
    let is_section = |line: &str| {
        let line = line.trim_start();
        REPORT_SECTIONS.iter().any(|h| line.starts_with(h))
    };
    // color-eyre: the chain itself is the numbered list, from the first line on.
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    if lines.get(first).is_some_and(|l| numbered(l) == Some(0)) {
        let chain = numbered_list(&lines[first..]);
        if !chain.is_empty() {
            return chain.into_iter().map(entry).collect();
        }
    }
    let mut at = 0;
    let mut message = Vec::new();
    while at < lines.len() {
        let line = lines[at];
        let after_blank = at > 0 && lines[at - 1].trim().is_empty();
        if after_blank && !line.starts_with(' ') && is_section(line) {
            break;
        }
        message.push(line);
        at += 1;
    }
    let mut chain = vec![entry(message.join("\n").trim().to_owned())];
    if lines
        .get(at)
        .is_some_and(|l| l.trim_start().starts_with("Caused by:"))
    {
        let body: Vec<&str> = lines[at + 1..]
            .iter()
            .copied()
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .collect();
        let causes = if body.iter().any(|l| numbered(l).is_some()) {
            numbered_list(&body)
        } else {
            let cause = body.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n");
            vec![cause.trim().to_owned()]
        };
        chain.extend(causes.into_iter().filter(|c| !c.is_empty()).map(entry));
    }
    chain.truncate(MAX_ERROR_CHAIN);
    chain
}

/// The number of a `   3: message` line.
fn numbered(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.len() == line.len() {
        return None;
    }
    let (number, rest) = trimmed.split_once(':')?;
    if !rest.starts_with(' ') && !rest.is_empty() {
        return None;
    }
    number.parse().ok()
}

/// The entries of a numbered list (continuation lines joined to their entry), up to
/// the first line that is neither an entry nor indented.
fn numbered_list(lines: &[&str]) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for line in lines {
        if numbered(line).is_some() {
            let text = line.trim_start();
            let text = text.split_once(':').map_or(text, |(_, rest)| rest);
            entries.push(text.trim().to_owned());
        } else if line.starts_with(' ') && !line.trim().is_empty() {
            if let Some(last) = entries.last_mut() {
                last.push('\n');
                last.push_str(line.trim());
            }
        } else if !line.trim().is_empty() {
            break;
        } else if entries.is_empty() {
            continue;
        } else {
            break;
        }
    }
    entries
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
    fn the_capture_never_ends_inside_a_token() {
        // JSON without whitespace, a URL with a password straddling the capture bound.
        let pad = format!("{{\"scopes\":\"{}", "read-only,".repeat(CAPTURE_BYTES / 10));
        let pad = &pad[..CAPTURE_BYTES - 40];
        let text = format!(
            "{pad}\",\"url\":\"postgres://replica:Zq7vN2mXr4LpW9sK@replica.internal:5432/db\"}}"
        );
        let captured = bounded_str(&text);
        assert!(captured.len() <= CAPTURE_BYTES, "{}", captured.len());
        assert!(
            !captured.contains("replica:"),
            "{}",
            &captured[captured.len() - 80..]
        );
        assert!(
            captured.ends_with("\"…"),
            "{}",
            &captured[captured.len() - 80..]
        );
        // A run with no boundary within reach is cut at the bound.
        let blob = "A".repeat(CAPTURE_BYTES * 2);
        assert_eq!(
            bounded_str(&blob).len(),
            CAPTURE_BYTES - '…'.len_utf8() + '…'.len_utf8()
        );
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

    #[test]
    fn exception_types_are_type_names_or_the_fallback() {
        // Debug that starts with the Display text is message text (anyhow, eyre).
        assert_eq!(
            type_from_debug(
                "payment provider returned 502",
                "payment provider returned 502"
            ),
            "Error"
        );
        assert_eq!(type_from_debug("Timeout", "Timeout"), "Error");
        // `Box<dyn Error>` from a String: its Debug is the quoted string.
        assert_eq!(
            type_from_debug(
                "\"postgres://u:pw@db/x refused\"",
                "postgres://u:pw@db/x refused"
            ),
            "Error"
        );
        assert_eq!(type_from_debug("payment failed: 502", "other"), "Error");
        assert_eq!(
            type_from_debug("DbError { code: 5 }", "db failed"),
            "DbError"
        );
        assert_eq!(type_from_debug("Timeout", "operation timed out"), "Timeout");
        assert_eq!(
            type_from_debug("io::ErrorKind(NotFound)", "not found"),
            "io::ErrorKind"
        );
        assert_eq!(
            type_from_debug("Wrapped<u32> { inner: 1 }", "wrapped"),
            "Wrapped"
        );
        assert_eq!(type_from_debug("lower { x: 1 }", "x"), "Error");
        assert_eq!(type_from_debug("Error: disk full", "x"), "Error");
        assert_eq!(type_from_debug("Failed:(disk)", "x"), "Error");
        assert_eq!(type_from_debug("Disk full", "x"), "Error");
        assert_eq!(type_from_debug("", "x"), "Error");
    }

    #[test]
    fn anyhow_style_debug_becomes_a_chain_without_backtrace() {
        let one = "loading orders\n\nCaused by:\n    connection refused";
        let chain = chain_from_text(one);
        let messages: Vec<_> = chain.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["loading orders", "connection refused"]);
        assert!(chain.iter().all(|e| e.type_name == FALLBACK_ERROR_TYPE));

        let many = "checkout failed\n\nCaused by:\n    0: charging card\n    1: provider said\n       no, twice\n\nStack backtrace:\n   0: std::backtrace\n";
        let messages: Vec<_> = chain_from_text(many)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(
            messages,
            [
                "checkout failed",
                "charging card",
                "provider said\nno, twice"
            ]
        );

        let eyre = "top\n\nCaused by:\n   0: middle\n   1: root\n\nLocation:\n    src/main.rs:10:5";
        let messages: Vec<_> = chain_from_text(eyre)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages, ["top", "middle", "root"]);

        let plain = "Error: the disk is full";
        let messages: Vec<_> = chain_from_text(plain)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages, [plain]);
    }

    #[test]
    fn color_eyre_style_debug_loses_colours_and_help_sections() {
        let text = "\n   0: \u{1b}[91mcheckout failed\u{1b}[0m\n   1: \u{1b}[91mcard declined\u{1b}[0m\n\nLocation:\n   \u{1b}[35msrc/main.rs\u{1b}[0m:\u{1b}[35m5\u{1b}[0m\n\nSuggestion: try again\nBacktrace omitted. Run with RUST_BACKTRACE=1 to display it.";
        let messages: Vec<_> = chain_from_text(text)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages, ["checkout failed", "card declined"]);
    }
}
