//! Geospatial indexes (`2dsphere`, `2d`) and the geo query operators.
//!
//! Geometry here is exact, not cell-based: a `2dsphere` index validates and keeps each
//! document's geometry, and `$near` / `$geoNear` measure every indexed document (the index
//! is a list of geometries, not an S2 cell tree). Distances are MongoDB's: great-circle
//! metres on a sphere of radius 6,378,100 m for GeoJSON, radians for legacy pairs queried
//! spherically, plain Euclidean units for `2d`.
//!
//! Containment and intersection test edges as straight lines in longitude/latitude, which
//! matches the server's geodesic edges for the small shapes lessons use; very large
//! polygons (a continent) can differ near their edges.

use crate::mongo::query::filter::number_f64;
use crate::mongo::query::QueryError;
use crate::mongo::value::{Document, Value};

/// The radius MongoDB's spherical distances use, in metres.
pub const EARTH_RADIUS_M: f64 = 6_378_100.0;

pub type Pt = (f64, f64);

#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    Point(Pt),
    LineString(Vec<Pt>),
    /// Outer ring then holes, each closed (first point = last point).
    Polygon(Vec<Vec<Pt>>),
    MultiPoint(Vec<Pt>),
    MultiLineString(Vec<Vec<Pt>>),
    MultiPolygon(Vec<Vec<Vec<Pt>>>),
    Collection(Vec<Geometry>),
}

fn num(v: &Value) -> Option<f64> {
    v.is_number().then(|| number_f64(v))
}

/// A legacy coordinate pair: `[x, y]` or `{ a: x, b: y }` (the first two values).
pub fn legacy_point(v: &Value) -> Option<Pt> {
    let mut it: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(items) => Box::new(items.iter()),
        Value::Document(d) if !d.contains_key("type") => Box::new(d.values()),
        _ => return None,
    };
    let x = num(it.next()?)?;
    let y = num(it.next()?)?;
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

fn position(v: &Value) -> Result<Pt, String> {
    let Value::Array(items) = v else {
        return Err("Point must be an array or object".into());
    };
    if items.len() < 2 {
        return Err(format!(
            "Point must only contain numeric elements: {}",
            crate::mongo::query::server_repr(v)
        ));
    }
    let (Some(x), Some(y)) = (num(&items[0]), num(&items[1])) else {
        return Err("Point must only contain numeric elements".into());
    };
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(format!(
            "longitude/latitude is out of bounds, lng: {} lat: {}",
            crate::mongo::value::js_number(x),
            crate::mongo::value::js_number(y)
        ));
    }
    Ok((x, y))
}

fn positions(v: &Value, what: &str) -> Result<Vec<Pt>, String> {
    let Value::Array(items) = v else {
        return Err(format!("{what} coordinates must be an array"));
    };
    items.iter().map(position).collect()
}

fn line(v: &Value) -> Result<Vec<Pt>, String> {
    let pts = positions(v, "LineString")?;
    if pts.len() < 2 {
        return Err(format!(
            "GeoJSON LineString must have at least 2 vertices: {}",
            crate::mongo::query::server_repr(v)
        ));
    }
    Ok(pts)
}

fn polygon(v: &Value) -> Result<Vec<Vec<Pt>>, String> {
    let Value::Array(rings) = v else {
        return Err("Polygon coordinates must be an array".into());
    };
    if rings.is_empty() {
        return Err("Polygon has no loops.".into());
    }
    let mut out = Vec::with_capacity(rings.len());
    for ring in rings {
        let pts = positions(ring, "Polygon")?;
        if pts.len() < 4 {
            return Err("Loop must have at least 3 different vertices: ".to_string()
                + &crate::mongo::query::server_repr(ring));
        }
        if pts.first() != pts.last() {
            return Err(
                "Loop is not closed, first vertex does not equal last vertex: ".to_string()
                    + &crate::mongo::query::server_repr(ring),
            );
        }
        out.push(pts);
    }
    Ok(out)
}

