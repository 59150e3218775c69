//! The HTTP transport: one thread that posts envelopes to Sentry with hard timeouts,
//! honours Sentry's rate limits (`429`, `Retry-After`, `X-Sentry-Rate-Limits`, with the
//! `sentry` crate's own `RateLimiter`), and counts what happened to every report:
//! delivered, failed, held back by a rate limit, or dropped because its queue was full
//! (or half full and its tenant held its share: `fair`).
//! Each loss is also recorded for Sentry's client reports, which go out with the next
//! envelope (the client re-records those of an envelope that is lost, and the worker
//! sends any left pending at a flush and at shutdown); an envelope held back by a rate
//! limit still sends its client reports. Nothing here ever blocks the caller, and
//! nothing waits for the thread longer than a caller's own timeout.
//!
//! Up to [`MAX_IN_FLIGHT`] envelopes are posted at once, on as many keep-alive
//! connections (reqwest's pool): one connection waits a round trip per envelope, which
//! capped delivery at a few thousand envelopes a second even against an endpoint that
//! answers at once.
//!
//! The HTTP stack (reqwest, hyper, h2, rustls) logs at DEBUG and TRACE through `tracing`
//! and `log`. None of it may reach the service's other sinks, so all of it runs on
//! threads of this transport whose tracing dispatcher is a no-op: the sending thread
//! drives reqwest's async client on its own single-threaded runtime (reqwest's blocking
//! client would run it on a thread of its own, logging through the global subscriber),
//! and the runtime's blocking threads (DNS lookups) are silenced as they start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use sentry::client_report::{Reason, Recorder};
use sentry::protocol::EnvelopeItem;
use sentry::transports::{RateLimiter, RateLimitingCategory};
use sentry::{Envelope, Transport, TransportFactory, TransportOptions};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinSet;

use crate::fair::FairShare;
use crate::flood::hash_tenant;
use crate::log_batch::logs_in_raw;
use crate::spool::{dsn_key, Replayed, Spool, SpoolOutcomes, SpoolSettings};
use crate::wire::TENANT_TAG;

/// Hard limit on one HTTP request to Sentry by default, so a server that never answers
/// cannot stall delivery.
pub(crate) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Envelopes posted at once at most (each on a keep-alive connection of its own while
/// all are in flight), once the last answer was a success. Until then (at the start,
/// and after a failure or a rate limit) one at a time: a `429` stops sending before a
/// second envelope goes, and an endpoint that hangs holds one request open, as before.
pub(crate) const MAX_IN_FLIGHT: usize = 8;

/// While the spool's circuit is open, one live envelope is posted at most this often, as
/// a probe (the others go to the spool): its success closes the circuit at once.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How often a flush retries queuing its request while the queue is full.
const FLUSH_POLL: Duration = Duration::from_millis(1);

/// How many of a queue's `capacity` places transactions may fill: half (at least
/// one), so that error reports, which matter more, always find the other half free.
/// The rule of this transport's queue and of the worker's.
pub(crate) fn transaction_share(capacity: usize) -> usize {
    (capacity / 2).max(1)
}

/// What happened to error reports once handed to the transport.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Transactions dropped because their share of the HTTP queue was full.
    pub(crate) transactions_dropped: AtomicU64,
    /// Structured logs dropped because their share of the HTTP queue was full (each
    /// envelope holds a batch of them).
    pub(crate) logs_dropped: AtomicU64,
    /// Metrics in envelopes dropped at the HTTP queue's share (as logs).
    pub(crate) metrics_dropped: AtomicU64,
    /// Requests counted in release-health aggregates dropped because the share of
    /// transactions, logs and sessions of the HTTP queue was full.
    pub(crate) sessions_dropped: AtomicU64,
    /// Envelope items the scrubbing transport refused to send (any inner transport).
    pub(crate) refused_unscrubbable: AtomicU64,
    /// Reports and transactions trimmed to fit Sentry's size limits (by the scrubbing
    /// transport, which every factory's transport sits behind).
    pub(crate) trimmed: AtomicU64,
    /// Envelopes the scrubbing transport passed on (it drops empty ones): tells the
    /// worker whether a flush's client-report envelope went out.
    pub(crate) forwarded: AtomicU64,
    /// Why the last envelope failed (`could not connect: connection refused`, `HTTP 500`),
    /// for the line said at shutdown. Never holds the URL or the key.
    pub(crate) last_failure: std::sync::Mutex<Option<String>>,
    /// The disk spool's counts (all zero without one).
    pub(crate) spool: Arc<SpoolOutcomes>,
    /// Set while a shutdown's final flush runs (the guard's drop, the exit hook): with a
    /// spool, what is not delivered by half the flush's timeout is written to it
    /// ([`HttpTransport::flush`]).
    pub(crate) closing: std::sync::atomic::AtomicBool,
}

