//! Markup and JSON escaped once more: HTML entities (`&lt;Password&gt;x&lt;/Password&gt;`,
//! `&quot;token&quot;: &quot;x&quot;`, `&#60;`, `&#x3c;`) and JSON's `\u003c`-style
//! escapes (Go's encoder writes `<`, `>` and `&` so). The text is decoded with a map from
//! each decoded byte back to where it came from, scanned again with every detector, and
//! what is found there is replaced in the original text.

use super::Scan;

pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let Some((decoded, map)) = decode(scan.text) else {
        return;
    };
    *scan.steps += scan.b.len() as u64;
    let Some(inner) = scan.rescan(&decoded) else {
        return;
    };
    for f in inner {
        let start = map[f.start.min(map.len() - 1)];
        let end = map[f.end.min(map.len() - 1)];
        scan.push(start, end, f.rule);
    }
}

/// The text with entities and `\u00XX` escapes decoded, and for each decoded byte (and
/// one past the end) the offset in `text` it comes from. `None` when nothing decoded.
fn decode(text: &str) -> Option<(String, Vec<usize>)> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        if let Some((c, len)) = entity(&b[i..]).or_else(|| json_escape(&b[i..])) {
            let mut buf = [0u8; 4];
            let s = c.encode_utf8(&mut buf);
            for _ in 0..s.len() {
                map.push(i);
            }
            out.push_str(s);
            i += len;
            changed = true;
            continue;
        }
        // Copy one character.
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        for k in 0..ch_len {
            map.push(i + k);
        }
        out.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    map.push(b.len());
    changed.then_some((out, map))
}

/// An HTML entity at the start of `b`: the character and the entity's length.
fn entity(b: &[u8]) -> Option<(char, usize)> {
    if b.first() != Some(&b'&') {
        return None;
    }
    for (name, c) in [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&apos;", '\''),
        ("&amp;", '&'),
        ("&#39;", '\''),
        ("&#34;", '"'),
        ("&#60;", '<'),
        ("&#62;", '>'),
        ("&#x27;", '\''),
        ("&#x22;", '"'),
        ("&#x3c;", '<'),
        ("&#x3C;", '<'),
        ("&#x3e;", '>'),
        ("&#x3E;", '>'),
    ] {
        if b.len() >= name.len() && b[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            return Some((c, name.len()));
        }
    }
    None
}

/// `\u003c`, `\u003e`, `\u0026`, `\u0022`, `\u0027` at the start of `b`.
fn json_escape(b: &[u8]) -> Option<(char, usize)> {
    if b.len() < 6 || !b.starts_with(b"\\u00") {
        return None;
    }
    let c = match &b[4..6] {
        x if x.eq_ignore_ascii_case(b"3c") => '<',
        x if x.eq_ignore_ascii_case(b"3e") => '>',
        x if x.eq_ignore_ascii_case(b"26") => '&',
        b"22" => '"',
        b"27" => '\'',
        _ => return None,
    };
    Some((c, 6))
}

/// Fewest bytes of a `Debug` byte list decoded: shorter lists hold no credential or card.
const MIN_BYTE_LIST: usize = 8;
/// Most bytes of one list decoded (a longer list is read up to here).
const MAX_BYTE_LIST: usize = 4096;

/// Whether `b` may hold a `Debug` byte list (`[51, 55, ..]`): a `[` before a digit
/// (blanks between, as pretty `Debug` puts them).
pub(super) fn may_hold_byte_list(b: &[u8]) -> bool {
    memchr::memchr_iter(b'[', b).any(|at| list_start(b, at).is_some())
}

/// After the `[` at `at`, the first number's start, blanks skipped (at most 64).
fn list_start(b: &[u8], at: usize) -> Option<usize> {
    let p = at
        + 1
        + b[at + 1..]
            .iter()
            .take(64)
            .take_while(|c| c.is_ascii_whitespace())
            .count();
    b.get(p).is_some_and(u8::is_ascii_digit).then_some(p)
}

/// Text printed as the `Debug` of its bytes (`[51, 55, 56, ..]`, a `Vec<u8>` or `&[u8]`
/// field, pretty-printed too): lists of eight or more numbers that are all printable
/// ASCII are decoded, scanned again with every detector, and what is found there is
/// replaced in the list (the numbers that spell it).
pub(super) fn byte_lists(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    let mut resume = 0;
    for at in memchr::memchr_iter(b'[', b) {
        if at < resume {
            continue;
        }
        let Some(mut p) = list_start(b, at) else {
            continue;
        };
        let mut decoded = String::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let printable = loop {
            let s = p;
            let mut value = 0u32;
            while p < b.len() && b[p].is_ascii_digit() && p - s < 3 {
                value = value * 10 + u32::from(b[p] - b'0');
                p += 1;
            }
            if p == s || b.get(p).is_some_and(u8::is_ascii_digit) {
                break false;
            }
            match u8::try_from(value) {
                Ok(c @ 0x20..=0x7e) => {
                    decoded.push(char::from(c));
                    spans.push((s, p));
                }
                _ => break false,
            }
            while p < b.len() && b[p].is_ascii_whitespace() {
                p += 1;
            }
            match b.get(p) {
                Some(b',') => p += 1,
                _ => break true,
            }
            while p < b.len() && b[p].is_ascii_whitespace() {
                p += 1;
            }
            // A trailing comma before `]` (pretty `Debug`).
            if b.get(p) == Some(&b']') || spans.len() >= MAX_BYTE_LIST {
                break true;
            }
        };
        *scan.steps += (p - at) as u64;
        resume = p;
        if !printable || spans.len() < MIN_BYTE_LIST {
            continue;
        }
        let Some(inner) = scan.rescan(&decoded) else {
            return;
        };
        for f in inner {
            if f.end > f.start && f.end <= spans.len() {
                scan.push(spans[f.start].0, spans[f.end - 1].1, f.rule);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_offsets_point_back_into_the_original() {
        let text = "a &lt;P&gt;x\\u003c/P\\u003e é";
        let (decoded, map) = decode(text).expect("decodes");
        assert_eq!(decoded, "a <P>x</P> é");
        assert_eq!(map.len(), decoded.len() + 1);
        let x = decoded.find('x').unwrap_or(0);
        assert_eq!(&text[map[x]..map[x + 1]], "x");
        assert_eq!(map[decoded.len()], text.len());
        assert!(decode("plain text").is_none());
    }
}
