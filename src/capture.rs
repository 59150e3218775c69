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