impl Outcomes {
    fn set_last_failure(&self, why: String) {
        *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }

    /// Why the last envelope failed, if one did.
    pub(crate) fn last_failure(&self) -> Option<String> {
        self.last_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts `envelope` under `counter` if it carries an error report.
    fn count(counter: &AtomicU64, envelope: &Envelope) {
        let reports = envelope
            .items()
            .filter(|item| matches!(item, EnvelopeItem::Event(_)))
            .count() as u64;
        if reports > 0 {
            counter.fetch_add(reports, Ordering::Relaxed);
        }
    }
}

enum Task {
    /// An envelope and, for an error report, its tenant's hash (the queue's fair share).
    Send(Box<Envelope>, Option<u64>),
    /// A spooled envelope's bytes, sent as they are; the outcome goes back.
    Replay(Vec<u8>, Sender<Replayed>),
    Flush(Sender<()>),
}

/// Reads a raw envelope's bytes (the worker's batches of logs) without copying them:
/// `Envelope::to_writer` hands them over in one write.
struct RawLogCount(usize);

impl std::io::Write for RawLogCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += logs_in_raw(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_raw(envelope: &Envelope) -> bool {
    envelope.items().next().is_none()
}

/// Records `envelope` as lost for client reports; a raw one (a batch of logs) is parsed
/// first, its items being invisible otherwise.
fn record_lost(recorder: &Recorder, envelope: &Envelope, reason: Reason) {
    if !is_raw(envelope) {
        recorder.record_lost_data(envelope, reason);
        return;
    }
    let mut bytes = Vec::new();
    if envelope.to_writer(&mut bytes).is_ok() {
        if let Ok(parsed) = Envelope::from_slice(&bytes) {
            recorder.record_lost_data(&parsed, reason);
        }
    }
}

/// How many structured logs an envelope carries.
fn logs_in(envelope: &Envelope) -> usize {
    if is_raw(envelope) {
        let mut count = RawLogCount(0);
        return envelope.to_writer(&mut count).map_or(0, |()| count.0);
    }
    envelope
        .items()
        .map(|item| match item {
            EnvelopeItem::ItemContainer(sentry::protocol::ItemContainer::Logs(logs)) => logs.len(),
            _ => 0,
        })
        .sum()
}

/// How many metrics an envelope carries.
fn metrics_in(envelope: &Envelope) -> usize {
    envelope
        .items()
        .map(|item| match item {
            EnvelopeItem::ItemContainer(sentry::protocol::ItemContainer::Metrics(metrics)) => {
                metrics.len()
            }
            _ => 0,
        })
        .sum()
}

/// How many requests an envelope's release-health items count.
fn sessions_in(envelope: &Envelope) -> u64 {
    envelope
        .items()
        .map(|item| match item {
            EnvelopeItem::SessionAggregates(aggregates) => aggregates
                .aggregates
                .iter()
                .map(|a| {
                    u64::from(a.exited)
                        + u64::from(a.errored)
                        + u64::from(a.crashed)
                        + u64::from(a.abnormal)
                })
                .sum(),
            EnvelopeItem::SessionUpdate(_) => 1,
            _ => 0,
        })
        .sum()
}

/// The tenant of an envelope's error report, from its tenant tag (0: none); `None`
/// for an envelope without one (transactions, client reports).
fn report_tenant(envelope: &Envelope) -> Option<u64> {
    envelope.items().find_map(|item| match item {
        EnvelopeItem::Event(event) => Some(
            event
                .tags
                .get(TENANT_TAG)
                .map_or(0, |tenant| hash_tenant(tenant)),
        ),
        _ => None,
    })
}

pub(crate) struct HttpTransport {
    /// Everything but error reports (and flushes, and replays from the spool).
    tasks: mpsc::Sender<Task>,
    /// Error reports: the HTTP thread takes them before anything of `tasks`, so a burst of
    /// transactions or logs ahead of them never makes them wait (nor lose them at exit).
    errors: mpsc::Sender<Task>,
    capacity: usize,
    fair: Arc<FairShare>,
    /// Queued envelopes above which transactions are dropped: errors keep the rest.
    transaction_limit: usize,
    outcomes: Arc<Outcomes>,
    recorder: Recorder,
    spool: Option<Arc<Spool>>,
    /// Dropped with the transport: stops the spool's sending thread.
    _stop_spool: Sender<()>,
    /// Set to send every envelope queued or in flight to the spool at once (a shutdown
    /// running out of time, or Sentry already failing at shutdown). Only with a spool.
    abandon: tokio::sync::watch::Sender<bool>,
    /// Whether the last send ended in a network error (shared with the HTTP thread).
    circuit: Arc<Circuit>,
}

/// The spool's circuit breaker: open after a send ends in a network error (a timeout, a
/// refused connection), closed by the next HTTP answer. While it is open the HTTP thread
/// writes envelopes to the spool instead of posting them, so a Sentry that hangs does not
/// hold the queue behind one timed-out post at a time; one live envelope a second
/// ([`PROBE_EVERY`]) and the spool's own sends, paced and backing off, are the probes
/// that close it.
#[derive(Debug, Default)]
pub(crate) struct Circuit {
    open: std::sync::atomic::AtomicBool,
}

impl Circuit {
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    fn set(&self, open: bool) {
        self.open.store(open, Ordering::Relaxed);
    }
}

/// Keeps `envelope` in the spool, if there is one: `true` when it is on disk (the
/// caller then counts no loss).
fn spooled(spool: &Option<Arc<Spool>>, envelope: &Envelope) -> bool {
    spool.as_ref().is_some_and(|s| s.write(envelope).is_ok())
}

impl HttpTransport {
    /// Tasks waiting for the HTTP thread.
    fn queued(&self) -> usize {
        (self.tasks.max_capacity() - self.tasks.capacity())
            + (self.errors.max_capacity() - self.errors.capacity())
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // Transactions, batches of logs and sessions share half the queue: errors keep
        // the rest.
        let logs = logs_in(&envelope);
        let sessions = sessions_in(&envelope);
        let metrics = metrics_in(&envelope);
        if self.queued() >= self.transaction_limit
            && (logs > 0
                || sessions > 0
                || metrics > 0
                || envelope
                    .items()
                    .any(|item| matches!(item, EnvelopeItem::Transaction(_))))
        {
            if spooled(&self.spool, &envelope) {
                return;
            }
            if logs > 0 {
                self.outcomes
                    .logs_dropped
                    .fetch_add(logs as u64, Ordering::Relaxed);
            } else if metrics > 0 {
                self.outcomes
                    .metrics_dropped
                    .fetch_add(metrics as u64, Ordering::Relaxed);
            } else if sessions > 0 {
                self.outcomes
                    .sessions_dropped
                    .fetch_add(sessions, Ordering::Relaxed);
            } else {
                self.outcomes
                    .transactions_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
            record_lost(&self.recorder, &envelope, Reason::QueueOverflow);
            return;
        }
        let tenant = report_tenant(&envelope);
        if let Some(tenant) = tenant {
            if !self.fair.try_take(tenant, self.queued(), self.capacity) {
                if spooled(&self.spool, &envelope) {
                    return;
                }
                Outcomes::count(&self.outcomes.dropped, &envelope);
                record_lost(&self.recorder, &envelope, Reason::QueueOverflow);
                return;
            }
        }
        let is_error = envelope
            .items()
            .any(|item| matches!(item, EnvelopeItem::Event(_)));
        let task = Task::Send(Box::new(envelope), tenant);
        // One capacity for both queues.
        let sent = if self.queued() >= self.capacity {
            Err(TrySendError::Full(task))
        } else if is_error {
            self.errors.try_send(task)
        } else {
            self.tasks.try_send(task)
        };
        if let Err(
            TrySendError::Full(Task::Send(envelope, _))
            | TrySendError::Closed(Task::Send(envelope, _)),
        ) = sent
        {
            if let Some(tenant) = tenant {
                self.fair.release(tenant);
            }
            if spooled(&self.spool, &envelope) {
                return;
            }
            Outcomes::count(&self.outcomes.dropped, &envelope);
            record_lost(&self.recorder, &envelope, Reason::QueueOverflow);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let deadline = crate::sync::deadline_after(timeout);
        // At shutdown with a spool, nothing queued or in flight is dropped: what is not
        // delivered by half the timeout goes to disk in the other half (at once when
        // Sentry already fails).
        let spool_by = (self.spool.is_some() && self.outcomes.closing.load(Ordering::Relaxed))
            .then(|| crate::sync::deadline_after(timeout / 2));
        if spool_by.is_some() && self.circuit.is_open() {
            self.abandon.send_replace(true);
        }
        let flushed = self.flush_until(deadline, spool_by);
        self.abandon.send_replace(false);
        flushed
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }
}

impl HttpTransport {
    /// Queues a flush and waits for it until `deadline`; at `spool_by`, tells the HTTP
    /// thread to spool what is left.
    fn flush_until(&self, deadline: Instant, spool_by: Option<Instant>) -> bool {
        let (ack, done) = bounded(1);
        // Queued without blocking on the runtime's channel (the caller may be inside
        // an async runtime): retried while the queue is full, until the deadline.
        let mut task = Task::Flush(ack);
        loop {
            match self.tasks.try_send(task) {
                Ok(()) => break,
                Err(TrySendError::Closed(_)) => return false,
                Err(TrySendError::Full(back)) => task = back,
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(FLUSH_POLL);
        }
        if let Some(spool_by) = spool_by {
            if done.recv_deadline(spool_by).is_ok() {
                return true;
            }
            self.abandon.send_replace(true);
        }
        done.recv_deadline(deadline).is_ok()
    }
}

/// The HTTP transport's settings, filled by `ConfigBuilder::http_timeout`.
#[derive(Clone, Debug)]
pub(crate) struct HttpSettings {
    /// Hard limit on one HTTP request to Sentry.
    pub(crate) timeout: Duration,
    /// Where envelopes that cannot be sent wait (`ConfigBuilder::spool_dir`).
    pub(crate) spool: SpoolSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: DEFAULT_HTTP_TIMEOUT,
            spool: SpoolSettings::default(),
        }
    }
}

/// Makes [`HttpTransport`]s for the client.
pub(crate) struct HttpTransportFactory {
    pub(crate) settings: HttpSettings,
    pub(crate) capacity: usize,
    pub(crate) outcomes: Arc<Outcomes>,
}

impl TransportFactory for HttpTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let (tasks, queue) = mpsc::channel(self.capacity);
        let (errors, error_queue) = mpsc::channel(self.capacity);
        let recorder = options.client_report_recorder.clone();
        let envelope_url = options.dsn.envelope_api_url();
        let url = envelope_url.to_string();
        let auth = options.dsn.to_auth(Some(&options.user_agent)).to_string();
        let settings = ClientSettings {
            timeout: self.settings.timeout,
            user_agent: options.user_agent.to_string(),
            https_proxy: options.https_proxy.as_deref().map(str::to_owned),
            http_proxy: options.http_proxy.as_deref().map(str::to_owned),
            accept_invalid_certs: options.accept_invalid_certs,
        };
        let outcomes = self.outcomes.clone();
        let thread_recorder = recorder.clone();
        let fair = Arc::new(FairShare::default());
        let thread_fair = fair.clone();
        let spool = Spool::open(
            self.settings.spool.clone(),
            &dsn_key(&url, options.dsn.public_key()),
            self.outcomes.spool.clone(),
        );
        let thread_spool = spool.clone();
        let (abandon, abandoned) = tokio::sync::watch::channel(false);
        let circuit = Arc::new(Circuit::default());
        let thread_circuit = circuit.clone();
        // The runtime lives and dies on this thread: building or dropping one inside an
        // async context panics.
        let spawned = std::thread::Builder::new()
            .name("tracing-error-reports-http".into())
            .spawn(move || {
                silence_this_thread();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .thread_name("tracing-error-reports-http-blocking")
                    .on_thread_start(silence_this_thread)
                    .build()
                    .map_err(|err| {
                        eprintln!(
                            "tracing-error-reports: no HTTP runtime ({err}); reports will fail"
                        )
                    })
                    .ok();
                let client = runtime.as_ref().and_then(|rt| {
                    let _entered = rt.enter();
                    settings.build()
                });
                let poster = Poster {
                    url: envelope_url,
                    auth: Auth::new(auth),
                    client: runtime.zip(client),
                    outcomes,
                    recorder: thread_recorder,
                    fair: thread_fair,
                    spool: thread_spool,
                    abandoned,
                    circuit: thread_circuit,
                };
                poster.run(error_queue, queue)
            });
        if let Err(err) = spawned {
            // Every envelope will be counted as dropped by `send_envelope`.
            eprintln!("tracing-error-reports: could not start the HTTP thread: {err}");
        }
        let (stop_spool, stopped) = bounded(0);
        if let Some(spool) = &spool {
            let replays = tasks.clone();
            spool.start_sending(move |bytes| replay_through(&replays, bytes), stopped);
        }
        Arc::new(HttpTransport {
            tasks,
            errors,
            capacity: self.capacity,
            fair,
            transaction_limit: transaction_share(self.capacity),
            outcomes: self.outcomes.clone(),
            recorder,
            spool,
            _stop_spool: stop_spool,
            abandon,
            circuit,
        })
    }
}

/// Sends a spooled envelope through the HTTP thread's queue (its client and rate
/// limits) and waits for the outcome; one at a time, so never more than one file is
/// claimed and in flight.
fn replay_through(tasks: &mpsc::Sender<Task>, bytes: Vec<u8>) -> Replayed {
    let (answer, outcome) = bounded(1);
    if tasks.try_send(Task::Replay(bytes, answer)).is_err() {
        return Replayed::Busy;
    }
    outcome.recv().unwrap_or(Replayed::Unknown)
}

/// What the HTTP client is built from, on the HTTP thread.
struct ClientSettings {
    timeout: Duration,
    user_agent: String,
    https_proxy: Option<String>,
    http_proxy: Option<String>,
    #[cfg_attr(not(any(feature = "rustls", feature = "native-tls")), allow(dead_code))]
    accept_invalid_certs: bool,
}

/// Makes the calling thread's tracing dispatcher a no-op for the rest of its life, so
/// what the HTTP stack logs there (directly or through `log` and `LogTracer`) reaches
/// no subscriber. The guard is never dropped: dropping it would restore the default.
fn silence_this_thread() {
    std::mem::forget(tracing::dispatcher::set_default(&tracing::Dispatch::none()));
}

impl ClientSettings {
    fn build(self) -> Option<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .timeout(self.timeout)
            .user_agent(self.user_agent);
        if let Some(proxy) = self
            .https_proxy
            .as_deref()
            .and_then(|p| reqwest::Proxy::https(p).ok())
        {
            builder = builder.proxy(proxy);
        }
        if let Some(proxy) = self
            .http_proxy
            .as_deref()
            .and_then(|p| reqwest::Proxy::http(p).ok())
        {
            builder = builder.proxy(proxy);
        }
        // Without a TLS feature there is no certificate to check (https DSNs fail to connect).
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        if self.accept_invalid_certs {
            builder = builder.danger_accept_invalid_certs(true);
        }
        builder
            .build()
            .map_err(|err| {
                eprintln!("tracing-error-reports: no HTTP client ({err}); reports will fail")
            })
            .ok()
    }
}

