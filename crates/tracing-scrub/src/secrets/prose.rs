//! Secrets in prose: a secret word, then its value, as services write them in messages
//! (`login failed for bob with password X`, `the password is X`, `pwd X`, `reset token
//! X`, `passphrase 'a b c'`, `PIN 4821`, `one-time code 739204`, `aws secret X`), and a
//! prompt whose answer is on the next line (`Enter passphrase for key ..:\nX`).
//!
//! The value must look like a credential (letters and digits, mixed case, a symbol
//! inside; digits for PINs and codes; anything quoted), so prose about the secret stays:
//! `password reset requested`, `token expired`, `pass 3 of 5`, `error code 1045`,
//! `(using password: YES)`. A random-looking token a few words further on in the same
//! sentence is taken too (`reset token for user 42 is <token>`).

use super::bytes::{bare_end, line_end, quoted, skip_blanks};
use super::shape::stats;
use super::Scan;

/// What a secret word names, which decides what its value may look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A password: a credential-like word, four or more digits, or anything quoted.
    Password,
    /// `pass` alone: a credential-like word only (`pass 3 of 5` is a count).
    WeakPassword,
    /// A token, secret or key: a credential-like word of eight or more characters.
    Token,
    /// A PIN or one-time code: four to eight digits (a space or dash between groups), or
    /// a short credential-like code.
    Code,
}

/// Words before `key` that make it a credential (`api key`, `unseal key`), not a cache,
/// partition or idempotency key.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "access",
    "private",
    "auth",
    "signing",
    "encryption",
    "master",
    "license",
    "licence",
    "client",
    "account",
    "subscription",
    "deploy",
    "service",
    "webhook",
    "unseal",
    "recovery",
    "root",
    "session",
    "shared",
    "app",
    "admin",
    "sdk",
    "server",
    "storage",
    "activation",
    "product",
    "write",
    "ingest",
    "ingestion",
    "preshared",
    "decryption",
    "hmac",
    "jwt",
];

/// Words before `code` that make it a one-time code, not an error or exit code.
const CODE_QUALIFIERS: &[&str] = &[
    "one-time",
    "onetime",
    "otp",
    "verification",
    "verify",
    "security",
    "confirmation",
    "login",
    "2fa",
    "mfa",
    "sms",
    "auth",
    "authentication",
    "reset",
    "access",
    "recovery",
    "backup",
    "pairing",
    "activation",
    "invite",
    "invitation",
    "your",
    "pin",
    "passcode",
];

/// Values that say something about a secret rather than being one.
const STATUS_WORDS: &[&str] = &[
    "yes",
    "no",
    "true",
    "false",
    "none",
    "null",
    "nil",
    "empty",
    "missing",
    "set",
    "unset",
    "required",
    "provided",
    "present",
    "absent",
    "redacted",
    "hidden",
    "masked",
    "invalid",
    "expired",
    "incorrect",
    "wrong",
    "ok",
    "changed",
    "reset",
    "updated",
    "rotated",
    "revoked",
    "accepted",
    "rejected",
    "denied",
    "found",
    "not",
    "valid",
    "correct",
    "[redacted]",
    "[filtered]",
    "***",
    "********",
    "<redacted>",
    "(none)",
    "n/a",
];

fn classify(scan: &Scan<'_, '_>, s: usize, word: &str) -> Option<Kind> {
    Some(match word {
        "password" | "passwd" | "passwort" | "pwd" | "pw" | "passphrase" | "passcode"
        | "kennwort" | "contrasena" | "senha" | "wachtwoord" | "salasana" | "haslo" | "heslo"
        | "parola" | "sifre" | "jelszo" | "passe" => Kind::Password,
        "pass" => Kind::WeakPassword,
        "token" | "secret" | "apikey" | "credentials" | "creds" | "credential" => Kind::Token,
        "key" if super::bytes::word_before_is(scan.b, s, KEY_QUALIFIERS) => Kind::Token,
        "pin" | "otp" | "totp" => Kind::Code,
        "code" if super::bytes::word_before_is(scan.b, s, CODE_QUALIFIERS) => Kind::Code,
        _ => return None,
    })
}

pub(super) fn at_word(scan: &mut Scan<'_, '_>, s: usize, e: usize, word: &str) -> Option<usize> {
    let kind = classify(scan, s, word)?;
    value_after(scan, s, e, kind, true)
}

