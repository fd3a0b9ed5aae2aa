//! Bitmaps: bit-level commands over strings (Redis's `bitops.c`). Bits are numbered from
//! the most significant bit of the first byte.

use super::string::{self, bytes, MAX_STRING_LEN};
use super::Value;
use crate::redis::object::BITMAP_WRITTEN;
use crate::redis::parts::{require_part, Part};
use crate::redis::reply::{self, Reply};
use crate::redis::util::parse_i64;
use crate::redis::Server;

/// The real server's proto-max-bulk-len: offsets at or past it are rejected as Redis does.
const PROTO_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

/// Port of `getBitOffsetFromArgument`; `bits` enables BITFIELD's `#n` (n times the width).
fn bit_offset(arg: &[u8], bits: Option<u32>) -> Result<u64, Reply> {
    let bad = || Reply::err(BAD_OFFSET);
    let (digits, scale) = match (arg.first(), bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    let n = parse_i64(digits)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(bad)?;
    if n < 0 || (n as u64 >> 3) >= PROTO_MAX_BULK_LEN {
        return Err(bad());
    }
    Ok(n as u64)
}

/// Port of `lookupStringForBitCommand`: the string at `key`, created or zero-grown so that
/// bit `max_bit` exists. Growth past the sandbox's string cap is refused as an offset out
/// of range (the real server would allocate up to 512 MB). Returns whether it grew.
fn string_for_write(server: &mut Server, key: &[u8], max_bit: u64) -> Result<bool, Reply> {
    let need = (max_bit >> 3) as usize + 1;
    if need > MAX_STRING_LEN {
        return Err(Reply::err(BAD_OFFSET));
    }
    let now = server.now;
    match string::lookup(server, key)? {
        Some(entry) => {
            let value = bytes(entry);
            let grew = value.len() < need;
            if grew {
                value.resize(need, 0);
            }
            entry.encoding = Some(BITMAP_WRITTEN);
            Ok(grew)
        }
        None => {
            let db = server.db();
            db.set(key, Value::Str(vec![0; need]), now);
            if let Some(entry) = db.peek(key, now) {
                entry.encoding = Some(BITMAP_WRITTEN);
            }
            Ok(true)
        }
    }
}

fn get_bit(data: &[u8], offset: u64) -> bool {
    data.get((offset >> 3) as usize)
        .is_some_and(|byte| byte & (0x80 >> (offset & 7)) != 0)
}

fn set_bit(data: &mut [u8], offset: u64, on: bool) {
    if let Some(byte) = data.get_mut((offset >> 3) as usize) {
        let mask = 0x80 >> (offset & 7);
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// `bits` bits from `offset`, most significant first; bits past the end read as 0.
fn get_unsigned(data: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |value, j| {
        (value << 1) | u64::from(get_bit(data, offset + j))
    })
}

fn get_signed(data: &[u8], offset: u64, bits: u32) -> i64 {
    let value = get_unsigned(data, offset, bits);
    if bits < 64 && value & (1 << (bits - 1)) != 0 {
        (value | (u64::MAX << bits)) as i64
    } else {
        value as i64
    }
}

fn set_unsigned(data: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1 << (u64::from(bits) - 1 - j)) != 0;
        set_bit(data, offset + j, on);
    }
}

