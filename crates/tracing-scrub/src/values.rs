//! Secrets and personal data found inside free text. Each detector finds spans of a
//! string; only those spans are replaced, so the rest of a message stays readable.

use regex::{Captures, Regex};

use crate::finding::Finding;
use crate::keys::{self, KeyMatcher};
use crate::words::digit_value;
use crate::{secrets, text, vendors};

/// How a detector turns a regex match into findings.
#[derive(Clone, Copy, Debug)]
enum Check {
    /// The whole match.
    Whole,
    /// The whole match, an armored block whose label names no public key.
    Armor,
    /// Capture group 1.
    Group1,
    /// Group 1, if it looks like a credential (digits or mixed case; not a plain word).
    Credential,
    /// Group 1 is a card number: issuer range, grouping and Luhn.
    Card,
    /// An IBAN: country, length and checksum (mod 97).
    Iban,
    /// A plausible US SSN (no 000/666/9xx area, 00 group or 0000 serial).
    Ssn,
    /// An IPv4 address that is not loopback, unspecified, or part of a version or OID.
    Ipv4,
    /// An IPv6 address: not loopback, not part of a longer colon-hex run (fingerprints).
    Ipv6,
    /// Group 1 is an IMEI after its label: 15 digits, Luhn-valid (3GPP TS 23.003), or
    /// an IMEISV's 16 (no check digit).
    Imei,
    /// Group 1 is a card written one digit at a time (`4 5 3 2 ..`, a `Debug` list
    /// `[4, 5, 3, 2, ..]`): the whole run of single digits, one separator, Luhn and a
    /// card network ([`super::cards::accepts`]).
    DigitRun,
}

#[derive(Clone)]
struct Detector {
    rule: &'static str,
    regex: LazyRegex,
    check: Check,
    /// What ASCII text needs for the regex to match at all ([`Gate::is_open`]).
    gate: Gate,
    /// The literals every match starts with, when they can be listed ([`prefixes`]):
    /// the vendor tokens' prefixes (`ghp_`, `xoxb-`, `sk_live_`, ...), so text holding
    /// none never compiles their large regex.
    prefixes: Option<std::sync::Arc<aho_corasick::AhoCorasick>>,
}

/// The literals every match of `pattern` starts with, searched in one pass: the same
/// necessary condition the regex engine's own prefilter uses, without compiling the
/// regex. `None` when they cannot be listed (too many, or one is empty).
fn prefixes(pattern: &str) -> Option<std::sync::Arc<aho_corasick::AhoCorasick>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    aho_corasick::AhoCorasick::new(literals.iter().map(|l| l.as_bytes()))
        .ok()
        .map(std::sync::Arc::new)
}

/// A necessary condition for a built-in detector's regex to match ASCII text, tested
/// before running it: each regex alone is cheap when it finds nothing, while one set of
/// all of them searched for overlapping matches kept rebuilding its lazy DFA (most of
/// the scrubber's time on clean log lines). Text with any non-ASCII byte opens every
/// gate (`\d`, `\s` and case folding are Unicode-aware). `tests::gates_are_necessary`
/// checks each against its regex on random text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    /// Always run (user patterns).
    Always,
    /// Only non-ASCII text (other scripts' digits).
    NonAscii,
    /// One of these words, in any case.
    Words(&'static [&'static str]),
    /// A `@`.
    At,
    /// A `@` or one written by an escaper (`%40`, `\u0040`, `\x40`, `&#64;`, `(at)`).
    AtLike,
    /// At least this many ASCII digits.
    Digits(usize),
    /// Four digits and three dots.
    Ipv4,
    /// Two letters then two digits (an IBAN's country and check digits).
    Iban,
    /// `::` or seven colons (an IPv6 address's compressed or full form).
    Ipv6,
    /// A `:` or `/` (the schemes and hosts of links that dial a number).
    ColonOrSlash,
}

/// A detector's own regex, compiled on the first text its [`Gate`] (or a class-first
/// rule's literal) lets through, then kept: many detectors never see such a text in
/// most processes, and each compiled regex holds its NFAs and their caches (about 3 MiB
/// for all the built-in detectors). Clones share the compiled regex, so the
/// once-per-process built-in detectors compile each at most once.
#[derive(Clone)]
struct LazyRegex(std::sync::Arc<(Box<str>, std::sync::OnceLock<Option<Regex>>)>);

impl LazyRegex {
    /// `pattern` must be valid (the built-in ones are compiled by tests, user patterns
    /// checked by `Scrubber::new`).
    fn new(pattern: &str) -> Self {
        LazyRegex(std::sync::Arc::new((
            pattern.into(),
            std::sync::OnceLock::new(),
        )))
    }

    /// The compiled regex; `None` only if it failed to compile, which cannot happen for
    /// a valid pattern (then the detector finds nothing).
    fn get(&self) -> Option<&Regex> {
        self.0
             .1
            .get_or_init(|| Regex::new(&self.0 .0).ok())
            .as_ref()
    }
}

impl Gate {
    fn is_open(self, text: &Features<'_>) -> bool {
        if text.non_ascii {
            return true;
        }
        match self {
            Gate::Always => true,
            Gate::NonAscii => false,
            Gate::Words(words) => words.iter().any(|w| contains_ignoring_case(text.bytes, w)),
            Gate::At => text.at,
            Gate::AtLike => {
                let b = text.bytes;
                text.at
                    || memchr::memchr(b'\\', b).is_some()
                    || followed_by(b, b'%', b"40")
                    || followed_by(b, b'&', b"#")
                    || contains_ignoring_case(b, "at)")
                    || contains_ignoring_case(b, "at]")
            }
            Gate::Digits(n) => text.digits >= n,
            Gate::Ipv4 => text.digits >= 4 && text.dots >= 3,
            Gate::Iban => letters_then_digits(text.bytes),
            Gate::Ipv6 => text.colons >= 7 || followed_by(text.bytes, b':', b":"),
            Gate::ColonOrSlash => text.colons > 0 || memchr::memchr(b'/', text.bytes).is_some(),
        }
    }
}

/// What the gates look at, counted in one pass over a text.
struct Features<'a> {
    bytes: &'a [u8],
    non_ascii: bool,
    at: bool,
    digits: usize,
    dots: usize,
    colons: usize,
}

impl<'a> Features<'a> {
    fn of(bytes: &'a [u8]) -> Self {
        let mut f = Features {
            bytes,
            non_ascii: false,
            at: false,
            digits: 0,
            dots: 0,
            colons: 0,
        };
        for &c in bytes {
            match c {
                b'0'..=b'9' => f.digits += 1,
                b'.' => f.dots += 1,
                b':' => f.colons += 1,
                b'@' => f.at = true,
                0x80.. => f.non_ascii = true,
                _ => {}
            }
        }
        f
    }
}

/// Whether two ASCII letters and two ASCII digits follow each other in `b`.
fn letters_then_digits(b: &[u8]) -> bool {
    b.windows(4).any(|w| {
        w[3].is_ascii_digit()
            && w[2].is_ascii_digit()
            && w[1].is_ascii_alphabetic()
            && w[0].is_ascii_alphabetic()
    })
}

/// Whether `first` occurs in `b` followed by `rest` (a short literal that starts with a
/// rare byte: no searcher to build).
fn followed_by(b: &[u8], first: u8, rest: &[u8]) -> bool {
    memchr::memchr_iter(first, b).any(|at| b[at + 1..].starts_with(rest))
}

/// Whether `word` (ASCII) occurs in `b`, ASCII letters in any case.
fn contains_ignoring_case(b: &[u8], word: &str) -> bool {
    let w = word.as_bytes();
    let Some(&first) = w.first() else {
        return true;
    };
    let mut at = 0;
    while let Some(i) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &b[at..],
    ) {
        let start = at + i;
        if b.len() - start >= w.len() && b[start..start + w.len()].eq_ignore_ascii_case(w) {
            return true;
        }
        at = start + 1;
    }
    false
}

