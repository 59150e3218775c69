//! Flood control: each report key may send a bounded number of reports per window;
//! later ones in the window are counted and dropped before they are queued, and the
//! next report of the same key says how many were held back (`suppressed_before`).
//!
//! The key is what Sentry would group on plus the tenant (ADR-027): the callsite (for
//! `log` records, the record's target, file and line), the error types, the message
//! template (the message with every token that contains a digit replaced) and the
//! tenant. One noisy failure, or one noisy tenant, cannot use up the budget of the
//! others.

use std::collections::HashMap;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};

use crate::capture::MAX_VALUE_BYTES;
use crate::errors::{is_error_field, MAX_ERROR_CHAIN};

/// The flood-control limit: at most `reports` reports per key in each window of
/// length `per`. Later reports of the key in the window are counted and dropped.
/// Default: 100 reports per minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodLimit {
    /// Reports one key may send per window.
    pub reports: NonZeroU32,
    /// The window; it starts with the key's first report, and again with its first
    /// report once the window has passed. A zero window limits nothing.
    pub per: Duration,
}

impl FloodLimit {
    /// At most `reports` reports per key per `per`.
    pub const fn new(reports: NonZeroU32, per: Duration) -> FloodLimit {
        FloodLimit { reports, per }
    }
}

/// Flood control's default: 100 reports per key per minute (ADR-027 says what a key is).
pub(crate) const DEFAULT_FLOOD_LIMIT: FloodLimit = FloodLimit::new(
    NonZeroU32::new(100).expect("100 is not zero"),
    Duration::from_secs(60),
);

/// Keys tracked at once, for all tenants: beyond this, an old key is forgotten (its
/// next report counts as a first one), so memory stays bounded and a new key, and with
/// it every tenant's first error, always gets a budget of its own.
const MAX_KEYS: usize = SHARDS * SHARD_SLOTS;
const _: () = assert!(MAX_KEYS == 8192, "ADR-027 states the bound");
/// Keys one tenant may hold at once (reports without a tenant count as one tenant).
/// Beyond this, once its oldest key's window has not passed, the tenant's new keys share
/// one budget of that tenant's own: a tenant's storm of distinct failures is held back
/// by its own budget, never by, or at the cost of, another tenant's.
const MAX_KEYS_PER_TENANT: usize = 128;
/// Tables the keys are spread over, by tenant: reports of different tenants rarely
/// wait for one lock, and all of a tenant's keys are in one table (its key limit is
/// kept there).
const SHARDS: usize = 16;
/// Slots of one table.
const SHARD_SLOTS: usize = 512;
/// Slots a key may sit in, from its hash on: a lookup reads at most these (one cache
/// line of keys), and a new key takes a free one or forgets the oldest of them.
const PROBE: usize = 8;

/// A tracked key's budget.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// On the [`monotonic_coarse`] clock.
    window_start: Duration,
    sent: u32,
    /// The tenant's shared budget for keys beyond its [`MAX_KEYS_PER_TENANT`].
    shared: bool,
    suppressed: u64,
    tenant: u64,
    /// When the slot was taken ([`Shard::next_seq`]): the oldest of a full probe
    /// window is forgotten first.
    seq: u64,
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyIsHash>>;

/// One table: open addressing over [`SHARD_SLOTS`] slots, each key within [`PROBE`]
/// slots of its hash, so finding, adding and forgetting a key touch a bounded number of
/// slots whatever the number of keys (no scan, no rehash).
#[derive(Debug)]
struct Shard {
    /// Each slot's key (0: free), apart from the slots for a short scan.
    keys: Box<[u64]>,
    slots: Box<[Slot]>,
    /// Each tenant's own keys in this table, oldest first.
    tenants: KeyMap<std::collections::VecDeque<u64>>,
    next_seq: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            keys: vec![0; SHARD_SLOTS].into_boxed_slice(),
            slots: vec![Slot::default(); SHARD_SLOTS].into_boxed_slice(),
            tenants: KeyMap::default(),
            next_seq: 0,
        }
    }
}

