//! Adversarial input shapes for the scrubber, shared by `benches/scrub.rs` and the
//! linear-cost test in `tests/scrub_properties.rs`: each builds a value of about `len`
//! bytes by repeating one unit, the way a logged query string, PATH, dump or body would.
#![allow(dead_code)]

/// `(name, unit)`: the value is `unit` repeated up to the length.
pub const SHAPES: &[(&str, &str)] = &[
    ("key_eq_chain", "a="),
    ("colon_chain", "x:"),
    ("path_list", "/usr/local/lib/x86_64-linux-gnu/bin:"),
    ("colon_hex_dump", "3A:4F:19:C2:"),
    ("near_miss_cards", "4111 1111 1111 1112 "),
    ("digit_run", "4111111111111112"),
    (
        "json_in_string",
        "{\\\"password_hint\\\":\\\"{\\\\\\\"a\\\\\\\":",
    ),
    ("base64_run", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTEx"),
    ("unclosed_quotes", "password: \"x\\\"y "),
    ("unclosed_brackets", "token: Some(Wrapper { a: ["),
    ("emails_near_miss", "a.b@c-d.e-f."),
    ("ip_like", "1.2.3.4.5."),
    ("xml_tags", "<a b=\"c\">"),
    ("yaml_keys", "password:\n"),
    ("cli_flags", "-p -u -a "),
    ("url_userinfo", "https://u:p"),
    ("percent_runs", "%41%3D%26"),
    ("label_words", "API key Session ID: "),
    ("iban_like", "GB82 WEST 1234 5698 7654 "),
    ("pem_unterminated", "-----BEGIN PRIVATE KEY-----"),
    ("slash_tokens", "/AbCdEfGhIjKlMnOpQrSt1"),
    ("context_paths", "/reset/AbCdEfGhIjKlMnOp1?t="),
    ("context_queries", "/reset?a=b&"),
    ("raw_literals", "password: r#\"x\"# "),
    ("byte_literals", "token: b\"x\\\" "),
    ("spaced_userinfo", "http://u:a b "),
    ("spelled_at", "a (at) b (dot) "),
    ("escaped_at", "a\\u0040"),
    ("card_underscores", "4111_1111_1111_1112_"),
    ("fullwidth_digits", "\u{ff14}\u{ff11}\u{ff11}\u{ff11} "),
    ("luhn_ids", "order 4111111111111111 "),
    ("iban_dashes", "DE89-3704-0044-"),
    ("non_ascii_words", "Zürich café naïve 東京 "),
    ("opaque_query_keys", "&t=AbCdEfGhIjKlMnOpQr1&t=x"),
];

/// `unit` repeated to `len` bytes (cut at a character boundary).
pub fn build(unit: &str, len: usize) -> String {
    let mut s = String::with_capacity(len + unit.len());
    while s.len() < len {
        s.push_str(unit);
    }
    let mut cut = len;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}