/// The value after the secret word at `s..e`, reported; the index after it. `word`:
/// the word is an ASCII word, which must stand alone (another script has no such bounds).
fn value_after(
    scan: &mut Scan<'_, '_>,
    s: usize,
    e: usize,
    kind: Kind,
    word: bool,
) -> Option<usize> {
    let b = scan.b;
    // A prompt: the line ends with `:` after the word, the answer is the next line.
    if let Some(next) = prompt(scan, e, kind) {
        return Some(next);
    }
    // A word of prose: not part of an identifier (`refresh_token`, `x-api-key`), and
    // followed by a space (`password=`, `password:` are pairs, found by the key/value
    // scanner).
    let standalone =
        !word || s == 0 || matches!(b[s - 1], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b'[' | b',');
    if !standalone || !matches!(b.get(e), Some(b' ' | b'\t')) {
        return None;
    }
    let mut p = e;
    // A quoted key (`"password": ..`) is structure, found by the key/value scanner.
    let quoted_key = s > 0 && matches!(b[s - 1], b'"' | b'\'') && b.get(e) == Some(&b[s - 1]);
    if quoted_key
        || matches!(
            b.get(e),
            Some(b':' | b'=' | b'_' | b'-' | b'.' | b'(' | b'[' | b'{' | b'/' | b'\\')
        )
    {
        return None;
    }
    p = skip_blanks(b, p);
    // `PIN code 4821`, `pin number: 4821`.
    if kind == Kind::Code {
        for filler in ["code", "number", "no", "no."] {
            if starts_word(b, p, filler) {
                p = skip_blanks(b, p + filler.len());
                break;
            }
        }
    }
    // `is`, `was`, `:`, `=`, `->` (and `for <user> is`): the value comes after.
    let mut copula = false;
    for _ in 0..2 {
        if let Some(after) = copula_at(b, p) {
            p = skip_blanks(b, after);
            copula = true;
        }
    }
    if !copula && starts_word(b, p, "for") {
        // `password for bob is X`: only with the copula after the user.
        let user = skip_blanks(b, p + 3);
        let user_end = bare_end(b, user, 64, b",;()");
        let after = skip_blanks(b, user_end);
        if let Some(after) = copula_at(b, after) {
            p = skip_blanks(b, after);
        }
    }
    if let Some(next) = take_value(scan, p, kind) {
        return Some(next);
    }
    if matches!(kind, Kind::Password | Kind::Token) {
        return random_nearby(scan, p);
    }
    None
}

/// At `p`, `is`, `was`, `are`, `:`, `=`, `->` or `=>`, or `to`/`as` of a change
/// (`changed their password to X`, `set as X`): the index after it.
fn copula_at(b: &[u8], p: usize) -> Option<usize> {
    for word in ["is", "was", "are", "be", "to", "as"] {
        if starts_word(b, p, word) {
            return Some(p + word.len());
        }
    }
    for sep in ["->", "=>", ":", "="] {
        if b[p.min(b.len())..].starts_with(sep.as_bytes()) {
            return Some(p + sep.len());
        }
    }
    None
}

