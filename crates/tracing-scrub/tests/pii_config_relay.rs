//! Differential test of the PiiConfig engine against Sentry's own (the PyPI package
//! `sentry-relay`: `pii_strip_event`, `validate_pii_config`, `validate_pii_selector`,
//! `convert_datascrubbing_config`), in one Python process per test (JSON lines).
//!
//! - **Superset**: for every document and event, a fragment of a value that Sentry's
//!   engine removed (a run of 4+ letters and digits of the input found nowhere in its
//!   output) is nowhere in this crate's output either.
//! - **Validation**: the crate accepts exactly the documents Sentry's validator accepts,
//!   except the deliberate differences listed in `DELIBERATE` (ADR-031).
//! - **Selectors**: random selectors, accepted or refused alike by both.
//!
//! Skipped, saying so, without a Python that has `sentry-relay` (`RELAY_PYTHON`, else
//! `relay-venv` in the target directory; `.ci/run` installs it).
#![cfg(feature = "sentry")]

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Arc;

use sentry_types::protocol::v7::Event;
use serde_json::{json, Value};
use tracing_scrub::{DataScrubbingSettings, PiiConfig, ScrubRules, Scrubber};

fn relay_python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("RELAY_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
                });
            target.join("relay-venv/bin/python")
        });
    let works = std::process::Command::new(&python)
        .args(["-c", "import sentry_relay.processing"])
        .output()
        .is_ok_and(|out| out.status.success());
    works.then_some(python)
}

const SCRIPT: &str = r#"
import json, sys
from sentry_relay.processing import (pii_strip_event, validate_pii_config,
    validate_pii_selector, convert_datascrubbing_config)
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    try:
        if op == "strip":
            out = pii_strip_event(req["config"], req["event"])
            out.pop("_meta", None)
            res = {"event": json.dumps(out)}
        elif op == "validate":
            validate_pii_config(req["config"])
            res = {"ok": True}
        elif op == "selector":
            validate_pii_selector(req["selector"])
            res = {"ok": True}
        elif op == "convert":
            res = {"config": convert_datascrubbing_config(req["settings"])}
    except Exception as e:
        res = {"ok": False, "error": str(e)}
    print(json.dumps(res))
"#;

