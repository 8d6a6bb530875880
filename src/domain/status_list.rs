//! W3C Bitstring Status List 1.0: one bit per credential, published as a signed
//! list so a verifier learns whether a credential is revoked or suspended
//! without telling us which credential it is looking at (every credential on a
//! list shares the same download).
//!
//! - The list has at least [`MIN_BITS`] bits (16 KiB): the spec's floor, so
//!   that a list is large enough to hide any one holder in the crowd.
//! - Bit 0 is the *left-most* (most significant) bit of the first byte:
//!   `byte[i / 8] & (0x80 >> (i % 8))`. Implementations have got this
//!   backwards, hence the fixed test vectors below.
//! - `encodedList` is the bytes gzip-compressed, base64url without padding,
//!   prefixed with `u` (the multibase code for base64url).
//! - Indexes are assigned at random ([`random_free_index`]) so an index does
//!   not reveal the order, and so the date, of issue.

use std::collections::HashSet;
use std::io::{Read, Write};

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// The smallest list the specification allows: 131,072 bits, 16 KiB.
pub const MIN_BITS: usize = 131_072;

/// The most a decoded list may inflate to. A real list of a few hundred
/// thousand credentials is well under 1 MiB; the cap refuses a gzip bomb (a few
/// kilobytes that expand to gigabytes) handed to us as someone's list.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// The multibase prefix for base64url without padding.
const MULTIBASE_BASE64URL: char = 'u';

/// base64url that accepts a list with or without `=` padding: other
/// implementations pad, and the bytes are the same.
const BASE64URL_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a status list could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    #[error("the encoded list must start with \"u\" (multibase base64url)")]
    MissingPrefix,
    #[error("the encoded list is not valid base64url")]
    Base64,
    #[error("the encoded list is not gzip-compressed data")]
    NotGzip,
    #[error("the list has {bytes} bytes; at least {min} are required", min = MIN_BITS / 8)]
    TooShort { bytes: usize },
    #[error("the list expands to more than {MAX_DECODED_BYTES} bytes")]
    TooLarge,
    #[error("index {index} is outside a list of {len_bits} bits")]
    OutOfRange { index: usize, len_bits: usize },
}

/// The bits of one status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl Bitstring {
    /// An all-clear list of at least `bits` bits, never fewer than
    /// [`MIN_BITS`], rounded up to whole bytes.
    pub fn new(bits: usize) -> Bitstring {
        let bytes = bits.max(MIN_BITS).div_ceil(8);
        Bitstring {
            bytes: vec![0; bytes],
        }
    }

    /// The number of bits, always a multiple of 8.
    pub fn len_bits(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Bit `index`; an index past the end reads as clear, as a verifier would
    /// treat a bit the issuer never set.
    pub fn get(&self, index: usize) -> bool {
        self.bytes
            .get(index / 8)
            .is_some_and(|byte| byte & mask(index) != 0)
    }

    /// Sets or clears bit `index`. Past the end is an error, never a silent
    /// no-op: a revocation that did not land must be noticed.
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), StatusListError> {
        let len_bits = self.len_bits();
        let byte = self
            .bytes
            .get_mut(index / 8)
            .ok_or(StatusListError::OutOfRange { index, len_bits })?;
        if value {
            *byte |= mask(index);
        } else {
            *byte &= !mask(index);
        }
        Ok(())
    }

    /// The `size`-bit entry `index` (bits `index * size ..`, the first the
    /// most significant), as a `statusSize` above 1 lays a list out. Past the
    /// end reads as 0, as [`Bitstring::get`] does.
    pub fn entry(&self, index: usize, size: usize) -> u8 {
        (0..size).fold(0, |value, bit| {
            (value << 1) | u8::from(self.get(index * size + bit))
        })
    }

    /// Writes `value` into the `size`-bit entry `index` (see
    /// [`Bitstring::entry`]). Past the end is an error.
    pub fn set_entry(
        &mut self,
        index: usize,
        size: usize,
        value: u8,
    ) -> Result<(), StatusListError> {
        for bit in 0..size {
            let on = (value >> (size - 1 - bit)) & 1 == 1;
            self.set(index * size + bit, on)?;
        }
        Ok(())
    }

    /// The `encodedList` value: gzip, then base64url without padding, then the
    /// multibase prefix `u`.
    pub fn encode(&self) -> String {
        format!(
            "{MULTIBASE_BASE64URL}{}",
            URL_SAFE_NO_PAD.encode(gzip(&self.bytes))
        )
    }

    /// Reads an `encodedList`, refusing anything malformed, shorter than the
    /// specification's minimum, or expanding beyond [`MAX_DECODED_BYTES`].
    pub fn decode(s: &str) -> Result<Bitstring, StatusListError> {
        let body = s
            .strip_prefix(MULTIBASE_BASE64URL)
            .ok_or(StatusListError::MissingPrefix)?;
        let compressed = BASE64URL_ANY_PADDING
            .decode(body)
            .map_err(|_detail| StatusListError::Base64)?;
        let bytes = gunzip_capped(&compressed)?;
        if bytes.len() < MIN_BITS / 8 {
            return Err(StatusListError::TooShort { bytes: bytes.len() });
        }
        Ok(Bitstring { bytes })
    }
}