/// The first slot of `key`'s probe window (Fibonacci hashing of the key's own hash).
fn home(key: u64) -> usize {
    let mixed = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (64 - SHARD_SLOTS.trailing_zeros())) as usize
}

/// The slots of `key`'s probe window.
fn window(key: u64) -> impl Iterator<Item = usize> {
    let first = home(key);
    (0..PROBE).map(move |i| (first + i) % SHARD_SLOTS)
}

impl Shard {
    fn find(&self, key: u64) -> Option<usize> {
        window(key).find(|&i| self.keys[i] == key)
    }

    /// Forgets the key in slot `i`.
    fn forget(&mut self, i: usize) {
        let key = std::mem::take(&mut self.keys[i]);
        let slot = self.slots[i];
        if key == 0 || slot.shared {
            return;
        }
        if let Some(keys) = self.tenants.get_mut(&slot.tenant) {
            if keys.front() == Some(&key) {
                keys.pop_front();
            } else if let Some(at) = keys.iter().position(|k| *k == key) {
                keys.remove(at);
            }
            if keys.is_empty() {
                self.tenants.remove(&slot.tenant);
            }
        }
    }

    /// The key a new failure of `tenant` is counted under: `key` itself while the
    /// tenant holds fewer than [`MAX_KEYS_PER_TENANT`] keys (after forgetting its oldest
    /// one if that one's window has passed), else the tenant's shared budget.
    fn key_for(&mut self, key: u64, tenant: u64, now: Duration, window: Duration) -> (u64, bool) {
        let oldest = self
            .tenants
            .get(&tenant)
            .and_then(|keys| (keys.len() >= MAX_KEYS_PER_TENANT).then(|| keys.front().copied()));
        let Some(oldest) = oldest else {
            return (key, false);
        };
        let slot = oldest.and_then(|k| self.find(k));
        let passed = slot.is_none_or(|i| now.saturating_sub(self.slots[i].window_start) >= window);
        if passed {
            if let Some(i) = slot {
                self.forget(i);
            }
            (key, false)
        } else {
            // Distinct from every key (a key hash never has this form but by chance).
            (
                (tenant ^ 0x5bd1_e995_7f4a_7c15).rotate_left(17).max(1),
                true,
            )
        }
    }

    /// Takes a slot for `key`: a free one of its window, else the oldest one's.
    fn take(&mut self, key: u64, tenant: u64, shared: bool, now: Duration) -> usize {
        let i = window(key).find(|&i| self.keys[i] == 0).unwrap_or_else(|| {
            let oldest = window(key).min_by_key(|&i| self.slots[i].seq);
            let oldest = oldest.unwrap_or(home(key));
            self.forget(oldest);
            oldest
        });
        if !shared {
            self.tenants.entry(tenant).or_default().push_back(key);
        }
        self.keys[i] = key;
        self.slots[i] = Slot {
            window_start: now,
            sent: 0,
            shared,
            suppressed: 0,
            tenant,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        i
    }

    /// The slot a report of `key` is counted in: its own, found or taken.
    fn slot(&mut self, key: u64, tenant: u64, now: Duration, window: Duration) -> &mut Slot {
        let i = match self.find(key) {
            Some(i) => i,
            None => {
                let (key, shared) = self.key_for(key, tenant, now, window);
                match shared.then(|| self.find(key)).flatten() {
                    Some(i) => i,
                    None => self.take(key, tenant, shared, now),
                }
            }
        };
        &mut self.slots[i]
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.keys.iter().filter(|k| **k != 0).count()
    }
}

#[derive(Debug)]
pub(crate) struct FloodControl {
    limit: Option<(u32, Duration)>,
    /// Made on the first report: a service that never fails holds no table.
    shards: std::sync::OnceLock<Box<[Mutex<Shard>]>>,
}

/// A report's flood-control key and its tenant's hash (0: no tenant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FloodKey {
    pub(crate) key: u64,
    pub(crate) tenant: u64,
}