/// Sentry's authentication header.
const X_SENTRY_AUTH: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-sentry-auth");

/// The `X-Sentry-Auth` value: checked once, not at every post; a text no header may
/// hold is given as text, so each post fails as it did before (counted).
enum Auth {
    Valid(reqwest::header::HeaderValue),
    Invalid(String),
}

impl Auth {
    fn new(text: String) -> Auth {
        match reqwest::header::HeaderValue::from_str(&text) {
            Ok(value) => Auth::Valid(value),
            Err(_) => Auth::Invalid(text),
        }
    }

    fn value(&self) -> AuthValue<'_> {
        AuthValue(self)
    }
}

/// What a request builder takes as the header's value.
struct AuthValue<'a>(&'a Auth);

impl TryFrom<AuthValue<'_>> for reqwest::header::HeaderValue {
    type Error = reqwest::header::InvalidHeaderValue;

    fn try_from(auth: AuthValue<'_>) -> Result<Self, Self::Error> {
        match auth.0 {
            Auth::Valid(value) => Ok(value.clone()),
            Auth::Invalid(text) => reqwest::header::HeaderValue::from_str(text),
        }
    }
}

/// The sending thread's state.
struct Poster {
    /// Parsed once: reqwest parses a URL given as text at every request.
    url: reqwest::Url,
    /// The `X-Sentry-Auth` value, validated once.
    auth: Auth,
    /// The runtime that drives the client, on this thread; `None` if either failed.
    client: Option<(tokio::runtime::Runtime, reqwest::Client)>,
    outcomes: Arc<Outcomes>,
    recorder: Recorder,
    fair: Arc<FairShare>,
    spool: Option<Arc<Spool>>,
    /// True while everything queued or in flight goes to the spool (shutdown).
    abandoned: tokio::sync::watch::Receiver<bool>,
    circuit: Arc<Circuit>,
}