/// Parses a GeoJSON object, with the server's reason when it is not one.
pub fn parse_geojson(d: &Document) -> Result<Geometry, String> {
    let kind = match d.get("type") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err("unknown GeoJSON type: ".to_string() + &doc_text(d)),
    };
    let coords = d.get("coordinates");
    let need =
        || coords.ok_or_else(|| format!("{kind} must have a 'coordinates' field: {}", doc_text(d)));
    Ok(match kind {
        "Point" => Geometry::Point(position(need()?)?),
        "LineString" => Geometry::LineString(line(need()?)?),
        "Polygon" => Geometry::Polygon(polygon(need()?)?),
        "MultiPoint" => Geometry::MultiPoint(positions(need()?, "MultiPoint")?),
        "MultiLineString" => match need()? {
            Value::Array(items) => {
                Geometry::MultiLineString(items.iter().map(line).collect::<Result<_, _>>()?)
            }
            _ => return Err("MultiLineString coordinates must be an array".into()),
        },
        "MultiPolygon" => match need()? {
            Value::Array(items) => {
                Geometry::MultiPolygon(items.iter().map(polygon).collect::<Result<_, _>>()?)
            }
            _ => return Err("MultiPolygon coordinates must be an array".into()),
        },
        "GeometryCollection" => match d.get("geometries") {
            Some(Value::Array(items)) => Geometry::Collection(
                items
                    .iter()
                    .map(|g| match g {
                        Value::Document(gd) => parse_geojson(gd),
                        _ => Err("Element of 'geometries' must be an object".into()),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err("GeometryCollection must have a 'geometries' array".into()),
        },
        _ => return Err("unknown GeoJSON type: ".to_string() + &doc_text(d)),
    })
}

fn doc_text(d: &Document) -> String {
    crate::mongo::query::server_repr(&Value::Document(d.clone()))
}

/// A stored value as geometry: GeoJSON, or a legacy pair (a point).
pub fn stored_geometry(v: &Value) -> Result<Geometry, String> {
    match v {
        Value::Document(d) if d.contains_key("type") => parse_geojson(d),
        other => match legacy_point(other) {
            Some((x, y)) if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) => {
                Ok(Geometry::Point((x, y)))
            }
            Some((x, y)) => Err(format!(
                "longitude/latitude is out of bounds, lng: {} lat: {}",
                crate::mongo::value::js_number(x),
                crate::mongo::value::js_number(y)
            )),
            None => Err("geo element must be an array or object: ".to_string()
                + &crate::mongo::query::server_repr(other)),
        },
    }
}

// ---- distances

/// Great-circle distance in radians, computed as S2 (which the server uses) computes it:
/// the angle between the two unit vectors, `atan2(|a × b|, a · b)`, so that distances agree
/// with the server's to the last digits the manual prints.
pub fn sphere_radians(a: Pt, b: Pt) -> f64 {
    let unit = |(lng, lat): Pt| {
        let (lng, lat) = (lng.to_radians(), lat.to_radians());
        let c = lat.cos();
        (lng.cos() * c, lng.sin() * c, lat.sin())
    };
    let (x1, y1, z1) = unit(a);
    let (x2, y2, z2) = unit(b);
    let cross = (y1 * z2 - z1 * y2, z1 * x2 - x1 * z2, x1 * y2 - y1 * x2);
    let norm = (cross.0 * cross.0 + cross.1 * cross.1 + cross.2 * cross.2).sqrt();
    norm.atan2(x1 * x2 + y1 * y2 + z1 * z2)
}

pub fn planar(a: Pt, b: Pt) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// How a near query measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Great-circle metres (GeoJSON point queries).
    Meters,
    /// Great-circle radians (legacy pairs queried spherically).
    Radians,
    /// Flat units (`2d`).
    Flat,
}

impl Metric {
    pub fn between(self, a: Pt, b: Pt) -> f64 {
        match self {
            Metric::Meters => sphere_radians(a, b) * EARTH_RADIUS_M,
            Metric::Radians => sphere_radians(a, b),
            Metric::Flat => planar(a, b),
        }
    }
}

fn vertices(g: &Geometry, out: &mut Vec<Pt>) {
    match g {
        Geometry::Point(p) => out.push(*p),
        Geometry::LineString(ps) | Geometry::MultiPoint(ps) => out.extend(ps),
        Geometry::Polygon(rings) | Geometry::MultiLineString(rings) => {
            rings.iter().for_each(|r| out.extend(r))
        }
        Geometry::MultiPolygon(polys) => polys.iter().flatten().for_each(|r| out.extend(r)),
        Geometry::Collection(gs) => gs.iter().for_each(|g| vertices(g, out)),
    }
}

/// Distance from a point to a geometry: zero inside a polygon, else to its nearest vertex
/// or, for lines and polygon edges, the nearest point of an edge (measured flat).
pub fn distance_to(metric: Metric, p: Pt, g: &Geometry) -> f64 {
    if let Geometry::Point(q) = g {
        return metric.between(p, *q);
    }
    if intersects(&Geometry::Point(p), g) {
        return 0.0;
    }
    let mut best = f64::INFINITY;
    let mut pts = Vec::new();
    vertices(g, &mut pts);
    for q in pts {
        best = best.min(metric.between(p, q));
    }
    for (a, b) in edges(g) {
        let q = closest_on_segment(p, a, b);
        best = best.min(metric.between(p, q));
    }
    best
}

fn closest_on_segment(p: Pt, a: Pt, b: Pt) -> Pt {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = dx * dx + dy * dy;
    if len == 0.0 {
        return a;
    }
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len).clamp(0.0, 1.0);
    (a.0 + t * dx, a.1 + t * dy)
}

// ---- containment and intersection (edges straight in lng/lat)

fn edges(g: &Geometry) -> Vec<(Pt, Pt)> {
    let mut out = Vec::new();
    let mut push_line = |ps: &[Pt]| out.extend(ps.windows(2).map(|w| (w[0], w[1])));
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => {}
        Geometry::LineString(ps) => push_line(ps),
        Geometry::Polygon(rings) | Geometry::MultiLineString(rings) => {
            rings.iter().for_each(|r| push_line(r))
        }
        Geometry::MultiPolygon(polys) => polys.iter().flatten().for_each(|r| push_line(r)),
        Geometry::Collection(gs) => {
            for g in gs {
                out.extend(edges(g));
            }
        }
    }
    out
}

/// Ray casting; points on the boundary count as inside (MongoDB includes the boundary).
fn in_ring(p: Pt, ring: &[Pt]) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if on_segment(p, a, b) {
            return true;
        }
        if (a.1 > p.1) != (b.1 > p.1) {
            let x = a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn in_polygon(p: Pt, rings: &[Vec<Pt>]) -> bool {
    let Some((outer, holes)) = rings.split_first() else {
        return false;
    };
    in_ring(p, outer)
        && !holes
            .iter()
            .any(|h| in_ring(p, h) && !ring_has_on_edge(p, h))
}

fn ring_has_on_edge(p: Pt, ring: &[Pt]) -> bool {
    ring.windows(2).any(|w| on_segment(p, w[0], w[1]))
}

fn cross(o: Pt, a: Pt, b: Pt) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

fn on_segment(p: Pt, a: Pt, b: Pt) -> bool {
    cross(a, b, p).abs() <= 1e-12 * (1.0 + planar(a, b))
        && p.0 >= a.0.min(b.0) - 1e-12
        && p.0 <= a.0.max(b.0) + 1e-12
        && p.1 >= a.1.min(b.1) - 1e-12
        && p.1 <= a.1.max(b.1) + 1e-12
}

fn segments_cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let d1 = cross(c, d, a);
    let d2 = cross(c, d, b);
    let d3 = cross(a, b, c);
    let d4 = cross(a, b, d);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    on_segment(a, c, d) || on_segment(b, c, d) || on_segment(c, a, b) || on_segment(d, a, b)
}

