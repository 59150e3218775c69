//! The walk of [`apply`](super::apply) over an event's own protocol types: the same
//! paths, types and rules as over the event's JSON, without building that JSON.
//!
//! Texts, maps of JSON values (`extra`, a custom context, breadcrumb data) and the
//! containers of breadcrumbs and exceptions are walked in place, each value with the
//! path and types it has in Sentry's JSON. Parts with typed inner values (the user,
//! the request, stack traces, the typed contexts, ...) go through JSON one part at a
//! time, and are read back only when a rule changed them. A typed container that a
//! container-replacing rule (`anything`) selects is walked as its JSON, like those
//! parts. Fields Sentry's JSON leaves out (`None`, empty maps and lists) are not
//! walked, as there.

use std::borrow::Cow;

use sentry_types::protocol::v7::{Breadcrumb, Context, Event, Exception, Map, Url, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::apply::{index_key, Walk};
use super::selector::types;
use super::PiiConfig;

/// A part whose result does not fit its type even with removals kept to empty values.
#[derive(Debug)]
pub(crate) struct Unfit;

/// Applies `config` to `event`; returns the matches by rule name index.
pub(super) fn apply_event(
    config: &PiiConfig,
    event: &mut Event<'static>,
) -> Result<Vec<u64>, Unfit> {
    let mut walk = Walk::new(config, types::EVENT, false);
    if config.applications.is_empty() {
        return Ok(walk.counts);
    }
    let Event {
        // Never changed: they identify or type the event (`is_protected`).
        event_id: _,
        level: _,
        platform: _,
        timestamp: _,
        debug_meta: _,
        sdk: _,
        fingerprint,
        culprit,
        transaction,
        message,
        logentry,
        logger,
        modules,
        server_name,
        release,
        dist,
        environment,
        user,
        request,
        contexts,
        breadcrumbs,
        exception,
        stacktrace,
        template,
        threads,
        tags,
        extra,
    } = event;
    if !(fingerprint.len() == 1 && matches!(&*fingerprint[0], "{{ default }}" | "{{default}}")) {
        walk.part(Cow::Borrowed("fingerprint"), fingerprint)?;
    }
    for (key, text) in [
        ("culprit", culprit),
        ("transaction", transaction),
        ("logger", logger),
    ] {
        walk.optional_text(key, text);
    }
    for (key, text) in [
        ("server_name", server_name),
        ("release", release),
        ("dist", dist),
        ("environment", environment),
    ] {
        if let Some(cow) = text {
            let mut owned = Some(std::mem::take(cow).into_owned());
            walk.optional_text(key, &mut owned);
            match owned {
                Some(new) => *cow = Cow::Owned(new),
                None => *text = None,
            }
        }
    }
    if let Some(text) = message {
        // Sentry moves a plain message to `logentry.formatted`.
        let mut value = Value::String(std::mem::take(text));
        walk.message(&mut value);
        match value {
            Value::String(new) => *text = new,
            _ => *message = None,
        }
    }
    walk.optional_part("logentry", logentry)?;
    if !modules.is_empty() {
        walk.part(Cow::Borrowed("modules"), modules)?;
    }
    walk.optional_part("user", user)?;
    walk.optional_part("request", request)?;
    if !contexts.is_empty() {
        walk.contexts(contexts)?;
    }
    if !breadcrumbs.values.is_empty() {
        walk.values("breadcrumbs", &mut breadcrumbs.values, Walk::breadcrumb)?;
    }
    if !exception.values.is_empty() {
        walk.values("exception", &mut exception.values, Walk::exception)?;
    }
    walk.optional_part("stacktrace", stacktrace)?;
    walk.optional_part("template", template)?;
    if !threads.values.is_empty() {
        walk.part(Cow::Borrowed("threads"), threads)?;
    }
    if !tags.is_empty() {
        walk.tags(tags);
    }
    if !extra.is_empty() {
        walk.map(Cow::Borrowed("extra"), extra)?;
    }
    Ok(walk.counts)
}

impl Walk<'_> {
    /// A text that may be absent; a removed one is `None`.
    fn optional_text(&mut self, key: &'static str, text: &mut Option<String>) {
        let Some(inner) = text else {
            return;
        };
        let mut value = Value::String(std::mem::take(inner));
        self.child(Cow::Borrowed(key), &mut value);
        match value {
            Value::String(new) => *inner = new,
            _ => *text = None,
        }
    }

    /// A text that must be there; a removed one is empty (as a removal that does not fit
    /// its type is, ADR-031).
    fn required_text(&mut self, key: &'static str, text: &mut String) {
        let mut value = Value::String(std::mem::take(text));
        self.child(Cow::Borrowed(key), &mut value);
        if let Value::String(new) = value {
            *text = new;
        }
    }

    fn optional_part<T: Serialize + DeserializeOwned>(
        &mut self,
        key: &'static str,
        part: &mut Option<T>,
    ) -> Result<(), Unfit> {
        match part {
            Some(inner) => self.part(Cow::Borrowed(key), inner),
            None => Ok(()),
        }
    }

    /// A part walked as its JSON, read back when a rule changed it; when the result
    /// does not fit the type, again with removals to empty values of the same kind.
    fn part<T: Serialize + DeserializeOwned>(
        &mut self,
        key: Cow<'static, str>,
        part: &mut T,
    ) -> Result<(), Unfit> {
        let mut json = serde_json::to_value(&*part).map_err(|_| Unfit)?;
        if json.is_null() {
            return Ok(());
        }
        let changed_before = std::mem::take(&mut self.changed);
        self.child(key.clone(), &mut json);
        if self.changed {
            if key == "request" && self.path.len() == 1 {
                fix_request_url(&mut json);
            }
            match serde_json::from_value::<T>(json) {
                Ok(new) => *part = new,
                Err(_) => {
                    // The matches stay those of the first walk.
                    let counts = self.counts.clone();
                    let mut json = serde_json::to_value(&*part).map_err(|_| Unfit)?;
                    self.keep_types = true;
                    self.child(key.clone(), &mut json);
                    self.keep_types = false;
                    self.counts = counts;
                    if key == "request" && self.path.len() == 1 {
                        fix_request_url(&mut json);
                    }
                    *part = serde_json::from_value::<T>(json).map_err(|_| Unfit)?;
                }
            }
        }
        self.changed |= changed_before;
        Ok(())
    }

    /// A map of JSON values, each walked in place (a removed one is null, as in the
    /// JSON walk); the map as JSON when a container rule selects it.
    fn map(&mut self, key: Cow<'static, str>, map: &mut Map<String, Value>) -> Result<(), Unfit> {
        if !self.enter(key.clone(), types::OBJECT) {
            return Ok(());
        }
        if self.container_selected() {
            self.leave();
            return self.part(key, map);
        }
        for (name, value) in map.iter_mut() {
            self.child(Cow::Owned(name.clone()), value);
        }
        self.leave();
        Ok(())
    }

    /// Tags: texts by name (`$object` and `$array` too, as Sentry holds them as pairs).
    fn tags(&mut self, tags: &mut Map<String, String>) {
        if !self.enter(Cow::Borrowed("tags"), types::OBJECT) {
            return;
        }
        if self.container_selected() {
            self.leave();
            // A map of texts always serialises and reads back.
            let _ = self.part(Cow::Borrowed("tags"), tags);
            return;
        }
        for (name, text) in tags.iter_mut() {
            let mut value = Value::String(std::mem::take(text));
            self.child(Cow::Owned(name.clone()), &mut value);
            if let Value::String(new) = value {
                *text = new;
            }
        }
        self.leave();
    }

    fn contexts(&mut self, contexts: &mut Map<String, Context>) -> Result<(), Unfit> {
        if !self.enter(Cow::Borrowed("contexts"), types::OBJECT) {
            return Ok(());
        }
        if self.container_selected() {
            self.leave();
            return self.part(Cow::Borrowed("contexts"), contexts);
        }
        for (name, context) in contexts.iter_mut() {
            match context {
                // Its `type` (`unknown`) is never changed.
                Context::Other(map) => self.map(Cow::Owned(name.clone()), map)?,
                typed => self.part(Cow::Owned(name.clone()), typed)?,
            }
        }
        self.leave();
        Ok(())
    }

    /// `breadcrumbs` or `exception`: `{"values": [...]}`, each item walked by `item`.
    fn values<T: Serialize + DeserializeOwned>(
        &mut self,
        key: &'static str,
        items: &mut Vec<T>,
        item: fn(&mut Self, &mut T) -> Result<(), Unfit>,
    ) -> Result<(), Unfit> {
        if !self.enter(Cow::Borrowed(key), types::OBJECT) {
            return Ok(());
        }
        let mut whole = self.container_selected();
        if !whole && self.enter(Cow::Borrowed("values"), types::ARRAY) {
            whole = self.container_selected();
            self.leave();
        }
        self.leave();
        if whole {
            let mut values = sentry_types::protocol::v7::Values {
                values: std::mem::take(items),
            };
            let result = self.part(Cow::Borrowed(key), &mut values);
            *items = values.values;
            return result;
        }
        self.enter(Cow::Borrowed(key), types::OBJECT);
        self.enter(Cow::Borrowed("values"), types::ARRAY);
        let mut result = Ok(());
        for (i, value) in items.iter_mut().enumerate() {
            if !self.enter(index_key(i), types::OBJECT) {
                continue;
            }
            result = if self.container_selected() {
                self.leave();
                self.part(index_key(i), value)
            } else {
                let r = item(self, value);
                self.leave();
                r
            };
            if result.is_err() {
                break;
            }
        }
        self.leave();
        self.leave();
        result
    }

    fn breadcrumb(&mut self, breadcrumb: &mut Breadcrumb) -> Result<(), Unfit> {
        let Breadcrumb {
            // Never changed (`is_protected`).
            timestamp: _,
            ty: _,
            level: _,
            category,
            message,
            data,
        } = breadcrumb;
        self.optional_text("category", category);
        self.optional_text("message", message);
        if !data.is_empty() {
            self.map(Cow::Borrowed("data"), data)?;
        }
        Ok(())
    }

    fn exception(&mut self, exception: &mut Exception) -> Result<(), Unfit> {
        let Exception {
            ty,
            value,
            module,
            stacktrace,
            raw_stacktrace,
            thread_id,
            mechanism,
        } = exception;
        self.required_text("type", ty);
        self.optional_text("value", value);
        self.optional_text("module", module);
        self.optional_part("stacktrace", stacktrace)?;
        self.optional_part("raw_stacktrace", raw_stacktrace)?;
        self.optional_part("thread_id", thread_id)?;
        self.optional_part("mechanism", mechanism)
    }
}

