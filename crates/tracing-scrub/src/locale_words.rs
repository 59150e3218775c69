//! Key words for secrets and personal data in the most spoken languages and their
//! scripts (Chinese simplified and traditional, Hindi, Spanish, French, Arabic,
//! Bengali, Portuguese, Russian, Urdu, Indonesian and Malay, German, Japanese,
//! Swahili, Marathi, Telugu, Turkish, Tamil, Vietnamese, Korean, Italian, Polish,
//! Ukrainian, Dutch, Danish, Norwegian, Swedish, Finnish, Hebrew, Persian, Thai,
//! Greek, Czech, Hungarian, Romanian) and the keys services use for personal data
//! (`cpf`, `passport_no`, `national_id`, `cardholder_name`, `shipping_address`).
//!
//! A key is compared after NFKC (full-width forms), lower-casing and, for Latin
//! letters only, removal of diacritics (`teléfono` and `telefono`, `doğum` and
//! `dogum` are one word). Words of Latin script match whole words of the key, one to
//! five in a row (`numero_de_telefone`, `date de naissance`), or, seven letters and
//! longer, the start or end of a compound (`Telefonnummer`, `Rechnungsanschrift`);
//! words of other scripts match anywhere in the key with its separators dropped, as
//! those scripts write compounds and inflections without spaces (`用户密码`,
//! `номер_телефона`, `الهاتف`).

use std::collections::HashMap;

type Map<V> = HashMap<String, V, rustc_hash::FxBuildHasher>;
use std::sync::OnceLock;

/// What a word names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A secret: always scrubbed.
    Secret,
    /// A government or tax id: always scrubbed.
    Id,
    /// Other personal data (phone, birth date, postal address, email, names): scrubbed
    /// while `send_default_pii` is off.
    Personal,
}

use Kind::{Id, Personal, Secret};

/// How far a value written after such a word in text runs (`Anschrift: Hauptstr. 5,
/// 10115 Berlin`): one word (the default for keys), the digit groups that follow
/// (`Telefon: 030 29402838`), or on to the end of the line or the next label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    Word,
    Digits,
    Text,
}