/// Runs the requests through one Python process; one answer per request.
fn relay(python: &std::path::Path, requests: &[Value]) -> Vec<Value> {
    let mut child = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    let mut input = Vec::new();
    for r in requests {
        serde_json::to_writer(&mut input, r).expect("json");
        input.push(b'\n');
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("python runs");
    writer.join().expect("writer").expect("written");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json answer"))
        .collect();
    assert_eq!(answers.len(), requests.len());
    answers
}

macro_rules! skip_without_relay {
    () => {
        match relay_python() {
            Some(python) => python,
            None => {
                eprintln!(
                    "skipped: no Python with sentry-relay (set RELAY_PYTHON or make \
                     target/relay-venv: python3 -m venv target/relay-venv && \
                     target/relay-venv/bin/pip install sentry-relay)"
                );
                return;
            }
        }
    };
}

/// The documents: every rule type, redaction method and selector form.
fn documents() -> Vec<Value> {
    let mut docs = vec![
        json!({"applications": {"$string": ["@common"]}}),
        json!({"applications": {"$string": ["@common:filter"]}}),
        json!({"applications": {"$string": ["@common:remove"]}}),
        json!({"applications": {"$string": ["@ip", "@email:mask", "@creditcard:hash"]}}),
        json!({"applications": {"$string": ["@ip:replace", "@ip:hash", "@email:replace"]}}),
        json!({"applications": {"$string": ["@creditcard:mask", "@iban", "@iban:replace"]}}),
        json!({"applications": {"$string": ["@imei", "@mac", "@mac:mask", "@uuid", "@uuid:hash"]}}),
        json!({"applications": {"$string": ["@pemkey", "@urlauth", "@usssn", "@userpath"]}}),
        json!({"applications": {"$string": ["@password", "@bearer"]}}),
        json!({"applications": {"**": ["@password:remove"]}}),
        json!({"applications": {"$string": ["@password:replace", "@bearer:replace"]}}),
        json!({"applications": {"$http.headers.*": ["@anything"]}}),
        json!({"applications": {"$http.headers.authorization || $http.cookies.*": ["@anything:remove"]}}),
        json!({"applications": {"$frame.vars.**": ["@anything:filter"]}}),
        json!({"applications": {"$error.value": ["@anything:replace"]}}),
        json!({"applications": {"$exception.value && !$frame": ["@email", "@ip"]}}),
        json!({"applications": {"extra.** || contexts.**": ["@anything:hash"]}}),
        json!({"applications": {"$user.*": ["@anything:remove"]}}),
        json!({"applications": {"$breadcrumb.data.** || $breadcrumb.message": ["@common:mask"]}}),
        json!({"applications": {"$logentry.formatted": ["@anything"]}}),
        json!({"applications": {"$request.data.** || $http.query_string": ["@anything:remove"]}}),
        json!({"applications": {"$string && !(extra.safe || tags.*)": ["@anything"]}}),
        json!({"applications": {"extra.'odd key' || extra.'it''s'": ["@anything"]}}),
        json!({"applications": {"($string || $number || $array || $object) && !$frame.filename": ["@common:filter"]}}),
        json!({"applications": {"*.password || *.secret": ["@anything:remove"]}}),
        json!({"applications": {"$event.extra.*": ["@anything"]}}),
        json!({"rules": {"ids": {"type": "pattern", "pattern": "[a-z]{3}val-[0-9]+",
                "redaction": {"method": "replace", "text": "[id]"}}},
               "applications": {"$string": ["ids"]}}),
        json!({"rules": {"grp": {"type": "pattern", "pattern": "(?i)(key|token|secret)[=:]\\s*([^\\s&,;]+)",
                "replaceGroups": [2], "redaction": {"method": "mask"}}},
               "applications": {"**": ["grp"]}}),
        json!({"rules": {"digits": {"type": "pattern", "pattern": "[0-9]{6,}",
                "redaction": {"method": "hash"}}},
               "applications": {"$string": ["digits"]}, "vars": {"hashKey": "k1"}}),
        json!({"rules": {"digits": {"type": "pattern", "pattern": "[0-9]{4,}"}},
               "applications": {"$string": ["digits"]}}),
        json!({"rules": {"pair": {"type": "redact_pair", "keyPattern": "key|token|id$"}},
               "applications": {"$string": ["pair"]}}),
        json!({"rules": {"pair": {"type": "redact_pair", "keyPattern": "^x-",
                "redaction": {"method": "replace", "text": "[header]"}}},
               "applications": {"$http.headers.*": ["pair"]}}),
        json!({"rules": {"both": {"type": "multiple", "rules": ["@email", "@ip", "digits"],
                "hide_inner": true, "redaction": {"method": "replace", "text": "[pii]"}},
                "digits": {"type": "pattern", "pattern": "[0-9]{5,}"}},
               "applications": {"$string": ["both"]}}),
        json!({"rules": {"mine": {"type": "alias", "rule": "@creditcard", "hide_inner": false}},
               "applications": {"$string": ["mine"]}}),
        json!({"rules": {"cards": {"type": "creditcard", "redaction": {"method": "mask"}},
                "mails": {"type": "email", "redaction": {"method": "remove"}},
                "anything": {"type": "anything", "redaction": {"method": "default"}}},
               "applications": {"$string": ["cards", "mails"], "extra.notes": ["anything"]}}),
        json!({"rules": {"ssn": {"type": "us_ssn"}, "auth": {"type": "url_auth"},
                "key": {"type": "pemkey"}, "home": {"type": "userpath"}, "pw": {"type": "password"},
                "b": {"type": "bearer"}, "c": {"type": "cookies"}},
               "applications": {"$string": ["ssn", "auth", "key", "home", "pw", "b", "c"]}}),
        json!({"applications": {"**": ["@anything:remove"]}}),
        json!({"applications": {"$object": ["@anything:remove"]}}),
    ];
    docs.push(
        json!({"applications": {"$string": ["@ip:mask", "@email:filter", "@creditcard:remove"]}}),
    );
    docs
}

/// Places a value can be put in an event, as Sentry's JSON.
fn place(event: &mut Value, which: usize, key: &str, value: &str) {
    let key = if key.is_empty() { "value" } else { key };
    match which % 10 {
        0 => event["extra"] = json!({ key: value }),
        1 => event["message"] = json!(format!("request failed: {value}")),
        2 => event["exception"]["values"][0]["value"] = json!(value),
        3 => {
            event["breadcrumbs"] =
                json!({"values": [{"message": value, "data": { key: value }, "timestamp": 1.7e9}]})
        }
        4 => event["request"]["headers"] = json!({ key: value }),
        5 => event["tags"] = json!({ "t": value.chars().take(200).collect::<String>() }),
        6 => event["user"] = json!({"id": "42", "username": value}),
        7 => {
            event["exception"]["values"][0]["stacktrace"] =
                json!({"frames": [{"function": "handle", "vars": { key: value }}]})
        }
        8 => event["request"]["data"] = json!(json!({ key: value }).to_string()),
        _ => event["contexts"] = json!({"fields": { key: value }}),
    }
}

fn base_event() -> Value {
    json!({
        "event_id": "d2132d31b39445f1938d7e21b6bf0ec4",
        "timestamp": 1.7e9,
        "level": "error",
        "platform": "native",
        "exception": {"values": [{"type": "Error", "value": "failed"}]},
        "request": {"url": "https://api.example.com/v1/orders", "method": "POST"},
    })
}

/// Events from the shared PII corpus (one place each, round robin) and generated ones.
fn events() -> Vec<Event<'static>> {
    let mut out = Vec::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut n = 0;
    for file in [
        "pii-corpus-public.jsonl",
        "pii-corpus-attacker.jsonl",
        "pii-corpus-attacker3.jsonl",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("corpus");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("case");
            let mut event = base_event();
            let key = case["key"].as_str().unwrap_or("");
            place(&mut event, n, key, case["value"].as_str().unwrap_or(""));
            n += 1;
            out.push(serde_json::from_value(event).expect("an event"));
        }
    }
    // Generated: data of every type the rules name, in every place, and a full event.
    let mut rng = fastrand::Rng::with_seed(29);
    let samples = [
        "10.1.2.3",
        "2001:db8::42",
        "jane.doe@example.org",
        "4111 1111 1111 1111",
        "DE89370400440532013000",
        "356938035643809",
        "00:1A:2B:3C:4D:5E",
        "123e4567-e89b-12d3-a456-426614174000",
        "078-05-1120",
        "https://bob:hunter2@db.internal/x",
        "/home/alice/project/src/main.rs",
        "C:\\Users\\carol\\app.exe",
        "Bearer eyJhbGciOiJIUzI1NiJ9.payloadpart.sigpart",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzq\n-----END RSA PRIVATE KEY-----",
        "order ord-99812 for cust-77123",
        "token=abcd1234efgh5678&page=2",
    ];
    let keys = [
        "notes",
        "password",
        "x-api-key",
        "session_id",
        "safe",
        "odd key",
        "it's",
        "cookie",
        "id",
    ];
    for i in 0..120 {
        let mut event = base_event();
        let value = format!(
            "{} and {} ref{}",
            samples[rng.usize(..samples.len())],
            samples[rng.usize(..samples.len())],
            rng.u32(10_000..99_999)
        );
        place(&mut event, i, keys[rng.usize(..keys.len())], &value);
        out.push(serde_json::from_value(event).expect("an event"));
    }
    let full = json!({
        "event_id": "d2132d31b39445f1938d7e21b6bf0ec5",
        "timestamp": 1.7e9,
        "message": "user jane.doe@example.org from 10.9.8.7 paid with 5500 0000 0000 0004",
        "exception": {"values": [{"type": "DbError", "value": "connect postgres://app:s3cretpw@10.0.0.5/db failed",
            "stacktrace": {"frames": [{"function": "connect", "filename": "/home/alice/src/db.rs",
                "abs_path": "/home/alice/src/db.rs", "vars": {"password": "s3cretpw", "dsn": "postgres://app:s3cretpw@10.0.0.5/db", "n": 5}}]}}]},
        "threads": {"values": [{"id": 1, "name": "worker-jane.doe@example.org"}]},
        "breadcrumbs": {"values": [{"timestamp": 1.7e9, "category": "http", "message": "GET /users/alice?email=jane.doe@example.org",
            "data": {"url": "https://x.example.com/?token=tkn998877", "status_code": 200}}]},
        "request": {"url": "https://api.example.com/v1/orders?card=4111111111111111", "method": "POST",
            "query_string": "email=jane.doe@example.org&sessionid=sess776655",
            "cookies": "session=cookieval4433; theme=dark",
            "data": "{\"card\":\"4111111111111111\",\"name\":\"Jane Doe\",\"password\":\"pw556677\"}",
            "headers": {"Authorization": "Bearer abcdef123456", "X-Forwarded-For": "203.0.113.9", "User-Agent": "curl/8"},
            "env": {"REMOTE_ADDR": "203.0.113.9"}},
        "user": {"id": "u-1", "email": "jane.doe@example.org", "ip_address": "203.0.113.9", "username": "janedoe"},
        "contexts": {"fields": {"customer_ssn": "078-05-1120", "iban": "GB82WEST12345698765432"}},
        "tags": {"client_ip": "198.51.100.7", "region": "eu"},
        "extra": {"notes": "call 555-0100", "safe": "keep-me-4321", "odd key": "oddvalue9911", "it's": "quoteval8822"},
    });
    out.push(serde_json::from_value(full).expect("the full event"));
    out
}

