//! Geo commands: points stored in a sorted set whose scores are 52-bit interleaved
//! geohashes (ports of Redis's geohash.c, geohash_helper.c and geo.c), so that scores,
//! positions and distances come out bit for bit as the server's.
//!
//! Built without the `geo` feature (the page's first module) only the geohash helpers are used
//! (the page draws a snapshot's geo set as a map); the GEO* commands answer that they are not
//! loaded, and the linker drops the search code they alone reach.
#![cfg_attr(not(feature = "geo"), allow(dead_code, unused_imports))]

use super::zset::{self, AddFlags, AddOutcome, ScoreRange, ZSet};
use super::Value;
use crate::redis::reply::{self, Reply};
use crate::redis::util::parse_i64;
use crate::redis::Server;

const STEP_MAX: u8 = 26;
const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;

#[allow(clippy::excessive_precision)]
const DEG_TO_RAD: f64 = 0.017453292519943295769236907684886;
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

// ---------------------------------------------------------------------------------------
// geohash.c
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct HashBits {
    bits: u64,
    step: u8,
}

impl HashBits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Range {
    min: f64,
    max: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Area {
    longitude: Range,
    latitude: Range,
}

const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Bits of `x` in the even positions, bits of `y` in the odd ones.
fn interleave64(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse: even bits in the low half, odd bits in the high half.
fn deinterleave64(v: u64) -> u64 {
    fn squash(mut v: u64) -> u64 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    squash(v) | (squash(v >> 1) << 32)
}

/// Port of `geohashEncode`.
fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(-180.0..=180.0).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// Port of `geohashDecode`.
fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    })
}

/// Port of `geohashDecodeAreaToLongLat`: the centre of the cell, clamped.
fn area_center(area: &Area) -> (f64, f64) {
    let x = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (x, y)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555_5555_5555_5555u64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

/// The eight cells around `hash`, in the order `membersOfAllNeighbors` visits them after
/// the centre: north, south, east, west, north-east, north-west, south-east, south-west.
fn neighbors(hash: HashBits) -> [HashBits; 8] {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    [
        moved(0, 1),
        moved(0, -1),
        moved(1, 0),
        moved(-1, 0),
        moved(1, 1),
        moved(-1, 1),
        moved(1, -1),
        moved(-1, -1),
    ]
}

// ---------------------------------------------------------------------------------------
// geohash_helper.c
// ---------------------------------------------------------------------------------------

fn deg_rad(ang: f64) -> f64 {
    ang * DEG_TO_RAD
}

fn rad_deg(ang: f64) -> f64 {
    ang / DEG_TO_RAD
}

fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

#[derive(Debug, Clone, Copy)]
enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// Redis's `GeoShape`: a centre, a shape in the user's unit, and the unit in metres.
#[derive(Debug, Clone, Copy)]
struct Shape {
    xy: (f64, f64),
    conversion: f64,
    kind: ShapeKind,
}

/// Port of `geohashBoundingBox`: (min_lon, min_lat, max_lon, max_lat).
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let (longitude, latitude) = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box { width, height } => (
            shape.conversion * (height / 2.0),
            shape.conversion * (width / 2.0),
        ),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    let delta = if southern {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        longitude - delta,
        latitude - lat_delta,
        longitude + delta,
        latitude + lat_delta,
    ]
}

/// Port of `geohashCalculateAreasByShapeWGS84`: the centre cell and the neighbours worth
/// searching (zeroed when useless).
fn areas_by_shape(shape: &Shape) -> (HashBits, [HashBits; 8]) {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let (longitude, latitude) = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let locate = |steps: u8| {
        let hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
        let area = decode(WGS84_LONG, WGS84_LAT, hash).unwrap_or_default();
        (hash, neighbors(hash), area)
    };
    let (mut hash, mut around, mut area) = locate(steps);
    let cell = |h: HashBits| decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
    let (north, south, east, west) = (
        cell(around[0]),
        cell(around[1]),
        cell(around[2]),
        cell(around[3]),
    );
    let decrease = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, around, area) = locate(steps);
    }
    if steps >= 2 {
        let zero = HashBits::default();
        // Indexes: 0 N, 1 S, 2 E, 3 W, 4 NE, 5 NW, 6 SE, 7 SW.
        if area.latitude.min < min_lat {
            for i in [1, 7, 6] {
                around[i] = zero;
            }
        }
        if area.latitude.max > max_lat {
            for i in [0, 4, 5] {
                around[i] = zero;
            }
        }
        if area.longitude.min < min_lon {
            for i in [3, 7, 5] {
                around[i] = zero;
            }
        }
        if area.longitude.max > max_lon {
            for i in [2, 6, 4] {
                around[i] = zero;
            }
        }
    }
    (hash, around)
}

