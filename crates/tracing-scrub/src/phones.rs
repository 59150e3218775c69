//! Phone numbers in text, validated against Google's libphonenumber metadata (the
//! `phonenumber` crate, which carries it).
//!
//! The parser is only asked about candidates that already look like a phone number
//! written by a person (see [`is_phone`]); the rule:
//! - `+` and a country code (`+55 11 93047-8052`, `+4930294028`): a phone when valid;
//! - `00` and a country code, written in groups (`0049 30 29402838`): the same;
//! - a national number (`030 29402838`, `8 (916) 697-44-72`) only with a phone word
//!   before it in one of many languages (`Tel.`, `tél`, `телефон`, `電話`, `휴대폰`, ...;
//!   [`CONTEXT`]), valid in a region of that word's language or a common one; or,
//!   without such a word, written the way only phone numbers are: an area code in
//!   parentheses followed by two groups (`(11) 93047-8052`) or NANP `415-329-4283`,
//!   valid, and not named as something else (`order`, `invoice`, `id`, ...). Other
//!   layouts (`06 53 47 73 65`) are numbers of many kinds and need the phone word.
//!
//! So order numbers, amounts, timestamps, ports, versions and ids, which carry no `+`,
//! no phone word and no phone grouping, are never handed to the parser.

use phonenumber::country::Id;

/// Regions whose national numbers are tried when the context word does not say, or
/// after its own: the most populous and the most logged.
const COMMON: &[Id] = &[
    Id::US,
    Id::IN,
    Id::CN,
    Id::BR,
    Id::GB,
    Id::DE,
    Id::FR,
    Id::JP,
    Id::RU,
    Id::MX,
    Id::ID,
    Id::TR,
    Id::IT,
    Id::ES,
    Id::KR,
    Id::NG,
    Id::PK,
    Id::BD,
    Id::PH,
    Id::VN,
    Id::EG,
    Id::ZA,
    Id::AR,
    Id::PL,
    Id::NL,
    Id::UA,
    Id::SA,
    Id::AU,
    Id::CO,
    Id::KE,
];