fn starts_word(b: &[u8], p: usize, word: &str) -> bool {
    b.len() >= p + word.len()
        && b[p..p + word.len()].eq_ignore_ascii_case(word.as_bytes())
        && b.get(p + word.len())
            .is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// The value at `p`: quoted (anything but a status word), `('..')`, or a bare word that
/// fits `kind` (a plain word is no value, whatever came before it).
fn take_value(scan: &mut Scan<'_, '_>, p: usize, kind: Kind) -> Option<usize> {
    let b = scan.b;
    if p >= b.len() {
        return None;
    }
    let open = if b[p] == b'(' { p + 1 } else { p };
    if let Some((qs, qe, after)) = quoted(b, open, 256) {
        *scan.steps += (after - p) as u64;
        let inner = &b[qs..qe];
        if inner.is_empty() || is_status_word(inner) || (kind == Kind::Code && !code_like(inner)) {
            return None;
        }
        scan.push(qs, qe, "@secret_context");
        return Some(after);
    }
    if open != p {
        return None;
    }
    let end = bare_end(b, p, 256, b",;\"')]}>");
    *scan.steps += (end - p) as u64;
    let mut value_end = end;
    // Sentence punctuation after the value is not part of it.
    while value_end > p && matches!(b[value_end - 1], b'.' | b'?' | b':') {
        value_end -= 1;
    }
    // `739 204`, `739-204`: a code in two groups.
    if kind == Kind::Code && value_end - p == 3 && b[p..value_end].iter().all(u8::is_ascii_digit) {
        if let Some(&sep) = b.get(value_end) {
            let rest = value_end + 1;
            let rest_end = bare_end(b, rest, 8, b",;.)");
            if matches!(sep, b' ' | b'-')
                && (3..=4).contains(&(rest_end - rest))
                && b[rest..rest_end].iter().all(u8::is_ascii_digit)
            {
                scan.push(p, rest_end, "@secret_context");
                return Some(rest_end);
            }
        }
    }
    let value = &b[p..value_end];
    if value.is_empty() || is_status_word(value) {
        return None;
    }
    let st = stats(value);
    let digits_only = st.digit == value.len();
    let fits = match kind {
        Kind::Password => {
            st.credential_like(value)
                || (digits_only && value.len() >= 4 && value.len() <= 16)
                || passphrase_like(value)
        }
        Kind::WeakPassword => st.credential_like(value) && !digits_only,
        Kind::Token => value.len() >= 8 && st.credential_like(value) && !digits_only,
        Kind::Code => code_like(value),
    };
    if !fits {
        return None;
    }
    scan.push(p, value_end, "@secret_context");
    Some(value_end)
}

/// A passphrase of words joined by dashes (`correct-horse-battery-staple`): three or
/// more words of letters and digits, twelve or more bytes.
fn passphrase_like(v: &[u8]) -> bool {
    v.len() >= 12
        && v.split(|&c| c == b'-').count() >= 3
        && v.split(|&c| c == b'-')
            .all(|w| !w.is_empty() && w.iter().all(u8::is_ascii_alphanumeric))
}

/// A PIN or one-time code: 4 to 8 digits, or a short code of letters and digits.
fn code_like(v: &[u8]) -> bool {
    let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
    (digits == v.len() && (4..=8).contains(&v.len()))
        || ((5..=12).contains(&v.len()) && stats(v).credential_like(v) && digits > 0)
}

fn is_status_word(v: &[u8]) -> bool {
    STATUS_WORDS
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(v))
}

/// A random-looking token within the next few words of the same sentence.
fn random_nearby(scan: &mut Scan<'_, '_>, mut p: usize) -> Option<usize> {
    let b = scan.b;
    for _ in 0..6 {
        p = skip_blanks(b, p);
        if p >= b.len() || matches!(b[p], b'\n' | b'\r' | b';') {
            return None;
        }
        let end = bare_end(b, p, 256, b",;\"')]}>");
        *scan.steps += (end - p) as u64;
        if end == p {
            return None;
        }
        let mut value_end = end;
        while value_end > p && matches!(b[value_end - 1], b'.' | b'?' | b'!' | b':') {
            value_end -= 1;
        }
        if value_end - p >= 16 && stats(&b[p..value_end]).random_mixed(16) {
            scan.push(p, value_end, "@secret_context");
            return Some(value_end);
        }
        // A sentence ends at `.`, `!`, `?` before a space.
        if value_end < end {
            return None;
        }
        p = end + 1;
    }
    None
}

/// `<label with the secret word>:` at the end of a line, and the answer alone on the
/// next line (a terminal prompt, a transcript).
fn prompt(scan: &mut Scan<'_, '_>, e: usize, kind: Kind) -> Option<usize> {
    let b = scan.b;
    let eol = scan.line_end(e);
    if eol >= b.len() || eol - e > 120 {
        return None;
    }
    let mut k = eol;
    while k > e && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    if k == e && kind == Kind::Code {
        return None;
    }
    if k == 0 || !matches!(b[k - 1], b':' | b'?' | b'>') {
        return None;
    }
    let mut next = eol;
    while next < b.len() && matches!(b[next], b'\n' | b'\r') && next - eol < 2 {
        next += 1;
    }
    let start = skip_blanks(b, next);
    let end = line_end(b, start, start + 256);
    *scan.steps += (end - e) as u64;
    let mut value_end = end;
    while value_end > start && matches!(b[value_end - 1], b' ' | b'\t') {
        value_end -= 1;
    }
    let value = &b[start..value_end];
    if value.is_empty()
        || value.iter().any(|c| c.is_ascii_whitespace())
        || matches!(value.last(), Some(b':'))
        || matches!(value[0], b'/' | b'~' | b'.' | b'[' | b'{' | b'<' | b'#')
        || is_status_word(value)
    {
        return None;
    }
    scan.push(start, value_end, "@secret_context");
    Some(value_end)
}