fn align52(hash: HashBits) -> u64 {
    hash.bits
        .checked_shl(52 - u32::from(hash.step) * 2)
        .unwrap_or(0)
}

fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Port of `geohashGetDistance`: the haversine great-circle distance in metres.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

// ---------------------------------------------------------------------------------------
// geo.c
// ---------------------------------------------------------------------------------------

/// The 52-bit score a point is stored with.
pub fn score_of(longitude: f64, latitude: f64) -> Option<f64> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, STEP_MAX).map(|h| align52(h) as f64)
}

/// Port of `decodeGeohash`: the point a score stands for.
pub fn point_of(score: f64) -> Option<(f64, f64)> {
    let hash = HashBits {
        bits: score as u64,
        step: STEP_MAX,
    };
    decode(WGS84_LONG, WGS84_LAT, hash).map(|a| area_center(&a))
}

/// Redis's `addReplyHumanLongDouble`: `%.17Lf` with trailing zeros dropped.
fn human(v: f64) -> Reply {
    let mut text = format!("{v:.17}");
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    if text == "-0" {
        text = "0".into();
    }
    Reply::Bulk(text.into_bytes())
}

/// Redis's `addReplyDoubleDistance`: four decimals, rounded to nearest even as llrint does.
fn distance_reply(d: f64) -> Reply {
    Reply::Bulk(distance_text(d).into_bytes())
}

fn distance_text(d: f64) -> String {
    let scaled = (d * 10_000.0).round_ties_even();
    if d == 0.0 {
        "0.0000".to_string()
    } else {
        let negative = scaled < 0.0;
        let value = scaled.abs() as u64;
        format!(
            "{}{}.{:04}",
            if negative { "-" } else { "" },
            value / 10_000,
            value % 10_000
        )
    }
}

/// What `GEODIST key a b km` prints for two members stored with these scores.
pub fn distance_km_text(a: f64, b: f64) -> Option<String> {
    let (x1, y1) = point_of(a)?;
    let (x2, y2) = point_of(b)?;
    Some(distance_text(distance(x1, y1, x2, y2) / 1000.0))
}

/// Whether a score is a geohash GEOADD could have stored: an integer below 2^52.
pub fn is_geohash(score: f64) -> bool {
    score.fract() == 0.0 && (0.0..4_503_599_627_370_496.0).contains(&score)
}

fn parse_lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), Reply> {
    let not_float = || Reply::err("value is not a valid float");
    let x = zset::parse_score(lon).ok_or_else(not_float)?;
    let y = zset::parse_score(lat).ok_or_else(not_float)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(Reply::err(format!(
            "invalid longitude,latitude pair {},{}",
            c_fixed(x),
            c_fixed(y)
        )));
    }
    Ok((x, y))
}

/// printf's `%f`.
fn c_fixed(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:.6}")
    }
}

fn parse_unit(unit: &[u8]) -> Result<f64, Reply> {
    match unit.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(Reply::err(
            "unsupported unit provided. please use M, KM, FT, MI",
        )),
    }
}

fn parse_radius(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), Reply> {
    let r = zset::parse_score(radius).ok_or_else(|| Reply::err("need numeric radius"))?;
    if r < 0.0 {
        return Err(Reply::err("radius cannot be negative"));
    }
    Ok((r, parse_unit(unit)?))
}

fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), Reply> {
    let w = zset::parse_score(width).ok_or_else(|| Reply::err("need numeric width"))?;
    let h = zset::parse_score(height).ok_or_else(|| Reply::err("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(Reply::err("height or width cannot be negative"));
    }
    Ok((w, h, parse_unit(unit)?))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
#[cfg(feature = "geo")]
pub fn geoadd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut flags = AddFlags::default();
    let mut ch = false;
    let mut at = 2;
    while let Some(opt) = argv.get(at) {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => flags.nx = true,
            b"xx" => flags.xx = true,
            b"ch" => ch = true,
            _ => break,
        }
        at += 1;
    }
    let triples = &argv[at..];
    if !triples.len().is_multiple_of(3) || (flags.xx && flags.nx) || triples.is_empty() {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let mut points = Vec::with_capacity(triples.len() / 3);
    for t in triples.chunks_exact(3) {
        match parse_lon_lat(&t[0], &t[1]) {
            Ok((x, y)) => points.push((score_of(x, y).unwrap_or(0.0), &t[2])),
            Err(e) => return e,
        }
    }
    let key = &argv[1];
    let now = server.now;
    match zset::lookup(server, key) {
        Err(e) => return e,
        Ok(Some(_)) => {}
        Ok(None) if flags.xx => return Reply::Integer(0),
        Ok(None) => {
            let z = ZSet::with_hint(points.len(), points.first().map_or(0, |p| p.1.len()));
            server.db().set(key, Value::ZSet(Box::new(z)), now);
        }
    }
    let Ok(Some(z)) = zset::lookup(server, key) else {
        return Reply::Integer(0);
    };
    let mut changed = 0;
    let mut written = false;
    for (score, member) in points {
        match z.add(member, score, flags) {
            AddOutcome::Added(_) => {
                changed += 1;
                written = true;
            }
            AddOutcome::Updated(_) => {
                changed += i64::from(ch);
                written = true;
            }
            _ => {}
        }
    }
    if written {
        z.mark_geo(true);
    }
    Reply::Integer(changed)
}

/// GEOPOS key [member ...]
#[cfg(feature = "geo")]
pub fn geopos(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let z = match zset::lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(z) => z,
    };
    Reply::Array(
        argv[2..]
            .iter()
            .map(
                |m| match z.as_ref().and_then(|z| z.score(m)).and_then(point_of) {
                    Some((x, y)) => Reply::Array(vec![human(x), human(y)]),
                    None => Reply::NilArray,
                },
            )
            .collect(),
    )
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
#[cfg(feature = "geo")]
pub fn geodist(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let to_meter = match argv.len() {
        5 => match parse_unit(&argv[4]) {
            Ok(u) => u,
            Err(e) => return e,
        },
        n if n > 5 => return reply::error(reply::SYNTAX_ERROR),
        _ => 1.0,
    };
    let z = match zset::lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(z)) => z,
    };
    let a = z.score(&argv[2]).and_then(point_of);
    let b = z.score(&argv[3]).and_then(point_of);
    match (a, b) {
        (Some((x1, y1)), Some((x2, y2))) => distance_reply(distance(x1, y1, x2, y2) / to_meter),
        _ => Reply::Nil,
    }
}

/// GEOHASH key [member ...]
#[cfg(feature = "geo")]
pub fn geohash(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let z = match zset::lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(z) => z,
    };
    let standard_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    Reply::Array(
        argv[2..]
            .iter()
            .map(|m| {
                let Some((x, y)) = z.as_ref().and_then(|z| z.score(m)).and_then(point_of) else {
                    return Reply::Nil;
                };
                // Re-encoded over the standard -90..90 latitude range, so that the text is a
                // geohash other tools understand.
                let bits = encode(WGS84_LONG, standard_lat, x, y, STEP_MAX).map_or(0, |h| h.bits);
                let text: Vec<u8> = (0..11)
                    .map(|i| {
                        let idx = if i == 10 {
                            0
                        } else {
                            (bits >> (52 - (i + 1) * 5)) & 0x1f
                        };
                        ALPHABET[idx as usize]
                    })
                    .collect();
                Reply::Bulk(text)
            })
            .collect(),
    )
}

