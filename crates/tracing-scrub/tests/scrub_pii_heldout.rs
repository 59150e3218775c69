//! Held-out personal data: cases of the classes of issue 21 (phone numbers of many
//! regions, national ids with check digits, card networks, labels in many languages and
//! scripts) written before the shared corpus' `attacker3.jsonl` was read, with regions,
//! schemes and languages chosen to differ from it. No rule may be tuned to one of these
//! strings: they check that the classes hold, not the cases.
//!
//! Every number here was made valid by an independent implementation (Google's
//! libphonenumber through the `phonenumbers` package, and `python-stdnum`), not by this
//! crate's own code.

use serde_json::json;
use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(|| Scrubber::new(&ScrubRules::default()).expect("defaults compile"))
}

/// `(text, secrets, kept)`: every secret must go, every kept part stay.
const IN_TEXT: &[(&str, &[&str], &[&str])] = &[
    // Phones, national forms with a context word in the region's language.
    (
        "Rückruf erbeten unter Tel. 030 29402838 (Frau Weber)",
        &["29402838"],
        &["Rückruf erbeten"],
    ),
    (
        "cliente ligou do +55 11 93047-8052 às 14h",
        &["93047-8052"],
        &["cliente ligou"],
    ),
    ("मोबाइल नंबर: 98218 15457", &["98218 15457", "15457"], &[]),
    ("電話番号：03-6378-4616", &["6378-4616"], &["電話番号"]),
    (
        "tél : 06 53 47 73 65, rappeler demain",
        &["53 47 73 65"],
        &["rappeler demain"],
    ),
    (
        "customer callback +234 803 311 4465 failed: busy",
        &["311 4465"],
        &["failed: busy"],
    ),
    (
        "телефон 8 (916) 697-44-72 не отвечает",
        &["697-44-72"],
        &["не отвечает"],
    ),
    (
        "no HP 0812-6811-1852 tidak aktif",
        &["6811-1852"],
        &["tidak aktif"],
    ),
    (
        "휴대폰 010-8817-9336 인증 실패",
        &["8817-9336"],
        &["인증 실패"],
    ),
    ("SĐT: 0951 267 283", &["267 283"], &[]),
    ("هاتف: ٠١٠٦٥١٦٩٦٦٨", &["٦٥١٦٩٦٦٨"], &[]),
    (
        "SMS delivery to 0532 119 44 23 (cep) failed",
        &["119 44 23"],
        &["delivery"],
    ),
    (
        "simu: 0754 677 645 haipatikani",
        &["677 645"],
        &["haipatikani"],
    ),
    (
        "contact +1 415-329-4283 for escalation",
        &["329-4283"],
        &["escalation"],
    ),
    // National ids, each by its own check rule, with a context word where the shape alone
    // is too weak.
    (
        "fødselsnummer 15031077335 avvist",
        &["15031077335"],
        &["avvist"],
    ),
    (
        "henkilötunnus 230491-274C ei kelpaa",
        &["230491-274C"],
        &["ei kelpaa"],
    ),
    (
        "rijksregisternummer 88.07.54-444.27",
        &["88.07.54-444.27"],
        &[],
    ),
    (
        "AHV-Nr. 756.3867.6993.10 gesperrt",
        &["756.3867.6993.10"],
        &["gesperrt"],
    ),
    (
        "RUT 74.244.505-4 no registrado",
        &["74.244.505-4"],
        &["no registrado"],
    ),
    ("CNP 1890126307661 invalid", &["1890126307661"], &[]),
    ("NIF 212395351 em falta", &["212395351"], &["em falta"]),
    (
        "KycRecord { cpf: \"175.064.573-42\", status: Pending }",
        &["175.064.573-42"],
        &["Pending"],
    ),
    (
        "CNPJ 48.540.353/5364-50 bloqueado",
        &["48.540.353/5364-50"],
        &["bloqueado"],
    ),
    (
        "आधार संख्या 4017 7364 3289 सत्यापित नहीं",
        &["4017 7364 3289"],
        &[],
    ),
    (
        "numer PESEL 92052863333 odrzucony",
        &["92052863333"],
        &["odrzucony"],
    ),
    (
        "주민등록번호 850611-1481701 불일치",
        &["850611-1481701"],
        &["불일치"],
    ),
    ("身份证号：110105199003078211", &["110105199003078211"], &[]),
    (
        "マイナンバー 6520 8497 0317 照合失敗",
        &["6520 8497 0317"],
        &["照合失敗"],
    ),
    (
        "TFN 899 809 935 rejected by ATO",
        &["899 809 935"],
        &["rejected"],
    ),
    ("NRIC S8520631A not found", &["S8520631A"], &["not found"]),
    (
        "CNIC 35202-5121773-2 blocked",
        &["35202-5121773-2"],
        &["blocked"],
    ),
    // Card networks outside the usual four, grouped and whole.
    (
        "charge declined for 2201 6639 2332 1465",
        &["2201 6639 2332 1465"],
        &["declined"],
    ),
    (
        "Troy kart 9792881973699354 reddedildi",
        &["9792881973699354"],
        &["reddedildi"],
    ),
    (
        "RuPay 6521-6327-2951-8172 expired",
        &["6521-6327-2951-8172"],
        &["expired"],
    ),
    (
        "UnionPay 6212560480635817837 declined",
        &["6212560480635817837"],
        &["declined"],
    ),
    (
        "Verve card 5061792820102761616 failed",
        &["5061792820102761616"],
        &["failed"],
    ),
    (
        "Elo 6362 9724 9065 2863 recusado",
        &["6362 9724 9065 2863"],
        &["recusado"],
    ),
    (
        "Dankort 5019 3037 4862 5700 afvist",
        &["5019 3037 4862 5700"],
        &["afvist"],
    ),
    (
        "Humo 9860 7343 4153 3648 rad etildi",
        &["9860 7343 4153 3648"],
        &["rad etildi"],
    ),
    // Labels in other languages and scripts; full-width forms.
    ("كلمة المرور: Qa7#pLm2x", &["Qa7#pLm2x"], &[]),
    ("पासवर्ड: Tr0ub4dor", &["Tr0ub4dor"], &[]),
    ("סיסמה: HaSisma42", &["HaSisma42"], &[]),
    ("パスワード：Zk93mQpa", &["Zk93mQpa"], &["パスワード"]),
    ("密碼：Wq81vXza", &["Wq81vXza"], &["密碼"]),
    ("mật khẩu: Mk77abcz", &["Mk77abcz"], &[]),
    ("nenosiri: Sw4hiliPw", &["Sw4hiliPw"], &[]),
    ("doğum tarihi: 12.03.1985", &["12.03.1985"], &[]),
    (
        "Geburtsdatum: 03.11.1979, Kunde gesperrt",
        &["03.11.1979"],
        &["Kunde gesperrt"],
    ),
    (
        "mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ bounced",
        &["ｊａｎｅ"],
        &["bounced"],
    ),
];

