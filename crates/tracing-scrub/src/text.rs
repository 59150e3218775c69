//! Structure inside text, found in one left-to-right pass: `key=value`, `key: value`,
//! `"key": value`, `key => value`, labels of a few words (`API key: ...`), Rust `Debug`
//! output (structs, tuple structs, enums, lists, maps, string literals with escapes,
//! `{:#?}`), JSON (also escaped inside a string), XML elements, YAML blocks, command-line
//! flags, URL userinfo and token-like URL path segments.
//!
//! A key is read backwards from its separator within [`KEY_WINDOW`] bytes; the whole
//! value of a sensitive key, whatever wraps it, is skipped forward and reported. The
//! scan never moves back past what it reported, so each byte is visited a bounded number
//! of times: the cost is linear in the text.

use crate::finding::Finding;
use crate::keys::KeyMatcher;

/// How far back from a separator a key may start (bytes).
const KEY_WINDOW: usize = 96;
/// Shortest path segment taken for a token (`/reset/<token>`, webhook and bot URLs).
const MIN_PATH_TOKEN: usize = 20;

/// Longest URL userinfo looked for (bytes after `://`).
const MAX_USERINFO: usize = 512;

/// Keys that are secrets only as query parameters (`?key=`, `&sig=`, `?code=`).
const QUERY_KEYS: &[&str] = &[
    "key",
    "sig",
    "signature",
    "code",
    "secret",
    "pwd",
    "pass",
    "k",
    "apikey",
    "auth",
    "samlresponse",
    "saml",
    "samlart",
    // OAuth 2.0 and OpenID Connect parameters that carry a credential or one step of
    // getting one (RFC 6749 4.1.2 `code`, 6 `refresh_token`; RFC 7521 `assertion`,
    // `client_assertion`; RFC 7636 `code_verifier`; RFC 8628 `device_code`, `user_code`;
    // RFC 8693 `subject_token`, `actor_token`; OIDC `id_token_hint`, `logout_token`),
    // and the short `refresh` of refresh links.
    "refresh",
    "assertion",
    "user_code",
    "usercode",
];

/// Query keys whose value is a token when it is opaque (see [`opaque`]): CAS tickets
/// (`?ticket=ST-..`), license keys, `?hash=` links.
const OPAQUE_QUERY_KEYS: &[&str] = &[
    "t", "tk", "tok", "ticket", "license", "licence", "hash", "h",
];

/// Keys that name a credential only by the pair they belong to, in any key/value
/// syntax (JSON, YAML, `k=v`): an access/refresh token pair as token endpoints return it
/// (djangorestframework-simplejwt's `{"access":..,"refresh":..}`, `access:`/`refresh:`
/// in YAML). Their value is the token when it is opaque (`"access":"granted"`,
/// `refresh: daily` stay).
const OPAQUE_PAIR_KEYS: &[&str] = &["access", "refresh"];

/// Authorization schemes: the credential is the word after them.
const SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "digest",
    "token",
    "ssws",
    "apikey",
    "api-key",
    "key",
    "negotiate",
    "ntlm",
    "hmac",
    "mac",
    "dpop",
    "aws4-hmac-sha256",
];

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%') || b >= 0x80
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

fn is_value_end(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b';' | b'&' | b')' | b'}' | b']' | b'"' | b'\'' | b'<' | b'>'
        )
}

/// The end of a bare value from `v`: the next whitespace, or a delimiter that ends it
/// (`,;&)}]"'<>`, and `(`/`{` for the caller's wrapper check). A delimiter inside the value
/// (`Tr0ub4dor&3-horse`, `Qz7;Lm2`, `a)b`: generated passwords hold them) does not end it
/// ([`continues_value`]).
fn bare_end(b: &[u8], v: usize, steps: &mut u64) -> usize {
    let n = b.len();
    let mut e = v;
    loop {
        while e < n && !is_value_end(b[e]) && b[e] != b'(' && b[e] != b'{' {
            e += 1;
        }
        if e >= n || e == v || !continues_value(b, e) {
            *steps += (e - v) as u64;
            return e;
        }
        e += 1;
    }
}

/// Whether the delimiter at `p`, right after a bare value's characters, is part of the
/// value. It ends the value when followed by whitespace or the end of the text; `&`, `;`
/// and `,` also when followed by the next `key=` or `key:` (a query string's `&state=1`,
/// `&amp;state=1` in HTML, a cookie's `; Path=/`, `, user=x`); a closing bracket, quote or
/// `>` also when followed by punctuation (`(password=x).`, `"password=x",`), and `<`
/// when it opens a closing tag, a comment or a CDATA section (`</td>`).
fn continues_value(b: &[u8], p: usize) -> bool {
    let c = b[p];
    if matches!(c, b'(' | b'{') || c.is_ascii_whitespace() {
        return false;
    }
    let after = if b[p..].starts_with(b"&amp;") {
        p + 5
    } else {
        p + 1
    };
    let Some(&next) = b.get(after) else {
        return false;
    };
    if next.is_ascii_whitespace() {
        return false;
    }
    match c {
        b'&' | b';' | b',' => !starts_pair(b, after),
        b'<' => {
            next != b'/' && !b[after..].starts_with(b"!--") && !b[after..].starts_with(b"![CDATA[")
        }
        _ => {
            next.is_ascii_alphanumeric()
                || matches!(
                    next,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'/'
                        | b'='
                        | b'?'
                        | b'@'
                        | b'^'
                        | b'_'
                        | b'~'
                        | b'&'
                )
        }
    }
}

/// Whether a `key=` or `key:` starts at `q`.
fn starts_pair(b: &[u8], q: usize) -> bool {
    let mut k = q;
    while k < b.len() && k - q < KEY_WINDOW && is_key_byte(b[k]) {
        k += 1;
    }
    k > q && matches!(b.get(k), Some(b'=' | b':'))
}

/// Scans `text` once and appends what must be replaced to `out`. Acts only at `=`, `:`,
/// `<`, `>`, `-`, `/`, `(` and `{` (the caller skips text without any; keep
/// `values::STRUCTURE` in step with the `match` below). `steps` counts bytes
/// visited (for the linear-cost test).
pub(crate) fn find_structured(
    text: &str,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut last_lt = None;
    let mut path = PathContext::default();
    while i < n {
        *steps += 1;
        let next = match b[i] {
            b'=' | b':' => separator(text, i, keys, out, steps),
            b'<' => {
                last_lt = Some(i);
                None
            }
            b'>' => last_lt
                .take()
                .and_then(|lt| xml_element(text, lt, i, keys, out, steps)),
            b'-' if i > 0 && b[i - 1] == b' ' && b.get(i + 1) == Some(&b' ') => {
                dash_label(text, i, keys, out, steps)
            }
            b'-' if i == 0 || b[i - 1].is_ascii_whitespace() => flag(text, i, keys, out, steps),
            b'/' => {
                path_in_context(b, i, &mut path, out, steps);
                path_token(b, i + 1, out, steps)
            }
            b'(' | b'{' => sensitive_type(text, i, keys, out, steps),
            b',' => tuple_pair(text, i, keys, out, steps),
            b';' if i > 0 && b[i - 1] == b'"' => php_pair(text, i, keys, out, steps),
            _ => None,
        };
        i = next.unwrap_or(i + 1).max(i + 1);
    }
}

fn push(out: &mut Vec<Finding>, start: usize, end: usize, rule: &'static str) {
    if end > start {
        out.push(Finding { start, end, rule });
    }
}

/// At the `(` or `{` after a type whose name names a secret (`ApiKey("..")`,
/// `Password(..)`, `SecretString { .. }`): the whole value is reported, whatever key
/// (or none) it stands under.
fn sensitive_type(
    text: &str,
    open: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let mut end = open;
    while end > 0 && b[end - 1] == b' ' && b[open] == b'{' {
        end -= 1;
    }
    let floor = end.saturating_sub(KEY_WINDOW);
    let mut start = end;
    while start > floor && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
        start -= 1;
    }
    *steps += (open - start) as u64;
    if start == end || (start > 0 && (b[start - 1] == b':' || b[start - 1] >= 0x80)) {
        return None;
    }
    // A GraphQL field with arguments (`changePassword(input: {old: "..", new: ".."})`).
    if b[start].is_ascii_lowercase() && b[open] == b'(' && end == open {
        return graphql_arguments(text, start, open, keys, out, steps);
    }
    // A type name: starts with an upper-case letter, not part of a path or a word.
    if !b[start].is_ascii_uppercase() {
        return None;
    }
    // Only names of credentials: `Session(7)` or `Auth { .. }` are data about one.
    let name = &text[start..end];
    if !names_credential(name) || !keys.is_sensitive(name) {
        return None;
    }
    let close = balanced_end(b, open, steps);
    push(
        out,
        open + 1,
        close.saturating_sub(1).max(open + 1),
        "@key_value",
    );
    Some(close)
}

