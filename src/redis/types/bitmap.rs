//! Bitmaps: bit-level commands over strings (Redis's `bitops.c`).

use crate::redis::reply::Reply;
use crate::redis::Server;

pub fn setbit(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn getbit(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn bitcount(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn bitpos(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn bitop(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn bitfield(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}
pub fn bitfield_ro(_s: &mut Server, _a: &[Vec<u8>]) -> Reply {
    not_yet()
}

fn not_yet() -> Reply {
    Reply::err("bitmap commands are not implemented yet")
}
