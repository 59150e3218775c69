//! Client-side scrubbing of secrets and personal data.
//!
//! Two kinds of rules, both applied everywhere in a report:
//! - **keys** (`keys.rs`): a value under a key that names a secret (`password`,
//!   `x-api-key`, `refreshToken`, ...) is replaced whole, recursively;
//! - **values** (`values.rs`): secrets inside any string (bearer tokens, JWTs, cloud
//!   keys, private keys, cards, IBANs, SSNs, URL credentials, `key=value` pairs,
//!   JSON in strings, and emails and IPs while `send_default_pii` is off) are
//!   replaced where they stand, keeping the rest of the text readable.
//!
//! Structure inside text is followed (`text.rs`): the whole value under a sensitive key
//! is replaced whatever wraps it (`Some("..")`, `ApiKey("..")`, lists, maps, `{:#?}`
//! output, JSON, XML, YAML, CLI flags, URLs). Vendor tokens are recognised by their
//! documented formats ([`vendors`], each rule with its source). Every detector is linear
//! in its input. One pass over a string's bytes first rules out what cannot be there
//! (no `@`, too few digits, no token-length run, ...), so ordinary text skips the regex
//! passes and the structure scanner; what it rules out could not have been found.
//!
//! Values are captured up to 16 KiB and cut to 8 KiB (tags to [`MAX_TAG_CHARS`]) only
//! *after* scrubbing, so a secret straddling the cut is found whole first.
//!
//! [`Scrubber::scrub_envelope`] is applied by the transport to every envelope item,
//! whatever produced it, so there is no path around it.

mod keys;
mod layer;
mod paths;
mod protocol;
#[cfg(test)]
mod reference;
mod text;
mod values;
pub mod vendors;

use std::borrow::Cow;
use std::collections::BTreeMap;

use sentry::protocol::{Context, EnvelopeItem, Event, Transaction, Value};
use sentry::Envelope;
use serde_json::Map;

use keys::KeyMatcher;
pub use layer::{ScrubLayerExt, Scrubbed};
pub(crate) use paths::short_source_path;
use values::ValueDetectors;

/// Default replacement for scrubbed data (Sentry's own).
pub const DEFAULT_REPLACEMENT: &str = "[Filtered]";
/// Name of the event context that says how much was scrubbed, and by which rules.
pub const SCRUB_CONTEXT: &str = "scrubbing";
/// What replaces an event or transaction that could not be inspected.
pub const UNSCRUBBABLE: &str = "[report withheld: it could not be scrubbed]";
/// Nesting beyond this depth is replaced whole rather than inspected.
pub const MAX_DEPTH: usize = 32;
/// Longest tag value sent (Sentry's limit), in characters; cut after scrubbing.
pub const MAX_TAG_CHARS: usize = 200;

/// What to scrub. The defaults are the crate's full rule set.
#[derive(Clone, Debug)]
pub struct ScrubRules {
    extra_keys: Vec<String>,
    safe_keys: Vec<String>,
    extra_patterns: Vec<String>,
    replacement: String,
    send_default_pii: bool,
}

impl Default for ScrubRules {
    fn default() -> Self {
        ScrubRules {
            extra_keys: Vec::new(),
            safe_keys: Vec::new(),
            extra_patterns: Vec::new(),
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            send_default_pii: false,
        }
    }
}

impl ScrubRules {
    /// Also scrub values under this key (matched in every spelling, like the built-in keys).
    pub fn extra_key(mut self, key: impl Into<String>) -> Self {
        self.extra_keys.push(key.into());
        self
    }

    /// Never scrub the value under this key (neither by key nor by value rules).
    pub fn safe_key(mut self, key: impl Into<String>) -> Self {
        self.safe_keys.push(key.into());
        self
    }

