//! Credentials found by what surrounds them and by their shape, beyond key/value pairs
//! and vendor prefixes: secrets in prose (`with password X`, `PIN 4821`), prompts with
//! the answer on the next line, command lines and `std::process::Command`'s `Debug`
//! (`-pX`, `"-p" "X"`, `--password=X`, `-passout pass:X`), protocol transcripts (SMTP
//! `AUTH`, IMAP `LOGIN`, Redis `AUTH`, FTP/POP3 `PASS`, IRC `IDENTIFY`, SQL `IDENTIFIED
//! BY`), credential files (`.netrc`, `.pgpass`, htpasswd and crypt hashes, 3proxy user
//! lists, PuTTY private lines), name/value pairs split over two fields (`EnvVar { name:
//! "DB_PASSWORD", value: .. }`, `{"key":"ApiKey","value":..}`, `<add key=.. value=..>`),
//! typed `Authorization` headers and decoded Basic credentials, database error details
//! (`Key (col)=(..)`, `Failing row contains (..)`, `Duplicate entry '..' for key '..'`),
//! ORM bind lists mapped to their columns, HTML-escaped markup, base64 that decodes to
//! text holding a secret, tokens with a vendor-style prefix and a random body, and an
//! AWS secret access key on its own.
//!
//! One pass over the words of a text finds the anchor words every detector here starts
//! from (a few byte searches find the symbols: `&lt;`, `$apr1$`, `:CL:`); text with none
//! (and no long token-like run, no flag) is left at once. Each
//! detector then looks at a bounded window around its anchor, or moves the scan past
//! what it reported, so the work stays linear in the text (`steps` counts it).

mod argv;
mod echo;
mod entities;
mod languages;
mod pairs;
mod prose;
pub(crate) mod shape;
mod sql;
mod tables;
mod tokens;
mod transcripts;

use std::sync::OnceLock;

use crate::finding::Finding;
use crate::keys::KeyMatcher;

/// Words (lower-cased) some detector here starts from: secret words, protocol commands,
/// credential-file keywords, name keys, bind-list and database-detail words.
const ANCHOR_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "pwd",
    "pw",
    "passphrase",
    "passcode",
    "pass",
    "passe",
    "kennwort",
    "contrasena",
    "senha",
    "wachtwoord",
    "salasana",
    "haslo",
    "heslo",
    "parola",
    "sifre",
    "jelszo",
    "token",
    "secret",
    "apikey",
    "credentials",
    "creds",
    "credential",
    "key",
    "pin",
    "otp",
    "totp",
    "code",
    "auth",
    "login",
    "identify",
    "identified",
    "basicauth",
    "machine",
    "private",
    "failing",
    "duplicate",
    "binds",
    "bind",
    "params",
    "param",
    "parameters",
    "parameter",
    "name",
    "parameterkey",
    "parametername",
    "optionname",
    "settingname",
    "keyname",
    "propertyname",
    "variablename",
    "headername",
    "fieldname",
    "authorization",
    "proxyauthorization",
    "basic",
    "bearer",
    "decoded",
    "userinfo",
    "set",
    "setenv",
    "env",
    "requirepass",
    "htpasswd",
    "masterauth",
    "insert",
];

/// Endings of compound words naming a secret (`accesstoken`, `dbpassword`, `apikey`):
/// such a word may be a quoted key of a pair.
const ANCHOR_ENDINGS: &[&str] = &["password", "passwd", "token", "secret", "key", "pwd"];

/// Longest word looked at; longer words are not keywords.
const MAX_WORD: usize = 24;

/// A word's length, first and last letter in 15 bits: [`ANCHOR_KEYS`] has the bit of
/// every anchor word set, so most words are ruled out by one lookup.
const fn word_key(w: &[u8]) -> usize {
    ((w.len() & 31) << 10)
        | (((w[0] - b'a') as usize & 31) << 5)
        | ((w[w.len() - 1] - b'a') as usize & 31)
}

