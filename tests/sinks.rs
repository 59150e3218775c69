//! `Scrubbed<L>`: what a wrapped layer sees. Secrets are replaced, everything else
//! (callsites, levels, targets, parents, field names, typed values) is as the
//! unwrapped layer sees it, events with nothing sensitive are the very same event, and
//! per-layer filters, `reload` and tracing-opentelemetry's context lookups keep working.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_error_reports::scrub::{ScrubLayerExt, ScrubRules, Scrubbed, Scrubber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

fn scrubber() -> Arc<Scrubber> {
    Arc::new(Scrubber::new(&ScrubRules::default()).expect("default rules compile"))
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fmt_layer<S>(out: &Buffer) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let out = out.clone();
    tracing_subscriber::fmt::layer()
        .without_time()
        .with_ansi(false)
        .with_writer(move || out.clone())
}

/// One callback a layer received, as it saw it.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    what: &'static str,
    /// Address of the `Event`/`Attributes`/`Record` handed over.
    at: usize,
    callsite: tracing::callsite::Identifier,
    level: tracing::Level,
    target: &'static str,
    name: &'static str,
    parent: String,
    /// `name kind value`, in visiting order.
    fields: Vec<String>,
}

#[derive(Default)]
struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_debug(&mut self, f: &Field, v: &dyn fmt::Debug) {
        self.0.push(format!("{} debug {v:?}", f.name()));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.push(format!("{} str {v}", f.name()));
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.0.push(format!("{} i64 {v}", f.name()));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.0.push(format!("{} u64 {v}", f.name()));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.0.push(format!("{} f64 {v}", f.name()));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.0.push(format!("{} bool {v}", f.name()));
    }
    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        let mut chain = vec![v.to_string()];
        let mut next = v.source();
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        self.0
            .push(format!("{} error {}", f.name(), chain.join(" <- ")));
    }
}

/// A layer that writes down every callback it gets.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().expect("lock").clone()
    }

    fn push(
        &self,
        what: &'static str,
        at: usize,
        meta: &'static tracing::Metadata<'static>,
        parent: String,
        record: impl FnOnce(&mut Fields),
    ) {
        let mut fields = Fields::default();
        record(&mut fields);
        self.0.lock().expect("lock").push(Seen {
            what,
            at,
            callsite: meta.callsite(),
            level: *meta.level(),
            target: meta.target(),
            name: meta.name(),
            parent,
            fields: fields.0,
        });
    }
}

fn parent_of(explicit: Option<&tracing::span::Id>, root: bool) -> String {
    match explicit {
        Some(id) => format!("explicit {}", id.into_u64()),
        None if root => "root".into(),
        None => "current".into(),
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: Context<'_, S>,
    ) {
        let parent = parent_of(attrs.parent(), attrs.is_root());
        self.push(
            "span",
            attrs as *const _ as usize,
            attrs.metadata(),
            parent,
            |f| attrs.record(f),
        );
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let meta = ctx.metadata(id).expect("span exists");
        self.push(
            "record",
            values as *const _ as usize,
            meta,
            String::new(),
            |f| values.record(f),
        );
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let parent = parent_of(event.parent(), event.is_root());
        self.push(
            "event",
            event as *const _ as usize,
            event.metadata(),
            parent,
            |f| event.record(f),
        );
    }
}

