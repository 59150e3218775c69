//! Sentry's `PiiConfig` ("Advanced Data Scrubbing" rules), parsed, validated and
//! applied in process on top of the crate's own policy.
//!
//! The document is the JSON Sentry's project settings and Relay take:
//!
//! ```json
//! {
//!   "rules": {
//!     "order_ids": {"type": "pattern", "pattern": "ORD-[0-9]+",
//!                   "redaction": {"method": "replace", "text": "[order]"}},
//!     "x_keys": {"type": "redact_pair", "keyPattern": "^x-internal-"}
//!   },
//!   "applications": {
//!     "$string": ["@common", "order_ids"],
//!     "$http.headers.*": ["x_keys"]
//!   },
//!   "vars": {"hashKey": "per-project salt"}
//! }
//! ```
//!
//! Rule types: `pattern` (`pattern`, optional `replaceGroups`), `redact_pair`
//! (`keyPattern`), `multiple` (`rules`, `hide_inner`), `alias` (`rule`, `hide_inner`)
//! and the data types `anything`, `ip`, `imei`, `mac`, `uuid`, `email`, `creditcard`,
//! `iban`, `pemkey`, `url_auth`, `us_ssn`, `userpath`, `bearer`, `password`,
//! `cookies`. Built-in rules are named `@ip`, `@email`, `@creditcard`, `@password`,
//! `@common`, ... and `@name:replace`, `:mask`, `:hash`, `:remove`, `:filter`.
//! Redaction methods (`redaction.method`): `default`, `remove`, `replace` (`text`,
//! default `[Filtered]`), `mask`, `hash` (HMAC-SHA1 keyed by `vars.hashKey`).

mod apply;
mod event;
mod legacy;
mod memory;
pub(crate) mod rules;
pub(crate) mod selector;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;
use sha1::{Digest, Sha1};

pub use legacy::DataScrubbingSettings;
use rules::{Detector, Redaction};
use selector::Selector;

/// A validated, compiled PiiConfig. Build with [`PiiConfig::from_json`]; give it to
/// [`Scrubber::with_pii_config`](crate::Scrubber::with_pii_config).
#[derive(Debug)]
pub struct PiiConfig {
    applications: Vec<Application>,
    /// The names rules are counted and reported under.
    names: Vec<String>,
    hash_key: Vec<u8>,
    dry_run: bool,
    /// Matches since the configuration was built, by `names` index.
    matches: Vec<AtomicU64>,
    /// What the text rules found in short texts (by the applications selecting them).
    findings: memory::Findings,
    /// Every `pattern` rule's regex in one set: one search per text tells which of
    /// them can match at all (`None` when the set would not compile within its limit).
    patterns: Option<regex::RegexSet>,
}

impl Clone for PiiConfig {
    fn clone(&self) -> Self {
        PiiConfig {
            applications: self.applications.clone(),
            names: self.names.clone(),
            hash_key: self.hash_key.clone(),
            dry_run: self.dry_run,
            matches: self
                .matches
                .iter()
                .map(|n| AtomicU64::new(n.load(Ordering::Relaxed)))
                .collect(),
            findings: memory::Findings::default(),
            patterns: self.patterns.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct Application {
    selector: Selector,
    /// `selector.required_types()`.
    required: u32,
    /// `selector.alternatives()`.
    needs: Vec<selector::Needs>,
    /// Whether a rule replaces containers whole (`anything`).
    replaces_containers: bool,
    /// Whether a rule decides on the value whole (`anything`, key rules, `password`).
    has_whole_rules: bool,
    leaves: Vec<Leaf>,
}

/// A rule as applied: a detector, a method and the name it is reported under.
#[derive(Debug, Clone)]
struct Leaf {
    name: usize,
    detector: Arc<Detector>,
    redaction: Redaction,
    /// A `pattern` rule's index in [`PiiConfig::patterns`].
    pattern: Option<usize>,
}

/// Where in a PiiConfig document an error is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PiiConfigPlace {
    /// The document as a whole (not JSON, not an object, a top-level field of the
    /// wrong type).
    Document,
    /// The rule with this id (in `rules`).
    Rule(String),
    /// The application with this selector (in `applications`).
    Selector(String),
    /// `vars`.
    Vars,
}

/// A PiiConfig document that is refused: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PiiConfigError {
    place: PiiConfigPlace,
    message: String,
}

impl PiiConfigError {
    fn new(place: PiiConfigPlace, message: impl Into<String>) -> Self {
        PiiConfigError {
            place,
            message: message.into(),
        }
    }

