//! Date expression operators: parts of a date, `$dateToString` and its format specifiers,
//! `$dateFromString`, date arithmetic (`$dateAdd`, `$dateSubtract`, `$dateDiff`,
//! `$dateTrunc`) and time zones.
//!
//! Time zones: `UTC`/`GMT`/`Z`, fixed offsets (`+05:30`, `-0800`, `+03`), and a few Olson
//! names with their current daylight-saving rules (US and EU zones, a handful without DST).
//! Other Olson names are refused with the server's own error text.

use super::expr::{is_nullish, server_text, type_name, Env};
use super::ops::{as_i64, int_or_long};
use super::AggError;
use crate::agg_err;
use crate::clock::civil_from_days;
use crate::mongo::value::{days_from_civil, parse_iso_date, Document, Value};

/// Day number of a civil date, with the year kept where the arithmetic cannot overflow
/// (dates reach about ±292 million years; anything past that is clamped).
fn civil(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y.clamp(-300_000_000, 300_000_000), m, d)
}

type R = Result<Value, AggError>;

const DAY_MS: i64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Debug, Clone, Copy)]
enum Rule {
    None,
    /// US: second Sunday of March 02:00 local to first Sunday of November 02:00 local.
    Us,
    /// EU: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC.
    Eu,
}

/// A time zone: standard offset in milliseconds and its daylight-saving rule.
#[derive(Debug, Clone, Copy)]
pub struct Tz {
    std_ms: i64,
    rule: Rule,
}

impl Tz {
    pub const UTC: Tz = Tz {
        std_ms: 0,
        rule: Rule::None,
    };

    /// The offset from UTC in effect at the UTC instant `utc`.
    pub fn offset_at(&self, utc: i64) -> i64 {
        let dst = match self.rule {
            Rule::None => false,
            Rule::Us => {
                let (y, _, _) = civil_from_days(utc.div_euclid(DAY_MS));
                let start = civil(y, 3, 1) + nth_sunday_offset(y, 3, 2);
                let end = civil(y, 11, 1) + nth_sunday_offset(y, 11, 1);
                let start_utc = start
                    .saturating_mul(DAY_MS)
                    .saturating_add(2 * 3_600_000 - self.std_ms);
                let end_utc = end
                    .saturating_mul(DAY_MS)
                    .saturating_add(3_600_000 - self.std_ms);
                utc >= start_utc && utc < end_utc
            }
            Rule::Eu => {
                let (y, _, _) = civil_from_days(utc.div_euclid(DAY_MS));
                let start = last_sunday(y, 3)
                    .saturating_mul(DAY_MS)
                    .saturating_add(3_600_000);
                let end = last_sunday(y, 10)
                    .saturating_mul(DAY_MS)
                    .saturating_add(3_600_000);
                utc >= start && utc < end
            }
        };
        self.std_ms + if dst { 3_600_000 } else { 0 }
    }