/// Runs of 4+ ASCII letters and digits.
fn fragments_of(text: &str, out: &mut BTreeSet<String>) {
    out.extend(
        text.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() >= 4)
            .map(str::to_owned),
    );
}

/// The fragments of an event's values, and those of its keys (JSON inside strings
/// included): a key is never removed, only renamed or restructured, so key fragments
/// are not counted.
fn value_fragments(event: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, values: &mut BTreeSet<String>, keys: &mut BTreeSet<String>) {
        match v {
            Value::String(s) => {
                fragments_of(s, values);
                if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(s) {
                    walk(&inner, &mut BTreeSet::new(), keys);
                }
                for pair in s.split(['&', ';']) {
                    if let Some((k, _)) = pair.split_once('=') {
                        fragments_of(k, keys);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, values, keys)),
            Value::Object(map) => {
                for (k, v) in map {
                    fragments_of(k, keys);
                    // A context's `type` names its kind: kept by the crate (ADR-031).
                    if k == "type" && map.len() > 1 && v == "unknown" {
                        continue;
                    }
                    walk(v, values, keys);
                }
            }
            _ => {}
        }
    }
    let (mut values, mut keys) = (BTreeSet::new(), BTreeSet::new());
    walk(event, &mut values, &mut keys);
    values.retain(|f| !keys.contains(f));
    values
}

