//! Secret words of any language in prose, and the value a clause gives them (`Das
//! Passwort lautet X`, `La contraseña es X`, `密码是X`, `パスワードはXです`, `您的验证码是
//! 482913`, `password->X`, `password(X)`, `password, X`).
//!
//! One rule for every language: after a word of [`SECRET_WORDS`] (found in one pass over
//! the text folded like keys: NFKC, lower case, Latin diacritics dropped), within the
//! same clause (up to [`MAX_WORDS`] words or [`MAX_BYTES`] bytes, before a sentence end),
//! the first credential-shaped run of ASCII characters is the secret. Letters of other
//! scripts end a run, so text without spaces (`密码是X，`) gives the run after the word
//! and its connector. Shapes, by what the word names ([`Concept`]):
//! - a token right after the word and its separators or a connector (`:`, `->`, `(`,
//!   `,`, `ist`, `es`, `—`): credential-like (letters and digits, mixed case, a symbol
//!   inside), or 4 to 16 digits for a password;
//! - further on: three of lower case, upper case, digits and symbols, six or more bytes
//!   (`Hasło użytkownika to X`), so `Passwort für admin2 geändert` stays;
//! - after a PIN or code word: 4 to 8 digits anywhere in the clause;
//! - after an identity document's name (`DOCUMENT_WORDS`: driver's licence, passport):
//!   its number right after it or a number word (`n°`, `No.`, `#`), 5 to 20 letters and
//!   digits with four digits or more.
//!
//! Tokens and keys want eight or more bytes.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::shape::stats;
use super::Scan;
use crate::locale_words::{
    fold, id_words, Concept, ACCOUNT_WORDS, BANK_CODE_WORDS, DOCUMENT_ABBREVIATIONS,
    DOCUMENT_WORDS, SECRET_WORDS,
};

/// Words looked at after a secret word.
const MAX_WORDS: usize = 6;
/// Bytes looked at after a secret word.
const MAX_BYTES: usize = 96;

/// Words between a secret word and its value that keep the value "right after" it.
const CONNECTORS: &[&str] = &[
    "is",
    "was",
    "are",
    "to",
    "as",
    "ist",
    "lautet",
    "war",
    "est",
    "es",
    "e",
    "era",
    "é",
    "è",
    "er",
    "är",
    "on",
    "je",
    "ni",
    "ay",
    "este",
    "adalah",
    "là",
    "your",
    "ihr",
    "dein",
    "votre",
    "ton",
    "tu",
    "su",
    "sua",
    "seu",
    "tuo",
    "uw",
    "jouw",
    "din",
    "ditt",
    "anda",
    "mo",
    "ta",
    "code",
    "number",
    "no",
    "nr",
    "num",
    "n",
    "nº",
    "numero",
    "número",
    "numéro",
    "nummer",
    "#",
    "new",
    "neue",
    "neues",
    "nouveau",
    "nuevo",
    "nova",
    "novo",
    "nuova",
    "temporary",
    "temporaire",
    "temporal",
    "provisional",
    "provisoire",
    "provisória",
    "provisório",
    "temporária",
    "temporário",
];

struct Words {
    search: AhoCorasick,
    concepts: Vec<Concept>,
    /// Whether a word is of Latin letters (it must stand as a word: `pin` is not in
    /// `spinning`; a few letters of inflection may follow: `Lösenordet`, `Şifreniz`).
    latin: Vec<bool>,
}

