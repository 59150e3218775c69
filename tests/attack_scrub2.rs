//! Attack, family 1, second batch: files and CLIs services log, key names of personal data,
//! more shapes of cards/phones/emails; and benign operational text.

mod common;

use common::{harness, WAIT};
use tracing_error_reports::scrub::{ScrubReport, ScrubRules, Scrubber};
use tracing_subscriber::prelude::*;

const SECRETS: &[(&str, &str, &[&str])] = &[
    ("netrc_line", "read ~/.netrc: machine api.heroku.com login ops@acme.io password N3trc!pw77", &["N3trc!pw77"]),
    ("pgpass_line", "using pgpass entry db.internal:5432:orders:app:Pgp4ss!x7", &["Pgp4ss!x7"]),
    ("bcrypt_hash", "user row: {id: 7, pw_hash: \"$2b$12$KIXQJrKQ8zF3vVqW1Yc9/.uT6mZc0e5pHbN2dR4sL7yQ1aB3cD5eO\"}", &["KIXQJrKQ8zF3vVqW1Yc9/.uT6mZc0e5pHbN2dR4sL7yQ1aB3cD5eO"]),
    ("sqlcmd_capital_p", "exec: sqlcmd -S sql01 -U sa -P 'Sq1!Pw#44' -Q \"select 1\"", &["Sq1!Pw#44"]),
    ("sshpass", "running sshpass -p 'Ss!hPw12' ssh deploy@10.2.3.4 uptime", &["Ss!hPw12"]),
    ("net_use", "net use \\\\fs01\\share /user:ACME\\svc_backup Nt!Share9 failed: 1326", &["Nt!Share9"]),
    ("gcs_signed_url", "download https://storage.googleapis.com/b/o.pdf?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40proj.iam.gserviceaccount.com%2F20240301%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Signature=5f2a9c0e71b8d3a4f6e2c1b0a9d8e7f6c5b4a3928170f6e5d4c3b2a1908f7e6d", &["5f2a9c0e71b8d3a4f6e2c1b0a9d8e7f6c5b4a3928170f6e5d4c3b2a1908f7e6d"]),
    ("first_cookie_only", "Cookie: sid=s%3AQm9vL2x5Z2Zx.Y2xhcmlmeWluZ3NpZw; theme=dark", &["Qm9vL2x5Z2Zx"]),
    ("set_cookie_debug", "response headers {\"set-cookie\": \"__Host-session=Zk2mQ8vXp3LwR7tY; Path=/; Secure\"}", &["Zk2mQ8vXp3LwR7tY"]),
    ("k8s_secret_yaml", "applied manifest:\napiVersion: v1\nkind: Secret\ndata:\n  DB_PASSWORD: UzNjcjN0UGFzcyE=\n  API_TOKEN: dG9rLTEyMzQ1Njc4OTA=", &["UzNjcjN0UGFzcyE=", "dG9rLTEyMzQ1Njc4OTA="]),
    ("pagerduty_key", "pagerduty escalation call with Token token=u+Zx8Kp3QmV7tR2wYn9L", &["u+Zx8Kp3QmV7tR2wYn9L"]),
    ("json_mobile_key", "{\"name\":\"Ana\",\"mobile\":\"+351912345678\"}", &["912345678"]),
    ("json_contact_number", "{\"contact_number\": \"0412 345 678\"}", &["345 678"]),
    ("dob_key", "kyc check dob=1984-07-23 result=review", &["1984-07-23"]),
    ("email_brackets", "forward to bob.smith[at]example[dot]com", &["bob.smith"]),
    ("email_in_path", "GET /api/users/anna.k%40firma.de/preferences 404", &["anna.k"]),
    ("ipv6_client", "rate limited client 2a02:8108:1540:3e80::5c1 on /login", &["2a02:8108:1540:3e80::5c1"]),
    ("ipv4_mapped", "peer ::ffff:81.2.69.142 reset the connection", &["81.2.69.142"]),
    ("xff_chain", "X-Forwarded-For: 81.2.69.160, 10.0.0.1", &["81.2.69.160"]),
    ("imei", "device IMEI 356938035643809 blocked", &["356938035643809"]),
    ("card_dots", "card 4532.0174.8392.0172 declined", &["4532.0174.8392.0172"]),
    ("card_spaced_digits", "ocr read card: 4 5 3 2 0 1 7 4 8 3 9 2 0 1 7 2", &["4 5 3 2 0 1 7 4 8 3 9 2 0 1 7 2"]),
    ("cvc_key", "payment_method {exp_month: 12, exp_year: 2027, cvc: \"731\"}", &["cvc: \"731\""]),
    ("address_label_en", "shipping to: 742 Evergreen Terrace, Springfield OR 97477", &["742 Evergreen Terrace"]),
    ("name_key", "{\"first_name\":\"Siobhán\",\"last_name\":\"Ní Bhriain\"}", &["Siobhán", "Ní Bhriain"]),
    ("passport_key_json", "{\"passport_number\":\"X1234567\",\"nationality\":\"DE\"}", &["X1234567"]),
];