    /// The UTC instant of a local wall-clock time (the earlier one across a DST change).
    pub fn to_utc(&self, local: i64) -> i64 {
        let guess = local.saturating_sub(self.std_ms);
        let off = self.offset_at(guess);
        let again = local.saturating_sub(off);
        local.saturating_sub(self.offset_at(again))
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Weekday of a day number, 0 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

fn nth_sunday_offset(y: i64, m: u32, n: i64) -> i64 {
    let first = civil(y, m, 1);
    let to_sunday = (7 - weekday(first)) % 7;
    to_sunday + 7 * (n - 1)
}

fn last_sunday(y: i64, m: u32) -> i64 {
    let last = civil(y, m, days_in_month(y, m));
    last - weekday(last)
}

pub fn parse_tz(v: &Value) -> Result<Option<Tz>, AggError> {
    let s = match v {
        Value::Undefined => return Ok(Some(Tz::UTC)),
        Value::Null => return Ok(None),
        Value::String(s) => s.as_str(),
        other => {
            return Err(agg_err!(
                40517,
                "timezone must evaluate to a string, found {}",
                type_name(other)
            ))
        }
    };
    let named = |h: i64, rule: Rule| Tz {
        std_ms: h * 3_600_000,
        rule,
    };
    let tz = match s {
        "UTC" | "GMT" | "Z" | "Etc/UTC" | "Etc/GMT" => Tz::UTC,
        "America/New_York" | "US/Eastern" => named(-5, Rule::Us),
        "America/Chicago" | "US/Central" => named(-6, Rule::Us),
        "America/Denver" | "US/Mountain" => named(-7, Rule::Us),
        "America/Los_Angeles" | "US/Pacific" => named(-8, Rule::Us),
        "America/Phoenix" => named(-7, Rule::None),
        "Europe/London" | "Europe/Dublin" | "Europe/Lisbon" => named(0, Rule::Eu),
        "Europe/Paris" | "Europe/Berlin" | "Europe/Madrid" | "Europe/Rome" | "Europe/Amsterdam"
        | "Europe/Brussels" | "Europe/Vienna" | "Europe/Stockholm" | "Europe/Zurich"
        | "Europe/Warsaw" | "Europe/Prague" => named(1, Rule::Eu),
        "Europe/Athens" | "Europe/Helsinki" | "Europe/Kiev" | "Europe/Kyiv" => named(2, Rule::Eu),
        "Europe/Moscow" => named(3, Rule::None),
        "Asia/Tokyo" => named(9, Rule::None),
        "Asia/Seoul" => named(9, Rule::None),
        "Asia/Shanghai" | "Asia/Hong_Kong" | "Asia/Singapore" => named(8, Rule::None),
        "Asia/Kolkata" | "Asia/Calcutta" => Tz {
            std_ms: 19_800_000,
            rule: Rule::None,
        },
        "Asia/Dubai" => named(4, Rule::None),
        _ => match parse_offset(s) {
            Some(ms) => Tz {
                std_ms: ms,
                rule: Rule::None,
            },
            None => {
                return Err(agg_err!(
                    40485,
                    "unrecognized time zone identifier: \"{s}\""
                ))
            }
        },
    };
    Ok(Some(tz))
}

/// `+hh`, `+hhmm`, `+hh:mm` (and `-`) to milliseconds.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<i64>().ok()?,
            digits.get(2..)?.parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    Some(sign * (h * 3_600_000 + m * 60_000))
}

/// A date's calendar fields in some zone.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub ms: i64,
    /// 0 = Sunday.
    pub dow: i64,
    /// 1-based.
    pub doy: i64,
    pub days: i64,
    pub offset_ms: i64,
}

pub fn parts(utc: i64, tz: &Tz) -> Parts {
    let offset_ms = tz.offset_at(utc);
    let local = utc.saturating_add(offset_ms);
    let days = local.div_euclid(DAY_MS);
    let rem = local.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: rem / 3_600_000,
        minute: rem % 3_600_000 / 60_000,
        second: rem % 60_000 / 1000,
        ms: rem % 1000,
        dow: weekday(days),
        doy: days - civil(year, 1, 1) + 1,
        days,
        offset_ms,
    }
}

/// ISO 8601 week-numbering year and week of a date.
fn iso_week_of(p: &Parts) -> (i64, i64) {
    let iso_dow = (p.dow + 6) % 7 + 1;
    let thursday = p.days + (4 - iso_dow);
    let (y, _, _) = civil_from_days(thursday);
    let week = (thursday - civil(y, 1, 1)) / 7 + 1;
    (y, week)
}

fn date_ms(v: &Value, _name: &str) -> Result<Option<i64>, AggError> {
    match v {
        Value::Date(ms) => Ok(Some(*ms)),
        Value::ObjectId(o) => Ok(Some(i64::from(o.timestamp_secs()) * 1000)),
        v if is_nullish(v) => Ok(None),
        v => Err(agg_err!(
            16006,
            "can't convert from BSON type {} to Date",
            type_name(v)
        )),
    }
}