static ANCHOR_KEYS: [u64; 512] = {
    let mut bits = [0u64; 512];
    let mut i = 0;
    while i < ANCHOR_WORDS.len() {
        let k = word_key(ANCHOR_WORDS[i].as_bytes());
        bits[k / 64] |= 1 << (k % 64);
        i += 1;
    }
    bits
};

/// Whether the lower-cased ASCII word `w` (2 to [`MAX_WORD`] letters) starts a detector.
fn is_anchor_word(w: &[u8]) -> bool {
    let k = word_key(w);
    let maybe_exact = ANCHOR_KEYS[k / 64] & (1 << (k % 64)) != 0;
    (maybe_exact && ANCHOR_WORDS.iter().any(|a| a.as_bytes() == w))
        || (matches!(w[w.len() - 1], b'd' | b'n' | b't' | b'y')
            && ANCHOR_ENDINGS
                .iter()
                .any(|a| w.len() > a.len() && w.ends_with(a.as_bytes())))
}

/// What starts at a byte other than a word: an escape (`&lt;`, `&#`, `\u003c`), a
/// password hash (`$apr1$`, `{SSHA}`), a 3proxy `:CL:`, or the base64 of `Password:` an
/// SMTP server sends (`UGFzc3dvcmQ6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Symbol {
    Escaped,
    Hash,
    Cleartext,
    SmtpPasswordPrompt,
    /// `$4<CRLF>AUTH<CRLF>`: a Redis `AUTH` in RESP.
    RespAuth,
    /// `/p:X`, `/password:X`: a Windows-style password switch.
    WindowsSwitch,
}

const HASH_STARTS: &[&[u8]] = &[
    b"$apr1$",
    b"$2a$",
    b"$2b$",
    b"$2y$",
    b"$1$",
    b"$5$",
    b"$6$",
    b"$y$",
    b"$7$",
    b"$argon2",
    b"$pbkdf2",
    b"$scrypt$",
    b"{sha",
    b"{ssha",
    b"{crypt}",
    b"{md5}",
    b"{smd5}",
    b"{pbkdf2",
];

/// The symbol anchor starting at `at` (a `&`, `$`, `{`, `\`, `:` or `U`/`c`), if any.
fn symbol_at(b: &[u8], at: usize) -> Option<Symbol> {
    let rest = &b[at..];
    let starts = |p: &[u8]| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
    match b[at] {
        b'&' | b'\\' if entities::escape_at(rest).is_some() => Some(Symbol::Escaped),
        b'$' | b'{' if HASH_STARTS.iter().any(|p| starts(p)) => Some(Symbol::Hash),
        b'$' if starts(b"$4\r\nauth\r\n") || starts(b"$4\\r\\nauth\\r\\n") => {
            Some(Symbol::RespAuth)
        }
        b':' if starts(b":cl:") => Some(Symbol::Cleartext),
        b':' if argv::windows_switch_before(b, at) => Some(Symbol::WindowsSwitch),
        b'U' | b'c' if starts(b"ugfzc3dvcmq6") => Some(Symbol::SmtpPasswordPrompt),
        _ => None,
    }
}

/// The base64 of `ssword:`, the part `UGFzc3dvcmQ6` and `cGFzc3dvcmQ6` share.
fn smtp_prompt_finder() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(b"c3dvcmQ6"))
}

/// Where a Windows `net use` command starts (either case).
fn net_use_positions(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    static FINDER: OnceLock<(
        memchr::memmem::Finder<'static>,
        memchr::memmem::Finder<'static>,
    )> = OnceLock::new();
    let (lower, upper) = FINDER.get_or_init(|| {
        (
            memchr::memmem::Finder::new(b"net use "),
            memchr::memmem::Finder::new(b"NET USE "),
        )
    });
    lower.find_iter(b).chain(upper.find_iter(b))
}

/// Where an SMTP `Password:` prompt may start.
fn smtp_prompt_positions(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    smtp_prompt_finder()
        .find_iter(b)
        .filter_map(|i| i.checked_sub(4))
}

