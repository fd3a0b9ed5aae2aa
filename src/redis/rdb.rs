//! The pieces of the RDB format that DUMP-style payloads are made of, byte for byte as the
//! real server writes them (`rdb.c`, `lzf_c.c`, `lzf_d.c`, `crc64.c`): length prefixes,
//! strings (plain, integer-encoded, LZF-compressed), and the footer of a payload (the RDB
//! version and a CRC-64 of everything before it). FUNCTION DUMP / RESTORE use them, so a
//! payload made here restores on a real server and the other way round.

/// The RDB version valkey 9 writes into a payload's footer.
pub const RDB_VERSION: u16 = 80;

/// CRC-64/Jones as `crc64.c` computes it: reflected polynomial 0xad93d23594c935a9, initial
/// value 0, no final xor.
pub fn crc64(data: &[u8]) -> u64 {
    const TABLE: [u64; 256] = {
        let mut table = [0u64; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u64;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    data.iter().fold(0u64, |crc, &b| {
        TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// `rdbSaveLen`.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `rdbSaveRawString` with compression on (the server's default): strings over 20 bytes are
/// stored LZF-compressed when that saves more than four bytes. Library code always starts
/// with `#!`, so the integer encodings the server tries for short numeric strings never apply
/// to what is written here.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() > 20 {
        if let Some(packed) = lzf_compress(s, s.len() - 4) {
            out.push(0xc3);
            write_len(out, packed.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&packed);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends the footer: the RDB version and the CRC-64 of the whole payload so far.
pub fn seal(mut payload: Vec<u8>) -> Vec<u8> {
    payload.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// `verifyDumpPayload`: the footer's version is one this server reads (Redis's own 1..=11,
/// or valkey's 80; the versions between belong to other forks and are refused) and the
/// checksum matches.
pub fn verify(payload: &[u8]) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let body = payload.len() - 10;
    let version = u16::from_le_bytes([payload[body], payload[body + 1]]);
    if !(1..=11).contains(&version) && version != RDB_VERSION {
        return false;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&payload[body + 2..]);
    crc64(&payload[..body + 2]) == u64::from_le_bytes(crc)
}

/// Reads an RDB stream from a buffer, as `rio` over a buffer does: reads may run into the
/// footer, as the server's do.
pub struct Reader<'a> {
    data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// `rdbLoadLenByRef`: the length, and whether it is a special encoding instead.
    fn len(&mut self) -> Option<(u64, bool)> {
        let first = self.byte()?;
        match first >> 6 {
            0 => Some((u64::from(first & 0x3f), false)),
            1 => Some((
                u64::from(first & 0x3f) << 8 | u64::from(self.byte()?),
                false,
            )),
            3 => Some((u64::from(first & 0x3f), true)),
            _ if first == 0x80 => {
                let b = self.bytes(4)?;
                Some((
                    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    false,
                ))
            }
            _ if first == 0x81 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(self.bytes(8)?);
                Some((u64::from_be_bytes(b), false))
            }
            _ => None,
        }
    }

    /// `rdbGenericLoadStringObject`.
    pub fn string(&mut self) -> Option<Vec<u8>> {
        let (len, encoded) = self.len()?;
        if !encoded {
            return Some(self.bytes(usize::try_from(len).ok()?)?.to_vec());
        }
        match len {
            0 => Some((self.byte()? as i8).to_string().into_bytes()),
            1 => {
                let b = self.bytes(2)?;
                Some(i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes())
            }
            2 => {
                let b = self.bytes(4)?;
                Some(
                    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
                        .to_string()
                        .into_bytes(),
                )
            }
            3 => {
                let (clen, _) = self.len()?;
                let (len, _) = self.len()?;
                let packed = self.bytes(usize::try_from(clen).ok()?)?;
                let len = usize::try_from(len).ok().filter(|&n| n > 0)?;
                // A claimed length far beyond what the packed bytes could expand to is
                // refused before anything is allocated for it.
                if len / 264 > packed.len() + 1 {
                    return None;
                }
                lzf_decompress(packed, len)
            }
            _ => None,
        }
    }
}

/// `lzf_decompress`: exactly `len` bytes, or None for a corrupt or short stream.
pub fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1)?;
            if out.len() + run.len() > len {
                return None;
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
            ip += 1;
            if out.len() + n + 2 > len || back > out.len() {
                return None;
            }
            let from = out.len() - back;
            for i in 0..n + 2 {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    (out.len() == len).then_some(out)
}

/// liblzf's `lzf_compress` as the server builds it (HLOG 16, VERY_FAST, the hash table
/// starting empty), so payloads come out byte for byte as the server's. None when the
/// result would not fit in `limit` bytes.
pub fn lzf_compress(input: &[u8], limit: usize) -> Option<Vec<u8>> {
    const HLOG: u32 = 16;
    const HSIZE: usize = 1 << HLOG;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let n = input.len();
    if n == 0 || limit == 0 {
        return None;
    }
    let idx = |h: u32| ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);
    let first = |p: usize| u32::from(input[p]) << 8 | u32::from(input[p + 1]);
    let next = |v: u32, p: usize| v << 8 | u32::from(input[p + 2]);
    // Positions plus one: 0 is an empty slot, which (as the server's `ref > in_data` test)
    // never matches.
    let mut htab = vec![0usize; HSIZE];
    let mut out: Vec<u8> = vec![0];
    let mut lit: usize = 0;
    let mut ip = 0usize;
    // `op[-lit-1]`: the control byte of the literal run in progress.
    fn close_run(out: &mut [u8], lit: usize) {
        let at = out.len() - lit - 1;
        out[at] = (lit as u8).wrapping_sub(1);
    }
    fn push_literal(out: &mut Vec<u8>, lit: &mut usize, b: u8) {
        *lit += 1;
        out.push(b);
        if *lit == MAX_LIT {
            close_run(out, *lit);
            *lit = 0;
            out.push(0);
        }
    }
    if n < 2 {
        // Only the literal tail below runs.
    } else {
        let mut hval = first(ip);
        while ip + 2 < n {
            hval = next(hval, ip);
            let slot = idx(hval);
            let reference = htab[slot];
            htab[slot] = ip + 1;
            let matched = reference > 1 && {
                let r = reference - 1;
                ip - r - 1 < MAX_OFF
                    && input[r + 2] == input[ip + 2]
                    && input[r] == input[ip]
                    && input[r + 1] == input[ip + 1]
            };
            if matched {
                let r = reference - 1;
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (n - ip - len).min(MAX_REF);
                if out.len() + 3 + 1 >= limit && out.len() - usize::from(lit == 0) + 3 + 1 >= limit
                {
                    return None;
                }
                close_run(&mut out, lit);
                if lit == 0 {
                    out.pop();
                }
                let mut done = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2;
                ip += 1;
                if len < 7 {
                    out.push(((off >> 8) + (len << 5)) as u8);
                } else {
                    out.push(((off >> 8) + (7 << 5)) as u8);
                    out.push((len - 7) as u8);
                }
                out.push(off as u8);
                lit = 0;
                out.push(0);
                ip += len + 1;
                if ip + 2 >= n {
                    break;
                }
                ip -= 2;
                hval = first(ip);
                hval = next(hval, ip);
                htab[idx(hval)] = ip + 1;
                ip += 1;
                hval = next(hval, ip);
                htab[idx(hval)] = ip + 1;
                ip += 1;
            } else {
                if out.len() >= limit {
                    return None;
                }
                push_literal(&mut out, &mut lit, input[ip]);
                ip += 1;
            }
        }
    }
    if out.len() + 3 > limit {
        return None;
    }
    while ip < n {
        push_literal(&mut out, &mut lit, input[ip]);
        ip += 1;
    }
    close_run(&mut out, lit);
    if lit == 0 {
        out.pop();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_the_servers() {
        // crc64.c's own test vector.
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn lzf_matches_the_server_and_round_trips() {
        // FUNCTION DUMP of this library on valkey 9.
        let code = b"#!lua name=big\n-- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nredis.register_function('big', function(keys, args) return 1 end)";
        let mut out = Vec::new();
        write_string(&mut out, code);
        let expected: &[u8] = b"\xc3@U@\xb2\x12#!lua name=big\n-- a\xe0T\x00\x19\nredis.register_function(' ~\x02', \xe0\x00\x0f\x18keys, args) return 1 end)";
        assert_eq!(out, expected);
        assert_eq!(Reader::new(&out).string().as_deref(), Some(&code[..]));
        let mut rng = crate::redis::fuzz::Rng(7);
        for _ in 0..300 {
            let len = rng.below(600);
            let alphabet = 1 + rng.below(6);
            let data: Vec<u8> = (0..len).map(|_| b'a' + rng.below(alphabet) as u8).collect();
            if let Some(packed) = lzf_compress(&data, data.len() + 64) {
                assert_eq!(lzf_decompress(&packed, data.len()), Some(data.clone()));
            }
        }
    }

    #[test]
    fn corrupt_input_is_refused_not_trusted() {
        assert_eq!(lzf_decompress(&[0x20, 0x00], 3), None);
        assert_eq!(lzf_decompress(&[0x05, b'a'], 6), None);
        assert_eq!(Reader::new(&[0xc3, 0x01, 0x81]).string(), None);
        assert!(!verify(b"abc"));
        let sealed = seal(vec![0xf5, 0x01, b'x']);
        assert!(verify(&sealed));
        let mut bad = sealed.clone();
        bad[1] ^= 1;
        assert!(!verify(&bad));
    }
}