/// Phone words (lower case, after NFKC) and the regions of their language, tried
/// first. ASCII words must stand as words; others may be part of a longer one
/// (`telefonnummer`, `手机号`, `номер телефона`).
pub(crate) const CONTEXT: &[(&str, &[Id])] = &[
    // English.
    (
        "phone",
        &[
            Id::US,
            Id::GB,
            Id::IN,
            Id::NG,
            Id::PH,
            Id::CA,
            Id::AU,
            Id::ZA,
            Id::KE,
            Id::PK,
            Id::IE,
            Id::NZ,
            Id::SG,
            Id::GH,
        ],
    ),
    (
        "tel",
        &[
            Id::DE,
            Id::FR,
            Id::GB,
            Id::US,
            Id::IT,
            Id::ES,
            Id::NL,
            Id::PL,
            Id::TR,
            Id::JP,
            Id::AT,
            Id::CH,
            Id::BE,
        ],
    ),
    (
        "telephone",
        &[Id::US, Id::GB, Id::IN, Id::FR, Id::CA, Id::AU],
    ),
    (
        "mobile",
        &[
            Id::GB,
            Id::IN,
            Id::AU,
            Id::FR,
            Id::NG,
            Id::ZA,
            Id::US,
            Id::IE,
        ],
    ),
    ("mob", &[Id::GB, Id::IN, Id::RU]),
    ("cell", &[Id::US, Id::ZA, Id::CA]),
    ("cellphone", &[Id::US, Id::ZA, Id::PH]),
    ("call", &[Id::US, Id::GB, Id::IN]),
    ("callback", &[Id::US, Id::GB, Id::IN]),
    (
        "sms",
        &[
            Id::GB,
            Id::IN,
            Id::DE,
            Id::FR,
            Id::NG,
            Id::KE,
            Id::TR,
            Id::US,
        ],
    ),
    ("whatsapp", &[Id::IN, Id::BR, Id::MX, Id::ID, Id::NG]),
    ("fax", &[Id::DE, Id::US, Id::JP, Id::GB]),
    ("msisdn", &[Id::GB, Id::NG, Id::KE, Id::IN, Id::DE]),
    ("viber", &[Id::UA, Id::BY, Id::RS, Id::PH]),
    ("landline", &[Id::GB, Id::IN, Id::US]),
    ("contact", &[Id::US, Id::GB, Id::IN, Id::FR]),
    // German.
    (
        "telefon",
        &[
            Id::DE,
            Id::AT,
            Id::CH,
            Id::TR,
            Id::PL,
            Id::SE,
            Id::DK,
            Id::NO,
            Id::CZ,
            Id::RO,
            Id::HU,
        ],
    ),
    ("handy", &[Id::DE, Id::AT, Id::CH]),
    ("mobil", &[Id::DE, Id::SE, Id::DK, Id::NO, Id::CZ, Id::HU]),
    ("rufnummer", &[Id::DE, Id::AT, Id::CH]),
    ("rückruf", &[Id::DE, Id::AT, Id::CH]),
    ("festnetz", &[Id::DE, Id::AT]),
    // French, Spanish, Portuguese, Italian, Dutch, Nordic, Polish, Turkish.
    ("tél", &[Id::FR, Id::BE, Id::CH, Id::CA, Id::MA, Id::SN]),
    (
        "téléphone",
        &[Id::FR, Id::BE, Id::CH, Id::CA, Id::MA, Id::DZ],
    ),
    ("portable", &[Id::FR, Id::BE, Id::CH]),
    (
        "teléfono",
        &[
            Id::ES,
            Id::MX,
            Id::AR,
            Id::CO,
            Id::PE,
            Id::CL,
            Id::VE,
            Id::EC,
        ],
    ),
    (
        "telefono",
        &[Id::ES, Id::MX, Id::AR, Id::CO, Id::IT, Id::PE, Id::CL],
    ),
    ("móvil", &[Id::ES, Id::MX]),
    ("movil", &[Id::ES, Id::MX]),
    ("celular", &[Id::BR, Id::MX, Id::AR, Id::CO, Id::PE, Id::CL]),
    ("cel", &[Id::MX, Id::BR, Id::AR]),
    // Chile, Peru and Colombia write `fono` (`fono 9 8765 4321`).
    ("fono", &[Id::CL, Id::PE, Id::CO, Id::AR]),
    ("telefone", &[Id::BR, Id::PT, Id::AO, Id::MZ]),
    ("telemóvel", &[Id::PT]),
    ("telemovel", &[Id::PT]),
    ("cellulare", &[Id::IT]),
    ("telefoon", &[Id::NL, Id::BE]),
    ("mobiel", &[Id::NL, Id::BE]),
    ("tlf", &[Id::DK, Id::NO]),
    ("komórka", &[Id::PL]),
    ("komorka", &[Id::PL]),
    ("cep", &[Id::TR]),
    ("gsm", &[Id::TR, Id::BE, Id::NL]),
    ("telp", &[Id::ID]),
    ("telepon", &[Id::ID]),
    ("tlp", &[Id::ID]),
    // `HP` (handphone) alone is also horsepower, hit points, a vendor: only as `no HP`.
    ("no hp", &[Id::ID, Id::MY]),
    ("nomor hp", &[Id::ID]),
    ("ponsel", &[Id::ID]),
    ("bimbit", &[Id::MY]),
    ("simu", &[Id::KE, Id::TZ, Id::UG]),
    ("telepono", &[Id::PH]),
    ("sđt", &[Id::VN]),
    ("điện thoại", &[Id::VN]),
    ("di động", &[Id::VN]),
    // Cyrillic, Greek, Hebrew, Arabic script.
    ("телефон", &[Id::RU, Id::UA, Id::KZ, Id::BY, Id::BG]),
    ("факс", &[Id::RU, Id::UA, Id::KZ, Id::BY, Id::BG]),
    ("тел", &[Id::RU, Id::UA, Id::KZ, Id::BY]),
    ("моб", &[Id::RU, Id::UA, Id::KZ]),
    ("мобільн", &[Id::UA]),
    ("τηλ", &[Id::GR, Id::CY]),
    ("κινητό", &[Id::GR, Id::CY]),
    ("טלפון", &[Id::IL]),
    ("נייד", &[Id::IL]),
    (
        "هاتف",
        &[
            Id::EG,
            Id::SA,
            Id::AE,
            Id::MA,
            Id::DZ,
            Id::IQ,
            Id::JO,
            Id::KW,
            Id::QA,
            Id::TN,
            Id::LB,
        ],
    ),
    ("جوال", &[Id::SA, Id::AE, Id::KW, Id::QA, Id::OM, Id::BH]),
    ("موبايل", &[Id::EG, Id::IQ, Id::SY, Id::LB]),
    ("محمول", &[Id::EG]),
    ("تليفون", &[Id::EG]),
    ("فون", &[Id::PK, Id::IN]),
    ("موبائل", &[Id::PK]),
    ("تلفن", &[Id::IR]),
    ("موبایل", &[Id::IR]),
    // Indic scripts.
    ("फोन", &[Id::IN]),
    ("फ़ोन", &[Id::IN]),
    ("मोबाइल", &[Id::IN]),
    ("मोबाईल", &[Id::IN]),
    ("दूरभाष", &[Id::IN]),
    ("दूरध्वनी", &[Id::IN]),
    ("ফোন", &[Id::BD, Id::IN]),
    ("মোবাইল", &[Id::BD, Id::IN]),
    ("தொலைபேசி", &[Id::IN, Id::LK, Id::SG, Id::MY]),
    ("கைபேசி", &[Id::IN, Id::LK]),
    ("மொபைல்", &[Id::IN, Id::LK]),
    ("ఫోన్", &[Id::IN]),
    ("మొబైల్", &[Id::IN]),
    ("โทร", &[Id::TH]),
    ("มือถือ", &[Id::TH]),
    // CJK.
    ("电话", &[Id::CN, Id::SG, Id::MY]),
    ("传真", &[Id::CN, Id::SG, Id::MY]),
    ("傳真", &[Id::TW, Id::HK, Id::MO]),
    ("ファックス", &[Id::JP]),
    ("팩스", &[Id::KR]),
    ("faks", &[Id::TR, Id::PL, Id::NO, Id::DK]),
    ("telefax", &[Id::DE, Id::AT, Id::CH, Id::NL]),
    ("手机", &[Id::CN, Id::SG, Id::MY]),
    ("電話", &[Id::JP, Id::TW, Id::HK, Id::MO]),
    ("手機", &[Id::TW, Id::HK, Id::MO]),
    ("携帯", &[Id::JP]),
    ("連絡先", &[Id::JP]),
    ("联系方式", &[Id::CN]),
    ("でんわ", &[Id::JP]),
    ("전화", &[Id::KR]),
    ("휴대폰", &[Id::KR]),
    ("핸드폰", &[Id::KR]),
    ("연락처", &[Id::KR]),
];

