//! Decimal128: IEEE 754-2008 decimal floating point with 34 significant digits, as MongoDB
//! stores `NumberDecimal` / `Decimal128` values.
//!
//! A value is a sign, a coefficient below 10^34 and an exponent in -6176..=6111. Arithmetic
//! keeps the exponent IEEE prefers (the smaller one for a sum, the sum of both for a product),
//! so `0.1 + 0.20` is `0.30` with its trailing zero, and rounds half to even to 34 digits when
//! the exact result needs more. A result beyond the exponent range is ±Infinity, as in IEEE.

use std::cmp::Ordering;
use std::fmt;

/// Significant digits a Decimal128 coefficient holds.
const PRECISION: u32 = 34;
const MAX_EXP: i32 = 6111;
const MIN_EXP: i32 = -6176;
/// 10^34: every coefficient is below it.
const COEF_LIMIT: u128 = 10u128.pow(PRECISION);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decimal128 {
    /// `coef * 10^exp`; the coefficient is split in two halves so that the value keeps
    /// 8-byte alignment inside `Value` (a `u128` field would make every `Value` 16-aligned).
    Finite {
        negative: bool,
        exp: i16,
        coef_hi: u64,
        coef_lo: u64,
    },
    Infinity {
        negative: bool,
    },
    NaN,
}

/// Directions `quantize` rounds in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfEven,
    /// Toward zero.
    Down,
    Ceiling,
    Floor,
}

/// Why a string is not a Decimal128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Invalid,
    /// More than 34 significant digits that are not all trailing zeros.
    Inexact,
    /// An exponent beyond what 34 digits can absorb.
    Overflow,
}

impl Decimal128 {
    pub const ZERO: Decimal128 = Decimal128::Finite {
        negative: false,
        exp: 0,
        coef_hi: 0,
        coef_lo: 0,
    };

    /// `coef * 10^exp`, rounded to 34 digits and brought into the exponent range.
    pub fn new(negative: bool, coef: u128, exp: i32) -> Decimal128 {
        let (coef, exp) = round_u128(coef, exp);
        finish(negative, coef, exp)
    }

    pub fn from_i64(i: i64) -> Decimal128 {
        Decimal128::new(i < 0, u128::from(i.unsigned_abs()), 0)
    }

    /// A double as MongoDB converts it: rounded to 15 significant digits, so `2.5` becomes
    /// `2.50000000000000` (the manual's `$toDecimal` table).
    pub fn from_f64(x: f64) -> Decimal128 {
        if x.is_nan() {
            return Decimal128::NaN;
        }
        if x.is_infinite() {
            return Decimal128::Infinity { negative: x < 0.0 };
        }
        if x == 0.0 {
            return Decimal128::new(x.is_sign_negative(), 0, 0);
        }
        let sci = format!("{:.14e}", x.abs());
        let (mant, e) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
        let coef: u128 = digits.parse().unwrap_or(0);
        Decimal128::new(x < 0.0, coef, e - 14)
    }

