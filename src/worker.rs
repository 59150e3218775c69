//! The background worker: a bounded queue between the threads that log and the one
//! thread that converts, scrubs and hands reports to the Sentry transport.
//!
//! A full queue drops the new report and counts it; nothing on the calling thread
//! ever waits for the worker, except an explicit flush, which has a hard deadline.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use sentry::Envelope;

use crate::fair::FairShare;
use crate::flood::hash_tenant;
use crate::hooks::{apply_hooks, Dropped, Hooks};
use crate::http::{transaction_share, Outcomes};
use crate::log_batch::{LogBatch, MetricBatch};
use crate::report::{
    default_log_attributes, look_up_symbols, mark_in_app, LogWriter, Looked, Lookup, PendingLog,
    PendingMetrics, PendingReport, SYMBOLS_FIRST_WAIT, SYMBOLS_LONGEST_WAIT,
};
use crate::scrub::Scrubber;
use crate::sessions::{earliest, SessionSender, Sessions};
use crate::spool::SpoolStats;
use crate::sync::busy_for_good;
use crate::transaction::FinishedTransaction;
use crate::transport::{LossRecorder, ScrubbedSink};

/// Reports that may wait for the worker (and envelopes for the HTTP transport) by
/// default, before new ones are dropped and counted.
pub(crate) const DEFAULT_QUEUE_CAPACITY: NonZeroUsize =
    NonZeroUsize::new(2048).expect("2048 is not zero");

pub(crate) enum Job {
    /// A report and its tenant's hash (0: none), for the queue's fair share.
    Report(Box<PendingReport>, u64),
    Transaction(Box<FinishedTransaction>),
    /// A structured log, batched on the worker (`log_batch`).
    Log(Box<PendingLog>),
    /// A tracing event's metrics, batched on the worker (`log_batch::MetricBatch`).
    Metrics(Box<PendingMetrics>),
    Flush(Sender<bool>, Instant),
}

/// How many of the worker's queue places structured logs may fill: a quarter (at least
/// one). Logs are many and matter least: error reports keep three quarters of the
/// queue whatever the logs do, and transactions their half.
pub(crate) fn log_share(capacity: usize) -> usize {
    (capacity / 4).max(1)
}

