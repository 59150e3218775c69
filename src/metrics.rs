//! Metrics (opt-in): tracing events whose fields follow tracing-opentelemetry's
//! `MetricsLayer` naming (`monotonic_counter.*`, `counter.*`, `histogram.*`, `gauge.*`)
//! become Sentry metrics (`trace_metric`), in plain functions the layer calls. Recorded
//! on the calling thread, made and batched on the worker (`report::PendingMetrics`,
//! `log_batch::MetricBatch`), scrubbed at the transport (names as text, attributes by
//! the key rules).

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::field::Field;
use tracing::{Event, Metadata};

use crate::fields::{FieldRecorder, FieldValue};
use crate::flood::{FloodControl, FloodLimit};
use crate::identity::IdentityFields;
use crate::report::{metric_of, metric_value, PendingMetrics, METRIC_UNIT_FIELD};
use crate::request::SpanNode;
use crate::sync::{lock, Wait};
use crate::worker::{Counters, Worker};

/// Flood control of metrics by default: 1,000 events with metrics per callsite and
/// tenant per minute.
pub(crate) const DEFAULT_METRIC_FLOOD_LIMIT: FloodLimit = FloodLimit::new(
    NonZeroU32::new(1000).expect("1000 is not zero"),
    Duration::from_secs(60),
);

/// Whether metrics are on, and their flood control. Filled by `ConfigBuilder`
/// (`enable_metrics`, `metric_flood_limit`, `SENTRY_ENABLE_METRICS`).
#[derive(Clone, Debug)]
pub(crate) struct MetricSettings {
    pub(crate) on: bool,
    pub(crate) flood_limit: Option<FloodLimit>,
}

impl Default for MetricSettings {
    fn default() -> Self {
        MetricSettings {
            on: false,
            flood_limit: Some(DEFAULT_METRIC_FLOOD_LIMIT),
        }
    }
}

/// Whether a callsite's fields hold a metric (its field names, without recording).
pub(crate) fn has_metric_fields(metadata: &Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|field: Field| metric_of(field.name()).is_some())
}

/// Whether flood control lets the metrics of `event` go: `false` (counted in
/// `metrics_suppressed`, one per metric field) once its callsite and tenant have used up
/// their budget.
pub(crate) fn admit_metrics(
    flood: &FloodControl,
    identity: &IdentityFields,
    event: &Event<'_>,
    node: Option<&Arc<SpanNode>>,
    counters: &Counters,
) -> bool {
    let admitted = crate::logs::flood_admits(flood, identity, event, node);
    if !admitted {
        let metrics = event
            .metadata()
            .fields()
            .iter()
            .filter(|f| metric_of(f.name()).is_some())
            .count();
        counters
            .metrics_suppressed
            .fetch_add(metrics as u64, Ordering::Relaxed);
    }
    admitted
}

/// Records the metric fields of `event` in span `node` and queues them: value, type,
/// unit, the event's other fields, its tenant and user (its own, else the nearest
/// span's) and the request's trace. The caller holds the busy flag.
pub(crate) fn queue_metrics(
    worker: &Worker,
    identity: &IdentityFields,
    event: &Event<'_>,
    node: Option<&Arc<SpanNode>>,
) {
    let timestamp = SystemTime::now();
    let mut recorder = FieldRecorder::default();
    event.record(&mut recorder);
    let mut own = identity.read(&recorder.fields);
    let mut metrics = Vec::new();
    let mut unit = None;
    let mut fields = Vec::with_capacity(recorder.fields.len());
    for (name, value) in recorder.fields {
        if let Some((ty, metric)) = metric_of(name) {
            if let Some(number) = metric_value(name, &value) {
                metrics.push((ty, metric, number));
            }
        } else if name == METRIC_UNIT_FIELD {
            if let FieldValue::Str(text) = value {
                unit = Some(text);
            }
        } else {
            fields.push((name, value));
        }
    }
    if metrics.is_empty() {
        return;
    }
    let mut trace = None;
    if let Some(node) = node {
        trace = Some((node.request.trace_id(), node.span_id()));
        for span in node.scope() {
            if let Some(data) = lock(&span.data, Wait::Block) {
                own.fill_from(&data.identity);
            }
        }
    }
    worker.send_metrics(PendingMetrics {
        timestamp,
        metrics,
        unit,
        fields,
        identity: own,
        trace,
    });
}
