//! Property tests of secrets named in other languages: secret words of many languages
//! and scripts as keys (fields, `key=value`, `key：value`, JSON) and in prose with a
//! connector (`<word> <connector> <value>`, CJK text without spaces), codes after code
//! and PIN words, and a secret key followed by `->`, `<-`, `(..)` or `, `. Words,
//! connectors and values are drawn at random (inflected and cased as people write
//! them); prose about a secret without a credential-shaped value stays as written.

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

/// Secret words as keys, by language (token, secret, credentials, qualified keys,
/// passwords and codes).
const KEY_WORDS: &[&str] = &[
    "токен",
    "секрет",
    "пароль",
    "учетные_данные",
    "секретный_ключ",
    "закрытый ключ",
    "令牌",
    "访问令牌",
    "密钥",
    "私钥",
    "凭据",
    "トークン",
    "シークレット",
    "秘密鍵",
    "資格情報",
    "토큰",
    "시크릿",
    "자격 증명",
    "비밀번호",
    "κωδικός",
    "μυστικό_κλειδί",
    "lozinka",
    "geslo",
    "clave",
    "clave_secreta",
    "chave_privada",
    "chiave_api",
    "geheimnis",
    "Zugangsdaten",
    "Anmeldedaten",
    "credenciales",
    "credenciais",
    "credenziali",
    "identifiants",
    "inloggegevens",
    "jeton",
    "sekret",
    "segredo",
    "rahasia",
    "kredensial",
    "kunci_rahasia",
    "gizli_anahtar",
    "api_anahtarı",
    "klucz_prywatny",
    "tajny_klucz",
    "mật_khẩu",
    "khóa_bí_mật",
    "סיסמה",
    "מפתח_סודי",
    "كلمة_المرور",
    "المفتاح_السري",
    "रहस्य",
    "निजी_कुंजी",
    "รหัสผ่าน",
    "โทเค็น",
    "API-Schlüssel",
    "clé_privée",
    "新密码",
    "用户令牌",
    "数据库密钥",
];

/// A secret with lower and upper case, digits and a symbol (twelve bytes or more).
fn credential() -> impl Strategy<Value = String> {
    (
        "[a-z]{3,6}",
        "[A-Z]{2,4}",
        "[0-9]{2,4}",
        "[!#%*+]",
        "[a-zA-Z0-9]{2,6}",
    )
        .prop_map(|(a, b, c, d, e)| format!("{b}{a}{d}{c}{e}"))
}

