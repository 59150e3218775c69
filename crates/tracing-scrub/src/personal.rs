//! Personal data written as numbers in text: phone numbers ([`super::phones`]) and
//! national ids ([`super::national_ids`]).
//!
//! One left-to-right pass cuts the text into candidates: runs of digit groups (digits
//! of any script) joined by one to three separators (spaces of every width, dashes,
//! `.`, `/`, parentheses), perhaps after a `+` or `(`, with letters where ids have
//! them (`230491-274C`, `S8520631A`, `AB 12 34 56 C`). Only candidates with six or more
//! digits are looked at, and the words before one (a bounded window on its line) only
//! when a rule needs them. Each byte is visited a bounded number of times: linear.

use super::national_ids;
use super::phones::{self, Context, PhoneCandidate};
use crate::finding::Finding;
use crate::words::{context_window, has_word};

/// Longest candidate looked at (normalised characters); longer runs are no number
/// any rule knows and are skipped whole.
const MAX_CANDIDATE: usize = 48;
/// Longest phone word (bytes), searched again at a stretch's start.
const LONGEST_WORD: usize = 32;
/// Fewest digits of any rule (a UK NINO has six).
const MIN_DIGITS: usize = 6;

/// Whether [`find`] can find anything in `b`: six digits, of any script. For ASCII text
/// a count the compiler vectorises.
pub(crate) fn may_hold(b: &[u8]) -> bool {
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits >= MIN_DIGITS {
        return true;
    }
    if b.is_ascii() {
        return false;
    }
    // Digits of other scripts: decoded only here, for non-ASCII text short of ASCII ones.
    let Ok(text) = std::str::from_utf8(b) else {
        return true;
    };
    // No script has decimal digits in U+3000-U+A61F (kana, CJK ideographs, Yi) or
    // U+AC00-U+FF0F (Hangul syllables, compatibility forms): most of East Asian text is
    // answered without a table lookup.
    let no_digits =
        |c: char| ('\u{3000}'..'\u{a620}').contains(&c) || ('\u{ac00}'..'\u{ff10}').contains(&c);
    digits
        + text
            .chars()
            .filter(|&c| !c.is_ascii() && !no_digits(c) && crate::words::digit_value(c).is_some())
            .take(MIN_DIGITS)
            .count()
        >= MIN_DIGITS
}

/// One character of a candidate, normalised: an ASCII digit, letter or separator.
#[derive(Clone, Copy)]
struct Unit {
    c: u8,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit(u8),
    Letter(u8),
    Sep(u8),
    Other,
}

fn classify(ch: char) -> Class {
    match ch {
        '0'..='9' => Class::Digit(ch as u8),
        'A'..='Z' | 'a'..='z' => Class::Letter(ch as u8),
        ' ' | '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' | '\u{3000}' => Class::Sep(b' '),
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{ff0d}' | '\u{30fc}' => Class::Sep(b'-'),
        '.' | '/' | '(' | ')' | '+' => Class::Sep(ch as u8),
        c if !c.is_ascii() => match crate::words::digit_value(c) {
            Some(d) => Class::Digit(b'0' + d as u8),
            None => Class::Other,
        },
        _ => Class::Other,
    }
}

