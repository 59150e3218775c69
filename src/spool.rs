//! The disk spool (issue 27, ADR-032): envelopes that could not be sent (a network
//! error, or the HTTP queue full) are kept on disk and sent later, by this process or
//! the next one on the same directory and DSN.
//!
//! Off by default (`ConfigBuilder::spool_dir`, `SENTRY_SPOOL_DIR`). Never a write-ahead
//! log: a healthy send never touches the disk. What is written is the envelope the HTTP
//! transport was about to send, so already scrubbed and fitted (the scrubbing transport
//! sits in front of it).
//!
//! On disk: `<dir>/<dsn key>/`, mode 0700, one Sentry envelope per file, mode 0600,
//! written to a temporary file, fsynced, then renamed into place (a crash loses at most
//! the file being written). The name orders the files and carries what the spool needs
//! without reading them:
//! `<class>-<unix micros:020>-<pid:010>-<seq:010>-<bytes>.v<format version>.envelope`.
//! The class is the priority: `0` errors (fatal too), `1` sessions, `2` transactions,
//! `3` everything else (logs, check-ins). Sending goes class by class, oldest first;
//! overflow evicts the other way round: logs first, errors last, oldest first in a class.
//!
//! A file is claimed for sending by renaming it to
//! `<name>.claimed-<pid>-<unix secs>-<host key>`: a rename succeeds for one process only,
//! so two processes on one directory never send the same file. A claim older than
//! [`STALE_CLAIM`] is put back, and at once one whose process is gone, if it was made on
//! this host (the host key: the hostname's hash; containers sharing a volume have their
//! own process ids).
//!
//! Only what this crate wrote is sent: `<dir>` and `<dir>/<key>` must be real
//! directories (not symbolic links) of this process's user, writable by nobody else
//! (never `chmod`ed, only made 0700 when missing); a file must be a regular file (opened
//! without following a link) of this user, mode 0600, of the size its name states and at
//! most [`MAX_FILE_BYTES`]; and it may hold only the item types the live path sends
//! (events, transactions, logs, sessions, client reports). Other files are moved aside
//! (`<name>.refused`, never read nor sent; `SpoolStats::refused`), other items dropped
//! (`SpoolStats::refused_items`), each said on stderr.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender};
use sentry::protocol::client_report::{Category, Item as ReportItem, LossSource, Reason};
use sentry::protocol::EnvelopeItem;
use sentry::Envelope;

/// The version of the file format written; files of another version are left alone,
/// said once each and counted (`SpoolStats::unreadable`).
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Files the spool holds at most by default.
pub(crate) const DEFAULT_MAX_FILES: usize = 10_000;
/// Bytes the spool holds at most by default (64 MiB).
pub(crate) const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Oldest envelope kept by default: 30 days, Relay's `max_secs_in_past` (an event older
/// than that is refused by Sentry).
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The largest file the spool writes or reads: Relay's `limits.max_envelope_size`
/// (50 MiB), or the spool's byte bound if lower.
pub(crate) const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Time between two sends from the spool (Sentry's offline-caching spec).
pub(crate) const PACING: Duration = Duration::from_millis(100);
/// First wait after a network failure; doubled at each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A claim older than this is taken for a sender that died, and put back.
pub(crate) const STALE_CLAIM: Duration = Duration::from_secs(60);
/// How often the sender lists the directory again (files of other processes).
const RESCAN: Duration = Duration::from_secs(1);
/// A temporary file older than this was left by a crash, and is removed.
const STALE_TEMP: Duration = Duration::from_secs(60);

/// The spool's settings, filled by `ConfigBuilder::spool_dir` and its limits.
#[derive(Clone, Debug)]
pub(crate) struct SpoolSettings {
    /// The directory; `None`: no spool.
    pub(crate) dir: Option<PathBuf>,
    pub(crate) max_files: usize,
    pub(crate) max_bytes: u64,
    pub(crate) max_age: Duration,
    /// Between two sends from the spool.
    pub(crate) pacing: Duration,
}

impl Default for SpoolSettings {
    fn default() -> Self {
        SpoolSettings {
            dir: None,
            max_files: DEFAULT_MAX_FILES,
            max_bytes: DEFAULT_MAX_BYTES,
            max_age: DEFAULT_MAX_AGE,
            pacing: PACING,
        }
    }
}

/// An envelope's priority: sent in this order, evicted in the reverse one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Class {
    Error = 0,
    Session = 1,
    Transaction = 2,
    Other = 3,
}

impl Class {
    const ALL: [Class; 4] = [
        Class::Error,
        Class::Session,
        Class::Transaction,
        Class::Other,
    ];

    fn from_digit(digit: u64) -> Option<Class> {
        Class::ALL.get(usize::try_from(digit).ok()?).copied()
    }
}

/// The class of an envelope: that of its most important item (client reports, which
/// ride along with any envelope, do not count).
pub(crate) fn classify(envelope: &Envelope) -> Class {
    envelope
        .items()
        .filter_map(|item| match item {
            EnvelopeItem::Event(_) => Some(Class::Error),
            EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => {
                Some(Class::Session)
            }
            EnvelopeItem::Transaction(_) => Some(Class::Transaction),
            EnvelopeItem::ClientReport(_) => None,
            _ => Some(Class::Other),
        })
        .min()
        .unwrap_or(Class::Other)
}

/// The envelope's age reference, in microseconds since the epoch: its event's or
/// transaction's timestamp, else now.
fn timestamp_micros(envelope: &Envelope) -> u64 {
    let time = envelope
        .items()
        .find_map(|item| match item {
            EnvelopeItem::Event(event) => Some(event.timestamp),
            EnvelopeItem::Transaction(tx) => Some(tx.start_timestamp),
            _ => None,
        })
        .unwrap_or_else(SystemTime::now);
    micros(time)
}

fn micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// One spooled file, as its name says. Ordered as it is sent.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub(crate) class: Class,
    pub(crate) micros: u64,
    pid: u32,
    seq: u64,
    bytes: u64,
}

impl Entry {
    fn name(&self) -> String {
        format!(
            "{}-{:020}-{:010}-{:010}-{}.v{FORMAT_VERSION}.envelope",
            self.class as u8, self.micros, self.pid, self.seq, self.bytes
        )
    }
}

/// What a name in the spool directory is.
#[derive(Debug, PartialEq, Eq)]
enum Name {
    Entry(Entry),
    /// A spooled file of another format version.
    OtherVersion,
    /// A claimed file: the original name, the claiming process, when it claimed, and
    /// the claiming host's key.
    Claimed(String, u32, u64, String),
    Temp,
    /// Not the spool's.
    Foreign,
}