/// At `b'/'`+1: a token-like path segment (upper, lower and digits, at least
/// [`MIN_PATH_TOKEN`] long), as in reset links and webhook or bot URLs.
fn path_token(b: &[u8], start: usize, out: &mut Vec<Finding>, steps: &mut u64) -> Option<usize> {
    let mut end = start;
    while end < b.len() && is_token_byte(b[end]) {
        end += 1;
    }
    *steps += (end - start) as u64;
    // `/bot<digits>:<token>` (Telegram): the token follows the colon.
    if end < b.len() && b[end] == b':' && end - start >= 6 && b[end - 1].is_ascii_digit() {
        let token_start = end + 1;
        let mut token_end = token_start;
        while token_end < b.len() && is_token_byte(b[token_end]) {
            token_end += 1;
        }
        *steps += (token_end - token_start) as u64;
        if token_like(&b[token_start..token_end]) {
            push(out, token_start, token_end, "@url_path_token");
            return Some(token_end);
        }
        return Some(end);
    }
    let ends_segment = end == b.len()
        || matches!(b[end], b'/' | b'?' | b'#' | b')' | b'"' | b'\'')
        || b[end].is_ascii_whitespace();
    if ends_segment
        && token_like(&b[start..end])
        && !inside_base64(b, start - 1, steps)
        && !object_id(&b[start..end])
    {
        push(out, start, end, "@url_path_token");
        return Some(end);
    }
    None
}

/// Whether the `/` at `slash` is a character of a base64 value (an SSH public key, an
/// `sha512-` integrity string, a signature), not a path's separator: 16 or more base64
/// characters of mixed classes run up to it from a word's start (or from a digest's
/// name), and the run does not start with `/`.
fn inside_base64(b: &[u8], slash: usize, steps: &mut u64) -> bool {
    let floor = slash.saturating_sub(512);
    let mut r = slash;
    while r > floor && (b[r - 1].is_ascii_alphanumeric() || matches!(b[r - 1], b'+' | b'=' | b'/'))
    {
        r -= 1;
    }
    *steps += (slash - r) as u64;
    let part = &b[r..slash];
    let digest_name = || {
        let mut k = r - 1;
        while k > floor && b[k - 1].is_ascii_alphanumeric() {
            k -= 1;
        }
        matches!(
            &b[k..r - 1],
            b"sha1" | b"sha256" | b"sha384" | b"sha512" | b"md5"
        )
    };
    let digest = r > 0 && matches!(b[r - 1], b'-' | b':' | b'~') && digest_name();
    let word_start = r == 0
        || b[r - 1].is_ascii_whitespace()
        || matches!(b[r - 1], b'"' | b'\'' | b'(' | b'[' | b',' | b'=');
    if digest {
        return true;
    }
    word_start
        && part.len() >= 16
        && part.first() != Some(&b'/')
        && part.iter().any(u8::is_ascii_uppercase)
        && part.iter().any(u8::is_ascii_lowercase)
        && part.iter().any(u8::is_ascii_digit)
}

/// A REST object id with its type before an underscore (`pi_3QxK9b..`, `cus_Nff..`,
/// `evt_1Q..`): an id, not a credential, unless the type names one (`sk_`, `rk_`,
/// `whsec_`, `..key_`, `..token_`; vendor keys are found by their own rules anyway).
/// Object ids have short bodies (Stripe's are 14 to 28 characters); a random body of
/// more than [`MAX_OBJECT_ID_BODY`] after a short prefix is a token (`omnlua_<48>`).
fn object_id(s: &[u8]) -> bool {
    let Some(underscore) = s.iter().position(|&c| c == b'_') else {
        return false;
    };
    let kind = &s[..underscore];
    let secretish = [
        "sk", "rk", "whsec", "key", "sec", "tok", "pass", "pwd", "auth", "pat",
    ]
    .iter()
    .any(|w| kind.windows(w.len()).any(|x| x == w.as_bytes()));
    (2..=8).contains(&kind.len())
        && kind.iter().all(u8::is_ascii_lowercase)
        && !secretish
        && s[underscore + 1..].iter().all(u8::is_ascii_alphanumeric)
        && s.len() - underscore - 1 <= MAX_OBJECT_ID_BODY
}

/// Longest body of a REST object id (see [`object_id`]).
const MAX_OBJECT_ID_BODY: usize = 30;

/// Path segments after which the next segments and the query values are one-time
/// tokens (reset, verification, invitation, unsubscribe and magic links; webhook URLs,
/// whose path holds the secret: Slack `hooks.slack.com/services/T../B../<secret>`,
/// Discord `/api/webhooks/<id>/<secret>`, Teams `webhook.office.com/webhookb2/..`).
const PATH_CONTEXT_WORDS: &[&str] = &[
    "reset",
    "verify",
    "verification",
    "confirm",
    "confirmation",
    "invite",
    "invites",
    "invitation",
    "invitations",
    "unsubscribe",
    "magic",
    "activate",
    "activation",
    "recover",
    "recovery",
    "webhook",
    "webhooks",
    "webhookb2",
    "hooks",
    "otp",
    "passwordless",
    "password",
    "token",
    "tokens",
    "secret",
    "secrets",
    "share",
    "shared",
    // A key in the path (IFTTT Webhooks' `/trigger/<event>/with/key/<key>`).
    "key",
];

/// Shortest opaque path segment or query value taken for a token in a
/// [`PATH_CONTEXT_WORDS`] URL.
const MIN_CONTEXT_TOKEN: usize = 16;
/// The same, for a segment of upper case, lower case and digits mixed.
const MIN_MIXED_CONTEXT_TOKEN: usize = 10;

/// Where the URL path in a token context has got to.
#[derive(Default)]
struct PathContext {
    /// End of the last segment of a path in context: a `/` here continues it.
    chain_end: Option<usize>,
    /// Query strings are scanned once: up to here they have been.
    query_done: usize,
}

/// At the `/` at `slash`: the segment after it is a context word (then later segments
/// and query values of the same path are looked at), or, in such a path, an opaque
/// token (reported). Each segment and query is looked at once.
fn path_in_context(
    b: &[u8],
    slash: usize,
    ctx: &mut PathContext,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) {
    let start = slash + 1;
    let mut end = start;
    while end < b.len()
        && !matches!(
            b[end],
            b'/' | b'?'
                | b'#'
                | b'&'
                | b'"'
                | b'\''
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b','
                | b';'
                | b'\\'
        )
        && !b[end].is_ascii_whitespace()
    {
        end += 1;
    }
    *steps += (end - start) as u64;
    let segment = &b[start..end];
    let in_chain = ctx.chain_end == Some(slash);
    let context = names_token_context(segment);
    if in_chain && !context && opaque(segment) {
        push(out, start, end, "@url_path_token");
    }
    ctx.chain_end = (in_chain || context).then_some(end);
    if (in_chain || context) && b.get(end) == Some(&b'?') && end >= ctx.query_done {
        ctx.query_done = query_tokens(b, end + 1, out, steps);
    }
}