    /// Also replace every match of this regular expression. Checked by `build()`.
    pub fn extra_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.extra_patterns.push(pattern.into());
        self
    }

    /// The text that replaces scrubbed data (default [`DEFAULT_REPLACEMENT`]).
    pub fn replacement(mut self, replacement: impl Into<String>) -> Self {
        self.replacement = replacement.into();
        self
    }

    /// Whether personal data (emails, IP addresses, names, phone numbers) may be sent.
    pub fn send_default_pii(mut self, send: bool) -> Self {
        self.send_default_pii = send;
        self
    }
}

/// A pattern of [`ScrubRules::extra_pattern`] that is not a valid regular expression
/// (the `regex` crate's syntax); [`source`](std::error::Error::source) is the
/// `regex::Error` saying why.
#[derive(Debug)]
pub struct PatternError {
    pattern: String,
    source: regex::Error,
}

impl PatternError {
    /// The pattern as it was given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scrubbing pattern {:?} is not a valid regular expression",
            self.pattern
        )
    }
}

impl std::error::Error for PatternError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

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

    fn add(&mut self, rule: &'static str) {
        *self.by_rule.entry(rule).or_default() += 1;
    }
}

/// The compiled rules. Build once ([`Scrubber::new`]) and share.
#[derive(Debug)]
pub struct Scrubber {
    keys: KeyMatcher,
    values: ValueDetectors,
    replacement: String,
    /// Short texts of earlier reports in which nothing was found.
    clean: protocol::CleanTexts,
}

