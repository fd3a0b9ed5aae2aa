//! The byte-level pieces of the snapshot format: LEB128 lengths, length-prefixed byte
//! strings, little-endian integers, and CRC-32 (IEEE, as zlib and PNG compute it).
//!
//! The reader never trusts a length: every count is checked against the bytes that are left
//! before anything is allocated, so a corrupted length ends in an error, not in a huge
//! allocation or a panic.

/// Appends the encodings to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, b: u8) {
        self.buf.push(b);
    }

    pub fn u32(&mut self, n: u32) {
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    pub fn u64(&mut self, n: u64) {
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    pub fn i64(&mut self, n: i64) {
        self.u64(n as u64);
    }

    pub fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }

    /// Unsigned LEB128: small counts (the common case) take one byte.
    pub fn varint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    pub fn len(&mut self, n: usize) {
        self.varint(n as u64);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads what `Writer` wrote; every method fails cleanly at the end of the input.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

pub type ReadResult<T> = Result<T, String>;

fn truncated() -> String {
    "the snapshot is truncated".to_string()
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn take(&mut self, n: usize) -> ReadResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let slice = self.data.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> ReadResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> ReadResult<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u32(&mut self) -> ReadResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> ReadResult<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> ReadResult<i64> {
        Ok(self.u64()? as i64)
    }

    pub fn f64(&mut self) -> ReadResult<f64> {
        Ok(f64::from_bits(self.u64()?))
    }

    pub fn varint(&mut self) -> ReadResult<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("the snapshot holds a malformed length".into())
    }

    /// A count of items each at least `min_item_bytes` long: refused when the input cannot
    /// hold that many, so no corrupted count makes a reader allocate for it.
    pub fn count(&mut self, min_item_bytes: usize) -> ReadResult<usize> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| truncated())?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() {
            return Err(truncated());
        }
        Ok(n)
    }

    pub fn bytes(&mut self) -> ReadResult<&'a [u8]> {
        let n = self.count(1)?;
        self.take(n)
    }

    pub fn string(&mut self) -> ReadResult<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| "the snapshot holds invalid UTF-8 text".into())
    }

    pub fn is_at_end(&self) -> bool {
        self.remaining() == 0
    }
}

/// Slice-by-8 tables: `tables[0]` is the classic byte table; `tables[k][b]` is the
/// CRC of byte `b` followed by `k` zero bytes, so eight input bytes fold in with eight
/// lookups and no dependency between them (about four times the speed of the byte loop,
/// which matters for a snapshot of tens of megabytes saved while the student waits).
/// Built on first use rather than at compile time: as a static they were 8 KB of data in the
/// wasm, nearly all of it incompressible, which the first load's size budget cannot spare.
fn build_crc_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        tables[0][i] = c;
        i += 1;
    }
    let mut t = 1;
    while t < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[t - 1][i];
            tables[t][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            i += 1;
        }
        t += 1;
    }
    tables
}

fn crc_tables() -> &'static [[u32; 256]; 8] {
    static TABLES: std::sync::OnceLock<[[u32; 256]; 8]> = std::sync::OnceLock::new();
    TABLES.get_or_init(build_crc_tables)
}

/// A running CRC-32 (IEEE 802.3, the checksum of zlib, gzip and PNG), fed in pieces.
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xffff_ffff)
    }
}

impl Crc32 {
    pub fn update(&mut self, data: &[u8]) {
        let t = crc_tables();
        let mut c = self.0;
        let mut chunks = data.chunks_exact(8);
        for chunk in &mut chunks {
            let lo = c ^ u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let hi = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            c = t[7][(lo & 0xff) as usize]
                ^ t[6][((lo >> 8) & 0xff) as usize]
                ^ t[5][((lo >> 16) & 0xff) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][(hi & 0xff) as usize]
                ^ t[2][((hi >> 8) & 0xff) as usize]
                ^ t[1][((hi >> 16) & 0xff) as usize]
                ^ t[0][(hi >> 24) as usize];
        }
        for &b in chunks.remainder() {
            c = t[0][((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub fn finish(self) -> u32 {
        self.0 ^ 0xffff_ffff
    }
}

/// CRC-32 (IEEE 802.3) of `data` in one piece.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = Crc32::default();
    crc.update(data);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_published_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The byte-at-a-time definition, to check the eight-byte loop against.
    fn crc32_bytewise(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        c ^ 0xffff_ffff
    }

    #[test]
    fn crc32_equals_the_bytewise_definition_at_every_length_and_split() {
        let mut x = 0x9e37_79b9u32;
        let data: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for len in 0..data.len() {
            let part = &data[..len];
            let expected = crc32_bytewise(part);
            assert_eq!(crc32(part), expected, "length {len}");
            for split in [0, 1, 3, 7, 8, 9, len / 2, len] {
                let split = split.min(len);
                let mut crc = Crc32::default();
                crc.update(&part[..split]);
                crc.update(&part[split..]);
                assert_eq!(crc.finish(), expected, "length {len} split at {split}");
            }
        }
    }

    #[test]
    fn values_round_trip_and_truncation_is_an_error() {
        let mut w = Writer::default();
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            w.varint(n);
        }
        w.bytes(b"hello");
        w.f64(-0.5);
        w.i64(-7);
        let mut r = Reader::new(&w.buf);
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.varint().unwrap(), n);
        }
        assert_eq!(r.bytes().unwrap(), b"hello");
        assert_eq!(r.f64().unwrap(), -0.5);
        assert_eq!(r.i64().unwrap(), -7);
        assert!(r.is_at_end());
        assert_eq!(r.u8().unwrap_err(), "the snapshot is truncated");
    }

    #[test]
    fn a_count_larger_than_the_input_is_refused_before_allocating() {
        let mut w = Writer::default();
        w.varint(1 << 40);
        let mut r = Reader::new(&w.buf);
        assert!(r.count(1).is_err());
        let mut r = Reader::new(&[0xff; 11]);
        assert!(r.varint().is_err());
    }
}