/// Why a post got no answer.
enum Unanswered {
    /// A network error or timeout.
    Network(reqwest::Error),
    /// Given up at shutdown to be spooled (only with a spool).
    Abandoned,
}

/// Runs `work` until it ends, or `None` as soon as `abandoned` turns true.
async fn unless_abandoned<T>(
    work: impl std::future::Future<Output = T>,
    mut abandoned: tokio::sync::watch::Receiver<bool>,
) -> Option<T> {
    use std::future::Future;
    use std::task::Poll;
    let mut work = std::pin::pin!(work);
    let mut gone = std::pin::pin!(async move {
        // A transport dropped: its posts are spooled rather than waited for.
        let _ = abandoned.wait_for(|a| *a).await;
    });
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(done));
        }
        gone.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// What the server answered to one post: its rate-limit headers
/// (`X-Sentry-Rate-Limits`, `Retry-After`) and status.
type Answer = ([Option<String>; 2], reqwest::StatusCode);

/// A finished post: its envelope (boxed: it is moved through the runtime's task) and what
/// the server answered.
/// The middle flag: the spool already refused this envelope (not tried again).
type Posted = (Box<Envelope>, bool, Result<Answer, Unanswered>);

/// What the HTTP thread waits for next.
enum Next {
    /// A post finished (or its task failed: a panic inside the HTTP stack).
    Answered(Result<Posted, tokio::task::JoinError>),
    /// A task from the queue; `None` once every sender is gone.
    Task(Option<Task>),
}

