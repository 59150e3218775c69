//! Check-digit algorithms of card numbers and national ids, on ASCII digits (and the
//! letters some schemes use). Each returns false for input of the wrong length or
//! alphabet, never panics.

/// Luhn (ISO/IEC 7812-1 annex B): cards, SE personnummer, CA SIN, ZA id, IL id, ...
pub(crate) fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Verhoeff's dihedral-group check (J. Verhoeff, "Error detecting decimal codes",
/// 1969), as UIDAI specifies it for Aadhaar: true when the last digit checks the rest.
pub(crate) fn verhoeff(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(d - b'0')])];
    }
    c == 0
}

/// The weighted sum of `digits` (ASCII) with `weights`, pairwise; `None` when a byte
/// is not a digit or the lengths differ.
pub(crate) fn weighted(digits: &[u8], weights: &[u32]) -> Option<u32> {
    if digits.len() != weights.len() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .zip(weights)
            .map(|(&d, &w)| u32::from(d - b'0') * w)
            .sum(),
    )
}

/// ISO 7064 MOD 11,10 (hybrid system): true when the last digit checks the others.
/// Used by the German tax id (IdNr).
pub(crate) fn iso7064_mod_11_10(digits: &[u8]) -> bool {
    if digits.len() < 2 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let mut product = 10u32;
    for &d in body {
        let mut sum = (u32::from(d - b'0') + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    (11 - product) % 10 == u32::from(check[0] - b'0')
}

/// The decimal value of `digits` modulo `m`, digit by digit (any length).
pub(crate) fn modulo(digits: &[u8], m: u32) -> Option<u32> {
    let mut r = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        r = (r * 10 + u32::from(d - b'0')) % m;
    }
    Some(r)
}

/// Whether `yy`/`mm`/`dd` (two digits each, as numbers) can be a calendar date in
/// a century (February 29 allowed; the century is rarely known).
pub(crate) fn plausible_date(mm: u32, dd: u32) -> bool {
    let days = match mm {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return false,
    };
    (1..=days).contains(&dd)
}

/// The number made of the ASCII digits `d` (at most 9 of them).
pub(crate) fn num(d: &[u8]) -> u32 {
    d.iter()
        .take(9)
        .fold(0, |n, &c| n * 10 + u32::from(c.wrapping_sub(b'0') % 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_accepts_its_reference_value_and_rejects_a_changed_digit() {
        // Reference values from the algorithms' own documents and from python-stdnum.
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(verhoeff(b"2363"));
        assert!(!verhoeff(b"2364"));
        assert!(verhoeff(b"401773643289"));
        assert!(iso7064_mod_11_10(b"36574261809"));
        assert!(!iso7064_mod_11_10(b"36574261808"));
        assert_eq!(
            modulo(b"1234567890123", 97),
            Some((1_234_567_890_123u64 % 97) as u32)
        );
        assert!(plausible_date(2, 29) && !plausible_date(2, 30) && !plausible_date(13, 1));
        assert_eq!(weighted(b"12", &[3, 1]), Some(5));
        assert_eq!(weighted(b"1x", &[3, 1]), None);
        assert!(!luhn(b"") && !verhoeff(b"12a") && !iso7064_mod_11_10(b"1"));
    }
}