/// Counts of what happened to reports, readable at any time through
/// [`ReportingGuard::stats`](crate::ReportingGuard::stats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportStats {
    /// Error events and panics accepted into the queue.
    pub queued: u64,
    /// Reports dropped because the queue was full, or more than half full and their
    /// tenant held its even share of it already (tenant-fair admission: a loud tenant
    /// never fills the queue for the others).
    pub dropped_queue_full: u64,
    /// Reports held back by flood control (each key's later repeats in a window).
    pub suppressed: u64,
    /// Transactions accepted into the queue.
    pub transactions_queued: u64,
    /// Transactions dropped because their share of a queue was full: transactions may
    /// fill at most half of the worker's queue and half of the HTTP queue, so that a
    /// burst of transactions never drops an error report (errors keep the other half).
    pub transactions_dropped: u64,
    /// Error events and panics not reported because of the sample rate (never queued).
    pub sampled_out: u64,
    /// Reports queued, then dropped by `ignore_error` or `before_send`, and direct
    /// `sentry::capture_*` calls they dropped: `ignored + dropped_by_before_send`.
    pub discarded: u64,
    /// Of `discarded`: reports dropped by `ignore_error`, and direct captures dropped by
    /// any hook (the hooks run as an event processor there). Told to Sentry as
    /// `event_processor`.
    pub ignored: u64,
    /// Of `discarded`: reports dropped by `before_send`. Told to Sentry as `before_send`.
    pub dropped_by_before_send: u64,
    /// Direct `sentry::capture_*` calls through the client bound to the main hub
    /// (`ConfigBuilder::bind_main_hub`), counted when captured.
    pub captured_directly: u64,
    /// Reports lost to a fault inside this crate (a panic while converting, hooking or
    /// scrubbing one): never sent, unscrubbed or otherwise; the worker goes on.
    pub lost_to_internal_error: u64,
    /// Reports and transactions handed to the Sentry transport.
    pub handed_to_transport: u64,
    /// Reports the server accepted (this crate's HTTP transport only).
    pub delivered: u64,
    /// Reports that could not be sent: connection errors, timeouts, 4xx/5xx answers
    /// (with a disk spool, the connection errors and timeouts it could not keep).
    pub failed: u64,
    /// Reports held back by a rate limit of the server (`429`, `Retry-After`,
    /// `X-Sentry-Rate-Limits`).
    pub rate_limited: u64,
    /// Reports dropped because the HTTP queue was full, or more than half full and their
    /// tenant held its even share of it already.
    pub dropped_in_transport: u64,
    /// Envelope items never sent because they could not be inspected, so not scrubbed:
    /// binary attachments, raw envelopes and item types this version does not know
    /// (`tracing_scrub::RefusedItem`). Each is also recorded for Sentry's client
    /// reports (reason `internal_sdk_error`). Events, transactions, check-ins, logs,
    /// metrics, sessions and text attachments are scrubbed and sent, never refused.
    pub refused_unscrubbable: u64,
    /// Error events not reported because they log an error already reported in the same
    /// request, inside the span they are logged in (one error propagated through nested
    /// `#[instrument(err)]` functions): each is a breadcrumb of the request instead.
    pub deduplicated: u64,
    /// Error events and transactions trimmed to fit Sentry's size limits (1 MiB an
    /// event or transaction, Relay's `max_event_size`); each says what was cut in its
    /// `trimmed` context ([`TRIMMED_CONTEXT`](crate::wire::TRIMMED_CONTEXT)).
    pub trimmed: u64,
    /// Requests whose incoming `sentry.trace` or `traceparent` span field was invalid
    /// (W3C Trace Context parsed strictly: an uppercase id too): each started a new trace.
    pub refused_trace_headers: u64,
    /// Events for which the `event_filter` callback panicked: each was routed as if
    /// the filter had let it through (a failing filter loses no error), said once on
    /// stderr.
    pub event_filter_panics: u64,
    /// Structured logs accepted into the worker's queue
    /// ([`ConfigBuilder::enable_logs`](crate::ConfigBuilder::enable_logs)).
    pub logs_queued: u64,
    /// Structured logs dropped because their share of a queue was full: logs may fill
    /// at most a quarter of the worker's queue and half of the HTTP queue (whose
    /// envelopes hold up to 100 logs each), so logs never drop an error report. Told to
    /// Sentry in client reports (category `log_item`, reason `queue_overflow`).
    pub logs_dropped: u64,
    /// Structured logs held back by flood control (a callsite's logs of one tenant
    /// beyond the log flood limit in a window). Told to Sentry in client reports
    /// (category `log_item`, reason `sample_rate`, as held-back error reports are).
    pub logs_suppressed: u64,
    /// Metrics accepted into the worker's queue
    /// ([`ConfigBuilder::enable_metrics`](crate::ConfigBuilder::enable_metrics)).
    pub metrics_queued: u64,
    /// Metrics dropped because their share of a queue was full (they share the logs'
    /// quarter of the worker's queue and the non-error half of the HTTP queue). Told to
    /// Sentry in client reports (category `trace_metric`, reason `queue_overflow`).
    pub metrics_dropped: u64,
    /// Metrics held back by flood control (a callsite's events of one tenant beyond the
    /// metric flood limit in a window). Told to Sentry in client reports (category
    /// `trace_metric`, reason `sample_rate`).
    pub metrics_suppressed: u64,
    /// Requests whose outcome release health counted (ok, errored or crashed), with
    /// [`ConfigBuilder::auto_session_tracking`](crate::ConfigBuilder::auto_session_tracking).
    pub sessions: u64,
    /// Of `sessions`: the ones whose `sessions` envelope was dropped because the HTTP
    /// queue's share of transactions, logs and sessions was full (told to Sentry in
    /// client reports, category `session`).
    pub sessions_dropped: u64,
    /// Error reports kept in the disk spool after a network error or at a full HTTP
    /// queue (`ConfigBuilder::spool_dir`), to be sent later by this process or the
    /// next: no longer pending here.
    pub spooled: u64,
    /// What the disk spool did, in envelopes.
    pub spool: SpoolStats,
    /// What the project's PiiConfig matched ([`ConfigBuilder::pii_config`](crate::ConfigBuilder::pii_config)):
    /// empty without one.
    pub pii_config: PiiConfigStats,
}

/// What the project's PiiConfig matched in the reports, transactions and logs sent so
/// far, in [`ReportStats::pii_config`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PiiConfigStats {
    /// Whether the PiiConfig is a dry run
    /// ([`ConfigBuilder::pii_config_dry_run`](crate::ConfigBuilder::pii_config_dry_run)):
    /// then `matches` counts what it *would* have removed, and nothing was removed.
    pub dry_run: bool,
    /// By rule id (the name the document gives a rule, `@ip:replace`-style for
    /// built-in rules; a `multiple` or `alias` with `hide_inner` counts its inner
    /// rules' matches under its own id): the values and parts of values removed, or in
    /// a dry run that would have been. Rules that matched nothing are absent.
    pub matches: std::collections::BTreeMap<String, u64>,
}

