//! Scans of a large collection read the fields a filter and a `$group` test from columns
//! (`src/mongo/columns.rs`). They must answer exactly as the documents do. The reference is
//! the same documents split over three collections too small to get columns, read through
//! `$unionWith` (so no stage reads a collection directly): the same documents in the same
//! order, every field read from the documents themselves.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;
/// Documents in the large collection; each part holds a third, under the columns' threshold.
const N: usize = 3000;
const PART: usize = 1000;

/// Values each field takes, in turn (`None`: the field is left out).
const NUMS: &[Option<&str>] = &[
    Some("1"),
    Some("2.5"),
    Some("NumberLong(3)"),
    Some("NumberLong('9007199254740993')"),
    Some("NaN"),
    Some("-0.0"),
    Some("Infinity"),
    Some("-Infinity"),
    Some("NumberDecimal('2.5')"),
    Some("'3'"),
    Some("null"),
    Some("true"),
    Some("[1, 5]"),
    Some("{ x: 1 }"),
    None,
    Some("ISODate('2024-01-01T00:00:00Z')"),
    Some("NumberInt(7)"),
    Some("0"),
];

const STRS: &[Option<&str>] = &[
    Some("'Lima'"),
    Some("'Oslo'"),
    Some("''"),
    Some("'lima'"),
    Some("null"),
    Some("5"),
    Some("['Lima', 'x']"),
    None,
    Some("UNIQUE"),
    Some("'Lima'"),
    Some("'Quito'"),
];

const BOOLS: &[Option<&str>] = &[
    Some("true"),
    Some("false"),
    Some("null"),
    None,
    Some("0"),
    Some("1"),
    Some("true"),
];

const TAGS: &[Option<&str>] = &[
    Some("['a', 'b']"),
    Some("[]"),
    Some("['a']"),
    Some("'solo'"),
    Some("null"),
    None,
    Some("['a', 1]"),
    Some("[['a']]"),
    Some("['b', 'b', 'c']"),
    Some("UNIQUE"),
];

fn doc(i: usize) -> String {
    let mut d = format!("{{ _id: {i}");
    let mut put = |name: &str, v: Option<&str>| {
        if let Some(v) = v {
            let v = if v == "UNIQUE" {
                format!("'u{i}'")
            } else {
                v.to_string()
            };
            d.push_str(&format!(", {name}: {v}"));
        }
    };
    put("n", NUMS[(i * 7 + i / 13) % NUMS.len()]);
    put("s", STRS[(i * 5 + i / 7) % STRS.len()]);
    put("b", BOOLS[(i * 3 + i / 11) % BOOLS.len()]);
    put("t", TAGS[(i * 11 + i / 17) % TAGS.len()]);
    if i.is_multiple_of(4) {
        put("o", Some("{ x: 1 }"));
    }
    d.push_str(" }");
    d
}

fn loaded() -> Shell {
    let mut shell = Shell::new();
    shell.set_step_limit(u64::MAX);
    let docs: Vec<String> = (0..N).map(doc).collect();
    for (coll, range) in [
        ("big", 0..N),
        ("p1", 0..PART),
        ("p2", PART..2 * PART),
        ("p3", 2 * PART..N),
    ] {
        let out = shell.eval_json(
            &format!("db.{coll}.insertMany([{}])", docs[range].join(",")),
            NOW,
        );
        assert!(!out.contains("\"error\""), "{}", &out[..out.len().min(300)]);
    }
    shell
}

