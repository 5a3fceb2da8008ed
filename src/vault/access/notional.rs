//! An exact non-negative decimal: a rule's maximum order notional, and the price, quantity or
//! quote amount of an order the signing proxy compares with it. Kept as an integer mantissa and
//! a decimal scale, never as a float, so that `0.1 × 3` is exactly `0.3` and a limit of
//! `50000` admits an order of exactly 50000 and refuses one of 50000.000000000000000001.

use std::cmp::Ordering;
use std::fmt;

use super::{DecimalField, TermsError};
use crate::wire;

// The messages below write the digit limits out.
const _: () = assert!(wire::MAX_DECIMAL_INTEGER_DIGITS == 18);
const _: () = assert!(wire::MAX_DECIMAL_FRACTION_DIGITS == 18);

/// A non-negative decimal of at most [`wire::MAX_DECIMAL_INTEGER_DIGITS`] significant digits
/// before the point and [`wire::MAX_DECIMAL_FRACTION_DIGITS`] after it, kept exactly: the
/// value is `mantissa / 10^scale`, with no trailing fractional zero (so equal values are equal
/// structs). Its text form ([`fmt::Display`]) is canonical: no leading zero, no trailing
/// fractional zero, no point without a digit after it (`50000`, `1234.5678`, `0.5`, `0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Notional {
    mantissa: u128,
    scale: u8,
}

impl Notional {
    /// A maximum notional from text: digits, optionally a `.` and more digits (`50000`,
    /// `1234.5678`, `0.0001`); no sign, no exponent, no spaces. Leading zeros before the point
    /// and trailing zeros after it are accepted and dropped.
    pub fn parse(text: &str) -> Result<Notional, TermsError> {
        parse_decimal(text, DecimalField::MaxNotional)
    }

    /// Whether an order of `quantity` at `price` (each parsed as [`Notional::parse`] does) has
    /// a notional, the exact product `price × quantity`, of at most this maximum. A price or
    /// quantity that does not parse is refused, the error naming which.
    pub fn admits_order(&self, price: &str, quantity: &str) -> Result<bool, TermsError> {
        let p = parse_decimal(price, DecimalField::Price)?;
        let q = parse_decimal(quantity, DecimalField::Quantity)?;
        // At most 36 digits each: the product fits in 256 bits.
        let product = Wide::from(p.mantissa)
            .checked_mul(q.mantissa)
            .expect("two 128-bit numbers multiply within 256 bits");
        Ok(at_most(
            (product, u32::from(p.scale) + u32::from(q.scale)),
            (Wide::from(self.mantissa), u32::from(self.scale)),
        ))
    }

    /// Whether an order for `quote_amount` of the quote currency (an order given by what it
    /// spends, such as Binance's `quoteOrderQty`; parsed as [`Notional::parse`] does) is at
    /// most this maximum.
    pub fn admits_amount(&self, quote_amount: &str) -> Result<bool, TermsError> {
        let a = parse_decimal(quote_amount, DecimalField::QuoteAmount)?;
        Ok(at_most(
            (Wide::from(a.mantissa), u32::from(a.scale)),
            (Wide::from(self.mantissa), u32::from(self.scale)),
        ))
    }
}

impl fmt::Display for Notional {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let unit = 10u128.pow(u32::from(self.scale));
        write!(
            f,
            "{}.{:0width$}",
            self.mantissa / unit,
            self.mantissa % unit,
            width = usize::from(self.scale)
        )
    }
}

/// The most of a refused text an error repeats (a client's request may hold anything).
const SHOWN_CHARS: usize = 64;

fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// `text` as a decimal for `field` (which the error names).
fn parse_decimal(text: &str, field: DecimalField) -> Result<Notional, TermsError> {
    let bad = |problem| {
        Err(TermsError::Decimal {
            field,
            text: shown(text),
            problem,
        })
    };
    if text.is_empty() {
        return bad("it is empty");
    }
    if text.starts_with(['+', '-']) {
        return bad("it has a sign");
    }
    if text.contains(['e', 'E']) {
        return bad("it has an exponent");
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return bad("it is not a decimal number (digits, then optionally one `.` and more digits)");
    }
    let int = int.trim_start_matches('0');
    let frac = frac.unwrap_or("").trim_end_matches('0');
    if int.len() > wire::MAX_DECIMAL_INTEGER_DIGITS {
        return bad("it has more than 18 digits before the point");
    }
    if frac.len() > wire::MAX_DECIMAL_FRACTION_DIGITS {
        return bad("it has more than 18 digits after the point");
    }
    // At most 36 digits: below 10^36 < 2^120, so no step overflows.
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0u128, |m, b| m * 10 + u128::from(b - b'0'));
    Ok(Notional {
        mantissa,
        // Without trailing zeros (and none at all for zero): canonical.
        scale: frac.len() as u8,
    })
}

