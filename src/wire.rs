//! Names of what the reports carry to Sentry beyond Sentry's own fields: the tags and
//! contexts dashboards, searches and alerts name. (The fields context also holds
//! `suppressed_before`, and a scrubbed report the `scrubbing` context,
//! [`scrub::SCRUB_CONTEXT`](crate::scrub::SCRUB_CONTEXT).)

/// Tag (and `user` attribute) that carries the tenant.
pub const TENANT_TAG: &str = "tenant_id";
/// Tag that carries the trace id (32 hex digits), for pasting into Tempo.
pub const TRACE_ID_TAG: &str = "trace_id";
/// Context with the event's own fields.
pub const FIELDS_CONTEXT: &str = "fields";
/// Context with the fields of the enclosing spans, nearest first (keyed by span name;
/// the scrubber treats its keys as names, not field names).
pub const SPANS_CONTEXT: &str = crate::scrub::SPANS_CONTEXT;
/// Context with the event's source location.
pub const LOCATION_CONTEXT: &str = "location";
/// Context saying what was cut from a report to fit Sentry's size limits (its size
/// before, in bytes of JSON, the limit, and how many values, breadcrumbs, spans, stack
/// frames and attachments were cut or dropped).
pub const TRIMMED_CONTEXT: &str = "trimmed";
/// Context holding the tags whose keys Sentry refuses (more than 32 characters, or a
/// character other than ASCII letters, digits and `_ . : -`), key and value unchanged.
pub const MOVED_TAGS_CONTEXT: &str = "moved_tags";
