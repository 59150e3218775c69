//! The rules of a PiiConfig: what each rule type finds, and the redaction methods.
//!
//! Rule types and methods are the ones Sentry's "Advanced Data Scrubbing" documentation
//! names. The detectors' patterns are this crate's own, written from the documented
//! descriptions ("IP addresses", "credit card numbers", "usernames in file paths", ...)
//! and kept broad: Sentry's engine removing a value this crate keeps is the failure the
//! differential test (`tests/pii_config_relay.rs`) looks for.

use std::sync::LazyLock;

use regex::Regex;
use sha1::{Digest, Sha1};

/// A detector: what a rule finds in a value.
#[derive(Debug)]
pub(crate) enum Detector {
    /// The whole value (`anything`).
    Anything,
    /// Matches of a regular expression; with `groups`, only those capture groups.
    Pattern { regex: Regex, groups: Vec<u8> },
    /// A built-in detector of text.
    Builtin(Builtin),
    /// The whole value when its key matches (`redact_pair`, `cookies`).
    Key(Regex),
    /// The whole value when its key names a credential or the text itself mentions
    /// one (`password`: Sentry's engine removes `"login via auth service"` too).
    Password,
}

/// Built-in text detectors, by the rule type that names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Ip,
    Imei,
    Mac,
    Uuid,
    Email,
    CreditCard,
    Iban,
    PemKey,
    UrlAuth,
    UsSsn,
    UserPath,
    Bearer,
}

/// A redaction method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Redaction {
    /// Removed: a match cut out of its text; a whole value set to null.
    Remove,
    /// Replaced by this text.
    Replace(String),
    /// Every character replaced by `*`.
    Mask,
    /// Replaced by the HMAC-SHA1 of the text, keyed by `vars.hashKey`, in upper-case hex.
    Hash,
}

/// The rule types a document may name, as Sentry's validator spells them.
pub(crate) const RULE_TYPES: &[&str] = &[
    "anything",
    "pattern",
    "imei",
    "mac",
    "uuid",
    "email",
    "ip",
    "creditcard",
    "iban",
    "userpath",
    "pemkey",
    "url_auth",
    "us_ssn",
    "bearer",
    "password",
    "cookies",
    "redact_pair",
    "redactPair",
    "multiple",
    "alias",
];

/// The built-in rule names (`@name`, also `@name:method`), the rule type of each and
/// the default replacement text.
pub(crate) const BUILTIN_NAMES: &[(&str, &str, &str)] = &[
    ("anything", "anything", "[Filtered]"),
    ("ip", "ip", "[ip]"),
    ("imei", "imei", "[imei]"),
    ("mac", "mac", "[mac]"),
    ("uuid", "uuid", "[uuid]"),
    ("email", "email", "[email]"),
    ("creditcard", "creditcard", "[creditcard]"),
    ("iban", "iban", "[iban]"),
    ("pemkey", "pemkey", "[pemkey]"),
    ("urlauth", "url_auth", "[auth]"),
    ("usssn", "us_ssn", "[us-ssn]"),
    ("userpath", "userpath", "[user]"),
    ("password", "password", "[Filtered]"),
    ("bearer", "bearer", "[Filtered]"),
    ("cookies", "cookies", "[Filtered]"),
];

/// What `@common` stands for: the documented default set of data types.
pub(crate) const COMMON: &[&str] = &[
    "ip",
    "email",
    "creditcard",
    "pemkey",
    "urlauth",
    "usssn",
    "userpath",
    "password",
    "bearer",
];

/// The suffixes of a built-in name.
pub(crate) const METHODS: &[&str] = &["default", "filter", "replace", "mask", "hash", "remove"];

/// The detector of a rule type without options, or `None` for the types with options.
pub(crate) fn simple_detector(rule_type: &str) -> Option<Detector> {
    Some(match rule_type {
        "anything" => Detector::Anything,
        "ip" => Detector::Builtin(Builtin::Ip),
        "imei" => Detector::Builtin(Builtin::Imei),
        "mac" => Detector::Builtin(Builtin::Mac),
        "uuid" => Detector::Builtin(Builtin::Uuid),
        "email" => Detector::Builtin(Builtin::Email),
        "creditcard" => Detector::Builtin(Builtin::CreditCard),
        "iban" => Detector::Builtin(Builtin::Iban),
        "pemkey" => Detector::Builtin(Builtin::PemKey),
        "url_auth" => Detector::Builtin(Builtin::UrlAuth),
        "us_ssn" => Detector::Builtin(Builtin::UsSsn),
        "userpath" => Detector::Builtin(Builtin::UserPath),
        "bearer" => Detector::Builtin(Builtin::Bearer),
        "password" => Detector::Password,
        "cookies" => Detector::Key(COOKIE_KEYS.clone()),
        _ => return None,
    })
}