/// Whether a path segment (or host) holds one of [`PATH_CONTEXT_WORDS`] as a word
/// (`reset-password`, `verify_email`, `hooks.slack.com`).
fn names_token_context(segment: &[u8]) -> bool {
    segment.split(|c| !c.is_ascii_alphanumeric()).any(|word| {
        PATH_CONTEXT_WORDS
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Opaque: long, token characters only, not all digits (an id), and random-looking:
/// a digit, an upper-case letter, or a letter run longer than words are
/// (`weekly-newsletter-digest` is a slug; `zkvqxpmlnrtywbcd` is not).
/// Whether the value at the start of `rest` can be an OAuth authorization code: codes
/// are opaque strings of some length (RFC 6749 10.10: guessable codes are forbidden), not
/// a status or region code (`code=404&state=retrying`, `code=US&state=CA`, `code=E1001`).
fn authorization_code(rest: &[u8]) -> bool {
    let len = rest
        .iter()
        .take_while(|&&c| c != b'&' && !c.is_ascii_whitespace())
        .count();
    len >= 8 && !rest[..len].iter().all(u8::is_ascii_digit)
}

/// Whether OAuth's `state` is a member of the object or struct the key at
/// `key_start..at` is in (within 512 bytes either side): `{"code":"X","state":"Y"}`, an
/// authorization response as JSON or `Debug` (RFC 6749 4.1.2), not `{"code":"E1001"}`.
fn beside_oauth_state(b: &[u8], key_start: usize, at: usize) -> bool {
    let window = &b[key_start.saturating_sub(512)..(at + 512).min(b.len())];
    [&b"\"state\""[..], b"'state'", b"state:", b"state="]
        .iter()
        .any(|k| memchr::memmem::find(window, k).is_some())
}

/// Whether the (quoted) value from `from` is written in constant case (`INVALID_ARGUMENT`,
/// `ERR_TIMEOUT`, `HTTP2_ERROR`): an enum's name, not a random code.
fn constant_case(b: &[u8], from: usize) -> bool {
    let v = b[from..]
        .iter()
        .skip_while(|c| matches!(c, b' ' | b'\t' | b'"' | b'\''))
        .take_while(|&&c| is_token_byte(c));
    let (mut any, mut digit, mut underscore) = (false, false, false);
    for &c in v {
        if !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_') {
            return false;
        }
        any = true;
        digit |= c.is_ascii_digit();
        underscore |= c == b'_';
    }
    // Digits without a word separator (`Q2HKZT7M4XPLW`) are random.
    any && (underscore || !digit)
}

fn opaque(s: &[u8]) -> bool {
    // Upper case, lower case and digits mixed: random from 10 characters on.
    let mixed = s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase)
        && s.iter().any(u8::is_ascii_digit);
    if s.len()
        < if mixed {
            MIN_MIXED_CONTEXT_TOKEN
        } else {
            MIN_CONTEXT_TOKEN
        }
        || !s.iter().all(|&c| is_token_byte(c))
        || s.iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let longest_letters = s
        .split(|c| !c.is_ascii_lowercase())
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    s.iter()
        .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || longest_letters >= 16
}

/// Longest value [`policy_value`] reads.
const MAX_POLICY_VALUE: usize = 96;

/// Words of a password policy's quantities (`minimum 8 characters`, `12 Zeichen`,
/// `90日`, `8文字以上`, `2회`) in the languages of the password words of the key rules.
/// ASCII words stand as words of their own; others may be written onto the number.
const QUANTITY_WORDS: &[&str] = &[
    "characters",
    "character",
    "chars",
    "char",
    "symbols",
    "letters",
    "digits",
    "days",
    "day",
    "hours",
    "hour",
    "minutes",
    "minute",
    "mins",
    "seconds",
    "secs",
    "weeks",
    "months",
    "attempts",
    "tries",
    "times",
    "minimum",
    "maximum",
    "min",
    "max",
    "at",
    "least",
    "most",
    "or",
    "more",
    "fewer",
    "less",
    "than",
    "zeichen",
    "tage",
    "tagen",
    "stunden",
    "minuten",
    "versuche",
    "mindestens",
    "höchstens",
    "maximal",
    "mal",
    "caracteres",
    "días",
    "dias",
    "horas",
    "intentos",
    "mínimo",
    "minimo",
    "máximo",
    "maximo",
    "caractères",
    "jours",
    "heures",
    "tentatives",
    "au",
    "moins",
    "plus",
    "tentativas",
    "символов",
    "символа",
    "символ",
    "знаков",
    "дней",
    "дня",
    "день",
    "часов",
    "попыток",
    "попытки",
    "раз",
    "минимум",
    "максимум",
    "не",
    "менее",
    "более",
    "文字",
    "字符",
    "个字符",
    "個",
    "个",
    "位",
    "日",
    "天",
    "時間",
    "小时",
    "回",
    "次",
    "以上",
    "以下",
    "桁",
    "자",
    "자리",
    "일",
    "회",
    "번",
    "이상",
    "이하",
    "最少",
    "最小",
    "至少",
    "最低",
];

/// The value at `v` (quoted, or up to the end of its line or list item) when it holds no
/// secret: masked (`******`, `••••`) or a quantity (a number of at most three digits and
/// [`QUANTITY_WORDS`] only). Returns its end.
fn policy_value(text: &str, v: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = b.get(v).copied().filter(|c| matches!(c, b'"' | b'\''));
    let start = v + usize::from(quote.is_some());
    let limit = (start + MAX_POLICY_VALUE).min(b.len());
    let end = match quote {
        Some(q) => start + b[start..limit].iter().position(|&c| c == q)?,
        None => {
            start
                + b[start..limit]
                    .iter()
                    .position(|&c| matches!(c, b'\n' | b'\r' | b',' | b';' | b'"' | b'}' | b'&'))
                    .unwrap_or(limit - start)
        }
    };
    if quote.is_none() && end == limit && limit < b.len() {
        return None;
    }
    let value = text.get(start..end)?.trim();
    let masked = value.chars().count() >= 3 && value.chars().all(|c| matches!(c, '*' | '•' | '●'));
    // A placeholder, whole or as the value's first word before another pair
    // (`token=none user=bob`).
    let first = value.split_whitespace().next().unwrap_or_default();
    let first_end = start + text[start..end].find(first).unwrap_or(0) + first.len();
    let next_is_pair = text[first_end..end]
        .split_whitespace()
        .next()
        .is_some_and(|w| w.contains('=') || w.ends_with(':'));
    if quote.is_none() && next_is_pair && super::words::is_placeholder(first) {
        return Some(first_end);
    }
    (masked || quantity_phrase(value) || super::words::is_placeholder(value))
        .then_some(end + usize::from(quote.is_some()))
}

/// A number of at most three digits and quantity words only, at least one of each.
fn quantity_phrase(value: &str) -> bool {
    let (mut numbers, mut words) = (0, 0);
    for token in value.split_whitespace().take(7) {
        let mut rest = token.trim_end_matches(['.', ',', ';', ')', '(']);
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                if digits > 3 {
                    return false;
                }
                numbers += 1;
                rest = &rest[digits..];
                continue;
            }
            // The longest word of the list the token starts with; an ASCII one is the
            // whole rest of the token (`4days` is no quantity).
            let lower = rest.to_lowercase();
            let Some(word) = QUANTITY_WORDS
                .iter()
                .filter(|w| lower.starts_with(*w) && (!w.is_ascii() || lower.len() == w.len()))
                .max_by_key(|w| w.len())
            else {
                return false;
            };
            if word.is_ascii()
                && rest.len() != token.trim_end_matches(['.', ',', ';', ')', '(']).len()
            {
                return false;
            }
            words += 1;
            rest = rest.get(word.len()..).unwrap_or("");
        }
    }
    numbers > 0 && words > 0 && value.split_whitespace().count() <= 7
}

/// The value at `from` (blanks and one quote skipped) when it is an opaque token, whole
/// (a quoted value ends at its quote): reported, with its end.
fn opaque_pair_value(
    b: &[u8],
    from: usize,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let mut v = from;
    while v < b.len() && matches!(b[v], b' ' | b'\t') && v - from < 4 {
        v += 1;
    }
    let quote = b.get(v).copied().filter(|c| matches!(c, b'"' | b'\''));
    if quote.is_some() {
        v += 1;
    }
    let mut end = v;
    while end < b.len() && is_token_byte(b[end]) && end - v < 4096 {
        end += 1;
    }
    *steps += (end - from) as u64;
    let whole = match quote {
        Some(q) => b.get(end) == Some(&q),
        None => b
            .get(end)
            .is_none_or(|&c| is_value_end(c) || matches!(c, b',' | b'}' | b';' | b'&')),
    };
    if whole && opaque(&b[v..end]) {
        push(out, v, end, "@key_value");
        return Some(end);
    }
    None
}

/// The query string from `start` (after `?`) of a URL in a token context: each opaque
/// value is reported. Returns the query's end.
fn query_tokens(b: &[u8], start: usize, out: &mut Vec<Finding>, steps: &mut u64) -> usize {
    let mut k = start;
    let mut value_start = None;
    let flush = |from: Option<usize>, to: usize, out: &mut Vec<Finding>| {
        if let Some(v) = from {
            if opaque(&b[v..to]) {
                push(out, v, to, "@url_path_token");
            }
        }
    };
    while k < b.len()
        && !b[k].is_ascii_whitespace()
        && !matches!(b[k], b'#' | b'"' | b'\'' | b'<' | b'>' | b')')
    {
        match b[k] {
            b'=' if value_start.is_none() => value_start = Some(k + 1),
            b'&' | b';' => {
                flush(value_start.take(), k, out);
            }
            _ => {}
        }
        k += 1;
    }
    flush(value_start, k, out);
    *steps += (k - start) as u64;
    k
}

/// Random-looking: long, with upper case, lower case and digits (hex hashes and UUIDs,
/// being one case, are ids and stay).
fn token_like(s: &[u8]) -> bool {
    s.len() >= MIN_PATH_TOKEN
        && s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase)
        && s.iter().any(u8::is_ascii_digit)
}