const FILTERS: &[&str] = &[
    "{}",
    "{ n: 1 }",
    "{ n: 2.5 }",
    "{ n: 3 }",
    "{ n: NumberLong(3) }",
    "{ n: 0 }",
    "{ n: -0.0 }",
    "{ n: 7 }",
    "{ n: { $gt: 2 } }",
    "{ n: { $gte: 2.5 } }",
    "{ n: { $lt: 3 } }",
    "{ n: { $lte: 0 } }",
    "{ n: { $gt: 1, $lt: 4 } }",
    "{ n: { $gt: 1 } }",
    "{ n: { $gte: 1 } }",
    "{ n: { $lt: 1 } }",
    "{ n: { $lte: 2.5 } }",
    "{ n: { $gt: 0 } }",
    "{ n: { $lt: 0 } }",
    "{ n: { $gte: -0.0 } }",
    "{ n: { $gte: 9007199254740992 } }",
    "{ n: { $eq: 1 } }",
    "{ n: Infinity }",
    "{ n: { $lt: -1e308 } }",
    "{ n: { $gt: 9007199254740992 } }",
    "{ n: NumberLong('9007199254740993') }",
    "{ n: NaN }",
    "{ n: { $gte: NaN } }",
    "{ n: null }",
    "{ n: { $gte: null } }",
    "{ n: { $ne: 1 } }",
    "{ n: { $in: [1, 'Lima', null] } }",
    "{ n: { $nin: [1, 2.5] } }",
    "{ n: { $exists: false } }",
    "{ n: { $type: 'string' } }",
    "{ n: { $not: { $gt: 2 } } }",
    "{ n: { $size: 2 } }",
    "{ n: { $elemMatch: { $gt: 2 } } }",
    "{ n: { $all: [1] } }",
    "{ n: { x: 1 } }",
    "{ n: '3' }",
    "{ n: true }",
    "{ s: 'Lima' }",
    "{ s: 'Lima', n: 1 }",
    "{ s: { $gt: 'M' } }",
    "{ s: { $lte: 'Lima' } }",
    "{ s: /^L/ }",
    "{ s: { $ne: 'Lima' } }",
    "{ s: 'u17' }",
    "{ s: 'u2990' }",
    "{ s: { $gte: 'u2' } }",
    "{ s: 5 }",
    "{ s: null }",
    "{ s: 'nowhere' }",
    "{ b: true }",
    "{ b: false }",
    "{ b: { $ne: null } }",
    "{ b: 1 }",
    "{ b: { $in: [true, 0] } }",
    "{ s: 'Lima', b: true, n: { $gte: 1 } }",
    "{ $and: [{ n: 1 }, { s: 'Lima' }] }",
    "{ $and: [{ n: { $gte: 1 } }, { $and: [{ b: true }] }] }",
    "{ $or: [{ n: 1 }, { s: 'Oslo' }] }",
    "{ $nor: [{ n: 1 }] }",
    "{ 'o.x': 1, n: 1 }",
    "{ $comment: 'why', n: 1 }",
    "{ n: 1, $expr: { $eq: ['$s', 'Lima'] } }",
];

fn run(shell: &mut Shell, src: &str) -> String {
    let out = shell.eval_json(src, NOW);
    assert!(!out.contains("\"error\""), "{src}: {out}");
    out
}

/// The reference: the three small collections in order, through a pipeline.
fn reference(filter: &str, rest: &str) -> String {
    format!(
        "db.p1.aggregate([{{ $unionWith: 'p2' }}, {{ $unionWith: 'p3' }}, {{ $match: {filter} }}{rest}]).toArray()"
    )
}

fn ids(out: &str) -> Vec<i64> {
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_default();
    v.as_array()
        .map(|a| a.iter().filter_map(|d| d.get("_id")?.as_i64()).collect())
        .unwrap_or_default()
}

fn check_finds(shell: &mut Shell, round: &str) {
    for f in FILTERS {
        let want = run(shell, &reference(f, ", { $project: { _id: 1 } }"));
        let got = run(shell, &format!("db.big.find({f}, {{ _id: 1 }}).toArray()"));
        assert_eq!(got, want, "{round}: find {f}");
        let matched = ids(&want);
        let count = run(shell, &format!("db.big.countDocuments({f})"));
        assert_eq!(
            count.trim(),
            matched.len().to_string(),
            "{round}: count {f}"
        );
        // What the scan examined: everything, or up to the document that completes a limit.
        for limit in [0usize, 1, 5] {
            let upto = match matched.get(limit.wrapping_sub(1)) {
                Some(id) if limit > 0 => format!("{{ _id: {{ $lte: {id} }} }}"),
                _ => "{}".to_string(),
            };
            let examined = run(shell, &format!("db.big.countDocuments({upto})"));
            let stats = run(
                shell,
                &format!(
                    "db.big.find({f}).limit({limit}).explain('executionStats').executionStats.totalDocsExamined"
                ),
            );
            assert_eq!(
                stats.trim(),
                examined.trim(),
                "{round}: examined {f} limit {limit}"
            );
        }
    }
}

