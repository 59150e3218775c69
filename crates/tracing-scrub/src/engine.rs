//! The scrubbing engine: compiled rules applied to text, to a field (key and value)
//! and to JSON values.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::clean::CleanTexts;
use crate::finding::Finding;
use crate::keys::KeyMatcher;
use crate::rules::{PatternError, ScrubRules};
use crate::values::{self, ValueDetectors};

/// Nesting beyond this depth is replaced whole rather than inspected.
pub const MAX_DEPTH: usize = 32;
/// Longest text kept of a string in a scrubbed JSON value or report, in bytes (Sentry's
/// own limit for messages and exception values is 8,192 characters). Texts are cut to
/// it only *after* scrubbing, so a secret straddling the cut is found whole first.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// What one scrubbing pass removed: how many values, by which rules. Never the values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScrubReport {
    /// Count of replacements by rule (`@password`-style names for key rules are `@key`).
    pub by_rule: BTreeMap<&'static str, u64>,
}

impl ScrubReport {
    /// Total number of replacements.
    pub fn total(&self) -> u64 {
        self.by_rule.values().sum()
    }

    pub(crate) fn add(&mut self, rule: &'static str) {
        *self.by_rule.entry(rule).or_default() += 1;
    }
}

/// The compiled rules. Build once ([`Scrubber::new`]) and share.
#[derive(Debug)]
pub struct Scrubber {
    pub(crate) keys: KeyMatcher,
    pub(crate) values: ValueDetectors,
    pub(crate) replacement: String,
    /// Short texts of earlier reports in which nothing was found.
    pub(crate) clean: CleanTexts,
    /// The project's own rules, applied after the crate's (feature `sentry`).
    #[cfg(feature = "sentry")]
    pub(crate) pii_config: Option<std::sync::Arc<crate::pii_config::PiiConfig>>,
}

impl Scrubber {
    /// Compiles the rules; the first user pattern that is not a valid regex is the error.
    pub fn new(rules: &ScrubRules) -> Result<Scrubber, PatternError> {
        for pattern in &rules.extra_patterns {
            if let Err(source) = regex::Regex::new(pattern) {
                return Err(PatternError {
                    pattern: pattern.clone(),
                    source,
                });
            }
        }
        let values = ValueDetectors::new(&rules.extra_patterns, rules.send_default_pii)
            // The user patterns compiled above; the built-in ones are tested to compile.
            .expect("built-in scrubbing patterns compile");
        Ok(Scrubber {
            keys: KeyMatcher::new(&rules.extra_keys, &rules.safe_keys, rules.send_default_pii),
            values,
            replacement: rules.replacement.clone(),
            clean: CleanTexts::default(),
            #[cfg(feature = "sentry")]
            pii_config: None,
        })
    }

    /// Also enforces a Sentry `PiiConfig` (a project's "Advanced Data Scrubbing"
    /// rules) on every event and transaction this scrubber scrubs, after the crate's
    /// own rules: it can only remove more. A dry-run config removes nothing and counts.
    #[cfg(feature = "sentry")]
    pub fn with_pii_config(mut self, config: std::sync::Arc<crate::pii_config::PiiConfig>) -> Self {
        self.pii_config = Some(config);
        self
    }

    /// The `PiiConfig` this scrubber enforces, if any.
    #[cfg(feature = "sentry")]
    pub fn pii_config(&self) -> Option<&std::sync::Arc<crate::pii_config::PiiConfig>> {
        self.pii_config.as_ref()
    }