fn parse_name(name: &str) -> Name {
    if name.starts_with(".tmp-") {
        return Name::Temp;
    }
    if let Some((original, claim)) = name.split_once(".claimed-") {
        let mut parts = claim.split('-');
        let mut number = || parts.next().and_then(|p| p.parse::<u64>().ok());
        let (pid, secs) = (number(), number());
        let host = parts.next().unwrap_or_default().to_owned();
        return match (pid, secs) {
            (Some(pid), Some(secs)) if original.ends_with(".envelope") => Name::Claimed(
                original.to_owned(),
                u32::try_from(pid).unwrap_or(0),
                secs,
                host,
            ),
            _ => Name::Foreign,
        };
    }
    let Some(stem) = name.strip_suffix(".envelope") else {
        return Name::Foreign;
    };
    let Some((stem, version)) = stem.rsplit_once(".v") else {
        return Name::Foreign;
    };
    if version.parse::<u32>() != Ok(FORMAT_VERSION) {
        return Name::OtherVersion;
    }
    let parts: Vec<Option<u64>> = stem.split('-').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(class), Some(micros), Some(pid), Some(seq), Some(bytes)] => {
            match (Class::from_digit(*class), u32::try_from(*pid)) {
                (Some(class), Ok(pid)) => Name::Entry(Entry {
                    class,
                    micros: *micros,
                    pid,
                    seq: *seq,
                    bytes: *bytes,
                }),
                _ => Name::OtherVersion,
            }
        }
        _ => Name::OtherVersion,
    }
}

/// The files to evict so that `entries` plus one of `new_bytes` fit `max_files` and
/// `max_bytes`: logs and other items first, then transactions, sessions, errors last;
/// oldest first within a class. The new file (`new`) competes like any other; `None`
/// in the result stands for it.
pub(crate) fn evictions<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    new: &Entry,
    max_files: usize,
    max_bytes: u64,
) -> Vec<Option<Entry>> {
    let mut all: Vec<(&Entry, bool)> = entries.map(|e| (e, false)).collect();
    all.push((new, true));
    let mut files = all.len();
    let mut bytes: u64 = all.iter().map(|(e, _)| e.bytes).sum();
    all.sort_by(|(a, _), (b, _)| b.class.cmp(&a.class).then(a.micros.cmp(&b.micros)));
    let mut out = Vec::new();
    for (entry, is_new) in all {
        if files <= max_files && bytes <= max_bytes {
            break;
        }
        files -= 1;
        bytes = bytes.saturating_sub(entry.bytes);
        out.push((!is_new).then(|| entry.clone()));
    }
    out
}

/// What the disk spool did, in envelopes (each of this crate's envelopes carries one
/// error report or one transaction), in [`ReportStats::spool`](crate::ReportStats::spool).
/// All zero without a spool (`ConfigBuilder::spool_dir`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpoolStats {
    /// Envelopes written to the spool after a network error or at a full HTTP queue.
    pub written: u64,
    /// Envelopes sent from the spool and accepted by Sentry (2xx), whichever process
    /// wrote them.
    pub replayed: u64,
    /// Envelopes evicted to make room for more important ones (errors are evicted
    /// last, then sessions, transactions, logs; oldest first), or not written because
    /// the spool was full of more important ones. Told to Sentry as `buffer_overflow`.
    pub evicted: u64,
    /// Envelopes older than the spool's maximum age, removed unsent. Told to Sentry as
    /// `buffer_overflow`.
    pub expired: u64,
    /// Envelopes sent from the spool and refused by Sentry: 413, other 4xx and 5xx
    /// (told to Sentry as `send_error`), and 429 (not told: Sentry counted it).
    pub discarded: u64,
    /// Files that could not be read: corrupt, truncated (removed) or of another format
    /// version (left alone); each said once on stderr.
    pub unreadable: u64,
    /// Envelopes that could not be written (directory not writable, disk full): lost
    /// and counted as without a spool; said once per run of failures.
    pub write_failed: u64,
    /// Of `ReportStats::spooled`: the error reports this process wrote to the spool and
    /// then sent from it (delivered, or refused by Sentry: `discarded`).
    pub sent_reports: u64,
    /// Files in the spool this crate did not write as it writes them (a symbolic link,
    /// not a regular file, another user's, a mode other than 0600): never read nor sent,
    /// moved aside as `<name>.refused`; each said on stderr.
    pub refused: u64,
    /// Items of spooled files of a type the live path never sends (attachments,
    /// check-ins, ...): dropped before the file is sent; said on stderr per file.
    pub refused_items: u64,
}

/// The spool's counts, read into `ReportStats::spool`.
#[derive(Debug, Default)]
pub(crate) struct SpoolOutcomes {
    pub(crate) written: AtomicU64,
    /// Error reports among `written`.
    pub(crate) written_reports: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) evicted: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) discarded: AtomicU64,
    pub(crate) unreadable: AtomicU64,
    pub(crate) write_failed: AtomicU64,
    pub(crate) sent_reports: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) refused_items: AtomicU64,
    /// Items evicted or expired not yet told to Sentry (`buffer_overflow`).
    losses: Mutex<Vec<(Category, u64)>>,
}

impl SpoolOutcomes {
    pub(crate) fn snapshot(&self) -> SpoolStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SpoolStats {
            written: get(&self.written),
            replayed: get(&self.replayed),
            evicted: get(&self.evicted),
            expired: get(&self.expired),
            discarded: get(&self.discarded),
            unreadable: get(&self.unreadable),
            write_failed: get(&self.write_failed),
            sent_reports: get(&self.sent_reports),
            refused: get(&self.refused),
            refused_items: get(&self.refused_items),
        }
    }

    fn record_losses(&self, envelope: &Envelope) {
        let mut losses = self.losses.lock().unwrap_or_else(|e| e.into_inner());
        for loss in envelope.losses() {
            match losses.iter_mut().find(|(c, _)| *c == loss.category) {
                Some((_, n)) => *n += loss.quantity,
                None => losses.push((loss.category, loss.quantity)),
            }
        }
    }

    /// The client-report items of what the spool evicted or expired since the last call,
    /// reason `buffer_overflow` (sentry-types has no `cache_overflow`).
    pub(crate) fn take_report_items(&self) -> Vec<ReportItem> {
        let mut losses = self.losses.lock().unwrap_or_else(|e| e.into_inner());
        losses
            .drain(..)
            .map(|(category, n)| ReportItem::new(category, Reason::BufferOverflow, n))
            .collect()
    }
}

/// What happened to an envelope sent from the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replayed {
    /// 2xx: the file goes.
    Delivered,
    /// 413, other 4xx or 5xx (told to Sentry by the sender), or 429 (not told): the
    /// file goes.
    Refused,
    /// Not sent: its category is rate-limited for this long.
    Limited(Duration),
    /// A network error: the file stays.
    NetworkFailed,
    /// Not sent: the sender's queue is full.
    Busy,
    /// The sender stopped before answering: the claim stays, put back as stale later.
    Unknown,
}

