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

/// The text with its escapes decoded (see [`escape_at`]), and for each decoded byte (and
/// one past the end) the offset in `text` it comes from. `None` when nothing decoded.
fn decode(text: &str) -> Option<(String, Vec<usize>)> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        if let Some((c, len)) = escape_at(&b[i..]) {
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

/// The escape at the start of `b`, decoded: the character and the escape's length. Any
/// character written as an HTML character reference (numeric `&#61;`, `&#x3D;`, or one
/// of the named references of ASCII punctuation, `&equals;`, `&quot;`: WHATWG HTML,
/// "Named character references"), a JSON/JavaScript/Java `\u003d` (a surrogate pair as
/// one character), a C/Python/JavaScript `\x3d` (ASCII only: a byte above 0x7f is part
/// of an encoding not known here) or Python's `\U0000003d`. Keys, separators and quotes
/// written so (`password&#61;X`, `{"pass\u0077ord":..}`, `\x22password\x22:..`) are
/// then read as written plainly.
pub(super) fn escape_at(b: &[u8]) -> Option<(char, usize)> {
    match b.first()? {
        b'&' => entity(b),
        b'\\' => backslash_escape(b),
        _ => None,
    }
}

/// The value of the hex digits `h` (all of them must be hex).
fn hex_value(h: &[u8]) -> Option<u32> {
    h.iter()
        .try_fold(0u32, |v, &c| char::from(c).to_digit(16).map(|d| v * 16 + d))
}

/// `\uXXXX` (with a following low surrogate when it is a high one), `\xXX`, `\UXXXXXXXX`.
fn backslash_escape(b: &[u8]) -> Option<(char, usize)> {
    let fixed = |n: usize| b.get(2..2 + n).and_then(hex_value);
    match b.get(1)? {
        b'u' => {
            let v = fixed(4)?;
            if (0xD800..0xDC00).contains(&v) {
                let low = (b.get(6..8) == Some(b"\\u"))
                    .then(|| b.get(8..12).and_then(hex_value))
                    .flatten()
                    .filter(|l| (0xDC00..0xE000).contains(l))?;
                let c = char::from_u32(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((c, 12));
            }
            Some((char::from_u32(v)?, 6))
        }
        b'x' => {
            let v = fixed(2)?;
            (v < 0x80).then(|| (char::from(v as u8), 4))
        }
        b'U' => Some((char::from_u32(fixed(8)?)?, 10)),
        _ => None,
    }
}

/// Named character references of ASCII characters (WHATWG HTML's table; matched
/// ignoring case, as browsers and hand-written escapers are lenient).
const NAMED: &[(&str, char)] = &[
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("amp", '&'),
    ("equals", '='),
    ("colon", ':'),
    ("semi", ';'),
    ("comma", ','),
    ("period", '.'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("num", '#'),
    ("excl", '!'),
    ("quest", '?'),
    ("plus", '+'),
    ("lowbar", '_'),
    ("UnderBar", '_'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lbrack", '['),
    ("rbrack", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("lbrace", '{'),
    ("rbrace", '}'),
    ("ast", '*'),
    ("midast", '*'),
    ("commat", '@'),
    ("dollar", '$'),
    ("percnt", '%'),
    ("grave", '`'),
    ("Hat", '^'),
    ("verbar", '|'),
    ("vert", '|'),
    ("VerticalLine", '|'),
    ("nbsp", ' '),
    ("Tab", '\t'),
    ("NewLine", '\n'),
];

/// An HTML character reference at the start of `b` (`&name;`, `&#61;`, `&#x3d;`; the
/// `;` of a numeric one may be left out, as HTML allows).
fn entity(b: &[u8]) -> Option<(char, usize)> {
    if b.get(1) == Some(&b'#') {
        let hex = matches!(b.get(2), Some(b'x' | b'X'));
        let from = if hex { 3 } else { 2 };
        let digits = b[from..]
            .iter()
            .take(8)
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 || digits > 7 {
            return None;
        }
        let v = if hex {
            hex_value(&b[from..from + digits])?
        } else {
            std::str::from_utf8(&b[from..from + digits])
                .ok()?
                .parse()
                .ok()?
        };
        let end = from + digits;
        let len = if b.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        };
        return Some((char::from_u32(v).filter(|&c| c != '\0')?, len));
    }
    let name_len = b[1..]
        .iter()
        .take(13)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if name_len == 0 || b.get(1 + name_len) != Some(&b';') {
        return None;
    }
    let name = &b[1..1 + name_len];
    NAMED
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|&(_, c)| (c, name_len + 2))
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