fn words() -> &'static Words {
    static WORDS: std::sync::OnceLock<Words> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut concepts = Vec::new();
        let mut latin = Vec::new();
        // Names whose scheme has a check digit are left to `national_ids`: its check
        // decides whether the number is one.
        let checked: Vec<String> = crate::national_ids::CHECKED_NAMES
            .iter()
            .map(|w| fold(w))
            .collect();
        let ids: Vec<&'static str> = id_words().filter(|w| !checked.contains(&fold(w))).collect();
        let documents = [
            (Concept::Document, DOCUMENT_WORDS),
            (Concept::Document, DOCUMENT_ABBREVIATIONS),
            (Concept::NationalId, &ids[..]),
            (Concept::NationalId, ACCOUNT_WORDS),
            (Concept::BankCode, BANK_CODE_WORDS),
        ];
        for (concept, list) in SECRET_WORDS.iter().chain(&documents) {
            for w in *list {
                let folded = fold(w);
                // As written in text: the word's own spaces and dashes, or none.
                let forms = [
                    folded.replace([' ', '-'], ""),
                    folded.replace(' ', "_"),
                    folded.replace(' ', "-"),
                    folded,
                ];
                for form in forms {
                    if !patterns.contains(&form) {
                        latin.push(
                            form.chars()
                                .all(|c| c.is_ascii() || c.is_alphabetic() && (c as u32) < 0x250),
                        );
                        patterns.push(form);
                        concepts.push(*concept);
                    }
                }
            }
        }
        let search = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            // Literal patterns of bounded count: building cannot fail.
            .expect("secret words build");
        Words {
            search,
            concepts,
            latin,
        }
    })
}

/// The text folded per character, and the original byte offset of each folded byte
/// (plus one past the end). `None` for ASCII text, searched as it is.
fn folded(text: &str) -> Option<(String, Vec<usize>)> {
    if text.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut buf = [0u8; 4];
    for (i, c) in text.char_indices() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            map.push(i);
            continue;
        }
        let latin = ('\u{c0}'..='\u{24f}').contains(&c) || ('\u{1e00}'..='\u{1eff}').contains(&c);
        let normal = unicode_normalization::is_nfkc_quick(std::iter::once(c))
            == unicode_normalization::IsNormalized::Yes;
        let before = out.len();
        if latin || !normal {
            out.push_str(&fold(c.encode_utf8(&mut buf)));
        } else {
            // Most letters of other scripts: lower case alone, no allocation.
            out.extend(c.to_lowercase());
        }
        map.resize(map.len() + (out.len() - before), i);
    }
    map.push(text.len());
    Some((out, map))
}

/// Whether the secret-word search can match in `b` (any non-ASCII text, or ASCII text
/// holding one of the Latin words).
pub(super) fn may_hold(b: &[u8]) -> bool {
    !b.is_ascii() || words().search.is_match(b)
}

/// Reports the values after secret words of any language in `scan`'s text.
pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let w = words();
    let text = scan.text;
    let b = scan.b;
    let folded = folded(text);
    let (hay, map): (&str, Option<&[usize]>) = match &folded {
        Some((f, m)) => (f, Some(m)),
        None => (text, None),
    };
    let orig = |i: usize| map.map_or(i, |m| m[i.min(m.len() - 1)]);
    let mut resume = 0;
    for m in w.search.find_iter(hay) {
        let (s, mut e) = (orig(m.start()), orig(m.end()));
        if s < resume {
            continue;
        }
        *scan.steps += (m.end() - m.start()) as u64;
        let id = m.pattern().as_usize();
        if w.latin[id] {
            // Inside a word, or a segment of a path, URL or ARN (`/oauth/token`,
            // `arn:..:secret:prod/db`).
            let before = text[..s].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | '\\' | ':' | '.')) {
                continue;
            }
            // A few letters of inflection (`Lösenordet`, `Şifreniz`); short words
            // (`pin`, `otp`) must stand alone.
            let suffix: usize = text[e..]
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum();
            let letters = text[e..e + suffix].chars().count();
            if letters > 0
                && (m.end() - m.start() < 5 || letters > 4 || is_english(&hay[m.range()]))
            {
                continue;
            }
            e += suffix;
            // Part of an identifier (`token_count`, `password.len`), or a URL's query
            // (`/token?x`, `refresh_token&x`): not prose.
            let rest = &b[e..];
            if rest
                .first()
                .is_some_and(|&c| matches!(c, b'_' | b'&' | b'?') || c.is_ascii_alphanumeric())
                || rest.len() > 1 && rest[0] == b'.' && rest[1].is_ascii_alphanumeric()
            {
                continue;
            }
        }
        // Id names in prose stand as words; short Latin ones are acronyms, written in
        // capitals (`TIN`, `SIN`, `OIB`; not `tin`, `sin(x)`).
        if matches!(w.concepts[id], Concept::NationalId | Concept::BankCode) {
            let before = text[..s].chars().next_back();
            let after = text[e..].chars().next();
            if before.is_some_and(char::is_alphabetic) || after.is_some_and(char::is_alphabetic) {
                continue;
            }
            let name = &text[s..e];
            if w.latin[id]
                && name.chars().filter(|c| c.is_alphabetic()).count() <= 4
                && name.chars().any(char::is_lowercase)
            {
                continue;
            }
        }
        // `word=value` of a Latin word is a pair, read by the key/value scanner with its
        // delimiters.
        if w.latin[id] && b.get(e) == Some(&b'=') {
            continue;
        }
        if let Some(next) = value_after(scan, e, w.concepts[id]) {
            resume = next;
        }
    }
}

