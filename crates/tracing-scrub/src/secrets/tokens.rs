//! Tokens by shape: a vendor-style prefix and a random body (`acme_live_<random>`,
//! `tskey-auth-<id>-<random>`, `sb_secret_<random>`), an AWS secret access key on its
//! own, and base64 that decodes to text holding a secret (a JSON login body), to a SASL
//! `PLAIN` response or to `user:password`.
//!
//! What stays: identifiers with a prefix and a short or non-random body (Stripe object
//! ids such as `pi_3QxK9bLkdIwHu7ix1aB2cD3e`, TypeIDs, pod names, Go pseudo-versions),
//! digests named by their hash (`sha512-<base64>`), hex and single-case ids on their own,
//! and base64 of text without a secret in it.

use super::shape::{is_digest_name, stats};
use super::Scan;

/// Shortest random body after a prefix that names a secret (`live`, `key`, `pat`, ...).
const MIN_NAMED_BODY: usize = 16;
/// Shortest random body after any other prefix.
const MIN_UNNAMED_BODY: usize = 32;
/// Longest run looked at (a longer one is data, not a token).
const MAX_RUN: usize = 1024;
/// Shortest run any detector here reports.
const MIN_RUN: usize = MIN_NAMED_BODY + 2;

/// Prefix segments that say the token is a credential, whatever alphabet its body has
/// (hex and UUID bodies too: `api-<uuid>`, `key-<hex>`).
const SECRET_SEGMENTS: &[&str] = &[
    "sk", "rk", "secret", "secrets", "key", "apikey", "token", "tok", "tkn", "pat", "pw", "pwd",
    "pass", "auth", "access", "private", "priv", "oauth", "refresh", "bearer", "cred", "creds",
    "sess", "session", "psk", "api",
];

/// Prefix segments that make a random mixed-case body a credential (`sk_live_<random>`,
/// `vercel_blob_rw_<random>`) but not a hex or UUID one (`test-<uuid>` is a test run).
const LIVE_SEGMENTS: &[&str] = &[
    "live", "test", "prod", "rw", "sign", "signing", "webhook", "whsec", "sat",
];

/// First segments of ids and keys meant to be public, which [`LIVE_SEGMENTS`] after them
/// do not make secret: Stripe's Checkout Session ids (`cs_live_..`) and publishable keys
/// (`pk_live_..`).
const PUBLIC_FIRST: &[&str] = &["cs", "pk"];

/// [`CLASS`] bit: letters, digits, `_`, `-`, `.` (a prefixed token's run).
const RUN: u8 = 1;
/// [`CLASS`] bit: the base64 alphabets (standard and URL-safe).
const B64: u8 = 2;
/// Byte classes, so each byte of a text costs one lookup.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') {
            t[c] = RUN | B64;
        } else if b == b'.' {
            t[c] = RUN;
        } else if matches!(b, b'+' | b'/') {
            t[c] = B64;
        }
        c += 1;
    }
    t
};