/// `(kind, run, words)`, by language. Words as people write them; normalised once.
#[rustfmt::skip]
const WORDS: &[(Kind, Run, &[&str])] = &[
    // Passports, national ids, tax and social-security numbers.
    (Id, Run::Digits, &[
        "passport", "passport number", "national id", "national identity", "identity number",
        "identity card", "id card", "citizen id", "personal id", "tax number", "tin",
        "social security", "social insurance", "driver license", "drivers license",
        "driving licence", "nhs number", "medicare number", "health card",
        "cpf", "cnpj", "nif", "nie", "dni", "curp", "rut", "cuit", "cuil", "pesel", "bsn",
        "nino", "aadhaar", "aadhar", "itin", "tckn", "kimlik", "personnummer",
        "fødselsnummer", "fodselsnummer", "henkilötunnus", "hetu", "nric", "hkid", "cnic",
        "ktp", "my number", "steuer id", "steuerid", "steueridentifikationsnummer",
        "steuernummer", "sozialversicherungsnummer", "svnr", "ahv", "avs",
        "rijksregisternummer", "insz", "niss", "codice fiscale", "seguridad social",
        "seguro social", "sécurité sociale", "cédula", "cedula", "identidade",
        "personalausweis", "ausweisnummer", "carte d'identité", "numéro fiscal",
        "documento de identidad", "carta d'identità", "burgerservicenummer",
        "dowód osobisty", "amka", "kontonummer", "rekeningnummer",
        "pasaporte", "passaporte", "passeport", "reisepass", "passaporto", "paszport",
        "paspoort", "pasaport", "paspor", "pasipoti", "hộ chiếu", "căn cước", "cccd", "cmnd",
        "mã số thuế", "npwp", "nomor induk kependudukan", "vergi numarası", "vergi kimlik",
        "kitambulisho",
        "паспорт", "удостоверение личности", "инн", "снилс",
        "护照", "護照", "身份证", "身分證", "税号", "旅券", "パスポート", "マイナンバー",
        "個人番号", "納税者番号", "여권", "주민등록번호", "주민번호", "외국인등록번호",
        "جواز السفر", "الرقم القومي", "رقم الهوية", "الهوية الوطنية", "بطاقة الهوية",
        "الرقم الضريبي", "کد ملی", "شناختی کارڈ", "דרכון", "תעודת זהות", "מספר זהות",
        "पासपोर्ट", "आधार", "পাসপোর্ট", "জাতীয় পরিচয়পত্র", "கடவுச்சீட்டு",
        "పాస్‌పోర్ట్", "διαβατήριο", "αριθμός ταυτότητας", "บัตรประชาชน",
        "เลขประจำตัวประชาชน", "หนังสือเดินทาง",
        // UAE, Greece, Ukraine, Hungary, former Yugoslavia, Kazakhstan, Australia, New
        // Zealand, Bulgaria, Croatia, Romania, Slovenia, Estonia.
        "emirates id", "αμκα", "рнокпп", "taj szám", "taj", "jmbg", "иин", "medicare card",
        "medicare", "ird number", "ird", "egn", "егн", "oib", "cnp", "emšo", "isikukood",
        "social insurance number",
    ]),
    // Phone numbers.
    (Personal, Run::Digits, &[
        "tel", "telefon", "telefonnummer", "handynummer", "mobilnummer", "rufnummer",
        "téléphone", "numéro de téléphone", "teléfono", "número de teléfono",
        "celular", "móvil", "telefone", "telemóvel", "cellulare", "telefono", "telefoon",
        "telefoonnummer", "mobiel", "telefonnummer", "komórka", "numer telefonu",
        "cep telefonu", "telepon", "nomor telepon", "nomor hp", "ponsel", "điện thoại",
        "số điện thoại", "sđt", "namba ya simu", "simu", "telepono",
        "телефон", "номер телефона", "мобильный", "мобільний", "τηλέφωνο", "κινητό",
        "电话", "手机", "電話", "手機", "携帯", "전화", "전화번호", "휴대폰", "핸드폰",
        "هاتف", "جوال", "موبايل", "رقم الهاتف", "تلفن", "فون", "موبائل", "טלפון", "נייד",
        "फोन", "फ़ोन", "मोबाइल", "मोबाईल", "दूरभाष", "ফোন", "মোবাইল", "தொலைபேசி",
        "கைபேசி", "ఫోన్", "మొబైల్", "โทรศัพท์", "มือถือ",
        "fono", "fax", "telefax", "faks", "whatsapp", "传真", "傳真", "ファックス", "팩스", "факс",
    ]),
    // Birth dates and places.
    (Personal, Run::Digits, &[
        "geburtsdatum", "geburtstag", "geburtsort", "date de naissance", "lieu de naissance",
        "fecha de nacimiento", "lugar de nacimiento", "data de nascimento", "data di nascita",
        "geboortedatum", "födelsedatum", "fødselsdato", "syntymäaika", "data urodzenia",
        "doğum tarihi", "tanggal lahir", "ngày sinh", "tarehe ya kuzaliwa",
        "дата рождения", "дата народження", "ημερομηνία γέννησης",
        "生日", "出生日期", "生年月日", "誕生日", "생년월일", "생일", "วันเกิด",
        "تاريخ الميلاد", "تاریخ تولد", "תאריך לידה", "जन्मतिथि", "जन्म तिथि", "जन्म दिनांक",
        "জন্ম তারিখ", "பிறந்த தேதி", "పుట్టిన తేదీ",
    ]),
    // Postal addresses (not "address" alone: servers have addresses too).
    (Personal, Run::Text, &[
        "shipping address", "billing address", "home address", "street address",
        "postal address", "mailing address", "delivery address", "residential address",
        "address line", "anschrift", "lieferadresse", "rechnungsadresse", "wohnadresse",
        "postanschrift", "wohnort", "adresse postale", "adresse de livraison",
        "adresse de facturation", "domicile", "dirección postal", "dirección de envío",
        "dirección de facturación", "domicilio", "endereço de entrega",
        "endereço residencial", "endereço de cobrança", "morada", "indirizzo di spedizione",
        "indirizzo di residenza", "woonadres", "bezorgadres", "factuuradres", "postadres",
        "teslimat adresi", "ev adresi", "fatura adresi", "alamat rumah", "alamat pengiriman",
        "địa chỉ giao hàng", "địa chỉ nhà", "adres zamieszkania", "adres dostawy",
        "anwani ya makazi",
        "адрес доставки", "домашний адрес", "почтовый адрес", "адрес проживания",
        "адрес регистрации", "收货地址", "家庭住址", "住址", "收件地址", "通讯地址",
        "住所", "お届け先", "配送先住所", "배송지", "집주소", "배송주소",
        "عنوان الشحن", "عنوان المنزل", "العنوان البريدي", "घर का पता",
    ]),
    // Emails and names.
    (Personal, Run::Text, &[
        "correo electrónico", "correo", "courriel", "e-posta", "邮箱", "电子邮件", "電子郵件",
        "メールアドレス", "이메일", "электронная почта", "البريد الإلكتروني", "ईमेल",
        "cardholder", "cardholder name", "card holder", "name on card", "account holder",
        "titular", "姓名", "氏名", "성명", "nombre completo", "nome completo", "nom complet",
        "vorname", "nachname", "apellido", "apellidos", "sobrenome", "prénom",
        "nom de famille", "cognome", "achternaam", "voornaam", "фио", "фамилия", "soyadı",
        "ad soyad",
    ]),
];

/// The bare word for an address in each language of [`WORDS`]. Alone it may name a
/// network, memory or mail address (`Address: 0x7ffd`, `adresse IP : 10.0.0.1`), so
/// as a label in text it takes the value after it only when that value is written like
/// a postal address ([`postal`]) and no word of the label names another kind
/// ([`NOT_POSTAL`]).
#[rustfmt::skip]
const ADDRESS_WORDS: &[&str] = &[
    "address", "adresse", "anschrift", "dirección", "domicilio", "indirizzo", "endereço",
    "morada", "adres", "adresa", "adresă", "adress", "osoite", "cím", "alamat", "anwani",
    "địa chỉ", "адрес", "адреса", "адресу", "διεύθυνση", "地址", "住址", "住所", "주소",
    "عنوان", "العنوان", "نشانی", "آدرس", "پتہ", "پتا", "כתובת", "पता", "पत्ता", "ঠিকানা",
    "முகவரி", "చిరునామా", "ที่อยู่",
];

