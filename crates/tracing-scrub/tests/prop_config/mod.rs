//! The proptest configuration of this crate's property tests.
//!
//! CI runs a fixed sample: a fixed seed, so a failure in CI is the same failure on
//! every machine, and the cases a test names, small enough for debug builds. Failures
//! found once are replayed first from the test's `*.proptest-regressions` file
//! (committed), so a fixed seed never hides a bug already seen.
//!
//! To explore for new failures, run a release build with more cases and fresh seeds:
//!
//! ```text
//! for i in 1 2 3 4 5; do
//!   PROPTEST_CASES=20000 PROPTEST_RNG_SEED=$RANDOM$RANDOM \
//!     cargo test -p tracing-scrub --release --test scrub_properties
//! done
//! ```
//!
//! `PROPTEST_CASES` and `PROPTEST_RNG_SEED` (a decimal `u64`) override the defaults
//! here; a failure is shrunk and written to the regression file: commit it with the fix.

use proptest::test_runner::{Config, RngSeed};

/// The seed of a run without `PROPTEST_RNG_SEED`.
pub const SEED: u64 = 0x5c20_b0e5;

/// `cases` cases from [`SEED`], unless the environment names others.
pub fn config(cases: u32) -> Config {
    // `Config::default()` has read the `PROPTEST_*` variables already.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    // The properties reject a few percent of draws (text that is personal data, not
    // ordinary text): allow that share of many cases, not proptest's fixed 1024.
    if std::env::var_os("PROPTEST_MAX_GLOBAL_REJECTS").is_none() {
        config.max_global_rejects = config.max_global_rejects.max(config.cases / 4);
    }
    config
}