    /// Whether the value under `key` is replaced whole.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        self.keys.is_sensitive(key)
    }

    /// An empty text, one that is already the replacement (scrubbed before, e.g. at the
    /// entry of the subscriber), or a placeholder (`none`, `n/a`, `not set`:
    /// [`crate::words::is_placeholder`]): nothing to replace under a sensitive key.
    pub(crate) fn holds_nothing(&self, text: &str) -> bool {
        text.is_empty() || text == self.replacement || crate::words::is_placeholder(text)
    }

    /// What the rules say about a key: safe (`ScrubRules::safe_keys`), sensitive, an id.
    /// Part of the one rule every sink gets ([`KeyVerdict::rule`]).
    /// Whether `text` is a postal address under a key that is a bare address label
    /// (`address`, `Adresse`, `dirección`, `住所`: the label word of text's `Address: ..`,
    /// as a field name), while personal data is scrubbed. Network and memory addresses
    /// (`address = "10.0.0.5:8080"`, `0x7ffd..`) do not read postal and stay.
    pub(crate) fn postal_under_label(&self, key: &str, text: &str) -> bool {
        self.keys.pii()
            && may_be_postal(text)
            && crate::locale_words::address_label(key)
            && crate::locale_words::postal(text)
    }

    /// Whether `key` is a bare address label whose postal values are scrubbed (the
    /// key's part of [`postal_under_label`](Self::postal_under_label)).
    #[cfg(feature = "sentry")]
    pub(crate) fn scrubs_postal_under(&self, key: &str) -> bool {
        self.keys.pii() && crate::locale_words::address_label(key)
    }

    pub(crate) fn key_verdict(&self, key: &str) -> KeyVerdict {
        KeyVerdict {
            safe: self.keys.is_safe(key),
            sensitive: self.keys.is_sensitive(key),
            id: is_id_key(key),
        }
    }

    /// The value of a field named `key`, as text (its `Display` or `Debug` output),
    /// scrubbed: kept when `key` is a safe key, or an id key and the text all digits;
    /// replaced whole when `key` is sensitive (an empty text, or one that already is the
    /// replacement, stays); else with
    /// every secret in it replaced. Borrowed when nothing was found. This is the one
    /// entry point for a single field, whatever sink it is going to: a Sentry report's
    /// fields, tags and breadcrumb data and a wrapped layer's fields follow the same rule.
    pub fn scrub_field<'a>(
        &self,
        key: &str,
        text: &'a str,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        if self.postal_under_label(key, text) {
            report.add("@address");
            return Cow::Owned(self.replacement.clone());
        }
        match self
            .key_verdict(key)
            .rule(all_digits(text), self.holds_nothing(text))
        {
            FieldRule::Keep => Cow::Borrowed(text),
            FieldRule::Replace => {
                report.add("@key");
                Cow::Owned(self.replacement.clone())
            }
            FieldRule::Scan => self.scrub_str(text, report),
        }
    }

    /// [`scrub_field`](Self::scrub_field) for a number (its decimal text), as a number
    /// in a Sentry report is treated: under a key that is not sensitive, only a card
    /// number (12 digits or more, a known issuer, Luhn) is replaced.
    pub fn scrub_number_field<'a>(
        &self,
        key: &str,
        text: &'a str,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        match self.key_verdict(key).rule(true, false) {
            FieldRule::Keep => Cow::Borrowed(text),
            FieldRule::Replace => {
                report.add("@key");
                Cow::Owned(self.replacement.clone())
            }
            FieldRule::Scan if number_is_card(text) => {
                report.add("@credit_card");
                Cow::Owned(self.replacement.clone())
            }
            FieldRule::Scan => Cow::Borrowed(text),
        }
    }

    /// [`is_sensitive_key`](Self::is_sensitive_key) for a `'static` key (a tracing field
    /// name): after the first time, one lookup by the name's address.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn is_sensitive_static_key(&self, key: &'static str) -> bool {
        self.keys.is_sensitive_static(key)
    }

    /// [`scrub_field`](Self::scrub_field) (`number`: [`scrub_number_field`](Self::scrub_number_field))
    /// for a `'static` key such as a tracing field name: the key's sensitivity is looked
    /// up by the name's address, not its text.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn scrub_static_field<'a>(
        &self,
        key: &'static str,
        text: &'a str,
        number: bool,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        if self.builtin_field_is_clean(key, text, number) {
            return match self.pii_config_for_sink(key, text, report) {
                Some(scrubbed) => Cow::Owned(scrubbed),
                None => Cow::Borrowed(text),
            };
        }
        let scrubbed = if number {
            self.scrub_number_field(key, text, report)
        } else {
            self.scrub_field(key, text, report)
        };
        match self.pii_config_for_sink(key, &scrubbed, report) {
            Some(more) => Cow::Owned(more),
            None => scrubbed,
        }
    }

    /// The text of another sink (a `Scrubbed` layer's field, the panic line) as a
    /// Sentry report would carry it: the built-in rules, then the project's
    /// [`PiiConfig`](crate::PiiConfig) (if any, and not a dry run) as on the same text in
    /// a structured log (`message`: the body; another key: the attribute of its name).
    pub fn scrub_for_sink<'a>(
        &self,
        key: &str,
        text: &'a str,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        let scrubbed = self.scrub_field(key, text, report);
        match self.pii_config_for_sink(key, &scrubbed, report) {
            Some(more) => Cow::Owned(more),
            None => scrubbed,
        }
    }

    #[cfg(feature = "sentry")]
    fn pii_config_for_sink(
        &self,
        key: &str,
        text: &str,
        report: &mut ScrubReport,
    ) -> Option<String> {
        let scrubbed = self.pii_config.as_deref()?.apply_to_sink_text(key, text)?;
        report.add("@pii_config");
        Some(scrubbed)
    }

    /// Without the `sentry` feature there is no PiiConfig.
    #[cfg(not(feature = "sentry"))]
    fn pii_config_for_sink(&self, _: &str, _: &str, _: &mut ScrubReport) -> Option<String> {
        None
    }

    /// Whether [`scrub_static_field`](Self::scrub_static_field) would leave `text` as
    /// it is. Allocates nothing for a value it keeps because nothing in it is sensitive:
    /// ordinary text costs the key lookup and one byte scan; the exemptions (safe keys,
    /// ids) are looked at only when something would be replaced.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn field_is_clean(&self, key: &'static str, text: &str, number: bool) -> bool {
        self.builtin_field_is_clean(key, text, number)
            && self
                .pii_config_for_sink(key, text, &mut ScrubReport::default())
                .is_none()
    }

    /// [`field_is_clean`](Self::field_is_clean) by the built-in rules alone.
    fn builtin_field_is_clean(&self, key: &'static str, text: &str, number: bool) -> bool {
        if !number && self.postal_under_label(key, text) {
            return false;
        }
        let sensitive = self.keys.is_sensitive_static(key);
        let changes = if sensitive {
            number || !self.holds_nothing(text)
        } else if number {
            number_is_card(text)
        } else {
            !self.values.is_clean(text, &self.keys)
        };
        if !changes {
            return true;
        }
        let verdict = KeyVerdict {
            safe: self.keys.is_safe(key),
            sensitive,
            id: is_id_key(key),
        };
        matches!(
            verdict.rule(
                number || all_digits(text),
                !number && self.holds_nothing(text)
            ),
            FieldRule::Keep
        )
    }

    /// Whether a non-negative integer under a key that is not sensitive is kept, known
    /// without formatting it: below 10^11 it cannot be a card number.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn small_number_is_clean(&self, value: u64) -> bool {
        value < 100_000_000_000
    }

    /// `text` with every secret in it replaced; borrowed when nothing was found.
    pub fn scrub_str<'a>(&self, text: &'a str, report: &mut ScrubReport) -> Cow<'a, str> {
        let mut findings = self.values.find(text, &self.keys);
        if findings.is_empty() {
            return Cow::Borrowed(text);
        }
        self.outside_replacements(text, &mut findings);
        if findings.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in findings {
            out.push_str(&text[at..f.start]);
            out.push_str(&self.replacement);
            report.add(f.rule);
            at = f.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Scrubbing is idempotent: a text scrubbed before (at the entry of a subscriber, then
    /// again at the transport) keeps its replacements whole. A finding never cuts into an
    /// earlier replacement (`token [Filtered] ok` would become `token [Filtered]] ok`, the
    /// word-then-value rule reading `[Filtered` as the value): it is trimmed to the text
    /// outside the replacement, or dropped when nothing is left.
    fn outside_replacements(&self, text: &str, findings: &mut Vec<Finding>) {
        let marker = self.replacement.as_str();
        if marker.is_empty() || !text.contains(marker) {
            return;
        }
        let markers: Vec<(usize, usize)> = text
            .match_indices(marker)
            .map(|(at, m)| (at, at + m.len()))
            .collect();
        findings.retain_mut(|f| {
            for &(from, to) in &markers {
                if f.start >= from && f.start < to {
                    f.start = to;
                }
                if f.end > from && f.end <= to {
                    f.end = from;
                }
            }
            f.start < f.end
        });
    }

    /// The work the value detectors do on `text` (bytes visited by the structure scanner
    /// plus one text length per regex pass): linear in the length of `text`. For tests.
    #[doc(hidden)]
    pub fn scan_cost(&self, text: &str) -> u64 {
        let mut steps = 0;
        let _ = self.values.find_counting(text, &self.keys, &mut steps);
        steps
    }

    /// The vendor token rules (name and regex), for tests that generate tokens of each
    /// documented format. Not part of the API.
    #[doc(hidden)]
    pub fn vendor_token_formats() -> Vec<(&'static str, &'static str)> {
        crate::vendors::VENDOR_RULES
            .iter()
            .map(|r| (r.name, r.pattern))
            .collect()
    }

    /// Scrubs a JSON value in place: keys, strings, and numbers that are card numbers.
    pub fn scrub_value(&self, value: &mut Value, report: &mut ScrubReport) {
        self.scrub_value_at(value, report, 0);
    }

    pub(crate) fn scrub_value_at(&self, value: &mut Value, report: &mut ScrubReport, depth: usize) {
        if depth >= MAX_DEPTH {
            if !matches!(value, Value::Null | Value::Bool(_)) {
                *value = Value::String(self.replacement.clone());
                report.add("@too_deep");
            }
            return;
        }
        match value {
            Value::String(s) => self.scrub_report_text(s, report),
            // Integers of 11 characters or fewer cannot be cards: no formatting for them.
            Value::Number(n)
                if n.as_i64()
                    .is_some_and(|v| (-9_999_999_999..=99_999_999_999).contains(&v)) => {}
            Value::Number(n) => {
                if number_is_card(&n.to_string()) {
                    *value = Value::String(self.replacement.clone());
                    report.add("@credit_card");
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.scrub_value_at(item, report, depth + 1);
                }
            }
            Value::Object(map) => self.scrub_map_at(map, &[], report, depth),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Scrubs a map, leaving the keys in `structural` untouched.
    pub(crate) fn scrub_map_at(
        &self,
        map: &mut Map<String, Value>,
        structural: &[&str],
        report: &mut ScrubReport,
        depth: usize,
    ) {
        self.scrub_entries(map.iter_mut(), structural, report, depth);
    }

    /// Scrubs the entries of a map (serde_json's or sentry's), keeping `structural` keys.
    pub(crate) fn scrub_entries<'m>(
        &self,
        entries: impl Iterator<Item = (&'m String, &'m mut Value)>,
        structural: &[&str],
        report: &mut ScrubReport,
        depth: usize,
    ) {
        for (key, value) in entries {
            if !structural.contains(&key.as_str()) {
                self.scrub_entry(key, value, report, depth);
            }
        }
    }

    /// The value under `key` in a map at `depth`, by the one rule ([`KeyVerdict::rule`]).
    pub(crate) fn scrub_entry(
        &self,
        key: &str,
        value: &mut Value,
        report: &mut ScrubReport,
        depth: usize,
    ) {
        if let Value::String(text) = &*value {
            if self.postal_under_label(key, text) {
                *value = Value::String(self.replacement.clone());
                report.add("@address");
                return;
            }
        }
        self.apply_verdict(self.key_verdict(key), value, report, depth);
    }

    /// [`scrub_entry`](Self::scrub_entry) with the key's verdict already known.
    pub(crate) fn apply_verdict(
        &self,
        verdict: KeyVerdict,
        value: &mut Value,
        report: &mut ScrubReport,
        depth: usize,
    ) {
        let empty = match value {
            Value::Null => true,
            Value::String(s) => self.holds_nothing(s),
            _ => false,
        };
        match verdict.rule(is_digits(value), empty) {
            FieldRule::Keep => {}
            FieldRule::Replace => {
                *value = Value::String(self.replacement.clone());
                report.add("@key");
            }
            FieldRule::Scan => self.scrub_value_at(value, report, depth + 1),
        }
    }

    /// A text of a report (below [`MAX_DEPTH`]): scrubbed unless known clean, then cut.
    pub(crate) fn scrub_report_text(&self, text: &mut String, report: &mut ScrubReport) {
        self.scrub_text_remembering(text, report);
        cut_at(text, MAX_VALUE_BYTES);
    }

    /// Scrubs `text` unless it is known clean, remembering it when it is; whether it was.
    pub(crate) fn scrub_text_remembering(
        &self,
        text: &mut String,
        report: &mut ScrubReport,
    ) -> bool {
        if self.clean.contains(text) {
            return true;
        }
        match self.scrub_str(text, report) {
            Cow::Owned(scrubbed) => {
                *text = scrubbed;
                false
            }
            Cow::Borrowed(_) => {
                self.clean.insert(text);
                true
            }
        }
    }
}

/// What the rules say about one key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyVerdict {
    /// Configured as never scrubbed (`ScrubRules::safe_keys`).
    pub(crate) safe: bool,
    /// Its value is replaced whole.
    pub(crate) sensitive: bool,
    /// It names an id (`order_id`): digits under it are an id, not a card.
    pub(crate) id: bool,
}

/// What happens to the value under a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldRule {
    /// Left as it is.
    Keep,
    /// Replaced whole.
    Replace,
    /// Searched for secrets, which are replaced where they stand.
    Scan,
}