/// Converts a start/end range (bytes, or bits with `BIT`) to an inclusive bit range, with
/// Redis's clamping; `None` when the range is empty.
fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// SETBIT key offset value
pub fn setbit(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    let offset = match bit_offset(&argv[2], None) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let on = match parse_i64(&argv[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Reply::err("bit is not an integer or out of range"),
    };
    if let Err(e) = string_for_write(server, &argv[1], offset) {
        return e;
    }
    let Ok(Some(entry)) = string::lookup(server, &argv[1]) else {
        return Reply::Integer(0);
    };
    let data = bytes(entry);
    let old = get_bit(data, offset);
    set_bit(data, offset, on);
    Reply::Integer(i64::from(old))
}

/// GETBIT key offset
pub fn getbit(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    let offset = match bit_offset(&argv[2], None) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match string::lookup(server, &argv[1]) {
        Ok(Some(entry)) => Reply::Integer(i64::from(get_bit(bytes(entry), offset))),
        Ok(None) => Reply::Integer(0),
        Err(e) => e,
    }
}

/// Parses `BYTE|BIT` after a range.
fn range_unit(arg: Option<&Vec<u8>>) -> Result<bool, Reply> {
    match arg {
        None => Ok(false),
        Some(a) if a.eq_ignore_ascii_case(b"bit") => Ok(true),
        Some(a) if a.eq_ignore_ascii_case(b"byte") => Ok(false),
        Some(_) => Err(reply::error(reply::SYNTAX_ERROR)),
    }
}

/// BITCOUNT key [start [end [BYTE|BIT]]]
pub fn bitcount(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    let range = match argv.len() {
        2 => None,
        // Valkey lets the end default to the last byte.
        3..=5 => {
            let end = argv.get(3).map_or(Some(-1), |e| parse_i64(e));
            let (Some(start), Some(end)) = (parse_i64(&argv[2]), end) else {
                return reply::error(reply::NOT_INTEGER);
            };
            match range_unit(argv.get(4)) {
                Ok(in_bits) => Some((start, end, in_bits)),
                Err(e) => return e,
            }
        }
        _ => return reply::error(reply::SYNTAX_ERROR),
    };
    let data = match string::lookup(server, &argv[1]) {
        Ok(Some(entry)) => bytes(entry),
        Ok(None) => return Reply::Integer(0),
        Err(e) => return e,
    };
    let (first, last) = match range {
        None if data.is_empty() => return Reply::Integer(0),
        None => (0, data.len() as u64 * 8 - 1),
        Some((start, end, _)) if start < 0 && end < 0 && start > end => return Reply::Integer(0),
        Some((start, end, in_bits)) => match bit_range(data.len(), start, end, in_bits) {
            Some(r) => r,
            None => return Reply::Integer(0),
        },
    };
    Reply::Integer(count_bits(data, first, last) as i64)
}

/// Set bits in the inclusive bit range, whole bytes at a time where possible.
fn count_bits(data: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let Some(span) = data.get(first_byte..=last_byte) else {
        return 0;
    };
    let mut count: u64 = span.iter().map(|b| u64::from(b.count_ones())).sum();
    // Take away the bits of the edge bytes that lie outside the range.
    let head = span.first().copied().unwrap_or(0) & !(0xffu8 >> (first & 7));
    let tail = span.last().copied().unwrap_or(0) & (0xffu16 >> ((last & 7) + 1)) as u8;
    count -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    count
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
pub fn bitpos(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    let want = match parse_i64(&argv[2]) {
        Some(0) => false,
        Some(1) => true,
        Some(_) => return Reply::err("The bit argument must be 1 or 0."),
        None => return reply::error(reply::NOT_INTEGER),
    };
    let (start, end, in_bits) = match argv.len() {
        3 => (0, None, false),
        4..=6 => {
            let Some(start) = parse_i64(&argv[3]) else {
                return reply::error(reply::NOT_INTEGER);
            };
            let in_bits = match range_unit(argv.get(5)) {
                Ok(b) => b,
                Err(e) => return e,
            };
            let end = match argv.get(4).map(|e| parse_i64(e)) {
                None => None,
                Some(Some(end)) => Some(end),
                Some(None) => return reply::error(reply::NOT_INTEGER),
            };
            (start, end, in_bits)
        }
        _ => return reply::error(reply::SYNTAX_ERROR),
    };
    let data = match string::lookup(server, &argv[1]) {
        Ok(Some(entry)) => bytes(entry),
        // A missing key is an endless run of zeros.
        Ok(None) => return Reply::Integer(if want { -1 } else { 0 }),
        Err(e) => return e,
    };
    let Some((first, last)) = bit_range(data.len(), start, end.unwrap_or(-1), in_bits) else {
        return Reply::Integer(-1);
    };
    if let Some(pos) = (first..=last).find(|&i| get_bit(data, i) == want) {
        return Reply::Integer(pos as i64);
    }
    // Without an explicit end, the string is taken as padded with zeros on the right.
    match (want, end) {
        (false, None) => Reply::Integer(last as i64 + 1),
        _ => Reply::Integer(-1),
    }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match argv[1].to_ascii_lowercase().as_slice() {
        b"and" => Op::And,
        b"or" => Op::Or,
        b"xor" => Op::Xor,
        b"not" => Op::Not,
        _ => return reply::error(reply::SYNTAX_ERROR),
    };
    if op == Op::Not && argv.len() != 4 {
        return Reply::err("BITOP NOT must be called with a single source key.");
    }
    let mut sources = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        match string::get_string(server, key) {
            Ok(value) => sources.push(value.unwrap_or_default()),
            Err(e) => return e,
        }
    }
    let len = sources.iter().map(Vec::len).max().unwrap_or(0);
    let now = server.now;
    let dest = &argv[2];
    if len == 0 {
        server.db().remove(dest);
        return Reply::Integer(0);
    }
    let byte = |src: &Vec<u8>, i: usize| src.get(i).copied().unwrap_or(0);
    let result: Vec<u8> = (0..len)
        .map(|i| {
            let mut rest = sources.iter().map(|s| byte(s, i));
            let first = rest.next().unwrap_or(0);
            match op {
                Op::And => rest.fold(first, |a, b| a & b),
                Op::Or => rest.fold(first, |a, b| a | b),
                Op::Xor => rest.fold(first, |a, b| a ^ b),
                Op::Not => !first,
            }
        })
        .collect();
    let db = server.db();
    db.set(dest, Value::Str(result), now);
    if let Some(entry) = db.peek(dest, now) {
        entry.encoding = Some(BITMAP_WRITTEN);
    }
    Reply::Integer(len as i64)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Port of `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), Reply> {
    let bad = || {
        Reply::err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    match parse_i64(&arg[1..]) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(bad()),
    }
}

/// BITFIELD key [GET enc off | SET enc off value | INCRBY enc off incr | OVERFLOW WRAP|SAT|FAIL ...]
pub fn bitfield(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    bitfield_generic(server, argv, false)
}

/// BITFIELD_RO key [GET encoding offset ...]
pub fn bitfield_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Bitmap);
    bitfield_generic(server, argv, true)
}

/// Port of `bitfieldGeneric`: every operation is parsed before any runs.
fn bitfield_generic(server: &mut Server, argv: &[Vec<u8>], read_only: bool) -> Reply {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest_write: Option<u64> = None;
    let mut j = 2;
    while j < argv.len() {
        let remaining = argv.len() - j - 1;
        let sub = argv[j].to_ascii_lowercase();
        let needs = match sub.as_slice() {
            b"get" if remaining >= 2 => 2,
            b"set" | b"incrby" if remaining >= 3 => 3,
            b"overflow" if remaining >= 1 => {
                overflow = match argv[j + 1].to_ascii_lowercase().as_slice() {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => return Reply::err("Invalid OVERFLOW type specified"),
                };
                j += 2;
                continue;
            }
            _ => return reply::error(reply::SYNTAX_ERROR),
        };
        let (signed, bits) = match field_type(&argv[j + 1]) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let offset = match bit_offset(&argv[j + 2], Some(bits)) {
            Ok(o) => o,
            Err(e) => return e,
        };
        let op = if needs == 2 {
            FieldOp::Get
        } else {
            let last = offset + u64::from(bits) - 1;
            highest_write = Some(highest_write.map_or(last, |h| h.max(last)));
            let Some(value) = parse_i64(&argv[j + 3]) else {
                return reply::error(reply::NOT_INTEGER);
            };
            if sub.as_slice() == b"set" {
                FieldOp::Set(value)
            } else {
                FieldOp::IncrBy(value)
            }
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += needs + 1;
    }
    let key = &argv[1];
    match highest_write {
        None => {
            if let Err(e) = string::lookup(server, key) {
                return e;
            }
        }
        Some(_) if read_only => {
            return Reply::err("BITFIELD_RO only supports the GET subcommand");
        }
        Some(max_bit) => {
            if let Err(e) = string_for_write(server, key, max_bit) {
                return e;
            }
        }
    }
    let mut empty = Vec::new();
    let data = match string::lookup(server, key) {
        Ok(Some(entry)) => bytes(entry),
        _ => &mut empty,
    };
    let replies = fields.iter().map(|f| run_field(data, f)).collect();
    Reply::Array(replies)
}

fn run_field(data: &mut [u8], f: &Field) -> Reply {
    let (incr, is_set) = match f.op {
        FieldOp::Get => {
            return if f.signed {
                Reply::Integer(get_signed(data, f.offset, f.bits))
            } else {
                Reply::Integer(get_unsigned(data, f.offset, f.bits) as i64)
            };
        }
        FieldOp::Set(v) => (v, true),
        FieldOp::IncrBy(v) => (v, false),
    };
    if f.signed {
        let old = get_signed(data, f.offset, f.bits);
        let (base, by) = if is_set { (incr, 0) } else { (old, incr) };
        let (overflowed, wrapped) = signed_overflow(base, by, f.bits, f.overflow);
        let new = if overflowed {
            wrapped
        } else {
            base.wrapping_add(by)
        };
        if overflowed && f.overflow == Overflow::Fail {
            return Reply::Nil;
        }
        set_unsigned(data, f.offset, f.bits, new as u64);
        Reply::Integer(if is_set { old } else { new })
    } else {
        let old = get_unsigned(data, f.offset, f.bits);
        let (base, by) = if is_set {
            (incr as u64, 0)
        } else {
            (old, incr)
        };
        let (overflowed, wrapped) = unsigned_overflow(base, by, f.bits, f.overflow);
        let new = if overflowed {
            wrapped
        } else {
            base.wrapping_add(by as u64)
        };
        if overflowed && f.overflow == Overflow::Fail {
            return Reply::Nil;
        }
        set_unsigned(data, f.offset, f.bits, new);
        Reply::Integer(if is_set { old as i64 } else { new as i64 })
    }
}

/// Port of `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves the field, and
/// the value WRAP or SAT would store instead.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, policy: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > max_incr) {
        (true, if policy == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < min_incr {
        (true, if policy == Overflow::Sat { 0 } else { wrap() })
    } else {
        (false, 0)
    }
}

/// Port of `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, policy: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        (true, if policy == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        (true, if policy == Overflow::Sat { min } else { wrap() })
    } else {
        (false, 0)
    }
}