/// Whether `a.0 / 10^a.1 <= b.0 / 10^b.1`, exactly.
fn at_most(a: (Wide, u32), b: (Wide, u32)) -> bool {
    let ((a, sa), (b, sb)) = (a, b);
    if sa >= sb {
        // b scaled up; if that no longer fits, b is larger than any a that does.
        b.checked_mul_pow10(sa - sb).is_none_or(|b| a <= b)
    } else {
        a.checked_mul_pow10(sb - sa).is_some_and(|a| a <= b)
    }
}

/// An unsigned 256-bit integer: four 64-bit limbs, least significant first. Enough for the
/// product of two 36-digit decimals (below 10^72 < 2^240), without a crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Wide([u64; 4]);

impl Wide {
    fn from(x: u128) -> Wide {
        Wide([x as u64, (x >> 64) as u64, 0, 0])
    }

    /// `self × m`, or `None` when the product does not fit in 256 bits.
    fn checked_mul(self, m: u128) -> Option<Wide> {
        let b = [m as u64, (m >> 64) as u64];
        let mut out = [0u64; 6];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &bj) in b.iter().enumerate() {
                // At most (2^64-1)^2 + 2 (2^64-1) = 2^128 - 1: never overflows.
                let t = u128::from(a) * u128::from(bj) + u128::from(out[i + j]) + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
            let mut k = i + b.len();
            while carry != 0 && k < out.len() {
                let t = u128::from(out[k]) + carry;
                out[k] = t as u64;
                carry = t >> 64;
                k += 1;
            }
        }
        (out[4] == 0 && out[5] == 0).then(|| Wide([out[0], out[1], out[2], out[3]]))
    }

    /// `self × 10^k`, or `None` when it does not fit in 256 bits.
    fn checked_mul_pow10(self, mut k: u32) -> Option<Wide> {
        let mut w = self;
        while k > 0 {
            let step = k.min(38);
            w = w.checked_mul(10u128.pow(step))?;
            k -= step;
        }
        Some(w)
    }
}