fn with_parts(args: &[Value], name: &str, f: fn(&Parts) -> i64) -> R {
    let Some(ms) = date_ms(args.first().unwrap_or(&Value::Undefined), name)? else {
        return Ok(Value::Null);
    };
    let Some(tz) = parse_tz(args.get(1).unwrap_or(&Value::Undefined))? else {
        return Ok(Value::Null);
    };
    Ok(int_or_long(f(&parts(ms, &tz))))
}

pub fn year(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$year", |p| p.year)
}
pub fn month(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$month", |p| i64::from(p.month))
}
pub fn day_of_month(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$dayOfMonth", |p| i64::from(p.day))
}
pub fn day_of_week(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$dayOfWeek", |p| p.dow + 1)
}
pub fn day_of_year(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$dayOfYear", |p| p.doy)
}
pub fn hour(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$hour", |p| p.hour)
}
pub fn minute(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$minute", |p| p.minute)
}
pub fn second(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$second", |p| p.second)
}
pub fn millisecond(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$millisecond", |p| p.ms)
}
pub fn week(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$week", |p| (p.doy - 1 + 7 - p.dow) / 7)
}
pub fn iso_week(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$isoWeek", |p| iso_week_of(p).1)
}
pub fn iso_week_year(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$isoWeekYear", |p| iso_week_of(p).0)
}
pub fn iso_day_of_week(args: Vec<Value>, _: &Env<'_>) -> R {
    with_parts(&args, "$isoDayOfWeek", |p| (p.dow + 6) % 7 + 1)
}

/// Formats a UTC instant with `$dateToString` specifiers at a fixed offset (minutes).
pub fn format_date(ms: i64, format: &str, offset_min: i64) -> String {
    let tz = Tz {
        std_ms: offset_min * 60_000,
        rule: Rule::None,
    };
    format_parts(&parts(ms, &tz), format).unwrap_or_default()
}

fn format_parts(p: &Parts, format: &str) -> Result<String, AggError> {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            return Err(agg_err!(18535, "Unmatched '%' at end of format string"));
        };
        let off_min = p.offset_ms / 60_000;
        let s = match spec {
            'd' => format!("{:02}", p.day),
            'G' => format!("{:04}", iso_week_of(p).0),
            'H' => format!("{:02}", p.hour),
            'j' => format!("{:03}", p.doy),
            'L' => format!("{:03}", p.ms),
            'm' => format!("{:02}", p.month),
            'M' => format!("{:02}", p.minute),
            'S' => format!("{:02}", p.second),
            'w' => format!("{}", p.dow + 1),
            'u' => format!("{}", (p.dow + 6) % 7 + 1),
            'U' => format!("{:02}", (p.doy - 1 + 7 - p.dow) / 7),
            'V' => format!("{:02}", iso_week_of(p).1),
            'Y' => format!("{:04}", p.year),
            'z' => format!(
                "{}{:02}{:02}",
                if off_min < 0 { '-' } else { '+' },
                off_min.abs() / 60,
                off_min.abs() % 60
            ),
            'Z' => format!("{off_min}"),
            'b' => MONTHS
                .get(p.month as usize - 1)
                .map_or(String::new(), |m| m.get(..3).unwrap_or(m).to_string()),
            'B' => MONTHS
                .get(p.month as usize - 1)
                .map_or(String::new(), |m| m.to_string()),
            '%' => "%".into(),
            other => {
                return Err(agg_err!(
                    18536,
                    "Invalid format character '%{other}' in format string"
                ))
            }
        };
        out.push_str(&s);
    }
    Ok(out)
}

