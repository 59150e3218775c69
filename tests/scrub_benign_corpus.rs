//! Precision of the scrubber on text that holds no secret and no personal data: how many
//! strings it changes per 10,000 lines. Nothing here is fetched or committed but the
//! hand-written look-alikes; the rest is made by real libraries in this run:
//! - the TRACE-level logs (through `tracing-subscriber`'s fmt layer, and `log` records
//!   through `tracing-log`) of an axum service behind tower-http's `TraceLayer`, served
//!   by hyper on loopback and called by reqwest with many routes, methods, queries,
//!   headers, bodies and statuses;
//! - the `Debug` and `Display` output of real values of std (durations, times, socket
//!   addresses, file metadata, I/O errors, paths, commands, numbers), http (requests,
//!   responses, header maps, URIs), url, uuid (v4 and v7), chrono, semver and serde_json;
//! - `tests/data/benign-look-alikes.txt`: lines written for this test of what looks like
//!   a secret or personal data and is not (order numbers, amounts, timestamps, ports,
//!   versions, tracking numbers, ids, hashes, card last-4).
//!
//! Loopback and unspecified addresses are used where an address is needed: any other,
//! documentation ranges included (they stand for real ones in examples), is a peer's
//! address, personal data meant to be scrubbed.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tracing_error_reports::scrub::{ScrubReport, ScrubRules, Scrubber};

/// Most strings the scrubber may change per 10,000 lines of the benign corpus. The
/// target is 0; a change that makes it higher is a regression.
const MAX_CHANGED_PER_10K: f64 = 0.0;
/// Fewest lines the corpus must have, so the figure means something.
const MIN_LINES: usize = 5_000;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The TRACE logs of an axum service and a reqwest client talking on loopback.
fn library_logs() -> Vec<String> {
    use axum::extract::{Path, Query};
    use axum::routing::{get, post};
    use axum::Json;

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber per test binary");
    let _ = tracing_log::LogTracer::init();

    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let app = axum::Router::new()
                .route(
                    "/orders/{id}",
                    get(|Path(id): Path<u64>| async move {
                        tracing::info!(order_id = id, "order looked up");
                        Json(serde_json::json!({
                            "id": id,
                            "status": "shipped",
                            "total": format!("{}.{:02}", id % 997, id % 100),
                            "items": id % 7 + 1,
                        }))
                    }),
                )
                .route(
                    "/orders",
                    post(|Json(body): Json<serde_json::Value>| async move {
                        tracing::debug!(?body, "order received");
                        (axum::http::StatusCode::CREATED, Json(body))
                    }),
                )
                .route(
                    "/search",
                    get(
                        |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                            tracing::debug!(?q, "search");
                            format!("{} results", q.len())
                        },
                    ),
                )
                .route("/health", get(|| async { "ok" }))
                .route(
                    "/fail",
                    get(|| async {
                        tracing::error!(
                            error = %std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream timed out after 30s"),
                            "request failed"
                        );
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    }),
                )
                .layer(tower_http::trace::TraceLayer::new_for_http());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("loopback");
            addr_tx
                .send(listener.local_addr().expect("bound"))
                .expect("test waits");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serves");
        });
    });
    let addr = addr_rx.recv().expect("server started");
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    let mut rng = fastrand::Rng::with_seed(21);
    for i in 0..180u64 {
        let id = rng.u64(1..10_000_000);
        let result = match i % 6 {
            0 => client
                .get(format!("http://{addr}/orders/{id}"))
                .header(
                    "x-request-id",
                    uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes())
                        .into_uuid()
                        .to_string(),
                )
                .send(),
            1 => client
                .post(format!("http://{addr}/orders"))
                .header("content-type", "application/json")
                .body(
                    serde_json::json!({
                        "sku": format!("SKU-{}", id % 100_000),
                        "qty": id % 9 + 1,
                        "price": id as f64 / 100.0,
                        "currency": "EUR",
                        "idempotency_key": format!("order-{id}-attempt-{}", i % 3 + 1),
                    })
                    .to_string(),
                )
                .send(),
            2 => client
                .get(format!(
                    "http://{addr}/search?q=widget&page={}&limit=50&sort=created_at",
                    i % 5 + 1
                ))
                .send(),
            3 => client.get(format!("http://{addr}/health")).send(),
            4 => client.get(format!("http://{addr}/fail")).send(),
            _ => client
                .get(format!("http://{addr}/missing/{id}"))
                .header("accept", "application/json")
                .send(),
        };
        let _ = result.map(|r| r.bytes());
    }
    let _ = stop_tx.send(());
    server.join().expect("server thread");
    let text =
        String::from_utf8_lossy(&buffer.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    text.lines().map(str::to_owned).collect()
}

