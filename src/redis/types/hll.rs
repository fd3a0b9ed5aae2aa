//! HyperLogLog: a port of Redis's hyperloglog.c. An HLL is a plain string value (TYPE
//! says string) in Redis's own layout: a 16-byte "HYLL" header and either the sparse
//! opcode encoding or 16384 dense 6-bit registers, so GET returns the server's bytes and
//! PFCOUNT the server's estimates.

use super::string::{self, bytes};
use super::Value;
use crate::redis::parts::{require_part, Part};
use crate::redis::reply::{self, Reply};
use crate::redis::Server;

const P: u32 = 14;
const Q: u32 = 64 - P;
const REGISTERS: usize = 1 << P;
const P_MASK: u64 = (REGISTERS - 1) as u64;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const HDR_SIZE: usize = 16;
const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// Redis's default `hll-sparse-max-bytes`.
pub const SPARSE_MAX_BYTES: usize = 3000;

#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721347520444481703680;
const SEED: u64 = 0xadc8_3b19;

const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

// ---------------------------------------------------------------------------------------
// Hashing and registers
// ---------------------------------------------------------------------------------------

/// MurmurHash2, 64-bit version, as Redis ships it (little-endian reads).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mut k = u64::from_le_bytes(word);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Port of `hllPatLen`: the register an element addresses and the length of the run of
/// zeros (plus one) in the rest of its hash.
fn pat_len(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

fn dense_get(registers: &[u8], index: usize) -> u8 {
    let byte = index * BITS / 8;
    let fb = (index * BITS) & 7;
    let b0 = u16::from(registers.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

fn dense_put(registers: &mut [u8], index: usize, value: u8) {
    let byte = index * BITS / 8;
    let fb = (index * BITS) & 7;
    let v = u16::from(value);
    let max = u16::from(REGISTER_MAX);
    if let Some(b) = registers.get_mut(byte) {
        *b &= !((max << fb) as u8);
        *b |= (v << fb) as u8;
    }
    if let Some(b) = registers.get_mut(byte + 1) {
        *b &= !((max >> (8 - fb)) as u8);
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Port of `hllDenseSet`: true if the register grew.
fn dense_set(registers: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(registers, index) {
        dense_put(registers, index, count);
        true
    } else {
        false
    }
}

// Sparse opcodes: ZERO 00xxxxxx, XZERO 01xxxxxx xxxxxxxx, VAL 1vvvvvxx.
fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn zero_len(op: u8) -> usize {
    usize::from(op & 0x3f) + 1
}

fn xzero_len(op: u8, next: u8) -> usize {
    ((usize::from(op & 0x3f) << 8) | usize::from(next)) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    usize::from(op & 0x3) + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len as u8 - 1) | 0x80
}

fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        seq.push((l >> 8) as u8 | 0x40);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// One decoded sparse opcode: how many registers it covers, their value, its byte size.
fn sparse_op(data: &[u8], at: usize) -> (usize, u8, usize) {
    let op = data[at];
    if is_zero(op) {
        (zero_len(op), 0, 1)
    } else if is_xzero(op) {
        (xzero_len(op, data.get(at + 1).copied().unwrap_or(0)), 0, 2)
    } else {
        (val_len(op), val_value(op), 1)
    }
}

/// Calls `visit(first_register, run_length, value)` for every run of a sparse body;
/// false if the runs do not cover exactly the 16384 registers.
fn sparse_runs(body: &[u8], mut visit: impl FnMut(usize, usize, u8)) -> bool {
    let mut idx = 0;
    let mut at = 0;
    while at < body.len() {
        let (run, value, size) = sparse_op(body, at);
        if value != 0 && idx + run > REGISTERS {
            return false;
        }
        if value != 0 || idx + run <= REGISTERS {
            visit(idx, run, value);
        }
        idx += run;
        at += size;
    }
    idx == REGISTERS
}

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

/// Port of `createHLLObject`: an empty sparse HLL.
pub fn empty() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR_SIZE + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        push_zeros(&mut s, run);
        left -= run;
    }
    s
}

/// Port of `isHLLObjectOrReply`'s checks on the bytes.
fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE
        && &s[..4] == b"HYLL"
        && s[4] <= MAX_ENCODING
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// Port of `hllSparseToDense`.
fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), ()> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
    dense[4] = DENSE;
    let (_, registers) = dense.split_at_mut(HDR_SIZE);
    let valid = sparse_runs(&s[HDR_SIZE..], |first, run, value| {
        if value != 0 {
            for i in first..first + run {
                dense_put(registers, i, value);
            }
        }
    });
    if !valid {
        return Err(());
    }
    *s = dense;
    Ok(())
}