/// `(rule, pattern, check, is_personal_data, gate)`. Key/value pairs, structures, URLs and
/// CLI flags are found by [`text`]; vendor tokens come from [`vendors`].
const DETECTORS: &[(&str, &str, Check, bool, Gate)] = &[
    // Armored blocks (RFC 7468's PEM, RFC 4716's SSH2 `---- BEGIN .. ----`, OpenPGP's,
    // OpenVPN's `Static key V1`, NATS' `.creds` `NKEY SEED` and `JWT`) whose label names a
    // key, seed, secret or credential; not public keys (`Check::Armor`).
    (
        "@pem_private_key",
        r"-{4,} ?BEGIN [A-Za-z0-9 ]*?(?:PRIVATE|SECRET|Secret|SEED|Seed|PASSWORD|CREDENTIALS?|TOKEN|JWT|KEY|[Kk]ey)[A-Za-z0-9 ]*?-{4,}(?s:.*?)(?:-{4,} ?END [A-Za-z0-9 ]*?-{4,}|\z)",
        Check::Armor,
        false,
        Gate::Words(&["----begin", "--- begin"]),
    ),
    (
        "@bearer",
        r"(?i)(?-u:\b)(?:bearer|basic|ssws)\s+([A-Za-z0-9\-._~+/]{8,}=*)",
        Check::Credential,
        false,
        Gate::Words(&["bearer", "basic", "ssws"]),
    ),
    (
        "@jwt",
        // A JWE's five segments (RFC 7516 7.1; the key segment empty for `dir`) before a
        // JWS's three (RFC 7515 7.1).
        r"(?-u:\b)eyJ[A-Za-z0-9_-]{2,}\.(?:[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*)",
        Check::Whole,
        false,
        Gate::Words(&["eyJ"]),
    ),
    // `user:password@host` without a scheme.
    (
        "@url_userinfo",
        r#"(?:^|[\s=("'<,;])[A-Za-z0-9._~-]{1,64}:([^\s:@/"']{1,256})@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"#,
        Check::Group1,
        false,
        Gate::At,
    ),
    // Oracle `user/password@service`, also in a JDBC thin URL (`jdbc:oracle:thin:
    // user/password@//host:1521/svc`, `@(DESCRIPTION=..)`).
    (
        "@url_userinfo",
        r#"(?:^|[\s=("']|(?i:oracle:(?:thin|oci8?):))[A-Za-z_][A-Za-z0-9_$#]{0,29}/([^\s/@"']{1,128})@(?://|\(|[A-Za-z0-9])"#,
        Check::Group1,
        false,
        Gate::At,
    ),
    (
        "@credit_card",
        // Any decimal digits (full-width, Arabic-Indic, ...), any of the separators people
        // and formatters put between groups; the check normalises and validates.
        // ASCII digits, issuer's first digit; any of the separators people and formatters
        // put between groups. No Unicode `\b` (it keeps the regex engine off its fast path
        // on non-ASCII text): the end is checked by `Check::Card`. `%B` starts a
        // magnetic stripe's track 1 (ISO/IEC 7813: `%B<PAN>^NAME^..?`).
        r"(?:(?-u:\b)|_|%[Bb])([1-9][0-9](?:[ .\-_/\u{a0}\u{2007}\u{2009}\u{202f}\u{200b}\u{2010}-\u{2015}\u{2212}\u{3000}]{0,2}[0-9]){10,17})",
        Check::Card,
        false,
        Gate::Digits(12),
    ),
    // Other scripts' decimal digits (full-width `４１１１..`, Arabic-Indic, ...): the check
    // reads their values.
    (
        "@credit_card",
        r"(?:^|[^\p{L}\p{N}_])([\p{Nd}--[0-9]](?:[ .\-_/\u{a0}\u{2007}\u{2009}\u{202f}\u{200b}\u{2010}-\u{2015}\u{2212}\u{3000}]{0,2}\p{Nd}){10,17})",
        Check::Card,
        false,
        Gate::NonAscii,
    ),
    (
        "@iban",
        r"(?i)(?-u:\b)[A-Z]{2}\d{2}(?:[ \-._]?[A-Z0-9]){11,30}(?-u:\b)",
        Check::Iban,
        false,
        Gate::Iban,
    ),
    (
        "@us_ssn",
        r"(?-u:\b)(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})(?-u:\b)",
        Check::Ssn,
        false,
        Gate::Digits(9),
    ),
    (
        "@email",
        // `@` also as written by escapers and people: `%40`, `\u0040`, `\x40`, `&#64;`,
        // `(at)`; `.` of the domain also as `(dot)`.
        // Letters with their marks (`\p{M}`): Devanagari, Thai and other scripts write
        // vowels and viramas as marks (`उपयोगकर्ता@उदाहरण.कॉम`, RFC 6531).
        r"(?i)[\p{L}\p{M}\p{N}._%+-]+(?:@|%40|\\+u0040|\\+u\{0*40\}|\\+x40|&#0*64;|&#x0*40;|\s?[(\[]at[)\]]\s?)[\p{L}\p{M}\p{N}-]+(?:(?:\.|\s?[(\[]dot[)\]]\s?)[\p{L}\p{M}\p{N}-]+)*(?:\.|\s?[(\[]dot[)\]]\s?)\p{L}[\p{L}\p{M}]+",
        Check::Whole,
        true,
        Gate::AtLike,
    ),
    // Spelled out with bare words (`alice dot smith at example dot org`): only with a
    // common top-level domain after ` dot `, so prose (`retry at noon`) stays.
    (
        "@email",
        r"(?i)(?-u:\b)[\p{L}\p{N}_%+-]+(?: dot [\p{L}\p{N}_%+-]+)* at [\p{L}\p{N}-]+(?: dot [\p{L}\p{N}-]+)* dot (?:com|org|net|edu|gov|io|co|info|biz|me|de|uk|fr|es|it|nl|ru|cn|jp|in|br|au|ca)(?-u:\b)",
        Check::Whole,
        true,
        Gate::Words(&[" dot "]),
    ),
    // RFC 5321's other mailbox forms: a quoted local part (`"john doe"@example.com`,
    // its quotes perhaps escaped inside a JSON string) and an address literal
    // (`postmaster@[203.0.113.9]`, `user@[IPv6:2001:db8::1]`).
    (
        "@email",
        r#"\\?"(?:[^"\\\r\n]|\\[^"]){1,64}\\?"@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}"#,
        Check::Whole,
        true,
        Gate::At,
    ),
    (
        "@email",
        r"[\p{L}\p{N}._%+-]+@\[(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|(?i:IPv6:)[0-9A-Fa-f:.]{2,45})\]",
        Check::Whole,
        true,
        Gate::At,
    ),
    // A phone number in a link that dials or messages it (RFC 3966 `tel:`, `sms:`,
    // `callto:`, WhatsApp's `wa.me/<number>` and `api.whatsapp.com/send?phone=`, Viber,
    // Telegram's `t.me/+<number>`).
    (
        "@phone",
        r"(?i)(?:(?-u:\b)(?:tel|sms|callto|facetime):(?://)?|wa\.me/|whatsapp\.com/send/?\?phone=|viber://chat\?number=|t\.me/\+)((?:\+|%2B)?[0-9](?:[0-9 ().\-]|%20){5,24}[0-9])",
        Check::Group1,
        true,
        Gate::ColonOrSlash,
    ),
    // An IMEI (or IMEISV) after its label, as a key or in prose.
    (
        "@national_id",
        r"(?i)(?:^|[^a-z0-9])imei(?:sv)?[\s:=#\x22'\-]{0,4}(?:(?:no|nr|num|number)\.?[\s:=#\x22']{0,3})?([0-9](?:[ \-]?[0-9]){13,15})",
        Check::Imei,
        true,
        Gate::Words(&["imei"]),
    ),
    // A card one digit at a time (OCR, keypad logs, `Debug` of a digit list).
    (
        "@credit_card",
        r"(?-u:\b)([0-9](?:(?:, ?| )[0-9]){11,18})(?-u:\b)",
        Check::DigitRun,
        false,
        Gate::Digits(12),
    ),
    (
        "@ip",
        r"(?-u:\b)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?-u:\b)",
        Check::Ipv4,
        true,
        Gate::Ipv4,
    ),
    (
        "@ip",
        r"(?i)(?-u:\b)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?-u:\b)|(?:(?-u:\b)[0-9a-f]{1,4})?(?::[0-9a-f]{1,4}){0,6}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}(?-u:\b))?",
        Check::Ipv6,
        true,
        Gate::Ipv6,
    ),
];

/// The compiled detectors; built once per configuration.
#[derive(Clone)]
pub(crate) struct ValueDetectors {
    detectors: Vec<Detector>,
    /// Vendor formats that start with a character class (`vendors::CLASS_FIRST`), each
    /// run on its own over text that holds its literal.
    class_first: Vec<(Detector, memchr::memmem::Finder<'static>)>,
    /// Whether [`may_hold_a_finding`] may skip the regex set: only for the built-in
    /// detectors (a user pattern can match anything).
    prefilter: bool,
    /// Whether phone numbers are personal data to scrub (`send_default_pii` off).
    phones: bool,
}

impl std::fmt::Debug for ValueDetectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueDetectors")
            .field("rules", &self.detectors.len())
            .finish()
    }
}