/// Words that, next to an address word, name an address that is not postal: network,
/// memory, mail, wallet and web addresses (`IP address`, `adresse e-mail`, `IP-адрес`,
/// `服务器地址`).
#[rustfmt::skip]
const NOT_POSTAL: &[&str] = &[
    "ip", "ipv4", "ipv6", "mac", "email", "mail", "e-mail", "courriel", "correo",
    "server", "serveur", "servidor", "host", "listen", "bind", "remote", "local", "peer",
    "socket", "memory", "mémoire", "speicher", "wallet", "contract", "web", "url", "uri",
    "network", "réseau", "red", "netz", "gateway", "broadcast", "multicast", "physical",
    "virtual", "base", "return", "load", "start", "end", "target", "source", "src", "dst",
    "destination", "proxy", "dns", "smtp", "node", "cluster", "endpoint", "hardware",
    "bluetooth", "wifi", "node", "sender", "recipient", "reply", "bounce",
    "сервер", "почты", "электронной", "памяти", "сети", "шлюза", "ip-адрес", "mac-адрес",
    "服务器", "伺服器", "サーバ", "サーバー", "邮件", "郵件", "メール", "内存", "記憶體",
    "メモリ", "网络", "網路", "网关", "서버", "메일", "이메일", "메모리", "네트워크",
];

/// Words for a street or a part of an address, as people write them in the languages of
/// [`WORDS`] (and their abbreviations): one of them makes a value after an address word
/// postal even without a house number (`адрес: ул. Ленина`).
#[rustfmt::skip]
const STREET_WORDS: &[&str] = &[
    "street", "road", "avenue", "lane", "boulevard", "blvd", "highway", "terrace",
    "crescent", "apt", "apartment",
    "rue", "bd", "chemin", "allée", "impasse", "quai", "cedex",
    "calle", "avenida", "avda", "paseo", "plaza", "carrera", "camino", "colonia",
    "viale", "piazza", "corso", "vicolo", "strada", "calea", "bulevardul",
    "rua", "travessa", "praça", "estrada", "bairro",
    "straße", "strasse", "str", "weg", "platz", "allee", "gasse", "damm", "ufer", "chaussee",
    "straat", "laan", "plein", "gracht", "kade", "singel",
    "ulica", "ul", "aleja", "plac", "osiedle", "ulice", "nám", "náměstí",
    "třída", "utca", "út", "tér", "körút",
    "gatan", "gata", "väg", "vägen", "vej", "gade", "vei", "veien", "katu", "kuja",
    "sokak", "sokağı", "cadde", "caddesi", "mahalle", "mahallesi", "mah", "bulvar",
    "jalan", "jl", "jln", "kelurahan", "kecamatan", "lorong",
    "đường", "phố", "ngõ", "phường", "quận", "mtaa", "barabara",
    "ул", "улица", "проспект", "пр-т", "пр", "переулок", "пер", "бульвар", "б-р", "шоссе",
    "площадь", "пл", "дом", "кв", "вул", "вулиця", "просп", "провулок",
    "οδός", "οδ", "λεωφόρος", "λεωφ",
    "路", "街", "号", "號", "巷", "弄", "丁目", "番地", "町", "区", "市", "省",
    "로", "길", "번지", "동", "구",
    "شارع", "طريق", "خیابان", "کوچه", "سڑک", "گلی", "רחוב", "שדרות",
    "मार्ग", "रोड", "सड़क", "गली", "নগর", "সড়ক", "রোড", "சாலை", "தெரு", "రోడ్డు", "వీధి",
    "ถนน", "ซอย", "หมู่",
];

struct AddressTable {
    address: std::collections::HashSet<String>,
    not_postal: std::collections::HashSet<String>,
    street: std::collections::HashSet<String>,
    /// Street words of scripts written without spaces, found inside a word (`建国路88号`).
    street_inside: Vec<String>,
}

fn address_table() -> &'static AddressTable {
    static TABLE: OnceLock<AddressTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let set = |words: &[&str]| words.iter().map(|w| fold(w)).collect();
        let street_inside = STREET_WORDS
            .iter()
            .map(|w| fold(w))
            .filter(|w| {
                w.chars()
                    .all(|c| c as u32 >= 0x3000 || ('\u{e00}'..='\u{e7f}').contains(&c))
            })
            .collect();
        AddressTable {
            address: set(ADDRESS_WORDS),
            not_postal: set(NOT_POSTAL),
            street: set(STREET_WORDS),
            street_inside,
        }
    })
}

/// Whether `label` (a key or label in text, any case and spelling) holds a bare address
/// word and no word naming another kind of address (`Adresse`, `Customer address`,
/// `адрес`; not `IP address`, `adresse e-mail`, `IP-адрес`).
/// Answers are kept (keys repeat in every report and log; bounded like the key verdicts):
/// a field named `address` is asked about once, not at every value under it.
pub(crate) fn address_label(label: &str) -> bool {
    type Verdicts = std::sync::RwLock<HashMap<Box<str>, bool, rustc_hash::FxBuildHasher>>;
    static VERDICTS: OnceLock<Verdicts> = OnceLock::new();
    let verdicts = VERDICTS.get_or_init(Default::default);
    if let Some(&known) = verdicts
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(label)
    {
        return known;
    }
    let verdict = address_label_uncached(label);
    let mut map = verdicts.write().unwrap_or_else(|e| e.into_inner());
    if map.len() < 4096 {
        map.insert(label.into(), verdict);
    }
    verdict
}