impl Poster {
    fn run(mut self, mut errors: mpsc::Receiver<Task>, mut queue: mpsc::Receiver<Task>) {
        let Some((runtime, client)) = self.client.take() else {
            // No client: every envelope fails, counted (error reports first).
            loop {
                let task = match errors.try_recv() {
                    Ok(task) => task,
                    Err(_) => match queue.blocking_recv() {
                        Some(task) => task,
                        None => match errors.try_recv() {
                            Ok(task) => task,
                            Err(_) => break,
                        },
                    },
                };
                match task {
                    Task::Flush(ack) => {
                        let _ = ack.try_send(());
                    }
                    Task::Send(envelope, tenant) => {
                        if let Some(tenant) = tenant {
                            self.fair.release(tenant);
                        }
                        self.outcomes
                            .set_last_failure("no HTTP client could be built".to_owned());
                        self.lose(&self.outcomes.failed, &envelope, Reason::InternalError);
                    }
                    // Kept in the spool: a process with a client may send it.
                    Task::Replay(_, answer) => {
                        let _ = answer.try_send(Replayed::NetworkFailed);
                    }
                }
            }
            return;
        };
        runtime.block_on(self.deliver(&client, errors, queue));
    }

    /// Posts the queue's envelopes, up to [`MAX_IN_FLIGHT`] at once, until every sender
    /// is gone and every post has finished. A flush is answered once every envelope
    /// queued before it has been answered.
    async fn deliver(
        &self,
        client: &reqwest::Client,
        mut errors: mpsc::Receiver<Task>,
        mut queue: mpsc::Receiver<Task>,
    ) {
        let mut limits = RateLimiter::new();
        let mut in_flight = JoinSet::new();
        // Whether the last answer was a success: only then more than one at a time.
        let mut healthy = false;
        let mut next_probe = Instant::now();
        loop {
            // While the circuit is open, envelopes are taken (and spooled) while a probe
            // is in flight.
            let allowed = if healthy {
                MAX_IN_FLIGHT
            } else if self.circuit.is_open() {
                2
            } else {
                1
            };
            let next = std::future::poll_fn(|cx| {
                if let std::task::Poll::Ready(Some(done)) = in_flight.poll_join_next(cx) {
                    return std::task::Poll::Ready(Next::Answered(done));
                }
                if in_flight.len() < allowed {
                    // Error reports first; a flush (in `queue`) comes after every error
                    // queued before it, since those were taken first.
                    if let std::task::Poll::Ready(Some(task)) = errors.poll_recv(cx) {
                        return std::task::Poll::Ready(Next::Task(Some(task)));
                    }
                    if let std::task::Poll::Ready(task) = queue.poll_recv(cx) {
                        return std::task::Poll::Ready(Next::Task(task));
                    }
                }
                std::task::Poll::Pending
            })
            .await;
            match next {
                Next::Answered(done) => healthy = self.settle(done, &mut limits),
                Next::Task(Some(Task::Send(envelope, tenant))) => {
                    if let Some(tenant) = tenant {
                        self.fair.release(tenant);
                    }
                    // Sentry failing, or a shutdown out of time: straight to disk (posted
                    // after all if the disk refuses).
                    let probe = self.circuit.is_open() && Instant::now() >= next_probe;
                    if probe {
                        next_probe = Instant::now() + PROBE_EVERY;
                    }
                    let to_disk = (self.circuit.is_open() && !probe) || *self.abandoned.borrow();
                    if to_disk && spooled(&self.spool, &envelope) {
                        continue;
                    }
                    if let Some(post) = self.post(client, *envelope, &limits, to_disk) {
                        in_flight.spawn(post);
                    }
                }
                Next::Task(Some(Task::Flush(ack))) => {
                    while let Some(done) = in_flight.join_next().await {
                        healthy = self.settle(done, &mut limits);
                    }
                    let _ = ack.try_send(());
                }
                Next::Task(None) => break,
                Next::Task(Some(Task::Replay(bytes, answer))) => {
                    let replayed = self.replay(client, bytes, &mut limits).await;
                    match replayed {
                        Replayed::NetworkFailed => self.circuit.set(true),
                        Replayed::Delivered | Replayed::Refused => self.circuit.set(false),
                        _ => {}
                    }
                    let _ = answer.try_send(replayed);
                }
            }
        }
        while let Some(done) = in_flight.join_next().await {
            self.settle(done, &mut limits);
        }
    }

