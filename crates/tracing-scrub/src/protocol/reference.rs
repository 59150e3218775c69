//! The scrubbing rules as they were written first, on the serialised report: the
//! reference the in-place scrubbing of `protocol.rs` is compared with.

use sentry_types::protocol::v7::{Breadcrumb, Event, Transaction, Value};
use std::borrow::Cow;

use super::{report_context, MAX_TAG_CHARS, SCRUB_CONTEXT, TRACE_KEYS, UNSCRUBBABLE};
use crate::engine::{cut_at, ScrubReport, Scrubber, MAX_VALUE_BYTES};

/// Keys of an event or transaction that are protocol structure (ids, times, levels),
/// never user data; scrubbing them could only corrupt the report.
const STRUCTURAL_EVENT_KEYS: &[&str] = &[
    "event_id",
    "timestamp",
    "start_timestamp",
    "level",
    "platform",
    "release",
    "dist",
    "environment",
    "sdk",
    "type",
    "debug_meta",
    "modules",
];
const BREADCRUMB_KEYS: &[&str] = &["timestamp", "type", "level"];
// The exception `type` is text that leaves the process like any other: scrubbed.
const EXCEPTION_KEYS: &[&str] = &["mechanism", "stacktrace", "thread_id"];

impl Scrubber {
    fn scrub_each_in(
        &self,
        value: Option<&mut Value>,
        structural: &[&str],
        report: &mut ScrubReport,
    ) {
        let items = match value {
            Some(Value::Array(items)) => items,
            Some(Value::Object(map)) => match map.get_mut("values") {
                Some(Value::Array(items)) => items,
                _ => return,
            },
            _ => return,
        };
        for item in items {
            match item {
                Value::Object(map) => self.scrub_map_at(map, structural, report, 1),
                other => self.scrub_value_at(other, report, 1),
            }
        }
    }

    /// Scrubs a serialised event or transaction, leaving its protocol structure alone.
    fn scrub_event_json(&self, root: &mut Value, report: &mut ScrubReport) {
        let Value::Object(top) = root else {
            return;
        };
        for (key, value) in top.iter_mut() {
            match key.as_str() {
                k if STRUCTURAL_EVENT_KEYS.contains(&k) => {}
                "tags" => {
                    if let Value::Object(map) = value {
                        self.scrub_map_at(map, TRACE_KEYS, report, 1);
                        for tag in map.values_mut() {
                            if let Value::String(s) = tag {
                                if let Some((cut, _)) = s.char_indices().nth(MAX_TAG_CHARS) {
                                    s.truncate(cut);
                                }
                            }
                        }
                    }
                }
                "breadcrumbs" => self.scrub_each_in(Some(value), BREADCRUMB_KEYS, report),
                "spans" => self.scrub_each_in(Some(value), TRACE_KEYS, report),
                "exception" => {
                    self.scrub_each_in(Some(value), EXCEPTION_KEYS, report);
                    self.scrub_frame_vars(value, report);
                }
                "threads" | "stacktrace" => self.scrub_frame_vars(value, report),
                _ => self.scrub_value_at(value, report, 1),
            }
        }
    }

