//! Typed configuration: a builder whose `build()` checks everything, and a
//! lenient reader of the `SENTRY_*` environment variables that never fails.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::num::{NonZeroUsize, ParseFloatError};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sentry::types::{Dsn, ParseDsnError};
use sentry::ClientOptions;
use tracing::Level;

use crate::admission::{EventFilter, DEFAULT_SAMPLE_RATE};
use crate::env;
use crate::flood::FloodLimit;
use crate::http::HttpSettings;
use crate::logs::DEFAULT_LOG_LEVEL;
use crate::reporting::ReportingSettings;
use crate::request::DEFAULT_TRACES_SAMPLE_RATE;
use crate::scrub::{PatternError, PiiConfig, ScrubRules, Scrubber};
use crate::worker::WorkerSettings;

/// Environment used when neither the builder nor `SENTRY_ENVIRONMENT` gives one.
const DEFAULT_ENVIRONMENT: &str = "development";
/// How long dropping the guard waits for queued reports by default.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// A configuration [`ConfigBuilder::build`] refused. Its `Display` says what is wrong
/// in one line; [`source`](Error::source) gives the underlying error where there is one.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The DSN given to [`ConfigBuilder::dsn`] does not parse; the source is sentry's
    /// parse error, whose message never repeats the DSN's key.
    InvalidDsn(ParseDsnError),
    /// A sample rate that is not a finite number in `0..=1`.
    InvalidSampleRate {
        /// The builder setting: `traces_sample_rate` or `sample_rate`.
        option: &'static str,
        /// The rate given.
        value: f32,
    },
    /// An environment or release name refused because Sentry would drop it: longer
    /// than 64 characters or containing `/` (environments), longer than 200 characters
    /// (releases), containing control characters, or `.` or `..`. (Sentry's documented
    /// rules refuse a few more, such as spaces in environments; those are not checked.)
    InvalidName {
        /// The builder setting: `environment` or `release`.
        option: &'static str,
        /// The name given.
        value: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A pattern of [`ScrubRules::extra_pattern`] is not a valid regular expression;
    /// the source says which and why.
    InvalidPattern(PatternError),
    /// A zero `http_timeout`: every request to Sentry would time out, some after the
    /// server had them (counted failed, yet delivered).
    ZeroHttpTimeout,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidDsn(_) => f.write_str("invalid DSN"),
            ConfigError::InvalidSampleRate { option, value } => {
                write!(f, "invalid {option}: {value} is not within 0..=1")
            }
            ConfigError::InvalidName {
                option,
                value,
                problem,
            } => write!(f, "invalid {option} {value:?}: it {problem}"),
            ConfigError::InvalidPattern(_) => f.write_str("invalid scrubbing rules"),
            ConfigError::ZeroHttpTimeout => {
                f.write_str("invalid http_timeout: zero, so every request to Sentry would time out")
            }
        }
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ConfigError::InvalidDsn(e) => Some(e),
            ConfigError::InvalidPattern(e) => Some(e),
            ConfigError::InvalidSampleRate { .. }
            | ConfigError::InvalidName { .. }
            | ConfigError::ZeroHttpTimeout => None,
        }
    }
}

/// What is wrong with an environment or release name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// Longer than Sentry accepts.
    TooLong {
        /// The limit, in characters: 64 for environments, 200 for releases.
        max: usize,
    },
    /// Contains a newline or another control character.
    ControlCharacter,
    /// An environment containing `/`.
    Slash,
    /// `.` or `..`.
    Dots,
    /// Empty or only whitespace: Sentry's normalizer drops it from every report.
    Empty,
    /// Contains an invisible formatting character (Unicode general category `Cf`: a
    /// zero-width space U+200B, a right-to-left override U+202E, ...): two names that
    /// look alike in Sentry's environment picker would be different environments.
    InvisibleCharacter,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::TooLong { max } => write!(f, "is longer than {max} characters"),
            NameProblem::ControlCharacter => f.write_str("contains control characters"),
            NameProblem::Slash => f.write_str("contains '/'"),
            NameProblem::Dots => f.write_str(r#"is "." or "..""#),
            NameProblem::Empty => f.write_str("is empty"),
            NameProblem::InvisibleCharacter => {
                f.write_str("contains invisible or bidirectional formatting characters")
            }
        }
    }
}

/// A `SENTRY_*` variable that [`ConfigBuilder::with_env`] could not use. The variable
/// is ignored: the builder's value or the default stays (the `Display` text says
/// which). It is kept in [`Config::diagnostics`], and [`init`](crate::init) logs it
/// once, at `ERROR`. One is used and still said: a `SENTRY_SAMPLE_RATE` that is 0
/// once parsed (`0`, `-0`, `1e-50`), which drops every error report. A `SENTRY_DSN`
/// that cannot be used is not one of these: it disables reporting, and
/// [`DisabledReason::InvalidDsn`] says why (it does not parse, holds whitespace or
/// control characters, is longer than 2048 bytes, or is not Unicode).
#[derive(Clone, Debug)]
pub struct EnvError {
    var: &'static str,
    value: Option<String>,
    kind: EnvErrorKind,
    fallback: String,
}

#[derive(Clone, Debug)]
enum EnvErrorKind {
    NotUnicode,
    /// Its length and the limit, in bytes.
    TooLong(usize, usize),
    NotANumber(ParseFloatError),
    OutOfRange,
    InvalidName(NameProblem),
    /// A sample rate of 0: used, but every error report is dropped.
    DropsEverything,
    /// Neither `true` nor `false` (nor `1`, `0`, `yes`, `no`, `on`, `off`).
    NotABool,
    /// A PiiConfig that cannot be read or is refused: the built-in policy alone.
    InvalidPiiConfig(String),
}

impl EnvError {
    /// The variable's name (`SENTRY_DSN`, `SENTRY_ENVIRONMENT`, ...: see
    /// [`ConfigBuilder::with_env`]).
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// The offending value, when it was Unicode and not oversized (the DSN's value,
    /// which holds a key, is never kept).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (var, value, fallback) = (self.var, self.value(), &self.fallback);
        let value = value.unwrap_or_default();
        match &self.kind {
            EnvErrorKind::NotUnicode => write!(f, "{var} is not valid Unicode; ignored"),
            EnvErrorKind::TooLong(len, max) => write!(
                f,
                "{var} is {len} bytes long (at most {max} accepted); ignored"
            ),
            EnvErrorKind::NotANumber(_) => {
                write!(f, "{var} {value:?} is not a number; using {fallback}")
            }
            EnvErrorKind::OutOfRange => {
                write!(f, "{var} {value:?} is not within 0..=1; using {fallback}")
            }
            EnvErrorKind::InvalidName(problem) => {
                write!(f, "{var} {problem} ({value:?}); using {fallback}")
            }
            EnvErrorKind::NotABool => {
                write!(
                    f,
                    "{var} {value:?} is not `true` or `false`; using {fallback}"
                )
            }
            EnvErrorKind::DropsEverything => write!(
                f,
                "{var} {value:?} is 0: every error report dropped (counted in \
                 ReportStats::sampled_out)"
            ),
            EnvErrorKind::InvalidPiiConfig(problem) => write!(
                f,
                "{var}: {problem}; scrubbing with the built-in policy only"
            ),
        }
    }
}

impl Error for EnvError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            EnvErrorKind::NotANumber(e) => Some(e),
            _ => None,
        }
    }
}

/// `err` and its sources, `": "`-separated: the one line that is logged.
pub(crate) fn error_chain(err: &dyn Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

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
            DisabledReason::NoDsn => write!(f, "{} is not set", env::DSN),
            DisabledReason::InvalidDsn(why) => write!(f, "{} is invalid: {why}", env::DSN),
            DisabledReason::InvalidConfig(why) => write!(f, "invalid configuration: {why}"),
        }
    }
}

