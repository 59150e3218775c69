//! The whole stack in one subscriber: this crate, tracing-opentelemetry exporting OTLP
//! over HTTP (as to Tempo) and tracing-loki pushing to Loki, each to an in-process
//! receiver that decodes the real wire format. One request's trace id and tenant id
//! must be in all three, and the Sentry event id must be findable from the Loki side.
//! With fmt, Tempo and Loki wrapped in `Scrubbed`, no secret of the shared PII corpus
//! reaches any of the four sinks, and every kept string reaches each.
#![cfg(feature = "opentelemetry")]

mod common;
#[path = "common/wire.rs"]
mod wire;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{harness, tag, WAIT};
use opentelemetry::trace::TracerProvider as _;
use tracing_error_reports::scrub::{ScrubLayerExt, ScrubRules, Scrubber};
use tracing_error_reports::testing::{Received, SentryReceiver};
use tracing_error_reports::Config;
use tracing_subscriber::prelude::*;
use wire::{loki_lines, otlp_spans};

#[test]
fn one_request_has_one_trace_id_and_tenant_in_sentry_tempo_and_loki() {
    let h = harness(|b| b);
    let sentry = &h.receiver;
    let scrubber = Arc::new(Scrubber::new(&ScrubRules::default()).expect("defaults compile"));
    let tempo = SentryReceiver::start().expect("otlp receiver");
    let loki = SentryReceiver::start().expect("loki receiver");
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(wire::otlp_exporter(tempo.addr()))
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("full-stack"));
    let (loki_layer, loki_controller, loki_task) = wire::loki(loki.addr(), "full-stack-test");
    let runtime = wire::runtime();
    let loki_done = runtime.spawn(loki_task);

    let subscriber = tracing_subscriber::registry()
        .with(h.layer)
        .with(otel.scrubbed(&scrubber))
        .with(loki_layer.scrubbed(&scrubber));
    let (trace_id, event_id) = tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            tenant_id = "acme",
            trace_id = tracing::field::Empty
        );
        let trace_id = tracing_error_reports::link_trace(&request).expect("trace id");
        let _entered = request.enter();
        tracing::info!(route = "/orders", "loading orders");
        tracing::error!(password = "hunter2", "could not load orders");
        let event_id = tracing_error_reports::last_event_id().expect("an event id");
        // The log line that links Loki back to Sentry.
        tracing::warn!(sentry_event_id = %event_id, "reported to Sentry");
        (trace_id, event_id.to_string())
    });
    let _ = provider.force_flush();
    runtime.block_on(async {
        loki_controller.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), loki_done).await;
    });
    assert!(h.guard.flush(WAIT));

    // Sentry
    let events = sentry.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let report = &events[0];
    assert_eq!(tag(report, "trace_id"), Some(trace_id.as_str()));
    assert_eq!(tag(report, "tenant_id"), Some("acme"));
    assert_eq!(report.event_id.to_string(), event_id);

    // Tempo (OTLP)
    let spans = otlp_spans(&tempo.received());
    let request_span = spans
        .iter()
        .find(|s| s.name == "request")
        .unwrap_or_else(|| panic!("request span exported: {spans:?}"));
    assert_eq!(request_span.trace_id, trace_id);
    assert!(request_span
        .attributes
        .contains(&("tenant_id".into(), "acme".into())));
    assert!(!tempo.wire_text().contains("hunter2"));

    // Loki
    let lines = loki_lines(&loki.received());
    assert!(lines.len() >= 3, "{lines:?}");
    for (labels, line) in &lines {
        assert!(labels.contains("service=\"full-stack-test\""), "{labels}");
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
        assert_eq!(line["tenant_id"], "acme", "{line}");
    }
    assert!(lines
        .iter()
        .any(|(_, line)| line["password"] == "[Filtered]"));
    assert!(!loki_text(&loki.received()).contains("hunter2"));
    assert!(
        lines
            .iter()
            .any(|(_, line)| line["sentry_event_id"] == event_id.as_str()),
        "the Sentry event id is findable in Loki"
    );
    println!(
        "trace {trace_id}: Sentry event {event_id} (tag trace_id), Tempo span 'request', {} Loki lines",
        lines.len()
    );
}

