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
    // The detectors by context and shape (`secrets`): their anchors and windows.
    ("secret_words", "password pwd PIN token secret code "),
    ("prose_values", "password is Zq8Kp3Xm7W, "),
    ("near_prefix_tokens", "acme_live_Abc1 "),
    ("prefixed_runs", "sk_live_aB3dE5gH7jK9mN1pQ3sT5vX7z_"),
    ("base64_text_run", "eyJ1c2VyIjoiYSJ9QWxhZGRpbjpvcGVu"),
    ("base64_words", "QWxhZGRpbjpvcGVu "),
    ("argv_quoted", "\"-p\" \"x9Y\" "),
    ("attached_flags", "mysql -pAb1 "),
    (
        "transcript_commands",
        "AUTH PLAIN AGFi\nPASS x\na1 LOGIN u p\n",
    ),
    ("netrc_machines", "machine h login u password p "),
    ("pgpass_colons", "h:5432:d:u:p "),
    ("hash_anchors", "$apr1$abc$"),
    ("html_entities", "&lt;Password&gt;x&lt;/Password&gt;"),
    ("unclosed_name_value", "{\"name\":\"DB_PASSWORD\",\"x\":\""),
    ("key_details", "Key (password)=("),
    ("bind_lists", "x = $1 -- binds: [\""),
    ("failing_rows", "Failing row contains (a, "),
    ("prompts", "Password:\n"),
    ("typed_headers", "Authorization(Basic { "),
    // Personal data: phone-like groups (valid and not), numbers after phone words, long
    // digit runs with every separator, ids with their check digits, letter pairs between
    // numbers, and long non-ASCII text with full-width forms.
    ("intl_phones", "+49 30 29402838 "),
    ("phone_words", "Tel. 030 2940 2838, "),
    ("invalid_phone_words", "phone 0000 0000 00 "),
    ("digit_separator_runs", "1 2-3.4/5 (6) 7 "),
    ("national_ids", "175.064.573-42 S8520631A "),
    ("id_context_words", "PESEL 92052863333 BSN 123456782 "),
    ("letter_pairs", "AB 12 34 56 C HP 0812 "),
    ("long_digit_groups", "4111 1111 1111 1111 1111 1111 "),
    ("nonascii_labels", "電話番号：03-6378-4616 密码：x "),
    ("fullwidth_text", "ｐａｓｓｗｏｒｔ：ｘ　４１１１　"),
    (
        "locale_keys",
        "Geburtsdatum: 1.2.1990, Lieferadresse: Hauptstr. 5, ",
    ),
    ("uuids", "be518afe-ef3e-7076-b5f4-2745e91fd637 "),
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
