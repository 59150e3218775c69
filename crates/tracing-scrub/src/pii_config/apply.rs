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

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::memory;
use super::rules::{self, Detector, Redaction};
use super::selector::{key_bit, types, Segment};
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

pub(super) struct Walk<'a> {
    pub(super) config: &'a PiiConfig,
    pub(super) path: Vec<Segment>,
    /// Matches by rule name index.
    pub(super) counts: Vec<u64>,
    /// Removals leave an empty value of the same kind instead of null.
    pub(super) keep_types: bool,
    /// Whether a value was changed since this was last cleared (a typed part is read
    /// back from its JSON only then).
    pub(super) changed: bool,
    ranges: Vec<(usize, usize)>,
    /// What the built-in detectors found in the text at hand, by detector (each
    /// searches a text once, however many applications name it), and which searched.
    builtin_ranges: Vec<(rules::Builtin, usize, usize)>,
    builtins_searched: u32,
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
    let mut walk = Walk::new(config, root, keep_types);
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
                walk.message(child);
                continue;
            }
            walk.child(Cow::Owned(key.clone()), child);
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

/// The `$string`, `$number`, ... type of a JSON value.
pub(super) fn kind_of(value: &Value) -> u32 {
    match value {
        Value::String(_) => types::STRING,
        Value::Number(_) => types::NUMBER,
        Value::Bool(_) => types::BOOLEAN,
        Value::Array(_) => types::ARRAY,
        Value::Object(_) => types::OBJECT,
        Value::Null => 0,
    }
}

/// An array index as a path key: the small ones without an allocation.
pub(super) fn index_key(i: usize) -> Cow<'static, str> {
    const SMALL: [&str; 32] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    ];
    SMALL
        .get(i)
        .map_or_else(|| Cow::Owned(i.to_string()), |k| Cow::Borrowed(*k))
}