fn address_label_uncached(label: &str) -> bool {
    // Most labels are ASCII and hold none of these letters: no folding for them.
    if label.is_ascii() {
        let has = |w: &str| {
            label
                .as_bytes()
                .windows(w.len())
                .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
        };
        let words = [
            "adr", "addr", "dire", "domic", "indir", "ender", "morad", "osoit", "cim",
        ];
        if !words
            .iter()
            .chain(&["alamat", "anwani", "anschr"])
            .any(|w| has(w))
        {
            return false;
        }
    }
    let t = address_table();
    let folded = fold(label);
    let words: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, '_' | '.' | '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let found = |w: &str| {
        t.address.contains(w)
            // Scripts without spaces, and compounds of them (`用户地址`, `Lieferanschrift`).
            || (!is_latin(w) && t.address.iter().any(|a| !is_latin(a) && w.contains(a.as_str())))
    };
    let two_word = words
        .windows(2)
        .any(|p| t.address.contains(&format!("{} {}", p[0], p[1])));
    if !(two_word || words.iter().any(|w| found(w))) {
        return false;
    }
    !words.iter().any(|w| {
        t.not_postal.contains(*w)
            || (!is_latin(w)
                && (w.starts_with("ip")
                    || w.starts_with("mac")
                    || t.not_postal
                        .iter()
                        .any(|q| !is_latin(q) && w.contains(q.as_str()))))
    })
}

/// Whether `value`, written after an address label, reads as a postal address: its first
/// word is no network, memory or mail address nor a placeholder, and it holds a street
/// word, or a house number (`12`, `221B`, `5-7`, `n° 4`) and a word, or, in scripts
/// written without spaces, letters and digits in one word (`丸の内1-1`).
pub(crate) fn postal(value: &str) -> bool {
    let t = address_table();
    let words: Vec<&str> = value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .take(16)
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    let first = first.trim_matches(|c| matches!(c, '"' | '\'' | '(' | ')'));
    let lower = first.to_lowercase();
    let inner_dot = first
        .trim_end_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
        .count()
        > 1;
    let network = lower.starts_with("0x")
        || lower.starts_with('[')
        || lower.starts_with('/')
        || lower.contains(['@', ':', '\\'])
        || (first.is_ascii() && inner_dot)
        || matches!(
            lower.as_str(),
            "localhost"
                | "unknown"
                | "none"
                | "null"
                | "nil"
                | "n/a"
                | "-"
                | "redacted"
                | "empty"
                | "unset"
                | "undefined"
                | "missing"
                | "any"
                | "*"
                | "in"
                | "already"
                | "is"
                | "was"
                | "not"
                | "of"
                | "for"
                | "family"
        );
    if network {
        return false;
    }
    let mut number = false;
    let mut word = false;
    for w in &words {
        let folded =
            fold(w.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | '"' | '\'' | '(' | ')')));
        if t.street.contains(&folded) || t.street_inside.iter().any(|s| folded.contains(s.as_str()))
        {
            return true;
        }
        let digits = folded.chars().filter(char::is_ascii_digit).count();
        let letters = folded.chars().filter(|c| c.is_alphabetic()).count();
        if digits > 0
            && letters > 0
            && folded.chars().any(|c| c.is_alphabetic() && !c.is_ascii())
            && !is_latin(&folded)
        {
            return true;
        }
        let house = (1..=5).contains(&digits)
            && letters <= 2
            && folded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '°' | 'º' | '№'));
        number |= house
            && folded
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, 'n' | '№'));
        // A name (`Baker`, `Rivoli`), not a count's unit (`10 workers`, `3 retries`,
        // `200 OK`, `5 попыток`): capitalised, with lower-case letters after.
        let name = {
            let mut chars = w.trim_matches(|c: char| !c.is_alphabetic()).chars();
            chars.next().is_some_and(char::is_uppercase) && chars.any(char::is_lowercase)
        };
        word |= digits == 0 && letters >= 2 && name && folded.chars().all(char::is_alphabetic);
    }
    number && word
}

/// What a secret word of [`SECRET_WORDS`] names, which decides the value prose gives
/// it (`secrets::languages`): any credential for a password, a longer one for a token
/// or key, four to eight digits for a PIN or one-time code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concept {
    Password,
    Token,
    Code,
    /// An identity document's number (driver's licence, passport, identity card,
    /// residence permit): letters and digits, several of them digits.
    Document,
    /// A national id, tax, social-insurance or bank account number: digit groups (`341-287-659
    /// 82`, `4172 58368 1`) or letters and digits as a document's.
    NationalId,
    /// A bank's public code ([`BANK_CODE_WORDS`]): its digits stay, an `account` number
    /// after them goes.
    BankCode,
}

/// Bank account labels, no key words: in prose only, before their digits (`account no
/// 73849201`, `account number 483920175`). `account` alone names SaaS accounts too.
pub(crate) const ACCOUNT_WORDS: &[&str] = &[
    "account number",
    "account no",
    "account nr",
    "account #",
    "acct no",
    "acct number",
    "acct #",
    "bank account",
];