/// The key that ends right before `end` (spaces skipped): a quoted string, or a run of
/// key characters, plus up to two words before it for labels (`API key`, `Session ID`).
/// Returns the candidate keys (longest last) and where the key starts.
fn key_before(text: &str, end: usize) -> Option<(Candidates<'_>, usize, bool)> {
    let b = text.as_bytes();
    let floor = end.saturating_sub(KEY_WINDOW);
    let mut j = end;
    while j > floor && matches!(b[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    if j == floor {
        return None;
    }
    let boundary = |mut k: usize| {
        while !text.is_char_boundary(k) {
            k += 1;
        }
        k
    };
    if matches!(b[j - 1], b'"' | b'\'') {
        let quote = b[j - 1];
        let mut close = j - 1;
        while close > floor && b[close - 1] == b'\\' {
            close -= 1;
        }
        let mut open = close;
        while open > floor && b[open - 1] != quote {
            open -= 1;
        }
        if open == floor || open == close {
            return None;
        }
        let start = boundary(open);
        let key = text[start..close].trim_end_matches('\\');
        return Some((Candidates::one(key), open - 1, true));
    }
    let mut s = j;
    while s > floor && is_key_byte(b[s - 1]) {
        s -= 1;
    }
    let s = boundary(s);
    if s >= j {
        return None;
    }
    let mut candidates = Candidates::one(&text[s..j]);
    // Up to two more words before it, one space apart, for labels (letters of any
    // script: `date de naissance`, `doğum tarihi`, `كلمة المرور`).
    let mut start = s;
    let letter = |c: u8| c.is_ascii_alphabetic() || c >= 0x80;
    for _ in 0..2 {
        if start < 2 || start - 2 < floor || b[start - 1] != b' ' || !letter(b[start - 2]) {
            break;
        }
        let mut w = start - 1;
        // An apostrophe inside a word is part of it (`Driver's License`, `carte d'identité`).
        while w > floor
            && (letter(b[w - 1])
                || b[w - 1] == b'\'' && w - 1 > floor && w < start - 1 && letter(b[w - 2]))
        {
            w -= 1;
        }
        let w = boundary(w);
        // A whole word only: letters cut from a longer token (`..410tDmPw amount=`) are
        // not a label.
        if start - 1 - w > 24 || (w > 0 && (b[w - 1].is_ascii_alphanumeric() || b[w - 1] == b'_')) {
            break;
        }
        start = w;
        candidates.push(&text[start..j]);
    }
    Some((candidates, s, false))
}

/// Whether the value after the `=` at `at` is followed by `&key=`: the first pair of a
/// query string written without its `?`.
fn first_of_query(b: &[u8], at: usize) -> bool {
    let end = at
        + 1
        + b[at + 1..]
            .iter()
            .take(4096)
            .position(|&c| c == b'&' || c.is_ascii_whitespace() || c == b'"')
            .unwrap_or(b.len() - at - 1);
    b.get(end) == Some(&b'&') && starts_pair(b, end + 1)
}

/// Up to three candidate keys (no allocation: this runs at every separator).
struct Candidates<'a> {
    keys: [&'a str; 3],
    len: usize,
}

impl<'a> Candidates<'a> {
    fn one(key: &'a str) -> Self {
        Candidates {
            keys: [key, "", ""],
            len: 1,
        }
    }

    fn push(&mut self, key: &'a str) {
        if self.len < self.keys.len() {
            self.keys[self.len] = key;
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &&'a str> {
        self.keys[..self.len].iter()
    }
}

/// At a `=` or `:` at `at`: a key/value pair whose key is sensitive is reported.
fn separator(
    text: &str,
    at: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let n = b.len();
    let prev = at.checked_sub(1).map(|p| b[p]);
    let next = b.get(at + 1).copied();
    let mut value_start = at + 1;
    if b[at] == b':' {
        if next == Some(b':') || prev == Some(b':') {
            return None;
        }
        if next == Some(b'/') && b.get(at + 2) == Some(&b'/') {
            return url(text, at, out, steps);
        }
    } else {
        if matches!(next, Some(b'=')) || matches!(prev, Some(b'=' | b'!' | b'<' | b'>')) {
            return None;
        }
        if next == Some(b'>') {
            value_start = at + 2;
        }
    }
    if b[at] == b':' {
        if let Some(end) = go_dsn_password(b, at, out, steps) {
            return Some(end);
        }
    }
    let (candidates, key_start, quoted) = key_before(text, at)?;
    *steps += (at - key_start) as u64;
    // `arn:aws:secretsmanager:..:secret:name`, `a:b:c`: a colon path, not a pair.
    if b[at] == b':' && key_start > 0 && b[key_start - 1] == b':' {
        return None;
    }
    // A fragment's parameters (`#access_token=..`, OAuth's implicit flow) are read as
    // a query's.
    let first = candidates.keys[0];
    let in_query = b[at] == b'='
        && (key_start > 0 && matches!(b[key_start - 1], b'?' | b'&' | b';' | b'#')
            // A query string or form body on its own (`code=X&state=Y`, Sentry's
            // `query_string`): its first pair, followed by another; a `code` there only
            // with OAuth's `state` (RFC 6749 4.1.2), not `code=404&retry=1`.
            || (key_start == 0 || matches!(b[key_start - 1], b' ' | b'\t' | b'\n' | b'"' | b'\''))
                && first_of_query(b, at)
                && (!first.eq_ignore_ascii_case("code")
                    || (memchr::memmem::find(&b[at..(at + 4096).min(b.len())], b"&state=").is_some()
                        && authorization_code(&b[at + 1..]))));
    let sensitive = (candidates.iter().any(|k| keys.is_sensitive(k))
        && !candidates
            .iter()
            .any(|k| KeyMatcher::names_metadata_first(k)))
        || (in_query && QUERY_KEYS.iter().any(|q| q.eq_ignore_ascii_case(first)))
        || (JWK_PRIVATE.contains(&first) && in_jwk(b, key_start, at));
    if !sensitive {
        if let Some(end) = postal_after_label(text, &candidates, value_start, keys, out, steps) {
            return Some(end);
        }
        // `?t=<token>`: a one-letter key is a token only when its value is opaque
        // (`?t=1732919644` is a time).
        if in_query
            && OPAQUE_QUERY_KEYS
                .iter()
                .any(|q| q.eq_ignore_ascii_case(first))
        {
            let mut end = at + 1;
            while end < n && is_token_byte(b[end]) {
                end += 1;
            }
            *steps += (end - at) as u64;
            if opaque(&b[at + 1..end]) {
                push(out, at + 1, end, "@url_path_token");
                return Some(end);
            }
        }
        if OPAQUE_PAIR_KEYS
            .iter()
            .any(|q| q.eq_ignore_ascii_case(first))
            || first.eq_ignore_ascii_case("code")
                && beside_oauth_state(b, key_start, at)
                && !constant_case(b, value_start)
        {
            return opaque_pair_value(b, value_start, out, steps);
        }
        return None;
    }
    let key = first.to_ascii_lowercase();
    let mut v = value_start;
    while v < n && matches!(b[v], b' ' | b'\t') {
        v += 1;
    }
    *steps += (v - value_start) as u64;
    if v >= n {
        return None;
    }
    // `password: ******`, `пароль: минимум 8 символов`, `パスワード: 8文字以上`: a value
    // already masked, or a policy's quantity, is no secret.
    if let Some(end) = policy_value(text, v) {
        *steps += (end - v) as u64;
        return Some(end);
    }
    // YAML: `password:` then an indented block (also `password: |` / `>`).
    if b[at] == b':' && !quoted {
        let mut w = v;
        if matches!(b[w], b'|' | b'>') {
            w += 1;
            while w < n && matches!(b[w], b'-' | b'+' | b'0'..=b'9' | b' ' | b'\t') {
                w += 1;
            }
        }
        if w < n && matches!(b[w], b'\n' | b'\r') {
            return yaml_block(b, key_start, w, out, steps);
        }
    }
    // Personal data written out (`Anschrift: Hauptstr. 5, 10115 Berlin`, `Telefon: 030
    // 2940 2838`): the words that make it up.
    if !matches!(b[v], b'"' | b'\'' | b'[' | b'{' | b'(' | b'\\') {
        let run = candidates
            .iter()
            .map(|k| super::locale_words::value_run(k))
            .find(|r| *r != super::locale_words::Run::Word);
        if let Some(run) = run {
            let end = running_value_end(b, v, run, steps);
            push(out, v, end, "@key_value");
            return Some(end);
        }
    }
    let end = value_end(text, v, b[at], &key, out, steps)?;
    Some(end)
}

/// After a label holding a bare address word (`Address:`, `Adresse :`, `адрес=`, `住所：`)
/// that names no other kind of address: the value, when it reads as a postal one
/// ([`super::locale_words::postal`]), quoted or up to the end of the line or the next label.
fn postal_after_label(
    text: &str,
    candidates: &Candidates<'_>,
    value_start: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    if !keys.pii() || !super::locale_words::address_label(candidates.keys[candidates.len - 1]) {
        return None;
    }
    let b = text.as_bytes();
    let n = b.len();
    let mut v = value_start;
    while v < n && matches!(b[v], b' ' | b'\t') {
        v += 1;
    }
    if v >= n {
        return None;
    }
    let (start, end) = label_value(b, v, super::locale_words::Run::Text, steps)?;
    if !super::locale_words::postal(text.get(start..end)?) {
        return None;
    }
    push(out, start, end, "@key_value");
    Some(end)
}

/// The extent of a label's value from `v`: a quoted string on one line (its content),
/// or the words [`running_value_end`] takes.
fn label_value(
    b: &[u8],
    v: usize,
    run: super::locale_words::Run,
    steps: &mut u64,
) -> Option<(usize, usize)> {
    if matches!(b[v], b'"' | b'\'') {
        let quote = b[v];
        let close = v
            + 1
            + b[v + 1..]
                .iter()
                .take(512)
                .position(|&c| c == quote || c == b'\n')?;
        *steps += (close - v) as u64;
        return (b[close] == quote).then_some((v + 1, close));
    }
    Some((v, running_value_end(b, v, run, steps)))
}

/// At a ` - ` after a label: the label's value, as after `:` (`Lieferadresse - Hauptstr.
/// 5`, `Address - 221B Baker Street`), for labels that take several words.
fn dash_label(
    text: &str,
    at: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(at + 1) != Some(&b' ') {
        return None;
    }
    let (candidates, _, quoted) = key_before(text, at)?;
    if quoted {
        return None;
    }
    let run = candidates
        .iter()
        .filter(|k| keys.is_sensitive(k))
        .map(|k| super::locale_words::value_run(k))
        .find(|r| *r != super::locale_words::Run::Word);
    if let Some(run) = run {
        let mut v = at + 1;
        while v < b.len() && b[v] == b' ' {
            v += 1;
        }
        if v >= b.len() {
            return None;
        }
        let (start, end) = label_value(b, v, run, steps)?;
        push(out, start, end, "@key_value");
        return Some(end);
    }
    postal_after_label(text, &candidates, at + 1, keys, out, steps)
}

/// Whether a type or field name names a credential (`ApiKey`, `changePassword`); not data
/// about one (`Session`, `Auth`, `Tokenizer`).
fn names_credential(name: &str) -> bool {
    let words = crate::words::split_words(name);
    let credential = words.concat();
    [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "jwt",
        "bearer",
        "privatekey",
        "accesskey",
        "secretkey",
    ]
    .iter()
    .any(|w| credential.contains(w))
        && words.iter().all(|w| w != "tokenizer")
}

/// A GraphQL field whose name names a credential (`changePassword`, `rotateApiKey`,
/// `createToken`), at the `(` of its arguments `name(arg: ..)`: every string argument,
/// at any depth of its input objects (`input: {old: "..", new: ".."}`), is the secret or
/// goes with it, but for ids and user names (`id`, `userId`, `username`). Numbers,
/// enums and variables (`$input`) stay.
fn graphql_arguments(
    text: &str,
    start: usize,
    open: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    // Arguments: `(name:` right after the parenthesis.
    let mut a = open + 1;
    while a < b.len() && b[a].is_ascii_whitespace() {
        a += 1;
    }
    let arg = a;
    while a < b.len() && (b[a].is_ascii_alphanumeric() || b[a] == b'_') {
        a += 1;
    }
    if a == arg || !b[arg].is_ascii_alphabetic() {
        return None;
    }
    while a < b.len() && b[a] == b' ' {
        a += 1;
    }
    if b.get(a) != Some(&b':') || b.get(a + 1) == Some(&b':') {
        return None;
    }
    let name = &text[start..open];
    if !names_credential(name) || !keys.is_sensitive(name) {
        return None;
    }
    let close = balanced_end(b, open, steps);
    let mut k = open + 1;
    while k < close {
        if b[k] == b'"' {
            // Escaped as inside a JSON request body (`{"query": "..(old: \\"X\\")"}`).
            let level = b[..k].iter().rev().take_while(|&&c| c == b'\\').count();
            let end = string_end(b, k, level, steps).min(close);
            let (ks, ke) = {
                let mut e = k;
                while e > open && matches!(b[e - 1], b' ' | b':' | b'\t' | b'\n' | b'\\') {
                    e -= 1;
                }
                let mut s = e;
                while s > open && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_') {
                    s -= 1;
                }
                (s, e)
            };
            let words = crate::words::split_words(&text[ks..ke]);
            let id = words.last().is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "id" | "ids" | "username" | "user" | "login" | "typename"
                )
            });
            if !id && end > k + 1 + level {
                push(out, k + 1, end - level, "@key_value");
            }
            k = end + 1;
            continue;
        }
        k += 1;
    }
    Some(close)
}