/// The ASCII words of `b` that are anchors (see [`is_anchor_word`]), as bounds.
fn anchor_words(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !b[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let s = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            if !(2..=MAX_WORD).contains(&(i - s)) {
                continue;
            }
            // Most words are ruled out by length, first and last letter alone.
            let (first, last) = (b[s] | 0x20, b[i - 1] | 0x20);
            let k = ((i - s) << 10) | (usize::from(first - b'a') << 5) | usize::from(last - b'a');
            let maybe_exact = ANCHOR_KEYS[k / 64] & (1 << (k % 64)) != 0;
            if !maybe_exact && !matches!(last, b'd' | b'n' | b't' | b'y') {
                continue;
            }
            let mut buf = [0u8; MAX_WORD];
            for (k, c) in b[s..i].iter().enumerate() {
                buf[k] = c.to_ascii_lowercase();
            }
            if is_anchor_word(&buf[..i - s]) {
                return Some((s, i));
            }
        }
        None
    })
}

/// Whether [`find`] could report anything in `b`: an anchor or a run of token bytes
/// long enough for a token detector. False means it reports nothing. No allocation.
pub(crate) fn may_hold(b: &[u8]) -> bool {
    anchor_words(b).next().is_some()
        || memchr::memchr3_iter(b'&', b'$', b'{', b).any(|at| symbol_at(b, at).is_some())
        || memchr::memchr2_iter(b'\\', b':', b).any(|at| symbol_at(b, at).is_some())
        || smtp_prompt_positions(b).any(|at| symbol_at(b, at).is_some())
        || net_use_positions(b).next().is_some()
        || argv::tool_positions(b).next().is_some()
        || transcripts::may_hold_files(b)
        || entities::may_hold_byte_list(b)
        || languages::may_hold(b)
        || tokens::has_long_run(b)
        || argv::may_hold(b)
        || tables::may_hold(b)
        || echo::may_hold(b)
}

/// Scans decoded text with every detector (see [`Scan::rescan`]).
pub(crate) type Rescan<'o> = &'o mut (dyn FnMut(&str, &mut Vec<Finding>, &mut u64) + 'o);

/// What a detector here sees: the text, the key rules, where findings go, the work done.
pub(crate) struct Scan<'a, 'o> {
    pub(crate) text: &'a str,
    pub(crate) b: &'a [u8],
    pub(crate) keys: &'a KeyMatcher,
    pub(crate) out: &'o mut Vec<Finding>,
    pub(crate) steps: &'o mut u64,
    /// Scans decoded text (base64, HTML entities) with every detector; findings are in
    /// the decoded text's offsets. `None` at the decoding depth limit.
    pub(crate) rescan: Option<Rescan<'o>>,
    /// Where the last bind list ended: the next one reads its statement from here on, so
    /// no text is read for two lists.
    pub(crate) sql_floor: usize,
    /// The last line end found (`(from, end)`): anchors on one line share it, so a long
    /// line is searched once, not once per anchor.
    eol: (usize, usize),
}

impl Scan<'_, '_> {
    pub(crate) fn push(&mut self, start: usize, end: usize, rule: &'static str) {
        if end > start && end <= self.b.len() {
            self.out.push(Finding { start, end, rule });
        }
    }

    /// The index of the `\n` or `\r` ending the line that holds `at` (or the text's end).
    pub(crate) fn line_end(&mut self, at: usize) -> usize {
        // No line break lies in `from..end`: any position there ends at `end`.
        let (from, end) = self.eol;
        if from <= at && at <= end && end > 0 {
            return end;
        }
        let end = memchr::memchr2(b'\n', b'\r', &self.b[at.min(self.b.len())..])
            .map_or(self.b.len(), |i| at + i);
        *self.steps += (end - at) as u64;
        self.eol = (at, end);
        end
    }

    /// Text decoded from `text` scanned with every detector; `None` at the depth limit.
    pub(crate) fn rescan(&mut self, text: &str) -> Option<Vec<Finding>> {
        let rescan = self.rescan.as_mut()?;
        let mut inner = Vec::new();
        rescan(text, &mut inner, self.steps);
        Some(inner)
    }
}

/// Every credential the detectors of this module find in `text`, appended to `out`.
pub(crate) fn find<'o>(
    text: &str,
    keys: &KeyMatcher,
    out: &'o mut Vec<Finding>,
    steps: &'o mut u64,
    rescan: Option<Rescan<'o>>,
) {
    let b = text.as_bytes();
    let mut scan = Scan {
        text,
        b,
        keys,
        out,
        steps,
        rescan,
        sql_floor: 0,
        eol: (0, 0),
    };
    *scan.steps += b.len() as u64;
    tokens::find(&mut scan);
    transcripts::find_pgpass(&mut scan);
    transcripts::find_files(&mut scan);
    // Anchor words; an anchor inside what a detector already reported is skipped.
    let mut resume = 0;
    for (s, e) in anchor_words(b) {
        if s < resume {
            continue;
        }
        if let Some(next) = dispatch_word(&mut scan, s, e) {
            resume = resume.max(next);
        }
    }
    languages::find(&mut scan);
    tables::find(&mut scan);
    echo::find(&mut scan);
    let mut escaped = false;
    at_symbols(
        &mut scan,
        memchr::memchr3_iter(b'&', b'$', b'{', b),
        &mut escaped,
    );
    at_symbols(
        &mut scan,
        memchr::memchr2_iter(b'\\', b':', b),
        &mut escaped,
    );
    at_symbols(&mut scan, smtp_prompt_positions(b), &mut escaped);
    if escaped {
        entities::find(&mut scan);
    }
    entities::byte_lists(&mut scan);
    for at in net_use_positions(b) {
        argv::net_use(&mut scan, at);
    }
    for (s, e) in argv::tool_positions(b) {
        argv::tool_password(&mut scan, s, e);
    }
    // Command-line flags: at each `-` starting an argument (dashes are too common in
    // text for the anchor automaton: dates, ids, names).
    let mut resume = 0;
    for at in memchr::memchr_iter(b'-', b) {
        if at < resume {
            continue;
        }
        if let Some(next) = argv::at_dash(&mut scan, at) {
            resume = next;
        }
    }
}