#[derive(Debug)]
struct ChainError {
    message: &'static str,
    source: Option<Box<ChainError>>,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// A service-shaped sequence: a request span with a secret, a secret recorded later,
/// events with secrets in fields, message and error chain, and events with none.
fn workload() {
    let request = tracing::info_span!(
        "request",
        tenant_id = "acme",
        authorization = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        user_email = tracing::field::Empty,
        attempt = 2
    );
    request.record("user_email", "jane.doe@example.com");
    let _entered = request.enter();
    tracing::info!(order_id = 17, status = "retrying", "loading orders");
    let error = ChainError {
        message: "checkout failed",
        source: Some(Box::new(ChainError {
            message: "connect postgres://app:pw77xq@db.internal:5432/orders failed",
            source: None,
        })),
    };
    tracing::error!(
        error = &error as &(dyn std::error::Error + 'static),
        password = "hunter2xq",
        order_id = 17,
        paid = false,
        ratio = 0.5,
        card = 4111111111111111u64,
        "charge of card 4111 1111 1111 1111 declined for order {}",
        17
    );
    tracing::warn!(parent: None, route = "/orders", "a root event, nothing sensitive");
    tracing::warn!(parent: &request, token = ?"ghp_abcdefghijklmnopqrstuvwxyz0123456789AB", "explicit parent");
}

const SECRETS: &[&str] = &[
    "eyJhbGciOiJIUzI1NiJ9",
    "jane.doe@example.com",
    "pw77xq",
    "hunter2xq",
    "4111111111111111",
    "4111 1111 1111 1111",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
];

#[test]
fn fmt_output_has_no_secret_and_everything_else() {
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer(&out).scrubbed(&scrubber()));
    tracing::subscriber::with_default(subscriber, workload);
    let text = out.text();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    for kept in [
        "request{tenant_id=\"acme\" authorization=\"[Filtered]\" attempt=2 user_email=\"[Filtered]\"}",
        "loading orders order_id=17 status=\"retrying\"",
        "ERROR request{",
        "charge of card [Filtered] declined for order 17",
        "error=checkout failed error.sources=[connect postgres://[Filtered]:[Filtered]@db.internal:5432/orders failed]",
        "password=\"[Filtered]\"",
        "order_id=17 paid=false ratio=0.5 card=[Filtered]",
        " WARN sinks: a root event, nothing sensitive route=\"/orders\"",
        "explicit parent token=[Filtered]",
    ] {
        assert!(text.contains(kept), "missing {kept:?} in:\n{text}");
    }
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn the_wrapped_layer_sees_the_same_callsites_parents_and_types_and_clean_events_untouched() {
    let plain = Recorder::default();
    let wrapped = Recorder::default();
    let subscriber = tracing_subscriber::registry()
        .with(plain.clone())
        .with(wrapped.clone().scrubbed(&scrubber()));
    tracing::subscriber::with_default(subscriber, workload);
    let (plain, wrapped) = (plain.seen(), wrapped.seen());
    assert_eq!(plain.len(), 6, "{plain:#?}");
    assert_eq!(wrapped.len(), plain.len());
    for (p, w) in plain.iter().zip(&wrapped) {
        assert_eq!(
            (p.what, &p.callsite, p.level, p.target, p.name, &p.parent),
            (w.what, &w.callsite, w.level, w.target, w.name, &w.parent)
        );
        assert_eq!(p.fields.len(), w.fields.len(), "{p:?}\n{w:?}");
        for (pf, wf) in p.fields.iter().zip(&w.fields) {
            let name = |f: &str| f.split(' ').next().map(str::to_owned);
            assert_eq!(name(pf), name(wf));
        }
        let secret = SECRETS
            .iter()
            .any(|s| p.fields.iter().any(|f| f.contains(s)));
        // Nothing sensitive: the very same value; else a rebuilt one without the secret.
        assert_eq!(p.at == w.at, !secret, "{p:?}\n{w:?}");
        assert_eq!(p.fields == w.fields, !secret);
        for f in &w.fields {
            assert!(!SECRETS.iter().any(|s| f.contains(s)), "{f}");
        }
    }
    let by = |what: &str, needle: &str| {
        wrapped
            .iter()
            .find(|s| s.what == what && s.fields.iter().any(|f| f.contains(needle)))
            .unwrap_or_else(|| panic!("{what} {needle}: {wrapped:#?}"))
            .fields
            .clone()
    };
    assert_eq!(
        by("span", "tenant_id"),
        [
            "tenant_id str acme",
            "authorization str [Filtered]",
            "attempt i64 2"
        ]
    );
    assert_eq!(by("record", "user_email"), ["user_email str [Filtered]"]);
    assert_eq!(
        by("event", "password"),
        [
            "message debug charge of card [Filtered] declined for order 17",
            "error error checkout failed <- connect postgres://[Filtered]:[Filtered]@db.internal:5432/orders failed",
            "password str [Filtered]",
            "order_id i64 17",
            "paid bool false",
            "ratio f64 0.5",
            "card debug [Filtered]",
        ]
    );
    assert_eq!(
        by("event", "explicit parent"),
        ["message debug explicit parent", "token debug [Filtered]"]
    );
}

#[test]
fn one_rule_set_for_sentry_and_sinks_and_user_rules_apply() {
    let sentry = tracing_error_reports::testing::SentryReceiver::start().expect("receiver");
    let rules = ScrubRules::default()
        .extra_key("order_note")
        .extra_pattern("ACME-[0-9]{6}")
        .replacement("<redacted>");
    let config = tracing_error_reports::Config::builder()
        .dsn(sentry.dsn())
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .scrub_rules(rules)
        .build()
        .expect("valid");
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(error_reports)
        .with(Scrubbed::new(fmt_layer(&out), scrubber));
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!(
            order_note = "leave at door",
            voucher = "code ACME-123456 used",
            "note"
        );
    });
    assert!(guard.flush(std::time::Duration::from_secs(10)));
    let events = sentry.wait_for_events(1, std::time::Duration::from_secs(10));
    assert_eq!(events.len(), 1);
    let fields = format!("{:?}", events[0].contexts.get("fields"));
    assert!(
        fields.contains("\"order_note\": String(\"<redacted>\")"),
        "{fields}"
    );
    assert!(
        fields.contains("\"voucher\": String(\"code <redacted> used\")"),
        "{fields}"
    );
    let text = out.text();
    assert!(text.contains("order_note=\"<redacted>\""), "{text}");
    assert!(text.contains("voucher=\"code <redacted> used\""), "{text}");
    assert!(!text.contains("leave at door") && !text.contains("ACME-123456"));
}