/// A checked configuration. Make one with [`Config::builder`] or [`Config::from_env`].
///
/// It holds what `init` starts, each part the settings type of the module that reads
/// it, resolved once by the builder and moved whole: the Sentry client's options, the
/// HTTP transport's, the worker's, the scrubber and the reporting's (layer and panic
/// hook).
#[derive(Clone)]
pub struct Config {
    pub(crate) dsn: Result<Dsn, DisabledReason>,
    /// Every client option but the DSN and the transport, which `init` adds.
    pub(crate) client: ClientOptions,
    pub(crate) http: HttpSettings,
    pub(crate) worker: WorkerSettings,
    pub(crate) bind_main_hub: bool,
    pub(crate) scrubber: Arc<Scrubber>,
    pub(crate) reporting: ReportingSettings,
    /// Problems met while reading the environment, logged by `init`.
    pub(crate) diagnostics: Vec<EnvError>,
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
            .field("environment", &self.client.environment)
            .field("release", &self.client.release)
            .field("http", &self.http)
            .field("worker", &self.worker)
            .field("reporting", &self.reporting)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder with every default and no DSN.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The configuration the `SENTRY_*` variables describe (see
    /// [`ConfigBuilder::with_env`]), never failing:
    /// a bad value is recorded (and logged by [`init`](crate::init)) and replaced
    /// by its default, a bad DSN disables reporting.
    pub fn from_env() -> Config {
        ConfigBuilder::default().with_env().build_lenient()
    }

    /// Whether a usable DSN is configured.
    pub fn is_enabled(&self) -> bool {
        self.dsn.is_ok()
    }

    /// The `SENTRY_*` values [`ConfigBuilder::with_env`] ignored, and why.
    pub fn diagnostics(&self) -> &[EnvError] {
        &self.diagnostics
    }

    /// The compiled scrubbing rules of this configuration (those of
    /// [`ConfigBuilder::scrub_rules`]), shared, for
    /// [`Scrubbed`](crate::scrub::Scrubbed) sinks: one policy for Sentry and every
    /// other sink.
    pub fn scrubber(&self) -> Arc<Scrubber> {
        self.scrubber.clone()
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
    server_name: Option<Cow<'static, str>>,
    /// `enable_logs`: `Some(None)` turns logs off whatever `SENTRY_ENABLE_LOGS` says.
    logs_level: Option<Option<Level>>,
    /// `auto_session_tracking`; `None`: `SENTRY_AUTO_SESSION_TRACKING`, else off.
    auto_session_tracking: Option<bool>,
    /// `enable_metrics`; `None`: `SENTRY_ENABLE_METRICS`, else off.
    enable_metrics: Option<bool>,
    /// Values read by `with_env`, used only where the builder has none.
    env: EnvValues,
    shutdown_timeout: Duration,
    http: HttpSettings,
    worker: WorkerSettings,
    bind_main_hub: bool,
    in_app_include: Vec<&'static str>,
    scrub: ScrubRules,
    pii_config: Option<PiiConfigSource>,
    pii_config_dry_run: bool,
    reporting: ReportingSettings,
    diagnostics: Vec<EnvError>,
}

#[derive(Clone, Debug, Default)]
struct EnvValues {
    dsn: Option<DsnText>,
    /// Why `SENTRY_DSN` could not be read (too long, not Unicode).
    dsn_problem: Option<String>,
    environment: Option<String>,
    release: Option<String>,
    traces_sample_rate: Option<f32>,
    sample_rate: Option<f32>,
    enable_logs: Option<bool>,
    auto_session_tracking: Option<bool>,
    enable_metrics: Option<bool>,
    spool_dir: Option<std::path::PathBuf>,
    /// `SENTRY_PII_CONFIG`, as read (JSON or `@path`).
    pii_config: Option<String>,
}

/// Where a PiiConfig comes from (read and checked by `build`, fail-open).
#[derive(Clone, Debug)]
enum PiiConfigSource {
    Parsed(Arc<PiiConfig>),
    Json(String),
    File(std::path::PathBuf),
}

/// Reads a PiiConfig document: a regular file (a FIFO would block `build`, a device such
/// as `/dev/zero` reports no length and never ends), at most `MAX_PII_CONFIG_LEN` bytes
/// read whatever the file's reported length.
fn read_pii_config_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(env::MAX_PII_CONFIG_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > env::MAX_PII_CONFIG_LEN {
        return Err(format!(
            "{} is longer than {} bytes (the most accepted)",
            path.display(),
            env::MAX_PII_CONFIG_LEN
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("{} is not UTF-8: {e}", path.display()))
}

/// Reads and parses a PiiConfig; the error is the diagnostic's text.
fn load_pii_config(source: PiiConfigSource) -> Result<Arc<PiiConfig>, String> {
    let json = match source {
        PiiConfigSource::Parsed(config) => return Ok(config),
        PiiConfigSource::Json(json) => json,
        PiiConfigSource::File(path) => read_pii_config_file(&path)?,
    };
    PiiConfig::from_json(&json)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            dsn: None,
            environment: None,
            release: None,
            default_release: None,
            traces_sample_rate: None,
            sample_rate: None,
            server_name: None,
            logs_level: None,
            auto_session_tracking: None,
            enable_metrics: None,
            env: EnvValues::default(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            http: HttpSettings::default(),
            worker: WorkerSettings::default(),
            bind_main_hub: false,
            in_app_include: Vec::new(),
            scrub: ScrubRules::default(),
            pii_config: None,
            pii_config_dry_run: false,
            reporting: ReportingSettings::default(),
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

/// Reads one variable; unset and empty are `Ok(None)`, non-Unicode and oversized
/// values are errors.
fn read_env(var: &'static str, max_len: usize) -> Result<Option<String>, EnvError> {
    let problem = |kind| EnvError {
        var,
        value: None,
        kind,
        fallback: String::new(),
    };
    match std::env::var(var) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) if v.len() > max_len => Err(problem(EnvErrorKind::TooLong(v.len(), max_len))),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(problem(EnvErrorKind::NotUnicode)),
    }
}

/// Checks a sample rate: only finite numbers in `0..=1`.
fn is_rate(rate: f32) -> bool {
    rate.is_finite() && (0.0..=1.0).contains(&rate)
}

/// Parses a sample rate read from the environment.
/// `true`/`false` as the `SENTRY_*` switches take them (case-insensitive, trimmed;
/// also `1`/`0`, `yes`/`no`, `on`/`off`).
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_sample_rate(text: &str) -> Result<f32, EnvErrorKind> {
    let rate = f32::from_str(text.trim()).map_err(EnvErrorKind::NotANumber)?;
    if !is_rate(rate) {
        return Err(EnvErrorKind::OutOfRange);
    }
    // `-0` is 0.
    Ok(if rate == 0.0 { 0.0 } else { rate })
}

/// Sentry refuses environments and releases that are empty, or with newlines, slashes (environment), or
/// more than 64/200 characters; catching that here beats a silently dropped event.
fn check_name(value: &str, max: usize, no_slash: bool) -> Result<(), NameProblem> {
    if value.trim().is_empty() {
        return Err(NameProblem::Empty);
    }
    if value.chars().count() > max {
        return Err(NameProblem::TooLong { max });
    }
    if value.chars().any(char::is_control) {
        return Err(NameProblem::ControlCharacter);
    }
    if value.chars().any(is_format_character) {
        return Err(NameProblem::InvisibleCharacter);
    }
    if no_slash && value.contains('/') {
        return Err(NameProblem::Slash);
    }
    if matches!(value, "." | "..") {
        return Err(NameProblem::Dots);
    }
    Ok(())
}

/// Whether `c` is of Unicode general category `Cf` (format; UCD 15.1,
/// `DerivedGeneralCategory.txt`): invisible, or reordering the text around it.
fn is_format_character(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Sentry's limits on environment and release names, in characters.
const MAX_ENVIRONMENT_CHARS: usize = 64;
const MAX_RELEASE_CHARS: usize = 200;

pub(crate) fn parse_dsn(text: &str) -> Result<Dsn, ParseDsnError> {
    // `Dsn::from_str` never panics (unlike `ClientOptions::dsn`), and its error names
    // the problem without repeating the key.
    let text = text.trim();
    // The URL parser drops tabs and newlines inside a URL: a DSN with a line appended
    // would parse, to another project.
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ParseDsnError::InvalidUrl);
    }
    Dsn::from_str(text)
}

impl ConfigBuilder {
    /// Reads the `SENTRY_*` variables leniently: a bad value is not used and becomes an
    /// [`EnvError`] in [`Config::diagnostics`] (a bad DSN disables reporting). A variable
    /// is used only where no value was set on the builder, before or after this call
    /// (see the type's precedence rule). Values longer than 200 bytes are refused.
    ///
    /// | variable | sets | as |
    /// |---|---|---|
    /// | `SENTRY_DSN` | [`dsn`](Self::dsn) | unset or empty: reporting off |
    /// | `SENTRY_ENVIRONMENT` | [`environment`](Self::environment) | |
    /// | `SENTRY_RELEASE` | [`release`](Self::release) | |
    /// | `SENTRY_TRACES_SAMPLE_RATE` | [`traces_sample_rate`](Self::traces_sample_rate) | a number in `0..=1` |
    /// | `SENTRY_SAMPLE_RATE` | [`sample_rate`](Self::sample_rate) | a number in `0..=1` |
    /// | `SENTRY_ENABLE_LOGS` | [`enable_logs`](Self::enable_logs) | `true`: `INFO` and more severe; `false` (also `1`/`0`, `yes`/`no`, `on`/`off`) |
    /// | `SENTRY_AUTO_SESSION_TRACKING` | [`auto_session_tracking`](Self::auto_session_tracking) | `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`) |
    /// | `SENTRY_ENABLE_METRICS` | [`enable_metrics`](Self::enable_metrics) | `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`) |
    /// | `SENTRY_SPOOL_DIR` | [`spool_dir`](Self::spool_dir) | a directory path (at most 4,096 bytes); unset or empty: no spool |
    pub fn with_env(mut self) -> Self {
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        // A DSN that cannot be read is not an unset one: it leaves reporting off and
        // says why (`DisabledReason::InvalidDsn`), never "not set".
        let (dsn, dsn_problem) = match read_env(env::DSN, env::MAX_DSN_LEN) {
            // The URL parser drops tabs and newlines inside: `.../1\nX-Injected: yes`
            // would parse to another project. A DSN holds no whitespace at all.
            Ok(Some(dsn)) if dsn.chars().any(|c| c.is_whitespace() || c.is_control()) => (
                None,
                Some("it holds whitespace or control characters (a DSN has none)".to_owned()),
            ),
            Ok(dsn) => (dsn, None),
            Err(e) => (
                None,
                Some(match e.kind {
                    EnvErrorKind::TooLong(len, max) => {
                        format!("it is {len} bytes long (at most {max} accepted)")
                    }
                    _ => "it is not valid Unicode".to_owned(),
                }),
            ),
        };
        let spool_dir = read_env(env::SPOOL_DIR, env::MAX_PATH_LEN).unwrap_or_else(|e| {
            diagnostics.push(e);
            None
        });
        let pii_config = read_env(env::PII_CONFIG, env::MAX_PII_CONFIG_LEN).unwrap_or_else(|e| {
            diagnostics.push(e);
            None
        });
        let mut read = |var| {
            read_env(var, env::MAX_VALUE_LEN).unwrap_or_else(|e| {
                diagnostics.push(e);
                None
            })
        };
        let environment = read(env::ENVIRONMENT);
        let release = read(env::RELEASE);
        let traces_sample_rate = read(env::TRACES_SAMPLE_RATE);
        let sample_rate = read(env::SAMPLE_RATE);
        let enable_logs = read(env::ENABLE_LOGS);
        let auto_session_tracking = read(env::AUTO_SESSION_TRACKING);
        let enable_metrics = read(env::ENABLE_METRICS);
        let invalid = |var, value: String, kind, fallback: String| EnvError {
            var,
            value: Some(value),
            kind,
            fallback,
        };
        let mut values = EnvValues {
            dsn: dsn.map(DsnText),
            dsn_problem,
            spool_dir: spool_dir.map(std::path::PathBuf::from),
            pii_config,
            ..EnvValues::default()
        };
        if let Some(value) = environment {
            match check_name(&value, MAX_ENVIRONMENT_CHARS, true) {
                Ok(()) => values.environment = Some(value),
                Err(problem) => {
                    let fallback = self.environment.as_deref().unwrap_or(DEFAULT_ENVIRONMENT);
                    diagnostics.push(invalid(
                        env::ENVIRONMENT,
                        value,
                        EnvErrorKind::InvalidName(problem),
                        format!("{fallback:?}"),
                    ));
                }
            }
        }
        if let Some(value) = release {
            match check_name(&value, MAX_RELEASE_CHARS, false) {
                Ok(()) => values.release = Some(value),
                Err(problem) => diagnostics.push(invalid(
                    env::RELEASE,
                    value,
                    EnvErrorKind::InvalidName(problem),
                    "the default release".to_owned(),
                )),
            }
        }
        if let Some(value) = traces_sample_rate {
            match parse_sample_rate(&value) {
                Ok(rate) => values.traces_sample_rate = Some(rate),
                Err(kind) => {
                    let fallback = self
                        .traces_sample_rate
                        .unwrap_or(DEFAULT_TRACES_SAMPLE_RATE);
                    diagnostics.push(invalid(
                        env::TRACES_SAMPLE_RATE,
                        value,
                        kind,
                        fallback.to_string(),
                    ));
                }
            }
        }
        if let Some(value) = sample_rate {
            match parse_sample_rate(&value) {
                Ok(rate) => {
                    if rate == 0.0 {
                        diagnostics.push(invalid(
                            env::SAMPLE_RATE,
                            value,
                            EnvErrorKind::DropsEverything,
                            String::new(),
                        ));
                    }
                    values.sample_rate = Some(rate);
                }
                Err(kind) => {
                    let fallback = self.sample_rate.unwrap_or(DEFAULT_SAMPLE_RATE);
                    diagnostics.push(invalid(env::SAMPLE_RATE, value, kind, fallback.to_string()));
                }
            }
        }
        if let Some(value) = enable_logs {
            match parse_bool(&value) {
                Some(on) => values.enable_logs = Some(on),
                None => {
                    let fallback = match self.logs_level {
                        Some(Some(level)) => format!("logs at {level}"),
                        _ => "logs off".to_owned(),
                    };
                    diagnostics.push(invalid(
                        env::ENABLE_LOGS,
                        value,
                        EnvErrorKind::NotABool,
                        fallback,
                    ));
                }
            }
        }
        if let Some(value) = auto_session_tracking {
            match parse_bool(&value) {
                Some(on) => values.auto_session_tracking = Some(on),
                None => {
                    let fallback = match self.auto_session_tracking {
                        Some(true) => "release health on",
                        _ => "release health off",
                    };
                    diagnostics.push(invalid(
                        env::AUTO_SESSION_TRACKING,
                        value,
                        EnvErrorKind::NotABool,
                        fallback.to_owned(),
                    ));
                }
            }
        }
        if let Some(value) = enable_metrics {
            match parse_bool(&value) {
                Some(on) => values.enable_metrics = Some(on),
                None => {
                    let fallback = match self.enable_metrics {
                        Some(true) => "metrics on",
                        _ => "metrics off",
                    };
                    diagnostics.push(invalid(
                        env::ENABLE_METRICS,
                        value,
                        EnvErrorKind::NotABool,
                        fallback.to_owned(),
                    ));
                }
            }
        }
        self.env = values;
        self.diagnostics = diagnostics;
        self
    }

    /// Share of error events and panics sent, in `0..=1`, as Sentry's `sample_rate`.
    /// Decided on the calling thread before anything is recorded; the ones not sent are
    /// counted ([`ReportStats::sampled_out`](crate::ReportStats::sampled_out)).
    ///
    /// Default: `SENTRY_SAMPLE_RATE`, else 1 (all of them, as Sentry's own default).
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
        self.worker.hooks.before_send = Some(Arc::new(callback));
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
        self.worker.hooks.before_breadcrumb = Some(Arc::new(callback));
        self
    }

    /// Error events to drop (counted in
    /// [`ReportStats::discarded`](crate::ReportStats::discarded)): `pattern` equal to the
    /// type of an exception of the event (e.g. `TimedOut`, as Sentry shows it), or
    /// contained in its message or an exception's value. Checked before `before_send`.
    /// May be called many times.
    pub fn ignore_error(mut self, pattern: impl Into<String>) -> Self {
        self.worker.hooks.ignore_errors.push(pattern.into());
        self
    }

    /// The `server_name` of reports.
    ///
    /// Default: the host name, as Sentry's SDKs send it.
    pub fn server_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Whether error events without a panic get the stack trace of the code that
    /// logged them, as Sentry's `attach_stacktrace`. The calling thread only walks its
    /// stack (about 8 µs more per reported event in
    /// `cargo bench --bench layer -- error_event_attach_stacktrace`); symbols are
    /// resolved on the worker (about 30 µs more per report there).
    ///
    /// Default: `false`.
    pub fn attach_stacktrace(mut self, attach: bool) -> Self {
        self.reporting.capture.attach_stacktrace = attach;
        self
    }

    /// The DSN to send to. Checked by [`build`](Self::build).
    ///
    /// Default: `SENTRY_DSN`, else none: reporting is off.
    pub fn dsn(mut self, dsn: impl Into<String>) -> Self {
        self.dsn = Some(DsnText(dsn.into()));
        self
    }

    /// The environment of every report: at most 64 characters, no `/`, no control
    /// characters, not `.` or `..` (Sentry drops the others).
    ///
    /// Default: `SENTRY_ENVIRONMENT`, else `development`.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The release of every report: at most 200 characters, no control characters.
    ///
    /// Default: `SENTRY_RELEASE`, else [`default_release`](Self::default_release), else
    /// none.
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

    /// Share of requests (ADR-025) sent as Sentry transactions, in `0..=1`; 0 turns
    /// performance tracing off.
    ///
    /// Default: `SENTRY_TRACES_SAMPLE_RATE`, else 0.1.
    pub fn traces_sample_rate(mut self, rate: f32) -> Self {
        self.traces_sample_rate = Some(rate);
        self
    }

    /// Events at this level or more severe become Sentry events.
    ///
    /// Default: `ERROR`.
    pub fn event_level(mut self, level: Level) -> Self {
        self.reporting.admission.event_level = level;
        self
    }

    /// Events at this level or more severe, but below the event level, become
    /// breadcrumbs of their request.
    ///
    /// Default: `INFO`.
    pub fn breadcrumb_level(mut self, level: Level) -> Self {
        self.reporting.admission.breadcrumb_level = level;
        self
    }

    /// Span and event fields that carry the tenant (the `tenant_id` tag and
    /// `user.tenant_id`); the first name present wins, the event's own field first, then
    /// the nearest span's.
    ///
    /// Default: `["tenant_id"]`.
    pub fn tenant_fields(mut self, fields: &[&'static str]) -> Self {
        self.reporting.requests.identity.tenant = fields.to_vec();
        self
    }

    /// Span and event fields that carry the user id (`user.id`), as the tenant fields.
    ///
    /// Default: `["user_id"]`.
    pub fn user_fields(mut self, fields: &[&'static str]) -> Self {
        self.reporting.requests.identity.user = fields.to_vec();
        self
    }

    /// Reports and breadcrumbs only events for which `filter` returns true (Default:
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
    ///
    /// It runs on the logging thread for every event at or above the breadcrumb level. A
    /// panic in it is contained: that event is routed as if the filter let it through,
    /// counted in [`ReportStats::event_filter_panics`](crate::ReportStats), said once on
    /// stderr.
    pub fn event_filter(
        mut self,
        filter: impl Fn(&tracing::Metadata<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.reporting.admission.event_filter = Some(EventFilter(Arc::new(filter)));
        self
    }

    /// Span fields that carry the request's trace id, 32 hex digits (what
    /// [`link_trace`](crate::link_trace) records).
    ///
    /// Default: `["trace_id"]`.
    pub fn trace_id_fields(mut self, fields: &[&'static str]) -> Self {
        self.reporting.requests.identity.trace_id = fields.to_vec();
        self
    }

    /// Breadcrumbs kept per request, oldest dropped first.
    ///
    /// Default: 100 (Sentry's own).
    pub fn max_breadcrumbs(mut self, max: usize) -> Self {
        self.reporting.requests.max_breadcrumbs = max;
        self
    }

    /// Reports that may wait for the worker, and envelopes that may wait for the
    /// transport; beyond it new ones are dropped and counted (transactions may fill
    /// half of each queue).
    ///
    /// Default: 2048.
    pub fn queue_capacity(mut self, capacity: NonZeroUsize) -> Self {
        self.worker.capacity = capacity;
        self
    }

    /// How long dropping the guard waits for delivery (`Duration::MAX`: as long as
    /// delivery takes, each request still bounded by `http_timeout`).
    ///
    /// Default: 2 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a panic that may end the process waits for its report's delivery: a
    /// panic on the main thread, or any panic with `panic = "abort"`. Panics on other
    /// threads (tokio workers, spawned threads) queue their report and never wait.
    ///
    /// Default: 2 s.
    pub fn panic_flush_timeout(mut self, timeout: Duration) -> Self {
        self.reporting.panic_flush_timeout = timeout;
        self
    }

    /// Hard limit on one HTTP request to Sentry; zero is refused by
    /// [`build`](Self::build) ([`ConfigError::ZeroHttpTimeout`]).
    ///
    /// Default: 5 s.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// Turns on the disk spool: envelopes that cannot be sent (a network error,
    /// a timeout, or the HTTP queue full) are written, already scrubbed, as Sentry
    /// envelope files under `dir/<DSN key>/` (directory 0700, files 0600, each written
    /// to a temporary file, fsynced and renamed), and sent from there in the
    /// background: errors first, oldest first, 100 ms apart, paused while their
    /// category is rate-limited or the network still fails (backoff from 1 s doubling
    /// to 30 s, with jitter), at once again when a live send succeeds. A 2xx removes a
    /// file, 413 and other 4xx/5xx discard it (client report `send_error`), 429 discards
    /// it and applies the rate limit; only network errors keep it. Files left at exit
    /// (or by a crash) are sent by the next process with the same DSN and directory;
    /// two processes sharing it never send one file twice (claimed by rename).
    /// After a network error, envelopes go to the spool without a post (one live probe a
    /// second) until Sentry answers again; at shutdown (the guard's drop, the exit hook)
    /// what is not delivered by half of `shutdown_timeout` is written to the spool.
    /// `dir` and `dir/<DSN key>` must be this user's, not symbolic links, and writable
    /// by nobody else (they are made 0700 when missing, never changed when present);
    /// only regular files of this user, mode 0600, of the size their name states are
    /// sent, holding only the item types this crate sends (others moved aside as
    /// `<name>.refused`, counted).
    /// Counts: [`ReportStats::spool`](crate::ReportStats::spool).
    ///
    /// Default: `SENTRY_SPOOL_DIR`, else no spool (a report that cannot be sent is lost
    /// and counted).
    pub fn spool_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.http.spool.dir = Some(dir.into());
        self
    }

    /// The most files and bytes the spool holds; beyond either, the least important
    /// envelopes go first: logs and other items, then transactions, then sessions,
    /// error reports last, the oldest first within each (counted
    /// [`SpoolStats::evicted`](crate::SpoolStats::evicted), told to Sentry as
    /// `buffer_overflow`). The bounds hold for what this process knows of the
    /// directory, listed again every second.
    ///
    /// Default: 10,000 files and 64 MiB.
    pub fn spool_limits(mut self, max_files: usize, max_bytes: u64) -> Self {
        self.http.spool.max_files = max_files;
        self.http.spool.max_bytes = max_bytes;
        self
    }

    /// The oldest envelope the spool still sends, by its event's or transaction's
    /// timestamp; older ones are removed unsent (counted
    /// [`SpoolStats::expired`](crate::SpoolStats::expired), told as `buffer_overflow`).
    ///
    /// Default: 30 days, the oldest event Sentry accepts (Relay's `max_secs_in_past`).
    pub fn spool_max_age(mut self, age: Duration) -> Self {
        self.http.spool.max_age = age;
        self
    }

    /// The pause between two sends from the spool, so that a backlog never floods a
    /// Sentry that just came back (10,000 files drain in about 17 minutes at the default).
    ///
    /// Default: 100 ms, the pacing of Sentry's offline-caching SDK spec.
    pub fn spool_pacing(mut self, pause: Duration) -> Self {
        self.http.spool.pacing = pause;
        self
    }

    /// Adds an event target that never becomes a report or breadcrumb: a prefix of the
    /// target at a `::` boundary (`hyper` ignores `hyper::client`, not `hyperion`).
    ///
    /// Default: the SDK, HTTP stacks and exporters, whose own errors would feed back into
    /// Sentry: `sentry`, `sentry_core`, `tracing_error_reports`, `reqwest`, `hyper`,
    /// `hyper_util`, `h2`, `tower`, `rustls`, `opentelemetry`, `opentelemetry_sdk`,
    /// `opentelemetry_otlp`, `opentelemetry_http`, `tracing_opentelemetry`,
    /// `tracing_loki`, `tonic`.
    pub fn ignore_target(mut self, target: impl Into<Cow<'static, str>>) -> Self {
        self.reporting.admission.ignore_target(target.into());
        self
    }

    /// Whether `init` installs the panic hook (and panics are reported).
    ///
    /// Default: `true`.
    pub fn install_panic_hook(mut self, install: bool) -> Self {
        self.reporting.admission.report_panics = install;
        self
    }

    /// Adds a module prefix (`my_service::`, `my_lib::`) whose stack frames are the
    /// service's own (`in_app`, Sentry's `in_app_include`): Sentry groups by and shows
    /// these first.
    ///
    /// Default: the executable's crate (its file name, `-` read as `_`); the layer,
    /// `tracing` and std never are.
    pub fn in_app_include(mut self, prefix: &'static str) -> Self {
        self.in_app_include.push(prefix);
        self
    }

    /// Whether the panic hook prints std's panic lines with the message scrubbed, in place
    /// of std's default hook, which prints it raw (a token in a panic message reached
    /// stderr, and whatever ships stderr, while Sentry got it scrubbed). The lines are
    /// std's: `thread '<name>' panicked at <file>:<line>:<column>:`, the message, then the
    /// backtrace as `RUST_BACKTRACE` asks or std's note about it. Only when the hook found
    /// std's default hook installed: a hook set before `init` (by the service or a crate
    /// such as color-eyre) is still called with the raw panic, as before. With reporting
    /// off (no DSN, an invalid one) the hook reports nothing but still scrubs these lines
    /// (with `install_panic_hook(true)`).
    ///
    /// Default: `true`; `false` keeps std's default hook and its raw message.
    pub fn scrub_panic_output(mut self, scrub: bool) -> Self {
        self.reporting.scrub_panic_output = scrub;
        self
    }

    /// Whether `init` binds the client to Sentry's main hub, so direct `sentry::capture_*`
    /// calls use it (and its scrubbing) too, and the layer's reports take what
    /// `sentry::configure_scope` set on the calling thread's hub (tags, extra, contexts,
    /// user; the report's own tenant, user, tags and trace win).
    ///
    /// Default: `false`.
    pub fn bind_main_hub(mut self, bind: bool) -> Self {
        self.bind_main_hub = bind;
        self
    }

    /// The scrubbing rules, the one place scrubbing is set: personal data (emails, IP
    /// addresses, names, phone numbers) is sent only when
    /// [`send_default_pii`](crate::scrub::ScrubRules::send_default_pii) is set to `true`.
    ///
    /// Default: [`ScrubRules::default()`](crate::scrub::ScrubRules::default), every
    /// built-in rule, personal data scrubbed.
    pub fn scrub_rules(mut self, rules: ScrubRules) -> Self {
        self.scrub = rules;
        self
    }

    /// Sends tracing events at `level` or more severe as Sentry structured logs
    /// (<https://docs.sentry.io/product/explore/logs/>), besides the reports and
    /// breadcrumbs they make; `None` turns logs off (whatever `SENTRY_ENABLE_LOGS` says).
    /// Each log carries the event's fields as typed attributes, the request's tenant
    /// (`tenant_id`), user (`user.id`), `tags.*` fields and trace, the span id
    /// (`sentry.trace.parent_span_id`), the source location (`code.*`) and the
    /// environment and release; it is scrubbed by the same rules as reports. Logs are
    /// batched on the worker (100 a batch, 1 MiB, or 5 s) and may fill a quarter of its
    /// queue, so they never push out an error report; those dropped are counted
    /// ([`ReportStats::logs_dropped`](crate::ReportStats::logs_dropped)) and told to
    /// Sentry in client reports. Events of the ignored targets never become logs.
    ///
    /// Default: `SENTRY_ENABLE_LOGS` (`true`: `INFO`), else off: when off, an event costs
    /// one comparison more.
    pub fn enable_logs(mut self, level: impl Into<Option<Level>>) -> Self {
        self.logs_level = Some(level.into());
        self
    }

    /// Release health in request mode, as sentry-rust's `auto_session_tracking` with
    /// `SessionMode::Request` (<https://docs.sentry.io/product/releases/health/>): every
    /// request (a span that starts one and may be a transaction, the same requests
    /// sampled as transactions) ends as one session, `crashed` if it panicked, `errored`
    /// if an error event or panic in it was admitted for reporting (sampled out or held
    /// back too), else `exited`. Counted when the request's root span closes, aggregated
    /// per started minute and user (the user id the root span holds; at most 1,000
    /// users per 60 s send, further requests without one) and sent as one `sessions` item
    /// every 60 s, at every flush and at shutdown, with the release and environment.
    /// Needs a release (the default release counts). Counts:
    /// [`ReportStats::sessions`](crate::ReportStats::sessions).
    ///
    /// Default: `SENTRY_AUTO_SESSION_TRACKING`, else off.
    pub fn auto_session_tracking(mut self, on: bool) -> Self {
        self.auto_session_tracking = Some(on);
        self
    }

    /// Sends the numeric fields named as tracing-opentelemetry's `MetricsLayer` names
    /// them as Sentry metrics (`trace_metric`, <https://docs.sentry.io/product/explore/metrics/>):
    /// `monotonic_counter.<name>` and `counter.<name>` as counters, `histogram.<name>` as
    /// distributions, `gauge.<name>` as gauges, named `<name>`, valued as recorded
    /// (integers and finite doubles; a text, a boolean, a non-finite double or a negative
    /// monotonic counter is no metric and is not sent). A `metric.unit` field gives the
    /// unit of the event's metrics (Sentry's unit names, `"millisecond"`, `"byte"`, or
    /// symbols, `"ms"`, `"MB"`). Each metric carries the event's other fields as typed
    /// attributes, the request's tenant (`tenant_id`), user (`user.id`) and trace, and
    /// the environment and release; names and attributes are scrubbed by the same rules
    /// as reports. Batched on the worker (100 a batch or 5 s) in the logs' share of its
    /// queue, so they never push out an error report; those dropped are counted
    /// ([`ReportStats::metrics_dropped`](crate::ReportStats::metrics_dropped)) and told
    /// to Sentry in client reports (category `trace_metric`). Any level and target: a
    /// metric is not a log.
    ///
    /// Default: `SENTRY_ENABLE_METRICS`, else off: when off, an event costs one
    /// comparison more.
    pub fn enable_metrics(mut self, on: bool) -> Self {
        self.enable_metrics = Some(on);
        self
    }

    /// Flood control of metrics: at most [`FloodLimit::reports`] events with metrics
    /// per callsite and tenant per [`FloodLimit::per`]; the metrics of later ones are
    /// dropped and counted
    /// ([`ReportStats::metrics_suppressed`](crate::ReportStats::metrics_suppressed)),
    /// so one tenant's loop cannot use up the queue or the quota. `None` turns it off.
    ///
    /// Default: 1,000 events per callsite and tenant per 60 s.
    pub fn metric_flood_limit(mut self, limit: Option<FloodLimit>) -> Self {
        self.reporting.metrics.flood_limit = limit;
        self
    }

    /// Sends as logs only events for which `filter` returns true, as
    /// [`event_filter`](Self::event_filter) for reports (and, like it, contained if it
    /// panics). It runs on the logging thread for every event at or above the log level.
    ///
    /// Default: every event at the log level.
    pub fn log_filter(
        mut self,
        filter: impl Fn(&tracing::Metadata<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.reporting.logs.filter = Some(EventFilter(Arc::new(filter)));
        self
    }

    /// Flood control of logs: at most [`FloodLimit::reports`] logs per callsite (for
    /// `log` records, their target, file and line) and tenant per [`FloodLimit::per`];
    /// later ones are dropped and counted
    /// ([`ReportStats::logs_suppressed`](crate::ReportStats::logs_suppressed)), so one
    /// tenant's log loop cannot use up the queue or the quota. `None` turns it off.
    ///
    /// Default: 1,000 logs per callsite and tenant per 60 s.
    pub fn log_flood_limit(mut self, limit: Option<FloodLimit>) -> Self {
        self.reporting.logs.flood_limit = limit;
        self
    }

    /// A project's Sentry `PiiConfig` ("Advanced Data Scrubbing" rules, the JSON of
    /// Sentry's project settings), enforced on every event and transaction on top of
    /// the built-in policy: it can only remove more. See [`PiiConfig`](crate::scrub::PiiConfig) for the shape.
    ///
    /// Default: none; `SENTRY_PII_CONFIG` (the JSON, or `@path` to a file) when
    /// [`with_env`](Self::with_env) is used and this is not set.
    pub fn pii_config(mut self, config: PiiConfig) -> Self {
        self.pii_config = Some(PiiConfigSource::Parsed(Arc::new(config)));
        self
    }

    /// [`pii_config`](Self::pii_config) from its JSON text, checked by `build`: a
    /// document that does not parse or is refused is one `ERROR` line at `init`
    /// (naming the rule or selector) and the built-in policy alone (fail-open).
    pub fn pii_config_json(mut self, json: impl Into<String>) -> Self {
        self.pii_config = Some(PiiConfigSource::Json(json.into()));
        self
    }

    /// [`pii_config_json`](Self::pii_config_json) from a file (at most 1 MiB), read by
    /// `build`; a file that cannot be read is a line at `init`, like a refused document.
    pub fn pii_config_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.pii_config = Some(PiiConfigSource::File(path.into()));
        self
    }

    /// Dry run for the PiiConfig: what it would remove from reports, transactions and
    /// logs is counted per rule id ([`ReportStats::pii_config`](crate::ReportStats::pii_config),
    /// the `pii_config` context of each report, [`PiiConfig::matches`]) and nothing is
    /// removed by it. Default: off.
    pub fn pii_config_dry_run(mut self, dry_run: bool) -> Self {
        self.pii_config_dry_run = dry_run;
        self
    }

    /// Flood control: at most [`FloodLimit::reports`] reports per key per
    /// [`FloodLimit::per`]; later ones are counted and dropped, and the next report of
    /// the key says how many (`suppressed_before` in its `fields` context). The key is
    /// the callsite (for `log` records, their target, file and line), the error types,
    /// the message template (tokens holding digits replaced) and the tenant (ADR-027).
    /// `None` turns flood control off.
    ///
    /// Default: 100 reports per key per 60 s.
    pub fn flood_limit(mut self, limit: Option<FloodLimit>) -> Self {
        self.reporting.flood_limit = limit;
        self
    }

    /// Checks everything and returns the configuration, or the first thing wrong with
    /// it. Values read from the environment never fail here: they were checked
    /// leniently by [`with_env`](Self::with_env).
    pub fn build(self) -> Result<Config, ConfigError> {
        let dsn = match (&self.dsn, &self.env.dsn) {
            (Some(DsnText(text)), _) => Ok(parse_dsn(text).map_err(ConfigError::InvalidDsn)?),
            (None, Some(DsnText(text))) => {
                parse_dsn(text).map_err(|e| DisabledReason::InvalidDsn(error_chain(&e)))
            }
            (None, None) => match &self.env.dsn_problem {
                Some(problem) => Err(DisabledReason::InvalidDsn(problem.clone())),
                None => Err(DisabledReason::NoDsn),
            },
        };
        let traces_sample_rate = self
            .traces_sample_rate
            .or(self.env.traces_sample_rate)
            .unwrap_or(DEFAULT_TRACES_SAMPLE_RATE);
        if !is_rate(traces_sample_rate) {
            return Err(ConfigError::InvalidSampleRate {
                option: "traces_sample_rate",
                value: traces_sample_rate,
            });
        }
        let sample_rate = self
            .sample_rate
            .or(self.env.sample_rate)
            .unwrap_or(DEFAULT_SAMPLE_RATE);
        if !is_rate(sample_rate) {
            return Err(ConfigError::InvalidSampleRate {
                option: "sample_rate",
                value: sample_rate,
            });
        }
        let environment = self
            .environment
            .or(self.env.environment)
            .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
        if let Err(problem) = check_name(&environment, MAX_ENVIRONMENT_CHARS, true) {
            return Err(ConfigError::InvalidName {
                option: "environment",
                value: environment,
                problem,
            });
        }
        let release = self
            .release
            .or(self.env.release.map(Cow::Owned))
            .or(self.default_release);
        if let Some(release) = &release {
            if let Err(problem) = check_name(release, MAX_RELEASE_CHARS, false) {
                return Err(ConfigError::InvalidName {
                    option: "release",
                    value: release.to_string(),
                    problem,
                });
            }
        }
        if self.http.timeout.is_zero() {
            return Err(ConfigError::ZeroHttpTimeout);
        }
        let mut scrubber = Scrubber::new(&self.scrub).map_err(ConfigError::InvalidPattern)?;
        let mut diagnostics = self.diagnostics;
        let (pii_source, pii_var) = match (self.pii_config, self.env.pii_config) {
            (Some(source), _) => (Some(source), "pii_config"),
            (None, Some(text)) => match text.strip_prefix('@') {
                Some(path) => (Some(PiiConfigSource::File(path.into())), env::PII_CONFIG),
                None => (Some(PiiConfigSource::Json(text)), env::PII_CONFIG),
            },
            (None, None) => (None, ""),
        };
        if let Some(source) = pii_source {
            match load_pii_config(source) {
                Ok(config) => {
                    let config = if self.pii_config_dry_run && !config.is_dry_run() {
                        Arc::new(PiiConfig::clone(&config).dry_run(true))
                    } else {
                        config
                    };
                    scrubber = scrubber.with_pii_config(config);
                }
                Err(problem) => diagnostics.push(EnvError {
                    var: pii_var,
                    value: None,
                    kind: EnvErrorKind::InvalidPiiConfig(problem),
                    fallback: String::new(),
                }),
            }
        }
        let mut http = self.http;
        if http.spool.dir.is_none() {
            http.spool.dir = self.env.spool_dir;
        }
        let mut reporting = self.reporting;
        reporting.logs.level = match self.logs_level {
            Some(level) => level,
            None => self
                .env
                .enable_logs
                .and_then(|on| on.then_some(DEFAULT_LOG_LEVEL)),
        };
        reporting.metrics.on = self
            .enable_metrics
            .or(self.env.enable_metrics)
            .unwrap_or(false);
        reporting.requests.traces_sample_rate = traces_sample_rate;
        // Sessions need a release (Relay drops them without one).
        let sessions = self
            .auto_session_tracking
            .or(self.env.auto_session_tracking)
            .unwrap_or(false)
            && release.is_some();
        reporting.requests.sessions = sessions;
        let mut worker = self.worker;
        worker.sessions = sessions;
        reporting.admission.sample_rate = sample_rate;
        reporting.capture.hub_scope = self.bind_main_hub;
        let mut client = ClientOptions::default();
        client.release = release;
        client.environment = Some(Cow::Owned(environment));
        client.server_name = self.server_name;
        client.in_app_include = self.in_app_include;
        // Personal data is the scrubber's to allow (`ScrubRules::send_default_pii`).
        client.send_default_pii = false;
        client.max_breadcrumbs = reporting.requests.max_breadcrumbs;
        client.shutdown_timeout = self.shutdown_timeout;
        client.transport_channel_capacity = Some(worker.capacity);
        // The os, rust and device contexts and the server name Sentry's SDKs send by
        // default (`sentry::init` adds this integration; `Client::from` does not).
        client.integrations.push(Arc::new(
            sentry::integrations::contexts::ContextIntegration::default(),
        ));
        Ok(Config {
            dsn,
            client,
            http,
            worker,
            bind_main_hub: self.bind_main_hub,
            scrubber: Arc::new(scrubber),
            reporting,
            diagnostics,
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
                config.dsn = Err(DisabledReason::InvalidConfig(error_chain(&err)));
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
    fn a_refused_pii_config_is_one_line_naming_the_rule_and_the_builtin_policy_stays() {
        let config = Config::builder()
            .pii_config_json(
                r#"{"rules":{"ids":{"type":"pattern"}},"applications":{"$string":["ids"]}}"#,
            )
            .build()
            .expect("fail-open: the build succeeds");
        assert!(config.scrubber().pii_config().is_none());
        let lines: Vec<String> = config
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains(r#"rule "ids": missing field `pattern`"#),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with("scrubbing with the built-in policy only"),
            "{}",
            lines[0]
        );
        let missing = Config::builder()
            .pii_config_file("/nonexistent/pii.json")
            .build()
            .expect("fail-open");
        assert!(missing.diagnostics()[0]
            .to_string()
            .contains("cannot read /nonexistent/pii.json"));
        // A device without end and a FIFO nobody writes to: refused at once, never read.
        let fifo = std::env::temp_dir().join(format!("pii-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        for (path, told) in [
            (
                std::path::PathBuf::from("/dev/zero"),
                "/dev/zero is not a regular file",
            ),
            (fifo.clone(), "is not a regular file"),
        ] {
            if path == fifo && !made.as_ref().is_ok_and(|s| s.success()) {
                continue;
            }
            let config = Config::builder()
                .pii_config_file(&path)
                .build()
                .expect("fail-open");
            let line = config.diagnostics()[0].to_string();
            assert!(line.contains(told), "{line}");
        }
        let _ = std::fs::remove_file(&fifo);
        let big = std::env::temp_dir().join(format!("pii-big-{}.json", std::process::id()));
        std::fs::write(&big, vec![b' '; env::MAX_PII_CONFIG_LEN + 1]).expect("temp file");
        let config = Config::builder()
            .pii_config_file(&big)
            .build()
            .expect("fail-open");
        let _ = std::fs::remove_file(&big);
        assert!(config.diagnostics()[0]
            .to_string()
            .contains("is longer than 1048576 bytes"));
        let dry = Config::builder()
            .pii_config_json(r#"{"applications":{"$string":["@ip"]}}"#)
            .pii_config_dry_run(true)
            .build()
            .expect("valid");
        assert!(dry.diagnostics().is_empty());
        assert!(dry.scrubber().pii_config().is_some_and(|c| c.is_dry_run()));
    }

    #[test]
    fn empty_release_and_environment_are_refused_with_the_reason() {
        for (builder, option) in [
            (Config::builder().release(""), "release"),
            (Config::builder().release("  "), "release"),
            (Config::builder().environment(""), "environment"),
        ] {
            match builder.build() {
                Err(ConfigError::InvalidName {
                    option: named,
                    problem: NameProblem::Empty,
                    ..
                }) => assert_eq!(named, option),
                Err(other) => panic!("{option}: {other}"),
                Ok(_) => panic!("{option}: an empty value was accepted"),
            }
        }
        let Err(err) = Config::builder().release("").build() else {
            panic!("an empty release was accepted");
        };
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[test]
    fn sessions_are_off_unless_enabled_need_a_release_and_the_builder_wins() {
        let on = |b: ConfigBuilder| {
            let config = b.build().expect("valid");
            assert_eq!(config.reporting.requests.sessions, config.worker.sessions);
            config.worker.sessions
        };
        let released = || ConfigBuilder::default().release("app@1.0.0");
        assert!(!on(released()), "off by default");
        assert!(on(released().auto_session_tracking(true)));
        let mut from_env = released();
        from_env.env.auto_session_tracking = Some(true);
        assert!(on(from_env.clone()));
        assert!(!on(from_env.auto_session_tracking(false)));
        let mut no_release = ConfigBuilder::default().auto_session_tracking(true);
        no_release.release = None;
        no_release.default_release = None;
        assert!(!on(no_release), "Relay drops sessions without a release");
    }

    #[test]
    fn logs_are_off_unless_enabled_and_the_builder_wins_over_sentry_enable_logs() {
        let level = |b: ConfigBuilder| b.build().expect("valid").reporting.logs.level;
        assert_eq!(level(ConfigBuilder::default()), None, "off by default");
        let mut from_env = ConfigBuilder::default();
        from_env.env.enable_logs = Some(true);
        assert_eq!(level(from_env.clone()), Some(Level::INFO));
        assert_eq!(level(from_env.clone().enable_logs(None)), None);
        assert_eq!(level(from_env.enable_logs(Level::WARN)), Some(Level::WARN));
        for (text, parsed) in [
            ("true", Some(true)),
            (" TRUE ", Some(true)),
            ("1", Some(true)),
            ("on", Some(true)),
            ("false", Some(false)),
            ("0", Some(false)),
            ("no", Some(false)),
            ("maybe", None),
            ("", None),
        ] {
            assert_eq!(parse_bool(text), parsed, "{text:?}");
        }
    }

    #[test]
    fn metrics_are_off_unless_enabled_and_the_builder_wins_over_sentry_enable_metrics() {
        let on = |b: ConfigBuilder| b.build().expect("valid").reporting.metrics.on;
        assert!(!on(ConfigBuilder::default()), "off by default");
        let mut from_env = ConfigBuilder::default();
        from_env.env.enable_metrics = Some(true);
        assert!(on(from_env.clone()));
        assert!(!on(from_env.enable_metrics(false)));
        assert!(on(ConfigBuilder::default().enable_metrics(true)));
    }

    #[test]
    fn sample_rates_outside_the_unit_interval_are_refused() {
        for bad in ["abc", "", "0.5x"] {
            let kind = parse_sample_rate(bad).unwrap_err();
            assert!(
                matches!(kind, EnvErrorKind::NotANumber(_)),
                "{bad}: {kind:?}"
            );
        }
        for bad in ["1.5", "NaN", "-1", "inf"] {
            let kind = parse_sample_rate(bad).unwrap_err();
            assert!(matches!(kind, EnvErrorKind::OutOfRange), "{bad}: {kind:?}");
        }
        assert_eq!(parse_sample_rate(" 0.25 ").ok(), Some(0.25));
        assert_eq!(parse_sample_rate("1").ok(), Some(1.0));
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
            "invalid sample_rate: 1.5 is not within 0..=1"
        );
        assert!(matches!(
            err,
            ConfigError::InvalidSampleRate {
                option: "sample_rate",
                value: 1.5
            }
        ));
        let err = Config::builder().environment("..").build().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid environment "..": it is "." or "..""#
        );
    }

    /// The errors keep their sources, and no message repeats the DSN's key.
    #[test]
    fn refused_settings_are_typed_errors_with_their_sources() {
        let err = Config::builder()
            .dsn("https://secretkey123@o1.ingest.example.com/")
            .build()
            .unwrap_err();
        let source = err.source().expect("the parse error");
        assert!(
            matches!(
                source.downcast_ref::<ParseDsnError>(),
                Some(ParseDsnError::NoProjectId)
            ),
            "{source:?}"
        );
        let line = error_chain(&err);
        assert_eq!(line, "invalid DSN: empty path");
        assert!(!format!("{err:?}").contains("secretkey123"));

        let err = Config::builder()
            .scrub_rules(
                ScrubRules::default()
                    .extra_pattern("ok-[0-9]+")
                    .extra_pattern("(unclosed"),
            )
            .build()
            .unwrap_err();
        let ConfigError::InvalidPattern(pattern) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(pattern.pattern(), "(unclosed");
        let regex = err
            .source()
            .and_then(Error::source)
            .and_then(|e| e.downcast_ref::<regex::Error>())
            .expect("regex::Error under the pattern error");
        assert!(matches!(regex, regex::Error::Syntax(_)), "{regex:?}");
        let line = error_chain(&err);
        assert!(
            line.starts_with(r#"invalid scrubbing rules: scrubbing pattern "(unclosed" is not a valid regular expression: "#),
            "{line}"
        );

        let err = Config::builder()
            .release("r".repeat(201))
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::InvalidName {
                option: "release",
                problem: NameProblem::TooLong { max: 200 },
                ..
            }
        ));
    }

    /// `build` hands `init` the client options, worker settings and layer settings
    /// whole: each builder setting lands where it is used.
    #[test]
    fn build_resolves_the_runtime_parts() {
        let capacity = NonZeroUsize::new(7).expect("not zero");
        let config = Config::builder()
            .dsn("https://key@o1.ingest.example.com/42")
            .environment("staging")
            .release("svc@1.2.3")
            .server_name("host-a")
            .max_breadcrumbs(12)
            .shutdown_timeout(Duration::from_millis(1500))
            .http_timeout(Duration::from_millis(2500))
            .queue_capacity(capacity)
            .ignore_error("TimedOut")
            .flood_limit(None)
            .build()
            .expect("valid");
        let client = &config.client;
        assert!(client.dsn.is_none(), "init adds the DSN");
        assert!(client.transport.is_none(), "init adds the transport");
        assert_eq!(client.environment.as_deref(), Some("staging"));
        assert_eq!(client.release.as_deref(), Some("svc@1.2.3"));
        assert_eq!(client.server_name.as_deref(), Some("host-a"));
        assert_eq!(client.max_breadcrumbs, 12);
        assert_eq!(client.shutdown_timeout, Duration::from_millis(1500));
        assert_eq!(client.transport_channel_capacity, Some(capacity));
        assert!(!client.send_default_pii);
        assert_eq!(client.integrations.len(), 1, "the contexts integration");
        assert_eq!(config.http.timeout, Duration::from_millis(2500));
        assert_eq!(config.worker.capacity, capacity);
        assert_eq!(config.worker.hooks.ignore_errors, ["TimedOut"]);
        assert_eq!(config.reporting.requests.max_breadcrumbs, 12);
        assert_eq!(config.reporting.flood_limit, None);
        assert_eq!(
            Config::builder()
                .build()
                .expect("defaults")
                .reporting
                .flood_limit,
            Some(crate::flood::DEFAULT_FLOOD_LIMIT)
        );
    }

    /// The spool is off by default; `SENTRY_SPOOL_DIR` turns it on where the builder
    /// did not; the limits default as documented.
    #[test]
    fn the_spool_directory_comes_from_the_builder_else_sentry_spool_dir() {
        use std::path::PathBuf;
        // The only test of this binary that touches this variable.
        std::env::set_var(env::SPOOL_DIR, "/var/spool/from-env");
        let from_env = Config::builder().with_env().build().expect("valid");
        let explicit = Config::builder()
            .spool_dir("/explicit")
            .with_env()
            .build()
            .expect("valid");
        std::env::remove_var(env::SPOOL_DIR);
        let unset = Config::builder().with_env().build().expect("valid");
        assert_eq!(
            from_env.http.spool.dir,
            Some(PathBuf::from("/var/spool/from-env"))
        );
        assert_eq!(explicit.http.spool.dir, Some(PathBuf::from("/explicit")));
        assert_eq!(unset.http.spool.dir, None);
        let spool = &unset.http.spool;
        assert_eq!(
            (spool.max_files, spool.max_bytes, spool.max_age),
            (10_000, 64 << 20, Duration::from_secs(30 * 24 * 3600))
        );
        let limited = Config::builder()
            .spool_limits(10, 4096)
            .spool_max_age(Duration::from_secs(3600))
            .build()
            .expect("valid");
        assert_eq!(limited.http.spool.max_files, 10);
        assert_eq!(limited.http.spool.max_bytes, 4096);
        assert_eq!(limited.http.spool.max_age, Duration::from_secs(3600));
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
            (env::DSN, "http://envkey@env.example.com/2"),
            (env::RELEASE, "env@1.0.0"),
            (env::ENVIRONMENT, "from-env"),
            (env::TRACES_SAMPLE_RATE, "0.5"),
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
                        config.client.release.as_deref(),
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
                    assert_eq!(
                        config.client.environment.as_deref(),
                        Some(want_environment),
                        "{order:?}"
                    );
                    let want_rate = if has(Step::Rate) {
                        0.25
                    } else if env_set {
                        0.5
                    } else {
                        DEFAULT_TRACES_SAMPLE_RATE
                    };
                    assert_eq!(
                        config.reporting.requests.traces_sample_rate, want_rate,
                        "{order:?}"
                    );
                    checked += 1;
                }
            }
        }
        for (name, _) in VARS {
            std::env::remove_var(name);
        }
        assert_eq!(checked, 120 + 2 * (1 + 4 * 2 + 6 * 3 + 4 * 4 + 5) - 5);
    }

    /// The figures the README, the ADRs and the setters' `Default:` lines quote are the
    /// code's defaults (which are not public: the docs are where users read them).
    #[test]
    fn quoted_defaults_are_the_codes_constants() {
        use crate::admission::IGNORED_TARGETS;
        use crate::flood::DEFAULT_FLOOD_LIMIT;
        use crate::http::DEFAULT_HTTP_TIMEOUT;
        use crate::identity::{DEFAULT_TENANT_FIELD, DEFAULT_TRACE_ID_FIELD, DEFAULT_USER_FIELD};
        use crate::reporting::DEFAULT_PANIC_FLUSH_TIMEOUT;
        use crate::request::DEFAULT_MAX_BREADCRUMBS;
        use crate::worker::DEFAULT_QUEUE_CAPACITY;

        let read = |relative: &str| {
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative))
                .expect("readable")
        };
        let readme = read("README.md");
        let adr = read("docs/adr/024-sentry-integration.md");
        let adr022 = read("docs/adr/022-reports-leave-the-calling-thread.md");
        // The setters' docs as one text: `Default:` lines may wrap.
        let source = read("src/config.rs");
        let setter_docs: String = source
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("///"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let secs = |d: Duration| d.as_secs();
        assert_eq!(secs(DEFAULT_FLOOD_LIMIT.per), 60, "docs say 'a minute'");

        for row in [
            format!("| `{}` | `{DEFAULT_ENVIRONMENT}` |", env::ENVIRONMENT),
            format!(
                "| `{}` | `{DEFAULT_TRACES_SAMPLE_RATE}` |",
                env::TRACES_SAMPLE_RATE
            ),
        ] {
            assert!(readme.contains(&row), "README lacks {row}");
            assert!(adr.contains(&row), "ADR-024 lacks {row}");
        }
        for figure in [
            format!("{DEFAULT_QUEUE_CAPACITY} reports"),
            format!("{} reports a minute", DEFAULT_FLOOD_LIMIT.reports),
            format!("({} s)", secs(DEFAULT_SHUTDOWN_TIMEOUT)),
            format!("timeout ({} s)", secs(DEFAULT_HTTP_TIMEOUT)),
            format!("{} s bound", secs(DEFAULT_PANIC_FLUSH_TIMEOUT)),
            format!("(at most {DEFAULT_MAX_BREADCRUMBS})"),
            format!("| `max_breadcrumbs` | `{DEFAULT_MAX_BREADCRUMBS}` |"),
            format!("| `queue_capacity` | `{DEFAULT_QUEUE_CAPACITY}` |"),
            format!(
                "| `shutdown_timeout` / `panic_flush_timeout` / `http_timeout` | `{} s` / `{} s` / `{} s` |",
                secs(DEFAULT_SHUTDOWN_TIMEOUT),
                secs(DEFAULT_PANIC_FLUSH_TIMEOUT),
                secs(DEFAULT_HTTP_TIMEOUT)
            ),
            format!(
                "| `flood_limit` | `{}` reports per key per `{} s` |",
                DEFAULT_FLOOD_LIMIT.reports,
                secs(DEFAULT_FLOOD_LIMIT.per)
            ),
            format!(
                "| `tenant_fields` / `user_fields` / `trace_id_fields` | `[\"{DEFAULT_TENANT_FIELD}\"]` / `[\"{DEFAULT_USER_FIELD}\"]` / `[\"{DEFAULT_TRACE_ID_FIELD}\"]` |"
            ),
            format!(
                "| `ignore_target` | {} |",
                IGNORED_TARGETS
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ] {
            assert!(readme.contains(&figure), "README lacks {figure:?}");
        }
        for line in [
            format!("Default: `SENTRY_ENVIRONMENT`, else `{DEFAULT_ENVIRONMENT}`."),
            format!("Default: `SENTRY_TRACES_SAMPLE_RATE`, else {DEFAULT_TRACES_SAMPLE_RATE}."),
            format!("Default: `SENTRY_SAMPLE_RATE`, else {DEFAULT_SAMPLE_RATE}"),
            format!("Default: `[\"{DEFAULT_TENANT_FIELD}\"]`."),
            format!("Default: `[\"{DEFAULT_USER_FIELD}\"]`."),
            format!("Default: `[\"{DEFAULT_TRACE_ID_FIELD}\"]`."),
            format!("Default: {DEFAULT_MAX_BREADCRUMBS} (Sentry's own)."),
            format!("Default: {DEFAULT_QUEUE_CAPACITY}."),
            format!("Default: {} s.", secs(DEFAULT_SHUTDOWN_TIMEOUT)),
            format!("Default: {} s.", secs(DEFAULT_PANIC_FLUSH_TIMEOUT)),
            format!("Default: {} s.", secs(DEFAULT_HTTP_TIMEOUT)),
            format!(
                "Default: {} reports per key per {} s.",
                DEFAULT_FLOOD_LIMIT.reports,
                secs(DEFAULT_FLOOD_LIMIT.per)
            ),
            format!(
                "into Sentry: {}.",
                IGNORED_TARGETS
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ] {
            assert!(
                setter_docs.contains(&line),
                "the setters' docs lack {line:?}"
            );
        }
        for figure in [
            format!("bounded queue ({DEFAULT_QUEUE_CAPACITY}"),
            format!("HTTP timeout {} s", secs(DEFAULT_HTTP_TIMEOUT)),
            format!(
                "{} reports per\n   key per minute",
                DEFAULT_FLOOD_LIMIT.reports
            ),
            format!(
                "{} % of requests",
                (DEFAULT_TRACES_SAMPLE_RATE * 100.0).round()
            ),
        ] {
            assert!(adr.contains(&figure), "ADR-024 lacks {figure:?}");
        }
        for figure in [
            format!("bounded queue ({DEFAULT_QUEUE_CAPACITY} reports)"),
            format!("{} s timeout", secs(DEFAULT_HTTP_TIMEOUT)),
            format!("({} s by default)", secs(DEFAULT_SHUTDOWN_TIMEOUT)),
            format!("at most {} reports a minute", DEFAULT_FLOOD_LIMIT.reports),
        ] {
            assert!(adr022.contains(&figure), "ADR-022 lacks {figure:?}");
        }
    }
}
