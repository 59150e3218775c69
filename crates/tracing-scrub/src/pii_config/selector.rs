//! Selectors of a PiiConfig's `applications`: which values of an event a rule applies to.
//!
//! Grammar (from Sentry's "Advanced Data Scrubbing" documentation; where it is silent,
//! from what Sentry's validator accepts, see ADR-031):
//!
//! ```text
//! selector := and (("||" | "|") and)*
//! and      := unary (("&&" | "&") unary)*
//! unary    := "!" primary | primary
//! primary  := "(" selector ")" | path
//! path     := item ("." item)*          at most one `**`; a lone `*` is refused
//! item     := "**" | "*" | "$" type | key | "'" quoted "'"   (`''` is a quote)
//! key      := [A-Za-z0-9_] [A-Za-z0-9_-]*
//! ```
//!
//! A path matches the *end* of a value's path (`extra.foo` also matches
//! `contexts.c.extra.foo`), the way Sentry's engine does; `$event.extra.foo` anchors it
//! at the event. Keys match without regard to ASCII case (header names).

use std::fmt;

/// The value types a `$type` item names (bit set).
pub(crate) mod types {
    pub(crate) const STRING: u32 = 1 << 0;
    pub(crate) const NUMBER: u32 = 1 << 1;
    pub(crate) const BOOLEAN: u32 = 1 << 2;
    pub(crate) const DATETIME: u32 = 1 << 3;
    pub(crate) const ARRAY: u32 = 1 << 4;
    pub(crate) const OBJECT: u32 = 1 << 5;
    pub(crate) const EVENT: u32 = 1 << 6;
    pub(crate) const EXCEPTION: u32 = 1 << 7;
    pub(crate) const STACKTRACE: u32 = 1 << 8;
    pub(crate) const FRAME: u32 = 1 << 9;
    pub(crate) const REQUEST: u32 = 1 << 10;
    pub(crate) const USER: u32 = 1 << 11;
    pub(crate) const LOGENTRY: u32 = 1 << 12;
    pub(crate) const MESSAGE: u32 = 1 << 13;
    pub(crate) const THREAD: u32 = 1 << 14;
    pub(crate) const BREADCRUMB: u32 = 1 << 15;
    pub(crate) const SPAN: u32 = 1 << 16;
    pub(crate) const SDK: u32 = 1 << 17;
    /// Replays, minidumps, attachments and binary data: never in an event,
    /// transaction or log.
    pub(crate) const NOT_IN_EVENTS: u32 = 1 << 18;
    /// A structured log (the root of a `log` item, as `$event` is of an event).
    pub(crate) const LOG: u32 = 1 << 19;
    /// The roots of the items walked: no key or `*` selects them.
    pub(crate) const ROOT: u32 = EVENT | LOG;

    /// The `$` names Sentry documents, and the type each stands for. `$error` is
    /// `$exception`, `$http` is `$request`.
    pub(crate) fn by_name(name: &str) -> Option<u32> {
        Some(match name {
            "string" => STRING,
            "number" => NUMBER,
            "boolean" => BOOLEAN,
            "datetime" => DATETIME,
            "array" => ARRAY,
            "object" => OBJECT,
            "event" => EVENT,
            "exception" | "error" => EXCEPTION,
            "stacktrace" => STACKTRACE,
            "frame" => FRAME,
            "request" | "http" => REQUEST,
            "user" => USER,
            "logentry" => LOGENTRY,
            "message" => MESSAGE,
            "thread" => THREAD,
            "breadcrumb" => BREADCRUMB,
            "span" => SPAN,
            "sdk" => SDK,
            "log" => LOG,
            "replay" | "minidump" | "attachments" | "binary" => NOT_IN_EVENTS,
            _ => return None,
        })
    }
}

/// One element of a value's path: its key (array indices as decimal text) and the
/// value types it has.
#[derive(Clone, Debug)]
pub(crate) struct Segment {
    /// Borrowed for the keys of the protocol's own fields and small indices.
    pub(crate) key: std::borrow::Cow<'static, str>,
    pub(crate) types: u32,
    /// The types of this element and of every one before it: a selector that names
    /// a type no element has cannot match ([`Selector::required_types`]).
    pub(crate) seen: u32,
    /// [`key_bit`]s of this element's key and of every one before it: a path
    /// selector naming a key no element has cannot match.
    pub(crate) keys: u64,
}

