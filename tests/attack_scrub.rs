//! Attack, family 1: secrets and personal data as real services log them.
//! Every case is run (a) through the scrubber (`scrub_str` and `scrub_field` under a neutral key)
//! and (b) through the whole pipeline to the loopback Sentry, in a message, a field, a span
//! field, a breadcrumb, a tag and an error chain; the raw wire bytes are searched for the secret.
//! Results are printed as a table; the tests fail when any secret leaks / any benign string changes.

mod common;

use std::fmt;

use common::{harness, WAIT};
use tracing_error_reports::scrub::{ScrubReport, ScrubRules, Scrubber};
use tracing_subscriber::prelude::*;

/// (name, text as logged, substrings that must not leave the process)
pub const SECRETS: &[(&str, &str, &[&str])] = &[
    // ---- vendor tokens (formats not in the README's list) ----
    ("shopify_admin_token", "shopify admin call used 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 for store acme", &["30877432d1026706d7e805da846a32c3"]),
    ("linear_api_key", "linear client configured with lin_api_w2wMqZcUDIh7yfJs1ON43xKmTecQoXsf2o3gyrDO", &["w2wMqZcUDIh7yfJs1ON43xKmTecQoXsf2o3gyrDO"]),
    ("postman_key", "collection sync: PMAK-b5bb682575ec87a171ac826a-6fce48478dcb74f21345d2cce8038a39d5 rejected", &["6fce48478dcb74f21345d2cce8038a39d5"]),
    ("notion_token", "notion sync with ntn_Da9U4UqGWlG6g3Ot1OGMmjxWkI9X7H6aMuFbh7x41Ztpdp failed", &["Da9U4UqGWlG6g3Ot1OGMmjxWkI9X7H6aMuFbh7x41Ztpdp"]),
    ("airtable_pat", "airtable base appX1 via pat4K8ffUF0eWIXii.f58d669cbee3772a077021721a278f64f7fd633dbdde131ca3766e4d58e72e31", &["f58d669cbee3772a077021721a278f64f7fd633dbdde131ca3766e4d58e72e31"]),
    ("okta_ssws", "okta call: Authorization: SSWS 00blEv0-9BZhvWaXH6K2-tyLBhhOhg9uhkxiiEZpFf", &["00blEv0-9BZhvWaXH6K2-tyLBhhOhg9uhkxiiEZpFf"]),
    ("contentful_pat", "CMA token CFPAT-k1OHAOEHYqM6Ojb6mjBHqSiFVKu4MbMnrHontIKARAH", &["k1OHAOEHYqM6Ojb6mjBHqSiFVKu4MbMnrHontIKARAH"]),
    ("figma_pat", "figma export using figd_an2Cw7gFp6r7O425u85HFJ-EJ4jKEIQOkrtDXtBi", &["an2Cw7gFp6r7O425u85HFJ-EJ4jKEIQOkrtDXtBi"]),
    ("digitalocean_pat", "doctl auth init -t dop_v1_ddaed16dc0cf0b9cd7f78df0cac5e40c02d4e518ca6eaac8d82f01b721076047", &["ddaed16dc0cf0b9cd7f78df0cac5e40c02d4e518ca6eaac8d82f01b721076047"]),
    ("alibaba_keypair", "oss client: AccessKeyId=LTAIiEQhK8nDSqXxkMM9VThX region=cn-hangzhou", &["LTAIiEQhK8nDSqXxkMM9VThX"]),
    ("tencent_secretid", "cos upload with AKID0k9tgLb7tKR69yz8TmeLS1OpgSXt2RMZ failed: 403", &["AKID0k9tgLb7tKR69yz8TmeLS1OpgSXt2RMZ"]),
    ("typeform_pat", "typeform responses fetch tfp_hYKYcwIBQxeGPva2A0FgB9xO51DTjBlUH9PrNZ6IXEDB_0ULru2p17fr4Cp", &["hYKYcwIBQxeGPva2A0FgB9xO51DTjBlUH9PrNZ6IXEDB"]),
    ("adafruit_io", "mqtt connect io.adafruit.com user=sensors aio_WDKNQyvbF2ulFnwZqvr4MS4rJaH8", &["WDKNQyvbF2ulFnwZqvr4MS4rJaH8"]),
    ("duffel_live", "duffel order create failed with duffel_live_ykE0-E8-5clLCZFNV8S2QT6INGDpyOpxyB9JKmyLDUw", &["ykE0-E8-5clLCZFNV8S2QT6INGDpyOpxyB9JKmyLDUw"]),
    ("prefect_key", "PREFECT_API_KEY not accepted: pnu_taTIircdJsS8iO3WFg3aKsEECvl9dq83Eh0e", &["taTIircdJsS8iO3WFg3aKsEECvl9dq83Eh0e"]),
    ("readme_key", "readme sync key rdme_cf21449273d7cee9d9136682575250def91799e2786d3748421599e3e9c8fe21da8027", &["cf21449273d7cee9d9136682575250def91799e2786d3748421599e3e9c8fe21da8027"]),
    ("scalingo_token", "scalingo login --api-token tk-us-cIfw84Jx3-l8S0QPnuQ0_KZe6lOGPoZa70gyU_4gAIqK4-pd", &["cIfw84Jx3-l8S0QPnuQ0_KZe6lOGPoZa70gyU_4gAIqK4-pd"]),
    ("fcm_legacy_server_key", "fcm send rejected, server key AAAAEuNb0lC:APA91bo7pt_LI198F6sXyriJ1RIaKM-t59SQW6PyEXD0fO8WXt_eqQm4m6bs0tj8HRYkQWO-eiEKDl3mm4vMdfPhLTV3sF0xvwkWE_sD7G6Gb7Kuj4SM2G6MzX9nEWTLLcYJbg_KDTCy", &["APA91bo7pt_LI198F6sXyriJ1RIaKM"]),
    ("hubspot_private_app_uuid", "hubspot crm call with pat-na1-8e2a6c4f-1b3d-4f5a-9c7e-2d4b6f8a0c1e returned 401", &["8e2a6c4f-1b3d-4f5a-9c7e-2d4b6f8a0c1e"]),
    ("launchdarkly_sdk_key", "LDClient init with sdk-3f1e9b2a-7c4d-4e8f-9a1b-2c3d4e5f6a7b timed out", &["3f1e9b2a-7c4d-4e8f-9a1b-2c3d4e5f6a7b"]),
    ("heroku_uuid_key_header", "GET https://api.heroku.com/apps Authorization: Bearer 7c1d5e9a-3b2f-4a6c-8d0e-1f2a3b4c5d6e", &["7c1d5e9a-3b2f-4a6c-8d0e-1f2a3b4c5d6e"]),
    ("postmark_header_uuid", "headers: {\"accept\": \"application/json\", \"x-postmark-server-token\": \"b6d0f3a2-9e41-4c7d-8a25-6f1e0c3b9d47\"}", &["b6d0f3a2-9e41-4c7d-8a25-6f1e0c3b9d47"]),
    ("datadog_hex_header", "POST /api/v2/logs DD-API-KEY: 853040b7a05814d32feb3e719e01fcd3 status=403", &["853040b7a05814d32feb3e719e01fcd3"]),
    ("linode_hex_bearer_in_env", "LINODE_TOKEN=fe22a4248ac9ed336de7daecd3ada8b4f2222d3b41a3dbd199b364f73bb387d0 terraform apply", &["fe22a4248ac9ed336de7daecd3ada8b4f2222d3b41a3dbd199b364f73bb387d0"]),
    ("cloudflare_api_token_flag", "wrangler: using CLOUDFLARE_API_TOKEN t1m-0JeVB44EUmVThYJyp6lBcgQFqAiABDQsaJsq", &["t1m-0JeVB44EUmVThYJyp6lBcgQFqAiABDQsaJsq"]),
    ("google_oauth_client_secret", "oauth2 client_id=1234.apps.googleusercontent.com secret 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", &["IdxINRSaxsZisdlBW16RuVNPkgtu"]),
    ("cloudflare_origin_ca", "origin ca key v1.0-128edfed863bd39f917c1069-6489a30fd54c7b2c1d0e2adcd93c0a5eb2d37dc2c9a7a5236bb4734865425feeaa4e2fe981b29ee11b922ce1e6af41e3a2517ee5bb9cda1a2a3c984a24b9c429ca42db0b956af67442", &["6489a30fd54c7b2c1d0e2adcd93c0a5eb2d37dc2c9a7a5236bb4734865425fee"]),
    ("google_access_token", "refreshing credentials, old token ya29.5VV4jrUYOJFodx_XpHH5BK-zprj5w4lOSiLMuwUCpzrE_dUV7qliNY900jqOj57Sqxq3hptMvuPCSKkGzJqMlvtvRfdkfHA1d_LM9FZM6jhu4197ARsOOSZq expired", &["5VV4jrUYOJFodx_XpHH5BK-zprj5w4lOSiLMuwUCpzrE"]),
    ("google_refresh_token", "gcloud: refresh failed for 1//0VnOE7pI5FsmgLX1FuPOyu_7_N_clY6EBTggK_8Kbn3rHUZUfZgyUKjX5Jpqm", &["0VnOE7pI5FsmgLX1FuPOyu_7_N_clY6EBTggK_8Kbn3rHUZUfZgyUKjX5Jpqm"]),
    ("azure_storage_conn", "BlobServiceClient from DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=gEYxFJ7hEbpDLpen1FlmQ7uLVIP2l6067yZIc8u7LsoHhz/ovIbDvjd38QyncSDtmtE7RxcTm/w7MXhFxui91g==;EndpointSuffix=core.windows.net", &["gEYxFJ7hEbpDLpen1FlmQ7uLVIP2l6067yZIc8u7LsoHhz"]),
    ("azure_servicebus_sas", "amqp connect Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=Q2x5bUp0dGVzdEtleVZhbHVlMTIzNDU2Nzg5MGFiY2Q=", &["Q2x5bUp0dGVzdEtleVZhbHVlMTIzNDU2Nzg5MGFiY2Q="]),
    // ---- credentials in URLs / DSNs / connection strings ----
    ("odbc_braced_pwd", "pyodbc: Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql01,1433;Uid=svc_orders;Pwd={Wq9;r!x=Lm2};Encrypt=yes", &["Wq9;r!x=Lm2", "Wq9"]),
    ("jdbc_sqlserver", "jdbc:sqlserver://sql01:1433;databaseName=orders;user=sa;password=Tq3$vR8!mK;encrypt=true", &["Tq3$vR8!mK"]),
    ("jdbc_oracle_thin", "jdbc:oracle:thin:scott/Tig3r!99@//ora.internal:1521/ORCLPDB1", &["Tig3r!99"]),
    ("redis_url_password_only", "redis connection lost: redis://:Kx7pQ2wZ@cache-1.internal:6379/0", &["Kx7pQ2wZ"]),
    ("mongodb_srv_encoded", "MongoServerSelectionError: mongodb+srv://reporting:p%40ssW0rd%21x@cluster0.ab12c.mongodb.net/?retryWrites=true", &["p%40ssW0rd%21x"]),
    ("amqps_url", "lapin: connection refused amqps://billing:R4bb1tHole9@mq.internal:5671/%2fprod", &["R4bb1tHole9"]),
    ("kafka_jaas", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc-orders\" password=\"Kf9!zQ2mPw\";", &["Kf9!zQ2mPw"]),
    ("libpq_kv", "could not connect: host=pg-primary port=5432 dbname=orders user=app password='Vn4 tR7 qL2' sslmode=require", &["Vn4 tR7 qL2", "tR7"]),
    ("clickhouse_native", "clickhouse://default:Ch1ckP4ss@ch.internal:9000/analytics?dial_timeout=200ms", &["Ch1ckP4ss"]),
    ("sftp_url_no_scheme_at_in_pw", "rsync failed for deploy:My@Pw#2024@files.internal:/srv/backup", &["My@Pw#2024"]),
    ("ldap_bind", "ldap3 bind as cn=admin,dc=acme,dc=org with credentials L4pD!bind failed: invalidCredentials", &["L4pD!bind"]),
    ("git_https_pat", "git clone https://x-access-token:ghs_9Rk2mVbQ7xLp3ZtN8wYc4HdF6jS1aE0uGqPo@github.com/acme/app.git", &["ghs_9Rk2mVbQ7xLp3ZtN8wYc4HdF6jS1aE0uGqPo"]),
    ("docker_login_stdin", "docker login -u ci-bot -p Dk8!rPass2 registry.acme.io", &["Dk8!rPass2"]),
    ("curl_user_flag", "curl --user admin:Cu7lP4ss! https://jenkins.internal/api/json", &["Cu7lP4ss!"]),
    ("proxy_env", "HTTPS_PROXY=http://proxyuser:Pr0xy!Pw@10.0.0.5:3128 set for outbound", &["Pr0xy!Pw"]),
    // ---- Debug of real types ----
    ("reqwest_request_debug", "Request { method: POST, url: Url { scheme: \"https\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Domain(\"api.mailer.io\")), port: None, path: \"/v3/send\", query: Some(\"api_key=Mk3vQ8xRt2pLz9Wn\"), fragment: None }, headers: {\"content-type\": \"application/json\"} }", &["Mk3vQ8xRt2pLz9Wn"]),
    ("http_headermap_debug", "{\"host\": \"api.internal\", \"x-amz-security-token\": \"IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQDx7\", \"cookie\": \"theme=dark; _session_id=9f8e7d6c5b4a39281706\"}", &["IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQDx7", "9f8e7d6c5b4a39281706"]),
    ("sqlx_pg_options_debug", "PgConnectOptions { host: \"pg\", port: 5432, socket: None, username: \"orders\", password: Some(\"S9x!kq77\"), database: Some(\"orders\"), ssl_mode: Prefer, application_name: None }", &["S9x!kq77"]),
    ("redis_conninfo_debug", "ConnectionInfo { addr: Tcp(\"cache\", 6379), redis: RedisConnectionInfo { db: 2, username: Some(\"default\"), password: Some(\"rD2s-99xx\"), protocol: RESP2 } }", &["rD2s-99xx"]),
    ("custom_struct_secret_field_debug", "SmtpConfig { relay: \"smtp.mail.io\", port: 587, creds: Credentials { authentication_identity: \"noreply@acme.io\", secret: \"Sm7pAuthX\" } }", &["Sm7pAuthX"]),
    ("tuple_struct_newtype_secret", "ApiClient(\"https://api.vendor.io\", BearerToken(\"vT8qLm2ZxR4pWs6K\"))", &["vT8qLm2ZxR4pWs6K"]),
    ("pretty_debug_nested", "Config {\n    database: DbConfig {\n        url: \"postgres://app@db/orders\",\n        pass: \"Pg7!word\",\n    },\n}", &["Pg7!word"]),
    // ---- protocol transcripts ----
    ("redis_resp_auth", "redis trace: *3\\r\\n$4\\r\\nAUTH\\r\\n$7\\r\\ndefault\\r\\n$10\\r\\nRz4!kP9mQ2\\r\\n", &["Rz4!kP9mQ2"]),
    ("redis_auth_cmd", "slowlog: AUTH Rz4kP9mQ2w took 12ms", &["Rz4kP9mQ2w"]),
    ("smtp_auth_login", "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: b3BzQGV4YW1wbGUub3Jn\nS: 334 UGFzc3dvcmQ6\nC: WnE3IXdQM3J0OQ==\nS: 535 5.7.8 Authentication failed", &["WnE3IXdQM3J0OQ=="]),
    ("imap_login", "imap: a001 LOGIN alice@acme.io \"Tr0ub4dor&3x\"\r\na001 NO [AUTHENTICATIONFAILED]", &["Tr0ub4dor&3x"]),
    ("ftp_pass", "ftp> USER backup\n331 Password required\nftp> PASS Ftp!9secret\n530 Login incorrect", &["Ftp!9secret"]),
    ("pop3_pass", "+OK POP3 ready\nUSER bob\n+OK\nPASS pop3Pw!77\n-ERR", &["pop3Pw!77"]),
    ("http_proxy_authorization", "CONNECT api.x.io:443 HTTP/1.1\r\nProxy-Authorization: Basic cHJveHk6UHIweHlQYXNz\r\n", &["cHJveHk6UHIweHlQYXNz"]),
    ("digest_auth_header", "Authorization: Digest username=\"ops\", realm=\"api\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/x\", response=\"6629fae49393a05397450978507c4ef1\"", &["6629fae49393a05397450978507c4ef1"]),
    ("mysql_handshake_error", "mysql: Access denied for user 'app'@'10.1.2.3' (using password: YES) after SET PASSWORD = 'My5ql!Root'", &["My5ql!Root"]),
    ("psql_alter_role", "statement: ALTER ROLE app WITH LOGIN PASSWORD 'Alt3r!Role9'", &["Alt3r!Role9"]),
    // ---- personal data ----
    ("phone_tel_uri", "click-to-call link tel:+14155550132 rendered", &["4155550132"]),
    ("phone_whatsapp_link", "sent https://wa.me/4915123456789?text=hi", &["15123456789"]),
    ("phone_sms_recipient_e164_noplus", "twilio: sending SMS to 447911123456 queued", &["7911123456"]),
    ("phone_fr", "rappel client au +33 6 12 34 56 78 planifié", &["6 12 34 56 78"]),
    ("phone_jp", "配送連絡先 090-1234-5678 に通知", &["1234-5678"]),
    ("phone_in", "OTP sent to +91 98765 43210", &["98765 43210"]),
    ("phone_br_dots", "cliente ligou de +55 (11) 9.8765-4321", &["8765-4321"]),
    ("national_hr_oib", "supplier OIB 69219517345 missing", &["69219517345"]),
    ("national_bg_egn", "клиент ЕГН 7503170418 не е намерен", &["7503170418"]),
    ("national_uk_nhs", "patient NHS number 943 476 5919 admitted", &["943 476 5919"]),
    ("national_ie_ppsn", "Revenue lookup for PPSN 8437219M failed", &["8437219M"]),
    ("national_cz_rc", "pojištěnec rodné číslo 855312/0422", &["855312/0422"]),
    ("us_passport", "traveler passport number 568912374 expired", &["568912374"]),
    ("iban_fr_letters", "refund to FR14 2004 1010 0505 0001 3M02 606 failed", &["0001 3M02 606", "3M02"]),
    ("iban_nl_compact_lower", "payout account nl91abna0417164300 rejected", &["0417164300"]),
    ("iban_br_in_query", "GET /payouts?beneficiary_iban=BR1800360305000010009795493C1&amount=10", &["00360305000010009795493C1"]),
    ("iban_ch_nbsp", "Zahlung an CH37\u{a0}0483\u{a0}0000\u{a0}0000\u{a0}0001\u{a0}2 abgelehnt", &["0000\u{a0}0001"]),
    ("iban_sa_in_json", "{\"beneficiary\":{\"account\":\"SA0380000000608010167519\"}}", &["SA0380000000608010167519"]),
    ("email_unicode_local", "welcome mail bounced for josé.garcía@correo.es", &["josé.garcía"]),
    ("email_idn", "invite sent to 用户@例子.广告", &["用户@例子"]),
    ("email_quoted_local", "rcpt rejected: \"john doe\"@example.com", &["john doe\"@example"]),
    ("email_ip_literal", "bounce from postmaster@[203.0.113.9]", &["postmaster@"]),
    ("email_mailto_encoded", "link mailto:anna.schmidt%40beispiel.de?subject=hi", &["anna.schmidt"]),
    ("card_amex_in_debug_bytes", "Payment { pan: [51, 55, 56, 50, 56, 50, 50, 52, 54, 51, 49, 48, 48, 48, 53] }", &["51, 55, 56, 50, 56, 50, 50, 52"]),
    ("card_mc2_dash", "charge card 2223-0041-7829-3618 declined", &["2223-0041-7829-3618"]),
    ("card_visa_in_url_path", "GET /v1/cards/4532017483920172/verify 404", &["4532017483920172"]),
    // ---- secrets in prose / split ----
    ("prose_new_password", "user changed their password to Blue-Horse-42 via settings", &["Blue-Horse-42"]),
    ("prose_german", "Anmeldung fehlgeschlagen, Kennwort Hund!Katze7 falsch", &["Hund!Katze7"]),
    ("prose_passcode", "door passcode 9157 issued to courier", &["9157"]),
];