/// `s:<length>:"` ending right before `quote` (the quote opening a PHP string): the
/// length.
fn php_length_before(b: &[u8], quote: usize) -> Option<usize> {
    if quote < 4 || b[quote - 1] != b':' {
        return None;
    }
    let digits = b[..quote - 1]
        .iter()
        .rev()
        .take(6)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let d = quote - 1 - digits;
    if digits == 0 || d < 2 || &b[d - 2..d] != b"s:" {
        return None;
    }
    std::str::from_utf8(&b[d..quote - 1]).ok()?.parse().ok()
}

/// PHP's `serialize()` (arrays, objects, session files: `s:8:"password";s:12:"X";`): at
/// the `;` after a string key, the value that follows (a string of its stated length,
/// or an integer) when the key is sensitive.
fn php_pair(
    text: &str,
    semi: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let close = semi - 1;
    let floor = close.saturating_sub(KEY_WINDOW);
    *steps += (close - floor) as u64;
    let open = (floor..close)
        .rev()
        .find(|&o| b[o] == b'"' && php_length_before(b, o) == Some(close - o - 1))?;
    let key = std::str::from_utf8(&b[open + 1..close]).ok()?;
    if !keys.is_sensitive(key) {
        return None;
    }
    let v = semi + 1;
    if b[v..].starts_with(b"i:") {
        let end = v
            + 2
            + b[v + 2..]
                .iter()
                .take(20)
                .take_while(|c| c.is_ascii_digit() || **c == b'-')
                .count();
        push(out, v + 2, end, "@key_value");
        return Some(end);
    }
    let quote = v + 2 + b.get(v + 2..)?.iter().take(8).position(|&c| c == b'"')?;
    let len = php_length_before(b, quote)?;
    let end = (quote + 1 + len).min(b.len());
    push(out, quote + 1, end, "@key_value");
    Some(end)
}

/// Go's MySQL DSN (go-sql-driver/mysql: `user:password@protocol(address)/dbname`, or
/// `user:password@/dbname`): userinfo with no `scheme://` before it, told by the
/// `@proto(` or `@/` after it. At the `:` at `colon`: the password, reported.
fn go_dsn_password(
    b: &[u8],
    colon: usize,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let user = b[..colon]
        .iter()
        .rev()
        .take(64)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    if user == 0 {
        return None;
    }
    let start = colon + 1;
    let limit = (start + 256).min(b.len());
    // The password ends at the last `@` before whitespace (a password may hold `@`).
    let mut at = None;
    let mut k = start;
    while k < limit && !b[k].is_ascii_whitespace() {
        if b[k] == b'@' {
            at = Some(k);
        }
        k += 1;
    }
    *steps += (k - start) as u64;
    let at = at.filter(|&a| a > start)?;
    let rest = &b[at + 1..];
    let proto = rest
        .iter()
        .take(16)
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    let dsn = (proto > 0 && rest.get(proto) == Some(&b'(')) || rest.first() == Some(&b'/');
    if !dsn {
        return None;
    }
    push(out, start, at, "@url_userinfo");
    Some(at)
}

/// The private members of a JSON Web Key (RFC 7518 section 6: `d`, `p`, `q`, `dp`,
/// `dq`, `qi`, `oth` of RSA and EC keys, `k` of a symmetric key): secrets only in a
/// key, told by its `kty` member.
const JWK_PRIVATE: &[&str] = &["k", "d", "p", "q", "dp", "dq", "qi", "oth"];

