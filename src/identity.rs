//! Who a report is about: the tenant and the user, read from event and span fields
//! (ADR-021), and the fields that carry the request's trace id. One value, [`Identity`],
//! is read from a span or an event, kept with the span, merged along the span scope
//! (nearest first) and written to reports and transactions by one rule.
//!
//! Adding an identity-like value (a region, say) is a field here, its names in
//! [`IdentityFields`], its tag name in `wire`, and a builder setter in `config`.

use std::sync::Arc;

use sentry::protocol::{Map, TraceId, User, Value};
use tracing::Metadata;

use crate::fields::FieldValue;
use crate::flood::hash_tenant;
use crate::wire::TENANT_TAG;

/// Span field whose value becomes the `tenant_id` tag and `user.tenant_id` (default).
pub(crate) const DEFAULT_TENANT_FIELD: &str = "tenant_id";
/// Span field whose value becomes `user.id` (default).
pub(crate) const DEFAULT_USER_FIELD: &str = "user_id";
/// Span field that carries the request's trace id (32 hex digits), as recorded by
/// [`link_trace`](crate::link_trace) (default).
pub(crate) const DEFAULT_TRACE_ID_FIELD: &str = "trace_id";

/// Which fields carry the identity and the trace id, each a list whose first present
/// name wins. Filled by `ConfigBuilder`'s `tenant_fields`, `user_fields` and
/// `trace_id_fields`.
#[derive(Clone, Debug)]
pub(crate) struct IdentityFields {
    pub(crate) tenant: Vec<&'static str>,
    pub(crate) user: Vec<&'static str>,
    pub(crate) trace_id: Vec<&'static str>,
}

impl Default for IdentityFields {
    fn default() -> Self {
        IdentityFields {
            tenant: vec![DEFAULT_TENANT_FIELD],
            user: vec![DEFAULT_USER_FIELD],
            trace_id: vec![DEFAULT_TRACE_ID_FIELD],
        }
    }
}

/// The identity of a span, an event, or the scope a report or transaction comes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Identity {
    pub(crate) tenant: Option<Arc<str>>,
    pub(crate) user: Option<Arc<str>>,
}

impl IdentityFields {
    /// The identity in one event's or span's fields: for each part, the first of its
    /// names that is present (ADR-021).
    #[inline]
    pub(crate) fn read(&self, fields: &[(&'static str, FieldValue)]) -> Identity {
        Identity {
            tenant: first_of(&self.tenant, fields),
            user: first_of(&self.user, fields),
        }
    }

    /// Whether a span declares a tenant field (has one, possibly still empty): the
    /// request boundary of ADR-025.
    pub(crate) fn declares_tenant(&self, metadata: &Metadata<'_>) -> bool {
        self.tenant
            .iter()
            .any(|name| metadata.fields().field(name).is_some())
    }

    /// Whether a span declares a user field (has one, possibly still empty).
    pub(crate) fn declares_user(&self, metadata: &Metadata<'_>) -> bool {
        self.user
            .iter()
            .any(|name| metadata.fields().field(name).is_some())
    }

    /// A trace id recorded in one of the trace-id fields (32 hex digits).
    pub(crate) fn linked_trace_id(&self, fields: &[(&'static str, FieldValue)]) -> Option<TraceId> {
        fields
            .iter()
            .filter(|(name, _)| self.trace_id.contains(name))
            .find_map(|(_, value)| match value {
                FieldValue::Str(text) if text.len() == 32 => text.parse().ok(),
                _ => None,
            })
    }
}

fn first_of(names: &[&'static str], fields: &[(&'static str, FieldValue)]) -> Option<Arc<str>> {
    names.iter().find_map(|wanted| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, v)| identity_text(v))
    })
}