trait WireText {
    fn wire_text(&self) -> String;
}

impl WireText for SentryReceiver {
    /// Every byte received, as text (OTLP protobuf carries strings verbatim).
    fn wire_text(&self) -> String {
        String::from_utf8_lossy(&self.wire_bytes()).into_owned()
    }
}

/// Every Loki line, raw (JSON-escaped) and with its JSON strings unescaped.
fn loki_text(received: &[Received]) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                walk(v, out);
            }),
            other => {
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }
    let mut out = String::new();
    for (labels, line) in loki_lines(received) {
        out.push_str(&labels);
        out.push('\n');
        out.push_str(&line.to_string());
        out.push('\n');
        walk(&line, &mut out);
    }
    out
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

mod pii;

use pii::cases as corpus;
use pii::Case;

/// What one sink got, and how the corpus fared in it.
struct SinkCheck {
    name: &'static str,
    text: String,
    secrets: usize,
    leaked: Vec<String>,
    keeps: usize,
    missing: Vec<String>,
}

impl SinkCheck {
    fn new((name, text): (&'static str, String)) -> Self {
        SinkCheck {
            name,
            text,
            secrets: 0,
            leaked: Vec::new(),
            keeps: 0,
            missing: Vec::new(),
        }
    }

    /// Notes the case's secrets this sink holds and, when it `carries` the case's
    /// place at all, the kept strings it lost (as written or `Debug`-escaped).
    fn check(&mut self, case: &Case, carries: bool) {
        for secret in case.secrets {
            self.secrets += 1;
            let escaped = secret.escape_debug().to_string();
            if pii::holds_secret(&self.text, secret) || pii::holds_secret(&self.text, &escaped) {
                self.leaked
                    .push(format!("{} ({}): {secret}", case.id, case.place));
            }
        }
        if !carries {
            return;
        }
        for keep in case.keep {
            self.keeps += 1;
            let escaped = keep.escape_debug().to_string();
            if !self.text.contains(keep) && !self.text.contains(&escaped) {
                self.missing
                    .push(format!("{} ({}): {keep}", case.id, case.place));
            }
        }
    }
}

/// Prints each sink's figures, then fails on any leak or over-scrub.
fn assert_sinks_clean(sinks: &[SinkCheck], run: &str) {
    for sink in sinks {
        println!(
            "{} ({run}): leaked {} / {} secrets, missing {} / {} kept strings",
            sink.name,
            sink.leaked.len(),
            sink.secrets,
            sink.missing.len(),
            sink.keeps
        );
    }
    for sink in sinks {
        assert!(
            sink.leaked.is_empty(),
            "{} leaked:\n{}",
            sink.name,
            sink.leaked.join("\n")
        );
        assert!(
            sink.missing.is_empty(),
            "{} over-scrubbed:\n{}",
            sink.name,
            sink.missing.join("\n")
        );
    }
}

#[test]
fn no_corpus_secret_reaches_sentry_tempo_loki_or_fmt_and_every_kept_string_does() {
    let cases = corpus::CASES;
    assert!(!cases.is_empty(), "the PII corpus was not found");
    let sentry = SentryReceiver::start().expect("sentry receiver");
    let tempo = SentryReceiver::start().expect("otlp receiver");
    let loki = SentryReceiver::start().expect("loki receiver");
    // One rule set: the configuration's compiled scrubber is the sinks' too.
    let config = Config::builder()
        .dsn(sentry.dsn())
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .flood_limit(None)
        .scrub_rules(ScrubRules::default())
        .build()
        .expect("valid config");
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(wire::otlp_exporter(tempo.addr()))
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("corpus"));
    let (loki_layer, loki_controller, loki_task) = wire::loki(loki.addr(), "corpus");
    let runtime = wire::runtime();
    let loki_done = runtime.spawn(loki_task);
    let printed = Buffer::default();
    let writer = printed.clone();
    let fmt_layer = tracing_subscriber::fmt::layer()
        .without_time()
        .with_ansi(false)
        .with_writer(move || writer.clone());

