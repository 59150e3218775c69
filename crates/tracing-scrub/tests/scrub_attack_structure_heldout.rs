//! Held-out check: the attacker's reproductions of structure (escapes, serialisations,
//! command lines, URLs, vendor tokens), copied from the `attack` branch's
//! tests/attack_scrub.rs. The mechanisms are tested with generated inputs in
//! scrub_structure.rs; these strings are not their yardstick. Every case listed here
//! leaked when the attacker committed it. Cases still leaking are listed in the
//! `#[ignore]`d `still_leaking` test, with the class they belong to.

use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

/// Fails listing every case whose secret survived the scrubber.
fn assert_none_leak(cases: &[(&str, &str)]) {
    let leaked = leaks(cases);
    assert!(
        leaked.is_empty(),
        "{} of {} leaked:\n{}",
        leaked.len(),
        cases.len(),
        leaked.join("\n")
    );
}

fn leaks(cases: &[(&str, &str)]) -> Vec<String> {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let mut out = Vec::new();
    for (secret, text) in cases {
        let mut r = ScrubReport::default();
        let scrubbed = scrubber.scrub_str(text, &mut r);
        if scrubbed.contains(secret) {
            out.push(format!("{text:?}\n    -> {scrubbed:?}"));
        }
    }
    out
}

#[test]
fn encodings() {
    let cases: &[(&str, &str)] = &[
        (
            "Quartz-Falcon-77",
            "body {\\x22password\\x22:\\x22Quartz-Falcon-77\\x22}",
        ),
        (
            "Quartz-Falcon-77",
            "<entry key=\"db.password\">Quartz-Falcon-77</entry>",
        ),
        ("Quartz-Falcon-77", "ENV SECRET_KEY_BASE Quartz-Falcon-77"),
    ];
    assert_none_leak(cases);
}

#[test]
fn connection_strings_and_urls() {
    let cases: &[(&str, &str)] = &[
        (
            "Vb8kP3zQ7",
            "app:Vb8kP3zQ7@tcp(db:3306)/orders?parseTime=true",
        ),
        (
            "Vb8kP3zQ7",
            "dial failed for app:Vb8kP3zQ7@unix(/var/run/mysqld.sock)/orders",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://api.example.com/v2/data?hash=Vb8kP3zQ7XyZ&user=1",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://api.example.com/v2/data?license=Vb8kP3zQ7XyZ",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://hooks.example.com/services/T000/B000/Vb8kP3zQ7XyZ",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://example.com/api/v1/users/42/tokens/Vb8kP3zQ7XyZ",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://example.com/password/reset/Vb8kP3zQ7XyZ",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://example.com/auth/callback?ticket=ST-Vb8kP3zQ7XyZ",
        ),
        (
            "Vb8kP3zQ7XyZ",
            "https://example.com/login/sso?SAMLResponse=Vb8kP3zQ7XyZ",
        ),
        ("Vb8kP3zQ7XyZ", "https://example.com/share/s/Vb8kP3zQ7XyZ"),
    ];
    assert_none_leak(cases);
}

#[test]
fn headers_transcripts_cli_debug_shapes() {
    let cases: &[(&str, &str)] = &[
        ("Vb8kP3zQ7XyZ", "CONFIG SET requirepass Vb8kP3zQ7XyZ"),
        ("Vb8kP3zQ7XyZ", "masterauth Vb8kP3zQ7XyZ"),
        ("Vb8kP3zQ7XyZ", "INSERT INTO creds (user_id, secret) VALUES (7, 'Vb8kP3zQ7XyZ')"),
        ("Vb8kP3zQ7XyZ", "openssl enc -aes-256-cbc -k Vb8kP3zQ7XyZ -in f"),
        ("Vb8kP3zQ7XyZ", "aws configure set aws_secret_access_key Vb8kP3zQ7XyZ"),
        ("Vb8kP3zQ7XyZ", "npm config set //registry.internal/:_authToken Vb8kP3zQ7XyZ"),
        ("Vb8kP3zQ7XyZ", "Command { program: \"mysql\", args: [\"mysql\", \"-u\", \"root\", \"--password\", \"Vb8kP3zQ7XyZ\"] }"),
        ("Vb8kP3zQ7XyZ", "{\"kty\":\"oct\",\"kid\":\"k1\",\"k\":\"Vb8kP3zQ7XyZ\"}"),
        ("Vb8kP3zQ7XyZ", "{\"kty\":\"RSA\",\"n\":\"abc\",\"e\":\"AQAB\",\"d\":\"Vb8kP3zQ7XyZ\",\"p\":\"x\"}"),
    ];
    assert_none_leak(cases);
}