    fn lose(&self, counter: &AtomicU64, envelope: &Envelope, reason: Reason) {
        Outcomes::count(counter, envelope);
        record_lost(&self.recorder, envelope, reason);
    }

    /// The post of `envelope`, to run on the runtime, or `None` when nothing is left to
    /// send: held back by a rate limit (its client reports still go) or not serialisable,
    /// counted either way.
    fn post(
        &self,
        client: &reqwest::Client,
        mut envelope: Envelope,
        limits: &RateLimiter,
        spool_refused: bool,
    ) -> Option<impl std::future::Future<Output = Posted>> {
        // A batch of logs written by the worker (a raw envelope) under a limit of every
        // category waits as a typed one would.
        if is_raw(&envelope) && !limits.is_enabled(RateLimitingCategory::Any) {
            self.lose(
                &self.outcomes.rate_limited,
                &envelope,
                Reason::RatelimitBackoff,
            );
            return None;
        }
        let limited = envelope.items().any(|item| match item {
            EnvelopeItem::Event(_) => !limits.is_enabled(RateLimitingCategory::Error),
            EnvelopeItem::Transaction(_) => !limits.is_enabled(RateLimitingCategory::Transaction),
            // Client reports are never held back: they tell of these very losses.
            EnvelopeItem::ClientReport(_) => false,
            _ => !limits.is_enabled(RateLimitingCategory::Any),
        });
        if limited {
            let (mut reports, mut held) = (Envelope::new(), Envelope::new());
            for item in envelope.into_items() {
                match item {
                    EnvelopeItem::ClientReport(_) => reports.add_item(item),
                    other => held.add_item(other),
                }
            }
            self.lose(&self.outcomes.rate_limited, &held, Reason::RatelimitBackoff);
            // Nothing left to send but client reports, if any.
            reports.items().next()?;
            envelope = reports;
        }
        let mut body = Vec::new();
        if envelope.to_writer(&mut body).is_err() {
            self.lose(&self.outcomes.failed, &envelope, Reason::InternalError);
            return None;
        }
        // Built (and its timeout's timer started) when the runtime first polls it.
        let request = client
            .post(self.url.clone())
            .header(X_SENTRY_AUTH, self.auth.value())
            .body(body);
        let abandoned = self.spool.is_some().then(|| self.abandoned.clone());
        Some(async move {
            let answer = match abandoned {
                // Without a spool there is nowhere better to put it: waited for.
                None => posted(request).await.map_err(Unanswered::Network),
                Some(abandoned) => match unless_abandoned(posted(request), abandoned).await {
                    Some(answer) => answer.map_err(Unanswered::Network),
                    None => Err(Unanswered::Abandoned),
                },
            };
            (Box::new(envelope), spool_refused, answer)
        })
    }