#[test]
fn per_layer_filters_inside_and_outside_the_wrapper_and_reload_keep_working() {
    let inside = Buffer::default();
    let outside = Buffer::default();
    let reloaded = Buffer::default();
    let (reload_layer, handle) = tracing_subscriber::reload::Layer::new(
        fmt_layer(&reloaded).with_filter(LevelFilter::ERROR),
    );
    let s = scrubber();
    let subscriber = tracing_subscriber::registry()
        .with(
            fmt_layer(&inside)
                .with_filter(LevelFilter::WARN)
                .scrubbed(&s),
        )
        .with(
            fmt_layer(&outside)
                .scrubbed(&s)
                .with_filter(LevelFilter::ERROR),
        )
        .with(reload_layer.scrubbed(&s));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(password = "pw-info-1", "info");
        tracing::warn!(password = "pw-warn-1", "warn");
        tracing::error!(password = "pw-error-1", "error");
        handle
            .modify(|l| *l.filter_mut() = LevelFilter::INFO)
            .expect("reload");
        tracing::info!(password = "pw-info-2", "info after reload");
    });
    let (inside, outside, reloaded) = (inside.text(), outside.text(), reloaded.text());
    assert_eq!(inside.lines().count(), 2, "{inside}");
    assert!(inside.contains("WARN") && inside.contains("ERROR") && !inside.contains("INFO"));
    assert_eq!(outside.lines().count(), 1, "{outside}");
    assert!(outside.contains("ERROR"), "{outside}");
    assert_eq!(reloaded.lines().count(), 2, "{reloaded}");
    assert!(reloaded.contains("info after reload"), "{reloaded}");
    for text in [&inside, &outside, &reloaded] {
        assert!(!text.contains("pw-"), "{text}");
        assert!(text.contains("password=\"[Filtered]\""), "{text}");
    }
}

#[test]
fn opentelemetry_context_is_reachable_through_the_wrapper() {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("sinks"));
    let subscriber = tracing_subscriber::registry().with(otel.scrubbed(&scrubber()));
    let trace_id = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", api_key = "sk_live_51HqLyjWDarjtT1zdp7dc");
        // Needs `downcast_raw` to reach the layer's `WithContext`.
        let trace_id = span.context().span().span_context().trace_id();
        span.in_scope(|| tracing::error!(password = "hunter2xq", "failed"));
        trace_id
    });
    let _ = provider.force_flush();
    assert_ne!(trace_id, opentelemetry::trace::TraceId::INVALID);
    let spans = exporter.get_finished_spans().expect("exported");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].span_context.trace_id(), trace_id);
    let all = format!("{:?}", spans[0]);
    assert!(!all.contains("sk_live_51HqLyjWDarjtT1zdp7dc"), "{all}");
    assert!(!all.contains("hunter2xq"), "{all}");
    assert!(
        all.contains("api_key") && all.contains("[Filtered]"),
        "{all}"
    );
    assert_eq!(spans[0].events.len(), 1, "{all}");
}

/// A value whose `Debug` panics, and one whose `Debug` logs.
struct Panicky;
impl fmt::Debug for Panicky {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of Panicky")
    }
}
struct Logging;
impl fmt::Debug for Logging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tracing::info!(password = "inner-pw-1", "logged from Debug");
        f.write_str("password=outer-pw-1")
    }
}

