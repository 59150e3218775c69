//! Fail-open initialisation: whatever the configuration, `init` returns; reporting is
//! either on (a layer and a guard that flushes) or off (no layer, and a reason).

use std::sync::Arc;
use std::time::Duration;

use sentry::TransportFactory;

use crate::config::{Config, DisabledReason};
use crate::direct::RequestContextIntegration;
use crate::exit::deliver_at_exit;
use crate::http::{HttpTransportFactory, Outcomes};
use crate::layer::ErrorReportLayer;
use crate::panic::{install_hook, install_offline_hook};
use crate::reporting::{register_live, Reporting};
use crate::transport::{LossRecorder, PendingDiscards, ScrubbedSink, ScrubbingTransportFactory};
use crate::worker::{ReportStats, Worker};

/// Whether reporting is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportingStatus {
    /// Reports go to this host and project.
    Enabled {
        /// The DSN's host.
        host: String,
        /// The DSN's project id.
        project: String,
    },
    /// Reporting is off, and why.
    Disabled(DisabledReason),
}

/// The handle on reporting: its status and counts, and on drop a final flush that
/// delivers what is queued within the shutdown timeout and returns (it never waits
/// longer, whatever the server does), then says in one stderr line how many reports
/// accepted in this process were not delivered and why, if any were. Reporting itself
/// goes on while the layer lives.
///
/// On Linux the process's exit (returning from `main`, `std::process::exit`) makes the
/// same final flush, and says the same line, for reports accepted since the guard's drop
/// or with no drop at all: a guard dropped at once (`let (layer, _) = init(..)`), kept
/// in a static, or skipped by `process::exit`. Only `abort` and signals lose them.
#[must_use = "dropping the guard flushes at once; keep it until shutdown (on Linux, reports logged later are still flushed at exit)"]
pub struct ReportingGuard {
    reporting: Option<Arc<Reporting>>,
    status: ReportingStatus,
}

impl std::fmt::Debug for ReportingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportingGuard")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl ReportingGuard {
    /// Whether reporting is on, and if not, why.
    pub fn status(&self) -> &ReportingStatus {
        &self.status
    }

    /// True when reports are being sent.
    pub fn is_enabled(&self) -> bool {
        matches!(self.status, ReportingStatus::Enabled { .. })
    }

    /// Counts of queued, dropped and suppressed reports (all zero when disabled).
    pub fn stats(&self) -> ReportStats {
        self.reporting
            .as_ref()
            .map(|r| r.stats())
            .unwrap_or_default()
    }

    /// Delivers what is queued, waiting at most `timeout` (`Duration::MAX`: as long as
    /// it takes). True when everything queued before the call was sent and no report
    /// failed or was dropped meanwhile (the server refused none, none was lost to a
    /// network error, a rate limit or a full queue); false when `timeout` passed first
    /// or one did. True when reporting is off (nothing is queued).
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(reporting) = &self.reporting else {
            return true;
        };
        let lost = |stats: ReportStats| {
            stats.failed
                + stats.rate_limited
                + stats.dropped_in_transport
                + stats.dropped_queue_full
        };
        let before = lost(reporting.worker.counters.snapshot());
        reporting.worker.flush(timeout) && lost(reporting.worker.counters.snapshot()) == before
    }
}

impl Drop for ReportingGuard {
    fn drop(&mut self) {
        if let Some(reporting) = self.reporting.take() {
            // Straight to stderr: at shutdown the subscriber (and a non-blocking
            // writer's guard) may already be gone. The exit hook says nothing more
            // about the same reports.
            if let Some(line) = reporting.worker.shutdown() {
                eprintln!("tracing-error-reports: {line}");
            }
        }
    }
}

/// Logs a line through `tracing`, and to stderr too when no subscriber is installed
/// yet (the usual case at start-up, when the layer is being built).
fn announce(level: tracing::Level, line: &str) {
    let no_subscriber =
        tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    if no_subscriber {
        eprintln!("tracing-error-reports: {line}");
    }
    match level {
        tracing::Level::ERROR => tracing::error!(target: "tracing_error_reports", "{line}"),
        tracing::Level::WARN => tracing::warn!(target: "tracing_error_reports", "{line}"),
        _ => tracing::info!(target: "tracing_error_reports", "{line}"),
    }
}

/// The module prefix of the service's own crate (`my_service::`): the executable's name,
/// `-` read as `_`, without the `-<hash>` cargo gives test binaries. Made once a process
/// (`ClientOptions::in_app_include` holds `&'static str`).
fn service_crate() -> Option<&'static str> {
    static CRATE: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *CRATE.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let stem = exe.file_stem()?.to_str()?;
        let name = match stem.rsplit_once('-') {
            Some((name, hash))
                if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                name
            }
            _ => stem,
        };
        let prefix = format!("{}::", name.replace('-', "_"));
        Some(&*Box::leak(prefix.into_boxed_str()))
    })
}