    /// Where the error is.
    pub fn place(&self) -> &PiiConfigPlace {
        &self.place
    }

    /// Why the document is refused.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PiiConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            PiiConfigPlace::Document => write!(f, "invalid PiiConfig: {}", self.message),
            PiiConfigPlace::Rule(id) => {
                write!(f, "invalid PiiConfig: rule {id:?}: {}", self.message)
            }
            PiiConfigPlace::Selector(s) => {
                write!(f, "invalid PiiConfig: selector {s:?}: {}", self.message)
            }
            PiiConfigPlace::Vars => write!(f, "invalid PiiConfig: vars: {}", self.message),
        }
    }
}

impl std::error::Error for PiiConfigError {}

/// A rule of `rules`, read but not yet resolved.
#[derive(Debug)]
enum RuleDef {
    Simple {
        rule_type: String,
        redaction: Option<Redaction>,
    },
    Pattern {
        pattern: String,
        groups: Vec<u8>,
        redaction: Option<Redaction>,
    },
    RedactPair {
        key_pattern: String,
        redaction: Option<Redaction>,
    },
    Multiple {
        rules: Vec<String>,
        hide_inner: bool,
        redaction: Option<Redaction>,
    },
    Alias {
        rule: String,
        hide_inner: bool,
        redaction: Option<Redaction>,
    },
}