#[test]
fn panicking_and_logging_debug_implementations_neither_panic_nor_leak() {
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer(&out).scrubbed(&scrubber()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(value = ?Panicky, "panicky");
        tracing::info!(value = ?Logging, "logging");
    });
    let text = out.text();
    assert!(
        text.contains("panicky value=<formatting panicked>"),
        "{text}"
    );
    assert!(text.contains("logging value=password=[Filtered]"), "{text}");
    assert!(!text.contains("pw-1"), "{text}");
}

/// Counts this thread's allocations, so tests running in parallel do not disturb it.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A layer that does nothing: what is measured is the wrapper alone.
struct Quiet;
impl<S: Subscriber> Layer<S> for Quiet {}

#[test]
fn clean_events_spans_and_records_allocate_nothing_in_the_wrapper() {
    let s = scrubber();
    let event = || {
        tracing::info!(
            order_id = 17,
            attempt = 2,
            latency_ms = 1234.5,
            cached = false,
            status = "retrying",
            route = ?"/orders/{id}",
            "loading orders for tenant acme"
        )
    };
    let span = || {
        let span = tracing::info_span!(
            "request",
            tenant_id = "acme",
            route = "/orders",
            attempt = 2,
            status = tracing::field::Empty
        );
        span.record("status", "done");
        let _entered = span.enter();
    };
    let secret = || tracing::info!(order_id = 17, password = "hunter2", "login");
    // Allocations of each case on this thread, after a warm-up (the per-thread buffer,
    // the key verdicts and the registry's span slots are made once).
    let measure = |dispatch: tracing::Dispatch| {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..3 {
                event();
                span();
                secret();
            }
            (allocations(event), allocations(span), allocations(secret))
        })
    };
    let plain = measure(tracing::Dispatch::new(
        tracing_subscriber::registry().with(Quiet),
    ));
    let wrapped = measure(tracing::Dispatch::new(
        tracing_subscriber::registry().with(Quiet.scrubbed(&s)),
    ));
    println!(
        "allocations (event, span, event with a secret): unwrapped {plain:?}, wrapped {wrapped:?}"
    );
    assert_eq!(
        wrapped.0, plain.0,
        "clean event: wrapped {wrapped:?}, unwrapped {plain:?}"
    );
    assert_eq!(plain.0, 0, "the registry allocates nothing for an event");
    assert_eq!(
        wrapped.1, plain.1,
        "clean span: wrapped {wrapped:?}, unwrapped {plain:?}"
    );
    // The counter sees the wrapper's work when there is some: a rebuilt event.
    assert!(
        wrapped.2 > plain.2,
        "secret: wrapped {wrapped:?}, unwrapped {plain:?}"
    );
    // Detection itself (`scrub_field` on clean values) allocates nothing either.
    let mut report = tracing_error_reports::scrub::ScrubReport::default();
    let detection = allocations(|| {
        for (key, text) in [
            ("message", "loading orders for tenant acme"),
            ("order_id", "17"),
            ("latency_ms", "1234.5"),
            ("status", "retrying"),
            ("route", "\"/orders/{id}\""),
        ] {
            assert!(matches!(
                s.scrub_field(key, text, &mut report),
                std::borrow::Cow::Borrowed(_)
            ));
        }
    });
    assert_eq!(detection, 0);
}