    let subscriber = tracing_subscriber::registry()
        .with(error_reports)
        .with(fmt_layer.scrubbed(&scrubber))
        .with(otel.scrubbed(&scrubber))
        .with(loki_layer.scrubbed(&scrubber));
    // A panic reaches no tracing sink (only Sentry, through the panic hook): not run here.
    let run: Vec<(usize, &Case)> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.place != "panic")
        .collect();
    let reports: usize = tracing::subscriber::with_default(subscriber, || {
        run.iter()
            .map(|(index, case)| {
                // Inside a span, so events also reach Tempo (as span events).
                tracing::info_span!("corpus_case", case = case.id)
                    .in_scope(|| corpus::run_case(*index))
            })
            .sum()
    });
    let _ = provider.force_flush();
    runtime.block_on(async {
        loki_controller.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), loki_done).await;
    });
    assert!(guard.flush(WAIT));
    assert_eq!(sentry.wait_for_events(reports, WAIT).len(), reports);

    let tempo_spans = otlp_spans(&tempo.received());
    assert_eq!(
        tempo_spans
            .iter()
            .filter(|s| s.name == "corpus_case")
            .count(),
        run.len()
    );
    let loki_received = loki.received();
    assert!(loki_lines(&loki_received).len() >= reports);
    let fmt_text = String::from_utf8(printed.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(fmt_text.lines().count() >= reports);
    let mut sinks: Vec<SinkCheck> = [
        ("sentry", sentry.wire_text()),
        ("tempo", tempo.wire_text()),
        ("loki", loki_text(&loki_received)),
        ("fmt", fmt_text),
    ]
    .into_iter()
    .map(SinkCheck::new)
    .collect();
    for (_, case) in &run {
        for sink in &mut sinks {
            // Sentry's wire is JSON: its kept strings are checked by tests/pii_corpus.rs.
            // tracing-loki writes an error field as its `Display` alone, never its
            // `source()`: what an inner error says is not in a Loki line to keep.
            let carries = sink.name != "sentry"
                && !(sink.name == "loki" && case.place == "error_chain_inner");
            sink.check(case, carries);
        }
    }
    let label = format!("tests/data/pii_corpus_cases.rs, {} cases", run.len());
    assert_sinks_clean(&sinks, &label);
}

/// Every string of every JSON line in `bytes` (unescaped), and the raw lines.
fn json_lines_text(bytes: &[u8]) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                walk(v, out);
            }),
            other => {
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(line) {
            walk(&json, &mut out);
        }
    }
    out
}

/// What tracing-error's `ErrorLayer` stored for its `SpanTrace`s: each span's fields as
/// it formatted them into the span's extensions (`FormattedFields<DefaultFields>`; the
/// first layer to see a span makes them, and `ErrorLayer` comes first), read at every
/// event. (`SpanTrace::capture` itself cannot run inside a subscriber callback: tracing
/// gives a re-entered callback no dispatcher.)
#[derive(Clone, Default)]
struct SpanTraces(Buffer);

impl<S> tracing_subscriber::Layer<S> for SpanTraces
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let mut out = self.0.clone();
        for span in scope {
            let extensions = span.extensions();
            let fields = extensions
                .get::<tracing_subscriber::fmt::FormattedFields<
                    tracing_subscriber::fmt::format::DefaultFields,
                >>()
                .map_or("", |f| f.fields.as_str());
            let _ = writeln!(out, "{}: {fields}", span.name());
        }
    }
}