/// One bit of 64 for a key, without regard to ASCII case (keys match that way).
pub(crate) fn key_bit(key: &str) -> u64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    });
    1 << (hash >> 58)
}

/// What a path selector needs of a path before it is matched item by item: the types
/// its `$type` items name and the [`key_bit`]s of its keys, each on some element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Needs {
    types: u32,
    keys: u64,
}

impl Needs {
    fn of(items: &[Item]) -> Needs {
        items
            .iter()
            .fold(Needs { types: 0, keys: 0 }, |needs, item| match item {
                Item::Type(t) => Needs {
                    types: needs.types | t,
                    ..needs
                },
                Item::Key(key) => Needs {
                    keys: needs.keys | key_bit(key),
                    ..needs
                },
                _ => needs,
            })
    }

    /// Nothing needed.
    const NONE: Needs = Needs { types: 0, keys: 0 };

    /// Whether the path ending in `last` has all of them (else no match).
    pub(crate) fn met_by(&self, last: Option<&Segment>) -> bool {
        last.is_some_and(|s| s.seen & self.types == self.types && s.keys & self.keys == self.keys)
    }
}

/// One item of a path selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// `**`: any number of path elements (none included).
    DeepWildcard,
    /// `*`: one path element.
    Wildcard,
    /// `$type`: an element of this type.
    Type(u32),
    /// A key or quoted key.
    Key(String),
}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    Path(Vec<Item>, Needs),
    Not(Box<Selector>),
    And(Vec<Selector>),
    Or(Vec<Selector>),
}

/// Why a selector is refused, with the byte offset in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SelectorError {
    pub(crate) offset: usize,
    pub(crate) reason: &'static str,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

/// Longest selector accepted, in bytes, and deepest nesting of parentheses: a bound
/// on the parser's recursion for documents from the environment.
const MAX_SELECTOR_BYTES: usize = 4096;
const MAX_NESTING: usize = 64;

impl Selector {
    /// Parses a selector.
    pub(crate) fn parse(text: &str) -> Result<Selector, SelectorError> {
        if text.len() > MAX_SELECTOR_BYTES {
            return Err(SelectorError {
                offset: MAX_SELECTOR_BYTES,
                reason: "selector longer than 4096 bytes",
            });
        }
        let mut parser = Parser {
            text: text.as_bytes(),
            src: text,
            pos: 0,
            depth: 0,
        };
        let selector = parser.or()?;
        parser.skip_space();
        if parser.pos != parser.text.len() {
            return Err(parser.error("unexpected character"));
        }
        Ok(selector)
    }

    /// Types the path of every value this selects has somewhere (each `$type` of a
    /// path names one element): a test of [`Segment::seen`] skips the full match where
    /// one is missing (most selectors name a type: `$frame.vars.**`, `$user.*`).
    pub(crate) fn required_types(&self) -> u32 {
        match self {
            Selector::Path(_, needs) => needs.types,
            Selector::Not(_) => 0,
            Selector::And(all) => all.iter().fold(0, |r, s| r | s.required_types()),
            Selector::Or(any) => any
                .iter()
                .map(Selector::required_types)
                .reduce(|a, b| a & b)
                .unwrap_or(0),
        }
    }

    /// What a path needs for this to select it: one of these [`Needs`] met. A cheap
    /// test before [`matches`](Self::matches), which the values of most paths fail
    /// (`extra.** || contexts.**` on every value outside both).
    pub(crate) fn alternatives(&self) -> Vec<Needs> {
        match self {
            Selector::Path(_, needs) => vec![*needs],
            // What a negation selects is not bounded by needs.
            Selector::Not(_) => vec![Needs::NONE],
            // Each part must select: any one part's needs are a condition.
            Selector::And(all) => all
                .iter()
                .map(Selector::alternatives)
                .find(|a| !a.contains(&Needs::NONE))
                .unwrap_or_else(|| vec![Needs::NONE]),
            Selector::Or(any) => {
                let all: Vec<Needs> = any.iter().flat_map(Selector::alternatives).collect();
                if all.contains(&Needs::NONE) {
                    vec![Needs::NONE]
                } else {
                    all
                }
            }
        }
    }