/// A spool directory in use.
pub(crate) struct Spool {
    dir: PathBuf,
    settings: SpoolSettings,
    pid: u32,
    seq: AtomicU64,
    /// The files this process knows of, in sending order. Files of other processes join
    /// at each listing.
    index: Mutex<BTreeSet<Entry>>,
    pub(crate) outcomes: Arc<SpoolOutcomes>,
    /// Whether the directory exists (made 0700); retried at each write until it does.
    ready: AtomicBool,
    /// Whether the last write failed: its line is said once per run of failures.
    failing: AtomicBool,
    /// Whether sending from the spool is backing off after network failures.
    backing_off: AtomicBool,
    wake: (Sender<()>, Receiver<()>),
    /// Names of files already said unreadable (each said once).
    said: Mutex<BTreeSet<String>>,
}

fn say(line: &str) {
    eprintln!("tracing-error-reports: spool: {line}");
}

impl Spool {
    /// A spool in `<settings.dir>/<key>` (`key`: the DSN's, so that processes of other
    /// projects sharing the directory never send each other's files). Never fails: a
    /// directory that cannot be made is said, and tried again at each write.
    pub(crate) fn open(
        settings: SpoolSettings,
        key: &str,
        outcomes: Arc<SpoolOutcomes>,
    ) -> Option<Arc<Spool>> {
        let dir = settings.dir.as_ref()?.join(key);
        let spool = Arc::new(Spool {
            dir,
            settings,
            pid: std::process::id(),
            seq: AtomicU64::new(0),
            index: Mutex::new(BTreeSet::new()),
            outcomes,
            ready: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            backing_off: AtomicBool::new(false),
            wake: bounded(1),
            said: Mutex::new(BTreeSet::new()),
        });
        if let Err(err) = spool.prepare() {
            say(&format!(
                "directory {} cannot be used ({err}); envelopes that cannot be sent are lost \
                 (counted in ReportStats::spool.write_failed) until it can",
                spool.dir.display()
            ));
            spool.failing.store(true, Ordering::Relaxed);
        } else {
            spool.rescan();
        }
        Some(spool)
    }