const BENIGN: &[(&str, &str)] = &[
    ("oauth_metadata", "token_type: bearer, expires_in: 3600, scope: read write"),
    ("www_authenticate", "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\""),
    ("auth_method", "login ok auth_method=password mfa=webauthn"),
    ("sha1", "object da39a3ee5e6b4b0d3255bfef95601890afd80709 written"),
    ("b64_text", "payload aGVsbG8gd29ybGQ= decoded"),
    ("tz_offset", "cron fired at 10:30:45 +0000 next at 11:30:45 +0000"),
    ("growth", "revenue +1.5% wow, churn -0.25%"),
    ("usps_tracking", "usps 9400111899223344556677 delivered"),
    ("cvv_result", "avs_result=Y cvv_result=M risk_score=12"),
    ("password_reset_sent", "password_reset_sent=true for account 1187"),
    ("mac_vendor", "interface eth0 up, speed 1000Mb/s"),
    ("rfc3339_list", "retries at 2024-05-01T00:00:00Z, 2024-05-01T00:00:30Z"),
    ("port_range", "ephemeral ports 32768-60999"),
    ("dotnet_version", "runtime 8.0.100.12345 loaded"),
    ("nanoid", "asset V1StGXR8_Z5jdHi6B-myT uploaded"),
    ("grpc_status", "status: Unavailable, message: \"connection reset\", details: [], metadata: MetadataMap { headers: {} }"),
];

#[test]
fn scrubber_level2() {
    let s = Scrubber::new(&ScrubRules::default()).unwrap();
    let mut fails = Vec::new();
    for (name, text, secrets) in SECRETS {
        let mut r = ScrubReport::default();
        let a = s.scrub_str(text, &mut r).into_owned();
        let l: Vec<_> = secrets.iter().filter(|x| a.contains(*x)).collect();
        if !l.is_empty() {
            println!("LEAK {name}: {l:?}\n   out: {a}");
            fails.push(*name);
        }
    }
    let mut over = Vec::new();
    for (name, text) in BENIGN {
        let mut r = ScrubReport::default();
        let a = s.scrub_str(text, &mut r);
        if a != *text {
            println!("OVERSCRUB {name}: {text}\n   out: {a}");
            over.push(*name);
        }
    }
    println!("batch2: {} of {} leaked {:?}; {} of {} benign changed {:?}", fails.len(), SECRETS.len(), fails, over.len(), BENIGN.len(), over);
    assert!(fails.is_empty() && over.is_empty());
}

#[test]
fn wire_level2() {
    let h = harness(|b| b.flood_limit(None));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(sub, || {
        for (_n, text, _) in SECRETS {
            let _s = tracing::info_span!("request", tenant_id = "acme").entered();
            tracing::error!(detail = *text, "{}", text);
        }
    });
    let _ = h.guard.flush(std::time::Duration::from_secs(5));
    receiver.wait_for_events(SECRETS.len(), WAIT);
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    let mut fails = Vec::new();
    for (name, _t, secrets) in SECRETS {
        let l: Vec<_> = secrets.iter().filter(|x| {
            let j = serde_json::to_string(*x).unwrap();
            wire.contains(*x) || wire.contains(&j[1..j.len() - 1])
        }).collect();
        if !l.is_empty() {
            fails.push(*name);
        }
    }
    println!("batch2 wire: {} of {} leaked {:?}", fails.len(), SECRETS.len(), fails);
    drop(h.guard);
    assert!(fails.is_empty());
}

/// Debug output of real values of http, url, std::process::Command, std::io::Error.
#[test]
fn real_debug_types() {
    let s = Scrubber::new(&ScrubRules::default()).unwrap();
    let req = http::Request::builder()
        .method("POST")
        .uri("https://svc:Ur1!Pw99@api.partner.io/v1/charge?signature=Sg7mQ2vXp9LwR4tYz8K3")
        .header("authorization", "Token tok_Q8vXm2pL9wR4tYz7K3nB")
        .header("x-api-key", "Xk9mQ2vR7tW4zL8p")
        .header("x-tenant-secret", "Ts4!mQ8vXp2L")
        .body(())
        .unwrap();
    let url = url::Url::parse("postgres://reporter:Pg!Rep0rt@pg.internal:5432/dw?sslpassword=Ssl!Key9").unwrap();
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.env("PGPASSWORD", "Dump!Pw55").arg("-h").arg("db").arg("--no-password");
    let mut cmd2 = std::process::Command::new("mysqldump");
    cmd2.arg("-uroot").arg("-pMyDump!9").arg("orders");
    let ioe = std::io::Error::other(format!("connect failed for {}", url));
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("http_request_debug", format!("{req:?}"), vec!["Ur1!Pw99", "Sg7mQ2vXp9LwR4tYz8K3", "tok_Q8vXm2pL9wR4tYz7K3nB", "Xk9mQ2vR7tW4zL8p", "Ts4!mQ8vXp2L"]),
        ("http_headers_debug", format!("{:?}", req.headers()), vec!["tok_Q8vXm2pL9wR4tYz7K3nB", "Xk9mQ2vR7tW4zL8p", "Ts4!mQ8vXp2L"]),
        ("url_debug", format!("{url:?}"), vec!["Pg!Rep0rt", "Ssl!Key9"]),
        ("command_env_debug", format!("{cmd:?}"), vec!["Dump!Pw55"]),
        ("command_args_debug", format!("{cmd2:?}"), vec!["MyDump!9"]),
        ("io_error_debug", format!("{ioe:?}"), vec!["Pg!Rep0rt", "Ssl!Key9"]),
    ];
    let mut fails = Vec::new();
    for (name, text, secrets) in &cases {
        let mut r = ScrubReport::default();
        let out = s.scrub_str(text, &mut r).into_owned();
        let l: Vec<_> = secrets.iter().filter(|x| out.contains(**x)).collect();
        if !l.is_empty() {
            println!("LEAK {name}: {l:?}\n   in: {text}\n   out: {out}");
            fails.push(*name);
        }
    }
    println!("real Debug: {} of {} leaked {:?}", fails.len(), cases.len(), fails);
    assert!(fails.is_empty());
}