/// The simple parts of a geometry: points, lines and polygons.
fn parts(g: &Geometry) -> Vec<Geometry> {
    match g {
        Geometry::MultiPoint(ps) => ps.iter().map(|p| Geometry::Point(*p)).collect(),
        Geometry::MultiLineString(ls) => ls.iter().cloned().map(Geometry::LineString).collect(),
        Geometry::MultiPolygon(ps) => ps.iter().cloned().map(Geometry::Polygon).collect(),
        Geometry::Collection(gs) => gs.iter().flat_map(parts).collect(),
        simple => vec![simple.clone()],
    }
}

fn simple_intersects(a: &Geometry, b: &Geometry) -> bool {
    use Geometry::*;
    match (a, b) {
        (Point(p), Point(q)) => p == q,
        (Point(p), LineString(l)) | (LineString(l), Point(p)) => {
            l.windows(2).any(|w| on_segment(*p, w[0], w[1]))
        }
        (Point(p), Polygon(r)) | (Polygon(r), Point(p)) => in_polygon(*p, r),
        (LineString(l), LineString(m)) => l
            .windows(2)
            .any(|s| m.windows(2).any(|t| segments_cross(s[0], s[1], t[0], t[1]))),
        (LineString(l), Polygon(r)) | (Polygon(r), LineString(l)) => {
            l.iter().any(|p| in_polygon(*p, r))
                || edges(&Polygon(r.clone()))
                    .iter()
                    .any(|(c, d)| l.windows(2).any(|s| segments_cross(s[0], s[1], *c, *d)))
        }
        (Polygon(r), Polygon(s)) => {
            r.first()
                .and_then(|o| o.first())
                .is_some_and(|p| in_polygon(*p, s))
                || s.first()
                    .and_then(|o| o.first())
                    .is_some_and(|p| in_polygon(*p, r))
                || edges(a)
                    .iter()
                    .any(|(p, q)| edges(b).iter().any(|(c, d)| segments_cross(*p, *q, *c, *d)))
        }
        _ => false,
    }
}

/// Whether two geometries share any point (`$geoIntersects`).
pub fn intersects(a: &Geometry, b: &Geometry) -> bool {
    let pa = parts(a);
    let pb = parts(b);
    pa.iter()
        .any(|x| pb.iter().any(|y| simple_intersects(x, y)))
}

/// Whether `g` lies entirely within the polygon `rings`.
fn within_polygon(g: &Geometry, rings: &[Vec<Pt>]) -> bool {
    let mut pts = Vec::new();
    vertices(g, &mut pts);
    if pts.is_empty() || !pts.iter().all(|p| in_polygon(*p, rings)) {
        return false;
    }
    // No edge of g may cross the polygon's boundary properly.
    let boundary = edges(&Geometry::Polygon(rings.to_vec()));
    edges(g).iter().all(|(a, b)| {
        boundary.iter().all(|(c, d)| {
            let d1 = cross(*c, *d, *a);
            let d2 = cross(*c, *d, *b);
            let d3 = cross(*a, *b, *c);
            let d4 = cross(*a, *b, *d);
            !(d1 * d2 < 0.0 && d3 * d4 < 0.0)
        })
    })
}

/// The region of a `$geoWithin`.
#[derive(Debug, Clone)]
pub enum Region {
    /// GeoJSON Polygon or MultiPolygon.
    Polygons(Vec<Vec<Vec<Pt>>>),
    /// `$centerSphere: [[x, y], radians]`.
    CenterSphere(Pt, f64),
    /// `$center: [[x, y], r]` (flat).
    Center(Pt, f64),
    /// `$box: [[x1, y1], [x2, y2]]`.
    Box(Pt, Pt),
    /// `$polygon: [[x, y], …]` (flat, legacy pairs).
    Polygon(Vec<Pt>),
}

fn bad_value(message: impl Into<String>) -> QueryError {
    QueryError::new(2, "BadValue", message)
}

fn pair(v: &Value, what: &str) -> Result<Pt, QueryError> {
    legacy_point(v).ok_or_else(|| bad_value(format!("{what}: point must be [x, y]")))
}

fn geometry_operand(v: &Value) -> Result<Geometry, QueryError> {
    let Value::Document(d) = v else {
        return Err(bad_value("$geometry must be an object"));
    };
    parse_geojson(d).map_err(bad_value)
}