/// Words that name a number as something other than a phone: a grouped national
/// number right after one is not taken for a phone without a phone word.
const NOT_A_PHONE: &[&str] = &[
    "order",
    "invoice",
    "id",
    "ref",
    "reference",
    "tracking",
    "account",
    "acct",
    "iban",
    "transaction",
    "txn",
    "sku",
    "build",
    "version",
    "port",
    "pid",
    "amount",
    "total",
    "price",
    "qty",
    "size",
    "bytes",
    "serial",
    "ticket",
    "case",
    "batch",
    "lot",
    "no",
];

/// Whether `word` names a number as something other than a phone.
pub(crate) fn names_otherwise(word: &str) -> bool {
    NOT_A_PHONE.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The [`CONTEXT`] words, found in one pass over a window (a case-insensitive search
/// compiled once), with their regions.
struct ContextSearch {
    search: Option<regex::Regex>,
    regions: std::collections::HashMap<String, &'static [Id], rustc_hash::FxBuildHasher>,
}

fn context_search() -> &'static ContextSearch {
    static SEARCH: std::sync::OnceLock<ContextSearch> = std::sync::OnceLock::new();
    SEARCH.get_or_init(|| {
        let mut words: Vec<&str> = CONTEXT.iter().map(|(w, _)| *w).collect();
        // Longest first: `telephone` before `tel`.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let pattern = words
            .iter()
            .map(|w| {
                // A word of a key too (`sms_to`, `user_fax`): `_` is a boundary.
                if w.is_ascii() && w.len() >= 5 {
                    // Also the first part of a compound (`Telefonnummer`, `phonenumber`).
                    format!("(?:(?-u:\\b)|_){}", regex::escape(w))
                } else if w.is_ascii() {
                    format!("(?:(?-u:\\b)|_){}(?:(?-u:\\b)|_)", regex::escape(w))
                } else {
                    regex::escape(w)
                }
            })
            .collect::<Vec<_>>()
            .join("|");
        ContextSearch {
            search: regex::Regex::new(&format!("(?i){pattern}")).ok(),
            regions: CONTEXT.iter().map(|(w, r)| ((*w).to_owned(), *r)).collect(),
        }
    })
}

/// Appends the phone words of `text[from..to]` not yet in `out`: `(start, end,
/// regions)`, in order, positions in `text`. Called on consecutive stretches, the words
/// of a whole text are found with each byte searched a bounded number of times.
pub(crate) fn words_of(
    text: &str,
    from: usize,
    to: usize,
    out: &mut Vec<(usize, usize, &'static [Id])>,
) {
    let s = context_search();
    let Some(search) = &s.search else {
        return;
    };
    let Some(stretch) = text.get(from..to) else {
        return;
    };
    for m in search.find_iter(stretch) {
        let (start, end) = (from + m.start(), from + m.end());
        if out.last().is_some_and(|w| w.0 >= start) {
            continue;
        }
        let word = m.as_str().trim_matches('_').to_lowercase();
        let regions = s.regions.get(&word).copied().unwrap_or(&[]);
        out.push((start, end, regions));
    }
}

/// The regions of the phone words of `words` (from [`words_of`]) lying in `from..to`,
/// first found first, and whether there is one.
pub(crate) fn regions_before(
    words: &[(usize, usize, &'static [Id])],
    from: usize,
    to: usize,
) -> (Vec<Id>, bool) {
    let first = words.partition_point(|w| w.0 < from);
    let mut regions = Vec::new();
    let mut found = false;
    for &(_, _, rs) in words[first..].iter().take_while(|w| w.1 <= to) {
        found = true;
        for r in rs {
            if !regions.contains(r) {
                regions.push(*r);
            }
        }
    }
    (regions, found)
}

/// Whether `digits` can be a phone number at all, before the words around it are read:
/// 8 to 15 digits after a `+`, 10 to 17 with `00`, 7 to 13 in national form.
pub(crate) fn may_be_phone(digits: &[u8], plus: bool) -> bool {
    let n = digits.len();
    if plus {
        (8..=15).contains(&n)
    } else {
        (7..=13).contains(&n) || (digits.starts_with(b"00") && (10..=17).contains(&n))
    }
}

/// Most calls into the parser for one text; once they are spent, a later number with a
/// `+` or a phone word is taken for a phone without asking (scrubbing more, never less),
/// one without them is left alone. Keeps adversarial text (thousands of phone-like
/// groups) cheap: 16 parses of 10-20 µs each at most per pass over a text.
pub(crate) const MAX_PARSES: u32 = 16;

/// A number as [`super::personal`] found it.
pub(crate) struct PhoneCandidate<'a> {
    /// Its digits, ASCII.
    pub(crate) digits: &'a [u8],
    /// Its text with the digits made ASCII and the separators kept (no leading `+`).
    pub(crate) shape: &'a [u8],
    /// Written with a leading `+`.
    pub(crate) plus: bool,
}

/// What the text before a candidate says about it.
pub(crate) struct Context {
    /// The regions of the phone words found, first found first.
    pub(crate) regions: Vec<Id>,
    /// A phone word was found.
    pub(crate) phone_word: bool,
    /// A [`NOT_A_PHONE`] word is the last word before the number.
    pub(crate) named_otherwise: bool,
}

/// Whether `c` is a phone number (see the module docs). `parses` counts calls into the
/// parser for this text, against [`MAX_PARSES`].
pub(crate) fn is_phone(c: &PhoneCandidate<'_>, ctx: &Context, parses: &mut u32) -> bool {
    let n = c.digits.len();
    // Mostly zeros (`007 000 00 00 001`, `+1 000 000 0000`) is padding, no subscriber,
    // unless a phone word names it and it has a mobile's length (9 digits or more): then
    // it counts when valid as written (Korean mobiles such as `010-2000-0090` are mostly
    // zeros), never on a possible length alone; `tel 0 100 000` is valid in Italy, but
    // short and mostly zeros it is more often a count. The zeros are counted after the
    // `00` and the country code (`00 65 6 000 0 001`).
    let after_prefix = match (c.plus, c.digits.strip_prefix(b"00")) {
        (true, _) => c.digits,
        (false, Some(rest)) => rest,
        (false, None) => &[][..],
    };
    let subscriber = match country_code_len(after_prefix) {
        Some(len) => &after_prefix[len..],
        None if c.plus => after_prefix,
        None => c.digits,
    };
    let zeros = subscriber.iter().filter(|&&d| d == b'0').count();
    let padding = zeros * 10 > subscriber.len() * 7;
    if padding && !(ctx.phone_word && n >= 9) {
        return false;
    }
    let grouped = c.shape.len() > n;
    if c.plus {
        // Written in groups or after a phone word, a number of a possible length for its
        // country is one even if its range is unassigned (`+44 7700 900123`, the range
        // Ofcom keeps for fiction, is still written the way a phone number is).
        let lenient = !padding && (grouped || ctx.phone_word);
        return (8..=15).contains(&n) && international(c.digits, lenient, parses);
    }
    if c.digits.starts_with(b"00") && grouped && (10..=17).contains(&n) && !ctx.named_otherwise {
        // `00` is also how zero-padded numbers start: valid, or after a phone word. Without
        // one, the country code is written as a group of its own (`0049 30 ..`,
        // `00 44 20 ..`); numbers that run across it (`004 92 100 00`) are other numbers.
        if !ctx.phone_word && !country_code_stands_alone(c.shape, &c.digits[2..]) {
            return false;
        }
        return international(&c.digits[2..], ctx.phone_word && !padding, parses);
    }
    if !(7..=13).contains(&n) {
        return false;
    }
    let typical = typical_grouping(c.shape, c.digits);
    if !ctx.phone_word && (typical.is_empty() || ctx.named_otherwise) {
        return false;
    }
    if *parses >= MAX_PARSES {
        // The text's budget is spent (many numbers before this one): a phone word
        // decides.
        return ctx.phone_word;
    }
    let mut tried: Vec<Id> = Vec::with_capacity(REGIONS_PER_NUMBER);
    // The layout's regions first (a parenthesised area code is a strong hint), then the
    // phone words', then the common ones.
    // Short numbers (7-8 digits) are valid somewhere too easily: only the regions the
    // words or the layout name.
    let common = if ctx.phone_word && n >= 9 {
        COMMON
    } else {
        &[]
    };
    let candidates = typical.iter().chain(&ctx.regions).chain(common);
    for &region in candidates {
        if tried.contains(&region) {
            continue;
        }
        if tried.len() == REGIONS_PER_NUMBER || *parses >= MAX_PARSES {
            break;
        }
        tried.push(region);
        *parses += 1;
        if national_valid(c.digits, region) {
            return true;
        }
    }
    false
}

/// Most regions a national number is tried in: its layout's and phone words' first,
/// then the most common ones.
const REGIONS_PER_NUMBER: usize = 12;

/// Regions in which a number written like `shape` is a phone number by its layout
/// alone (empty: none).
fn typical_grouping(shape: &[u8], digits: &[u8]) -> &'static [Id] {
    // An area code in parentheses and two or more groups after it: `(11) 93047-8052`,
    // `8 (916) 697-44-72`.
    let open = shape.iter().position(|&c| c == b'(');
    let close = shape.iter().position(|&c| c == b')');
    let parenthesised = match (open, close) {
        (Some(o), Some(c)) if o < c => {
            (2..=4).contains(&(c - o - 1))
                && shape[o + 1..c].iter().all(u8::is_ascii_digit)
                && shape[c + 1..]
                    .split(|c| !c.is_ascii_digit())
                    .filter(|g| !g.is_empty())
                    .count()
                    >= 2
        }
        _ => false,
    };
    if parenthesised && (9..=12).contains(&digits.len()) {
        return &[
            Id::US,
            Id::BR,
            Id::RU,
            Id::AR,
            Id::MX,
            Id::DE,
            Id::GB,
            Id::IN,
            Id::CO,
            Id::UA,
        ];
    }
    let nanp = [b"ddd-ddd-dddd".as_slice(), b"ddd.ddd.dddd"];
    if nanp.iter().any(|p| same_layout(shape, p)) && digits[0] >= b'2' {
        return &[Id::US, Id::CA];
    }
    &[]
}

fn same_layout(shape: &[u8], pattern: &[u8]) -> bool {
    shape.len() == pattern.len()
        && shape.iter().zip(pattern).all(|(&s, &p)| {
            if p == b'd' {
                s.is_ascii_digit()
            } else {
                s == p
            }
        })
}

/// Whether `+<digits>` is a valid number, or, when `lenient`, one of a possible
/// length for its country code. Out of parser budget, `lenient` decides.
fn international(digits: &[u8], lenient: bool, parses: &mut u32) -> bool {
    if *parses >= MAX_PARSES {
        return lenient;
    }
    *parses += 1;
    let mut text = String::with_capacity(digits.len() + 1);
    text.push('+');
    text.extend(digits.iter().map(|&d| char::from(d)));
    guarded(|| {
        phonenumber::parse(None, &text)
            .is_ok_and(|n| phonenumber::is_valid(&n) || (lenient && possible_length(&n)))
    })
}

/// The length of the country code `digits` (after `+` or `00`) start with, if any.
/// Country codes are prefix-free (ITU-T E.164), so at most one length fits.
fn country_code_len(digits: &[u8]) -> Option<usize> {
    (1..=3).find(|&k| {
        digits.get(..k).is_some_and(|cc| {
            let code = cc
                .iter()
                .fold(0u16, |v, &d| v * 10 + u16::from(d.wrapping_sub(b'0')));
            phonenumber::metadata::DATABASE.by_code(&code).is_some()
        })
    })
}

/// Whether the country code that `digits` (after `00`) start with ends a group of
/// `shape` (its digits after the `00`, separators kept) and has no separator inside,
/// and the national number after it has 7 digits or more and no one-digit group but
/// its first.
fn country_code_stands_alone(shape: &[u8], digits: &[u8]) -> bool {
    let Some(len) = country_code_len(digits) else {
        return false;
    };
    // Byte positions in `shape` of its digits; the `00` is written as one (`0 0 81 ..`
    // is a row of counts).
    let all: Vec<usize> = shape
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if all.len() < 2 || all[1] != all[0] + 1 {
        return false;
    }
    let at = &all[2..];
    let (Some(&first), Some(&last), Some(&next)) = (at.first(), at.get(len - 1), at.get(len))
    else {
        return false;
    };
    if !(last - first == len - 1 && next > last + 1) {
        return false;
    }
    // A national number of 7 digits or more (`00 49 2 010 00` is a row of counts, valid
    // in Germany but shorter than nearly every number in use), and after its first
    // group no group of one digit (`00 65 6 000 0 101`).
    if digits.len() - len < 7 {
        return false;
    }
    let national = &shape[next..];
    national
        .split(|b| !b.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .skip(1)
        .all(|g| g.len() >= 2)
}

/// Whether the national part of `n` has the length of a fixed-line or mobile number of
/// its country code (in any region sharing the code).
fn possible_length(n: &phonenumber::PhoneNumber) -> bool {
    let Ok(len) = u16::try_from(n.national().to_string().len()) else {
        return false;
    };
    phonenumber::metadata::DATABASE
        .by_code(&n.code().value())
        .is_some_and(|regions| {
            regions.iter().any(|m| {
                let d = m.descriptors();
                [d.fixed_line(), d.mobile()]
                    .into_iter()
                    .flatten()
                    .any(|k| k.possible_length().contains(&len))
            })
        })
}

fn national_valid(digits: &[u8], region: Id) -> bool {
    let text: String = digits.iter().map(|&d| char::from(d)).collect();
    validate(Some(region), &text)
}

/// The parser's verdict on a national number in `region`.
fn validate(region: Option<Id>, text: &str) -> bool {
    guarded(|| phonenumber::parse(region, text).is_ok_and(|n| phonenumber::is_valid(&n)))
}

/// `f`, with a panic inside the parser (it keeps a shared regex cache behind a lock)
/// taken for "a phone": scrubbing more, never less, and never a crash.
fn guarded(f: impl FnOnce() -> bool + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).unwrap_or(true)
}

/// Loads the phone metadata (and the regexes of a first validation) on a thread of its
/// own, once per process: done lazily by the first text holding a number, it took 2.3 s
/// of the logging thread in a debug build (a newcomer's first `warn!` with a phone number
/// stalled a tokio worker). Started by the first text that may hold a finding (about
/// 4 MiB that a process whose texts hold none never needs). A text scrubbed meanwhile
/// waits for the load, as before.
pub(crate) fn warm_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("tracing-scrub-phone-metadata".into())
            .spawn(|| {
                let _ = validate(None, "+44 7700 900123");
            });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(shape: &str, ctx_regions: &[Id], phone_word: bool) -> bool {
        let plus = shape.starts_with('+');
        let digits: Vec<u8> = shape.bytes().filter(u8::is_ascii_digit).collect();
        let shape_bytes: Vec<u8> = shape.trim_start_matches('+').bytes().collect();
        let ctx = Context {
            regions: ctx_regions.to_vec(),
            phone_word,
            named_otherwise: false,
        };
        is_phone(
            &PhoneCandidate {
                digits: &digits,
                shape: &shape_bytes,
                plus,
            },
            &ctx,
            &mut 0,
        )
    }

    #[test]
    fn international_numbers_are_validated() {
        assert!(check("+49 30 29402838", &[], false));
        assert!(check("+5511930478052", &[], false));
        assert!(!check("+1 000 000 0000", &[], false));
        assert!(!check("+12345", &[], false));
    }

    #[test]
    fn national_numbers_need_a_phone_word_or_a_phone_layout() {
        assert!(check("030 29402838", &[Id::DE], true));
        assert!(!check("030 29402838", &[], false));
        assert!(check("06 53 47 73 65", &[Id::FR], true));
        assert!(!check("06 53 47 73 65", &[], false));
        assert!(!check("01 00 01 111", &[], false));
        assert!(check("(415) 329-4283", &[], false));
        assert!(check("415-329-4283", &[], false));
        assert!(!check("2024 1202 1030", &[], false));
        assert!(!check("12345678", &[], false));
    }

    #[test]
    fn a_mostly_zero_number_is_padding_unless_a_phone_word_names_a_valid_one() {
        assert!(!check("007 000 00 00 001", &[], false));
        assert!(!check("+1 000 000 0000", &[], true));
        assert!(!check("010-2000-0090", &[], false));
        // Korean mobiles are mostly zeros; after a phone word a valid one is a phone.
        assert!(check("010-2000-0090", &[Id::KR], true));
        assert!(check("+82 10-2000-0090", &[], false));
        assert!(!check("0 100 000", &[Id::IT], true));
    }

    #[test]
    fn a_00_number_without_a_phone_word_has_its_country_code_as_a_group() {
        assert!(check("0049 30 29402838", &[], false));
        assert!(check("00 49 30 29402838", &[], false));
        assert!(!check("004 93 029 402 838", &[], false));
        // Found by the property tests: small numbers in a row, not a phone.
        assert!(!check("004 92 100 00", &[], false));
        assert!(!check("00 68 52 00 00", &[], false));
        assert!(!check("00 65 6 000 0 001", &[], false));
        assert!(!check("00 65 6 000 0 101", &[], false));
        assert!(!check("00 49 2 010 00", &[], false));
        assert!(!check("0 0 81 11 20 000 00", &[], false));
        assert!(check("00 49 2 010 00", &[], true));
        assert!(check("0033 6 12 34 56 78", &[], false));
        assert!(check("004 93 029 402 838", &[], true));
    }

    #[test]
    fn the_parser_budget_bounds_the_work_and_fails_closed_with_a_phone_word() {
        let digits = b"3029402838";
        let ctx = Context {
            regions: vec![],
            phone_word: true,
            named_otherwise: false,
        };
        let mut parses = MAX_PARSES;
        let c = PhoneCandidate {
            digits,
            shape: b"030 29402838",
            plus: false,
        };
        assert!(is_phone(&c, &ctx, &mut parses));
        assert_eq!(parses, MAX_PARSES);
    }
}