/// Starts reporting as `config` says. Never panics and never blocks on the network:
/// with no or a bad DSN it returns no layer and a guard that says why.
pub fn init(config: Config) -> (Option<ErrorReportLayer>, ReportingGuard) {
    let outcomes = Arc::new(Outcomes::default());
    let transport = Arc::new(HttpTransportFactory {
        settings: config.http.clone(),
        capacity: config.worker.capacity.get(),
        outcomes: outcomes.clone(),
    });
    start(config, transport, outcomes)
}

/// [`init`] with another inner transport (the envelopes are still scrubbed first). The
/// delivery counts of [`ReportStats`] then stay zero: only this crate's transport keeps them.
pub fn init_with_transport(
    config: Config,
    transport: Arc<dyn TransportFactory>,
) -> (Option<ErrorReportLayer>, ReportingGuard) {
    start(config, transport, Arc::new(Outcomes::default()))
}

fn start(
    config: Config,
    transport: Arc<dyn TransportFactory>,
    outcomes: Arc<Outcomes>,
) -> (Option<ErrorReportLayer>, ReportingGuard) {
    for problem in &config.diagnostics {
        // Its text is the whole line: the value, the problem and what is used instead.
        announce(tracing::Level::ERROR, &problem.to_string());
    }
    let shutdown_timeout = config.client.shutdown_timeout;
    let dsn = match config.dsn {
        Ok(dsn) => dsn,
        Err(reason) => {
            let level = if reason == DisabledReason::NoDsn {
                tracing::Level::INFO
            } else {
                tracing::Level::ERROR
            };
            announce(level, &format!("error reporting disabled: {reason}"));
            if config.reporting.admission.report_panics && config.reporting.scrub_panic_output {
                install_offline_hook(config.scrubber.clone());
            }
            let guard = ReportingGuard {
                reporting: None,
                status: ReportingStatus::Disabled(reason),
            };
            return (None, guard);
        }
    };
    let status = ReportingStatus::Enabled {
        host: dsn.host().to_owned(),
        project: dsn.project_id().to_string(),
    };
    let mut worker_settings = config.worker;
    worker_settings.shutdown_timeout = shutdown_timeout;
    worker_settings.sentry_host = format!("{}:{}", dsn.host(), dsn.port());
    let mut options = config.client;
    options.dsn = Some(dsn);
    if options.in_app_include.is_empty() {
        options.in_app_include.extend(service_crate());
    }
    // The layer and the dispatch to it are never the service's code.
    options.in_app_exclude.extend([
        "tracing_error_reports::",
        "tracing_subscriber::",
        "tracing_core::",
        "tracing::",
    ]);
    let losses = LossRecorder::default();
    let discards = PendingDiscards::default();
    let scrubbed = ScrubbedSink::default();
    options.transport = Some(Arc::new(ScrubbingTransportFactory {
        scrubber: config.scrubber.clone(),
        inner: transport,
        losses: losses.clone(),
        outcomes: outcomes.clone(),
        discards: discards.clone(),
        scrubbed: scrubbed.clone(),
    }));
    let layer_key = Arc::new(std::sync::OnceLock::new());
    options
        .integrations
        .push(Arc::new(RequestContextIntegration {
            layer: layer_key.clone(),
            hooks: worker_settings.hooks.clone(),
        }));
    let client = Arc::new(sentry::Client::from(options));
    if config.bind_main_hub {
        sentry::Hub::main().bind_client(Some(client.clone()));
    }
    let worker = Worker::start(
        worker_settings,
        client,
        losses,
        outcomes,
        scrubbed,
        config.scrubber.clone(),
    );
    let counters = worker.counters.clone();
    let _ = discards.set(Box::new(move || counters.take_client_report()));
    let install_panic_hook = config.reporting.admission.report_panics;
    let reporting = Arc::new(Reporting::new(config.reporting, worker, config.scrubber));
    register_live(&reporting);
    deliver_at_exit();
    let _ = layer_key.set(reporting.key());
    if install_panic_hook {
        install_hook();
    }
    announce(
        tracing::Level::INFO,
        &format!("error reporting enabled: {status:?}"),
    );
    let layer = ErrorReportLayer::new(reporting.clone());
    let guard = ReportingGuard {
        reporting: Some(reporting),
        status,
    };
    (Some(layer), guard)
}

/// [`init`](crate::init) from the `SENTRY_*` variables, with the release defaulting to the
/// calling crate's `name@version`.
#[macro_export]
macro_rules! init_from_env {
    () => {
        $crate::init(
            $crate::Config::builder()
                .default_release($crate::release_name!())
                .with_env()
                .build_lenient(),
        )
    };
}