/// Whether a `kty` member is written within 512 bytes either side of the key at
/// `key_start..at` (the same JWK object, or its `Debug`).
fn in_jwk(b: &[u8], key_start: usize, at: usize) -> bool {
    let window = &b[key_start.saturating_sub(512)..(at + 512).min(b.len())];
    memchr::memmem::find(window, b"kty").is_some()
}

/// The end of a value of several words from `v` ([`super::locale_words::Run`]): digit
/// groups (`030 2940 2838`, `12 03 1985`) or, for text, words and commas up to the end
/// of the line, a quote, a closing bracket, `;`, `|`, or the next `key:`/`key=`.
fn running_value_end(b: &[u8], v: usize, run: super::locale_words::Run, steps: &mut u64) -> usize {
    let n = b.len();
    let word_end = |from: usize| {
        let mut w = from;
        while w < n
            && !b[w].is_ascii_whitespace()
            && !matches!(b[w], b'"' | b'\'' | b';' | b'|' | b'}' | b']' | b'<' | b'>')
        {
            w += 1;
        }
        w
    };
    let mut end = word_end(v);
    // A value ends before a trailing `,` or `)` (`.. 1985, status` , `(.. 030 12)`).
    let trim = |e: usize| {
        let mut e = e;
        while e > v
            && matches!(b[e - 1], b',' | b')' | b'.' | b':')
            && !(run == super::locale_words::Run::Text && b[e - 1] == b'.')
        {
            e -= 1;
        }
        e
    };
    loop {
        if end >= n
            || b[end] != b' '
            || matches!(b[end - 1], b',') && run != super::locale_words::Run::Text
        {
            break;
        }
        let next = end + 1;
        let w = word_end(next);
        let word = &b[next..w];
        let is_key = word.last() == Some(&b':') || word.contains(&b'=');
        let fits = match run {
            super::locale_words::Run::Digits => {
                !word.is_empty()
                    && word.iter().any(u8::is_ascii_digit)
                    && word.iter().all(|c| {
                        c.is_ascii_digit()
                            || matches!(c, b'+' | b'-' | b'(' | b')' | b'.' | b'/' | b',')
                    })
            }
            _ => !word.is_empty(),
        };
        if !fits || is_key {
            break;
        }
        end = w;
    }
    *steps += (end - v) as u64;
    trim(end).max(v + 1).min(n)
}