/// Sentence ends: `.`, `!`, `?` before a space or the end, a line end, `;`, and the
/// full stops of other scripts.
fn sentence_end(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    match b[at] {
        b'\n' | b'\r' | b';' => true,
        b'.' | b'!' | b'?' => b.get(at + 1).is_none_or(|c| c.is_ascii_whitespace()),
        _ => text[at..].starts_with(['。', '！', '？', '；', '\u{964}']),
    }
}

/// Bytes that separate a word from its value and are no part of either.
fn is_separator(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b':'
            | b'='
            | b'-'
            | b'>'
            | b'<'
            | b'('
            | b'['
            | b'{'
            | b','
            | b'"'
            | b'\''
            | b'`'
            | b')'
            | b']'
            | b'}'
            | b'|'
    )
}

/// The value after the secret word ending at `e`, reported; the index after it.
fn value_after(scan: &mut Scan<'_, '_>, e: usize, concept: Concept) -> Option<usize> {
    let text = scan.text;
    let b = scan.b;
    let limit = (e + MAX_BYTES).min(b.len());
    let mut p = e;
    let mut adjacent = true;
    let mut words = 0;
    // The dot of a number word's abbreviation (`PP no. X`, `Ausweis-Nr. X`) ends no
    // sentence.
    let numbered = matches!(
        concept,
        Concept::Document | Concept::NationalId | Concept::BankCode
    );
    if numbered
        && b.get(p) == Some(&b'.')
        && e >= 2
        && [&b"no"[..], b"nr"]
            .iter()
            .any(|a| b[e - 2..e].eq_ignore_ascii_case(a))
    {
        p += 1;
    }
    while p < limit && words < MAX_WORDS {
        if sentence_end(text, p) {
            return None;
        }
        let c = b[p];
        if is_separator(c) {
            // Words are counted at the blanks after them (text of scripts without
            // spaces is bounded by the bytes looked at).
            if matches!(c, b' ' | b'\t') && p > e && !matches!(b[p - 1], b' ' | b'\t') {
                words += 1;
            }
            p += 1;
            continue;
        }
        if !c.is_ascii() {
            // A letter or mark of another script: a word between (`пользователя`), or
            // a connector (`是`, `は`, `—`) — those keep the value adjacent.
            let ch = text[p..].chars().next()?;
            if !matches!(
                ch,
                '是' | '为'
                    | '為'
                    | 'は'
                    | '：'
                    | '—'
                    | '–'
                    | '«'
                    | '「'
                    | '『'
                    | '【'
                    | '［'
                    | '（'
                    | '＝'
                    | '\u{a0}'
            ) && ch.is_alphanumeric()
            {
                let run_end = text[p..]
                    .char_indices()
                    .find(|(_, c)| c.is_ascii() || !c.is_alphanumeric() && !is_mark(*c))
                    .map_or(text.len(), |(i, _)| p + i);
                // A short particle of one or two letters attached to the word (`는`,
                // `の`) keeps it adjacent.
                if text[p..run_end].chars().count() > 2 {
                    adjacent = false;
                }
                p = run_end;
            } else {
                p += ch.len_utf8();
            }
            continue;
        }
        // `#` before a document's number (`License #D1234567`).
        if numbered && c == b'#' {
            p += 1;
            continue;
        }
        // An id's digit groups, taken whole (`341-287-659 82`, `4172 58368 1`).
        if matches!(concept, Concept::NationalId | Concept::BankCode) && adjacent {
            if let Some(end) = digit_groups(b, p) {
                *scan.steps += (end - p) as u64;
                if concept == Concept::NationalId {
                    scan.push(p, end, "@secret_context");
                }
                // `routing 021000021 account 483920175`: beside a bank's code, `account`
                // names the bank account.
                return Some(account_after(scan, end).unwrap_or(end));
            }
            if concept == Concept::BankCode {
                return None;
            }
        }
        // An ASCII run: the candidate.
        let end = b[p..limit]
            .iter()
            .position(|&c| {
                !c.is_ascii_graphic()
                    || matches!(
                        c,
                        b',' | b';'
                            | b'"'
                            | b'\''
                            | b'('
                            | b')'
                            | b'['
                            | b']'
                            | b'{'
                            | b'}'
                            | b'>'
                            | b'<'
                            | b'`'
                            | b'|'
                    )
            })
            .map_or(limit, |i| p + i);
        let mut value_end = end;
        while value_end > p && matches!(b[value_end - 1], b'.' | b'?' | b'!' | b':') {
            value_end -= 1;
        }
        let value = &b[p..value_end];
        *scan.steps += (end - p) as u64;
        if fits(value, concept, adjacent) {
            scan.push(p, value_end, "@secret_context");
            return Some(value_end);
        }
        // `passport ID is X`: an id word between a document's name and its number.
        let id_word = numbered
            && [&b"id"[..], b"ident", b"identifier"]
                .iter()
                .any(|w| value.eq_ignore_ascii_case(w));
        if !is_connector(value) && !id_word {
            adjacent = false;
        }
        // `n.`, `No.`, `Nr.` before a number end no sentence.
        let abbreviation = [&b"n"[..], b"no", b"nr", b"nro", b"num"]
            .iter()
            .any(|a| value.eq_ignore_ascii_case(a));
        if value_end < end && end < b.len() && sentence_end(text, value_end) && !abbreviation {
            return None;
        }
        p = end.max(p + 1);
    }
    None
}

