//! Flood control: each callsite may send a bounded number of reports per window;
//! later ones in the window are counted and dropped before any work is done, and the
//! next report that goes through says how many were held back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::Metadata;

/// Reports one callsite may send per window, by default.
pub const DEFAULT_REPORTS_PER_WINDOW: u32 = 100;
/// The flood-control window, by default.
pub const DEFAULT_FLOOD_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Slot {
    window_start: Instant,
    sent: u32,
    suppressed: u64,
}

#[derive(Debug)]
pub(crate) struct FloodControl {
    limit: Option<(u32, Duration)>,
    slots: Mutex<HashMap<usize, Slot>>,
}

impl FloodControl {
    pub(crate) fn new(limit: Option<(u32, Duration)>) -> Self {
        FloodControl {
            limit,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` if this callsite may report now (`n` held back since its last report),
    /// `None` if it is over its limit for the current window.
    ///
    /// `normalized` is the record's own metadata for a `log` record (tracing-log), whose
    /// callsite metadata is shared by every record of its level.
    pub(crate) fn admit(
        &self,
        metadata: &'static Metadata<'static>,
        normalized: Option<&Metadata<'_>>,
    ) -> Option<u64> {
        // Keyed by callsite for now; keying `log` records by `normalized` is the
        // isolation work (issue 11).
        let _ = normalized;
        let Some((per_window, window)) = self.limit else {
            return Some(0);
        };
        // A callsite's metadata is a static: its address identifies it.
        let key = metadata as *const Metadata<'static> as usize;
        let now = Instant::now();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = slots.entry(key).or_insert(Slot {
            window_start: now,
            sent: 0,
            suppressed: 0,
        });
        if now.duration_since(slot.window_start) >= window {
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
}