/// `(key, value)` pairs logged as fields: the value must go.
const UNDER_KEYS: &[(&str, &str)] = &[
    ("numero_de_telefone", "11 93047 8052"),
    ("geburtsdatum", "1979-11-03"),
    ("passport_no", "X4B8Z1Q7"),
    ("Lieferadresse", "Hauptstr. 5, 10115 Berlin"),
    ("tax_number", "212395351"),
    ("numéro_de_sécurité_sociale", "185057800608436"),
    ("телефон", "+7 916 697-44-72"),
    ("电话号码", "13839157581"),
    ("fecha_de_nacimiento", "1985-03-12"),
    ("home_address", "221B Baker Street"),
];

/// Harmless look-alikes of the same classes: must come out unchanged.
const KEPT: &[&str] = &[
    "Windows build 10.0.19045.3803 installed",
    "Oracle Database 19.3.0.0 ready",
    "order 82736451092 shipped in 3 parcels",
    "amount 1.234.567,89 EUR booked",
    "took 1234567 ns over 42 retries",
    "USPS tracking 9400111899223856928499 delivered",
    "event at timestamp 1733140800123 dropped",
    "listening on port 5432, pid 123456",
    "paid with card ending 4242",
    "request 0f8fad5b-d9cb-469f-a165-70867728950e finished",
    "invoice 2024-0001234 due on 2024-12-31",
    "retry after 2024-12-02T10:30:00+01:00",
    "SKU 40177364 qty 3289 in stock",
    "range 100000-199999 reserved",
    "agent 4.2.1.0 started",
    "served 15031077336 bytes in 2.5 s",
    "batch 110105199003078212 queued",
];

#[test]
fn held_out_personal_data_is_scrubbed_and_look_alikes_stay() {
    let mut leaked = Vec::new();
    let mut lost = Vec::new();
    let mut secrets = 0;
    for (text, gone, kept) in IN_TEXT {
        let out = scrubber()
            .scrub_str(text, &mut ScrubReport::default())
            .into_owned();
        secrets += gone.len();
        if gone.iter().any(|s| out.contains(s)) {
            leaked.push(format!("{text:?} -> {out:?}"));
        }
        for k in *kept {
            if !out.contains(k) {
                lost.push(format!("{text:?} lost {k:?} -> {out:?}"));
            }
        }
    }
    for (key, value) in UNDER_KEYS {
        secrets += 1;
        let mut fields = json!({ *key: value, "route": "/checkout" });
        scrubber().scrub_value(&mut fields, &mut ScrubReport::default());
        let out = fields.to_string();
        let line = format!("{key}: {value}");
        let text = scrubber()
            .scrub_str(&line, &mut ScrubReport::default())
            .into_owned();
        if out.contains(value) || !out.contains("/checkout") || text.contains(value) {
            leaked.push(format!("{key}={value:?} -> {out} / {text:?}"));
        }
    }
    for text in KEPT {
        let out = scrubber().scrub_str(text, &mut ScrubReport::default());
        if out != *text {
            lost.push(format!("{text:?} -> {out:?}"));
        }
    }
    println!(
        "held-out personal data: {} cases ({secrets} secrets): {} leaked; {} of {} look-alikes altered or kept parts lost",
        IN_TEXT.len() + UNDER_KEYS.len(),
        leaked.len(),
        lost.len(),
        KEPT.len()
    );
    assert!(
        leaked.is_empty() && lost.is_empty(),
        "leaked:\n{}\nlost:\n{}",
        leaked.join("\n"),
        lost.join("\n")
    );
}
