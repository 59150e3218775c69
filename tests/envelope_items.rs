//! Every kind of envelope item a service can send through the client bound to the main
//! hub (`Client::send_envelope`: cron monitor check-ins, structured logs, metrics,
//! session updates, attachments) is scrubbed at the transport like events are; an item
//! that cannot be inspected is refused, counted in `stats()` and never sent.
//! (Own test binary: the main hub is process-wide.)

mod common;

use std::time::SystemTime;

use common::{harness, WAIT};
use sentry::protocol::{
    Attachment, EnvelopeItem, ItemContainer, Log, LogAttribute, LogLevel, Map, Metric, MetricType,
    MonitorCheckIn, MonitorCheckInStatus, MonitorConfig, MonitorSchedule, SessionAttributes,
    SessionStatus, SessionUpdate, TraceId,
};
use sentry::Envelope;

/// Planted in every text an item can carry.
const SECRETS: &[&str] = &[
    "hunter2xq",
    "bob@example.com",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "4111 1111 1111 1111",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
];

fn check_in() -> MonitorCheckIn {
    MonitorCheckIn {
        check_in_id: sentry::types::Uuid::new_v4(),
        monitor_slug: "nightly password=hunter2xq bob@example.com".into(),
        status: MonitorCheckInStatus::Ok,
        environment: Some("production".into()),
        duration: Some(1.5),
        monitor_config: Some(MonitorConfig {
            schedule: MonitorSchedule::Crontab {
                value: "0 3 * * *".into(),
            },
            checkin_margin: None,
            max_runtime: None,
            timezone: Some("Europe/Berlin".into()),
            failure_issue_threshold: None,
            recovery_threshold: None,
        }),
    }
}

