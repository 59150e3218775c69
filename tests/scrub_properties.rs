//! Property tests of the scrubber: random secrets under random key spellings, at
//! random depths and inside random text never survive; random ordinary text does.

use proptest::prelude::*;
use serde_json::{json, Value};
use tracing_error_reports::scrub::{ScrubReport, ScrubRules, Scrubber};

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(|| Scrubber::new(&ScrubRules::default()).expect("defaults compile"))
}

const BASE_KEYS: &[&[&str]] = &[
    &["password"],
    &["user", "password"],
    &["client", "secret"],
    &["api", "key"],
    &["x", "api", "key"],
    &["access", "token"],
    &["refresh", "token"],
    &["session", "id"],
    &["private", "key"],
    &["auth"],
    &["authorization"],
    &["set", "cookie"],
    &["database", "url"],
    &["connection", "string"],
    &["mfa", "code"],
    &["card", "number"],
    &["passwd"],
    &["jwt"],
];

/// One key in one of the spellings services use.
fn spelled(words: &[&str], style: u8) -> String {
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    match style % 7 {
        0 => words.join("_"),
        1 => words.join("-"),
        2 => words.join("_").to_uppercase(),
        3 => words[0].to_owned() + &words[1..].iter().map(|w| cap(w)).collect::<String>(),
        4 => words.iter().map(|w| cap(w)).collect::<Vec<_>>().join("-"),
        5 => words.join("."),
        _ => words.iter().map(|w| cap(w)).collect::<String>(),
    }
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,24}".prop_map(|s| format!("Zq{s}"))
}

fn ordinary_text() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z]{1,9}|[0-9]{1,3}", 0..12).prop_map(|w| w.join(" "))
}

fn nest(mut value: Value, path: &[bool]) -> Value {
    for in_array in path.iter().rev() {
        value = if *in_array {
            json!([1, value, "x"])
        } else {
            json!({ "level": value, "plain": "text" })
        };
    }
    value
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_secret_under_a_sensitive_key_never_survives(
        key in (0..BASE_KEYS.len(), any::<u8>()).prop_map(|(k, s)| spelled(BASE_KEYS[k], s)),
        secret in secret(),
        path in prop::collection::vec(any::<bool>(), 0..10),
    ) {
        let mut value = nest(json!({ key.clone(): secret.clone(), "note": "kept" }), &path);
        let mut report = ScrubReport::default();
        scrubber().scrub_value(&mut value, &mut report);
        let out = value.to_string();
        prop_assert!(!out.contains(&secret), "{key}: {out}");
        prop_assert!(out.contains("kept"), "{out}");
        prop_assert!(report.total() >= 1);
    }

    #[test]
    fn a_secret_in_free_text_never_survives(
        key in (0..BASE_KEYS.len(), any::<u8>()).prop_map(|(k, s)| spelled(BASE_KEYS[k], s)),
        secret in secret(),
        before in ordinary_text(),
        after in ordinary_text(),
        separator in prop::sample::select(vec!["=", ": ", " = ", ":"]),
        quote in prop::sample::select(vec!["", "\"", "'"]),
    ) {
        let text = format!("{before} {key}{separator}{quote}{secret}{quote} {after}");
        let mut value = Value::String(text.clone());
        scrubber().scrub_value(&mut value, &mut ScrubReport::default());
        let out = value.as_str().unwrap_or_default().to_owned();
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
        prop_assert!(out.starts_with(before.trim_start()), "context before was kept: {out:?}");
    }

    #[test]
    fn ordinary_text_is_not_altered(text in ordinary_text(), key in "[a-z]{3,8}") {
        prop_assume!(!scrubber().is_sensitive_key(&key));
        let mut value = json!({ key.clone(): text.clone(), "message": format!("{key}={text}") });
        let before = value.clone();
        let mut report = ScrubReport::default();
        scrubber().scrub_value(&mut value, &mut report);
        prop_assert_eq!(value, before);
        prop_assert_eq!(report.total(), 0);
    }
}