/// The types of a value of JSON kind `kind` under `key` at the end of `path`.
pub(super) fn child_types(path: &[Segment], key: &str, kind: u32) -> u32 {
    let depth = path.len();
    let parent = &path[depth - 1];
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
        match &*path[depth - 2].key {
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

impl<'a> Walk<'a> {
    pub(super) fn new(config: &'a PiiConfig, root: u32, keep_types: bool) -> Self {
        Walk {
            config,
            path: {
                // Deep enough for an event's paths without growing.
                let mut path = Vec::with_capacity(16);
                path.push(Segment {
                    key: Cow::Borrowed(""),
                    types: root,
                    seen: root,
                    keys: key_bit(""),
                });
                path
            },
            counts: vec![0; config.names.len()],
            keep_types,
            changed: false,
            ranges: Vec::new(),
            builtin_ranges: Vec::new(),
            builtins_searched: 0,
        }
    }

    /// The event's plain `message`, walked where Sentry keeps it: `logentry.formatted`.
    pub(super) fn message(&mut self, message: &mut Value) {
        let parent = &self.path[self.path.len() - 1];
        let seen = parent.seen | types::LOGENTRY;
        let keys = parent.keys | key_bit("logentry");
        self.path.push(Segment {
            key: Cow::Borrowed("logentry"),
            types: types::LOGENTRY,
            seen,
            keys,
        });
        self.path.push(Segment {
            key: Cow::Borrowed("formatted"),
            types: types::MESSAGE | types::STRING,
            seen: seen | types::MESSAGE | types::STRING,
            keys: keys | key_bit("formatted"),
        });
        self.node(message);
        self.path.truncate(self.path.len() - 2);
    }

    /// Enters `key` (a value of JSON kind `kind`) unless it is protected or too deep;
    /// whether it did (then [`leave`](Self::leave) after).
    pub(super) fn enter(&mut self, key: Cow<'static, str>, kind: u32) -> bool {
        if self.path.len() > MAX_DEPTH || is_protected(&self.path, &key) {
            return false;
        }
        let types = child_types(&self.path, &key, kind);
        let parent = &self.path[self.path.len() - 1];
        let (seen, keys) = (parent.seen | types, parent.keys | key_bit(&key));
        self.path.push(Segment {
            key,
            types,
            seen,
            keys,
        });
        true
    }

    pub(super) fn leave(&mut self) {
        self.path.pop();
    }

    pub(super) fn child(&mut self, key: Cow<'static, str>, child: &mut Value) {
        if self.enter(key, kind_of(child)) {
            self.node(child);
            self.leave();
        }
    }

    /// Whether a rule that replaces containers whole (`anything`) is selected at the
    /// end of the path: a typed container is then walked as its JSON.
    pub(super) fn container_selected(&self) -> bool {
        self.config
            .applications
            .iter()
            .any(|app| app.replaces_containers && self.selects(app))
    }

    /// Whether `app`'s selector selects the end of the path.
    pub(super) fn selects(&self, app: &super::Application) -> bool {
        let last = &self.path[self.path.len() - 1];
        last.seen & app.required == app.required
            && app.needs.iter().any(|n| n.met_by(Some(last)))
            && app.selector.matches(&self.path)
    }

    /// The value at the end of `self.path`. Whole-value rules first; then the matches
    /// of every text rule, all found in the same text (so one rule's replacement does
    /// not hide another's match, as with an IMEI inside a UUID), overlapping ones
    /// joined.
    pub(super) fn node(&mut self, value: &mut Value) {
        let config = self.config;
        // Matches of text rules: byte range, index of the application and of the rule.
        let mut found: Vec<memory::Found> = Vec::new();
        // Counted once for the text rules of every application (found on the same text).
        let mut shape = None;
        // The applications selecting this value: as a bit set (the key of the memory of
        // findings) when there are at most 64.
        let mut selected = 0u64;
        for (i, app) in config.applications.iter().enumerate() {
            if app.leaves.is_empty() || !self.selects(app) {
                continue;
            }
            selected |= 1u64.checked_shl(i as u32).unwrap_or(0);
        }
        let remember = config.applications.len() <= 64;
        if selected == 0 && remember {
            return self.children(value);
        }
        // Whether what the text rules of these applications find in the text is
        // remembered (asked once; not for a text a whole-value rule replaced).
        let mut remembered = None;
        let mut replaced = false;
        // Which `pattern` rules can match the text at all (one search for all of them).
        // (`None` inside: none can, the common case, told by a search that stops early.)
        let mut patterns: Option<Option<regex::SetMatches>> = None;
        self.builtins_searched = 0;
        for (i, app) in config.applications.iter().enumerate() {
            let bit = 1u64.checked_shl(i as u32).unwrap_or(0);
            if app.leaves.is_empty()
                || (bit != 0 && selected & bit == 0)
                || (bit == 0 && !self.selects(app))
            {
                continue;
            }
            for (l, leaf) in app.leaves.iter().enumerate() {
                if value.is_null() {
                    return;
                }
                if matches!(
                    *leaf.detector,
                    Detector::Anything | Detector::Key(_) | Detector::Password
                ) {
                    match self.apply_whole(leaf.name, &leaf.detector, &leaf.redaction, value) {
                        Whole::Replaced => {
                            // The text the matches were found in is gone.
                            found.clear();
                            shape = None;
                            patterns = None;
                            self.builtins_searched = 0;
                            replaced = true;
                            continue;
                        }
                        Whole::NoMatch => continue,
                        Whole::TextRule => {}
                    }
                }
                // A text rule: nothing to do on other values, nor on a text whose
                // matches are known; an application of text rules alone is done then.
                let Value::String(text) = &*value else {
                    if app.has_whole_rules {
                        continue;
                    }
                    break;
                };
                {
                    if !replaced && remember {
                        let known = *remembered
                            .get_or_insert_with(|| config.findings.get(selected, text, &mut found));
                        if known {
                            // Every text rule's matches are in `found` already.
                            if app.has_whole_rules {
                                continue;
                            }
                            break;
                        }
                    }
                    if let (Some(index), Some(set)) = (leaf.pattern, &config.patterns) {
                        let can = patterns
                            .get_or_insert_with(|| set.is_match(text).then(|| set.matches(text)));
                        if !can.as_ref().is_some_and(|m| m.matched(index)) {
                            continue;
                        }
                    }
                    // (Indices of at most `u32::MAX` applications and rules.)
                    let (a, l) = (i as u32, l as u32);
                    let shape = shape.get_or_insert_with(|| rules::Shape::of(text));
                    let at = |(s, e): (usize, usize)| (s, e, a, l);
                    if let Detector::Builtin(builtin) = *leaf.detector {
                        let bit = 1u32 << builtin as u32;
                        if self.builtins_searched & bit == 0 {
                            self.builtins_searched |= bit;
                            self.ranges.clear();
                            rules::find(&leaf.detector, text, shape, &mut self.ranges);
                            self.builtin_ranges.retain(|&(b, _, _)| b != builtin);
                            self.builtin_ranges
                                .extend(self.ranges.iter().map(|&(s, e)| (builtin, s, e)));
                        }
                        found.extend(
                            self.builtin_ranges
                                .iter()
                                .filter(|&&(b, _, _)| b == builtin)
                                .map(|&(_, s, e)| at((s, e))),
                        );
                        continue;
                    }
                    self.ranges.clear();
                    rules::find(&leaf.detector, text, shape, &mut self.ranges);
                    found.extend(self.ranges.iter().map(|&r| at(r)));
                }
            }
        }
        if !replaced && remembered == Some(false) {
            if let Value::String(text) = &*value {
                config.findings.insert(selected, text, &found);
            }
        }
        if !found.is_empty() {
            if let Value::String(text) = value {
                self.redact_ranges(text, found);
            }
        }
        self.children(value);
    }

    fn children(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    self.child(Cow::Owned(key.clone()), child);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    self.child(index_key(i), child);
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
            .map(|s| &*s.key)
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
                Some(&*name.key)
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
        self.changed = true;
        Whole::Replaced
    }

    /// Replaces the matches of text rules; of overlapping matches, the longest one's
    /// method is used for the joined range.
    fn redact_ranges(&mut self, text: &mut String, mut found: Vec<memory::Found>) {
        found.sort_unstable_by_key(|&(s, e, _, _)| (s, std::cmp::Reverse(e)));
        let config = self.config;
        let mut merged: Vec<(usize, usize, &super::Leaf)> = Vec::with_capacity(found.len());
        for (s, e, a, l) in found {
            let leaf = &config.applications[a as usize].leaves[l as usize];
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
        self.changed = true;
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
        match &*self.path[2].key {
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
                            self.child(Cow::Owned(key.clone()), child);
                        }
                    }
                    Value::Array(items) => {
                        for (i, child) in items.iter_mut().enumerate() {
                            self.child(index_key(i), child);
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
            self.child(Cow::Owned(name.to_owned()), &mut value);
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
