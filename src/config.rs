//! Typed configuration: a builder whose `build()` checks everything, and a
//! lenient reader of the `SENTRY_*` environment variables that never fails.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sentry::types::Dsn;
use tracing::Level;

use crate::flood::{DEFAULT_FLOOD_WINDOW, DEFAULT_REPORTS_PER_WINDOW};
use crate::scrub::{ScrubRules, Scrubber};
use crate::shared::{EventFilter, LayerSettings};

/// Environment variable holding the DSN; unset or empty disables reporting.
pub const ENV_DSN: &str = "SENTRY_DSN";
/// Environment variable naming the environment (default [`DEFAULT_ENVIRONMENT`]).
pub const ENV_ENVIRONMENT: &str = "SENTRY_ENVIRONMENT";
/// Environment variable naming the release (default: the application's `name@version`).
pub const ENV_RELEASE: &str = "SENTRY_RELEASE";
/// Environment variable with the share of requests sent as transactions, in `0..=1`.
pub const ENV_TRACES_SAMPLE_RATE: &str = "SENTRY_TRACES_SAMPLE_RATE";

/// Environment variable with the share of error events sent, in `0..=1` (default 1).
pub const ENV_SAMPLE_RATE: &str = "SENTRY_SAMPLE_RATE";

/// A callback that may change or drop (`None`) a value before it is sent.
pub(crate) type BeforeCallback<T> = std::sync::Arc<dyn Fn(T) -> Option<T> + Send + Sync>;

/// Environment used when `SENTRY_ENVIRONMENT` is unset.
pub const DEFAULT_ENVIRONMENT: &str = "development";
/// Share of requests sent as transactions when `SENTRY_TRACES_SAMPLE_RATE` is unset.
pub const DEFAULT_TRACES_SAMPLE_RATE: f32 = 0.1;
/// Span field whose value becomes the `tenant_id` tag and `user.tenant_id`.
pub const DEFAULT_TENANT_FIELD: &str = "tenant_id";
/// Span field whose value becomes `user.id`.
pub const DEFAULT_USER_FIELD: &str = "user_id";
/// Span field that carries the request's trace id (32 hex digits), as recorded by
/// [`link_trace`](crate::link_trace); reports and transactions use it.
pub const DEFAULT_TRACE_ID_FIELD: &str = "trace_id";
/// Breadcrumbs kept per request (Sentry's own default).
pub const DEFAULT_MAX_BREADCRUMBS: usize = 100;
/// Reports that may wait for the background worker before new ones are dropped (and counted).
pub const DEFAULT_QUEUE_CAPACITY: usize = 2048;
/// How long dropping the guard waits for queued reports to be delivered.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a panic waits for its report to be delivered before the process goes on unwinding.
pub const DEFAULT_PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// Hard limit on one HTTP request to Sentry, so a server that never answers cannot stall delivery.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest accepted value of the environment variables (Sentry's own limits are far lower).
const MAX_ENV_VALUE_LEN: usize = 200;

/// Event targets that never become reports: the SDK, HTTP stacks and exporters, whose
/// own errors would otherwise feed back into Sentry. Matched as `target` prefixes at
/// a `::` boundary.
pub const DEFAULT_IGNORED_TARGETS: &[&str] = &[
    "sentry",
    "sentry_core",
    "tracing_error_reports",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "tracing_opentelemetry",
    "tracing_loki",
    "tonic",
];

