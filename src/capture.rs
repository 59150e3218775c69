//! Text captured on the calling thread: bounded (a 10 MB `Debug` output is never
//! built) and contained (a panicking `Debug` or `Display` impl in user code cannot unwind
//! through the subscriber into the caller).

use std::fmt::{self, Write as _};

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
pub(crate) fn bounded_str(s: &str) -> String {
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
/// What was written before the panic is kept, then the marker: a message
/// `"order {} failed: {:?}"` whose second value panics still says which order.
fn contained(what: &str, write: impl FnOnce(&mut Capped) -> fmt::Result) -> String {
    // Room for most formatted values (ids, names, enum variants) in one allocation,
    // where growing from empty takes two or three.
    let mut s = Capped(String::with_capacity(32));
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = write(&mut s);
    }));
    if written.is_err() {
        s.0.push('<');
        s.0.push_str(what);
        s.0.push_str(" implementation panicked>");
    }
    bounded(s.0)
}

/// `Debug` output of a value, bounded and contained.
pub(crate) fn debug_string(value: &dyn fmt::Debug) -> String {
    contained("Debug", |s| write!(s, "{value:?}"))
}

pub(crate) fn display_string(value: &dyn fmt::Display) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
