//! Input echoed by deserialisers' errors. serde's `invalid type: string "X", expected
//! u64` and `invalid value: string "X", expected ..` (serde_json, serde_yaml, toml,
//! serde_urlencoded, config: all build them with `serde::de::Unexpected::Str`) quote
//! the value that failed, which is the request's or the file's input: a password put in
//! the wrong field, a token in a numeric one. The error names no key, so the value is
//! replaced whatever it looks like; the error's shape stays (`invalid type: string
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
    STRING_ECHOES
        .iter()
        .chain(NAME_ECHOES)
        .any(|p| memchr::memmem::find(b, p).is_some())
}

pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    for prefix in STRING_ECHOES {
        for at in memchr::memmem::find_iter(b, prefix) {
            let v = at + prefix.len();
            *scan.steps += prefix.len() as u64;
            // `"X"`, or `\"X\"` inside a JSON string (a logged error body).
            if let Some((qs, qe, _)) = quoted(b, v, 4096) {
                scan.push(qs, qe, "@echoed_input");
            }
        }
    }
    for prefix in NAME_ECHOES {
        for at in memchr::memmem::find_iter(b, prefix) {
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