/// A login handler as services write it: `#[instrument]` records its arguments with
/// `Debug`, `err` logs the returned error.
#[tracing::instrument(err)]
async fn login(user: &str, password: &str) -> Result<(), String> {
    tokio::task::yield_now().await;
    Err(format!(
        "login of {user} failed: upstream said token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instrumented_async_handlers_spawned_tasks_and_log_records_are_scrubbed() {
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer(&out).scrubbed(&scrubber()));
    let dispatch = tracing::Dispatch::new(subscriber);
    let _default = tracing::dispatcher::set_default(&dispatch);
    let handler = tokio::spawn(tracing::instrument::WithSubscriber::with_subscriber(
        async {
            let _ = login("jane", "hunter2-async").await;
            // A spawned task without a span.
            tracing::warn!(authorization = "Bearer abc.def.ghi", "no span here");
        },
        dispatch.clone(),
    ));
    handler.await.expect("task");
    // A `log` record, as tracing-log hands it over (normalized by fmt).
    tracing_log::format_trace(
        &log::Record::builder()
            .args(format_args!("legacy client: password=hunter2-log rejected"))
            .level(log::Level::Warn)
            .target("legacy_client")
            .module_path_static(Some("legacy_client"))
            .file_static(Some("src/legacy.rs"))
            .line(Some(7))
            .build(),
    )
    .expect("dispatched");
    let text = out.text();
    for secret in [
        "hunter2-async",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
        "abc.def.ghi",
        "hunter2-log",
    ] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    for kept in [
        "login{user=\"jane\" password=\"[Filtered]\"}",
        "login of jane failed: upstream said token=[Filtered]",
        "no span here authorization=\"[Filtered]\"",
        // The log record keeps its own target once fmt normalizes it.
        "WARN legacy_client: legacy client: password=[Filtered]",
    ] {
        assert!(text.contains(kept), "missing {kept:?} in:\n{text}");
    }
}

#[test]
fn every_secret_after_the_first_is_scrubbed_and_clean_values_before_it_kept() {
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer(&out).scrubbed(&scrubber()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            route = "/x",
            attempt = 3,
            password = "pw-first-1",
            note = "then token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
            api_key = "key-third-3",
            "two clean values, then three secrets"
        );
    });
    let text = out.text();
    assert!(
        text.contains(
            "two clean values, then three secrets route=\"/x\" attempt=3 password=\"[Filtered]\" \
             note=\"then token=[Filtered]\" api_key=\"[Filtered]\""
        ),
        "{text}"
    );
}

/// An axum service with tower-http's `TraceLayer`, served for real and called over HTTP:
/// the request span records the URI (query string included), handlers log secrets.
#[test]
fn an_axum_service_with_trace_layer_prints_no_secret() {
    use axum::routing::get;
    let out = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer(&out).scrubbed(&scrubber()));
    let dispatch = tracing::Dispatch::new(subscriber);
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        // Every server thread logs through this subscriber, as with `.init()`.
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch))
        })
        .build()
        .expect("runtime");
    async fn login() -> &'static str {
        tracing::warn!(
            password = "hunter2-axum",
            "login rejected for jane.doe@example.com"
        );
        "no"
    }
    let app = axum::Router::new()
        .route("/login", get(login))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move { axum::serve(listener, app).await });
    let status = reqwest::blocking::get(format!(
        "http://{addr}/login?user=jane&token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
    ))
    .expect("answered")
    .status();
    assert_eq!(status.as_u16(), 200);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    drop(dispatch);
    let text = out.text();
    for secret in [
        "hunter2-axum",
        "jane.doe@example.com",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
    ] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    for kept in [
        "request{method=GET uri=/login?user=jane&token=[Filtered] version=HTTP/1.1}",
        "login rejected for [Filtered] password=\"[Filtered]\"",
        "finished processing request",
    ] {
        assert!(text.contains(kept), "missing {kept:?} in:\n{text}");
    }
}

/// fmt layers with the same field formatter share one formatted copy of each span's
/// fields (tracing-subscriber keeps it in the span's extensions, by formatter type): the
/// first such layer to see a span formats it. Wrapped or not, each layer must agree, so
/// every fmt layer is wrapped; then none prints a span secret, whatever the order.
#[test]
fn two_fmt_layers_sharing_span_fields_print_no_span_secret_when_both_are_wrapped() {
    let s = scrubber();
    let first = Buffer::default();
    let second = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(fmt_layer(&first).scrubbed(&s))
        .with(fmt_layer(&second).scrubbed(&s));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "request",
            password = "span-secret-1",
            token = tracing::field::Empty
        );
        span.record("token", "span-secret-2");
        span.in_scope(|| tracing::info!("inside"));
    });
    for out in [first.text(), second.text()] {
        assert!(
            // (Each fmt layer appends the record to the shared copy: tracing-subscriber's
            // own behaviour with two fmt layers, hence the token twice.)
            out.contains("request{password=\"[Filtered]\" token=\"[Filtered]\""),
            "{out}"
        );
        assert!(!out.contains("span-secret"), "{out}");
    }

    // The hazard the docs warn of: an unwrapped fmt layer added first formats the span
    // fields for the wrapped one too.
    let plain = Buffer::default();
    let wrapped = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(fmt_layer(&plain))
        .with(fmt_layer(&wrapped).scrubbed(&s));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("request", password = "span-secret-3").in_scope(|| tracing::info!("x"));
    });
    assert!(
        wrapped.text().contains("span-secret-3"),
        "{}",
        wrapped.text()
    );
}