/// A configuration `build()` refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The DSN does not parse.
    InvalidDsn(String),
    /// The traces sample rate or the error sample rate is not a number in `0..=1`.
    InvalidSampleRate(String),
    /// An environment or release name Sentry would reject.
    InvalidName {
        /// Which name (`environment` or `release`).
        what: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A user-supplied scrubbing pattern is not a valid regular expression.
    InvalidPattern(String),
    /// A number that must be positive is zero.
    Zero(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidDsn(why) => write!(f, "invalid DSN: {why}"),
            ConfigError::InvalidSampleRate(why) => write!(f, "invalid sample rate: {why}"),
            ConfigError::InvalidName { what, problem } => write!(f, "invalid {what}: {problem}"),
            ConfigError::InvalidPattern(why) => write!(f, "invalid scrubbing pattern: {why}"),
            ConfigError::Zero(what) => write!(f, "{what} must be greater than zero"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why reporting is off, as the guard tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisabledReason {
    /// No DSN was configured (`SENTRY_DSN` unset or empty).
    NoDsn,
    /// The DSN did not parse; the text says why (never the DSN itself).
    InvalidDsn(String),
    /// The configuration was refused; the text says why.
    InvalidConfig(String),
}

impl fmt::Display for DisabledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisabledReason::NoDsn => write!(f, "{ENV_DSN} is not set"),
            DisabledReason::InvalidDsn(why) => write!(f, "{ENV_DSN} is invalid: {why}"),
            DisabledReason::InvalidConfig(why) => write!(f, "invalid configuration: {why}"),
        }
    }
}

/// A checked configuration. Make one with [`Config::builder`] or [`Config::from_env`].
///
/// It holds the parts `init` starts as they are: the client's settings here, and the
/// layer's settings resolved once.
#[derive(Clone)]
pub struct Config {
    pub(crate) dsn: Result<Dsn, DisabledReason>,
    pub(crate) environment: Cow<'static, str>,
    pub(crate) release: Option<Cow<'static, str>>,
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) http_timeout: Duration,
    pub(crate) bind_main_hub: bool,
    pub(crate) scrubber: std::sync::Arc<Scrubber>,
    pub(crate) hooks: Hooks,
    pub(crate) layer: LayerSettings,
    /// Problems met while reading the environment, logged by `init`.
    pub(crate) diagnostics: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The DSN carries a key: show only where it points.
        let dsn = match &self.dsn {
            Ok(dsn) => format!("{}://{}/{}", dsn.scheme(), dsn.host(), dsn.project_id()),
            Err(reason) => format!("disabled ({reason})"),
        };
        f.debug_struct("Config")
            .field("dsn", &dsn)
            .field("environment", &self.environment)
            .field("release", &self.release)
            .field("queue_capacity", &self.queue_capacity)
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder with every default and no DSN.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The configuration the four `SENTRY_*` variables describe, never failing:
    /// a bad value is recorded (and logged by [`init`](crate::init)) and replaced
    /// by its default, a bad DSN disables reporting.
    pub fn from_env() -> Config {
        ConfigBuilder::default().with_env().build_lenient()
    }

    /// Whether a usable DSN is configured.
    pub fn is_enabled(&self) -> bool {
        self.dsn.is_ok()
    }

    /// The problems met while reading the environment.
    pub fn diagnostics(&self) -> &[String] {
        &self.diagnostics
    }
}