impl Ord for Wide {
    fn cmp(&self, other: &Wide) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, other: &Wide) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    fn n(text: &str) -> Notional {
        Notional::parse(text).unwrap()
    }

    fn problem(r: Result<impl fmt::Debug, TermsError>) -> (DecimalField, &'static str) {
        match r {
            Err(TermsError::Decimal { field, problem, .. }) => (field, problem),
            other => panic!("not a decimal error: {other:?}"),
        }
    }

    #[test]
    fn text_is_parsed_exactly_and_written_canonically() {
        for (given, canonical) in [
            ("50000", "50000"),
            ("1234.5678", "1234.5678"),
            ("0", "0"),
            ("0.0", "0"),
            ("000", "0"),
            ("007.50", "7.5"),
            ("0.00100000", "0.001"),
            ("10.000", "10"),
            ("0.000000000000000001", "0.000000000000000001"),
            ("999999999999999999", "999999999999999999"),
            (
                "999999999999999999.999999999999999999",
                "999999999999999999.999999999999999999",
            ),
            ("0000000000000000000000001", "1"),
            ("1.0000000000000000000000", "1"),
        ] {
            assert_eq!(n(given).to_string(), canonical, "{given}");
            // The canonical form reads back as itself.
            assert_eq!(n(canonical), n(given), "{given}");
        }
        assert_eq!(n("1.50"), n("1.5"));
        assert_ne!(n("1.5"), n("15"));
    }

    #[test]
    fn garbage_is_refused_saying_what_is_wrong() {
        for (text, want) in [
            ("", "it is empty"),
            ("-1", "it has a sign"),
            ("+1", "it has a sign"),
            ("1e5", "it has an exponent"),
            ("1E5", "it has an exponent"),
            ("1.5e-3", "it has an exponent"),
            (".5", "it is not a decimal"),
            ("5.", "it is not a decimal"),
            ("1.2.3", "it is not a decimal"),
            ("1,5", "it is not a decimal"),
            (" 1", "it is not a decimal"),
            ("1 ", "it is not a decimal"),
            ("0x10", "it is not a decimal"),
            ("NaN", "it is not a decimal"),
            ("inf", "it is not a decimal"),
            ("١٢", "it is not a decimal"),
            ("1_000", "it is not a decimal"),
            ("1000000000000000000", "more than 18 digits before"),
            ("0.0000000000000000001", "more than 18 digits after"),
        ] {
            let (field, p) = problem(Notional::parse(text));
            assert_eq!(field, DecimalField::MaxNotional, "{text:?}");
            assert!(p.starts_with(want) || p.contains(want), "{text:?}: {p}");
        }
        let e = Notional::parse("12abc").unwrap_err().to_string();
        assert!(e.contains("max notional `12abc`"), "{e}");
        assert!(e.contains("such as 50000 or 1234.5678"), "{e}");
        // A long refusal repeats only the start of what was given.
        let e = Notional::parse(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn orders_at_the_limit_pass_and_one_unit_above_does_not() {
        let max = n("50000");
        assert!(max.admits_order("50000", "1").unwrap());
        assert!(max.admits_order("25000", "2").unwrap());
        assert!(max.admits_order("12500.5", "3.99984").unwrap()); // 49999.99...
        assert!(max.admits_order("0.5", "100000").unwrap()); // exactly 50000
        assert!(
            !max.admits_order("0.5", "100000.000000000000000002")
                .unwrap()
        );
        assert!(!max.admits_order("50000.000000000000000001", "1").unwrap());
        assert!(!max.admits_order("50000", "1.000000000000000001").unwrap());
        assert!(max.admits_order("49999.999999999999999999", "1").unwrap());
        assert!(max.admits_order("0", "999999999999999999").unwrap());
        assert!(max.admits_order("999999999999999999", "0").unwrap());
        // Binance's own text: trailing zeros.
        assert!(max.admits_order("65000.00000000", "0.76900000").unwrap()); // 49985
        assert!(!max.admits_order("65000.00000000", "0.77000000").unwrap()); // 50050
        // 0.1 × 3 is exactly 0.3, not 0.30000000000000004.
        assert!(n("0.3").admits_order("0.1", "3").unwrap());
        assert!(!n("0.29999999999999999").admits_order("0.1", "3").unwrap());

        // A maximum of zero admits only an order worth nothing.
        let zero = n("0");
        assert!(zero.admits_order("0", "5").unwrap());
        assert!(
            !zero
                .admits_order("0.000000000000000001", "0.000000000000000001")
                .unwrap()
        );
    }

    #[test]
    fn tiny_fractions_are_compared_exactly() {
        // 10^-36: the smallest product there is.
        let tiny = "0.000000000000000001";
        assert!(n(tiny).admits_order(tiny, "1").unwrap());
        assert!(n("0").admits_order(tiny, "0").unwrap());
        assert!(!n("0").admits_order(tiny, tiny).unwrap());
        assert!(n(tiny).admits_order(tiny, tiny).unwrap());
        assert!(
            n("0.000000000000000001")
                .admits_order("0.000000000000000001", "1")
                .unwrap()
        );
        assert!(
            !n("0.000000000000000001")
                .admits_order("0.000000000000000002", "1")
                .unwrap()
        );
        assert!(
            n("0.000000000000000002")
                .admits_order("0.000000000000000001", "2")
                .unwrap()
        );
    }

    #[test]
    fn the_largest_products_never_overflow_or_panic() {
        let big = "999999999999999999.999999999999999999";
        let top = n(big);
        // (10^18 - 10^-18)^2, about 10^36: above every maximum there can be.
        assert!(!top.admits_order(big, big).unwrap());
        assert!(top.admits_order(big, "1").unwrap());
        assert!(!top.admits_order(big, "1.000000000000000001").unwrap());
        // A product whose mantissa is far above 2^128 but whose value is small: exact.
        // 1.111111111111111111 × 111111111111111111.111111111111111111 ≈ 1.2345679e17.
        let m = "111111111111111111.111111111111111111";
        // The product is 123456790123456790.111111111111111110987654320987654321.
        assert!(
            n("123456790123456791")
                .admits_order("1.111111111111111111", m)
                .unwrap()
        );
        assert!(
            !n("123456790123456790.111111111111111110")
                .admits_order("1.111111111111111111", m)
                .unwrap()
        );
        assert!(
            n("123456790123456790.111111111111111111")
                .admits_order("1.111111111111111111", m)
                .unwrap()
        );
        assert!(n("0").admits_amount("0").unwrap());
        assert!(top.admits_amount(big).unwrap());
        assert!(!n("0").admits_amount("0.000000000000000001").unwrap());
    }

    #[test]
    fn quote_amounts_compare_across_scales() {
        let max = n("1234.5678");
        assert!(max.admits_amount("1234.5678").unwrap());
        assert!(max.admits_amount("1234.56780000").unwrap());
        assert!(max.admits_amount("1234").unwrap());
        assert!(!max.admits_amount("1234.567800000000000001").unwrap());
        assert!(!max.admits_amount("1235").unwrap());
        assert!(
            n("999999999999999999")
                .admits_amount("0.000000000000000001")
                .unwrap()
        );
        assert!(
            !n("0.000000000000000001")
                .admits_amount("999999999999999999")
                .unwrap()
        );
    }

    #[test]
    fn bad_prices_quantities_and_amounts_name_their_field() {
        let max = n("100");
        assert_eq!(problem(max.admits_order("-1", "1")).0, DecimalField::Price);
        assert_eq!(
            problem(max.admits_order("1", "1e3")).0,
            DecimalField::Quantity
        );
        assert_eq!(problem(max.admits_order("", "")).0, DecimalField::Price);
        assert_eq!(
            problem(max.admits_amount("1,5")).0,
            DecimalField::QuoteAmount
        );
        let e = max.admits_order("1", "abc").unwrap_err().to_string();
        assert!(e.contains("quantity `abc`"), "{e}");
        let e = max.admits_amount("-5").unwrap_err().to_string();
        assert!(e.contains("quote amount `-5`"), "{e}");
    }

    /// Decimal text of `digits` (most significant first) with `scale` digits after the point.
    fn text_of(mantissa: &[u8], scale: usize) -> String {
        let mut s: String = mantissa.iter().map(|d| char::from(b'0' + d)).collect();
        while s.len() <= scale {
            s.insert(0, '0');
        }
        if scale > 0 {
            s.insert(s.len() - scale, '.');
        }
        s
    }

    /// Schoolbook product of two decimal digit strings (most significant first).
    fn digits_mul(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut out = vec![0u32; a.len() + b.len()];
        for (i, &x) in a.iter().rev().enumerate() {
            for (j, &y) in b.iter().rev().enumerate() {
                out[i + j] += u32::from(x) * u32::from(y);
            }
        }
        let mut carry = 0;
        for d in out.iter_mut() {
            let t = *d + carry;
            *d = t % 10;
            carry = t / 10;
        }
        out.iter().rev().map(|&d| d as u8).collect()
    }

    /// `a / 10^sa <= b / 10^sb` on digit strings, by padding to one scale and one length.
    fn digits_at_most(a: &[u8], sa: usize, b: &[u8], sb: usize) -> bool {
        let s = sa.max(sb);
        let mut a = a.to_vec();
        a.extend(std::iter::repeat_n(0, s - sa));
        let mut b = b.to_vec();
        b.extend(std::iter::repeat_n(0, s - sb));
        let len = a.len().max(b.len());
        let pad = |v: Vec<u8>| {
            let mut p = vec![0; len - v.len()];
            p.extend(v);
            p
        };
        pad(a) <= pad(b)
    }

    /// 20 000 random orders and amounts, of every length and scale, against a schoolbook
    /// decimal oracle that shares no code with the 256-bit comparison.
    #[test]
    fn random_orders_agree_with_a_schoolbook_oracle() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let digits = |rng: &mut ChaCha20Rng| -> (Vec<u8>, usize) {
            let int = (rng.next_u32() % 19) as usize;
            let frac = (rng.next_u32() % 19) as usize;
            let mut d: Vec<u8> = (0..int + frac)
                .map(|_| (rng.next_u32() % 10) as u8)
                .collect();
            // Often make values close to each other or nines, where off-by-one lives.
            if rng.next_u32().is_multiple_of(4) {
                d.iter_mut().for_each(|x| *x = 9);
            }
            if d.is_empty() {
                d.push(0);
            }
            (d, frac)
        };
        for _ in 0..20_000 {
            let (p, sp) = digits(&mut rng);
            let (q, sq) = digits(&mut rng);
            let (m, sm) = digits(&mut rng);
            let max = n(&text_of(&m, sm));
            let want = digits_at_most(&digits_mul(&p, &q), sp + sq, &m, sm);
            let got = max
                .admits_order(&text_of(&p, sp), &text_of(&q, sq))
                .unwrap();
            assert_eq!(
                got,
                want,
                "{} × {} <= {}",
                text_of(&p, sp),
                text_of(&q, sq),
                max
            );
            let want = digits_at_most(&p, sp, &m, sm);
            assert_eq!(max.admits_amount(&text_of(&p, sp)).unwrap(), want);
            // The boundary itself: the maximum as a price of quantity 1.
            assert!(max.admits_order(&max.to_string(), "1").unwrap());
        }
    }

    #[test]
    fn wide_multiplication_carries_and_detects_overflow() {
        let max = Wide::from(u128::MAX);
        let sq = max.checked_mul(u128::MAX).unwrap(); // (2^128-1)^2 = 2^256 - 2^129 + 1
        // 10^77 < 2^256 < 10^78.
        assert_eq!(sq.0, [1, 0, u64::MAX - 1, u64::MAX]);
        assert_eq!(sq.checked_mul(1), Some(sq));
        assert_eq!(sq.checked_mul(2), None);
        assert_eq!(Wide::from(0).checked_mul_pow10(1000), Some(Wide::from(0)));
        assert_eq!(Wide::from(1).checked_mul_pow10(78), None);
        assert!(Wide::from(1).checked_mul_pow10(77).is_some());
        assert!(Wide([0, 0, 0, 1]) > Wide([u64::MAX, u64::MAX, u64::MAX, 0]));
    }
}
