//! BSON-like values: the types a document can hold, their comparison order, and relaxed
//! Extended JSON v2 output.

use std::cell::Cell;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use indexmap::IndexMap;

pub use super::decimal::Decimal128;

/// A document keeps its fields in insertion order, as BSON does: `{b: 1, a: 2}` prints and
/// compares with `b` first.
pub type Document = IndexMap<String, Value, FieldHash>;

/// Field lookups run once per field per document in every query, and SipHash (the default,
/// built to resist hash flooding from untrusted peers) costs more than the rest of a field
/// comparison. A student can only slow their own tab, so a fast multiplicative hash (the
/// Fx hash used inside rustc) serves better here.
pub type FieldHash = BuildHasherDefault<FieldHasher>;

#[derive(Debug, Default, Clone, Copy)]
pub struct FieldHasher(u64);

impl Hasher for FieldHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        // The table picks buckets by the low bits, where a multiplicative hash mixes least:
        // keys that differ only in high bytes of a word (encoded integers) would share a few
        // buckets. Rotating brings the well-mixed high bits down (as rustc-hash 2 does).
        self.0.rotate_left(26)
    }
}

/// Up to this many fields, a document's field is found by comparing names in order.
const SCAN_MAX: usize = 12;

/// A document's field by name. Documents students build have a handful of fields, and
/// comparing a few key lengths (then bytes) costs less than hashing the name and probing
/// the table; large documents still go through the hash index. Every hot read of a field
/// (filters, field paths, sort keys, group keys) goes through here.
#[inline]
pub fn field<'d>(doc: &'d Document, name: &str) -> Option<&'d Value> {
    if doc.len() <= SCAN_MAX {
        doc.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
    } else {
        doc.get(name)
    }
}

/// `field`, trying first the position where the same name was found last time: a scan
/// reads documents of one shape, where the hint skips comparing the names before it (whose
/// bytes live in allocations of their own, so each comparison is a memory access). `hint` is
/// only ever a guess; the name is always checked.
#[inline]
pub fn field_hinted<'d>(doc: &'d Document, name: &str, hint: &Cell<usize>) -> Option<&'d Value> {
    if let Some((k, v)) = doc.get_index(hint.get()) {
        if k.as_str() == name {
            return Some(v);
        }
    }
    let (at, v) = if doc.len() <= SCAN_MAX {
        doc.iter()
            .enumerate()
            .find(|(_, (k, _))| k.as_str() == name)
            .map(|(at, (_, v))| (at, v))?
    } else {
        let (at, _, v) = doc.get_full(name)?;
        (at, v)
    };
    hint.set(at);
    Some(v)
}

/// A 12-byte ObjectId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectId(pub [u8; 12]);