/// What runs on the worker before a report is sent (and before it is scrubbed).
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before_send: Option<BeforeCallback<sentry::protocol::Event<'static>>>,
    pub(crate) before_breadcrumb: Option<BeforeCallback<sentry::protocol::Breadcrumb>>,
    pub(crate) ignore_errors: Vec<String>,
    pub(crate) server_name: Option<Cow<'static, str>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("before_send", &self.before_send.is_some())
            .field("before_breadcrumb", &self.before_breadcrumb.is_some())
            .field("ignore_errors", &self.ignore_errors)
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// Builds a [`Config`]; every setter has a documented default.
///
/// # Precedence
///
/// One rule, whatever the order of the calls: a value set on the builder wins; else
/// the environment variable, if [`with_env`](Self::with_env) was called and the
/// variable is set to a valid value; else the default (for the release,
/// [`default_release`](Self::default_release)). An unset or invalid variable never
/// clears a value. This is the rule of sentry-rust's `ClientOptions`, whose
/// environment variables only fill options that are unset.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    dsn: Option<DsnText>,
    environment: Option<String>,
    release: Option<Cow<'static, str>>,
    default_release: Option<Cow<'static, str>>,
    traces_sample_rate: Option<f32>,
    sample_rate: Option<f32>,
    hooks: Hooks,
    /// Values read by `with_env`, used only where the builder has none.
    env: EnvValues,
    queue_capacity: usize,
    shutdown_timeout: Duration,
    http_timeout: Duration,
    bind_main_hub: bool,
    scrub: ScrubRules,
    layer: LayerSettings,
    diagnostics: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct EnvValues {
    dsn: Option<DsnText>,
    environment: Option<String>,
    release: Option<String>,
    traces_sample_rate: Option<f32>,
    sample_rate: Option<f32>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        let ignored_targets: Vec<Cow<'static, str>> = DEFAULT_IGNORED_TARGETS
            .iter()
            .map(|t| Cow::Borrowed(*t))
            .collect();
        ConfigBuilder {
            dsn: None,
            environment: None,
            release: None,
            default_release: None,
            traces_sample_rate: None,
            sample_rate: None,
            hooks: Hooks::default(),
            env: EnvValues::default(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            bind_main_hub: false,
            scrub: ScrubRules::default(),
            layer: LayerSettings {
                event_level: Level::ERROR,
                breadcrumb_level: Level::INFO,
                event_filter: None,
                tenant_fields: vec![DEFAULT_TENANT_FIELD],
                user_fields: vec![DEFAULT_USER_FIELD],
                trace_id_fields: vec![DEFAULT_TRACE_ID_FIELD],
                max_breadcrumbs: DEFAULT_MAX_BREADCRUMBS,
                traces_sample_rate: DEFAULT_TRACES_SAMPLE_RATE,
                sample_rate: 1.0,
                attach_stacktrace: false,
                hub_scope: false,
                ignored_initials: [false; 256],
                ignored_targets,
                flood_limit: Some((DEFAULT_REPORTS_PER_WINDOW, DEFAULT_FLOOD_WINDOW)),
                report_panics: true,
                panic_flush_timeout: DEFAULT_PANIC_FLUSH_TIMEOUT,
            },
            diagnostics: Vec::new(),
        }
    }
}

/// DSN text as given; its `Debug` hides the key.
#[derive(Clone)]
struct DsnText(String);

impl fmt::Debug for DsnText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<dsn>")
    }
}

/// Reads one variable; unset, empty, non-Unicode and oversized values are told apart.
fn read_env(name: &'static str, diagnostics: &mut Vec<String>) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => None,
        Ok(v) if v.len() > MAX_ENV_VALUE_LEN => {
            diagnostics.push(format!(
                "{name} is {} bytes long (at most {MAX_ENV_VALUE_LEN} accepted); ignored",
                v.len()
            ));
            None
        }
        Ok(v) => Some(v.trim().to_owned()),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            diagnostics.push(format!("{name} is not valid Unicode; ignored"));
            None
        }
    }
}

/// Parses a sample rate, accepting only finite numbers in `0..=1`.
pub(crate) fn parse_sample_rate(text: &str) -> Result<f32, String> {
    let rate = f32::from_str(text.trim()).map_err(|_| format!("{text:?} is not a number"))?;
    if !rate.is_finite() || !(0.0..=1.0).contains(&rate) {
        return Err(format!("{text:?} is not within 0..=1"));
    }
    Ok(rate)
}

/// Sentry refuses environments and releases with newlines, slashes (environment), or
/// more than 64/200 characters; catching that here beats a silently dropped event.
fn check_name(what: &'static str, value: &str, max: usize, no_slash: bool) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    if no_slash && value.contains('/') {
        return Err(format!("{what} contains '/'"));
    }
    if matches!(value, "." | "..") {
        return Err(format!("{what} may not be {value:?}"));
    }
    Ok(())
}

pub(crate) fn parse_dsn(text: &str) -> Result<Dsn, String> {
    // `Dsn::from_str` never panics (unlike `ClientOptions::dsn`), and its error names
    // the problem without repeating the key.
    Dsn::from_str(text.trim()).map_err(|e| e.to_string())
}

