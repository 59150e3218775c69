//! Any content of the SENTRY_* variables gives a working service and a clear line:
//! random text, Unicode, control characters and 1 MB values.
//! (Own test binary with one test: environment variables are process-wide.)

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Count(Arc<Mutex<usize>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        *self.0.lock().expect("lock") += 1;
    }
}

fn value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        "\\PC{0,80}".prop_map(Some),
        "[ -~\u{1}-\u{1f}\u{7f}\u{e9}\u{1F4A5}]{0,120}".prop_map(Some),
        "(https?|ftp)://[a-z0-9]{0,12}@[a-z.]{0,12}(:[0-9]{1,6})?/[0-9a-z]{0,4}".prop_map(Some),
        "-?[0-9]{0,3}(\\.[0-9]{0,4})?|NaN|inf|-inf|1e9".prop_map(Some),
        Just(Some("x".repeat(1 << 20))),
    ]
    .prop_map(|v| v.map(|s| s.replace('\0', "")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_environment_starts_the_service(
        dsn in value(), environment in value(), release in value(), rate in value(),
    ) {
        for (name, v) in [
            ("SENTRY_DSN", &dsn),
            ("SENTRY_ENVIRONMENT", &environment),
            ("SENTRY_RELEASE", &release),
            ("SENTRY_TRACES_SAMPLE_RATE", &rate),
        ] {
            match v {
                Some(v) => std::env::set_var(name, v),
                None => std::env::remove_var(name),
            }
        }
        let lines = Count::default();
        let subscriber = tracing_subscriber::registry().with(lines.clone());
        let (layer, guard) = tracing::subscriber::with_default(subscriber, || {
            tracing_error_reports::init_from_env!()
        });
        let lines = *lines.0.lock().expect("lock");
        prop_assert!(lines >= 1, "init always says whether reporting is on");
        let usable = dsn
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty() && d.len() <= 2048)
            .filter(|d| !d.chars().any(|c| c.is_whitespace() || c.is_control()))
            .is_some_and(|d| sentry::types::Dsn::from_str(d).is_ok());
        prop_assert_eq!(layer.is_some(), usable, "dsn {:?}", dsn.as_deref().map(|d| &d[..d.len().min(60)]));
        prop_assert_eq!(guard.is_enabled(), usable);
        // Nothing was queued: dropping the guard returns at once.
        let started = std::time::Instant::now();
        drop(guard);
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