    /// Parses what `Decimal128.fromString` and `$toDecimal` accept: an optional sign, digits
    /// with an optional point, an optional exponent, or `NaN` / `Infinity` / `Inf`.
    pub fn parse(text: &str) -> Result<Decimal128, ParseError> {
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "nan" {
            return Ok(Decimal128::NaN);
        }
        if lower == "infinity" || lower == "inf" {
            return Ok(Decimal128::Infinity { negative });
        }
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        let mut exp: i64 = match exponent {
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty()
                    || digits.len() > 6
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(ParseError::Invalid);
                }
                e.parse().map_err(|_| ParseError::Invalid)?
            }
            None => 0,
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return Err(ParseError::Invalid);
        }
        exp -= frac_part.len() as i64;
        let digits = format!("{int_part}{frac_part}");
        let significant = digits.trim_start_matches('0');
        let mut kept = significant;
        // Trailing zeros beyond 34 digits are dropped by raising the exponent; anything else
        // would round, which fromString refuses.
        while kept.len() > PRECISION as usize {
            match kept.strip_suffix('0') {
                Some(shorter) => {
                    kept = shorter;
                    exp += 1;
                }
                None => return Err(ParseError::Inexact),
            }
        }
        let coef: u128 = if kept.is_empty() {
            0
        } else {
            kept.parse().map_err(|_| ParseError::Invalid)?
        };
        if coef == 0 {
            let exp = exp.clamp(i64::from(MIN_EXP), i64::from(MAX_EXP)) as i32;
            return Ok(finish(negative, 0, exp));
        }
        if exp > i64::from(MAX_EXP) + i64::from(PRECISION) {
            return Err(ParseError::Overflow);
        }
        // Below the smallest exponent only trailing zeros may be dropped.
        if exp < i64::from(MIN_EXP) {
            let needed = i64::from(MIN_EXP) - exp;
            let zeros = kept.len() - kept.trim_end_matches('0').len();
            if needed > zeros as i64 {
                return Err(ParseError::Inexact);
            }
        }
        match Decimal128::new(negative, coef, exp as i32) {
            Decimal128::Infinity { .. } => Err(ParseError::Overflow),
            d => Ok(d),
        }
    }

    pub fn is_nan(&self) -> bool {
        matches!(self, Decimal128::NaN)
    }

    pub fn is_negative(&self) -> bool {
        match *self {
            Decimal128::Finite { negative, .. } | Decimal128::Infinity { negative } => negative,
            Decimal128::NaN => false,
        }
    }

    pub fn is_zero(&self) -> bool {
        matches!(self.finite(), Some((_, 0, _)))
    }

    /// Sign, coefficient and exponent of a finite value.
    fn finite(&self) -> Option<(bool, u128, i32)> {
        match *self {
            Decimal128::Finite {
                negative,
                exp,
                coef_hi,
                coef_lo,
            } => Some((
                negative,
                u128::from(coef_hi) << 64 | u128::from(coef_lo),
                i32::from(exp),
            )),
            _ => None,
        }
    }

    pub fn negate(&self) -> Decimal128 {
        match *self {
            Decimal128::Finite {
                negative,
                exp,
                coef_hi,
                coef_lo,
            } => Decimal128::Finite {
                negative: !negative,
                exp,
                coef_hi,
                coef_lo,
            },
            Decimal128::Infinity { negative } => Decimal128::Infinity {
                negative: !negative,
            },
            Decimal128::NaN => Decimal128::NaN,
        }
    }

    pub fn abs(&self) -> Decimal128 {
        if self.is_negative() {
            self.negate()
        } else {
            *self
        }
    }

    /// The nearest double (Rust's float parsing rounds correctly).
    pub fn to_f64(&self) -> f64 {
        match self.finite() {
            Some((negative, coef, exp)) => {
                let x: f64 = format!("{coef}e{exp}").parse().unwrap_or(f64::NAN);
                if negative {
                    -x
                } else {
                    x
                }
            }
            None => match self {
                Decimal128::Infinity { negative: true } => f64::NEG_INFINITY,
                Decimal128::Infinity { negative: false } => f64::INFINITY,
                _ => f64::NAN,
            },
        }
    }

    /// The integer part (toward zero) when it fits an i64.
    pub fn trunc_i64(&self) -> Option<i64> {
        let (negative, mut coef, exp) = self.finite()?;
        if exp < 0 {
            for _ in 0..exp.unsigned_abs().min(40) {
                coef /= 10;
            }
        } else {
            for _ in 0..exp {
                coef = coef.checked_mul(10)?;
            }
        }
        let magnitude = i128::try_from(coef).ok()?;
        i64::try_from(if negative { -magnitude } else { magnitude }).ok()
    }

    /// The value as an i64 if it is an integer that fits.
    pub fn to_i64_exact(&self) -> Option<i64> {
        let i = self.trunc_i64()?;
        (self.cmp_decimal(&Decimal128::from_i64(i)) == Ordering::Equal).then_some(i)
    }

    pub fn add(&self, other: &Decimal128) -> Decimal128 {
        let (Some((na, ca, ea)), Some((nb, cb, eb))) = (self.finite(), other.finite()) else {
            return match (self, other) {
                (Decimal128::NaN, _) | (_, Decimal128::NaN) => Decimal128::NaN,
                (Decimal128::Infinity { negative: a }, Decimal128::Infinity { negative: b }) => {
                    if a == b {
                        *self
                    } else {
                        Decimal128::NaN
                    }
                }
                (Decimal128::Infinity { .. }, _) => *self,
                _ => *other,
            };
        };
        // Align on the smaller exponent. A gap wider than 38 digits leaves the smaller operand
        // far below the rounding digit: it then only decides which way a tie goes, so a
        // stand-in of 1 at the lowest position gives the same rounded result.
        let ((nbig, cbig, ebig), (nsmall, csmall, esmall)) = if ea >= eb {
            ((na, ca, ea), (nb, cb, eb))
        } else {
            ((nb, cb, eb), (na, ca, ea))
        };
        let gap = (ebig - esmall) as u32;
        let (big, small, exp) = if cbig == 0 {
            (Wide::from(0), Wide::from(csmall), esmall)
        } else if csmall == 0 {
            (Wide::from(cbig), Wide::from(0), ebig)
        } else if gap <= 38 {
            (Wide::from(cbig).mul_pow10(gap), Wide::from(csmall), esmall)
        } else {
            (Wide::from(cbig).mul_pow10(38), Wide::from(1), ebig - 38)
        };
        let zero_exp = ea.min(eb);
        let (negative, magnitude) = if nbig == nsmall {
            (nbig, big.add(&small))
        } else {
            match big.cmp(&small) {
                Ordering::Greater => (nbig, big.sub(&small)),
                Ordering::Less => (nsmall, small.sub(&big)),
                // x + (-x) is +0 when rounding to nearest.
                Ordering::Equal => return finish(na && nb, 0, zero_exp),
            }
        };
        if magnitude.is_zero() {
            return finish(na && nb, 0, zero_exp);
        }
        let (coef, exp) = round_wide(magnitude, exp);
        finish(negative, coef, exp)
    }

    pub fn sub(&self, other: &Decimal128) -> Decimal128 {
        self.add(&other.negate())
    }

    pub fn mul(&self, other: &Decimal128) -> Decimal128 {
        let negative = self.is_negative() != other.is_negative();
        let (Some((_, ca, ea)), Some((_, cb, eb))) = (self.finite(), other.finite()) else {
            if self.is_nan() || other.is_nan() || self.is_zero() || other.is_zero() {
                return Decimal128::NaN;
            }
            return Decimal128::Infinity { negative };
        };
        let (coef, exp) = round_wide(Wide::mul(ca, cb), ea + eb);
        finish(negative, coef, exp)
    }

    /// `None` when dividing by zero (the operators answer that with their own error).
    pub fn div(&self, other: &Decimal128) -> Option<Decimal128> {
        if other.is_zero() {
            return None;
        }
        let negative = self.is_negative() != other.is_negative();
        let (Some((_, ca, ea)), Some((_, cb, eb))) = (self.finite(), other.finite()) else {
            return Some(match (self, other) {
                (Decimal128::NaN, _) | (_, Decimal128::NaN) => Decimal128::NaN,
                (Decimal128::Infinity { .. }, Decimal128::Infinity { .. }) => Decimal128::NaN,
                (Decimal128::Infinity { .. }, _) => Decimal128::Infinity { negative },
                _ => Decimal128::new(negative, 0, 0),
            });
        };
        let mut exp = ea - eb;
        if ca == 0 {
            return Some(finish(negative, 0, exp));
        }
        // Long division one decimal digit at a time: the quotient's exponent starts at the
        // preferred one and goes down only while digits remain, so exact quotients stay short.
        let mut q = ca / cb;
        let mut rem = ca % cb;
        while rem != 0 && q < COEF_LIMIT / 10 {
            rem *= 10;
            q = q * 10 + rem / cb;
            rem %= cb;
            exp -= 1;
        }
        if rem != 0 {
            let doubled = rem * 2;
            let round_up = doubled > cb || (doubled == cb && q % 2 == 1);
            if round_up {
                q += 1;
            }
        }
        let (coef, exp) = round_u128(q, exp);
        Some(finish(negative, coef, exp))
    }

    /// Numeric order; NaN sorts below everything and equals NaN, as MongoDB compares.
    pub fn cmp_decimal(&self, other: &Decimal128) -> Ordering {
        match (self, other) {
            (Decimal128::NaN, Decimal128::NaN) => return Ordering::Equal,
            (Decimal128::NaN, _) => return Ordering::Less,
            (_, Decimal128::NaN) => return Ordering::Greater,
            _ => {}
        }
        let rank = |d: &Decimal128| -> i8 {
            match d {
                Decimal128::Infinity { negative: true } => -2,
                Decimal128::Infinity { negative: false } => 2,
                d if d.is_zero() => 0,
                d if d.is_negative() => -1,
                _ => 1,
            }
        };
        let (ra, rb) = (rank(self), rank(other));
        if ra != rb || ra.abs() != 1 {
            return ra.cmp(&rb);
        }
        let (Some((negative, ca, ea)), Some((_, cb, eb))) = (self.finite(), other.finite()) else {
            return Ordering::Equal;
        };
        let magnitude = compare_magnitudes(ca, ea, cb, eb);
        if negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    /// Exact comparison with a double (no rounding of either side).
    pub fn cmp_f64(&self, x: f64) -> Ordering {
        if x.is_nan()
            || self.is_nan()
            || x.is_infinite()
            || !matches!(self, Decimal128::Finite { .. })
        {
            let as_decimal = if x.is_nan() {
                Decimal128::NaN
            } else if x.is_infinite() {
                Decimal128::Infinity { negative: x < 0.0 }
            } else {
                Decimal128::from_i64(x.signum() as i64)
            };
            return self.cmp_decimal(&as_decimal);
        }
        // Rounding is monotonic, so the nearest double decides unless it is `x` itself.
        let nearest = self.to_f64();
        if nearest != x {
            return nearest.partial_cmp(&x).unwrap_or(Ordering::Equal);
        }
        if x == 0.0 {
            return if self.is_zero() {
                Ordering::Equal
            } else if self.is_negative() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let Some((negative, coef, exp)) = self.finite() else {
            return Ordering::Equal;
        };
        // Same sign and within half an ulp: compare coef·10^exp with m·2^e as integers.
        let bits = x.abs().to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        let (m, e) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        let mut left = BigNat::from_u128(coef);
        let mut right = BigNat::from_u128(u128::from(m));
        if exp >= 0 {
            left.mul_pow(10, exp as u32);
        } else {
            right.mul_pow(10, exp.unsigned_abs());
        }
        if e >= 0 {
            right.mul_pow(2, e as u32);
        } else {
            left.mul_pow(2, e.unsigned_abs());
        }
        let magnitude = left.cmp(&right);
        if negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    /// Rounds to a multiple of 10^target (`$round`, `$trunc`, `$ceil`, `$floor` on decimals);
    /// a value already that coarse is returned as it is.
    pub fn quantize(&self, target: i32, mode: Rounding) -> Decimal128 {
        let Some((negative, coef, exp)) = self.finite() else {
            return *self;
        };
        if exp >= target {
            return *self;
        }
        let shift = (target - exp) as u32;
        let (q, rem, divisor) = if shift > 38 {
            (0, coef, None)
        } else {
            let p = 10u128.pow(shift);
            (coef / p, coef % p, Some(p))
        };
        let up = rem != 0
            && match mode {
                Rounding::HalfEven => divisor.is_some_and(|p| {
                    let twice = rem * 2;
                    twice > p || (twice == p && q % 2 == 1)
                }),
                Rounding::Down => false,
                Rounding::Ceiling => !negative,
                Rounding::Floor => negative,
            };
        Decimal128::new(negative, q + u128::from(up), target)
    }

    /// Sign, coefficient and exponent with trailing zeros removed, so that equal values
    /// (`1.0`, `1`, `10E-1`) give one key; `None` for NaN and infinities.
    pub fn canonical(&self) -> Option<(bool, u128, i32)> {
        let (negative, mut coef, mut exp) = self.finite()?;
        if coef == 0 {
            return Some((false, 0, 0));
        }
        while coef % 10 == 0 {
            coef /= 10;
            exp += 1;
        }
        Some((negative, coef, exp))
    }

    pub fn cmp_i64(&self, i: i64) -> Ordering {
        self.cmp_decimal(&Decimal128::from_i64(i))
    }
}

/// Compares `ca·10^ea` with `cb·10^eb` (both nonzero).
fn compare_magnitudes(ca: u128, ea: i32, cb: u128, eb: i32) -> Ordering {
    let adjusted_a = digit_count(ca) as i32 + ea;
    let adjusted_b = digit_count(cb) as i32 + eb;
    if adjusted_a != adjusted_b {
        return adjusted_a.cmp(&adjusted_b);
    }
    // Same magnitude: scaling the one with the larger exponent keeps it within 34 digits.
    if ea >= eb {
        (ca * 10u128.pow((ea - eb) as u32)).cmp(&cb)
    } else {
        ca.cmp(&(cb * 10u128.pow((eb - ea) as u32)))
    }
}

fn digit_count(mut c: u128) -> u32 {
    let mut n = 1;
    while c >= 10 {
        c /= 10;
        n += 1;
    }
    n
}

/// Rounds a coefficient to 34 digits, half to even.
fn round_u128(coef: u128, exp: i32) -> (u128, i32) {
    if coef < COEF_LIMIT {
        return (coef, exp);
    }
    round_wide(Wide::from(coef), exp)
}

/// Rounds a wide coefficient to 34 digits, half to even.
fn round_wide(mut w: Wide, mut exp: i32) -> (u128, i32) {
    let mut last = 0u64;
    let mut rest_nonzero = false;
    loop {
        if let Some(c) = w.to_u128().filter(|c| *c < COEF_LIMIT) {
            let mut c = c;
            if last > 5 || (last == 5 && (rest_nonzero || c % 2 == 1)) {
                c += 1;
                if c == COEF_LIMIT {
                    c /= 10;
                    exp += 1;
                }
            }
            return (c, exp);
        }
        rest_nonzero |= last != 0;
        last = w.divrem_small(10);
        exp += 1;
    }
}

/// Brings a rounded coefficient into the exponent range: a too-large exponent is absorbed
/// into the coefficient's spare digits or overflows to Infinity; a too-small one loses
/// digits (a subnormal), rounding half to even.
fn finish(negative: bool, mut coef: u128, mut exp: i32) -> Decimal128 {
    if coef == 0 {
        exp = exp.clamp(MIN_EXP, MAX_EXP);
    }
    while exp > MAX_EXP {
        match coef.checked_mul(10).filter(|c| *c < COEF_LIMIT) {
            Some(c) => {
                coef = c;
                exp -= 1;
            }
            None => return Decimal128::Infinity { negative },
        }
    }
    if exp < MIN_EXP {
        let mut last = 0;
        let mut rest_nonzero = false;
        while exp < MIN_EXP && (coef != 0 || last != 0) {
            rest_nonzero |= last != 0;
            last = coef % 10;
            coef /= 10;
            exp += 1;
        }
        exp = MIN_EXP;
        if last > 5 || (last == 5 && (rest_nonzero || coef % 2 == 1)) {
            coef += 1;
        }
    }
    Decimal128::Finite {
        negative,
        exp: exp as i16,
        coef_hi: (coef >> 64) as u64,
        coef_lo: coef as u64,
    }
}

impl fmt::Display for Decimal128 {
    /// The string form drivers print (the spec's "to-scientific-string"): plain notation
    /// unless the exponent is positive or the value is below 1e-6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((negative, coef, exp)) = self.finite() else {
            return f.write_str(match self {
                Decimal128::Infinity { negative: true } => "-Infinity",
                Decimal128::Infinity { negative: false } => "Infinity",
                _ => "NaN",
            });
        };
        if negative {
            f.write_str("-")?;
        }
        let digits = coef.to_string();
        let scientific_exp = digits.len() as i32 - 1 + exp;
        if exp > 0 || scientific_exp < -6 {
            let (first, rest) = digits.split_at(1);
            f.write_str(first)?;
            if !rest.is_empty() {
                write!(f, ".{rest}")?;
            }
            return if scientific_exp > 0 {
                write!(f, "E+{scientific_exp}")
            } else {
                write!(f, "E{scientific_exp}")
            };
        }
        if exp == 0 {
            return f.write_str(&digits);
        }
        let point = digits.len() as i32 + exp;
        if point > 0 {
            let (int, frac) = digits.split_at(point as usize);
            write!(f, "{int}.{frac}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        }
    }
}

/// A 256-bit unsigned integer, enough for the product of two coefficients (< 10^68) and for
/// a sum aligned by up to 38 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wide([u64; 4]);

impl Wide {
    fn from(v: u128) -> Wide {
        Wide([v as u64, (v >> 64) as u64, 0, 0])
    }

    fn mul(a: u128, b: u128) -> Wide {
        let a = [a as u64, (a >> 64) as u64];
        let b = [b as u64, (b >> 64) as u64];
        let mut out = [0u64; 4];
        for (i, &x) in a.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &y) in b.iter().enumerate() {
                let t = u128::from(x) * u128::from(y) + u128::from(out[i + j]) + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
            out[i + 2] = carry as u64;
        }
        Wide(out)
    }

    fn mul_pow10(mut self, n: u32) -> Wide {
        for _ in 0..n {
            let mut carry = 0u128;
            for limb in &mut self.0 {
                let t = u128::from(*limb) * 10 + carry;
                *limb = t as u64;
                carry = t >> 64;
            }
        }
        self
    }

    fn add(&self, other: &Wide) -> Wide {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(other.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *slot = s2;
            carry = c1 || c2;
        }
        Wide(out)
    }

    /// `self - other` for `self >= other`.
    fn sub(&self, other: &Wide) -> Wide {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(other.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *slot = d2;
            borrow = b1 || b2;
        }
        Wide(out)
    }

    fn cmp(&self, other: &Wide) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }

    fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    fn to_u128(self) -> Option<u128> {
        (self.0[2] == 0 && self.0[3] == 0)
            .then(|| u128::from(self.0[1]) << 64 | u128::from(self.0[0]))
    }

    fn divrem_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for limb in self.0.iter_mut().rev() {
            let cur = rem << 64 | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        rem as u64
    }
}

