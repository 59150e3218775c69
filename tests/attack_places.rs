//! Attack, family 1 (places): secrets and personal data in identity fields, incoming
//! baggage, tags (normalised), transaction names and span ops, error types, targets.

mod common;

use std::time::Duration;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

fn wire(receiver: &tracing_error_reports::testing::SentryReceiver) -> String {
    String::from_utf8_lossy(&receiver.wire_bytes()).into_owned()
}

fn report(what: &str, wire: &str, secrets: &[&str]) -> Vec<String> {
    let mut leaks = Vec::new();
    for s in secrets {
        let json = serde_json::to_string(s).unwrap();
        let json = &json[1..json.len() - 1];
        let pct = s.replace('@', "%40").replace(' ', "%20").replace('/', "%2F");
        if wire.contains(s) || wire.contains(json) || wire.contains(&pct) {
            // show context
            let at = wire.find(s).or_else(|| wire.find(json)).or_else(|| wire.find(&pct)).unwrap();
            let lo = wire[..at].char_indices().rev().nth(80).map(|(i, _)| i).unwrap_or(0);
            let hi = (at + s.len() + 40).min(wire.len());
            let hi = (hi..wire.len()).find(|i| wire.is_char_boundary(*i)).unwrap_or(wire.len());
            println!("LEAK {what}: {s:?} in ...{}...", &wire[lo..hi]);
            leaks.push(s.to_string());
        }
    }
    leaks
}

/// The user id is an email or a phone number (many services key users by email).
#[test]
fn identity_fields_with_personal_data() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        for (t, u) in [("acme", "maria.lopez@example.com"), ("globex", "+44 7700 900461"), ("initech", "ＭＡＲＩＡ＠ｅｘａｍｐｌｅ．ｃｏｍ")] {
            let span = tracing::info_span!("request", otel.kind = "server", tenant_id = t, user_id = u);
            let _e = span.enter();
            tracing::info!("step");
            tracing::error!("failed");
        }
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    receiver.wait_for_events(3, WAIT);
    let w = wire(&receiver);
    let l = report("user_id", &w, &["maria.lopez@example.com", "7700 900461", "ＭＡＲＩＡ"]);
    println!("identity: {} leaks", l.len());
    drop(h.guard);
    assert!(l.is_empty());
}

/// An incoming baggage header (any caller can send one) with secrets in sentry-* entries.
#[test]
fn incoming_baggage_with_secrets() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!(
            "request",
            otel.kind = "server",
            tenant_id = "acme",
            sentry.trace = "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
            baggage = "sentry-trace_id=0af7651916cd43dd8448eb211c80319c,sentry-public_key=k,sentry-sampled=true,\
                       sentry-transaction=GET%20%2Freset%2Fpassword%3Ftoken%3DRst7Qm2XvLp9KwZ4nB8c,\
                       sentry-user_id=jane.roe%40example.org,sentry-release=web%401.0,\
                       sentry-custom=password%3DBg9!secretpw"
        );
        let _e = span.enter();
        tracing::error!("failed");
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    receiver.wait_for_events(1, WAIT);
    let w = wire(&receiver);
    let l = report("baggage", &w, &["Rst7Qm2XvLp9KwZ4nB8c", "jane.roe", "Bg9!secretpw", "Bg9%21secretpw", "Bg9!"]);
    drop(h.guard);
    println!("baggage: {} leaks", l.len());
    assert!(l.is_empty());
}

/// Tags are normalised (newlines) before they are scrubbed: transcript-shaped values.
#[test]
fn multiline_tags() {
    let cases: &[(&str, &str)] = &[
        ("ftp", "USER backup\nPASS Ftp!9secret"),
        ("pop3", "USER bob\r\nPASS pop3Pw!77"),
        ("smtp", "AUTH LOGIN\r\n334 UGFzc3dvcmQ6\r\nWnE3IXdQM3J0OQ=="),
        ("imap", "a1 LOGIN alice \"Tr0ub4dor&3x\"\r\na1 NO"),
        ("yaml", "db:\n  user: app\n  password: Yml!pw55"),
        ("http", "POST /login HTTP/1.1\r\nCookie: a=1\r\n\r\nusername=bob&password=Form!Pw9"),
        ("env", "A=1\nDB_PASS=EnvPw!42\nB=2"),
    ];
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        for (name, v) in cases {
            let span = tracing::info_span!("request", tenant_id = "acme");
            let _e = span.enter();
            tracing::error!(tags.proto = *v, case = *name, "tagged");
        }
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(cases.len(), WAIT);
    for e in &events {
        println!("tag proto = {:?}", e.tags.get("proto"));
    }
    let w = wire(&receiver);
    let l = report("tags", &w, &["Ftp!9secret", "pop3Pw!77", "WnE3IXdQM3J0OQ==", "Tr0ub4dor&3x", "Yml!pw55", "Form!Pw9", "EnvPw!42"]);
    drop(h.guard);
    println!("multiline tags: {} of {} leak", l.len(), cases.len());
    assert!(l.is_empty());
}

/// Transaction names, span names/ops/descriptions from real handler shapes.
#[test]
fn transaction_names_and_ops() {
    let h = harness(|b| b.traces_sample_rate(1.0));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!(
            "request",
            otel.kind = "server",
            tenant_id = "acme",
            otel.name = "GET /invite/accept/kQ7vZ2mXp9LwR4tY8nB3cD6f",
        );
        let _e = span.enter();
        {
            let _c = tracing::info_span!("db", sentry.op = "db.query", sentry.name = "SELECT * FROM users WHERE email = 'li.wei@example.cn' AND pw = 'Db!Pw7788'").entered();
        }
        {
            let _c = tracing::info_span!("http.client", otel.name = "GET https://api.partner.io/v1/x?apikey=Pk9vQ2mXz7LwR4tY").entered();
        }
        tracing::error!("failed");
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    receiver.wait_for_events(1, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let w = wire(&receiver);
    println!("transactions: {:?}", receiver.transactions().iter().map(|t| t.name.clone()).collect::<Vec<_>>());
    let l = report("tx", &w, &["kQ7vZ2mXp9LwR4tY8nB3cD6f", "li.wei@example.cn", "Db!Pw7788", "Pk9vQ2mXz7LwR4tY"]);
    drop(h.guard);
    assert!(l.is_empty());
}

#[derive(Debug)]
struct TokenRejected;
impl std::fmt::Display for TokenRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("token rejected")
    }
}
impl std::error::Error for TokenRejected {}

/// anyhow chain with a secret in a middle context and in the root cause, logged `?e`.
#[test]
fn anyhow_chain() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        let span = tracing::info_span!("request", tenant_id = "acme");
        let _e = span.enter();
        let e = anyhow::Error::new(TokenRejected)
            .context("calling https://hooks.example.com/services/T0A1B2C3D/B4E5F6G7H/xK9mQ2vR7tW4zL8pN3bY6cJ1")
            .context("notify ops: smtp login ops-bot / Sm!tpPw2024 refused");
        tracing::error!(error = ?e, "notify failed");
        let e2 = anyhow::anyhow!("user 4532 0174 8392 0172 charge failed");
        tracing::error!(err = %e2);
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    receiver.wait_for_events(2, WAIT);
    let w = wire(&receiver);
    let l = report("anyhow", &w, &["xK9mQ2vR7tW4zL8pN3bY6cJ1", "Sm!tpPw2024", "4532 0174 8392 0172"]);
    drop(h.guard);
    assert!(l.is_empty());
}
