//! Property tests of structure an attacker got through: keys, separators and quotes
//! written as escapes (HTML character references, `\u`, `\x`, form encoding). Secrets,
//! keys, forms and which characters are escaped, and how, are all generated; harmless
//! text escaped the same way must come out unchanged.

mod prop_config;

use proptest::prelude::*;
use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(|| Scrubber::new(&ScrubRules::default()).expect("defaults compile"))
}

fn scrub(text: &str) -> String {
    scrubber()
        .scrub_str(text, &mut ScrubReport::default())
        .into_owned()
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{10,20}".prop_map(|s| format!("Zq8{s}"))
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "db_password",
    "client_secret",
    "api_key",
    "access_token",
    "secret",
    "auth_token",
];

/// Forms of a pair: `{k}` the key, `{v}` the value.
const FORMS: &[&str] = &[
    "{k}={v}",
    "{k}: {v}",
    "\"{k}\":\"{v}\"",
    "{\"{k}\": \"{v}\"}",
    "'{k}' => '{v}'",
    "<{k}>{v}</{k}>",
];

/// `c` written in escape style `style`.
fn escaped(c: char, style: u8) -> String {
    let named = match c {
        '=' => Some("equals"),
        ':' => Some("colon"),
        '"' => Some("quot"),
        '\'' => Some("apos"),
        '<' => Some("lt"),
        '>' => Some("gt"),
        '_' => Some("lowbar"),
        '{' => Some("lcub"),
        '}' => Some("rcub"),
        '/' => Some("sol"),
        _ => None,
    };
    let n = c as u32;
    match style % 6 {
        0 => format!("&#{n};"),
        1 => format!("&#x{n:X};"),
        2 => match named {
            Some(name) => format!("&{name};"),
            None => format!("&#{n}"),
        },
        3 => format!("\\u{n:04x}"),
        4 => format!("\\x{n:02x}"),
        _ => format!("\\u{n:04X}"),
    }
}

/// `text` with the characters `pick` selects escaped (each in its own style), except the
/// bytes in `keep` (the secret: escaping it would hide it from the assertion).
fn escape_some(text: &str, keep: std::ops::Range<usize>, pick: &[u8]) -> String {
    let mut out = String::new();
    for (k, (i, c)) in text.char_indices().enumerate() {
        let choice = pick[k % pick.len()];
        if keep.contains(&i) || choice % 3 != 0 {
            out.push(c);
        } else {
            out.push_str(&escaped(c, choice / 3));
        }
    }
    out
}

proptest! {
    #![proptest_config(prop_config::config(256))]

    /// A secret pair whose key, separator or quotes are escaped loses its value.
    #[test]
    fn escaped_keys_and_separators_do_not_hide_a_secret(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        form in 0..FORMS.len(),
        pick in proptest::collection::vec(any::<u8>(), 1..16),
        prefix in "([a-z]{1,10}[ ,;]){0,2}",
    ) {
        let plain = FORMS[form].replace("{k}", SECRET_KEYS[key]);
        let at = plain.find("{v}").unwrap_or(0);
        let plain = plain.replace("{v}", &secret);
        let text = format!("{prefix}{}", escape_some(&plain, at..at + secret.len(), &pick));
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// Form encoding: `key+%3D+value`, `key%3Dvalue`, `key%3A+value`.
    #[test]
    fn form_encoded_separators_do_not_hide_a_secret(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        sep in prop_oneof![Just("+%3D+"), Just("%3D"), Just("%3A+"), Just("+%3d"), Just("%3a")],
        prefix in "[a-z]{0,8}",
    ) {
        let text = format!("{prefix} {}{sep}{secret}", SECRET_KEYS[key]);
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// Harmless pairs escaped the same way are kept byte for byte.
    #[test]
    fn escaped_harmless_pairs_are_kept(
        key in prop_oneof![Just("status"), Just("region"), Just("lang"), Just("mode"), Just("retry")],
        value in "[a-z]{3,9}",
        form in 0..FORMS.len(),
        pick in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let plain = FORMS[form].replace("{k}", key).replace("{v}", &value);
        let text = escape_some(&plain, 0..0, &pick);
        prop_assert_eq!(scrub(&text), text);
    }
}
