//! Sorted sets: members ordered by score, then lexicographically (Redis's t_zset.c).
//!
//! A member → score map answers ZSCORE in O(1); an order-statistics B+tree (`tree.rs`) keeps the
//! (score, member) order and answers rank queries in O(log n) (the role of Redis's
//! skiplist with spans, with far fewer cache misses per search). Small sets report the
//! `listpack` encoding Redis would use for them; the data structure is the same, since a
//! listpack and a skiplist iterate in the same order.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::{wrong_type, Value};
use crate::redis::db::FxHasher;
use crate::redis::parts::{require_part, Part};
use crate::redis::reply::bulks::Shape;
use crate::redis::reply::{self, Bulks, Reply};
use crate::redis::util::{glob_match, parse_i64};
use crate::redis::Server;

/// Redis's default `zset-max-listpack-entries`.
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's default `zset-max-listpack-value`.
pub const MAX_LISTPACK_VALUE: usize = 64;

/// Elements a negative ZRANDMEMBER count may ask for. Redis would build the whole reply; a
/// browser tab cannot, so larger requests get the error Redis gives for absurd counts.
pub const MAX_RANDOM_REPLY: u64 = 1_000_000;

type Fx = BuildHasherDefault<FxHasher>;

mod members;
mod small;
mod tree;

use members::Members;
use small::Small;
use tree::{Pos, Tree};

// ---------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------

/// Redis's `zrangespec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }

    /// Port of `zslParseRange`: `(` marks an exclusive bound; the rest is read by strtod,
    /// which takes an empty string as 0 and overflows to an infinity.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_range_item(min)?;
        let (max, maxex) = parse_range_item(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }
}

fn parse_range_item(text: &[u8]) -> Option<(f64, bool)> {
    let (text, ex) = match text.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (text, false),
    };
    if text.is_empty() {
        return Some((0.0, ex));
    }
    let v = parse_float_text(text)?;
    (!v.is_nan()).then_some((v, ex))
}