impl PiiConfig {
    /// Parses and validates a PiiConfig JSON document.
    ///
    /// # Errors
    /// [`PiiConfigError`] naming the rule, selector or part that is wrong: JSON that
    /// does not parse, a field of the wrong type, an unknown rule type, a selector
    /// Sentry's grammar refuses, and (where Sentry's validator is silent, ADR-031) a
    /// pattern that is not a valid regular expression, a reference to a rule that does
    /// not exist and rules that refer to each other in a cycle.
    pub fn from_json(json: &str) -> Result<PiiConfig, PiiConfigError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| PiiConfigError::new(PiiConfigPlace::Document, e.to_string()))?;
        PiiConfig::from_value(&value)
    }

    /// [`from_json`](Self::from_json) for a parsed document.
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_value(value: &Value) -> Result<PiiConfig, PiiConfigError> {
        let doc = PiiConfigPlace::Document;
        let Value::Object(top) = value else {
            return Err(PiiConfigError::new(doc, "expected a JSON object"));
        };
        let mut defs = BTreeMap::new();
        if let Some(rules) = top.get("rules") {
            let Value::Object(rules) = rules else {
                return Err(PiiConfigError::new(doc, "`rules` must be an object"));
            };
            if rules.len() > MAX_RULES {
                return Err(PiiConfigError::new(
                    doc,
                    format!(
                        "{} rules (at most {MAX_RULES} accepted: each compiles at start)",
                        rules.len()
                    ),
                ));
            }
            for (id, rule) in rules {
                defs.insert(
                    id.clone(),
                    parse_rule(rule)
                        .map_err(|m| PiiConfigError::new(PiiConfigPlace::Rule(id.clone()), m))?,
                );
            }
        }
        let mut hash_key = Vec::new();
        if let Some(vars) = top.get("vars") {
            let Value::Object(vars) = vars else {
                return Err(PiiConfigError::new(
                    PiiConfigPlace::Vars,
                    "`vars` must be an object",
                ));
            };
            match vars.get("hashKey") {
                None | Some(Value::Null) => {}
                // HMAC hashes a key longer than SHA-1's 64-byte block first (RFC 2104 2):
                // done once here, not for every match (a 500 KB key cost 20 s per event).
                Some(Value::String(key)) if key.len() > 64 => {
                    hash_key = Sha1::digest(key.as_bytes()).to_vec();
                }
                Some(Value::String(key)) => hash_key = key.as_bytes().to_vec(),
                Some(_) => {
                    return Err(PiiConfigError::new(
                        PiiConfigPlace::Vars,
                        "`hashKey` must be a string",
                    ))
                }
            }
        }
        let mut resolver = Resolver {
            steps: 0,
            defs: &defs,
            names: Vec::new(),
            detectors: HashMap::new(),
        };
        let mut applications = Vec::new();
        if let Some(apps) = top.get("applications") {
            let Value::Object(apps) = apps else {
                return Err(PiiConfigError::new(doc, "`applications` must be an object"));
            };
            for (source, refs) in apps {
                let place = || PiiConfigPlace::Selector(source.clone());
                let selector = Selector::parse(source)
                    .map_err(|e| PiiConfigError::new(place(), e.to_string()))?;
                let Value::Array(refs) = refs else {
                    return Err(PiiConfigError::new(
                        place(),
                        "expected an array of rule names",
                    ));
                };
                let mut leaves = Vec::new();
                for r in refs {
                    let Value::String(r) = r else {
                        return Err(PiiConfigError::new(place(), "rule names must be strings"));
                    };
                    resolver.resolve(r, &mut Vec::new(), None, &mut leaves)?;
                }
                applications.push(Application {
                    required: selector.required_types(),
                    needs: selector.alternatives(),
                    replaces_containers: leaves
                        .iter()
                        .any(|leaf| matches!(*leaf.detector, Detector::Anything)),
                    has_whole_rules: leaves.iter().any(|leaf| {
                        matches!(
                            *leaf.detector,
                            Detector::Anything | Detector::Key(_) | Detector::Password
                        )
                    }),
                    selector,
                    leaves,
                });
            }
        }
        let matches = resolver.names.iter().map(|_| AtomicU64::new(0)).collect();
        let patterns = pattern_set(&mut applications);
        Ok(PiiConfig {
            applications,
            names: resolver.names,
            hash_key,
            dry_run: false,
            matches,
            findings: memory::Findings::default(),
            patterns,
        })
    }

    /// The PiiConfig Sentry derives from a project's legacy data-scrubbing settings.
    pub fn from_datascrubbing_settings(settings: &DataScrubbingSettings) -> PiiConfig {
        // Built from valid parts (parsed selectors, an escaped key pattern).
        PiiConfig::from_value(&legacy::convert(settings)).unwrap_or_else(|_| PiiConfig {
            applications: Vec::new(),
            names: Vec::new(),
            hash_key: Vec::new(),
            dry_run: false,
            matches: Vec::new(),
            findings: memory::Findings::default(),
            patterns: None,
        })
    }

    /// Dry run: what the rules would remove is counted per rule ([`matches`](Self::matches),
    /// and the `pii_config` context of each report), nothing is removed. Default: off.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Whether this is a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Matches by rule name (the name a document gave, `@ip:replace`-style for
    /// built-ins) since the configuration was built: values and parts of values
    /// removed (or, in a dry run, that would have been).
    pub fn matches(&self) -> BTreeMap<String, u64> {
        self.names
            .iter()
            .zip(&self.matches)
            .map(|(name, n)| (name.clone(), n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Applies the rules to an event or transaction as Sentry's JSON (in place, unless a
    /// dry run). Returns the matches of this value by rule name.
    pub fn apply_to_json(&self, event: &mut Value) -> BTreeMap<String, u64> {
        let counts = apply::apply(self, event, false);
        self.record(&counts)
    }

    /// Applies the rules to a structured log as Sentry's JSON of a `log` item (in place,
    /// unless a dry run): the log is `$log`, its `body` and attributes
    /// (`attributes.<name>.value`) are walked; `timestamp`, `level`, `trace_id`,
    /// `severity_number` and the attributes' `type` are never changed. Returns the
    /// matches of this log by rule name.
    pub fn apply_to_log_json(&self, log: &mut Value) -> BTreeMap<String, u64> {
        let counts = apply::apply_log(self, log);
        self.record(&counts)
    }

    /// The rules on one text another sink prints (a console line's message or field, an
    /// OpenTelemetry attribute, the panic line), read as that text in a structured log:
    /// `message` is the log's body (`$log.body`), any other field the attribute of its
    /// name (`$log.attributes.<name>.value`). The text as the rules leave it (empty when
    /// removed); `None` when they keep it or this is a dry run. Not counted: the report
    /// that carries the same text counts it.
    pub(crate) fn apply_to_sink_text(&self, key: &str, text: &str) -> Option<String> {
        if self.dry_run || self.is_empty() {
            return None;
        }
        let body = key == "message";
        let mut log = if body {
            serde_json::json!({ "body": text, "attributes": {} })
        } else {
            serde_json::json!({ "body": "", "attributes": { key: { "value": text, "type": "string" } } })
        };
        if apply::apply_log(self, &mut log).iter().all(|n| *n == 0) {
            return None;
        }
        let value = if body {
            log.get("body")
        } else {
            log.get("attributes")
                .and_then(|a| a.get(key))
                .and_then(|a| a.get("value"))
        };
        match value {
            Some(Value::String(s)) if s == text => None,
            Some(Value::String(s)) => Some(s.clone()),
            _ => Some(String::new()),
        }
    }

    /// [`apply_to_json`](Self::apply_to_json) on the event's own types, with the same
    /// paths and results, without building the whole event's JSON (ADR-031). `Err`: a
    /// part the rules left unfit for its type even with removals to empty values.
    pub(crate) fn apply_to_event(
        &self,
        event: &mut sentry_types::protocol::v7::Event<'static>,
    ) -> Result<BTreeMap<String, u64>, event::Unfit> {
        let counts = event::apply_event(self, event)?;
        Ok(self.record(&counts))
    }

    /// [`apply_to_json`](Self::apply_to_json) for the retry of a value whose result
    /// did not fit its type: removals become empty values, not nulls.
    pub(crate) fn apply_to_json_keeping_types(&self, event: &mut Value) -> BTreeMap<String, u64> {
        let counts = apply::apply(self, event, true);
        self.by_name(&counts)
    }

    fn record(&self, counts: &[u64]) -> BTreeMap<String, u64> {
        for (i, n) in counts.iter().enumerate() {
            if *n > 0 {
                self.matches[i].fetch_add(*n, Ordering::Relaxed);
            }
        }
        self.by_name(counts)
    }

    fn by_name(&self, counts: &[u64]) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (i, n) in counts.iter().enumerate() {
            if *n > 0 {
                *out.entry(self.names[i].clone()).or_default() += n;
            }
        }
        out
    }

    /// Whether the document applies any rule at all.
    pub fn is_empty(&self) -> bool {
        self.applications.iter().all(|a| a.leaves.is_empty())
    }
}

/// Most rules a document may define. Sentry's validator sets no limit; a project's
/// settings hold tens. Each `pattern` compiles a regex at `build`, and thousands took
/// tens of seconds in a debug build (ADR-031).
pub(crate) const MAX_RULES: usize = 512;
/// Deepest nesting of `multiple`/`alias` references (each level is a recursion).
pub(crate) const MAX_RULE_NESTING: usize = 32;
/// Most detectors a document may expand to over all its applications: `multiple` rules
/// listing the same inner rule twice per level double at every level (a chain 40 deep is
/// 2^40), which Sentry's validator accepts.
pub(crate) const MAX_EXPANSION: usize = 10_000;
/// Longest `replace` text, in bytes: every match is replaced by it, so a long one
/// multiplies an event's size by the number of matches.
pub(crate) const MAX_REPLACE_TEXT: usize = 1024;

struct Resolver<'a> {
    steps: usize,
    defs: &'a BTreeMap<String, RuleDef>,
    names: Vec<String>,
    /// Compiled detectors by rule id (or built-in type), compiled once.
    detectors: HashMap<String, Arc<Detector>>,
}