/// An arbitrary-size natural number, only for exact decimal-versus-double comparison of
/// values within half an ulp of each other.
struct BigNat(Vec<u32>);

impl BigNat {
    fn from_u128(mut v: u128) -> BigNat {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        BigNat(limbs)
    }

    fn mul_pow(&mut self, base: u32, mut n: u32) {
        // Multiply by the largest power of the base that fits a u32 at a time.
        let (chunk, chunk_n) = if base == 2 {
            (1u64 << 31, 31)
        } else {
            (1_000_000_000u64, 9)
        };
        while n > 0 {
            let (m, k) = if n >= chunk_n {
                (chunk, chunk_n)
            } else {
                (u64::from(base).pow(n), n)
            };
            let mut carry = 0u64;
            for limb in &mut self.0 {
                let t = u64::from(*limb) * m + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            while carry != 0 {
                self.0.push(carry as u32);
                carry >>= 32;
            }
            n -= k;
        }
    }

    fn cmp(&self, other: &BigNat) -> Ordering {
        let trim = |v: &[u32]| v.len() - v.iter().rev().take_while(|l| **l == 0).count();
        let (la, lb) = (trim(&self.0), trim(&other.0));
        la.cmp(&lb)
            .then_with(|| self.0[..la].iter().rev().cmp(other.0[..lb].iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal128 {
        Decimal128::parse(s).unwrap_or(Decimal128::NaN)
    }

    #[test]
    fn strings_round_trip_in_the_drivers_form() {
        let cases = [
            ("1.5", "1.5"),
            ("0.30", "0.30"),
            ("-0", "-0"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
            ("1E+3", "1E+3"),
            ("1000", "1000"),
            ("12.5e2", "1.25E+3"),
            ("1250", "1250"),
            ("1.23E-10", "1.23E-10"),
            ("0E-3", "0.000"),
            ("Infinity", "Infinity"),
            ("-inf", "-Infinity"),
            ("NaN", "NaN"),
            (
                "9999999999999999999999999999999999",
                "9999999999999999999999999999999999",
            ),
            (
                "12345678901234567890123456789012340000",
                "1.234567890123456789012345678901234E+37",
            ),
            (".5", "0.5"),
            ("5.", "5"),
        ];
        for (input, want) in cases {
            assert_eq!(d(input).to_string(), want, "{input}");
        }
        for bad in ["", "abc", "1e", "1.2.3", "--1", "0x10", "1e+"] {
            assert_eq!(Decimal128::parse(bad), Err(ParseError::Invalid), "{bad}");
        }
        assert_eq!(
            Decimal128::parse("12345678901234567890123456789012345"),
            Err(ParseError::Inexact)
        );
        assert_eq!(Decimal128::parse("1E+7000"), Err(ParseError::Overflow));
        assert_eq!(Decimal128::parse("1E-7000"), Err(ParseError::Inexact));
        assert_eq!(
            d("1E+6144").to_string(),
            "1.000000000000000000000000000000000E+6144"
        );
        assert_eq!(d("0E+9000").to_string(), "0E+6111");
        assert_eq!(d("10E-6177").to_string(), "1E-6176");
    }

    #[test]
    fn arithmetic_keeps_the_preferred_exponent() {
        let cases: &[(&str, char, &str, &str)] = &[
            ("0.1", '+', "0.20", "0.30"),
            ("1.50", '*', "2", "3.00"),
            ("20.0", '*', "10", "200.0"),
            ("1", '/', "4", "0.25"),
            ("10", '/', "4", "2.5"),
            ("1", '/', "3", "0.3333333333333333333333333333333333"),
            ("2", '/', "3", "0.6666666666666666666666666666666667"),
            ("6", '/', "2", "3"),
            ("1", '-', "1", "0"),
            ("1.0", '-', "3", "-2.0"),
            (
                "1E+100",
                '+',
                "1",
                "1.000000000000000000000000000000000E+100",
            ),
            (
                "1E+100",
                '-',
                "1",
                "1.000000000000000000000000000000000E+100",
            ),
            (
                "9999999999999999999999999999999999",
                '+',
                "1",
                "1.000000000000000000000000000000000E+34",
            ),
            (
                "9999999999999999999999999999999999",
                '*',
                "9999999999999999999999999999999999",
                "9.999999999999999999999999999999998E+67",
            ),
            ("1E+6111", '*', "1E+6111", "Infinity"),
            ("-1E+6111", '*', "1E+6111", "-Infinity"),
        ];
        for (a, op, b, want) in cases {
            let (x, y) = (d(a), d(b));
            let got = match op {
                '+' => x.add(&y),
                '-' => x.sub(&y),
                '*' => x.mul(&y),
                _ => x.div(&y).unwrap_or(Decimal128::NaN),
            };
            assert_eq!(got.to_string(), *want, "{a} {op} {b}");
        }
        assert_eq!(d("1").div(&d("0")), None);
    }

    #[test]
    fn doubles_convert_with_fifteen_digits() {
        assert_eq!(Decimal128::from_f64(2.5).to_string(), "2.50000000000000");
        assert_eq!(Decimal128::from_f64(0.1).to_string(), "0.100000000000000");
        assert_eq!(
            Decimal128::from_f64(-1e30).to_string(),
            "-1.00000000000000E+30"
        );
        assert_eq!(Decimal128::from_i64(-42).to_string(), "-42");
        assert_eq!(d("2.50").to_f64(), 2.5);
        assert_eq!(d("123.9").trunc_i64(), Some(123));
        assert_eq!(d("-7.00").to_i64_exact(), Some(-7));
        assert_eq!(d("7.5").to_i64_exact(), None);
    }

    /// Random coefficients and exponents across the whole range (including the edges where
    /// results overflow, underflow and round) through every operation: nothing panics, a
    /// result's string reads back as the same value, and comparison agrees with subtraction.
    #[test]
    fn random_operands_never_panic_and_stay_consistent() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let random = |next: &mut dyn FnMut() -> u64| -> Decimal128 {
            let digits = (next() % 35) as u32;
            let coef = (u128::from(next()) << 64 | u128::from(next())) % 10u128.pow(digits).max(1);
            let exp = match next() % 4 {
                0 => (next() % 12_300) as i32 - 6_180,
                1 => (next() % 20) as i32 - 10,
                2 => 6_111 - (next() % 40) as i32,
                _ => -6_176 + (next() % 40) as i32,
            };
            match next() % 40 {
                0 => Decimal128::NaN,
                1 => Decimal128::Infinity {
                    negative: next().is_multiple_of(2),
                },
                _ => Decimal128::new(next().is_multiple_of(2), coef, exp),
            }
        };
        for _ in 0..20_000 {
            let (a, b) = (random(&mut next), random(&mut next));
            for r in [
                a.add(&b),
                a.sub(&b),
                a.mul(&b),
                a.div(&b).unwrap_or(Decimal128::NaN),
            ] {
                let text = r.to_string();
                let back = Decimal128::parse(&text).unwrap_or(Decimal128::NaN);
                assert_eq!(back.cmp_decimal(&r), Ordering::Equal, "{text}");
            }
            let x = a.to_f64();
            let _ = (
                a.cmp_f64(x),
                a.trunc_i64(),
                a.quantize(-2, Rounding::HalfEven),
            );
            if let (Some(_), Some(_)) = (a.finite(), b.finite()) {
                let diff = a.sub(&b);
                let want = if diff.is_zero() {
                    Ordering::Equal
                } else if diff.is_negative() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                // Subtraction rounds, so only a clear sign must agree with comparison.
                if !diff.is_zero() || a.cmp_decimal(&b) == Ordering::Equal {
                    assert_eq!(a.cmp_decimal(&b), want, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn comparisons_are_exact() {
        assert_eq!(d("1.0").cmp_decimal(&d("1")), Ordering::Equal);
        assert_eq!(d("0.30").cmp_decimal(&d("0.3")), Ordering::Equal);
        assert_eq!(d("-2").cmp_decimal(&d("1")), Ordering::Less);
        assert_eq!(d("NaN").cmp_decimal(&d("-Infinity")), Ordering::Less);
        assert_eq!(d("1E+3").cmp_decimal(&d("999.99")), Ordering::Greater);
        // 0.1 as a double is 0.1000000000000000055511151231257827…
        assert_eq!(d("0.1").cmp_f64(0.1), Ordering::Less);
        assert_eq!(
            d("0.1000000000000000055511151231257828").cmp_f64(0.1),
            Ordering::Greater
        );
        assert_eq!(d("0.5").cmp_f64(0.5), Ordering::Equal);
        assert_eq!(d("-3").cmp_f64(-2.5), Ordering::Less);
        assert_eq!(d("1E+400").cmp_f64(f64::MAX), Ordering::Greater);
        assert_eq!(d("0").cmp_f64(-0.0), Ordering::Equal);
        assert_eq!(d("NaN").cmp_f64(f64::NAN), Ordering::Equal);
        assert_eq!(d("5").cmp_i64(5), Ordering::Equal);
    }
}