/// A bank's or branch's public code (`routing 021000021`, `sort code 20-00-00`, `BSB
/// 062-000`): no personal data itself, it says the `account` number after it is a bank
/// account's (`ACH routing 021000021 account 483920175`).
pub(crate) const BANK_CODE_WORDS: &[&str] = &[
    "routing",
    "routing number",
    "aba",
    "aba routing",
    "sort code",
    "bsb",
];

/// The government, tax and social-insurance id names of [`WORDS`] (with the document
/// names): in prose their digits follow.
pub(crate) fn id_words() -> impl Iterator<Item = &'static str> {
    WORDS
        .iter()
        .filter(|(kind, _, _)| *kind == Id)
        .flat_map(|(_, _, words)| words.iter().copied())
}

/// Abbreviations of identity documents, with a number sign or word (`DL#: X`, `PP no.
/// X`): in prose only; as keys (`dl.host`, `pp_no`) they name nothing.
pub(crate) const DOCUMENT_ABBREVIATIONS: &[&str] = &[
    "dl#", "dl #", "dl no", "dl nr", "pp#", "pp #", "pp no", "pp nr",
];

/// Identity documents by their names in the languages of [`WORDS`]: in prose their
/// number follows, with or without a separator or a number word (`permis de conduire
/// n° 120375200143`, `Driver's License D1234567`); as keys and labels they are ids.
#[rustfmt::skip]
pub(crate) const DOCUMENT_WORDS: &[&str] = &[
    "driver's license", "driver’s license", "driver's licence", "driver’s licence",
    "drivers license", "drivers licence", "driver license", "driver licence",
    "driving license", "driving licence", "driver license number", "licence number",
    "license number", "dl number", "passport", "passport number",
    "identity card", "id card", "residence permit", "national id", "national identity card",
    "führerschein", "führerscheinnummer", "fuehrerschein", "reisepass", "reisepassnummer",
    "passnummer", "personalausweis", "personalausweisnummer", "ausweisnummer",
    "aufenthaltstitel",
    "permis de conduire", "numéro de permis", "passeport", "numéro de passeport",
    "carte d'identité", "titre de séjour",
    "licencia de conducir", "licencia de conducción", "permiso de conducir",
    "carnet de conducir", "pasaporte", "número de pasaporte", "documento de identidad",
    "carteira de motorista", "carteira de habilitação", "carta de condução", "cnh",
    "passaporte", "carteira de identidade",
    "patente di guida", "passaporto", "numero di passaporto", "carta d'identità",
    "permesso di soggiorno",
    "rijbewijs", "rijbewijsnummer", "paspoort", "paspoortnummer", "identiteitskaart",
    "prawo jazdy", "paszport", "dowód osobisty", "řidičský průkaz", "občanský průkaz",
    "jogosítvány", "vezetői engedély", "útlevél", "személyi igazolvány",
    "permis de conducere", "pașaport", "carte de identitate",
    "körkort", "körkortsnummer", "kørekort", "kørekortnummer", "førerkort",
    "førerkortnummer", "ajokortti", "ajokortin numero", "henkilökortti",
    "ehliyet", "sürücü belgesi", "ehliyet numarası", "pasaport", "kimlik kartı",
    "surat izin mengemudi", "lesen memandu", "paspor", "kartu tanda penduduk",
    "giấy phép lái xe", "bằng lái xe", "bằng lái", "hộ chiếu", "leseni ya udereva", "pasipoti",
    "водительское удостоверение", "водительские права", "паспорт", "посвідчення водія",
    "водійське посвідчення", "δίπλωμα οδήγησης", "άδεια οδήγησης", "διαβατήριο",
    "驾驶证", "駕駛執照", "駕照", "护照", "護照", "身份证", "運転免許証", "免許証番号",
    "旅券", "パスポート", "운전면허", "운전면허증", "여권",
    "رخصة القيادة", "جواز السفر", "گواهینامه رانندگی", "گذرنامه", "רישיון נהיגה", "דרכון",
    "ड्राइविंग लाइसेंस", "पासपोर्ट", "ড্রাইভিং লাইসেন্স", "ड्रायव्हिंग लायसन्स",
    "ஓட்டுநர் உரிமம்", "డ్రైవింగ్ లైసెన్స్", "ڈرائیونگ لائسنس", "ใบขับขี่",
    "หนังสือเดินทาง",
];

