//! The walk over an event (Sentry's JSON): each value with its path and types, the
//! applications whose selector matches it, their rules applied.
//!
//! Paths and types follow Sentry's event schema as documented: the event is `$event`,
//! `exception.values.N` `$exception`, `threads.values.N` `$thread`,
//! `breadcrumbs.values.N` `$breadcrumb`, `spans.N` `$span`, a `stacktrace` `$stacktrace`
//! and its `frames.N` `$frame`, `request` `$request`, `user` `$user`, `logentry`
//! `$logentry` (the event's `message` is walked as `logentry.formatted`, where Sentry
//! keeps it), `sdk` `$sdk`, timestamps `$datetime`; other values by their JSON kind.
//! The request's `query_string` and `cookies` are walked as their pairs (key = name)
//! and `data` holding JSON as that JSON, as Sentry's engine sees them.
//!
//! A structured log is `$log`: its `body`, and each attribute as an object
//! (`attributes.<name>.value`, the shape of Sentry's `log` item), the way Sentry
//! applies advanced rules to logs. Key rules (`redact_pair`, `password`) look at an
//! attribute's name for its value (and at `value`, the key Sentry's engine sees).

use serde_json::{Map, Value};

use super::rules::{self, Detector, Redaction};
use super::selector::{types, Segment};
use super::PiiConfig;

/// Nesting walked; deeper values are left to the crate's own policy (which replaces
/// them whole beyond its own depth limit).
const MAX_DEPTH: usize = 64;

/// What a whole-value rule did.
enum Whole {
    /// Not a whole-value rule.
    TextRule,
    /// Nothing changed (no match, or a dry run).
    NoMatch,
    Replaced,
}

struct Walk<'a> {
    config: &'a PiiConfig,
    path: Vec<Segment>,
    /// Matches by rule name index.
    counts: Vec<u64>,
    /// Removals leave an empty value of the same kind instead of null.
    keep_types: bool,
    ranges: Vec<(usize, usize)>,
}

/// Applies `config` to `event`; returns the matches by rule name index.
pub(super) fn apply(config: &PiiConfig, event: &mut Value, keep_types: bool) -> Vec<u64> {
    apply_at(config, event, keep_types, types::EVENT)
}

/// Applies `config` to a structured log (Sentry's JSON of a `log` item: `body`,
/// `attributes.<name>.value`); the log is `$log`, as an event is `$event`.
pub(super) fn apply_log(config: &PiiConfig, log: &mut Value) -> Vec<u64> {
    apply_at(config, log, false, types::LOG)
}

fn apply_at(config: &PiiConfig, item: &mut Value, keep_types: bool, root: u32) -> Vec<u64> {
    let mut walk = Walk {
        config,
        path: vec![Segment {
            key: String::new(),
            types: root,
        }],
        counts: vec![0; config.names.len()],
        keep_types,
        ranges: Vec::new(),
    };
    if config.applications.is_empty() {
        return walk.counts;
    }
    if let Value::Object(map) = item {
        for (key, child) in map.iter_mut() {
            if is_protected(&walk.path, key) {
                continue;
            }
            if root == types::EVENT && key == "message" && child.is_string() {
                // Sentry moves a plain message to `logentry.formatted`.
                walk.path.push(Segment {
                    key: "logentry".to_owned(),
                    types: types::LOGENTRY,
                });
                walk.path.push(Segment {
                    key: "formatted".to_owned(),
                    types: types::MESSAGE | types::STRING,
                });
                walk.node(child);
                walk.path.truncate(1);
                continue;
            }
            walk.child(key, child);
        }
    }
    walk.counts
}

/// Parts that identify or type the event rather than describe it: never changed
/// (ids, timestamps, levels, the tag of a context's type), so the result stays an
/// event of its type.
fn is_protected(path: &[Segment], key: &str) -> bool {
    let depth = path.len();
    if depth == 1 && path[0].types & types::LOG != 0 {
        return matches!(key, "timestamp" | "level" | "severity_number");
    }
    // A log attribute's `type` names the kind of its `value`.
    if depth == 3 && path[0].types & types::LOG != 0 && path[1].key == "attributes" {
        return key == "type";
    }
    if depth == 1 {
        return matches!(
            key,
            "event_id"
                | "timestamp"
                | "start_timestamp"
                | "level"
                | "platform"
                | "type"
                | "sdk"
                | "debug_meta"
                | "version"
        );
    }
    if matches!(
        key,
        "trace_id" | "span_id" | "parent_span_id" | "same_process_as_parent"
    ) {
        return true;
    }
    // `contexts.<name>.type`, `breadcrumbs.values.N.type` and `.level`.
    (key == "type" && depth == 3 && path[1].key == "contexts")
        || (depth >= 4
            && path[depth - 1].types & types::BREADCRUMB != 0
            && matches!(key, "type" | "level" | "timestamp"))
        || (depth >= 2 && path[depth - 1].types & types::SPAN != 0 && key == "timestamp")
}