/// The default method of a rule type: the built-ins replace with their placeholder,
/// `password` and the user's patterns and key rules remove.
pub(crate) fn default_redaction(rule_type: &str) -> Redaction {
    match rule_type {
        "password" | "pattern" | "redact_pair" | "redactPair" => Redaction::Remove,
        other => Redaction::Replace(
            BUILTIN_NAMES
                .iter()
                .find(|(_, t, _)| *t == other)
                .map_or("[Filtered]", |(_, _, text)| text)
                .to_owned(),
        ),
    }
}

// Key names that hold credentials: Sentry documents the `password` type as "keys like
// password, secret, api key, auth, token, credentials". Broad on purpose (any key
// containing one of these words).
static PASSWORD_KEYS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)pass|pwd|secret|token|auth|api[-_. ]?key|credential|private[-_. ]?key|session|csrf|xsrf|cookie|signature",
    )
    .expect("static pattern")
});
// Words in a value that make `password` remove it whole.
static PASSWORD_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)passw|pwd|secret|api[-_. ]?key|auth|credential|private[-_. ]?key|bearer|token\W{0,3}[=:]"#,
    )
        .expect("static pattern")
});

/// Whether `password` removes the value under `key`.
pub(crate) fn password_matches(key: &str, value: Option<&str>) -> bool {
    PASSWORD_KEYS.is_match(key) || value.is_some_and(|v| PASSWORD_WORDS.is_match(v))
}

static COOKIE_KEYS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)cookie").expect("static pattern"));

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")
        .expect("static pattern")
});
// Any run of hex groups and colons with at least two colons; checked below.
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})?")
        .expect("static pattern")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+").expect("static pattern")
});
static CREDIT_CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9](?:[ -]?[0-9]){11,18}").expect("static pattern"));
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z]{2}[0-9]{2}(?:[ -]?[a-z0-9]){11,30}").expect("static pattern")
});
static IMEI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]{2}(?:[ -]?[0-9]){12,14}").expect("static pattern"));
static MAC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}").expect("static pattern")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}")
        .expect("static pattern")
});
// A whole block, or from its header to the end of the text when cut.
static PEM_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|\z)")
        .expect("static pattern")
});
// The user-info part of a URL (`scheme://user:pass@`), group 1.
static URL_AUTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://([^/\s@?#]+)@").expect("static pattern")
});
static US_SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}").expect("static pattern"));
// The user name in a home directory path (group 1), Unix, macOS and Windows.
static USER_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:/users/|/home/|\\users\\|\\documents and settings\\)([^/\\\s]+)")
        .expect("static pattern")
});
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)bearer\s+[^\s,;]+").expect("static pattern"));

/// Byte ranges of what `detector` finds in `text`; a whole-value detector yields the
/// whole text. `key` is the value's key (or its array's).
pub(crate) fn find(detector: &Detector, text: &str, shape: &Shape, out: &mut Vec<(usize, usize)>) {
    match detector {
        Detector::Builtin(builtin) if !shape.may_hold(*builtin, text) => {}
        Detector::Anything => out.push((0, text.len())),
        Detector::Key(_) | Detector::Password => {}
        // Without groups, no capture positions are needed (a faster search).
        Detector::Pattern { regex, groups } if groups.is_empty() => out.extend(
            regex
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .map(|m| (m.start(), m.end())),
        ),
        Detector::Pattern { regex, groups } => {
            for caps in regex.captures_iter(text) {
                for group in groups {
                    if let Some(m) = caps.get(usize::from(*group)).filter(|m| !m.is_empty()) {
                        out.push((m.start(), m.end()));
                    }
                }
            }
        }
        Detector::Builtin(builtin) => find_builtin(*builtin, text, out),
    }
}