/// The storage-layer caveat of per-layer wrapping, and its fix: tracing-error's
/// `ErrorLayer` before a wrapped fmt layer stores the span's fields formatted and raw,
/// and fmt reuses them. The wrapper sees it (`raw_fields_stored_before`, and once on
/// stderr); scrubbing the whole subscriber leaves nothing raw to store.
#[test]
fn a_storage_layer_before_a_wrapped_layer_is_detected_and_scrubbing_at_the_entry_fixes_it() {
    let s = scrubber();
    let service = || {
        tracing::info_span!("request", password = "hunter2xq", route = "/orders")
            .in_scope(|| tracing::error!("failed"));
    };

    let per_layer = Buffer::default();
    let watcher = Recorder::default().scrubbed(&s);
    let subscriber = tracing_subscriber::registry()
        .with(tracing_error::ErrorLayer::default())
        .with(fmt_layer(&per_layer).scrubbed(&s))
        .with(watcher.clone());
    tracing::subscriber::with_default(subscriber, service);
    assert!(
        per_layer.text().contains("hunter2xq"),
        "the caveat: {}",
        per_layer.text()
    );
    assert_eq!(watcher.raw_fields_stored_before(), 1);

    // Two wrapped layers (fmt and Loki each `.scrubbed()`): the first stored scrubbed
    // fields, which the second must not take for raw (a newcomer was told otherwise).
    let first = Buffer::default();
    let second = Buffer::default();
    let watcher = Recorder::default().scrubbed(&s);
    let subscriber = tracing_subscriber::registry()
        .with(fmt_layer(&first).scrubbed(&s))
        .with(fmt_layer(&second).scrubbed(&s))
        .with(watcher.clone());
    tracing::subscriber::with_default(subscriber, service);
    assert!(!first.text().contains("hunter2xq") && !second.text().contains("hunter2xq"));
    assert_eq!(watcher.raw_fields_stored_before(), 0);

    let at_entry = Buffer::default();
    let watcher = Recorder::default().scrubbed(&s);
    let subscriber = tracing_subscriber::registry()
        .with(tracing_error::ErrorLayer::default())
        .with(fmt_layer(&at_entry))
        .with(watcher.clone())
        .scrubbed(&s);
    tracing::subscriber::with_default(subscriber, service);
    let text = at_entry.text();
    assert!(
        text.contains("request{password=\"[Filtered]\" route=\"/orders\"}: sinks: failed"),
        "{text}"
    );
    assert!(!text.contains("hunter2xq"), "{text}");
    assert_eq!(watcher.raw_fields_stored_before(), 0);
}

/// The whole subscriber scrubbed at its entry hands its layers what a wrapped layer gets:
/// the same callbacks, callsites, levels, parents, field names, types and scrubbed values
/// (span records too, looked up through the registry), and clean events untouched.
#[test]
fn scrubbing_at_the_entry_gives_every_layer_what_a_wrapped_layer_gets() {
    let s = scrubber();
    let wrapped = Recorder::default();
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(wrapped.clone().scrubbed(&s)),
        workload,
    );
    let (inside, plain) = (Recorder::default(), Recorder::default());
    tracing::subscriber::with_default(
        tracing_subscriber::registry()
            .with(inside.clone())
            .scrubbed(&s),
        workload,
    );
    tracing::subscriber::with_default(tracing_subscriber::registry().with(plain.clone()), workload);
    let (wrapped, inside, plain) = (wrapped.seen(), inside.seen(), plain.seen());
    assert_eq!(inside.len(), wrapped.len(), "{inside:#?}");
    for ((i, w), p) in inside.iter().zip(&wrapped).zip(&plain) {
        assert_eq!(
            (
                i.what,
                &i.callsite,
                i.level,
                i.target,
                i.name,
                &i.parent,
                &i.fields
            ),
            (
                w.what,
                &w.callsite,
                w.level,
                w.target,
                w.name,
                &w.parent,
                &w.fields
            )
        );
        // Span ids differ between runs; the fields say whether anything was replaced.
        let secret = SECRETS
            .iter()
            .any(|s| p.fields.iter().any(|f| f.contains(s)));
        assert_eq!(i.fields == p.fields, !secret, "{i:?}");
    }
}