/// Fragments of the input's values that Sentry's engine removed (in no place of its
/// output) and that `ours` still has.
fn kept_by_us(input: &BTreeSet<String>, relay_out: &str, ours: &str) -> Vec<String> {
    let (mut relay_words, mut our_words) = (BTreeSet::new(), BTreeSet::new());
    fragments_of(relay_out, &mut relay_words);
    fragments_of(ours, &mut our_words);
    input
        .iter()
        .filter(|f| !relay_words.contains(*f) && our_words.contains(*f))
        .cloned()
        .collect()
}

/// An event scrubbed by the crate, as JSON, without the contexts the crate adds
/// (their names are not data).
fn scrubbed(scrubber: &Scrubber, event: &Event<'static>) -> String {
    let mut event = scrubber.scrub_event(event.clone());
    event.contexts.remove(tracing_scrub::SCRUB_CONTEXT);
    event.contexts.remove(tracing_scrub::PII_CONFIG_CONTEXT);
    // The stub's own words (`[report withheld: it could not be scrubbed]`).
    if event.message.as_deref() == Some(tracing_scrub::UNSCRUBBABLE) {
        event.message = None;
    }
    serde_json::to_string(&event).expect("json")
}

fn scrubber(config: Option<PiiConfig>) -> Scrubber {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("rules");
    match config {
        Some(c) => scrubber.with_pii_config(Arc::new(c)),
        None => scrubber,
    }
}

#[test]
fn what_sentry_removes_the_crate_removes_too() {
    let python = skip_without_relay!();
    let docs = documents();
    let events = events();
    assert!(docs.len() >= 30, "{}", docs.len());
    let inputs: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .collect();
    // Each document meets a rotating third of the events: every event still meets a third
    // of the documents, at a third of the oracle's time (CI's budget).
    let pairs: Vec<(usize, usize)> = (0..docs.len())
        .flat_map(|d| {
            (0..inputs.len())
                .filter(move |e| (e + d) % 3 == 0)
                .map(move |e| (d, e))
        })
        .collect();
    let requests: Vec<Value> = pairs
        .iter()
        .map(|&(d, e)| json!({"op": "strip", "config": docs[d], "event": inputs[e]}))
        .collect();
    let answers = relay(&python, &requests);
    let builtin_only = scrubber(None);
    let fragments: Vec<BTreeSet<String>> = inputs.iter().map(value_fragments).collect();
    let alone: Vec<String> = events.iter().map(|e| scrubbed(&builtin_only, e)).collect();
    let mut misses = Vec::new();
    let (mut removed_by_sentry, mut builtin_alone_misses) = (0usize, 0usize);
    let ours: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(d, doc)| {
            let config = PiiConfig::from_value(doc).unwrap_or_else(|e| panic!("doc {d}: {e}"));
            scrubber(Some(config))
        })
        .collect();
    {
        for (&(d, e), answer) in pairs.iter().zip(&answers) {
            let (doc, event, ours) = (&docs[d], &events[e], &ours[d]);
            let Some(relay_out) = answer["event"].as_str() else {
                panic!("doc {d} event {e}: Sentry's engine failed: {answer}");
            };
            let out = scrubbed(ours, event);
            let mut relay_words = BTreeSet::new();
            fragments_of(relay_out, &mut relay_words);
            removed_by_sentry += fragments[e].difference(&relay_words).count();
            if std::env::var("PII_DEBUG").is_ok_and(|v| v == format!("{d},{e}")) {
                eprintln!("IN {}\nRELAY {relay_out}\nOURS {out}", inputs[e]);
            }
            for fragment in kept_by_us(&fragments[e], relay_out, &out) {
                misses.push(format!("doc {d} {doc} event {e}: {fragment:?} kept"));
            }
            builtin_alone_misses += kept_by_us(&fragments[e], relay_out, &alone[e]).len();
        }
    }
    eprintln!(
        "{} documents, {} events, {} pairs: {removed_by_sentry} fragments removed by Sentry's \
         engine, {} kept by the crate, {builtin_alone_misses} kept by the built-in policy alone",
        docs.len(),
        events.len(),
        pairs.len(),
        misses.len()
    );
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses[..misses.len().min(40)].join("\n")
    );
    // The comparison bites: the built-in policy alone keeps what these rules remove.
    assert!(builtin_alone_misses > 0);
}