/// A point found by a search.
#[derive(Debug, Clone)]
struct Found {
    member: Vec<u8>,
    score: f64,
    dist: f64,
    longitude: f64,
    latitude: f64,
}

/// Port of `geoAppendIfWithinShape`.
fn within_shape(shape: &Shape, score: f64) -> Option<(f64, f64, f64)> {
    let (x, y) = point_of(score)?;
    let (cx, cy) = shape.xy;
    let dist = match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(cx, cy, x, y);
            if d > r * shape.conversion {
                return None;
            }
            d
        }
        ShapeKind::Box { width, height } => {
            if lat_distance(y, cy) > height * shape.conversion / 2.0 {
                return None;
            }
            if distance(x, y, cx, y) > width * shape.conversion / 2.0 {
                return None;
            }
            distance(cx, cy, x, y)
        }
    };
    Some((dist, x, y))
}

/// Port of `membersOfAllNeighbors`: the centre cell and its neighbours, each a score range.
fn search(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let (hash, around) = areas_by_shape(shape);
    let mut cells = vec![hash];
    cells.extend_from_slice(&around);
    let mut found = Vec::new();
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !found.is_empty() && limit != 0 && found.len() >= limit {
            break;
        }
        let min = align52(*cell) as f64;
        let max = align52(HashBits {
            bits: cell.bits.wrapping_add(1),
            step: cell.step,
        }) as f64;
        let range = ScoreRange {
            min,
            max,
            minex: false,
            maxex: true,
        };
        for (member, score) in z.iter_score(&range, false) {
            if let Some((dist, longitude, latitude)) = within_shape(shape, score) {
                found.push(Found {
                    member: member.to_vec(),
                    score,
                    dist,
                    longitude,
                    latitude,
                });
                if limit != 0 && found.len() >= limit {
                    break;
                }
            }
        }
        last_processed = i;
    }
    found
}

const RADIUS_COORDS: u8 = 1;
const RADIUS_MEMBER: u8 = 2;
const RADIUS_NOSTORE: u8 = 4;
const GEOSEARCH: u8 = 8;
const GEOSEARCHSTORE: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

fn member_missing(member: &[u8]) -> Reply {
    Reply::err(format!(
        "member {} does not exist",
        String::from_utf8_lossy(member)
    ))
}

