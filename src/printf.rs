//! Doubles as C's `%.Ng` writes them (and a C++ stream, at its default precision of 6), which
//! is how the real servers put numbers into replies and errors: RediSearch's FT.AGGREGATE
//! values (`%.12g`), MongoDB's trigonometry bounds errors (`<<`).

/// `x` with `significant` significant digits in `%g` style: the shorter of fixed and
/// scientific notation, trailing zeros dropped, `inf`, `-inf`, `nan`.
pub fn format_g(x: f64, significant: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let digits = significant.max(1);
    let sci = format!("{x:.*e}", digits - 1);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let trim = |t: String| {
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    };
    if exp < -4 || exp >= digits as i64 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exp.abs())
    } else {
        let decimals = usize::try_from(digits as i64 - 1 - exp).unwrap_or(0);
        trim(format!("{x:.decimals$}"))
    }
}