impl ObjectId {
    /// Parses the 24-hex-digit form; `None` for anything else.
    pub fn parse_hex(text: &str) -> Option<ObjectId> {
        let bytes = text.as_bytes();
        if bytes.len() != 24 {
            return None;
        }
        let mut out = [0u8; 12];
        for (i, slot) in out.iter_mut().enumerate() {
            let hi = hex_digit(*bytes.get(2 * i)?)?;
            let lo = hex_digit(*bytes.get(2 * i + 1)?)?;
            *slot = hi << 4 | lo;
        }
        Some(ObjectId(out))
    }

    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(24);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Seconds since the epoch held in the first four bytes.
    pub fn timestamp_secs(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Produces ObjectIds the way drivers do (4-byte seconds, 5-byte per-process value, 3-byte
/// counter), but deterministic: the "random" part comes from a fixed seed so that a session
/// replays identically, and the core never touches system randomness.
#[derive(Debug, Clone)]
pub struct ObjectIdGenerator {
    process: [u8; 5],
    counter: u32,
}

impl Default for ObjectIdGenerator {
    fn default() -> Self {
        Self::new(0x6e6f_7371_6c70_6c61)
    }
}

impl ObjectIdGenerator {
    pub fn new(seed: u64) -> Self {
        let a = splitmix64(seed);
        let b = splitmix64(a);
        let p = a.to_be_bytes();
        ObjectIdGenerator {
            process: [p[0], p[1], p[2], p[3], p[4]],
            counter: (b & 0x00ff_ffff) as u32,
        }
    }

    /// The per-process bytes and the counter: what a snapshot keeps, so that ids created
    /// after a reload go on from where the session was.
    pub fn state(&self) -> ([u8; 5], u32) {
        (self.process, self.counter)
    }

    pub fn from_state(process: [u8; 5], counter: u32) -> Self {
        ObjectIdGenerator {
            process,
            counter: counter & 0x00ff_ffff,
        }
    }

    pub fn next(&mut self, now_ms: u64) -> ObjectId {
        let secs = ((now_ms / 1000) & 0xffff_ffff) as u32;
        let c = self.counter & 0x00ff_ffff;
        self.counter = (self.counter + 1) & 0x00ff_ffff;
        let s = secs.to_be_bytes();
        let p = self.process;
        let cb = c.to_be_bytes();
        ObjectId([
            s[0], s[1], s[2], s[3], p[0], p[1], p[2], p[3], p[4], cb[1], cb[2], cb[3],
        ])
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Double(f64),
    Int32(i32),
    Int64(i64),
    String(String),
    Bool(bool),
    Null,
    /// BSON's deprecated undefined (0x06); the shell also uses it for fields mongosh shows
    /// as `undefined` in driver objects (`errInfo: undefined`).
    Undefined,
    ObjectId(ObjectId),
    /// Milliseconds since the epoch (BSON UTC datetime).
    Date(i64),
    Regex {
        pattern: String,
        options: String,
    },
    Array(Vec<Value>),
    Document(Document),
    MinKey,
    MaxKey,
    Decimal128(Decimal128),
    /// BSON's internal timestamp: seconds since the epoch and an ordinal within the second.
    Timestamp {
        t: u32,
        i: u32,
    },
    /// Binary data with its BSON subtype (4 is a UUID).
    Binary {
        subtype: u8,
        bytes: Vec<u8>,
    },
}

/// Position of a type in BSON's cross-type comparison order (MinKey < Null < numbers <
/// String < Object < Array < BinData < ObjectId < Boolean < Date < Timestamp < Regex < MaxKey).
/// Numbers share one rank so that `1`, `NumberLong(1)`, `1.0` and `NumberDecimal('1')` sort
/// together; gaps leave room for Symbol and the deprecated types.
pub fn type_rank(v: &Value) -> u8 {
    match v {
        Value::MinKey => 1,
        Value::Undefined => 3,
        Value::Null => 5,
        Value::Double(_) | Value::Int32(_) | Value::Int64(_) | Value::Decimal128(_) => 10,
        Value::String(_) => 15,
        Value::Document(_) => 20,
        Value::Array(_) => 25,
        Value::Binary { .. } => 30,
        Value::ObjectId(_) => 35,
        Value::Bool(_) => 40,
        Value::Date(_) => 45,
        Value::Timestamp { .. } => 47,
        Value::Regex { .. } => 50,
        Value::MaxKey => 127,
    }
}

impl Value {
    /// The mongosh / `$type` name of the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Double(_) => "double",
            Value::Int32(_) => "int",
            Value::Int64(_) => "long",
            Value::String(_) => "string",
            Value::Bool(_) => "bool",
            Value::Null => "null",
            Value::Undefined => "undefined",
            Value::ObjectId(_) => "objectId",
            Value::Date(_) => "date",
            Value::Regex { .. } => "regex",
            Value::Array(_) => "array",
            Value::Document(_) => "object",
            Value::MinKey => "minKey",
            Value::MaxKey => "maxKey",
            Value::Decimal128(_) => "decimal",
            Value::Timestamp { .. } => "timestamp",
            Value::Binary { .. } => "binData",
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Value::Double(_) | Value::Int32(_) | Value::Int64(_) | Value::Decimal128(_)
        )
    }

    /// The number as a Decimal128 (exactly for integers, to 15 digits for a double, as
    /// MongoDB widens an operand when the other is a decimal).
    pub fn to_decimal(&self) -> Option<Decimal128> {
        match self {
            Value::Decimal128(d) => Some(*d),
            Value::Int32(i) => Some(Decimal128::from_i64(i64::from(*i))),
            Value::Int64(i) => Some(Decimal128::from_i64(*i)),
            Value::Double(x) => Some(Decimal128::from_f64(*x)),
            _ => None,
        }
    }
}

/// Compares two numbers of any numeric type exactly (an Int64 beyond 2^53 is not rounded
/// through f64). NaN sorts below every other number and equals itself, as in MongoDB.
fn compare_numbers(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int32(x), Value::Int32(y)) => x.cmp(y),
        (Value::Int32(x), Value::Int64(y)) => i64::from(*x).cmp(y),
        (Value::Int64(x), Value::Int32(y)) => x.cmp(&i64::from(*y)),
        (Value::Int64(x), Value::Int64(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => compare_f64(*x, *y),
        (Value::Double(x), Value::Int32(y)) => compare_f64(*x, f64::from(*y)),
        (Value::Int32(x), Value::Double(y)) => compare_f64(f64::from(*x), *y),
        (Value::Double(x), Value::Int64(y)) => compare_f64_i64(*x, *y),
        (Value::Int64(x), Value::Double(y)) => compare_f64_i64(*y, *x).reverse(),
        (Value::Decimal128(x), Value::Decimal128(y)) => x.cmp_decimal(y),
        (Value::Decimal128(x), Value::Double(y)) => x.cmp_f64(*y),
        (Value::Double(x), Value::Decimal128(y)) => y.cmp_f64(*x).reverse(),
        (Value::Decimal128(x), Value::Int32(y)) => x.cmp_i64(i64::from(*y)),
        (Value::Int32(x), Value::Decimal128(y)) => y.cmp_i64(i64::from(*x)).reverse(),
        (Value::Decimal128(x), Value::Int64(y)) => x.cmp_i64(*y),
        (Value::Int64(x), Value::Decimal128(y)) => y.cmp_i64(*x).reverse(),
        _ => Ordering::Equal,
    }
}

fn compare_f64(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // -0.0 == 0.0 here, as in MongoDB.
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn compare_f64_i64(x: f64, y: i64) -> Ordering {
    if x.is_nan() {
        return Ordering::Less;
    }
    // 2^63 as f64; every f64 at or beyond it is outside i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if x >= LIMIT {
        return Ordering::Greater;
    }
    if x < -LIMIT {
        return Ordering::Less;
    }
    let t = x.trunc();
    let ti = t as i64;
    match ti.cmp(&y) {
        Ordering::Equal => compare_f64(x - t, 0.0),
        other => other,
    }
}

/// Total order over values as MongoDB sorts and compares them.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    // An index seek compares strings dozens of times: straight to their bytes.
    if let (Value::String(x), Value::String(y)) = (a, b) {
        return compare_bytes(x.as_bytes(), y.as_bytes());
    }
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        _ if a.is_number() => compare_numbers(a, b),
        (Value::Document(x), Value::Document(y)) => compare_documents(x, y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let c = compare(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::ObjectId(x), Value::ObjectId(y)) => x.0.cmp(&y.0),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Timestamp { t: t1, i: i1 }, Value::Timestamp { t: t2, i: i2 }) => {
            t1.cmp(t2).then_with(|| i1.cmp(i2))
        }
        // BinData orders by length, then subtype, then bytes.
        (
            Value::Binary {
                subtype: s1,
                bytes: b1,
            },
            Value::Binary {
                subtype: s2,
                bytes: b2,
            },
        ) => b1
            .len()
            .cmp(&b2.len())
            .then_with(|| s1.cmp(s2))
            .then_with(|| b1.cmp(b2)),
        (
            Value::Regex {
                pattern: p1,
                options: o1,
            },
            Value::Regex {
                pattern: p2,
                options: o2,
            },
        ) => p1.cmp(p2).then_with(|| o1.cmp(o2)),
        _ => Ordering::Equal,
    }
}

