//! Breadcrumbs packed into a few bytes each.
//!
//! An info event is recorded into a reused thread-local buffer: field values by their
//! index in the callsite's field set (names are recovered from the metadata on the
//! worker). Packed fields of up to [`INLINE_BYTES`] (a message and a few small fields)
//! are copied into the crumb itself, so keeping a typical breadcrumb allocates nothing;
//! longer ones into one shared `Arc<[u8]>`. A report takes the request's breadcrumbs
//! by cloning them: a copy of at most that many bytes, or a handle.

use std::cell::RefCell;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::SystemTime;

use sentry::protocol::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};

const STR: u8 = 0;
const I64: u8 = 1;
const U64: u8 = 2;
const F64: u8 = 3;
const BOOL: u8 = 4;

use crate::capture::{floor_char_boundary, CAPTURE_BYTES};
use crate::errors::MAX_ERROR_CHAIN;

/// Packed fields up to this many bytes are kept inside the crumb, without allocating.
const INLINE_BYTES: usize = 94;

/// One breadcrumb: what, when, and its packed fields.
#[derive(Clone, Debug)]
pub(crate) struct PackedCrumb {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) timestamp: SystemTime,
    data: Packed,
}

#[derive(Clone, Debug)]
enum Packed {
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    Shared(Arc<[u8]>),
}

impl Packed {
    fn new(packed: &[u8]) -> Packed {
        match u8::try_from(packed.len()) {
            Ok(len) if packed.len() <= INLINE_BYTES => {
                let mut bytes = [0; INLINE_BYTES];
                bytes[..packed.len()].copy_from_slice(packed);
                Packed::Inline { len, bytes }
            }
            _ => Packed::Shared(Arc::from(packed)),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Packed::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Packed::Shared(bytes) => bytes,
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl PackedCrumb {
    pub(crate) fn pack(event: &Event<'_>) -> PackedCrumb {
        let data = SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => pack_into(event, &mut buf),
            // Re-entered from a `Debug` impl that logs: use a buffer of its own.
            Err(_) => pack_into(event, &mut Vec::new()),
        });
        PackedCrumb {
            metadata: event.metadata(),
            timestamp: coarse_now(),
            data,
        }
    }

    /// The message and the other fields, as the worker needs them.
    pub(crate) fn unpack(&self) -> (Option<String>, Map<String, Value>) {
        let fields = self.metadata.fields();
        let mut message = None;
        let mut data = Map::new();
        let mut at = 0;
        let bytes = self.data.as_slice();
        while at + 2 <= bytes.len() {
            let (tag, index) = (bytes[at], bytes[at + 1] as usize);
            at += 2;
            let value = match tag {
                STR => {
                    let Some(len) = read_u32(bytes, at) else {
                        break;
                    };
                    at += 4;
                    let end = (at + len as usize).min(bytes.len());
                    let text = String::from_utf8_lossy(&bytes[at..end]).into_owned();
                    at = end;
                    Value::String(text)
                }
                I64 | U64 | F64 => {
                    let Some(raw) = bytes.get(at..at + 8) else {
                        break;
                    };
                    at += 8;
                    let raw: [u8; 8] = raw.try_into().expect("eight bytes");
                    match tag {
                        I64 => Value::from(i64::from_le_bytes(raw)),
                        U64 => Value::from(u64::from_le_bytes(raw)),
                        _ => Value::from(f64::from_le_bytes(raw)),
                    }
                }
                BOOL => {
                    let Some(b) = bytes.get(at) else { break };
                    at += 1;
                    Value::Bool(*b != 0)
                }
                _ => break,
            };
            let name = fields.iter().nth(index).map_or("?", |f| f.name());
            if name == "message" {
                // Moved, not copied: the text was allocated once above.
                if let Value::String(text) = value {
                    message = Some(text);
                }
            } else {
                data.insert(name.to_owned(), value);
            }
        }
        (message, data)
    }
}

/// Breadcrumb time from the kernel's coarse clock: a few nanoseconds instead of a
/// precise read's twenty, at the cost of up to one tick (≤ 4 ms) of lag. It is never
/// ahead of the precise clock, so a breadcrumb never seems later than its error.
#[cfg(target_os = "linux")]
pub(crate) fn coarse_now() -> SystemTime {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    match (read, u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (0, Ok(secs), Ok(nanos)) => std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos),
        _ => SystemTime::now(),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn coarse_now() -> SystemTime {
    SystemTime::now()
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn pack_into(event: &Event<'_>, buf: &mut Vec<u8>) -> Packed {
    buf.clear();
    event.record(&mut Packer(buf));
    let packed = Packed::new(buf);
    // Do not let one huge event keep a huge buffer alive on this thread.
    if buf.capacity() > 64 * 1024 {
        *buf = Vec::new();
    }
    packed
}

struct Packer<'a>(&'a mut Vec<u8>);

impl Packer<'_> {
    fn head(&mut self, tag: u8, field: &Field) {
        self.0.push(tag);
        self.0.push(u8::try_from(field.index()).unwrap_or(u8::MAX));
    }

    /// A string value: length placeholder, text, then the real length.
    fn text(&mut self, field: &Field, write: impl FnOnce(&mut Bounded<'_>) -> fmt::Result) {
        self.head(STR, field);
        let len_at = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        let start = self.0.len();
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = write(&mut Bounded(self.0, start + CAPTURE_BYTES));
        }))
        .is_ok();
        if !ok {
            self.0.truncate(start);
            self.0.extend_from_slice(b"<Debug implementation panicked>");
        }
        let len = u32::try_from(self.0.len() - start).unwrap_or(u32::MAX);
        self.0[len_at..start].copy_from_slice(&len.to_le_bytes());
    }
}