#[test]
fn vendor_tokens_and_wallet_keys() {
    let cases: &[(&str, &str)] = &[
        ("sgp_cccc3fc1626e53a1_3043b026c48bbf33feff9243a8f506b40928b5b7", "upstream rejected sgp_cccc3fc1626e53a1_3043b026c48bbf33feff9243a8f506b40928b5b7 (401)"),
        ("sgp_cccc3fc1626e53a1_3043b026c48bbf33feff9243a8f506b40928b5b7", "config value sgp_cccc3fc1626e53a1_3043b026c48bbf33feff9243a8f506b40928b5b7"),
        ("rzp_live_9wCZ7Uw9xfogoE", "upstream rejected rzp_live_9wCZ7Uw9xfogoE (401)"),
        ("rzp_live_9wCZ7Uw9xfogoE", "config value rzp_live_9wCZ7Uw9xfogoE"),
        ("csk-5kok16zv0mwufxbv932byv7s6ehogfqrclri1qzj865ufrdl", "upstream rejected csk-5kok16zv0mwufxbv932byv7s6ehogfqrclri1qzj865ufrdl (401)"),
        ("csk-5kok16zv0mwufxbv932byv7s6ehogfqrclri1qzj865ufrdl", "config value csk-5kok16zv0mwufxbv932byv7s6ehogfqrclri1qzj865ufrdl"),
        ("fw_B5er8bOfZqfM2oeq3hDavJA7", "upstream rejected fw_B5er8bOfZqfM2oeq3hDavJA7 (401)"),
        ("fw_B5er8bOfZqfM2oeq3hDavJA7", "config value fw_B5er8bOfZqfM2oeq3hDavJA7"),
        ("rnd_F2yeE6RsXcNOPmeMjvqPVStNKiaE", "upstream rejected rnd_F2yeE6RsXcNOPmeMjvqPVStNKiaE (401)"),
        ("rnd_F2yeE6RsXcNOPmeMjvqPVStNKiaE", "config value rnd_F2yeE6RsXcNOPmeMjvqPVStNKiaE"),
        ("AAAAjVHq8xi:APA91bJoUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK_gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53Ncqe28_ajY75Fn", "upstream rejected AAAAjVHq8xi:APA91bJoUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK_gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53Ncqe28_ajY75Fn (401)"),
        ("AAAAjVHq8xi:APA91bJoUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK_gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53Ncqe28_ajY75Fn", "config value AAAAjVHq8xi:APA91bJoUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK_gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53Ncqe28_ajY75Fn"),
        ("GR1348941Cttn6kfaqDeMqG3omjMy", "upstream rejected GR1348941Cttn6kfaqDeMqG3omjMy (401)"),
        ("GR1348941Cttn6kfaqDeMqG3omjMy", "config value GR1348941Cttn6kfaqDeMqG3omjMy"),
        ("v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIOVezxZuJPWvHogU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq/DfcgaTMnTC0MrA", "upstream rejected v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIOVezxZuJPWvHogU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq/DfcgaTMnTC0MrA (401)"),
        ("v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIOVezxZuJPWvHogU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq/DfcgaTMnTC0MrA", "config value v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIOVezxZuJPWvHogU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq/DfcgaTMnTC0MrA"),
        ("00D5g000004ABCD!AQ0AQU8urbFt5misIZHbhS4_FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQEW88a", "upstream rejected 00D5g000004ABCD!AQ0AQU8urbFt5misIZHbhS4_FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQEW88a (401)"),
        ("00D5g000004ABCD!AQ0AQU8urbFt5misIZHbhS4_FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQEW88a", "config value 00D5g000004ABCD!AQ0AQU8urbFt5misIZHbhS4_FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQEW88a"),
        ("s.Q5geJ6xZGWtmeTtfosi0Tzsw", "upstream rejected s.Q5geJ6xZGWtmeTtfosi0Tzsw (401)"),
        ("s.Q5geJ6xZGWtmeTtfosi0Tzsw", "config value s.Q5geJ6xZGWtmeTtfosi0Tzsw"),
        ("xprv9s21ZrQH143KyYEdsBXxxrJq9uLK6N1YxzGBMkgfVEe4ysEwypQ3rrxVCUx9Lk2t8A19LAZpP7qBWkS6TNijnSyNz3eGDshm139ZfFdUm7o", "upstream rejected xprv9s21ZrQH143KyYEdsBXxxrJq9uLK6N1YxzGBMkgfVEe4ysEwypQ3rrxVCUx9Lk2t8A19LAZpP7qBWkS6TNijnSyNz3eGDshm139ZfFdUm7o (401)"),
        ("xprv9s21ZrQH143KyYEdsBXxxrJq9uLK6N1YxzGBMkgfVEe4ysEwypQ3rrxVCUx9Lk2t8A19LAZpP7qBWkS6TNijnSyNz3eGDshm139ZfFdUm7o", "config value xprv9s21ZrQH143KyYEdsBXxxrJq9uLK6N1YxzGBMkgfVEe4ysEwypQ3rrxVCUx9Lk2t8A19LAZpP7qBWkS6TNijnSyNz3eGDshm139ZfFdUm7o"),
    ];
    assert_none_leak(cases);
}

