//! One policy for every sink: the three PII corpus files (and the rules the corpus does
//! not exercise: a safe key, card-valid ids under id keys, empty sensitive values) go
//! through the whole reporter to a loopback Sentry and, in the same subscriber, through
//! `Scrubbed<L>` to a layer that writes down what it is handed. Field by field, the
//! value Sentry receives and the value the other sink receives must be the same: the
//! same key verdicts, the same safe keys, the same id rules.

mod common;
#[allow(dead_code)] // The corpus table has fields this test does not read.
mod pii;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::WAIT;
use sentry::protocol::{Context, Event, Value};
use tracing::field::{Field, Visit};
use tracing_error_reports::scrub::{context_key, ScrubLayerExt, ScrubRules};
use tracing_error_reports::testing::SentryReceiver;
use tracing_error_reports::Config;
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

use pii::cases as corpus;

/// The case being run (its index), for the sink's records.
static CURRENT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// One field value a sink was handed: `(case, callback, span name or level, field, text)`.
type Seen = (usize, &'static str, String, String, String);

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<Seen>>>);

struct Texts<'a> {
    out: &'a mut Vec<(String, String)>,
}

impl Visit for Texts<'_> {
    fn record_debug(&mut self, f: &Field, v: &dyn fmt::Debug) {
        self.out.push((f.name().to_owned(), format!("{v:?}")));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.out.push((f.name().to_owned(), v.to_owned()));
    }
    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        let mut level = Some(v);
        while let Some(error) = level {
            self.out.push((f.name().to_owned(), error.to_string()));
            level = error.source();
        }
    }
}

impl Sink {
    fn push(&self, what: &'static str, at: String, record: impl FnOnce(&mut Texts<'_>)) {
        let mut out = Vec::new();
        record(&mut Texts { out: &mut out });
        let case = CURRENT.load(Ordering::Relaxed);
        let mut seen = self.0.lock().expect("lock");
        for (field, text) in out {
            seen.push((case, what, at.clone(), field, text));
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Sink {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: LayerContext<'_, S>,
    ) {
        self.push("span", attrs.metadata().name().to_owned(), |t| {
            attrs.record(t)
        });
    }
    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: LayerContext<'_, S>,
    ) {
        let name = ctx.metadata(id).map_or("?", |m| m.name());
        self.push("record", name.to_owned(), |t| values.record(t));
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: LayerContext<'_, S>) {
        self.push("event", event.metadata().level().to_string(), |t| {
            event.record(t)
        });
    }
}

/// A JSON value of a report as the text a sink would print.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn other_context<'a>(
    event: &'a Event<'static>,
    name: &str,
) -> Option<&'a sentry::protocol::Map<String, Value>> {
    match event.contexts.get(name) {
        Some(Context::Other(map)) => Some(map),
        _ => None,
    }
}