/// Benign text: must come out byte for byte.
pub const BENIGN: &[(&str, &str)] = &[
    ("order_ids", "order 1048576 shipped, invoice INV-2024-000187, line 77"),
    ("uuid_v4", "request 5b2f8c1e-9a7d-4e3b-8f6a-1c0d2e3f4a5b completed"),
    ("ulid", "job 01HZX3M5Q8K2V7N9R4T6W1Y0BC queued"),
    ("sha256", "artifact sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 pushed"),
    ("git_sha", "deployed commit 3e5a7c9b1d2f4e6a8c0b2d4f6e8a0c2b4d6f8e0a"),
    ("semver", "upgraded tokio 1.38.0 -> 1.41.1, serde 1.0.210+build.7, app 2.0.0-rc.3"),
    ("timestamps", "window 2024-03-01T12:34:56.789+02:00 to 2024-03-01T13:00:00Z (1709296496789 ms)"),
    ("prices", "total $1,234.56 (EUR 1.139,87), tax 19%, discount -4.00"),
    ("ean13", "scanned barcode 4006381333931 at till 4"),
    ("isbn", "book ISBN 978-3-16-148410-0 restocked"),
    ("ups_tracking", "label 1Z999AA10123456784 printed"),
    ("http_status_line", "upstream returned 503 after 30000ms, retry 3/5"),
    ("ports_and_hosts", "listening on 0.0.0.0:8080 and [::1]:9090, peer 127.0.0.1:54321"),
    ("k8s_pod", "pod checkout-7d9f8b6c5d-x2k4p restarted 3 times"),
    ("trace_ids", "traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("byte_sizes", "uploaded 4532017483 bytes in 12 chunks"),
    ("duration_ns", "poll took 4111111111111111ns?"),
    ("coordinates", "geofence at 52.520008, 13.404954 radius 500m"),
    ("rust_path", "tokio::runtime::task::harness::Harness<T,S>::poll"),
    ("table_counts", "users: 1523, orders: 98233, token_budget: 4096, max_tokens: 1024"),
    ("password_policy", "password policy: min_length=12, require_symbol=true"),
    ("date_only", "report for 2024-02-29, week 09, quarter Q1"),
    ("semantic_key_names", "missing config keys: api_key, client_secret, db_password"),
    ("base64_png_header", "thumbnail iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"),
    ("version_ip_like", "firmware 10.4.2.117 installed on device"),
];

fn scrubber() -> Scrubber {
    Scrubber::new(&ScrubRules::default()).expect("rules")
}

fn leaked<'a>(out: &str, secrets: &[&'a str]) -> Vec<&'a str> {
    secrets.iter().copied().filter(|s| out.contains(s)).collect()
}