    /// Whether the value at `path` (the event or log itself first) is selected: by
    /// an over-approximation of Sentry's engine (it selects at least what Sentry's
    /// selects), so a rule removes at least what it removes on the server.
    pub(crate) fn matches(&self, path: &[Segment]) -> bool {
        match self {
            // `$string`, `$frame`, ...: the last element's type alone.
            Selector::Path(items, _) if matches!(items.as_slice(), [Item::Type(_)]) => {
                let [Item::Type(t)] = items.as_slice() else {
                    return false;
                };
                path.last().is_some_and(|s| s.types & t != 0)
            }
            Selector::Path(items, needs) => {
                needs.met_by(path.last()) && path_may_match(items, path)
            }
            Selector::Not(inner) => !inner.surely_matches(path),
            Selector::And(all) => all.iter().all(|s| s.matches(path)),
            Selector::Or(any) => any.iter().any(|s| s.matches(path)),
        }
    }

    /// An under-approximation: selected by Sentry's engine too, for sure. What a
    /// negation selects is bounded through it (`!x` may select what `x` does not
    /// surely select).
    fn surely_matches(&self, path: &[Segment]) -> bool {
        match self {
            Selector::Path(items, needs) => {
                needs.met_by(path.last()) && path_surely_matches(items, path)
            }
            Selector::Not(inner) => !inner.matches(path),
            Selector::And(all) => all.iter().all(|s| s.surely_matches(path)),
            Selector::Or(any) => any.iter().any(|s| s.surely_matches(path)),
        }
    }
}

/// A path selector over-approximated. Sentry's engine lets a `*` match the event
/// itself in a path with `**` (`*.exception.**` selects `exception.values.0.value`;
/// found by the property test against it, ADR-031): so does this.
fn path_may_match(items: &[Item], path: &[Segment]) -> bool {
    let root_wildcard = items.contains(&Item::DeepWildcard);
    ends_with(items, path, root_wildcard)
}

/// Whether `items` match the end of `path`. A path has at most one `**`: without one,
/// or with it first, only one start can match (the items' length from the end).
fn ends_with(items: &[Item], path: &[Segment], root_wildcard: bool) -> bool {
    let fixed = match items.split_first() {
        Some((Item::DeepWildcard, rest)) => Some(rest),
        _ if !items.contains(&Item::DeepWildcard) => Some(items),
        _ => None,
    };
    match fixed {
        Some(fixed) => {
            path.len() >= fixed.len()
                && match_at(fixed, &path[path.len() - fixed.len()..], root_wildcard)
        }
        // Only the starts the first item matches (it is no `**` here).
        None => (0..path.len()).any(|start| {
            let first = match &items[0] {
                Item::Type(t) => path[start].types & t != 0,
                Item::Key(key) => path[start].key.eq_ignore_ascii_case(key),
                _ => true,
            };
            first && match_at(items, &path[start..], root_wildcard)
        }),
    }
}

/// A path selector under-approximated: the crate's matching, except that a path with
/// `**` or `$event` never surely matches (where Sentry's `**` matches none, or more
/// than one element, and whether `$event` selects in `pii_strip_event`, differ from
/// path to path: found by the property test, ADR-031), nor one with `$object` or
/// `$array` (some values are both to the crate), and that a path with a
/// `$type` ("not specific") only matches the values Sentry marks as always personal
/// (`pii = true`: extra, frame variables, the request's headers, data, env, cookies
/// and query, exception values, breadcrumb messages and data, log entries, logs), not
/// those it scrubs only on a specific selector (tags, ...).
fn path_surely_matches(items: &[Item], path: &[Segment]) -> bool {
    // `$object`/`$array`: the crate gives some values both kinds (request's pairs).
    if items.iter().any(|i| match i {
        Item::DeepWildcard => true,
        Item::Type(t) => t & (types::EVENT | types::OBJECT | types::ARRAY) != 0,
        _ => false,
    }) {
        return false;
    }
    let specific = !items
        .iter()
        .any(|i| matches!(i, Item::DeepWildcard | Item::Type(_)));
    (specific || always_personal(path)) && ends_with(items, path, false)
}

