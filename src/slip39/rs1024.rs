//! RS1024: the Reed-Solomon checksum over GF(1024) that closes every SLIP-0039 mnemonic
//! (three 10-bit words), plus single-word error location for helpful error messages.

/// Number of checksum words at the end of a mnemonic.
pub const CHECKSUM_WORDS: usize = 3;

/// Customization string for shares without the extendable backup flag.
pub const CUSTOMIZATION: &[u8] = b"shamir";
/// Customization string for shares with the extendable backup flag.
pub const CUSTOMIZATION_EXTENDABLE: &[u8] = b"shamir_extendable";

const GEN: [u32; 10] = [
    0x00E0_E040,
    0x01C1_C080,
    0x0383_8100,
    0x0707_0200,
    0x0E0E_0009,
    0x1C0C_2412,
    0x3808_6C24,
    0x3090_FC48,
    0x21B1_F890,
    0x03F3_F120,
];

/// The customization string for the given extendable flag.
pub fn customization(extendable: bool) -> &'static [u8] {
    if extendable {
        CUSTOMIZATION_EXTENDABLE
    } else {
        CUSTOMIZATION
    }
}

fn step(chk: u32, value: u32) -> u32 {
    let top = chk >> 20;
    let mut chk = ((chk & 0xF_FFFF) << 10) ^ value;
    for (i, g) in GEN.iter().enumerate() {
        chk ^= g & 0u32.wrapping_sub((top >> i) & 1);
    }
    chk
}

fn polymod_from(start: u32, customization: &[u8], data: &[u16]) -> u32 {
    let chk = customization
        .iter()
        .fold(start, |c, &b| step(c, u32::from(b)));
    data.iter().fold(chk, |c, &v| step(c, u32::from(v)))
}

fn polymod(customization: &[u8], data: &[u16]) -> u32 {
    polymod_from(1, customization, data)
}

/// The three checksum words for `data` (the mnemonic without its checksum).
pub fn create_checksum(customization: &[u8], data: &[u16]) -> [u16; CHECKSUM_WORDS] {
    let mut values = data.to_vec();
    values.extend_from_slice(&[0; CHECKSUM_WORDS]);
    let pm = polymod(customization, &values) ^ 1;
    let word = |shift: u32| u16::try_from((pm >> shift) & 1023).unwrap_or(0);
    [word(20), word(10), word(0)]
}

/// Whether `data` (a whole mnemonic, checksum included) carries a valid checksum.
pub fn verify_checksum(customization: &[u8], data: &[u16]) -> bool {
    polymod(customization, data) == 1
}

/// Whether a mnemonic's word indices carry the extendable flag (bit 4 of the second word).
pub fn extendable_flag(indices: &[u16]) -> bool {
    indices.get(1).is_some_and(|w| (w >> 4) & 1 == 1)
}

/// Every `(position, replacement)` (0-based) such that replacing the word at `position` with
/// `replacement` makes the checksum of the mnemonic `data` valid. The customization string
/// follows the candidate's extendable flag (which lives in the second word).
///
/// The checksum is affine over GF(2) in the data, so the effect of changing one word is the
/// XOR of per-bit effects that depend only on the distance to the end; this makes the search
/// over all positions and all 1024 words cheap.
pub fn single_substitutions(data: &[u16]) -> Vec<(usize, u16)> {
    let residuals = [
        polymod(customization(false), data),
        polymod(customization(true), data),
    ];
    let here = usize::from(extendable_flag(data));
    // unit[bit]: contribution of a 1 at `bit` of a word followed by `distance` zero words.
    let mut unit = [0u32; 10];
    for (bit, u) in unit.iter_mut().enumerate() {
        *u = step(0, 1 << bit);
    }
    let mut found = Vec::new();
    for (position, &original) in data.iter().enumerate().rev() {
        // Tables for the low and high five bits of the change.
        let mut low = [0u32; 32];
        let mut high = [0u32; 32];
        for v in 0..32usize {
            for bit in 0..5 {
                if (v >> bit) & 1 == 1 {
                    low[v] ^= unit[bit];
                    high[v] ^= unit[bit + 5];
                }
            }
        }
        for replacement in 0..1024u16 {
            let delta = usize::from(original ^ replacement);
            if delta == 0 {
                continue;
            }
            let flag = if position == 1 {
                usize::from((replacement >> 4) & 1)
            } else {
                here
            };
            if residuals[flag] ^ low[delta & 31] ^ high[delta >> 5] == 1 {
                found.push((position, replacement));
            }
        }
        for u in unit.iter_mut() {
            *u = step(*u, 0);
        }
    }
    found.reverse();
    found
}
