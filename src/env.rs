//! The `SENTRY_*` environment variables that `ConfigBuilder::with_env` and
//! `init_from_env!` read (README's table "From the environment"). `SENTRY_DSN`,
//! `SENTRY_RELEASE` and `SENTRY_ENVIRONMENT` are the ones sentry-rust's `sentry::init`
//! reads; the two rates are named after the `ClientOptions` they stand for. A variable
//! fills only what the builder leaves unset; a bad value is ignored and logged once by
//! `init` (see `EnvError`).

/// The DSN; unset or empty disables reporting, an invalid one disables it with an error line.
pub(crate) const DSN: &str = "SENTRY_DSN";
/// The environment.
pub(crate) const ENVIRONMENT: &str = "SENTRY_ENVIRONMENT";
/// The release.
pub(crate) const RELEASE: &str = "SENTRY_RELEASE";
/// The share of requests sent as transactions, a number in `0..=1`.
pub(crate) const TRACES_SAMPLE_RATE: &str = "SENTRY_TRACES_SAMPLE_RATE";
/// The share of error events sent, a number in `0..=1`.
pub(crate) const SAMPLE_RATE: &str = "SENTRY_SAMPLE_RATE";
/// Whether `INFO` and more severe events are also sent as structured logs, `true` or
/// `false` (sentry-python's and sentry-javascript's `enableLogs` option).
pub(crate) const ENABLE_LOGS: &str = "SENTRY_ENABLE_LOGS";
/// Whether tracing fields named as tracing-opentelemetry's `MetricsLayer` names them
/// (`monotonic_counter.*`, `counter.*`, `histogram.*`, `gauge.*`) are sent as Sentry
/// metrics, `true` or `false` (sentry-python's and sentry-rust's `enable_metrics` option).
pub(crate) const ENABLE_METRICS: &str = "SENTRY_ENABLE_METRICS";
/// Whether release health counts requests as sessions, `true` or `false` (sentry-rust's
/// and sentry-python's `auto_session_tracking` option, in request mode).
pub(crate) const AUTO_SESSION_TRACKING: &str = "SENTRY_AUTO_SESSION_TRACKING";

/// The disk spool's directory (`ConfigBuilder::spool_dir`); unset or empty: no spool.
pub(crate) const SPOOL_DIR: &str = "SENTRY_SPOOL_DIR";

/// A Sentry `PiiConfig` document (JSON), or `@path` to a file holding one.
pub(crate) const PII_CONFIG: &str = "SENTRY_PII_CONFIG";
/// Longest `SENTRY_PII_CONFIG` (and PiiConfig file) accepted, in bytes.
pub(crate) const MAX_PII_CONFIG_LEN: usize = 1 << 20;

/// Longest value accepted, in bytes (Sentry's own limits on these values are far lower).
pub(crate) const MAX_VALUE_LEN: usize = 200;
/// Longest `SENTRY_DSN` accepted, in bytes: a DSN is a URL (a self-hosted Sentry's
/// host and path can be long), and browsers and servers accept URLs of about 2,000.
pub(crate) const MAX_DSN_LEN: usize = 2048;
/// Longest `SENTRY_SPOOL_DIR` accepted, in bytes (Linux's `PATH_MAX`).
pub(crate) const MAX_PATH_LEN: usize = 4096;