impl KeyVerdict {
    /// The one rule for the value under a key, for every sink (Sentry reports' fields,
    /// tags, breadcrumb data, contexts, logs' and metrics' attributes, and wrapped
    /// layers): a safe key keeps its value; an id key that names no secret keeps digits
    /// (order ids may pass Luhn); a sensitive key's value is replaced unless `empty`
    /// (empty, or already the replacement); any other value is searched. `digits`: the
    /// value is a number or all ASCII digits.
    pub(crate) fn rule(self, digits: bool, empty: bool) -> FieldRule {
        if self.safe || (self.id && !self.sensitive && digits) {
            FieldRule::Keep
        } else if self.sensitive {
            if empty {
                FieldRule::Keep
            } else {
                FieldRule::Replace
            }
        } else {
            FieldRule::Scan
        }
    }
}

/// A number's decimal text that is a card number: 12 digits or more, a known issuer,
/// Luhn. The only rule for numbers under keys that are not sensitive.
pub(crate) fn number_is_card(digits: &str) -> bool {
    digits.len() >= 12 && values::luhn_valid(digits) && values::issuer_known(digits)
}

/// Keys naming an id (`order_id`, `userId`, `tenant_ids`, `ID`), not a card (`card_id`).
pub(crate) fn is_id_key(key: &str) -> bool {
    let key = key.strip_suffix('s').unwrap_or(key);
    let Some(head) = key
        .strip_suffix("id")
        .or_else(|| key.strip_suffix("Id"))
        .or_else(|| key.strip_suffix("ID"))
    else {
        return false;
    };
    let named_id = head.is_empty()
        || head.ends_with(['_', '-', '.', ' '])
        || (key.ends_with("Id") && head.ends_with(|c: char| c.is_ascii_lowercase()));
    named_id && !values::names_a_card(key)
}