const SORTS: &[&str] = &[
    "{ n: 1 }",
    "{ n: -1 }",
    "{ s: -1, n: 1 }",
    "{ b: 1, s: 1 }",
    "{ 'o.x': 1, n: -1 }",
];

fn check_sorts(shell: &mut Shell, round: &str) {
    for f in [
        "{}",
        "{ s: 'Lima' }",
        "{ n: { $gte: 1 } }",
        "{ b: { $ne: null } }",
    ] {
        for sort in SORTS {
            for limit in [1, 7, 40] {
                let want = run(
                    shell,
                    &reference(f, &format!(", {{ $sort: {sort} }}, {{ $limit: {limit} }}, {{ $project: {{ _id: 1 }} }}")),
                );
                let got = run(
                    shell,
                    &format!(
                        "db.big.find({f}, {{ _id: 1 }}).sort({sort}).limit({limit}).toArray()"
                    ),
                );
                assert_eq!(got, want, "{round}: find {f} sort {sort} limit {limit}");
            }
        }
    }
}

const GROUPS: &[&str] = &[
    "{ _id: '$s', c: { $sum: 1 }, t: { $sum: '$n' }, a: { $avg: '$n' } }",
    "{ _id: '$n', c: { $sum: 1 }, t: { $sum: 2.5 }, a: { $avg: '$b' } }",
    "{ _id: '$b', c: { $sum: NumberLong(1) }, a: { $avg: '$nothere' } }",
    "{ _id: '$s', m: { $max: '$n' }, c: { $sum: 1 } }",
    "{ _id: '$o.x', c: { $sum: 1 } }",
    "{ _id: null, t: { $sum: '$n' }, a: { $avg: '$n' } }",
    "{ _id: '$nothere', c: { $sum: 1 } }",
];

fn check_groups(shell: &mut Shell, round: &str) {
    for f in FILTERS.iter().filter(|f| !f.contains("$expr")) {
        for g in GROUPS {
            let want = run(shell, &reference(f, &format!(", {{ $group: {g} }}")));
            let got = run(
                shell,
                &format!("db.big.aggregate([{{ $match: {f} }}, {{ $group: {g} }}]).toArray()"),
            );
            assert_eq!(got, want, "{round}: {f} then {g}");
        }
    }
}

const UNWINDS: &[(&str, &str)] = &[
    ("'$t'", "{ _id: '$t', n: { $sum: 1 } }"),
    (
        "{ path: '$t', preserveNullAndEmptyArrays: true }",
        "{ _id: '$t', n: { $sum: 1 } }",
    ),
    (
        "'$t'",
        "{ _id: '$t', n: { $sum: 2.5 }, a: { $avg: 1 }, l: { $sum: NumberLong(2) } }",
    ),
    ("'$t'", "{ _id: '$t', c: { $count: {} }, m: { $max: 'k' } }"),
    ("'$t'", "{ _id: '$t', s: { $sum: '$n' } }"),
    ("'$s'", "{ _id: '$s', n: { $sum: 1 } }"),
];

fn check_unwinds(shell: &mut Shell, round: &str) {
    for (unwind, group) in UNWINDS {
        let want = run(
            shell,
            &format!("db.p1.aggregate([{{ $unionWith: 'p2' }}, {{ $unionWith: 'p3' }}, {{ $unwind: {unwind} }}, {{ $group: {group} }}]).toArray()"),
        );
        let got = run(
            shell,
            &format!(
                "db.big.aggregate([{{ $unwind: {unwind} }}, {{ $group: {group} }}]).toArray()"
            ),
        );
        assert_eq!(got, want, "{round}: {unwind} then {group}");
    }
}