/// A credential's standing on the one status list its `credentialStatus`
/// names. Open Badges 3.0 allows a credential one `credentialStatus`, and a
/// credential can be suspended (and reinstated) or revoked (for good), so
/// the entry is a Bitstring Status List `message` entry of
/// [`STANDING_BITS`] bits whose values are these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    Suspended,
    Revoked,
}

/// The size of a [`Standing`] entry (`statusSize`).
pub const STANDING_BITS: usize = 2;

impl Standing {
    pub const ALL: [Standing; 3] = [Standing::Active, Standing::Suspended, Standing::Revoked];

    /// The entry's value on the list.
    pub fn code(self) -> u8 {
        match self {
            Standing::Active => 0,
            Standing::Suspended => 1,
            Standing::Revoked => 2,
        }
    }

    /// The value read back; 3 is unused and reads as `None`.
    pub fn from_code(code: u8) -> Option<Standing> {
        Standing::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The `statusMessage` a verifier shows for the value.
    pub fn message(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Suspended => "suspended",
            Standing::Revoked => "revoked",
        }
    }
}

/// The bit for `index` within its byte: index 0 is the most significant bit.
fn mask(index: usize) -> u8 {
    0x80 >> (index % 8)
}

/// Gzip in memory at the default level.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 64), Compression::default());
    // Writing to a Vec cannot fail and the compressor has no other error than
    // its writer's, so both results are always Ok.
    match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(e) => unreachable!("gzip into memory failed: {e}"),
    }
}

/// Gunzip, reading at most one byte more than [`MAX_DECODED_BYTES`] so a bomb
/// is refused without being expanded.
fn gunzip_capped(compressed: &[u8]) -> Result<Vec<u8>, StatusListError> {
    let limit = u64::try_from(MAX_DECODED_BYTES).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    GzDecoder::new(compressed)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|_detail| StatusListError::NotGzip)?;
    if bytes.len() > MAX_DECODED_BYTES {
        return Err(StatusListError::TooLarge);
    }
    Ok(bytes)
}

/// How many random draws to try before scanning. Even on a list 90% full, all
/// 64 draws miss with probability 0.9^64, about 0.1%. The number only matters
/// for speed: the scan that follows is uniform too.
const RANDOM_DRAWS: usize = 64;