impl ConfigBuilder {
    /// Reads `SENTRY_DSN`, `SENTRY_ENVIRONMENT`, `SENTRY_RELEASE` and
    /// `SENTRY_TRACES_SAMPLE_RATE` leniently: a bad value becomes a diagnostic and is
    /// not used (a bad DSN disables reporting). A variable is used only where no value
    /// was set on the builder, before or after this call (see the type's precedence rule).
    pub fn with_env(mut self) -> Self {
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        let mut env = EnvValues {
            dsn: read_env(ENV_DSN, &mut diagnostics).map(DsnText),
            ..EnvValues::default()
        };
        if let Some(value) = read_env(ENV_ENVIRONMENT, &mut diagnostics) {
            match check_name(ENV_ENVIRONMENT, &value, 64, true) {
                Ok(()) => env.environment = Some(value),
                Err(problem) => diagnostics.push(format!(
                    "{problem}; using {:?}",
                    self.environment.as_deref().unwrap_or(DEFAULT_ENVIRONMENT)
                )),
            }
        }
        if let Some(release) = read_env(ENV_RELEASE, &mut diagnostics) {
            match check_name(ENV_RELEASE, &release, 200, false) {
                Ok(()) => env.release = Some(release),
                Err(problem) => diagnostics.push(format!("{problem}; using the default release")),
            }
        }
        if let Some(rate) = read_env(ENV_TRACES_SAMPLE_RATE, &mut diagnostics) {
            match parse_sample_rate(&rate) {
                Ok(rate) => env.traces_sample_rate = Some(rate),
                Err(problem) => diagnostics.push(format!(
                    "{ENV_TRACES_SAMPLE_RATE} {problem}; using {}",
                    self.traces_sample_rate
                        .unwrap_or(DEFAULT_TRACES_SAMPLE_RATE)
                )),
            }
        }
        if let Some(rate) = read_env(ENV_SAMPLE_RATE, &mut diagnostics) {
            match parse_sample_rate(&rate) {
                Ok(rate) => env.sample_rate = Some(rate),
                Err(problem) => diagnostics.push(format!(
                    "{ENV_SAMPLE_RATE} {problem}; using {}",
                    self.sample_rate.unwrap_or(1.0)
                )),
            }
        }
        self.env = env;
        self.diagnostics = diagnostics;
        self
    }

    /// Share of error events and panics sent, in `0..=1` (default 1, or
    /// `SENTRY_SAMPLE_RATE`), as Sentry's `sample_rate`. Decided on the calling thread
    /// before anything is recorded; the ones not sent are counted
    /// ([`ReportStats::sampled_out`](crate::ReportStats::sampled_out)).
    pub fn sample_rate(mut self, rate: f32) -> Self {
        self.sample_rate = Some(rate);
        self
    }

    /// Called with each error event on the worker thread before it is sent, as Sentry's
    /// `before_send`: return it (changed or not), or `None` to drop it (counted in
    /// [`ReportStats::discarded`](crate::ReportStats::discarded)). It runs **before
    /// scrubbing**: it sees the unscrubbed event, and whatever it returns is still
    /// scrubbed. A panic in it drops the event. Transactions do not pass through it.
    pub fn before_send(
        mut self,
        callback: impl Fn(sentry::protocol::Event<'static>) -> Option<sentry::protocol::Event<'static>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.before_send = Some(std::sync::Arc::new(callback));
        self
    }

    /// Called with each breadcrumb of a report on the worker thread, as Sentry's
    /// `before_breadcrumb`: return it (changed or not), or `None` to leave it out. It
    /// runs when a report is built (once per report that carries the breadcrumb), before
    /// `before_send` and before scrubbing. A panic in it leaves the breadcrumb out.
    pub fn before_breadcrumb(
        mut self,
        callback: impl Fn(sentry::protocol::Breadcrumb) -> Option<sentry::protocol::Breadcrumb>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.hooks.before_breadcrumb = Some(std::sync::Arc::new(callback));
        self
    }

    /// Error events to drop (counted in
    /// [`ReportStats::discarded`](crate::ReportStats::discarded)): `pattern` equal to the
    /// type of an exception of the event (e.g. `TimedOut`, as Sentry shows it), or
    /// contained in its message or an exception's value. Checked before `before_send`.
    /// May be called many times.
    pub fn ignore_error(mut self, pattern: impl Into<String>) -> Self {
        self.hooks.ignore_errors.push(pattern.into());
        self
    }

    /// The `server_name` of reports (default: the host name, as Sentry's SDKs send it).
    pub fn server_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.hooks.server_name = Some(name.into());
        self
    }