/// Secret words by concept in the languages most used on the web (W3Techs' content
/// languages) and the other large ones: password, token, secret, credentials, API,
/// access, secret and private key, PIN and one-time code. As keys they are all
/// secrets; in prose the concept decides the value's shape. A bare "key" word is not
/// here (a cache or primary key is no secret): only its qualified forms are.
#[rustfmt::skip]
pub(crate) const SECRET_WORDS: &[(Concept, &[&str])] = &[
    (Concept::Password, &[
        "password", "passwort", "kennwort", "passwd", "passphrase", "passcode",     // en, de
        "mot de passe", "mdp",                                                     // fr
        "contraseña", "clave", "clave de acceso", "contrasenya",                  // es, ca
        "senha", "palavra-passe", "palavra passe",                                 // pt
        "parola d'ordine",                                                         // it ("password" is en)
        "wachtwoord", "adgangskode", "kodeord", "lösenord", "passord",             // nl, da, sv, no
        "hasło", "heslo", "salasana", "jelszó", "parolă", "parola", "şifre",       // pl, cs/sk, fi, hu, ro, tr
        "lozinka", "geslo", "parool", "slaptažodis", "parole",                     // hr/sr/bs, sl, et, lt, lv
        "kata sandi", "kata laluan", "katasandi", "nenosiri", "neno la siri", "nywila", // id, ms, sw
        "mật khẩu",                                                                // vi
        "пароль", "лозинка", "парола", "гасло",                                    // ru/uk, sr/mk, bg, be
        "κωδικός", "κωδικός πρόσβασης", "συνθηματικό",                              // el
        "密码", "密碼", "口令", "パスワード", "비밀번호", "암호", "패스워드",           // zh, ja, ko
        "पासवर्ड", "कूटशब्द", "संकेतशब्द", "পাসওয়ার্ড", "পাসওয়ার্ড", "পাসওয়াৰ্ড",       // hi, mr, bn
        "கடவுச்சொல்", "పాస్‌వర్డ్", "సంకేతపదం", "پاس ورڈ",                           // ta, te, ur
        "كلمة المرور", "كلمة السر", "رمز المرور", "رمز عبور", "گذرواژه",            // ar, fa
        "סיסמה", "סיסמא", "รหัสผ่าน", "գաղտնաբառ", "პაროლი",                        // he, th, hy, ka
    ]),
    (Concept::Token, &[
        "token", "jeton", "belirteç", "токен", "令牌", "トークン", "토큰", "טוקן", "توكن",
        "टोकन", "โทเค็น", "mã thông báo", "τεκμήριο",
        "access token", "zugriffstoken", "jeton d'accès", "token de acceso", "token de acesso",
        "token di accesso", "toegangstoken", "token dostępu", "erişim belirteci",
        "токен доступа", "访问令牌", "訪問令牌", "存取權杖", "アクセストークン", "액세스 토큰",
        "secret", "geheimnis", "secreto", "segredo", "segreto", "sekret", "секрет",
        "秘密", "シークレット", "시크릿", "סוד", "रहस्य", "ความลับ", "bí mật", "rahasia",
        "credentials", "zugangsdaten", "anmeldedaten", "credenciales", "identifiants",
        "credenziali", "credenciais", "inloggegevens", "dane logowania", "poświadczenia",
        "учетные данные", "учётные данные", "облікові дані", "凭据", "凭证", "憑證",
        "資格情報", "자격 증명", "kimlik bilgileri", "thông tin đăng nhập", "kredensial",
        "بيانات الاعتماد", "פרטי התחברות", "ข้อมูลรับรอง", "διαπιστευτήρια",
        "api key", "apikey", "api-schlüssel", "api schlüssel", "geheimer schlüssel",
        "privater schlüssel", "clé api", "clé secrète", "clé privée", "clave api",
        "clave de api", "clave secreta", "clave privada", "chave de api", "chave api",
        "chave secreta", "chave privada", "chiave api", "chiave segreta", "chiave privata",
        "api-sleutel", "geheime sleutel", "privésleutel", "klucz api", "klucz prywatny",
        "tajny klucz", "api anahtarı", "gizli anahtar", "özel anahtar", "kunci api",
        "kunci rahasia", "kunci pribadi", "khóa api", "khóa bí mật", "khóa riêng",
        "api ключ", "ключ api", "секретный ключ", "закрытый ключ", "приватный ключ",
        "ключ доступа", "api密钥", "密钥", "私钥", "秘钥", "金鑰", "密鑰", "私鑰",
        "apiキー", "秘密鍵", "シークレットキー", "api 키", "비밀 키", "개인 키",
        "מפתח api", "מפתח סודי", "מפתח פרטי", "مفتاح api", "المفتاح السري", "مفتاح سري",
        "المفتاح الخاص", "एपीआई कुंजी", "गुप्त कुंजी", "निजी कुंजी", "คีย์ลับ",
        "κλειδί api", "μυστικό κλειδί", "ιδιωτικό κλειδί", "api-avain", "salainen avain",
        "api-nøgle", "api-nyckel", "hemlig nyckel", "api-nøkkel", "api kulcs",
        "titkos kulcs", "cheie api", "cheie secretă", "api klíč", "tajný klíč",
        "soukromý klíč",
        // OAuth 2.0's authorization code and PKCE verifier (RFC 6749 4.1, RFC 7636):
        // whoever holds them gets the tokens.
        "authorization code", "authorisation code", "auth code", "oauth code",
        "code verifier", "pkce verifier",
    ]),
    (Concept::Code, &[
        "pin", "pin-code", "otp", "验证码", "驗證碼", "动态码", "支付密码", "暗証番号",
        "認証コード", "確認コード", "ワンタイムパスワード", "인증번호", "인증코드", "확인 코드",
        "ओटीपी", "सत्यापन कोड", "ওটিপি", "رمز التحقق", "رمز التأكيد", "کد تایید",
        "קוד אימות", "код подтверждения", "код підтвердження", "пин-код", "пін-код", "пин",
        "κωδικός επαλήθευσης", "รหัสยืนยัน", "mã xác thực", "mã xác nhận", "mã xác minh",
        "mã otp", "kode otp", "kode verifikasi", "doğrulama kodu", "onay kodu",
        "bestätigungscode", "verifizierungscode", "einmalcode", "geheimzahl",
        "code de vérification", "code de confirmation", "code pin", "código de verificación",
        "código de confirmación", "código de verificação", "código de segurança",
        "codice di verifica", "codice otp", "verificatiecode", "kod weryfikacyjny",
        "kod sms", "verifieringskod", "bekræftelseskode", "vahvistuskoodi", "ověřovací kód",
        "ellenőrző kód", "cod de verificare",
    ]),
];

