//! Release health in request mode (opt-in): one session outcome per request, counted on
//! the calling thread when the request's root span closes and sent by the worker as
//! Sentry's `sessions` item (`SessionAggregates`), as sentry-core's `SessionFlusher`
//! does in `SessionMode::Request` (<https://develop.sentry.dev/sdk/telemetry/sessions/>,
//! "Session Aggregates"): one bucket per started minute and distinct id, sent every
//! [`FLUSH_INTERVAL`], at every flush and at shutdown.
//!
//! A request costs one lock of a small map: no queue place, no allocation unless its
//! minute or user is new. Its outcome ([`outcome`]):
//! - `crashed`: it panicked (the panic hook saw the panic inside it, or its root span
//!   closed while its thread unwound);
//! - `errored`: an error event or panic in it was admitted for reporting (sampled out or
//!   held back by flood control too: the request failed either way);
//! - `exited`: neither.
//!
//! A request ends when its root span closes: when the last handle to it is dropped, so a
//! background task spawned with `.in_current_span()` is part of its request and the
//! request is counted when that task ends too (with its error, if it had one).
//!
//! At `process::exit` a request still open is counted only if it failed: `errored`
//! (`crashed` if it panicked), what was seen of it ([`Sessions::end_failed_at_exit`]).
//! A request still open without a failure is not counted: it cannot be told apart from
//! a connection or worker span that never closes. `abnormal` is not used (Sentry means
//! a session whose end its SDK did not see, a killed process: this crate's sessions are
//! counted only where it sees them end, or fail).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry::protocol::{SessionAggregateItem, SessionAggregates, SessionAttributes};
use sentry::Envelope;

use std::sync::Weak;

use crate::request::{RequestState, SpanNode};
use crate::sync::{lock, Wait};

/// How often aggregates are sent: sentry-core's `FLUSH_INTERVAL` (60 s).
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// Failed requests still open remembered for `process::exit` (a bound on memory; older
/// ones that have ended are pruned first).
pub(crate) const MAX_OPEN_FAILED: usize = 10_000;

/// Distinct ids (users) kept per flush interval; the requests of further users are
/// counted without one, so memory stays bounded whatever the traffic.
pub(crate) const MAX_DISTINCT_IDS: usize = 1000;

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Exited,
    Errored,
    Crashed,
}