fn always_personal(path: &[Segment]) -> bool {
    let key = |i: usize| path.get(i).map_or("", |s| &*s.key);
    if path
        .first()
        .is_some_and(|root| root.types & types::LOG != 0)
    {
        return true;
    }
    if path
        .iter()
        .enumerate()
        .any(|(i, s)| s.types & types::FRAME != 0 && key(i + 1) == "vars" && path.len() > i + 2)
    {
        return true;
    }
    match key(1) {
        "extra" => path.len() > 2,
        "exception" => key(2) == "values" && key(4) == "value" && path.len() == 5,
        "request" => {
            matches!(
                key(2),
                "headers" | "data" | "env" | "cookies" | "query_string"
            ) && path.len() > 3
        }
        "breadcrumbs" => {
            key(2) == "values" && matches!(key(4), "message" | "data") && path.len() > 4
        }
        "logentry" => matches!(key(2), "formatted" | "message" | "params") && path.len() > 2,
        _ => false,
    }
}

/// Whether `items` match exactly the elements of `path`. `root_wildcard`: a `*` may
/// match the event itself.
fn match_at(items: &[Item], path: &[Segment], root_wildcard: bool) -> bool {
    match items.split_first() {
        None => path.is_empty(),
        // A last `**` matches whatever is left.
        Some((Item::DeepWildcard, [])) => true,
        Some((Item::DeepWildcard, rest)) => {
            (0..=path.len()).any(|n| match_at(rest, &path[n..], root_wildcard))
        }
        Some((item, rest)) => match path.split_first() {
            None => false,
            Some((segment, tail)) => {
                let ok = match item {
                    Item::Wildcard => root_wildcard || segment.types & types::ROOT == 0,
                    Item::Type(t) => segment.types & t != 0,
                    Item::Key(key) => {
                        segment.types & types::ROOT == 0 && segment.key.eq_ignore_ascii_case(key)
                    }
                    Item::DeepWildcard => unreachable!("handled above"),
                };
                ok && match_at(rest, tail, root_wildcard)
            }
        },
    }
}

