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
//! One pass of an Aho-Corasick automaton finds the anchor words every detector here
//! starts from; text with none (and no long token-like run) is left at once. Each
//! detector then looks at a bounded window around its anchor, or moves the scan past
//! what it reported, so the work stays linear in the text (`steps` counts it).

mod argv;
mod entities;
mod pairs;
mod prose;
pub(crate) mod shape;
mod sql;
mod tokens;
mod transcripts;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::finding::Finding;
use crate::keys::KeyMatcher;

/// What an anchor starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// A word (its whole ASCII word is read and classified): secret words, protocol
    /// commands, credential-file keywords, name keys, bind-list words.
    Word,
    /// A word of another script naming a password (`пароль`, `密码`): the value after it.
    ForeignPassword,
    /// `-` or `--`: a command-line flag.
    Dash,
    /// `&lt;`, `&quot;`, `\u003c`...: markup or JSON escaped; decoded and scanned again.
    Escaped,
    /// The start of a password hash (`$apr1$`, `$2y$`, `{SSHA}`...).
    Hash,
    /// `:CL:` of a 3proxy user list.
    Cleartext,
    /// The base64 of `Password:` an SMTP server sends before the password line.
    SmtpPasswordPrompt,
}

const ANCHORS: &[(&str, Anchor)] = &[
    ("pass", Anchor::Word),
    ("pw", Anchor::Word),
    ("secret", Anchor::Word),
    ("token", Anchor::Word),
    ("key", Anchor::Word),
    ("cred", Anchor::Word),
    ("auth", Anchor::Word),
    ("pin", Anchor::Word),
    ("otp", Anchor::Word),
    ("code", Anchor::Word),
    ("login", Anchor::Word),
    ("machine", Anchor::Word),
    ("identif", Anchor::Word),
    ("basic", Anchor::Word),
    ("name", Anchor::Word),
    ("bind", Anchor::Word),
    ("param", Anchor::Word),
    ("failing", Anchor::Word),
    ("duplicate", Anchor::Word),
    ("private", Anchor::Word),
    ("kennwort", Anchor::Word),
    ("contrase", Anchor::Word),
    ("senha", Anchor::Word),
    ("wachtwoord", Anchor::Word),
    ("salasana", Anchor::Word),
    ("haslo", Anchor::Word),
    ("heslo", Anchor::Word),
    ("parol", Anchor::Word),
    ("sifre", Anchor::Word),
    ("jelszo", Anchor::Word),
    ("пароль", Anchor::ForeignPassword),
    ("密码", Anchor::ForeignPassword),
    ("密碼", Anchor::ForeignPassword),
    ("パスワード", Anchor::ForeignPassword),
    ("비밀번호", Anchor::ForeignPassword),
    ("hasło", Anchor::ForeignPassword),
    ("şifre", Anchor::ForeignPassword),
    ("parolă", Anchor::ForeignPassword),
    ("jelszó", Anchor::ForeignPassword),
    ("contraseña", Anchor::ForeignPassword),
    ("-", Anchor::Dash),
    ("&lt;", Anchor::Escaped),
    ("&gt;", Anchor::Escaped),
    ("&quot;", Anchor::Escaped),
    ("&apos;", Anchor::Escaped),
    ("&#", Anchor::Escaped),
    ("\\u00", Anchor::Escaped),
    ("$apr1$", Anchor::Hash),
    ("$2a$", Anchor::Hash),
    ("$2b$", Anchor::Hash),
    ("$2y$", Anchor::Hash),
    ("$1$", Anchor::Hash),
    ("$5$", Anchor::Hash),
    ("$6$", Anchor::Hash),
    ("$y$", Anchor::Hash),
    ("$7$", Anchor::Hash),
    ("$argon2", Anchor::Hash),
    ("$pbkdf2", Anchor::Hash),
    ("$scrypt$", Anchor::Hash),
    ("{sha", Anchor::Hash),
    ("{ssha", Anchor::Hash),
    ("{crypt}", Anchor::Hash),
    ("{md5}", Anchor::Hash),
    ("{smd5}", Anchor::Hash),
    ("{pbkdf2", Anchor::Hash),
    (":cl:", Anchor::Cleartext),
    ("ugfzc3dvcmq6", Anchor::SmtpPasswordPrompt),
    ("cgfzc3dvcmq6", Anchor::SmtpPasswordPrompt),
];

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(ANCHORS.iter().map(|(p, _)| p))
            // Literal patterns, a few hundred states: building cannot fail.
            .expect("anchor patterns build")
    })
}

