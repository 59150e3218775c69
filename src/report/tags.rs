//! The one rule for tags, the same for error events and transactions.

use sentry::protocol::{Context, Map, TraceId, Value};

use crate::fields::FieldValue;
use crate::identity::{tag_value, Identity};
use crate::wire::{MOVED_TAGS_CONTEXT, TRACE_ID_TAG};

/// Longest tag key Sentry keeps, in characters
/// (<https://docs.sentry.io/platforms/rust/enriching-events/tags/>).
pub(crate) const MAX_TAG_KEY_CHARS: usize = 32;
/// Longest tag value Sentry keeps, in characters (same page).
pub(crate) const MAX_TAG_VALUE_CHARS: usize = 200;

/// Whether Sentry keeps `key` as a tag key: 1 to 32 characters, each an ASCII letter
/// or digit or one of `_ . : -`.
pub(crate) fn is_valid_tag_key(key: &str) -> bool {
    (1..=MAX_TAG_KEY_CHARS).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// Normalises a report's or transaction's tags to what Sentry keeps, so its normalizer
/// has nothing to drop: control characters (a newline) become spaces, values are
/// trimmed and cut to 200 characters, empty values are omitted, and a tag whose key
/// Sentry refuses moves, with its value, to the `moved_tags` context
/// ([`MOVED_TAGS_CONTEXT`]). Returns how many tags were changed, moved or omitted.
pub(crate) fn normalize_tags(
    tags: &mut Map<String, String>,
    contexts: &mut Map<String, Context>,
) -> usize {
    let mut changed = 0;
    let mut moved = Map::new();
    tags.retain(|key, value| {
        if !is_valid_tag_key(key) {
            moved.insert(key.clone(), Value::from(std::mem::take(value)));
            changed += 1;
            return false;
        }
        // Most tags are kept as they are: checked in place, not copied.
        if is_kept_tag_value(value) {
            return true;
        }
        let mut clean = tag_value(value);
        if let Some((cut, _)) = clean.char_indices().nth(MAX_TAG_VALUE_CHARS) {
            clean.truncate(cut);
        }
        let clean = clean.trim();
        if clean.is_empty() || clean != value {
            changed += 1;
        }
        if !clean.is_empty() && clean != value {
            *value = clean.to_owned();
        }
        !clean.is_empty()
    });
    if !moved.is_empty() {
        match contexts
            .entry(MOVED_TAGS_CONTEXT.to_owned())
            .or_insert_with(|| Context::Other(Map::new()))
        {
            Context::Other(map) => map.extend(moved),
            // A context of that name that is not a map (set by a hook): replaced.
            other => *other = Context::Other(moved),
        }
    }
    changed
}

/// Whether Sentry keeps a tag value as it is: not empty, no control character, no
/// surrounding whitespace, at most 200 characters.
fn is_kept_tag_value(value: &str) -> bool {
    !value.is_empty()
        && value.trim().len() == value.len()
        && !value.chars().any(char::is_control)
        && value.chars().nth(MAX_TAG_VALUE_CHARS).is_none()
}

/// Prefix of fields that become Sentry tags (`tags.team = "billing"`), as with
/// sentry-tracing.
const TAG_FIELD_PREFIX: &str = "tags.";

/// Whether a field becomes a tag (and so is left out of the contexts).
pub(crate) fn is_tag_field(name: &str) -> bool {
    name.starts_with(TAG_FIELD_PREFIX)
}

/// The tags of a report or transaction: the `tags.*` fields of `field_sets` in order
/// (an event's own fields, then its spans' nearest first; a transaction's root span's),
/// the first of a name winning; then the identity's tags and the trace id, which win over
/// a `tags.*` field of the same name.
pub(super) fn tags<'a>(
    field_sets: impl IntoIterator<Item = &'a [(&'static str, FieldValue)]>,
    identity: &Identity,
    trace_id: Option<TraceId>,
) -> Map<String, String> {
    let mut tags = Map::new();
    for (name, value) in field_sets.into_iter().flatten() {
        if let Some(tag) = name.strip_prefix(TAG_FIELD_PREFIX) {
            if !tag.is_empty() && !tags.contains_key(tag) {
                // As written: the scrubber must see a transcript's line breaks; they
                // become spaces after scrubbing (`normalize_tags`, at the transport).
                tags.insert(tag.to_owned(), value.to_text());
            }
        }
    }
    identity.write_tags(&mut tags);
    if let Some(trace_id) = trace_id {
        tags.insert(TRACE_ID_TAG.to_owned(), trace_id.to_string());
    }
    tags
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::wire::TENANT_TAG;

    proptest! {
        /// Whatever the keys and values, every tag left is one Sentry keeps, and nothing
        /// is lost but empty values: a refused key's tag is in `moved_tags`.
        #[test]
        fn normalized_tags_are_all_kept_by_sentry(
            input in prop::collection::btree_map(
                prop_oneof!["[a-z_.:-]{1,40}", "\\PC{0,40}", "[a-z]{1,8}/[a-z]{1,8}", Just(String::new())],
                prop_oneof!["\\PC{0,250}", "[ \\n\\t\\r]{0,3}", ".{0,300}", Just(String::new())],
                0..20,
            )
        ) {
            let mut tags: Map<String, String> = input.clone().into_iter().collect();
            let mut contexts = Map::new();
            normalize_tags(&mut tags, &mut contexts);
            for (key, value) in &tags {
                prop_assert!(is_valid_tag_key(key), "{key:?}");
                prop_assert!(!value.is_empty());
                prop_assert!(value.chars().count() <= MAX_TAG_VALUE_CHARS);
                prop_assert!(!value.contains(['\n', '\r']));
                prop_assert_eq!(value.trim(), value.as_str());
            }
            let moved = match contexts.get(MOVED_TAGS_CONTEXT) {
                Some(Context::Other(map)) => map.clone(),
                None => Map::new(),
                Some(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            for (key, value) in &input {
                if is_valid_tag_key(key) {
                    prop_assert_eq!(tags.contains_key(key), !tag_value(value).trim().is_empty());
                } else {
                    prop_assert_eq!(moved.get(key), Some(&Value::from(value.as_str())));
                }
            }
        }
    }

    #[test]
    fn empty_values_go_and_refused_keys_move_to_a_context() {
        let mut tags = Map::new();
        tags.insert("team".to_owned(), "  billing\nops ".to_owned());
        tags.insert("region".to_owned(), String::new());
        tags.insert("http/route".to_owned(), "/orders".to_owned());
        tags.insert("a".repeat(33), "long key".to_owned());
        tags.insert("note".to_owned(), "é".repeat(250));
        let mut contexts = Map::new();
        assert_eq!(normalize_tags(&mut tags, &mut contexts), 5);
        assert_eq!(tags.get("team").map(String::as_str), Some("billing ops"));
        assert!(!tags.contains_key("region"));
        assert_eq!(tags.get("note").map(|v| v.chars().count()), Some(200));
        let Some(Context::Other(moved)) = contexts.get(MOVED_TAGS_CONTEXT) else {
            panic!("{contexts:?}");
        };
        assert_eq!(moved.get("http/route"), Some(&Value::from("/orders")));
        assert_eq!(moved.len(), 2);
        assert_eq!(tags.len(), 2);
    }

    #[test]
    fn the_nearest_field_wins_and_identity_and_trace_win_over_fields() {
        let own = [
            ("tags.region", FieldValue::Str("us".into())),
            ("tags.tenant_id", FieldValue::Str("spoofed".into())),
            ("tags.", FieldValue::Str("nameless".into())),
        ];
        let span = [
            ("tags.region", FieldValue::Str("eu".into())),
            ("tags.team", FieldValue::Str("billing\nops".into())),
        ];
        let identity = Identity {
            tenant: Some(Arc::from("acme")),
            ..Identity::default()
        };
        let trace: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().expect("hex");
        let tags = tags([&own[..], &span[..]], &identity, Some(trace));
        assert_eq!(tags.get("region").map(String::as_str), Some("us"));
        // As written: normalised after scrubbing, at the transport.
        assert_eq!(tags.get("team").map(String::as_str), Some("billing\nops"));
        assert_eq!(tags.get(TENANT_TAG).map(String::as_str), Some("acme"));
        assert_eq!(
            tags.get(TRACE_ID_TAG).map(String::as_str),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(tags.len(), 4, "{tags:?}");
    }
}