impl Region {
    /// Parses the operand of `$geoWithin` (or the legacy `$within`).
    pub fn parse(operand: &Value) -> Result<Region, QueryError> {
        let Value::Document(d) = operand else {
            return Err(bad_value("$geoWithin not given an object"));
        };
        let Some((op, arg)) = d.iter().next() else {
            return Err(bad_value("$geoWithin not given an object"));
        };
        match op.as_str() {
            "$geometry" => match geometry_operand(arg)? {
                Geometry::Polygon(r) => Ok(Region::Polygons(vec![r])),
                Geometry::MultiPolygon(ps) => Ok(Region::Polygons(ps)),
                _ => Err(bad_value(
                    "$geoWithin $geometry must be a GeoJSON Polygon or MultiPolygon",
                )),
            },
            "$centerSphere" | "$center" => {
                let Value::Array(items) = arg else {
                    return Err(bad_value(format!("{op} must be an array")));
                };
                let (Some(c), Some(r)) = (items.first(), items.get(1).and_then(num)) else {
                    return Err(bad_value(format!("{op} must be [[x, y], radius]")));
                };
                if r < 0.0 || r.is_nan() {
                    return Err(bad_value("radius must be a non-negative number"));
                }
                let c = pair(c, op)?;
                Ok(if op == "$center" {
                    Region::Center(c, r)
                } else {
                    Region::CenterSphere(c, r)
                })
            }
            "$box" => match arg {
                Value::Array(items) if items.len() == 2 => {
                    let a = pair(&items[0], "$box")?;
                    let b = pair(&items[1], "$box")?;
                    Ok(Region::Box(
                        (a.0.min(b.0), a.1.min(b.1)),
                        (a.0.max(b.0), a.1.max(b.1)),
                    ))
                }
                _ => Err(bad_value("$box must be [[x1, y1], [x2, y2]]")),
            },
            "$polygon" => match arg {
                Value::Array(items) if items.len() >= 3 => {
                    let mut pts: Vec<Pt> = items
                        .iter()
                        .map(|p| pair(p, "$polygon"))
                        .collect::<Result<_, _>>()?;
                    if pts.first() != pts.last() {
                        if let Some(first) = pts.first().copied() {
                            pts.push(first);
                        }
                    }
                    Ok(Region::Polygon(pts))
                }
                _ => Err(bad_value("Polygon must have at least 3 points")),
            },
            other => Err(bad_value(format!(
                "unknown geo specifier: {other}: {}",
                crate::mongo::query::server_repr(arg)
            ))),
        }
    }

    /// Whether a stored value lies within the region.
    pub fn contains(&self, v: &Value) -> bool {
        let g = match v {
            Value::Document(d) if d.contains_key("type") => match parse_geojson(d) {
                Ok(g) => g,
                Err(_) => return false,
            },
            other => match legacy_point(other) {
                Some(p) => Geometry::Point(p),
                None => return false,
            },
        };
        match self {
            Region::Polygons(ps) => ps.iter().any(|r| within_polygon(&g, r)),
            Region::CenterSphere(c, r) => {
                let mut pts = Vec::new();
                vertices(&g, &mut pts);
                !pts.is_empty() && pts.iter().all(|p| sphere_radians(*c, *p) <= *r)
            }
            Region::Center(c, r) => {
                let mut pts = Vec::new();
                vertices(&g, &mut pts);
                !pts.is_empty() && pts.iter().all(|p| planar(*c, *p) <= *r)
            }
            Region::Box(lo, hi) => {
                let mut pts = Vec::new();
                vertices(&g, &mut pts);
                !pts.is_empty()
                    && pts
                        .iter()
                        .all(|p| p.0 >= lo.0 && p.0 <= hi.0 && p.1 >= lo.1 && p.1 <= hi.1)
            }
            Region::Polygon(ring) => within_polygon(&g, std::slice::from_ref(ring)),
        }
    }
}

/// The operand of `$geoIntersects`: `{ $geometry: … }`.
pub fn parse_intersects(operand: &Value) -> Result<Geometry, QueryError> {
    match operand {
        Value::Document(d) => match d.get("$geometry") {
            Some(g) => geometry_operand(g),
            None => Err(bad_value("$geoIntersects not given a $geometry")),
        },
        _ => Err(bad_value("$geoIntersects not given an object")),
    }
}

/// Whether a stored value intersects a geometry.
pub fn value_intersects(v: &Value, g: &Geometry) -> bool {
    stored_geometry(v).is_ok_and(|mine| intersects(&mine, g))
}

