//! Fail-open start-up from the environment: whatever SENTRY_* hold, the service
//! starts, and a log line says why reporting is off or what was replaced.
//! (Own test binary, one test: environment variables are process-wide.)

use std::error::Error as _;
use std::sync::{Arc, Mutex};

use tracing_error_reports::{DisabledReason, ReportingStatus};
use tracing_subscriber::prelude::*;

/// Collects every log line emitted while it is the current subscriber.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{value:?}"));
            }
        }
        let mut message = Message(format!("{} ", event.metadata().level()));
        event.record(&mut message);
        self.0.lock().expect("lock").push(message.0);
    }
}

const VARS: [&str; 6] = [
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "SENTRY_TRACES_SAMPLE_RATE",
    "SENTRY_SAMPLE_RATE",
    "SENTRY_PII_CONFIG",
];

/// Sets the variables, initialises from the environment, returns status and log lines.
fn start(vars: &[(&str, &str)]) -> (ReportingStatus, bool, Vec<String>) {
    for var in VARS {
        std::env::remove_var(var);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(lines.clone());
    let (layer, guard) =
        tracing::subscriber::with_default(subscriber, || tracing_error_reports::init_from_env!());
    let status = guard.status().clone();
    let has_layer = layer.is_some();
    drop(guard);
    let lines = lines.0.lock().expect("lock").clone();
    (status, has_layer, lines)
}

#[test]
fn every_environment_starts_and_says_why() {
    // Unset and empty: disabled, one info line.
    for vars in [
        &[][..],
        &[("SENTRY_DSN", "")][..],
        &[("SENTRY_DSN", "   ")][..],
    ] {
        let (status, layer, lines) = start(vars);
        assert_eq!(status, ReportingStatus::Disabled(DisabledReason::NoDsn));
        assert!(!layer, "no layer when disabled");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("INFO") && lines[0].contains("SENTRY_DSN is not set"),
            "{lines:?}"
        );
    }

    // Malformed DSNs: disabled, an error line naming the variable and the problem,
    // and never the DSN's key.
    for dsn in [
        "not a dsn",
        "https://example.com/1",
        "https://key@/1",
        "ftp://key@example.com/1",
        "https://secretkey77@example.com",
        "\u{1F4A5}://k@h/1",
    ] {
        let (status, layer, lines) = start(&[("SENTRY_DSN", dsn)]);
        assert!(
            matches!(
                status,
                ReportingStatus::Disabled(DisabledReason::InvalidDsn(_))
            ),
            "{dsn}: {status:?}"
        );
        assert!(!layer);
        let line = lines
            .iter()
            .find(|l| l.starts_with("ERROR"))
            .unwrap_or_else(|| panic!("{dsn}: {lines:?}"));
        assert!(line.contains("SENTRY_DSN is invalid"), "{line}");
        assert!(
            !line.contains("secretkey77"),
            "the key must not be logged: {line}"
        );
    }

    // The error sample rate: a bad value keeps every error, a good one is used.
    for rate in ["abc", "1.5", "NaN", "-1", "inf"] {
        let (status, layer, lines) = start(&[
            ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
            ("SENTRY_SAMPLE_RATE", rate),
        ]);
        assert!(matches!(status, ReportingStatus::Enabled { .. }), "{rate}");
        assert!(layer);
        assert!(
            lines.iter().any(|l| l.starts_with("ERROR")
                && l.contains("SENTRY_SAMPLE_RATE")
                && l.contains("using 1")),
            "{rate}: {lines:?}"
        );
        let config = tracing_error_reports::Config::from_env();
        // One typed diagnostic naming the variable and the offending value; a value
        // that is not a number keeps the parse error as its source.
        let [problem] = config.diagnostics() else {
            panic!("{rate}: {:?}", config.diagnostics());
        };
        assert_eq!(problem.var(), "SENTRY_SAMPLE_RATE");
        assert_eq!(problem.value(), Some(rate));
        let parse_error = problem
            .source()
            .and_then(|e| e.downcast_ref::<std::num::ParseFloatError>());
        assert_eq!(parse_error.is_some(), rate == "abc", "{rate}: {problem:?}");
        let config = format!("{config:?}");
        assert!(config.contains(" sample_rate: 1.0"), "{rate}: {config}");
    }
    std::env::set_var("SENTRY_SAMPLE_RATE", "0.25");
    let config = format!("{:?}", tracing_error_reports::Config::from_env());
    assert!(config.contains(" sample_rate: 0.25"), "{config}");
    std::env::remove_var("SENTRY_SAMPLE_RATE");

    // A valid DSN with bad sample rates: enabled, the default rate, an error line each.
    for rate in ["abc", "1.5", "NaN", "-1", "inf"] {
        let (status, layer, lines) = start(&[
            ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
            ("SENTRY_TRACES_SAMPLE_RATE", rate),
        ]);
        assert!(
            matches!(status, ReportingStatus::Enabled { .. }),
            "{rate}: {status:?}"
        );
        assert!(layer);
        assert!(
            lines.iter().any(|l| l.starts_with("ERROR")
                && l.contains("SENTRY_TRACES_SAMPLE_RATE")
                && l.contains("using 0.1")),
            "{rate}: {lines:?}"
        );
    }

    // Bad environment and release names: replaced by the defaults, with a line each.
    let (status, _, lines) = start(&[
        ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
        ("SENTRY_ENVIRONMENT", "prod/eu"),
        ("SENTRY_RELEASE", "bad\nrelease"),
    ]);
    assert!(matches!(status, ReportingStatus::Enabled { .. }));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("SENTRY_ENVIRONMENT contains '/'")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("SENTRY_RELEASE contains control characters")),
        "{lines:?}"
    );

    // An oversized DSN is refused as what it is (too long), with a line, not parsed,
    // never reported as unset; its value is kept nowhere.
    let huge = "x".repeat(1 << 20);
    let (status, _, lines) = start(&[("SENTRY_DSN", &huge)]);
    let ReportingStatus::Disabled(DisabledReason::InvalidDsn(why)) = &status else {
        panic!("{status:?}");
    };
    assert!(why.contains("1048576 bytes long"), "{why}");
    assert!(lines.iter().any(|l| l.contains("bytes long")), "{lines:?}");
    let config = tracing_error_reports::Config::from_env();
    assert!(
        config.diagnostics().is_empty(),
        "{:?}",
        config.diagnostics()
    );

    // A good configuration: enabled, one info line.
    let (status, layer, lines) = start(&[("SENTRY_DSN", "http://key@127.0.0.1:9/1")]);
    assert_eq!(
        status,
        ReportingStatus::Enabled {
            host: "127.0.0.1".into(),
            project: "1".into()
        }
    );
    assert!(layer);
    assert!(lines.iter().all(|l| !l.starts_with("ERROR")), "{lines:?}");

    odd_values_are_refused_or_said();
    pii_config_from_the_environment();
}