    /// Round-trips through JSON so every field, present and future, is covered.
    /// `None` if the item does not survive the round trip (it should always).
    fn scrub_typed<T>(&self, item: &T, report: &mut ScrubReport) -> Option<T>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let mut json = serde_json::to_value(item).ok()?;
        self.scrub_event_json(&mut json, report);
        serde_json::from_value(json).ok()
    }

    fn scrub_breadcrumb_reference(&self, crumb: &mut Breadcrumb, report: &mut ScrubReport) {
        for text in [&mut crumb.category, &mut crumb.message]
            .into_iter()
            .flatten()
        {
            if let Cow::Owned(s) = self.scrub_str(text, report) {
                *text = s;
            }
            cut_at(text, MAX_VALUE_BYTES);
        }
        self.scrub_entries(crumb.data.iter_mut(), &[], report, 1);
    }

    /// `scrub_event` as it was: everything but contexts and breadcrumbs through JSON.
    pub(crate) fn scrub_event_reference(&self, mut event: Event<'static>) -> Event<'static> {
        let mut report = ScrubReport::default();
        let contexts = std::mem::take(&mut event.contexts);
        let mut breadcrumbs = std::mem::take(&mut event.breadcrumbs);
        // The request's URL is typed: the same rule as in place (not a JSON rule).
        let request = event.request.take();
        let mut scrubbed = self
            .scrub_typed(&event, &mut report)
            .map(|mut scrubbed| {
                scrubbed.request = request.map(|mut request| {
                    let _ = self.scrub_request(&mut request, &mut report);
                    request
                });
                scrubbed
            })
            .unwrap_or_else(|| Event {
                event_id: event.event_id,
                level: event.level,
                timestamp: event.timestamp,
                message: Some(UNSCRUBBABLE.to_owned()),
                ..Default::default()
            });
        scrubbed.contexts = self.scrub_contexts_reference(contexts, &mut report);
        for crumb in &mut breadcrumbs.values {
            self.scrub_breadcrumb_reference(crumb, &mut report);
        }
        scrubbed.breadcrumbs = breadcrumbs;
        if report.total() > 0 {
            scrubbed
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        scrubbed
    }

    fn scrub_contexts_reference(
        &self,
        contexts: sentry_types::protocol::v7::Map<String, sentry_types::protocol::v7::Context>,
        report: &mut ScrubReport,
    ) -> sentry_types::protocol::v7::Map<String, sentry_types::protocol::v7::Context> {
        self.scrub_contexts_as(contexts, report, false)
    }

    /// `scrub_transaction` as it was.
    pub(crate) fn scrub_transaction_reference(
        &self,
        mut transaction: Transaction<'static>,
    ) -> Transaction<'static> {
        let mut report = ScrubReport::default();
        let contexts = std::mem::take(&mut transaction.contexts);
        let request = transaction.request.take();
        let mut scrubbed = self
            .scrub_typed(&transaction, &mut report)
            .map(|mut scrubbed| {
                scrubbed.request = request.map(|mut request| {
                    let _ = self.scrub_request(&mut request, &mut report);
                    request
                });
                scrubbed
            })
            .unwrap_or_else(|| Transaction {
                event_id: transaction.event_id,
                name: Some(UNSCRUBBABLE.to_owned()),
                start_timestamp: transaction.start_timestamp,
                timestamp: transaction.timestamp,
                ..Default::default()
            });
        scrubbed.contexts = self.scrub_contexts_reference(contexts, &mut report);
        if report.total() > 0 {
            scrubbed
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        scrubbed
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use sentry_types::protocol::v7::{
        Breadcrumb, Context, DeviceContext, Event, Exception, Frame, LogEntry, Map, Mechanism,
        OsContext, Request, RuntimeContext, Span, Stacktrace, Thread, TraceContext, Transaction,
        User, Value,
    };

    use super::super::{SCRUB_CONTEXT, UNSCRUBBABLE};
    use crate::{ScrubRules, Scrubber};

    const TEXTS: &[&str] = &[
        "order 17 failed",
        "step 3 of the checkout finished",
        "billing::checkout",
        "password=hunter2x9 was rejected",
        "could not query postgres://orders:s3cr3t@db.internal:5432/orders",
        "charge 4111 1111 1111 1111 declined",
        "4111111111111111",
        "42",
        "",
        "mail to jane@example.com from 10.1.2.3",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "DbConfig { host: \"db\", password: Some(\"pw1\"), port: 5432 }",
        r#"{"user":"u1","token":"abc123xyz789","plan":"pro"}"#,
        "é😀 plain text",
        "sk_live_51HqLyjWDarjtT1zdp7dc",
    ];
    const KEYS: &[&str] = &[
        "id",
        "user_id",
        "password",
        "api_key",
        "table",
        "type",
        "message",
        "email",
        "name",
        "token_count",
        "vars",
        "data",
        "authorization",
        "session",
        "trace_id",
        "username",
    ];

    struct Gen(fastrand::Rng);

    impl Gen {
        fn text(&mut self) -> String {
            match self.0.u8(..40) {
                // Long enough to be cut after scrubbing, a secret near the end.
                0 => format!("{} password=hunter{}", "y".repeat(8190), "é".repeat(3)),
                1 => "t".repeat(230),
                _ => TEXTS[self.0.usize(..TEXTS.len())].to_owned(),
            }
        }
        fn some_text(&mut self) -> Option<String> {
            self.0.bool().then(|| self.text())
        }
        fn key(&mut self) -> String {
            KEYS[self.0.usize(..KEYS.len())].to_owned()
        }
        fn value(&mut self, depth: u8) -> Value {
            match self.0.u8(..if depth > 2 { 6 } else { 8 }) {
                0 => Value::Null,
                1 => Value::Bool(true),
                2 => Value::from(4_111_111_111_111_111u64),
                3 => Value::from(self.0.i64(-5..100_000)),
                4 | 5 => Value::String(self.text()),
                6 => Value::Array(
                    (0..self.0.usize(..3))
                        .map(|_| self.value(depth + 1))
                        .collect(),
                ),
                _ => Value::Object(self.value_map(depth + 1).into_iter().collect()),
            }
        }
        fn value_map(&mut self, depth: u8) -> Map<String, Value> {
            (0..self.0.usize(..4))
                .map(|_| (self.key(), self.value(depth)))
                .collect()
        }
        fn text_map(&mut self) -> Map<String, String> {
            (0..self.0.usize(..4))
                .map(|_| (self.key(), self.text()))
                .collect()
        }
        fn user(&mut self) -> Option<User> {
            self.0.bool().then(|| User {
                id: self.some_text(),
                email: self.some_text(),
                username: self.some_text(),
                other: self.value_map(1),
                ..Default::default()
            })
        }
        fn stacktrace(&mut self) -> Option<Stacktrace> {
            self.0.bool().then(|| Stacktrace {
                frames: (0..self.0.usize(..3))
                    .map(|_| Frame {
                        function: self.some_text(),
                        lineno: Some(12),
                        vars: self.value_map(1),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
        }
        fn contexts(&mut self) -> Map<String, Context> {
            let mut contexts = Map::new();
            if self.0.bool() {
                contexts.insert("fields".into(), Context::Other(self.value_map(1)));
            }
            if self.0.bool() {
                contexts.insert(
                    "os".into(),
                    Context::Os(Box::new(OsContext {
                        name: self.some_text(),
                        kernel_version: self.some_text(),
                        other: self.value_map(1),
                        ..Default::default()
                    })),
                );
            }
            if self.0.bool() {
                contexts.insert(
                    "rust".into(),
                    Context::Runtime(Box::new(RuntimeContext {
                        name: self.some_text(),
                        version: self.some_text(),
                        other: self.value_map(1),
                    })),
                );
            }
            if self.0.bool() {
                contexts.insert(
                    "device".into(),
                    Context::Device(Box::new(DeviceContext {
                        arch: self.some_text(),
                        model: self.some_text(),
                        memory_size: self.0.bool().then_some(4_111_111_111_111_111),
                        other: self.value_map(1),
                        ..Default::default()
                    })),
                );
            }
            if self.0.bool() {
                contexts.insert(
                    "trace".into(),
                    Context::Trace(Box::new(TraceContext {
                        op: self.some_text(),
                        data: self.value_map(1),
                        ..Default::default()
                    })),
                );
            }
            contexts
        }
        fn request(&mut self) -> Option<Request> {
            self.0.bool().then(|| Request {
                url: [
                    "https://shop.example.com/cart?page=2",
                    "https://app:pw77@shop.example.com/reset?token=abc123xyz789",
                ][self.0.usize(..2)]
                .parse()
                .ok(),
                method: Some("POST".into()),
                data: self.some_text(),
                headers: self.text_map(),
                ..Default::default()
            })
        }
    }

    /// Where two JSON values first differ, for a readable failure.
    fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys()) {
                    match (x.get(key), y.get(key)) {
                        (Some(p), Some(q)) => {
                            if let Some(d) = first_difference(&format!("{path}.{key}"), p, q) {
                                return Some(d);
                            }
                        }
                        (p, q) => return Some(format!("{path}.{key}: {p:?} vs {q:?}")),
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(&format!("{path}[{i}]"), p, q)),
            _ if a == b => None,
            _ => Some(format!("{path}: {a} vs {b}")),
        }
    }

    /// A withheld item sends none of its data: how much the scrubber had counted before
    /// giving up may differ (the in-place path stops at the first part that cannot be
    /// kept).
    fn withheld_uncounted(mut item: Value) -> Value {
        let withheld =
            [&item["message"], &item["transaction"]].contains(&&Value::from(UNSCRUBBABLE));
        if withheld {
            if let Some(Value::Object(contexts)) = item.get_mut("contexts") {
                contexts.remove(SCRUB_CONTEXT);
            }
        }
        item
    }

    fn at(ms: u64) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_795_000_000_000 + ms)
    }

    #[test]
    fn in_place_scrubbing_gives_what_the_json_rules_give() {
        let mut gen = Gen(fastrand::Rng::with_seed(14));
        let mut withheld = 0;
        for rules in [
            ScrubRules::default(),
            ScrubRules::default().send_default_pii(true),
            ScrubRules::default().extra_key("type").safe_key("password"),
        ] {
            let scrubber = Scrubber::new(&rules).expect("rules compile");
            for _ in 0..120 {
                let event = Event {
                    timestamp: at(250),
                    culprit: gen.some_text(),
                    transaction: gen.some_text(),
                    message: gen.some_text(),
                    logger: gen.some_text(),
                    server_name: gen.some_text().map(Into::into),
                    logentry: gen.0.bool().then(|| LogEntry {
                        message: gen.text(),
                        params: vec![gen.value(1)],
                    }),
                    user: gen.user(),
                    request: gen.request(),
                    contexts: gen.contexts(),
                    breadcrumbs: (0..gen.0.usize(..6))
                        .map(|i| Breadcrumb {
                            timestamp: at(i as u64),
                            category: gen.some_text(),
                            message: gen.some_text(),
                            data: gen.value_map(1),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>()
                        .into(),
                    exception: (0..gen.0.usize(..3))
                        .map(|_| Exception {
                            ty: gen.text(),
                            value: gen.some_text(),
                            module: gen.some_text(),
                            stacktrace: gen.stacktrace(),
                            raw_stacktrace: gen.stacktrace(),
                            mechanism: gen.0.bool().then(|| Mechanism {
                                ty: "tracing".into(),
                                description: gen.some_text(),
                                data: gen.value_map(1),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>()
                        .into(),
                    stacktrace: gen.stacktrace(),
                    threads: (0..gen.0.usize(..2))
                        .map(|_| Thread {
                            name: gen.some_text(),
                            stacktrace: gen.stacktrace(),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>()
                        .into(),
                    tags: gen.text_map(),
                    extra: gen.value_map(1),
                    ..Default::default()
                };
                let expected = withheld_uncounted(
                    serde_json::to_value(scrubber.scrub_event_reference(event.clone()))
                        .expect("serialises"),
                );
                let got = withheld_uncounted(
                    serde_json::to_value(scrubber.scrub_event(event)).expect("serialises"),
                );
                withheld += u32::from(got["message"] == UNSCRUBBABLE);
                assert_eq!(first_difference("", &got, &expected), None);

                let transaction = Transaction {
                    name: gen.some_text(),
                    start_timestamp: at(0),
                    timestamp: Some(at(500)),
                    server_name: gen.some_text().map(Into::into),
                    user: gen.user(),
                    tags: gen.text_map(),
                    extra: gen.value_map(1),
                    request: gen.request(),
                    contexts: gen.contexts(),
                    spans: (0..gen.0.usize(..4))
                        .map(|i| Span {
                            op: gen.some_text(),
                            description: gen.some_text(),
                            start_timestamp: at(i as u64),
                            timestamp: Some(at(i as u64 + 10)),
                            tags: gen.text_map(),
                            data: gen.value_map(1),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                let expected = withheld_uncounted(
                    serde_json::to_value(scrubber.scrub_transaction_reference(transaction.clone()))
                        .expect("serialises"),
                );
                let got = withheld_uncounted(
                    serde_json::to_value(scrubber.scrub_transaction(transaction))
                        .expect("serialises"),
                );
                assert_eq!(first_difference("", &got, &expected), None);
            }
        }
        // Most events are compared whole, not as the stub.
        assert!(withheld < 120, "{withheld} of 360 events withheld");
    }
}