/// Documents the crate refuses and Sentry's validator accepts, on purpose (ADR-031).
const DELIBERATE: &[&str] = &[
    // A rule name that is neither defined nor built in (a typo): silently nothing.
    r#"{"applications":{"$string":["@emial"]}}"#,
    r#"{"applications":{"$string":["undefined_rule"]}}"#,
    // Rules that refer to each other in a cycle.
    r#"{"rules":{"a":{"type":"alias","rule":"a"}},"applications":{"$string":["a"]}}"#,
    // A top-level array (read by Sentry's parser as positional fields).
    r#"[]"#,
];

#[test]
fn the_crate_accepts_what_sentrys_validator_accepts() {
    let python = skip_without_relay!();
    let mut docs: Vec<String> = documents().iter().map(Value::to_string).collect();
    docs.extend(
        [
            r#"{}"#,
            r#"{"rules":{}}"#,
            r#"{"foo":1}"#,
            r#"null"#,
            r#"1"#,
            r#""x""#,
            r#"{"rules":[]}"#,
            r#"{"rules":{"r":{}}}"#,
            r#"{"rules":{"r":{"type":"pattern"}}}"#,
            r#"{"rules":{"r":{"type":"pattern","pattern":1}}}"#,
            r#"{"rules":{"r":{"type":"ip","redaction":{"method":"nope"}}}}"#,
            r#"{"rules":{"r":{"type":"ip","redaction":{}}}}"#,
            r#"{"rules":{"r":{"type":"ip","redaction":{"method":"replace","text":1}}}}"#,
            r#"{"rules":{"r":{"type":"ip","redaction":null}}}"#,
            r#"{"rules":{"r":{"type":"multiple"}}}"#,
            r#"{"rules":{"r":{"type":"multiple","rules":"x"}}}"#,
            r#"{"rules":{"r":{"type":"alias"}}}"#,
            r#"{"rules":{"r":{"type":"redact_pair"}}}"#,
            r#"{"rules":{"r":{"type":"redactPair","keyPattern":"x"}}}"#,
            r#"{"rules":{"r":{"type":"redact_pair","key_pattern":"x"}}}"#,
            r#"{"applications":{"a":"@ip"}}"#,
            r#"{"applications":{"a":[1]}}"#,
            r#"{"applications":[]}"#,
            r#"{"applications":null}"#,
            r#"{"rules":null}"#,
            r#"{"vars":null}"#,
            r#"{"vars":{"hashKey":null}}"#,
            r#"{"vars":{"hashKey":1}}"#,
            r#"{"vars":{"other":1}}"#,
            r#"{"rules":{"r":{"type":"pattern","pattern":"a","replaceGroups":"x"}}}"#,
            r#"{"rules":{"r":{"type":"pattern","pattern":"a","replaceGroups":[-1]}}}"#,
            r#"{"rules":{"r":{"type":"multiple","rules":[],"hideInner":true}}}"#,
            r#"{"rules":{"r":{"type":"ip","redaction":{"method":"mask","extra":1}}}}"#,
            r#"{"rules":{"r":{"type":"common"}}}"#,
            r#"{"rules":{"r":{"type":"IP"}}}"#,
            r#"{"applications":{"$nope":["@ip"]}}"#,
            r#"{"applications":{"**.**":["@ip"]}}"#,
            r#"{"applications":{"a..b":["@ip"]}}"#,
            r#"{"applications":{"":["@ip"]}}"#,
            r#"{"applications":{"*":["@ip"]}}"#,
            r#"{"applications":{"!!a":["@ip"]}}"#,
            r#"{"applications":{"a.b && !c":["@ip"]}}"#,
            r#"{"applications":{"(a || b) && c":["@ip"]}}"#,
            r#"{"applications":{"a.'b c'":["@ip"]}}"#,
            r#"{"applications":{"a":[]}}"#,
            r#"{"rules":{"r":{"type":"anything","redaction":{"method":"replace","text":null}}}}"#,
            r#"{"rules":{"r":{"type":"cookies"}}}"#,
            r#"not json"#,
        ]
        .map(str::to_owned),
    );
    docs.extend(DELIBERATE.iter().map(|d| (*d).to_owned()));
    let requests: Vec<Value> = docs
        .iter()
        .map(|d| json!({"op": "validate", "config": d}))
        .collect();
    let answers = relay(&python, &requests);
    let mut differ = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (doc, answer) in docs.iter().zip(&answers) {
        let sentry = answer["ok"] == json!(true);
        let ours = PiiConfig::from_json(doc);
        if sentry {
            accepted += 1;
        } else {
            refused += 1;
        }
        if sentry != ours.is_ok() {
            differ.push(doc.as_str());
        }
    }
    eprintln!(
        "{} documents: Sentry accepts {accepted}, refuses {refused}; the crate differs on {}",
        docs.len(),
        differ.len()
    );
    assert_eq!(differ, DELIBERATE, "documents judged differently");
}

