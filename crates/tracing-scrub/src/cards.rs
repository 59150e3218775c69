//! Payment card networks by their issuer identification number (IIN) ranges and
//! lengths, from the networks' published ranges as collected in ISO/IEC 7812 registers
//! and the "Payment card number" table (en.wikipedia.org/wiki/Payment_card_number,
//! checked against each network's own pages where they publish them: Mastercard's
//! 2-series announcement, Discover Global Network's IIN table, NSPK for Mir, NPCI for
//! RuPay, BKM for Troy, Interswitch for Verve, Nets for Dankort, Elo's BIN list).
//!
//! A range is *strong* when a Luhn-valid number of the length cards are printed with
//! (16; 15 for Amex, 14 for Diners) is a card wherever it stands; *weak* when the range
//! is so wide (Maestro's 50 and 56-69, UATP's 1, GPN) or the length so rare (12-13 and
//! 17-19 digits, as often a 64-bit id) that a bare number in it may be anything: a weak
//! one is a card only written in card groups or after a card word or network name.

/// How sure a range makes a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strength {
    Strong,
    Weak,
}

use Strength::{Strong, Weak};

/// `(network, first, last, prefix digits, shortest, longest, strength)`: the number's
/// first `prefix digits` digits lie in `first..=last`.
#[rustfmt::skip]
const RANGES: &[(&str, u32, u32, u32, usize, usize, Strength)] = &[
    ("Visa", 4, 4, 1, 13, 19, Strong),
    ("Mastercard", 51, 55, 2, 16, 16, Strong),
    ("Mastercard", 2221, 2720, 4, 16, 16, Strong),
    ("American Express", 34, 34, 2, 15, 15, Strong),
    ("American Express", 37, 37, 2, 15, 15, Strong),
    ("Discover", 6011, 6011, 4, 16, 19, Strong),
    ("Discover", 644, 649, 3, 16, 19, Strong),
    ("Discover", 65, 65, 2, 16, 19, Strong),
    ("Discover/UnionPay", 622126, 622925, 6, 16, 19, Strong),
    ("UnionPay", 62, 62, 2, 16, 19, Strong),
    ("UnionPay", 81, 81, 2, 16, 19, Strong),
    ("JCB", 3528, 3589, 4, 16, 19, Strong),
    ("Diners Club", 300, 305, 3, 14, 19, Strong),
    ("Diners Club", 3095, 3095, 4, 14, 19, Strong),
    ("Diners Club", 36, 36, 2, 14, 19, Strong),
    ("Diners Club", 38, 39, 2, 16, 19, Strong),
    ("Mir", 2200, 2204, 4, 16, 19, Strong),
    ("BORICA", 2205, 2205, 4, 16, 16, Strong),
    ("Troy", 9792, 9792, 4, 16, 16, Strong),
    ("RuPay", 60, 60, 2, 16, 16, Strong),
    ("RuPay", 508, 508, 3, 16, 16, Strong),
    ("RuPay", 82, 82, 2, 16, 16, Strong),
    ("RuPay/JCB", 353, 353, 3, 16, 16, Strong),
    ("RuPay/JCB", 356, 356, 3, 16, 16, Strong),
    ("Elo", 401178, 401179, 6, 16, 16, Strong),
    ("Elo", 431274, 431274, 6, 16, 16, Strong),
    ("Elo", 438935, 438935, 6, 16, 16, Strong),
    ("Elo", 451416, 451416, 6, 16, 16, Strong),
    ("Elo", 457393, 457393, 6, 16, 16, Strong),
    ("Elo", 457631, 457632, 6, 16, 16, Strong),
    ("Elo", 504175, 504175, 6, 16, 16, Strong),
    ("Elo", 506699, 506778, 6, 16, 16, Strong),
    ("Elo", 509000, 509999, 6, 16, 16, Strong),
    ("Elo", 627780, 627780, 6, 16, 16, Strong),
    ("Elo", 636297, 636297, 6, 16, 16, Strong),
    ("Elo", 636368, 636368, 6, 16, 16, Strong),
    ("Elo", 650031, 650051, 6, 16, 16, Strong),
    ("Elo", 650405, 650439, 6, 16, 16, Strong),
    ("Elo", 650485, 650538, 6, 16, 16, Strong),
    ("Elo", 650541, 650598, 6, 16, 16, Strong),
    ("Elo", 650700, 650727, 6, 16, 16, Strong),
    ("Elo", 650901, 650978, 6, 16, 16, Strong),
    ("Elo", 651652, 651679, 6, 16, 16, Strong),
    ("Elo", 655000, 655058, 6, 16, 16, Strong),
    ("Verve", 506099, 506198, 6, 16, 19, Strong),
    ("Verve", 507865, 507964, 6, 16, 19, Strong),
    ("Verve", 650002, 650027, 6, 16, 19, Strong),
    ("Dankort", 5019, 5019, 4, 16, 16, Strong),
    ("Visa/Dankort", 4571, 4571, 4, 16, 16, Strong),
    ("InterPayment", 636, 636, 3, 16, 19, Strong),
    ("InstaPayment", 637, 639, 3, 16, 16, Strong),
    ("LankaPay", 357111, 357111, 6, 16, 16, Strong),
    ("UzCard", 8600, 8600, 4, 16, 16, Strong),
    ("Humo", 9860, 9860, 4, 16, 16, Strong),
    ("Maestro", 5018, 5018, 4, 12, 19, Strong),
    ("Maestro", 5020, 5020, 4, 12, 19, Strong),
    ("Maestro", 5038, 5038, 4, 12, 19, Strong),
    ("Maestro", 5893, 5893, 4, 12, 19, Strong),
    ("Maestro", 6304, 6304, 4, 12, 19, Strong),
    ("Maestro", 6759, 6759, 4, 12, 19, Strong),
    ("Maestro", 6761, 6763, 4, 12, 19, Strong),
    ("Maestro", 50, 50, 2, 12, 19, Weak),
    ("Maestro", 56, 69, 2, 12, 19, Weak),
    ("GPN", 1946, 1946, 4, 16, 19, Weak),
    ("UATP", 1, 1, 1, 15, 15, Weak),
    ("China T-Union", 31, 31, 2, 19, 19, Weak),
];