/// Scrubbed once at the entry of the whole subscriber (`.scrubbed()` on the stack): the
/// storage layers (tracing-error's `ErrorLayer`, bunyan's `JsonStorageLayer`, fmt's
/// formatted span fields) and every layer reading them see only scrubbed values.
#[test]
fn scrubbed_at_the_entry_no_corpus_secret_reaches_any_sink_through_storage_layers() {
    let cases = corpus::CASES;
    let sentry = SentryReceiver::start().expect("sentry receiver");
    let config = Config::builder()
        .dsn(sentry.dsn())
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .flood_limit(None)
        .build()
        .expect("valid config");
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);
    let (bunyan, console, traces) = (Buffer::default(), Buffer::default(), SpanTraces::default());
    let dir = std::env::temp_dir().join(format!("full-stack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (file, file_guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(&dir, "service.log"));
    let (bunyan_writer, console_writer) = (bunyan.clone(), console.clone());

    // Each library's documented order: ErrorLayer and JsonStorageLayer first, their
    // readers after; nothing wrapped but the whole stack.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_error::ErrorLayer::default())
        .with(traces.clone())
        .with(tracing_bunyan_formatter::JsonStorageLayer)
        .with(tracing_bunyan_formatter::BunyanFormattingLayer::new(
            "corpus".into(),
            move || bunyan_writer.clone(),
        ))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || console_writer.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file),
        )
        .with(error_reports)
        .scrubbed(&scrubber);
    let subscriber_again = || {
        tracing_subscriber::registry()
            .with(tracing_error::ErrorLayer::default())
            .scrubbed(&scrubber)
    };
    let run: Vec<(usize, &Case)> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.place != "panic")
        .collect();
    let reports: usize = tracing::subscriber::with_default(subscriber, || {
        run.iter()
            .map(|(index, case)| {
                tracing::info_span!("corpus_case", case = case.id)
                    .in_scope(|| corpus::run_case(*index))
            })
            .sum()
    });
    // A `SpanTrace` captured as applications capture one (in an error's constructor),
    // inside a span holding secrets.
    let captured = tracing::subscriber::with_default(subscriber_again(), || {
        tracing::info_span!(
            "request",
            password = "hunter2xq",
            email = "bob@example.com",
            route = "/orders"
        )
        .in_scope(|| tracing_error::SpanTrace::capture().to_string())
    });
    assert!(captured.contains("route=\"/orders\""), "{captured}");
    assert!(
        !captured.contains("hunter2xq") && !captured.contains("bob@example.com"),
        "{captured}"
    );
    drop(file_guard); // flushes the file
    assert!(guard.flush(WAIT));
    assert_eq!(sentry.wait_for_events(reports, WAIT).len(), reports);
    let file_text: String = std::fs::read_dir(&dir)
        .expect("log dir")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let sentry_bytes: Vec<u8> = sentry.wire_bytes();
    let bytes = |b: &Buffer| b.0.lock().expect("lock").clone();
    let mut sinks: Vec<SinkCheck> = [
        ("sentry", json_lines_text(&sentry_bytes)),
        (
            "bunyan (JsonStorageLayer)",
            json_lines_text(&bytes(&bunyan)),
        ),
        ("json console", json_lines_text(&bytes(&console))),
        ("rolling file", file_text),
        (
            "ErrorLayer span traces",
            String::from_utf8_lossy(&bytes(&traces.0)).into_owned(),
        ),
    ]
    .into_iter()
    .map(SinkCheck::new)
    .collect();
    for sink in &sinks {
        assert!(
            sink.text.lines().count() >= reports,
            "{}: too few lines",
            sink.name
        );
    }
    let span_place = |p: &str| p.starts_with("span_");
    for (_, case) in &run {
        for sink in &mut sinks {
            // What each sink carries at all: the JSON formatters write an error field as
            // its `Display` alone (no `source()`); span traces hold span fields only.
            let carries = match sink.name {
                "ErrorLayer span traces" => span_place(case.place),
                "bunyan (JsonStorageLayer)" | "json console" => case.place != "error_chain_inner",
                _ => true,
            };
            sink.check(case, carries);
        }
    }
    let label = format!("scrubbed at the entry, {} cases", run.len());
    assert_sinks_clean(&sinks, &label);
}