/// A request URL a rule made unparsable (`[Filtered]`) is dropped: the type holds URLs.
fn fix_request_url(request: &mut Value) {
    if let Some(url) = request.get_mut("url") {
        if url.as_str().is_some_and(|u| Url::parse(u).is_err()) {
            *url = Value::Null;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Event<'static> {
        serde_json::from_value(json!({
            "event_id": "0123456789abcdef0123456789abcdef",
            "timestamp": 1_700_000_000.5,
            "level": "error",
            "message": "login of a@example.com from 10.1.2.3 failed",
            "logger": "app::auth",
            "culprit": "/home/alice/src/app.rs",
            "transaction": "POST /login",
            "release": "app@1.0+token=ghp_0123456789",
            "server_name": "db1.internal",
            "environment": "prod",
            "fingerprint": ["{{ default }}", "card 4111 1111 1111 1111"],
            "modules": {"serde": "1.0"},
            "user": {"id": "42", "email": "b@example.com", "ip_address": "10.0.0.9",
                     "username": "bob", "plan": "gold 123456789"},
            "request": {"url": "https://user:pw@example.com/a?x=1", "method": "POST",
                        "query_string": "token=abc&order=ORD-12345",
                        "cookies": "session=s3cr3t; theme=dark",
                        "headers": {"Authorization": "Bearer abc.def", "X-Api-Key": "k-123456"},
                        "data": "{\"password\": \"hunter2\", \"card\": \"4111111111111111\"}",
                        "env": {"REMOTE_ADDR": "192.168.0.1"}},
            "contexts": {
                "fields": {"type": "unknown", "api_token": "t-0123456789",
                           "nested": {"session_id": "abcdef", "n": 1234567890}},
                "os": {"type": "os", "name": "Linux", "version": "6.1"},
                "trace": {"type": "trace", "trace_id": "0123456789abcdef0123456789abcdef",
                          "span_id": "0123456789abcdef", "op": "http 10.0.0.1"}
            },
            "breadcrumbs": {"values": [
                {"timestamp": 1_700_000_000.0, "category": "auth", "message": "user c@example.com",
                 "data": {"token": "xyz", "card": "4111 1111 1111 1111", "step": 2}},
                {"timestamp": 1_700_000_001.0, "type": "http", "level": "warning",
                 "message": "GET /home/carol/x", "data": {}}
            ]},
            "exception": {"values": [
                {"type": "DbError", "value": "postgres://orders:s3cr3t@db.internal:5432/orders",
                 "module": "app::db",
                 "mechanism": {"type": "generic", "handled": false, "data": {"session": "q1"}},
                 "stacktrace": {"frames": [
                     {"function": "connect", "filename": "/home/alice/app/db.rs", "lineno": 10,
                      "vars": {"password": "hunter2", "host": "10.0.0.5", "n": 3}}
                 ]}}
            ]},
            "threads": {"values": [{"id": 1, "name": "worker 10.0.0.7"}]},
            "tags": {"tenant": "acme", "client_ip": "10.0.0.8"},
            "extra": {"order": "ORD-99999", "secret_key": "sk_live_0123456789",
                      "list": ["a@example.com", 5, true], "deep": {"private": "x"}}
        }))
        .expect("a valid event")
    }

    /// The walk over the event's own types changes what the walk over its JSON changes,
    /// the same way, with the same counts: for documents of every kind of rule, method
    /// and selector, enforced and dry runs, and again with the memory of clean texts
    /// filled.
    #[test]
    fn the_typed_walk_gives_what_the_json_walk_gives() {
        let documents = [
            json!({"applications": {"$string": ["@ip", "@email", "@creditcard", "@urlauth",
                "@userpath", "@password", "@bearer", "@iban", "@usssn", "@uuid", "@mac", "@imei"]}}),
            json!({"applications": {"$string": ["@anything:mask"]}}),
            json!({"applications": {"**": ["@ip:hash", "@email:remove"]}}),
            json!({"applications": {"$frame.vars.**": ["@anything:remove"],
                "$http.headers.*": ["@anything:replace"], "$user.* && !$user.id": ["@anything:remove"],
                "$exception.value": ["@anything:mask"], "$breadcrumb.message": ["@email:mask"],
                "$logentry.formatted": ["@ip:remove"]}}),
            json!({"applications": {"tags.client_ip": ["@anything:remove"]}}),
            json!({"applications": {"$frame.vars.**": ["@anything:remove"]}}),
            json!({"applications": {"$http.headers.*": ["@anything:replace"]}}),
            json!({"applications": {"$user.* && !$user.id": ["@anything:remove"]}}),
            json!({"applications": {"$exception.value": ["@anything:mask"]}}),
            json!({"applications": {"$breadcrumb.message": ["@email:mask"]}}),
            json!({"applications": {"$logentry.formatted": ["@ip:remove"]}}),
            json!({"rules": {
                    "p": {"type": "pattern", "pattern": "[0-9]{3,}", "redaction": {"method": "hash"}},
                    "g": {"type": "pattern", "pattern": "(ORD)-([0-9]+)", "replaceGroups": [2]},
                    "k": {"type": "redact_pair", "keyPattern": "(?i)token|session|secret|private"},
                    "m": {"type": "multiple", "rules": ["@email", "g"], "hide_inner": true},
                    "a": {"type": "alias", "rule": "k"}},
                "applications": {"$string": ["p", "m"], "extra.** || contexts.**": ["k"],
                    "$breadcrumb.data.**": ["a"], "$http.*": ["k"], "$object": ["@password"]}}),
            json!({"applications": {"extra": ["@anything:remove"],
                "contexts.fields": ["@anything:replace"], "$request.url": ["@anything:replace"]}}),
            json!({"applications": {"$breadcrumb.data": ["@anything:remove"]}}),
            // An exception without its type does not fit.
            json!({"applications": {"$exception": ["@anything:remove"]}}),
            json!({"applications": {"$number || $boolean": ["@anything:remove"]}}),
        ];
        for document in &documents {
            for dry_run in [false, true] {
                let config = PiiConfig::from_value(document)
                    .expect("valid")
                    .dry_run(dry_run);
                let mut json = serde_json::to_value(event()).expect("serialises");
                let json_counts = super::super::apply::apply(&config, &mut json, false);
                if let Some(request) = json.get_mut("request") {
                    fix_request_url(request);
                }
                let expected = match serde_json::from_value::<Event<'static>>(json) {
                    Ok(event) => Some(event),
                    Err(_) => {
                        let mut json = serde_json::to_value(event()).expect("serialises");
                        super::super::apply::apply(&config, &mut json, true);
                        if let Some(request) = json.get_mut("request") {
                            fix_request_url(request);
                        }
                        serde_json::from_value(json).ok()
                    }
                };
                for round in 0..3 {
                    let mut typed = event();
                    let result = apply_event(&config, &mut typed);
                    // Where the JSON does not fit even with removals kept typed, that
                    // walk withholds the event; the typed one retries the part alone.
                    let Some(expected) = &expected else {
                        continue;
                    };
                    let counts = result.expect("fits");
                    assert_eq!(
                        counts, json_counts,
                        "{document} dry run {dry_run} round {round}"
                    );
                    assert_eq!(
                        serde_json::to_value(&typed).expect("serialises"),
                        serde_json::to_value(expected).expect("serialises"),
                        "{document} dry run {dry_run} round {round}"
                    );
                }
            }
        }
    }
}