// `op` (span names) and `description` are scrubbed: ordinary names come out unchanged,
// so grouping by them is kept.
const TRACE_KEYS: &[&str] = &[
    "trace_id",
    "span_id",
    "parent_span_id",
    "status",
    "origin",
    "type",
    "timestamp",
    "start_timestamp",
    "same_process_as_parent",
];

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
            clean: protocol::CleanTexts::default(),
        })
    }

    /// Whether the value under `key` is replaced whole.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        self.keys.is_sensitive(key)
    }

    /// The value of a field named `key`, as text (its `Display` or `Debug` output),
    /// scrubbed: replaced whole when `key` is sensitive, else with every secret in it
    /// replaced. Borrowed when nothing was found. This is the one entry point for a
    /// single field, whatever sink it is going to.
    pub fn scrub_field<'a>(
        &self,
        key: &str,
        text: &'a str,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        if self.is_sensitive_key(key) {
            report.add("@key");
            return Cow::Owned(self.replacement.clone());
        }
        self.scrub_str(text, report)
    }

    /// [`is_sensitive_key`](Self::is_sensitive_key) for a `'static` key (a tracing field
    /// name): after the first time, one lookup by the name's address.
    pub(crate) fn is_sensitive_static_key(&self, key: &'static str) -> bool {
        self.keys.is_sensitive_static(key)
    }

    /// [`scrub_field`](Self::scrub_field) for a `'static` key such as a tracing field
    /// name: the key's verdict is looked up by the name's address, not its text.
    pub(crate) fn scrub_static_field<'a>(
        &self,
        key: &'static str,
        text: &'a str,
        report: &mut ScrubReport,
    ) -> Cow<'a, str> {
        if self.keys.is_sensitive_static(key) {
            report.add("@key");
            return Cow::Owned(self.replacement.clone());
        }
        self.scrub_str(text, report)
    }

    /// Whether [`scrub_static_field`](Self::scrub_static_field) would leave `text` as
    /// it is. Allocates nothing; ordinary text costs the key lookup and one byte scan.
    pub(crate) fn field_is_clean(&self, key: &'static str, text: &str) -> bool {
        !self.keys.is_sensitive_static(key) && self.values.is_clean(text, &self.keys)
    }

    /// Whether the text of `value` (its decimal digits) is left as it is by the value
    /// rules, known without formatting it: true for numbers below 10^8 when only the
    /// built-in detectors run (no rule finds anything in eight digits or fewer alone).
    pub(crate) fn small_number_is_clean(&self, value: u64) -> bool {
        self.values.small_number_is_clean(value)
    }

    /// `text` with every secret in it replaced; borrowed when nothing was found.
    pub fn scrub_str<'a>(&self, text: &'a str, report: &mut ScrubReport) -> Cow<'a, str> {
        let findings = self.values.find(text, &self.keys);
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

    /// The work the value detectors do on `text` (bytes visited by the structure scanner
    /// plus one text length per regex pass): linear in the length of `text`. For tests.
    #[doc(hidden)]
    pub fn scan_cost(&self, text: &str) -> u64 {
        let mut steps = 0;
        let _ = self.values.find_counting(text, &self.keys, &mut steps);
        steps
    }

    /// Scrubs a JSON value in place: keys, strings, and numbers that are card numbers.
    pub fn scrub_value(&self, value: &mut Value, report: &mut ScrubReport) {
        self.scrub_value_at(value, report, 0);
    }

    fn scrub_value_at(&self, value: &mut Value, report: &mut ScrubReport, depth: usize) {
        if depth >= MAX_DEPTH {
            if !matches!(value, Value::Null | Value::Bool(_)) {
                *value = Value::String(self.replacement.clone());
                report.add("@too_deep");
            }
            return;
        }
        match value {
            Value::String(s) => self.scrub_report_text(s, report),
            // Integers of 12 characters or fewer cannot be cards: no formatting for them.
            Value::Number(n)
                if n.as_i64()
                    .is_some_and(|v| (-99_999_999_999..=999_999_999_999).contains(&v)) => {}
            Value::Number(n) => {
                let digits = n.to_string();
                if digits.len() >= 13
                    && values::luhn_valid(&digits)
                    && values::issuer_known(&digits)
                {
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
    fn scrub_map_at(
        &self,
        map: &mut Map<String, Value>,
        structural: &[&str],
        report: &mut ScrubReport,
        depth: usize,
    ) {
        self.scrub_entries(map.iter_mut(), structural, report, depth);
    }

    /// Scrubs the entries of a map (serde_json's or sentry's), keeping `structural` keys.
    fn scrub_entries<'m>(
        &self,
        entries: impl Iterator<Item = (&'m String, &'m mut Value)>,
        structural: &[&str],
        report: &mut ScrubReport,
        depth: usize,
    ) {
        for (key, value) in entries {
            if structural.contains(&key.as_str()) || self.keys.is_safe(key) {
                continue;
            }
            let sensitive = self.keys.is_sensitive(key);
            if !sensitive && is_digits(value) && is_id_key(key) {
                // Order, user and tenant ids may pass Luhn: under an id key they are ids
                // (unless the key names a secret or personal data: `session_id`, `tax_id`).
                continue;
            }
            if sensitive {
                let empty = match value {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                if !empty {
                    *value = Value::String(self.replacement.clone());
                    report.add("@key");
                }
                continue;
            }
            self.scrub_value_at(value, report, depth + 1);
        }
    }

    /// Local variables in stack frames are user data, and so are the texts a capture
    /// can put in a frame, thread or mechanism (source lines, function and thread
    /// names, descriptions, links); paths lose the home directory. The rest is code.
    fn scrub_frame_vars(&self, value: &mut Value, report: &mut ScrubReport) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    self.scrub_frame_entry(key, inner, report);
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.scrub_frame_vars(v, report)),
            _ => {}
        }
    }

    /// One entry of a frame, thread or mechanism (see [`Self::scrub_frame_vars`]).
    fn scrub_frame_entry(&self, key: &str, inner: &mut Value, report: &mut ScrubReport) {
        match key {
            "vars" | "function" | "context_line" | "pre_context" | "post_context" | "name"
            | "description" | "help_link" => self.scrub_value_at(inner, report, 1),
            "abs_path" | "filename" => {
                // A dependency's path holds the home directory (personal data).
                if let Value::String(path) = inner {
                    let short = short_source_path(path);
                    if short.len() != path.len() {
                        *path = short.into_owned();
                    }
                }
            }
            _ => self.scrub_frame_vars(inner, report),
        }
    }

    /// Scrubs an event; adds the [`SCRUB_CONTEXT`] context when anything was removed.
    /// An event with a part that cannot be scrubbed and keep its type is replaced by a
    /// stub saying so ([`UNSCRUBBABLE`]), with its scrubbed contexts and breadcrumbs.
    pub fn scrub_event(&self, mut event: Event<'static>) -> Event<'static> {
        let mut report = ScrubReport::default();
        if self.scrub_event_in_place(&mut event, &mut report).is_err() {
            // Could not be inspected: send that fact, never the data.
            event = Event {
                event_id: event.event_id,
                level: event.level,
                timestamp: event.timestamp,
                message: Some(UNSCRUBBABLE.to_owned()),
                contexts: std::mem::take(&mut event.contexts),
                breadcrumbs: std::mem::take(&mut event.breadcrumbs),
                ..Default::default()
            };
        }
        if report.total() > 0 {
            event
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        event
    }

    /// Scrubs a transaction (its spans' data and descriptions, tags, contexts, user).
    pub fn scrub_transaction(&self, mut transaction: Transaction<'static>) -> Transaction<'static> {
        let mut report = ScrubReport::default();
        if self
            .scrub_transaction_in_place(&mut transaction, &mut report)
            .is_err()
        {
            transaction = Transaction {
                event_id: transaction.event_id,
                name: Some(UNSCRUBBABLE.to_owned()),
                start_timestamp: transaction.start_timestamp,
                timestamp: transaction.timestamp,
                contexts: std::mem::take(&mut transaction.contexts),
                ..Default::default()
            };
        }
        if report.total() > 0 {
            transaction
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        transaction
    }

    /// Scrubs contexts in place: the maps this crate fills (fields, spans, location) and
    /// the trace context directly, so a field named `type` stays a field; any other kind
    /// of context through JSON (withheld if it does not survive the round trip).
    fn scrub_contexts(
        &self,
        contexts: sentry::protocol::Map<String, Context>,
        report: &mut ScrubReport,
    ) -> sentry::protocol::Map<String, Context> {
        self.scrub_contexts_as(contexts, report, true)
    }

    /// `typed`: the os, runtime and device contexts in place (else all through JSON, as
    /// the reference does).
    fn scrub_contexts_as(
        &self,
        contexts: sentry::protocol::Map<String, Context>,
        report: &mut ScrubReport,
        typed: bool,
    ) -> sentry::protocol::Map<String, Context> {
        let mut out = sentry::protocol::Map::new();
        for (name, mut context) in contexts {
            if typed && self.scrub_known_context(&mut context, report).is_some() {
                out.insert(name, context);
                continue;
            }
            let context = match context {
                Context::Other(map) if name == crate::report::SPANS_CONTEXT => {
                    // Keys here are span names, not field names: a span named `auth` or
                    // `session` keeps its fields (each scrubbed as usual). A name is text
                    // that leaves the process too, so secrets in it are replaced.
                    let mut spans = sentry::protocol::Map::new();
                    for (span_name, mut fields) in map {
                        match &mut fields {
                            Value::Object(fields) => self.scrub_map_at(fields, &[], report, 2),
                            other => self.scrub_value_at(other, report, 2),
                        }
                        let mut key = span_name;
                        self.scrub_text_remembering(&mut key, report);
                        if spans.contains_key(&key) {
                            key = format!("{key}#{}", spans.len());
                        }
                        spans.insert(key, fields);
                    }
                    Context::Other(spans)
                }
                Context::Other(mut map) => {
                    // A field named `type` would clash with the context's own `type` tag
                    // and make the envelope unparsable: keep it under another name.
                    if let Some(value) = map.remove("type") {
                        map.insert("type_field".to_owned(), value);
                    }
                    self.scrub_entries(map.iter_mut(), &[], report, 1);
                    Context::Other(map)
                }
                Context::Trace(mut trace) => {
                    self.scrub_entries(trace.data.iter_mut(), &[], report, 1);
                    for text in [&mut trace.op, &mut trace.description]
                        .into_iter()
                        .flatten()
                    {
                        if let Cow::Owned(s) = self.scrub_str(text, report) {
                            *text = s;
                        }
                    }
                    Context::Trace(trace)
                }
                other => {
                    let scrubbed = serde_json::to_value(&other).ok().and_then(|mut json| {
                        if let Value::Object(map) = &mut json {
                            self.scrub_map_at(map, &["type"], report, 1);
                        }
                        serde_json::from_value::<Context>(json).ok()
                    });
                    match scrubbed {
                        Some(context) => context,
                        None => {
                            report.add("@withheld");
                            continue;
                        }
                    }
                }
            };
            out.insert(name, context);
        }
        out
    }

    /// Scrubs every item of an envelope. Items that cannot be inspected (binary
    /// attachments, raw envelopes) are dropped rather than sent unscrubbed.
    pub fn scrub_envelope(&self, envelope: Envelope) -> Envelope {
        let mut out = Envelope::new().with_headers(envelope.headers().clone());
        for item in envelope.into_items() {
            let item = match item {
                EnvelopeItem::Event(event) => {
                    EnvelopeItem::Event(Box::new(self.scrub_event(*event)))
                }
                EnvelopeItem::Transaction(tx) => {
                    EnvelopeItem::Transaction(Box::new(self.scrub_transaction(*tx)))
                }
                EnvelopeItem::Attachment(mut attachment) => {
                    match String::from_utf8(std::mem::take(&mut attachment.buffer)) {
                        Ok(text) => {
                            let mut report = ScrubReport::default();
                            attachment.buffer =
                                self.scrub_str(&text, &mut report).into_owned().into_bytes();
                            EnvelopeItem::Attachment(attachment)
                        }
                        Err(_) => continue,
                    }
                }
                EnvelopeItem::Raw => continue,
                other => other,
            };
            out.add_item(item);
        }
        out
    }
}

/// Keys naming an id (`order_id`, `userId`, `tenant_ids`, `ID`), not a card (`card_id`).
fn is_id_key(key: &str) -> bool {
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

fn is_digits(value: &Value) -> bool {
    match value {
        Value::Number(_) => true,
        Value::String(s) => all_digits(s),
        _ => false,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn report_context(report: &ScrubReport) -> Context {
    let mut map = sentry::protocol::Map::new();
    map.insert("filtered".into(), Value::from(report.total()));
    map.insert(
        "rules".into(),
        Value::Array(report.by_rule.keys().map(|r| Value::from(*r)).collect()),
    );
    Context::Other(map)
}

#[cfg(test)]
mod tests {

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

    /// Span names are the keys of the `spans` context: scrubbed as text, never as keys.
    #[test]
    fn span_names_in_the_spans_context_are_scrubbed_as_text() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let mut spans = sentry::protocol::Map::new();
        spans.insert(
            "sql password=hunterSPANNAME".to_owned(),
            serde_json::json!({"db": "orders"}),
        );
        spans.insert("auth".to_owned(), serde_json::json!({"step": "verify"}));
        let mut event = Event::default();
        event.contexts.insert(
            crate::report::SPANS_CONTEXT.to_owned(),
            Context::Other(spans),
        );
        let out = serde_json::to_string(&scrubber.scrub_event(event)).expect("serialises");
        assert!(!out.contains("hunterSPANNAME"), "{out}");
        assert!(out.contains("\"sql password=[Filtered]\""), "{out}");
        assert!(
            out.contains("\"step\":\"verify\""),
            "a span named auth keeps its fields: {out}"
        );
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
    use super::*;

    fn scrub(text: &str) -> String {
        let s = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        s.scrub_str(text, &mut ScrubReport::default()).into_owned()
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
    fn an_event_without_secrets_survives_the_round_trip_unchanged() {
        use sentry::protocol::{Breadcrumb, Exception, Level, User};
        // The wire carries seconds as a float: use times it represents exactly.
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_250);
        let mut event = Event {
            timestamp: at,
            level: Level::Error,
            message: Some("order 17 failed".into()),
            logger: Some("billing".into()),
            exception: vec![Exception {
                ty: "DbError".into(),
                value: Some("timed out".into()),
                ..Default::default()
            }]
            .into(),
            breadcrumbs: vec![Breadcrumb {
                timestamp: at,
                message: Some("loading".into()),
                ..Default::default()
            }]
            .into(),
            user: Some(User {
                id: Some("42".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.tags.insert("tenant_id".into(), "acme".into());
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        assert_eq!(scrubber.scrub_event(event.clone()), event);
    }

    #[test]
    fn exception_types_span_ops_categories_and_names_are_scrubbed_but_ordinary_ones_kept() {
        use sentry::protocol::{Breadcrumb, Exception, TraceContext};
        let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let event = Event {
            logger: Some(format!("svc::{secret}")),
            transaction: Some(format!("GET /reset/{secret}")),
            exception: vec![
                Exception {
                    ty: format!("Error({secret})"),
                    ..Default::default()
                },
                Exception {
                    ty: "DbError".into(),
                    ..Default::default()
                },
            ]
            .into(),
            breadcrumbs: vec![Breadcrumb {
                category: Some(format!("http {secret}")),
                ..Default::default()
            }]
            .into(),
            contexts: [(
                "trace".to_owned(),
                Context::Trace(Box::new(TraceContext {
                    op: Some(format!("token={secret}")),
                    ..Default::default()
                })),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let out = scrubber.scrub_event(event);
        let json = serde_json::to_string(&out).expect("serialises");
        assert!(!json.contains(secret), "{json}");
        assert_eq!(out.exception.values[1].ty, "DbError");
        assert!(out
            .logger
            .as_deref()
            .is_some_and(|l| l.starts_with("svc::")));
    }

    #[test]
    fn spans_named_like_secrets_keep_their_fields() {
        let mut spans = sentry::protocol::Map::new();
        spans.insert(
            "auth".to_owned(),
            serde_json::json!({ "route": "/login", "password": "hunter2x9" }),
        );
        spans.insert("session".to_owned(), serde_json::json!({ "attempt": 3 }));
        let event = Event {
            contexts: [(
                crate::report::SPANS_CONTEXT.to_owned(),
                Context::Other(spans),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let json = serde_json::to_string(&scrubber.scrub_event(event)).expect("serialises");
        assert!(
            json.contains("/login") && json.contains("\"attempt\":3"),
            "{json}"
        );
        assert!(!json.contains("hunter2x9"), "{json}");
    }

    #[test]
    fn a_secret_straddling_the_sent_bound_is_replaced_whole() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let pad = "y".repeat(crate::fields::MAX_VALUE_BYTES - 20);
        let secret = "ghp_xgsjkkmgfA1y2NdAMSqKF8ClqZ5zkxYPncM8";
        let mut value = Value::String(format!("{pad} {secret} end"));
        scrubber.scrub_value(&mut value, &mut ScrubReport::default());
        let out = value.as_str().unwrap_or_default();
        assert!(out.len() <= crate::fields::MAX_VALUE_BYTES, "{}", out.len());
        assert!(!out.contains("ghp_"), "{}", &out[out.len() - 40..]);
        let mut event = Event::default();
        event.tags.insert(
            "tenant_id".into(),
            format!("{}:postgres://app:pw12345@db", "t".repeat(190)),
        );
        let event = scrubber.scrub_event(event);
        let tag = event.tags.get("tenant_id").map_or("", String::as_str);
        assert!(
            tag.chars().count() <= MAX_TAG_CHARS && !tag.contains("pw1"),
            "{tag}"
        );
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
    fn ids_that_pass_luhn_keep_user_and_tenant_attribution() {
        let id = "4111111111111111"; // passes Luhn, in the Visa range
        let mut event = Event {
            user: Some(sentry::protocol::User {
                id: Some(id.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.tags.insert("tenant_id".into(), id.into());
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let out = scrubber.scrub_event(event);
        assert_eq!(out.tags.get("tenant_id").map(String::as_str), Some(id));
        assert_eq!(out.user.and_then(|u| u.id).as_deref(), Some(id));
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
}
