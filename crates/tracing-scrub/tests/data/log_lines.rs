//! Log lines as services write them, for the scrubber's throughput bench
//! (`benches/scrub.rs`) and the tests that check the clean ones stay clean: a seeded
//! generator, so every line differs (numbers, ids, hashes) and no memory of earlier texts
//! can help, as in a real stream.
#![allow(dead_code)]

fn hex(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
        .collect()
}

fn alnum(rng: &mut fastrand::Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| char::from(A[rng.usize(..A.len())]))
        .collect()
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// `n` harmless lines: access logs, `Debug` output, SQL, ids, hashes, digests, versions,
/// paths, pod names, JSON bodies, panics. None holds a secret or personal data.
pub fn clean_lines(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let routes = [
        "orders",
        "invoices",
        "carts",
        "users/me/settings",
        "catalog/items",
    ];
    let words = [
        "checkout",
        "billing",
        "inventory",
        "shipping",
        "search",
        "ledger",
    ];
    (0..n)
        .map(|i| {
            let route = routes[rng.usize(..routes.len())];
            let word = words[rng.usize(..words.len())];
            let id = rng.u32(1..100_000);
            match i % 16 {
                0 => format!("GET /api/v1/{route}/{id} 200 {}ms", rng.u32(1..900)),
                1 => format!(
                    "Order {{ id: {id}, status: Pending, items: [Item {{ sku: \"SKU-{}\", qty: {} }}], total_cents: {} }}",
                    rng.u32(1000..9999),
                    rng.u32(1..5),
                    rng.u32(100..100_000)
                ),
                2 => format!("could not query {word}: connection reset by peer (os error 104), attempt {} of 5", rng.u32(1..5)),
                3 => format!(
                    "SELECT id, status FROM {word} WHERE tenant_id = $1 AND created_at > $2 LIMIT {}",
                    rng.u32(1..500)
                ),
                4 => format!(
                    "request_id={} trace_id={} span_id={}",
                    uuid(&mut rng),
                    hex(&mut rng, 32),
                    hex(&mut rng, 16)
                ),
                5 => format!("deploy of {} to {word}-prod finished in {}s", hex(&mut rng, 40), rng.u32(5..300)),
                6 => format!(
                    "pulled ghcr.io/acme/{word}@sha256:{} in {}ms",
                    hex(&mut rng, 64),
                    rng.u32(10..5000)
                ),
                7 => format!(
                    "pod {word}-api-{}-{} ready on node ip-10-0-{}-{}",
                    hex(&mut rng, 10),
                    alnum(&mut rng, 5).to_lowercase(),
                    rng.u32(0..255),
                    rng.u32(0..255)
                ),
                8 => format!("{word} service v{}.{}.{} listening on 0.0.0.0:{}", rng.u32(0..3), rng.u32(0..40), rng.u32(0..20), rng.u32(1024..9000)),
                9 => format!(
                    "{{\"event\":\"order.created\",\"order_id\":{id},\"amount\":{},\"currency\":\"EUR\",\"items\":{}}}",
                    rng.u32(100..99_999),
                    rng.u32(1..9)
                ),
                10 => format!(
                    "thread 'tokio-runtime-worker' panicked at src/{word}/handler.rs:{}:{}: called `Option::unwrap()` on a `None` value",
                    rng.u32(1..900),
                    rng.u32(1..80)
                ),
                11 => format!("retrying {word} sync in {}ms after timeout ({} pending jobs)", rng.u32(50..5000), rng.u32(0..999)),
                12 => format!(
                    "job {} of queue {word} done, integrity sha512-{}== verified",
                    rng.u64(1_000_000..9_999_999),
                    alnum(&mut rng, 86)
                ),
                13 => format!("tokio::runtime::scheduler::multi_thread::worker: {word} worker {} parked", rng.u32(0..16)),
                14 => format!(
                    "cache miss for key {word}:{}:{} (ttl {}s), loading from postgres",
                    id,
                    rng.u32(1..100),
                    rng.u32(10..3600)
                ),
                _ => format!(
                    "payment_intent.succeeded for pi_3{} amount={} currency=eur",
                    alnum(&mut rng, 23),
                    rng.u32(100..99_999)
                ),
            }
        })
        .collect()
}

/// `n` lines of which every fourth holds a credential (key/value, header, URL, vendor
/// token, argv, Debug): the rest are [`clean_lines`].
pub fn lines_with_secrets(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut lines = clean_lines(n, seed ^ 0x5eed);
    for (i, line) in lines.iter_mut().enumerate() {
        if i % 4 != 0 {
            continue;
        }
        let secret = alnum(&mut rng, 24);
        *line = match (i / 4) % 8 {
            0 => format!("login failed for user=42 password={secret}"),
            1 => format!("GET /api/v1/orders 401 Authorization: Bearer {secret}"),
            2 => format!("connect postgres://app:{secret}@db.internal:5432/orders failed"),
            3 => format!("upstream rejected ghp_{secret}{}", alnum(&mut rng, 12)),
            4 => format!("\"mysql\" \"-h\" \"db\" \"-u\" \"app\" \"-p{secret}\" \"orders\""),
            5 => format!("DbConfig {{ host: \"db\", password: Some(\"{secret}\"), port: 5432 }}"),
            6 => format!("{{\"user\":\"u1\",\"api_key\":\"{secret}\",\"plan\":\"pro\"}}"),
            _ => format!("provider rejected acme_live_{secret} (403)"),
        };
    }
    lines
}