struct Parser<'a> {
    text: &'a [u8],
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> SelectorError {
        SelectorError {
            offset: self.pos,
            reason,
        }
    }

    fn skip_space(&mut self) {
        while self
            .text
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    /// Consumes `op` (doubled or single), if next.
    fn operator(&mut self, op: u8) -> bool {
        self.skip_space();
        if self.text.get(self.pos) == Some(&op) {
            self.pos += 1;
            if self.text.get(self.pos) == Some(&op) {
                self.pos += 1;
            }
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Selector, SelectorError> {
        let mut all = vec![self.and()?];
        while self.operator(b'|') {
            all.push(self.and()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Selector::Or(all)
        })
    }

    fn and(&mut self) -> Result<Selector, SelectorError> {
        let mut all = vec![self.unary()?];
        while self.operator(b'&') {
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Selector::And(all)
        })
    }

    fn unary(&mut self) -> Result<Selector, SelectorError> {
        self.skip_space();
        if self.text.get(self.pos) == Some(&b'!') {
            self.pos += 1;
            self.skip_space();
            if self.text.get(self.pos) == Some(&b'!') {
                return Err(self.error("a negation cannot be negated again without parentheses"));
            }
            return Ok(Selector::Not(Box::new(self.primary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Selector, SelectorError> {
        self.skip_space();
        if self.text.get(self.pos) == Some(&b'(') {
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(self.error("parentheses nested deeper than 64"));
            }
            self.pos += 1;
            let inner = self.or()?;
            self.skip_space();
            if self.text.get(self.pos) != Some(&b')') {
                return Err(self.error("expected `)`"));
            }
            self.pos += 1;
            self.depth -= 1;
            return Ok(inner);
        }
        self.path()
    }

    fn path(&mut self) -> Result<Selector, SelectorError> {
        let start = self.pos;
        let mut items = vec![self.item()?];
        while self.text.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            items.push(self.item()?);
        }
        if items == [Item::Wildcard] {
            return Err(SelectorError {
                offset: start,
                reason: "a lone `*` selects nothing specific: use `**`",
            });
        }
        if items.iter().filter(|i| **i == Item::DeepWildcard).count() > 1 {
            return Err(SelectorError {
                offset: start,
                reason: "at most one `**` in a path",
            });
        }
        let needs = Needs::of(&items);
        Ok(Selector::Path(items, needs))
    }

    fn item(&mut self) -> Result<Item, SelectorError> {
        let rest = &self.text[self.pos..];
        if rest.starts_with(b"**") {
            self.pos += 2;
            return Ok(Item::DeepWildcard);
        }
        if rest.starts_with(b"*") {
            self.pos += 1;
            return Ok(Item::Wildcard);
        }
        if rest.starts_with(b"$") {
            self.pos += 1;
            let start = self.pos;
            while self
                .text
                .get(self.pos)
                .is_some_and(|b| b.is_ascii_lowercase())
            {
                self.pos += 1;
            }
            return types::by_name(&self.src[start..self.pos])
                .map(Item::Type)
                .ok_or(SelectorError {
                    offset: start,
                    reason: "unknown value type",
                });
        }
        if rest.starts_with(b"'") {
            self.pos += 1;
            let mut key = String::new();
            loop {
                let Some(offset) = self.src[self.pos..].find('\'') else {
                    return Err(self.error("unterminated quoted key"));
                };
                key.push_str(&self.src[self.pos..self.pos + offset]);
                self.pos += offset + 1;
                if self.text.get(self.pos) == Some(&b'\'') {
                    key.push('\'');
                    self.pos += 1;
                } else {
                    break;
                }
            }
            if key.is_empty() || key.trim().is_empty() {
                return Err(self.error("empty quoted key"));
            }
            return Ok(Item::Key(key));
        }
        let start = self.pos;
        if !rest
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return Err(self.error("expected a key, `*`, `**`, `$type` or a quoted key"));
        }
        while self
            .text
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        {
            self.pos += 1;
        }
        Ok(Item::Key(self.src[start..self.pos].to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(spec: &[(&str, u32)]) -> Vec<Segment> {
        let mut out = vec![Segment {
            key: "".into(),
            types: types::EVENT,
            seen: types::EVENT,
            keys: key_bit(""),
        }];
        for (k, t) in spec {
            let last = out.last().expect("the root");
            let (seen, keys) = (last.seen | t, last.keys | key_bit(k));
            out.push(Segment {
                key: (*k).to_owned().into(),
                types: *t,
                seen,
                keys,
            });
        }
        out
    }

    #[test]
    fn the_documented_forms_parse_and_malformed_ones_are_refused_with_a_place() {
        for ok in [
            "$string",
            "$http.headers.x-custom-token",
            "$frame.vars.**",
            "**",
            "extra.'my special value'",
            "'it''s'",
            "$string && !extra.foo",
            "(a || b) && !(c)",
            "a&b|c",
        ] {
            assert!(Selector::parse(ok).is_ok(), "{ok}");
        }
        for (bad, offset) in [
            ("*", 0),
            ("a..b", 2),
            ("!!a", 1),
            ("$STRING", 1),
            ("(a", 2),
            ("a b", 2),
        ] {
            let err = Selector::parse(bad).expect_err(bad);
            assert_eq!(err.offset, offset, "{bad}: {err}");
        }
    }

    #[test]
    fn paths_match_the_end_of_a_value_path_and_types_anywhere() {
        let nested = path(&[
            ("contexts", types::OBJECT),
            ("c", types::OBJECT),
            ("extra", types::OBJECT),
            ("foo", types::STRING),
        ]);
        let top = path(&[("extra", types::OBJECT), ("foo", types::STRING)]);
        let sel = |s: &str| Selector::parse(s).expect(s);
        assert!(sel("extra.foo").matches(&nested));
        assert!(sel("EXTRA.Foo").matches(&top));
        assert!(!sel("$event.extra.foo").matches(&nested));
        assert!(sel("$event.extra.foo").matches(&top));
        assert!(sel("contexts.**").matches(&nested));
        assert!(sel("$object.foo && $string").matches(&nested));
        assert!(!sel("$string && !extra.foo").matches(&top));
        assert!(!sel("$number").matches(&top));
    }
}