pub fn date_to_string(args: Vec<Value>, _: &Env<'_>) -> R {
    let date = args.first().unwrap_or(&Value::Undefined);
    let Some(ms) = date_ms(date, "$dateToString")? else {
        return Ok(match args.get(3) {
            Some(Value::Undefined) | None => Value::Null,
            Some(v) => v.clone(),
        });
    };
    let format = match args.get(1) {
        Some(Value::String(f)) => f.clone(),
        Some(Value::Undefined) | None => "%Y-%m-%dT%H:%M:%S.%LZ".into(),
        Some(v) if is_nullish(v) => return Ok(Value::Null),
        Some(v) => {
            return Err(agg_err!(
                18533,
                "$dateToString requires that 'format' be a string, found: {} with value {}",
                type_name(v),
                server_text(v)
            ))
        }
    };
    let Some(tz) = parse_tz(args.get(2).unwrap_or(&Value::Undefined))? else {
        return Ok(Value::Null);
    };
    Ok(Value::String(format_parts(&parts(ms, &tz), &format)?))
}

/// Date strings `$toDate` and `$dateFromString` accept without a format.
pub fn parse_date_string(s: &str) -> Option<i64> {
    if let Some(ms) = parse_iso_date(s) {
        return Some(ms);
    }
    parse_with_format(s, "%Y-%m-%dT%H:%M:%S.%L%z").or_else(|| parse_with_format(s, "%Y/%m/%d"))
}

fn has_zone(s: &str) -> bool {
    let t = s.trim();
    t.ends_with('Z')
        || t.rfind(['+', '-']).is_some_and(|i| {
            i > 10
                && t.get(i + 1..)
                    .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == ':'))
        })
}

/// Parses `s` by a `$dateFromString` format; the result is UTC unless `%z`/`%Z` is in it.
fn parse_with_format(s: &str, format: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut pos = 0usize;
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms, mut off) =
        (1970i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let num = |pos: &mut usize, max: usize| -> Option<i64> {
        let start = *pos;
        while *pos < b.len() && *pos - start < max && b.get(*pos)?.is_ascii_digit() {
            *pos += 1;
        }
        if *pos == start {
            return None;
        }
        s.get(start..*pos)?.parse().ok()
    };
    let mut f = format.chars();
    while let Some(c) = f.next() {
        if c == '%' {
            match f.next()? {
                'Y' => y = num(&mut pos, 4)?,
                'm' => mo = num(&mut pos, 2)?,
                'd' => d = num(&mut pos, 2)?,
                'H' => h = num(&mut pos, 2)?,
                'M' => mi = num(&mut pos, 2)?,
                'S' => sec = num(&mut pos, 2)?,
                'L' => {
                    let start = pos;
                    let v = num(&mut pos, 3)?;
                    ms = v * 10i64.pow(3u32.saturating_sub((pos - start) as u32));
                }
                'z' | 'Z' => {
                    if b.get(pos) == Some(&b'Z') {
                        pos += 1;
                    } else {
                        let start = pos;
                        pos += 1;
                        while pos < b.len()
                            && (b.get(pos)?.is_ascii_digit() || b.get(pos) == Some(&b':'))
                        {
                            pos += 1;
                        }
                        off = parse_offset(s.get(start..pos)?)?;
                    }
                }
                '%' => {
                    if b.get(pos) != Some(&b'%') {
                        return None;
                    }
                    pos += 1;
                }
                _ => return None,
            }
        } else {
            let mut buf = [0u8; 4];
            let lit = c.encode_utf8(&mut buf).as_bytes();
            if b.get(pos..pos + lit.len())? != lit {
                return None;
            }
            pos += lit.len();
        }
    }
    if pos != b.len()
        || !(1..=12).contains(&mo)
        || d < 1
        || d > i64::from(days_in_month(y, mo as u32))
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let days = civil(y, mo as u32, d as u32);
    Some(days * DAY_MS + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - off)
}