/// Port of `georadiusGeneric`, shared by GEORADIUS*, GEOSEARCH and GEOSEARCHSTORE.
fn radius_generic(server: &mut Server, argv: &[Vec<u8>], src: usize, flags: u8) -> Reply {
    let z = match zset::lookup(server, &argv[src]) {
        Err(e) => return e,
        Ok(z) => z.map(|z| &*z),
    };
    let mut xy = (0.0, 0.0);
    let mut conversion = 1.0;
    let mut kind = ShapeKind::Radius(0.0);
    let mut storekey: Option<&[u8]> = None;
    let mut storedist = false;
    let base;
    if flags & RADIUS_COORDS != 0 {
        base = 6;
        match parse_lon_lat(&argv[2], &argv[3]) {
            Ok(p) => xy = p,
            Err(e) => return e,
        }
        match parse_radius(&argv[4], &argv[5]) {
            Ok((r, c)) => (kind, conversion) = (ShapeKind::Radius(r), c),
            Err(e) => return e,
        }
    } else if flags & RADIUS_MEMBER != 0 {
        base = 5;
        if let Some(z) = z {
            match z.score(&argv[2]).and_then(point_of) {
                Some(p) => xy = p,
                None => return member_missing(&argv[2]),
            }
            match parse_radius(&argv[3], &argv[4]) {
                Ok((r, c)) => (kind, conversion) = (ShapeKind::Radius(r), c),
                Err(e) => return e,
            }
        }
    } else if flags & GEOSEARCHSTORE != 0 {
        base = 3;
        storekey = Some(&argv[1]);
    } else {
        base = 2;
    }
    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let rest = &argv[base.min(argv.len())..];
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i].to_ascii_lowercase();
        let left = rest.len() - i - 1;
        let search = flags & GEOSEARCH != 0;
        let can_store = flags & RADIUS_NOSTORE == 0 && !search;
        match arg.as_slice() {
            b"withdist" => withdist = true,
            b"withhash" => withhash = true,
            b"withcoord" => withcoords = true,
            b"any" => any = true,
            b"asc" => sort = Sort::Asc,
            b"desc" => sort = Sort::Desc,
            b"count" if left >= 1 => {
                match parse_i64(&rest[i + 1]) {
                    Some(n) if n > 0 => count = n,
                    Some(_) => return Reply::err("COUNT must be > 0"),
                    None => return reply::error(reply::NOT_INTEGER),
                }
                i += 1;
            }
            b"store" if left >= 1 && can_store => {
                storekey = Some(&rest[i + 1]);
                storedist = false;
                i += 1;
            }
            b"storedist" if left >= 1 && can_store => {
                storekey = Some(&rest[i + 1]);
                storedist = true;
                i += 1;
            }
            b"storedist" if search && flags & GEOSEARCHSTORE != 0 => storedist = true,
            b"frommember" if left >= 1 && search && !fromloc => {
                if let Some(z) = z {
                    match z.score(&rest[i + 1]).and_then(point_of) {
                        Some(p) => xy = p,
                        None => return member_missing(&rest[i + 1]),
                    }
                }
                frommember = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && search && !frommember => {
                match parse_lon_lat(&rest[i + 1], &rest[i + 2]) {
                    Ok(p) => xy = p,
                    Err(e) => return e,
                }
                fromloc = true;
                i += 2;
            }
            b"byradius" if left >= 2 && search && !bybox => {
                match parse_radius(&rest[i + 1], &rest[i + 2]) {
                    Ok((r, c)) => (kind, conversion) = (ShapeKind::Radius(r), c),
                    Err(e) => return e,
                }
                byradius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && search && !byradius => {
                match parse_box(&rest[i + 1], &rest[i + 2], &rest[i + 3]) {
                    Ok((width, height, c)) => {
                        (kind, conversion) = (ShapeKind::Box { width, height }, c)
                    }
                    Err(e) => return e,
                }
                bybox = true;
                i += 3;
            }
            _ => return reply::error(reply::SYNTAX_ERROR),
        }
        i += 1;
    }
    if storekey.is_some() && (withdist || withhash || withcoords) {
        return Reply::err(format!(
            "{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & GEOSEARCHSTORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        ));
    }
    let name = String::from_utf8_lossy(&argv[0]);
    if flags & GEOSEARCH != 0 && !(frommember || fromloc) {
        return Reply::err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if flags & GEOSEARCH != 0 && !(byradius || bybox) {
        return Reply::err(format!(
            "exactly one of BYRADIUS, BYBOX and BYPOLYGON can be specified for {}",
            name.to_ascii_lowercase()
        ));
    }
    if any && count == 0 {
        return Reply::err("the ANY argument requires COUNT argument");
    }
    let Some(z) = z else {
        return match storekey {
            Some(key) => {
                server.db().remove(key);
                Reply::Integer(0)
            }
            None => Reply::Array(Vec::new()),
        };
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape {
        xy,
        conversion,
        kind,
    };
    let limit = if any { count as usize } else { 0 };
    let mut found = search(z, &shape, limit);
    if found.is_empty() && storekey.is_none() {
        return Reply::Array(Vec::new());
    }
    let returned = if count == 0 {
        found.len()
    } else {
        found.len().min(count as usize)
    };
    match sort {
        Sort::Asc => crate::sort::sort_by(&mut found, |a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => crate::sort::sort_by(&mut found, |a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    found.truncate(returned);
    for f in &mut found {
        f.dist /= conversion;
    }
    if let Some(key) = storekey {
        let mut out = ZSet::new();
        for f in &found {
            out.insert(&f.member, if storedist { f.dist } else { f.score });
        }
        out.mark_geo(!storedist);
        return Reply::Integer(zset::store(server, key, out) as i64);
    }
    let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoords);
    Reply::Array(
        found
            .into_iter()
            .map(|f| {
                if options == 0 {
                    return Reply::Bulk(f.member);
                }
                let mut item = vec![Reply::Bulk(f.member)];
                if withdist {
                    item.push(distance_reply(f.dist));
                }
                if withhash {
                    item.push(Reply::Integer(f.score as i64));
                }
                if withcoords {
                    item.push(Reply::Array(vec![human(f.longitude), human(f.latitude)]));
                }
                Reply::Array(item)
            })
            .collect(),
    )
}

/// GEORADIUS key longitude latitude radius M|KM|FT|MI [options] [STORE key] [STOREDIST key]
#[cfg(feature = "geo")]
pub fn georadius(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 1, RADIUS_COORDS)
}

/// GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [options]
#[cfg(feature = "geo")]
pub fn georadius_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)
}

/// GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options] [STORE key] [STOREDIST key]
#[cfg(feature = "geo")]
pub fn georadiusbymember(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 1, RADIUS_MEMBER)
}

/// GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [options]
#[cfg(feature = "geo")]
pub fn georadiusbymember_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]
#[cfg(feature = "geo")]
pub fn geosearch(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 1, GEOSEARCH)
}