/// Runs the detectors of the symbols at `positions` (in order); an anchor inside what
/// one reported is skipped. `escaped` is set when an escape is seen.
fn at_symbols(scan: &mut Scan<'_, '_>, positions: impl Iterator<Item = usize>, escaped: &mut bool) {
    let mut resume = 0;
    for at in positions {
        if at < resume {
            continue;
        }
        let next = match symbol_at(scan.b, at) {
            Some(Symbol::Escaped) => {
                *escaped = true;
                None
            }
            Some(Symbol::Hash) => transcripts::hash(scan, at),
            Some(Symbol::Cleartext) => transcripts::cleartext_user(scan, at + 4),
            Some(Symbol::SmtpPasswordPrompt) => transcripts::smtp_password_line(scan, at + 12),
            Some(Symbol::RespAuth) => transcripts::resp_auth(scan, at),
            Some(Symbol::WindowsSwitch) => argv::windows_switch(scan, at),
            None => None,
        };
        if let Some(next) = next {
            resume = resume.max(next);
        }
    }
}

/// Sends the word at an anchor to the detectors that start from it.
fn dispatch_word(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let mut buf = [0u8; MAX_WORD];
    for (k, c) in scan.b[s..e].iter().enumerate() {
        buf[k] = c.to_ascii_lowercase();
    }
    let word = std::str::from_utf8(&buf[..e - s]).ok()?;
    *scan.steps += (e - s) as u64;
    if let Some(next) = transcripts::at_word(scan, s, e, word) {
        return Some(next);
    }
    if let Some(next) = sql::at_word(scan, s, e, word) {
        return Some(next);
    }
    if let Some(next) = pairs::at_word(scan, s, e, word) {
        return Some(next);
    }
    if let Some(next) = argv::after_setter(scan, s, e, word) {
        return Some(next);
    }
    prose::at_word(scan, s, e, word)
}

