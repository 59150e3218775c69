//! Scrubbing at the transport: every envelope is scrubbed right before it is queued for
//! HTTP. This is the one place all data passes, whatever produced it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sentry::client_report::Reason;
use sentry::{Envelope, Transport, TransportFactory, TransportOptions};

use crate::http::Outcomes;
use crate::scrub::Scrubber;

/// Scrubs each envelope, then passes it on; items that cannot be scrubbed are counted
/// (`ReportStats::refused_unscrubbable`) and recorded for client reports, never sent.
pub(crate) struct ScrubbingTransport {
    scrubber: Arc<Scrubber>,
    inner: Arc<dyn Transport>,
    outcomes: Arc<Outcomes>,
    losses: LossRecorder,
}

impl Transport for ScrubbingTransport {
    fn send_envelope(&self, envelope: Envelope) {
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
}

impl TransportFactory for ScrubbingTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let _ = self.losses.set(options.client_report_recorder.clone());
        Arc::new(ScrubbingTransport {
            scrubber: self.scrubber.clone(),
            inner: self.inner.create_transport_with_options(options),
            outcomes: self.outcomes.clone(),
            losses: self.losses.clone(),
        })
    }
}
