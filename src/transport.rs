//! The transport: Sentry's own HTTP transport, given a client with hard timeouts and
//! wrapped so that every envelope is scrubbed right before it is queued for sending.
//! This is the one place all data passes, whatever produced it.

use std::sync::Arc;
use std::time::Duration;

use sentry::transports::{ReqwestHttpTransport, ReqwestHttpTransportOptions};
use sentry::{Envelope, Transport, TransportFactory, TransportOptions};

use crate::scrub::Scrubber;

/// Scrubs each envelope, then passes it on.
pub(crate) struct ScrubbingTransport {
    scrubber: Arc<Scrubber>,
    inner: Arc<dyn Transport>,
}

impl Transport for ScrubbingTransport {
    fn send_envelope(&self, envelope: Envelope) {
        self.inner
            .send_envelope(self.scrubber.scrub_envelope(envelope));
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.inner.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.shutdown(timeout)
    }
}

/// Builds [`ScrubbingTransport`]s around any inner factory (the reqwest one by default;
/// tests may pass another).
pub(crate) struct ScrubbingTransportFactory {
    pub(crate) scrubber: Arc<Scrubber>,
    pub(crate) inner: Arc<dyn TransportFactory>,
    pub(crate) losses: crate::worker::LossRecorder,
}

impl TransportFactory for ScrubbingTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let _ = self.losses.set(options.client_report_recorder.clone());
        Arc::new(ScrubbingTransport {
            scrubber: self.scrubber.clone(),
            inner: self.inner.create_transport_with_options(options),
        })
    }
}

/// Sentry's reqwest transport with connect and request timeouts, which it does not
/// set by itself: a server that accepts but never answers would hold it forever.
pub(crate) struct TimeoutHttpTransportFactory {
    pub(crate) timeout: Duration,
}

impl TransportFactory for TimeoutHttpTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .timeout(self.timeout);
        if let Some(proxy) = options
            .https_proxy
            .as_deref()
            .and_then(|p| reqwest::Proxy::https(p).ok())
        {
            builder = builder.proxy(proxy);
        }
        if let Some(proxy) = options
            .http_proxy
            .as_deref()
            .and_then(|p| reqwest::Proxy::http(p).ok())
        {
            builder = builder.proxy(proxy);
        }
        let transport_options = ReqwestHttpTransportOptions::from(options);
        let transport: ReqwestHttpTransport = match builder.build() {
            Ok(client) => transport_options.with_client(client).build(),
            // No TLS backend or a bad proxy: fall back to Sentry's own client setup.
            Err(_) => transport_options.build(),
        };
        Arc::new(transport)
    }
}