fn log() -> Log {
    let mut attributes = Map::new();
    attributes.insert(
        "api_key".to_owned(),
        LogAttribute::from("sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    );
    attributes.insert(
        "detail".to_owned(),
        LogAttribute::from("charged card 4111 1111 1111 1111"),
    );
    attributes.insert(
        "order_id".to_owned(),
        LogAttribute::from(4111111111111111u64),
    );
    attributes.insert("route".to_owned(), LogAttribute::from("/checkout"));
    Log {
        level: LogLevel::Warn,
        body: "login for bob@example.com with token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
            .into(),
        trace_id: Some(TraceId::default()),
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes,
    }
}

fn metric() -> Metric {
    let mut attributes = Map::new();
    attributes.insert("password".into(), LogAttribute::from("hunter2xq"));
    attributes.insert("region".into(), LogAttribute::from("eu-west-1"));
    Metric {
        r#type: MetricType::Counter,
        name: "checkout.retries".into(),
        value: 1.0,
        timestamp: SystemTime::now(),
        trace_id: TraceId::default(),
        span_id: None,
        unit: None,
        attributes,
    }
}

fn session() -> SessionUpdate<'static> {
    SessionUpdate {
        session_id: sentry::types::Uuid::new_v4(),
        distinct_id: Some("bob@example.com".into()),
        sequence: None,
        timestamp: None,
        started: SystemTime::now(),
        init: true,
        duration: None,
        status: SessionStatus::Ok,
        errors: 0,
        attributes: SessionAttributes {
            release: "tests@1.0.0".into(),
            environment: Some("test".into()),
            ip_address: None,
            user_agent: Some("curl/8.0 (token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB)".into()),
        },
    }
}

#[test]
fn check_ins_logs_metrics_sessions_and_attachments_are_scrubbed_binary_ones_refused_and_counted() {
    let h = harness(|b| b.bind_main_hub(true));
    let client = sentry::Hub::main()
        .client()
        .expect("the crate's client is bound");

    let mut check_ins = Envelope::new();
    check_ins.add_item(check_in());
    client.send_envelope(check_ins);
    let mut logs = Envelope::new();
    logs.add_item(EnvelopeItem::ItemContainer(ItemContainer::Logs(
        vec![log()],
    )));
    client.send_envelope(logs);
    let mut metrics = Envelope::new();
    metrics.add_item(EnvelopeItem::ItemContainer(ItemContainer::Metrics(vec![
        metric(),
    ])));
    client.send_envelope(metrics);
    let mut sessions = Envelope::new();
    sessions.add_item(session());
    client.send_envelope(sessions);
    let mut attachments = Envelope::new();
    attachments.add_item(Attachment {
        buffer: b"DATABASE_URL=postgres://app:hunter2xq@db/app\n".to_vec(),
        filename: "export for bob@example.com".into(),
        content_type: Some("text/plain".into()),
        ty: None,
    });
    // Not UTF-8: cannot be inspected, so refused.
    attachments.add_item(Attachment {
        buffer: vec![
            0xff, 0xfe, b'h', b'u', b'n', b't', b'e', b'r', b'2', b'x', b'q',
        ],
        filename: "core.bin".into(),
        content_type: Some("application/octet-stream".into()),
        ty: None,
    });
    client.send_envelope(attachments);

    let received = h.receiver.wait_for(5, WAIT);
    assert!(h.guard.flush(WAIT));
    assert_eq!(received.len(), 5, "{received:?}");
    let wire = String::from_utf8_lossy(&h.receiver.wire_bytes()).into_owned();
    let leaked: Vec<&str> = SECRETS
        .iter()
        .copied()
        .filter(|s| wire.contains(s))
        .collect();
    println!(
        "envelope items: {} requests, {} planted secrets, {} on the wire",
        received.len(),
        SECRETS.len(),
        leaked.len()
    );
    assert!(leaked.is_empty(), "leaked {leaked:?}:\n{wire}");

    let items: Vec<EnvelopeItem> = received
        .iter()
        .filter_map(|r| r.envelope.as_ref().ok())
        .flat_map(|e| e.items().cloned().collect::<Vec<_>>())
        .collect();
    let check_in = items
        .iter()
        .find_map(|i| match i {
            EnvelopeItem::MonitorCheckIn(c) => Some(c.clone()),
            _ => None,
        })
        .expect("the check-in is sent");
    assert_eq!(check_in.monitor_slug, "nightly password=[Filtered]");
    assert_eq!(check_in.status, MonitorCheckInStatus::Ok);
    assert_eq!(check_in.environment.as_deref(), Some("production"));
    let config = check_in.monitor_config.expect("monitor config kept");
    assert_eq!(config.timezone.as_deref(), Some("Europe/Berlin"));
    assert!(
        matches!(config.schedule, MonitorSchedule::Crontab { ref value } if value == "0 3 * * *")
    );

    let log = items
        .iter()
        .find_map(|i| match i {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => logs.first().cloned(),
            _ => None,
        })
        .expect("the log is sent");
    assert_eq!(log.body, "login for [Filtered] with token [Filtered]");
    let attr = |name: &str| log.attributes.get(name).map(|a| a.0.clone());
    assert_eq!(attr("api_key"), Some("[Filtered]".into()));
    assert_eq!(attr("detail"), Some("charged card [Filtered]".into()));
    // The same id rule as a report's fields: digits under an id key are an id.
    assert_eq!(attr("order_id"), Some(4111111111111111u64.into()));
    assert_eq!(attr("route"), Some("/checkout".into()));

    let metric = items
        .iter()
        .find_map(|i| match i {
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(m)) => m.first().cloned(),
            _ => None,
        })
        .expect("the metric is sent");
    assert_eq!(metric.name, "checkout.retries");
    assert_eq!(
        metric.attributes.get("password").map(|a| a.0.clone()),
        Some("[Filtered]".into())
    );
    assert_eq!(
        metric.attributes.get("region").map(|a| a.0.clone()),
        Some("eu-west-1".into())
    );

    let session = items
        .iter()
        .find_map(|i| match i {
            EnvelopeItem::SessionUpdate(s) => Some(s.clone()),
            _ => None,
        })
        .expect("the session update is sent");
    assert_eq!(session.distinct_id.as_deref(), Some("[Filtered]"));
    assert_eq!(
        session.attributes.user_agent.as_deref(),
        Some("curl/8.0 (token=[Filtered])")
    );

    let attachments: Vec<&Attachment> = items
        .iter()
        .filter_map(|i| match i {
            EnvelopeItem::Attachment(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(attachments.len(), 1, "the binary attachment is refused");
    assert_eq!(attachments[0].filename, "export for [Filtered]");
    assert_eq!(
        String::from_utf8_lossy(&attachments[0].buffer),
        "DATABASE_URL=postgres://[Filtered]:[Filtered]@db/app\n"
    );

    let stats = h.guard.stats();
    assert_eq!(stats.refused_unscrubbable, 1, "{stats:?}");
    // Not error reports: none of the delivery counts moves.
    assert_eq!(stats.pending(), 0, "{stats:?}");
}