/// Whether [`find`] could report anything in `b`: an anchor or a run of token bytes
/// long enough for a token detector. False means it reports nothing. No allocation.
pub(crate) fn may_hold(b: &[u8]) -> bool {
    automaton().is_match(b) || tokens::has_long_run(b)
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
}

impl Scan<'_, '_> {
    pub(crate) fn push(&mut self, start: usize, end: usize, rule: &'static str) {
        if end > start && end <= self.b.len() {
            self.out.push(Finding { start, end, rule });
        }
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
    };
    *scan.steps += b.len() as u64;
    tokens::find(&mut scan);
    transcripts::find_pgpass(&mut scan);
    let mut escaped = false;
    // Anchors inside what a detector already reported are skipped.
    let mut resume = 0;
    for m in automaton().find_iter(b) {
        let at = m.start();
        if at < resume {
            continue;
        }
        let next = match ANCHORS[m.pattern().as_usize()].1 {
            Anchor::Word => dispatch_word(&mut scan, at, m.end()),
            Anchor::ForeignPassword => prose::after_foreign_word(&mut scan, m.end()),
            Anchor::Dash => argv::at_dash(&mut scan, at),
            Anchor::Escaped => {
                escaped = true;
                None
            }
            Anchor::Hash => transcripts::hash(&mut scan, at),
            Anchor::Cleartext => transcripts::cleartext_user(&mut scan, m.end()),
            Anchor::SmtpPasswordPrompt => transcripts::smtp_password_line(&mut scan, m.end()),
        };
        if let Some(next) = next {
            resume = resume.max(next);
        }
    }
    if escaped {
        entities::find(&mut scan);
    }
}

/// Longest word classified at a [`Anchor::Word`] anchor; longer words are not keywords.
const MAX_WORD: usize = 24;

/// The ASCII letters around `at..end` (the anchor's match) as one word, lower-cased in
/// `buf`: its bounds and text. `None` when the word is longer than [`MAX_WORD`].
fn word_at<'b>(
    b: &[u8],
    at: usize,
    end: usize,
    buf: &'b mut [u8; MAX_WORD],
) -> Option<(usize, usize, &'b str)> {
    let mut s = at;
    while s > 0 && b[s - 1].is_ascii_alphabetic() && at - s < MAX_WORD {
        s -= 1;
    }
    let mut e = end;
    while e < b.len() && b[e].is_ascii_alphabetic() && e - s < MAX_WORD {
        e += 1;
    }
    let whole = (s == 0 || !b[s - 1].is_ascii_alphabetic())
        && (e == b.len() || !b[e].is_ascii_alphabetic());
    if !whole || e - s > MAX_WORD {
        return None;
    }
    for (i, c) in b[s..e].iter().enumerate() {
        buf[i] = c.to_ascii_lowercase();
    }
    let word = std::str::from_utf8(&buf[..e - s]).ok()?;
    Some((s, e, word))
}

/// Sends the word at an anchor to the detectors that start from it.
fn dispatch_word(scan: &mut Scan<'_, '_>, at: usize, end: usize) -> Option<usize> {
    let mut buf = [0u8; MAX_WORD];
    let (s, e, word) = word_at(scan.b, at, end, &mut buf)?;
    *scan.steps += (e - s) as u64;
    let word = word.to_owned();
    let word = word.as_str();
    if let Some(next) = transcripts::at_word(scan, s, e, word) {
        return Some(next);
    }
    if let Some(next) = sql::at_word(scan, s, e, word) {
        return Some(next);
    }
    if let Some(next) = pairs::at_word(scan, s, e, word) {
        return Some(next);
    }
    prose::at_word(scan, s, e, word)
}

/// Byte helpers shared by the detectors.
pub(crate) mod bytes {
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