    /// Counts a finished post: delivered, rate-limited (and the server's limits noted
    /// for later envelopes) or failed. True if it was delivered.
    fn settle(
        &self,
        done: Result<Posted, tokio::task::JoinError>,
        limits: &mut RateLimiter,
    ) -> bool {
        let (envelope, spool_refused, answer) = match done {
            Ok(done) => done,
            Err(_) => {
                // The post's task panicked (the envelope went with it): counted as a
                // failure, without the items it cannot name any more.
                self.outcomes.failed.fetch_add(1, Ordering::Relaxed);
                self.outcomes
                    .set_last_failure("the HTTP client panicked".to_owned());
                return false;
            }
        };
        let (response, status) = match answer {
            Ok(answer) => answer,
            Err(unanswered) => {
                if let Unanswered::Network(err) = unanswered {
                    self.outcomes.set_last_failure(failure_text(&err));
                    self.circuit.set(self.spool.is_some());
                }
                // Kept for later when there is a spool: only network errors are retried.
                if spool_refused || !spooled(&self.spool, &envelope) {
                    self.lose(&self.outcomes.failed, &envelope, Reason::NetworkError);
                }
                return false;
            }
        };
        self.circuit.set(false);
        apply_limits(limits, response, status);
        if status.is_success() {
            Outcomes::count(&self.outcomes.delivered, &envelope);
            if let Some(spool) = &self.spool {
                spool.live_send_succeeded();
            }
        } else if status.as_u16() == 429 {
            // The server counted this one itself; only later ones it never sees are
            // reported as `ratelimit_backoff`.
            Outcomes::count(&self.outcomes.rate_limited, &envelope);
        } else {
            self.outcomes
                .set_last_failure(format!("answered HTTP {}", status.as_u16()));
            self.lose(&self.outcomes.failed, &envelope, Reason::SendError);
        }
        status.is_success()
    }

