//! Whether a string looks random, by character-class statistics.
//!
//! Generated credentials are drawn uniformly from an alphabet (base62, base64, base64url,
//! hex, Crockford base32): letters of both cases and digits alternate often, many
//! different characters appear, and neighbouring letters rarely form the letter pairs of
//! words. Identifiers written by people (`maxConnectionPoolSize`,
//! `HttpRequestHandlerFactory2`, `test_user_creation_flow`) fail on the last: nearly all
//! their letter pairs are common ones. The test is in the spirit of ripsecrets'
//! "p_random" (counts compared with what a uniform draw gives), with counts taken in one
//! pass and one 26×26 table of common letter pairs ([`COMMON_PAIRS`]).
//!
//! Hex and single-case strings are reported as their own shapes: digests, commit ids,
//! trace ids, UUIDs, ULIDs and pod-name hashes have them, so on their own they are never
//! secrets; with a vendor prefix or next to a secret word they are.

/// Character-class counts of a candidate, in one pass (ASCII only; any other byte makes
/// the candidate not a token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Letters and digits.
    pub(crate) alnum: usize,
    pub(crate) upper: usize,
    pub(crate) lower: usize,
    pub(crate) digit: usize,
    /// Vowels among the letters (`aeiou`, either case).
    pub(crate) vowels: usize,
    /// Changes of class (upper, lower, digit) between neighbouring letters and digits.
    pub(crate) switches: usize,
    /// Longest run of lower-case letters.
    pub(crate) lower_run: usize,
    /// Longest run of upper-case letters.
    pub(crate) upper_run: usize,
    /// Whether every letter is a hex digit (`a-f`, `A-F`).
    pub(crate) hex_letters: bool,
    /// Bytes that are not letters or digits.
    pub(crate) other: usize,
    /// Neighbouring letters within a word (not across a lower-to-upper case change).
    pub(crate) pairs: usize,
    /// Of those, pairs common in words ([`COMMON_PAIRS`]).
    pub(crate) common_pairs: usize,
    /// Distinct letters and digits (up to 62).
    pub(crate) distinct: usize,
    /// Neighbours in alphabet order (`ab`, `45`): runs such as `abcdef` or `0123`.
    pub(crate) ascending: usize,
    /// Letters in words of three or more (split at digits, symbols and lower-to-upper
    /// case changes, as `HttpRequest` is `Http`, `Request`): nearly all of an
    /// identifier's letters, about half of a random string's.
    pub(crate) long_word_letters: usize,
}

/// The letter pairs that make up 97% of the pairs in the words of identifiers and docs
/// (6,000 Rust source files of the crates.io registry, split at case changes and `_`;
/// 281 of the 676 pairs). Row `a` has bit `b` set when the pair `ab` is common. A
/// uniform draw of letters hits 42% of the time; words, 97%.
const COMMON_PAIRS: [u32; 26] = [
    0x1febd6e, 0x1164911, 0x01eddb7, 0x1164959, 0x1efb87f, 0x01e7979, 0x0166110, 0x01a4111,
    0x2aef87f, 0x0000000, 0x0000110, 0x11c493d, 0x01cd11b, 0x17ced7d, 0x07efd6e, 0x11ecd91,
    0x0100000, 0x13ef97d, 0x11efd95, 0x19ed9bd, 0x00eb97f, 0x000c111, 0x0066191, 0x0088000,
    0x00ca000, 0x0000010,
];

fn common_pair(a: u8, b: u8) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    COMMON_PAIRS[usize::from(a - b'a')] & (1 << (b - b'a')) != 0
}