/// The types of `child` under `key` at the end of `path`.
fn child_types(path: &[Segment], key: &str, child: &Value) -> u32 {
    let depth = path.len();
    let parent = &path[depth - 1];
    let kind = match child {
        Value::String(_) => types::STRING,
        Value::Number(_) => types::NUMBER,
        Value::Bool(_) => types::BOOLEAN,
        Value::Array(_) => types::ARRAY,
        Value::Object(_) => types::OBJECT,
        Value::Null => 0,
    };
    if parent.types & types::EVENT != 0 {
        match key {
            "request" => return types::REQUEST,
            "user" => return types::USER,
            "logentry" => return types::LOGENTRY,
            "sdk" => return types::SDK,
            "stacktrace" => return types::STACKTRACE,
            "timestamp" | "start_timestamp" => return types::DATETIME,
            _ => {}
        }
    }
    let is_index = key.bytes().all(|b| b.is_ascii_digit());
    if is_index && depth >= 3 && parent.key == "values" && path[depth - 3].types & types::EVENT != 0
    {
        match path[depth - 2].key.as_str() {
            "exception" => return types::EXCEPTION,
            "threads" => return types::THREAD,
            "breadcrumbs" => return types::BREADCRUMB,
            _ => {}
        }
    }
    if is_index && depth >= 2 && parent.key == "spans" && path[depth - 2].types & types::EVENT != 0
    {
        return types::SPAN;
    }
    if matches!(key, "stacktrace" | "raw_stacktrace")
        && parent.types & (types::EXCEPTION | types::THREAD) != 0
    {
        return types::STACKTRACE;
    }
    if is_index
        && depth >= 2
        && parent.key == "frames"
        && path[depth - 2].types & types::STACKTRACE != 0
    {
        return types::FRAME;
    }
    // Sentry keeps these as lists of pairs or parsed JSON: objects and arrays to its
    // `$object`/`$array`, whatever the crate's type holds them as.
    if (parent.types & types::REQUEST != 0
        && matches!(key, "query_string" | "cookies" | "data" | "headers" | "env"))
        || (key == "tags" && parent.types & types::EVENT != 0)
    {
        return kind | types::OBJECT | types::ARRAY;
    }
    if parent.types & types::LOGENTRY != 0 && matches!(key, "message" | "formatted") {
        return types::MESSAGE | kind;
    }
    if key == "timestamp" && parent.types & (types::BREADCRUMB | types::SPAN) != 0 {
        return types::DATETIME;
    }
    kind
}