/// The text's part of [`Scrubber::postal_under_label`]: a postal address, checked on
/// texts long enough and holding a digit or a non-ASCII letter.
pub(crate) fn may_be_postal(text: &str) -> bool {
    text.len() >= 8
        && text.bytes().any(|c| c.is_ascii_digit() || c >= 0x80)
        && crate::locale_words::postal(text)
}

pub(crate) fn is_digits(value: &Value) -> bool {
    match value {
        Value::Number(_) => true,
        Value::String(s) => all_digits(s),
        _ => false,
    }
}

pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The largest character boundary of `s` at or below `max` (`str::floor_char_boundary`
/// is not stable at the crate's minimum Rust version).
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut (for text
/// that is already scrubbed).
pub(crate) fn cut_at(s: &mut String, max: usize) {
    if s.len() > max {
        s.truncate(floor_char_boundary(s, max - '…'.len_utf8()));
        s.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::{CLEAN_TEXTS, CLEAN_TEXT_BYTES};
    use crate::rules::DEFAULT_REPLACEMENT;

    fn scrub(text: &str) -> String {
        let s = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        s.scrub_str(text, &mut ScrubReport::default()).into_owned()
    }

    /// Debug tuple pairs whose first element names a secret: the second is replaced,
    /// whatever wraps the tuple; tuples of harmless pairs stay as they were.
    #[test]
    fn debug_tuple_pairs_are_scrubbed_by_their_key() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let scrub = |text: &str| {
            let mut report = ScrubReport::default();
            scrubber.scrub_str(text, &mut report).into_owned()
        };
        for (text, secret) in [
            (r#"[("client_secret", "hunterQP")]"#, "hunterQP"),
            (
                r#"[("authorization", "Basic abc"), ("x-api-key", "hunterHDRKEY")]"#,
                "hunterHDRKEY",
            ),
            (r#"Some(("db_password", "hunterOPT"))"#, "hunterOPT"),
            (r#"pw ("password", "hunterLOGTUPLE")"#, "hunterLOGTUPLE"),
            ("[(\"token\",\n    \"hunterPRETTY\",\n)]", "hunterPRETTY"),
        ] {
            let out = scrub(text);
            assert!(!out.contains(secret), "{text} -> {out}");
        }
        for text in [
            r#"[("region", "eu-west-1"), ("plan", "pro")]"#,
            r#"("token_budget", 4000)"#,
            r#"(1, "password")"#,
        ] {
            assert_eq!(scrub(text), text);
        }
    }

    /// A detector ending inside a multi-byte character once panicked the worker
    /// (`Bearer{\u{200b}`): random mixes of key words, openers and non-ASCII text.
    #[test]
    fn no_text_makes_the_scrubber_panic() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let parts = [
            "Bearer",
            "bearer ",
            "password",
            "token",
            "key",
            "Authorization: ",
            "{",
            "(",
            "[",
            "Some(",
            "\"",
            "=",
            ": ",
            " ",
            "é",
            "\u{200b}",
            "😀",
            "ü",
            "@",
            "://",
            "x",
            "1",
            "4111",
            "%40",
            "-p",
            "<Password>",
            "ghp_",
            "sk-",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..rng.usize(1..12) {
                text.push_str(parts[rng.usize(..parts.len())]);
            }
            let mut report = ScrubReport::default();
            let _ = scrubber.scrub_str(&text, &mut report);
        }
        let mut report = ScrubReport::default();
        for text in [
            "Bearer{\u{200b}",
            "Bearer(é",
            "Bearer{ü",
            "Bearer{😀",
            "Bpassword{é",
        ] {
            let _ = scrubber.scrub_str(text, &mut report);
        }
    }

    #[test]
    fn replaces_only_the_secret_part() {
        assert_eq!(
            scrub("login failed for user=42 password=pubHunter2x"),
            "login failed for user=42 password=[Filtered]"
        );
        assert_eq!(
            scrub("connect postgres://app:pw77@db.internal:5432/orders failed"),
            "connect postgres://[Filtered]:[Filtered]@db.internal:5432/orders failed"
        );
        assert_eq!(
            scrub("charge 4111 1111 1111 1111 declined"),
            "charge [Filtered] declined"
        );
        assert_eq!(
            scrub("redis://:pw@cache:6379"),
            "redis://:[Filtered]@cache:6379"
        );
        // A password may contain spaces: it runs to the next pair or delimiter.
        assert_eq!(
            scrub("invariant broken: password=pubPanicPw9 leaked"),
            "invariant broken: password=[Filtered]"
        );
        assert_eq!(
            scrub("unlock failed: passphrase=correct horse battery user=bob, retrying"),
            "unlock failed: passphrase=[Filtered] user=bob, retrying"
        );
        let accents = "é".repeat(30);
        assert_eq!(
            scrub(&format!("{accents} from 10.1.2.3")),
            format!("{accents} from [Filtered]")
        );
        assert_eq!(
            scrub("DbConfig { host: \"db\", password: Some(\"pw1\"), port: 5432 }"),
            "DbConfig { host: \"db\", password: [Filtered], port: 5432 }"
        );
        // The type names the secret, whatever key it stands under.
        assert_eq!(
            scrub("Client { key: ApiKey(\"zq81hd0a\"), region: \"eu\" }"),
            "Client { key: ApiKey([Filtered]), region: \"eu\" }"
        );
        assert_eq!(
            scrub("Login { user: \"bob\", pw: SecretString { inner: \"x9\" } }"),
            "Login { user: \"bob\", pw: [Filtered] }"
        );
        assert_eq!(
            scrub("Tokenizer(3) and Session(7)"),
            "Tokenizer(3) and Session(7)"
        );
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "authentication failed for order 17",
            "3f2c9a1e-8b7d-4c6a-9e1f-0a2b3c4d5e6f",
            "std::io::Error at src/main.rs:12:5",
            "token_count=17 max_tokens=4096",
            "took 1700000000000 ms",
            "Bearer authentication is required",
        ] {
            assert_eq!(scrub(text), text);
        }
    }

    #[test]
    fn json_in_a_string_is_scrubbed_by_key() {
        let out = scrub(r#"{"user":"u1","password":"pubJsonPw31","plan":"pro"}"#);
        assert!(!out.contains("pubJsonPw31"), "{out}");
        assert!(out.contains("\"plan\":\"pro\""), "{out}");
    }

    #[test]
    fn debug_formatted_maps_are_scrubbed() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("password", "hunter2x9");
        map.insert("user", "u1");
        let out = scrub(&format!("{map:?}"));
        assert!(!out.contains("hunter2x9"), "{out}");
        assert!(out.contains("u1"), "{out}");
        let escaped = format!("{:?}", format!("{map:?}"));
        assert!(!scrub(&escaped).contains("hunter2x9"));
    }

    #[test]
    fn url_passwords_go_whatever_they_hold_also_with_personal_data_allowed() {
        let scrubber =
            Scrubber::new(&ScrubRules::default().send_default_pii(true)).expect("compiles");
        for (text, secret) in [
            (
                "postgres://app:pw#1/x@y@db.internal:5432/orders",
                "pw#1/x@y",
            ),
            (
                "connecting to app:Zq9pw77x@db.internal.example.com:5432",
                "Zq9pw77x",
            ),
            ("sqlplus scott/Tiger9x@orcl", "Tiger9x"),
        ] {
            let out = scrubber.scrub_str(text, &mut ScrubReport::default());
            assert!(!out.contains(secret), "{text} -> {out}");
            assert!(out.contains("5432") || out.contains("orcl"), "{out}");
        }
        // With personal data allowed, emails stay.
        let out = scrubber.scrub_str("mail to jane@example.com", &mut ScrubReport::default());
        assert_eq!(out, "mail to jane@example.com");
    }

    #[test]
    fn card_numbers_stored_as_json_numbers_are_replaced_and_other_numbers_kept() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let mut value = serde_json::json!({
            "card": 4111111111111111u64,
            "amount": 4017,
            "big": 999_999_999_999u64,
            "negative": -99_999_999_999i64,
            "ratio": 0.25,
        });
        let mut report = ScrubReport::default();
        scrubber.scrub_value(&mut value, &mut report);
        assert_eq!(value["card"], DEFAULT_REPLACEMENT);
        assert_eq!(value["amount"], 4017);
        assert_eq!(value["big"], 999_999_999_999u64);
        assert_eq!(value["negative"], -99_999_999_999i64);
        assert_eq!(value["ratio"], 0.25);
        assert_eq!(report.by_rule.get("@credit_card"), Some(&1));
    }

    #[test]
    fn id_keys() {
        for key in [
            "id",
            "order_id",
            "userId",
            "tenant_ids",
            "ORDER_ID",
            "trace.id",
        ] {
            assert!(is_id_key(key), "{key}");
        }
        for key in ["paid", "valid", "android", "card_number", "ids_enabled"] {
            assert!(!is_id_key(key), "{key}");
        }
    }

    #[test]
    fn invalid_user_patterns_are_errors() {
        assert!(Scrubber::new(&ScrubRules::default().extra_pattern("(unclosed")).is_err());
    }

    #[test]
    fn a_secret_straddling_the_sent_bound_is_replaced_whole() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let pad = "y".repeat(MAX_VALUE_BYTES - 20);
        let secret = "ghp_xgsjkkmgfA1y2NdAMSqKF8ClqZ5zkxYPncM8";
        let mut value = Value::String(format!("{pad} {secret} end"));
        scrubber.scrub_value(&mut value, &mut ScrubReport::default());
        let out = value.as_str().unwrap_or_default();
        assert!(out.len() <= MAX_VALUE_BYTES, "{}", out.len());
        assert!(!out.contains("ghp_"), "{}", &out[out.len() - 40..]);
    }

    /// The memory of clean texts is bounded in count and length, and holds only texts in
    /// which nothing was found.
    #[test]
    fn only_short_clean_texts_are_remembered_and_never_too_many() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let long = "x".repeat(CLEAN_TEXT_BYTES + 1);
        for _ in 0..2 {
            for i in 0..CLEAN_TEXTS + 10 {
                scrubber.clean.insert(&format!("step {i}"));
            }
            scrubber.clean.insert(&long);
            let mut report = ScrubReport::default();
            let mut secret = String::from("token=hunterMEM1");
            scrubber.scrub_report_text(&mut secret, &mut report);
            assert_eq!(report.total(), 1);
        }
        let remembered = scrubber.clean.lock();
        assert!(
            remembered.texts.len() <= CLEAN_TEXTS,
            "{}",
            remembered.texts.len()
        );
        assert!(remembered.seen_once.len() <= CLEAN_TEXTS * 4 + 1);
        assert!(remembered.texts.iter().all(|t| t.len() <= CLEAN_TEXT_BYTES));
        assert!(remembered.texts.iter().all(|t| !t.contains("hunter")));
        // Seen twice: remembered.
        assert!(remembered.texts.contains("step 5") || remembered.texts.contains("step 2049"));
    }
}