#[test]
fn scrubber_level() {
    let s = scrubber();
    let mut fails = Vec::new();
    for (name, text, secrets) in SECRETS {
        let mut r = ScrubReport::default();
        let a = s.scrub_str(text, &mut r).into_owned();
        let b = s.scrub_field("detail", text, &mut r).into_owned();
        let la = leaked(&a, secrets);
        let lb = leaked(&b, secrets);
        if !la.is_empty() || !lb.is_empty() {
            println!("LEAK {name}: str={la:?} field={lb:?}\n   out: {a}");
            fails.push(*name);
        }
    }
    let mut over = Vec::new();
    for (name, text) in BENIGN {
        let mut r = ScrubReport::default();
        let a = s.scrub_str(text, &mut r);
        if a != *text {
            println!("OVERSCRUB {name}: {a}");
            over.push(*name);
        }
    }
    println!(
        "scrubber level: {} of {} secret cases leaked: {:?}; {} of {} benign changed: {:?}",
        fails.len(),
        SECRETS.len(),
        fails,
        over.len(),
        BENIGN.len(),
        over
    );
    assert!(fails.is_empty() && over.is_empty());
}

#[derive(Debug)]
struct WrapErr {
    msg: String,
    source: Option<Box<WrapErr>>,
}
impl fmt::Display for WrapErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}
impl std::error::Error for WrapErr {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// All the forms a secret can take in the JSON of an envelope.
fn wire_forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let mut v = vec![secret.to_string(), json];
    // \u escapes of non-ASCII, as some serializers write
    let ascii: String = secret
        .chars()
        .map(|c| if c.is_ascii() { c.to_string() } else { format!("\\u{:04x}", c as u32) })
        .collect();
    v.push(ascii);
    v
}