/// Words of [`SECRET_WORDS`] that are English and already read by the English
/// detectors as keys (`password`, `token`, `secret`): kept out of the key table, which
/// names the other languages' words.
pub(crate) const ENGLISH_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "token",
    "secret",
    "credentials",
    "pin",
    "otp",
    "access token",
    "api key",
    "apikey",
    "accesstoken",
];

/// The normalised table: Latin-script words (joined, diacritics removed) and the
/// others (joined, matched anywhere).
struct Table {
    latin: Map<(Kind, Run)>,
    longest_latin: usize,
    /// Byte lengths of the Latin words of seven bytes or more (compound parts).
    compound_lengths: Vec<usize>,
    /// The other scripts' words, found in one pass (an Aho-Corasick search inside
    /// `regex`), then looked up.
    scripts: Map<(Kind, Run)>,
    scripts_search: Option<regex::Regex>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut latin = Map::default();
        let mut scripts = Map::default();
        let mut longest_latin = 1;
        let secret_words = SECRET_WORDS.iter().map(|(_, words)| {
            let words: &[&str] = words;
            (Secret, Run::Word, words)
        });
        let rows = WORDS
            .iter()
            .map(|(k, r, w)| (*k, *r, *w))
            .chain(std::iter::once((Id, Run::Digits, DOCUMENT_WORDS)))
            .chain(secret_words);
        for (kind, run, words) in rows {
            for w in words {
                if kind == Secret && ENGLISH_KEY_WORDS.contains(w) {
                    continue;
                }
                let parts = crate::words::split_words(&fold(w));
                let joined = parts.concat();
                if joined.is_empty() {
                    continue;
                }
                if is_latin(&joined) {
                    longest_latin = longest_latin.max(parts.len());
                    // A word both a secret and personal data stays the stronger.
                    let entry = latin.entry(joined).or_insert((kind, run));
                    if kind != Personal {
                        *entry = (kind, run);
                    }
                } else {
                    let entry = scripts.entry(joined).or_insert((kind, run));
                    if kind != Personal {
                        *entry = (kind, run);
                    }
                }
            }
        }
        let mut compound_lengths: Vec<usize> =
            latin.keys().map(String::len).filter(|&l| l >= 7).collect();
        compound_lengths.sort_unstable();
        compound_lengths.dedup();
        let mut words: Vec<&String> = scripts.keys().collect();
        // Longest first, so a word inside a longer one does not hide it.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let pattern = words
            .iter()
            .map(|w| regex::escape(w))
            .collect::<Vec<_>>()
            .join("|");
        let scripts_search = regex::Regex::new(&pattern).ok();
        Table {
            latin,
            longest_latin,
            compound_lengths,
            scripts,
            scripts_search,
        }
    })
}

/// Latin script (ASCII after folding, or Latin letters without a decomposition:
/// `ß`, `ł`, `ø`, `ı`).
fn is_latin(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii()
            || ('\u{c0}'..='\u{24f}').contains(&c)
            || ('\u{1e00}'..='\u{1eff}').contains(&c)
    })
}

/// NFKC, lower case, and Latin letters without their diacritics (`Teléfono` is
/// `telefono`; other scripts' marks are kept: they are part of their letters).
/// Metadata words in scripts written without spaces (Chinese, Japanese, Korean): a key
/// word of the table followed by one of these names a length, count, expiry, change,
/// error or policy of the secret (as `password_length` does).
pub(crate) const SCRIPT_METADATA: &[&str] = &[
    "长度",
    "長度",
    "次数",
    "次數",
    "错误",
    "錯誤",
    "有效期",
    "过期",
    "過期",
    "修改",
    "变更",
    "策略",
    "规则",
    "長さ",
    "回数",
    "有効期限",
    "期限",
    "変更",
    "ポリシー",
    "エラー",
    "ルール",
    "길이",
    "횟수",
    "만료",
    "변경",
    "정책",
    "오류",
    "규칙",
];

pub(crate) fn fold(s: &str) -> String {
    use unicode_normalization::char::{decompose_canonical, is_combining_mark};
    let normal = super::normalize::nfkc_str(s);
    let mut out = String::with_capacity(normal.len());
    for c in normal.chars().flat_map(char::to_lowercase) {
        if ('\u{c0}'..='\u{24f}').contains(&c) || ('\u{1e00}'..='\u{1eff}').contains(&c) {
            decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            });
        } else {
            out.push(c);
        }
    }
    out
}

/// What `key` names by these words, if anything. `metadata` says whether a word (lower
/// case) after a match makes the key data about the value (`phone_verified`).
pub(crate) fn kind_of(key: &str, metadata: impl Fn(&str) -> bool) -> Option<Kind> {
    entry_of(key, metadata).map(|(k, _)| k)
}