/// Percent-encoded runs are decoded and scanned again this many times at most.
const MAX_DECODE_DEPTH: usize = 2;

impl ValueDetectors {
    /// Nothing is compiled here (each detector's regex is compiled on first use,
    /// [`LazyRegex`]); without user patterns the detectors are made once
    /// per process and cloned, the clones sharing what gets compiled.
    pub(crate) fn new(extra_patterns: &[String], send_default_pii: bool) -> Result<Self, String> {
        static BUILT_IN: [std::sync::OnceLock<Result<ValueDetectors, String>>; 2] =
            [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
        if extra_patterns.is_empty() {
            return BUILT_IN[usize::from(send_default_pii)]
                .get_or_init(|| Self::compile(&[], send_default_pii))
                .clone();
        }
        Self::compile(extra_patterns, send_default_pii)
    }

    fn compile(extra_patterns: &[String], send_default_pii: bool) -> Result<Self, String> {
        let mut detectors = Vec::new();
        let vendor = vendors::combined_pattern();
        let builtin = DETECTORS
            .iter()
            .map(|(rule, pattern, check, pii, gate)| (*rule, *pattern, *check, *pii, *gate))
            .chain(std::iter::once((
                "@vendor_token",
                vendor.as_str(),
                Check::Group1,
                false,
                // Not a run of token bytes: some vendors' tokens hold `^`, `#`, `=`.
                Gate::Always,
            )));
        for (rule, pattern, check, pii, gate) in builtin {
            if pii && send_default_pii {
                continue;
            }
            detectors.push(Detector {
                rule,
                regex: LazyRegex::new(pattern),
                check,
                gate,
                prefixes: (rule == "@vendor_token")
                    .then(|| prefixes(pattern))
                    .flatten(),
            });
        }
        // Checked by `Scrubber::new` (the first invalid one is its error).
        for pattern in extra_patterns {
            detectors.push(Detector {
                rule: "@custom",
                regex: LazyRegex::new(pattern),
                check: Check::Whole,
                gate: Gate::Always,
                prefixes: None,
            });
        }
        let class_first: Vec<(Detector, memchr::memmem::Finder<'static>)> =
            vendors::class_first_patterns()
                .into_iter()
                .map(|(pattern, literal)| {
                    // Compiled on the first text holding its literal (each rule is
                    // compiled alone by `vendors`' tests).
                    let detector = Detector {
                        rule: "@vendor_token",
                        regex: LazyRegex::new(&pattern),
                        check: Check::Group1,
                        gate: Gate::Always,
                        prefixes: None,
                    };
                    Ok((detector, memchr::memmem::Finder::new(literal)))
                })
                .collect::<Result<_, String>>()?;
        Ok(ValueDetectors {
            detectors,
            class_first,
            prefilter: extra_patterns.is_empty(),
            phones: !send_default_pii,
        })
    }

    /// Every span of `text` that must be replaced, sorted and without overlaps.
    pub(crate) fn find(&self, text: &str, keys: &KeyMatcher) -> Vec<Finding> {
        let mut steps = 0;
        self.find_counting(text, keys, &mut steps)
    }

    /// Whether [`find`](Self::find) finds nothing in `text`. Text with no byte the
    /// structure scanner acts at, no `%` and nothing [`may_hold_a_finding`] lets through
    /// is answered in one pass over its bytes, allocating nothing.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn is_clean(&self, text: &str, keys: &KeyMatcher) -> bool {
        if self.prefilter
            && !may_hold_a_finding_or_structure(text.as_bytes())
            && !secrets::may_hold(text.as_bytes())
            && !super::personal::may_hold(text.as_bytes())
        {
            return true;
        }
        self.find(text, keys).is_empty()
    }

    /// [`find`](Self::find), adding to `steps` a count of the work done: bytes visited by
    /// the structure scanner plus the length of the text for each regex pass over it.
    pub(crate) fn find_counting(
        &self,
        text: &str,
        keys: &KeyMatcher,
        steps: &mut u64,
    ) -> Vec<Finding> {
        let mut found = Vec::new();
        self.find_into(text, keys, 0, &mut found, steps);
        // Full-width and other compatibility forms: found in the NFKC form, replaced in
        // the original.
        if let Some(normal) = super::normalize::nfkc(text) {
            let mut inner = Vec::new();
            self.find_into(&normal.text, keys, 0, &mut inner, steps);
            found.extend(inner.into_iter().map(|f| {
                let (start, end) = normal.original(f.start, f.end);
                Finding { start, end, ..f }
            }));
        }
        keep_hosts_after_userinfo(&mut found);
        found.retain(|f| !inside_a_uuid(text.as_bytes(), f));
        // A detector that ends (or starts) inside a multi-byte character must not make
        // the replacement panic: widen each span to whole characters (scrubbing more,
        // never less).
        for f in &mut found {
            f.end = f.end.min(text.len());
            f.start = f.start.min(f.end);
            while !text.is_char_boundary(f.start) {
                f.start -= 1;
            }
            while !text.is_char_boundary(f.end) {
                f.end += 1;
            }
        }
        found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
        let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            match merged.last_mut() {
                Some(last) if f.start <= last.end => last.end = last.end.max(f.end),
                _ => merged.push(f),
            }
        }
        merged
    }

    fn find_into(
        &self,
        text: &str,
        keys: &KeyMatcher,
        depth: usize,
        found: &mut Vec<Finding>,
        steps: &mut u64,
    ) {
        // The structure scanner acts only at these bytes: text without any has nothing
        // for it (most messages), and one table lookup per byte is cheaper than its loop.
        let first = text
            .bytes()
            .position(|c| BYTE_CLASS[usize::from(c)] & STRUCTURE != 0);
        *steps += first.map_or(text.len(), |at| at + 1) as u64;
        if first.is_some() {
            text::find_structured(text, keys, found, steps);
        }
        *steps += text.len() as u64;
        // Most strings (module paths, span names, "step 3 of 5") hold no candidate.
        if !self.prefilter || may_hold_a_finding(text.as_bytes()) {
            self.find_by_regex(text, found, steps);
        }
        super::personal::find(text, self.phones, found, steps);
        if depth < MAX_DECODE_DEPTH && text.contains('%') {
            self.find_in_encoded_runs(text, keys, depth, found, steps);
        }
        // Credentials by context and shape (`crate::secrets`); it decodes base64 and
        // escaped markup and scans the result with all of these again.
        let mut rescan = |inner: &str, f: &mut Vec<Finding>, s: &mut u64| {
            self.find_into(inner, keys, depth + 1, f, s);
        };
        let rescan: Option<secrets::Rescan<'_>> = (depth < MAX_DECODE_DEPTH).then_some(&mut rescan);
        secrets::find(text, keys, found, steps, rescan);
    }

    fn find_by_regex(&self, text: &str, found: &mut Vec<Finding>, steps: &mut u64) {
        // A text that may hold a finding may hold a phone number soon: the phone
        // metadata (about 4 MiB) loads meanwhile on a thread of its own, so the first
        // phone-like number does not stall the thread that logs it (2.3 s in a debug
        // build, seen by a newcomer; a process whose texts hold nothing never loads it).
        if self.phones {
            crate::phones::warm_in_background();
        }
        let features = Features::of(text.as_bytes());
        for detector in &self.detectors {
            if !detector.gate.is_open(&features) {
                continue;
            }
            if detector
                .prefixes
                .as_ref()
                .is_some_and(|p| !p.is_match(text.as_bytes()))
            {
                continue;
            }
            *steps += text.len() as u64;
            let Some(regex) = detector.regex.get() else {
                continue;
            };
            for caps in regex.captures_iter(text) {
                detector.collect(text, &caps, found);
            }
        }
        // The class-first vendor formats, each only over text holding its literal.
        for (detector, literal) in &self.class_first {
            *steps += text.len() as u64;
            if literal.find(text.as_bytes()).is_none() {
                continue;
            }
            *steps += text.len() as u64;
            let Some(regex) = detector.regex.get() else {
                continue;
            };
            for caps in regex.captures_iter(text) {
                detector.collect(text, &caps, found);
            }
        }
    }

