//! The memory of what a PiiConfig's text rules found in short texts.

use std::hash::BuildHasher;
use std::sync::Mutex;

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

/// Longest text remembered, in bytes.
const TEXT_BYTES: usize = 256;
/// Texts remembered at most; the set starts over when full.
const TEXTS: usize = 2048;

/// One match of a text rule: its byte range in the text and the rule (the index of
/// its application and of the rule in it).
pub(super) type Found = (usize, usize, u32, u32);

/// What the text rules of a set of applications (a bit set of their indices) found
/// in short texts (nothing, mostly), remembered across reports: much of a report
/// repeats from one to the next (logger, exception types and values, breadcrumb
/// categories, constant messages), and each text was searched by every text rule. As
/// the scrubber's own memory of clean texts (`crate::clean`): a text is remembered
/// the second time it is searched (the first time only its hash is noted), so texts
/// that never repeat cost no copy; the findings depend on the text and the rules
/// alone, both fixed for a `PiiConfig`. At most 2,048 texts of at most 256 bytes (with
/// their matches' ranges, the only part of a secret kept is where it was) and 8,192
/// hashes; each set starts over when full.
#[derive(Default)]
pub(super) struct Findings(Mutex<Remembered>);

#[derive(Default)]
struct Remembered {
    /// By set of applications (a document selects a value with a few such sets).
    texts: FxHashMap<u64, FxHashMap<Box<str>, Box<[Found]>>>,
    count: usize,
    seen_once: FxHashSet<u64>,
}

impl std::fmt::Debug for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Findings").finish_non_exhaustive()
    }
}

impl Findings {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was found in `text` for the applications in `selected`, if remembered;
    /// appended to `out`.
    pub(super) fn get(&self, selected: u64, text: &str, out: &mut Vec<Found>) -> bool {
        if text.len() > TEXT_BYTES {
            return false;
        }
        let remembered = self.lock();
        match remembered.texts.get(&selected).and_then(|t| t.get(text)) {
            Some(found) => {
                out.extend_from_slice(found);
                true
            }
            None => false,
        }
    }

    /// Notes what was found in `text` for the applications in `selected`.
    pub(super) fn insert(&self, selected: u64, text: &str, found: &[Found]) {
        if text.len() > TEXT_BYTES {
            return;
        }
        let hash = FxBuildHasher.hash_one((selected, text));
        let mut remembered = self.lock();
        if remembered.seen_once.insert(hash) {
            if remembered.seen_once.len() > TEXTS * 4 {
                remembered.seen_once.clear();
            }
            return;
        }
        if remembered.count >= TEXTS {
            remembered.texts.clear();
            remembered.count = 0;
        }
        if remembered
            .texts
            .entry(selected)
            .or_default()
            .insert(text.into(), found.into())
            .is_none()
        {
            remembered.count += 1;
        }
    }
}
