//! Secrets and personal data found inside free text. Each detector finds spans of a
//! string; only those spans are replaced, so the rest of a message stays readable.

use regex::{Captures, Regex, RegexSet};

use super::keys::KeyMatcher;

/// What a detector found: the byte range to replace and the rule's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) rule: &'static str,
}

/// How a detector turns a regex match into findings.
#[derive(Clone, Copy, Debug)]
enum Check {
    /// The whole match.
    Whole,
    /// Every capture group that matched and is not empty.
    Groups,
    /// Group 1, if it looks like a credential (digits or mixed case; not a plain word).
    Credential,
    /// The last matched group, if group `key` names a secret.
    KeyedValue,
    /// The digits pass the Luhn check.
    Luhn,
    /// The IBAN checksum (mod 97) holds.
    Iban,
    /// A plausible US SSN (no 000/666/9xx area, 00 group or 0000 serial).
    Ssn,
    /// An email address, unless it is the `user@host` of a URL (handled as userinfo).
    Email,
    /// An IPv6 address: contains a digit (so `abc::def` paths are left alone).
    Ipv6,
}

struct Detector {
    rule: &'static str,
    regex: Regex,
    check: Check,
    pii: bool,
}

/// `(rule, pattern, check, is_personal_data)`.
const DETECTORS: &[(&str, &str, Check, bool)] = &[
    (
        "@pem_private_key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        Check::Whole,
        false,
    ),
    (
        "@bearer",
        r"(?i)\b(?:bearer|basic|digest)\s+([A-Za-z0-9\-._~+/]{8,}=*)",
        Check::Credential,
        false,
    ),
    (
        "@jwt",
        r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
        Check::Whole,
        false,
    ),
    (
        "@cloud_key",
        r"\b(?:(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|AIza[0-9A-Za-z_-]{35})\b",
        Check::Whole,
        false,
    ),
    (
        "@url_userinfo",
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://([^\s:/?#@]*)(?::([^\s/?#@]*))?@",
        Check::Groups,
        false,
    ),
    (
        "@query_param",
        r"[?&;]([A-Za-z0-9_.\-\[\]]{1,64})=([^&#\s]*)",
        Check::KeyedValue,
        false,
    ),
    (
        "@key_value",
        r#"(?:^|[^A-Za-z0-9_\-.])\\?["']?([A-Za-z][A-Za-z0-9_.\-]{0,63})\\?["']?[ \t]*[:=][ \t]*(?:\\?"(.*?)\\?"|'([^']*)'|((?i:(?:bearer|basic|digest|token)[ \t]+)?[^\s,;&)}\]"']+))"#,
        Check::KeyedValue,
        false,
    ),
    (
        "@credit_card",
        r"\b[2-6]\d(?:[ .-]?\d){11,17}\b",
        Check::Luhn,
        false,
    ),
    (
        "@iban",
        r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b",
        Check::Iban,
        false,
    ),
    ("@us_ssn", r"\b\d{3}-\d{2}-\d{4}\b", Check::Ssn, false),
    (
        "@email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        Check::Email,
        true,
    ),
    (
        "@ip",
        r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
        Check::Whole,
        true,
    ),
    (
        "@ip",
        r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{1,4}){0,6}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}\b)?",
        Check::Ipv6,
        true,
    ),
];

/// The compiled detectors; built once per configuration.
pub(crate) struct ValueDetectors {
    detectors: Vec<Detector>,
    set: RegexSet,
}

impl std::fmt::Debug for ValueDetectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueDetectors")
            .field("rules", &self.detectors.len())
            .finish()
    }
}

impl ValueDetectors {
    pub(crate) fn new(extra_patterns: &[String], send_default_pii: bool) -> Result<Self, String> {
        let mut detectors = Vec::new();
        for (rule, pattern, check, pii) in DETECTORS {
            if *pii && send_default_pii {
                continue;
            }
            detectors.push(Detector {
                rule,
                regex: Regex::new(pattern).map_err(|e| format!("built-in {rule}: {e}"))?,
                check: *check,
                pii: *pii,
            });
        }
        for pattern in extra_patterns {
            let regex = Regex::new(pattern).map_err(|e| format!("{pattern:?}: {e}"))?;
            detectors.push(Detector {
                rule: "@custom",
                regex,
                check: Check::Whole,
                pii: false,
            });
        }
        let set =
            RegexSet::new(detectors.iter().map(|d| d.regex.as_str())).map_err(|e| e.to_string())?;
        Ok(ValueDetectors { detectors, set })
    }