/// The texts Sentry received for a value logged at `place` under `key`.
fn sentry_texts(place: &str, key: &str, events: &[&Event<'static>]) -> Vec<String> {
    let key = context_key(key).into_owned();
    let mut out = Vec::new();
    for event in events {
        match place {
            "event_field" => out.extend(
                other_context(event, "fields")
                    .and_then(|f| f.get(&key))
                    .map(text),
            ),
            "tag" => out.extend(
                event
                    .tags
                    .get(key.strip_prefix("tags.").unwrap_or(&key))
                    .cloned(),
            ),
            "span_field" | "span_record" | "span_field_grandparent" => out.extend(
                other_context(event, "spans")
                    .and_then(|s| s.get("request"))
                    .and_then(|r| r.get(&key))
                    .map(text),
            ),
            "breadcrumb" | "breadcrumb_warn" => out.extend(
                event
                    .breadcrumbs
                    .values
                    .iter()
                    .filter_map(|b| b.data.get(&key).map(text)),
            ),
            "breadcrumb_message" => out.extend(
                event
                    .breadcrumbs
                    .values
                    .iter()
                    .filter_map(|b| b.message.clone()),
            ),
            "message" => out.extend(event.message.clone()),
            "error_chain" | "error_chain_inner" => out.extend(
                event
                    .exception
                    .values
                    .iter()
                    .filter_map(|e| e.value.clone()),
            ),
            _ => {}
        }
    }
    out.sort();
    out
}

/// The texts the wrapped sink was handed for a value logged at `place` under `key`.
fn sink_texts(place: &str, key: &str, seen: &[&Seen]) -> Vec<String> {
    let pick = |what: &str, at: &str, field: &str| -> Vec<String> {
        seen.iter()
            .filter(|(_, w, a, f, _)| *w == what && a == at && f == field)
            .map(|s| s.4.clone())
            .collect()
    };
    let mut out = match place {
        "event_field" | "tag" => pick("event", "ERROR", key),
        "span_field" | "span_field_grandparent" => pick("span", "request", key),
        "span_record" => pick("record", "request", key),
        "breadcrumb" => pick("event", "INFO", key),
        "breadcrumb_warn" => pick("event", "WARN", key),
        "breadcrumb_message" => pick("event", "INFO", "message"),
        "message" => pick("event", "ERROR", "message"),
        "error_chain" | "error_chain_inner" => pick("event", "ERROR", "error"),
        _ => Vec::new(),
    };
    out.sort();
    out
}

/// Cases the corpus does not hold, for the rules whose decisions differed by sink:
/// `(place, key, run)`. The configuration marks `trace_token` safe.
fn extra_cases() -> Vec<(&'static str, &'static str, fn())> {
    vec![
        ("event_field", "trace_token", || {
            tracing::error!(
                trace_token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
                "safe key"
            );
        }),
        ("span_field", "trace_token", || {
            tracing::info_span!("request", trace_token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc")
                .in_scope(|| tracing::error!("safe key on a span"));
        }),
        ("event_field", "order_id", || {
            tracing::error!(order_id = 4111111111111111u64, "a card-valid order id");
        }),
        ("event_field", "order_id", || {
            tracing::error!(
                order_id = "4111111111111111",
                "a card-valid order id as text"
            );
        }),
        ("breadcrumb", "user_id", || {
            tracing::info_span!("request").in_scope(|| {
                tracing::info!(user_id = 5555555555554444u64, "step");
                tracing::error!("after a step");
            });
        }),
        ("event_field", "session_id", || {
            tracing::error!(session_id = 4111111111111111u64, "a sensitive id key");
        }),
        ("event_field", "password", || {
            tracing::error!(password = "", "an empty password");
        }),
        ("event_field", "attempts", || {
            tracing::error!(
                attempts = 4012888888881881u64,
                "a card-valid number, no id key"
            );
        }),
        ("event_field", "count", || {
            tracing::error!(count = 123456789012u64, "a long number that is no card");
        }),
    ]
}

#[test]
fn sentry_and_a_wrapped_sink_make_the_same_decision_for_every_field() {
    let sentry = SentryReceiver::start().expect("sentry receiver");
    let config = Config::builder()
        .dsn(sentry.dsn())
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .flood_limit(None)
        .scrub_rules(ScrubRules::default().safe_key("trace_token"))
        .build()
        .expect("valid config");
    // One policy object, shared by the reporter and every wrapped sink.
    let scrubber = config.scrubber();
    let (layer, guard) = tracing_error_reports::init(config);
    let sink = Sink::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(sink.clone().scrubbed(&scrubber));

    // (place, key) of every case, by index: the corpus, then the extra cases.
    let mut places: Vec<(String, String, String)> = Vec::new();
    let keys = corpus_keys();
    assert_eq!(
        keys.len(),
        corpus::CASES.len(),
        "the generated cases are current"
    );
    let extras = extra_cases();
    let reports: usize = tracing::subscriber::with_default(subscriber, || {
        let mut reports = 0;
        for (index, case) in corpus::CASES.iter().enumerate() {
            places.push((
                case.id.to_owned(),
                case.place.to_owned(),
                keys[index].clone(),
            ));
            if case.place == "panic" {
                continue;
            }
            CURRENT.store(index, Ordering::Relaxed);
            reports += tracing::info_span!("corpus_case", case = index as u64)
                .in_scope(|| corpus::run_case(index));
        }
        for (i, (place, key, run)) in extras.iter().enumerate() {
            let index = corpus::CASES.len() + i;
            places.push((format!("extra-{i}"), (*place).to_owned(), (*key).to_owned()));
            CURRENT.store(index, Ordering::Relaxed);
            tracing::info_span!("corpus_case", case = index as u64).in_scope(run);
            reports += 1;
        }
        reports
    });
    assert!(guard.flush(WAIT));
    let events = sentry.wait_for_events(reports, WAIT);
    assert_eq!(events.len(), reports);

    let mut by_case: BTreeMap<usize, Vec<&Event<'static>>> = BTreeMap::new();
    for event in &events {
        let case = other_context(event, "spans")
            .and_then(|s| s.get("corpus_case"))
            .and_then(|c| c.get("case"))
            .and_then(Value::as_u64)
            .expect("every report names its case");
        by_case.entry(case as usize).or_default().push(event);
    }
    let seen = sink.0.lock().expect("lock").clone();
    let (mut compared, mut differing, mut not_in_both) = (0, Vec::new(), 0);
    for (index, (id, place, key)) in places.iter().enumerate() {
        if place == "panic" {
            continue;
        }
        let events = by_case.get(&index).cloned().unwrap_or_default();
        let at_sink: Vec<&Seen> = seen.iter().filter(|s| s.0 == index).collect();
        let (in_sentry, in_sink) = (
            sentry_texts(place, key, &events),
            sink_texts(place, key, &at_sink),
        );
        if in_sentry.is_empty() || in_sink.is_empty() {
            // Fields the reporter turns into something else (the user, the tenant tag).
            not_in_both += 1;
            continue;
        }
        compared += 1;
        // Sentry cuts long texts after scrubbing (`…`); a cut is no decision.
        let same = in_sentry.len() == in_sink.len()
            && in_sentry
                .iter()
                .zip(&in_sink)
                .all(|(s, k)| match s.strip_suffix('…') {
                    Some(head) => k.starts_with(head),
                    None => s == k,
                });
        if !same {
            differing.push(format!(
                "{id} ({place}, {key}):\n  sentry {in_sentry:?}\n  sink   {in_sink:?}"
            ));
        }
    }
    println!(
        "one policy: {} cases ({} corpus, {} extra); {compared} compared field by field, \
         {} differing decisions, {not_in_both} not in both sinks",
        places.len(),
        corpus::CASES.len(),
        extras.len(),
        differing.len()
    );
    assert!(
        compared >= places.len() * 3 / 4,
        "too few comparable: {compared}"
    );
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}

/// The field name each corpus case logs under, in the order of the generated cases
/// (`tests/pii_corpus.rs`'s `generate`: a case without a key logs under `detail`).
fn corpus_keys() -> Vec<String> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/tracing-scrub/tests/data");
    let mut keys = Vec::new();
    for name in [
        "pii-corpus-public.jsonl",
        "pii-corpus-attacker.jsonl",
        "pii-corpus-attacker3.jsonl",
    ] {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
            keys.push(case["key"].as_str().unwrap_or("detail").to_owned());
        }
    }
    keys
}