impl Resolver<'_> {
    fn name(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        }
    }

    /// Appends the leaves of rule `id` to `out`. `outer`: the redaction and name of an
    /// enclosing `multiple`/`alias` that override the inner rule's.
    fn resolve(
        &mut self,
        id: &str,
        visiting: &mut Vec<String>,
        outer: Option<(Option<Redaction>, Option<usize>)>,
        out: &mut Vec<Leaf>,
    ) -> Result<(), PiiConfigError> {
        let err = |m: String| PiiConfigError::new(PiiConfigPlace::Rule(id.to_owned()), m);
        self.steps += 1;
        if self.steps > MAX_EXPANSION {
            return Err(err(format!(
                "the rules expand to more than {MAX_EXPANSION} detectors (`multiple` or \
                 `alias` rules listing the same rules again at each level)"
            )));
        }
        if visiting.len() >= MAX_RULE_NESTING {
            return Err(err(format!(
                "`multiple`/`alias` rules nest deeper than {MAX_RULE_NESTING}: {} -> {id}",
                visiting.join(" -> ")
            )));
        }
        if visiting.iter().any(|v| v == id) {
            return Err(err(format!(
                "rules refer to each other in a cycle: {} -> {id}",
                visiting.join(" -> ")
            )));
        }
        let (outer_redaction, outer_name) = outer.unwrap_or((None, None));
        let Some(def) = self.defs.get(id) else {
            return self.resolve_builtin(id, outer_redaction, outer_name, out);
        };
        let own_name = self.name(id);
        let name = outer_name.unwrap_or(own_name);
        let inner: Vec<&String> = match def {
            RuleDef::Multiple { rules, .. } => rules.iter().collect(),
            RuleDef::Alias { rule, .. } => vec![rule],
            _ => Vec::new(),
        };
        match def {
            RuleDef::Multiple {
                hide_inner,
                redaction,
                ..
            }
            | RuleDef::Alias {
                hide_inner,
                redaction,
                ..
            } => {
                let redaction = outer_redaction.or_else(|| redaction.clone());
                let name = if *hide_inner || outer_name.is_some() {
                    Some(name)
                } else {
                    None
                };
                visiting.push(id.to_owned());
                for r in inner {
                    self.resolve(r, visiting, Some((redaction.clone(), name)), out)?;
                }
                visiting.pop();
                Ok(())
            }
            _ => {
                let detector = match self.detectors.get(id) {
                    Some(d) => d.clone(),
                    None => {
                        let d = Arc::new(compile(def).map_err(err)?);
                        self.detectors.insert(id.to_owned(), d.clone());
                        d
                    }
                };
                let redaction = outer_redaction
                    .or_else(|| own_redaction(def).cloned())
                    .unwrap_or_else(|| rules::default_redaction(def_type(def)));
                out.push(Leaf {
                    name,
                    detector,
                    redaction,
                    pattern: None,
                });
                Ok(())
            }
        }
    }

    fn resolve_builtin(
        &mut self,
        id: &str,
        outer_redaction: Option<Redaction>,
        outer_name: Option<usize>,
        out: &mut Vec<Leaf>,
    ) -> Result<(), PiiConfigError> {
        let unknown = || {
            PiiConfigError::new(
                PiiConfigPlace::Rule(id.to_owned()),
                "no rule of this name: not in `rules`, and not a built-in rule (`@ip`, `@email`, `@common`, ... with `:replace`, `:mask`, `:hash`, `:remove` or `:filter`)",
            )
        };
        let Some(builtin) = id.strip_prefix('@') else {
            return Err(unknown());
        };
        let (base, method) = match builtin.split_once(':') {
            Some((base, method)) if rules::METHODS.contains(&method) => (base, method),
            Some(_) => return Err(unknown()),
            None => (builtin, "default"),
        };
        let name = outer_name.unwrap_or_else(|| self.name(id));
        if base == "common" {
            for member in rules::COMMON {
                self.builtin_leaf(member, method, outer_redaction.clone(), name, out);
            }
            return Ok(());
        }
        if !rules::BUILTIN_NAMES.iter().any(|(n, _, _)| *n == base) {
            return Err(unknown());
        }
        self.builtin_leaf(base, method, outer_redaction, name, out);
        Ok(())
    }

    fn builtin_leaf(
        &mut self,
        base: &str,
        method: &str,
        outer_redaction: Option<Redaction>,
        name: usize,
        out: &mut Vec<Leaf>,
    ) {
        let Some((_, rule_type, placeholder)) =
            rules::BUILTIN_NAMES.iter().find(|(n, _, _)| *n == base)
        else {
            return;
        };
        let key = format!("@{base}");
        let detector = match self.detectors.get(&key) {
            Some(d) => d.clone(),
            None => {
                let Some(d) = rules::simple_detector(rule_type) else {
                    return;
                };
                let d = Arc::new(d);
                self.detectors.insert(key, d.clone());
                d
            }
        };
        let redaction = outer_redaction.unwrap_or_else(|| match method {
            "filter" => Redaction::Replace(crate::rules::DEFAULT_REPLACEMENT.to_owned()),
            "replace" => Redaction::Replace((*placeholder).to_owned()),
            "mask" => Redaction::Mask,
            "hash" => Redaction::Hash,
            "remove" => Redaction::Remove,
            _ => rules::default_redaction(rule_type),
        });
        out.push(Leaf {
            name,
            detector,
            redaction,
            pattern: None,
        });
    }
}