/// The map's hasher: keys are already FNV hashes, so they are used as they are.
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the key is a `u64`); fold anything else in anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Time since an arbitrary fixed point, from the kernel's coarse monotonic clock: a few
/// nanoseconds instead of a precise read's twenty, on every held-back report, at the
/// cost of up to one tick (≤ 4 ms) of lag, nothing beside a window of seconds.
#[cfg(target_os = "linux")]
fn monotonic_coarse() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    match (read, u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (0, Ok(secs), Ok(nanos)) => Duration::new(secs, nanos),
        _ => monotonic_precise(),
    }
}

#[cfg(not(target_os = "linux"))]
fn monotonic_coarse() -> Duration {
    monotonic_precise()
}

/// Time since the first call, from `Instant`. On Linux only if the coarse clock fails,
/// which it does not: the two are never mixed in practice.
fn monotonic_precise() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The hash of a tenant's text, as the key takes it.
pub(crate) fn hash_tenant(tenant: &str) -> u64 {
    let mut hash = Fnv::new();
    hash.bytes(tenant.as_bytes());
    // 0 means "no tenant" where the hash is kept.
    hash.0.max(1)
}

/// Fields of a `log` record (tracing-log) that stand for its real callsite.
const LOG_CALLSITE_FIELDS: [&str; 3] = ["log.target", "log.file", "log.line"];

/// FNV-1a, fed as values stream by: the key is computed without allocating, so an
/// event that is held back costs no allocation.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }
    #[inline]
    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    /// A whole word in one step (consistency is all the key needs, not FNV itself).
    fn u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x0100_0000_01b3);
    }
}

impl fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// Streams text into `out` as its template: every token (a run of ASCII letters and
/// digits and non-ASCII bytes) that contains a digit (ids, counts, UUIDs, hex) becomes
/// one placeholder, so "order 17 failed" and
/// "order 18 failed" hash alike. Stops after [`MAX_VALUE_BYTES`].
///
/// A token is hashed eight bytes at a time ([`Token`]): one multiplication per
/// word rather than per byte, on the path of every error event, held back or not.
struct Template<'a> {
    out: &'a mut Fnv,
    token: Token,
    in_token: bool,
    digit: bool,
    seen: usize,
}

/// A token's hash so far: its full words mixed in, and the bytes of the word begun.
#[derive(Clone, Copy)]
struct Token {
    hash: Fnv,
    word: u64,
    len: u32,
}

impl Token {
    const fn new() -> Self {
        Token {
            hash: Fnv::new(),
            word: 0,
            len: 0,
        }
    }
    #[inline]
    fn byte(&mut self, b: u8) {
        self.word = (self.word << 8) | u64::from(b);
        self.len += 1;
        if self.len == 8 {
            self.hash.u64(self.word);
            (self.word, self.len) = (0, 0);
        }
    }
    /// The token's hash: its last (partial, maybe empty) word and that word's length.
    fn finish(mut self) -> u64 {
        self.hash.u64(self.word);
        self.hash.u64(u64::from(self.len));
        self.hash.0
    }
}

/// The hash [`Template`] gives a token of letters only: its bytes in big-endian words
/// of eight, the last one partial (maybe empty), then that word's length.
#[cfg(test)]
fn token_hash(token: &[u8]) -> u64 {
    let mut hash = Fnv::new();
    let mut chunks = token.chunks_exact(8);
    for chunk in &mut chunks {
        hash.u64(chunk.iter().fold(0, |w, b| (w << 8) | u64::from(*b)));
    }
    let rest = chunks.remainder();
    hash.u64(rest.iter().fold(0, |w, b| (w << 8) | u64::from(*b)));
    hash.u64(rest.len() as u64);
    hash.0
}

impl<'a> Template<'a> {
    fn new(out: &'a mut Fnv) -> Self {
        Template {
            out,
            token: Token::new(),
            in_token: false,
            digit: false,
            seen: 0,
        }
    }