/// A project's PiiConfig reaches the other sinks too (a newcomer saw the console, the
/// OpenTelemetry spans and the panic line print what Sentry got removed): messages,
/// event fields, span fields and recorded span fields handed to a wrapped sink lose
/// what the rule removes, as Sentry's report does; other text is untouched.
#[test]
fn a_projects_pii_config_reaches_the_wrapped_sinks() {
    let sentry = SentryReceiver::start().expect("sentry receiver");
    let rule = r#"{"rules":{"customer":{"type":"pattern","pattern":"KN-[0-9]{4}-[0-9]{5}",
        "redaction":{"method":"replace","text":"[customer]"}}},
        "applications":{"$string":["customer"]}}"#;
    let config = Config::builder()
        .dsn(sentry.dsn())
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .flood_limit(None)
        .pii_config_json(rule)
        .build()
        .expect("valid config");
    let scrubber = config.scrubber();
    let (layer, guard) = tracing_error_reports::init(config);
    let sink = Sink::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(sink.clone().scrubbed(&scrubber));
    let numbers: Vec<String> = (0..6).map(|i| format!("KN-20{i}4-1234{i}")).collect();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", tenant_id = "acme", account = %numbers[0], note = tracing::field::Empty);
        let _entered = span.enter();
        span.record("note", format!("moved from {}", numbers[1]).as_str());
        tracing::info!(customer = %numbers[2], "looked up {}", numbers[3]);
        tracing::error!(
            order = 17,
            "invoice for customer {} failed ({})",
            numbers[4],
            numbers[5]
        );
    });
    assert!(guard.flush(WAIT));
    let events = sentry.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let report = serde_json::to_string(&events[0]).expect("json");
    let seen = sink.0.lock().expect("lock").clone();
    let printed: Vec<&str> = seen
        .iter()
        .map(|(_, _, _, _, text)| text.as_str())
        .collect();
    for number in &numbers {
        assert!(
            !report.contains(number.as_str()),
            "{number} reached Sentry: {report}"
        );
        assert!(
            !printed.iter().any(|t| t.contains(number.as_str())),
            "{number} reached the wrapped sink: {printed:?}"
        );
    }
    for expected in ["looked up [customer]", "moved from [customer]", "acme"] {
        assert!(
            printed.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {printed:?}"
        );
    }
    assert!(
        printed.contains(&"17"),
        "other fields untouched: {printed:?}"
    );
}