/// The set of every distinct `pattern` rule's regex, each leaf of one given its index.
fn pattern_set(applications: &mut [Application]) -> Option<regex::RegexSet> {
    let mut sources: Vec<&str> = Vec::new();
    let mut compiled: Vec<*const Detector> = Vec::new();
    let mut indices = Vec::new();
    for leaf in applications.iter().flat_map(|a| &a.leaves) {
        indices.push(match &*leaf.detector {
            Detector::Pattern { regex, .. } => {
                let ptr = Arc::as_ptr(&leaf.detector);
                Some(compiled.iter().position(|p| *p == ptr).unwrap_or_else(|| {
                    compiled.push(ptr);
                    sources.push(regex.as_str());
                    sources.len() - 1
                }))
            }
            _ => None,
        });
    }
    if sources.is_empty() {
        return None;
    }
    // The same syntax and limit as each rule's own regex, for all of them together.
    let set = regex::RegexSetBuilder::new(&sources)
        .size_limit(1 << 22)
        .build()
        .ok()?;
    for (leaf, index) in applications
        .iter_mut()
        .flat_map(|a| &mut a.leaves)
        .zip(indices)
    {
        leaf.pattern = index;
    }
    Some(set)
}

fn def_type(def: &RuleDef) -> &str {
    match def {
        RuleDef::Simple { rule_type, .. } => rule_type,
        RuleDef::Pattern { .. } => "pattern",
        RuleDef::RedactPair { .. } => "redact_pair",
        RuleDef::Multiple { .. } => "multiple",
        RuleDef::Alias { .. } => "alias",
    }
}