impl ReportStats {
    /// Reports queued but not yet delivered, failed or dropped: in flight, or, after a
    /// shutdown that timed out, not delivered (this crate's HTTP transport only).
    pub fn pending(&self) -> u64 {
        (self.queued + self.captured_directly).saturating_sub(
            self.delivered
                + self.failed
                + self.rate_limited
                + self.dropped_in_transport
                + self.discarded
                + self.lost_to_internal_error
                + self.spooled,
        )
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) suppressed: AtomicU64,
    pub(crate) transactions_queued: AtomicU64,
    pub(crate) transactions_dropped: AtomicU64,
    pub(crate) handed_to_transport: AtomicU64,
    pub(crate) sampled_out: AtomicU64,
    pub(crate) discarded: AtomicU64,
    pub(crate) ignored: AtomicU64,
    pub(crate) dropped_by_before_send: AtomicU64,
    pub(crate) captured_directly: AtomicU64,
    pub(crate) lost_to_internal_error: AtomicU64,
    pub(crate) deduplicated: AtomicU64,
    pub(crate) refused_trace_headers: AtomicU64,
    pub(crate) event_filter_panics: AtomicU64,
    pub(crate) logs_queued: AtomicU64,
    pub(crate) logs_dropped: AtomicU64,
    pub(crate) logs_suppressed: AtomicU64,
    pub(crate) metrics_queued: AtomicU64,
    pub(crate) metrics_dropped: AtomicU64,
    pub(crate) metrics_suppressed: AtomicU64,
    /// Log and metric jobs in the queue now: their share is of their own number, not of
    /// the queue's length (300 concurrent requests' transactions made a quarter of the
    /// queue look full to logs, and a newcomer lost 41% of them).
    logs_waiting: std::sync::atomic::AtomicUsize,
    pub(crate) transport: Arc<Outcomes>,
    /// Release health's counts, when on.
    sessions: std::sync::OnceLock<Arc<Sessions>>,
    /// Of `ignored`: the layer's own reports (the client tells Sentry of direct ones).
    ignored_on_worker: AtomicU64,
    /// What [`Counters::take_client_report`] has told Sentry so far, per discard kind.
    told: std::sync::Mutex<[u64; DISCARD_KINDS]>,
    /// What was told so far of logs dropped at the worker's queue and held back.
    told_logs: std::sync::Mutex<[u64; 2]>,
    /// The same for metrics.
    told_metrics: std::sync::Mutex<[u64; 2]>,
}

/// The discards this crate tells Sentry of itself (the client and the transport tell
/// of the rest): sampling and flood control, `ignore_error`, `before_send`, faults.
const DISCARD_KINDS: usize = 4;

impl Counters {
    /// Release health's counts, when on.
    pub(crate) fn sessions(&self) -> Option<&Arc<Sessions>> {
        self.sessions.get()
    }

    pub(crate) fn snapshot(&self) -> ReportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ReportStats {
            queued: get(&self.queued),
            dropped_queue_full: get(&self.dropped_queue_full),
            suppressed: get(&self.suppressed),
            transactions_queued: get(&self.transactions_queued),
            transactions_dropped: get(&self.transactions_dropped)
                + get(&self.transport.transactions_dropped),
            handed_to_transport: get(&self.handed_to_transport),
            sampled_out: get(&self.sampled_out),
            discarded: get(&self.discarded),
            ignored: get(&self.ignored),
            dropped_by_before_send: get(&self.dropped_by_before_send),
            captured_directly: get(&self.captured_directly),
            lost_to_internal_error: get(&self.lost_to_internal_error),
            delivered: get(&self.transport.delivered),
            failed: get(&self.transport.failed),
            rate_limited: get(&self.transport.rate_limited),
            dropped_in_transport: get(&self.transport.dropped),
            refused_unscrubbable: get(&self.transport.refused_unscrubbable),
            deduplicated: get(&self.deduplicated),
            trimmed: get(&self.transport.trimmed),
            refused_trace_headers: get(&self.refused_trace_headers),
            event_filter_panics: get(&self.event_filter_panics),
            logs_queued: get(&self.logs_queued),
            logs_dropped: get(&self.logs_dropped) + get(&self.transport.logs_dropped),
            logs_suppressed: get(&self.logs_suppressed),
            metrics_queued: get(&self.metrics_queued),
            metrics_dropped: get(&self.metrics_dropped) + get(&self.transport.metrics_dropped),
            metrics_suppressed: get(&self.metrics_suppressed),
            sessions: self
                .sessions
                .get()
                .map_or(0, |s| s.recorded.load(Ordering::Relaxed)),
            sessions_dropped: get(&self.transport.sessions_dropped),
            spooled: get(&self.transport.spool.written_reports),
            spool: self.transport.spool.snapshot(),
            // Kept by the scrubber: filled in by `Reporting::stats`.
            pii_config: PiiConfigStats::default(),
        }
    }
}