/// Appends every phone number (when `phones` is on) and national id in `text` to `out`.
pub(crate) fn find(text: &str, phones: bool, out: &mut Vec<Finding>, steps: &mut u64) {
    if !may_hold(text.as_bytes()) {
        return;
    }
    let mut scan = Scan {
        text,
        phones,
        parses: 0,
        phone_words: Vec::new(),
        searched_to: 0,
        units: Vec::with_capacity(32),
        too_long: false,
    };
    let mut prev = Class::Other;
    // The run of letters and digits being read: where it starts in `units`, whether it
    // is a word (letters only, longer than two or with lower case: `RUT`, `no`, `tel`).
    let mut atom: Option<Atom> = None;
    let b = text.as_bytes();
    let mut at = 0;
    while at < b.len() {
        // A word (a run of ASCII letters and digits starting with a lower-case letter,
        // or letters only, longer than two or with lower case) is no part of a number:
        // skipped whole, ending the number before it. Most of a text is words.
        if atom.is_none() && b[at].is_ascii_alphabetic() {
            let mut j = at;
            let (mut digits, mut lower) = (false, false);
            while j < b.len() && b[j].is_ascii_alphanumeric() {
                digits |= b[j].is_ascii_digit();
                lower |= b[j].is_ascii_lowercase();
                j += 1;
            }
            if b[at].is_ascii_lowercase() || (!digits && (lower || j - at > 2)) {
                *steps += (j - at) as u64;
                scan.flush(out, steps);
                prev = Class::Letter(b'a');
                at = j;
                continue;
            }
        }
        let ch = if b[at] < 0x80 {
            char::from(b[at])
        } else {
            text[at..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        *steps += 1;
        let class = classify(ch);
        let end = at + ch.len_utf8();
        match class {
            Class::Digit(c) | Class::Letter(c) => {
                let a = atom.get_or_insert(Atom {
                    start: scan.units.len(),
                    len: 0,
                    letters_only: true,
                    lower: false,
                });
                a.len += 1;
                a.letters_only &= matches!(class, Class::Letter(_));
                a.lower |= c.is_ascii_lowercase();
                // A candidate may start at the `+` or `(` right before its first digit.
                if scan.units.is_empty() && !scan.too_long {
                    if let Class::Sep(s @ (b'+' | b'(')) = prev {
                        scan.push(s, at - 1, at);
                        a.start = 1;
                    }
                }
                scan.push(c, at, end);
            }
            _ => {
                if let Some(a) = atom.take() {
                    scan.end_atom(a, out, steps);
                }
                match class {
                    // A `+` only starts a number (`+00:00` after a time is an offset).
                    Class::Sep(c) if !scan.units.is_empty() && c != b'+' => scan.push(c, at, end),
                    _ => scan.flush(out, steps),
                }
            }
        }
        prev = class;
        at = end;
    }
    if let Some(a) = atom.take() {
        scan.end_atom(a, out, steps);
    }
    scan.flush(out, steps);
}

/// A run of letters and digits inside a candidate.
struct Atom {
    start: usize,
    len: usize,
    letters_only: bool,
    lower: bool,
}

struct Scan<'t> {
    text: &'t str,
    phones: bool,
    parses: u32,
    /// The phone words of the text up to `searched_to`, found as numbers need them.
    phone_words: Vec<(usize, usize, &'static [phonenumber::country::Id])>,
    searched_to: usize,
    units: Vec<Unit>,
    /// The candidate grew past [`MAX_CANDIDATE`]: skipped until its end.
    too_long: bool,
}

impl Scan<'_> {
    fn push(&mut self, c: u8, start: usize, end: usize) {
        if self.too_long {
            return;
        }
        if self.units.len() >= MAX_CANDIDATE {
            self.units.clear();
            self.too_long = true;
            return;
        }
        self.units.push(Unit { c, start, end });
    }

    /// A word ends the candidate before it and starts none; a letter pair (`AB` of a
    /// NINO, `HP` before a number) or a mixed run stays in it.
    fn end_atom(&mut self, a: Atom, out: &mut Vec<Finding>, steps: &mut u64) {
        if a.letters_only && (a.len > 2 || a.lower) {
            if !self.too_long {
                self.units.truncate(a.start);
            }
            self.flush(out, steps);
        }
    }

    /// The candidate ends: looks at it, then starts afresh.
    fn flush(&mut self, out: &mut Vec<Finding>, steps: &mut u64) {
        self.too_long = false;
        let units = std::mem::take(&mut self.units);
        let kept = trim_separators(&units);
        if kept.iter().filter(|u| u.c.is_ascii_digit()).count() >= MIN_DIGITS {
            self.numbers(kept, out, steps);
        }
        let mut units = units;
        units.clear();
        self.units = units;
    }

    /// A candidate: a national id, else a phone number.
    fn numbers(&mut self, units: &[Unit], out: &mut Vec<Finding>, steps: &mut u64) {
        let text = self.text;
        // The words before a number, read once per start.
        let context_of = |start: usize, steps: &mut u64| -> &str {
            let w = context_window(text, start);
            *steps += w.len() as u64;
            w
        };
        // Ids: the candidate as written, then without one or two letter pairs before
        // or after it (`NI AB 12 34 56 C`, `HP 0812..`), and without a leading `+`/`(`.
        let atoms = atoms(units);
        let letters =
            |a: &(usize, usize)| units[a.0..a.1].iter().all(|u| u.c.is_ascii_alphabetic());
        let lead = atoms.iter().take(2).take_while(|a| letters(a)).count();
        let trail = atoms
            .iter()
            .rev()
            .take(2)
            .take_while(|a| letters(a))
            .count();
        let (core_start, core_end) = core(units);
        // At most nine views and the core, each looked at once; no allocation.
        let mut views = [(0usize, 0usize); 10];
        let mut count = 0;
        let mut add = |view: (usize, usize)| {
            if count < views.len() && !views[..count].contains(&view) {
                views[count] = view;
                count += 1;
            }
        };
        for l in 0..=lead {
            for t in 0..=trail {
                if l + t < atoms.len() {
                    let from = if l == 0 { 0 } else { atoms[l].0 };
                    let to = if t == 0 {
                        units.len()
                    } else {
                        atoms[atoms.len() - 1 - t].1
                    };
                    add((from, to));
                }
            }
        }
        // The core, unless it is the whole candidate but for a leading `+` or `(`.
        let only_marks_before = units[..core_start]
            .iter()
            .all(|u| matches!(u.c, b'+' | b'('));
        if !(only_marks_before && core_end == units.len()) {
            add((core_start, core_end));
        }
        let (mut shape, mut compact) = ([0u8; MAX_CANDIDATE], [0u8; MAX_CANDIDATE]);
        for &(from, to) in &views[..count] {
            let view = &units[from..to];
            let mut n = 0;
            for (i, u) in view.iter().enumerate() {
                shape[i] = u.c;
                if u.c.is_ascii_alphanumeric() {
                    compact[n] = u.c.to_ascii_uppercase();
                    n += 1;
                }
            }
            if !(6..=20).contains(&n) {
                continue;
            }
            let found = national_ids::recognise(&shape[..view.len()], &compact[..n], |words| {
                has_word(context_of(view[0].start, steps), words)
            });
            if found.is_some() {
                push(out, view, "@national_id");
                return;
            }
        }
        if !self.phones {
            return;
        }
        // Phones: digits and separators only, with a `+` or `(` right before; the
        // longest prefix of at most eight groups that is one (`0532 119 44 23 3` is a
        // number and a count).
        let mut from = core_start;
        while from > 0 && matches!(units[from - 1].c, b'+' | b'(') {
            from -= 1;
        }
        let plus = units[from].c == b'+';
        let body = &units[from + usize::from(plus)..core_end];
        if body.iter().any(|u| u.c.is_ascii_alphabetic()) {
            return;
        }
        // Group ends, last first.
        let ends = (0..body.len()).rev().filter(|&i| {
            body[i].c.is_ascii_digit() && body.get(i + 1).is_none_or(|n| !n.c.is_ascii_digit())
        });
        let mut ctx: Option<Context> = None;
        let (mut digits_buf, mut shape_buf) = ([0u8; MAX_CANDIDATE], [0u8; MAX_CANDIDATE]);
        for end in ends.take(8) {
            let mut view = &body[..=end];
            let open = view.iter().filter(|u| u.c == b'(').count();
            let closed = view.iter().filter(|u| u.c == b')').count();
            if open > closed && body.get(end + 1).is_some_and(|u| u.c == b')') {
                view = &body[..=end + 1];
            }
            let mut n = 0;
            for (i, u) in view.iter().enumerate() {
                shape_buf[i] = u.c;
                if u.c.is_ascii_digit() {
                    digits_buf[n] = u.c;
                    n += 1;
                }
            }
            let (digits, shape) = (&digits_buf[..n], &shape_buf[..view.len()]);
            if !(7..=17).contains(&n) || !phones::may_be_phone(digits, plus) {
                continue;
            }
            let ctx = ctx.get_or_insert_with(|| {
                let at = units[from].start;
                // The phone words up to here, each stretch searched once: from the end
                // of the last search (less the longest word), or the window's start.
                let window_start = at - context_window(text, at).len();
                let mut from = window_start.max(self.searched_to.saturating_sub(LONGEST_WORD));
                while !text.is_char_boundary(from) {
                    from -= 1;
                }
                if at > from {
                    *steps += (at - from) as u64;
                    phones::words_of(text, from, at, &mut self.phone_words);
                }
                self.searched_to = self.searched_to.max(at);
                let mut ctx = phone_context(text, &self.phone_words, at);
                // Right after a digit and `:`, `.` or `,` a number is part of a time, a
                // decimal or a list (`10:30:00.749390154`); only a phone word makes it
                // a phone.
                let b = text.as_bytes();
                if at > 1 && matches!(b[at - 1], b':' | b'.' | b',') && b[at - 2].is_ascii_digit() {
                    ctx.named_otherwise = true;
                }
                ctx
            });
            if ctx.named_otherwise && !ctx.phone_word {
                continue;
            }
            let candidate = PhoneCandidate {
                digits,
                shape,
                plus,
            };
            if phones::is_phone(&candidate, ctx, &mut self.parses) {
                let first = if plus { &units[from] } else { &view[0] };
                let last = &view[view.len() - 1];
                out.push(Finding {
                    start: first.start,
                    end: last.end,
                    rule: "@phone",
                });
                return;
            }
        }
    }
}

/// Without trailing separators, but for a `)` closing a `(` (`A123456(7)`).
fn trim_separators(units: &[Unit]) -> &[Unit] {
    let mut end = units.len();
    while end > 0 && !units[end - 1].c.is_ascii_alphanumeric() {
        let open = units[..end].iter().filter(|u| u.c == b'(').count();
        let closed = units[..end - 1].iter().filter(|u| u.c == b')').count();
        if units[end - 1].c == b')' && open > closed {
            break;
        }
        end -= 1;
    }
    &units[..end]
}

/// `(start, end)` unit indices of each run of letters and digits.
fn atoms(units: &[Unit]) -> Atoms {
    let mut out = Atoms {
        spans: [(0, 0); MAX_CANDIDATE / 2 + 1],
        len: 0,
    };
    let mut i = 0;
    while i < units.len() {
        if units[i].c.is_ascii_alphanumeric() {
            let s = i;
            while i < units.len() && units[i].c.is_ascii_alphanumeric() {
                i += 1;
            }
            if out.len < out.spans.len() {
                out.spans[out.len] = (s, i);
                out.len += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The runs of letters and digits of a candidate (at most one per two units).
struct Atoms {
    spans: [(usize, usize); MAX_CANDIDATE / 2 + 1],
    len: usize,
}

impl std::ops::Deref for Atoms {
    type Target = [(usize, usize)];

    fn deref(&self) -> &Self::Target {
        &self.spans[..self.len]
    }
}

/// Unit indices of the candidate from its first to its last run holding a digit.
fn core(units: &[Unit]) -> (usize, usize) {
    let atoms = atoms(units);
    let has_digit = |a: &&(usize, usize)| units[a.0..a.1].iter().any(|u| u.c.is_ascii_digit());
    match (
        atoms.iter().find(has_digit),
        atoms.iter().rev().find(has_digit),
    ) {
        (Some(f), Some(l)) => (f.0, l.1),
        _ => (0, 0),
    }
}

fn push(out: &mut Vec<Finding>, view: &[Unit], rule: &'static str) {
    if let (Some(first), Some(last)) = (view.first(), view.last()) {
        out.push(Finding {
            start: first.start,
            end: last.end,
            rule,
        });
    }
}

/// Phone words in the window of a number starting at `at` (the words of the whole text
/// are found once, `words`), and whether the last word names the number otherwise.
fn phone_context(
    text: &str,
    words: &[(usize, usize, &'static [phonenumber::country::Id])],
    at: usize,
) -> Context {
    let window = context_window(text, at);
    let (regions, phone_word) = phones::regions_before(words, at - window.len(), at);
    let last = window
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or("");
    Context {
        regions,
        phone_word,
        named_otherwise: phones::names_otherwise(last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, &'static str)> {
        let mut out = Vec::new();
        find(text, true, &mut out, &mut 0);
        out.iter()
            .map(|f| (&text[f.start..f.end], f.rule))
            .collect()
    }

    #[test]
    fn phones_and_ids_are_found_where_they_stand() {
        assert_eq!(
            found("Rückruf unter Tel. 030 29402838 (Frau Weber)"),
            [("030 29402838", "@phone")]
        );
        assert_eq!(
            found("cliente ligou do +55 11 93047-8052 às 14h"),
            [("+55 11 93047-8052", "@phone")]
        );
        assert_eq!(
            found("tel (11) 93047-8052."),
            [("(11) 93047-8052", "@phone")]
        );
        assert_eq!(
            found("KycRecord { cpf: \"175.064.573-42\" }"),
            [("175.064.573-42", "@national_id")]
        );
        assert_eq!(found("NRIC S8520631A ok"), [("S8520631A", "@national_id")]);
        assert_eq!(
            found("NI AB 12 34 56 C"),
            [("AB 12 34 56 C", "@national_id")]
        );
        assert_eq!(found("hkid A123456(3)"), [("A123456(3)", "@national_id")]);
        assert_eq!(
            found("SMS to 0532 119 44 23 20241202103000 sent"),
            [("0532 119 44 23", "@phone")]
        );
        assert_eq!(found("هاتف: ٠١٠٦٥١٦٩٦٦٨"), [("٠١٠٦٥١٦٩٦٦٨", "@phone")]);
    }

    #[test]
    fn numbers_of_other_kinds_stay() {
        for text in [
            "order 82736451092 shipped",
            "2024-12-02 10:30:00.123456 request finished",
            "took 1234567 ns",
            "Windows 10.0.19045.3803",
            "uuid 0f8fad5b-d9cb-469f-a165-70867728950e",
            "invoice 0532 119 44 23",
            "1 2 3 4 5 6 7 8 9 10 11 12",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn without_phones_only_ids_are_found() {
        let mut out = Vec::new();
        find(
            "tel +55 11 93047-8052 cpf 175.064.573-42",
            false,
            &mut out,
            &mut 0,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "@national_id");
    }
}