/// The strongest range `digits` (ASCII, 12 to 19 of them) falls in, if any.
pub(crate) fn network(digits: &[u8]) -> Option<Strength> {
    let len = digits.len();
    if !(12..=19).contains(&len) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let prefix = |n: u32| -> u32 {
        digits[..n as usize]
            .iter()
            .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
    };
    let mut best = None;
    for &(name, first, last, n, shortest, longest, strength) in RANGES {
        if (shortest..=longest).contains(&len) && (first..=last).contains(&prefix(n)) {
            // Bare, only the length cards are printed with stands alone: 16 digits, 15
            // for Amex, 14 for Diners. Other lengths (a 19-digit decimal is as often a
            // 64-bit id) need card groups or a card word.
            let usual = len == 16
                || (len == 15 && name == "American Express")
                || (len == 14 && name == "Diners Club");
            if strength == Strong && usual {
                return Some(Strong);
            }
            best = Some(Weak);
        }
    }
    best
}

/// Words that say the number next to them is a card, in the languages of the key
/// rules: a weak range's number after one is a card.
pub(crate) const CARD_WORDS: &[&str] = &[
    "card",
    "cards",
    "pan",
    "cc",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "charge",
    "payment",
    "cardnumber",
    "karte",
    "kreditkarte",
    "tarjeta",
    "cartão",
    "cartao",
    "carte",
    "kart",
    "karta",
    "kaart",
    "kort",
    "карта",
    "карты",
    "картой",
    "卡",
    "カード",
    "카드",
    "kartu",
    "thẻ",
    "kadi",
    "कार्ड",
    "কার্ড",
    "بطاقة",
    "כרטיס",
    "κάρτα",
    // Networks' names.
    "unionpay",
    "discover",
    "jcb",
    "diners",
    "mir",
    "мир",
    "troy",
    "rupay",
    "elo",
    "verve",
    "dankort",
    "uzcard",
    "humo",
    "uatp",
    "borica",
    "interpayment",
    "lankapay",
    "银联",
];

/// Whether a [`CARD_WORDS`] word stands before byte `at` of `text` (same line).
pub(crate) fn card_word_before(text: &str, at: usize) -> bool {
    crate::words::has_word(crate::words::context_window(text, at), CARD_WORDS)
}

/// Whether Luhn-valid `digits` are a card: a strong range, or a weak one written in
/// card groups or after a card word (`card_word`, asked only then).
pub(crate) fn accepts(digits: &[u8], grouped: bool, card_word: impl FnOnce() -> bool) -> bool {
    match network(digits) {
        Some(Strong) => true,
        // Twelve or thirteen digits in groups are as often other numbers (Aadhaar's
        // 4-4-4): only after a card word.
        Some(Weak) => (grouped && digits.len() >= 14) || card_word(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_outside_the_usual_four_are_known() {
        for (digits, strength) in [
            ("2201663923321465", Some(Strong)),  // Mir
            ("9792881973699354", Some(Strong)),  // Troy
            ("6521632729518172", Some(Strong)),  // RuPay / Discover 65
            ("6212560480635817837", Some(Weak)), // UnionPay, 19 digits
            ("675997052328", Some(Weak)),        // Maestro, 12 digits
            ("5061792820102761616", Some(Weak)), // Verve, 19 digits
            ("378282246310005", Some(Strong)),   // Amex, 15 digits
            ("4762668507888568266", Some(Weak)), // a 64-bit id, or a 19-digit Visa
            ("6362972490652863", Some(Strong)),  // Elo
            ("5019303748625700", Some(Strong)),  // Dankort
            ("9860734341533648", Some(Strong)),  // Humo
            ("178246469246990", Some(Weak)),     // UATP
            ("5712345678901234", Some(Weak)),    // Maestro's wide range
            ("7123456789012345", None),
            ("99999999999", None),
        ] {
            assert_eq!(network(digits.as_bytes()), strength, "{digits}");
        }
    }
}