#[test]
fn column_scans_answer_as_the_documents_do() {
    let mut shell = loaded();
    check_finds(&mut shell, "first");
    check_groups(&mut shell, "first");
    check_sorts(&mut shell, "first");
    check_unwinds(&mut shell, "first");
}

#[test]
fn columns_follow_inserts_updates_and_deletes() {
    let mut shell = loaded();
    // Columns are built by the first scans, then every write must keep them in step.
    check_finds(&mut shell, "built");
    // (method, filter, rest of the arguments); a `…One` write goes to the first part that
    // holds a matching document, as it meets the first one in the large collection.
    let writes = [
        (
            "updateMany",
            "{ n: 1 }",
            ", { $set: { n: 'Lima', s: 2.5 } }",
        ),
        ("updateMany", "{ s: 'Oslo' }", ", { $unset: { b: '' } }"),
        ("updateOne", "{ n: 2.5 }", ", { $set: { s: 'u-new' } }"),
        (
            "updateMany",
            "{ b: true }",
            ", { $set: { t: ['c', 'new'] } }",
        ),
        ("updateMany", "{ t: 'a' }", ", { $push: { t: 9 } }"),
        ("deleteMany", "{ b: false }", ""),
        ("deleteOne", "{ s: 'Lima' }", ""),
    ];
    for (method, filter, rest) in writes {
        run(&mut shell, &format!("db.big.{method}({filter}{rest})"));
        for part in ["p1", "p2", "p3"] {
            if method.ends_with("One") {
                let found = run(&mut shell, &format!("db.{part}.countDocuments({filter})"));
                if found.trim() == "0" {
                    continue;
                }
            }
            run(&mut shell, &format!("db.{part}.{method}({filter}{rest})"));
            if method.ends_with("One") {
                break;
            }
        }
    }
    for d in [
        "{ _id: 5000, n: 1, s: 'Lima', b: true }",
        "{ _id: 5001, n: [1], s: 'u5001' }",
    ] {
        run(&mut shell, &format!("db.big.insertOne({d})"));
        run(&mut shell, &format!("db.p3.insertOne({d})"));
    }
    run(
        &mut shell,
        "db.big.replaceOne({ _id: 10 }, { n: 'x', s: 'Lima' })",
    );
    for part in ["p1", "p2", "p3"] {
        run(
            &mut shell,
            &format!("db.{part}.replaceOne({{ _id: 10 }}, {{ n: 'x', s: 'Lima' }})"),
        );
    }
    check_finds(&mut shell, "after writes");
    check_groups(&mut shell, "after writes");
    check_sorts(&mut shell, "after writes");
    check_unwinds(&mut shell, "after writes");
}

/// A small deterministic generator, so a failure names a seed that repeats it.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len())]
    }
}

/// Values a random document's field takes and a random filter compares with.
const POOL: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "2.5",
    "-0.0",
    "1e300",
    "NaN",
    "Infinity",
    "NumberLong(2)",
    "NumberLong('9007199254740993')",
    "NumberInt(1)",
    "NumberDecimal('2')",
    "'a'",
    "'b'",
    "'B'",
    "''",
    "'ab'",
    "null",
    "true",
    "false",
    "[]",
    "['a']",
    "['a', 'b']",
    "[1, 2]",
    "['a', 1]",
    "[[1]]",
    "[['a'], 2]",
    "{ x: 1 }",
    "{}",
    "ISODate('2024-01-01T00:00:00Z')",
    "ObjectId('65a1b2c3d4e5f60718293a4b')",
];

const OPS: &[&str] = &[
    "", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type",
];

fn random_doc(rng: &mut Lcg, i: usize) -> String {
    let mut d = format!("{{ _id: {i}");
    for name in ["f", "g", "h"] {
        match rng.next(8) {
            0 => {}
            1 => d.push_str(&format!(", {name}: 'u{}'", rng.next(4000))),
            _ => d.push_str(&format!(", {name}: {}", rng.pick(POOL))),
        }
    }
    d.push_str(" }");
    d
}