/// A `$near` / `$nearSphere` query (or `$geoNear`'s `near`).
#[derive(Debug, Clone)]
pub struct Near {
    pub point: Pt,
    /// GeoJSON point given: distances in metres, a 2dsphere index needed.
    pub geojson: bool,
    pub spherical: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Near {
    /// The metric with an index of this kind (`true` for 2dsphere).
    pub fn metric(&self, sphere_index: bool) -> Metric {
        if self.geojson {
            Metric::Meters
        } else if self.spherical || sphere_index {
            Metric::Radians
        } else {
            Metric::Flat
        }
    }

    /// Parses `{ $near: … }`'s operand; `ops` is the whole operator document (the legacy
    /// form puts `$maxDistance` beside `$near`).
    pub fn parse(op: &str, operand: &Value, ops: &Document) -> Result<Near, QueryError> {
        let spherical = op == "$nearSphere";
        let distance = |v: Option<&Value>, what: &str| -> Result<Option<f64>, QueryError> {
            match v {
                None => Ok(None),
                Some(v) if v.is_number() => {
                    let x = number_f64(v);
                    if x < 0.0 || x.is_nan() {
                        Err(bad_value(format!("{what} must be non-negative")))
                    } else {
                        Ok(Some(x))
                    }
                }
                Some(_) => Err(bad_value(format!("{what} must be a number"))),
            }
        };
        match operand {
            Value::Document(d) if d.contains_key("$geometry") => {
                let Some(Value::Document(g)) = d.get("$geometry") else {
                    return Err(bad_value("$geometry must be an object"));
                };
                let Geometry::Point(p) = parse_geojson(g).map_err(bad_value)? else {
                    return Err(bad_value(
                        "invalid point in geo near query $geometry argument",
                    ));
                };
                Ok(Near {
                    point: p,
                    geojson: true,
                    spherical: true,
                    min: distance(d.get("$minDistance"), "$minDistance")?,
                    max: distance(d.get("$maxDistance"), "$maxDistance")?,
                })
            }
            other => {
                let Some(p) = legacy_point(other) else {
                    return Err(bad_value(format!(
                        "{op} must be specified as a point or {{ $geometry: … }}"
                    )));
                };
                Ok(Near {
                    point: p,
                    geojson: false,
                    spherical,
                    min: distance(ops.get("$minDistance"), "$minDistance")?,
                    max: distance(ops.get("$maxDistance"), "$maxDistance")?,
                })
            }
        }
    }

    pub fn admits(&self, d: f64) -> bool {
        self.min.is_none_or(|m| d >= m) && self.max.is_none_or(|m| d <= m)
    }
}

/// A `$near` query's geometry: the document's geometry at the indexed field.
pub fn near_distance(near: &Near, sphere_index: bool, v: &Value) -> Option<f64> {
    let g = if sphere_index {
        stored_geometry(v).ok()?
    } else {
        Geometry::Point(legacy_point(v)?)
    };
    Some(distance_to(near.metric(sphere_index), near.point, &g))
}

/// The index key a document gives a geo index, or the reason it cannot be indexed.
pub fn check_indexable(kind_2d: bool, v: &Value) -> Result<(), String> {
    if kind_2d {
        match legacy_point(v) {
            Some((x, y)) if (-180.0..180.0).contains(&x) && (-180.0..180.0).contains(&y) => Ok(()),
            Some((x, y)) => Err(format!(
                "point not in interval of [ -180, 180 ) :: caused by :: [ {}, {} ]",
                crate::mongo::value::js_number(x),
                crate::mongo::value::js_number(y)
            )),
            None => Err("location object expected, location array not in correct format".into()),
        }
    } else {
        stored_geometry(v).map(|_| ())
    }
}

// ---- running a `$near` find

use super::plan::{Access, Execution, Plan, Query, Stats};
use super::IndexKind;
use crate::mongo::store::Collection;

pub fn no_geo_index() -> QueryError {
    QueryError::new(
        291,
        "NoQueryExecutionPlans",
        "error processing query: planner returned error :: caused by :: unable to find index for $geoNear query",
    )
}

/// The geo index that answers a near query on `path`: a 2dsphere index for a GeoJSON
/// point, else a 2d index, else a 2dsphere one. Its position and whether it is 2dsphere.
pub fn near_index(coll: &Collection, path: &[String], near: &Near) -> Option<(usize, bool)> {
    let found = |want_sphere: bool| {
        coll.indexes().iter().position(|ix| {
            matches!(&ix.spec.kind, IndexKind::Geo { path: p, sphere } if p == path && *sphere == want_sphere)
        })
    };
    if near.geojson {
        return found(true).map(|i| (i, true));
    }
    found(false)
        .map(|i| (i, false))
        .or_else(|| found(true).map(|i| (i, true)))
}

/// The documents within a near query's distances, nearest first (ties in record order),
/// with their distances, after the rest of the filter; at most `want` of them when given.
///
/// The search reads the index ring by ring, as the server's does: the cells covering a
/// circle around the point, then those covering one twice as wide (only the keys not yet
/// read), and so on. After each ring every document within its radius has been measured,
/// so those are final and come out in order; farther ones wait for a later ring.
pub fn nearest(
    coll: &Collection,
    index: usize,
    sphere: bool,
    near: &Near,
    filter: &crate::mongo::query::Filter,
    stats: &mut Stats,
    want: Option<usize>,
) -> Vec<(usize, f64)> {
    use super::geocell::{self, Domain, Rect};
    let Some(ix) = coll.indexes().get(index) else {
        return Vec::new();
    };
    let IndexKind::Geo { path, .. } = &ix.spec.kind else {
        return Vec::new();
    };
    let metric = near.metric(sphere);
    let domain = if sphere { Domain::SPHERE } else { Domain::FLAT };
    let full = match metric {
        Metric::Meters => std::f64::consts::PI * EARTH_RADIUS_M,
        Metric::Radians => std::f64::consts::PI,
        Metric::Flat => 360.0 * std::f64::consts::SQRT_2,
    };
    // A 2d index holds latitudes up to 180, which no spherical circle bounds: one ring
    // of everything.
    let mut radius = if metric != Metric::Flat && !sphere {
        full
    } else {
        full / f64::from(1u32 << 20)
    };
    let coarse = ix.geo_coarse_levels();
    let mut scanned = geocell::Scanned::default();
    let mut ancestors_read = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut pending: Vec<(f64, super::RecordId, usize)> = Vec::new();
    let mut out = Vec::new();
    let (x, y) = near.point;
    loop {
        let last = radius >= full || near.max.is_some_and(|m| radius >= m);
        let r = near.max.map_or(radius, |m| radius.min(m));
        let rects = if radius >= full {
            vec![domain.all()]
        } else {
            match metric {
                Metric::Flat => vec![Rect {
                    x0: x - r,
                    x1: x + r,
                    y0: y - r,
                    y1: y + r,
                }
                .padded(1e-9 * (1.0 + r))],
                Metric::Meters => geocell::cap_rects(x, y, r / EARTH_RADIUS_M),
                Metric::Radians => geocell::cap_rects(x, y, r),
            }
        };
        let mut consider = |rid: super::RecordId, stats: &mut Stats| {
            if !seen.insert(rid) {
                return;
            }
            let Some((pos, doc)) = super::fetch(coll, rid, stats) else {
                return;
            };
            let Some(v) = super::geo_value(doc, path) else {
                return;
            };
            if let Some(d) = near_distance(near, sphere, v) {
                if d.is_finite() && near.admits(d) {
                    pending.push((d, rid, pos));
                }
            }
        };
        for rect in rects {
            for cell in domain.cover(rect) {
                let (lo, hi) = geocell::range(cell);
                for (a, b) in scanned.take(lo, hi) {
                    stats.seeks += 1;
                    for (_, rid) in ix.entries().range(cell_bounds(a, b)) {
                        stats.keys_examined += 1;
                        stats.works += 1;
                        consider(*rid, stats);
                    }
                }
                // Geometries wider than a point are keyed by coarser cells, which hold
                // this one.
                for level in 0..geocell::level(cell) {
                    if coarse & (1u64 << level) == 0 {
                        continue;
                    }
                    let up = geocell::parent(cell, level);
                    if scanned.covers(up, up) || !ancestors_read.insert(up) {
                        continue;
                    }
                    stats.seeks += 1;
                    for (_, rid) in ix.entries().range(cell_bounds(up, up)) {
                        stats.keys_examined += 1;
                        stats.works += 1;
                        consider(*rid, stats);
                    }
                }
            }
        }
        let (mut ready, rest): (Vec<_>, Vec<_>) =
            pending.drain(..).partition(|(d, _, _)| last || *d <= r);
        pending = rest;
        ready.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (d, _, pos) in ready {
            let Some(doc) = coll.docs.get(pos) else {
                continue;
            };
            if filter.matches(doc) {
                stats.matched += 1;
                out.push((pos, d));
                if want.is_some_and(|n| out.len() >= n) {
                    return out;
                }
            }
        }
        if last {
            break;
        }
        radius *= 2.0;
    }
    stats.eof = true;
    out
}

/// The index entries keyed by cells with ids from `lo` to `hi`.
fn cell_bounds(lo: u64, hi: u64) -> (std::ops::Bound<super::Entry>, std::ops::Bound<super::Entry>) {
    let key = |id: u64| {
        super::Key::one(super::KeyPart {
            value: Value::Int64(i64::try_from(id).unwrap_or(i64::MAX)),
            descending: false,
        })
    };
    (
        std::ops::Bound::Included((key(lo), super::RecordId::MIN)),
        std::ops::Bound::Included((key(hi), super::RecordId::MAX)),
    )
}

/// The cells a geo index keys a value by: a point's leaf cell, or the cells covering a
/// wider geometry's bounding rectangle; or why the value cannot be indexed.
pub fn index_cells(kind_2d: bool, v: &Value) -> Result<Vec<u64>, String> {
    use super::geocell::{Domain, Rect};
    check_indexable(kind_2d, v)?;
    if kind_2d {
        return Ok(legacy_point(v)
            .map(|(x, y)| vec![Domain::FLAT.leaf(x, y)])
            .unwrap_or_default());
    }
    let g = stored_geometry(v)?;
    if let Geometry::Point((x, y)) = g {
        return Ok(vec![Domain::SPHERE.leaf(x, y)]);
    }
    let mut pts = Vec::new();
    vertices(&g, &mut pts);
    let mut cells = Rect::around(pts)
        .map(|r| Domain::SPHERE.cover(r))
        .unwrap_or_default();
    cells.sort_unstable();
    cells.dedup();
    Ok(cells)
}

/// The rectangles holding every point a `$geoWithin` region can contain or a
/// `$geoIntersects` geometry can touch, in the coordinates of an index of this kind; None
/// when no rectangle bounds them (a spherical region over a `2d` index, whose latitudes run
/// to 180).
fn region_rects(sphere: bool, op: &str, operand: &Value) -> Option<Vec<super::geocell::Rect>> {
    use super::geocell::{cap_rects, Rect};
    let around = |g: &Geometry| {
        let mut pts = Vec::new();
        vertices(g, &mut pts);
        Rect::around(pts).map(|r| vec![r])
    };
    if op == "$geoIntersects" {
        return around(&parse_intersects(operand).ok()?);
    }
    match Region::parse(operand).ok()? {
        Region::Polygons(polys) => around(&Geometry::MultiPolygon(polys)),
        Region::Polygon(ring) => around(&Geometry::LineString(ring)),
        Region::Box(lo, hi) => Rect::around([lo, hi]).map(|r| vec![r]),
        Region::Center((x, y), r) => Some(vec![Rect {
            x0: x - r,
            x1: x + r,
            y0: y - r,
            y1: y + r,
        }
        .padded(1e-9 * (1.0 + r))]),
        Region::CenterSphere((x, y), r) if sphere => Some(cap_rects(x, y, r)),
        Region::CenterSphere(..) => None,
    }
}

/// An index scan of a geo index for a `$geoWithin` or `$geoIntersects` on its field: the id
/// ranges of the cells covering the region's rectangle, and the coarser cells above them
/// where wide geometries are keyed. Every document the predicate can match is keyed inside
/// these bounds; each one fetched is then tested exactly.
pub fn cells_plan(
    i: usize,
    index: &super::Index,
    conj: &super::plan::Conjunction,
    sort: &[(Vec<String>, i32)],
) -> Option<Plan> {
    use super::geocell::{self, Domain};
    use super::plan::{FieldBounds, Interval};
    let IndexKind::Geo { path, sphere } = &index.spec.kind else {
        return None;
    };
    let dotted = path.join(".");
    let rects = conj.predicates.iter().find_map(|p| {
        let geo = matches!(p.op.as_str(), "$geoWithin" | "$within" | "$geoIntersects");
        (geo && p.path == dotted)
            .then(|| region_rects(*sphere, &p.op, &p.value))
            .flatten()
    })?;
    let domain = if *sphere {
        Domain::SPHERE
    } else {
        Domain::FLAT
    };
    let coarse = index.geo_coarse_levels();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for rect in rects {
        for cell in domain.cover(rect) {
            ranges.push(geocell::range(cell));
            for level in 0..geocell::level(cell) {
                if coarse & (1u64 << level) != 0 {
                    let up = geocell::parent(cell, level);
                    ranges.push((up, up));
                }
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    let int = |id: u64| Value::Int64(i64::try_from(id).unwrap_or(i64::MAX));
    let intervals = merged
        .into_iter()
        .map(|(lo, hi)| Interval {
            lo: int(lo),
            lo_incl: true,
            hi: int(hi),
            hi_incl: true,
        })
        .collect();
    Some(Plan {
        access: Access::IxScan {
            index: i,
            bounds: vec![FieldBounds {
                intervals,
                narrowed: true,
                exact: false,
                admits_missing: false,
            }],
            backward: false,
            exploded: 0,
        },
        provides_sort: sort.is_empty(),
        residual: conj.predicates.clone(),
        key_filter: Vec::new(),
        residual_others: conj.others.clone(),
        covered: false,
    })
}

/// Whether a plan scans the cells of a geo index (`cells_plan`).
pub fn reads_cells(coll: &Collection, plan: &Plan) -> bool {
    match plan.access {
        Access::IxScan { index, .. } => coll
            .indexes()
            .get(index)
            .is_some_and(|ix| matches!(ix.spec.kind, IndexKind::Geo { .. })),
        _ => false,
    }
}

/// Runs a find whose filter has `$near` or `$nearSphere`.
pub fn execute_near(
    coll: &Collection,
    q: &Query,
    path: &[String],
    near: &Near,
) -> Result<Execution, QueryError> {
    let Some((index, sphere)) = near_index(coll, path, near) else {
        return Err(no_geo_index());
    };
    let mut stats = Stats::default();
    // Without a sort the first skip + limit nearest are all a find needs.
    let want = match (q.sort, q.limit) {
        (None, Some(n)) if n > 0 => Some(n.saturating_add(q.skip)),
        _ => None,
    };
    let found = nearest(coll, index, sphere, near, q.filter, &mut stats, want);
    let mut positions: Vec<usize> = found.into_iter().map(|(p, _)| p).collect();
    if let Some(sort) = q.sort {
        crate::mongo::query::cursor::sort_indices(&coll.docs, &mut positions, sort)?;
    }
    Ok(Execution {
        positions: super::plan::skip_limit(positions, q),
        winner: Plan {
            access: Access::GeoNear {
                index,
                near: Box::new(near.clone()),
            },
            provides_sort: true,
            residual: Vec::new(),
            key_filter: Vec::new(),
            residual_others: Vec::new(),
            covered: false,
        },
        rejected: Vec::new(),
        stats,
        scores: Default::default(),
    })
}

/// The explain stage of a near plan: GEO_NEAR_2DSPHERE or GEO_NEAR_2D on the index.
pub fn explain_stage(coll: &Collection, index: usize, stats: Option<&Stats>) -> Document {
    let mut d = Document::default();
    let Some(ix) = coll.indexes().get(index) else {
        d.insert("stage".into(), Value::String("EOF".into()));
        return d;
    };
    let sphere = matches!(ix.spec.kind, IndexKind::Geo { sphere: true, .. });
    let stage = if sphere {
        "GEO_NEAR_2DSPHERE"
    } else {
        "GEO_NEAR_2D"
    };
    d.insert("stage".into(), Value::String(stage.into()));
    if let Some(s) = stats {
        d.insert("nReturned".into(), super::explain::int(s.matched));
        d.insert("keysExamined".into(), super::explain::int(s.keys_examined));
        d.insert("docsExamined".into(), super::explain::int(s.docs_examined));
    }
    d.insert(
        "keyPattern".into(),
        Value::Document(ix.spec.key_doc.clone()),
    );
    d.insert("indexName".into(), Value::String(ix.name().into()));
    d.insert("indexVersion".into(), Value::Int32(2));
    d
}

// ---- the `$geoNear` aggregation stage

fn stage_error(code: i32, name: &'static str, message: impl Into<String>) -> QueryError {
    QueryError::new(code, name, message)
}

/// Sets a dotted path in a document, making the embedded documents on the way.
fn set_path(doc: &mut Document, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let slot = doc
                .entry(head.to_string())
                .or_insert_with(|| Value::Document(Document::default()));
            if !matches!(slot, Value::Document(_)) {
                *slot = Value::Document(Document::default());
            }
            if let Value::Document(inner) = slot {
                set_path(inner, rest, value);
            }
        }
    }
}

/// Runs a leading `$geoNear` stage: the documents nearest first, each with its distance in
/// `distanceField` (times `distanceMultiplier`) and, with `includeLocs`, its location.
pub fn geo_near_stage(
    coll: Option<&Collection>,
    spec: &Value,
    now_ms: i64,
) -> Result<Vec<Document>, QueryError> {
    let Value::Document(spec) = spec else {
        return Err(stage_error(
            10065,
            "Location10065",
            "invalid parameter: expected an object ($geoNear)",
        ));
    };
    let mut near_value = None;
    let mut distance_field = None;
    let mut spherical = false;
    let mut max = None;
    let mut min = None;
    let mut query = Document::default();
    let mut include_locs = None;
    let mut multiplier = 1.0;
    let mut key = None;
    let number = |v: &Value, what: &str| -> Result<f64, QueryError> {
        match num(v) {
            Some(x) if x >= 0.0 => Ok(x),
            Some(_) => Err(bad_value(format!("{what} must be nonnegative"))),
            None => Err(stage_error(
                14,
                "TypeMismatch",
                format!("{what} must be a number"),
            )),
        }
    };
    for (k, v) in spec {
        match k.as_str() {
            "near" => near_value = Some(v.clone()),
            "distanceField" => match v {
                Value::String(s) => distance_field = Some(s.clone()),
                _ => {
                    return Err(stage_error(
                        14,
                        "TypeMismatch",
                        "$geoNear requires that 'distanceField' option as a String",
                    ))
                }
            },
            "spherical" => spherical = crate::mongo::agg::expr::truthy(v),
            "maxDistance" => max = Some(number(v, "maxDistance")?),
            "minDistance" => min = Some(number(v, "minDistance")?),
            "query" => match v {
                Value::Document(d) => query = d.clone(),
                _ => return Err(stage_error(14, "TypeMismatch", "query must be an object")),
            },
            "includeLocs" => match v {
                Value::String(s) => include_locs = Some(s.clone()),
                _ => {
                    return Err(stage_error(
                        14,
                        "TypeMismatch",
                        "includeLocs must be a string",
                    ))
                }
            },
            "distanceMultiplier" => multiplier = number(v, "distanceMultiplier")?,
            "key" => match v {
                Value::String(s) if !s.is_empty() => key = Some(s.clone()),
                _ => {
                    return Err(bad_value(
                        "$geoNear parameter 'key' must be of type string but found type: "
                            .to_string()
                            + v.type_name(),
                    ))
                }
            },
            "uniqueDocs" | "num" | "limit" => {}
            other => {
                return Err(stage_error(
                    40415,
                    "Location40415",
                    format!("BSON field '$geoNear.{other}' is an unknown field."),
                ))
            }
        }
    }
    let Some(near_value) = near_value else {
        return Err(bad_value("$geoNear requires a 'near' option as an Array"));
    };
    let Some(distance_field) = distance_field else {
        return Err(bad_value(
            "$geoNear requires a 'distanceField' option as a String",
        ));
    };
    let mut near = match &near_value {
        Value::Document(d) if d.contains_key("type") => match parse_geojson(d) {
            Ok(Geometry::Point(p)) => Near {
                point: p,
                geojson: true,
                spherical: true,
                min: None,
                max: None,
            },
            _ => return Err(bad_value("invalid argument in geo near query: near")),
        },
        other => match legacy_point(other) {
            Some(p) => Near {
                point: p,
                geojson: false,
                spherical,
                min: None,
                max: None,
            },
            None => return Err(bad_value("$geoNear requires a 'near' option as an Array")),
        },
    };
    near.min = min;
    near.max = max;
    let filter = crate::mongo::query::Filter::compile(&query)?.at(now_ms);
    if filter.needs_index() {
        return Err(bad_value(
            "$geoNear, $near, and $nearSphere are not allowed in this context",
        ));
    }
    let no_index = || {
        stage_error(
            27,
            "IndexNotFound",
            "$geoNear requires a 2d or 2dsphere index, but none were found",
        )
    };
    let Some(coll) = coll else {
        return Err(no_index());
    };
    let geo_indexes: Vec<(usize, &Vec<String>, bool)> = coll
        .indexes()
        .iter()
        .enumerate()
        .filter_map(|(i, ix)| match &ix.spec.kind {
            IndexKind::Geo { path, sphere } => Some((i, path, *sphere)),
            _ => None,
        })
        .collect();
    let chosen = match &key {
        Some(k) => {
            let parts: Vec<String> = k.split('.').map(str::to_string).collect();
            let on_key: Vec<_> = geo_indexes
                .iter()
                .filter(|(_, p, _)| **p == parts)
                .collect();
            match on_key.as_slice() {
                [] => return Err(bad_value(format!("no geo indices for geoNear on key {k}"))),
                _ => on_key
                    .iter()
                    .find(|(_, _, s)| !*s)
                    .or(on_key.first())
                    .map(|(i, p, s)| (*i, (*p).clone(), *s)),
            }
        }
        None => {
            let flat: Vec<_> = geo_indexes.iter().filter(|(_, _, s)| !*s).collect();
            let round: Vec<_> = geo_indexes.iter().filter(|(_, _, s)| *s).collect();
            if flat.len() > 1 {
                return Err(bad_value(
                    "There is more than one 2d index; unsure which to use for $geoNear",
                ));
            }
            if flat.is_empty() && round.len() > 1 {
                return Err(bad_value(
                    "There is more than one 2dsphere index; unsure which to use for $geoNear",
                ));
            }
            flat.first()
                .or(round.first())
                .map(|(i, p, s)| (*i, (*p).clone(), *s))
        }
    };
    let Some((index, path, sphere)) = chosen else {
        return Err(no_index());
    };
    if near.geojson && !sphere {
        return Err(bad_value(
            "GeoJSON points can only be used with a 2dsphere index",
        ));
    }
    let mut stats = Stats::default();
    let found = nearest(coll, index, sphere, &near, &filter, &mut stats, None);
    if let Some(e) = filter.take_error() {
        return Err(e);
    }
    Ok(found
        .into_iter()
        .filter_map(|(pos, d)| {
            let mut doc = coll.docs.get(pos)?.clone();
            let loc = super::geo_value(&doc, &path).cloned();
            set_path(&mut doc, &distance_field, Value::Double(d * multiplier));
            if let (Some(field), Some(loc)) = (&include_locs, loc) {
                set_path(&mut doc, field, loc);
            }
            Some(doc)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spherical_distance_matches_mongo_radius() {
        // One degree of longitude on the equator.
        let d = Metric::Meters.between((0.0, 0.0), (1.0, 0.0));
        assert!((d - EARTH_RADIUS_M * std::f64::consts::PI / 180.0).abs() < 1e-6);
        assert_eq!(Metric::Flat.between((0.0, 0.0), (3.0, 4.0)), 5.0);
    }

    #[test]
    fn containment_and_intersection() {
        let square = Geometry::Polygon(vec![vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 0.0),
        ]]);
        let cases = [
            (Geometry::Point((1.0, 1.0)), true),
            (Geometry::Point((4.0, 2.0)), true),
            (Geometry::Point((5.0, 5.0)), false),
            (Geometry::LineString(vec![(-1.0, 2.0), (5.0, 2.0)]), true),
            (Geometry::LineString(vec![(5.0, 0.0), (5.0, 5.0)]), false),
        ];
        for (g, want) in cases {
            assert_eq!(intersects(&g, &square), want, "{g:?}");
        }
    }
}
