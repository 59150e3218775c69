//! Scrubbing at the transport: every envelope is scrubbed right before it is queued for
//! HTTP, then fitted to Sentry's size limits (`budget`). This is the one place all data
//! passes, whatever produced it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sentry::client_report::Reason;
use sentry::protocol::{Context, DynamicSamplingContext, EnvelopeItem, Value};
use sentry::{Envelope, Transport, TransportFactory, TransportOptions};

use crate::budget::fit_envelope;
use crate::http::Outcomes;
use crate::scrub::Scrubber;
use crate::transaction::TRACE_HEADER_CONTEXT;

/// Scrubs each envelope, fits it to Sentry's limits, adds this crate's pending client
/// report, then passes it on (an envelope left empty is not sent). Items that cannot be
/// scrubbed are counted (`ReportStats::refused_unscrubbable`) and recorded for client
/// reports, never sent.
pub(crate) struct ScrubbingTransport {
    scrubber: Arc<Scrubber>,
    inner: Arc<dyn Transport>,
    outcomes: Arc<Outcomes>,
    losses: LossRecorder,
    discards: PendingDiscards,
    /// The DSN's public key, for the `trace` header of traces this service starts.
    public_key: String,
}

/// This crate's own discards as a client report (`Counters::take_client_report`), set
/// once the worker that counts them has started.
pub(crate) type PendingDiscards =
    Arc<std::sync::OnceLock<Box<dyn Fn() -> Option<sentry::protocol::ClientReport> + Send + Sync>>>;

/// Moves the request's dynamic sampling context from the report's or transaction's
/// [`TRACE_HEADER_CONTEXT`] to the envelope's `trace` header: the head's entries as they
/// came (a continued trace), else this service's own, completed from the item (trace id,
/// release, environment, transaction) and the DSN's public key.
fn move_trace_header(envelope: Envelope, public_key: &str) -> Envelope {
    let mut headers = envelope.headers().clone();
    let mut items: Vec<EnvelopeItem> = envelope.into_items().collect();
    let mut dsc = None;
    for item in &mut items {
        // Borrowed: copied into the header only when this service's own is built.
        let (contexts, release, environment, transaction) = match item {
            EnvelopeItem::Event(e) => (&mut e.contexts, &e.release, &e.environment, &e.transaction),
            EnvelopeItem::Transaction(t) => (&mut t.contexts, &t.release, &t.environment, &t.name),
            _ => continue,
        };
        let Some(Context::Other(mut entries)) = contexts.remove(TRACE_HEADER_CONTEXT) else {
            continue;
        };
        if entries.remove("continued").is_some() {
            dsc = serde_json::from_value::<DynamicSamplingContext>(Value::Object(
                entries.into_iter().collect(),
            ))
            .ok();
            continue;
        }
        let trace_id = match contexts.get("trace") {
            Some(Context::Trace(trace)) => trace.trace_id,
            _ => continue,
        };
        let text = |key: &str| entries.get(key).and_then(Value::as_str);
        let mut own = DynamicSamplingContext::new()
            .with_trace_id(trace_id)
            .with_public_key(public_key.to_owned());
        if let Some(rate) = text("sample_rate").and_then(|r| r.parse().ok()) {
            own = own.with_sample_rate(rate);
        }
        if let Some(sampled) = text("sampled").and_then(|r| r.parse().ok()) {
            own = own.with_sampled(sampled);
        }
        if let Some(release) = release {
            own = own.with_release(release.to_string());
        }
        if let Some(environment) = environment {
            own = own.with_environment(environment.to_string());
        }
        if let Some(transaction) = transaction {
            own = own.with_transaction(transaction.clone());
        }
        dsc = Some(own);
    }
    if let Some(dsc) = dsc {
        headers = headers.with_trace(dsc);
    }
    let mut out = Envelope::new().with_headers(headers);
    for item in items {
        out.add_item(item);
    }
    out
}

impl Transport for ScrubbingTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // Trimmed after scrubbing: a cut never splits a secret the scrubber must see whole.
        // The trace header from the scrubbed report: a transaction name or a head's
        // baggage entry holding a secret is sent as the report's own text is.
        let (envelope, refused) = self.scrubber.scrub_envelope_refusing(envelope);
        if !refused.is_empty() {
            self.outcomes
                .refused_unscrubbable
                .fetch_add(refused.len() as u64, Ordering::Relaxed);
            if let Some(recorder) = self.losses.get() {
                for refused in &refused {
                    recorder.record_lost_data(&refused.item, Reason::InternalError);
                }
            }
        }
        let envelope = move_trace_header(envelope, &self.public_key);
        let (mut envelope, trimmed) = fit_envelope(envelope);
        if trimmed > 0 {
            self.outcomes.trimmed.fetch_add(trimmed, Ordering::Relaxed);
        }
        if let Some(report) = self.discards.get().and_then(|take| take()) {
            envelope.add_item(report);
        }
        if envelope.items().next().is_some() {
            self.outcomes.forwarded.fetch_add(1, Ordering::Relaxed);
            self.inner.send_envelope(envelope);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.inner.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.shutdown(timeout)
    }
}

/// The transport the worker sends the envelopes it scrubbed itself to (batches of logs
/// written as JSON: raw envelopes, which the scrubber refuses from anywhere else). Set by
/// the factory when the client creates its transport; only this crate holds it, so no
/// other envelope can skip the scrubber.
pub(crate) type ScrubbedSink = Arc<std::sync::OnceLock<Arc<ScrubbingTransport>>>;

impl ScrubbingTransport {
    /// Passes on an envelope the worker scrubbed and fitted itself, then this crate's
    /// pending client report in an envelope of its own (a raw envelope takes no items).
    pub(crate) fn send_scrubbed(&self, envelope: Envelope) {
        self.outcomes.forwarded.fetch_add(1, Ordering::Relaxed);
        self.inner.send_envelope(envelope);
        if let Some(report) = self.discards.get().and_then(|take| take()) {
            let mut envelope = Envelope::new();
            envelope.add_item(report);
            self.outcomes.forwarded.fetch_add(1, Ordering::Relaxed);
            self.inner.send_envelope(envelope);
        }
    }
}

/// Where reports dropped before reaching the transport are recorded, so Sentry's
/// client reports tell the server about them with the next envelope that goes out.
/// Set by the transport factory when the client creates its transport.
pub(crate) type LossRecorder = Arc<std::sync::OnceLock<sentry::client_report::Recorder>>;

/// Builds [`ScrubbingTransport`]s around any inner factory (this crate's HTTP transport
/// by default; another may be passed to `init_with_transport`).
pub(crate) struct ScrubbingTransportFactory {
    pub(crate) scrubber: Arc<Scrubber>,
    pub(crate) inner: Arc<dyn TransportFactory>,
    pub(crate) losses: LossRecorder,
    pub(crate) outcomes: Arc<Outcomes>,
    pub(crate) discards: PendingDiscards,
    pub(crate) scrubbed: ScrubbedSink,
}

impl TransportFactory for ScrubbingTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let _ = self.losses.set(options.client_report_recorder.clone());
        let public_key = options.dsn.public_key().to_owned();
        let transport = Arc::new(ScrubbingTransport {
            public_key,
            scrubber: self.scrubber.clone(),
            inner: self.inner.create_transport_with_options(options),
            outcomes: self.outcomes.clone(),
            losses: self.losses.clone(),
            discards: self.discards.clone(),
        });
        let _ = self.scrubbed.set(transport.clone());
        transport
    }
}
