//! Scrubbing at the transport: every envelope is scrubbed right before it is queued for
//! HTTP, then fitted to Sentry's size limits (`budget`). This is the one place all data
//! passes, whatever produced it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sentry::{Envelope, Transport, TransportFactory, TransportOptions};

use crate::budget::fit_envelope;
use crate::http::Outcomes;
use crate::scrub::Scrubber;

/// Scrubs each envelope, fits it to Sentry's limits, adds this crate's pending client
/// report, then passes it on (an envelope left empty is not sent).
pub(crate) struct ScrubbingTransport {
    scrubber: Arc<Scrubber>,
    inner: Arc<dyn Transport>,
    outcomes: Arc<Outcomes>,
    discards: PendingDiscards,
}

/// This crate's own discards as a client report (`Counters::take_client_report`), set
/// once the worker that counts them has started.
pub(crate) type PendingDiscards =
    Arc<std::sync::OnceLock<Box<dyn Fn() -> Option<sentry::protocol::ClientReport> + Send + Sync>>>;

impl Transport for ScrubbingTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // Trimmed after scrubbing: a cut never splits a secret the scrubber must see whole.
        let (mut envelope, trimmed) = fit_envelope(self.scrubber.scrub_envelope(envelope));
        if trimmed > 0 {
            self.outcomes.trimmed.fetch_add(trimmed, Ordering::Relaxed);
        }
        if let Some(report) = self.discards.get().and_then(|take| take()) {
            envelope.add_item(report);
        }
        if envelope.items().next().is_some() {
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
}

impl TransportFactory for ScrubbingTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let _ = self.losses.set(options.client_report_recorder.clone());
        Arc::new(ScrubbingTransport {
            scrubber: self.scrubber.clone(),
            inner: self.inner.create_transport_with_options(options),
            outcomes: self.outcomes.clone(),
            discards: self.discards.clone(),
        })
    }
}
