//! Parsing and matching helpers shared by the commands (Redis's `util.c`): integers as
//! `string2ll` reads them, INCRBYFLOAT's long doubles, and glob patterns.

/// Parses a Redis integer argument: optional `-`, digits, no spaces or `+`, within i64.
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 || bytes[0] == b'+' {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if (text.len() > 1 && text.starts_with('0')) || text.starts_with("-0") {
        return None;
    }
    text.parse().ok()
}

/// A decimal `mantissa * 10^exp` standing in for the C `long double` INCRBYFLOAT computes
/// with. The mantissa is kept to 19 significant digits, about the 64-bit precision of an x87
/// long double, so sums such as 0.1 + 0.2 print as "0.3" exactly as Redis prints them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongDouble {
    mantissa: i128,
    exp: i32,
}

/// Digits a long double holds, rounded up.
const LD_DIGITS: usize = 19;
/// Decimal exponents beyond which strtold reports ERANGE (max ≈ 1.19e4932; smallest
/// subnormal ≈ 3.6e-4951).
const LD_MAX_EXP10: i32 = 4932;
const LD_MIN_EXP10: i32 = -4950;
/// Redis's MAX_LONG_DOUBLE_CHARS: longer arguments are not floats.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

impl LongDouble {
    /// Port of `string2ld`: decimal text as strtold reads it (no leading space, nothing
    /// trailing, no NaN). `Err(())` is "value is not a valid float"; `Ok(None)` an infinity,
    /// which INCRBYFLOAT reports as NaN or Infinity.
    #[allow(clippy::result_unit_err)]
    pub fn parse(bytes: &[u8]) -> Result<Option<LongDouble>, ()> {
        if bytes.is_empty() || bytes.len() >= MAX_LONG_DOUBLE_CHARS {
            return Err(());
        }
        let (negative, rest) = match bytes[0] {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let lower = rest.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            return Ok(None);
        }
        if lower.starts_with(b"0x") {
            return parse_hex(&lower[2..], negative).ok_or(());
        }
        let mut digits: Vec<u8> = Vec::new();
        let mut exp: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            match c {
                b'0'..=b'9' => {
                    seen_digit = true;
                    if !(digits.is_empty() && c == b'0') {
                        digits.push(c - b'0');
                    }
                    if seen_point {
                        exp -= 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(());
        }
        if let Some(b'e' | b'E') = rest.get(i) {
            let tail = &rest[i + 1..];
            let (sign, tail) = match tail.first() {
                Some(b'-') => (-1i64, &tail[1..]),
                Some(b'+') => (1, &tail[1..]),
                _ => (1, tail),
            };
            if tail.is_empty() || !tail.iter().all(u8::is_ascii_digit) {
                return Err(());
            }
            let mut e: i64 = 0;
            for &d in tail {
                e = (e * 10 + i64::from(d - b'0')).min(1_000_000);
            }
            exp += sign * e;
        } else if i != rest.len() {
            return Err(());
        }
        if digits.is_empty() {
            return Ok(Some(LongDouble::ZERO));
        }
        let magnitude = exp + digits.len() as i64 - 1;
        if magnitude > i64::from(LD_MAX_EXP10) || magnitude < i64::from(LD_MIN_EXP10) {
            return Err(());
        }
        let value = LongDouble::from_digits(&digits, exp, negative);
        if value.too_big() {
            return Err(());
        }
        Ok(Some(value))
    }

    pub const ZERO: LongDouble = LongDouble {
        mantissa: 0,
        exp: 0,
    };

    fn from_digits(digits: &[u8], exp: i64, negative: bool) -> LongDouble {
        let keep = digits.len().min(LD_DIGITS + 1);
        let mut m: i128 = 0;
        for &d in &digits[..keep] {
            m = m * 10 + i128::from(d);
        }
        let mut exp = exp + (digits.len() - keep) as i64;
        // Anything past the kept digits only matters as a tie-breaker.
        let sticky = digits[keep..].iter().any(|&d| d != 0);
        if keep > LD_DIGITS {
            m = round_div10(m, sticky);
            exp += 1;
        }
        let m = if negative { -m } else { m };
        LongDouble {
            mantissa: m,
            exp: exp.clamp(-100_000, 100_000) as i32,
        }
        .normalize(false)
    }

    /// Rounds the mantissa back to the precision a long double has.
    fn normalize(mut self, mut sticky: bool) -> LongDouble {
        let limit = 10i128.pow(LD_DIGITS as u32);
        while self.mantissa.abs() >= limit {
            let last = self.mantissa % 10;
            self.mantissa /= 10;
            self.exp += 1;
            if self.mantissa.abs() < limit {
                self.mantissa = round_last(self.mantissa, last, sticky);
                if self.mantissa.abs() >= limit {
                    self.mantissa /= 10;
                    self.exp += 1;
                }
                break;
            }
            sticky |= last != 0;
        }
        if self.mantissa == 0 {
            self.exp = 0;
        }
        self
    }

    /// The same value with a full-width mantissa, so exponents compare as magnitudes.
    fn widen(mut self) -> LongDouble {
        if self.mantissa != 0 {
            while self.mantissa.abs() < 10i128.pow(LD_DIGITS as u32 - 1) {
                self.mantissa *= 10;
                self.exp -= 1;
            }
        }
        self
    }

    fn too_big(&self) -> bool {
        let digits = self.mantissa.unsigned_abs().checked_ilog10().unwrap_or(0) as i32;
        let magnitude = self.exp + digits;
        magnitude > LD_MAX_EXP10
            || (magnitude == LD_MAX_EXP10
                && self.mantissa.unsigned_abs() * 10u128.pow((18 - digits.min(18)) as u32)
                    > 1_189_731_495_357_231_765)
    }

    /// The sum, or `None` when it overflows the long double range (Redis: "increment would
    /// produce NaN or Infinity").
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        let (a, b) = (self.widen(), other.widen());
        let (big, small) = if a.exp >= b.exp { (a, b) } else { (b, a) };
        let gap = (big.exp - small.exp) as u32;
        let sum = if big.mantissa == 0 {
            small
        } else if small.mantissa == 0 {
            big
        } else if gap <= LD_DIGITS as u32 {
            LongDouble {
                mantissa: big.mantissa * 10i128.pow(gap) + small.mantissa,
                exp: small.exp,
            }
            .normalize(false)
        } else {
            // The smaller term lies below the precision: it only nudges the rounding.
            let nudge = small.mantissa.signum();
            LongDouble {
                mantissa: big.mantissa * 100 + nudge,
                exp: big.exp - 2,
            }
            .normalize(false)
        };
        (!sum.too_big()).then_some(sum)
    }

    /// Redis's `ld2string` in human mode: `%.17Lf`, then trailing zeros (and a bare point)
    /// dropped, and "-0" printed as "0".
    pub fn to_human(self) -> String {
        let negative = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let mut int_part;
        let mut frac: Vec<u8>;
        if self.exp >= 0 {
            int_part = digits.into_bytes();
            int_part.extend(std::iter::repeat_n(b'0', self.exp as usize));
            frac = Vec::new();
        } else {
            let shift = self.exp.unsigned_abs() as usize;
            let padded = if digits.len() <= shift {
                let mut p = vec![b'0'; shift + 1 - digits.len()];
                p.extend_from_slice(digits.as_bytes());
                p
            } else {
                digits.into_bytes()
            };
            let split = padded.len() - shift;
            int_part = padded[..split].to_vec();
            frac = padded[split..].to_vec();
            if frac.len() > 17 {
                let rest = frac.split_off(17);
                let first = rest.first().copied().unwrap_or(b'0');
                let beyond = rest.iter().skip(1).any(|&d| d != b'0');
                let odd = frac
                    .last()
                    .map_or(int_part.last().is_some_and(|d| d % 2 == 1), |d| d % 2 == 1);
                if first > b'5' || (first == b'5' && (beyond || odd)) {
                    increment_decimal(&mut int_part, &mut frac);
                }
            }
        }
        while frac.last() == Some(&b'0') {
            frac.pop();
        }
        let mut out = String::new();
        let zero = int_part.iter().all(|&d| d == b'0') && frac.is_empty();
        if negative && !zero {
            out.push('-');
        }
        out.push_str(std::str::from_utf8(&int_part).unwrap_or("0"));
        if !frac.is_empty() {
            out.push('.');
            out.push_str(std::str::from_utf8(&frac).unwrap_or(""));
        }
        out
    }
}

fn round_div10(m: i128, sticky: bool) -> i128 {
    round_last(m / 10, m % 10, sticky)
}

/// Rounds `kept` (whose dropped digit was `last`) half to even.
fn round_last(kept: i128, last: i128, sticky: bool) -> i128 {
    let last = last.abs();
    let up = last > 5 || (last == 5 && (sticky || kept % 2 != 0));
    match (up, kept < 0) {
        (false, _) => kept,
        (true, false) => kept + 1,
        (true, true) => kept - 1,
    }
}

/// Adds one unit in the last place of `int_part.frac` (decimal digit strings).
fn increment_decimal(int_part: &mut Vec<u8>, frac: &mut [u8]) {
    for d in frac.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    for d in int_part.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    int_part.insert(0, b'1');
}

/// strtold also reads hexadecimal; only the integer form is supported here.
fn parse_hex(digits: &[u8], negative: bool) -> Option<Option<LongDouble>> {
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    let n = u64::from_str_radix(text, 16).ok()?;
    let m = i128::from(n);
    Some(Some(
        LongDouble {
            mantissa: if negative { -m } else { m },
            exp: 0,
        }
        .normalize(false),
    ))
}

/// Port of Redis's `stringmatchlen`: `*`, `?`, `[...]` with ranges, `^` negation and `\`
/// escapes, byte-wise. Abusive patterns stop at the same nesting limit as Redis.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn glob_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    // Reads past the end see the NUL terminator C strings have.
    let at = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let (mut p, mut plen) = (0usize, pat.len());
    let (mut si, mut slen) = (0usize, s.len());
    while plen > 0 && slen > 0 {
        match at(pat, p) {
            b'*' => {
                while plen > 0 && at(pat, p + 1) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    let rest = pat.get(p + 1..p + plen).unwrap_or(&[]);
                    let tail = s.get(si..si + slen).unwrap_or(&[]);
                    if glob_impl(rest, tail, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                    slen -= 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                si += 1;
                slen -= 1;
            }
            b'[' => {
                p += 1;
                plen -= 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                    plen = plen.saturating_sub(1);
                }
                let mut matched = false;
                let c = at(s, si);
                loop {
                    if at(pat, p) == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        if at(pat, p) == c {
                            matched = true;
                        }
                    } else if at(pat, p) == b']' {
                        break;
                    } else if plen == 0 {
                        p -= 1;
                        plen += 1;
                        break;
                    } else if plen >= 3 && at(pat, p + 1) == b'-' {
                        // C compares plain (signed) chars.
                        let (mut start, mut end) = (at(pat, p) as i8, at(pat, p + 2) as i8);
                        let mut ch = c as i8;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = (start as u8).to_ascii_lowercase() as i8;
                            end = (end as u8).to_ascii_lowercase() as i8;
                            ch = (ch as u8).to_ascii_lowercase() as i8;
                        }
                        p += 2;
                        plen -= 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if fold(at(pat, p)) == fold(c) {
                        matched = true;
                    }
                    p += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
            first => {
                let mut lit = first;
                if first == b'\\' && plen >= 2 {
                    p += 1;
                    plen -= 1;
                    lit = at(pat, p);
                }
                if fold(lit) != fold(at(s, si)) {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
        }
        p += 1;
        plen -= 1;
        if slen == 0 {
            while plen > 0 && at(pat, p) == b'*' {
                p += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arguments_follow_string2ll() {
        for (text, value) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("+1", None),
            ("01", None),
            ("-0", None),
            (" 1", None),
            ("1.0", None),
            ("", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), value, "{text}");
        }
    }

    fn ld(text: &str) -> LongDouble {
        LongDouble::parse(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn long_double_sums_print_like_redis() {
        for (a, b, sum) in [
            ("10.5", "0.1", "10.6"),
            ("0.1", "0.2", "0.3"),
            ("0.3", "1e20", "100000000000000000000"),
            ("0", "1e-20", "0"),
            ("1.5e3", "16", "1516"),
            ("0", "-0.0", "0"),
            ("0", "1.23456789012345678901234", "1.23456789012345679"),
            ("5.", "+5", "10"),
            ("0", ".5", "0.5"),
            ("3", "-5", "-2"),
            ("1e17", "0", "100000000000000000"),
        ] {
            assert_eq!(
                ld(a).checked_add(ld(b)).unwrap().to_human(),
                sum,
                "{a} + {b}"
            );
        }
        for bad in ["", " 1", "1 ", "abc", "nan", "1e-5000", "1e5000", "1e", "."] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), Err(()), "{bad}");
        }
        assert_eq!(LongDouble::parse(b"-inf"), Ok(None));
        assert_eq!(
            ld("5e4931")
                .checked_add(ld("5e4931"))
                .map(|v| v.to_human().len()),
            Some(4933)
        );
        assert_eq!(ld("1e4932").checked_add(ld("1e4932")), None);
    }

    #[test]
    fn glob_patterns_follow_stringmatchlen() {
        for (pattern, text, hit) in [
            // Redis only matches the empty key through KEYS *'s shortcut.
            ("*", "", false),
            ("*", "abc", true),
            ("a*", "abc", true),
            ("a*c", "abc", true),
            ("a*d", "abc", false),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hbllo", true),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("[abc", "a", true),
            ("[\\]]", "]", true),
            ("abc\\", "abc\\", true),
            ("**", "x", true),
            ("a**", "a", true),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes(), false),
                hit,
                "{pattern} ~ {text}"
            );
        }
        assert!(glob_match(b"A*", b"abc", true));
    }
}