    /// Every span of `text` that must be replaced, sorted and without overlaps.
    pub(crate) fn find(&self, text: &str, keys: &KeyMatcher) -> Vec<Finding> {
        let mut found = Vec::new();
        for index in self.set.matches(text).iter() {
            let detector = &self.detectors[index];
            debug_assert!(!detector.pii || detector.rule == "@email" || detector.rule == "@ip");
            if matches!(detector.check, Check::KeyedValue) {
                // A pair whose key is harmless may hide one in its value
                // ("invariant broken: password=x"): go on right after its key.
                let mut at = 0;
                while let Some(caps) = detector.regex.captures_at(text, at) {
                    let before = found.len();
                    detector.collect(text, &caps, keys, &mut found);
                    let whole = caps.get(0).expect("group 0 always matches");
                    at = match caps.get(1) {
                        Some(key) if found.len() == before => key.end(),
                        _ => whole.end(),
                    }
                    .max(whole.start() + 1);
                    if at >= text.len() {
                        break;
                    }
                }
            } else {
                for caps in detector.regex.captures_iter(text) {
                    detector.collect(text, &caps, keys, &mut found);
                }
            }
        }
        found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
        let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            match merged.last_mut() {
                Some(last) if f.start < last.end => last.end = last.end.max(f.end),
                _ => merged.push(f),
            }
        }
        merged
    }
}

impl Detector {
    fn collect(&self, text: &str, caps: &Captures<'_>, keys: &KeyMatcher, out: &mut Vec<Finding>) {
        let whole = caps.get(0).expect("group 0 always matches");
        let finding = |start, end| Finding {
            start,
            end,
            rule: self.rule,
        };
        match self.check {
            Check::Whole => out.push(finding(whole.start(), whole.end())),
            Check::Groups => out.extend(
                caps.iter()
                    .skip(1)
                    .flatten()
                    .filter(|m| !m.is_empty())
                    .map(|m| finding(m.start(), m.end())),
            ),
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
            Check::KeyedValue => {
                let key = caps.get(1).map_or("", |m| m.as_str());
                if keys.is_sensitive(key) {
                    if let Some(value) = caps.iter().skip(2).flatten().last() {
                        if !value.is_empty() {
                            out.push(finding(value.start(), value.end()));
                        }
                    }
                }
            }
            Check::Luhn => {
                let s = whole.as_str();
                if card_grouping(s) && luhn_valid(s) {
                    out.push(finding(whole.start(), whole.end()));
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
            Check::Email => {
                let before = text[..whole.start()].chars().next_back();
                if !matches!(before, Some(':' | '/')) {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
            Check::Ipv6 => {
                let s = whole.as_str();
                if s.matches(':').count() >= 2 && s.chars().any(|c| c.is_ascii_digit()) {
                    out.push(finding(whole.start(), whole.end()));
                }
            }
        }
    }
}

/// The Luhn checksum over the digits of `s` (13 to 19 of them).
pub(crate) fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
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
/// three or four digits), or 4-6-5 / 4-6-4 (Amex, Diners). Other digit runs with spaces are
/// ordinary numbers in text ("55 4 187 603") and are left alone.
fn card_grouping(s: &str) -> bool {
    let separators: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if separators.is_empty() {
        return true;
    }
    if separators.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let groups: Vec<usize> = s.split(separators[0]).map(str::len).collect();
    let fours = groups
        .split_last()
        .is_some_and(|(last, rest)| rest.iter().all(|g| *g == 4) && (3..=4).contains(last));
    fours || groups == [4, 6, 5] || groups == [4, 6, 4]
}

/// ISO 13616 mod-97 check of a compact IBAN.
fn iban_valid(compact: &str) -> bool {
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
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

/// The byte length of the longest prefix of `s` that is a valid IBAN, trying the
/// whole match first, then shorter ones (a regex may run on into following words).
fn longest_valid_iban(s: &str) -> Option<usize> {
    let ends: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| *c != ' ')
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    ends.iter().rev().copied().find(|&end| {
        let compact: String = s[..end].chars().filter(|c| *c != ' ').collect();
        iban_valid(&compact)
    })
}

fn ssn_plausible(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
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
    fn iban_checksum() {
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert_eq!(
            longest_valid_iban("DE89 3704 0044 0532 0130 00 QUEUED"),
            Some("DE89 3704 0044 0532 0130 00".len())
        );
    }
}