/// Rust's float grammar is strtod's decimal one; hexadecimal floats are refused as the
/// server's own parser refuses them.
fn parse_float_text(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.bytes().any(|b| b == b'x' || b == b'X' || b == b'_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Port of `getDoubleFromObject` as ZADD and friends use it: the whole text a float, not
/// NaN, and no overflow to an infinity or underflow to zero.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    let v = parse_float_text(text)?;
    if v.is_nan() {
        return None;
    }
    let digits = text
        .iter()
        .take_while(|&&b| b != b'e' && b != b'E')
        .any(|&b| (b'1'..=b'9').contains(&b));
    let named_inf = text
        .iter()
        .any(|&b| b.eq_ignore_ascii_case(&b'i') || b.eq_ignore_ascii_case(&b'n'));
    if (v.is_infinite() && !named_inf) || (v == 0.0 && digits) {
        return None;
    }
    Some(v)
}

/// One end of a lexicographic range.
#[derive(Debug, Clone, PartialEq)]
pub enum LexEdge {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[x` (false) or `(x` (true).
    Value(Vec<u8>, bool),
}

/// Redis's `zlexrangespec`.
#[derive(Debug, Clone, PartialEq)]
pub struct LexRange {
    pub min: LexEdge,
    pub max: LexEdge,
}

impl LexEdge {
    fn parse(text: &[u8]) -> Option<LexEdge> {
        // The server tests the byte after `+`/`-` as a C string would: a NUL ends it.
        let ends = |t: &[u8]| t.get(1).is_none_or(|&b| b == 0);
        match text.first()? {
            b'+' if ends(text) => Some(LexEdge::Max),
            b'-' if ends(text) => Some(LexEdge::Min),
            b'(' => Some(LexEdge::Value(text[1..].to_vec(), true)),
            b'[' => Some(LexEdge::Value(text[1..].to_vec(), false)),
            _ => None,
        }
    }

    /// How a member compares with this edge.
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexEdge::Min => Ordering::Greater,
            LexEdge::Max => Ordering::Less,
            LexEdge::Value(v, _) => member.cmp(v),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexEdge::Value(_, false))
    }
}

impl LexRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexEdge::parse(min)?,
            max: LexEdge::parse(max)?,
        })
    }

    pub fn gte_min(&self, member: &[u8]) -> bool {
        match self.min.cmp_member(member) {
            Ordering::Greater => true,
            Ordering::Equal => !self.min.exclusive(),
            Ordering::Less => false,
        }
    }

    pub fn lte_max(&self, member: &[u8]) -> bool {
        match self.max.cmp_member(member) {
            Ordering::Less => true,
            Ordering::Equal => !self.max.exclusive(),
            Ordering::Greater => false,
        }
    }

    fn is_empty(&self) -> bool {
        let order = match (&self.min, &self.max) {
            (LexEdge::Min, LexEdge::Min) | (LexEdge::Max, LexEdge::Max) => Ordering::Equal,
            (LexEdge::Min, _) | (_, LexEdge::Max) => Ordering::Less,
            (LexEdge::Max, _) | (_, LexEdge::Min) => Ordering::Greater,
            (LexEdge::Value(a, _), LexEdge::Value(b, _)) => a.cmp(b),
        };
        order == Ordering::Greater
            || (order == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ZSet {
    body: Body,
    /// Once a set outgrows the listpack limits it stays a skiplist, as in Redis.
    skiplist: bool,
    /// Last written by a GEO command, so every score is a geohash: the keyspace panel draws
    /// the set as points on a map. Redis cannot tell a geo set from a leaderboard (both are
    /// sorted sets, and any score below 2^52 decodes to some point), so the panel goes by
    /// what wrote the scores; a ZADD or ZINCRBY that changes one clears the mark.
    geo: bool,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.skiplist == other.skiplist
            && self.len() == other.len()
            && self.iter().all(|(m, s)| other.score(m) == Some(s))
    }
}

/// Small sets are one ordered vector, large ones a member map beside an order tree. Sets
/// convert at the listpack's entry limit, independently of the encoding OBJECT ENCODING
/// reports (that follows Redis's rules, member lengths and size hints included), and like
/// Redis's never convert back.
#[derive(Debug, Clone)]
enum Body {
    Small(Small),
    Big(Box<Big>),
}

#[derive(Debug, Clone)]
struct Big {
    scores: Members,
    list: Tree,
}

/// The order of either body, behind one interface.
#[derive(Clone, Copy)]
enum View<'a> {
    Small(&'a Small),
    Big(&'a Tree),
}

impl<'a> View<'a> {
    fn rank(self, score: f64, member: &[u8]) -> usize {
        match self {
            View::Small(s) => s.rank(score, member),
            View::Big(t) => t.rank(score, member),
        }
    }

    fn by_rank(self, rank: usize) -> Pos {
        match self {
            View::Small(s) => s.by_rank(rank),
            View::Big(t) => t.by_rank(rank),
        }
    }

    fn first_where(self, past: impl Fn(f64, &[u8]) -> bool) -> Pos {
        match self {
            View::Small(s) => s.first_where(past),
            View::Big(t) => t.first_where(past),
        }
    }

    fn last_where(self, within: impl Fn(f64, &[u8]) -> bool) -> Pos {
        match self {
            View::Small(s) => s.last_where(within),
            View::Big(t) => t.last_where(within),
        }
    }

    fn first(self) -> Pos {
        match self {
            View::Small(s) => s.first(),
            View::Big(t) => t.first(),
        }
    }

    fn get(self, pos: (u32, usize)) -> Option<(&'a [u8], f64)> {
        match self {
            View::Small(s) => s.get_at(pos),
            View::Big(t) => t.get(pos),
        }
    }

    fn step(self, pos: (u32, usize), back: bool) -> Pos {
        match self {
            View::Small(s) => s.step(pos, back),
            View::Big(t) => t.step(pos, back),
        }
    }

    /// Elements from the 1-based rank `rank` on, in the given direction.
    fn walk(self, rank: usize, rev: bool) -> Iter<'a> {
        Iter {
            list: self,
            at: self.by_rank(rank),
            rev,
        }
    }
}

impl Default for ZSet {
    fn default() -> Self {
        Self::new()
    }
}

/// What `ZSet::add` did, as `zsetAdd` reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// The element exists and kept its score (the score is the one it has).
    Unchanged(f64),
    /// A condition (NX, XX, GT, LT) blocked the write.
    Blocked,
    /// The increment made the score NaN.
    Nan,
}

/// ZADD's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

impl ZSet {
    pub fn new() -> Self {
        ZSet {
            body: Body::Small(Small::default()),
            skiplist: false,
            geo: false,
        }
    }

    /// Port of `zsetTypeCreate`: a set created for `size` elements whose longest member is
    /// `max_member_len` bytes starts with the encoding that size calls for.
    pub fn with_hint(size: usize, max_member_len: usize) -> Self {
        let mut z = ZSet::new();
        z.skiplist = size > MAX_LISTPACK_ENTRIES || max_member_len > MAX_LISTPACK_VALUE;
        z
    }

    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        if self.skiplist {
            "skiplist"
        } else {
            "listpack"
        }
    }

    pub fn len(&self) -> usize {
        match &self.body {
            Body::Small(s) => s.len(),
            Body::Big(b) => b.scores.len(),
        }
    }

    fn order(&self) -> View<'_> {
        match &self.body {
            Body::Small(s) => View::Small(s),
            Body::Big(b) => View::Big(&b.list),
        }
    }

    /// Whether a GEO command wrote the scores last (see the field).
    pub fn is_geo(&self) -> bool {
        self.geo
    }

    pub fn mark_geo(&mut self, geo: bool) {
        self.geo = geo;
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.body {
            Body::Small(s) => s.get(member),
            Body::Big(b) => b.scores.get(member),
        }
    }

    /// Sets a member's score, adding it if needed. True if it was added.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        let big = match &mut self.body {
            Body::Big(big) => big,
            Body::Small(small) => {
                return match small.remove(member) {
                    Some(_) => {
                        small.insert_new(score, member);
                        false
                    }
                    None => {
                        self.insert_new(member, score);
                        true
                    }
                };
            }
        };
        match big.scores.get_mut(member) {
            Some(old) => {
                if *old != score {
                    let previous = *old;
                    *old = score;
                    big.list.delete(previous, member);
                    big.list.insert(score, member);
                }
                false
            }
            None => {
                self.insert_new(member, score);
                true
            }
        }
    }

    /// Adds a member the caller knows is absent (one hash probe fewer than `insert`).
    fn insert_new(&mut self, member: &[u8], score: f64) {
        match &mut self.body {
            Body::Small(small) => small.insert_new(score, member),
            Body::Big(big) => {
                big.scores.insert_new(member, score);
                big.list.insert(score, member);
            }
        }
        self.note_growth(member);
    }

    /// After an added member: a set past the listpack limits becomes a skiplist, and a
    /// small body past the entry limit becomes a large one.
    fn note_growth(&mut self, member: &[u8]) {
        if self.len() > MAX_LISTPACK_ENTRIES || member.len() > MAX_LISTPACK_VALUE {
            self.skiplist = true;
        }
        if let Body::Small(small) = &mut self.body {
            if small.len() > MAX_LISTPACK_ENTRIES {
                let mut big = Big {
                    scores: Members::default(),
                    list: Tree::new(),
                };
                for (score, member) in small.drain() {
                    big.scores.insert_new(&member, score);
                    big.list.insert(score, &member);
                }
                self.body = Body::Big(Box::new(big));
            }
        }
    }

    /// Port of `zsetAdd`.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags) -> AddOutcome {
        // One probe of the member map finds the member or adds it.
        let found = match &mut self.body {
            Body::Big(big) if !flags.xx => {
                // The map's slot and the tree's leaf are each a cache miss in a large set:
                // the slot is requested first and the tree searched while it arrives, so
                // the two misses overlap. An existing member wastes the search, which then
                // leaves in cache the path its update takes.
                let tag = members::tag_of(member);
                big.scores.prefetch(tag);
                let at = big.list.locate(score, member);
                match big.scores.get_or_add_tagged(member, tag, score) {
                    None => {
                        big.list.insert_located(at, score, member);
                        self.note_growth(member);
                        return AddOutcome::Added(score);
                    }
                    found => found,
                }
            }
            Body::Big(big) => big.scores.get(member),
            Body::Small(small) => small.get(member),
        };
        match found {
            Some(current) => {
                if flags.nx {
                    return AddOutcome::Blocked;
                }
                let score = if flags.incr { score + current } else { score };
                if score.is_nan() {
                    return AddOutcome::Nan;
                }
                if (flags.lt && score >= current) || (flags.gt && score <= current) {
                    return AddOutcome::Blocked;
                }
                if score == current {
                    return AddOutcome::Unchanged(score);
                }
                self.insert(member, score);
                AddOutcome::Updated(score)
            }
            None if flags.xx => AddOutcome::Blocked,
            None => {
                match &mut self.body {
                    Body::Big(big) => big.list.insert(score, member),
                    Body::Small(small) => small.insert_new(score, member),
                }
                self.note_growth(member);
                AddOutcome::Added(score)
            }
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.body {
            Body::Small(small) => small.remove(member),
            Body::Big(big) => {
                let score = big.scores.remove(member)?;
                big.list.delete(score, member);
                Some(score)
            }
        }
    }

    /// Removes the `count` lowest (or, with `max`, highest) elements, handing each to `each`
    /// in that order first. The order loses them a leaf at a time (`Tree::pop_end`).
    pub fn pop_each(&mut self, count: usize, max: bool, mut each: impl FnMut(&[u8], f64)) {
        let len = self.len();
        let count = count.min(len);
        let from = if max { len } else { 1 };
        match &mut self.body {
            Body::Small(small) => {
                for (m, s) in View::Small(small).walk(from, max).take(count) {
                    each(m, s);
                }
                small.pop_end(count, max);
            }
            Body::Big(big) => {
                let Big { scores, list } = &mut **big;
                // When most go, the member map is built again from those that stay, a probe
                // each, rather than each one leaving looked up and removed (several cache
                // misses each in a large set).
                let rebuild = count * 2 >= len;
                for (m, s) in View::Big(list).walk(from, max).take(count) {
                    each(m, s);
                    if !rebuild {
                        scores.remove(m);
                    }
                }
                list.pop_end(count, max);
                if rebuild {
                    let mut kept = Members::default();
                    for (m, s) in View::Big(list).walk(1, false) {
                        kept.insert_new(m, s);
                    }
                    *scores = kept;
                }
            }
        }
    }

    /// 0-based rank from the lowest (or, with `rev`, the highest) score.
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<(usize, f64)> {
        let score = self.score(member)?;
        let rank = self.order().rank(score, member).checked_sub(1)?;
        Some((if rev { self.len() - 1 - rank } else { rank }, score))
    }

    /// Elements in order (lowest score first).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self.order(),
            at: self.order().first(),
            rev: false,
        }
    }

    /// Elements from the 0-based rank `start` on, in the given direction.
    pub fn iter_from_rank(&self, start: usize, rev: bool) -> Iter<'_> {
        let rank = if rev { self.len() - start } else { start + 1 };
        self.order().walk(rank, rev)
    }

    /// Elements whose score lies in `range`, from its low end (or high end with `rev`).
    pub fn iter_score(&self, range: &ScoreRange, rev: bool) -> impl Iterator<Item = (&[u8], f64)> {
        let at = if range.is_empty() {
            None
        } else if rev {
            self.order().last_where(|s, _| range.lte_max(s))
        } else {
            self.order().first_where(|s, _| !range.gte_min(s))
        };
        let range = *range;
        Iter {
            list: self.order(),
            at,
            rev,
        }
        .take_while(move |&(_, s)| {
            if rev {
                range.gte_min(s)
            } else {
                range.lte_max(s)
            }
        })
    }

    /// Elements whose member lies in `range` (meaningful when all scores are equal).
    pub fn iter_lex<'a>(
        &'a self,
        range: &'a LexRange,
        rev: bool,
    ) -> impl Iterator<Item = (&'a [u8], f64)> + 'a {
        let at = if range.is_empty() {
            None
        } else if rev {
            self.order().last_where(|_, m| range.lte_max(m))
        } else {
            self.order().first_where(|_, m| !range.gte_min(m))
        };
        Iter {
            list: self.order(),
            at,
            rev,
        }
        .take_while(move |&(m, _)| {
            if rev {
                range.gte_min(m)
            } else {
                range.lte_max(m)
            }
        })
    }

    /// How many elements have a score in `range`: two rank look-ups, O(log n).
    pub fn count_score(&self, range: &ScoreRange) -> usize {
        if range.is_empty() {
            return 0;
        }
        let first = self.order().first_where(|s, _| !range.gte_min(s));
        let last = self.order().last_where(|s, _| range.lte_max(s));
        self.count_between(first, last)
    }

    pub fn count_lex(&self, range: &LexRange) -> usize {
        if range.is_empty() {
            return 0;
        }
        let first = self.order().first_where(|_, m| !range.gte_min(m));
        let last = self.order().last_where(|_, m| range.lte_max(m));
        self.count_between(first, last)
    }

    fn count_between(&self, first: Pos, last: Pos) -> usize {
        let (Some((a, sa)), Some((b, sb))) = (
            first.and_then(|p| self.order().get(p)),
            last.and_then(|p| self.order().get(p)),
        ) else {
            return 0;
        };
        let (ra, rb) = (self.order().rank(sa, a), self.order().rank(sb, b));
        (rb + 1).saturating_sub(ra)
    }

    /// The member at a 0-based rank.
    pub fn at_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.order()
            .by_rank(rank + 1)
            .and_then(|p| self.order().get(p))
    }

    /// Whether a set of `len` elements with members up to `max_len` bytes fits a listpack:
    /// the store commands pick the encoding of their result this way.
    fn fresh_encoding(&mut self) {
        let longest = self.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        self.skiplist = self.len() > MAX_LISTPACK_ENTRIES || longest > MAX_LISTPACK_VALUE;
    }
}

/// Walks the order in either direction.
pub struct Iter<'a> {
    list: View<'a>,
    at: Pos,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.at?;
        self.at = self.list.step(pos, self.rev);
        self.list.get(pos)
    }
}

/// Port of Redis's `d2string`: integers within ±2^62 print as integers, other values in
/// the shortest form that reads back exactly, laid out as the server's fpconv does.
pub fn format_score(v: f64) -> String {
    String::from_utf8_lossy(ScoreText::new(v).as_bytes()).into_owned()
}

/// `format_score`'s text in a buffer on the stack: a million scores written into one reply
/// cost no allocation each (they took the page over a second in Chromium).
pub struct ScoreText {
    bytes: [u8; 48],
    len: usize,
}

impl std::fmt::Write for ScoreText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

impl ScoreText {
    pub fn new(v: f64) -> ScoreText {
        let mut out = ScoreText::empty();
        if v.is_nan() {
            out.push(b"nan");
            return out;
        }
        if v.is_infinite() {
            out.push(if v > 0.0 { b"inf" } else { b"-inf" });
            return out;
        }
        let limit = (i64::MAX / 2) as f64;
        if v >= -limit && v <= limit && v.fract() == 0.0 {
            out.push(reply::decimal(v as i64, &mut [0; 21]));
            return out;
        }
        if v < 0.0 {
            out.push(b"-");
        }
        if out.short_decimal(v.abs()) {
            return out;
        }
        let (digits, exp10) = score_digits(v.abs());
        let k = exp10 - (digits.len as i32 - 1);
        out.emit_digits(digits.as_bytes(), k, v < 0.0);
        out
    }

    /// Writes `v > 0`, not an integer, if it has at most six decimals (the scores people
    /// type: 1.5, 3.14, 1369.63), as `emit_digits` lays such digits out, without searching
    /// for them: the fewest decimals that read back as `v` are its shortest digits (a double
    /// of fewer than 16 digits has no two candidates that read back), and the rounded
    /// `v × 10^d` is the closest. Below 10^15, `m / 10^d` rounds as reading the text does.
    fn short_decimal(&mut self, v: f64) -> bool {
        let mut scale = 1u64;
        for _ in 0..6 {
            scale *= 10;
            let m = (v * scale as f64).round();
            if m >= 1e15 || m / scale as f64 != v {
                continue;
            }
            let m = m as u64;
            self.push(reply::decimal((m / scale) as i64, &mut [0; 21]));
            self.push(b".");
            // The fraction with its leading zeros: written after a 1 that is dropped.
            let mut frac = [0; 21];
            let frac = reply::decimal((m % scale + scale) as i64, &mut frac);
            self.push(frac.get(1..).unwrap_or_default());
            return true;
        }
        false
    }

    fn empty() -> ScoreText {
        ScoreText {
            bytes: [0; 48],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The longest text is 26 bytes ("-0.000000" and 17 digits), so nothing is ever cut.
    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(self.bytes.len());
        if let (Some(to), Some(from)) = (
            self.bytes.get_mut(self.len..end),
            bytes.get(..end - self.len),
        ) {
            to.copy_from_slice(from);
            self.len = end;
        }
    }

    fn zeros(&mut self, n: i32) {
        for _ in 0..n.max(0) {
            self.push(b"0");
        }
    }

    /// fpconv's `emit_digits`: `digits` × 10^k as plain digits, a decimal, or scientific.
    fn emit_digits(&mut self, digits: &[u8], k: i32, negative: bool) {
        let ndigits = digits.len() as i32;
        let exp = (k + ndigits - 1).abs();
        if k >= 0 && exp < ndigits + 7 {
            self.push(digits);
            self.zeros(k);
            return;
        }
        if k < 0 && (k > -7 || exp < 4) {
            let offset = ndigits - k.abs();
            if offset <= 0 {
                self.push(b"0.");
                self.zeros(-offset);
                self.push(digits);
            } else {
                let (int, frac) = digits.split_at((offset as usize).min(digits.len()));
                self.push(int);
                self.push(b".");
                self.push(frac);
            }
            return;
        }
        let keep = digits.len().min(if negative { 17 } else { 18 });
        let digits = &digits[..keep];
        let (first, rest) = digits.split_at(1.min(digits.len()));
        self.push(first);
        if !rest.is_empty() {
            self.push(b".");
            self.push(rest);
        }
        self.push(b"e");
        self.push(if k + ndigits - 1 < 0 { b"-" } else { b"+" });
        self.push(reply::decimal(i64::from(exp), &mut [0; 21]));
    }
}

/// The shortest digits of finite `v >= 0` that read back exactly, and the power of ten of
/// the first, as `{:e}` writes them ("1.37e0").
fn score_digits(v: f64) -> (ScoreText, i32) {
    let mut shortest = zmij::Buffer::new();
    let found = sci_digits(shortest.format_finite(v).as_bytes());
    if found.0.len < 16 {
        return found;
    }
    // Only a double that needs 16 or 17 digits can fall halfway between two candidates
    // (with fewer, its neighbours are further apart than the digits' step), and zmij
    // rounds such a tie to even where `{:e}` (the sandbox's scores so far) does not: those
    // take the slower way.
    let mut sci = ScoreText::empty();
    let _ = std::fmt::Write::write_fmt(&mut sci, format_args!("{v:e}"));
    sci_digits(sci.as_bytes())
}

/// The significant digits of a finite non-negative double written in decimal ("1.37",
/// "1e-7", "12345.0", "1.2e+20", "0.001"), and the power of ten of the first: what
/// `{:e}` writes as "1.37e0", but read from the shortest round-trip text, which is faster
/// to make (or from `{:e}` itself).
fn sci_digits(text: &[u8]) -> (ScoreText, i32) {
    let (mantissa, exp) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&text[..at], text.get(at + 1..).unwrap_or_default()),
        None => (text, &b""[..]),
    };
    let exp: i32 = std::str::from_utf8(exp)
        .ok()
        .map(|e| e.trim_start_matches('+'))
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let point = mantissa
        .iter()
        .position(|&b| b == b'.')
        .unwrap_or(mantissa.len());
    let mut digits = ScoreText::empty();
    let mut first = None;
    for (i, &b) in mantissa.iter().enumerate() {
        if !b.is_ascii_digit() || (first.is_none() && b == b'0') {
            continue;
        }
        first.get_or_insert(i);
        digits.push(&[b]);
    }
    while digits.len > 1 && digits.bytes.get(digits.len - 1) == Some(&b'0') {
        digits.len -= 1;
    }
    let Some(first) = first else {
        digits.push(b"0");
        return (digits, 0);
    };
    // The first digit's place: before the point it counts down from it, after, the point
    // itself takes no place.
    let place = if first < point {
        (point - first - 1) as i32
    } else {
        -((first - point) as i32)
    };
    (digits, place.saturating_add(exp))
}

pub fn score_reply(v: f64) -> Reply {
    Reply::Bulk(format_score(v).into_bytes())
}

/// The sorted set at `key`: `Ok(None)` if there is none, WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut ZSet>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(wrong_type()),
        },
    }
}

/// Deletes `key` if the sorted set there has become empty (empty aggregates never stay).
fn drop_if_empty(server: &mut Server, key: &[u8]) {
    if matches!(lookup(server, key), Ok(Some(z)) if z.is_empty()) {
        server.db().remove(key);
    }
}

/// Replaces whatever `key` holds with `zset`, or deletes it if the set is empty; the
/// store commands' shared ending. Returns the stored length.
pub fn store(server: &mut Server, key: &[u8], mut zset: ZSet) -> usize {
    let now = server.now;
    let len = zset.len();
    if len == 0 {
        server.db().remove(key);
    } else {
        zset.fresh_encoding();
        server.db().set(key, Value::ZSet(Box::new(zset)), now);
    }
    len
}

fn not_float() -> Reply {
    Reply::err("value is not a valid float")
}

/// Members, each followed by its score if `withscores`, in one buffer (`Bulks`): the reply of
/// ZRANGE, ZRANDMEMBER, ZUNION, ZINTER and ZDIFF, which RESP3 reads as score pairs.
fn bulk_pairs<'a>(items: impl Iterator<Item = (&'a [u8], f64)>, withscores: bool) -> Reply {
    let mut out = Bulks::with_capacity(items.size_hint().0, 0);
    for (m, s) in items {
        if withscores {
            out.push_scored(m, s);
        } else {
            out.push(m);
        }
    }
    out.into_reply()
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    zadd_generic(server, argv, false)
}

/// ZINCRBY key increment member
pub fn zincrby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    zadd_generic(server, argv, true)
}

/// Port of `zaddGenericCommand`, shared by ZADD and ZINCRBY.
fn zadd_generic(server: &mut Server, argv: &[Vec<u8>], incrby: bool) -> Reply {
    let mut flags = AddFlags {
        incr: incrby,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut i = 2;
    if !incrby {
        // Compared in place: most calls have no option, and their score is tested here too.
        while let Some(opt) = argv.get(i) {
            let flag = if is(opt, "NX") {
                &mut flags.nx
            } else if is(opt, "XX") {
                &mut flags.xx
            } else if is(opt, "GT") {
                &mut flags.gt
            } else if is(opt, "LT") {
                &mut flags.lt
            } else if is(opt, "CH") {
                &mut ch
            } else if is(opt, "INCR") {
                &mut flags.incr
            } else {
                break;
            };
            *flag = true;
            i += 1;
        }
    }
    let pairs = &argv[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return reply::error(reply::SYNTAX_ERROR);
    }
    if flags.nx && flags.xx {
        return Reply::err("XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Reply::err("GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && pairs.len() > 2 {
        return Reply::err("INCR option supports a single increment-element pair");
    }
    // Every score is checked before anything is written. One pair (the usual call) needs
    // no vector.
    let one: [f64; 1];
    let many: Vec<f64>;
    let scores: &[f64] = if let [score, _] = pairs {
        match parse_score(score) {
            Some(s) => one = [s],
            None => return not_float(),
        }
        &one
    } else {
        match pairs.chunks_exact(2).map(|p| parse_score(&p[0])).collect() {
            Some(all) => many = all,
            None => return not_float(),
        }
        &many
    };
    let key = &argv[1];
    let now = server.now;
    match lookup(server, key) {
        Err(e) => return e,
        Ok(Some(_)) => {}
        Ok(None) if flags.xx => {
            return if flags.incr {
                Reply::Nil
            } else {
                Reply::Integer(0)
            };
        }
        Ok(None) => {
            let longest = pairs.get(1).map_or(0, Vec::len);
            let z = ZSet::with_hint(scores.len(), longest);
            server.db().set(key, Value::ZSet(Box::new(z)), now);
        }
    }
    let Ok(Some(z)) = lookup(server, key) else {
        return Reply::Integer(0);
    };
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    for (pair, &score) in pairs.chunks_exact(2).zip(scores) {
        match z.add(&pair[1], score, flags) {
            AddOutcome::Added(s) => {
                added += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Unchanged(s) => {
                processed += 1;
                last = s;
            }
            AddOutcome::Blocked => {}
            AddOutcome::Nan => {
                drop_if_empty(server, key);
                return Reply::err("resulting score is not a number (NaN)");
            }
        }
    }
    if added + updated > 0 {
        z.mark_geo(false);
    }
    if flags.incr {
        if processed > 0 {
            score_reply(last)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Integer(if ch { added + updated } else { added })
    }
}

/// ZSCORE key member
pub fn zscore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(z) => z
            .and_then(|z| z.score(&argv[2]))
            .map_or(Reply::Nil, score_reply),
    }
}

/// ZMSCORE key member [member ...]
pub fn zmscore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(z) => Reply::Array(
            argv[2..]
                .iter()
                .map(|m| {
                    z.as_ref()
                        .and_then(|z| z.score(m))
                        .map_or(Reply::Nil, score_reply)
                })
                .collect(),
        ),
    }
}

/// ZCARD key
pub fn zcard(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(z) => Reply::Integer(z.map_or(0, |z| z.len() as i64)),
    }
}

/// ZCOUNT key min max
pub fn zcount(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(range) = ScoreRange::parse(&argv[2], &argv[3]) else {
        return Reply::err("min or max is not a float");
    };
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(z) => Reply::Integer(z.map_or(0, |z| z.count_score(&range) as i64)),
    }
}

/// ZLEXCOUNT key min max
pub fn zlexcount(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(range) = LexRange::parse(&argv[2], &argv[3]) else {
        return Reply::err("min or max not valid string range item");
    };
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(z) => Reply::Integer(z.map_or(0, |z| z.count_lex(&range) as i64)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Auto, Direction::Auto)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let dst = argv[1].clone();
    range_generic(
        server,
        argv,
        2,
        Some(&dst),
        RangeKind::Auto,
        Direction::Auto,
    )
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Rank, Direction::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Score, Direction::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Score, Direction::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Lex, Direction::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, 1, None, RangeKind::Lex, Direction::Reverse)
}

/// Port of `zrangeGenericCommand`: the argument at `at` is the source key, followed by the
/// two ends of the range and the options.
fn range_generic(
    server: &mut Server,
    argv: &[Vec<u8>],
    at: usize,
    store_in: Option<&[u8]>,
    mut kind: RangeKind,
    mut direction: Direction,
) -> Reply {
    let mut withscores = false;
    let (mut offset, mut limit): (i64, i64) = (0, -1);
    let mut j = at + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let opt = argv[j].as_slice();
        if store_in.is_none() && is(opt, "withscores") {
            withscores = true;
        } else if is(opt, "limit") && left >= 2 {
            match (parse_i64(&argv[j + 1]), parse_i64(&argv[j + 2])) {
                (Some(o), Some(l)) => (offset, limit) = (o, l),
                _ => return reply::error(reply::NOT_INTEGER),
            }
            j += 2;
        } else if direction == Direction::Auto && is(opt, "rev") {
            direction = Direction::Reverse;
        } else if kind == RangeKind::Auto && is(opt, "bylex") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && is(opt, "byscore") {
            kind = RangeKind::Score;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    let rev = direction == Direction::Reverse;
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    if limit != -1 && kind == RangeKind::Rank {
        return Reply::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == RangeKind::Lex {
        return Reply::err("syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut lo, mut hi) = (&argv[at + 1], &argv[at + 2]);
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    enum Spec {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let spec = match kind {
        RangeKind::Score => match ScoreRange::parse(lo, hi) {
            Some(r) => Spec::Score(r),
            None => return Reply::err("min or max is not a float"),
        },
        RangeKind::Lex => match LexRange::parse(lo, hi) {
            Some(r) => Spec::Lex(r),
            None => return Reply::err("min or max not valid string range item"),
        },
        _ => match (parse_i64(lo), parse_i64(hi)) {
            (Some(a), Some(b)) => Spec::Rank(a, b),
            _ => return reply::error(reply::NOT_INTEGER),
        },
    };
    /// The `limit` elements after the first `offset` (all with a negative limit).
    fn page<'a>(
        it: &mut dyn Iterator<Item = (&'a [u8], f64)>,
        len: usize,
        (offset, limit): (i64, i64),
    ) -> Vec<(&'a [u8], f64)> {
        let mut out = Vec::new();
        if offset < 0 || (offset > 0 && offset as u64 >= len as u64) {
            return out;
        }
        let (mut skip, mut take) = (offset as u64, limit as u64);
        for item in it {
            if skip > 0 {
                skip -= 1;
            } else if take == 0 {
                break;
            } else {
                take = take.wrapping_sub(1);
                out.push(item);
            }
        }
        out
    }
    // Borrowed: the members are copied once, into the reply or the stored set.
    let items: Vec<(&[u8], f64)> = match lookup(server, &argv[at]) {
        Err(e) => return e,
        Ok(None) => Vec::new(),
        Ok(Some(z)) => {
            let window = (offset, limit);
            match &spec {
                Spec::Rank(start, end) => match rank_window(z.len(), *start, *end) {
                    None => Vec::new(),
                    Some((start, count)) => from_rank(z, start, count, rev),
                },
                Spec::Score(r) => page(&mut z.iter_score(r, rev), z.len(), window),
                Spec::Lex(r) => page(&mut z.iter_lex(r, rev), z.len(), window),
            }
        }
    };
    let Some(dst) = store_in else {
        return bulk_pairs(items.iter().copied(), withscores);
    };
    let mut out = ZSet::new();
    for &(m, s) in &items {
        out.insert(m, s);
    }
    drop(items);
    Reply::Integer(store(server, dst, out) as i64)
}

/// Up to `count` elements from the 0-based rank `start` on, in the given direction.
fn from_rank(z: &ZSet, start: usize, count: usize, rev: bool) -> Vec<(&[u8], f64)> {
    let mut it = z.iter_from_rank(start, rev);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let Some(item) = it.next() else { break };
        out.push(item);
    }
    out
}

/// Redis's clamping of a rank range to a set of `len`: the first rank and how many follow.
fn rank_window(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, (end - start + 1) as usize))
}

/// ZRANK key member [WITHSCORE]
pub fn zrank(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    rank_generic(server, argv, false)
}

/// ZREVRANK key member [WITHSCORE]
pub fn zrevrank(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    rank_generic(server, argv, true)
}

fn rank_generic(server: &mut Server, argv: &[Vec<u8>], rev: bool) -> Reply {
    if argv.len() > 4 {
        return Reply::err(format!(
            "wrong number of arguments for '{}' command",
            if rev { "zrevrank" } else { "zrank" }
        ));
    }
    let withscore = match argv.get(3) {
        Some(opt) if is(opt, "withscore") => true,
        Some(_) => return reply::error(reply::SYNTAX_ERROR),
        None => false,
    };
    let z = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(z) => z,
    };
    match z.and_then(|z| z.rank(&argv[2], rev)) {
        Some((rank, score)) if withscore => {
            Reply::Array(vec![Reply::Integer(rank as i64), score_reply(score)])
        }
        Some((rank, _)) => Reply::Integer(rank as i64),
        None if withscore => Reply::NilArray,
        None => Reply::Nil,
    }
}

/// ZREM key member [member ...]
pub fn zrem(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    let removed = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(z)) => argv[2..].iter().filter(|m| z.remove(m).is_some()).count(),
    };
    drop_if_empty(server, key);
    Reply::Integer(removed as i64)
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (Some(start), Some(end)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
        return reply::error(reply::NOT_INTEGER);
    };
    remove_range(server, &argv[1], |z| {
        match rank_window(z.len(), start, end) {
            None => Vec::new(),
            Some((start, count)) => z
                .iter_from_rank(start, false)
                .take(count)
                .map(|(m, _)| m.to_vec())
                .collect(),
        }
    })
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(range) = ScoreRange::parse(&argv[2], &argv[3]) else {
        return Reply::err("min or max is not a float");
    };
    remove_range(server, &argv[1], |z| {
        z.iter_score(&range, false)
            .map(|(m, _)| m.to_vec())
            .collect()
    })
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(range) = LexRange::parse(&argv[2], &argv[3]) else {
        return Reply::err("min or max not valid string range item");
    };
    remove_range(server, &argv[1], |z| {
        z.iter_lex(&range, false).map(|(m, _)| m.to_vec()).collect()
    })
}

fn remove_range(
    server: &mut Server,
    key: &[u8],
    select: impl FnOnce(&ZSet) -> Vec<Vec<u8>>,
) -> Reply {
    let removed = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(z)) => {
            let doomed = select(z);
            for m in &doomed {
                z.remove(m);
            }
            doomed.len()
        }
    };
    drop_if_empty(server, key);
    Reply::Integer(removed as i64)
}

/// Pops up to `count` elements from the low (or high) end of the set at `key`, as ZPOPMIN
/// answers them: each member followed by its score, in one buffer (`Bulks`).
fn pop_pairs(server: &mut Server, key: &[u8], count: usize, max: bool) -> Bulks {
    let mut out = Bulks::with_capacity(0, 0);
    if let Ok(Some(z)) = lookup(server, key) {
        out = Bulks::with_capacity(count.min(z.len()), 0);
        z.pop_each(count, max, |m, s| out.push_scored(m, s));
    }
    drop_if_empty(server, key);
    out
}

/// ZPOPMIN key [count]
pub fn zpopmin(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    zpop_generic(server, argv, false)
}

/// ZPOPMAX key [count]
pub fn zpopmax(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    zpop_generic(server, argv, true)
}

fn zpop_generic(server: &mut Server, argv: &[Vec<u8>], max: bool) -> Reply {
    if argv.len() > 3 {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let count = match argv.get(2).map(|c| parse_i64(c)) {
        None => 1,
        Some(Some(n)) if n >= 0 => n as usize,
        Some(_) => return Reply::err("value is out of range, must be positive"),
    };
    if let Err(e) = lookup(server, &argv[1]) {
        return e;
    }
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    let popped = pop_pairs(server, &argv[1], count, max);
    // Without a count, one member and its score: the tree BZPOPMIN and RESP3 take apart.
    match argv.len() {
        2 => popped.expand(),
        _ => popped.into_reply(),
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Reply::err("numkeys should be greater than 0"),
    };
    let Some(where_at) = numkeys.checked_add(2).filter(|&w| w < argv.len()) else {
        return reply::error(reply::SYNTAX_ERROR);
    };
    let max = match argv[where_at].as_slice() {
        w if is(w, "min") => false,
        w if is(w, "max") => true,
        _ => return reply::error(reply::SYNTAX_ERROR),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        if count.is_none() && is(&argv[j], "count") && j + 1 < argv.len() {
            match parse_i64(&argv[j + 1]) {
                Some(n) if n >= 1 => count = Some(n as usize),
                _ => return Reply::err("count should be greater than 0"),
            }
            j += 2;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
    }
    for key in &argv[2..where_at] {
        match lookup(server, key) {
            Err(e) => return e,
            Ok(None) => continue,
            Ok(Some(_)) => {
                let mut pairs = pop_pairs(server, key, count.unwrap_or(1), max);
                pairs.reshape(Shape::Pairs);
                return Reply::Array(vec![Reply::Bulk(key.clone()), pairs.into_reply()]);
            }
        }
    }
    Reply::NilArray
}

/// ZRANDMEMBER key [count [WITHSCORES]]
pub fn zrandmember(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() == 2 {
        let pick = match lookup(server, &argv[1]) {
            Err(e) => return e,
            Ok(None) => return Reply::Nil,
            Ok(Some(z)) => z.len(),
        };
        let r = (server.random() % pick.max(1) as u64) as usize;
        return match lookup(server, &argv[1]) {
            Ok(Some(z)) => z.at_rank(r).map_or(Reply::Nil, |(m, _)| Reply::bulk(m)),
            _ => Reply::Nil,
        };
    }
    let count = match parse_i64(&argv[2]) {
        Some(i64::MIN) => {
            return Reply::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Some(n) => n,
        None => return reply::error(reply::NOT_INTEGER),
    };
    let withscores = match argv.get(3) {
        None => false,
        Some(w) if argv.len() == 4 && is(w, "withscores") => true,
        Some(_) => return reply::error(reply::SYNTAX_ERROR),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Reply::err("value is out of range");
    }
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    let len = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(z)) if z.is_empty() => return Reply::Array(Vec::new()),
        Ok(Some(z)) => z.len(),
    };
    let ranks: Vec<usize> = if count < 0 {
        if count.unsigned_abs() > MAX_RANDOM_REPLY {
            return Reply::err("value is out of range");
        }
        (0..count.unsigned_abs())
            .map(|_| (server.random() % len as u64) as usize)
            .collect()
    } else if count as u64 >= len as u64 {
        // The server hands back a whole listpack from its tail.
        (0..len).rev().collect()
    } else {
        let mut chosen = std::collections::HashSet::new();
        let mut order = Vec::new();
        while order.len() < count as usize {
            let r = (server.random() % len as u64) as usize;
            if chosen.insert(r) {
                order.push(r);
            }
        }
        order
    };
    let Ok(Some(z)) = lookup(server, &argv[1]) else {
        return Reply::Array(Vec::new());
    };
    // Many picks: one walk of the set, then an index a pick, rather than a search of the
    // tree a pick (a million of them were most of a 400 ms task in Chromium).
    let many = ranks.len() >= len / 8;
    let all = if many {
        from_rank(z, 0, len, false)
    } else {
        Vec::new()
    };
    let pick = |&r: &usize| {
        if many {
            all.get(r).copied()
        } else {
            z.at_rank(r)
        }
    };
    bulk_pairs(ranks.iter().filter_map(pick), withscores)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_op_generic(server, argv, None, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zinter(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_op_generic(server, argv, None, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_op_generic(server, argv, None, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
pub fn zunionstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let dst = argv[1].clone();
    set_op_generic(server, argv, Some(&dst), SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
pub fn zinterstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let dst = argv[1].clone();
    set_op_generic(server, argv, Some(&dst), SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub fn zdiffstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let dst = argv[1].clone();
    set_op_generic(server, argv, Some(&dst), SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_op_generic(server, argv, None, SetOp::Inter, true)
}

/// The members (with scores) of an input of a set operation: a sorted set, or a plain set
/// whose members all count with score 1.
fn source_elements(value: &Value) -> Option<Vec<(Vec<u8>, f64)>> {
    match value {
        Value::ZSet(z) => Some(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Value::Set(s) => Some(set_members(s).into_iter().map(|m| (m, 1.0)).collect()),
        _ => None,
    }
}

/// The members of a plain set (score 1 each as an input of a set operation).
fn set_members(set: &super::set::Set) -> Vec<Vec<u8>> {
    set.members()
}

/// An input of a set operation: its elements and its weight.
type Source = (Vec<(Vec<u8>, f64)>, f64);

/// Port of `zunionInterDiffGenericCommand`.
fn set_op_generic(
    server: &mut Server,
    argv: &[Vec<u8>],
    dst: Option<&[u8]>,
    op: SetOp,
    card_only: bool,
) -> Reply {
    require_part!(Part::ZsetAlgebra);
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let Some(setnum) = parse_i64(&argv[numkeys_at]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    if setnum < 1 {
        return Reply::err(format!(
            "at least 1 input key is needed for '{name}' command"
        ));
    }
    if setnum as u64 > (argv.len() - numkeys_at - 1) as u64 {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let setnum = setnum as usize;
    let now = server.now;
    let mut sources: Vec<Source> = Vec::with_capacity(setnum);
    for key in &argv[numkeys_at + 1..numkeys_at + 1 + setnum] {
        match server.db().get(key, now) {
            None => sources.push((Vec::new(), 1.0)),
            Some(entry) => match source_elements(&entry.value) {
                Some(items) => sources.push((items, 1.0)),
                None => return wrong_type(),
            },
        }
    }
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_at + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let opt = argv[j].as_slice();
        if op != SetOp::Diff && !card_only && remaining > setnum && is(opt, "weights") {
            for (i, source) in sources.iter_mut().enumerate() {
                match parse_score(&argv[j + 1 + i]) {
                    Some(w) => source.1 = w,
                    None => return Reply::err("weight value is not a float"),
                }
            }
            j += 1 + setnum;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(opt, "aggregate") {
            aggregate = match argv[j + 1].as_slice() {
                a if is(a, "sum") => Aggregate::Sum,
                a if is(a, "min") => Aggregate::Min,
                a if is(a, "max") => Aggregate::Max,
                _ => return reply::error(reply::SYNTAX_ERROR),
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(opt, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(opt, "limit") {
            match parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => return Reply::err("LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
    }
    let combine = |acc: &mut f64, v: f64| match aggregate {
        Aggregate::Sum => {
            *acc += v;
            // +inf plus -inf: the server keeps the convention that the result is 0.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Aggregate::Min => *acc = acc.min(v),
        Aggregate::Max => *acc = acc.max(v),
    };
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result = ZSet::new();
    match op {
        SetOp::Inter => {
            // Smallest input first, as the server iterates, so sums add in its order.
            crate::sort::sort_by_key(&mut sources, |(items, _)| items.len());
            let lookups: Vec<HashMap<&[u8], f64, Fx>> = sources
                .iter()
                .map(|(items, _)| items.iter().map(|(m, s)| (m.as_slice(), *s)).collect())
                .collect();
            let mut count = 0usize;
            if let Some((first, w0)) = sources.first() {
                'outer: for (m, s) in first {
                    let mut score = weighted(*s, *w0);
                    for (other, (_, w)) in lookups.iter().zip(&sources).skip(1) {
                        match other.get(m.as_slice()) {
                            Some(&v) => combine(&mut score, weighted(v, *w)),
                            None => continue 'outer,
                        }
                    }
                    if card_only {
                        count += 1;
                        if limit != 0 && count >= limit {
                            break;
                        }
                    } else {
                        result.insert(m, score);
                    }
                }
            }
            if card_only {
                return Reply::Integer(count as i64);
            }
        }
        SetOp::Union => {
            crate::sort::sort_by_key(&mut sources, |(items, _)| items.len());
            let mut acc: HashMap<Vec<u8>, f64, Fx> = HashMap::default();
            for (items, w) in &sources {
                for (m, s) in items {
                    let v = weighted(*s, *w);
                    match acc.get_mut(m) {
                        Some(cur) => combine(cur, v),
                        None => {
                            acc.insert(m.clone(), v);
                        }
                    }
                }
            }
            for (m, s) in acc {
                result.insert(&m, s);
            }
        }
        SetOp::Diff => {
            let others: Vec<HashMap<&[u8], (), Fx>> = sources
                .iter()
                .skip(1)
                .map(|(items, _)| items.iter().map(|(m, _)| (m.as_slice(), ())).collect())
                .collect();
            if let Some((first, _)) = sources.first() {
                for (m, s) in first {
                    if !others.iter().any(|o| o.contains_key(m.as_slice())) {
                        result.insert(m, *s);
                    }
                }
            }
        }
    }
    match dst {
        Some(dst) => Reply::Integer(store(server, dst, result) as i64),
        None => bulk_pairs(result.iter(), withscores),
    }
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count] [NOSCORES]
///
/// A listpack-encoded set is returned whole in one call, as the server does; larger sets
/// are walked in rank order, the cursor being the next rank.
pub fn zscan(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(cursor) = std::str::from_utf8(&argv[2])
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok())
    else {
        return Reply::err("invalid cursor");
    };
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut noscores = false;
    let mut i = 3;
    while i < argv.len() {
        let opt = argv[i].as_slice();
        if is(opt, "noscores") {
            noscores = true;
            i += 1;
            continue;
        }
        let Some(value) = argv.get(i + 1) else {
            return reply::error(reply::SYNTAX_ERROR);
        };
        if is(opt, "count") {
            match parse_i64(value) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => return reply::error(reply::SYNTAX_ERROR),
                None => return reply::error(reply::NOT_INTEGER),
            }
        } else if is(opt, "match") {
            pattern = (value.as_slice() != b"*").then_some(value.as_slice());
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        i += 2;
    }
    let z = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => {
            return Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]);
        }
        Ok(Some(z)) => z,
    };
    let (start, take) = if z.skiplist {
        (cursor.min(z.len() as u64) as usize, count)
    } else {
        (0, usize::MAX)
    };
    let mut items = Bulks::with_capacity(0, 0);
    let mut seen = 0;
    if start < z.len() {
        for (m, s) in z.iter_from_rank(start, false).take(take) {
            seen += 1;
            if pattern.is_some_and(|p| !glob_match(p, m, false)) {
                continue;
            }
            if noscores {
                items.push(m);
            } else {
                items.push_scored(m, s);
            }
        }
    }
    let next = start + seen;
    let next = if next >= z.len() { 0 } else { next };
    Reply::Array(vec![
        Reply::Bulk(next.to_string().into_bytes()),
        items.into_reply(),
    ])
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
    fn scores_print_as_the_server_prints_them() {
        let cases = [
            (0.1, "0.1"),
            (1.5, "1.5"),
            (1e20, "1e+20"),
            (1e19, "1e+19"),
            (1e18, "1000000000000000000"),
            (1.2345678901234567e18, "1234567890123456768"),
            (1.2345678901234567e19, "12345678901234567000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (0.000123456, "1.23456e-4"),
            (1.5e-5, "0.000015"),
            (-1.5e-10, "-1.5e-10"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.12345678901234568, "0.12345678901234568"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "0"),
        ];
        for (v, text) in cases {
            assert_eq!(format_score(v), text, "{v:e}");
        }
    }

    /// Scores are written as from the digits `{:e}` gives, whichever way they are found
    /// (short decimals, the shortest text, `{:e}` itself for 16 digits or more), for
    /// doubles of every magnitude (random bit patterns), typed decimals and powers of ten.
    #[test]
    fn scores_are_written_from_the_shortest_round_trip_digits() {
        let reference = |v: f64| {
            let sci = format!("{:e}", v.abs());
            let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
            let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
            let k = exp.parse::<i32>().unwrap_or(i32::MIN) - (digits.len() as i32 - 1);
            let mut text = ScoreText::empty();
            if v < 0.0 {
                text.push(b"-");
            }
            text.emit_digits(digits.as_bytes(), k, v < 0.0);
            String::from_utf8_lossy(text.as_bytes()).into_owned()
        };
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut values: Vec<f64> = (0..200_000)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                f64::from_bits(rng)
            })
            .collect();
        values.extend((1..50_000).map(|i| f64::from(i) * 0.01));
        values.extend((1..50_000).map(|i| f64::from(i) * 1.37));
        values.extend((1..20_000).map(|i| f64::from(i) / 1024.0 - 3.0));
        values.extend((-330..309).map(|e| 10f64.powi(e)));
        values.extend([
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1.0 / 3.0,
            999_999.999_999,
        ]);
        let limit = (i64::MAX / 2) as f64;
        for v in values {
            if !v.is_finite() || (v.abs() <= limit && v.fract() == 0.0) {
                continue;
            }
            assert_eq!(format_score(v), reference(v), "{v:e}");
        }
    }

    #[test]
    fn commands_reply_like_the_real_server() {
        let mut s = Server::new();
        let cases = [
            ("ZADD z 1 a 2 b 3 c", "(integer) 3\n"),
            ("ZADD z xx nx 1 a", "(error) ERR XX and NX options at the same time are not compatible\n"),
            ("ZADD z gt lt 1 a", "(error) ERR GT, LT, and/or NX options at the same time are not compatible\n"),
            ("ZADD z incr 1 a 2 b", "(error) ERR INCR option supports a single increment-element pair\n"),
            ("ZADD z nan a", "(error) ERR value is not a valid float\n"),
            ("ZADD z nx 1", "(error) ERR syntax error\n"),
            ("ZADD z ch gt 5 a 0 b 9 d", "(integer) 2\n"),
            ("ZINCRBY z 1.5 c", "\"4.5\"\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "1) \"b\"\n2) \"2\"\n3) \"c\"\n4) \"4.5\"\n5) \"a\"\n6) \"5\"\n7) \"d\"\n8) \"9\"\n"),
            ("ZRANGEBYSCORE z (2 +inf LIMIT 1 1", "1) \"a\"\n"),
            ("ZREVRANGE z 0 1", "1) \"d\"\n2) \"a\"\n"),
            ("ZRANK z a WITHSCORE", "1) (integer) 2\n2) \"5\"\n"),
            ("ZREVRANK z a", "(integer) 1\n"),
            ("ZCOUNT z (2 5", "(integer) 2\n"),
            ("ZCOUNT z x 5", "(error) ERR min or max is not a float\n"),
            ("ZRANGE z 0 -1 BYLEX WITHSCORES", "(error) ERR syntax error, WITHSCORES not supported in combination with BYLEX\n"),
            ("ZRANGE z 0 1 LIMIT 0 1", "(error) ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\n"),
            ("ZPOPMIN z", "1) \"b\"\n2) \"2\"\n"),
            ("ZPOPMAX z 2", "1) \"d\"\n2) \"9\"\n3) \"a\"\n4) \"5\"\n"),
            ("ZADD z incr inf c", "\"inf\"\n"),
            ("ZINCRBY z -inf c", "(error) ERR resulting score is not a number (NaN)\n"),
            ("OBJECT ENCODING z", "\"listpack\"\n"),
            ("ZMPOP 1 z MIN COUNT 5", "1) \"z\"\n2) 1) 1) \"c\"\n      2) \"inf\"\n"),
            ("EXISTS z", "(integer) 0\n"),
            ("ZADD a 1 x 2 y", "(integer) 2\n"),
            ("ZADD b 10 y 20 z", "(integer) 2\n"),
            ("ZUNION 2 a b WITHSCORES", "1) \"x\"\n2) \"1\"\n3) \"y\"\n4) \"12\"\n5) \"z\"\n6) \"20\"\n"),
            ("ZINTERSTORE d 2 a b WEIGHTS 2 1 AGGREGATE MAX", "(integer) 1\n"),
            ("ZSCORE d y", "\"10\"\n"),
            ("ZDIFF 2 a b", "1) \"x\"\n"),
            ("ZINTERCARD 2 a b", "(integer) 1\n"),
            ("ZUNION 0 a", "(error) ERR at least 1 input key is needed for 'zunion' command\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), expected, "{line}");
        }
    }

    #[test]
    fn encoding_grows_from_listpack_to_skiplist_and_stays() {
        let mut s = Server::new();
        for i in 0..128 {
            run(&mut s, &format!("ZADD z {i} m{i}"));
        }
        assert_eq!(run(&mut s, "OBJECT ENCODING z"), "\"listpack\"\n");
        run(&mut s, "ZADD z 1 extra");
        assert_eq!(run(&mut s, "OBJECT ENCODING z"), "\"skiplist\"\n");
        run(&mut s, "ZREMRANGEBYRANK z 0 -3");
        assert_eq!(run(&mut s, "ZCARD z"), "(integer) 2\n");
        assert_eq!(run(&mut s, "OBJECT ENCODING z"), "\"skiplist\"\n");
    }

    #[test]
    fn ranks_stay_consistent_through_many_updates() {
        let mut z = ZSet::new();
        let mut seed = 7u64;
        for _ in 0..5_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let m = format!("m{}", (seed >> 33) % 700);
            if (seed >> 20).is_multiple_of(4) {
                z.remove(m.as_bytes());
            } else {
                z.insert(m.as_bytes(), ((seed >> 40) % 50) as f64);
            }
        }
        let all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(all.len(), z.len());
        for (i, (m, s)) in all.iter().enumerate() {
            assert_eq!(z.rank(m, false), Some((i, *s)));
            assert_eq!(z.at_rank(i).map(|(m, _)| m.to_vec()), Some(m.clone()));
        }
        assert!(all
            .windows(2)
            .all(|w| (w[0].1, &w[0].0) < (w[1].1, &w[1].0)));
    }

    #[test]
    fn members_inline_or_not_order_hash_and_compare_as_their_bytes() {
        let long = "x".repeat(tree::INLINE_MEMBER);
        let longer = "x".repeat(tree::INLINE_MEMBER + 1);
        let names = [
            "",
            "a",
            "a\0",
            long.as_str(),
            longer.as_str(),
            "xy",
            "\u{ff}",
        ];
        let mut z = ZSet::new();
        for (i, m) in names.iter().enumerate() {
            assert!(z.insert(m.as_bytes(), 1.0), "{m:?} is new");
            assert_eq!(z.score(m.as_bytes()), Some(1.0));
            assert_eq!(z.len(), i + 1);
        }
        let mut sorted: Vec<&[u8]> = names.iter().map(|m| m.as_bytes()).collect();
        crate::sort::sort(&mut sorted);
        let order: Vec<&[u8]> = z.iter().map(|(m, _)| m).collect();
        assert_eq!(order, sorted);
        assert!(
            !z.insert(longer.as_bytes(), 2.0),
            "the same bytes are the same member"
        );
        assert_eq!(z.remove(long.as_bytes()), Some(1.0));
        assert_eq!(z.score(long.as_bytes()), None);
        assert_eq!(z.score(longer.as_bytes()), Some(2.0));
        check_order(&z);
    }

    fn check_order(z: &ZSet) {
        let all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(all.len(), z.len());
        assert!(all
            .windows(2)
            .all(|w| (w[0].1, &w[0].0) < (w[1].1, &w[1].0)));
        let back: Vec<Vec<u8>> = z.iter_from_rank(0, true).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(back.len(), all.len());
        for (i, (m, s)) in all.iter().enumerate().step_by(97) {
            assert_eq!(z.rank(m, false), Some((i, *s)));
            assert_eq!(z.at_rank(i).map(|(m, _)| m.to_vec()), Some(m.clone()));
            assert_eq!(&back[all.len() - 1 - i], m);
        }
    }

    #[test]
    fn the_tree_survives_growth_and_shrinking() {
        let mut z = ZSet::new();
        let mut seed = 11u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for i in 0..60_000u64 {
            z.insert(format!("m{i}").as_bytes(), (next() % 1000) as f64);
        }
        check_order(&z);
        let range = ScoreRange {
            min: 100.0,
            max: 200.0,
            minex: true,
            maxex: false,
        };
        let counted = z.iter_score(&range, false).count();
        assert_eq!(z.count_score(&range), counted);
        assert_eq!(z.iter_score(&range, true).count(), counted);
        for i in 0..60_000u64 {
            if next() % 10 != 0 {
                z.remove(format!("m{i}").as_bytes());
            }
        }
        check_order(&z);
        assert_eq!(z.count_score(&range), z.iter_score(&range, false).count());
        for i in 0..60_000u64 {
            z.remove(format!("m{i}").as_bytes());
        }
        assert!(z.is_empty());
        assert_eq!(z.iter().count(), 0);
        z.insert(b"again", 1.0);
        check_order(&z);
    }

    /// Every query's reply on `key`, to compare two sets' replies.
    fn queries(s: &mut Server, key: &str) -> Vec<String> {
        [
            "ZRANGE {} 0 -1 WITHSCORES",
            "ZREVRANGE {} 3 40 WITHSCORES",
            "ZRANGE {} -5 -1",
            "ZRANK {} m7 WITHSCORE",
            "ZREVRANK {} m130",
            "ZSCORE {} m64",
            "ZCOUNT {} (10 30",
            "ZRANGEBYSCORE {} 5 (25 WITHSCORES LIMIT 2 7",
            "ZREVRANGEBYSCORE {} +inf 20 LIMIT 0 3",
            "ZRANGE {} [m1 (m5 BYLEX",
            "ZLEXCOUNT {} - +",
            "ZCARD {}",
        ]
        .iter()
        .map(|q| run(s, &q.replace("{}", key)))
        .collect()
    }

    /// The model's elements as ZRANGE WITHSCORES prints them.
    fn model_reply(model: &std::collections::BTreeMap<String, f64>) -> String {
        let mut sorted: Vec<(f64, &String)> = model.iter().map(|(m, s)| (*s, m)).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        let mut items = Vec::new();
        for (s, m) in sorted {
            items.push(Reply::Bulk(m.clone().into_bytes()));
            items.push(Reply::Bulk(format_score(s).into_bytes()));
        }
        Reply::Array(items).to_cli_text()
    }

    /// A set grown past the small body's limit and shrunk back (it keeps the large body)
    /// answers every query as a set built afresh from the same elements (small when it
    /// fits), and both as the model does, on the way up and down to empty.
    #[test]
    fn small_and_large_bodies_answer_alike_across_the_limit() {
        let mut s = Server::new();
        let mut model = std::collections::BTreeMap::new();
        let mut seed = 5u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let check = |s: &mut Server, model: &std::collections::BTreeMap<String, f64>| {
            run(s, "DEL fresh");
            for (m, score) in model {
                run(s, &format!("ZADD fresh {} {m}", format_score(*score)));
            }
            assert_eq!(run(s, "ZRANGE grown 0 -1 WITHSCORES"), model_reply(model));
            assert_eq!(
                queries(s, "grown"),
                queries(s, "fresh"),
                "{} members",
                model.len()
            );
            run(s, "ZRANGESTORE copy grown 0 -1");
            run(
                s,
                "ZUNIONSTORE union 2 grown fresh WEIGHTS 1 0 AGGREGATE MAX",
            );
            for key in ["copy", "union"] {
                assert_eq!(queries(s, key), queries(s, "grown"), "{key}");
            }
        };
        // Growing past 128 one ZADD at a time, with updates and increments on the way.
        for i in 0..300u64 {
            let score = (next() % 40) as f64;
            run(&mut s, &format!("ZADD grown {score} m{i}"));
            model.insert(format!("m{i}"), score);
            let old = format!("m{}", next() % (i + 1));
            let by = (next() % 5) as f64;
            run(&mut s, &format!("ZINCRBY grown {by} {old}"));
            *model.entry(old).or_insert(0.0) += by;
            if i % 7 == 0 || (120..140).contains(&i) {
                check(&mut s, &model);
            }
        }
        // Shrinking through each removal path down to empty.
        let mut step = 0;
        while !model.is_empty() {
            step += 1;
            let mut sorted: Vec<(f64, String)> =
                model.iter().map(|(m, s)| (*s, m.clone())).collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let gone: Vec<String> = match step % 4 {
                0 => {
                    let m = sorted[(next() as usize) % sorted.len()].1.clone();
                    run(&mut s, &format!("ZREM grown {m} absent"));
                    vec![m]
                }
                1 => {
                    run(&mut s, "ZPOPMIN grown 3");
                    sorted.iter().take(3).map(|e| e.1.clone()).collect()
                }
                2 => {
                    let lo = sorted[0].0;
                    run(
                        &mut s,
                        &format!("ZREMRANGEBYSCORE grown -inf {}", format_score(lo)),
                    );
                    sorted
                        .iter()
                        .filter(|e| e.0 <= lo)
                        .map(|e| e.1.clone())
                        .collect()
                }
                _ => {
                    run(&mut s, "ZREMRANGEBYRANK grown -2 -1");
                    sorted.iter().rev().take(2).map(|e| e.1.clone()).collect()
                }
            };
            for m in gone {
                model.remove(&m);
            }
            check(&mut s, &model);
        }
        assert_eq!(run(&mut s, "EXISTS grown"), "(integer) 0\n");
        // ZREMRANGEBYLEX empties a set of equal scores, large and small.
        for n in [200, 20] {
            for i in 0..n {
                run(&mut s, &format!("ZADD lex 0 m{i:03}"));
            }
            assert_eq!(
                run(&mut s, "ZREMRANGEBYLEX lex [m000 (m010"),
                "(integer) 10\n"
            );
            assert_eq!(
                run(&mut s, "ZLEXCOUNT lex - +"),
                format!("(integer) {}\n", n - 10)
            );
            assert_eq!(
                run(&mut s, "ZREMRANGEBYLEX lex - +"),
                format!("(integer) {}\n", n - 10)
            );
            assert_eq!(run(&mut s, "EXISTS lex"), "(integer) 0\n");
        }
    }

    /// `cargo test --release -- --ignored zadd_throughput --nocapture`
    #[test]
    #[ignore]
    fn zadd_throughput() {
        zadd_into_one_set(1_000_000, 1_000_000);
        zadd_into_one_set(1_000_000, 20_000);
        // The same machine's std BTreeMap, as a yardstick for memory and load.
        let mut b = std::collections::BTreeMap::new();
        let started = std::time::Instant::now();
        for i in 0..1_000_000u64 {
            let score = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            b.insert((score, format!("member:{i}").into_bytes()), ());
        }
        let secs = started.elapsed().as_secs_f64();
        println!("std BTreeMap, 1M inserts: {:.0} ops/s", 1e6 / secs);
    }

    /// `n` ZADDs over `distinct` members of one set, through the command path.
    fn zadd_into_one_set(n: u64, distinct: u64) {
        let mut s = Server::new();
        let lines: Vec<Vec<Vec<u8>>> = (0..n)
            .map(|i: u64| {
                let score = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40).to_string();
                vec![
                    b"ZADD".to_vec(),
                    b"big".to_vec(),
                    score.into_bytes(),
                    format!("member:{}", i % distinct).into_bytes(),
                ]
            })
            .collect();
        let started = std::time::Instant::now();
        for argv in &lines {
            s.execute(argv, 0);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{n} ZADD into one set of {distinct} members: {:.0} ops/s",
            n as f64 / secs
        );
    }
}