/// `SENTRY_PII_CONFIG` (issue 29): the JSON itself, or `@path` to a file, enforced on
/// top of the built-in policy; a refused document or a missing file is one ERROR line
/// naming the variable, and the built-in policy alone: the service starts and reports.
fn pii_config_from_the_environment() {
    use tracing_error_reports::testing::SentryReceiver;
    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    const DOC: &str = r#"{"rules":{"orders":{"type":"pattern","pattern":"ORD-[0-9]+",
        "redaction":{"method":"replace","text":"[order]"}}},
        "applications":{"$string":["orders"]}}"#;

    /// Reports one error with `pii_config` set; returns its message and the log lines.
    fn report_with(pii_config: &str) -> (String, Vec<String>) {
        let receiver = SentryReceiver::start().expect("loopback receiver");
        for var in VARS {
            std::env::remove_var(var);
        }
        std::env::set_var("SENTRY_DSN", receiver.dsn());
        std::env::set_var("SENTRY_PII_CONFIG", pii_config);
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(lines.clone());
        let (layer, guard) = tracing::subscriber::with_default(
            subscriber,
            || tracing_error_reports::init_from_env!(),
        );
        assert!(
            matches!(guard.status(), ReportingStatus::Enabled { .. }),
            "{pii_config}: {:?}",
            guard.status()
        );
        let lines = lines.0.lock().expect("lock").clone();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("refund of ORD-4412 for ops@example.com failed");
        });
        assert!(guard.flush(WAIT), "{:?}", guard.stats());
        let event = receiver
            .wait_for_events(1, WAIT)
            .pop()
            .expect("the error is reported");
        std::env::remove_var("SENTRY_PII_CONFIG");
        let message = event
            .logentry
            .map(|l| l.message)
            .or(event.message)
            .unwrap_or_default();
        (message, lines)
    }
    let errors = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with("ERROR"))
            .cloned()
            .collect()
    };

    // The JSON itself: enforced, on top of the built-in policy (the email).
    let (message, lines) = report_with(DOC);
    assert!(errors(&lines).is_empty(), "{lines:?}");
    assert!(message.contains("[order]"), "{message}");
    assert!(
        !message.contains("ORD-4412") && !message.contains("ops@example.com"),
        "{message}"
    );

    // `@path`: the same document from a file.
    let path = std::env::temp_dir().join(format!("pii-config-{}.json", std::process::id()));
    std::fs::write(&path, DOC).expect("write the document");
    let (message, lines) = report_with(&format!("@{}", path.display()));
    std::fs::remove_file(&path).ok();
    assert!(errors(&lines).is_empty(), "{lines:?}");
    assert!(
        message.contains("[order]") && !message.contains("ORD-4412"),
        "{message}"
    );

    // A refused document (a rule's pattern that is not a regular expression): one ERROR
    // line naming the variable and the rule; the built-in policy alone; reporting on.
    let bad = r#"{"rules":{"orders":{"type":"pattern","pattern":"ORD-[0-9"}},
        "applications":{"$string":["orders"]}}"#;
    let (message, lines) = report_with(bad);
    let [line] = errors(&lines).try_into().unwrap_or_else(|l: Vec<String>| {
        panic!("one ERROR line: {l:?}");
    });
    assert!(
        line.contains("SENTRY_PII_CONFIG") && line.contains("\"orders\""),
        "{line}"
    );
    assert!(
        message.contains("ORD-4412"),
        "built-in policy only: {message}"
    );
    assert!(!message.contains("ops@example.com"), "{message}");

    // Not JSON at all, and a missing file: the same.
    for bad in ["{not json", "@/nonexistent/pii-config.json"] {
        let (message, lines) = report_with(bad);
        let errors = errors(&lines);
        assert_eq!(errors.len(), 1, "{bad}: {lines:?}");
        assert!(errors[0].contains("SENTRY_PII_CONFIG"), "{bad}: {errors:?}");
        assert!(message.contains("ORD-4412"), "{bad}: {message}");
    }
}