/// At a `,` at `at`: a Debug tuple pair `("password", "..")` (a header list, query
/// pairs, `Some(("db_password", ..))`) whose quoted first element is a sensitive key: the
/// second element is the value.
fn tuple_pair(
    text: &str,
    at: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let (candidates, open_quote, quoted) = key_before(text, at)?;
    if !quoted {
        return None;
    }
    let mut p = open_quote;
    while p > 0 && matches!(b[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p == 0 || b[p - 1] != b'(' {
        return None;
    }
    *steps += (at - p) as u64;
    let first = candidates.keys[0];
    if !keys.is_sensitive(first) {
        return None;
    }
    let key = first.to_ascii_lowercase();
    let n = b.len();
    let mut v = at + 1;
    while v < n && matches!(b[v], b' ' | b'\t' | b'\n' | b'\r') {
        v += 1;
    }
    if v >= n {
        return None;
    }
    value_end(text, v, b':', &key, out, steps)
}

/// The indented lines after a YAML key whose value starts on the next line.
fn yaml_block(
    b: &[u8],
    key_start: usize,
    eol: usize,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let line_start = b[..key_start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    *steps += (key_start - line_start) as u64;
    let indent = b[line_start..key_start]
        .iter()
        .take_while(|&&c| c == b' ')
        .count();
    let mut pos = eol;
    let mut first = None;
    let mut last_end = eol;
    while pos < b.len() && matches!(b[pos], b'\n' | b'\r') {
        let line = pos + 1;
        let mut e = line;
        while e < b.len() && b[e] != b'\n' {
            e += 1;
        }
        *steps += (e - line) as u64 + 1;
        let content = b[line..e]
            .iter()
            .position(|&c| c != b' ' && c != b'\t' && c != b'\r');
        match content {
            None => {}
            Some(c) if c > indent => {
                first.get_or_insert(line + c);
                last_end = e;
            }
            Some(_) => break,
        }
        pos = e;
    }
    let start = first?;
    let mut end = last_end;
    while end > start && b[end - 1] == b'\r' {
        end -= 1;
    }
    push(out, start, end, "@key_value");
    Some(end)
}

/// The end of the value starting at `v`, after reporting it. `None` when the value
/// holds no secret (`None`, `null`, a SQL placeholder, prose).
fn value_end(
    text: &str,
    v: usize,
    sep: u8,
    key: &str,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let n = b.len();
    // Rust byte and raw string literals: `b".."`, `b'.'`, `r".."`, `r#".."#`, `br".."`.
    if let Some((inner, end)) = rust_literal(b, v, steps) {
        push(out, inner.0, inner.1, "@key_value");
        return Some(end);
    }
    // A URL with credentials (`dsn="postgres://u:pw@db:5432/app"`): the credentials are
    // the secret; host, port and path stay (and are scanned on as usual).
    if let Some(end) = url_with_userinfo(text, v, out, steps) {
        return Some(end);
    }
    // TOML's multi-line strings (`"""..."""`, `'''...'''`), Python's and Kotlin's too:
    // every line up to the closing quotes (or the end of a cut text).
    for triple in [&b"\"\"\""[..], b"'''"] {
        if b[v..].starts_with(triple) {
            let inner = v + 3;
            let close = memchr::memmem::find(&b[inner..], triple).map_or(n, |c| inner + c);
            *steps += (close - v) as u64;
            push(out, inner, close, "@key_value");
            return Some((close + 3).min(n));
        }
    }
    // Quoted, possibly escaped as inside a JSON string (`\"...\"`).
    let mut q = v;
    while q < n && b[q] == b'\\' {
        q += 1;
    }
    if q < n && matches!(b[q], b'"' | b'\'') && (q == v || b[q] == b'"') {
        let level = q - v;
        let close = string_end(b, q, level, steps);
        let inner_end = close.saturating_sub(level).max(q + 1).min(n);
        push(out, q + 1, inner_end, "@key_value");
        return Some((close + 1).min(n));
    }
    match b[v] {
        b'[' | b'{' | b'(' => {
            let end = balanced_end(b, v, steps);
            push(out, v, end, "@key_value");
            return Some(end);
        }
        b'$' if b.get(v + 1).is_some_and(u8::is_ascii_digit) => return None,
        b'?' if b.get(v + 1).is_none_or(|c| c.is_ascii_whitespace()) => return None,
        _ => {}
    }
    // A bare word; a Debug wrapper (`Some(..)`, `ApiKey(..)`, `Secret { .. }`) is taken whole.
    let e = bare_end(b, v, steps);
    let word = &text[v..e];
    // Values that say what kind of credential, or whether one was given, not what it is
    // (`mfa=totp`, `(using password: YES)`).
    let says_kind = [
        "yes", "no", "on", "off", "totp", "hotp", "sms", "webauthn", "u2f", "required", "optional",
        "enabled", "disabled", "unset", "missing", "redacted",
    ]
    .iter()
    .any(|w| word.eq_ignore_ascii_case(w));
    if says_kind
        || matches!(
            word,
            "None" | "null" | "nil" | "NULL" | "true" | "false" | "undefined" | ""
        )
    {
        if word.is_empty() {
            return None;
        }
        return Some(e);
    }
    let mut wrapper = e;
    while wrapper < n && b[wrapper] == b' ' {
        wrapper += 1;
    }
    if wrapper < n
        && matches!(b[wrapper], b'(' | b'{')
        && word
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    {
        let end = balanced_end(b, wrapper, steps);
        // A newtype around a small integer is a handle or a count (mio's
        // `token=Token(1)`, an event loop's key), not a credential, unless the key names
        // one that may be all digits (a password or PIN).
        let inner = &b[(wrapper + 1).min(end)..end.saturating_sub(1).max(wrapper + 1)];
        let small_integer = b[wrapper] == b'('
            && (1..=20).contains(&inner.len())
            && inner.iter().all(u8::is_ascii_digit);
        let may_be_digits = is_password_key(key)
            || crate::words::split_words(key).iter().any(|w| {
                matches!(
                    w.as_str(),
                    "pin" | "otp" | "code" | "passcode" | "totp" | "cvv" | "cvc"
                )
            });
        if small_integer && !may_be_digits {
            return Some(end);
        }
        push(out, v, end, "@key_value");
        return Some(end);
    }
    let line_end = |from: usize| {
        let mut l = from;
        while l < n && b[l] != b'\n' && b[l] != b'\r' {
            l += 1;
        }
        l
    };
    let words = crate::words::split_words(key);
    let last = words.last().map(String::as_str).unwrap_or("");
    // Headers whose whole value is the credential: `Cookie: a=1; SID=..`, `Authorization: ..`.
    if sep == b':' && matches!(last, "cookie" | "cookies" | "authorization") {
        let end = line_end(v);
        *steps += (end - e) as u64;
        push(out, v, end, "@key_value");
        return Some(end);
    }
    // A password may hold spaces (`passphrase=correct horse battery`): it runs on over
    // following words until the end of the line, a delimiter, or the next `key=`/`key:`.
    // (Not after a command-line flag, `--password=x next-arg`: the shell splits there.)
    if is_password_key(key) && !key.starts_with('-') {
        let mut end = e;
        while end < n && b[end] == b' ' {
            let word_start = end + 1;
            let mut w = word_start;
            while w < n && !is_value_end(b[w]) && b[w] != b'=' {
                w += 1;
            }
            if w < n && w > word_start && b[w] != b'=' && continues_value(b, w) {
                w = bare_end(b, w + 1, steps);
            }
            let next_is_key = (w < n && b[w] == b'=') || (w > word_start && b[w - 1] == b':');
            if w == word_start || next_is_key {
                break;
            }
            end = w;
        }
        *steps += (end - e) as u64;
        push(out, v, end, "@key_value");
        return Some(end);
    }
    // `Bearer <token>`, `SSWS <token>`, `ApiKey <token>`: the scheme and the credential.
    if e < n && b[e] == b' ' && SCHEMES.contains(&word.to_ascii_lowercase().as_str()) {
        let t = bare_end(b, e + 1, steps);
        push(out, v, t, "@key_value");
        return Some(t);
    }
    // Prose after a label (`auth: upstream timeout`): a lower-case word followed by more words.
    if sep == b':'
        && v > 0
        && b[v - 1] == b' '
        && word.len() >= 2
        && word.bytes().all(|c| c.is_ascii_lowercase())
        && e + 1 < n
        && b[e] == b' '
        && b[e + 1].is_ascii_lowercase()
    {
        return None;
    }
    push(out, v, e, "@key_value");
    Some(e)
}

/// At `v`: a Rust byte or raw string literal (`b"..."`, `b'x'`, `r"..."`, `r#"..."#`,
/// `br"..."`), possibly with its quotes escaped (`b\"...\"` inside a JSON or `Debug`
/// string). Returns the literal's contents and its end.
fn rust_literal(b: &[u8], v: usize, steps: &mut u64) -> Option<((usize, usize), usize)> {
    let n = b.len();
    let mut p = v;
    if b.get(p) == Some(&b'b') {
        p += 1;
    }
    let raw = b.get(p) == Some(&b'r');
    if raw {
        p += 1;
    }
    if p == v {
        return None;
    }
    let hashes = if raw {
        b[p..].iter().take_while(|&&c| c == b'#').count()
    } else {
        0
    };
    let mut q = p + hashes;
    let level = b[q.min(n)..].iter().take_while(|&&c| c == b'\\').count();
    q += level;
    let quote = *b.get(q)?;
    if quote == b'\'' && !raw && level == 0 {
        // `b'x'`, `b'\x00'`: a byte literal, at most a few bytes.
        let close = (q + 1..n.min(q + 6)).find(|&k| b[k] == b'\'' && b[k - 1] != b'\\')?;
        return Some(((q + 1, close), close + 1));
    }
    if quote != b'"' {
        return None;
    }
    if !raw {
        let close = string_end(b, q, level, steps);
        let inner_end = close.saturating_sub(level).max(q + 1).min(n);
        return Some(((q + 1, inner_end), (close + 1).min(n)));
    }
    // Raw: ends at `level` backslashes, a quote and the same number of hashes.
    let mut k = q + 1;
    while k < n {
        *steps += 1;
        if b[k] == b'"'
            && k >= q + 1 + level
            && b[k - level..k].iter().all(|&c| c == b'\\')
            && b.len() >= k + 1 + hashes
            && b[k + 1..k + 1 + hashes].iter().all(|&c| c == b'#')
        {
            return Some(((q + 1, k - level), k + 1 + hashes));
        }
        k += 1;
    }
    Some(((q + 1, n), n))
}

/// At `v` (the value of a sensitive key), optionally after a quote: a `scheme://` URL
/// with userinfo. Reports only the userinfo ([`url`]) and returns where the scan goes
/// on (right after the `@`, so host, path and query are scanned as usual); `None` when
/// the value is not such a URL (then the whole value is the secret).
fn url_with_userinfo(
    text: &str,
    v: usize,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let mut s = v;
    while s < b.len() && matches!(b[s], b'"' | b'\'' | b'\\') && s < v + 3 {
        s += 1;
    }
    let mut colon = s;
    while colon < b.len()
        && colon < s + 24
        && (b[colon].is_ascii_alphanumeric() || matches!(b[colon], b'+' | b'.' | b'-'))
    {
        colon += 1;
    }
    if colon == s || !b[colon..].starts_with(b"://") {
        return None;
    }
    url(text, colon, out, steps)
}

/// Keys whose value is a password (which may contain spaces), in the languages of
/// the key rules.
fn is_password_key(key: &str) -> bool {
    [
        "pass",
        "pwd",
        "passwort",
        "kennwort",
        "contrase",
        "senha",
        "пароль",
        "wachtwoord",
        "salasana",
        "hasło",
        "haslo",
        "heslo",
        "jelsz",
    ]
    .iter()
    .any(|w| key.contains(w))
        && !key.contains("passport")
}

/// The index of the quote closing the string whose opening quote is at `open`, written
/// with `level` backslashes before each quote (0 for plain text, 1 inside a JSON
/// string); the end of the text when it is not closed.
fn string_end(b: &[u8], open: usize, level: usize, steps: &mut u64) -> usize {
    let quote = b[open];
    let mut k = open + 1;
    let mut backslashes = 0;
    while k < b.len() {
        *steps += 1;
        let c = b[k];
        if c == quote && (backslashes == level || (level == 0 && backslashes % 2 == 0)) {
            return k;
        }
        backslashes = if c == b'\\' { backslashes + 1 } else { 0 };
        k += 1;
    }
    b.len()
}

/// The end (exclusive) of the bracketed value opening at `open`, skipping string
/// literals; the end of the text when it is not closed.
fn balanced_end(b: &[u8], open: usize, steps: &mut u64) -> usize {
    let mut depth = 0usize;
    let mut k = open;
    while k < b.len() {
        *steps += 1;
        match b[k] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            b'"' => {
                let level = b[..k].iter().rev().take_while(|&&c| c == b'\\').count();
                k = string_end(b, k, level, steps);
            }
            _ => {}
        }
        k += 1;
    }
    b.len()
}

/// At the `>` of an XML start tag whose name is sensitive (`<wsse:Password Type=..>`):
/// the element's text is reported.
fn xml_element(
    text: &str,
    lt: usize,
    at: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    if at - lt > KEY_WINDOW * 2 {
        return None;
    }
    *steps += (at - lt) as u64;
    let tag = &b[lt + 1..at];
    if tag.first().is_none_or(|c| !c.is_ascii_alphabetic()) || tag.last() == Some(&b'/') {
        return None;
    }
    let name_end = tag
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(tag.len());
    let name = std::str::from_utf8(&tag[..name_end]).ok()?;
    let local = name.rsplit(':').next().unwrap_or(name);
    if !keys.is_sensitive(local)
        && (VOID_ELEMENTS.iter().any(|v| local.eq_ignore_ascii_case(v))
            || !names_a_secret(&tag[name_end..], keys))
    {
        return None;
    }
    let mut start = at + 1;
    // `<password><![CDATA[X]]></password>`: the value is the section's content.
    const CDATA: &[u8] = b"<![CDATA[";
    if b[start..].starts_with(CDATA) {
        start += CDATA.len();
        let end = memchr::memmem::find(&b[start..], b"]]>").map_or(b.len(), |k| start + k);
        *steps += (end - start) as u64;
        push(out, start, end, "@key_value");
        return Some(end);
    }
    let mut end = start;
    while end < b.len() && b[end] != b'<' {
        end += 1;
    }
    *steps += (end - start) as u64;
    push(out, start, end, "@key_value");
    Some(end)
}

/// Attributes naming the element's content (`<entry key="db.password">X</entry>` in
/// Java properties XML, `<property name="password">`, `<param name=..>`): the content
/// is the value of that name. (Not `id`: `<div id="password-help">` holds help text.)
const NAME_ATTRIBUTES: &[&[u8]] = &[b"key", b"name", b"property", b"field"];

/// HTML elements that have no content: text after `<input name="password">` is not
/// its value.
const VOID_ELEMENTS: &[&str] = &["input", "meta", "link", "img", "br", "hr", "source"];

/// Whether the attributes of a start tag (after its name) hold a naming attribute
/// whose value, or its last `.`/`:`/`/` segment, is a sensitive key.
fn names_a_secret(attrs: &[u8], keys: &KeyMatcher) -> bool {
    let mut k = 0;
    while let Some(eq) = attrs[k..].iter().position(|&c| c == b'=').map(|p| k + p) {
        let name_start = attrs[..eq]
            .iter()
            .rposition(|c| c.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        let quote = attrs.get(eq + 1).copied();
        if !matches!(quote, Some(b'"' | b'\'')) {
            k = eq + 1;
            continue;
        }
        let vs = eq + 2;
        let Some(ve) = attrs[vs..]
            .iter()
            .position(|&c| Some(c) == quote)
            .map(|p| vs + p)
        else {
            return false;
        };
        let attr = &attrs[name_start..eq];
        if NAME_ATTRIBUTES.iter().any(|n| attr.eq_ignore_ascii_case(n)) {
            if let Ok(value) = std::str::from_utf8(&attrs[vs..ve]) {
                let last = value.rsplit(['.', ':', '/']).next().unwrap_or(value);
                if keys.is_sensitive(value) || keys.is_sensitive(last) {
                    return true;
                }
            }
        }
        k = ve + 1;
    }
    false
}

/// Whether a user flag's `value`, its first colon at `colon`, is `user@host:port/path`,
/// not `user:password` (as `secrets::argv` reads it).
fn is_host_port_path(value: &[u8], colon: usize) -> bool {
    let after = &value[colon + 1..];
    let port = after.iter().take_while(|c| c.is_ascii_digit()).count();
    value[..colon].contains(&b'@') && (1..=5).contains(&port) && after.get(port) == Some(&b'/')
}

/// At a `-` starting a word: `-u user:password`, `-p password`, `-a password`,
/// `--password secret`, `--token secret` (`--password=..` is a key/value pair).
/// Long-flag endings that name where a secret comes from, not the secret (as
/// `secrets::argv` reads flags).
const SOURCE_SUFFIXES: &[&str] = &[
    "stdin", "file", "env", "path", "prompt", "cmd", "command", "helper", "source",
];

fn flag(
    text: &str,
    at: usize,
    keys: &KeyMatcher,
    out: &mut Vec<Finding>,
    steps: &mut u64,
) -> Option<usize> {
    let b = text.as_bytes();
    let n = b.len();
    let long = b.get(at + 1) == Some(&b'-');
    let name_start = at + if long { 2 } else { 1 };
    let mut name_end = name_start;
    while name_end < n
        && (b[name_end].is_ascii_alphanumeric() || matches!(b[name_end], b'-' | b'_'))
    {
        name_end += 1;
    }
    *steps += (name_end - at) as u64;
    if name_end == name_start || name_end >= n || b[name_end] != b' ' {
        return None;
    }
    let name = &text[name_start..name_end];
    let user = matches!(name, "u" | "user");
    let password = if long {
        // `--password-stdin`, `--token-file`: where the secret comes from.
        let lower = name.to_ascii_lowercase();
        keys.is_sensitive(name)
            && !SOURCE_SUFFIXES
                .iter()
                .any(|s| lower.ends_with(s) && lower.len() > s.len())
    } else {
        matches!(name, "p" | "a")
    };
    if !user && !password {
        return None;
    }
    let mut v = name_end + 1;
    while v < n && b[v] == b' ' {
        v += 1;
    }
    let quote = b.get(v).copied().filter(|c| matches!(c, b'"' | b'\''));
    let start = if quote.is_some() { v + 1 } else { v };
    let mut end = start;
    while end < n && !b[end].is_ascii_whitespace() && Some(b[end]) != quote {
        end += 1;
    }
    *steps += (end - v) as u64;
    let value = &b[start..end];
    if value.first().is_none_or(|c| *c == b'-') {
        return None;
    }
    if user {
        let colon = value.iter().position(|&c| c == b':')?;
        if is_host_port_path(value, colon) {
            return None;
        }
        push(out, start + colon + 1, end, "@cli_credential");
        return Some(end);
    }
    // `-p 5432`, `-p 8080:80` are ports; a path is not a password either.
    let port = value.iter().all(|c| c.is_ascii_digit() || *c == b':');
    let credential_shaped = long
        || (value.len() >= 4
            && !matches!(value[0], b'/' | b'.' | b'~')
            && value.iter().any(|c| {
                c.is_ascii_digit() || c.is_ascii_uppercase() || !c.is_ascii_alphanumeric()
            }));
    if port || !credential_shaped {
        return None;
    }
    push(out, start, end, "@cli_credential");
    Some(end)
}

/// Longest password with spaces looked for after `scheme://user:` (bytes).
const MAX_SPACED_PASSWORD: usize = 128;

/// `scheme://user:pa ss@host`: the userinfo stopped at a space after `user:` with no
/// port (`host:8080/..` is a host): the last `@` with a host after it within
/// [`MAX_SPACED_PASSWORD`] bytes on the same line, before the host's path.
fn spaced_password_end(
    b: &[u8],
    colon: Option<usize>,
    slash: Option<usize>,
    stop: usize,
    steps: &mut u64,
) -> Option<usize> {
    let colon = colon?;
    if !matches!(b.get(stop), Some(b' ' | b'\t')) {
        return None;
    }
    let port_end = slash.unwrap_or(stop).min(stop);
    if colon >= port_end || b[colon + 1..port_end].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let limit = (stop + MAX_SPACED_PASSWORD).min(b.len());
    let mut k = stop;
    let mut at = None;
    while k < limit {
        match b[k] {
            b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'>' | b'`' => break,
            b'/' if at.is_some() => break,
            b'@' if b.get(k + 1).is_some_and(u8::is_ascii_alphanumeric) => at = Some(k),
            _ => {}
        }
        if b[k..].starts_with(b"://") {
            break;
        }
        k += 1;
    }
    *steps += (k - stop) as u64;
    at
}

/// At the `:` of `scheme://`: the userinfo of the URL (user and password, whatever
/// characters the password holds) is reported; the rest is scanned as usual.
fn url(text: &str, colon: usize, out: &mut Vec<Finding>, steps: &mut u64) -> Option<usize> {
    let b = text.as_bytes();
    if colon == 0 || !b[colon - 1].is_ascii_alphabetic() {
        return None;
    }
    let start = colon + 3;
    let mut end = start;
    let (mut first_colon, mut first_slash, mut last_at) = (None, None, None);
    // The userinfo ends before the next URL and within MAX_USERINFO bytes, so each byte
    // is looked at for one URL only.
    let limit = (start + MAX_USERINFO).min(b.len());
    while end < limit
        && !b[end].is_ascii_whitespace()
        && !matches!(b[end], b'"' | b'\'' | b'<' | b'>' | b'`')
        && !b[end..].starts_with(b"://")
    {
        match b[end] {
            b':' if first_colon.is_none() => first_colon = Some(end),
            b'/' | b'?' if first_slash.is_none() => first_slash = Some(end),
            b'@' => last_at = Some(end),
            _ => {}
        }
        end += 1;
    }
    *steps += (end - start) as u64;
    // No `@` yet, or one with no host after it (`u:p@ ss@host`): the password may go on
    // past a space.
    if last_at.is_none_or(|a| a + 1 == end) {
        last_at = spaced_password_end(b, first_colon, first_slash, end, steps).or(last_at);
    }
    let at = last_at?;
    match (first_colon, first_slash) {
        // `host:5432/path@x` is a port and a path, not a password.
        (Some(c), Some(s)) if c < s && c < at => {
            let port = b[c + 1..s].iter().all(u8::is_ascii_digit);
            let at_before_slash = b[start..s].contains(&b'@');
            if port && !at_before_slash {
                return None;
            }
            push(out, start, c, "@url_userinfo");
            push(out, c + 1, at, "@url_userinfo");
        }
        (Some(c), _) if c < at => {
            push(out, start, c, "@url_userinfo");
            push(out, c + 1, at, "@url_userinfo");
        }
        (_, Some(s)) if s < at => return None,
        _ => push(out, start, at, "@url_userinfo"),
    }
    Some(at + 1)
}