/// Byte helpers shared by the detectors.
pub(crate) mod bytes {
    /// A value no secret is, by itself: a boolean or null word (`true`, `no`, `on`, `y`),
    /// as tools print flags, config errors echo them and tables hold them.
    pub(crate) fn boolean_word(v: &[u8]) -> bool {
        ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
            .iter()
            .any(|w| v.eq_ignore_ascii_case(w.as_bytes()))
    }

    /// A non-empty run of at most `max` ASCII digits (a count, a port, a pass number).
    pub(crate) fn small_number(v: &[u8], max: usize) -> bool {
        !v.is_empty() && v.len() <= max && v.iter().all(u8::is_ascii_digit)
    }

    /// The first index at or after `from` that is not a space or tab.
    pub(crate) fn skip_blanks(b: &[u8], mut from: usize) -> usize {
        while from < b.len() && matches!(b[from], b' ' | b'\t') {
            from += 1;
        }
        from
    }

    /// The end of the line holding `from` (the index of its `\n` or `\r`, or the end).
    pub(crate) fn line_end(b: &[u8], from: usize, limit: usize) -> usize {
        let limit = limit.min(b.len());
        let mut k = from;
        while k < limit && b[k] != b'\n' && b[k] != b'\r' {
            k += 1;
        }
        k
    }

    /// The start of the line holding `at`.
    pub(crate) fn line_start(b: &[u8], at: usize, limit: usize) -> usize {
        let floor = at.saturating_sub(limit);
        let mut k = at;
        while k > floor && b[k - 1] != b'\n' && b[k - 1] != b'\r' {
            k -= 1;
        }
        k
    }

    /// At `at`, a quoted string (`"`, `'` or a backtick, possibly with its quotes
    /// escaped as inside a JSON or `Debug` string: `\"`): the bounds of its contents and
    /// the index after its closing quote. At most `limit` bytes are read; an unclosed
    /// string is `None`.
    pub(crate) fn quoted(b: &[u8], at: usize, limit: usize) -> Option<(usize, usize, usize)> {
        let mut q = at;
        while q < b.len() && b[q] == b'\\' && q - at < 4 {
            q += 1;
        }
        let level = q - at;
        let quote = *b.get(q)?;
        if !matches!(quote, b'"' | b'\'' | b'`') {
            return None;
        }
        let start = q + 1;
        let end_limit = (start + limit).min(b.len());
        let mut k = start;
        let mut backslashes = 0;
        while k < end_limit {
            let c = b[k];
            if c == quote && (backslashes == level || (level == 0 && backslashes % 2 == 0)) {
                return Some((start, k - level, k + 1));
            }
            if c == b'\n' && quote != b'`' {
                return None;
            }
            backslashes = if c == b'\\' { backslashes + 1 } else { 0 };
            k += 1;
        }
        None
    }

    /// The end of a bare argument or word starting at `at`: up to whitespace or one of
    /// `stops`, at most `limit` bytes.
    pub(crate) fn bare_end(b: &[u8], at: usize, limit: usize, stops: &[u8]) -> usize {
        let limit = (at + limit).min(b.len());
        let mut k = at;
        while k < limit && !b[k].is_ascii_whitespace() && !stops.contains(&b[k]) {
            k += 1;
        }
        k
    }

    /// Whether the word before `at` (spaces skipped) is one of `words` (lower case).
    pub(crate) fn word_before_is(b: &[u8], at: usize, words: &[&str]) -> bool {
        let (s, e) = word_before(b, at);
        e > s
            && words
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(&b[s..e]))
    }

    /// The bounds of the word (letters, digits, `-`) ending right before `at`, spaces
    /// skipped; empty when there is none within 32 bytes.
    pub(crate) fn word_before(b: &[u8], at: usize) -> (usize, usize) {
        let mut e = at;
        while e > 0 && matches!(b[e - 1], b' ' | b'\t') && at - e < 4 {
            e -= 1;
        }
        let mut s = e;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'-') && e - s < 32 {
            s -= 1;
        }
        (s, e)
    }
}