/// After a bank number ending at `e`: `account` (or `acct`, `a/c`) and its digit groups,
/// reported; the index after them.
fn account_after(scan: &mut Scan<'_, '_>, e: usize) -> Option<usize> {
    let b = scan.b;
    let mut p = e;
    while b
        .get(p)
        .is_some_and(|&c| matches!(c, b' ' | b',' | b';' | b'/'))
    {
        p += 1;
    }
    let word = [&b"account"[..], b"acct", b"a/c"]
        .into_iter()
        .find(|w| b.len() >= p + w.len() && b[p..p + w.len()].eq_ignore_ascii_case(w))?;
    p += word.len();
    while b.get(p).is_some_and(|&c| matches!(c, b' ' | b':' | b'#')) {
        p += 1;
    }
    for number_word in [&b"number"[..], b"no.", b"no", b"nr"] {
        if b.len() > p + number_word.len()
            && b[p..p + number_word.len()].eq_ignore_ascii_case(number_word)
            && matches!(b[p + number_word.len()], b' ' | b':' | b'#')
        {
            p += number_word.len();
            while b.get(p).is_some_and(|&c| matches!(c, b' ' | b':' | b'#')) {
                p += 1;
            }
            break;
        }
    }
    let end = digit_groups(b, p)?;
    scan.push(p, end, "@secret_context");
    Some(end)
}

/// Fewest and most digits of an id's digit groups.
const ID_DIGITS: std::ops::RangeInclusive<usize> = 6..=20;