    /// Percent-encoded parts (`next=%2Fcb%3Ftoken%3D..`, `jane%40example.com`) are decoded
    /// and scanned; a run that holds a secret is replaced whole.
    fn find_in_encoded_runs(
        &self,
        text: &str,
        keys: &KeyMatcher,
        depth: usize,
        found: &mut Vec<Finding>,
        steps: &mut u64,
    ) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let is_run_byte = |c: u8| {
                !c.is_ascii_whitespace()
                    && !matches!(
                        c,
                        b'=' | b'&' | b'?' | b'/' | b'"' | b'\'' | b',' | b';' | b'(' | b')'
                    )
            };
            if !is_run_byte(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let mut encoded = false;
            while i < b.len() && is_run_byte(b[i]) {
                encoded |= b[i] == b'%';
                i += 1;
            }
            *steps += (i - start) as u64;
            if !encoded {
                continue;
            }
            // `user:pa%40ss@host`: the userinfo is found by the URL scanner; only what
            // comes before the last plain `@` is decoded, so the host stays.
            let run = &text[start..i];
            let run = match run.rfind('@') {
                Some(at) if run[..at].contains('%') => &run[..at],
                _ => run,
            };
            let run_end = start + run.len();
            let decoded = keys::percent_decoded(run);
            if decoded == run {
                continue;
            }
            // Form encoding (`application/x-www-form-urlencoded`) writes a space as `+`:
            // `password+%3D+X` is `password = X`. The run is replaced whole, so reading a
            // literal `+` as a space here only changes what is found, not what is kept.
            let decoded = decoded.replace('+', " ");
            let mut inner = Vec::new();
            self.find_into(&decoded, keys, depth + 1, &mut inner, steps);
            if !inner.is_empty() {
                found.push(Finding {
                    start,
                    end: run_end,
                    rule: inner[0].rule,
                });
            }
        }
    }
}

