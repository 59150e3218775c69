//! Shared set-up of the isolation tests: an in-memory transport (these are layer
//! behaviour tests, not wire tests), a multi-thread runtime, and the tally every
//! isolation test prints: reports checked and reports wrong.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::protocol::{Context, Event, Transaction, Value};
use sentry::{Envelope, Transport};
use tracing_error_reports::{Config, ConfigBuilder, ErrorReportLayer, ReportingGuard};

pub const TASKS: usize = 1_000;
pub const TENANTS: usize = 50;

/// Keeps every envelope in memory.
#[derive(Default)]
pub struct Memory {
    envelopes: Mutex<Vec<Envelope>>,
}

/// The envelope with its items: a batch of logs comes as a raw envelope (the crate
/// writes its JSON directly), read here as Sentry would.
pub fn parsed(envelope: Envelope) -> Envelope {
    if envelope.items().next().is_some() {
        return envelope;
    }
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).expect("writes");
    Envelope::from_slice(&bytes).expect("the sentry crate parses a raw envelope")
}

impl Transport for Memory {
    fn send_envelope(&self, envelope: Envelope) {
        let envelope = parsed(envelope);
        self.envelopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(envelope);
    }
}

impl Memory {
    pub fn events(&self) -> Vec<Event<'static>> {
        let envelopes = self.envelopes.lock().unwrap_or_else(|e| e.into_inner());
        envelopes
            .iter()
            .filter_map(|e| e.event().cloned())
            .collect()
    }

    /// The structured logs of every envelope, in order.
    pub fn logs(&self) -> Vec<sentry::protocol::Log> {
        let envelopes = self.envelopes.lock().unwrap_or_else(|e| e.into_inner());
        envelopes
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                sentry::protocol::EnvelopeItem::ItemContainer(
                    sentry::protocol::ItemContainer::Logs(logs),
                ) => Some(logs.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn transactions(&self) -> Vec<Transaction<'static>> {
        let envelopes = self.envelopes.lock().unwrap_or_else(|e| e.into_inner());
        envelopes
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                sentry::protocol::EnvelopeItem::Transaction(tx) => Some((**tx).clone()),
                _ => None,
            })
            .collect()
    }
}

pub struct Setup {
    pub memory: Arc<Memory>,
    pub guard: ReportingGuard,
}

impl Setup {
    /// Waits until everything queued has reached the transport.
    pub fn settle(&self) {
        assert!(
            self.guard.flush(Duration::from_secs(60)),
            "flush: {:?}",
            self.guard.stats()
        );
    }
}

/// A layer reporting into memory; `configure` adjusts the builder.
pub fn setup(configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> (ErrorReportLayer, Setup) {
    let memory = Arc::new(Memory::default());
    let builder = Config::builder()
        .dsn("http://key@127.0.0.1:9/1")
        .environment("test")
        .release("tests@1.0.0")
        .install_panic_hook(false)
        .traces_sample_rate(0.0)
        .queue_capacity(std::num::NonZeroUsize::new(20_000).expect("not zero"));
    let config = configure(builder).build().expect("test config is valid");
    let (layer, guard) =
        tracing_error_reports::init_with_transport(config, Arc::new(memory.clone()));
    (layer.expect("reporting on"), Setup { memory, guard })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("runtime")
}

pub fn tenant(task: usize) -> String {
    format!("tenant-{}", task % TENANTS)
}

pub fn tag<'a>(event: &'a Event<'static>, name: &str) -> Option<&'a str> {
    event.tags.get(name).map(String::as_str)
}

/// A field of the report's `fields` context.
pub fn field<'a>(event: &'a Event<'static>, name: &str) -> Option<&'a Value> {
    match event.contexts.get("fields") {
        Some(Context::Other(fields)) => fields.get(name),
        _ => None,
    }
}

pub fn task_of(event: &Event<'static>) -> Option<u64> {
    field(event, "task").and_then(Value::as_u64)
}

/// The `task` fields of the report's breadcrumbs.
pub fn crumb_tasks(event: &Event<'static>) -> Vec<Option<u64>> {
    event
        .breadcrumbs
        .values
        .iter()
        .map(|b| b.data.get("task").and_then(Value::as_u64))
        .collect()
}

/// Counts checked and wrong reports, keeping the first few reasons.
#[derive(Default)]
pub struct Tally {
    /// Reports (and, where checked, transactions or responses) looked at.
    pub reports: usize,
    /// Checks made on them.
    pub checked: usize,
    pub wrong: usize,
    reasons: Vec<String>,
}

impl Tally {
    /// Counts one more report (transaction, response) being checked.
    pub fn report(&mut self) {
        self.reports += 1;
    }

    pub fn check(&mut self, ok: bool, why: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.wrong += 1;
            if self.reasons.len() < 5 {
                self.reasons.push(why());
            }
        }
    }

    /// Prints the tally and fails if anything was wrong or too little was checked.
    pub fn finish(self, what: &str, at_least: usize) {
        println!(
            "{what}: {} reports checked ({} checks), {} wrong",
            self.reports, self.checked, self.wrong
        );
        assert_eq!(self.wrong, 0, "{what}: {:?}", self.reasons);
        assert!(
            self.checked >= at_least,
            "{what}: only {} checked",
            self.checked
        );
    }
}