pub fn date_from_string(args: Vec<Value>, _: &Env<'_>) -> R {
    let get = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let s = match get(0) {
        Value::String(s) => s.clone(),
        v if is_nullish(v) => {
            return Ok(match get(4) {
                Value::Undefined => Value::Null,
                v => v.clone(),
            })
        }
        v => {
            let e = agg_err!(
                241,
                "$dateFromString requires that 'dateString' be a string, found: {} with value {}",
                type_name(v),
                server_text(v)
            );
            return on_error(
                get(3),
                AggError {
                    code_name: "ConversionFailure",
                    ..e
                },
            );
        }
    };
    let Some(tz) = parse_tz(get(2))? else {
        return Ok(Value::Null);
    };
    let parsed = match get(1) {
        Value::String(f) => {
            parse_with_format(&s, f).map(|ms| (ms, f.contains("%z") || f.contains("%Z")))
        }
        _ => parse_date_string(&s).map(|ms| (ms, has_zone(&s))),
    };
    match parsed {
        Some((ms, zoned)) => Ok(Value::Date(if zoned { ms } else { tz.to_utc(ms) })),
        None => on_error(
            get(3),
            AggError::new(
                241,
                "ConversionFailure",
                format!("Error parsing date string '{s}'"),
            ),
        ),
    }
}