/// `Debug` and `Display` of real values of std and common crates.
fn library_values() -> Vec<String> {
    let mut out = Vec::new();
    let mut rng = fastrand::Rng::with_seed(2112);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("src"))
        .expect("src")
        .chain(std::fs::read_dir(root.join("crates/tracing-scrub/src")).expect("scrub src"))
        .flatten()
    {
        if let Ok(meta) = entry.metadata() {
            out.push(format!("{meta:?}"));
            out.push(format!("{:?} {:?}", meta.modified().ok(), meta.len()));
        }
        out.push(format!("{:?}", entry.path()));
    }
    for kind in [
        std::io::ErrorKind::NotFound,
        std::io::ErrorKind::PermissionDenied,
        std::io::ErrorKind::ConnectionRefused,
        std::io::ErrorKind::ConnectionReset,
        std::io::ErrorKind::TimedOut,
        std::io::ErrorKind::AddrInUse,
        std::io::ErrorKind::UnexpectedEof,
    ] {
        let e = std::io::Error::from(kind);
        out.push(format!("{e:?}"));
        out.push(format!("{e}"));
    }
    for code in [2, 13, 98, 104, 110, 111, 32] {
        let e = std::io::Error::from_raw_os_error(code);
        out.push(format!("{e:?}"));
        out.push(format!("could not connect: {e}"));
    }
    if let Err(e) = std::fs::File::open("/nonexistent/config.toml") {
        out.push(format!("{e:?}"));
    }
    out.push(format!("{:?}", "8080".parse::<u16>()));
    out.push(format!("{:?}", "x8080".parse::<u16>()));
    out.push(format!("{:?}", "12.5e3".parse::<f64>()));
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.args([
        "--format=custom",
        "--jobs=4",
        "--file",
        "/var/backups/orders-2026-12-02.dump",
    ]);
    out.push(format!("{cmd:?}"));
    for i in 0..400u64 {
        let n = rng.u64(..);
        let small = rng.u32(..100_000);
        let secs = rng.u64(..86_400 * 400);
        let nanos = rng.u32(..1_000_000_000);
        let d = std::time::Duration::new(secs % 10_000, nanos);
        out.push(format!("{d:?}"));
        out.push(format!("elapsed {:?} of {:?}", d / 3, d));
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_700_000_000 + secs, nanos);
        out.push(format!("{t:?}"));
        let port = rng.u16(1024..);
        let v4 = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let v6 = std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
        let any = std::net::SocketAddr::from(([0, 0, 0, 0], port));
        out.push(format!("listening on {v4} and {v6:?}; bound {any}"));
        out.push(format!(
            "{:?} {:?} {:?}",
            std::net::IpAddr::from([127, 0, (i % 250) as u8, 1]),
            std::net::Ipv4Addr::BROADCAST,
            std::net::IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED)
        ));
        out.push(format!("{:x} {:#018x} {n:?}", n, n.rotate_left(7)));
        out.push(format!(
            "{}.{:02} EUR, {} items, {:.3} ms",
            small,
            i % 100,
            i % 50,
            d.as_secs_f64() * 1000.0
        ));
        // Seeded, so the corpus is the same every run.
        let mut random = [0u8; 16];
        random.iter_mut().for_each(|b| *b = rng.u8(..));
        let id = uuid::Builder::from_random_bytes(random).into_uuid();
        let v7 = uuid::Builder::from_unix_timestamp_millis(
            1_700_000_000_000 + secs * 1000,
            &[
                random[3], random[1], random[4], random[1], random[5], random[9], random[2],
                random[6], random[7], random[8],
            ],
        )
        .into_uuid();
        out.push(format!("{id} {v7:?} {}", id.simple()));
        let dt =
            chrono::DateTime::<chrono::Utc>::from_timestamp((1_700_000_000 + secs) as i64, nanos)
                .unwrap_or_default();
        out.push(dt.to_rfc3339());
        out.push(format!("{dt:?}"));
        out.push(format!("{}", dt.format("%Y-%m-%d %H:%M:%S%.3f %z")));
        out.push(format!("{:?}", dt.date_naive()));
        out.push(format!(
            "{:?}",
            chrono::TimeDelta::milliseconds(secs as i64)
        ));
        let ver = semver::Version::new(u64::from(small % 30), i % 40, n % 200);
        out.push(format!("{ver} {ver:?}"));
        out.push(format!(
            "{:?}",
            semver::VersionReq::parse(&format!(">={}.{}, <{}", small % 30, i % 40, small % 30 + 1))
        ));
        let four = format!("{}.{}.{}.{}", small % 20, i % 20, n % 60, (n >> 8) % 10_000);
        out.push(format!("file version {four}"));
        let url_text = format!(
            "https://api.example.com/v{}/orders/{}?page={}&per_page=50#items",
            i % 3 + 1,
            small,
            i % 9 + 1
        );
        if let Ok(url) = url::Url::parse(&url_text) {
            out.push(format!("{url:?}"));
            out.push(url.to_string());
        }
        let uri: http::Uri = format!("/orders/{small}/items?limit={}", i % 100)
            .parse()
            .expect("uri");
        let request = http::Request::builder()
            .method(if i % 2 == 0 {
                http::Method::GET
            } else {
                http::Method::POST
            })
            .uri(uri.clone())
            .header("content-type", "application/json")
            .header("x-request-id", id.to_string())
            .header("content-length", small.to_string())
            .body(())
            .expect("request");
        out.push(format!("{request:?}"));
        let response = http::Response::builder()
            .status(if i % 5 == 0 { 503 } else { 200 })
            .header("retry-after", (i % 60).to_string())
            .header("etag", format!("\"{:x}\"", n))
            .body(())
            .expect("response");
        out.push(format!("{response:?}"));
        out.push(format!("{:?}", response.headers()));
        let value = serde_json::json!({
            "id": id.to_string(),
            "order_id": small,
            "amount": (n % 100_000) as f64 / 100.0,
            "created_at": dt.to_rfc3339(),
            "version": ver.to_string(),
            "tags": ["priority", format!("batch-{}", i % 13)],
            "retries": i % 4,
        });
        out.push(value.to_string());
        out.push(format!("{value:?}"));
        out.push(format!("{:#?}", value).replace('\n', " "));
        out.push(format!("{:?}", std::thread::current().id()));
        out.push(format!("{:?}", (i..i + small as u64 % 100)));
        out.push(format!(
            "{:?}",
            std::alloc::Layout::from_size_align(small as usize, 8)
        ));
    }
    out
}