/// Writes into the buffer up to a byte limit (at a character boundary).
struct Bounded<'a>(&'a mut Vec<u8>, usize);

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.1.saturating_sub(self.0.len());
        if s.len() <= room {
            self.0.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        self.0
            .extend_from_slice(&s.as_bytes()[..floor_char_boundary(s, room)]);
        Err(fmt::Error)
    }
}

impl Visit for Packer<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.head(I64, field);
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.head(U64, field);
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.head(F64, field);
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.head(BOOL, field);
        self.0.push(u8::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        // No user code runs here: no need to contain a panic.
        self.head(STR, field);
        let value = &value[..floor_char_boundary(value, CAPTURE_BYTES)];
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(value.as_bytes());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.text(field, |w| {
            write!(w, "{value}")?;
            // Bounded: a cyclic `source()` chain must not loop forever.
            let mut source = value.source();
            for _ in 0..MAX_ERROR_CHAIN {
                let Some(err) = source else { break };
                write!(w, ": {err}")?;
                source = err.source();
            }
            Ok(())
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, |w| write!(w, "{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    /// Packs every event it sees.
    struct Packing(Arc<Mutex<Vec<PackedCrumb>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Packing {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            self.0
                .lock()
                .expect("not poisoned")
                .push(PackedCrumb::pack(event));
        }
    }

    fn packed(log: impl FnOnce()) -> PackedCrumb {
        let crumbs = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Packing(crumbs.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let mut crumbs = crumbs.lock().expect("not poisoned");
        assert_eq!(crumbs.len(), 1);
        crumbs.remove(0)
    }

    #[test]
    fn a_small_crumb_is_kept_inline_and_unpacks_whole() {
        let crumb = packed(|| tracing::info!(step = 3, table = "orders", ok = true, "query done"));
        assert!(matches!(crumb.data, Packed::Inline { .. }), "{crumb:?}");
        let (message, data) = crumb.unpack();
        assert_eq!(message.as_deref(), Some("query done"));
        assert_eq!(data.get("step"), Some(&Value::from(3)));
        assert_eq!(data.get("table"), Some(&Value::from("orders")));
        assert_eq!(data.get("ok"), Some(&Value::Bool(true)));
        assert_eq!(data.len(), 3);
    }

    #[test]
    fn a_large_crumb_is_shared_and_unpacks_whole() {
        let long = "x".repeat(300);
        let crumb = packed(|| tracing::info!(rows = -7i64, ratio = 0.5, query = %long, "slow"));
        assert!(matches!(crumb.data, Packed::Shared(_)), "{crumb:?}");
        let (message, data) = crumb.unpack();
        assert_eq!(message.as_deref(), Some("slow"));
        assert_eq!(data.get("query"), Some(&Value::from(long.as_str())));
        assert_eq!(data.get("rows"), Some(&Value::from(-7)));
        assert_eq!(data.get("ratio"), Some(&Value::from(0.5)));
    }

    #[test]
    fn a_text_longer_than_the_capture_is_cut_at_a_character_boundary() {
        let long = "é".repeat(CAPTURE_BYTES);
        let crumb = packed(|| tracing::info!(query = long.as_str(), "slow"));
        let (_, data) = crumb.unpack();
        let Some(Value::String(query)) = data.get("query") else {
            panic!("{data:?}");
        };
        assert!(query.len() <= CAPTURE_BYTES && query.len() + 2 > CAPTURE_BYTES);
        assert!(query.chars().all(|c| c == 'é'), "no broken character");
    }

    #[test]
    fn a_crumb_stays_within_two_cache_lines() {
        assert!(std::mem::size_of::<PackedCrumb>() <= 128);
    }

    #[test]
    fn inline_up_to_the_limit_shared_beyond() {
        let bytes: Vec<u8> = (0..=INLINE_BYTES as u8).collect();
        let at_limit = Packed::new(&bytes[..INLINE_BYTES]);
        assert!(matches!(at_limit, Packed::Inline { .. }));
        assert_eq!(at_limit.as_slice(), &bytes[..INLINE_BYTES]);
        let beyond = Packed::new(&bytes);
        assert!(matches!(beyond, Packed::Shared(_)));
        assert_eq!(beyond.as_slice(), &bytes[..]);
        assert!(Packed::new(&[]).as_slice().is_empty());
    }

    #[test]
    fn the_coarse_clock_is_never_ahead_and_at_most_a_tick_behind() {
        for _ in 0..1000 {
            let coarse = coarse_now();
            let precise = SystemTime::now();
            let lag = precise
                .duration_since(coarse)
                .expect("coarse is never ahead");
            assert!(lag < std::time::Duration::from_millis(50), "{lag:?}");
        }
    }
}