fn entry_of(key: &str, metadata: impl Fn(&str) -> bool) -> Option<(Kind, Run)> {
    let t = table();
    let folded = fold(key);
    let words = crate::words::split_words(&folded);
    let mut best: Option<(Kind, Run)> = None;
    let mut note = |k: (Kind, Run)| {
        if best.is_none_or(|b| b.0 == Personal) {
            best = Some(k);
        }
    };
    for i in 0..words.len() {
        let mut joined = String::new();
        for j in i..words.len().min(i + t.longest_latin) {
            joined.push_str(&words[j]);
            if let Some(&k) = t.latin.get(&joined) {
                if !words.get(j + 1).is_some_and(|w| metadata(w)) {
                    note(k);
                }
            }
        }
        // Compounds: a long word at the start or end of one key word (a lookup per
        // length of such words, whatever the table's size).
        let w = &words[i];
        if w.len() > 7 && words.get(i + 1).is_none_or(|w| !metadata(w)) {
            for &len in t.compound_lengths.iter().filter(|&&l| l < w.len()) {
                for part in [w.get(..len), w.get(w.len() - len..)].into_iter().flatten() {
                    if let Some(&k) = t.latin.get(part) {
                        note(k);
                    }
                }
            }
        }
    }
    if !key.is_ascii() {
        let all = words.concat();
        if let Some(search) = &t.scripts_search {
            for m in search.find_iter(&all) {
                if let Some(&k) = t.scripts.get(m.as_str()) {
                    // `密码错误次数`, `パスワードの有効期限`, `비밀번호 변경`: about the
                    // secret, not the secret.
                    let rest = &all[m.end()..];
                    if !SCRIPT_METADATA.iter().any(|w| rest.contains(w)) {
                        note(k);
                    }
                }
            }
        }
    }
    best
}

/// Whether `key` names a secret or personal data by these words; personal data only
/// when `pii` (send_default_pii off).
pub(crate) fn matches(key: &str, pii: bool, metadata: impl Fn(&str) -> bool) -> bool {
    match kind_of(key, metadata) {
        Some(Secret | Id) => true,
        Some(Personal) => pii,
        None => false,
    }
}

/// How far the value after `key` runs in text ([`Run`]); `Word` for other keys.
/// Answers are kept (keys repeat in every report; bounded like the key verdicts).
pub(crate) fn value_run(key: &str) -> Run {
    type Runs = std::sync::RwLock<HashMap<Box<str>, Run, rustc_hash::FxBuildHasher>>;
    static RUNS: OnceLock<Runs> = OnceLock::new();
    let runs = RUNS.get_or_init(Default::default);
    if let Some(&run) = runs.read().unwrap_or_else(|e| e.into_inner()).get(key) {
        return run;
    }
    let run = entry_of(key, |_| false).map_or(Run::Word, |(_, run)| run);
    let mut map = runs.write().unwrap_or_else(|e| e.into_inner());
    if map.len() < 4096 {
        map.insert(key.into(), run);
    }
    run
}

/// The ASCII words of the table, joined, for the key prefilter.
pub(crate) fn ascii_atoms() -> impl Iterator<Item = String> {
    table()
        .latin
        .keys()
        .filter(|w| w.is_ascii())
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(key: &str) -> Option<Kind> {
        kind_of(key, |w| {
            matches!(w, "verified" | "type" | "count" | "enabled")
        })
    }

    #[test]
    fn keys_in_many_languages_and_scripts_are_named() {
        for (key, expected) in [
            ("密码", Secret),
            ("用户密码", Secret),
            ("パスワード", Secret),
            ("ｐａｓｓｗｏｒｔ", Secret),
            ("비밀번호", Secret),
            ("पासवर्ड", Secret),
            ("كلمة المرور", Secret),
            ("סיסמה", Secret),
            ("mật khẩu", Secret),
            ("nenosiri", Secret),
            ("Mot_de_passe", Secret),
            ("passport_no", Id),
            ("passportNumber", Id),
            ("national_id", Id),
            ("cpf", Id),
            ("numéro_de_sécurité_sociale", Id),
            ("steuer-id", Id),
            ("身份证号", Id),
            ("numero_de_telefone", Personal),
            ("Telefonnummer", Personal),
            ("номер_телефона", Personal),
            ("电话号码", Personal),
            ("geburtsdatum", Personal),
            ("fecha_de_nacimiento", Personal),
            ("doğum tarihi", Personal),
            ("dogum_tarihi", Personal),
            ("Lieferadresse", Personal),
            ("shipping_address", Personal),
            ("Anschrift", Personal),
            ("cardholder_name", Personal),
            ("住所", Personal),
        ] {
            assert_eq!(kind(key), Some(expected), "{key}");
        }
    }

    #[test]
    fn ordinary_keys_and_data_about_the_value_are_not_named() {
        for key in [
            "address",
            "server_address",
            "listen_addr",
            "phone_verified",
            "passport_type",
            "tokenizer",
            "route",
            "order_id",
            "status",
            "nombre",
            "level",
            "latin",
            "sintering",
            "服务器",
            "名前空間",
        ] {
            assert_eq!(kind(key), None, "{key}");
        }
    }
}