/// What a text holds, counted in one pass: the built-in detectors skip texts they
/// cannot match (most values hold no digits, `@` or `:`), instead of each scanning it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Shape {
    len: usize,
    digits: usize,
    at: bool,
    colon: bool,
    dash: bool,
    dot: bool,
    slash: bool,
    /// A `b` or `B` (`@bearer` names its scheme).
    b: bool,
}

impl Shape {
    pub(crate) fn of(text: &str) -> Shape {
        let mut shape = Shape {
            len: text.len(),
            ..Shape::default()
        };
        for b in text.bytes() {
            match b {
                b'0'..=b'9' => shape.digits += 1,
                b'@' => shape.at = true,
                b':' => shape.colon = true,
                b'-' => shape.dash = true,
                b'.' => shape.dot = true,
                b'/' | b'\\' => shape.slash = true,
                b'b' | b'B' => shape.b = true,
                _ => {}
            }
        }
        shape
    }

    /// A necessary condition for each detector's patterns (below) to match.
    fn may_hold(&self, builtin: Builtin, text: &str) -> bool {
        match builtin {
            // IPv4: four numbers and dots; IPv6: colons.
            Builtin::Ip => self.colon || (self.digits >= 4 && self.dot),
            Builtin::Email => self.at,
            Builtin::CreditCard => self.digits >= 12,
            Builtin::Iban => self.digits >= 2 && self.len >= 15 && letter_then_digits(text),
            Builtin::Imei => self.digits >= 14,
            Builtin::Mac => (self.colon || self.dash) && self.len >= 17,
            Builtin::Uuid => self.len >= 32 && hex_run(text, 8),
            Builtin::UsSsn => self.digits >= 9,
            Builtin::PemKey => self.dash && self.len >= 20,
            Builtin::UrlAuth => self.colon && self.at && self.slash,
            Builtin::UserPath => self.slash,
            Builtin::Bearer => self.b && self.len >= 7,
        }
    }
}

/// Two ASCII digits after a letter: an ASCII one, or the last byte of a non-ASCII
/// character (`(?i)[a-z]` case-folds `ſ` and `K` too). Where an IBAN starts.
fn letter_then_digits(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| {
        (w[0].is_ascii_alphabetic() || !w[0].is_ascii())
            && w[1].is_ascii_digit()
            && w[2].is_ascii_digit()
    })
}

/// Whether `text` has `n` ASCII hex digits in a row (a UUID starts with 8).
fn hex_run(text: &str, n: usize) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        run >= n
    })
}

fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Matches of `regex` not inside a longer word (or, with `digits_only`, not inside a
/// longer number).
fn bounded(regex: &Regex, text: &str, digits_only: bool, out: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let joins = |b: u8| {
        if digits_only {
            b.is_ascii_digit()
        } else {
            word_byte(b)
        }
    };
    let mut at = 0;
    while let Some(m) = regex.find_at(text, at) {
        let before = m.start().checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(m.end()).copied();
        if before.is_some_and(joins) || after.is_some_and(joins) {
            // Try again one character on, so a shorter match at a boundary is found.
            at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        } else {
            out.push((m.start(), m.end()));
            at = m.end().max(m.start() + 1);
        }
        if at > text.len() {
            break;
        }
    }
}

fn find_builtin(builtin: Builtin, text: &str, out: &mut Vec<(usize, usize)>) {
    match builtin {
        Builtin::Ip => {
            bounded(&IPV4, text, true, out);
            let bytes = text.as_bytes();
            for m in IPV6.find_iter(text) {
                let s = m.as_str();
                let groups = s.split(':').filter(|g| !g.is_empty()).count();
                // `::1`, `fe80::1`, full forms; not `std::io` (letters beyond hex
                // next to it) or a clock time (`12:30:45`, one-to-two digit groups).
                let joined = m
                    .start()
                    .checked_sub(1)
                    .is_some_and(|i| word_byte(bytes[i]))
                    || bytes.get(m.end()).is_some_and(|b| word_byte(*b));
                let clock = !s.contains("::") && s.split(':').all(|g| g.len() <= 2);
                if !joined && !clock && (s.contains("::") || groups >= 3) && s.len() >= 3 {
                    out.push((m.start(), m.end()));
                }
            }
        }
        Builtin::Email => out.extend(EMAIL.find_iter(text).map(|m| (m.start(), m.end()))),
        Builtin::CreditCard => bounded(&CREDIT_CARD, text, true, out),
        Builtin::Iban => bounded(&IBAN, text, false, out),
        Builtin::Imei => bounded(&IMEI, text, true, out),
        Builtin::Mac => bounded(&MAC, text, false, out),
        Builtin::Uuid => bounded(&UUID, text, false, out),
        Builtin::UsSsn => bounded(&US_SSN, text, true, out),
        Builtin::PemKey => out.extend(PEM_KEY.find_iter(text).map(|m| (m.start(), m.end()))),
        Builtin::Bearer => out.extend(BEARER.find_iter(text).map(|m| (m.start(), m.end()))),
        Builtin::UrlAuth => out.extend(
            URL_AUTH
                .captures_iter(text)
                .filter_map(|c| c.get(1))
                .map(|m| (m.start(), m.end())),
        ),
        Builtin::UserPath => out.extend(
            USER_PATH
                .captures_iter(text)
                .filter_map(|c| c.get(1))
                .map(|m| (m.start(), m.end())),
        ),
    }
}

/// What `redaction` puts in place of `text`; `None`: nothing (removed).
pub(crate) fn redacted(redaction: &Redaction, text: &str, hash_key: &[u8]) -> Option<String> {
    match redaction {
        Redaction::Remove => None,
        Redaction::Replace(with) => Some(with.clone()),
        Redaction::Mask => Some("*".repeat(text.chars().count())),
        Redaction::Hash => Some(hmac_sha1_hex(hash_key, text.as_bytes())),
    }
}

/// HMAC (RFC 2104) over SHA-1, upper-case hex.
pub(crate) fn hmac_sha1_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha1::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(builtin: Builtin, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(
            &Detector::Builtin(builtin),
            text,
            &Shape::of(text),
            &mut out,
        );
        out.iter().map(|(s, e)| &text[*s..*e]).collect()
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202, test case 2.
        assert_eq!(
            hmac_sha1_hex(b"Jefe", b"what do ya want for nothing?"),
            "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"
        );
    }

    #[test]
    fn builtins_find_their_data_and_leave_lookalikes() {
        assert_eq!(
            found(Builtin::Ip, "from 10.0.0.1 and ::1"),
            ["10.0.0.1", "::1"]
        );
        assert!(found(Builtin::Ip, "std::io::Error at 12:30:45").is_empty());
        assert_eq!(
            found(Builtin::Email, "mail a.b@example.co.uk!"),
            ["a.b@example.co.uk"]
        );
        assert_eq!(found(Builtin::UrlAuth, "https://u:p@host/x"), ["u:p"]);
        assert_eq!(found(Builtin::UserPath, "/home/alice/src"), ["alice"]);
        assert_eq!(
            found(Builtin::CreditCard, "card 4111 1111 1111 1111."),
            ["4111 1111 1111 1111"]
        );
    }

    /// The shape test lets through every text a detector can match: the letters an
    /// IBAN starts with may be ones `(?i)` folds to ASCII (`ſ`, the Kelvin sign).
    #[test]
    fn the_shape_test_keeps_what_the_detectors_find() {
        for (builtin, text, expected) in [
            (
                Builtin::Iban,
                "iban DE89 3704 0044 0532 0130 00",
                "DE89 3704 0044 0532 0130 00",
            ),
            (
                Builtin::Iban,
                "x ſK12 3456 7890 1234 5",
                "ſK12 3456 7890 1234 5",
            ),
            (
                Builtin::Iban,
                "x \u{212a}K12345678901234.",
                "\u{212a}K12345678901234",
            ),
            (
                Builtin::Uuid,
                "id 67e55044-10b1-426f-9247-bb680e5fe0c8.",
                "67e55044-10b1-426f-9247-bb680e5fe0c8",
            ),
            (
                Builtin::Bearer,
                "Authorization: BEARER abc.def",
                "BEARER abc.def",
            ),
        ] {
            assert_eq!(found(builtin, text), [expected], "{text}");
        }
        assert!(found(Builtin::Iban, "step 12 of checkout 1234 finished").is_empty());
        assert!(found(Builtin::Bearer, "step 12 of checkout").is_empty());
    }
}