/// A uniformly random index in `0..len_bits` that is not in `used`, or `None`
/// when every index is taken. Random assignment keeps the index from revealing
/// the order of issue.
///
/// First a few random draws (rejection sampling, uniform over the free
/// indexes); if they all hit used indexes the list is nearly full, so pick `k`
/// uniformly among the free indexes and walk to the `k`-th one, which is
/// uniform as well. Entries of `used` at or past `len_bits` are ignored.
pub fn random_free_index(
    used: &HashSet<u32>,
    len_bits: u32,
    rng: &mut impl rand::Rng,
) -> Option<u32> {
    let taken = used.iter().filter(|&&i| i < len_bits).count();
    let free = usize::try_from(len_bits).ok()?.checked_sub(taken)?;
    if free == 0 {
        return None;
    }
    for _ in 0..RANDOM_DRAWS {
        let candidate = rng.random_range(0..len_bits);
        if !used.contains(&candidate) {
            return Some(candidate);
        }
    }
    let k = rng.random_range(0..free);
    (0..len_bits).filter(|i| !used.contains(i)).nth(k)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn entries_of_two_bits_sit_side_by_side_most_significant_first() {
        let mut list = Bitstring::new(MIN_BITS * STANDING_BITS);
        list.set_entry(0, 2, 2).unwrap();
        list.set_entry(1, 2, 1).unwrap();
        list.set_entry(5, 2, 3).unwrap();
        // Entry 0 = bits 0-1 = "10", entry 1 = bits 2-3 = "01".
        assert_eq!(list.bytes[0], 0b1001_0000);
        // Entry 5 = bits 10-11: the third and fourth bits of byte 1.
        assert_eq!(list.bytes[1], 0b0011_0000);
        assert_eq!(list.entry(0, 2), 2);
        assert_eq!(list.entry(1, 2), 1);
        assert_eq!(list.entry(2, 2), 0);
        assert_eq!(list.entry(5, 2), 3);
        // Writing a smaller value clears the bit it no longer needs.
        list.set_entry(5, 2, 1).unwrap();
        assert_eq!(list.entry(5, 2), 1);
        let last = list.len_bits() / 2 - 1;
        assert!(list.set_entry(last, 2, 2).is_ok());
        assert!(list.set_entry(last + 1, 2, 2).is_err());
        assert_eq!(list.entry(last + 1, 2), 0, "past the end reads as 0");
        let back = Bitstring::decode(&list.encode()).unwrap();
        assert_eq!(back.entry(0, 2), 2);
    }

    #[test]
    fn standing_codes_round_trip() {
        for s in Standing::ALL {
            assert_eq!(Standing::from_code(s.code()), Some(s));
            assert!(s.code() < 1 << STANDING_BITS);
        }
        assert_eq!(Standing::from_code(3), None);
        assert_eq!(Standing::Active.code(), 0, "a list starts all active");
    }

    use super::*;

    /// The W3C specification's example: an all-clear 16 KiB list.
    const W3C_EMPTY: &str = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

    /// Built independently with Python, so our bit order is checked against a
    /// second implementation rather than against itself:
    ///
    /// ```text
    /// import gzip, base64
    /// b = bytearray(16384); b[0] = 0x81; b[1] = 0x80; b[-1] = 0x01
    /// z = gzip.compress(bytes(b), mtime=0)
    /// print('u' + base64.urlsafe_b64encode(z).decode().rstrip('='))
    /// ```
    ///
    /// Bits 0, 7, 8 and 131071 are set, nothing else.
    const PYTHON_BITS_0_7_8_LAST: &str =
        "uH4sIAAAAAAACA-3BMQEAAAgDINdcmxtjD3A7AAAAAAAAAAAAAAAAAAAAQFceebcplgBAAAA";

    fn set_bits(list: &Bitstring) -> Vec<usize> {
        (0..list.len_bits()).filter(|&i| list.get(i)).collect()
    }

    fn gzip_then_encode(bytes: &[u8]) -> String {
        format!("u{}", URL_SAFE_NO_PAD.encode(gzip(bytes)))
    }

    #[test]
    fn w3c_example_decodes_to_131072_clear_bits() {
        let list = Bitstring::decode(W3C_EMPTY).unwrap();
        assert_eq!(list.len_bits(), 131_072);
        assert!(set_bits(&list).is_empty());
        assert_eq!(list, Bitstring::new(0));
    }

    #[test]
    fn python_vector_decodes_to_exactly_the_bits_set() {
        let list = Bitstring::decode(PYTHON_BITS_0_7_8_LAST).unwrap();
        assert_eq!(list.len_bits(), MIN_BITS);
        assert_eq!(set_bits(&list), vec![0, 7, 8, 131_071]);
        assert_eq!(list.bytes[0], 0x81);
        assert_eq!(list.bytes[1], 0x80);
        assert_eq!(list.bytes[16_383], 0x01);
    }

    #[test]
    fn our_list_with_the_same_bits_matches_python() {
        let mut list = Bitstring::new(MIN_BITS);
        for i in [0, 7, 8, 131_071] {
            list.set(i, true).unwrap();
        }
        // Compressed bytes may differ between gzip implementations (header
        // flags, mtime), so compare what they decode to.
        assert_eq!(Bitstring::decode(&list.encode()).unwrap(), list);
        assert_eq!(Bitstring::decode(PYTHON_BITS_0_7_8_LAST).unwrap(), list);
    }

    #[test]
    fn encode_decode_round_trip() {
        let mut list = Bitstring::new(200_001);
        assert_eq!(list.len_bits(), 200_008);
        for i in [1, 2, 3, 99, 1_000, 65_535, 131_072, 199_999, 200_007] {
            list.set(i, true).unwrap();
        }
        let encoded = list.encode();
        assert!(encoded.starts_with('u'));
        assert!(!encoded.contains('='));
        assert!(!encoded.contains('+') && !encoded.contains('/'));
        let decoded = Bitstring::decode(&encoded).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(
            set_bits(&decoded),
            vec![1, 2, 3, 99, 1_000, 65_535, 131_072, 199_999, 200_007]
        );
    }

    #[test]
    fn bit_zero_is_the_most_significant_bit_of_byte_zero() {
        let mut list = Bitstring::new(0);
        list.set(0, true).unwrap();
        assert_eq!(list.bytes[0], 0x80);
        list.set(0, false).unwrap();
        list.set(7, true).unwrap();
        assert_eq!(list.bytes[0], 0x01);
        list.set(9, true).unwrap();
        assert_eq!(list.bytes[1], 0x40);
    }

    #[test]
    fn set_then_clear() {
        let mut list = Bitstring::new(0);
        list.set(12_345, true).unwrap();
        list.set(12_346, true).unwrap();
        assert!(list.get(12_345));
        list.set(12_345, false).unwrap();
        assert!(!list.get(12_345));
        assert!(list.get(12_346), "clearing one bit leaves its neighbour");
        list.set(12_346, true).unwrap();
        assert_eq!(set_bits(&list), vec![12_346]);
    }

    #[test]
    fn sizes_round_up_to_the_minimum_and_to_whole_bytes() {
        assert_eq!(Bitstring::new(0).len_bits(), MIN_BITS);
        assert_eq!(Bitstring::new(1).len_bits(), MIN_BITS);
        assert_eq!(Bitstring::new(MIN_BITS).len_bits(), MIN_BITS);
        assert_eq!(Bitstring::new(MIN_BITS + 1).len_bits(), MIN_BITS + 8);
        assert_eq!(Bitstring::new(MIN_BITS + 8).len_bits(), MIN_BITS + 8);
        assert_eq!(Bitstring::new(MIN_BITS + 9).len_bits(), MIN_BITS + 16);
    }

    #[test]
    fn out_of_range_reads_clear_and_refuses_writes() {
        let mut list = Bitstring::new(0);
        assert!(!list.get(MIN_BITS));
        assert!(!list.get(usize::MAX));
        assert_eq!(
            list.set(MIN_BITS, true),
            Err(StatusListError::OutOfRange {
                index: MIN_BITS,
                len_bits: MIN_BITS
            })
        );
        assert!(list.set(usize::MAX, false).is_err());
        assert!(list.set(MIN_BITS - 1, true).is_ok());
    }

    #[test]
    fn padded_base64_is_accepted() {
        // The Python vector's body is 71 characters, so one '=' pads it.
        assert_eq!((PYTHON_BITS_0_7_8_LAST.len() - 1) % 4, 3);
        let padded = format!("{PYTHON_BITS_0_7_8_LAST}=");
        assert_eq!(
            Bitstring::decode(&padded).unwrap(),
            Bitstring::decode(PYTHON_BITS_0_7_8_LAST).unwrap()
        );
        // Wrong padding is still wrong.
        let overpadded = format!("{PYTHON_BITS_0_7_8_LAST}==");
        assert_eq!(Bitstring::decode(&overpadded), Err(StatusListError::Base64));
        // The W3C body is a multiple of 4 long: no padding is the only form.
        assert_eq!((W3C_EMPTY.len() - 1) % 4, 0);
        assert_eq!(
            Bitstring::decode(&format!("{W3C_EMPTY}=")),
            Err(StatusListError::Base64)
        );
    }

    #[test]
    fn missing_prefix_is_refused() {
        assert_eq!(
            Bitstring::decode(&W3C_EMPTY[1..]),
            Err(StatusListError::MissingPrefix)
        );
        assert_eq!(
            Bitstring::decode(&format!("z{}", &W3C_EMPTY[1..])),
            Err(StatusListError::MissingPrefix)
        );
        assert_eq!(Bitstring::decode(""), Err(StatusListError::MissingPrefix));
    }

    #[test]
    fn bad_base64_is_refused() {
        assert_eq!(
            Bitstring::decode("uH4sI+AAAA/"),
            Err(StatusListError::Base64)
        );
        assert_eq!(Bitstring::decode("u!!!!"), Err(StatusListError::Base64));
        assert_eq!(Bitstring::decode("uA"), Err(StatusListError::Base64));
    }

    #[test]
    fn data_that_is_not_gzip_is_refused() {
        let raw = format!("u{}", URL_SAFE_NO_PAD.encode(vec![0u8; 16_384]));
        assert_eq!(Bitstring::decode(&raw), Err(StatusListError::NotGzip));
        assert_eq!(Bitstring::decode("u"), Err(StatusListError::NotGzip));
        // A gzip stream cut short.
        let mut truncated = gzip(&[0u8; 16_384]);
        truncated.truncate(truncated.len() - 4);
        let truncated = format!("u{}", URL_SAFE_NO_PAD.encode(truncated));
        assert_eq!(Bitstring::decode(&truncated), Err(StatusListError::NotGzip));
    }

    #[test]
    fn lists_below_the_minimum_are_refused() {
        let short = gzip_then_encode(&[0u8; 16_383]);
        assert_eq!(
            Bitstring::decode(&short),
            Err(StatusListError::TooShort { bytes: 16_383 })
        );
        assert_eq!(
            Bitstring::decode(&gzip_then_encode(&[])),
            Err(StatusListError::TooShort { bytes: 0 })
        );
        assert!(Bitstring::decode(&gzip_then_encode(&[0u8; 16_384])).is_ok());
    }

    #[test]
    fn gzip_bombs_are_refused() {
        let bomb = gzip_then_encode(&vec![0u8; MAX_DECODED_BYTES + 1]);
        // Tens of kilobytes that would expand past the cap.
        assert!(bomb.len() < 40_000, "{}", bomb.len());
        assert_eq!(Bitstring::decode(&bomb), Err(StatusListError::TooLarge));
        let largest = gzip_then_encode(&vec![0u8; MAX_DECODED_BYTES]);
        assert_eq!(
            Bitstring::decode(&largest).unwrap().len_bits(),
            MAX_DECODED_BYTES * 8
        );
    }

    #[test]
    fn random_index_avoids_used_ones_and_stays_in_range() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut used = HashSet::new();
        for _ in 0..500 {
            let i = random_free_index(&used, 1_000, &mut rng).unwrap();
            assert!(i < 1_000);
            assert!(used.insert(i), "{i} handed out twice");
        }
    }

    #[test]
    fn random_index_fills_a_list_completely_then_reports_full() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut used = HashSet::new();
        for _ in 0..300 {
            let i = random_free_index(&used, 300, &mut rng).unwrap();
            assert!(used.insert(i));
        }
        assert_eq!(used.len(), 300);
        assert_eq!(random_free_index(&used, 300, &mut rng), None);
    }

    #[test]
    fn random_index_edge_cases() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(random_free_index(&HashSet::new(), 0, &mut rng), None);
        assert_eq!(random_free_index(&HashSet::new(), 1, &mut rng), Some(0));
        // The only free index of a large list is found by the scan.
        let used: HashSet<u32> = (0..10_000).filter(|&i| i != 6_789).collect();
        assert_eq!(random_free_index(&used, 10_000, &mut rng), Some(6_789));
        // Used entries beyond the list do not make it look full.
        let beyond: HashSet<u32> = [5, 6, 7].into();
        assert_eq!(random_free_index(&beyond, 1, &mut rng), Some(0));
    }

    #[test]
    fn random_index_is_roughly_uniform_even_when_nearly_full() {
        // 4 free indexes out of 4,000: almost every pick goes through the scan.
        let free = [0u32, 1_234, 2_000, 3_999];
        let used: HashSet<u32> = (0..4_000).filter(|i| !free.contains(i)).collect();
        let mut rng = StdRng::seed_from_u64(2026);
        let mut counts = [0u32; 4];
        for _ in 0..4_000 {
            let i = random_free_index(&used, 4_000, &mut rng).unwrap();
            let slot = free.iter().position(|&f| f == i).unwrap();
            counts[slot] += 1;
        }
        // Expected 1,000 each. A plain scan from a random start would return
        // the free index after the longest run of used ones (3,999) half the
        // time and 0 (preceded by no used run at all) almost never.
        for count in counts {
            assert!((850..1_150).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn random_index_is_uniform_on_an_empty_list() {
        let mut rng = StdRng::seed_from_u64(99);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[random_free_index(&HashSet::new(), 10, &mut rng).unwrap() as usize] += 1;
        }
        for count in counts {
            assert!((850..1_150).contains(&count), "{counts:?}");
        }
    }
}