#[test]
fn wire_level_every_place() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        for (name, text, _) in SECRETS {
            let span = tracing::info_span!("request", tenant_id = "acme", user_id = 7_u64, ctx = *text, sentry.name = *text);
            let _e = span.enter();
            tracing::info!(note = *text, "{}", text);
            let err = WrapErr {
                msg: format!("outer failure {name}"),
                source: Some(Box::new(WrapErr { msg: text.to_string(), source: None })),
            };
            tracing::error!(
                case = *name,
                detail = *text,
                tags.note = *text,
                error = &err as &(dyn std::error::Error + 'static),
                "{}",
                text
            );
        }
    });
    let events = receiver.wait_for_events(SECRETS.len(), WAIT);
    drop(h.guard);
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    println!("events received: {} of {}", events.len(), SECRETS.len());
    let mut fails = Vec::new();
    for (name, _text, secrets) in SECRETS {
        let leaked: Vec<_> = secrets
            .iter()
            .filter(|s| wire_forms(s).iter().any(|f| wire.contains(f.as_str())))
            .collect();
        if !leaked.is_empty() {
            // where: find the event of this case
            let places: Vec<String> = events
                .iter()
                .filter_map(|e| {
                    let j = serde_json::to_value(e).unwrap();
                    let js = j.to_string();
                    if !js.contains(&format!("outer failure {name}")) {
                        return None;
                    }
                    let mut p = Vec::new();
                    find_paths(&j, "", &leaked.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &mut p);
                    Some(p.join(","))
                })
                .collect();
            println!("WIRE LEAK {name}: {leaked:?} at {places:?}");
            for e in events.iter().filter(|e| e.tags.get("note").map(|n| leaked.iter().any(|x| n.contains(**x))).unwrap_or(false)) {
                println!("   tag note = {:?}\n   message = {:?}", e.tags.get("note"), e.message);
            }
            fails.push(*name);
        }
    }
    println!("wire level: {} of {} cases leaked: {:?}", fails.len(), SECRETS.len(), fails);
    assert_eq!(events.len(), SECRETS.len(), "every case reported");
    assert!(fails.is_empty());
}