    fn end_token(&mut self) {
        if self.in_token {
            let token = if self.digit {
                0xff
            } else {
                self.token.finish()
            };
            self.out.u64(token);
            self.in_token = false;
        }
    }
}

impl fmt::Write for Template<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Bytes, not chars: every non-ASCII byte counts as a letter of its token, so
        // nothing is decoded and a token never splits inside a character. The state is
        // kept in locals for the loop (every report, held back or not, runs this).
        let (mut out, mut token) = (*self.out, self.token);
        let (mut in_token, mut digit) = (self.in_token, self.digit);
        for &b in s.as_bytes() {
            let class = TOKEN_CLASS[usize::from(b)];
            if class != SEPARATOR {
                if !in_token {
                    token = Token::new();
                    in_token = true;
                    digit = false;
                }
                token.byte(b);
                digit |= class == DIGIT;
            } else {
                if in_token {
                    out.u64(if digit { 0xff } else { token.finish() });
                    in_token = false;
                }
                out.byte(b);
            }
        }
        (*self.out, self.token) = (out, token);
        (self.in_token, self.digit) = (in_token, digit);
        self.seen += s.len();
        if self.seen > MAX_VALUE_BYTES {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

/// [`TOKEN_CLASS`]: a byte between tokens.
const SEPARATOR: u8 = 0;
/// [`TOKEN_CLASS`]: a letter or non-ASCII byte of a token.
const LETTER: u8 = 1;
/// [`TOKEN_CLASS`]: a digit of a token.
const DIGIT: u8 = 2;
/// What each byte is to [`Template`].
static TOKEN_CLASS: [u8; 256] = {
    let mut table = [SEPARATOR; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_digit() {
            table[c] = DIGIT;
        } else if b.is_ascii_alphabetic() || !b.is_ascii() {
            table[c] = LETTER;
        }
        c += 1;
    }
    table
};

impl Drop for Template<'_> {
    fn drop(&mut self) {
        self.end_token();
    }
}

/// Takes the leading type path of a `Debug` output (`io::Error`, `my_app::AppError`)
/// and stops formatting at its end.
struct TypePath<'a>(&'a mut Fnv);

impl fmt::Write for TypePath<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(s.len());
        self.0.bytes(&s.as_bytes()[..end]);
        if end < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Hashes what identifies an event for flood control: the message and `error` text
/// as templates, the logged errors' type paths and outermost text, the `log` record's
/// callsite, and the event's own tenant.
struct KeyVisitor<'a> {
    hash: Fnv,
    tenant_fields: &'a [&'static str],
    /// The event's tenant: (index of the field name in `tenant_fields`, its hash).
    tenant: Option<(usize, u64)>,
    /// Keys only the callsite and tenant (a structured log's key), not the message or
    /// the errors.
    callsite_only: bool,
}

impl KeyVisitor<'_> {
    fn tenant(&mut self, field: &Field, value: &dyn fmt::Display) {
        let Some(rank) = self.tenant_fields.iter().position(|n| *n == field.name()) else {
            return;
        };
        if self.tenant.is_some_and(|(best, _)| best <= rank) {
            return;
        }
        let mut hash = Fnv::new();
        let _ = write!(hash, "{value}");
        self.tenant = Some((rank, hash.0.max(1)));
        // `write!` of a `&str` writes it whole, so this equals `hash_tenant(text)`.
    }

    fn text(&mut self, field: &Field, value: &dyn fmt::Debug, plain: Option<&str>) {
        let name = field.name();
        if (name == "message" || name == "error") && !self.callsite_only {
            self.hash.bytes(name.as_bytes());
            let mut template = Template::new(&mut self.hash);
            let _ = match plain {
                Some(text) => template.write_str(text),
                None => write!(template, "{value:?}"),
            };
        } else if LOG_CALLSITE_FIELDS.contains(&name) {
            self.hash.bytes(name.as_bytes());
            let _ = write!(self.hash, "{value:?}");
        }
    }
}

