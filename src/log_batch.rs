//! Structured logs batched on the worker as Sentry's SDKs batch them
//! (<https://develop.sentry.dev/sdk/telemetry/logs/>, "Buffering"; sentry-rust's
//! `Batcher`): one `log` envelope item per batch, sent when it holds
//! [`MAX_LOGS_PER_BATCH`] logs, when it holds [`MAX_BATCH_BYTES`] of logs, or
//! [`FLUSH_INTERVAL`] after its first log, whichever comes first; and on every flush.
//!
//! A batch is one buffer: each log's JSON is written straight into it
//! (`report::LogWriter`, already scrubbed), and the full batch becomes the envelope's
//! bytes (`{}` headers, the `log` item header, `{"items":[...]}`), as `sentry-types`
//! writes an `ItemContainer::Logs`.

use std::time::{Duration, Instant};

use sentry::Envelope;

/// Logs per envelope item: sentry-rust's and sentry-python's `MAX_ITEMS` (100).
pub(crate) const MAX_LOGS_PER_BATCH: usize = 100;
/// Longest a log waits in a batch: sentry-rust's and sentry-python's 5 seconds.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// Bytes of a batch's item (its logs' JSON) at which it is sent: 1 MiB, Relay's
/// `max_log_size` and well under its envelope limit, so a batch is never refused whole.
pub(crate) const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// The `log` item's content type (`sentry-types`' `ItemContainer::Logs`).
const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";
const ITEMS_START: &[u8] = b"{\"items\":[";
const ITEMS_END: &[u8] = b"]}\n";
/// A batch's first reservation: 100 logs of about 600 bytes.
const FIRST_CAPACITY: usize = 64 * 1024;

/// The logs waiting for their envelope, as the JSON of its `log` item.
#[derive(Debug, Default)]
pub(crate) struct LogBatch {
    item: Vec<u8>,
    count: usize,
    /// Bytes of the last batch's envelope: the next one reserves as much and a little
    /// more at once (a buffer grown by doubling copies the batch again at each step).
    last_len: usize,
    /// When its first log came: the batch is due [`FLUSH_INTERVAL`] later.
    since: Option<Instant>,
}

impl LogBatch {
    /// Adds the log `write` writes (one JSON object); returns the envelope to send when
    /// the batch is full (by count or bytes).
    pub(crate) fn push(
        &mut self,
        now: Instant,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Option<Envelope> {
        if self.count == 0 {
            self.item.clear();
            self.item
                .reserve(FIRST_CAPACITY.max(self.last_len + self.last_len / 8));
            self.item.extend_from_slice(ITEMS_START);
        }
        let mark = self.item.len();
        if self.count > 0 {
            self.item.push(b',');
        }
        write(&mut self.item);
        let mut full = None;
        // A log that would take the batch over its byte limit starts the next one.
        if self.count > 0 && self.item.len() + ITEMS_END.len() > MAX_BATCH_BYTES {
            let log = self.item[mark + 1..].to_vec();
            self.item.truncate(mark);
            full = self.take();
            self.item
                .reserve(FIRST_CAPACITY.max(log.len() + ITEMS_START.len()));
            self.item.extend_from_slice(ITEMS_START);
            self.item.extend_from_slice(&log);
        }
        self.since.get_or_insert(now);
        self.count += 1;
        if full.is_none()
            && (self.count >= MAX_LOGS_PER_BATCH
                || self.item.len() + ITEMS_END.len() >= MAX_BATCH_BYTES)
        {
            full = self.take();
        }
        full
    }

    /// When the batch must be sent by time, if it holds anything.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.since.map(|since| since + FLUSH_INTERVAL)
    }

    /// Empties the batch into its envelope; `None` when it was empty.
    pub(crate) fn take(&mut self) -> Option<Envelope> {
        self.since = None;
        let count = std::mem::take(&mut self.count);
        let mut bytes = std::mem::take(&mut self.item);
        if count == 0 {
            self.item = bytes;
            return None;
        }
        bytes.extend_from_slice(ITEMS_END);
        let header = format!(
            "{{}}\n{{\"type\":\"log\",\"item_count\":{count},\"content_type\":\"{LOG_CONTENT_TYPE}\"}}\n"
        );
        bytes.splice(0..0, header.into_bytes());
        self.last_len = bytes.len();
        Envelope::from_bytes_raw(bytes).ok()
    }
}

