//! The one rule for tags, the same for error events and transactions.

use sentry::protocol::{Map, TraceId};

use crate::fields::FieldValue;
use crate::identity::{tag_value, Identity};
use crate::wire::TRACE_ID_TAG;

/// Prefix of fields that become Sentry tags (`tags.team = "billing"`), as with
/// sentry-tracing.
const TAG_FIELD_PREFIX: &str = "tags.";

/// Whether a field becomes a tag (and so is left out of the contexts).
pub(super) fn is_tag_field(name: &str) -> bool {
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
                tags.insert(tag.to_owned(), tag_value(&value.to_text()));
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

    use super::*;
    use crate::wire::TENANT_TAG;

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
        assert_eq!(tags.get("team").map(String::as_str), Some("billing ops"));
        assert_eq!(tags.get(TENANT_TAG).map(String::as_str), Some("acme"));
        assert_eq!(
            tags.get(TRACE_ID_TAG).map(String::as_str),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(tags.len(), 4, "{tags:?}");
    }
}