/// The end of the digit groups at `p` (digits, groups joined by one space, `-`, `.` or
/// `/`), when they hold [`ID_DIGITS`] digits, are not followed by a letter or digit, and
/// are no date (`2026-12-06`, `06.12.2026`).
fn digit_groups(b: &[u8], p: usize) -> Option<usize> {
    let mut i = p;
    let mut end = p;
    let mut groups: Vec<usize> = Vec::new();
    loop {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            break;
        }
        groups.push(i - start);
        end = i;
        if groups.iter().sum::<usize>() > *ID_DIGITS.end() {
            return None;
        }
        if i + 1 < b.len() && matches!(b[i], b' ' | b'-' | b'.' | b'/') && b[i + 1].is_ascii_digit()
        {
            i += 1;
            continue;
        }
        break;
    }
    let date = matches!(groups.as_slice(), [4, 2, 2] | [2, 2, 4] | [1 | 2, 1 | 2, 4]);
    let digits: usize = groups.iter().sum();
    (ID_DIGITS.contains(&digits) && !date && !b.get(end).is_some_and(|c| c.is_ascii_alphanumeric()))
        .then_some(end)
}

/// English secret words: English does not inflect them with letters (`tokenizer` is
/// another word).
fn is_english(folded: &str) -> bool {
    crate::locale_words::ENGLISH_KEY_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(folded))
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

fn is_connector(v: &[u8]) -> bool {
    let v = std::str::from_utf8(v).unwrap_or_default().to_lowercase();
    CONNECTORS.contains(&v.as_str())
}

/// Whether `v` is a value of `concept`'s shape (see the module's rules).
fn fits(v: &[u8], concept: Concept, adjacent: bool) -> bool {
    // A path or URL is never a value here (`secret:prod/db-AbCdEf` of an ARN).
    if v.len() < 4 || v.len() > 256 || v.contains(&b'/') || v.starts_with(b"http") {
        return false;
    }
    // Another pair (`grant_type=refresh_token`), not a value.
    if let Some(eq) = v.iter().position(|&c| c == b'=') {
        if eq > 0
            && v[..eq]
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
            && v[0].is_ascii_alphabetic()
        {
            return false;
        }
    }
    let st = stats(v);
    let digits_only = st.digit == v.len();
    let symbol = v.iter().any(|c| {
        matches!(
            c,
            b'!' | b'@' | b'#' | b'$' | b'%' | b'^' | b'&' | b'*' | b'+' | b'=' | b'?' | b'~'
        )
    });
    let classes = usize::from(st.lower > 0)
        + usize::from(st.upper > 0)
        + usize::from(st.digit > 0)
        + usize::from(symbol);
    let strong = v.len() >= 6 && classes >= 3 && !looks_like_path_or_number(v);
    match concept {
        Concept::Code => digits_only && (4..=8).contains(&v.len()) || strong && v.len() <= 12,
        Concept::Password => {
            strong
                || adjacent
                    && (st.credential_like(v) || digits_only && (4..=16).contains(&v.len()))
                    && !looks_like_path_or_number(v)
        }
        // Licence and passport numbers: letters and digits (a dash or a space between
        // groups is read as two runs), at least four digits, not a date or a version.
        Concept::Document | Concept::NationalId | Concept::BankCode => {
            let letters = st.lower + st.upper;
            // A compact ISO 8601 time (`20240501T1000Z`) has only `T` and `Z`.
            // Its `T` follows the date's digits (a licence's leading `T` is no time).
            let time = v.iter().position(|&c| c == b'T').is_some_and(|t| t >= 6)
                && v.iter()
                    .all(|c| !c.is_ascii_alphabetic() || matches!(c, b'T' | b'Z'));
            adjacent
                && (5..=20).contains(&v.len())
                && st.digit >= 4
                && v.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && (letters > 0 && !time || digits_only)
        }
        Concept::Token => {
            v.len() >= 8 && !digits_only && (strong || adjacent && st.credential_like(v))
        }
    }
}

/// Paths, URLs, versions, dates and times are no credential (`/etc/app.conf`,
/// `v1.2.3`, `2024-05-01T10:00`).
fn looks_like_path_or_number(v: &[u8]) -> bool {
    v.contains(&b'/')
        || v.starts_with(b"http")
        || v.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b':' | b'T' | b'Z' | b'+'))
}
