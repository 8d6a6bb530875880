//! Short codes people read aloud or copy by hand: an attempt's blind code
//! (what an examiner sees instead of the candidate's name) and a referral's
//! number. Both are eight characters from an alphabet without the letters
//! and digits that are easily misread (no 0/O, 1/I/L), in two groups of four.

use rand::seq::IndexedRandom;

const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Eight random characters of the unambiguous alphabet as `XXXX-XXXX`.
fn readable_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        if let Some(&c) = ALPHABET.choose(&mut rng) {
            code.push(char::from(c));
        }
    }
    code
}

/// A fresh blind code for an exam attempt, such as `K7QM-4P2X`.
pub fn blind_code() -> String {
    readable_code()
}

/// A fresh green-channel referral number, such as `GR-K7QM-4P2X`.
pub fn referral_number() -> String {
    format!("GR-{}", readable_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(code: &str) -> bool {
        let parts: Vec<&str> = code.split('-').collect();
        parts.len() == 2
            && parts
                .iter()
                .all(|p| p.len() == 4 && p.bytes().all(|b| ALPHABET.contains(&b)))
    }

    #[test]
    fn blind_codes_are_two_groups_of_four_without_misreadable_characters() {
        for _ in 0..200 {
            let code = blind_code();
            assert!(readable(&code), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
    }

    #[test]
    fn referral_numbers_carry_the_channel_prefix_and_a_readable_code() {
        for _ in 0..200 {
            let number = referral_number();
            let code = number.strip_prefix("GR-");
            assert!(code.is_some_and(readable), "{number}");
        }
    }

    #[test]
    fn codes_differ() {
        let codes: std::collections::HashSet<String> = (0..100).map(|_| blind_code()).collect();
        assert_eq!(codes.len(), 100);
    }
}
