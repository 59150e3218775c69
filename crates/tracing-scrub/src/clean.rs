//! The scrubber's memory of short texts in which it found nothing.

use std::sync::Mutex;

use rustc_hash::FxHashSet;

/// Longest text remembered as clean, in bytes.
pub(crate) const CLEAN_TEXT_BYTES: usize = 256;
/// Texts remembered as clean at most; the set starts over when full.
pub(crate) const CLEAN_TEXTS: usize = 2048;

/// Short texts in which the scrubber found nothing, remembered across reports: much of a
/// report is the same from one report to the next (the os, runtime and device contexts,
/// the location, logger, span names, exception types, breadcrumb categories and constant
/// messages). A text is remembered the second time it is found clean (the first time
/// only its hash is noted), so texts that never repeat (ids, counts) cost no copy. Only
/// texts found clean are kept, so nothing here is a secret; the verdict depends on the
/// text and the rules alone, both fixed for a `Scrubber`. At most [`CLEAN_TEXTS`] texts
/// of at most [`CLEAN_TEXT_BYTES`] bytes (512 KiB of text) and `4 * CLEAN_TEXTS` hashes;
/// each set starts over when full.
#[derive(Default)]
pub(crate) struct CleanTexts(Mutex<Remembered>);

#[derive(Default)]
pub(crate) struct Remembered {
    pub(crate) texts: FxHashSet<Box<str>>,
    /// Hashes of texts found clean once (a collision only remembers a clean text early).
    pub(crate) seen_once: FxHashSet<u64>,
}

impl std::fmt::Debug for CleanTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanTexts").finish_non_exhaustive()
    }
}

impl CleanTexts {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn contains(&self, text: &str) -> bool {
        text.len() <= CLEAN_TEXT_BYTES && self.lock().texts.contains(text)
    }

    /// Notes that `text` was found clean.
    pub(crate) fn insert(&self, text: &str) {
        if text.len() > CLEAN_TEXT_BYTES {
            return;
        }
        let hash = {
            use std::hash::BuildHasher;
            rustc_hash::FxBuildHasher.hash_one(text)
        };
        let mut remembered = self.lock();
        if remembered.seen_once.insert(hash) {
            if remembered.seen_once.len() > CLEAN_TEXTS * 4 {
                remembered.seen_once.clear();
            }
            return;
        }
        if remembered.texts.len() >= CLEAN_TEXTS {
            remembered.texts.clear();
        }
        remembered.texts.insert(text.into());
    }
}