/// Port of `hllSparseSet`: 1 if a register changed, 0 if not, -1 for a corrupt value.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8) -> i32 {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = s.len();
    let mut p = HDR_SIZE;
    let mut first = 0;
    let mut prev: Option<usize> = None;
    let mut span = 0;
    let mut oplen = 1;
    while p < end {
        let (run, _, size) = sparse_op(s, p);
        span = run;
        oplen = size;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p + oplen > end {
        return -1;
    }
    let op = s[p];
    let (zero, xzero) = (is_zero(op), is_xzero(op));
    let runlen = span;
    let mut changed_in_place = false;
    if !zero && !xzero {
        let old = val_value(op);
        if old >= count {
            return 0;
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            changed_in_place = true;
        }
    }
    if zero && runlen == 1 {
        s[p] = val_op(count, 1);
        changed_in_place = true;
    }
    if !changed_in_place {
        // Step 2: split the opcode around `index`.
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        if zero || xzero {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        } else {
            let current = val_value(op);
            if index != first {
                seq.push(val_op(current, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(current, last - index));
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        if seq.len() > oplen && s.len() + seq.len() - oplen > SPARSE_MAX_BYTES {
            return promote(s, index, count);
        }
        s.splice(p..p + oplen, seq);
    }
    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let op = s[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if let Some(&next) = s.get(p + 1) {
            if !is_zero(next) && !is_xzero(next) && val_value(op) == val_value(next) {
                let len = val_len(op) + val_len(next);
                if len <= SPARSE_VAL_MAX_LEN {
                    s[p + 1] = val_op(val_value(op), len);
                    s.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    1
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> i32 {
    if sparse_to_dense(s).is_err() {
        return -1;
    }
    dense_set(&mut s[HDR_SIZE..], index, count);
    1
}

/// Port of `hllAdd`.
fn add(s: &mut Vec<u8>, element: &[u8]) -> i32 {
    let (index, count) = pat_len(element);
    match s[4] {
        DENSE => i32::from(dense_set(&mut s[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(s, index, count),
        _ => -1,
    }
}

/// Port of `hllMerge`: max[i] = MAX(max[i], register i).
fn merge(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), ()> {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR_SIZE..], i));
        }
        return Ok(());
    }
    let valid = sparse_runs(&s[HDR_SIZE..], |first, run, value| {
        if value != 0 {
            for m in &mut max[first..first + run] {
                *m = (*m).max(value);
            }
        }
    });
    if valid {
        Ok(())
    } else {
        Err(())
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

/// Port of `hllCount`: Ertl's improved estimator over the register histogram.
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q as usize + 1])) / m);
    for j in (1..=Q as usize).rev() {
        z += f64::from(histogram[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The histogram of an HLL's registers; `None` if a sparse body is corrupt.
fn histogram(s: &[u8]) -> Option<[u32; 64]> {
    let mut h = [0u32; 64];
    if s[4] == DENSE {
        for i in 0..REGISTERS {
            h[usize::from(dense_get(&s[HDR_SIZE..], i))] += 1;
        }
        return Some(h);
    }
    let valid = sparse_runs(&s[HDR_SIZE..], |_, run, value| {
        h[usize::from(value)] += run as u32;
    });
    valid.then_some(h)
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// The HLL bytes at `key`: `Ok(None)` if there is no key, WRONGTYPE for another type or a
/// string that is not an HLL.
fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut Vec<u8>>, Reply> {
    match string::lookup(server, key)? {
        None => Ok(None),
        Some(entry) => {
            let s = bytes(entry);
            if is_hll(s) {
                Ok(Some(s))
            } else {
                Err(reply::error(NOT_HLL))
            }
        }
    }
}

/// Stores a fresh HLL at `key`; Redis creates it as a raw string object.
fn create(server: &mut Server, key: &[u8]) {
    let now = server.now;
    let db = server.db();
    db.set(key, Value::Str(empty()), now);
    if let Some(entry) = db.peek(key, now) {
        entry.encoding = Some("raw");
    }
}

/// PFADD key [element ...]
pub fn pfadd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::HyperLogLog);
    let key = &argv[1];
    let mut updated = 0;
    match lookup(server, key) {
        Err(e) => return e,
        Ok(Some(_)) => {}
        Ok(None) => {
            create(server, key);
            updated += 1;
        }
    }
    let Ok(Some(s)) = lookup(server, key) else {
        return reply::error(INVALID_HLL);
    };
    for element in &argv[2..] {
        match add(s, element) {
            1 => updated += 1,
            -1 => return reply::error(INVALID_HLL),
            _ => {}
        }
    }
    if updated > 0 {
        invalidate_cache(s);
    }
    Reply::Integer(i64::from(updated > 0))
}

/// PFCOUNT key [key ...]
pub fn pfcount(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::HyperLogLog);
    if argv.len() > 2 {
        let mut max = [0u8; REGISTERS];
        for key in &argv[1..] {
            match lookup(server, key) {
                Err(e) => return e,
                Ok(None) => {}
                Ok(Some(s)) => {
                    if merge(&mut max, s).is_err() {
                        return reply::error(INVALID_HLL);
                    }
                }
            }
        }
        let mut h = [0u32; 64];
        for &r in &max {
            h[usize::from(r & 63)] += 1;
        }
        return Reply::Integer(estimate(&h) as i64);
    }
    let s = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(s)) => s,
    };
    if s[15] & 0x80 == 0 {
        let mut card = [0u8; 8];
        card.copy_from_slice(&s[8..16]);
        return Reply::Integer(u64::from_le_bytes(card) as i64);
    }
    let Some(h) = histogram(s) else {
        return reply::error(INVALID_HLL);
    };
    let card = estimate(&h);
    s[8..16].copy_from_slice(&card.to_le_bytes());
    Reply::Integer(card as i64)
}

/// PFMERGE destkey [sourcekey ...]
pub fn pfmerge(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::HyperLogLog);
    let mut max = Box::new([0u8; REGISTERS]);
    let mut use_dense = false;
    for key in &argv[1..] {
        match lookup(server, key) {
            Err(e) => return e,
            Ok(None) => {}
            Ok(Some(s)) => {
                use_dense |= s[4] == DENSE;
                if merge(&mut max, s).is_err() {
                    return reply::error(INVALID_HLL);
                }
            }
        }
    }
    let key = &argv[1];
    if let Ok(None) = lookup(server, key) {
        create(server, key);
    }
    let Ok(Some(s)) = lookup(server, key) else {
        return reply::error(INVALID_HLL);
    };
    if use_dense && sparse_to_dense(s).is_err() {
        return reply::error(INVALID_HLL);
    }
    for (i, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        match s[4] {
            DENSE => {
                dense_set(&mut s[HDR_SIZE..], i, m);
            }
            _ => {
                sparse_set(s, i, m);
            }
        }
    }
    invalidate_cache(s);
    Reply::ok()
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key, and Valkey's PFDEBUG SIMD ON|OFF (the
/// sandbox has no vector path, so the switch only answers).
pub fn pfdebug(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::HyperLogLog);
    let cmd = String::from_utf8_lossy(&argv[1]).into_owned();
    if cmd.eq_ignore_ascii_case("simd") {
        return match argv[2].to_ascii_lowercase().as_slice() {
            b"on" => Reply::static_status("enabled"),
            b"off" => Reply::static_status("disabled"),
            _ => Reply::err("Argument must be ON or OFF"),
        };
    }
    let s = match lookup(server, &argv[2]) {
        Err(e) => return e,
        Ok(None) => return Reply::err("The specified key does not exist"),
        Ok(Some(s)) => s,
    };
    match cmd.to_ascii_lowercase().as_str() {
        "getreg" => {
            if sparse_to_dense(s).is_err() {
                return reply::error(INVALID_HLL);
            }
            Reply::Array(
                (0..REGISTERS)
                    .map(|i| Reply::Integer(i64::from(dense_get(&s[HDR_SIZE..], i))))
                    .collect(),
            )
        }
        "decode" => {
            if s[4] != SPARSE {
                return Reply::err("HLL encoding is not sparse");
            }
            let body = &s[HDR_SIZE..];
            let mut parts = Vec::new();
            let mut at = 0;
            while at < body.len() {
                let op = body[at];
                let (run, value, size) = sparse_op(body, at);
                parts.push(if is_zero(op) {
                    format!("z:{run}")
                } else if is_xzero(op) {
                    format!("Z:{run}")
                } else {
                    format!("v:{value},{run}")
                });
                at += size;
            }
            Reply::Bulk(parts.join(" ").into_bytes())
        }
        "encoding" => Reply::static_status(if s[4] == DENSE { "dense" } else { "sparse" }),
        "todense" => {
            let was_sparse = s[4] == SPARSE;
            if sparse_to_dense(s).is_err() {
                return reply::error(INVALID_HLL);
            }
            Reply::Integer(i64::from(was_sparse))
        }
        _ => Reply::err(format!("Unknown PFDEBUG subcommand '{cmd}'")),
    }
}

/// PFSELFTEST: checks that every dense register keeps what is written to it and that the
/// sparse and dense encodings of the same elements agree, as the server's self test does
/// (with a smaller sample, so it stays instant).
pub fn pfselftest(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::HyperLogLog);
    let mut registers = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let seed = server.random();
    let values: Vec<u8> = (0..REGISTERS as u64)
        .map(|i| ((seed >> (i % 58)).wrapping_add(i * 37) & u64::from(REGISTER_MAX)) as u8)
        .collect();
    for (i, &v) in values.iter().enumerate() {
        dense_put(&mut registers, i, v);
    }
    if let Some(i) = (0..REGISTERS).find(|&i| dense_get(&registers, i) != values[i]) {
        return Reply::Error(format!(
            "TESTFAILED Register error at index {i}: expected {} found {}",
            values[i],
            dense_get(&registers, i)
        ));
    }
    let mut sparse = empty();
    let mut dense = empty();
    if sparse_to_dense(&mut dense).is_err() {
        return Reply::Error("TESTFAILED Dense conversion failed".into());
    }
    for _ in 0..100 {
        let element = server.random().to_le_bytes();
        if add(&mut sparse, &element) < 0 || add(&mut dense, &element) < 0 {
            return Reply::Error("TESTFAILED Corrupted HLL during the test".into());
        }
    }
    let same = histogram(&sparse)
        .zip(histogram(&dense))
        .is_some_and(|(a, b)| a == b);
    if !same {
        return Reply::Error("TESTFAILED Sparse and dense encodings disagree".into());
    }
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::cli;

    fn run(server: &mut Server, line: &str) -> String {
        let argv = cli::split_args(line).expect("balanced line");
        server.execute(&argv, 1_000).to_cli_text()
    }

    #[test]
    fn small_hlls_match_the_real_server() {
        let mut s = Server::new();
        let cases = [
            ("PFADD h a b c d e f g", "(integer) 1\n"),
            ("PFADD h a", "(integer) 0\n"),
            ("PFCOUNT h", "(integer) 7\n"),
            ("TYPE h", "string\n"),
            ("OBJECT ENCODING h", "\"raw\"\n"),
            ("PFADD e", "(integer) 1\n"),
            (
                "GET e",
                "\"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\"\n",
            ),
            ("PFCOUNT e", "(integer) 0\n"),
            (
                "GET e",
                "\"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"\n",
            ),
            ("SET str hello", "OK\n"),
            (
                "PFADD str a",
                "(error) WRONGTYPE Key is not a valid HyperLogLog string value.\n",
            ),
            ("PFMERGE m h e nokey", "OK\n"),
            ("PFCOUNT m", "(integer) 7\n"),
            ("PFCOUNT h e nokey", "(integer) 7\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), expected, "{line}");
        }
    }

    #[test]
    fn corrupt_hlls_get_errors_not_panics() {
        let mut s = Server::new();
        let mut seed = 0x1234_5678_9abc_def0u64;
        for round in 0..400 {
            let mut value = b"HYLL".to_vec();
            value.push((round % 3) as u8);
            value.extend_from_slice(&[0; 11]);
            for _ in 0..(round % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                value.push(seed as u8);
            }
            let now = s.now;
            s.db().set(b"bad", Value::Str(value), now);
            for cmd in [
                "PFADD bad a b c d e f g h i j",
                "PFCOUNT bad",
                "PFCOUNT bad bad",
                "PFMERGE out bad",
                "PFDEBUG GETREG bad",
                "PFDEBUG DECODE bad",
            ] {
                run(&mut s, cmd);
            }
        }
    }

    #[test]
    fn murmur_matches_the_reference() {
        // Hash of the empty string with Redis's seed: h = seed, then the finalizer.
        let mut h = SEED;
        let m = 0xc6a4_a793_5bd1_e995u64;
        h ^= h >> 47;
        h = h.wrapping_mul(m);
        h ^= h >> 47;
        assert_eq!(murmur64a(b"", SEED), h);
    }
}