    /// Sends a spooled envelope by the protocol's rules: held while its category is
    /// rate-limited; 2xx delivered; 429 refused without a client report (the server
    /// counted it); 413 and other 4xx/5xx refused with one; a network error kept.
    async fn replay(
        &self,
        client: &reqwest::Client,
        body: Vec<u8>,
        limits: &mut RateLimiter,
    ) -> Replayed {
        let Ok(envelope) = Envelope::from_slice(&body) else {
            // The spool checked it when it claimed the file.
            return Replayed::Refused;
        };
        let limited = envelope
            .items()
            .filter_map(|item| limits.is_disabled(rate_limit_category(item)?))
            .max();
        if let Some(left) = limited {
            return Replayed::Limited(left);
        }
        if *self.abandoned.borrow() {
            return Replayed::NetworkFailed;
        }
        let post = posted(
            client
                .post(self.url.clone())
                .header(X_SENTRY_AUTH, self.auth.value())
                .body(body),
        );
        // Given up at shutdown: the file stays for the next start.
        let Some(answer) = unless_abandoned(post, self.abandoned.clone()).await else {
            return Replayed::NetworkFailed;
        };
        let status = match answer {
            Err(err) => {
                self.outcomes.set_last_failure(failure_text(&err));
                return Replayed::NetworkFailed;
            }
            Ok((response, status)) => {
                apply_limits(limits, response, status);
                status
            }
        };
        match status {
            status if status.is_success() => Replayed::Delivered,
            status if status.as_u16() == 429 => Replayed::Refused,
            _ => {
                self.recorder.record_lost_data(&envelope, Reason::SendError);
                Replayed::Refused
            }
        }
    }
}

/// The rate-limit category of an envelope item; `None` for client reports, never held
/// back (they tell of these very losses).
fn rate_limit_category(item: &EnvelopeItem) -> Option<RateLimitingCategory> {
    Some(match item {
        EnvelopeItem::Event(_) => RateLimitingCategory::Error,
        EnvelopeItem::Transaction(_) => RateLimitingCategory::Transaction,
        EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => {
            RateLimitingCategory::Session
        }
        EnvelopeItem::ClientReport(_) => return None,
        _ => RateLimitingCategory::Any,
    })
}

/// Sends `request` and reads the answer: its rate-limit headers and status.
async fn posted(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let limits = ["x-sentry-rate-limits", "retry-after"].map(|name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    // Read the (short) body so the connection can be reused.
    let _ = response.bytes().await;
    Ok((limits, status))
}

/// Notes the server's rate limits from an answer (for later envelopes).
fn apply_limits(
    limits: &mut RateLimiter,
    headers: [Option<String>; 2],
    status: reqwest::StatusCode,
) {
    let [sentry_limits, retry_after] = headers;
    if let Some(limits_header) = sentry_limits {
        limits.update_from_sentry_header(&limits_header);
    } else if let Some(retry_after) = retry_after {
        limits.update_from_retry_after(&retry_after);
    } else if status.as_u16() == 429 {
        limits.update_from_429();
    }
}

/// A request error as a short cause: what failed and the innermost source (`could not
/// connect: Connection refused (os error 111)`), without reqwest's URL.
fn failure_text(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut innermost: &dyn std::error::Error = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    if std::ptr::addr_eq(innermost, err as &dyn std::error::Error) {
        what.to_owned()
    } else {
        format!("{what}: {innermost}")
    }
}