/// A request's outcome: `crashed` wins over `errored` (Sentry counts each session once).
pub(crate) fn outcome(crashed: bool, errored: bool) -> Outcome {
    if crashed {
        Outcome::Crashed
    } else if errored {
        Outcome::Errored
    } else {
        Outcome::Exited
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    exited: u32,
    errored: u32,
    crashed: u32,
}

/// Bucket key: the started minute (seconds since the epoch, a multiple of 60) and the
/// distinct id.
type Key = (u64, Option<Arc<str>>);

/// A failed request that may still be open, and its user.
type OpenFailed = (Weak<RequestState>, Option<Arc<str>>);

/// The outcomes counted since the last send, and the attributes every aggregate carries.
#[derive(Debug)]
pub(crate) struct Sessions {
    attributes: SessionAttributes<'static>,
    buckets: Mutex<HashMap<Key, Counts>>,
    /// Requests counted so far ([`ReportStats::sessions`](crate::ReportStats::sessions)).
    pub(crate) recorded: AtomicU64,
    /// Requests that failed (errored or crashed) and may still be open, with their user:
    /// counted at `process::exit` if they are.
    open_failed: Mutex<Vec<OpenFailed>>,
}

impl Sessions {
    /// Sessions of a client: its release and environment are the aggregates' `attrs`.
    /// `None` without a release: Sentry's release health is per release, and Relay drops
    /// sessions without one (sentry-core starts none either).
    pub(crate) fn new(options: &sentry::ClientOptions) -> Option<Sessions> {
        let release = options.release.clone()?;
        Some(Sessions {
            attributes: SessionAttributes {
                release,
                environment: options.environment.clone(),
                ip_address: None,
                user_agent: None,
            },
            buckets: Mutex::new(HashMap::new()),
            recorded: AtomicU64::new(0),
            open_failed: Mutex::new(Vec::new()),
        })
    }

    /// Counts a request that started at `started`, of user `user`, ending as `outcome`.
    pub(crate) fn record(&self, started: SystemTime, user: Option<&Arc<str>>, outcome: Outcome) {
        let secs = started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let minute = secs - secs % 60;
        let Some(mut buckets) = lock(&self.buckets, Wait::Block) else {
            return;
        };
        // Past the bound a new user's request is counted without its id.
        let user = user.filter(|user| {
            buckets.len() < MAX_DISTINCT_IDS
                || buckets.contains_key(&(minute, Some((*user).clone())))
        });
        let counts = buckets.entry((minute, user.cloned())).or_default();
        let slot = match outcome {
            Outcome::Exited => &mut counts.exited,
            Outcome::Errored => &mut counts.errored,
            Outcome::Crashed => &mut counts.crashed,
        };
        *slot = slot.saturating_add(1);
        drop(buckets);
        self.recorded.fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers the request of span `node`, which just failed for the first time, to be
    /// counted at `process::exit` if it is still open then; with the user the nearest
    /// span holds. `wait`: the panic hook never waits (the request is then not
    /// remembered).
    pub(crate) fn failed(&self, node: &Arc<SpanNode>, wait: Wait) {
        let request = &node.request;
        if request.started.is_none() || !request.may_be_transaction {
            return;
        }
        let user = node
            .scope()
            .find_map(|span| lock(&span.data, wait).and_then(|data| data.identity.user.clone()));
        let Some(mut open) = lock(&self.open_failed, wait) else {
            return;
        };
        if open.len() >= MAX_OPEN_FAILED {
            open.retain(|(request, _)| {
                request
                    .upgrade()
                    .is_some_and(|r| !r.session_counted.load(Ordering::Relaxed))
            });
            if open.len() >= MAX_OPEN_FAILED {
                return;
            }
        }
        open.push((Arc::downgrade(request), user));
    }

    /// Counts the failed requests still open (their root span not closed) as `errored`,
    /// or `crashed` if they panicked: called at `process::exit`, which ends them unseen.
    /// Returns how many.
    pub(crate) fn end_failed_at_exit(&self) -> usize {
        let open = match lock(&self.open_failed, Wait::Block) {
            Some(mut open) => std::mem::take(&mut *open),
            None => return 0,
        };
        let mut counted = 0;
        for (request, user) in open {
            let Some(request) = request.upgrade() else {
                continue;
            };
            let Some(started) = request.started else {
                continue;
            };
            if request.session_counted.swap(true, Ordering::Relaxed) {
                continue;
            }
            self.record(started, user.as_ref(), outcome(request.crashed(), true));
            counted += 1;
        }
        counted
    }

    /// The aggregates counted since the last call; `None` when there are none.
    pub(crate) fn take(&self) -> Option<SessionAggregates<'static>> {
        let buckets = std::mem::take(&mut *lock(&self.buckets, Wait::Block)?);
        if buckets.is_empty() {
            return None;
        }
        let mut aggregates: Vec<SessionAggregateItem> = buckets
            .into_iter()
            .map(|((minute, user), counts)| SessionAggregateItem {
                started: UNIX_EPOCH + Duration::from_secs(minute),
                distinct_id: user.map(|user| user.to_string()),
                exited: counts.exited,
                errored: counts.errored,
                abnormal: 0,
                crashed: counts.crashed,
            })
            .collect();
        aggregates.sort_by_key(|a| a.started);
        Some(SessionAggregates {
            aggregates,
            attributes: self.attributes.clone(),
        })
    }

    /// Counts the request started by `node`, whose root span is closing, if it is one
    /// release health counts: the requests that may be transactions (a service's
    /// requests, not a library's DEBUG spans), started while sessions were on. Its
    /// distinct id is the user its root span holds (what an authentication middleware
    /// recorded on it), as sentry-core takes the scope's user id.
    pub(crate) fn end_request(&self, node: &SpanNode) {
        if !node.starts_request || !node.request.may_be_transaction {
            return;
        }
        let Some(started) = node.request.started else {
            return;
        };
        if node.request.session_counted.swap(true, Ordering::Relaxed) {
            return;
        }
        let crashed = node.request.crashed() || std::thread::panicking();
        let outcome = outcome(crashed, node.request.errored());
        let user = lock(&node.data, Wait::Block).and_then(|data| data.identity.user.clone());
        self.record(started, user.as_ref(), outcome);
    }
}

/// The worker's side: when the aggregates are due, and sending them.
#[derive(Debug)]
pub(crate) struct SessionSender {
    sessions: Arc<Sessions>,
    next: Instant,
}

impl SessionSender {
    pub(crate) fn new(sessions: Arc<Sessions>) -> SessionSender {
        SessionSender {
            sessions,
            next: Instant::now() + FLUSH_INTERVAL,
        }
    }

    /// When the next periodic send is due.
    pub(crate) fn due(&self) -> Instant {
        self.next
    }

    /// Sends the aggregates counted so far as one `sessions` envelope item, and starts
    /// the next interval.
    pub(crate) fn send(&mut self, client: &sentry::Client) {
        self.next = Instant::now() + FLUSH_INTERVAL;
        if let Some(aggregates) = self.sessions.take() {
            let mut envelope = Envelope::new();
            envelope.add_item(aggregates);
            client.send_envelope(envelope);
        }
    }
}

/// The earlier of two optional deadlines.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        let mut options = sentry::ClientOptions::default();
        options.release = Some("app@1".into());
        options.environment = Some("prod".into());
        Sessions::new(&options).expect("has a release")
    }

    #[test]
    fn outcomes_are_bucketed_by_started_minute_and_user() {
        let s = sessions();
        let t = UNIX_EPOCH + Duration::from_secs(6_000_030);
        let alice: Arc<str> = Arc::from("alice");
        s.record(t, Some(&alice), Outcome::Exited);
        s.record(t + Duration::from_secs(20), Some(&alice), Outcome::Errored);
        s.record(t, None, Outcome::Crashed);
        s.record(t + Duration::from_secs(40), None, Outcome::Exited);
        let taken = s.take().expect("counted");
        assert_eq!(taken.attributes.release, "app@1");
        assert_eq!(taken.attributes.environment.as_deref(), Some("prod"));
        let total: u32 = taken
            .aggregates
            .iter()
            .map(|a| a.exited + a.errored + a.crashed)
            .sum();
        assert_eq!(total, 4);
        assert_eq!(taken.aggregates.len(), 3, "{:?}", taken.aggregates);
        let alices = taken
            .aggregates
            .iter()
            .find(|a| a.distinct_id.as_deref() == Some("alice"))
            .expect("alice's bucket");
        assert_eq!((alices.exited, alices.errored), (1, 1));
        assert_eq!(alices.started, UNIX_EPOCH + Duration::from_secs(6_000_000));
        assert!(s.take().is_none(), "taken once");
    }

    #[test]
    fn distinct_ids_are_bounded() {
        let s = sessions();
        let t = UNIX_EPOCH + Duration::from_secs(60);
        for i in 0..MAX_DISTINCT_IDS + 50 {
            s.record(t, Some(&Arc::from(format!("u{i}"))), Outcome::Exited);
        }
        let taken = s.take().expect("counted");
        assert_eq!(taken.aggregates.len(), MAX_DISTINCT_IDS + 1);
        assert_eq!(
            taken.aggregates.iter().map(|a| a.exited).sum::<u32>() as usize,
            MAX_DISTINCT_IDS + 50
        );
    }

    #[test]
    fn no_release_no_sessions_and_crashed_wins() {
        assert!(Sessions::new(&sentry::ClientOptions::default()).is_none());
        assert_eq!(outcome(true, true), Outcome::Crashed);
        assert_eq!(outcome(false, true), Outcome::Errored);
        assert_eq!(outcome(false, false), Outcome::Exited);
    }
}
