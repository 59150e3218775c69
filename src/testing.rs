//! A real Sentry endpoint on loopback, for tests and the demo.
//!
//! Behind the `testing` cargo feature: production builds do not carry it.
//!
//! [`SentryReceiver`] speaks HTTP/1.1 on `127.0.0.1`, accepts envelope posts as a
//! Sentry server does, parses each body with the `sentry` crate's own
//! [`Envelope::from_slice`], and keeps the raw bytes too, so a test can check what
//! actually went over the wire. Its answer can be changed at run time (errors, rate
//! limits, slowness, no answer at all) to test delivery under failure.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use sentry::protocol::{EnvelopeItem, Event, ItemContainer, Log, Metric, Transaction};
use sentry::Envelope;

/// How the receiver answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// `200 OK`, as a healthy server.
    Healthy,
    /// This status code, with these extra headers (e.g. `429` and `Retry-After`).
    Status(u16, Vec<(String, String)>),
    /// Read the request, then answer after this delay.
    Delay(std::time::Duration),
    /// Read the request and never answer (the connection stays open).
    Hang,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// The request path, e.g. `/api/1/envelope/`.
    pub path: String,
    /// The `X-Sentry-Auth` header, if any.
    pub auth: Option<String>,
    /// The body exactly as sent.
    pub body: Vec<u8>,
    /// The body parsed by `sentry::protocol::Envelope::from_slice`.
    pub envelope: Result<Envelope, String>,
    /// The status the receiver answered with (`0`: it never answered, [`Behaviour::Hang`]):
    /// whether a server would have taken the envelope.
    pub status: u16,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
}

struct Inner {
    state: Mutex<State>,
    arrived: Condvar,
    behaviour: Mutex<Behaviour>,
    stop: AtomicBool,
}

/// A loopback Sentry endpoint. Dropping it stops it.
pub struct SentryReceiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl SentryReceiver {
    /// Starts a receiver on a free loopback port.
    pub fn start() -> io::Result<SentryReceiver> {
        SentryReceiver::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts a receiver on `addr`: with a port nothing listened on so far, a Sentry
    /// that was down (connections refused) and comes back.
    pub fn start_on(addr: SocketAddr) -> io::Result<SentryReceiver> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            behaviour: Mutex::new(Behaviour::Healthy),
            stop: AtomicBool::new(false),
        });
        let accept_inner = inner.clone();
        std::thread::Builder::new()
            .name("sentry-receiver".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_inner.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let conn_inner = accept_inner.clone();
                    let _ = std::thread::Builder::new()
                        .name("sentry-receiver-conn".into())
                        .spawn(move || serve(stream, &conn_inner));
                }
            })?;
        Ok(SentryReceiver { addr, inner })
    }

    /// A DSN pointing at this receiver (project 1).
    pub fn dsn(&self) -> String {
        format!("http://publickey@{}/1", self.addr)
    }

    /// The address the receiver listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes how later requests are answered.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *lock(&self.inner.behaviour) = behaviour;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.inner.state).received.clone()
    }

    /// Waits until `count` requests have arrived or `timeout` passed; returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let mut state = lock(&self.inner.state);
        while state.received.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .inner
                .arrived
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        state.received.clone()
    }

    /// Waits for `count` error events (ignoring transactions and other items).
    pub fn wait_for_events(&self, count: usize, timeout: Duration) -> Vec<Event<'static>> {
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        loop {
            let events = self.events();
            let left = deadline.saturating_duration_since(Instant::now());
            if events.len() >= count || left.is_zero() {
                return events;
            }
            let seen = lock(&self.inner.state).received.len();
            self.wait_for(seen + 1, left);
        }
    }

    /// The error events received so far, parsed.
    pub fn events(&self) -> Vec<Event<'static>> {
        self.items(|item| match item {
            EnvelopeItem::Event(event) => Some((**event).clone()),
            _ => None,
        })
    }

    /// The transactions received so far, parsed.
    pub fn transactions(&self) -> Vec<Transaction<'static>> {
        self.items(|item| match item {
            EnvelopeItem::Transaction(tx) => Some((**tx).clone()),
            _ => None,
        })
    }

    /// The metrics received so far, parsed (every `trace_metric` item's, in order).
    pub fn metrics(&self) -> Vec<Metric> {
        self.items(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => Some(metrics.clone()),
            _ => None,
        })
        .into_iter()
        .flatten()
        .collect()
    }

    /// The structured logs received so far, parsed (every `log` item's logs, in order).
    pub fn logs(&self) -> Vec<Log> {
        self.items(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
            _ => None,
        })
        .into_iter()
        .flatten()
        .collect()
    }

    fn items<T>(&self, pick: impl Fn(&EnvelopeItem) -> Option<T>) -> Vec<T> {
        let state = lock(&self.inner.state);
        state
            .received
            .iter()
            .filter_map(|r| r.envelope.as_ref().ok())
            .flat_map(|e| e.items().filter_map(&pick).collect::<Vec<_>>())
            .collect()
    }

    /// All request bodies concatenated: what went over the wire, for leak checks.
    pub fn wire_bytes(&self) -> Vec<u8> {
        lock(&self.inner.state)
            .received
            .iter()
            .flat_map(|r| r.body.iter().copied())
            .collect()
    }
}

impl Drop for SentryReceiver {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Largest request body accepted (Sentry's own envelope limit is 200 MB compressed;
/// this keeps a broken client from exhausting memory in a test).
const MAX_BODY: usize = 64 * 1024 * 1024;

fn serve(stream: TcpStream, inner: &Inner) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    // One write per response and no Nagle: otherwise delayed ACKs cost 40 ms a request.
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !inner.stop.load(Ordering::SeqCst) {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            _ => return,
        };
        let behaviour = lock(&inner.behaviour).clone();
        let status = match &behaviour {
            Behaviour::Healthy | Behaviour::Delay(_) => 200,
            Behaviour::Status(status, _) => *status,
            Behaviour::Hang => 0,
        };
        record(inner, request, status);
        let (status, headers) = match behaviour {
            Behaviour::Healthy => (200, Vec::new()),
            Behaviour::Status(status, headers) => (status, headers),
            Behaviour::Delay(delay) => {
                std::thread::sleep(delay);
                (200, Vec::new())
            }
            Behaviour::Hang => {
                while !inner.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
        };
        let body = b"{}";
        let mut response = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            if status == 200 { "OK" } else { "Error" },
            body.len()
        );
        for (name, value) in headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        let mut bytes = response.into_bytes();
        bytes.extend_from_slice(body);
        if writer.write_all(&bytes).is_err() {
            return;
        }
    }
}

fn record(inner: &Inner, (path, auth, body): (String, Option<String>, Vec<u8>), status: u16) {
    let envelope = Envelope::from_slice(&body).map_err(|e| e.to_string());
    lock(&inner.state).received.push(Received {
        path,
        auth,
        body,
        envelope,
        status,
    });
    inner.arrived.notify_all();
}

type Request = (String, Option<String>, Vec<u8>);

fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut content_length = 0usize;
    let mut chunked = false;
    let mut auth = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => {
                    content_length = value
                        .parse()
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?
                }
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "x-sentry-auth" => auth = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        if content_length > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Some((path, auth, body)))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Makes every later lookup of a stack's symbols take `delay` longer, process-wide: to
/// test what a slow symbolizer (a debug build's first lookup, a cold disk) does to
/// reports. `Duration::ZERO` restores the normal speed.
pub fn slow_symbol_lookups(delay: Duration) {
    crate::report::set_lookup_delay(delay);
}