#[test]
fn separators_escapes_serialisations() {
    let cases: &[(&str, &str)] = &[
        ("Wm3nR8tQ2vXk", "s:8:\"password\";s:12:\"Wm3nR8tQ2vXk\";"),
        ("Wm3nR8tQ2vXk", "{\"pass\\u0077ord\":\"Wm3nR8tQ2vXk\"}"),
        ("Wm3nR8tQ2vXk", "{\"\\u0070assword\":\"Wm3nR8tQ2vXk\"}"),
        ("Wm3nR8tQ2vXk", "password+%3D+Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password&#61;Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password&equals;Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password\\u003dWm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password\\x3dWm3nR8tQ2vXk"),
        (
            "Wm3nR8tQ2vXk",
            "<password><![CDATA[Wm3nR8tQ2vXk]]></password>",
        ),
    ];
    assert_none_leak(cases);
}

#[test]
fn benign_text_kept() {
    let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
    let keep = ["git@github.com:acme/orders.git fetch failed"];
    let lost: Vec<String> = keep
        .iter()
        .filter_map(|t| {
            let out = scrubber.scrub_str(t, &mut ScrubReport::default());
            (out != *t).then(|| format!("{t:?} -> {out:?}"))
        })
        .collect();
    assert!(lost.is_empty(), "{lost:#?}");
}

