//! Errors as Sentry's exception chains: an `&dyn Error` field's `source()` chain, and an
//! error logged as text (`error = %e`, `?err` of anyhow or eyre, `#[instrument(err)]`),
//! whose anyhow, eyre and color-eyre report sections are parsed into causes.

use std::error::Error;

use crate::capture::{debug_string, display_string};

/// One error of an `error` field's `source()` chain.
#[derive(Clone, Debug)]
pub(crate) struct CapturedError {
    pub(crate) type_name: String,
    pub(crate) message: String,
}

/// How many `source()` links are followed; a cycle or a very deep chain
/// must not stall the calling thread.
pub(crate) const MAX_ERROR_CHAIN: usize = 32;

pub(crate) fn capture_chain(error: &(dyn Error + 'static)) -> Vec<CapturedError> {
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

/// Headers of the sections of an anyhow, eyre or color-eyre report that are never part of
/// an event's message: location, backtraces (with absolute paths), help. `Caused by:`
/// and color-eyre's numbered chain stay: they are the error.
const NOT_MESSAGE_SECTIONS: &[&str] = &[
    "Location:",
    "Backtrace",
    "Stack backtrace:",
    "Span trace",
    "SpanTrace",
    "━━",
    "Suggestion:",
    "Run with RUST_BACKTRACE",
    "Run with COLORBT",
];

/// An event's message (or a panic's) as a report carries it: without ANSI escape
/// sequences, and without the location, backtrace and help sections of an anyhow, eyre
/// or color-eyre report interpolated into it (`error!("checkout failed: {err:?}")`), each
/// section starting on a line after a blank one. Trailing white space is removed.
pub(crate) fn message_text(text: &str) -> String {
    let text = strip_ansi(text);
    let mut end = text.len();
    let mut offset = 0;
    let mut previous_blank = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if previous_blank && NOT_MESSAGE_SECTIONS.iter().any(|h| trimmed.starts_with(h)) {
            end = offset;
            break;
        }
        previous_blank = trimmed.is_empty();
        offset += line.len();
    }
    text[..end].trim_end().to_owned()
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

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[test]
    fn a_message_loses_ansi_codes_and_report_sections_but_keeps_the_chain() {
        let text = "checkout failed: \n   0: \u{1b}[91mcharging order 4000\u{1b}[0m\n   1: card declined\n\n  ━━━━ BACKTRACE ━━━━\n   9: main\n      at /home/alice/src/main.rs:9\n\nSuggestion: retry";
        assert_eq!(
            message_text(text),
            "checkout failed: \n   0: charging order 4000\n   1: card declined"
        );
        let anyhow = "load failed: outer\n\nCaused by:\n    inner\n\nStack backtrace:\n   0: x";
        assert_eq!(
            message_text(anyhow),
            "load failed: outer\n\nCaused by:\n    inner"
        );
        // A section word not after a blank line is text.
        assert_eq!(message_text("Backtrace: off"), "Backtrace: off");
        assert_eq!(message_text("a\nLocation: Paris"), "a\nLocation: Paris");
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
