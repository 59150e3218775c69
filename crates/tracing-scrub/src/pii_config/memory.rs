//! The memory of what a PiiConfig's text rules found in short texts.

use std::hash::{BuildHasher, RandomState};
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
/// in short texts, remembered across reports: much of a report repeats from one to the
/// next (logger, exception types and values, breadcrumb categories, constant
/// messages), and each text was searched by every text rule. As the scrubber's own
/// memory of clean texts (`crate::clean`): a text is remembered the second time it is
/// searched (the first time only its hash is noted), so texts that never repeat cost no
/// copy; the findings depend on the text and the rules alone, both fixed for a
/// `PiiConfig`. A text with matches is not kept: only a keyed 128-bit hash of it, its
/// length and the matches' ranges and rules (so no secret stays here; the hash's keys
/// are random per process, so no text can be made to collide with another's on
/// purpose). At most 2,048 texts of at most 256 bytes and 8,192 hashes; each set starts
/// over when full.
#[derive(Default)]
pub(super) struct Findings {
    remembered: Mutex<Remembered>,
    /// Two independent keys of the hash of texts with matches.
    keys: (RandomState, RandomState),
}

#[derive(Default)]
struct Remembered {
    /// Texts in which nothing was found, by set of applications (a document selects a
    /// value with a few such sets).
    clean: FxHashMap<u64, FxHashSet<Box<str>>>,
    /// Matches by a fast hash of the set of applications and the text: the keyed hash
    /// of the text (the fast one is no proof), its length, the matches.
    found: FxHashMap<u64, (u128, usize, Box<[Found]>)>,
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
        self.remembered.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn digest(&self, text: &str) -> u128 {
        (u128::from(self.keys.0.hash_one(text)) << 64) | u128::from(self.keys.1.hash_one(text))
    }

    /// What was found in `text` for the applications in `selected`, if remembered;
    /// appended to `out`.
    pub(super) fn get(&self, selected: u64, text: &str, out: &mut Vec<Found>) -> bool {
        if text.len() > TEXT_BYTES {
            return false;
        }
        let remembered = self.lock();
        if remembered
            .clean
            .get(&selected)
            .is_some_and(|t| t.contains(text))
        {
            return true;
        }
        if remembered.found.is_empty() {
            return false;
        }
        match remembered
            .found
            .get(&FxBuildHasher.hash_one((selected, text)))
        {
            // (The ranges are checked against the text: a collision never panics.)
            Some((digest, len, found))
                if *len == text.len()
                    && *digest == self.digest(text)
                    && found.iter().all(|&(s, e, _, _)| {
                        s <= e && text.is_char_boundary(s) && text.is_char_boundary(e)
                    }) =>
            {
                out.extend_from_slice(found);
                true
            }
            _ => false,
        }
    }

    /// Notes what was found in `text` for the applications in `selected`.
    pub(super) fn insert(&self, selected: u64, text: &str, found: &[Found]) {
        if text.len() > TEXT_BYTES {
            return;
        }
        let hash = FxBuildHasher.hash_one((selected, text));
        let digest = (!found.is_empty()).then(|| self.digest(text));
        let mut remembered = self.lock();
        if remembered.seen_once.insert(hash) {
            if remembered.seen_once.len() > TEXTS * 4 {
                remembered.seen_once.clear();
            }
            return;
        }
        if remembered.count >= TEXTS {
            remembered.clean.clear();
            remembered.found.clear();
            remembered.count = 0;
        }
        let new = match digest {
            None => remembered
                .clean
                .entry(selected)
                .or_default()
                .insert(text.into()),
            Some(digest) => remembered
                .found
                .insert(hash, (digest, text.len(), found.into()))
                .is_none(),
        };
        if new {
            remembered.count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text is remembered the second time; one with matches by its keyed hash only,
    /// so the secret in it is not kept; another text of another length never gets its
    /// matches.
    #[test]
    fn findings_are_remembered_without_the_text_that_holds_them() {
        let memory = Findings::default();
        let secret = "postgres://orders:s3cr3t@db.internal/orders";
        let found = [(11, 24, 0, 2)];
        let mut out = Vec::new();
        memory.insert(1, secret, &found);
        assert!(
            !memory.get(1, secret, &mut out),
            "remembered the second time"
        );
        memory.insert(1, secret, &found);
        assert!(memory.get(1, secret, &mut out));
        assert_eq!(out, found);
        assert!(
            !memory.get(2, secret, &mut out),
            "another set of applications"
        );
        assert!(!memory.get(1, "postgres://orders@db.internal", &mut out));
        memory.insert(1, "clean text", &[]);
        memory.insert(1, "clean text", &[]);
        assert!(memory.get(1, "clean text", &mut out));
        let remembered = memory.lock();
        assert!(remembered.clean.values().flatten().all(|t| &**t != secret));
        assert_eq!(remembered.found.len(), 1);
    }
}