#[test]
fn random_selectors_are_accepted_or_refused_alike() {
    let python = skip_without_relay!();
    let mut rng = fastrand::Rng::with_seed(31);
    let atoms = [
        "a",
        "extra",
        "foo",
        "x-api-key",
        "0",
        "'q k'",
        "'it''s'",
        "*",
        "**",
        "$string",
        "$frame",
        "$http",
        "$nope",
        "$error",
        "''",
        "-a",
        "a_b",
    ];
    let mut selectors = Vec::new();
    for _ in 0..600 {
        let mut s = String::new();
        for _ in 0..rng.usize(1..5) {
            match rng.usize(..9) {
                0 => s.push_str(" && "),
                1 => s.push_str(" || "),
                2 => s.push('!'),
                3 => s.push('('),
                4 => s.push(')'),
                5 | 6 => s.push('.'),
                _ => {}
            }
            s.push_str(atoms[rng.usize(..atoms.len())]);
        }
        selectors.push(s);
    }
    let requests: Vec<Value> = selectors
        .iter()
        .map(|s| json!({"op": "selector", "selector": s}))
        .collect();
    let answers = relay(&python, &requests);
    let doc = |s: &str| json!({"applications": { s: ["@ip"] }});
    let mut differ = Vec::new();
    let mut accepted = 0;
    for (s, answer) in selectors.iter().zip(&answers) {
        let sentry = answer["ok"] == json!(true);
        accepted += usize::from(sentry);
        if sentry != PiiConfig::from_value(&doc(s)).is_ok() {
            differ.push(s.as_str());
        }
    }
    eprintln!(
        "{} random selectors, {accepted} accepted by Sentry",
        selectors.len()
    );
    assert!(differ.is_empty(), "judged differently: {differ:?}");
}

