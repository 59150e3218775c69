//! Tag values are scrubbed as written, then normalised: a `tags.*` field holding a
//! multi-line transcript (SMTP `AUTH LOGIN`, IMAP `LOGIN`, FTP/POP3 `PASS`, YAML, an env
//! file) reaches the scrubber with its line breaks, so the detectors that read lines see
//! them; Sentry still gets a value without newlines. Cases from the attacker's
//! `multiline_tags` and held-out variants.

mod common;

use std::time::Duration;

use common::{harness, WAIT};
use tracing_subscriber::prelude::*;

const CASES: &[(&str, &str, &str)] = &[
    ("ftp", "USER backup\nPASS Ftp!9secret", "Ftp!9secret"),
    ("pop3", "USER bob\r\nPASS pop3Pw!77", "pop3Pw!77"),
    ("smtp", "AUTH LOGIN\r\n334 UGFzc3dvcmQ6\r\nWnE3IXdQM3J0OQ==", "WnE3IXdQM3J0OQ=="),
    (
        "smtp_full",
        "C: AUTH LOGIN\r\nS: 334 VXNlcm5hbWU6\r\nC: Ym9iQGV4YW1wbGUuY29t\r\nS: 334 UGFzc3dvcmQ6\r\nC: SzlwIU1haWwyMDI0\r\nS: 235 ok",
        "SzlwIU1haWwyMDI0",
    ),
    ("imap", "a1 LOGIN alice \"Tr0ub4dor&3x\"\r\na1 NO", "Tr0ub4dor&3x"),
    ("imap_tag", "* OK ready\r\na001 LOGIN carol \"Imap!Pw2024\"\r\na001 OK", "Imap!Pw2024"),
    ("yaml", "db:\n  user: app\n  password: Yml!pw55", "Yml!pw55"),
    ("env", "A=1\nDB_PASS=EnvPw!42\nB=2", "EnvPw!42"),
    ("prompt", "Enter passphrase for key /home/x/.ssh/id_ed25519:\nKey!Pass77", "Key!Pass77"),
];

#[test]
fn multiline_tag_values_are_scrubbed_before_normalising() {
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        for (name, value, _) in CASES {
            let _span = tracing::info_span!("request", tenant_id = "acme").entered();
            tracing::error!(tags.proto = *value, case = *name, "tagged");
        }
    });
    let _ = h.guard.flush(Duration::from_secs(5));
    let events = receiver.wait_for_events(CASES.len(), WAIT);
    assert_eq!(events.len(), CASES.len());
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    drop(h.guard);
    let mut leaked = Vec::new();
    for (name, _, secret) in CASES {
        let json = serde_json::to_string(secret).unwrap();
        if wire.contains(secret) || wire.contains(&json[1..json.len() - 1]) {
            leaked.push(*name);
        }
    }
    println!(
        "multi-line tags: {} of {} leaked {leaked:?}",
        leaked.len(),
        CASES.len()
    );
    for e in &events {
        let tag = e.tags.get("proto").expect("the tag is kept");
        assert!(!tag.contains(['\n', '\r']), "normalised: {tag:?}");
    }
    assert!(leaked.is_empty(), "leaked: {leaked:?}");
}