fn own_redaction(def: &RuleDef) -> Option<&Redaction> {
    match def {
        RuleDef::Simple { redaction, .. }
        | RuleDef::Pattern { redaction, .. }
        | RuleDef::RedactPair { redaction, .. }
        | RuleDef::Multiple { redaction, .. }
        | RuleDef::Alias { redaction, .. } => redaction.as_ref(),
    }
}

fn compile(def: &RuleDef) -> Result<Detector, String> {
    let regex = |pattern: &str, what: &str| {
        regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("{what} is not a valid regular expression: {e}"))
    };
    match def {
        RuleDef::Simple { rule_type, .. } => {
            rules::simple_detector(rule_type).ok_or_else(|| format!("unknown type {rule_type:?}"))
        }
        RuleDef::Pattern {
            pattern, groups, ..
        } => {
            let regex = regex(pattern, "`pattern`")?;
            if let Some(g) = groups
                .iter()
                .find(|g| usize::from(**g) >= regex.captures_len())
            {
                return Err(format!(
                    "`replaceGroups` names group {g}, the pattern has {}",
                    regex.captures_len() - 1
                ));
            }
            Ok(Detector::Pattern {
                regex,
                groups: groups.clone(),
            })
        }
        RuleDef::RedactPair { key_pattern, .. } => {
            // Keys are matched case-insensitively, like Sentry's header names.
            Ok(Detector::Key(regex(
                &format!("(?i){key_pattern}"),
                "`keyPattern`",
            )?))
        }
        RuleDef::Multiple { .. } | RuleDef::Alias { .. } => Err("not a leaf rule".to_owned()),
    }
}