/// `a.cmp(b)`, eight bytes at a time: the wasm build's `memcmp` goes byte by byte, and keys
/// next to each other in an index (emails, names) share their first bytes.
fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let (mut a, mut b) = (a, b);
    while let (Some((x, rest_a)), Some((y, rest_b))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return u64::from_be_bytes(*x).cmp(&u64::from_be_bytes(*y));
        }
        a = rest_a;
        b = rest_b;
    }
    a.cmp(b)
}

/// Documents compare field by field: first the field's type rank, then its name, then its
/// value; a document that runs out of fields first is smaller.
fn compare_documents(x: &Document, y: &Document) -> Ordering {
    for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
        let c = type_rank(va)
            .cmp(&type_rank(vb))
            .then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
            .then_with(|| compare(va, vb));
        if c != Ordering::Equal {
            return c;
        }
    }
    x.len().cmp(&y.len())
}

/// Equality as the query language sees it: numbers equal across types (`1 == 1.0 ==
/// NumberLong(1)`), documents equal only with the same fields in the same order.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    type_rank(a) == type_rank(b) && compare(a, b) == Ordering::Equal
}

/// JavaScript's `Number.prototype.toString()` for a double: shortest round-trip digits,
/// plain notation for 1e-7 <= |x| < 1e21, exponent notation (`1e+21`, `1.5e-7`) otherwise.
/// mongosh prints every Double and Int32 this way, since the driver hands them to JS as numbers.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    // `{:e}` gives the shortest round-trip digits as d.ddde±x.
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let n = exp + 1; // position of the decimal point relative to the digits
    let k = digits.len() as i32;
    let body = if n > -6 && n <= 0 {
        format!("0.{}{}", "0".repeat((-n) as usize), digits)
    } else if n > 0 && n <= 21 {
        if k <= n {
            format!("{}{}", digits, "0".repeat((n - k) as usize))
        } else {
            format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
        }
    } else {
        let e = n - 1;
        let esign = if e < 0 { "-" } else { "+" };
        if k == 1 {
            format!("{digits}e{esign}{}", e.abs())
        } else {
            format!("{}.{}e{esign}{}", &digits[..1], &digits[1..], e.abs())
        }
    };
    format!("{sign}{body}")
}