/// How many logs the `log` items of a raw envelope's bytes hold, from their item
/// headers' `item_count` (the payloads are not parsed).
pub(crate) fn logs_in_raw(bytes: &[u8]) -> usize {
    #[derive(serde::Deserialize)]
    struct ItemHeader {
        #[serde(rename = "type")]
        ty: String,
        length: Option<usize>,
        item_count: Option<usize>,
    }
    let mut rest = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[end + 1..],
        None => return 0,
    };
    let mut logs = 0;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<ItemHeader>(&rest[..end]) else {
            break;
        };
        rest = rest.get(end + 1..).unwrap_or_default();
        if header.ty == "log" {
            logs += header.item_count.unwrap_or(0);
        }
        let payload = match header.length {
            Some(length) => length.min(rest.len()),
            None => rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
        };
        rest = rest.get(payload + 1..).unwrap_or_default();
    }
    logs
}

/// Metrics waiting for their envelope, batched as logs are (Sentry's metrics spec:
/// 100 per item or 5 s, and every flush). A metric is a few hundred bytes: 100 stay far
/// under the byte limit.
#[derive(Debug, Default)]
pub(crate) struct MetricBatch {
    metrics: Vec<sentry::protocol::Metric>,
    since: Option<Instant>,
}

impl MetricBatch {
    /// Adds `metrics`; returns the batches to send when full.
    pub(crate) fn push(
        &mut self,
        metrics: Vec<sentry::protocol::Metric>,
        now: Instant,
    ) -> Vec<Vec<sentry::protocol::Metric>> {
        let mut full = Vec::new();
        for metric in metrics {
            self.since.get_or_insert(now);
            self.metrics.push(metric);
            if self.metrics.len() >= MAX_LOGS_PER_BATCH {
                full.extend(self.take());
            }
        }
        full
    }

    /// When the batch must be sent by time, if it holds anything.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.since.map(|since| since + FLUSH_INTERVAL)
    }

    /// Empties the batch; `None` when it was empty.
    pub(crate) fn take(&mut self) -> Option<Vec<sentry::protocol::Metric>> {
        self.since = None;
        (!self.metrics.is_empty()).then(|| std::mem::take(&mut self.metrics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{EnvelopeItem, ItemContainer, Log};

    fn write_log(body: &str) -> impl FnOnce(&mut Vec<u8>) + '_ {
        move |out| {
            let log = serde_json::json!({
                "level": "info",
                "body": body,
                "timestamp": 1.5,
                "attributes": {"n": {"value": 1, "type": "integer"}},
            });
            serde_json::to_writer(out, &log).expect("serialises");
        }
    }

    fn parsed(envelope: &Envelope) -> Vec<Log> {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).expect("writes");
        assert_eq!(logs_in_raw(&bytes), {
            let parsed = Envelope::from_slice(&bytes).expect("parses");
            parsed
                .items()
                .map(|item| match item {
                    EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => logs.len(),
                    _ => 0,
                })
                .sum::<usize>()
        });
        Envelope::from_slice(&bytes)
            .expect("the sentry crate parses a batch")
            .into_items()
            .flat_map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => logs,
                other => panic!("not a log item: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_batch_is_sent_at_100_logs_and_starts_again() {
        let mut batch = LogBatch::default();
        let now = Instant::now();
        for i in 0..99 {
            assert!(batch.push(now, write_log(&format!("{i}"))).is_none());
        }
        assert_eq!(batch.due(), Some(now + FLUSH_INTERVAL));
        let sent = batch.push(now, write_log("99")).expect("full at 100");
        let logs = parsed(&sent);
        assert_eq!(logs.len(), MAX_LOGS_PER_BATCH);
        assert_eq!(logs[42].body, "42");
        assert_eq!(batch.due(), None);
        assert!(batch.take().is_none());
        assert!(batch.push(now, write_log("next")).is_none());
        assert_eq!(parsed(&batch.take().expect("one log"))[0].body, "next");
    }

    #[test]
    fn a_batch_never_exceeds_its_byte_limit() {
        let mut batch = LogBatch::default();
        let now = Instant::now();
        let big = "x".repeat(MAX_BATCH_BYTES / 7);
        let mut sent = Vec::new();
        for _ in 0..40 {
            sent.extend(batch.push(now, write_log(&big)));
        }
        sent.extend(batch.take());
        assert!(sent.len() > 1, "split by bytes, not count");
        let mut total = 0;
        for envelope in &sent {
            let mut bytes = Vec::new();
            envelope.to_writer(&mut bytes).expect("writes");
            let item = bytes.splitn(3, |&b| b == b'\n').nth(2).expect("payload");
            assert!(item.len() <= MAX_BATCH_BYTES, "{} bytes", item.len());
            total += parsed(envelope).len();
        }
        assert_eq!(total, 40);
    }
}