impl Counters {
    /// A client report of the error events this crate dropped since the last one, for
    /// the next envelope: sampled out or held back by flood control (`sample_rate`:
    /// flood control samples a key's repeats), dropped by `ignore_error`
    /// (`event_processor`) or `before_send` (`before_send`), lost to a fault
    /// (`internal_sdk_error`). `None` when there is nothing new. Queue, rate-limit and
    /// network losses are recorded where they happen, through the client's recorder.
    pub(crate) fn take_client_report(&self) -> Option<sentry::protocol::ClientReport> {
        use sentry::protocol::client_report::{Category, Item, Reason};
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let now = [
            get(&self.sampled_out) + get(&self.suppressed),
            get(&self.ignored_on_worker),
            get(&self.dropped_by_before_send),
            get(&self.lost_to_internal_error),
        ];
        let reasons = [
            Reason::SampleRate,
            Reason::EventProcessor,
            Reason::BeforeSend,
            Reason::InternalSdkError,
        ];
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        let mut items: Vec<Item> = (0..DISCARD_KINDS)
            .filter(|&i| now[i] > told[i])
            .map(|i| Item::new(Category::Error, reasons[i], now[i] - told[i]))
            .collect();
        items.extend(self.transport.spool.take_report_items());
        *told = now;
        drop(told);
        // Logs dropped before the transport (the HTTP queue records its own losses).
        let logs_now = [get(&self.logs_dropped), get(&self.logs_suppressed)];
        let log_reasons = [Reason::QueueOverflow, Reason::SampleRate];
        let mut told_logs = self.told_logs.lock().unwrap_or_else(|e| e.into_inner());
        items.extend((0..2).filter(|&i| logs_now[i] > told_logs[i]).map(|i| {
            Item::new(
                Category::LogItem,
                log_reasons[i],
                logs_now[i] - told_logs[i],
            )
        }));
        *told_logs = logs_now;
        drop(told_logs);
        let metrics_now = [get(&self.metrics_dropped), get(&self.metrics_suppressed)];
        let mut told_metrics = self.told_metrics.lock().unwrap_or_else(|e| e.into_inner());
        items.extend(
            (0..2)
                .filter(|&i| metrics_now[i] > told_metrics[i])
                .map(|i| {
                    Item::new(
                        Category::TraceMetric,
                        log_reasons[i],
                        metrics_now[i] - told_metrics[i],
                    )
                }),
        );
        *told_metrics = metrics_now;
        (!items.is_empty()).then(|| sentry::protocol::ClientReport::new(items))
    }
}

/// The sending side, shared by the layer, the panic hook and the guard.
pub(crate) struct Worker {
    sender: Sender<Job>,
    capacity: usize,
    /// Tenants' places in the queue ([`FairShare`]).
    fair: Arc<FairShare>,
    /// Queued jobs above which transactions are dropped ([`transaction_share`]).
    transaction_limit: usize,
    /// Queued jobs above which logs are dropped ([`log_share`]).
    log_limit: usize,
    pub(crate) counters: Arc<Counters>,
    losses: LossRecorder,
    /// Stands for one lost error event when recording a loss.
    lost_event: sentry::protocol::Event<'static>,
    pub(crate) shutdown_timeout: Duration,
    sentry_host: String,
    /// The reports accepted (`accepted()`) when a shutdown last said what it had to:
    /// the exit hook neither waits nor speaks again for the same reports.
    settled: std::sync::Mutex<Option<u64>>,
    /// Release health's counts, when on (the layer counts requests into them).
    pub(crate) sessions: Option<Arc<Sessions>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// The worker's settings, filled by `ConfigBuilder` (`queue_capacity` and the hooks)
/// and moved whole by `init`.
#[derive(Clone, Debug)]
pub(crate) struct WorkerSettings {
    /// Reports that may wait in the queue.
    pub(crate) capacity: NonZeroUsize,
    pub(crate) hooks: Hooks,
    /// How long a shutdown (the guard's drop, the process's exit) waits for delivery;
    /// `init` copies the client's.
    pub(crate) shutdown_timeout: Duration,
    /// Where reports go (the DSN's host), for the line said at shutdown.
    pub(crate) sentry_host: String,
    /// Release health in request mode (`auto_session_tracking`).
    pub(crate) sessions: bool,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            capacity: DEFAULT_QUEUE_CAPACITY,
            hooks: Hooks::default(),
            shutdown_timeout: Duration::from_secs(2),
            sentry_host: String::new(),
            sessions: false,
        }
    }
}

/// What the worker thread works with: its settings and the client (whose options give
/// the release and environment of transactions).
struct Thread {
    client: Arc<sentry::Client>,
    hooks: Hooks,
    /// Writes logs as JSON, scrubbed (their trace outside any request is one per
    /// worker, as an SDK's propagation context outside a span).
    log_writer: LogWriter,
    /// Where the batches of logs go, already scrubbed.
    scrubbed: ScrubbedSink,
    /// The attributes every metric carries (environment, release, SDK).
    metric_attributes: sentry::protocol::Map<String, sentry::protocol::LogAttribute>,
    process_trace: sentry::protocol::TraceId,
    /// Sends the release-health aggregates, when on.
    sessions: Option<SessionSender>,
}