impl Visit for KeyVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, &value, Some(value));
        self.tenant(field, &value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.text(field, &value, None);
        self.tenant(field, &value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.text(field, &value, None);
        self.tenant(field, &value);
    }
    fn record_error(&mut self, _field: &Field, value: &(dyn Error + 'static)) {
        if self.callsite_only {
            return;
        }
        let mut next: Option<&(dyn Error + 'static)> = Some(value);
        for depth in 0..MAX_ERROR_CHAIN {
            let Some(error) = next else { break };
            let _ = write!(TypePath(&mut self.hash), "{error:?}");
            self.hash.bytes(b"/");
            if depth == 0 {
                let _ = write!(Template::new(&mut self.hash), "{error}");
            }
            next = error.source();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, value, None);
        if self.tenant_fields.contains(&field.name()) {
            struct Shown<'a>(&'a dyn fmt::Debug);
            impl fmt::Display for Shown<'_> {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt(f)
                }
            }
            self.tenant(field, &Shown(value));
        }
    }
}

/// The flood-control key of a structured log: its callsite (a `log` record's own target,
/// file and line) and its tenant (the event's own, else `scope_tenant`), whatever its
/// message says: one tenant's log loop uses up its own budget, never another's. Computed
/// without allocating.
pub(crate) fn log_key(
    event: &Event<'_>,
    tenant_fields: &[&'static str],
    scope_tenant: impl FnOnce() -> Option<u64>,
) -> FloodKey {
    let metadata: &'static Metadata<'static> = event.metadata();
    let mut visitor = KeyVisitor {
        hash: Fnv::new(),
        tenant_fields,
        tenant: None,
        callsite_only: true,
    };
    visitor
        .hash
        .u64(metadata as *const Metadata<'static> as usize as u64);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        event.record(&mut visitor);
    }));
    let mut hash = visitor.hash;
    let tenant = match visitor.tenant {
        Some((_, tenant)) => Some(tenant),
        None => scope_tenant(),
    };
    if let Some(tenant) = tenant {
        hash.u64(tenant);
    }
    FloodKey {
        key: hash.0.max(1),
        tenant: tenant.unwrap_or(0),
    }
}

/// Links of an error value kept for the dedupe.
const MAX_LINKS: usize = 8;
/// Bytes of an error text read for the dedupe (a stack buffer: nothing allocated).
const MAX_LINK_TEXT: usize = 1024;

/// The error value an event carries, as the hashes of its links (outermost first), each
/// link's message trimmed: the same error gives the same links whether it was logged as
/// `&dyn Error` (each `source()`'s `Display`), `%e` (the outermost message) or `?e` of
/// anyhow or eyre (the message, `Caused by:` with its causes, then a backtrace or
/// location, which are dropped). So one failure propagated with `?`, converted into
/// `anyhow::Error` and logged again further out, with or without `.context(..)` or
/// `RUST_BACKTRACE`, is recognised (issue 22, the dedupe of ADR-025; a newcomer got two
/// reports of one failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ErrorLinks {
    hashes: [u64; MAX_LINKS],
    len: u8,
}

impl ErrorLinks {
    const EMPTY: ErrorLinks = ErrorLinks {
        hashes: [0; MAX_LINKS],
        len: 0,
    };

    /// The outermost message's hash: what a report remembers.
    pub(crate) fn outermost(&self) -> u64 {
        self.hashes[0]
    }

    /// Whether any link is the error `outermost` hashes (a report's remembered value).
    pub(crate) fn contains(&self, outermost: u64) -> bool {
        self.hashes[..usize::from(self.len)].contains(&outermost)
    }

    fn push(&mut self, text: &[u8]) {
        let text = text.trim_ascii();
        if text.is_empty() || usize::from(self.len) == MAX_LINKS {
            return;
        }
        let mut hash = Fnv::new();
        hash.bytes(text);
        self.hashes[usize::from(self.len)] = hash.0.max(1);
        self.len += 1;
    }