#[test]
fn legacy_settings_remove_what_sentrys_conversion_removes() {
    let python = skip_without_relay!();
    let settings = [
        json!({"scrubData": true, "scrubDefaults": true, "sensitiveFields": [], "excludeFields": [], "scrubIpAddresses": false}),
        json!({"scrubData": true, "scrubDefaults": false, "sensitiveFields": ["notes", "Order"], "excludeFields": ["safe"], "scrubIpAddresses": true}),
        json!({"scrubData": false, "scrubDefaults": true, "sensitiveFields": ["notes"], "excludeFields": [], "scrubIpAddresses": true}),
        json!({"scrubData": true, "scrubDefaults": true, "sensitiveFields": ["id"], "excludeFields": ["safe", "extra.notes"], "scrubIpAddresses": true}),
    ];
    let converted = relay(
        &python,
        &settings
            .iter()
            .map(|s| json!({"op": "convert", "settings": s}))
            .collect::<Vec<_>>(),
    );
    let events = events();
    let inputs: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .collect();
    let mut requests = Vec::new();
    for c in &converted {
        for input in &inputs {
            requests.push(json!({"op": "strip", "config": c["config"], "event": input}));
        }
    }
    let answers = relay(&python, &requests);
    let mut misses = Vec::new();
    for (s, setting) in settings.iter().enumerate() {
        let ours = scrubber(Some(PiiConfig::from_datascrubbing_settings(
            &DataScrubbingSettings::from_json_value(setting),
        )));
        for (e, event) in events.iter().enumerate() {
            let relay_out = answers[s * events.len() + e]["event"]
                .as_str()
                .expect("stripped");
            let out = scrubbed(&ours, event);
            for fragment in kept_by_us(&value_fragments(&inputs[e]), relay_out, &out) {
                misses.push(format!("settings {setting} event {e}: {fragment:?} kept"));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses[..misses.len().min(40)].join("\n")
    );
}

/// A dry run over the corpus events: counts per rule, and the events are what the
/// built-in policy alone makes of them.
#[test]
fn a_dry_run_counts_per_rule_and_changes_nothing() {
    let events = events();
    let doc = json!({"rules": {"ids": {"type": "pattern", "pattern": "[0-9]{5,}"}},
                     "applications": {"$string": ["@common", "ids"], "$http.headers.*": ["@anything"]}});
    let dry = Arc::new(PiiConfig::from_value(&doc).expect("valid").dry_run(true));
    let ours = Scrubber::new(&ScrubRules::default())
        .expect("rules")
        .with_pii_config(dry.clone());
    let alone = scrubber(None);
    let mut with_context = 0;
    for event in &events {
        let report = ours.scrub_event(event.clone());
        with_context += usize::from(
            report
                .contexts
                .contains_key(tracing_scrub::PII_CONFIG_CONTEXT),
        );
        assert_eq!(scrubbed(&ours, event), scrubbed(&alone, event));
    }
    let matches = dry.matches();
    eprintln!(
        "dry run over {} events: {matches:?}, {with_context} reports with the context",
        events.len()
    );
    assert!(
        matches.get("@common").is_some_and(|n| *n > 0),
        "{matches:?}"
    );
    assert!(matches.get("ids").is_some_and(|n| *n > 0), "{matches:?}");
    assert!(with_context > 0);
}

/// Where a marker can sit in an event: the path of keys (`{k}` a random key) and how
/// the value is put there.
const SHAPES: &[&str] = &[
    "extra.{k}",
    "extra.{k}.{k}",
    "extra.{k}.0",
    "extra.{k}=num",
    "contexts.state.{k}",
    "exception.values.0.value",
    "exception.values.0.stacktrace.frames.0.vars.{k}",
    "exception.values.0.stacktrace.frames.0.vars.{k}.{k}",
    "exception.values.0.stacktrace.frames.0.vars.{k}=num",
    "request.headers.{h}",
    "request.env.{k}",
    "request.data.{k}",
    "request.query_string.{q}",
    "request.cookies.{q}",
    "user.username",
    "breadcrumbs.values.0.message",
    "breadcrumbs.values.0.data.{k}",
    "message",
    "threads.values.0.name",
    "tags.{q}",
];
const KEYS: &[&str] = &[
    "foo", "password", "odd key", "it's", "Secret", "n0", "token",
];
const HEADERS: &[&str] = &["Authorization", "X-Api-Key", "User-Agent"];
const QUERY_KEYS: &[&str] = &["foo", "token", "n0"];
const TYPES: &[&str] = &[
    "$string",
    "$number",
    "$object",
    "$array",
    "$frame",
    "$http",
    "$request",
    "$exception",
    "$error",
    "$user",
    "$breadcrumb",
    "$logentry",
    "$message",
    "$stacktrace",
    "$thread",
    "$event",
    "$boolean",
];

/// A selector item for a path key: quoted when it is not a plain key.
fn item(key: &str) -> String {
    if key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_owned()
    } else {
        format!("'{}'", key.replace('\'', "''"))
    }
}

/// Puts `marker` at `path` (keys) of `event`, in the form Sentry's JSON has there.
fn put_marker(event: &mut Value, path: &[String], marker: &str, number: Option<u64>) {
    let value = number.map_or_else(|| json!(marker), |n| json!(n));
    match path[0].as_str() {
        "message" => event["message"] = json!(format!("failed {marker}")),
        "tags" => {
            event["tags"][&path[1]] = value;
        }
        "request" if matches!(path[1].as_str(), "query_string" | "cookies" | "data") => {
            let (key, field) = (&path[2], &path[1]);
            event["request"][field.as_str()] = match field.as_str() {
                "query_string" => json!(format!("{key}={marker}&page=2")),
                "cookies" => json!(format!("{key}={marker}; theme=dark")),
                _ => json!(json!({ key.as_str(): marker }).to_string()),
            };
        }
        _ => {
            let mut at = &mut *event;
            for (i, key) in path.iter().enumerate() {
                let last = i + 1 == path.len();
                if let Ok(index) = key.parse::<usize>() {
                    if !at.is_array() {
                        *at = json!([]);
                    }
                    let items = at.as_array_mut().expect("array");
                    while items.len() <= index {
                        items.push(json!({}));
                    }
                    at = &mut items[index];
                } else {
                    if !at.is_object() {
                        *at = json!({});
                    }
                    at = at
                        .as_object_mut()
                        .expect("object")
                        .entry(key.clone())
                        .or_insert(json!({}));
                }
                if last {
                    *at = value.clone();
                }
            }
        }
    }
}

/// A random selector over the items these shapes' paths have: a suffix of a real path
/// with some items made `*`, `**` or a `$type`, or random items; combined with `&&`,
/// `||`, `!` and parentheses.
fn random_selector(rng: &mut fastrand::Rng, paths: &[Vec<String>]) -> String {
    let path_selector = |rng: &mut fastrand::Rng| -> String {
        let mut items: Vec<String> = if rng.u8(..10) < 7 {
            let path = &paths[rng.usize(..paths.len())];
            let len = rng.usize(1..=path.len().min(3));
            path[path.len() - len..]
                .iter()
                .map(|k| match rng.u8(..10) {
                    0 => "*".to_owned(),
                    1 => TYPES[rng.usize(..TYPES.len())].to_owned(),
                    _ => item(k),
                })
                .collect()
        } else {
            (0..rng.usize(1..3))
                .map(|_| match rng.u8(..4) {
                    0 => TYPES[rng.usize(..TYPES.len())].to_owned(),
                    1 => item(KEYS[rng.usize(..KEYS.len())]),
                    2 => "*".to_owned(),
                    _ => item(
                        SHAPES[rng.usize(..SHAPES.len())]
                            .split('.')
                            .next()
                            .unwrap_or("extra"),
                    ),
                })
                .collect()
        };
        match rng.u8(..10) {
            0 | 1 => items.insert(0, "**".to_owned()),
            2 => items.push("**".to_owned()),
            _ => {}
        }
        if items == ["*"] {
            items = vec!["**".to_owned()];
        }
        items.join(".")
    };
    let mut out = path_selector(rng);
    for _ in 0..rng.usize(..3) {
        let next = path_selector(rng);
        let next = if rng.bool() { format!("!{next}") } else { next };
        out = match rng.u8(..4) {
            0 => format!("({out}) && {next}"),
            1 => format!("{out} && {next}"),
            2 => format!("({out}) || {next}"),
            _ => format!("{out} || {next}"),
        };
    }
    if rng.u8(..8) == 0 {
        out = format!("!({out})");
    }
    out
}

/// Property test of the selector matcher against Sentry's engine: events with markers
/// at random paths (of the event's shapes), random selectors of every form, a rule
/// removing anything the selector selects, in both engines (the crate's PiiConfig
/// alone, no built-in policy). Every marker Sentry's engine removes, the crate removes.
#[test]
fn random_selectors_remove_what_sentrys_matcher_removes() {
    let python = skip_without_relay!();
    // `PII_SEED`, `PII_CASES`: other and more cases, to explore.
    let env = |name, default| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = fastrand::Rng::with_seed(env("PII_SEED", 2929));
    let wanted = usize::try_from(env("PII_CASES", 400)).unwrap_or(400);
    let mut cases = Vec::new();
    while cases.len() < wanted {
        let mut event = base_event();
        let mut paths = Vec::new();
        let mut markers = Vec::new();
        for i in 0..rng.usize(3..7) {
            let shape = SHAPES[rng.usize(..SHAPES.len())];
            let (shape, number) = match shape.strip_suffix("=num") {
                Some(s) => (s, Some(rng.u64(10_000_000..99_999_999))),
                None => (shape, None),
            };
            let path: Vec<String> = shape
                .split('.')
                .map(|k| match k {
                    "{k}" => KEYS[rng.usize(..KEYS.len())].to_owned(),
                    "{h}" => HEADERS[rng.usize(..HEADERS.len())].to_owned(),
                    "{q}" => QUERY_KEYS[rng.usize(..QUERY_KEYS.len())].to_owned(),
                    other => other.to_owned(),
                })
                .collect();
            let marker = format!("mk{}x{i}q", cases.len());
            put_marker(&mut event, &path, &marker, number);
            markers.push(number.map_or(marker, |n| n.to_string()));
            paths.push(path);
        }
        let selector = random_selector(&mut rng, &paths);
        let doc = json!({"applications": { selector.as_str(): ["@anything:remove"] }});
        let Ok(config) = PiiConfig::from_value(&doc) else {
            continue;
        };
        // Through the crate's event type, as reports are (markers a later one
        // overwrote are not in it).
        let Ok(typed) = serde_json::from_value::<Event<'static>>(event) else {
            continue;
        };
        let input = serde_json::to_value(&typed).expect("json");
        let text = input.to_string();
        markers.retain(|m| text.contains(m.as_str()));
        cases.push((selector, doc, config, input, markers));
    }
    let requests: Vec<Value> = cases
        .iter()
        .map(|(_, doc, _, input, _)| json!({"op": "strip", "config": doc, "event": input}))
        .collect();
    let answers = relay(&python, &requests);
    let (mut markers_total, mut by_sentry, mut by_us, mut agree_markers) = (0, 0, 0, 0);
    let mut agree_cases = 0;
    let mut misses = Vec::new();
    let mut extra_examples = Vec::new();
    for ((selector, _, config, input, markers), answer) in cases.iter().zip(&answers) {
        let Some(relay_out) = answer["event"].as_str() else {
            panic!("{selector}: Sentry's engine failed: {answer}");
        };
        let mut ours = input.clone();
        config.apply_to_json(&mut ours);
        let ours = ours.to_string();
        let mut same = true;
        for marker in markers {
            let sentry_removed = !relay_out.contains(marker.as_str());
            let we_removed = !ours.contains(marker.as_str());
            markers_total += 1;
            by_sentry += usize::from(sentry_removed);
            by_us += usize::from(we_removed);
            agree_markers += usize::from(sentry_removed == we_removed);
            same &= sentry_removed == we_removed;
            if sentry_removed && !we_removed {
                misses.push(format!("{selector:?}: {marker} kept; input {input}"));
            } else if we_removed && !sentry_removed && extra_examples.len() < 12 {
                let at = input.to_string();
                let at = at
                    .find(marker.as_str())
                    .map_or("", |i| &at[i.saturating_sub(60)..i]);
                extra_examples.push(format!("{selector:?}: …{at}{marker}"));
            }
        }
        agree_cases += usize::from(same);
    }
    eprintln!(
        "selector matcher: {} cases, {markers_total} markers; Sentry's engine removed \
         {by_sentry}, the crate {by_us}; {agree_markers} markers and {agree_cases} cases \
         alike; {} removed by Sentry and kept by the crate",
        cases.len(),
        misses.len()
    );
    if std::env::var_os("PII_DEBUG").is_some() {
        eprintln!(
            "removed by the crate only, e.g.:\n{}",
            extra_examples.join("\n")
        );
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses[..misses.len().min(20)].join("\n")
    );
    assert!(
        by_sentry > markers_total / 10,
        "the selectors select something"
    );
}