fn random_predicate(rng: &mut Lcg) -> String {
    let name = ["f", "g", "h"][rng.next(3)];
    let op = rng.pick(OPS);
    let operand = match op {
        "$in" | "$nin" => format!("[{}, {}]", rng.pick(POOL), rng.pick(POOL)),
        "$exists" => ["true", "false"][rng.next(2)].to_string(),
        "$type" => ["'number'", "'string'", "'array'", "'null'", "'bool'"][rng.next(5)].to_string(),
        _ => rng.pick(POOL).to_string(),
    };
    if op.is_empty() {
        format!("{name}: {operand}")
    } else {
        format!("{name}: {{ {op}: {operand} }}")
    }
}

#[test]
fn random_filters_and_groups_answer_as_the_documents_do() {
    for seed in [1u64, 2, 3] {
        let mut rng = Lcg(seed);
        let mut shell = Shell::new();
        shell.set_step_limit(u64::MAX);
        let docs: Vec<String> = (0..N).map(|i| random_doc(&mut rng, i)).collect();
        for (coll, range) in [
            ("big", 0..N),
            ("p1", 0..PART),
            ("p2", PART..2 * PART),
            ("p3", 2 * PART..N),
        ] {
            run(
                &mut shell,
                &format!("db.{coll}.insertMany([{}])", docs[range].join(",")),
            );
        }
        for _ in 0..120 {
            let preds: Vec<String> = (0..1 + rng.next(3))
                .map(|_| random_predicate(&mut rng))
                .collect();
            let filter = if rng.next(6) == 0 {
                format!(
                    "{{ $or: [{{ {} }}, {{ {} }}] }}",
                    preds[0],
                    random_predicate(&mut rng)
                )
            } else {
                format!("{{ {} }}", preds.join(", "))
            };
            // A filter the server refuses is refused the same way by both.
            let want = shell.eval_json(&reference(&filter, ", { $project: { _id: 1 } }"), NOW);
            if want.contains("\"error\"") {
                continue;
            }
            let got = run(
                &mut shell,
                &format!("db.big.find({filter}, {{ _id: 1 }}).toArray()"),
            );
            assert_eq!(got, want, "seed {seed}: find {filter}");
            let key = ["'$f'", "'$g'", "'$h'", "null"][rng.next(4)];
            let arg = ["'$f'", "'$g'", "1", "2.5"][rng.next(4)];
            let group = format!(
                "{{ _id: {key}, c: {{ $sum: 1 }}, s: {{ $sum: {arg} }}, a: {{ $avg: {arg} }} }}"
            );
            let want = run(
                &mut shell,
                &reference(&filter, &format!(", {{ $group: {group} }}")),
            );
            let got = run(
                &mut shell,
                &format!(
                    "db.big.aggregate([{{ $match: {filter} }}, {{ $group: {group} }}]).toArray()"
                ),
            );
            assert_eq!(got, want, "seed {seed}: {filter} then {group}");
            let sort = ["{ f: 1 }", "{ g: -1 }", "{ h: 1, f: -1 }"][rng.next(3)];
            let want = run(
                &mut shell,
                &reference(
                    &filter,
                    &format!(
                        ", {{ $sort: {sort} }}, {{ $limit: 5 }}, {{ $project: {{ _id: 1 }} }}"
                    ),
                ),
            );
            let got = run(
                &mut shell,
                &format!("db.big.find({filter}, {{ _id: 1 }}).sort({sort}).limit(5).toArray()"),
            );
            assert_eq!(got, want, "seed {seed}: find {filter} sort {sort}");
        }
        for field in ["f", "g", "h"] {
            let group = format!("{{ _id: '${field}', n: {{ $sum: 1 }} }}");
            let want = run(
                &mut shell,
                &format!("db.p1.aggregate([{{ $unionWith: 'p2' }}, {{ $unionWith: 'p3' }}, {{ $unwind: '${field}' }}, {{ $group: {group} }}]).toArray()"),
            );
            let got = run(
                &mut shell,
                &format!("db.big.aggregate([{{ $unwind: '${field}' }}, {{ $group: {group} }}]).toArray()"),
            );
            assert_eq!(got, want, "seed {seed}: unwind {field}");
        }
    }
}