impl Worker {
    /// Starts the worker thread. If the thread cannot be spawned the worker still
    /// exists but every report is counted as dropped.
    pub(crate) fn start(
        settings: WorkerSettings,
        client: Arc<sentry::Client>,
        losses: LossRecorder,
        transport: Arc<Outcomes>,
        scrubbed: ScrubbedSink,
        scrubber: Arc<Scrubber>,
    ) -> Worker {
        let capacity = settings.capacity.get();
        let (sender, receiver) = bounded(capacity);
        let shutdown_timeout = settings.shutdown_timeout;
        let sentry_host = settings.sentry_host;
        let sessions = settings
            .sessions
            .then(|| Sessions::new(client.options()).map(Arc::new))
            .flatten();
        let process_trace = crate::request::random_trace_id();
        let settings = Thread {
            sessions: sessions.clone().map(SessionSender::new),
            log_writer: LogWriter::new(client.options(), scrubber, process_trace),
            scrubbed,
            metric_attributes: default_log_attributes(client.options()),
            process_trace,
            client,
            hooks: settings.hooks,
        };
        let counters = Arc::new(Counters {
            transport,
            ..Counters::default()
        });
        if let Some(sessions) = &sessions {
            let _ = counters.sessions.set(sessions.clone());
        }
        let thread_counters = counters.clone();
        let fair = Arc::new(FairShare::default());
        let thread_fair = fair.clone();
        let spawned = std::thread::Builder::new()
            .name("tracing-error-reports".into())
            .spawn(move || run(receiver, settings, thread_counters, &thread_fair));
        if let Err(err) = spawned {
            eprintln!("tracing-error-reports: could not start the worker thread: {err}");
        }
        Worker {
            sender,
            capacity,
            fair,
            transaction_limit: transaction_share(capacity),
            log_limit: log_share(capacity),
            counters,
            losses,
            lost_event: sentry::protocol::Event::default(),
            shutdown_timeout,
            sentry_host,
            settled: std::sync::Mutex::new(None),
            sessions,
        }
    }

    fn record_loss(&self) {
        if let Some(recorder) = self.losses.get() {
            recorder.record_lost_data(
                &self.lost_event,
                sentry::client_report::Reason::QueueOverflow,
            );
        }
    }

