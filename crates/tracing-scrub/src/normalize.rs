//! Unicode compatibility normalisation (NFKC, UAX #15) of text before matching, with a
//! map back to the original bytes, so full-width `：`, `＠`, `．` and digits, and other
//! compatibility forms, are matched as their plain forms and replaced where they stand.
//!
//! Only text with non-ASCII bytes whose NFKC quick check does not answer "already
//! normalised" pays for it: ASCII text costs one `is_ascii` pass.
//!
//! Each character is normalised with the combining marks that follow it, so a
//! compatibility form maps to whole characters of the original. Compositions across
//! two starters (conjoining Hangul jamo written apart) are not made; text written that
//! way is matched as written.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// A normalised copy of a text and, per byte of it, the original range it came from.
pub(crate) struct Normalized {
    pub(crate) text: String,
    /// For each byte of `text`: `(start, end)` of the original characters it came from.
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    /// The original byte range of `start..end` of the normalised text (whole original
    /// characters, at least as wide).
    pub(crate) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.origin.get(start).map_or(usize::MAX, |o| o.0 as usize);
        let e = end
            .checked_sub(1)
            .and_then(|i| self.origin.get(i))
            .map_or(0, |o| o.1 as usize);
        (s.min(e), e)
    }
}

/// The NFKC form of `text` with its map, or `None` when it is the same (ASCII, or
/// already normalised). Texts over 4 GiB are not normalised.
pub(crate) fn nfkc(text: &str) -> Option<Normalized> {
    if text.is_ascii() || u32::try_from(text.len()).is_err() || !may_have_compat_forms(text) {
        return None;
    }
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut segment = String::new();
    while let Some((start, c)) = chars.next() {
        segment.clear();
        segment.push(c);
        let mut end = start + c.len_utf8();
        // ASCII never combines with what follows it unless a mark follows; a mark is
        // never ASCII.
        let mark_follows = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
            chars
                .peek()
                .is_some_and(|&(_, next)| !next.is_ascii() && canonical_combining_class(next) != 0)
        };
        if c.is_ascii() && !mark_follows(&mut chars) {
            out.push(c);
            origin.push((start as u32, end as u32));
            continue;
        }
        while let Some(&(at, next)) = chars.peek() {
            if next.is_ascii() || canonical_combining_class(next) == 0 {
                break;
            }
            segment.push(next);
            end = at + next.len_utf8();
            chars.next();
        }
        if segment.len() == c.len_utf8() && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
            out.push(c);
        } else {
            out.extend(segment.nfkc());
        }
        origin.resize(out.len(), (start as u32, end as u32));
    }
    (out != text).then_some(Normalized { text: out, origin })
}

/// Whether `text` may hold a character whose compatibility form differs from it, by
/// its UTF-8 lead bytes alone: U+00A0-U+00BF (no-break space, superscripts, `µ`,
/// fractions), U+2000-U+2BFF (spaces, punctuation, super- and subscripts, letter-like
/// symbols, number forms, enclosed alphanumerics), U+3000 (ideographic space),
/// U+3100-U+33FF (Hangul compatibility jamo, enclosed and compatibility CJK), U+F900-U+FFEF
/// (compatibility ideographs, presentation forms, half- and full-width forms) and the
/// mathematical and enclosed alphanumerics of plane 1. Ordinary Chinese, Japanese,
/// Korean, Cyrillic, Arabic, Indic and accented Latin text holds none and is not copied.
/// (Compatibility forms elsewhere, such as the long `ſ`, are matched as written.)
fn may_have_compat_forms(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        let next = |k: usize| b.get(i + k).copied().unwrap_or(0);
        match b[i] {
            0xC2 => next(1) >= 0xA0,
            0xE2 => next(1) <= 0xAF,
            0xE3 => (next(1) == 0x80 && next(2) == 0x80) || (0x84..=0x8F).contains(&next(1)),
            0xEF => next(1) >= 0xA4,
            0xF0 => next(1) == 0x9D || (next(1) == 0x9F && (0x84..=0x87).contains(&next(2))),
            _ => false,
        }
    })
}

/// `key` in NFKC (borrowed when it already is).
pub(crate) fn nfkc_str(key: &str) -> std::borrow::Cow<'_, str> {
    match nfkc(key) {
        Some(n) => std::borrow::Cow::Owned(n.text),
        None => std::borrow::Cow::Borrowed(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_map_back_to_their_original_bytes() {
        let text = "密码：Ｗｑ８１ mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ";
        let n = nfkc(text).expect("full-width forms normalise");
        assert_eq!(n.text, "密码:Wq81 mail jane@example.com");
        let at = n.text.find("Wq81").unwrap();
        let (s, e) = n.original(at, at + 4);
        assert_eq!(&text[s..e], "Ｗｑ８１");
        let at = n.text.find("jane@example.com").unwrap();
        let (s, e) = n.original(at, at + "jane@example.com".len());
        assert_eq!(&text[s..e], "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ");
    }

    #[test]
    fn plain_and_already_normal_text_is_not_copied() {
        assert!(nfkc("password=x").is_none());
        assert!(nfkc("Zürich café 東京 пароль").is_none());
        // A ligature expands to several bytes, all mapped to the one character.
        let n = nfkc("ﬁle").expect("a ligature normalises");
        assert_eq!(n.text, "file");
        assert_eq!(n.original(0, 2), (0, 3));
    }
}