/// GEOSEARCHSTORE destination source FROMMEMBER ...|FROMLONLAT ... BYRADIUS ...|BYBOX ...
#[cfg(feature = "geo")]
pub fn geosearchstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    radius_generic(server, argv, 2, GEOSEARCH | GEOSEARCHSTORE)
}

/// GEO* without the `geo` feature: the page switches to the full module before one runs.
#[cfg(not(feature = "geo"))]
mod absent {
    use crate::redis::parts::{not_built, Part};
    use crate::redis::reply::Reply;
    use crate::redis::Server;

    pub fn not_loaded(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
        not_built(Part::Geo)
    }
}
#[cfg(not(feature = "geo"))]
pub use absent::{
    not_loaded as geoadd, not_loaded as geopos, not_loaded as geodist, not_loaded as geohash,
    not_loaded as georadius, not_loaded as georadius_ro, not_loaded as georadiusbymember,
    not_loaded as georadiusbymember_ro, not_loaded as geosearch, not_loaded as geosearchstore,
};

#[cfg(all(test, feature = "geo"))]
mod tests {
    use super::*;
    use crate::redis::cli;

    fn run(server: &mut Server, line: &str) -> String {
        let argv = cli::split_args(line).expect("balanced line");
        server.execute(&argv, 1_000).to_cli_text()
    }

    #[test]
    fn sicily_matches_the_real_server() {
        let mut s = Server::new();
        let cases = [
            (
                "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
                "(integer) 2\n",
            ),
            ("ZSCORE Sicily Palermo", "\"3479099956230698\"\n"),
            (
                "GEOPOS Sicily Palermo nope",
                "1) 1) \"13.36138933897018433\"\n   2) \"38.11555639549629859\"\n2) (nil)\n",
            ),
            ("GEODIST Sicily Palermo Catania km", "\"166.2742\"\n"),
            (
                "GEOHASH Sicily Palermo Catania",
                "1) \"sqc8b49rny0\"\n2) \"sqdtr74hyu0\"\n",
            ),
            (
                "GEORADIUS Sicily 15 37 200 km WITHDIST WITHHASH ASC",
                "1) 1) \"Catania\"\n   2) \"56.4413\"\n   3) (integer) 3479447370796909\n2) 1) \"Palermo\"\n   2) \"190.4424\"\n   3) (integer) 3479099956230698\n",
            ),
            (
                "GEOADD Sicily 200 100 x",
                "(error) ERR invalid longitude,latitude pair 200.000000,100.000000\n",
            ),
            (
                "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 DESC WITHDIST",
                "1) 1) \"Palermo\"\n   2) \"190.4424\"\n",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), expected, "{line}");
        }
    }
}