    /// Makes the directories (0700, parents too) if they are missing, and checks that
    /// both are this user's own ([`untrusted_dir`]); an existing one is never changed.
    fn prepare(&self) -> io::Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        // Checked at each write (two `lstat`s; writes happen only when sends fail): a
        // directory swapped for a link meanwhile is not written through.
        for dir in self.dir.parent().into_iter().chain([self.dir.as_path()]) {
            builder.create(dir)?;
            if let Some(why) = untrusted_dir(dir) {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("{} {why}", dir.display()),
                ));
            }
        }
        if self.ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Writable: made and removed at once.
        let probe = self.dir.join(format!(".tmp-{}-probe", self.pid));
        fs::write(&probe, b"")?;
        let _ = fs::remove_file(&probe);
        self.ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, BTreeSet<Entry>> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `envelope`, evicting by priority to make room. `Ok` when it is on disk;
    /// `Err` when it is not (no room for its class, or the disk refused): the caller
    /// counts it lost as it would without a spool.
    pub(crate) fn write(&self, envelope: &Envelope) -> Result<(), SpoolError> {
        let mut body = Vec::new();
        envelope
            .to_writer(&mut body)
            .map_err(|e| self.write_failed(e))?;
        let entry = Entry {
            class: classify(envelope),
            micros: timestamp_micros(envelope),
            pid: self.pid,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            bytes: body.len() as u64,
        };
        if entry.bytes > self.file_cap() {
            self.outcomes.evicted.fetch_add(1, Ordering::Relaxed);
            return Err(SpoolError::NoRoom);
        }
        self.prepare().map_err(|e| self.write_failed(e))?;
        let mut index = self.lock_index();
        let evict = evictions(
            index.iter(),
            &entry,
            self.settings.max_files,
            self.settings.max_bytes,
        );
        if evict.iter().any(Option::is_none) {
            self.outcomes.evicted.fetch_add(1, Ordering::Relaxed);
            return Err(SpoolError::NoRoom);
        }
        for old in evict.into_iter().flatten() {
            index.remove(&old);
            self.evict(&old);
        }
        self.write_file(&entry.name(), &body)
            .map_err(|e| self.write_failed(e))?;
        index.insert(entry);
        drop(index);
        if self.failing.swap(false, Ordering::Relaxed) {
            say(&format!("writing to {} again", self.dir.display()));
        }
        self.outcomes.written.fetch_add(1, Ordering::Relaxed);
        let reports = envelope
            .items()
            .filter(|i| matches!(i, EnvelopeItem::Event(_)))
            .count() as u64;
        self.outcomes
            .written_reports
            .fetch_add(reports, Ordering::Relaxed);
        Ok(())
    }

    fn write_failed(&self, err: io::Error) -> SpoolError {
        self.outcomes.write_failed.fetch_add(1, Ordering::Relaxed);
        if !self.failing.swap(true, Ordering::Relaxed) {
            say(&format!(
                "cannot write to {} ({err}); envelopes that cannot be sent are lost \
                 (counted in ReportStats::spool.write_failed) until it can",
                self.dir.display()
            ));
        }
        // The directory may have gone: made again at the next write.
        self.ready.store(false, Ordering::Relaxed);
        SpoolError::Io
    }

    /// Temporary file (0600), fsync, rename, then the directory fsynced.
    fn write_file(&self, name: &str, body: &[u8]) -> io::Result<()> {
        let temp = self.dir.join(format!(
            ".tmp-{}-{}",
            self.pid,
            self.seq.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&temp)?;
            file.write_all(body)?;
            file.sync_all()?;
            fs::rename(&temp, self.dir.join(name))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Removes an evicted file, counting it and telling Sentry of its items.
    fn evict(&self, entry: &Entry) {
        let name = entry.name();
        let path = self.dir.join(&name);
        // Read for its items' categories; a file already gone was claimed or evicted
        // by another process, which counts it.
        let bytes = match self.read_trusted(&path, entry) {
            Ok(bytes) => bytes,
            Err(Untrusted::Refused(why)) => return self.refuse(&path, &name, &why),
            Err(Untrusted::Gone) => return,
            Err(Untrusted::Corrupt(_)) => Vec::new(),
        };
        if fs::remove_file(&path).is_err() {
            return;
        }
        self.outcomes.evicted.fetch_add(1, Ordering::Relaxed);
        if let Ok(envelope) = Envelope::from_slice(&bytes) {
            self.outcomes.record_losses(&envelope);
        }
    }

    /// Lists the directory again: new files of other processes join the index; stale
    /// claims are put back, stale temporary files removed, unknown versions said once.
    pub(crate) fn rescan(&self) {
        for dir in self.dir.parent().into_iter().chain([self.dir.as_path()]) {
            if let Some(why) = untrusted_dir(dir) {
                // Said once, and not again when opening or writing said it.
                if !self.failing.load(Ordering::Relaxed)
                    && self.first_time(&format!("dir {}", dir.display()))
                {
                    say(&format!(
                        "{} {why}; nothing in it is read or sent",
                        dir.display()
                    ));
                }
                self.lock_index().clear();
                return;
            }
        }
        // Listed under the index's lock: a file written (or evicted) during the listing
        // would otherwise be missing from (or a ghost in) the index that replaces it, and
        // the bounds would not hold.
        let mut index = self.lock_index();
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut found = BTreeSet::new();
        for dirent in listing.flatten() {
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            match parse_name(name) {
                Name::Entry(entry) => {
                    found.insert(entry);
                }
                Name::OtherVersion => {
                    if self.first_time(name) {
                        self.outcomes.unreadable.fetch_add(1, Ordering::Relaxed);
                        say(&format!(
                            "{} is of another format version than {FORMAT_VERSION}; left alone",
                            self.dir.join(name).display()
                        ));
                    }
                }
                Name::Claimed(original, pid, secs, host) => {
                    let stale = now_secs.saturating_sub(secs) > STALE_CLAIM.as_secs()
                        || (host == host_key() && pid != self.pid && !process_alive(pid));
                    if stale {
                        let _ = fs::rename(self.dir.join(name), self.dir.join(&original));
                        if let Name::Entry(entry) = parse_name(&original) {
                            found.insert(entry);
                        }
                    }
                }
                Name::Temp => {
                    let old = dirent
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| now.duration_since(t).ok())
                        .is_some_and(|age| age > STALE_TEMP);
                    if old {
                        let _ = fs::remove_file(dirent.path());
                    }
                }
                Name::Foreign => {}
            }
        }
        *index = found;
    }

    fn first_time(&self, name: &str) -> bool {
        self.said
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned())
    }

    /// Network failures and successes of live sends steer sending from the spool.
    pub(crate) fn live_send_succeeded(&self) {
        if self.backing_off.load(Ordering::Relaxed) {
            let _ = self.wake.0.try_send(());
        }
    }

    /// The next file to send: the first in order whose class is not paused.
    fn next(&self, paused: &[Option<Instant>; 4]) -> Option<Entry> {
        let now = Instant::now();
        self.lock_index()
            .iter()
            .find(|e| paused[e.class as usize].is_none_or(|until| until <= now))
            .cloned()
    }

    /// Takes `entry` out of the index and claims its file: its bytes and claimed path,
    /// or `None` when it is gone (another process took it), expired or unreadable
    /// (each removed and counted).
    fn claim(&self, entry: &Entry) -> Option<(Vec<u8>, PathBuf, u64)> {
        self.lock_index().remove(entry);
        let name = entry.name();
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claimed = self
            .dir
            .join(format!("{name}.claimed-{}-{secs}-{}", self.pid, host_key()));
        fs::rename(self.dir.join(&name), &claimed).ok()?;
        let mut bytes = match self.read_trusted(&claimed, entry) {
            Ok(bytes) => bytes,
            Err(Untrusted::Refused(why)) => {
                self.refuse(&claimed, &name, &why);
                return None;
            }
            Err(Untrusted::Corrupt(why)) => {
                self.unreadable(&claimed, &name, &why);
                return None;
            }
            Err(Untrusted::Gone) => return None,
        };
        let envelope = match Envelope::from_slice(&bytes) {
            Ok(envelope) if envelope.items().next().is_some() => envelope,
            Ok(_) => {
                self.unreadable(&claimed, &name, "it holds no item");
                return None;
            }
            Err(err) => {
                self.unreadable(&claimed, &name, &err.to_string());
                return None;
            }
        };
        let foreign = envelope.items().filter(|i| !live_item(i)).count();
        let envelope = if foreign == 0 {
            envelope
        } else {
            self.outcomes
                .refused_items
                .fetch_add(foreign as u64, Ordering::Relaxed);
            let mut kept = Envelope::new();
            for item in envelope.into_items().filter(live_item) {
                kept.add_item(item);
            }
            let empty = kept.items().next().is_none();
            say(&format!(
                "{} holds {foreign} item(s) of a type this crate never sends; dropped{}",
                self.dir.join(&name).display(),
                if empty {
                    ", and the file with them"
                } else {
                    ""
                }
            ));
            bytes.clear();
            if empty || kept.to_writer(&mut bytes).is_err() {
                let _ = fs::remove_file(&claimed);
                return None;
            }
            kept
        };
        let age = micros(SystemTime::now()).saturating_sub(entry.micros);
        if u128::from(age) > self.settings.max_age.as_micros() {
            let _ = fs::remove_file(&claimed);
            self.outcomes.expired.fetch_add(1, Ordering::Relaxed);
            self.outcomes.record_losses(&envelope);
            return None;
        }
        let reports = envelope
            .items()
            .filter(|i| matches!(i, EnvelopeItem::Event(_)))
            .count() as u64;
        Some((bytes, claimed, reports))
    }

    /// The largest file written or read.
    fn file_cap(&self) -> u64 {
        MAX_FILE_BYTES.min(self.settings.max_bytes)
    }

    /// The bytes of the spooled file at `path` (`entry` as its name said), read only if
    /// this crate could have written it (see the module's documentation) and only up
    /// to the size its name states.
    fn read_trusted(&self, path: &Path, entry: &Entry) -> Result<Vec<u8>, Untrusted> {
        use std::io::Read;
        let mut options = fs::OpenOptions::new();
        options.read(true);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Not through a link; a FIFO opens without waiting for a writer.
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        #[cfg(not(target_os = "linux"))]
        if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Untrusted::Refused("a symbolic link".into()));
        }
        let mut file = match options.open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(Untrusted::Gone),
            #[cfg(target_os = "linux")]
            Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
                return Err(Untrusted::Refused("a symbolic link".into()))
            }
            Err(err) => return Err(Untrusted::Corrupt(err.to_string())),
        };
        let meta = file
            .metadata()
            .map_err(|e| Untrusted::Corrupt(e.to_string()))?;
        if let Some(why) = untrusted_file(&meta) {
            return Err(Untrusted::Refused(why));
        }
        if entry.bytes > self.file_cap() {
            return Err(Untrusted::Corrupt(format!(
                "its name states {} bytes, over the {} bytes a spooled file may hold",
                entry.bytes,
                self.file_cap()
            )));
        }
        if meta.len() != entry.bytes {
            return Err(Untrusted::Corrupt(format!(
                "{} bytes where its name states {}",
                meta.len(),
                entry.bytes
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.bytes).unwrap_or(0));
        // One byte more than stated: a file that grew since is seen, never read whole.
        (&mut file)
            .take(entry.bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Untrusted::Corrupt(e.to_string()))?;
        if bytes.len() as u64 != entry.bytes {
            return Err(Untrusted::Corrupt(format!(
                "{} bytes where its name states {}",
                bytes.len(),
                entry.bytes
            )));
        }
        Ok(bytes)
    }

    /// Moves a file this crate did not write aside (`<name>.refused`), never sent.
    fn refuse(&self, path: &Path, name: &str, why: &str) {
        let aside = self.dir.join(format!("{name}.refused"));
        let moved = fs::rename(path, &aside).is_ok();
        self.outcomes.refused.fetch_add(1, Ordering::Relaxed);
        say(&format!(
            "{} is not a file this crate wrote ({why}); never sent{}",
            self.dir.join(name).display(),
            if moved {
                format!(", moved to {}", aside.display())
            } else {
                String::new()
            }
        ));
    }

    fn unreadable(&self, path: &Path, name: &str, why: &str) {
        let _ = fs::remove_file(path);
        self.outcomes.unreadable.fetch_add(1, Ordering::Relaxed);
        say(&format!(
            "{} is corrupt or truncated ({why}); removed",
            self.dir.join(name).display()
        ));
    }

    /// Puts a claimed file back, to be sent again.
    fn unclaim(&self, entry: Entry, claimed: &Path) {
        if fs::rename(claimed, self.dir.join(entry.name())).is_ok() {
            self.lock_index().insert(entry);
        }
    }

    /// Starts the thread that sends from the spool through `send`, until `stop` is
    /// dropped.
    pub(crate) fn start_sending(
        self: &Arc<Self>,
        send: impl Fn(Vec<u8>) -> Replayed + Send + 'static,
        stop: Receiver<()>,
    ) {
        let spool = self.clone();
        let spawned = std::thread::Builder::new()
            .name("tracing-error-reports-spool".into())
            .spawn(move || spool.send_loop(&send, &stop));
        if let Err(err) = spawned {
            say(&format!("could not start the sending thread ({err}); spooled envelopes stay on disk for the next start"));
        }
    }

    /// Waits `timeout`; false when the transport is gone. `woken`: set when a live send
    /// succeeded meanwhile.
    fn wait(&self, stop: &Receiver<()>, timeout: Duration, woken: &mut bool) -> bool {
        crossbeam_channel::select! {
            recv(stop) -> _ => false,
            recv(self.wake.1) -> _ => { *woken = true; true },
            default(timeout) => true,
        }
    }

    fn send_loop(&self, send: &dyn Fn(Vec<u8>) -> Replayed, stop: &Receiver<()>) {
        let mut paused: [Option<Instant>; 4] = [None; 4];
        let mut backoff: Option<Duration> = None;
        let mut listed = Instant::now();
        loop {
            if listed.elapsed() >= RESCAN {
                self.rescan();
                listed = Instant::now();
            }
            let Some(entry) = self.next(&paused) else {
                let mut woken = false;
                if !self.wait(stop, RESCAN, &mut woken) {
                    return;
                }
                self.rescan();
                listed = Instant::now();
                continue;
            };
            let Some((bytes, claimed, reports)) = self.claim(&entry) else {
                continue;
            };
            let class = entry.class;
            let mut pause = self.settings.pacing;
            match send(bytes) {
                Replayed::Delivered => {
                    let _ = fs::remove_file(&claimed);
                    self.outcomes.replayed.fetch_add(1, Ordering::Relaxed);
                    if entry.pid == self.pid {
                        self.outcomes
                            .sent_reports
                            .fetch_add(reports, Ordering::Relaxed);
                    }
                    backoff = None;
                    self.backing_off.store(false, Ordering::Relaxed);
                }
                Replayed::Refused => {
                    let _ = fs::remove_file(&claimed);
                    self.outcomes.discarded.fetch_add(1, Ordering::Relaxed);
                    if entry.pid == self.pid {
                        self.outcomes
                            .sent_reports
                            .fetch_add(reports, Ordering::Relaxed);
                    }
                }
                Replayed::Limited(left) => {
                    self.unclaim(entry, &claimed);
                    paused[class as usize] = Some(Instant::now() + left);
                    pause = Duration::ZERO;
                }
                Replayed::NetworkFailed => {
                    self.unclaim(entry, &claimed);
                    let next = backoff.map_or(FIRST_BACKOFF, |b| (b * 2).min(MAX_BACKOFF));
                    backoff = Some(next);
                    self.backing_off.store(true, Ordering::Relaxed);
                    // Jitter: processes sharing a directory do not retry in step.
                    pause = next.mul_f64(0.5 + fastrand::f64() * 0.5);
                }
                Replayed::Busy => self.unclaim(entry, &claimed),
                Replayed::Unknown => return,
            }
            let mut woken = false;
            if !self.wait(stop, pause, &mut woken) {
                return;
            }
            if woken {
                backoff = None;
                self.backing_off.store(false, Ordering::Relaxed);
            }
        }
    }
}