    /// Whether error events without a panic get the stack trace of the code that
    /// logged them, as Sentry's `attach_stacktrace` (default `false`). The calling
    /// thread only walks its stack (about 8 µs more per reported event in
    /// `cargo bench --bench layer -- error_event_attach_stacktrace`); symbols are
    /// resolved on the worker (about 30 µs more per report there).
    pub fn attach_stacktrace(mut self, attach: bool) -> Self {
        self.layer.attach_stacktrace = attach;
        self
    }

    /// The DSN to send to. Checked by [`build`](Self::build).
    pub fn dsn(mut self, dsn: impl Into<String>) -> Self {
        self.dsn = Some(DsnText(dsn.into()));
        self
    }

    /// The environment (default [`DEFAULT_ENVIRONMENT`]).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The release; wins over `SENTRY_RELEASE` and the default release.
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// The release used when neither [`release`](Self::release) nor `SENTRY_RELEASE`
    /// gives one, usually [`release_name!()`](crate::release_name).
    pub fn default_release(mut self, release: impl Into<Cow<'static, str>>) -> Self {
        self.default_release = Some(release.into());
        self
    }

    /// Share of requests (ADR-025) sent as Sentry transactions, in `0..=1`.
    pub fn traces_sample_rate(mut self, rate: f32) -> Self {
        self.traces_sample_rate = Some(rate);
        self
    }

    /// Events at this level or more severe become Sentry events (default `ERROR`).
    pub fn event_level(mut self, level: Level) -> Self {
        self.layer.event_level = level;
        self
    }

    /// Events at this level or more severe, but below the event level, become
    /// breadcrumbs of their request (default `INFO`).
    pub fn breadcrumb_level(mut self, level: Level) -> Self {
        self.layer.breadcrumb_level = level;
        self
    }