fn find_paths(v: &serde_json::Value, at: &str, secrets: &[String], out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            if secrets.iter().any(|x| s.contains(x.as_str())) {
                out.push(at.to_string());
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                find_paths(x, &format!("{at}[{i}]"), secrets, out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                find_paths(x, &format!("{at}.{k}"), secrets, out);
            }
        }
        _ => {}
    }
}

#[test]
fn wire_level_benign_kept() {
    let h = harness(|b| b);
    let receiver = h.receiver;
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        for (_name, text) in BENIGN {
            let span = tracing::info_span!("request", tenant_id = "acme");
            let _e = span.enter();
            tracing::error!(detail = *text, "{}", text);
        }
    });
    let events = receiver.wait_for_events(BENIGN.len(), WAIT);
    let mut over = Vec::new();
    for (name, text) in BENIGN {
        let found = events.iter().any(|e| e.message.as_deref() == Some(*text));
        if !found {
            let closest = events
                .iter()
                .filter_map(|e| e.message.clone())
                .find(|m| m.split_whitespace().next() == text.split_whitespace().next());
            println!("OVERSCRUB {name}: {text:?} -> {closest:?}");
            over.push(*name);
        }
    }
    println!("benign wire: {} of {} changed", over.len(), BENIGN.len());
    assert!(over.is_empty());
}