/// Whether `b` holds a run of token bytes as long as the shortest token reported here.
pub(super) fn has_long_run(b: &[u8]) -> bool {
    let mut run = 0;
    for &c in b {
        if CLASS[usize::from(c)] != 0 || c == b'=' {
            run += 1;
            if run >= MIN_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// One pass over the text: each run of prefixed-token bytes and each run of base64
/// bytes long enough is looked at.
pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    *scan.steps += b.len() as u64;
    // Words of token bytes (either class); only those of 16 or more are split into their
    // runs of each class. Most words of a text are shorter: one tight loop skips them.
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && CLASS[usize::from(b[i])] == 0 {
            i += 1;
        }
        let start = i;
        while i < b.len() && CLASS[usize::from(b[i])] != 0 {
            i += 1;
        }
        if i - start >= 16 {
            runs_in(scan, start, i);
        }
    }
}

/// The runs of each class in the word `start..end` (no byte outside both classes).
fn runs_in(scan: &mut Scan<'_, '_>, start: usize, end: usize) {
    let b = scan.b;
    let (mut run_start, mut b64_start) = (start, start);
    for i in start..=end {
        let class = if i < end { CLASS[usize::from(b[i])] } else { 0 };
        if class & RUN == 0 {
            if i - run_start >= MIN_RUN && i - run_start <= MAX_RUN {
                prefixed(scan, run_start, i);
            }
            run_start = i + 1;
        }
        if class & B64 == 0 {
            if i - b64_start >= 16 {
                base64_run(scan, b64_start, i);
            }
            b64_start = i + 1;
        }
    }
}

/// A run `b[start..end]` of letters, digits, `_`, `-` and `.`: a prefix of single-case
/// segments, then a random body.
fn prefixed(scan: &mut Scan<'_, '_>, start: usize, end: usize) {
    let b = scan.b;
    // Sentence punctuation and flag dashes are not part of a token.
    let mut s = start;
    while s < end && matches!(b[s], b'-' | b'.' | b'_') {
        s += 1;
    }
    let mut e = end;
    while e > s && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    // Part of a path, a host name or a longer base64 value: not a token of its own.
    if start > 0 && matches!(b[start - 1], b'/' | b'+' | b'@' | b'$' | b'~') {
        return;
    }
    if e < b.len() && matches!(b[e], b'/' | b'+' | b'@') {
        return;
    }
    let run = &b[s..e];
    // Whether a prefix segment so far names a credential, strongly (any body) or weakly
    // (random mixed-case bodies only).
    let (mut strong, mut named, mut public) = (false, false, false);
    for (k, segment) in segments(run).take(5).enumerate() {
        let (seg_s, seg_e) = segment;
        if k > 0 {
            let body = &run[seg_s..];
            let first = &run[seg_s..seg_e];
            // The body starts with something random-looking, not a word (`gateway` in
            // `api-gateway-7d9f8b6c5d-x2k9p`).
            let starts_random = first.iter().any(|c| c.is_ascii_digit())
                || (first.iter().any(u8::is_ascii_uppercase)
                    && first.iter().any(u8::is_ascii_lowercase));
            if starts_random && body.len() >= MIN_NAMED_BODY {
                let st = stats(body);
                let uuid = is_uuid(body);
                let random = st.random_mixed(if named {
                    MIN_NAMED_BODY
                } else {
                    MIN_UNNAMED_BODY
                }) || (strong
                    && ((st.is_hex() && st.alnum >= 32 && st.other <= 4)
                        || uuid
                        || st.random_single_case(24)));
                if random {
                    scan.push(s, e, "@token_shape");
                    return;
                }
            }
        }
        // `seg` becomes part of the prefix: a vendor prefix is short, one case, starts
        // with a letter, and is not a digest's name.
        let seg = &run[seg_s..seg_e];
        let single_case =
            !(seg.iter().any(u8::is_ascii_uppercase) && seg.iter().any(u8::is_ascii_lowercase));
        if seg.is_empty()
            || seg.len() > 16
            || !single_case
            || (k == 0 && !seg[0].is_ascii_alphabetic())
            || is_digest_name(seg)
            || seg_s > 40
        {
            return;
        }
        let is = |list: &[&str]| list.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(seg));
        strong |= is(SECRET_SEGMENTS);
        public |= k == 0 && is(PUBLIC_FIRST);
        named |= strong || (!public && is(LIVE_SEGMENTS));
    }
}

/// The segments of a run, split at `_`, `-` and `.`, as bounds.
fn segments(run: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at > run.len() {
            return None;
        }
        let s = at;
        let mut e = s;
        while e < run.len() && !matches!(run[e], b'_' | b'-' | b'.') {
            e += 1;
        }
        at = e + 1;
        Some((s, e))
    })
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// A run of the base64 alphabets (standard and URL-safe) at `start..body_end`, with its
/// padding: an AWS secret access key on its own, or base64 that decodes to a secret.
fn base64_run(scan: &mut Scan<'_, '_>, start: usize, body_end: usize) {
    let b = scan.b;
    let mut end = body_end;
    while end < b.len() && b[end] == b'=' && end - body_end < 2 {
        end += 1;
    }
    // Part of a longer word or value (`.`, `%`, `@` around it).
    let before = start.checked_sub(1).map(|p| b[p]);
    if matches!(before, Some(b'.' | b'%' | b'@' | b'\\'))
        || matches!(b.get(end), Some(b'.' | b'%' | b'@'))
    {
        return;
    }
    let run = &b[start..body_end];
    if run.len() == 40
        && end == body_end
        && (aws_secret_shape(run) || aws_secret_beside_key_id(b, start, body_end))
    {
        scan.push(start, end, "@aws_secret_key");
        return;
    }
    if run.len() <= 16 * 1024 {
        decoded_secret(scan, start, body_end, end);
    }
}

/// 40 characters of the standard base64 alphabet with `/` or `+` among them and random
/// by their classes: the shape of an AWS secret access key (30 random bytes).
fn aws_secret_shape(run: &[u8]) -> bool {
    if !run.iter().any(|c| matches!(c, b'/' | b'+')) || run.iter().any(|c| matches!(c, b'-' | b'_'))
    {
        return false;
    }
    // Each part between the symbols, and the whole, as a uniform draw would be.
    stats(run).random_mixed(30)
}

/// Prefixes of AWS access key ids (IAM's unique-id prefixes).
const AWS_KEY_ID_PREFIXES: &[&[u8]] = &[
    b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AIPA", b"ANPA", b"ANVA", b"APKA",
    b"AROA", b"ASCA",
];

/// How far from a 40-character run an access key id makes it its secret.
const AWS_PAIR_WINDOW: usize = 160;