/// The attacker's cases still leaking, by class: vendor-style tokens and wallet keys
/// without a published or recognisable shape (hex, base32 and base58 bodies, Adyen,
/// BIP39 phrases), raw hex and base32 of a pair, separators (`->`, `<-`, `~`, `(X)`,
/// `, `) and key-ish prefixes (`token_X`, `API_KEY X`: another helper's work), Debug
/// tuples without key names, header names not in the key rules (`dd-application-key`,
/// `x-hub-signature-256`), `private_key_id`, the SMTP `AUTH LOGIN` continuation,
/// `expect` scripts. Run with `--ignored` to see which still leak.
#[test]
#[ignore = "known leaks, listed for the next round"]
fn still_leaking() {
    let cases: &[(&str, &str)] = &[
        ("Wm3nR8tQ2vXk", "password->Wm3nR8tQ2vXk"),
        ("70617373776f72643d586b39236d5132764c702137", "raw bytes 70617373776f72643d586b39236d5132764c702137"),
        ("OBQXG43XN5ZGIPKXNUZW4URYORITE5SYNM======", "x=OBQXG43XN5ZGIPKXNUZW4URYORITE5SYNM======"),
        ("Vb8kP3zQ7XyZ", "{\"dd-application-key\": \"Vb8kP3zQ7XyZ\"}"),
        ("Vb8kP3zQ7XyZ", "{\"x-hub-signature-256\": \"sha256=Vb8kP3zQ7XyZ\"}"),
        ("WGs5I21RMnZMcCE3", "smtp: >> AUTH LOGIN YWxpY2VAZXhhbXBsZS5jb20= << 334 UGFzc3dvcmQ6 >> WGs5I21RMnZMcCE3"),
        ("Vb8kP3zQ7XyZ", "expect: send \"Vb8kP3zQ7XyZ\r\" after \"password:\""),
        ("Vb8kP3zQ7XyZ", "Login((\"bot\", \"Vb8kP3zQ7XyZ\"))"),
        ("Vb8kP3zQ7XyZ", "UserPass(\"bot\", \"Vb8kP3zQ7XyZ\")"),
        ("Vb8kP3zQ7XyZ", "Cred { u: \"bot\", p: \"Vb8kP3zQ7XyZ\" }"),
        ("Vb8kP3zQ7XyZ", "key = Key { kid: \"k1\", k: \"Vb8kP3zQ7XyZ\", alg: \"HS256\" }"),
        ("Vb8kP3zQ7XyZ", "{\"type\":\"service_account\",\"project_id\":\"p\",\"private_key_id\":\"Vb8kP3zQ7XyZ\"}"),
        ("00DktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6", "upstream rejected 00DktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6 (401)"),
        ("00DktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6", "config value 00DktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6"),
        ("2/1204567890123456/1205678901234567:0d796c25410335b400141212b62c3766", "upstream rejected 2/1204567890123456/1205678901234567:0d796c25410335b400141212b62c3766 (401)"),
        ("2/1204567890123456/1205678901234567:0d796c25410335b400141212b62c3766", "config value 2/1204567890123456/1205678901234567:0d796c25410335b400141212b62c3766"),
        ("31129f34369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3c", "upstream rejected 31129f34369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3c (401)"),
        ("31129f34369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3c", "config value 31129f34369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3c"),
        ("c2d0b698d5c7e41ba4ea5ee874ae7689", "upstream rejected c2d0b698d5c7e41ba4ea5ee874ae7689 (401)"),
        ("c2d0b698d5c7e41ba4ea5ee874ae7689", "config value c2d0b698d5c7e41ba4ea5ee874ae7689"),
        ("447ab57a683536c4499d863386ce10cd79e048c0", "upstream rejected 447ab57a683536c4499d863386ce10cd79e048c0 (401)"),
        ("447ab57a683536c4499d863386ce10cd79e048c0", "config value 447ab57a683536c4499d863386ce10cd79e048c0"),
        ("p32oolh53uqg2pzkq365b2luay7gcqnkmwg5n6bxv25nlzhwdqry", "upstream rejected p32oolh53uqg2pzkq365b2luay7gcqnkmwg5n6bxv25nlzhwdqry (401)"),
        ("p32oolh53uqg2pzkq365b2luay7gcqnkmwg5n6bxv25nlzhwdqry", "config value p32oolh53uqg2pzkq365b2luay7gcqnkmwg5n6bxv25nlzhwdqry"),
        ("zdaeA6AOSRwLqgotVz89HoZ9zDnki7XeZZOmEPJU", "upstream rejected zdaeA6AOSRwLqgotVz89HoZ9zDnki7XeZZOmEPJU (401)"),
        ("zdaeA6AOSRwLqgotVz89HoZ9zDnki7XeZZOmEPJU", "config value zdaeA6AOSRwLqgotVz89HoZ9zDnki7XeZZOmEPJU"),
        ("o09jwQO10Y0ADsWJPiX1EwY2orTyRqBR", "upstream rejected o09jwQO10Y0ADsWJPiX1EwY2orTyRqBR (401)"),
        ("o09jwQO10Y0ADsWJPiX1EwY2orTyRqBR", "config value o09jwQO10Y0ADsWJPiX1EwY2orTyRqBR"),
        ("0x1d12afc8e00aa1da5204642bbdb4a78f19e8b8480f3b47c20431658b4550b7ef", "upstream rejected 0x1d12afc8e00aa1da5204642bbdb4a78f19e8b8480f3b47c20431658b4550b7ef (401)"),
        ("0x1d12afc8e00aa1da5204642bbdb4a78f19e8b8480f3b47c20431658b4550b7ef", "config value 0x1d12afc8e00aa1da5204642bbdb4a78f19e8b8480f3b47c20431658b4550b7ef"),
        ("5KEhPztRWEMsz27jo15tiSkxP4FdRTRjhxF2H2HnUGFPEMqUiJL", "upstream rejected 5KEhPztRWEMsz27jo15tiSkxP4FdRTRjhxF2H2HnUGFPEMqUiJL (401)"),
        ("5KEhPztRWEMsz27jo15tiSkxP4FdRTRjhxF2H2HnUGFPEMqUiJL", "config value 5KEhPztRWEMsz27jo15tiSkxP4FdRTRjhxF2H2HnUGFPEMqUiJL"),
        ("AQEF6GTmWrG1jQ4ILUNWh//UchpW5Nt6eP9raIsyfYwJELd10kW/UJPu/gSrzhuNvNgMXUxIN8zP4ZnHUYOX8IoA5=0uOftJ80jJYUYKpH5bfNTUHFim0oNvwpZYRZY/RSxs0KrBRi0i=aE3ZBJqtCE=p", "upstream rejected AQEF6GTmWrG1jQ4ILUNWh//UchpW5Nt6eP9raIsyfYwJELd10kW/UJPu/gSrzhuNvNgMXUxIN8zP4ZnHUYOX8IoA5=0uOftJ80jJYUYKpH5bfNTUHFim0oNvwpZYRZY/RSxs0KrBRi0i=aE3ZBJqtCE=p (401)"),
        ("AQEF6GTmWrG1jQ4ILUNWh//UchpW5Nt6eP9raIsyfYwJELd10kW/UJPu/gSrzhuNvNgMXUxIN8zP4ZnHUYOX8IoA5=0uOftJ80jJYUYKpH5bfNTUHFim0oNvwpZYRZY/RSxs0KrBRi0i=aE3ZBJqtCE=p", "config value AQEF6GTmWrG1jQ4ILUNWh//UchpW5Nt6eP9raIsyfYwJELd10kW/UJPu/gSrzhuNvNgMXUxIN8zP4ZnHUYOX8IoA5=0uOftJ80jJYUYKpH5bfNTUHFim0oNvwpZYRZY/RSxs0KrBRi0i=aE3ZBJqtCE=p"),
        ("correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor", "seed phrase: correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor"),
        ("correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor", "mnemonic=\"correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor\""),
        ("velvet cactus", "wallet recovery words correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor"),
        ("velvet cactus", "Wiederherstellungsphrase: correct horse battery staple orbit velvet cactus lunar mango fossil ripple anchor"),
        ("Wm3nR8tQ2vXk", "password<-Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password ~ Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "{password, <<\"Wm3nR8tQ2vXk\">>}"),
        ("Wm3nR8tQ2vXk", "password, Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password - Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "password(Wm3nR8tQ2vXk)"),
        ("Wm3nR8tQ2vXk", "token_Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "api-key Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "API_KEY Wm3nR8tQ2vXk"),
        ("Wm3nR8tQ2vXk", "key=Wm3nR8tQ2vXk"),
    ];
    assert_none_leak(cases);
}