fn look_alikes() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/benign-look-alikes.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_benign_corpus_is_left_alone() {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let sources = [
        ("library logs", library_logs()),
        ("library values", library_values()),
        ("look-alikes", look_alikes()),
    ];
    let mut lines = 0;
    let mut changed = Vec::new();
    let mut summary = String::new();
    for (name, texts) in &sources {
        let mut here = 0;
        for text in texts {
            let out = scrubber.scrub_str(text, &mut ScrubReport::default());
            if out != *text {
                here += 1;
                changed.push(format!("[{name}] {text}\n   -> {out}"));
            }
        }
        lines += texts.len();
        summary.push_str(&format!("{name}: {} lines, {here} changed; ", texts.len()));
    }
    let per_10k = changed.len() as f64 * 10_000.0 / lines as f64;
    println!(
        "benign corpus: {lines} lines ({summary}), {} changed = {per_10k:.2} per 10,000 lines",
        changed.len()
    );
    let _ = std::io::stdout().flush();
    assert!(lines >= MIN_LINES, "only {lines} lines");
    for source in &sources {
        assert!(
            source.1.len() >= 100,
            "{}: only {} lines",
            source.0,
            source.1.len()
        );
    }
    assert!(
        per_10k <= MAX_CHANGED_PER_10K,
        "{} of {lines} benign strings changed ({per_10k:.2} per 10,000; at most {MAX_CHANGED_PER_10K}):\n{}",
        changed.len(),
        changed.join("\n")
    );
}