/// A random 40-character run of the base64 alphabet without `/` or `+` (a quarter of
/// AWS secret keys have neither) beside an access key id: the pair's secret.
fn aws_secret_beside_key_id(b: &[u8], start: usize, end: usize) -> bool {
    let run = &b[start..end];
    if run.iter().any(|c| matches!(c, b'-' | b'_')) || !stats(run).random_mixed(30) {
        return false;
    }
    let from = start.saturating_sub(AWS_PAIR_WINDOW);
    let to = (end + AWS_PAIR_WINDOW).min(b.len());
    let window = &b[from..to];
    memchr::memchr_iter(b'A', window).any(|i| {
        let id = &window[i..];
        id.len() >= 20
            && AWS_KEY_ID_PREFIXES.iter().any(|p| id.starts_with(p))
            && id[4..20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && id.get(20).is_none_or(|c| !c.is_ascii_alphanumeric())
            && (i == 0 || !window[i - 1].is_ascii_alphanumeric())
    })
}

/// Base64 at `start..body_end` (padding to `end`) that decodes to a SASL `PLAIN`
/// response, to `user:password`, or to text in which a detector finds a secret: the
/// whole run is reported.
fn decoded_secret(scan: &mut Scan<'_, '_>, start: usize, body_end: usize, end: usize) {
    let run = &scan.b[start..body_end];
    // Base64 of ASCII text: each group of four starts with a character worth under 32
    // (`A`-`Z`, `a`-`f`: a first byte under 0x80). Random bytes, hex, identifiers give
    // that far less often; they are not decoded. (A quarter of the bytes looked at.)
    let groups = run.len() / 4;
    let ascii_led = run
        .chunks_exact(4)
        .filter(|g| matches!(g[0], b'A'..=b'Z' | b'a'..=b'f'))
        .count();
    if groups == 0 || ascii_led * 10 < groups * 9 {
        return;
    }
    // Base64 of text mixes both cases.
    let upper = run.iter().any(u8::is_ascii_uppercase);
    let lower = run.iter().any(u8::is_ascii_lowercase);
    if !upper || !lower {
        return;
    }
    let url_safe = run.iter().any(|c| matches!(c, b'-' | b'_'));
    if url_safe && run.iter().any(|c| matches!(c, b'+' | b'/')) {
        return;
    }
    let Some(decoded) = decode_base64(run, url_safe) else {
        return;
    };
    *scan.steps += run.len() as u64;
    if sasl_plain(&decoded) {
        scan.push(start, end, "@encoded_secret");
        return;
    }
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return;
    };
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    if text.len() < 8 || printable * 10 < text.chars().count() * 9 {
        return;
    }
    if user_colon_password(text) {
        scan.push(start, end, "@encoded_secret");
        return;
    }
    if let Some(inner) = scan.rescan(text) {
        if !inner.is_empty() {
            scan.push(start, end, "@encoded_secret");
        }
    }
}

/// `authzid \0 authcid \0 password` (RFC 4616), as sent after `AUTH PLAIN`.
fn sasl_plain(d: &[u8]) -> bool {
    let mut parts = d.split(|&c| c == 0);
    let (Some(authz), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    // Each part is text (UTF-8 without control characters): random bytes with two zeros
    // among them are not a SASL response.
    let text =
        |part: &[u8]| std::str::from_utf8(part).is_ok_and(|t| !t.chars().any(char::is_control));
    !user.is_empty()
        && !password.is_empty()
        && user.iter().any(u8::is_ascii_alphanumeric)
        && text(authz)
        && text(user)
        && text(password)
}

/// `user:password` as Basic credentials carry it: one colon, no spaces, a short user.
fn user_colon_password(t: &str) -> bool {
    let Some((user, password)) = t.split_once(':') else {
        return false;
    };
    (1..=64).contains(&user.len())
        && password.len() >= 4
        && !password.contains(':')
        && !t.contains(char::is_whitespace)
        && user
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'@' | b'+'))
}

/// Decodes standard or URL-safe base64 without padding; `None` when it is not base64
/// (a length no encoder produces).
fn decode_base64(run: &[u8], url_safe: bool) -> Option<Vec<u8>> {
    if run.len() % 4 == 1 {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' if !url_safe => 62,
            b'/' if !url_safe => 63,
            b'-' if url_safe => 62,
            b'_' if url_safe => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(run.len() / 4 * 3 + 2);
    for chunk in run.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_both_alphabets() {
        assert_eq!(
            decode_base64(b"aGVsbG8", false).as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(
            decode_base64(b"aGVsbG8gd29ybGQ", false).as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(decode_base64(b"-_-_", true).map(|v| v.len()), Some(3));
        assert!(decode_base64(b"abcde", false).is_none());
        assert!(decode_base64(b"ab-c", false).is_none());
    }

    #[test]
    fn sasl_and_basic_shapes() {
        assert!(sasl_plain(b"\0billing@acme.io\0Zr8Np3Kv6Qs"));
        assert!(sasl_plain(b"admin\0billing\0pw"));
        assert!(!sasl_plain(b"no nulls here"));
        assert!(user_colon_password("svc-reports:Vt6Bn2Mx8Qz"));
        assert!(!user_colon_password("12:30:45"));
        assert!(!user_colon_password("see: the docs"));
    }
}