proptest! {
    #![proptest_config(prop_config::config(256))]

    #[test]
    fn secret_words_of_any_language_as_keys(
        word in prop::sample::select(KEY_WORDS),
        prefix in prop::sample::select(&["", "user_", "db.", "app-", "mein_", "NEW_"][..]),
        secret in credential(),
        form in 0u8..6,
    ) {
        let key = format!("{prefix}{word}");
        let text = match form {
            0 => format!("{key}={secret}"),
            1 => format!("{key}：{secret}"),
            2 => format!("{{\"{key}\":\"{secret}\"}}"),
            3 => format!("config {key}: {secret} loaded"),
            4 => format!("{key} = {secret}"),
            _ => {
                let out = scrubber().scrub_field(&key, &secret, &mut ScrubReport::default());
                prop_assert!(!out.contains(&secret), "field {key}: {out}");
                return Ok(());
            }
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// `<lead> <word> <connector> <value> <tail>`, as messages say it in each language.
    #[test]
    fn secret_in_prose_of_any_language(
        (lead, word, connector) in prop::sample::select(&[
            ("Dein neues", "Passwort", "ist"),
            ("Das aktuelle", "Kennwort", "lautet"),
            ("Le", "mot de passe", "est"),
            ("Tu nueva", "contraseña", "es"),
            ("Sua", "senha", "é"),
            ("Het", "wachtwoord", "is"),
            ("Twoje", "hasło", "to"),
            ("Yeni", "şifreniz", ":"),
            ("Uusi", "salasana", "on"),
            ("Ditt", "lösenord", "är"),
            ("Ваш новый", "пароль", "—"),
            ("Новый", "токен", ":"),
            ("Ο", "κωδικός", "είναι"),
            ("Mã", "mật khẩu", "là"),
            ("Kata", "sandi", "baru:"),
            ("", "新しいパスワード", "は"),
            ("您的", "访问令牌", "为"),
            ("", "새 비밀번호", "는"),
            ("", "كلمة المرور الجديدة", "هي"),
            ("", "הסיסמה החדשה", "היא"),
            ("आपका नया", "पासवर्ड", "है"),
            ("", "รหัสผ่านใหม่", "คือ"),
            ("La", "clé secrète", "est"),
            ("Il", "token di accesso", "è"),
        ][..]),
        value in credential(),
        tail in prop::sample::select(&["", ".", ", bitte ändern.", " olarak ayarlandı", "。", "，请保管", " です"][..]),
        spaced in any::<bool>(),
    ) {
        let sp = if spaced || word.is_ascii() { " " } else { "" };
        let text = format!("{lead} {word} {connector}{sp}{value}{tail}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text:?} -> {out:?}");
    }

    /// A one-time code or PIN after a code word, with or without spaces.
    #[test]
    fn codes_after_code_words_of_any_language(
        (word, connector) in prop::sample::select(&[
            ("Ihr Bestätigungscode", "lautet "),
            ("Votre code de vérification", "est "),
            ("您的验证码", "是"),
            ("인증번호", ": "),
            ("Su código de verificación", "es "),
            ("رمز التحقق", "هو "),
            ("Ваш пин-код", ""),
            ("暗証番号", "は"),
            ("Mã xác nhận của bạn", "là "),
            ("Kode OTP", "Anda: "),
            ("Your PIN", "is "),
        ][..]),
        code in "[1-9][0-9]{3,7}",
    ) {
        let text = format!("{word} {connector}{code}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&code), "{text:?} -> {out:?}");
    }

    /// A secret key, then `->`, `<-`, `(value)`, `, value`.
    #[test]
    fn secret_key_then_arrow_paren_or_comma(
        key in prop::sample::select(&["password", "Passwort", "secret", "token", "api_key", "пароль", "contraseña"][..]),
        sep in prop::sample::select(&[("->", ""), ("<-", ""), (" -> ", ""), ("(", ")"), (", ", ""), ("<- ", ";")][..]),
        value in credential(),
    ) {
        let text = format!("{key}{}{value}{}", sep.0, sep.1);
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text:?} -> {out:?}");
    }

    /// Prose about a secret with no credential-shaped value stays as written.
    #[test]
    fn prose_about_secrets_without_a_value_is_kept(
        (word, connector) in prop::sample::select(&[
            ("Das Passwort", "wurde"),
            ("Le mot de passe", "a été"),
            ("La contraseña", "fue"),
            ("Пароль", "был"),
            ("密码", "已"),
            ("Token", "für"),
            ("PIN", "für Konto"),
            ("Hasło", "zostało"),
        ][..]),
        rest in "[a-z]{3,10}( [a-z]{2,9}){0,3}",
        n in 0u32..1000,
    ) {
        let text = format!("{word} {connector} {rest} {n}");
        let out = scrub(&text);
        prop_assert_eq!(out, text);
    }
}

/// Letters of scripts that write vowels as marks (Devanagari, Tamil, Thai, Bengali).
const MARKED_SCRIPTS: &[(char, char, char, char)] = &[
    // (first letter, last letter, first mark, last mark)
    ('क', 'ह', 'ा', 'ौ'),
    ('க', 'ஹ', 'ா', 'ௌ'),
    ('ก', 'ฮ', 'ั', 'ู'),
    ('ক', 'হ', 'া', 'ৌ'),
];

fn marked_word(script: usize, picks: &[(u8, bool)]) -> String {
    let (l0, l1, m0, m1) = MARKED_SCRIPTS[script % MARKED_SCRIPTS.len()];
    let mut out = String::new();
    for &(n, mark) in picks {
        let l = char::from_u32(l0 as u32 + u32::from(n) % (l1 as u32 - l0 as u32)).unwrap_or(l0);
        out.push(if l.is_alphabetic() { l } else { l0 });
        if mark {
            let m =
                char::from_u32(m0 as u32 + u32::from(n) % (m1 as u32 - m0 as u32)).unwrap_or(m0);
            // Vowel signs are alphabetic; a gap of the block is not written.
            if m.is_alphabetic() {
                out.push(m);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(prop_config::config(256))]

    /// Internationalised emails (RFC 6531) in scripts whose vowels are marks.
    #[test]
    fn internationalised_emails_with_marks(
        script in 0usize..4,
        local in prop::collection::vec((any::<u8>(), any::<bool>()), 3..8),
        domain in prop::collection::vec((any::<u8>(), any::<bool>()), 3..8),
        tld in prop::collection::vec((any::<u8>(), any::<bool>()), 2..4),
        lead in prop::sample::select(&["sent receipt to ", "失败：", "notify ", ""][..]),
    ) {
        let email = format!(
            "{}@{}.{}",
            marked_word(script, &local),
            marked_word(script, &domain),
            marked_word(script, &tld)
        );
        let text = format!("{lead}{email}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&email), "{text:?} -> {out:?}");
    }

    /// A phone number after a key naming where a message, fax or call goes, in several
    /// languages.
    #[test]
    fn phone_after_a_phone_sms_or_fax_key(
        key in prop::sample::select(&[
            "sms_to", "SMS_TO", "fax_number", "user_fax", "whatsapp", "fono", "teléfono",
            "Telefon", "電話", "手机", "факс", "传真", "팩스", "faks", "sms_recipient",
        ][..]),
        sep in prop::sample::select(&["=", ": ", " "][..]),
        number in prop_oneof![
            "[0-9]{7}".prop_map(|d| format!("+97252{d}")),
            "[1-9][0-9]{7}".prop_map(|d| format!("+569{d}")),
            "[0-9]{8}".prop_map(|d| format!("+49151{d}")),
        ],
    ) {
        let text = format!("{key}{sep}{number}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&number[1..]), "{text:?} -> {out:?}");
    }

    /// An email spelled out with bare ` at ` and ` dot ` words.
    #[test]
    fn email_spelled_out_with_words(
        user in "[a-z]{3,8}",
        last in "[a-z]{3,8}",
        host in "[a-z]{4,10}",
        tld in prop::sample::select(&["com", "org", "net", "de", "io"][..]),
    ) {
        let spelled = format!("{user} dot {last} at {host} dot {tld}");
        let text = format!("contact {spelled} please");
        let out = scrub(&text);
        prop_assert!(!out.contains(&format!("{last} at {host}")), "{text:?} -> {out:?}");
    }
}

proptest! {
    #![proptest_config(prop_config::config(256))]

    /// A secret key with some letters swapped for their Cyrillic or Greek look-alikes.
    #[test]
    fn secret_keys_with_look_alike_letters(
        key in prop::sample::select(&["password", "secret", "access_token", "api_key", "passcode", "private_key"][..]),
        swaps in prop::collection::vec(any::<prop::sample::Index>(), 1..3),
        greek in any::<bool>(),
        secret in credential(),
        json in any::<bool>(),
    ) {
        let look = |c: char| match (c, greek) {
            ('a', false) => Some('а'), ('e', false) => Some('е'), ('o', false) => Some('о'),
            ('p', false) => Some('р'), ('c', false) => Some('с'), ('s', false) => Some('ѕ'),
            ('i', false) => Some('і'), ('k', false) => Some('к'),
            ('o', true) => Some('ο'), ('p', true) => Some('ρ'), ('i', true) => Some('ι'),
            ('k', true) => Some('κ'), ('a', true) => Some('α'), ('v', true) => Some('ν'),
            _ => None,
        };
        let mut chars: Vec<char> = key.chars().collect();
        let mut swapped = false;
        for ix in &swaps {
            let i = ix.index(chars.len());
            if let Some(l) = look(chars[i]) {
                chars[i] = l;
                swapped = true;
            }
        }
        prop_assume!(swapped);
        let key: String = chars.into_iter().collect();
        let text = if json {
            format!("{{\"{key}\":\"{secret}\"}}")
        } else {
            format!("{key}={secret}")
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }
}

/// Secret words inside identifiers, paths, ARNs and query strings are no prose: what
/// follows them stays.
#[test]
fn secret_words_inside_identifiers_paths_and_arns_are_not_prose() {
    for text in [
        "secret_arn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
        "POST /oauth/token grant_type=refresh_token client_id=web-app",
        "token_count=17 max_tokens=4096",
        "Tokenizer(3) and Session(7)",
        "GET /api/password/reset?user=Ab12cd34",
    ] {
        assert_eq!(scrub(text), text);
    }
}