#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

/// The same cases through fmt (text) and fmt (JSON) sinks, the whole stack `.scrubbed()`.
#[test]
fn other_sinks_scrubbed_stack() {
    use tracing_error_reports::scrub::ScrubLayerExt;
    let h = harness(|b| b);
    let config = tracing_error_reports::Config::builder().build_lenient();
    let scrubber = config.scrubber();
    let text = Buf::default();
    let json = Buf::default();
    let sub = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(text.clone()))
        .with(tracing_subscriber::fmt::layer().json().with_writer(json.clone()))
        .with(h.layer)
        .scrubbed(&scrubber);
    tracing::subscriber::with_default(sub, || {
        for (_name, t, _) in SECRETS {
            let span = tracing::info_span!("request", tenant_id = "acme", ctx = *t);
            let _e = span.enter();
            tracing::warn!(detail = *t, "{}", t);
        }
    });
    drop(h.guard);
    let text = String::from_utf8_lossy(&text.0.lock().unwrap()).into_owned();
    let json = String::from_utf8_lossy(&json.0.lock().unwrap()).into_owned();
    let mut fails = Vec::new();
    for (name, _t, secrets) in SECRETS {
        let lt: Vec<_> = secrets.iter().filter(|s| text.contains(*s)).collect();
        let lj: Vec<_> = secrets.iter().filter(|s| wire_forms(s).iter().any(|f| json.contains(f.as_str()))).collect();
        if !lt.is_empty() || !lj.is_empty() {
            println!("SINK LEAK {name}: fmt={lt:?} json={lj:?}");
            fails.push(*name);
        }
    }
    println!("sinks: {} of {} cases leaked: {:?}", fails.len(), SECRETS.len(), fails);
    assert!(fails.is_empty());
}

