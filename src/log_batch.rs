//! Structured logs batched on the worker as Sentry's SDKs batch them
//! (<https://develop.sentry.dev/sdk/telemetry/logs/>, "Buffering"; sentry-rust's
//! `Batcher`): one `log` envelope item per batch, sent when it holds
//! [`MAX_LOGS_PER_BATCH`] logs, when it holds [`MAX_BATCH_BYTES`] of logs, or
//! [`FLUSH_INTERVAL`] after its first log, whichever comes first; and on every flush.

use std::time::{Duration, Instant};

use sentry::protocol::{Log, Value};

/// Logs per envelope item: sentry-rust's and sentry-python's `MAX_ITEMS` (100).
pub(crate) const MAX_LOGS_PER_BATCH: usize = 100;
/// Longest a log waits in a batch: sentry-rust's and sentry-python's 5 seconds.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// Bytes of logs (their JSON, estimated) at which a batch is sent: 1 MiB, Relay's
/// `max_log_size` and well under its envelope limit, so a batch is never refused whole.
pub(crate) const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// A single log's largest body and attribute text, in bytes, cut on a character
/// boundary (the capture bound already keeps field values far shorter): one log never
/// fills a batch alone.
pub(crate) const MAX_LOG_TEXT_BYTES: usize = 64 * 1024;

/// The logs waiting for their envelope.
#[derive(Debug, Default)]
pub(crate) struct LogBatch {
    logs: Vec<Log>,
    bytes: usize,
    /// When its first log came: the batch is due [`FLUSH_INTERVAL`] later.
    since: Option<Instant>,
}

fn cut(text: &mut String) {
    if text.len() > MAX_LOG_TEXT_BYTES {
        let mut end = MAX_LOG_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// A log's size in JSON, estimated from its texts (a few bytes of framing per value).
fn estimated_bytes(log: &Log) -> usize {
    let value_bytes = |value: &Value| match value {
        Value::String(s) => s.len(),
        _ => 24,
    };
    128 + log.body.len()
        + log
            .attributes
            .iter()
            .map(|(key, value)| key.len() + value_bytes(&value.0) + 32)
            .sum::<usize>()
}

impl LogBatch {
    /// Adds `log`; returns the batch to send when it is full (by count or bytes).
    pub(crate) fn push(&mut self, mut log: Log, now: Instant) -> Option<Vec<Log>> {
        cut(&mut log.body);
        for value in log.attributes.values_mut() {
            if let Value::String(s) = &mut value.0 {
                cut(s);
            }
        }
        let bytes = estimated_bytes(&log);
        // A log that would take the batch over its byte limit starts the next one.
        let mut full = None;
        if !self.logs.is_empty() && self.bytes + bytes > MAX_BATCH_BYTES {
            full = self.take();
        }
        self.since.get_or_insert(now);
        if self.logs.capacity() == 0 {
            // One allocation per batch: grown by doubling, a batch of 100 logs (a few
            // hundred bytes each, moved) was reallocated and copied seven times.
            self.logs.reserve_exact(MAX_LOGS_PER_BATCH);
        }
        self.bytes += bytes;
        self.logs.push(log);
        if full.is_none()
            && (self.logs.len() >= MAX_LOGS_PER_BATCH || self.bytes >= MAX_BATCH_BYTES)
        {
            full = self.take();
        }
        full
    }

    /// When the batch must be sent by time, if it holds anything.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.since.map(|since| since + FLUSH_INTERVAL)
    }

    /// Empties the batch; `None` when it was empty.
    pub(crate) fn take(&mut self) -> Option<Vec<Log>> {
        self.since = None;
        self.bytes = 0;
        (!self.logs.is_empty()).then(|| std::mem::take(&mut self.logs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{LogAttribute, LogLevel, Map};
    use std::time::SystemTime;

    fn log(body: &str) -> Log {
        Log {
            level: LogLevel::Info,
            body: body.to_owned(),
            trace_id: None,
            timestamp: SystemTime::now(),
            severity_number: None,
            attributes: Map::new(),
        }
    }

    #[test]
    fn a_batch_is_sent_at_100_logs_and_starts_again() {
        let mut batch = LogBatch::default();
        let now = Instant::now();
        for i in 0..99 {
            assert!(batch.push(log(&format!("{i}")), now).is_none());
        }
        assert_eq!(batch.due(), Some(now + FLUSH_INTERVAL));
        let sent = batch.push(log("99"), now).expect("full at 100");
        assert_eq!(sent.len(), MAX_LOGS_PER_BATCH);
        assert_eq!(batch.due(), None);
        assert!(batch.take().is_none());
    }

    #[test]
    fn a_batch_never_exceeds_its_byte_limit_and_texts_are_cut() {
        let mut batch = LogBatch::default();
        let now = Instant::now();
        let mut big = log(&"x".repeat(MAX_LOG_TEXT_BYTES * 3));
        big.attributes.insert(
            "note".into(),
            LogAttribute(Value::String("é".repeat(MAX_LOG_TEXT_BYTES))),
        );
        let mut sent = Vec::new();
        for _ in 0..40 {
            sent.extend(batch.push(big.clone(), now));
        }
        sent.extend(batch.take());
        assert_eq!(sent.iter().map(Vec::len).sum::<usize>(), 40);
        assert!(sent.len() > 1, "split by bytes, not count");
        for logs in &sent {
            let json = serde_json::to_vec(logs).expect("serialises");
            assert!(json.len() <= MAX_BATCH_BYTES, "{} bytes", json.len());
            for log in logs {
                assert!(log.body.len() <= MAX_LOG_TEXT_BYTES);
            }
        }
    }
}