fn parse_rule(rule: &Value) -> Result<RuleDef, String> {
    let Value::Object(rule) = rule else {
        return Err("expected an object".to_owned());
    };
    let rule_type = match rule.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err("`type` must be a string".to_owned()),
        None => return Err("missing field `type`".to_owned()),
    };
    if !rules::RULE_TYPES.contains(&rule_type) {
        return Err(format!(
            "unknown type {rule_type:?}, expected one of {}",
            rules::RULE_TYPES.join(", ")
        ));
    }
    let redaction = match rule.get("redaction") {
        None => None,
        Some(r) => parse_redaction(r)?,
    };
    let string = |field: &str| match rule.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{field}` must be a string")),
        None => Err(format!("missing field `{field}`")),
    };
    let hide_inner = || match rule.get("hide_inner").or_else(|| rule.get("hideInner")) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err("`hide_inner` must be a boolean".to_owned()),
    };
    Ok(match rule_type {
        "pattern" => {
            let groups = match rule.get("replaceGroups") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(groups)) => groups
                    .iter()
                    .map(|g| {
                        g.as_u64()
                            .and_then(|g| u8::try_from(g).ok())
                            .ok_or_else(|| {
                                "`replaceGroups` must hold group numbers 0 to 255".to_owned()
                            })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`replaceGroups` must be an array".to_owned()),
            };
            RuleDef::Pattern {
                pattern: string("pattern")?,
                groups,
                redaction,
            }
        }
        "redact_pair" | "redactPair" => RuleDef::RedactPair {
            key_pattern: string("keyPattern")?,
            redaction,
        },
        "multiple" => {
            let rules = match rule.get("rules") {
                Some(Value::Array(rules)) => rules
                    .iter()
                    .map(|r| {
                        r.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| "`rules` must hold rule names (strings)".to_owned())
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`rules` must be an array".to_owned()),
                None => return Err("missing field `rules`".to_owned()),
            };
            RuleDef::Multiple {
                rules,
                hide_inner: hide_inner()?,
                redaction,
            }
        }
        "alias" => RuleDef::Alias {
            rule: string("rule")?,
            hide_inner: hide_inner()?,
            redaction,
        },
        other => RuleDef::Simple {
            rule_type: other.to_owned(),
            redaction,
        },
    })
}

/// `None`: the rule type's default method.
fn parse_redaction(value: &Value) -> Result<Option<Redaction>, String> {
    let Value::Object(r) = value else {
        return Err("`redaction` must be an object".to_owned());
    };
    let method = match r.get("method") {
        Some(Value::String(m)) => m.as_str(),
        Some(_) => return Err("`redaction.method` must be a string".to_owned()),
        None => return Err("missing field `redaction.method`".to_owned()),
    };
    Ok(Some(match method {
        "remove" => Redaction::Remove,
        "mask" => Redaction::Mask,
        "hash" => Redaction::Hash,
        "replace" => match r.get("text") {
            None => Redaction::Replace(crate::rules::DEFAULT_REPLACEMENT.to_owned()),
            Some(Value::String(t)) if t.len() > MAX_REPLACE_TEXT => {
                return Err(format!(
                    "`redaction.text` is {} bytes long (at most {MAX_REPLACE_TEXT} accepted)",
                    t.len()
                ))
            }
            Some(Value::String(t)) => Redaction::Replace(t.clone()),
            Some(_) => return Err("`redaction.text` must be a string".to_owned()),
        },
        // `default` and methods this version does not know: the rule type's default
        // (Sentry's validator accepts any method name).
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Documents Sentry's validator accepts but that would take minutes, memory or the
    /// stack at `build` or per event: refused with an error naming the place, at once.
    #[test]
    fn hostile_documents_are_refused_before_they_cost_anything() {
        let doubling = |depth: usize| {
            let mut rules = serde_json::Map::new();
            for i in 0..depth {
                rules.insert(
                    format!("r{i}"),
                    json!({"type": "multiple", "rules": [format!("r{}", i + 1), format!("r{}", i + 1)]}),
                );
            }
            rules.insert(
                format!("r{depth}"),
                json!({"type": "pattern", "pattern": "x"}),
            );
            json!({"rules": rules, "applications": {"$string": ["r0"]}})
        };
        // 2^12 leaves fit; 2^14 do not; 40 levels are refused as too deep first.
        assert!(PiiConfig::from_value(&doubling(12)).is_ok());
        let err = PiiConfig::from_value(&doubling(14)).expect_err("exponential");
        assert!(err.message().contains("expand to more than"), "{err}");
        let err = PiiConfig::from_value(&doubling(40)).expect_err("exponential");
        assert!(err.message().contains("nest deeper than"), "{err}");
        for depth in [MAX_RULE_NESTING + 1, MAX_RULES - 1] {
            let mut rules = serde_json::Map::new();
            for i in 0..depth {
                rules.insert(
                    format!("a{i}"),
                    json!({"type": "alias", "rule": format!("a{}", i + 1)}),
                );
            }
            rules.insert(format!("a{depth}"), json!({"type": "email"}));
            let doc = json!({"rules": rules, "applications": {"$string": ["a0"]}});
            let err = PiiConfig::from_value(&doc).expect_err("too deep");
            assert!(err.message().contains("nest deeper than"), "{err}");
        }
        let mut many = serde_json::Map::new();
        for i in 0..=MAX_RULES {
            many.insert(format!("p{i}"), json!({"type": "pattern", "pattern": "x"}));
        }
        let err = PiiConfig::from_value(&json!({"rules": many})).expect_err("too many");
        assert!(err.message().contains("rules (at most"), "{err}");
        let long = "r".repeat(MAX_REPLACE_TEXT + 1);
        let doc = json!({"rules": {"r": {"type": "email", "redaction": {"method": "replace", "text": long}}}});
        let err = PiiConfig::from_value(&doc).expect_err("long text");
        assert_eq!(err.place(), &PiiConfigPlace::Rule("r".to_owned()));
    }

    #[test]
    fn a_refused_document_names_the_rule_or_selector() {
        let err = PiiConfig::from_json(
            r#"{"rules":{"ids":{"type":"pattern","pattern":"[0-9"}},"applications":{"$string":["ids"]}}"#,
        )
        .expect_err("bad pattern");
        assert_eq!(err.place(), &PiiConfigPlace::Rule("ids".to_owned()));
        let err = PiiConfig::from_json(r#"{"applications":{"$string && (extra":["@ip"]}}"#)
            .expect_err("bad selector");
        assert_eq!(
            err.place(),
            &PiiConfigPlace::Selector("$string && (extra".to_owned())
        );
        let err = PiiConfig::from_json(r#"{"applications":{"$string":["@emial"]}}"#)
            .expect_err("unknown rule");
        assert!(err.to_string().contains("\"@emial\""), "{err}");
        let err = PiiConfig::from_json(r#"{"vars":{"hashKey":1}}"#).expect_err("bad vars");
        assert_eq!(err.place(), &PiiConfigPlace::Vars);
    }

    #[test]
    fn a_long_hash_key_is_hashed_once_and_hashes_as_hmac_does() {
        let key = "k".repeat(500_000);
        let doc = format!(
            r#"{{"rules":{{"ids":{{"type":"pattern","pattern":"ORD-[0-9]+","redaction":{{"method":"hash"}}}}}},
                "applications":{{"$string":["ids"]}},"vars":{{"hashKey":"{key}"}}}}"#
        );
        let config = PiiConfig::from_json(&doc).expect("valid");
        assert_eq!(config.hash_key.len(), 20, "reduced at build time");
        let mut event = serde_json::json!({"message": "ORD-1 ORD-2"});
        config.apply_to_json(&mut event);
        let hashed = |text: &str| rules::hmac_sha1_hex(key.as_bytes(), text.as_bytes());
        assert_eq!(
            event["message"],
            format!("{} {}", hashed("ORD-1"), hashed("ORD-2"))
        );
    }

    #[test]
    fn a_dry_run_counts_per_rule_and_removes_nothing() {
        let doc = r#"{"rules":{"orders":{"type":"pattern","pattern":"ORD-[0-9]+"}},
                      "applications":{"$string":["@email","orders"]}}"#;
        let event = json!({"extra": {"a": "ORD-1 and ORD-2 for x@example.com"}});
        let dry = PiiConfig::from_json(doc).expect("valid").dry_run(true);
        let mut seen = event.clone();
        let counts = dry.apply_to_json(&mut seen);
        assert_eq!(seen, event);
        assert_eq!(counts.get("orders"), Some(&2));
        assert_eq!(counts.get("@email"), Some(&1));
        assert_eq!(dry.matches(), counts);
        let enforced = PiiConfig::from_json(doc).expect("valid");
        let mut scrubbed = event.clone();
        enforced.apply_to_json(&mut scrubbed);
        assert_eq!(scrubbed["extra"]["a"], " and  for [email]");
    }

    #[test]
    fn legacy_settings_become_rules() {
        let config =
            PiiConfig::from_datascrubbing_settings(&DataScrubbingSettings::from_json_value(
                &json!({"scrubData": true, "scrubDefaults": false, "sensitiveFields": ["order"],
                    "excludeFields": ["safe"], "scrubIpAddresses": true}),
            ));
        let mut event = json!({"extra": {"order_no": "A1", "safe": "10.0.0.1", "b": "at 10.0.0.2"},
                                "user": {"ip_address": "10.0.0.3"}});
        config.apply_to_json(&mut event);
        assert_eq!(event["extra"]["order_no"], "[Filtered]");
        assert_eq!(event["extra"]["safe"], "10.0.0.1");
        assert_eq!(event["extra"]["b"], "at [ip]");
        assert!(event["user"]["ip_address"].is_null());
    }
}
