//! Words and digits of any script, shared by the detectors: a key split into words,
//! the context words before a position, and the value of a decimal digit in any script.
//! A leaf: it imports nothing of the crate.

/// How far back context words are looked for (bytes, on the same line).
const CONTEXT_WINDOW: usize = 48;

/// Splits a key into lowercase words at `_ - . / : space` and camelCase boundaries.
pub(crate) fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `apiKey` splits before K; `APIKey` splits before K (the end of an acronym).
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Up to [`CONTEXT_WINDOW`] bytes before `start`, from the start of its line.
pub(crate) fn context_window(text: &str, start: usize) -> &str {
    let mut from = start.saturating_sub(CONTEXT_WINDOW);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..start];
    match window.bytes().rposition(|c| c == b'\n' || c == b'\r') {
        Some(nl) => &window[nl + 1..],
        None => window,
    }
}

/// Whether one of `words` (lower case) stands in `window`, in any case: ASCII words as
/// whole words (`tin` is not in `latin`), others anywhere (scripts without spaces,
/// inflected forms). Lower-cases a window once (on the stack when it is ASCII).
pub(crate) fn has_word(window: &str, words: &[&str]) -> bool {
    let mut buf = [0u8; CONTEXT_WINDOW];
    let owned;
    let lower: &str = if window.is_ascii() && window.len() <= buf.len() {
        let n = window.len();
        buf[..n].copy_from_slice(window.as_bytes());
        buf[..n].make_ascii_lowercase();
        // ASCII stays ASCII when lower-cased.
        std::str::from_utf8(&buf[..n]).unwrap_or_default()
    } else {
        owned = window.to_lowercase();
        &owned
    };
    words.iter().any(|w| contains_word(lower, w))
}

/// `word` in `window` (both lower case), as a whole word when it is ASCII.
fn contains_word(window: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return window.contains(word);
    }
    let b = window.as_bytes();
    let mut from = 0;
    while let Some(i) = window.get(from..).and_then(|rest| rest.find(word)) {
        let s = from + i;
        let e = s + word.len();
        if s.checked_sub(1)
            .is_none_or(|p| !b[p].is_ascii_alphanumeric())
            && b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return true;
        }
        from = s + 1;
        while from < window.len() && !window.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// The first code point of each run of ten Unicode decimal digits (`Nd`, zero to nine;
/// Unicode keeps them contiguous), ASCII excluded. Generated from the Unicode 14
/// character database.
const DIGIT_ZEROS: &[u32] = &[
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit in any script (`４` is 4).
pub(crate) fn digit_value(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    let cp = u32::from(c);
    let i = DIGIT_ZEROS.partition_point(|&z| z <= cp).checked_sub(1)?;
    let d = cp - DIGIT_ZEROS[i];
    (d < 10).then_some(d)
}

/// Values that say no value was given, not what it is: `none`, `n/a`, `-`, `unknown`,
/// `unchanged`, `not set`, `not provided`, `none configured`, `redacted`, `(none)`,
/// `<not set>` (any case, blanks collapsed). Under a sensitive key of any kind they stay,
/// in text and as a field's value: one rule for every key.
pub(crate) fn is_placeholder(value: &str) -> bool {
    const WHOLE: &[&str] = &[
        "none",
        "null",
        "nil",
        "n/a",
        "na",
        "-",
        "--",
        "unknown",
        "unchanged",
        "unset",
        "missing",
        "empty",
        "undefined",
        "redacted",
        "[redacted]",
        "<redacted>",
        "[filtered]",
        "(none)",
        "<none>",
        "(null)",
        "tbd",
        "absent",
    ];
    // `not set`, `none configured`, `not provided yet`: a negation and a word of giving.
    const NEGATIONS: &[&str] = &["not", "none", "no", "never", "nothing"];
    const GIVEN: &[&str] = &[
        "set",
        "provided",
        "given",
        "configured",
        "specified",
        "supplied",
        "available",
        "applicable",
        "entered",
        "required",
        "needed",
        "yet",
        "value",
    ];
    let trimmed = value.trim();
    let inner = trimmed
        .strip_prefix(['(', '<', '['])
        .and_then(|v| v.strip_suffix([')', '>', ']']))
        .unwrap_or(trimmed);
    if trimmed.len() > 32 || inner.is_empty() {
        return false;
    }
    if WHOLE
        .iter()
        .any(|w| trimmed.eq_ignore_ascii_case(w) || inner.eq_ignore_ascii_case(w))
    {
        return true;
    }
    // No allocation: this runs on every field value of a hot path.
    let mut words = inner.split_whitespace();
    let first = words.next().unwrap_or_default();
    if !NEGATIONS.iter().any(|n| first.eq_ignore_ascii_case(n)) {
        return false;
    }
    let mut count = 0;
    for w in words {
        count += 1;
        let given = GIVEN
            .iter()
            .any(|g| w.trim_end_matches('.').eq_ignore_ascii_case(g));
        if count > 2 || !given {
            return false;
        }
    }
    count >= 1
}