impl Detector {
    fn collect(&self, text: &str, caps: &Captures<'_>, out: &mut Vec<Finding>) {
        let whole = caps.get(0).expect("group 0 always matches");
        let finding = |start, end| Finding {
            start,
            end,
            rule: self.rule,
        };
        let b = text.as_bytes();
        match self.check {
            Check::Whole if self.rule == "@email" && in_url_userinfo(b, whole.start()) => {}
            Check::Whole if self.rule == "@email" && scp_remote(b, whole.start(), whole.end()) => {}
            // `user:password@host:5432`: the password is URL userinfo (found as such);
            // the host is not personal data and stays.
            Check::Whole if self.rule == "@email" && after_userinfo_user(b, whole.start()) => {
                if let Some(at) = whole.as_str().find('@') {
                    out.push(finding(whole.start(), whole.start() + at));
                }
            }
            Check::Whole => out.push(finding(whole.start(), whole.end())),
            Check::Armor => {
                // The label: from `BEGIN ` to the dashes after it (no capture group, so
                // the regex runs as a DFA).
                let after = whole.as_str().split_once("BEGIN ").map_or("", |(_, a)| a);
                let label = after.split('-').next().unwrap_or_default();
                let public = label
                    .as_bytes()
                    .windows(6)
                    .any(|w| w.eq_ignore_ascii_case(b"public"));
                if !public {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
            Check::Group1 => {
                if let Some(m) = caps.get(1) {
                    out.push(finding(m.start(), m.end()));
                }
            }
            Check::Credential => {
                if let Some(m) = caps.get(1) {
                    let s = m.as_str();
                    let mixed = s.chars().any(|c| c.is_ascii_uppercase())
                        && s.chars().any(|c| c.is_ascii_lowercase());
                    if mixed || s.chars().any(|c| c.is_ascii_digit()) {
                        out.push(finding(m.start(), m.end()));
                    }
                }
            }
            Check::Card => {
                if let Some(m) = caps.get(1) {
                    let ends_word = text[m.end()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric() && c != '_');
                    if let Some(digits) = ascii_digits(m.as_str()).filter(|_| ends_word) {
                        let grouped = digits.len() != m.as_str().chars().count();
                        if card_grouping(m.as_str())
                            && luhn_valid(&digits)
                            && super::cards::accepts(digits.as_bytes(), grouped, || {
                                super::cards::card_word_before(text, m.start())
                            })
                            && (grouped || !named_as_a_number(b, m.start()))
                        {
                            // Track 1 holds the name and expiry too (`^NAME^YYMM..?`):
                            // the whole track is card data.
                            let track1 = m.start() >= 2
                                && b[m.start() - 2] == b'%'
                                && b.get(m.end()) == Some(&b'^');
                            let end = if track1 {
                                b[m.end()..(m.end() + 80).min(b.len())]
                                    .iter()
                                    .position(|&c| c == b'?')
                                    .map_or(m.end(), |q| m.end() + q)
                            } else {
                                m.end()
                            };
                            out.push(finding(m.start(), end));
                        }
                    }
                }
            }
            Check::Imei => {
                if let Some(m) = caps.get(1) {
                    let digits: Vec<u8> = m.as_str().bytes().filter(u8::is_ascii_digit).collect();
                    let ends = b.get(m.end()).is_none_or(|c| !c.is_ascii_alphanumeric());
                    let valid = match digits.len() {
                        15 => super::checksums::luhn(&digits),
                        16 => true,
                        _ => false,
                    };
                    if ends && valid {
                        out.push(finding(m.start(), m.end()));
                    }
                }
            }
            Check::DigitRun => {
                if let Some(m) = caps.get(1) {
                    if digit_run_is_card(b, m.start(), m.end(), text) {
                        out.push(finding(m.start(), m.end()));
                    }
                }
            }
            Check::Iban => {
                if let Some(len) = longest_valid_iban(whole.as_str()) {
                    out.push(finding(whole.start(), whole.start() + len));
                }
            }
            Check::Ssn => {
                if ssn_plausible(whole.as_str()) {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
            Check::Ipv4 => {
                let s = whole.as_str();
                let before = whole.start().checked_sub(1).map(|p| b[p]);
                let after = b.get(whole.end()).copied();
                let after2 = b.get(whole.end() + 1).copied();
                let part_of_longer = matches!(before, Some(b'.' | b'/' | b'_' | b'-'))
                    || before.is_some_and(|c| c.is_ascii_alphanumeric())
                    || (matches!(after, Some(b'.' | b'-'))
                        && after2.is_some_and(|c| c.is_ascii_alphanumeric()));
                // A last octet of 0 or 255 names a network or its broadcast, never one
                // host (nor a person); four-part versions end so most often (`19.3.0.0`).
                // `0.0.0.0/8` is "this network" (RFC 6890), no host's address: a leading 0
                // is a version (`0.12.3.16`).
                let special = s.starts_with("127.")
                    || s.starts_with("0.")
                    || s.ends_with(".0")
                    || s.ends_with(".255");
                // Four numbers up to 15 outside 10/8 (`4.2.1.3`, `12.3.4.5`) are versions
                // and section numbers; the public hosts among them are resolvers
                // (`1.1.1.1`, `8.8.8.8`, `9.9.9.9`), no person's address.
                let small = !s.starts_with("10.")
                    && s.split('.').all(|o| o.parse::<u8>().is_ok_and(|n| n <= 15));
                let special = special || small;
                // Version numbers and OIDs look like addresses; the words before tell.
                let context = &b[whole.start().saturating_sub(40)..whole.start()];
                let versioned = || {
                    [
                        "version", "upgrade", "release", "ver ", "firmware", "oid", "snmp",
                        "build", "driver", "sdk", "runtime", "kernel", "patch", "bios", "package",
                        "plugin",
                    ]
                    .iter()
                    .any(|w| {
                        context
                            .windows(w.len())
                            .any(|win| win.eq_ignore_ascii_case(w.as_bytes()))
                    })
                };
                if !part_of_longer && !special && !versioned() {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
            Check::Ipv6 => {
                let s = whole.as_str();
                let before = whole.start().checked_sub(1).map(|p| b[p]);
                let after = b.get(whole.end()).copied();
                let in_longer_run = matches!(before, Some(b':' | b'.'))
                    || before.is_some_and(|c| c.is_ascii_hexdigit())
                    || (after == Some(b':')
                        && b.get(whole.end() + 1).is_some_and(u8::is_ascii_hexdigit));
                // `3A:4F:19:..` (TLS and SSH fingerprints): all two-digit groups, no `::`.
                let fingerprint = !s.contains("::") && s.split(':').all(|g| g.len() == 2);
                let special = matches!(s, "::" | "::1");
                if s.matches(':').count() >= 2
                    && s.chars().any(|c| c.is_ascii_digit())
                    && !in_longer_run
                    && !fingerprint
                    && !special
                {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
        }
    }
}

/// An "email" whose local part is the end of a URL password (`svc:pa ss@db.internal`,
/// `svc:a/b@db.internal`) ends at the userinfo's `@`: the host is not personal data.
/// Sorting keeps this O(n log n) in the number of findings.
fn keep_hosts_after_userinfo(found: &mut [Finding]) {
    if !found.iter().any(|f| f.rule == "@email") {
        return;
    }
    let mut userinfo: Vec<(usize, usize)> = found
        .iter()
        .filter(|f| f.rule == "@url_userinfo")
        .map(|f| (f.start, f.end))
        .collect();
    if userinfo.is_empty() {
        return;
    }
    userinfo.sort_unstable();
    for f in found.iter_mut().filter(|f| f.rule == "@email") {
        let i = userinfo.partition_point(|&(start, _)| start <= f.start);
        if let Some(&(_, end)) = i.checked_sub(1).and_then(|i| userinfo.get(i)) {
            if f.start <= end && end < f.end {
                f.end = end;
            }
        }
    }
}

/// Whether `f` is a number-shaped finding (IBAN, card, id, phone, SSN, address) lying
/// inside a UUID (`be518afe-ef3e-7076-b5f4-2745e91fd637` holds a checksum-valid IBAN
/// and card groups by chance): a UUID is an id, and stays. Findings of keys and of
/// token rules are kept (`session_id=<uuid>` is still scrubbed).
fn inside_a_uuid(b: &[u8], f: &Finding) -> bool {
    if !matches!(
        f.rule,
        "@iban" | "@credit_card" | "@national_id" | "@phone" | "@us_ssn" | "@ip"
    ) {
        return false;
    }
    let hexish = |c: u8| c.is_ascii_hexdigit() || c == b'-';
    let mut start = f.start.min(b.len());
    let mut end = f.end.min(b.len());
    // A UUID is 36 bytes: look no further than that either way.
    while start > 0 && f.start - start < 36 && hexish(b[start - 1]) {
        start -= 1;
    }
    while end < b.len() && end - f.end < 36 && hexish(b[end]) {
        end += 1;
    }
    let run = &b[start..end];
    let uuid = run.len() == 36
        && run.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let bounded = |c: Option<&u8>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    uuid && bounded(start.checked_sub(1).and_then(|i| b.get(i))) && bounded(b.get(end))
}

/// Shortest vendor token ([`vendors`]: Slack's `xoxb-` and ten characters).
const MIN_VENDOR_TOKEN: usize = 15;

/// Whether any built-in detector could report a finding in `b`: false only when none
/// can, so skipping the regex set then changes no verdict. Necessary conditions, per
/// detector (for ASCII text; anything else is always scanned, since `\d`, `\s` and
/// case folding are Unicode-aware):
/// - email, URL userinfo, Oracle `user/pw@svc`: an `@` or `%40`; an email also an
///   escaped or spelled-out at: `\u0040`, `\x40`, `\u{40}`, `&#`, `(at)`, `[at]`,
///   ` dot ` (`alice at example dot org`);
/// - card: 12 digits, SSN: 9 digits; IBAN: two letters then two digits; IPv4: four
///   digits and three `.`; IPv6: a digit (its check requires one) and two `:` (its
///   check requires them);
/// - armored blocks: `----BEGIN` or `---- BEGIN`; JWT: `eyJ`; bearer/basic/SSWS: that word, in any case;
/// - vendor tokens: a run of at least [`MIN_VENDOR_TOKEN`] token characters.
///
/// One pass over the bytes, no allocation.
fn may_hold_a_finding(b: &[u8]) -> bool {
    let mut digits = 0usize;
    let (mut dots, mut colons) = (0usize, 0usize);
    let mut run = 0usize;
    for (i, &c) in b.iter().enumerate() {
        let class = BYTE_CLASS[usize::from(c)];
        if class & TOKEN != 0 {
            run += 1;
            if run >= MIN_VENDOR_TOKEN {
                return true;
            }
        } else {
            run = 0;
        }
        if class & SPECIAL == 0 {
            continue;
        }
        let rest = &b[i..];
        let starts =
            |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
        match c {
            0x80.. | b'@' => return true,
            b'0'..=b'9' => {
                digits += 1;
                if digits >= 9
                    || (i >= 3
                        && b[i - 1].is_ascii_digit()
                        && b[i - 2].is_ascii_alphabetic()
                        && b[i - 3].is_ascii_alphabetic())
                {
                    return true;
                }
            }
            b'.' => dots += 1,
            b':' => colons += 1,
            b'%' if rest.starts_with(b"%40") => return true,
            // At the last backslash of a run only, so a run costs one look.
            b'\\' if rest.get(1) != Some(&b'\\') => {
                let after = &rest[1..];
                if after.starts_with(b"u0040")
                    || after.starts_with(b"x40")
                    || after.starts_with(b"u{")
                {
                    return true;
                }
            }
            b'&' if rest.get(1) == Some(&b'#') => return true,
            b'(' | b'['
                if rest.len() >= 4
                    && rest[1..3].eq_ignore_ascii_case(b"at")
                    && matches!(rest[3], b')' | b']') =>
            {
                return true
            }
            b'-' if rest.starts_with(b"----BEGIN") || rest.starts_with(b"---- BEGIN") => {
                return true
            }
            // eBay's user tokens are mostly `^`, `#` and `+`: no long run of token
            // characters.
            b'^' if i >= 1 && rest.starts_with(b"^1.1#i^1#") && b[i - 1] == b'v' => return true,
            // Keyed on their rarer letters: `J` of `eyJ`, `w` of `ssws`.
            b'J' if i >= 2 && &b[i - 2..i] == b"ey" => return true,
            b'b' | b'B' if starts(b"bearer") || starts(b"basic") => return true,
            b'w' | b'W'
                if i >= 2 && b.len() >= i + 2 && b[i - 2..i + 2].eq_ignore_ascii_case(b"ssws") =>
            {
                return true
            }
            _ => {}
        }
    }
    (digits >= 4 && dots >= 3) || (digits > 0 && colons >= 2) || spelled_dot(b)
}

/// ` dot ` in a spelled-out email (`alice at example dot org`), in any of its cases.
fn spelled_dot(b: &[u8]) -> bool {
    memchr::memchr_iter(b' ', b).any(|at| {
        let w = &b[at..];
        w.len() >= 5 && w[4] == b' ' && matches!(&w[1..4], b"dot" | b"DOT" | b"Dot")
    })
}

/// [`may_hold_a_finding`], also true for any byte [`text::find_structured`]
/// acts at and any `%` (percent-encoded runs): false means [`ValueDetectors::find`]
/// finds nothing (with the built-in detectors). No allocation.
#[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
fn may_hold_a_finding_or_structure(b: &[u8]) -> bool {
    // Most harmless values (words, spaces, short identifiers) hold no byte any of the
    // three looks at: the classes of all bytes, or-ed (a lookup per byte, no branch),
    // answer those. A byte that [`may_hold_a_finding`] examines (its SPECIAL class), the
    // structure scanner acts at or that starts an encoded run sends the text through
    // the full checks; otherwise only a vendor-token-long run of token bytes could.
    let classes = b
        .iter()
        .fold(0u8, |classes, &c| classes | BYTE_CLASS[usize::from(c)]);
    if classes & (STRUCTURE | PERCENT) != 0 {
        return true;
    }
    if classes & SPECIAL != 0 {
        return may_hold_a_finding(b);
    }
    (b.len() >= MIN_VENDOR_TOKEN
        && b.split(|&c| BYTE_CLASS[usize::from(c)] & TOKEN == 0)
            .any(|run| run.len() >= MIN_VENDOR_TOKEN))
        || spelled_dot(b)
}

/// [`BYTE_CLASS`] bit: a character vendor tokens are made of.
const TOKEN: u8 = 1;
/// [`BYTE_CLASS`] bit: a byte [`may_hold_a_finding`] looks at more closely.
const SPECIAL: u8 = 2;
/// [`BYTE_CLASS`] bit: a byte [`text::find_structured`] acts at.
const STRUCTURE: u8 = 4;
/// [`BYTE_CLASS`] bit: `%`, which starts a percent-encoded run.
const PERCENT: u8 = 8;
/// Class of each byte for [`may_hold_a_finding`], so most bytes cost one lookup.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'/' | b'=' | b'-' | b'~')
        {
            table[c] |= TOKEN;
        }
        if !b.is_ascii()
            || b.is_ascii_digit()
            || matches!(
                b,
                b'@' | b'.'
                    | b':'
                    | b'%'
                    | b'-'
                    | b'J'
                    | b'b'
                    | b'B'
                    | b'w'
                    | b'W'
                    | b'\\'
                    | b'&'
                    | b'('
                    | b'['
                    | b'^'
            )
        {
            table[c] |= SPECIAL;
        }
        if matches!(b, b'=' | b':' | b'<' | b'>' | b'-' | b'/' | b'(' | b'{') {
            table[c] |= STRUCTURE;
        }
        if b == b'%' {
            table[c] |= PERCENT;
        }
        c += 1;
    }
    table
};

/// Whether `at` is inside the userinfo of a `scheme://` URL (found as URL userinfo,
/// not as an email): `://` within 64 bytes before, with no whitespace or `/` between.
fn in_url_userinfo(b: &[u8], at: usize) -> bool {
    let floor = at.saturating_sub(64);
    let mut k = at;
    while k > floor {
        let c = b[k - 1];
        if c == b'/' {
            return k >= 3 && &b[k - 3..k] == b"://";
        }
        if c.is_ascii_whitespace() {
            return false;
        }
        k -= 1;
    }
    false
}

/// Accounts that serve repositories to anyone with a key (`git@github.com:`), not a
/// person's address.
const REPOSITORY_ACCOUNTS: &[&[u8]] = &[b"git", b"hg", b"svn", b"aur", b"forgejo", b"gitea"];

/// Whether the address `start..end` is the user and host of an scp-style remote
/// (`git@github.com:acme/orders.git`): a repository account, then `:` and a path.
fn scp_remote(b: &[u8], start: usize, end: usize) -> bool {
    let Some(at) = b[start..end].iter().position(|&c| c == b'@') else {
        return false;
    };
    let user = &b[start..start + at];
    REPOSITORY_ACCOUNTS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(user))
        && (start == 0 || !b[start - 1].is_ascii_alphanumeric())
        && b.get(end) == Some(&b':')
        && b.get(end + 1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'~' | b'_'))
}

/// Whether the match at `at` follows `user:` as in `user:password@host` (no scheme):
/// a key character run, then `:` right before it.
fn after_userinfo_user(b: &[u8], at: usize) -> bool {
    at >= 2
        && b[at - 1] == b':'
        && (b[at - 2].is_ascii_alphanumeric() || matches!(b[at - 2], b'_' | b'-' | b'.'))
}

/// The digits of `s` as ASCII, separators dropped; `None` when a `\d` of the regex is a
/// digit this crate does not know the value of (newer scripts).
fn ascii_digits(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_numeric() {
            out.push(char::from_digit(digit_value(c)?, 10)?);
        }
    }
    Some(out)
}

/// Words that name what a number counts or identifies: a Luhn-valid run of digits after
/// them (`order 4111..`, `content-length: ..`, `user_id=..`) is that, not a card.
const NUMBER_NAMES: &[&str] = &[
    "id",
    "ids",
    "order",
    "orders",
    "invoice",
    "ticket",
    "shipment",
    "tracking",
    "request",
    "req",
    "trace",
    "span",
    "offset",
    "length",
    "len",
    "size",
    "count",
    "seq",
    "sequence",
    "nonce",
    "snowflake",
    "timestamp",
    "ts",
    "bytes",
    "ms",
    "us",
    "ns",
    "serial",
    "build",
    "job",
    "task",
    "run",
    "message",
    "msg",
    "event",
    "row",
    "record",
    "ref",
    "reference",
];

/// Words that say a number is a card: these win over [`NUMBER_NAMES`].
const CARD_WORDS: &[&str] = &[
    "card",
    "cards",
    "pan",
    "cc",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "charge",
    "payment",
    "cardnumber",
];

/// Whether a key's words name a card (`card_id`, `paymentNumber`, `cc`): numbers under
/// it are not ids, whatever else the key says.
pub(crate) fn names_a_card(key: &str) -> bool {
    let mut card = false;
    for_each_word(key.as_bytes(), |w| {
        card |= CARD_WORDS
            .iter()
            .any(|x| x.as_bytes().eq_ignore_ascii_case(w));
    });
    card
}

/// Whether the words right before `at` (a key, a label, `order #`, `invoice no.`) name
/// the number as an id, size or count and none of them names a card.
fn named_as_a_number(b: &[u8], at: usize) -> bool {
    let floor = at.saturating_sub(48);
    let mut k = at;
    for _ in 0..3 {
        while k > floor
            && matches!(
                b[k - 1],
                b' ' | b'#' | b':' | b'=' | b'"' | b'\'' | b'\\' | b'{' | b','
            )
        {
            k -= 1;
        }
        let end = k;
        while k > floor
            && (b[k - 1].is_ascii_alphanumeric() || matches!(b[k - 1], b'_' | b'-' | b'.'))
        {
            k -= 1;
        }
        if k == end {
            return false;
        }
        // Words of the key or label (`order_id`, `userId`, `content-length`), compared
        // without allocating: this runs for every Luhn-valid candidate.
        let mut last: &[u8] = &[];
        let mut verdict = None;
        for_each_word(&b[k..end], |w| {
            let is = |list: &[&str]| list.iter().any(|x| x.as_bytes().eq_ignore_ascii_case(w));
            if is(CARD_WORDS) {
                verdict = Some(false);
            } else if is(NUMBER_NAMES) && verdict.is_none() {
                verdict = Some(true);
            }
            last = w;
        });
        if let Some(named) = verdict {
            return named;
        }
        // `no.`, `nr`, `number`, `#` between the name and the number.
        if !["no", "nr", "num", "number"]
            .iter()
            .any(|x| x.as_bytes().eq_ignore_ascii_case(last))
        {
            return false;
        }
    }
    false
}

/// Calls `f` with each word of an identifier: runs of letters and digits, split at `_`,
/// `-`, `.` and at a lower-to-upper case change (`userId` is `user`, `Id`).
fn for_each_word<'a>(s: &'a [u8], mut f: impl FnMut(&'a [u8])) {
    let mut start = 0;
    for i in 0..=s.len() {
        let split = i == s.len()
            || !s[i].is_ascii_alphanumeric()
            || (i > start && s[i].is_ascii_uppercase() && s[i - 1].is_ascii_lowercase());
        if split {
            if i > start {
                f(&s[start..i]);
            }
            start = if i < s.len() && s[i].is_ascii_alphanumeric() {
                i
            } else {
                i + 1
            };
        }
    }
}

/// Whether `s` (its digits) is in a strong issuer range of a card network
/// ([`super::cards`]); a Luhn-valid number outside them (order ids) is not a card.
pub(crate) fn issuer_known(s: &str) -> bool {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
    super::cards::network(&digits) == Some(super::cards::Strength::Strong)
}

/// The Luhn checksum over the digits of `s` (12 to 19 of them).
pub(crate) fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(12..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card numbers are written whole or in the issuers' groups: fours (the last of
/// three or four digits), or 4-6-5 / 4-6-4 (Amex, Diners), with the same separator
/// (one or two of space, no-break space, dash, dot) between every group. Other digit
/// runs with spaces are ordinary numbers in text ("55 4 187 603") and are left alone.
fn card_grouping(s: &str) -> bool {
    let mut groups = Vec::new();
    let mut separators: Vec<String> = Vec::new();
    let mut digits = 0;
    let mut sep = String::new();
    for c in s.chars() {
        if c.is_numeric() {
            if !sep.is_empty() {
                separators.push(std::mem::take(&mut sep));
                groups.push(digits);
                digits = 0;
            }
            digits += 1;
        } else {
            sep.push(c);
        }
    }
    groups.push(digits);
    if separators.is_empty() {
        return true;
    }
    if separators.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let fours = groups
        .split_last()
        .is_some_and(|(last, rest)| rest.iter().all(|g| *g == 4) && (3..=4).contains(last));
    // UATP cards print their 15 digits 4-5-6 (`1234 56789 012347`).
    fours || groups == [4, 6, 5] || groups == [4, 6, 4] || groups == [4, 5, 6] && s.starts_with('1')
}

/// Whether the single digits at `start..end` (one separator between them) are a whole
/// run, not part of a longer list of digits (a bit array), and a card: Luhn-valid, of a
/// card network, strong or after a card word.
fn digit_run_is_card(b: &[u8], start: usize, end: usize, text: &str) -> bool {
    let run = &b[start..end];
    let digits: Vec<u8> = run.iter().copied().filter(u8::is_ascii_digit).collect();
    let sep = &run[1..run
        .iter()
        .skip(1)
        .position(u8::is_ascii_digit)
        .map_or(1, |i| i + 1)];
    if run
        .windows(sep.len() + 1)
        .step_by(sep.len() + 1)
        .any(|w| &w[1..] != sep)
    {
        return false;
    }
    // The list goes on: the digits before or after belong to it.
    let continues_after =
        b[end..].starts_with(sep) && b.get(end + sep.len()).is_some_and(u8::is_ascii_digit);
    let continues_before = start > sep.len()
        && &b[start - sep.len()..start] == sep
        && b[start - sep.len() - 1].is_ascii_digit();
    if continues_after || continues_before {
        return false;
    }
    let as_text: String = digits.iter().map(|&d| char::from(d)).collect();
    luhn_valid(&as_text)
        && super::cards::accepts(&digits, true, || {
            super::cards::card_word_before(text, start)
        })
}

/// IBAN lengths by country (SWIFT IBAN registry); a code outside it is not an IBAN
/// (tracking numbers such as `JD0151...`).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// ISO 3166-1 alpha-2 codes (and `XK`, Kosovo's, used by its IBANs): an IBAN's country.
#[rustfmt::skip]
const ISO_3166_ALPHA2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM \
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM \
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV \
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI \
VN VU WF WS XK YE YT ZA ZM ZW";

/// Whether `code` is in [`ISO_3166_ALPHA2`] (sorted, one code every three bytes).
fn iso_3166(code: [u8; 2]) -> bool {
    let table = ISO_3166_ALPHA2.as_bytes();
    let count = table.len().div_ceil(3);
    let (mut lo, mut hi) = (0, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match table[mid * 3..mid * 3 + 2].cmp(&code[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// ISO 13616's check: the characters moved, letters as numbers, mod 97 is 1.
fn iban_mod97(compact: &[u8]) -> bool {
    let mut remainder: u32 = 0;
    for &c in compact[4..].iter().chain(&compact[..4]) {
        let value = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// The byte length of the IBAN at the start of `s` (a regex match that may run on into
/// following words): letters and digits (spaces, dashes, dots allowed between) passing
/// ISO 13616 mod 97 and ending at a word end. A country of the SWIFT IBAN registry
/// gives the length; any other ISO 3166 country (a new or changed registry entry:
/// Honduras, Russia) takes the longest valid length of ISO 13616's 15 to 34 characters,
/// its check digits 02 to 98 as ISO 13616 computes them. Bounded work, no allocation.
fn longest_valid_iban(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let country = [
        b.first()?.to_ascii_uppercase(),
        b.get(1)?.to_ascii_uppercase(),
    ];
    // The first 34 characters and the byte end of each.
    let mut chars = [0u8; 34];
    let mut ends = [0usize; 34];
    let mut count = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(c, b' ' | b'-' | b'.' | b'_') {
            continue;
        }
        if count == chars.len() {
            break;
        }
        chars[count] = c.to_ascii_uppercase();
        ends[count] = i + 1;
        count += 1;
    }
    // The IBAN must end at a word end.
    let valid = |len: usize| {
        len <= count
            && b.get(ends[len - 1])
                .is_none_or(|c| !c.is_ascii_alphanumeric())
            && iban_mod97(&chars[..len])
    };
    if let Some((_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| c.as_bytes() == country) {
        if valid(*len) {
            return Some(ends[*len - 1]);
        }
    }
    let check = chars.get(2..4)?;
    let check_digits = check.iter().all(u8::is_ascii_digit)
        && (2..=98).contains(&(u32::from(check[0] - b'0') * 10 + u32::from(check[1] - b'0')));
    if !check_digits || !iso_3166(country) {
        return None;
    }
    // Without the registry's length, only the ends the writing allows: one compact
    // word, or groups of four (the last shorter) with one separator between them; the
    // longest valid one. A match running on into words (`.. 8124 left the`) is tried
    // at each group's end, never at every character.
    let mut group_ends = [0usize; 9];
    let mut groups = 0;
    let mut total = 0;
    let mut separator = None;
    let mut i = 0;
    while i < b.len() && groups < group_ends.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let len = i - start;
        let compact = groups == 0 && len >= 15;
        if len == 0 || (!compact && (len > 4 || groups == 0 && len != 4)) {
            break;
        }
        total += len;
        if total > chars.len() {
            break;
        }
        group_ends[groups] = total;
        groups += 1;
        let sep = b.get(i).copied();
        if compact
            || len < 4
            || !matches!(sep, Some(b' ' | b'-' | b'.' | b'_'))
            || separator.is_some_and(|s| Some(s) != sep)
        {
            break;
        }
        separator = sep;
        i += 1;
    }
    // A hex id or hash starting with a country and two digits (`ca18..`, `DE12..F0`)
    // is no IBAN: a compact one is written in capitals, and a bank code uses letters
    // beyond `F` (or the account is all digits).
    let not_hex = |len: usize| {
        let bban = &chars[4..len];
        bban.iter().all(u8::is_ascii_digit) || bban.iter().any(|c| matches!(c, b'G'..=b'Z'))
    };
    let lower = b[..ends[group_ends[0].max(1) - 1]]
        .iter()
        .any(u8::is_ascii_lowercase);
    group_ends[..groups]
        .iter()
        .rev()
        .copied()
        .find(|&len| len >= 15 && valid(len) && not_hex(len) && (groups > 1 || !lower))
        .map(|len| ends[len - 1])
}

#[cfg(test)]
fn iban_valid(compact: &str) -> bool {
    longest_valid_iban(compact) == Some(compact.len())
}

fn ssn_plausible(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['-', ' ']).collect();
    match parts.as_slice() {
        [area, group, serial] => {
            *area != "000"
                && *area != "666"
                && !area.starts_with('9')
                && *group != "00"
                && *serial != "0000"
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_near_misses() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("5555-5555-5555-4444"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
        assert!(card_grouping("4111 1111 1111 1111"));
        assert!(card_grouping("3782 822463 10005"));
        assert!(!card_grouping("55 4 187 603 7 7 448"));
    }

    #[test]
    fn iso_codes_are_sorted_and_found() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 250);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        for code in &codes {
            let b = code.as_bytes();
            assert!(iso_3166([b[0], b[1]]), "{code}");
        }
        assert!(!iso_3166(*b"JD") && !iso_3166(*b"ZZ"));
    }

    #[test]
    fn iban_checksum() {
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert_eq!(
            longest_valid_iban("DE89 3704 0044 0532 0130 00 QUEUED"),
            Some("DE89 3704 0044 0532 0130 00".len())
        );
    }

    fn regex_findings(detectors: &ValueDetectors, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        detectors.find_by_regex(text, &mut found, &mut 0);
        found
    }

    #[test]
    fn the_prefilter_lets_every_kind_of_regex_finding_through() {
        let detectors = ValueDetectors::new(&[], false).expect("built-ins compile");
        let mut texts = vec![
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
            "Authorization: Bearer AbcdefGhijkLmnop",
            "auth basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",
            "SSWS AbcdefGhijkLmnop",
            // Shorter than a vendor token: only the word lets them through.
            "ssws AbcdGhij",
            "x bEaReR AbcdGhij",
            "BASIC AbcdGhij",
            "t=eyJhb.eyJz.s",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
            "app:Zq9pw77x@db.internal.example.com",
            "sqlplus scott/Tiger@orcl",
            "card 4111 1111 1111 1111",
            "iban DE89370400440532013000",
            "iban de89 3704 0044 0532 0130 00",
            "ssn 123-45-6789",
            "mail jane@example.com",
            "mail jane%40example.com",
            "from 10.1.2.3",
            "mail jane\\u0040example.com",
            "mail jane\\\\x40example.com",
            "mail jane&#64;example.com",
            "mail jane (at) example (dot) com",
            "mail jane[AT]example.com",
            "card 4111_1111_1111_1111",
            "card \u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}",
            "iban DE89-3704-0044-0532-0130-00",
            "from fe80::1ff:fe23:4567:890a",
            "peer 2001:db8::7",
            "peer ::1:2",
        ];
        texts.extend(crate::vendors::VENDOR_RULES.iter().map(|r| r.example));
        for text in texts {
            assert!(!regex_findings(&detectors, text).is_empty(), "{text}");
            assert!(may_hold_a_finding(text.as_bytes()), "{text}");
        }
        for text in [
            "billing::checkout",
            "step 42 of the checkout finished",
            "orders",
            "retry 3 of 5 after 250 ms",
            // Numbers with a dot or a colon, too few for an address.
            "latency 1234.5 ms",
            "v1.2.3",
            "at 12:30",
        ] {
            assert!(!may_hold_a_finding(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn gates_are_necessary() {
        // Texts made of the pieces the detectors match (digits, separators, the escaped
        // and spelled forms of `@`, the words and prefixes): whenever a detector's gate
        // is closed, its regex must not match, so skipping it changes no finding.
        let pieces = [
            "4111",
            "1111",
            "12",
            "9",
            " ",
            "-",
            ".",
            ":",
            "::",
            "/",
            ",",
            "@",
            "%40",
            "\\u0040",
            "\\x40",
            "&#64;",
            "&#x40;",
            "(at)",
            "[AT]",
            " dot ",
            " at ",
            "com",
            "Bearer ",
            "basic ",
            "SSWS ",
            "eyJ",
            "hbGci",
            "imei",
            "IMEI: ",
            "tel:",
            "wa.me/",
            "t.me/+",
            "DE89",
            "3704",
            "192",
            "168",
            "fe80",
            "a1B2c3D4e5F6g7H8",
            "\"",
            "[",
            "]",
            "-----BEGIN",
            " PRIVATE KEY-----",
            "x",
            "_",
            "sk_live_",
            "ghp_",
            "é",
            "٤",
            "xoxb-",
            "AKIA",
            "glpat-",
            "SG.",
            "npm_",
            "hf_",
        ];
        let detectors = ValueDetectors::new(&[], false).expect("built-ins compile");
        let mut rng = fastrand::Rng::with_seed(26);
        let mut closed = 0;
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(1..16))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let features = Features::of(text.as_bytes());
            for detector in &detectors.detectors {
                let prefix_seen = detector
                    .prefixes
                    .as_ref()
                    .is_none_or(|p| p.is_match(text.as_bytes()));
                if detector.gate.is_open(&features) && prefix_seen {
                    continue;
                }
                closed += 1;
                let regex = detector.regex.get().expect("built-ins compile");
                assert!(
                    !regex.is_match(&text),
                    "{} ({:?}) matches {text:?}",
                    detector.rule,
                    detector.gate
                );
            }
        }
        assert!(closed > 100_000, "gates closed only {closed} times");
        let vendor = detectors
            .detectors
            .iter()
            .find(|d| d.rule == "@vendor_token");
        assert!(
            vendor.is_some_and(|d| d.prefixes.is_some()),
            "the vendor rules' prefixes could not be listed"
        );
    }

    #[test]
    fn text_the_prefilter_skips_has_no_regex_finding() {
        // Random text over the characters the detectors look for: whatever the
        // prefilter skips, the full regex pass must find nothing in.
        let alphabet: Vec<char> =
            "0123456789abcdefABCDEFxyzAKIASGeyJ .:-/@_=+%!,Bearer\tsswsBASICé\\()[]&#atu"
                .chars()
                .collect();
        let detectors = ValueDetectors::new(&[], false).expect("built-ins compile");
        let mut rng = fastrand::Rng::with_seed(14);
        let mut skipped = 0;
        for _ in 0..20_000 {
            let len = rng.usize(1..48);
            let text: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            if !may_hold_a_finding(text.as_bytes()) {
                skipped += 1;
                assert!(regex_findings(&detectors, &text).is_empty(), "{text:?}");
            }
        }
        assert!(skipped > 1_000, "the prefilter skipped only {skipped}");
    }

    #[test]
    fn text_without_structure_bytes_gives_the_structure_scanner_nothing() {
        // Secret-looking keys and types, so the scanner would act if it were reached.
        let words = [
            "password", "token", "ApiKey", "secret", " ", "\"", "x", "9", "=", ":", "(", "{", "<",
            ">", "-", "/", ",", "[", "'", "\n",
        ];
        let keys = KeyMatcher::new(&[], &[], false);
        let mut rng = fastrand::Rng::with_seed(15);
        let mut clean = 0;
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(1..12))
                .map(|_| words[rng.usize(..words.len())])
                .collect();
            let mut found = Vec::new();
            crate::text::find_structured(&text, &keys, &mut found, &mut 0);
            if !text
                .bytes()
                .any(|c| BYTE_CLASS[usize::from(c)] & STRUCTURE != 0)
            {
                clean += 1;
                assert!(found.is_empty(), "{text:?}");
            }
        }
        assert!(clean > 500, "only {clean} texts without structure bytes");
    }

    /// Every finding of the built-in detectors, with no prefilter in the way.
    fn all_findings(detectors: &ValueDetectors, text: &str, keys: &KeyMatcher) -> Vec<Finding> {
        let mut found = Vec::new();
        crate::text::find_structured(text, keys, &mut found, &mut 0);
        detectors.find_by_regex(text, &mut found, &mut 0);
        let mut inner = Vec::new();
        detectors.find_in_encoded_runs(text, keys, 0, &mut inner, &mut 0);
        found.extend(inner);
        secrets::find(text, keys, &mut found, &mut 0, None);
        found
    }

    #[test]
    fn what_the_clean_path_passes_has_no_finding_at_all() {
        // Words that would be findings or structure around a secret, and ordinary ones:
        // whatever `is_clean` answers from its one pass must hold nothing for any
        // detector (structure scanner, regex set, percent-encoded runs).
        let words = [
            "password",
            "token",
            "ApiKey",
            "Bearer",
            "basic",
            "ssws",
            "eyJ",
            "AKIA",
            "ghp_",
            "loading",
            "orders",
            "retrying",
            "jane",
            "example",
            "com",
            " ",
            " ",
            "x",
            "9",
            "4111",
            "1111",
            "DE89",
            "=",
            ":",
            "(",
            "{",
            "<",
            "-",
            "/",
            ".",
            "@",
            "%40",
            "%",
            "_",
            "é",
            "abcdefghij",
            "KLMNOPQRST",
            // The anchors and values of `crate::secrets`.
            "pwd ",
            "PIN ",
            "one-time code ",
            "AUTH ",
            "PASS ",
            "a1 LOGIN ",
            "machine ",
            "Kx9fQ2mR",
            "-p",
            "$apr1$",
            "&lt;",
            "Failing row contains (",
            "acme_live_",
            "Zq8Kp3Xm7WtL",
        ];
        let detectors = ValueDetectors::new(&[], false).expect("built-ins compile");
        let keys = KeyMatcher::new(&[], &[], false);
        let mut rng = fastrand::Rng::with_seed(16);
        let mut passed = 0;
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(1..10))
                .map(|_| words[rng.usize(..words.len())])
                .collect();
            let clean = detectors.is_clean(&text, &keys);
            assert_eq!(clean, detectors.find(&text, &keys).is_empty(), "{text:?}");
            if !may_hold_a_finding_or_structure(text.as_bytes())
                && !secrets::may_hold(text.as_bytes())
            {
                passed += 1;
                assert!(
                    all_findings(&detectors, &text, &keys).is_empty(),
                    "{text:?}"
                );
            }
        }
        assert!(passed > 1_000, "only {passed} texts took the clean path");
    }

    #[test]
    fn small_numbers_hold_no_finding_and_user_patterns_turn_the_shortcut_off() {
        let detectors = ValueDetectors::new(&[], false).expect("built-ins compile");
        let keys = KeyMatcher::new(&[], &[], false);
        let mut rng = fastrand::Rng::with_seed(17);
        let samples = (0..20_000u64)
            .chain((0..20_000).map(|_| rng.u64(..100_000_000)))
            .chain([9_999_999, 99_999_999, 12_345_678]);
        for n in samples {
            assert!(
                all_findings(&detectors, &n.to_string(), &keys).is_empty(),
                "{n}"
            );
        }
        // A user pattern can match anything: no shortcut then.
        let custom = ValueDetectors::new(&[r"\d{4}|retr".to_owned()], false).expect("compiles");
        assert!(!custom.is_clean("1234", &keys));
        assert!(!custom.is_clean("retrying", &keys));
    }
}