/// Values that parse into something else than what they say: a DSN with a line appended
/// (a header injected), a sample rate that is 0 once parsed, names with invisible or
/// bidirectional characters.
fn odd_values_are_refused_or_said() {
    // The URL parser drops inner newlines and tabs: these parsed to project "11" or
    // "1X-Injected:yes"-like mangled paths. Refused, with a line; the key never shown.
    for dsn in [
        "http://secretkey77@127.0.0.1:9/1/1\nX-Injected: yes",
        "http://secretkey77@127.0.0.1:9/1\r\n2",
        "http://secretkey77@127.0.0.1:9/1\t1",
        "http://secretkey77@127.0.0.1:9/ 1",
        "http://secret key77@127.0.0.1:9/1",
    ] {
        let (status, layer, lines) = start(&[("SENTRY_DSN", dsn)]);
        let ReportingStatus::Disabled(DisabledReason::InvalidDsn(why)) = &status else {
            panic!("{dsn:?} accepted: {status:?}");
        };
        assert!(why.contains("whitespace or control characters"), "{why}");
        assert!(!layer);
        let line = lines
            .iter()
            .find(|l| l.starts_with("ERROR") && l.contains("SENTRY_DSN is invalid"))
            .unwrap_or_else(|| panic!("{dsn:?}: {lines:?}"));
        assert!(!line.contains("secretkey77"), "{line}");
        // The same text given to the builder is refused too.
        let built = tracing_error_reports::Config::builder().dsn(dsn).build();
        assert!(built.is_err(), "{dsn:?}");
    }
    // Outer whitespace (a trailing newline from `echo`) is still trimmed.
    let (status, _, _) = start(&[("SENTRY_DSN", "  http://key@127.0.0.1:9/1\n")]);
    assert!(
        matches!(status, ReportingStatus::Enabled { .. }),
        "{status:?}"
    );

    // A sample rate that is 0 once parsed is used, and said: every error dropped.
    for rate in ["0", "-0", "0.0", "1e-50"] {
        let (status, _, lines) = start(&[
            ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
            ("SENTRY_SAMPLE_RATE", rate),
        ]);
        assert!(matches!(status, ReportingStatus::Enabled { .. }));
        let said: Vec<_> = lines
            .iter()
            .filter(|l| {
                l.contains("SENTRY_SAMPLE_RATE") && l.contains("every error report dropped")
            })
            .collect();
        assert_eq!(said.len(), 1, "{rate}: {lines:?}");
        let config = format!("{:?}", tracing_error_reports::Config::from_env());
        assert!(config.contains(" sample_rate: 0.0"), "{rate}: {config}");
    }
    // A small rate that is not 0 is not said.
    let (_, _, lines) = start(&[
        ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
        ("SENTRY_SAMPLE_RATE", "0.001"),
    ]);
    assert!(
        lines.iter().all(|l| !l.contains("SENTRY_SAMPLE_RATE")),
        "{lines:?}"
    );

    // Invisible and bidirectional characters: refused with a line, the default used.
    for environment in [
        "prod\u{200B}",
        "\u{202E}dorp",
        "pro\u{2060}d",
        "\u{FEFF}production",
    ] {
        let (status, _, lines) = start(&[
            ("SENTRY_DSN", "http://key@127.0.0.1:9/1"),
            ("SENTRY_ENVIRONMENT", environment),
            ("SENTRY_RELEASE", "svc@1.0\u{200F}"),
        ]);
        assert!(matches!(status, ReportingStatus::Enabled { .. }));
        for var in ["SENTRY_ENVIRONMENT", "SENTRY_RELEASE"] {
            assert!(
                lines.iter().any(|l| l.starts_with("ERROR")
                    && l.contains(var)
                    && l.contains("invisible or bidirectional")),
                "{environment:?}: {lines:?}"
            );
        }
        let config = format!("{:?}", tracing_error_reports::Config::from_env());
        assert!(
            !config.contains("\u{200b}") && !config.contains("\u{202e}"),
            "{config}"
        );
    }
    let built = tracing_error_reports::Config::builder()
        .dsn("http://key@127.0.0.1:9/1")
        .environment("staging\u{202E}")
        .build();
    assert!(built.is_err(), "the builder refuses it too");
    for var in VARS {
        std::env::remove_var(var);
    }
}