/// Why a spooled file is not read.
#[derive(Debug)]
enum Untrusted {
    /// Not as this crate writes its files: moved aside, never read.
    Refused(String),
    /// Corrupt (size other than its name states, over the cap, unreadable): removed.
    Corrupt(String),
    /// Taken or removed by another process meanwhile.
    Gone,
}

/// Whether the live path sends items of this type: only those are sent from the spool.
fn live_item(item: &EnvelopeItem) -> bool {
    matches!(
        item,
        EnvelopeItem::Event(_)
            | EnvelopeItem::Transaction(_)
            | EnvelopeItem::SessionUpdate(_)
            | EnvelopeItem::SessionAggregates(_)
            | EnvelopeItem::ClientReport(_)
            | EnvelopeItem::ItemContainer(sentry::protocol::ItemContainer::Logs(_))
            | EnvelopeItem::ItemContainer(sentry::protocol::ItemContainer::Metrics(_))
    )
}

/// This process's effective user id; `None` where it is not read (not Linux).
#[cfg(target_os = "linux")]
fn euid() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    Some(unsafe { libc::geteuid() })
}

#[cfg(not(target_os = "linux"))]
fn euid() -> Option<u32> {
    None
}

/// Why a spool directory is not this user's own, if it is not: a symbolic link, not a
/// directory, another user's, or writable by its group or others. `None` also when it
/// does not exist (made later).
fn untrusted_dir(dir: &Path) -> Option<String> {
    let meta = fs::symlink_metadata(dir).ok()?;
    if meta.file_type().is_symlink() {
        return Some("is a symbolic link".into());
    }
    if !meta.is_dir() {
        return Some("is not a directory".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Some(euid) = euid().filter(|&e| e != meta.uid()) {
            return Some(format!(
                "is owned by user {}, not this process's {euid}",
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Some(format!(
                "is writable by its group or others (mode {:o})",
                meta.mode() & 0o7777
            ));
        }
    }
    None
}

/// Why an opened spool file is not one this crate wrote, if it is not: not a regular
/// file, another user's, or a mode other than 0600.
fn untrusted_file(meta: &fs::Metadata) -> Option<String> {
    if !meta.is_file() {
        return Some("not a regular file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Some(euid) = euid().filter(|&e| e != meta.uid()) {
            return Some(format!(
                "owned by user {}, not this process's {euid}",
                meta.uid()
            ));
        }
        if meta.mode() & 0o777 != 0o600 {
            return Some(format!("mode {:o}, not 600", meta.mode() & 0o777));
        }
    }
    None
}

/// Why an envelope was not spooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpoolError {
    /// The spool is full of envelopes that matter more (counted `evicted`).
    NoRoom,
    /// The disk refused (counted `write_failed`, said once per run of failures).
    Io,
}

/// This host's key in claims: FNV-1a of its hostname (Linux's UTS namespace, so a
/// container's own), in hex.
fn host_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let name = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        dsn_key(name.trim(), "")
    })
}