    /// The links of an error's text: anyhow's and eyre's `Debug` layout
    /// (`outer\n\nCaused by:\n    0: cause\n    1: cause\n\nStack backtrace:..`), else
    /// the whole text as one link.
    fn push_text(&mut self, text: &[u8]) {
        const ENDS: [&[u8]; 4] = [
            b"\n\nStack backtrace:",
            b"\n\nBacktrace:",
            b"\n\nLocation:",
            b"\n\nSpantrace:",
        ];
        let end = ENDS
            .iter()
            .filter_map(|end| memchr::memmem::find(text, end))
            .min()
            .unwrap_or(text.len());
        let body = &text[..end];
        let Some(at) = memchr::memmem::find(body, b"\n\nCaused by:") else {
            self.push(body);
            return;
        };
        self.push(&body[..at]);
        for line in body[at + b"\n\nCaused by:".len()..].split(|&b| b == b'\n') {
            let line = line.trim_ascii();
            // `0: cause` when there are several.
            let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
            let line = match line[digits..].strip_prefix(b": ") {
                Some(rest) if digits > 0 => rest,
                _ => line,
            };
            self.push(line);
        }
    }
}

/// A text formatted into a stack buffer, cut at [`MAX_LINK_TEXT`] bytes.
struct StackText {
    bytes: [u8; MAX_LINK_TEXT],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            bytes: [0; MAX_LINK_TEXT],
            len: 0,
        }
    }
    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(MAX_LINK_TEXT - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Reads the error value an event carries ([`ErrorLinks`]), `found` false when it
/// carries none: its error fields ([`is_error_field`]: `error` as `#[instrument(err)]`
/// logs it, with `%` or `?`) and its `dyn Error` fields with their sources.
struct ErrorVisitor {
    links: ErrorLinks,
    found: bool,
}

impl Visit for ErrorVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if is_error_field(field.name()) {
            self.found = true;
            self.links.push_text(value.as_bytes());
        }
    }
    fn record_error(&mut self, _field: &Field, value: &(dyn Error + 'static)) {
        self.found = true;
        let mut next: Option<&(dyn Error + 'static)> = Some(value);
        for _ in 0..MAX_LINKS {
            let Some(error) = next else { break };
            let mut text = StackText::new();
            let _ = write!(text, "{error}");
            self.links.push(text.text());
            next = error.source();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if is_error_field(field.name()) {
            self.found = true;
            let mut text = StackText::new();
            let _ = write!(text, "{value:?}");
            self.links.push_text(text.text());
        }
    }
}

/// The error hash and, when flood control is on, the key, in one pass over the fields.
struct EventVisitor<'a> {
    error: ErrorVisitor,
    key: Option<KeyVisitor<'a>>,
}

impl Visit for EventVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.error.record_str(field, value);
        if let Some(key) = &mut self.key {
            key.record_str(field, value);
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.error.record_u64(field, value);
        if let Some(key) = &mut self.key {
            key.record_u64(field, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.error.record_i64(field, value);
        if let Some(key) = &mut self.key {
            key.record_i64(field, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.error.record_error(field, value);
        if let Some(key) = &mut self.key {
            key.record_error(field, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.error.record_debug(field, value);
        if let Some(key) = &mut self.key {
            key.record_debug(field, value);
        }
    }
}

/// What one pass over an error event's fields gives ([`event_hashes`]).
#[derive(Clone, Copy)]
pub(crate) struct EventHashes {
    /// The error value the event carries, `None` when it carries none (or a `Debug` or
    /// `Display` impl panicked: no dedupe, the event is reported).
    pub(crate) error: Option<ErrorLinks>,
    /// The flood key but the scope's tenant, and the event's own tenant (flood control
    /// on only).
    key: Option<(Fnv, Option<u64>)>,
}

impl EventHashes {
    /// The event's flood-control key (ADR-027) with its tenant: the event's own tenant
    /// field, else `scope_tenant`'s hash ([`hash_tenant`]) of its span scope's tenant,
    /// asked only then. `None` when flood control is off.
    pub(crate) fn flood_key(&self, scope_tenant: impl FnOnce() -> Option<u64>) -> Option<FloodKey> {
        let (mut hash, tenant) = self.key?;
        let tenant = tenant.or_else(scope_tenant);
        if let Some(tenant) = tenant {
            hash.u64(tenant);
        }
        Some(FloodKey {
            key: hash.0.max(1),
            tenant: tenant.unwrap_or(0),
        })
    }
}

/// The error value's hash of an error event and, when `flood_on`, its flood-control key
/// ([`EventHashes`]), in one pass over its fields: a held-back report pays one.
pub(crate) fn event_hashes(
    event: &Event<'_>,
    tenant_fields: &[&'static str],
    flood_on: bool,
) -> EventHashes {
    let metadata: &'static Metadata<'static> = event.metadata();
    let mut visitor = EventVisitor {
        error: ErrorVisitor {
            links: ErrorLinks::EMPTY,
            found: false,
        },
        key: flood_on.then(|| {
            let mut key = KeyVisitor {
                hash: Fnv::new(),
                tenant_fields,
                tenant: None,
                callsite_only: false,
            };
            // A callsite's metadata is a static: its address identifies it. tracing-log
            // routes every `log` record of a level through one callsite, so the record's
            // own target, file and line are added by the visitor.
            key.hash
                .u64(metadata as *const Metadata<'static> as usize as u64);
            key
        }),
    };
    // A panicking `Debug` or `Display` impl leaves the key as far as it got, and no
    // error hash.
    let recorded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        event.record(&mut visitor);
    }));
    let error = &visitor.error;
    EventHashes {
        error: (recorded.is_ok() && error.found && error.links.len > 0).then_some(error.links),
        key: visitor
            .key
            .map(|key| (key.hash, key.tenant.map(|(_, tenant)| tenant))),
    }
}

impl FloodControl {
    pub(crate) fn new(limit: Option<FloodLimit>) -> Self {
        FloodControl {
            limit: limit.map(|l| (l.reports.get(), l.per)),
            shards: std::sync::OnceLock::new(),
        }
    }

    /// Whether flood control is on at all (when off, no key is computed).
    pub(crate) fn is_on(&self) -> bool {
        self.limit.is_some()
    }

    /// The table of `tenant`'s keys.
    fn shard(&self, tenant: u64) -> std::sync::MutexGuard<'_, Shard> {
        let shards = self
            .shards
            .get_or_init(|| (0..SHARDS).map(|_| Mutex::default()).collect());
        // The tenant hash's top bits: its low bits place keys within a table.
        let shard = &shards[(tenant.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize % SHARDS];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(n)` if a report with this key may go now (`n` of the key held back since
    /// its last report), `None` if the key is over its limit for the current window.
    pub(crate) fn admit(&self, report: FloodKey) -> Option<u64> {
        let Some((per_window, window)) = self.limit else {
            return Some(0);
        };
        let now = monotonic_coarse();
        let mut shard = self.shard(report.tenant);
        let slot = shard.slot(report.key, report.tenant, now, window);
        if now.saturating_sub(slot.window_start) >= window {
            slot.window_start = now;
            slot.sent = 0;
        }
        if slot.sent >= per_window {
            slot.suppressed += 1;
            return None;
        }
        slot.sent += 1;
        Some(std::mem::take(&mut slot.suppressed))
    }

    /// Keys tracked now (for tests: memory stays bounded).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.shards.get().map_or(0, |shards| {
            shards
                .iter()
                .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).tracked())
                .sum()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> u64 {
        let mut hash = Fnv::new();
        // Written in two pieces: a token may span the writes of one `Debug` output.
        let (a, b) = text.split_at(text.len() / 2);
        let mut t = Template::new(&mut hash);
        let _ = t.write_str(a);
        let _ = t.write_str(b);
        drop(t);
        hash.0
    }

    fn limit() -> FloodControl {
        FloodControl::new(Some(FloodLimit::new(
            NonZeroU32::new(100).expect("not zero"),
            Duration::from_secs(3600),
        )))
    }

    #[test]
    fn one_tenants_distinct_failures_never_hold_back_another_tenants_first_error() {
        let flood = limit();
        let loud = 7;
        let admitted = (0..10_000_u64)
            .filter(|i| {
                flood
                    .admit(FloodKey {
                        key: 1_000_000 + i,
                        tenant: loud,
                    })
                    .is_some()
            })
            .count();
        // Its own keys once each, then its shared budget.
        assert_eq!(admitted, MAX_KEYS_PER_TENANT + 100);
        for tenant in 1..=3 {
            assert_eq!(
                flood.admit(FloodKey {
                    key: tenant,
                    tenant
                }),
                Some(0)
            );
        }
        // A known key of the loud tenant keeps its own budget.
        assert_eq!(
            flood.admit(FloodKey {
                key: 1_000_000,
                tenant: loud
            }),
            Some(0)
        );
        assert!(flood.tracked() <= MAX_KEYS);
    }

    #[test]
    fn a_million_tenants_each_get_their_first_error_reported_in_bounded_memory() {
        let flood = limit();
        for tenant in 1..=1_000_000_u64 {
            let key = FloodKey {
                key: tenant.wrapping_mul(0x9e37_79b9_7f4a_7c15).max(1),
                tenant,
            };
            assert_eq!(flood.admit(key), Some(0), "tenant {tenant}");
        }
        assert!(flood.tracked() <= MAX_KEYS, "{}", flood.tracked());
        for shard in flood.shards.get().expect("made").iter() {
            let shard = shard.lock().expect("lock");
            let keys: usize = shard.tenants.values().map(|keys| keys.len()).sum();
            assert!(keys <= SHARD_SLOTS, "{keys}");
            assert!(shard.tenants.len() <= SHARD_SLOTS);
        }
    }

    #[test]
    fn tokens_with_digits_share_a_template_and_words_do_not() {
        assert_eq!(template("order 17 failed"), template("order 18 failed"));
        assert_eq!(
            template("user 3f2a-99 not found"),
            template("user 0c1d-12 not found")
        );
        assert_ne!(template("order 17 failed"), template("order 17 refunded"));
        assert_ne!(template("a b"), template("ab"));
        assert_ne!(template("payment"), template("paymen"));
    }

    /// The template's definition, written plainly: tokens (ASCII letters and digits and
    /// non-ASCII bytes) with a digit become one placeholder, others their hash.
    fn template_by_definition(text: &str) -> u64 {
        let separates = |b: &u8| b.is_ascii() && !b.is_ascii_alphanumeric();
        let mut out = Fnv::new();
        for part in text.as_bytes().split_inclusive(separates) {
            let (token, separator) = match part.split_last() {
                Some((last, rest)) if separates(last) => (rest, Some(*last)),
                _ => (part, None),
            };
            if !token.is_empty() {
                out.u64(if token.iter().any(u8::is_ascii_digit) {
                    0xff
                } else {
                    token_hash(token)
                });
            }
            if let Some(separator) = separator {
                out.bytes(&[separator]);
            }
        }
        out.0
    }

    #[test]
    fn the_streamed_template_is_the_defined_one_however_the_text_is_split() {
        let mut rng = fastrand::Rng::with_seed(27);
        // Mostly letters, so tokens run past eight bytes.
        let alphabet: Vec<char> = "abcdefghijkZ9é ._-:/x\n".chars().collect();
        for _ in 0..5_000 {
            let text: String = (0..rng.usize(0..60))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let mut hash = Fnv::new();
            let mut t = Template::new(&mut hash);
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let mut at = rng.usize(0..=rest.len());
                while !rest.is_char_boundary(at) {
                    at += 1;
                }
                let _ = t.write_str(&rest[..at]);
                rest = &rest[at..];
            }
            drop(t);
            assert_eq!(hash.0, template_by_definition(&text), "{text:?}");
        }
    }
}