/// Days since 1970-01-01 for a proleptic Gregorian date (inverse of
/// `clock::civil_from_days`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2024-01-01T00:00:00.000Z` for any millisecond timestamp, including ones before 1970
/// (which `clock::format_iso8601` does not take) and beyond year 9999 (as `+010000-…`).
pub fn iso_date(ms: i64) -> String {
    if ms >= 0 {
        return crate::clock::format_iso8601(ms as u64);
    }
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::clock::civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y < 0 {
        format!("-{:06}", -y)
    } else {
        format!("+{y:06}")
    };
    format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses the date strings `ISODate()` and `new Date()` accept: `YYYY-MM-DD`, optionally
/// followed by `T` or a space, `HH:MM[:SS[.fff]]` and `Z` or `±HH:MM`. Times without a zone
/// are taken as UTC, which is the sandbox's time zone.
pub fn parse_iso_date(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(0, 4)?;
    let mut pos = 4;
    let (mut month, mut day) = (1, 1);
    if s.get(pos) == Some(&b'-') {
        month = num(pos + 1, 2)?;
        pos += 3;
        if s.get(pos) == Some(&b'-') {
            day = num(pos + 1, 2)?;
            pos += 3;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0);
    let mut offset_min = 0i64;
    if matches!(s.get(pos), Some(b'T' | b't' | b' ')) {
        h = num(pos + 1, 2)?;
        if s.get(pos + 3) != Some(&b':') {
            return None;
        }
        mi = num(pos + 4, 2)?;
        pos += 6;
        if s.get(pos) == Some(&b':') {
            sec = num(pos + 1, 2)?;
            pos += 3;
            if s.get(pos) == Some(&b'.') {
                pos += 1;
                let start = pos;
                while s.get(pos).is_some_and(u8::is_ascii_digit) {
                    pos += 1;
                }
                let frac = s.get(start..pos)?;
                if frac.is_empty() {
                    return None;
                }
                let mut value = 0i64;
                for (i, digit) in frac.iter().take(3).enumerate() {
                    value += i64::from(digit - b'0') * [100, 10, 1][i];
                }
                ms = value;
            }
        }
        match s.get(pos) {
            Some(b'Z' | b'z') => pos += 1,
            Some(sign @ (b'+' | b'-')) => {
                let oh = num(pos + 1, 2)?;
                let mut next = pos + 3;
                if s.get(next) == Some(&b':') {
                    next += 1;
                }
                let om = num(next, 2)?;
                offset_min = (oh * 60 + om) * if *sign == b'-' { -1 } else { 1 };
                pos = next + 2;
            }
            _ => {}
        }
    }
    if pos != s.len() || h > 24 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    // Reject 2024-02-30 and friends rather than rolling them over.
    if crate::clock::civil_from_days(days) != (year, month as u32, day as u32) {
        return None;
    }
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Extended JSON and `Binary.createFromBase64` write it.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let b = [byte(0), byte(1), byte(2)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(char::from(BASE64[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace not allowed); `None` if malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in body.bytes() {
        let v = BASE64.iter().position(|b| *b == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

/// Parses a UUID's 32 hex digits, with or without its four dashes.
pub fn parse_uuid(text: &str) -> Option<Vec<u8>> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    let dashed = text.len() == 36;
    if hex.len() != 32 || !(dashed || text.len() == 32) {
        return None;
    }
    if dashed
        && [8, 13, 18, 23]
            .iter()
            .any(|&i| text.as_bytes().get(i) != Some(&b'-'))
    {
        return None;
    }
    hex.chunks(2)
        .map(|pair| Some(hex_digit(*pair.first()?)? << 4 | hex_digit(*pair.get(1)?)?))
        .collect()
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` for 16 bytes.
pub fn format_uuid(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The value an Extended JSON wrapper object stands for (canonical or relaxed, v2, plus the
/// legacy `{"$binary": "…", "$type": "…"}`): `None` when the object is a plain document,
/// `Some(Err)` when it is a malformed wrapper. Numbers in `$numberInt`/`$numberLong`/
/// `$numberDouble` come back as JS numbers, as mongosh's `EJSON.parse` (relaxed) returns them.
pub fn from_ejson_wrapper(
    o: &serde_json::Map<String, serde_json::Value>,
) -> Option<Result<Value, String>> {
    use serde_json::Value as J;
    let (key, inner) = o.iter().next()?;
    let bad = |what: &str| Some(Err(format!("Invalid Extended JSON {what}")));
    let text = |j: &J| j.as_str().map(str::to_string);
    if o.len() == 2 && key == "$binary" {
        // Legacy form: {"$binary": base64, "$type": hex}.
        let (Some(b64), Some(t)) = (text(inner), o.get("$type").and_then(text)) else {
            return bad("$binary");
        };
        return Some(match (base64_decode(&b64), u8::from_str_radix(&t, 16)) {
            (Some(bytes), Ok(subtype)) => Ok(Value::Binary { subtype, bytes }),
            _ => Err("Invalid Extended JSON $binary".into()),
        });
    }
    if o.len() != 1 || !key.starts_with('$') {
        return None;
    }
    Some(Ok(match (key.as_str(), inner) {
        ("$oid", J::String(h)) => match ObjectId::parse_hex(h) {
            Some(oid) => Value::ObjectId(oid),
            None => return bad("$oid"),
        },
        ("$date", J::String(iso)) => match parse_iso_date(iso) {
            Some(ms) => Value::Date(ms),
            None => return bad("$date"),
        },
        ("$date", J::Number(n)) => Value::Date(n.as_i64().unwrap_or(0)),
        ("$date", J::Object(l)) => match l
            .get("$numberLong")
            .and_then(text)
            .and_then(|t| t.parse().ok())
        {
            Some(ms) => Value::Date(ms),
            None => return bad("$date"),
        },
        ("$numberInt" | "$numberLong" | "$numberDouble", J::String(t)) => {
            let x = match t.as_str() {
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                "NaN" => f64::NAN,
                t => match t.parse::<f64>() {
                    Ok(x) => x,
                    Err(_) => return bad(key),
                },
            };
            number_value(x)
        }
        ("$numberDecimal", J::String(t)) => match Decimal128::parse(t) {
            Ok(d) => Value::Decimal128(d),
            Err(_) => return bad("$numberDecimal"),
        },
        ("$timestamp", J::Object(ts)) => {
            let part = |k: &str| {
                ts.get(k)
                    .and_then(J::as_u64)
                    .and_then(|x| u32::try_from(x).ok())
            };
            match (part("t"), part("i")) {
                (Some(t), Some(i)) => Value::Timestamp { t, i },
                _ => return bad("$timestamp"),
            }
        }
        ("$binary", J::Object(b)) => {
            let bytes = b
                .get("base64")
                .and_then(text)
                .and_then(|t| base64_decode(&t));
            let subtype = b
                .get("subType")
                .and_then(text)
                .and_then(|t| u8::from_str_radix(&t, 16).ok());
            match (bytes, subtype) {
                (Some(bytes), Some(subtype)) => Value::Binary { subtype, bytes },
                _ => return bad("$binary"),
            }
        }
        ("$uuid", J::String(u)) => match parse_uuid(u) {
            Some(bytes) => Value::Binary { subtype: 4, bytes },
            None => return bad("$uuid"),
        },
        ("$regularExpression", J::Object(r)) => match (
            r.get("pattern").and_then(text),
            r.get("options").and_then(text),
        ) {
            (Some(pattern), Some(options)) => Value::Regex { pattern, options },
            _ => return bad("$regularExpression"),
        },
        ("$minKey", _) => Value::MinKey,
        ("$maxKey", _) => Value::MaxKey,
        ("$undefined", _) => Value::Undefined,
        _ => return None,
    }))
}

/// A JS number as the driver stores it: Int32 when integral and in range, else Double.
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0
        && n >= f64::from(i32::MIN)
        && n <= f64::from(i32::MAX)
        && !(n == 0.0 && n.is_sign_negative())
    {
        Value::Int32(n as i32)
    } else {
        Value::Double(n)
    }
}

pub use super::ejson::json_string;
use super::ejson::Ejson;

/// Relaxed Extended JSON v2, on one line, with `": "` and `", "` separators.
pub fn to_relaxed_ejson(v: &Value) -> String {
    let mut w = Ejson::default();
    w.value(v);
    w.finish()
}

pub fn write_ejson(out: &mut String, v: &Value) {
    let mut w = Ejson::default();
    w.value(v);
    w.finish_into(out);
}

pub fn write_ejson_doc(out: &mut String, doc: &Document) {
    let mut w = Ejson::default();
    w.doc(doc);
    w.finish_into(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings order by their UTF-8 bytes, whatever their lengths and wherever they differ
    /// (within the first eight bytes, past them, or only in length).
    #[test]
    fn strings_compare_as_their_bytes() {
        let words = [
            "",
            "a",
            "ab",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefgh\0",
            "abcdefghabcdefgh",
            "abcdefghabcdefgz",
            "abcdefghabcdefgh1",
            "user10@example.com",
            "user1@example.com",
            "user100@example.com",
            "é",
            "e\u{301}",
            "\u{ff}\u{ff}",
            "zzzzzzzzzzzzzzzzzzzz",
            "Z",
        ];
        for a in words {
            for b in words {
                let (x, y) = (Value::String(a.into()), Value::String(b.into()));
                assert_eq!(
                    compare(&x, &y),
                    a.as_bytes().cmp(b.as_bytes()),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    fn doc_of(names: &[&str]) -> Document {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), Value::Int32(i as i32)))
            .collect()
    }

    #[test]
    fn hinted_field_reads_what_field_reads_whatever_the_hint() {
        // One hint carried across documents of changing shapes, as a scan carries it:
        // the same name at other positions, absent, among more fields than the linear
        // scan handles, and same-length names at the hinted position.
        let long: Vec<String> = (0..20).map(|i| format!("f{i:02}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let shapes: &[&[&str]] = &[
            &["_id", "name", "age", "city"],
            &["city", "age", "_id"],
            &["_id", "cite", "citz", "city"],
            &[],
            &["age"],
            &long,
            &["_id", "name", "age", "city"],
        ];
        for name in ["city", "age", "_id", "f13", "missing", ""] {
            let hint = Cell::new(0);
            for shape in shapes {
                let d = doc_of(shape);
                assert_eq!(
                    field_hinted(&d, name, &hint),
                    field(&d, name),
                    "{name} in {shape:?}"
                );
            }
        }
        let hint = Cell::new(usize::MAX);
        assert_eq!(
            field_hinted(&doc_of(&["a"]), "a", &hint),
            Some(&Value::Int32(0))
        );
    }

    #[test]
    fn js_number_matches_javascript() {
        let cases: &[(f64, &str)] = &[
            (5.0, "5"),
            (-5.0, "-5"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (123456.789, "123456.789"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (-0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (3.25, "3.25"),
            (2147483648.0, "2147483648"),
        ];
        for (x, want) in cases {
            assert_eq!(js_number(*x), *want, "{x}");
        }
    }

    #[test]
    fn integral_doubles_keep_their_point() {
        for (x, want) in [(-0.0, "0.0"), (3.0, "3.0"), (-42.0, "-42.0"), (2.5, "2.5")] {
            assert_eq!(to_relaxed_ejson(&Value::Double(x)), want);
        }
    }

    #[test]
    fn numbers_compare_across_types() {
        use Value::*;
        assert_eq!(compare(&Int32(1), &Double(1.0)), Ordering::Equal);
        assert_eq!(compare(&Int64(2), &Double(1.5)), Ordering::Greater);
        assert_eq!(compare(&Double(f64::NAN), &Int32(-100)), Ordering::Less);
        assert_eq!(
            compare(
                &Int64(9_007_199_254_740_993),
                &Double(9_007_199_254_740_992.0)
            ),
            Ordering::Greater
        );
        assert!(values_equal(&Int64(7), &Int32(7)));
        let dec =
            |s: &str| Decimal128(super::Decimal128::parse(s).unwrap_or(super::Decimal128::NaN));
        assert!(values_equal(&dec("7.00"), &Int32(7)));
        assert!(values_equal(&dec("2.5"), &Double(2.5)));
        assert_eq!(compare(&dec("0.1"), &Double(0.1)), Ordering::Less);
        assert_eq!(
            compare(&dec("NaN"), &Double(f64::NEG_INFINITY)),
            Ordering::Less
        );
        assert_eq!(
            compare(&Int64(i64::MAX), &dec("9223372036854775808")),
            Ordering::Less
        );
    }

    #[test]
    fn type_order_is_bson_order() {
        use Value::*;
        let ordered = [
            MinKey,
            Null,
            Int32(100),
            String("a".into()),
            Document(super::Document::default()),
            Array(vec![]),
            Binary {
                subtype: 0,
                bytes: vec![9; 4],
            },
            Binary {
                subtype: 4,
                bytes: vec![0; 5],
            },
            ObjectId(super::ObjectId([0; 12])),
            Bool(false),
            Date(0),
            Timestamp { t: 0, i: 5 },
            Timestamp { t: 1, i: 0 },
            Regex {
                pattern: "a".into(),
                options: std::string::String::new(),
            },
            MaxKey,
        ];
        for w in ordered.windows(2) {
            assert_eq!(compare(&w[0], &w[1]), Ordering::Less, "{w:?}");
        }
    }

    #[test]
    fn documents_compare_by_field_order() {
        let mut a = Document::default();
        a.insert("a".into(), Value::Int32(1));
        a.insert("b".into(), Value::Int32(2));
        let mut b = Document::default();
        b.insert("b".into(), Value::Int32(2));
        b.insert("a".into(), Value::Int32(1));
        assert!(!values_equal(
            &Value::Document(a.clone()),
            &Value::Document(b)
        ));
        assert!(values_equal(
            &Value::Document(a.clone()),
            &Value::Document(a)
        ));
    }

    #[test]
    fn iso_dates_round_trip() {
        let cases: &[(&str, i64)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("2024-01-01", 1_704_067_200_000),
            ("2024-01-01T00:00:00.123Z", 1_704_067_200_123),
            ("2024-01-01T02:00:00+02:00", 1_704_067_200_000),
            ("2024-01-01 00:00", 1_704_067_200_000),
            ("1960-12-24T12:15:30.500Z", -284_643_869_500),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_iso_date(text), Some(*ms), "{text}");
        }
        for bad in [
            "",
            "2024-1",
            "2024-13-01",
            "2024-02-30",
            "x",
            "2024-01-01T25",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
        assert_eq!(iso_date(-284_643_869_500), "1960-12-24T12:15:30.500Z");
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn relaxed_ejson() {
        let mut doc = Document::default();
        doc.insert("i".into(), Value::Int32(1));
        doc.insert("d".into(), Value::Double(1.0));
        doc.insert("l".into(), Value::Int64(5));
        doc.insert("n".into(), Value::Double(f64::NEG_INFINITY));
        doc.insert("o".into(), Value::ObjectId(ObjectId([0xab; 12])));
        doc.insert("t".into(), Value::Date(1_356_351_330_500));
        doc.insert("old".into(), Value::Date(-1));
        doc.insert(
            "r".into(),
            Value::Regex {
                pattern: "^a".into(),
                options: "i".into(),
            },
        );
        doc.insert("s".into(), Value::String("a\"b\n".into()));
        assert_eq!(
            to_relaxed_ejson(&Value::Document(doc)),
            r#"{"i": 1, "d": 1.0, "l": 5, "n": {"$numberDouble": "-Infinity"}, "o": {"$oid": "abababababababababababab"}, "t": {"$date": "2012-12-24T12:15:30.500Z"}, "old": {"$date": {"$numberLong": "-1"}}, "r": {"$regularExpression": {"pattern": "^a", "options": "i"}}, "s": "a\"b\n"}"#
        );
    }

    #[test]
    fn base64_and_uuid_round_trip() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            let text = base64_encode(bytes);
            assert_eq!(base64_decode(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        for bad in ["Zm9v!", "Z", "Zm9vY===", "===="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        let id = "3b241101-e2bb-4255-8caf-4136c566a962";
        let bytes = parse_uuid(id).unwrap_or_default();
        assert_eq!(format_uuid(&bytes), id);
        assert_eq!(parse_uuid(&id.replace('-', "")), Some(bytes));
        for bad in [
            "3b241101e2bb-4255-8caf-4136c566a962-",
            "xyz",
            "3b241101-e2bb-4255-8caf-4136c566a96g",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    #[test]
    fn object_ids_are_time_prefixed_and_distinct() {
        let mut g = ObjectIdGenerator::default();
        let a = g.next(1_700_000_000_123);
        let b = g.next(1_700_000_000_999);
        assert_ne!(a, b);
        assert_eq!(a.timestamp_secs(), 1_700_000_000);
        assert_eq!(&a.0[4..9], &b.0[4..9]);
        assert_eq!(ObjectId::parse_hex(&a.to_hex()), Some(a));
        assert_eq!(ObjectId::parse_hex("zz"), None);
    }
}