/// Whether process `pid` runs (Linux: `/proc/<pid>`); elsewhere assumed so, and the
/// claim is put back once stale.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// The spool's key of a DSN: FNV-1a of its envelope URL and public key, in hex (not
/// the key itself: directory names are seen by anyone who can list the parent).
pub(crate) fn dsn_key(envelope_url: &str, public_key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in envelope_url.bytes().chain([0]).chain(public_key.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{Event, Transaction};

    /// A fresh directory under the system's temporary one, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "spool-unit-{name}-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn spool(dir: &Path, max_files: usize, max_bytes: u64) -> Arc<Spool> {
        let settings = SpoolSettings {
            dir: Some(dir.to_owned()),
            max_files,
            max_bytes,
            max_age: DEFAULT_MAX_AGE,
            pacing: PACING,
        };
        Spool::open(settings, "key", Arc::default()).expect("a directory is set")
    }

    fn at(secs_ago: u64) -> SystemTime {
        SystemTime::now() - Duration::from_secs(secs_ago)
    }

    fn error(message: &str, time: SystemTime) -> Envelope {
        Envelope::from(Event {
            message: Some(message.to_owned()),
            timestamp: time,
            ..Event::default()
        })
    }

    fn transaction(name: &str, time: SystemTime) -> Envelope {
        Envelope::from(Transaction {
            name: Some(name.to_owned()),
            start_timestamp: time,
            ..Transaction::default()
        })
    }

    /// The messages and transaction names in the spool directory, in sending order.
    fn on_disk(spool: &Spool) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&spool.dir)
            .expect("listing")
            .flatten()
            .filter_map(|d| d.file_name().to_str().map(str::to_owned))
            .filter(|n| n.ends_with(".envelope"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let bytes = fs::read(spool.dir.join(n)).expect("read");
                let envelope = Envelope::from_slice(&bytes).expect("a Sentry envelope");
                match envelope.items().next() {
                    Some(EnvelopeItem::Event(e)) => e.message.clone().unwrap_or_default(),
                    Some(EnvelopeItem::Transaction(t)) => t.name.clone().unwrap_or_default(),
                    _ => String::new(),
                }
            })
            .collect()
    }

    #[test]
    fn a_written_envelope_is_a_private_sentry_envelope_file_named_for_its_order() {
        let tmp = TempDir::new("write");
        let spool = spool(&tmp.0, 100, u64::MAX);
        spool.write(&error("first", at(10))).expect("written");
        spool.write(&transaction("GET /", at(20))).expect("written");
        spool.write(&error("second", at(5))).expect("written");
        // Errors first, oldest first; then transactions.
        assert_eq!(on_disk(&spool), ["first", "second", "GET /"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&spool.dir), 0o700);
            for file in fs::read_dir(&spool.dir).expect("listing").flatten() {
                assert_eq!(mode(&file.path()), 0o600, "{:?}", file.path());
            }
        }
        let leftovers = fs::read_dir(&spool.dir)
            .expect("listing")
            .flatten()
            .filter(|d| d.file_name().to_string_lossy().starts_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0, "no temporary file is left");
        let stats = spool.outcomes.snapshot();
        assert_eq!((stats.written, stats.evicted), (3, 0));
        assert_eq!(spool.outcomes.written_reports.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn names_round_trip_and_other_versions_are_told_apart() {
        let entry = Entry {
            class: Class::Transaction,
            micros: 1_700_000_000_000_000,
            pid: 42,
            seq: 7,
            bytes: 1234,
        };
        assert_eq!(parse_name(&entry.name()), Name::Entry(entry.clone()));
        let v2 = entry.name().replace(".v1.", ".v2.");
        assert_eq!(parse_name(&v2), Name::OtherVersion);
        let claimed = format!("{}.claimed-99-1700000000-00ff", entry.name());
        assert_eq!(
            parse_name(&claimed),
            Name::Claimed(entry.name(), 99, 1_700_000_000, "00ff".to_owned())
        );
        assert_eq!(parse_name(".tmp-1-2"), Name::Temp);
        assert_eq!(parse_name("notes.txt"), Name::Foreign);
    }

    #[test]
    fn a_spool_too_small_for_a_transaction_flood_keeps_every_error() {
        let tmp = TempDir::new("priority");
        let spool = spool(&tmp.0, 25, u64::MAX);
        let mut errors_written = 0;
        for i in 0..200u64 {
            spool
                .write(&transaction(&format!("tx {i}"), at(1000 - i)))
                .ok();
            if i % 10 == 0 {
                spool
                    .write(&error(&format!("error {i}"), at(1000 - i)))
                    .expect("an error always finds room while transactions are spooled");
                errors_written += 1;
            }
        }
        assert_eq!(errors_written, 20);
        let kept = on_disk(&spool);
        assert_eq!(kept.len(), 25);
        let errors: Vec<&String> = kept.iter().filter(|k| k.starts_with("error")).collect();
        assert_eq!(errors.len(), 20, "{kept:?}");
        // The transactions kept are the newest (oldest evicted first).
        let txs: Vec<&String> = kept.iter().filter(|k| k.starts_with("tx")).collect();
        assert_eq!(txs, ["tx 195", "tx 196", "tx 197", "tx 198", "tx 199"]);
        let stats = spool.outcomes.snapshot();
        assert_eq!(stats.evicted, 200 + 20 - 25);
        let told = spool.outcomes.take_report_items();
        let json =
            serde_json::to_string(&sentry::protocol::ClientReport::new(told)).expect("serialises");
        assert!(json.contains("\"transaction\""), "{json}");
        assert!(json.contains("buffer_overflow"), "{json}");
        assert!(!json.contains("\"error\""), "{json}");
    }

    #[test]
    fn a_spool_full_of_errors_evicts_the_oldest_error_and_refuses_a_transaction() {
        let tmp = TempDir::new("errors");
        let spool = spool(&tmp.0, 5, u64::MAX);
        for i in 0..8u64 {
            spool
                .write(&error(&format!("error {i}"), at(100 - i)))
                .expect("written");
        }
        assert_eq!(
            on_disk(&spool),
            ["error 3", "error 4", "error 5", "error 6", "error 7"]
        );
        assert_eq!(
            spool.write(&transaction("late", at(0))),
            Err(SpoolError::NoRoom)
        );
        assert_eq!(spool.outcomes.snapshot().evicted, 3 + 1);
        // By bytes too.
        let tmp = TempDir::new("bytes");
        let size = {
            let mut body = Vec::new();
            error("error 0", at(1)).to_writer(&mut body).expect("ser");
            body.len() as u64
        };
        let spool = self::spool(&tmp.0, 100, size * 3 + size / 2);
        for i in 0..6u64 {
            spool
                .write(&error(&format!("error {i}"), at(100 - i)))
                .expect("written");
        }
        assert_eq!(on_disk(&spool), ["error 3", "error 4", "error 5"]);
    }

    #[test]
    fn a_file_is_claimed_by_one_spool_only() {
        let tmp = TempDir::new("claim");
        let a = spool(&tmp.0, 100, u64::MAX);
        let b = spool(&tmp.0, 100, u64::MAX);
        a.write(&error("once", at(1))).expect("written");
        b.rescan();
        let entry = b.next(&[None; 4]).expect("b sees a's file");
        let first = a.claim(&entry);
        let second = b.claim(&entry);
        assert!(first.is_some());
        assert!(second.is_none(), "claimed twice");
        // A recent claim of a process that is gone on another host (a container sharing
        // the volume, whose process ids are its own) stays claimed.
        let (_, claimed, _) = first.expect("claimed");
        let elsewhere = claimed
            .to_string_lossy()
            .replace(&format!("claimed-{}-", std::process::id()), "claimed-0-");
        let elsewhere = elsewhere.replace(host_key(), "0000000000000000");
        fs::rename(&claimed, &elsewhere).expect("rename");
        b.rescan();
        assert_eq!(b.next(&[None; 4]), None);
        // On this host, a claim of a process that is gone is put back at once.
        let here = elsewhere.replace("0000000000000000", host_key());
        fs::rename(&elsewhere, &here).expect("rename");
        b.rescan();
        assert_eq!(b.next(&[None; 4]), Some(entry));
    }

    #[test]
    fn corrupt_truncated_and_other_version_files_are_counted_never_sent() {
        let tmp = TempDir::new("corrupt");
        let spool = spool(&tmp.0, 100, u64::MAX);
        spool.write(&error("good", at(3))).expect("written");
        let good = spool.next(&[None; 4]).expect("entry");
        let bytes = fs::read(spool.dir.join(good.name())).expect("read");
        // Truncated in its item, and garbage, each under a valid name.
        let truncated = Entry {
            seq: 1000,
            micros: good.micros - 2,
            ..good.clone()
        };
        let garbage = Entry {
            seq: 1001,
            micros: good.micros - 1,
            ..good.clone()
        };
        // Private, as this crate writes its files: only their content is wrong.
        for (entry, content) in [
            (&truncated, &bytes[..bytes.len() - 10]),
            (&garbage, b"\x00\x01 not an envelope".as_slice()),
        ] {
            let path = spool.dir.join(entry.name());
            fs::write(&path, content).expect("plant");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
            }
        }
        let other = good.name().replace(".v1.", ".v0.");
        fs::write(spool.dir.join(&other), &bytes).expect("plant");
        spool.rescan();
        spool.rescan();
        let mut sent = Vec::new();
        while let Some(entry) = spool.next(&[None; 4]) {
            if let Some((bytes, _, _)) = spool.claim(&entry) {
                sent.push(bytes);
            }
        }
        assert_eq!(sent.len(), 1, "only the good file is sent");
        let stats = spool.outcomes.snapshot();
        assert_eq!(stats.unreadable, 3, "two corrupt, one other version (once)");
        assert!(
            spool.dir.join(&other).exists(),
            "another version is left alone"
        );
        assert!(!spool.dir.join(truncated.name()).exists());
    }

    #[test]
    fn an_envelope_older_than_the_maximum_age_expires() {
        let tmp = TempDir::new("age");
        let settings = SpoolSettings {
            dir: Some(tmp.0.clone()),
            max_age: Duration::from_secs(60),
            ..SpoolSettings::default()
        };
        let spool = Spool::open(settings, "key", Arc::default()).expect("spool");
        spool.write(&error("old", at(120))).expect("written");
        spool.write(&error("new", at(1))).expect("written");
        let mut sent = 0;
        while let Some(entry) = spool.next(&[None; 4]) {
            sent += usize::from(spool.claim(&entry).is_some());
        }
        assert_eq!(sent, 1);
        assert_eq!(spool.outcomes.snapshot().expired, 1);
        assert_eq!(spool.outcomes.take_report_items().len(), 1);
    }

    #[test]
    fn a_directory_that_cannot_be_made_fails_each_write_counted() {
        let tmp = TempDir::new("unwritable");
        let file = tmp.0.join("a-file");
        fs::write(&file, b"").expect("file");
        // A directory below a regular file can never be made (root or not).
        let spool = spool(&file.join("spool"), 100, u64::MAX);
        for _ in 0..3 {
            assert_eq!(spool.write(&error("lost", at(1))), Err(SpoolError::Io));
        }
        assert_eq!(spool.outcomes.snapshot().write_failed, 3);
    }

    /// Whether this process may plant files of another user (root).
    fn root() -> bool {
        let root = euid() == Some(0);
        if !root {
            eprintln!("skipped: planting another user's files needs root");
        }
        root
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o7777
    }

    /// Everything the spool sends, claimed until it has nothing left.
    fn send_all(spool: &Spool) -> Vec<Envelope> {
        let mut sent = Vec::new();
        while let Some(entry) = spool.next(&[None; 4]) {
            if let Some((bytes, _, _)) = spool.claim(&entry) {
                sent.push(Envelope::from_slice(&bytes).expect("an envelope"));
            }
        }
        sent
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_or_shared_directory_is_never_written_read_nor_changed() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let tmp = TempDir::new("dirs");
        let elsewhere = tmp.0.join("elsewhere");
        fs::create_dir(&elsewhere).expect("dir");
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).expect("chmod");
        // <dir>/<key> a link to another directory.
        let base = tmp.0.join("base");
        fs::create_dir(&base).expect("dir");
        symlink(&elsewhere, base.join("key")).expect("link");
        let spool = spool(&base, 100, u64::MAX);
        assert_eq!(spool.write(&error("e", at(1))), Err(SpoolError::Io));
        assert_eq!(mode(&elsewhere), 0o755, "the link's target was changed");
        assert_eq!(fs::read_dir(&elsewhere).expect("list").count(), 0);
        // <dir> itself a link.
        let linked = tmp.0.join("linked");
        symlink(&base, &linked).expect("link");
        fs::remove_file(base.join("key")).expect("unlink");
        let spool = self::spool(&linked, 100, u64::MAX);
        assert_eq!(spool.write(&error("e", at(1))), Err(SpoolError::Io));
        assert!(!base.join("key").exists(), "written through the link");
        // A spool with a file in it, then its key directory made writable by others:
        // nothing in it is read or sent, and its mode is left as it is.
        let spool = self::spool(&base, 100, u64::MAX);
        spool.write(&error("e", at(1))).expect("written");
        fs::set_permissions(&spool.dir, fs::Permissions::from_mode(0o777)).expect("chmod");
        spool.rescan();
        assert_eq!(send_all(&spool).len(), 0);
        assert_eq!(spool.write(&error("e", at(1))), Err(SpoolError::Io));
        assert_eq!(mode(&spool.dir), 0o777);
        // <dir> writable by its group.
        let shared = tmp.0.join("shared");
        fs::create_dir(&shared).expect("dir");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o775)).expect("chmod");
        let spool = self::spool(&shared, 100, u64::MAX);
        assert_eq!(spool.write(&error("e", at(1))), Err(SpoolError::Io));
        assert_eq!(mode(&shared), 0o775);
        assert!(spool.outcomes.snapshot().write_failed >= 1);
        if !root() {
            return;
        }
        // <dir>/<key> of another user.
        let theirs = tmp.0.join("theirs");
        fs::create_dir_all(theirs.join("key")).expect("dir");
        fs::set_permissions(theirs.join("key"), fs::Permissions::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(theirs.join("key"), Some(65534), Some(65534)).expect("chown");
        let spool = self::spool(&theirs, 100, u64::MAX);
        assert_eq!(spool.write(&error("e", at(1))), Err(SpoolError::Io));
        assert_eq!(fs::read_dir(theirs.join("key")).expect("list").count(), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn files_this_crate_did_not_write_are_moved_aside_never_read_nor_sent() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let tmp = TempDir::new("planted");
        let spool = spool(&tmp.0, 100, u64::MAX);
        spool.write(&error("good", at(1))).expect("written");
        let good = spool.next(&[None; 4]).expect("entry");
        let bytes = fs::read(spool.dir.join(good.name())).expect("read");
        let planted = |seq: u64| Entry {
            seq,
            micros: good.micros - 10 + seq % 10,
            ..good.clone()
        };
        let outside = tmp.0.join("outside.envelope");
        fs::write(&outside, &bytes).expect("write");
        // A link to a file of the same size, a file readable by others, a FIFO.
        symlink(&outside, spool.dir.join(planted(1).name())).expect("link");
        let open = spool.dir.join(planted(2).name());
        fs::write(&open, &bytes).expect("write");
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).expect("chmod");
        let fifo = std::ffi::CString::new(
            spool
                .dir
                .join(planted(3).name())
                .to_string_lossy()
                .as_bytes(),
        )
        .expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
        let mut expected = 3;
        if root() {
            let theirs = spool.dir.join(planted(4).name());
            fs::write(&theirs, &bytes).expect("write");
            fs::set_permissions(&theirs, fs::Permissions::from_mode(0o600)).expect("chmod");
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
            expected += 1;
        }
        spool.rescan();
        let sent = send_all(&spool);
        assert_eq!(sent.len(), 1, "only the file this crate wrote is sent");
        let stats = spool.outcomes.snapshot();
        assert_eq!(stats.refused, expected, "{stats:?}");
        assert_eq!(stats.unreadable, 0, "{stats:?}");
        let aside = fs::read_dir(&spool.dir)
            .expect("list")
            .flatten()
            .filter(|d| d.file_name().to_string_lossy().ends_with(".refused"))
            .count() as u64;
        assert_eq!(aside, expected, "moved aside, not removed");
        assert_eq!(
            fs::read(&outside).expect("kept"),
            bytes,
            "the link's target is left alone"
        );
        // Moved aside once: a later listing neither sends nor counts them again.
        spool.rescan();
        assert_eq!(send_all(&spool).len(), 0);
        assert_eq!(spool.outcomes.snapshot().refused, expected);
    }

    #[test]
    fn a_file_of_another_size_than_its_name_states_is_removed_never_read_whole() {
        let tmp = TempDir::new("sizes");
        let spool = spool(&tmp.0, 100, u64::MAX);
        spool.write(&error("good", at(1))).expect("written");
        let good = spool.next(&[None; 4]).expect("entry");
        let bytes = fs::read(spool.dir.join(good.name())).expect("read");
        let private = |path: &Path| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod");
            }
            let _ = path;
        };
        // 64 GiB (sparse) where the name says 100 bytes: read whole, this test would not
        // end.
        let huge = spool.dir.join(
            Entry {
                seq: 901,
                bytes: 100,
                ..good.clone()
            }
            .name(),
        );
        let file = fs::File::create(&huge).expect("create");
        file.set_len(64 << 30).expect("sparse");
        drop(file);
        private(&huge);
        // Shorter than its name states.
        let short = spool.dir.join(
            Entry {
                seq: 902,
                bytes: bytes.len() as u64 + 5,
                ..good.clone()
            }
            .name(),
        );
        fs::write(&short, &bytes).expect("write");
        private(&short);
        // A name stating more than a spooled file may hold.
        let over = spool.dir.join(
            Entry {
                seq: 903,
                bytes: MAX_FILE_BYTES + 1,
                ..good.clone()
            }
            .name(),
        );
        fs::write(&over, &bytes).expect("write");
        private(&over);
        spool.rescan();
        let sent = send_all(&spool);
        assert_eq!(sent.len(), 1);
        let stats = spool.outcomes.snapshot();
        assert_eq!((stats.unreadable, stats.refused), (3, 0), "{stats:?}");
        for path in [&huge, &short, &over] {
            assert!(!path.exists(), "{path:?} removed");
        }
    }

    #[test]
    fn only_item_types_the_live_path_sends_are_sent_from_the_spool() {
        let tmp = TempDir::new("items");
        let spool = spool(&tmp.0, 100, u64::MAX);
        let attachment = || {
            EnvelopeItem::Attachment(sentry::protocol::Attachment {
                buffer: b"\x00\x01 a core dump".to_vec(),
                filename: "core.bin".into(),
                ..Default::default()
            })
        };
        let mut mixed = error("with an attachment", at(3));
        mixed.add_item(attachment());
        spool.write(&mixed).expect("written");
        let mut alone = Envelope::new();
        alone.add_item(attachment());
        alone.add_item(attachment());
        spool.write(&alone).expect("written");
        let sent = send_all(&spool);
        assert_eq!(sent.len(), 1, "the attachments alone are not sent");
        let items: Vec<&EnvelopeItem> = sent[0].items().collect();
        assert_eq!(items.len(), 1);
        assert!(
            matches!(items[0], EnvelopeItem::Event(e) if e.message.as_deref() == Some("with an attachment"))
        );
        assert_eq!(spool.outcomes.snapshot().refused_items, 3);
        // The attachments-only file is removed; the other one is claimed (being sent).
        assert_eq!(fs::read_dir(&spool.dir).expect("list").count(), 1);
    }

    #[test]
    fn paused_classes_are_skipped() {
        let tmp = TempDir::new("paused");
        let spool = spool(&tmp.0, 100, u64::MAX);
        spool.write(&error("e", at(1))).expect("written");
        spool.write(&transaction("t", at(2))).expect("written");
        let mut paused = [None; 4];
        paused[Class::Error as usize] = Some(Instant::now() + Duration::from_secs(60));
        assert_eq!(
            spool.next(&paused).map(|e| e.class),
            Some(Class::Transaction)
        );
    }
}