impl Walk<'_> {
    fn child(&mut self, key: &str, child: &mut Value) {
        if self.path.len() > MAX_DEPTH || is_protected(&self.path, key) {
            return;
        }
        let types = child_types(&self.path, key, child);
        self.path.push(Segment {
            key: key.to_owned(),
            types,
        });
        self.node(child);
        self.path.pop();
    }

    /// The value at the end of `self.path`. Whole-value rules first; then the matches
    /// of every text rule, all found in the same text (so one rule's replacement does
    /// not hide another's match, as with an IMEI inside a UUID), overlapping ones
    /// joined.
    fn node(&mut self, value: &mut Value) {
        let config = self.config;
        let mut found: Vec<(usize, usize, &super::Leaf)> = Vec::new();
        // Counted once for the text rules of every application (found on the same text).
        let mut shape = None;
        for app in &config.applications {
            if app.leaves.is_empty() || !app.selector.matches(&self.path) {
                continue;
            }
            for leaf in &app.leaves {
                if value.is_null() {
                    return;
                }
                match self.apply_whole(leaf.name, &leaf.detector, &leaf.redaction, value) {
                    Whole::Replaced => {
                        // The text the matches were found in is gone.
                        found.clear();
                        continue;
                    }
                    Whole::NoMatch => continue,
                    Whole::TextRule => {}
                }
                if let Value::String(text) = &*value {
                    self.ranges.clear();
                    let shape = shape.get_or_insert_with(|| rules::Shape::of(text));
                    rules::find(&leaf.detector, text, shape, &mut self.ranges);
                    found.extend(self.ranges.iter().map(|&(s, e)| (s, e, leaf)));
                }
            }
        }
        if !found.is_empty() {
            if let Value::String(text) = value {
                self.redact_ranges(text, found);
            }
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    self.child(key, child);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    self.child(&i.to_string(), child);
                }
            }
            Value::String(text) => self.string_parts(text),
            _ => {}
        }
    }

    /// The key a key rule looks at: the value's own, or its array's for list items; a
    /// log attribute's name for its `value`.
    fn key(&self) -> &str {
        if let Some(name) = self.log_attribute() {
            return name;
        }
        self.path
            .iter()
            .rev()
            .map(|s| s.key.as_str())
            .find(|k| !k.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or("")
    }

    /// The attribute's name when at a log attribute's `value`.
    fn log_attribute(&self) -> Option<&str> {
        match self.path.as_slice() {
            [root, attributes, name, value]
                if root.types & types::LOG != 0
                    && attributes.key == "attributes"
                    && value.key == "value" =>
            {
                Some(&name.key)
            }
            _ => None,
        }
    }

    /// Applies a whole-value rule.
    fn apply_whole(
        &mut self,
        name: usize,
        detector: &Detector,
        redaction: &Redaction,
        value: &mut Value,
    ) -> Whole {
        let container = value.is_object() || value.is_array();
        let whole = match detector {
            Detector::Anything => true,
            // A key rule looks at the values under the key, not the container.
            // Sentry's engine also removes a value whose text matches the key pattern.
            Detector::Key(keys) => {
                !container
                    && (keys.is_match(self.key())
                        || (self.log_attribute().is_some() && keys.is_match("value"))
                        || value.as_str().is_some_and(|v| keys.is_match(v)))
            }
            Detector::Password => !container && rules::password_matches(self.key(), value.as_str()),
            _ => return Whole::TextRule,
        };
        if !whole {
            return Whole::NoMatch;
        }
        self.counts[name] += 1;
        if self.config.dry_run {
            return Whole::NoMatch;
        }
        let replacement = match &*value {
            Value::String(text) => rules::redacted(redaction, text, &self.config.hash_key),
            _ => None,
        };
        match replacement {
            Some(new) => *value = Value::String(new),
            None => self.remove(value),
        }
        Whole::Replaced
    }

    /// Replaces the matches of text rules; of overlapping matches, the longest one's
    /// method is used for the joined range.
    fn redact_ranges(&mut self, text: &mut String, mut found: Vec<(usize, usize, &super::Leaf)>) {
        found.sort_unstable_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        let mut merged: Vec<(usize, usize, &super::Leaf)> = Vec::with_capacity(found.len());
        for (s, e, leaf) in found {
            self.counts[leaf.name] += 1;
            match merged.last_mut() {
                Some(last) if s < last.1 => {
                    if e - s > last.1 - last.0 {
                        last.2 = leaf;
                    }
                    last.1 = last.1.max(e);
                }
                _ => merged.push((s, e, leaf)),
            }
        }
        if self.config.dry_run {
            return;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (s, e, leaf) in merged {
            out.push_str(&text[at..s]);
            if let Some(new) = rules::redacted(&leaf.redaction, &text[s..e], &self.config.hash_key)
            {
                out.push_str(&new);
            }
            at = e;
        }
        out.push_str(&text[at..]);
        *text = out;
    }

    fn remove(&self, value: &mut Value) {
        *value = if self.keep_types {
            match value {
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Object(_) => Value::Object(Map::new()),
                Value::Number(_) => Value::from(0),
                Value::Bool(_) => Value::Bool(false),
                Value::Null => Value::Null,
            }
        } else {
            Value::Null
        };
    }

    /// The structure Sentry's engine sees inside the request's strings.
    fn string_parts(&mut self, text: &mut String) {
        let depth = self.path.len();
        if depth != 3 || self.path[1].types & types::REQUEST == 0 {
            return;
        }
        match self.path[2].key.as_str() {
            "query_string" => self.pairs(text, '&', "&"),
            "cookies" => self.pairs(text, ';', "; "),
            "data" => {
                let Ok(mut json) = serde_json::from_str::<Value>(text) else {
                    return;
                };
                if !(json.is_object() || json.is_array()) {
                    return;
                }
                let before = json.clone();
                match &mut json {
                    Value::Object(map) => {
                        for (key, child) in map.iter_mut() {
                            self.child(key, child);
                        }
                    }
                    Value::Array(items) => {
                        for (i, child) in items.iter_mut().enumerate() {
                            self.child(&i.to_string(), child);
                        }
                    }
                    _ => {}
                }
                if json != before {
                    if let Ok(new) = serde_json::to_string(&json) {
                        *text = new;
                    }
                }
            }
            _ => {}
        }
    }

    /// A `name=value` list: each value walked under its name.
    fn pairs(&mut self, text: &mut String, separator: char, joiner: &str) {
        let mut changed = false;
        let mut parts = Vec::new();
        for part in text.split(separator) {
            let part = part.trim_start();
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let mut value = Value::String(value.to_owned());
            let before = value.clone();
            self.child(name, &mut value);
            changed |= value != before;
            parts.push((name.to_owned(), value));
        }
        if !changed {
            return;
        }
        *text = parts
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(v) => format!("{name}={v}"),
                _ => format!("{name}="),
            })
            .collect::<Vec<_>>()
            .join(joiner);
    }
}
