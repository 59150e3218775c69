//! The memory of texts in which a PiiConfig's text rules found nothing.

use std::hash::BuildHasher;
use std::sync::Mutex;

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

/// Longest text remembered, in bytes.
const TEXT_BYTES: usize = 256;
/// Texts remembered at most; the set starts over when full.
const TEXTS: usize = 2048;

/// Short texts in which the text rules of a set of applications (a bit set of their
/// indices) found nothing, remembered across reports: much of a report repeats from
/// one to the next (logger, exception types, breadcrumb categories, constant
/// messages), and each text was searched by every text rule. As the scrubber's own
/// memory of clean texts (`crate::clean`): a text is remembered the second time it is
/// found clean (the first time only its hash is noted), so texts that never repeat
/// cost no copy; only texts found clean are kept; the verdict depends on the text and
/// the rules alone, both fixed for a `PiiConfig`. At most 2,048 texts of at most 256
/// bytes and 8,192 hashes; each set starts over when full.
#[derive(Default)]
pub(super) struct CleanTexts(Mutex<Remembered>);

#[derive(Default)]
struct Remembered {
    /// By set of applications (a document selects a value with a few such sets).
    texts: FxHashMap<u64, FxHashSet<Box<str>>>,
    count: usize,
    seen_once: FxHashSet<u64>,
}

impl std::fmt::Debug for CleanTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanTexts").finish_non_exhaustive()
    }
}

impl CleanTexts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `text` is known clean for the applications in `selected`.
    pub(super) fn contains(&self, selected: u64, text: &str) -> bool {
        if text.len() > TEXT_BYTES {
            return false;
        }
        self.lock()
            .texts
            .get(&selected)
            .is_some_and(|texts| texts.contains(text))
    }

    /// Notes that `text` was found clean for the applications in `selected`.
    pub(super) fn insert(&self, selected: u64, text: &str) {
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
            .insert(text.into())
        {
            remembered.count += 1;
        }
    }
}
