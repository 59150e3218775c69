//! Input echoed by deserialisers' errors. serde's `invalid type: string "X", expected
//! u64` and `invalid value: string "X", expected ..` (serde_json, serde_yaml, toml,
//! serde_urlencoded, config: all build them with `serde::de::Unexpected::Str`) quote
//! the value that failed, which is the request's or the file's input: a password put in
//! the wrong field, a token in a numeric one. The error names no key, so the value is
//! replaced unless it has a shape no secret has (a boolean, a small number, a duration,
//! a date, a version, a short code: [`plain_value`]); the error's shape stays (`invalid type: string
//! "[Filtered]", expected u64 at line 1 column 27`). `unknown variant`/`unknown field`
//! quote a name the schema did not know: kept when written like a name (letters, `_`,
//! `-`, up to three digits at the end: `admin`, `read_write`, `sha256`), else replaced.

use super::bytes::quoted;
use super::Scan;

/// What serde writes before an echoed string (`Unexpected::Str`'s `Display`).
const STRING_ECHOES: &[&[u8]] = &[b"invalid type: string ", b"invalid value: string "];
/// What it writes before an unknown name in backticks.
const NAME_ECHOES: &[&[u8]] = &[b"unknown variant ", b"unknown field "];

/// Whether `b` holds one of those errors.
pub(super) fn may_hold(b: &[u8]) -> bool {
    finders().iter().any(|f| f.find(b).is_some())
}

/// Searchers for [`STRING_ECHOES`] then [`NAME_ECHOES`], built once: building one per
/// text cost more than searching most texts.
fn finders() -> &'static [memchr::memmem::Finder<'static>; 4] {
    static FINDERS: std::sync::OnceLock<[memchr::memmem::Finder<'static>; 4]> =
        std::sync::OnceLock::new();
    FINDERS.get_or_init(|| {
        let all = [
            STRING_ECHOES[0],
            STRING_ECHOES[1],
            NAME_ECHOES[0],
            NAME_ECHOES[1],
        ];
        all.map(memchr::memmem::Finder::new)
    })
}

pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    let finders = finders();
    for (prefix, finder) in STRING_ECHOES.iter().zip(&finders[..2]) {
        for at in finder.find_iter(b) {
            let v = at + prefix.len();
            *scan.steps += prefix.len() as u64;
            // `"X"`, or `\"X\"` inside a JSON string (a logged error body).
            if let Some((qs, qe, _)) = quoted(b, v, 4096) {
                if !plain_value(&b[qs..qe]) {
                    scan.push(qs, qe, "@echoed_input");
                }
            }
        }
    }
    for (prefix, finder) in NAME_ECHOES.iter().zip(&finders[2..]) {
        for at in finder.find_iter(b) {
            let v = at + prefix.len();
            if b.get(v) != Some(&b'`') {
                continue;
            }
            let Some(close) = b[v + 1..].iter().take(256).position(|&c| c == b'`') else {
                continue;
            };
            let name = &b[v + 1..v + 1 + close];
            *scan.steps += close as u64;
            if !identifier(name) {
                scan.push(v + 1, v + 1 + close, "@echoed_input");
            }
        }
    }
}

/// An echoed value of a shape no secret has, kept so a config error still says what
/// was wrong (found by an attacker: every such error lost its value): a boolean, a
/// number of up to three digits or with a fraction, a count with a unit (`10s`, `512mb`),
/// a date or time (digits and `-`, `:`, `/`, `T`), a version (`v3`, `v1.2`), or a code
/// of up to five capitals (`GBPX`, `US`).
fn plain_value(v: &[u8]) -> bool {
    let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
    let unsigned = v.strip_prefix(b"-").unwrap_or(v);
    let boolean = super::bytes::boolean_word(v);
    let number = !unsigned.is_empty()
        && unsigned.iter().all(|&c| c.is_ascii_digit() || c == b'.')
        && unsigned.iter().filter(|&&c| c == b'.').count() <= 1
        && (digits <= 3 || unsigned.contains(&b'.'));
    let unit = {
        let n = v.iter().take_while(|c| c.is_ascii_digit()).count();
        (1..=4).contains(&n)
            && (1..=2).contains(&(v.len() - n))
            && v[n..].iter().all(u8::is_ascii_alphabetic)
    };
    let date = v.len() <= 25
        && digits >= 4
        && v.iter()
            .all(|&c| c.is_ascii_digit() || matches!(c, b'-' | b':' | b'/' | b'T' | b'Z' | b'.'))
        && v.iter()
            .filter(|&&c| matches!(c, b'-' | b':' | b'/'))
            .count()
            >= 2;
    let version = v.len() <= 12
        && v.first() == Some(&b'v')
        && v.len() > 1
        && v[1..].iter().all(|&c| c.is_ascii_digit() || c == b'.');
    let code = (1..=5).contains(&v.len()) && v.iter().all(u8::is_ascii_uppercase);
    boolean || number || unit || date || version || code
}

/// A name as schemas write them: a letter, then letters, `_` or `-`, and up to three
/// digits at the end.
fn identifier(name: &[u8]) -> bool {
    let digits = name.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let head = &name[..name.len() - digits];
    digits <= 3
        && head.first().is_some_and(u8::is_ascii_alphabetic)
        && head
            .iter()
            .all(|&c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'-'))
}