/// Counts the classes of `s`.
pub(crate) fn stats(s: &[u8]) -> Stats {
    let mut st = Stats {
        hex_letters: true,
        ..Stats::default()
    };
    let (mut prev, mut lower_run, mut upper_run) = (0u8, 0usize, 0usize);
    let mut prev_byte = 0u8;
    let mut seen = 0u128;
    let mut word = 0usize;
    for &c in s {
        let class = match c {
            b'A'..=b'Z' => 1,
            b'a'..=b'z' => 2,
            b'0'..=b'9' => 3,
            _ => 0,
        };
        // Words of letters: a digit, a symbol or a lower-to-upper change ends one.
        if class == 0 || class == 3 || (prev == 2 && class == 1) {
            if word >= 3 {
                st.long_word_letters += word;
            }
            word = 0;
        }
        if class == 1 || class == 2 {
            word += 1;
        }
        if class == 0 {
            st.other += 1;
            lower_run = 0;
            upper_run = 0;
            prev = 0;
            prev_byte = c;
            continue;
        }
        st.alnum += 1;
        if c == prev_byte.wrapping_add(1) {
            st.ascending += 1;
        }
        if seen & (1 << c) == 0 {
            seen |= 1 << c;
            st.distinct += 1;
        }
        if class != 3 && matches!(prev, 1 | 2) && !(prev == 2 && class == 1) {
            st.pairs += 1;
            if common_pair(prev_byte, c) {
                st.common_pairs += 1;
            }
        }
        prev_byte = c;
        if prev != 0 && prev != class {
            st.switches += 1;
        }
        prev = class;
        match class {
            1 => {
                st.upper += 1;
                upper_run += 1;
                lower_run = 0;
            }
            2 => {
                st.lower += 1;
                lower_run += 1;
                upper_run = 0;
            }
            _ => {
                st.digit += 1;
                lower_run = 0;
                upper_run = 0;
            }
        }
        st.lower_run = st.lower_run.max(lower_run);
        st.upper_run = st.upper_run.max(upper_run);
        if class != 3 {
            if matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u') {
                st.vowels += 1;
            }
            if !c.is_ascii_hexdigit() {
                st.hex_letters = false;
            }
        }
    }
    if word >= 3 {
        st.long_word_letters += word;
    }
    st
}

impl Stats {
    fn letters(&self) -> usize {
        self.upper + self.lower
    }

    /// Hex digits only, with both digits and letters (a digest, a commit id, a trace id).
    pub(crate) fn is_hex(&self) -> bool {
        self.hex_letters && self.digit > 0 && self.letters() > 0
    }

    /// Drawn from a mixed-case alphabet (base62, base64): both cases and, for shorter
    /// strings, digits; classes alternating as in a uniform draw; few vowels; no word-long
    /// runs. `min` is the least count of letters and digits.
    pub(crate) fn random_mixed(&self, min: usize) -> bool {
        let n = self.alnum;
        if n < min || self.upper < 2 || self.lower < 2 || (self.digit == 0 && n < 24) {
            return false;
        }
        self.uniform(n)
    }

    /// What a uniform draw of `n` characters shows: letter pairs not mostly those of
    /// words, many different characters, no alphabet-long runs of one case; for shorter
    /// strings, classes alternating too (a draw from base62 changes class at 62% of
    /// positions, camelCase words at about 10%). Of 10,000 uniform base62 draws,
    /// [`random_mixed`](Self::random_mixed) rejects about 7% at 16 characters (most have
    /// no digit, or fewer than two letters of a case), 0.3% at 24 and none from 32
    /// (`uniform_draws_look_random`); of 6,200 mixed-case identifiers of 16 characters or
    /// more from registry sources, it accepts base64 data and a few names such as
    /// `Tls12AeadAlgorithm`.
    fn uniform(&self, n: usize) -> bool {
        // Words: most letters in words of three or more, whose letter pairs are common.
        self.uniform_with(n, self.long_word_letters * 10 >= self.letters() * 7)
    }

    /// [`uniform`](Self::uniform), `in_words` saying whether most letters are in words.
    fn uniform_with(&self, n: usize, in_words: bool) -> bool {
        let runs_ok = self.lower_run.max(self.upper_run) <= 8 + n / 4 && self.ascending * 5 < n;
        if n >= 32 {
            let wordy = in_words && self.pairs >= 8 && self.common_pairs * 20 >= self.pairs * 17;
            return runs_ok && !wordy && self.distinct >= 12;
        }
        let switches_ok = self.switches * 5 >= n - 1;
        let diverse = self.distinct * 2 >= n;
        let wordy = in_words && self.pairs >= 5 && self.common_pairs * 5 >= self.pairs * 4;
        runs_ok && switches_ok && diverse && !wordy
    }

    /// Drawn from a single-case alphabet with digits (base36, Crockford base32; lower-case
    /// hex is [`is_hex`](Self::is_hex)): digits and letters both common, and uniform.
    pub(crate) fn random_single_case(&self, min: usize) -> bool {
        let n = self.alnum;
        // One case has no case changes to split words at: any common pairs are words.
        n >= min
            && self.digit * 10 >= n
            && self.letters() * 10 >= n * 3
            && self.uniform_with(n, true)
    }

