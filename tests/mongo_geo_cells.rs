//! Near searches through the cells of a geo index give exactly the documents, order and
//! distances of measuring every document: points spread over the globe and bunched at the
//! antimeridian and the poles, lines and polygons, legacy pairs, `2d` indexes, minimum and
//! maximum distances, limits and a filter. The expected answers are computed here from the
//! documents with the engine's own distance function, sorted, so only the search is tested.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::index::geo::{
    distance_to, legacy_point, stored_geometry, Geometry, Metric,
};
use nosql_playground::mongo::value::Value;
use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

/// A query point, its minimum and maximum distances and its limit.
type NearCase = ((f64, f64), Option<f64>, Option<f64>, Option<usize>);

/// A small deterministic generator (the same documents every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// A location as mongosh source and as the engine's value.
fn point_doc(x: f64, y: f64, legacy: bool) -> (String, Value) {
    let coords = Value::Array(vec![Value::Double(x), Value::Double(y)]);
    if legacy {
        (format!("[{x}, {y}]"), coords)
    } else {
        let mut d = nosql_playground::mongo::value::Document::default();
        d.insert("type".into(), Value::String("Point".into()));
        d.insert("coordinates".into(), coords);
        (
            format!("{{type: \"Point\", coordinates: [{x}, {y}]}}"),
            Value::Document(d),
        )
    }
}

fn shapes(seed: u64, n: usize) -> Vec<(String, Geometry)> {
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for i in 0..n {
        let (x, y) = match i % 5 {
            0 => (rng.range(-180.0, 180.0), rng.range(-90.0, 90.0)),
            // Both sides of the antimeridian.
            1 => (
                if rng.next() < 0.5 {
                    rng.range(179.0, 180.0)
                } else {
                    rng.range(-180.0, -179.0)
                },
                rng.range(-5.0, 5.0),
            ),
            // Around the north pole.
            2 => (rng.range(-180.0, 180.0), rng.range(88.0, 90.0)),
            // A city-sized cluster.
            _ => (rng.range(2.2, 2.5), rng.range(48.8, 48.9)),
        };
        let (src, value) = point_doc(x, y, i % 7 == 3);
        let g = match stored_geometry(&value) {
            Ok(g) => g,
            Err(e) => panic!("{src}: {e}"),
        };
        out.push((src, g));
        if i % 11 == 0 {
            let (a, b) = (rng.range(-0.5, 0.5), rng.range(-0.5, 0.5));
            let (x2, y2) = ((x + a).clamp(-180.0, 180.0), (y + b).clamp(-90.0, 90.0));
            out.push((
                format!("{{type: \"LineString\", coordinates: [[{x}, {y}], [{x2}, {y2}]]}}"),
                Geometry::LineString(vec![(x, y), (x2, y2)]),
            ));
        }
        if i % 13 == 0 {
            let (x0, y0) = (x.clamp(-178.0, 177.0), y.clamp(-88.0, 87.0));
            let ring = vec![
                (x0, y0),
                (x0 + 1.0, y0),
                (x0 + 1.0, y0 + 1.0),
                (x0, y0 + 1.0),
                (x0, y0),
            ];
            let text: Vec<String> = ring.iter().map(|(a, b)| format!("[{a}, {b}]")).collect();
            out.push((
                format!(
                    "{{type: \"Polygon\", coordinates: [[{}]]}}",
                    text.join(", ")
                ),
                Geometry::Polygon(vec![ring]),
            ));
        }
    }
    out
}

fn load(shell: &mut Shell, coll: &str, locs: &[String], index: &str) {
    for (chunk_start, chunk) in locs.chunks(200).enumerate().map(|(c, ch)| (c * 200, ch)) {
        let docs: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, loc)| format!("{{_id: {}, loc: {loc}}}", chunk_start + i))
            .collect();
        let out = shell.eval_mongosh(&format!("db.{coll}.insertMany([{}])", docs.join(", ")), NOW);
        assert!(out.contains("acknowledged: true"), "{out}");
    }
    let out = shell.eval_mongosh(&format!("db.{coll}.createIndex({{loc: \"{index}\"}})"), NOW);
    assert!(out.contains("loc_"), "{out}");
}

fn ids(shell: &mut Shell, query: &str) -> String {
    shell
        .eval_mongosh(&format!("{query}.toArray().map(d => d._id).join(' ')"), NOW)
        .trim()
        .trim_matches('\'')
        .to_string()
}