/// A field value as identity text, in one allocation: a span's tenant and user are
/// read at every new span that has them.
fn identity_text(value: &FieldValue) -> Arc<str> {
    /// Writes a number's digits on the stack.
    struct Digits([u8; 24], usize);
    impl std::fmt::Write for Digits {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(std::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
    use std::fmt::Write as _;
    let mut digits = Digits([0; 24], 0);
    let written = match value {
        FieldValue::Str(text) => return Arc::from(text.as_str()),
        FieldValue::I64(v) => write!(digits, "{v}"),
        FieldValue::U64(v) => write!(digits, "{v}"),
        FieldValue::F64(_) | FieldValue::Bool(_) => return Arc::from(value.to_text()),
    };
    match (written, std::str::from_utf8(&digits.0[..digits.1])) {
        (Ok(()), Ok(text)) => Arc::from(text),
        _ => Arc::from(value.to_text()),
    }
}

impl Identity {
    /// Fills each part `self` lacks from `outer` (a span further out): the nearest value
    /// of each part wins, the event's own first. An `outer` of another tenant gives
    /// nothing: its user is that tenant's (an event declaring tenant `globex` inside
    /// `acme`'s request must not carry acme's user).
    pub(crate) fn fill_from(&mut self, outer: &Identity) {
        if let (Some(own), Some(theirs)) = (&self.tenant, &outer.tenant) {
            if own != theirs {
                return;
            }
        }
        if self.tenant.is_none() {
            self.tenant.clone_from(&outer.tenant);
        }
        if self.user.is_none() {
            self.user.clone_from(&outer.user);
        }
    }

    /// Takes the parts `recorded` has (a span's `record`): later values win.
    pub(crate) fn update(&mut self, recorded: Identity) {
        if recorded.tenant.is_some() {
            self.tenant = recorded.tenant;
        }
        if recorded.user.is_some() {
            self.user = recorded.user;
        }
    }

    /// The identity's tags (the tenant's): inserted over a `tags.*` field of the same
    /// name. Sentry drops tag values with newlines: control characters become spaces.
    pub(crate) fn write_tags(&self, tags: &mut Map<String, String>) {
        if let Some(tenant) = &self.tenant {
            tags.insert(TENANT_TAG.to_owned(), tag_value(tenant));
        }
    }

    /// The Sentry user: `id` from the user field, `tenant_id` beside it.
    pub(crate) fn user(&self) -> Option<User> {
        if self.tenant.is_none() && self.user.is_none() {
            return None;
        }
        let mut other = Map::new();
        if let Some(tenant) = &self.tenant {
            other.insert(TENANT_TAG.to_owned(), Value::from(&**tenant));
        }
        Some(User {
            id: self.user.as_deref().map(str::to_owned),
            other,
            ..Default::default()
        })
    }
}

/// An identity as hashes of its parts ([`hash_tenant`]; 0 for a part not known): what
/// breadcrumbs, event ids and child spans are stored under, so that a report never
/// reads data recorded under another tenant or user, whatever the request boundary
/// decided (ADR-025, the safety net).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IdentityKey {
    pub(crate) tenant: u64,
    pub(crate) user: u64,
}

impl IdentityKey {
    pub(crate) fn of(identity: &Identity) -> IdentityKey {
        IdentityKey {
            tenant: identity.tenant.as_deref().map_or(0, hash_tenant),
            user: identity.user.as_deref().map_or(0, hash_tenant),
        }
    }

    /// Whether something recorded under `recorded` may go into a report (transaction,
    /// `last_event_id`) of `self`: each part of `recorded` is unknown or the same. Data
    /// recorded before the tenant was known (a request's first breadcrumbs, logged
    /// before authentication) may; data of a known other tenant or user never does,
    /// nor data of a known tenant in a report that has none.
    pub(crate) fn may_see(self, recorded: IdentityKey) -> bool {
        (recorded.tenant == 0 || recorded.tenant == self.tenant)
            && (recorded.user == 0 || recorded.user == self.user)
    }

    /// An event's own identity (`self`) in the scope it was logged in: its own parts win,
    /// the scope fills the rest, unless the event names another tenant (then the scope's
    /// user is not its own), as [`Identity::fill_from`] does.
    pub(crate) fn over(self, scope: IdentityKey) -> IdentityKey {
        if self.tenant != 0 && scope.tenant != 0 && self.tenant != scope.tenant {
            return self;
        }
        IdentityKey {
            tenant: if self.tenant != 0 {
                self.tenant
            } else {
                scope.tenant
            },
            user: if self.user != 0 {
                self.user
            } else {
                scope.user
            },
        }
    }

    /// Whether the two name different tenants, or different users.
    pub(crate) fn conflicts(self, other: IdentityKey) -> bool {
        let differ = |a: u64, b: u64| a != 0 && b != 0 && a != b;
        differ(self.tenant, other.tenant) || differ(self.user, other.user)
    }
}

/// A tag's value: Sentry drops values containing newlines. Values longer than Sentry's
/// 200 characters are cut by the scrubber *after* scrubbing (a secret straddling the cut
/// must be found whole).
pub(crate) fn tag_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FieldValue {
        FieldValue::Str(s.to_owned())
    }

    #[test]
    fn the_first_present_name_wins_and_the_nearest_span_fills_the_rest() {
        let names = IdentityFields {
            tenant: vec!["org", "tenant_id"],
            ..IdentityFields::default()
        };
        let event = names.read(&[("tenant_id", text("t2")), ("org", text("t1"))]);
        assert_eq!(event.tenant.as_deref(), Some("t1"));
        assert_eq!(event.user, None);
        let mut scope = event;
        scope.fill_from(&names.read(&[("user_id", FieldValue::U64(9)), ("org", text("outer"))]));
        assert_eq!(
            scope.tenant.as_deref(),
            Some("t1"),
            "the nearer value stays"
        );
        assert_eq!(scope.user, None, "another tenant's user is not taken");
        scope.fill_from(&names.read(&[("user_id", FieldValue::U64(7))]));
        assert_eq!(scope.user.as_deref(), Some("7"));
        scope.update(names.read(&[("org", text("t3"))]));
        assert_eq!(
            scope.tenant.as_deref(),
            Some("t3"),
            "a recorded value replaces"
        );
        assert_eq!(scope.user.as_deref(), Some("7"), "an absent part is kept");
    }

    #[test]
    fn identity_text_is_the_values_text() {
        for value in [
            text("acme"),
            FieldValue::U64(u64::MAX),
            FieldValue::I64(i64::MIN),
            FieldValue::U64(0),
            FieldValue::F64(1e300),
            FieldValue::Bool(true),
        ] {
            assert_eq!(&*identity_text(&value), value.to_text().as_str());
        }
    }

    #[test]
    fn tags_and_user_are_written_by_one_rule() {
        let identity = Identity {
            tenant: Some(Arc::from("acme\ncorp")),
            user: Some(Arc::from("42")),
        };
        let mut tags = Map::new();
        tags.insert(TENANT_TAG.to_owned(), "from a tags.* field".to_owned());
        identity.write_tags(&mut tags);
        assert_eq!(tags.get(TENANT_TAG).map(String::as_str), Some("acme corp"));
        let user = identity.user().expect("a user");
        assert_eq!(user.id.as_deref(), Some("42"));
        assert_eq!(user.other.get(TENANT_TAG), Some(&Value::from("acme\ncorp")));
        assert_eq!(Identity::default().user(), None);
    }

    #[test]
    fn data_of_a_known_other_identity_is_never_seen() {
        let key = |tenant: Option<&str>, user: Option<&str>| {
            IdentityKey::of(&Identity {
                tenant: tenant.map(Arc::from),
                user: user.map(Arc::from),
            })
        };
        let acme_7 = key(Some("acme"), Some("7"));
        assert!(acme_7.may_see(key(None, None)), "before authentication");
        assert!(acme_7.may_see(key(Some("acme"), None)));
        assert!(acme_7.may_see(acme_7));
        assert!(!acme_7.may_see(key(Some("globex"), Some("7"))));
        assert!(!acme_7.may_see(key(Some("acme"), Some("8"))));
        assert!(!key(None, None).may_see(key(Some("acme"), None)));
        assert!(acme_7.conflicts(key(Some("globex"), None)));
        assert!(acme_7.conflicts(key(None, Some("8"))));
        assert!(!acme_7.conflicts(key(Some("acme"), None)));
        assert!(!acme_7.conflicts(key(None, None)));
    }

    #[test]
    fn a_linked_trace_id_is_32_hex_digits_in_a_trace_id_field() {
        let names = IdentityFields::default();
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            names
                .linked_trace_id(&[("trace_id", text(id))])
                .map(|t| t.to_string()),
            Some(id.to_owned())
        );
        assert_eq!(names.linked_trace_id(&[("trace_id", text("abc"))]), None);
        assert_eq!(names.linked_trace_id(&[("other", text(id))]), None);
    }
}