    /// A password or key a person might choose, as a value after a secret word: letters
    /// and digits mixed, or mixed case past the first letter, or a symbol between word
    /// characters. A plain word (`reset`, `Invalid`) or a number is not.
    pub(crate) fn credential_like(&self, s: &[u8]) -> bool {
        if s.len() < 4 || self.alnum == 0 {
            return false;
        }
        let letters = self.letters();
        let mixed_case =
            self.lower > 0 && (self.upper > 1 || (self.upper == 1 && !s[0].is_ascii_uppercase()));
        // Not `-`, `'`, `.` or `_`: `well-known`, `don't`, `e.g.`, `auth_method` are words.
        let symbol_inside = self.other > 0
            && s.len() > 2
            && s[1..s.len() - 1].iter().any(|c| {
                matches!(
                    c,
                    b'!' | b'@'
                        | b'#'
                        | b'$'
                        | b'%'
                        | b'^'
                        | b'&'
                        | b'*'
                        | b'+'
                        | b'='
                        | b'?'
                        | b'~'
                )
            });
        (letters > 0 && self.digit > 0) || mixed_case || (symbol_inside && letters > 0)
    }
}

/// Hash and digest names that prefix a digest, never a credential (`sha512-<base64>`
/// integrity strings, `sha256:<hex>` image digests).
pub(crate) fn is_digest_name(word: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"sha1", b"sha224", b"sha256", b"sha384", b"sha512", b"sha3", b"md5", b"blake2b",
        b"blake2s", b"blake3", b"crc32", b"xxh64", b"xxh3", b"murmur3", b"sha",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_token(rng: &mut fastrand::Rng, alphabet: &[u8], n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| alphabet[rng.usize(..alphabet.len())])
            .collect()
    }

    const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const BASE36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

    /// Uniform draws pass, all but the small share the docs of `uniform` state.
    #[test]
    fn uniform_draws_look_random() {
        let mut rng = fastrand::Rng::with_seed(21);
        // (length, most misses allowed of 10,000): about twice the measured share.
        for (n, bound) in [(16usize, 1_000), (24, 60), (32, 3), (40, 1), (64, 0)] {
            let missed = (0..10_000)
                .filter(|_| !stats(&random_token(&mut rng, BASE62, n)).random_mixed(16))
                .count();
            assert!(
                missed <= bound,
                "base62 length {n}: {missed} of 10000 missed"
            );
        }
        // Single-case bodies count only after a prefix naming a secret, from 24 on.
        for (n, bound) in [(24usize, 300), (32, 200)] {
            let missed = (0..2_000)
                .filter(|_| !stats(&random_token(&mut rng, BASE36, n)).random_single_case(24))
                .count();
            assert!(
                missed <= bound,
                "base36 length {n}: {missed} of 2000 missed"
            );
        }
    }

    #[test]
    fn words_and_identifiers_do_not() {
        for s in [
            "maxConnectionPoolSizePerHost",
            "getConfigurationValueForKey",
            "ThisIsAVeryLongClassNameHere",
            "test_user_creation_flow_handles",
            "ABCDEFGHIJKLmnopqrstuvwxyz0123456789",
            "HttpRequestHandlerFactory2",
            "XMLHttpRequestEventTarget",
            "userIdentityProviderSettingsV2",
            "InternalServerErrorException",
            "AbcdAbcdAbcdAbcdAbcdefgh",
            "DefaultCredentialsProviderChain",
            "RawIpv6PathMtuDiscovery",
            "PaddedBlockDecryptingKey",
        ] {
            let st = stats(s.as_bytes());
            assert!(!st.random_mixed(16), "{s}: {st:?}");
            assert!(!st.random_single_case(16), "{s}: {st:?}");
        }
        for s in [
            "orders-api-7d9f8b6c5d",
            "weekly-newsletter-digest",
            "2026-12-02t10-15-30",
            "20240312152122",
        ] {
            assert!(!stats(s.as_bytes()).random_single_case(16), "{s}");
        }
    }

    #[test]
    fn hex_is_its_own_shape() {
        let st = stats(b"9fceb02d0ae598e95dc970b74767f19372d61af8");
        assert!(st.is_hex());
        assert!(!st.random_mixed(16));
        assert!(!stats(b"deadbeef").random_mixed(4));
        assert!(!stats(b"1234567890").is_hex());
    }

    #[test]
    fn credential_like_values() {
        for s in [
            "hunter2",
            "Tk8Wm3Zx6Q",
            "pa$$word",
            "Qx7-Basic-Pw!",
            "aBcDeF",
            "p@ss",
        ] {
            assert!(stats(s.as_bytes()).credential_like(s.as_bytes()), "{s}");
        }
        for s in [
            "reset",
            "Invalid",
            "YES",
            "1234",
            "abc",
            "expired",
            "--",
            "a-b",
            "well-known",
            "auth_method",
        ] {
            assert!(!stats(s.as_bytes()).credential_like(s.as_bytes()), "{s}");
        }
    }
}
