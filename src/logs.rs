//! Structured logs (opt-in): which tracing events become Sentry logs, in plain functions
//! the layer calls, and what a log records on the calling thread. The log itself is
//! made, batched and sent on the worker (`report::PendingLog`, `log_batch`); it is
//! scrubbed at the transport by the same policy as reports.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::{Event, Level, Metadata};

use crate::admission::{AdmissionSettings, EventFilter};
use crate::fields::{FieldRecorder, FieldValue};
use crate::flood::{log_key, FloodControl, FloodLimit};
use crate::identity::{IdentityFields, IdentityKey};
use crate::report::{is_tag_field, LogSource, PendingLog};
use crate::request::SpanNode;
use crate::sync::{lock, Wait};
use crate::worker::{Counters, Worker};

/// Level of logs [`SENTRY_ENABLE_LOGS`](crate::env) turns on: `INFO` and more severe, as
/// sentry-tracing's `LogLayer` by default.
pub(crate) const DEFAULT_LOG_LEVEL: Level = Level::INFO;

/// Flood control of logs by default: 1,000 logs per callsite and tenant per minute.
pub(crate) const DEFAULT_LOG_FLOOD_LIMIT: FloodLimit = FloodLimit::new(
    NonZeroU32::new(1000).expect("1000 is not zero"),
    Duration::from_secs(60),
);

/// What makes a tracing event a Sentry log. Filled by `ConfigBuilder` (`enable_logs`,
/// `log_filter`, `log_flood_limit`, `SENTRY_ENABLE_LOGS`).
#[derive(Clone, Debug)]
pub(crate) struct LogSettings {
    /// Events at this level or more severe become logs; `None`: logs are off.
    pub(crate) level: Option<Level>,
    pub(crate) filter: Option<EventFilter>,
    pub(crate) flood_limit: Option<FloodLimit>,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: None,
            filter: None,
            flood_limit: Some(DEFAULT_LOG_FLOOD_LIMIT),
        }
    }
}

impl LogSettings {
    /// Whether an event at `level` may become a log: the first check of every event
    /// (one comparison; always false when logs are off).
    #[inline]
    pub(crate) fn may_log(&self, level: &Level) -> bool {
        matches!(self.level, Some(max) if *level <= max)
    }

    /// Whether an event with `metadata` (a `log` record's normalised metadata) becomes a
    /// log: its level, its target (the targets reports ignore: the SDK and HTTP stacks,
    /// whose logs would feed back), then the log filter.
    pub(crate) fn route(
        &self,
        metadata: &Metadata<'_>,
        admission: &AdmissionSettings,
        counters: &Counters,
    ) -> bool {
        self.may_log(metadata.level())
            && !admission.is_ignored(metadata.target())
            && self
                .filter
                .as_ref()
                .is_none_or(|filter| filter.allows(metadata, counters))
    }
}

/// Whether flood control lets a log of `event` in span `node` go: `false` (counted in
/// `logs_suppressed`) once its callsite and tenant have used up their budget.
pub(crate) fn admit_log(
    flood: &FloodControl,
    identity: &IdentityFields,
    event: &Event<'_>,
    node: Option<&Arc<SpanNode>>,
    counters: &Counters,
) -> bool {
    let admitted = flood_admits(flood, identity, event, node);
    if !admitted {
        counters.logs_suppressed.fetch_add(1, Ordering::Relaxed);
    }
    admitted
}

/// Whether flood control (`flood`, keyed by callsite and tenant: the event's own, else
/// the nearest span's) lets `event` go; always when it is off. Logs and metrics each
/// have their own `FloodControl`.
pub(crate) fn flood_admits(
    flood: &FloodControl,
    identity: &IdentityFields,
    event: &Event<'_>,
    node: Option<&Arc<SpanNode>>,
) -> bool {
    if !flood.is_on() {
        return true;
    }
    let key = log_key(event, &identity.tenant, || {
        SpanNode::scope_tenant_hash(node)
    });
    flood.admit(key).is_some()
}

/// Records `event` as a log of the request of span `node` and queues it: its fields,
/// its tenant and user (its own, else the nearest span's), the request's trace and the
/// span's id, and the `tags.*` fields of the spans whose tenant and user it may see
/// (an enclosing span of another tenant, a connection span re-recorded per request, is
/// left out as it is from reports). The caller holds the busy flag.
pub(crate) fn queue_log(
    worker: &Worker,
    identity: &IdentityFields,
    event: &Event<'_>,
    normalized: Option<&Metadata<'_>>,
    node: Option<&Arc<SpanNode>>,
) {
    let timestamp = SystemTime::now();
    let mut recorder = FieldRecorder::default();
    event.record(&mut recorder);
    let mut own = identity.read(&recorder.fields);
    let mut trace = None;
    let mut span_tags = Vec::new();
    if let Some(node) = node {
        trace = Some((node.request.trace_id(), node.span_id()));
        let mut tagged: Vec<(IdentityKey, Vec<(&'static str, FieldValue)>)> = Vec::new();
        for span in node.scope() {
            let Some(data) = lock(&span.data, Wait::Block) else {
                continue;
            };
            own.fill_from(&data.identity);
            let tags: Vec<_> = data
                .fields
                .iter()
                .filter(|(name, _)| is_tag_field(name))
                .cloned()
                .collect();
            if !tags.is_empty() {
                tagged.push((IdentityKey::of(&data.identity), tags));
            }
        }
        let reader = IdentityKey::of(&own);
        span_tags = tagged
            .into_iter()
            .filter(|(key, _)| reader.may_see(*key))
            .flat_map(|(_, tags)| tags)
            .collect();
    }
    worker.send_log(PendingLog {
        timestamp,
        metadata: event.metadata(),
        log_source: normalized.map(LogSource::of),
        message: recorder.message,
        fields: recorder.fields,
        errors: recorder.errors,
        identity: own,
        trace,
        span_tags,
    });
}