/// The ids within [min, max] of `p`, nearest first, ties in insertion order, after `keep`.
fn expected(
    geoms: &[Geometry],
    metric: Metric,
    p: (f64, f64),
    min: Option<f64>,
    max: Option<f64>,
    keep: impl Fn(usize) -> bool,
    limit: Option<usize>,
) -> String {
    let mut d: Vec<(f64, usize)> = geoms
        .iter()
        .enumerate()
        .map(|(i, g)| (distance_to(metric, p, g), i))
        .filter(|(d, i)| {
            d.is_finite() && min.is_none_or(|m| *d >= m) && max.is_none_or(|m| *d <= m) && keep(*i)
        })
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    assert!(d.len() > 1, "a case that finds nothing would test nothing");
    d.iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|(_, i)| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn sphere_near_reads_cells_and_answers_as_a_full_scan() {
    let docs = shapes(7, 700);
    let (srcs, geoms): (Vec<String>, Vec<Geometry>) = docs.into_iter().unzip();
    let mut shell = Shell::new();
    load(&mut shell, "g", &srcs, "2dsphere");
    let queries: &[NearCase] = &[
        ((2.35, 48.85), None, None, Some(10)),
        ((2.35, 48.85), None, Some(5_000.0), None),
        ((2.35, 48.85), Some(2_000.0), Some(8_000.0), Some(7)),
        ((179.99, 0.0), None, None, Some(25)),
        ((-179.99, 1.0), None, Some(200_000.0), None),
        ((0.0, 90.0), None, Some(300_000.0), None),
        ((45.0, -60.0), None, None, Some(5)),
        ((0.0, 0.0), None, None, None),
    ];
    for &(p, min, max, limit) in queries {
        let mut near = format!(
            "$geometry: {{type: \"Point\", coordinates: [{}, {}]}}",
            p.0, p.1
        );
        if let Some(m) = min {
            near += &format!(", $minDistance: {m}");
        }
        if let Some(m) = max {
            near += &format!(", $maxDistance: {m}");
        }
        let mut q = format!("db.g.find({{loc: {{$near: {{{near}}}}}}})");
        if let Some(n) = limit {
            q += &format!(".limit({n})");
        }
        let want = expected(&geoms, Metric::Meters, p, min, max, |_| true, limit);
        assert_eq!(ids(&mut shell, &q), want, "{q}");
        // The same with a filter on other fields: only odd ids.
        let filtered = q.replacen("db.g.find({", "db.g.find({_id: {$mod: [2, 1]}, ", 1);
        let want = expected(&geoms, Metric::Meters, p, min, max, |i| i % 2 == 1, limit);
        assert_eq!(ids(&mut shell, &filtered), want, "{filtered}");
        // $geoNear gives the same documents in the same order.
        let mut stage = format!(
            "near: {{type: \"Point\", coordinates: [{}, {}]}}, distanceField: \"d\"",
            p.0, p.1
        );
        if let Some(m) = min {
            stage += &format!(", minDistance: {m}");
        }
        if let Some(m) = max {
            stage += &format!(", maxDistance: {m}");
        }
        let limit_stage = limit.map_or(String::new(), |n| format!(", {{$limit: {n}}}"));
        let agg = format!("db.g.aggregate([{{$geoNear: {{{stage}}}}}{limit_stage}])");
        let want = expected(&geoms, Metric::Meters, p, min, max, |_| true, limit);
        assert_eq!(ids(&mut shell, &agg), want, "{agg}");
    }
    // Legacy pairs queried spherically measure in radians.
    let q = "db.g.find({loc: {$nearSphere: [179.5, 2], $maxDistance: 0.05}})";
    let want = expected(
        &geoms,
        Metric::Radians,
        (179.5, 2.0),
        None,
        Some(0.05),
        |_| true,
        None,
    );
    assert_eq!(ids(&mut shell, q), want, "{q}");
}

#[test]
fn flat_near_on_a_2d_index() {
    let mut rng = Lcg(11);
    let pts: Vec<(f64, f64)> = (0..800)
        .map(|i| {
            if i % 4 == 0 {
                (rng.range(-180.0, 179.9), rng.range(-180.0, 179.9))
            } else {
                (rng.range(-10.0, 10.0), rng.range(100.0, 120.0))
            }
        })
        .collect();
    let srcs: Vec<String> = pts.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
    let geoms: Vec<Geometry> = pts.iter().map(|&p| Geometry::Point(p)).collect();
    let mut shell = Shell::new();
    load(&mut shell, "f", &srcs, "2d");
    for &(p, max, limit) in &[
        ((0.0, 110.0), None, Some(10)),
        ((0.0, 110.0), Some(2.5), None),
        ((-179.0, -179.0), None, Some(3)),
        ((50.0, 50.0), Some(60.0), Some(40)),
    ] {
        let mut q = format!("db.f.find({{loc: {{$near: [{}, {}]", p.0, p.1);
        if let Some(m) = max {
            q += &format!(", $maxDistance: {m}");
        }
        q += "}})";
        if let Some(n) = limit {
            q += &format!(".limit({n})");
        }
        let want = expected(&geoms, Metric::Flat, p, None, max, |_| true, limit);
        assert_eq!(ids(&mut shell, &q), want, "{q}");
    }
    // Spherically on a 2d index: every key in one ring, the same answer.
    let q = "db.f.find({loc: {$nearSphere: [0, 60]}}).limit(15)";
    let want = expected(
        &geoms,
        Metric::Radians,
        (0.0, 60.0),
        None,
        None,
        |_| true,
        Some(15),
    );
    assert_eq!(ids(&mut shell, q), want, "{q}");
    assert!(legacy_point(&Value::Array(vec![Value::Int32(1), Value::Int32(2)])).is_some());
}

#[test]
fn a_limited_near_reads_few_keys() {
    let mut rng = Lcg(3);
    let mut shell = Shell::new();
    let srcs: Vec<String> = (0..20_000)
        .map(|_| point_doc(rng.range(-74.05, -73.9), rng.range(40.6, 40.9), false).0)
        .collect();
    load(&mut shell, "p", &srcs, "2dsphere");
    let stats = |shell: &mut Shell, field: &str| -> u64 {
        let out = shell.eval_mongosh(
            &format!("db.p.find({{loc: {{$near: {{$geometry: {{type: \"Point\", coordinates: [-73.97, 40.75]}}}}}}}}).limit(10).explain(\"executionStats\").executionStats.{field}"),
            NOW,
        );
        out.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{field}: {out}"))
    };
    let keys = stats(&mut shell, "totalKeysExamined");
    let docs = stats(&mut shell, "totalDocsExamined");
    assert!((10..1_000).contains(&keys), "keys examined: {keys}");
    assert!((10..1_000).contains(&docs), "docs examined: {docs}");
    assert_eq!(stats(&mut shell, "nReturned"), 10);
}

#[test]
fn within_and_intersects_read_the_cells_and_answer_as_a_collection_scan() {
    let docs = shapes(5, 700);
    let srcs: Vec<String> = docs.into_iter().map(|(s, _)| s).collect();
    let mut plain = Shell::new();
    load(&mut plain, "g", &srcs, "2dsphere");
    plain.eval_mongosh("db.g.dropIndex(\"loc_2dsphere\")", NOW);
    let mut indexed = Shell::new();
    load(&mut indexed, "g", &srcs, "2dsphere");
    let filters = [
        "{$geoWithin: {$centerSphere: [[2.35, 48.85], 0.001]}}",
        "{$geoWithin: {$centerSphere: [[179.9, 0], 0.02]}}",
        "{$geoWithin: {$centerSphere: [[0, 90], 0.03]}}",
        "{$geoWithin: {$centerSphere: [[-179.5, 3], 0.05]}}",
        "{$geoWithin: {$geometry: {type: \"Polygon\", coordinates: [[[2.3, 48.8], [2.45, 48.8], [2.45, 48.9], [2.3, 48.8]]]}}}",
        "{$geoWithin: {$box: [[2.3, 48.8], [2.4, 48.86]]}}",
        "{$geoWithin: {$polygon: [[179, -5], [180, -5], [180, 5]]}}",
        "{$geoWithin: {$center: [[2.35, 48.85], 0.05]}}",
        "{$geoIntersects: {$geometry: {type: \"Polygon\", coordinates: [[[2.3, 48.8], [2.45, 48.8], [2.45, 48.9], [2.3, 48.9], [2.3, 48.8]]]}}}",
        "{$geoIntersects: {$geometry: {type: \"LineString\", coordinates: [[2.0, 48.0], [3.0, 49.5]]}}}",
        "{$geoIntersects: {$geometry: {type: \"Polygon\", coordinates: [[[-10, 60], [50, 60], [50, 89], [-10, 89], [-10, 60]]]}}}",
    ];
    for f in filters {
        for tail in [
            "",
            ".limit(5)",
            ".skip(2).limit(3)",
            ".sort({_id: -1}).limit(4)",
        ] {
            let q = format!("db.g.find({{loc: {f}}}){tail}");
            let want = ids(&mut plain, &q);
            assert_eq!(ids(&mut indexed, &q), want, "{q}");
            if tail.is_empty() {
                assert!(
                    want.contains(' '),
                    "a case that finds nothing would test nothing: {q}"
                );
            }
        }
        let explain = |shell: &mut Shell, what: &str| {
            shell
                .eval_mongosh(
                    &format!("db.g.find({{loc: {f}}}).explain(\"executionStats\").{what}"),
                    NOW,
                )
                .trim()
                .to_string()
        };
        assert_eq!(
            explain(&mut indexed, "queryPlanner.winningPlan.inputStage.stage"),
            "IXSCAN",
            "{f}"
        );
        assert_eq!(
            explain(&mut plain, "queryPlanner.winningPlan.stage"),
            "COLLSCAN",
            "{f}"
        );
    }
    // A region around the city cluster (two fifths of the points) reads little more.
    let examined: usize = indexed
        .eval_mongosh(
            &format!(
                "db.g.find({{loc: {}}}).explain(\"executionStats\").executionStats.totalDocsExamined",
                filters[0]
            ),
            NOW,
        )
        .trim()
        .parse()
        .unwrap_or(usize::MAX);
    assert!(examined < srcs.len() / 2, "{examined} of {}", srcs.len());
}