    /// Span and event fields that carry the tenant, first match wins (default `["tenant_id"]`).
    pub fn tenant_fields(mut self, fields: &[&'static str]) -> Self {
        self.layer.tenant_fields = fields.to_vec();
        self
    }

    /// Span and event fields that carry the user id (default `["user_id"]`).
    pub fn user_fields(mut self, fields: &[&'static str]) -> Self {
        self.layer.user_fields = fields.to_vec();
        self
    }

    /// Reports and breadcrumbs only events for which `filter` returns true (default:
    /// every event at the event or breadcrumb level). Unlike a per-layer filter
    /// (`with_filter`), it narrows events without hiding spans from the layer, so the
    /// tenant, user, trace and breadcrumbs of the request are kept. For example, with
    /// tracing-subscriber's `Targets`:
    ///
    /// ```
    /// use tracing_subscriber::filter::Targets;
    /// use tracing::Level;
    ///
    /// let targets = Targets::new()
    ///     .with_default(Level::INFO)
    ///     .with_target("noisy_dependency", Level::ERROR);
    /// let config = tracing_error_reports::Config::builder()
    ///     .event_filter(move |meta| targets.would_enable(meta.target(), meta.level()))
    ///     .build()
    ///     .expect("valid");
    /// # let _ = config;
    /// ```
    pub fn event_filter(
        mut self,
        filter: impl Fn(&tracing::Metadata<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.layer.event_filter = Some(EventFilter(std::sync::Arc::new(filter)));
        self
    }

    /// Span fields that carry the request's trace id (default `["trace_id"]`).
    pub fn trace_id_fields(mut self, fields: &[&'static str]) -> Self {
        self.layer.trace_id_fields = fields.to_vec();
        self
    }

    /// Breadcrumbs kept per request, oldest dropped first (default 100).
    pub fn max_breadcrumbs(mut self, max: usize) -> Self {
        self.layer.max_breadcrumbs = max;
        self
    }

    /// Reports that may wait for the worker (default [`DEFAULT_QUEUE_CAPACITY`]).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// How long dropping the guard waits for delivery (default 2 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a panic that may end the process waits for its report's delivery
    /// (default 2 s): a panic on the main thread, or any panic with `panic = "abort"`.
    /// Panics on other threads (tokio workers, spawned threads) queue their report and
    /// never wait.
    pub fn panic_flush_timeout(mut self, timeout: Duration) -> Self {
        self.layer.panic_flush_timeout = timeout;
        self
    }

    /// Hard limit on one HTTP request to Sentry (default 5 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Adds an event target prefix that never becomes a report or breadcrumb.
    pub fn ignore_target(mut self, target: impl Into<Cow<'static, str>>) -> Self {
        self.layer.ignored_targets.push(target.into());
        self
    }

    /// Whether `init` installs the panic hook (default `true`).
    pub fn install_panic_hook(mut self, install: bool) -> Self {
        self.layer.report_panics = install;
        self
    }

    /// Whether `init` binds the client to Sentry's main hub, so direct `sentry::capture_*`
    /// calls use it (and its scrubbing) too, and the layer's reports take what
    /// `sentry::configure_scope` set on the calling thread's hub (tags, extra, contexts,
    /// user; the report's own tenant, user, tags and trace win). Default `false`.
    pub fn bind_main_hub(mut self, bind: bool) -> Self {
        self.bind_main_hub = bind;
        self
    }

    /// The scrubbing rules (default: [`ScrubRules::default`]).
    pub fn scrub_rules(mut self, rules: ScrubRules) -> Self {
        self.scrub = rules;
        self
    }

    /// Whether personal data (emails, IP addresses, ...) may be sent (default `false`).
    pub fn send_default_pii(mut self, send: bool) -> Self {
        self.scrub = self.scrub.send_default_pii(send);
        self
    }

    /// At most `reports` reports per key per `window`; later ones are counted and
    /// dropped, and the next report of the key says how many (`suppressed_before` in
    /// its `fields` context; default 100 per minute). The key is the callsite (for
    /// `log` records, their target, file and line), the error types, the message
    /// template (tokens holding digits replaced) and the tenant.
    /// `None` turns flood control off.
    pub fn flood_limit(mut self, limit: Option<(u32, Duration)>) -> Self {
        self.layer.flood_limit = limit;
        self
    }

    /// Checks everything and returns the configuration, or what is wrong with it.
    /// Values read from the environment never fail here: they were checked leniently.
    pub fn build(self) -> Result<Config, ConfigError> {
        let dsn = match (&self.dsn, &self.env.dsn) {
            (Some(DsnText(text)), _) => match parse_dsn(text) {
                Ok(dsn) => Ok(dsn),
                Err(why) => return Err(ConfigError::InvalidDsn(why)),
            },
            (None, Some(DsnText(text))) => parse_dsn(text).map_err(DisabledReason::InvalidDsn),
            (None, None) => Err(DisabledReason::NoDsn),
        };
        let traces_sample_rate = self
            .traces_sample_rate
            .or(self.env.traces_sample_rate)
            .unwrap_or(DEFAULT_TRACES_SAMPLE_RATE);
        if !traces_sample_rate.is_finite() || !(0.0..=1.0).contains(&traces_sample_rate) {
            return Err(ConfigError::InvalidSampleRate(format!(
                "traces sample rate {traces_sample_rate} is not within 0..=1"
            )));
        }
        let sample_rate = self.sample_rate.or(self.env.sample_rate).unwrap_or(1.0);
        if !sample_rate.is_finite() || !(0.0..=1.0).contains(&sample_rate) {
            return Err(ConfigError::InvalidSampleRate(format!(
                "error sample rate {sample_rate} is not within 0..=1"
            )));
        }
        let environment = self
            .environment
            .or(self.env.environment)
            .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
        check_name("environment", &environment, 64, true).map_err(|problem| {
            ConfigError::InvalidName {
                what: "environment",
                problem,
            }
        })?;
        let release = self
            .release
            .or(self.env.release.map(Cow::Owned))
            .or(self.default_release);
        if let Some(release) = &release {
            check_name("release", release, 200, false).map_err(|problem| {
                ConfigError::InvalidName {
                    what: "release",
                    problem,
                }
            })?;
        }
        if matches!(self.layer.flood_limit, Some((0, _))) {
            return Err(ConfigError::Zero("flood limit"));
        }
        if self.queue_capacity == 0 {
            return Err(ConfigError::Zero("queue capacity"));
        }
        let scrubber = Scrubber::new(&self.scrub).map_err(ConfigError::InvalidPattern)?;
        let mut layer = self.layer;
        layer.traces_sample_rate = traces_sample_rate;
        layer.sample_rate = sample_rate;
        layer.ignored_initials = LayerSettings::initials(&layer.ignored_targets);
        layer.hub_scope = self.bind_main_hub;
        Ok(Config {
            dsn,
            environment: Cow::Owned(environment),
            release,
            queue_capacity: self.queue_capacity,
            shutdown_timeout: self.shutdown_timeout,
            http_timeout: self.http_timeout,
            bind_main_hub: self.bind_main_hub,
            scrubber: std::sync::Arc::new(scrubber),
            hooks: self.hooks,
            layer,
            diagnostics: self.diagnostics,
        })
    }

    /// `build()` that cannot fail: a refused configuration becomes a disabled one
    /// whose reason is kept, so a service always starts.
    pub fn build_lenient(self) -> Config {
        let diagnostics = self.diagnostics.clone();
        match self.build() {
            Ok(config) => config,
            Err(err) => {
                let mut config = ConfigBuilder::default()
                    .build()
                    .expect("the default configuration is valid");
                config.dsn = Err(DisabledReason::InvalidConfig(err.to_string()));
                config.diagnostics = diagnostics;
                config
            }
        }
    }
}

/// `"name@version"` of the crate this macro is called in: the default release.
#[macro_export]
macro_rules! release_name {
    () => {
        concat!(env!("CARGO_PKG_NAME"), "@", env!("CARGO_PKG_VERSION"))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_rates_outside_the_unit_interval_are_refused() {
        for bad in ["abc", "1.5", "NaN", "-1", "inf", ""] {
            assert!(parse_sample_rate(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(parse_sample_rate(" 0.25 "), Ok(0.25));
        assert_eq!(parse_sample_rate("1"), Ok(1.0));
    }

    #[test]
    fn an_explicit_bad_dsn_is_a_build_error_not_a_panic() {
        let err = Config::builder().dsn("not a dsn").build().unwrap_err();
        assert!(matches!(err, ConfigError::InvalidDsn(_)), "{err}");
    }

    #[test]
    fn no_dsn_means_disabled() {
        let config = Config::builder().build().expect("defaults build");
        assert_eq!(config.dsn.unwrap_err(), DisabledReason::NoDsn);
    }

    #[test]
    fn names_sentry_would_reject_are_refused() {
        assert!(Config::builder().environment("a/b").build().is_err());
        assert!(Config::builder().environment("x\ny").build().is_err());
        assert!(Config::builder().release("r".repeat(201)).build().is_err());
        assert!(Config::builder()
            .traces_sample_rate(f32::NAN)
            .build()
            .is_err());
        let err = Config::builder().sample_rate(1.5).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid sample rate: error sample rate 1.5 is not within 0..=1"
        );
    }

    #[test]
    fn debug_output_never_shows_the_dsn_key() {
        let config = Config::builder()
            .dsn("https://secretkey123@o1.ingest.example.com/42")
            .build()
            .expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("secretkey123"), "{shown}");
        assert!(shown.contains("o1.ingest.example.com"), "{shown}");
    }

    /// Every order of the four explicit setters and `with_env` (all 120, variables set),
    /// and every subset of the setters with `with_env` at every position (variables set
    /// and unset): explicit values win, the environment fills the rest, an unset
    /// variable clears nothing (issue 10, section 6). (Each `build` compiles the
    /// scrubber's patterns, so not every order of every subset: that took a minute.)
    #[test]
    fn explicit_values_win_over_the_environment_in_every_builder_order() {
        const VARS: [(&str, &str); 4] = [
            (ENV_DSN, "http://envkey@env.example.com/2"),
            (ENV_RELEASE, "env@1.0.0"),
            (ENV_ENVIRONMENT, "from-env"),
            (ENV_TRACES_SAMPLE_RATE, "0.5"),
        ];
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Step {
            Dsn,
            Release,
            Environment,
            Rate,
            WithEnv,
        }
        fn orders(steps: &[Step]) -> Vec<Vec<Step>> {
            if steps.is_empty() {
                return vec![Vec::new()];
            }
            let mut all = Vec::new();
            for (i, first) in steps.iter().enumerate() {
                let mut rest = steps.to_vec();
                rest.remove(i);
                for mut order in orders(&rest) {
                    order.insert(0, *first);
                    all.push(order);
                }
            }
            all
        }
        let explicit = [Step::Dsn, Step::Release, Step::Environment, Step::Rate];
        let mut checked = 0;
        for env_set in [false, true] {
            for (name, value) in VARS {
                // SAFETY of intent: the only test of this binary that touches these.
                if env_set {
                    std::env::set_var(name, value);
                } else {
                    std::env::remove_var(name);
                }
            }
            for subset in 0..16u8 {
                let mut steps: Vec<Step> = explicit
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| subset & (1 << i) != 0)
                    .map(|(_, s)| *s)
                    .collect();
                let candidates = if subset == 15 && env_set {
                    steps.push(Step::WithEnv);
                    orders(&steps)
                } else {
                    (0..=steps.len())
                        .map(|at| {
                            let mut order = steps.clone();
                            order.insert(at, Step::WithEnv);
                            order
                        })
                        .collect()
                };
                for order in candidates {
                    let mut builder = Config::builder().default_release("default@0.1.0");
                    for step in &order {
                        builder = match step {
                            Step::Dsn => builder.dsn("http://key@explicit.example.com/1"),
                            Step::Release => builder.release("explicit@2.0.0"),
                            Step::Environment => builder.environment("explicit"),
                            Step::Rate => builder.traces_sample_rate(0.25),
                            Step::WithEnv => builder.with_env(),
                        };
                    }
                    let config = builder.build().expect("valid");
                    let has = |s: Step| order.contains(&s);
                    let host = config.dsn.as_ref().ok().map(|d| d.host().to_owned());
                    let want_host = if has(Step::Dsn) {
                        Some("explicit.example.com")
                    } else if env_set {
                        Some("env.example.com")
                    } else {
                        None
                    };
                    assert_eq!(host.as_deref(), want_host, "{order:?} env {env_set}");
                    let want_release = if has(Step::Release) {
                        "explicit@2.0.0"
                    } else if env_set {
                        "env@1.0.0"
                    } else {
                        "default@0.1.0"
                    };
                    assert_eq!(
                        config.release.as_deref(),
                        Some(want_release),
                        "{order:?} env {env_set}"
                    );
                    let want_environment = if has(Step::Environment) {
                        "explicit"
                    } else if env_set {
                        "from-env"
                    } else {
                        DEFAULT_ENVIRONMENT
                    };
                    assert_eq!(config.environment, want_environment, "{order:?}");
                    let want_rate = if has(Step::Rate) {
                        0.25
                    } else if env_set {
                        0.5
                    } else {
                        DEFAULT_TRACES_SAMPLE_RATE
                    };
                    assert_eq!(config.layer.traces_sample_rate, want_rate, "{order:?}");
                    checked += 1;
                }
            }
        }
        for (name, _) in VARS {
            std::env::remove_var(name);
        }
        assert_eq!(checked, 120 + 2 * (1 + 4 * 2 + 6 * 3 + 4 * 4 + 5) - 5);
    }
}
