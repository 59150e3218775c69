//! Metrics from tracing fields ([`PendingMetrics`]) and the Sentry metrics they become on
//! the worker: Sentry's `trace_metric` protocol
//! (<https://develop.sentry.dev/sdk/telemetry/metrics/>), in `sentry-types`' own
//! [`Metric`] type. Which field is a metric follows tracing-opentelemetry's
//! `MetricsLayer` ([`metric_of`]).

use std::borrow::Cow;
use std::time::SystemTime;

use sentry::protocol::{LogAttribute, Map, Metric, MetricType, SpanId, TraceId, Unit, Value};

use super::log::attribute_value;
use crate::fields::FieldValue;
use crate::identity::Identity;
use crate::wire::TENANT_TAG;

/// The field that gives the unit of the event's metrics (`"millisecond"`, `"byte"`,
/// Sentry's unit names or their symbols, `"ms"`, `"MB"`).
pub(crate) const METRIC_UNIT_FIELD: &str = "metric.unit";

/// The Sentry metric type and name of a field, by tracing-opentelemetry's `MetricsLayer`
/// prefixes: `monotonic_counter.` and `counter.` are counters, `histogram.` a
/// distribution, `gauge.` a gauge; the name is what follows the prefix. `None`: not a
/// metric field.
pub(crate) fn metric_of(field: &'static str) -> Option<(MetricType, &'static str)> {
    const PREFIXES: [(&str, MetricType); 4] = [
        ("monotonic_counter.", MetricType::Counter),
        ("counter.", MetricType::Counter),
        ("histogram.", MetricType::Distribution),
        ("gauge.", MetricType::Gauge),
    ];
    PREFIXES.iter().find_map(|(prefix, ty)| {
        field
            .strip_prefix(prefix)
            .filter(|name| !name.is_empty())
            .map(|name| (*ty, name))
    })
}

/// A metric field's value as a number: integers and finite doubles (a text, a boolean
/// or a non-finite double is no measurement: `None`). A monotonic counter's negative
/// value is `None` too (tracing-opentelemetry's counters only grow).
pub(crate) fn metric_value(field: &'static str, value: &FieldValue) -> Option<f64> {
    let number = match value {
        FieldValue::I64(v) => *v as f64,
        FieldValue::U64(v) => *v as f64,
        FieldValue::F64(v) if v.is_finite() => *v,
        _ => return None,
    };
    if field.starts_with("monotonic_counter.") && number < 0.0 {
        return None;
    }
    Some(number)
}

/// The metrics of one tracing event, recorded on the calling thread.
#[derive(Debug)]
pub(crate) struct PendingMetrics {
    pub(crate) timestamp: SystemTime,
    /// Type, name and value of each metric field.
    pub(crate) metrics: Vec<(MetricType, &'static str, f64)>,
    /// The `metric.unit` field's text.
    pub(crate) unit: Option<String>,
    /// The event's other fields: every metric's attributes.
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    /// The event's tenant and user, else its request's.
    pub(crate) identity: Identity,
    /// The request's trace and the span of the event; `None` outside any request.
    pub(crate) trace: Option<(TraceId, SpanId)>,
}

impl PendingMetrics {
    /// The Sentry metrics: each with the event's timestamp, the request's trace id (else
    /// `process_trace`) and span id, the unit, and as attributes the event's other fields
    /// (typed, as a log's), `tenant_id`, `user.id` and `defaults` (environment, release,
    /// server name, SDK: Sentry's default attributes of metrics).
    pub(crate) fn into_metrics(
        self,
        defaults: &Map<String, LogAttribute>,
        process_trace: TraceId,
    ) -> Vec<Metric> {
        let mut attributes: Map<Cow<'static, str>, LogAttribute> = defaults
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
            .collect();
        for (name, value) in self.fields.into_iter().rev() {
            attributes.insert(Cow::Borrowed(name), LogAttribute(attribute_value(value)));
        }
        if let Some(tenant) = &self.identity.tenant {
            attributes.insert(
                Cow::Borrowed(TENANT_TAG),
                LogAttribute(Value::String(tenant.to_string())),
            );
        }
        if let Some(user) = &self.identity.user {
            attributes.insert(
                Cow::Borrowed("user.id"),
                LogAttribute(Value::String(user.to_string())),
            );
        }
        let (trace_id, span_id) = match self.trace {
            Some((trace, span)) => (trace, Some(span)),
            None => (process_trace, None),
        };
        let unit = self.unit.map(Unit::from);
        self.metrics
            .into_iter()
            .map(|(ty, name, value)| Metric {
                r#type: ty,
                name: Cow::Borrowed(name),
                value,
                timestamp: self.timestamp,
                trace_id,
                span_id,
                unit: unit.clone(),
                attributes: attributes.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_metrics_by_tracing_opentelemetrys_prefixes() {
        assert_eq!(
            metric_of("monotonic_counter.orders"),
            Some((MetricType::Counter, "orders"))
        );
        assert_eq!(
            metric_of("counter.in_flight"),
            Some((MetricType::Counter, "in_flight"))
        );
        assert_eq!(
            metric_of("histogram.http.latency"),
            Some((MetricType::Distribution, "http.latency"))
        );
        assert_eq!(metric_of("gauge.queue"), Some((MetricType::Gauge, "queue")));
        assert_eq!(metric_of("counter."), None);
        assert_eq!(metric_of("order_count"), None);
        assert_eq!(metric_value("gauge.x", &FieldValue::I64(-3)), Some(-3.0));
        assert_eq!(
            metric_value("monotonic_counter.x", &FieldValue::I64(-3)),
            None
        );
        assert_eq!(metric_value("gauge.x", &FieldValue::F64(f64::NAN)), None);
        assert_eq!(metric_value("gauge.x", &FieldValue::Str("7".into())), None);
    }
}
