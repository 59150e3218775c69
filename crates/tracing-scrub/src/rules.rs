//! The rules a [`Scrubber`](crate::Scrubber) is compiled from, and the error a rule
//! that does not compile gives.

/// Default replacement for scrubbed data (Sentry's own).
pub const DEFAULT_REPLACEMENT: &str = "[Filtered]";

/// What to scrub. The defaults are the crate's full rule set.
#[derive(Clone, Debug)]
pub struct ScrubRules {
    pub(crate) extra_keys: Vec<String>,
    pub(crate) safe_keys: Vec<String>,
    pub(crate) extra_patterns: Vec<String>,
    pub(crate) replacement: String,
    pub(crate) send_default_pii: bool,
}

impl Default for ScrubRules {
    fn default() -> Self {
        ScrubRules {
            extra_keys: Vec::new(),
            safe_keys: Vec::new(),
            extra_patterns: Vec::new(),
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            send_default_pii: false,
        }
    }
}

impl ScrubRules {
    /// Also scrub values under this key (matched in every spelling, like the built-in keys).
    pub fn extra_key(mut self, key: impl Into<String>) -> Self {
        self.extra_keys.push(key.into());
        self
    }

    /// Never scrub the value under this key (neither by key nor by value rules).
    pub fn safe_key(mut self, key: impl Into<String>) -> Self {
        self.safe_keys.push(key.into());
        self
    }

    /// Also replace every match of this regular expression (the `regex` crate's syntax).
    /// Checked by [`Scrubber::new`](crate::Scrubber::new).
    pub fn extra_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.extra_patterns.push(pattern.into());
        self
    }

    /// The text that replaces scrubbed data (default [`DEFAULT_REPLACEMENT`]).
    pub fn replacement(mut self, replacement: impl Into<String>) -> Self {
        self.replacement = replacement.into();
        self
    }

    /// Whether personal data (emails, IP addresses, names, phone numbers) may be sent.
    pub fn send_default_pii(mut self, send: bool) -> Self {
        self.send_default_pii = send;
        self
    }
}

/// A pattern of [`ScrubRules::extra_pattern`] that is not a valid regular expression
/// (the `regex` crate's syntax); [`source`](std::error::Error::source) is the
/// `regex::Error` saying why.
#[derive(Debug)]
pub struct PatternError {
    pub(crate) pattern: String,
    pub(crate) source: regex::Error,
}

impl PatternError {
    /// The pattern as it was given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scrubbing pattern {:?} is not a valid regular expression",
            self.pattern
        )
    }
}

impl std::error::Error for PatternError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