/// Panics whose message holds the case text, on other threads, with the panic hook.
#[test]
fn panic_messages() {
    let h = harness(|b| b.install_panic_hook(true));
    let receiver = h.receiver;
    let sub = tracing_subscriber::registry().with(h.layer);
    let dispatch = tracing::Dispatch::new(sub);
    let n = SECRETS.len();
    for (name, text, _) in SECRETS {
        let d = dispatch.clone();
        let _ = std::thread::Builder::new()
            .name(format!("case-{name}"))
            .spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    let span = tracing::info_span!("request", tenant_id = "acme");
                    let _e = span.enter();
                    panic!("handler crashed: {}", text);
                })
            })
            .unwrap()
            .join();
    }
    let events = receiver.wait_for_events(n, WAIT);
    drop(h.guard);
    let wire = String::from_utf8_lossy(&receiver.wire_bytes()).into_owned();
    let mut fails = Vec::new();
    for (name, _text, secrets) in SECRETS {
        let leaked: Vec<_> = secrets.iter().filter(|s| wire_forms(s).iter().any(|f| wire.contains(f.as_str()))).collect();
        if !leaked.is_empty() {
            println!("PANIC LEAK {name}: {leaked:?}");
            fails.push(*name);
        }
    }
    println!("panics: {} events of {n}; {} cases leaked: {:?}", events.len(), fails.len(), fails);
    assert!(fails.is_empty());
}