    /// Queues a report; false (and counted) when the queue is full, or more than half
    /// full and the report's tenant already holds its share of it ([`FairShare`]).
    pub(crate) fn send_report(&self, report: PendingReport) -> bool {
        let tenant = report
            .scope
            .identity
            .tenant
            .as_deref()
            .map_or(0, hash_tenant);
        let sent = self.fair.try_take(tenant, self.sender.len(), self.capacity)
            && match self.sender.try_send(Job::Report(Box::new(report), tenant)) {
                Ok(()) => true,
                Err(_) => {
                    self.fair.release(tenant);
                    false
                }
            };
        if sent {
            self.counters.queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.record_loss();
            self.counters
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Queues a transaction while the queue is less than half full: the rest is kept
    /// for error reports. Dropped ones are counted (`transactions_dropped`).
    pub(crate) fn send_transaction(&self, tx: FinishedTransaction) {
        if self.sender.len() >= self.transaction_limit {
            self.drop_transaction(tx);
            return;
        }
        match self.sender.try_send(Job::Transaction(Box::new(tx))) {
            Ok(()) => {
                self.counters
                    .transactions_queued
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                if let Job::Transaction(tx) = job {
                    self.drop_transaction(*tx);
                }
            }
        }
    }

    /// Queues a log or metrics job while fewer than the logs' share of the queue are log
    /// or metrics jobs and the queue has room.
    fn queue_log_job(&self, job: impl FnOnce() -> Job) -> bool {
        let waiting = &self.counters.logs_waiting;
        if waiting.fetch_add(1, Ordering::AcqRel) >= self.log_limit
            || self.sender.try_send(job()).is_err()
        {
            waiting.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Queues a structured log while fewer than the logs' share of the queue are logs
    /// (a quarter); else it is dropped and counted (`logs_dropped`, told in client
    /// reports).
    pub(crate) fn send_log(&self, log: PendingLog) {
        let queued = self.queue_log_job(|| Job::Log(Box::new(log)));
        let counter = if queued {
            &self.counters.logs_queued
        } else {
            &self.counters.logs_dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues a tracing event's metrics in the logs' share of the queue; else they are
    /// dropped and counted (`metrics_dropped`, told in client reports).
    pub(crate) fn send_metrics(&self, metrics: PendingMetrics) {
        let count = metrics.metrics.len() as u64;
        let queued = self.queue_log_job(|| Job::Metrics(Box::new(metrics)));
        let counter = if queued {
            &self.counters.metrics_queued
        } else {
            &self.counters.metrics_dropped
        };
        counter.fetch_add(count, Ordering::Relaxed);
    }

    /// Counts a dropped transaction and records it, with its spans, for Sentry's
    /// client reports (categories `transaction` and `span`).
    fn drop_transaction(&self, tx: FinishedTransaction) {
        self.counters
            .transactions_dropped
            .fetch_add(1, Ordering::Relaxed);
        if let Some(recorder) = self.losses.get() {
            let lost = sentry::protocol::Transaction {
                spans: tx.spans,
                ..Default::default()
            };
            recorder.record_lost_data(&lost, sentry::client_report::Reason::QueueOverflow);
        }
    }

    /// Waits until everything queued before this call was handed to the transport and
    /// the transport drained, or until `timeout` passed. Never longer.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = crate::sync::deadline_after(timeout);
        let (ack, done) = bounded(1);
        if self
            .sender
            .send_deadline(Job::Flush(ack, deadline), deadline)
            .is_err()
        {
            return false;
        }
        done.recv_deadline(deadline).unwrap_or(false)
    }

    /// The final flush of a shutdown (the guard's drop): waits at most the shutdown
    /// timeout and returns the line to say about what was not delivered, if anything.
    pub(crate) fn shutdown(&self) -> Option<String> {
        let accepted = self.accepted();
        self.begin_shutdown(true);
        let flushed = self.flush(self.shutdown_timeout);
        self.begin_shutdown(false);
        self.settle(accepted, flushed)
    }

    /// Marks the flushes that follow as a shutdown's: with a spool, the HTTP transport
    /// then writes to it what it cannot deliver in time instead of dropping it.
    pub(crate) fn begin_shutdown(&self, closing: bool) {
        self.counters
            .transport
            .closing
            .store(closing, Ordering::Relaxed);
    }

    /// Records that a shutdown ended for the reports `accepted` then, and returns its
    /// line (see [`undelivered_line`]).
    pub(crate) fn settle(&self, accepted: u64, flushed: bool) -> Option<String> {
        *self.settled.lock().unwrap_or_else(|e| e.into_inner()) = Some(accepted);
        undelivered_line(
            &self.counters.snapshot(),
            flushed,
            self.counters.transport.last_failure().as_deref(),
            &self.sentry_host,
            self.shutdown_timeout,
        )
    }

    /// Whether reports were accepted since the last shutdown said its line (or there
    /// was none): only then has the exit hook anything to flush or say.
    pub(crate) fn unsettled(&self) -> bool {
        *self.settled.lock().unwrap_or_else(|e| e.into_inner()) != Some(self.accepted())
    }

    /// What was accepted so far for delivery: reports queued, captured directly or
    /// dropped at a full queue, logs queued and requests counted for release health
    /// (logs and sessions wait on the worker for their batch, so an exit flushes them).
    pub(crate) fn accepted(&self) -> u64 {
        let s = self.counters.snapshot();
        s.queued
            + s.captured_directly
            + s.dropped_queue_full
            + s.logs_queued
            + s.metrics_queued
            + s.sessions
    }

    /// Asks the worker for a flush without blocking channel operations, which need the
    /// calling thread's thread-locals (gone when `exit` runs its hooks): `try_send` and
    /// short sleeps until `deadline`. The answer comes on the receiver (read it with
    /// `try_recv`); `None` if the request could not be queued in time.
    pub(crate) fn request_flush_polling(&self, deadline: Instant) -> Option<Receiver<bool>> {
        let (ack, done) = bounded(1);
        let mut job = Job::Flush(ack, deadline);
        loop {
            match self.sender.try_send(job) {
                Ok(()) => return Some(done),
                Err(TrySendError::Disconnected(_)) => return None,
                Err(TrySendError::Full(back)) => job = back,
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }
}

/// How often the exit hook looks whether the worker answered.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// The one line said at shutdown when reports accepted in this process were not
/// delivered: how many, and why (still pending after the shutdown timeout, failed with
/// the last failure's cause, rate-limited, dropped at a full queue); `None` when all
/// were delivered (or discarded on purpose by a hook). `flushed`: the final flush
/// finished within the shutdown timeout.
pub(crate) fn undelivered_line(
    stats: &ReportStats,
    flushed: bool,
    last_failure: Option<&str>,
    host: &str,
    timeout: Duration,
) -> Option<String> {
    // After a flush that finished nothing is in flight (and a transport of the user's
    // keeps no delivery counts to subtract).
    let pending = if flushed { 0 } else { stats.pending() };
    let mut parts = Vec::new();
    if pending > 0 {
        parts.push(format!(
            "{pending} still pending after the shutdown timeout ({timeout:?})"
        ));
    }
    if stats.failed > 0 {
        let why = last_failure.unwrap_or("unknown cause");
        parts.push(format!(
            "{} failed (Sentry at {host} unreachable or refusing: {why})",
            stats.failed
        ));
    }
    if stats.rate_limited > 0 {
        parts.push(format!(
            "{} held back by Sentry's rate limit",
            stats.rate_limited
        ));
    }
    let dropped = stats.dropped_queue_full + stats.dropped_in_transport;
    if dropped > 0 {
        parts.push(format!("{dropped} dropped at a full queue"));
    }
    let in_spool = stats.spooled.saturating_sub(stats.spool.sent_reports);
    if in_spool > 0 {
        parts.push(format!(
            "{in_spool} kept in the disk spool, to be sent from there (by this process or the next)"
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let undelivered = pending + stats.failed + stats.rate_limited + dropped + in_spool;
    let accepted = stats.queued + stats.captured_directly + stats.dropped_queue_full;
    let noun = if undelivered == 1 {
        "report"
    } else {
        "reports"
    };
    Some(format!(
        "{undelivered} of {accepted} error {noun} not delivered: {}",
        parts.join(", ")
    ))
}

fn run(receiver: Receiver<Job>, mut settings: Thread, counters: Arc<Counters>, fair: &FairShare) {
    busy_for_good();
    let mut logs = LogBatch::default();
    let mut metrics = MetricBatch::default();
    let mut aside = Aside::default();
    loop {
        aside.send_settled(Duration::ZERO, &settings, &counters);
        // Waits for the next job, or until the pending logs, metrics or sessions are
        // due, or a report set aside may have its symbols.
        let sessions_due = settings.sessions.as_ref().map(SessionSender::due);
        let due = earliest(earliest(logs.due(), metrics.due()), sessions_due);
        let job = match earliest(due, aside.next_check()) {
            Some(due) => match receiver.recv_deadline(due) {
                Ok(job) => job,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    if logs.due().is_some_and(|due| due <= now) {
                        send_logs(&settings, logs.take());
                    }
                    if metrics.due().is_some_and(|due| due <= now) {
                        send_metrics(&settings.client, metrics.take());
                    }
                    if let Some(sessions) = settings.sessions.as_mut().filter(|s| s.due() <= now) {
                        sessions.send(&settings.client);
                    }
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            },
            None => match receiver.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        if matches!(job, Job::Log(_) | Job::Metrics(_)) {
            counters.logs_waiting.fetch_sub(1, Ordering::AcqRel);
        }
        let job = match job {
            Job::Log(log) => {
                let writer = &mut settings.log_writer;
                let full = logs.push(Instant::now(), |out| writer.write(*log, out));
                send_logs(&settings, full);
                continue;
            }
            Job::Metrics(pending) => {
                let made =
                    pending.into_metrics(&settings.metric_attributes, settings.process_trace);
                for full in metrics.push(made, Instant::now()) {
                    send_metrics(&settings.client, Some(full));
                }
                continue;
            }
            Job::Flush(_, deadline) => {
                // Reports waiting for symbols get half the time left, then go as they are.
                let left = deadline.saturating_duration_since(Instant::now());
                aside.send_all(left / 2, &settings, &counters);
                send_logs(&settings, logs.take());
                send_metrics(&settings.client, metrics.take());
                if let Some(sessions) = settings.sessions.as_mut() {
                    sessions.send(&settings.client);
                }
                job
            }
            job => job,
        };
        let job = match job {
            Job::Report(report, tenant) => {
                fair.release(tenant);
                match aside.symbols_first(report) {
                    Some(report) => Job::Report(report, tenant),
                    None => continue,
                }
            }
            job => job,
        };
        handle_caught(job, &settings, &counters);
    }
    // Every sender is gone: send what waits for symbols as it is, the pending logs, drain
    // the transport, tell Sentry what was lost, then drain it again, each within a short
    // bound.
    aside.send_all(Duration::ZERO, &settings, &counters);
    send_logs(&settings, logs.take());
    send_metrics(&settings.client, metrics.take());
    if let Some(sessions) = settings.sessions.as_mut() {
        sessions.send(&settings.client);
    }
    settings.client.flush(Some(Duration::from_millis(100)));
    send_client_reports(&settings.client);
    settings.client.close(Some(Duration::from_millis(100)));
}

/// Sends a batch of metrics as one `trace_metric` envelope item (scrubbed at the
/// transport).
fn send_metrics(client: &sentry::Client, batch: Option<Vec<sentry::protocol::Metric>>) {
    if let Some(metrics) = batch {
        let mut envelope = Envelope::new();
        envelope.add_item(sentry::protocol::ItemContainer::Metrics(metrics));
        client.send_envelope(envelope);
    }
}

/// Sends a batch of logs (one `log` envelope item, scrubbed as it was written) past the
/// scrubber to the transport.
fn send_logs(settings: &Thread, batch: Option<Envelope>) {
    if let Some(envelope) = batch {
        match settings.scrubbed.get() {
            Some(transport) => transport.send_scrubbed(envelope),
            // No transport made (not expected with a DSN): the client refuses it, counted.
            None => settings.client.send_envelope(envelope),
        }
    }
}

/// Sends the pending client reports (the client's and this crate's, which the client
/// and the transport add to any envelope) in an envelope of their own; with none
/// pending, the transport drops the empty envelope.
fn send_client_reports(client: &sentry::Client) {
    client.send_envelope(Envelope::new());
}

/// Handles `job`. A fault in one report (a bug in conversion, a hook or the scrubber)
/// costs that report, counted, never the worker and with it every later report.
fn handle_caught(job: Job, settings: &Thread, counters: &Counters) {
    let is_report = matches!(job, Job::Report(..));
    let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle(job, settings, counters);
    }));
    if handled.is_err() && is_report {
        counters
            .lost_to_internal_error
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Reports set aside while their stacks' symbols are looked up (`report::symbols`):
/// the worker goes on with other reports meanwhile. Few at a time (a panic storm's
/// stacks past the symbols thread's queue go with addresses).
#[derive(Default)]
struct Aside(Vec<(Box<PendingReport>, Lookup, Instant)>);

/// How often the worker looks whether a report set aside has its symbols.
const ASIDE_CHECK: Duration = Duration::from_millis(20);

impl Aside {
    /// `report`, its symbols looked up within the first wait; `None` when it was set
    /// aside to wait longer.
    fn symbols_first(&mut self, mut report: Box<PendingReport>) -> Option<Box<PendingReport>> {
        let Some(stack) = report.stack_mut().filter(|stack| !stack.settled) else {
            return Some(report);
        };
        stack.settled = true;
        let Some(lookup) = look_up_symbols(&stack.backtrace) else {
            return Some(report);
        };
        let wait = if lookup.first_in_line {
            SYMBOLS_FIRST_WAIT
        } else {
            Duration::ZERO
        };
        match lookup.wait(wait) {
            Looked::Resolved(resolved) => stack.backtrace = resolved,
            Looked::Never => {}
            Looked::NotYet => {
                self.0.push((report, lookup, Instant::now()));
                return None;
            }
        }
        Some(report)
    }

    fn next_check(&self) -> Option<Instant> {
        (!self.0.is_empty()).then(|| Instant::now() + ASIDE_CHECK)
    }

    /// Sends the reports whose symbols came (or never will, or were waited for
    /// [`SYMBOLS_LONGEST_WAIT`]); `wait`: how long to wait for each in turn.
    fn send_settled(&mut self, wait: Duration, settings: &Thread, counters: &Counters) {
        if self.0.is_empty() {
            return;
        }
        let mut kept = Vec::new();
        for (mut report, lookup, since) in std::mem::take(&mut self.0) {
            let ready = match lookup.wait(wait) {
                Looked::Resolved(resolved) => {
                    if let Some(stack) = report.stack_mut() {
                        stack.backtrace = resolved;
                    }
                    true
                }
                Looked::Never => true,
                Looked::NotYet => since.elapsed() >= SYMBOLS_LONGEST_WAIT,
            };
            if ready {
                handle_caught(Job::Report(report, 0), settings, counters);
            } else {
                kept.push((report, lookup, since));
            }
        }
        self.0 = kept;
    }

    /// Sends every report set aside: each with its symbols if they come within `total`
    /// (shared), else with addresses only.
    fn send_all(&mut self, total: Duration, settings: &Thread, counters: &Counters) {
        let deadline = Instant::now() + total;
        while !self.0.is_empty() {
            let (mut report, lookup, _) = self.0.remove(0);
            if let Looked::Resolved(resolved) =
                lookup.wait(deadline.saturating_duration_since(Instant::now()))
            {
                if let Some(stack) = report.stack_mut() {
                    stack.backtrace = resolved;
                }
            }
            handle_caught(Job::Report(report, 0), settings, counters);
        }
    }
}

fn handle(job: Job, settings: &Thread, counters: &Counters) {
    match job {
        Job::Report(report, _) => {
            let mut event = report.into_event();
            mark_in_app(&mut event, settings.client.options());
            let event = match apply_hooks(&settings.hooks, event) {
                Ok(event) => event,
                Err(dropped) => {
                    counters.discarded.fetch_add(1, Ordering::Relaxed);
                    let (counter, on_worker) = match dropped {
                        Dropped::IgnoreError => (&counters.ignored, true),
                        Dropped::BeforeSend => (&counters.dropped_by_before_send, false),
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    if on_worker {
                        counters.ignored_on_worker.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
            };
            settings.client.capture_event(event, None);
            counters.handed_to_transport.fetch_add(1, Ordering::Relaxed);
        }
        Job::Transaction(tx) => {
            let options = settings.client.options();
            let environment = options.environment.clone().unwrap_or_default();
            let tx = tx.into_transaction(options.release.clone(), environment);
            settings.client.send_envelope(Envelope::from(tx));
            counters.handed_to_transport.fetch_add(1, Ordering::Relaxed);
        }
        // Batched by `run`, never handed here.
        Job::Log(_) | Job::Metrics(_) => {}
        Job::Flush(ack, deadline) => {
            // Drained first: the transport records its losses as it sends; then what was
            // lost is told, and that envelope drained too.
            let left = || deadline.saturating_duration_since(Instant::now());
            let drained = settings.client.flush(Some(left()));
            let forwarded = || counters.transport.forwarded.load(Ordering::Relaxed);
            let before = forwarded();
            send_client_reports(&settings.client);
            // Drained again only when there was something to tell.
            let flushed = drained && (forwarded() == before || settings.client.flush(Some(left())));
            let _ = ack.try_send(flushed);
        }
    }
}