fn on_error(fallback: &Value, e: AggError) -> R {
    match fallback {
        Value::Undefined => Err(e),
        v => Ok(v.clone()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

fn unit_of(v: &Value, name: &str) -> Result<Option<Unit>, AggError> {
    let s = match v {
        Value::String(s) => s.as_str(),
        v if is_nullish(v) => return Ok(None),
        v => {
            return Err(agg_err!(
                5439013,
                "{name} requires 'unit' to be a string, but got {}",
                type_name(v)
            ))
        }
    };
    Ok(Some(match s {
        "year" => Unit::Year,
        "quarter" => Unit::Quarter,
        "month" => Unit::Month,
        "week" => Unit::Week,
        "day" => Unit::Day,
        "hour" => Unit::Hour,
        "minute" => Unit::Minute,
        "second" => Unit::Second,
        "millisecond" => Unit::Millisecond,
        other => {
            return Err(agg_err!(
                5439014,
                "{name} parameter 'unit' value cannot be recognized as a time unit: {other}"
            ))
        }
    }))
}

fn fixed_ms(u: Unit) -> Option<i64> {
    Some(match u {
        Unit::Week => 7 * DAY_MS,
        Unit::Day => DAY_MS,
        Unit::Hour => 3_600_000,
        Unit::Minute => 60_000,
        Unit::Second => 1000,
        Unit::Millisecond => 1,
        _ => return None,
    })
}

fn add_units(ms: i64, unit: Unit, amount: i64, tz: &Tz) -> Option<i64> {
    let months = match unit {
        Unit::Year => amount.checked_mul(12)?,
        Unit::Quarter => amount.checked_mul(3)?,
        Unit::Month => amount,
        Unit::Day | Unit::Week => {
            // Calendar days in the zone keep the local time of day across DST changes.
            let days = if unit == Unit::Week {
                amount.checked_mul(7)?
            } else {
                amount
            };
            let local = ms.checked_add(tz.offset_at(ms))?;
            return Some(tz.to_utc(local.checked_add(days.checked_mul(DAY_MS)?)?));
        }
        other => return ms.checked_add(amount.checked_mul(fixed_ms(other)?)?),
    };
    let p = parts(ms, tz);
    let total = p
        .year
        .checked_mul(12)?
        .checked_add(i64::from(p.month) - 1)?
        .checked_add(months)?;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    if y.abs() > 300_000_000 {
        return None;
    }
    let d = p.day.min(days_in_month(y, m));
    let local = civil(y, m, d)
        .checked_mul(DAY_MS)?
        .checked_add(p.hour * 3_600_000 + p.minute * 60_000 + p.second * 1000 + p.ms)?;
    Some(tz.to_utc(local))
}

fn date_add_impl(args: &[Value], name: &str, sign: i64) -> R {
    let get = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let Some(ms) = date_ms(get(0), name)? else {
        return Ok(Value::Null);
    };
    let Some(unit) = unit_of(get(1), name)? else {
        return Ok(Value::Null);
    };
    let amount = match get(2) {
        v if is_nullish(v) => return Ok(Value::Null),
        v => as_i64(v).ok_or_else(|| {
            agg_err!(
                5166405,
                "{name} expects integer amount of time units, but got {}",
                server_text(v)
            )
        })?,
    };
    let Some(tz) = parse_tz(get(3))? else {
        return Ok(Value::Null);
    };
    match add_units(ms, unit, amount.saturating_mul(sign), &tz) {
        Some(r) => Ok(Value::Date(r)),
        None => Err(agg_err!(5166406, "{name} overflowed")),
    }
}

/// Adds `amount` of a named unit to a UTC date (for `$densify` over dates).
pub fn add_in_utc(ms: i64, unit: &str, amount: i64) -> Option<i64> {
    let u = unit_of(&Value::String(unit.to_string()), "$densify")
        .ok()
        .flatten()?;
    add_units(ms, u, amount, &Tz::UTC)
}

pub fn date_add(args: Vec<Value>, _: &Env<'_>) -> R {
    date_add_impl(&args, "$dateAdd", 1)
}

pub fn date_subtract(args: Vec<Value>, _: &Env<'_>) -> R {
    date_add_impl(&args, "$dateSubtract", -1)
}

fn start_of_week(v: &Value) -> Result<i64, AggError> {
    let s = match v {
        Value::Undefined => return Ok(0),
        Value::String(s) => s.to_ascii_lowercase(),
        v => {
            return Err(agg_err!(
                5439015,
                "startOfWeek must be a string, found {}",
                type_name(v)
            ))
        }
    };
    let days = [
        ["sunday", "sun"],
        ["monday", "mon"],
        ["tuesday", "tue"],
        ["wednesday", "wed"],
        ["thursday", "thu"],
        ["friday", "fri"],
        ["saturday", "sat"],
    ];
    days.iter()
        .position(|names| names.contains(&s.as_str()))
        .map(|i| i as i64)
        .ok_or_else(|| agg_err!(5439016, "unknown time unit value: {s}"))
}

pub fn date_diff(args: Vec<Value>, _: &Env<'_>) -> R {
    let get = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let (Some(a), Some(b)) = (date_ms(get(0), "$dateDiff")?, date_ms(get(1), "$dateDiff")?) else {
        return Ok(Value::Null);
    };
    let Some(unit) = unit_of(get(2), "$dateDiff")? else {
        return Ok(Value::Null);
    };
    let Some(tz) = parse_tz(get(3))? else {
        return Ok(Value::Null);
    };
    let sow = start_of_week(get(4))?;
    let (pa, pb) = (parts(a, &tz), parts(b, &tz));
    let r = match unit {
        Unit::Year => pb.year - pa.year,
        Unit::Quarter => {
            (pb.year * 4 + (i64::from(pb.month) - 1) / 3)
                - (pa.year * 4 + (i64::from(pa.month) - 1) / 3)
        }
        Unit::Month => (pb.year * 12 + i64::from(pb.month)) - (pa.year * 12 + i64::from(pa.month)),
        Unit::Week => {
            let wk = |days: i64| (days - 3 - sow).div_euclid(7);
            wk(pb.days) - wk(pa.days)
        }
        Unit::Day => pb.days - pa.days,
        other => {
            let unit_ms = fixed_ms(other).unwrap_or(1);
            let la = a.saturating_add(pa.offset_ms);
            let lb = b.saturating_add(pb.offset_ms);
            lb.div_euclid(unit_ms)
                .saturating_sub(la.div_euclid(unit_ms))
        }
    };
    Ok(Value::Int64(r))
}

pub fn date_trunc(args: Vec<Value>, _: &Env<'_>) -> R {
    let get = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let Some(ms) = date_ms(get(0), "$dateTrunc")? else {
        return Ok(Value::Null);
    };
    let Some(unit) = unit_of(get(1), "$dateTrunc")? else {
        return Ok(Value::Null);
    };
    let bin = match get(2) {
        Value::Undefined => 1,
        v if is_nullish(v) => return Ok(Value::Null),
        v => match as_i64(v) {
            Some(n) if n > 0 => n,
            _ => {
                return Err(agg_err!(
                    5439017,
                    "$dateTrunc requires 'binSize' to be a 64-bit integer greater than 0, but got value '{}' of type {}",
                    server_text(v),
                    type_name(v)
                ))
            }
        },
    };
    let Some(tz) = parse_tz(get(3))? else {
        return Ok(Value::Null);
    };
    let sow = start_of_week(get(4))?;
    let p = parts(ms, &tz);
    let local = ms.saturating_add(p.offset_ms);
    // Bins count from 2000-01-01T00:00:00 in the zone, as the server's reference point.
    let reference_days = civil(2000, 1, 1);
    let out_local = match unit {
        Unit::Year | Unit::Quarter | Unit::Month => {
            let per: i64 = match unit {
                Unit::Year => 12,
                Unit::Quarter => 3,
                _ => 1,
            };
            let per = per.saturating_mul(bin);
            let months = (p.year - 2000) * 12 + i64::from(p.month) - 1;
            let m = months.div_euclid(per).saturating_mul(per);
            let (y, mo) = (2000 + m.div_euclid(12), (m.rem_euclid(12) + 1) as u32);
            civil(y, mo, 1).saturating_mul(DAY_MS)
        }
        Unit::Week => {
            // The first `startOfWeek` day on or after the reference.
            let first = reference_days + (sow - weekday(reference_days)).rem_euclid(7);
            let span = bin.saturating_mul(7);
            let weeks = (p.days - first).div_euclid(span).saturating_mul(span);
            first.saturating_add(weeks).saturating_mul(DAY_MS)
        }
        other => {
            let size = fixed_ms(other).unwrap_or(1).saturating_mul(bin);
            let base = reference_days * DAY_MS;
            base + (local - base).div_euclid(size) * size
        }
    };
    Ok(Value::Date(tz.to_utc(out_local)))
}

pub fn date_to_parts(args: Vec<Value>, _: &Env<'_>) -> R {
    let get = |i: usize| args.get(i).unwrap_or(&Value::Undefined);
    let Some(ms) = date_ms(get(0), "$dateToParts")? else {
        return Ok(Value::Null);
    };
    let Some(tz) = parse_tz(get(1))? else {
        return Ok(Value::Null);
    };
    let p = parts(ms, &tz);
    let mut d = Document::default();
    let mut put = |k: &str, v: i64| {
        d.insert(k.into(), int_or_long(v));
    };
    if super::expr::truthy(get(2)) {
        let (y, w) = iso_week_of(&p);
        put("isoWeekYear", y);
        put("isoWeek", w);
        put("isoDayOfWeek", (p.dow + 6) % 7 + 1);
    } else {
        put("year", p.year);
        put("month", i64::from(p.month));
        put("day", i64::from(p.day));
    }
    put("hour", p.hour);
    put("minute", p.minute);
    put("second", p.second);
    put("millisecond", p.ms);
    Ok(Value::Document(d))
}

pub fn date_from_parts(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut n = [0i64; 10];
    let defaults = [1970, 1, 1, 0, 0, 0, 0, 1970, 1, 1];
    for (i, slot) in n.iter_mut().enumerate() {
        *slot = match args.get(i).unwrap_or(&Value::Undefined) {
            Value::Undefined => defaults.get(i).copied().unwrap_or(0),
            v if is_nullish(v) => return Ok(Value::Null),
            v => as_i64(v).ok_or_else(|| {
                agg_err!(
                    40515,
                    "'{}' must evaluate to an integer, found {} with value {}",
                    [
                        "year",
                        "month",
                        "day",
                        "hour",
                        "minute",
                        "second",
                        "millisecond",
                        "isoWeekYear",
                        "isoWeek",
                        "isoDayOfWeek"
                    ]
                    .get(i)
                    .copied()
                    .unwrap_or("part"),
                    type_name(v),
                    server_text(v)
                )
            })?,
        };
    }
    let iso = args.get(7).is_some_and(|v| !matches!(v, Value::Undefined));
    let Some(tz) = parse_tz(args.get(10).unwrap_or(&Value::Undefined))? else {
        return Ok(Value::Null);
    };
    let clamp = |x: i64| x.clamp(-1_000_000, 1_000_000);
    let days = if iso {
        // Day 1 of ISO week 1 is the Monday of the week holding January 4th.
        let jan4 = civil(clamp(n[7]), 1, 4);
        let monday = jan4 - (weekday(jan4) + 6) % 7;
        monday + (clamp(n[8]) - 1) * 7 + (clamp(n[9]) - 1)
    } else {
        let total = clamp(n[0]) * 12 + clamp(n[1]) - 1;
        let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        civil(y, m, 1) + clamp(n[2]) - 1
    };
    let local = days
        .saturating_mul(DAY_MS)
        .saturating_add(clamp(n[3]) * 3_600_000)
        .saturating_add(clamp(n[4]) * 60_000)
        .saturating_add(clamp(n[5]) * 1000)
        .saturating_add(clamp(n[6]));
    Ok(Value::Date(tz.to_utc(local)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_zones() {
        // 2014-01-01T08:15:39.736Z, the manual's $dateToString example.
        let ms = 1_388_564_139_736;
        let cases: &[(&str, &str, &str)] = &[
            ("%Y-%m-%d", "UTC", "2014-01-01"),
            ("%H:%M:%S:%L%z", "UTC", "08:15:39:736+0000"),
            ("%H:%M:%S:%L%z", "America/New_York", "03:15:39:736-0500"),
            ("%Z", "+04:30", "270"),
            ("%j %w %u %U %V %G", "UTC", "001 4 3 00 01 2014"),
        ];
        for (f, tz, want) in cases {
            let tz = parse_tz(&Value::String((*tz).into()))
                .ok()
                .flatten()
                .unwrap_or(Tz::UTC);
            assert_eq!(
                format_parts(&parts(ms, &tz), f).ok().as_deref(),
                Some(*want),
                "{f}"
            );
        }
        // Summer time in New York and Paris.
        let july = 1_404_201_600_000; // 2014-07-01T08:00:00Z
        let ny = parse_tz(&Value::String("America/New_York".into()))
            .ok()
            .flatten()
            .unwrap_or(Tz::UTC);
        assert_eq!(ny.offset_at(july), -4 * 3_600_000);
        let paris = parse_tz(&Value::String("Europe/Paris".into()))
            .ok()
            .flatten()
            .unwrap_or(Tz::UTC);
        assert_eq!(paris.offset_at(july), 2 * 3_600_000);
        assert!(parse_tz(&Value::String("Mars/Olympus".into())).is_err());
    }

    #[test]
    fn parses_formats() {
        assert_eq!(
            parse_with_format("2017-02-08", "%Y-%m-%d"),
            Some(1_486_512_000_000)
        );
        assert_eq!(
            parse_with_format("08/02/2017", "%d/%m/%Y"),
            Some(1_486_512_000_000)
        );
        assert_eq!(parse_with_format("2017-02-30", "%Y-%m-%d"), None);
    }
}
