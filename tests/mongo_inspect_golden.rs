//! mongosh's printed form checked against Node's own `util.inspect` (Node 20, with mongosh's
//! options: depth 6, and maxArrayLength Infinity for cursor batches; BSON classes print through
//! custom inspectors as `ObjectId('…')`, `ISODate('…')`, `Long('…')`). The expected strings
//! were produced by running the same literals through Node.

use nosql_playground::mongo::Shell;

/// (document literal, findOne output, find output)
const CASES: &[(&str, &str, &str)] = &[
    (
        "{_id: 1, title: \"Redis Caching\"}",
        "{ _id: 1, title: 'Redis Caching' }",
        "[ { _id: 1, title: 'Redis Caching' } ]",
    ),
    (
        "{_id: 2, title: \"A fairly long title that goes on and on\", body: \"Another long string value here\", n: 3}",
        "{\n  _id: 2,\n  title: 'A fairly long title that goes on and on',\n  body: 'Another long string value here',\n  n: 3\n}",
        "[\n  {\n    _id: 2,\n    title: 'A fairly long title that goes on and on',\n    body: 'Another long string value here',\n    n: 3\n  }\n]",
    ),
    (
        "{_id: 3, a: {b: {c: {d: {e: {f: {g: {h: 1}}}}}}}}",
        "{\n  _id: 3,\n  a: {\n    b: {\n      c: {\n        d: { e: { f: { g: [Object] } } }\n      }\n    }\n  }\n}",
        "[\n  {\n    _id: 3,\n    a: {\n      b: {\n        c: { d: { e: { f: [Object] } } }\n      }\n    }\n  }\n]",
    ),
    (
        "{_id: 4, tags: [\"redis\", \"cache\", \"nosql\", \"db\", \"fast\", \"memory\", \"keys\", \"ttl\"]}",
        "{\n  _id: 4,\n  tags: [\n    'redis', 'cache',\n    'nosql', 'db',\n    'fast',  'memory',\n    'keys',  'ttl'\n  ]\n}",
        "[\n  {\n    _id: 4,\n    tags: [\n      'redis', 'cache',\n      'nosql', 'db',\n      'fast',  'memory',\n      'keys',  'ttl'\n    ]\n  }\n]",
    ),
    (
        "{_id: 5, nums: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 100, 1000, 10000]}",
        "{\n  _id: 5,\n  nums: [\n      1,    2,     3,  4,  5,  6,\n      7,    8,     9, 10, 11, 12,\n     13,   14,    15, 16, 17, 18,\n     19,   20,    21, 22, 23, 24,\n     25,   26,    27, 28, 29, 30,\n    100, 1000, 10000\n  ]\n}",
        "[\n  {\n    _id: 5,\n    nums: [\n        1,    2,     3,  4,  5,  6,\n        7,    8,     9, 10, 11, 12,\n       13,   14,    15, 16, 17, 18,\n       19,   20,    21, 22, 23, 24,\n       25,   26,    27, 28, 29, 30,\n      100, 1000, 10000\n    ]\n  }\n]",
    ),
    (
        "{_id: 6, o: ObjectId(\"65a1b2c3d4e5f60718293a4b\"), d: ISODate(\"2024-01-01T00:00:00Z\"), l: NumberLong(5)}",
        "{\n  _id: 6,\n  o: ObjectId('65a1b2c3d4e5f60718293a4b'),\n  d: ISODate('2024-01-01T00:00:00.000Z'),\n  l: Long('5')\n}",
        "[\n  {\n    _id: 6,\n    o: ObjectId('65a1b2c3d4e5f60718293a4b'),\n    d: ISODate('2024-01-01T00:00:00.000Z'),\n    l: Long('5')\n  }\n]",
    ),
    (
        "{_id: 7, s: \"it's\", t: \"say \\\"hi\\\"\", u: \"both ' and \\\"\", v: \"tab\\there\", w: \"nl\\nx\"}",
        "{\n  _id: 7,\n  s: \"it's\",\n  t: 'say \"hi\"',\n  u: `both ' and \"`,\n  v: 'tab\\there',\n  w: 'nl\\nx'\n}",
        "[\n  {\n    _id: 7,\n    s: \"it's\",\n    t: 'say \"hi\"',\n    u: `both ' and \"`,\n    v: 'tab\\there',\n    w: 'nl\\nx'\n  }\n]",
    ),
    (
        "{_id: 8, comments: [{by: \"Sam\", text: \"Great post, thanks for writing it\", votes: 3}, {by: \"Kim\", text: \"Could you cover eviction?\", votes: 1}]}",
        "{\n  _id: 8,\n  comments: [\n    { by: 'Sam', text: 'Great post, thanks for writing it', votes: 3 },\n    { by: 'Kim', text: 'Could you cover eviction?', votes: 1 }\n  ]\n}",
        "[\n  {\n    _id: 8,\n    comments: [\n      {\n        by: 'Sam',\n        text: 'Great post, thanks for writing it',\n        votes: 3\n      },\n      { by: 'Kim', text: 'Could you cover eviction?', votes: 1 }\n    ]\n  }\n]",
    ),
    (
        "{_id: 9, \"a-b\": 1, \"$x\": 2, \"0\": 3, _y: 4, \"with space\": 5}",
        "{ '0': 3, _id: 9, 'a-b': 1, '$x': 2, _y: 4, 'with space': 5 }",
        "[ { '0': 3, _id: 9, 'a-b': 1, '$x': 2, _y: 4, 'with space': 5 } ]",
    ),
    (
        "{_id: 10, x: 1.5, y: -0.25, z: 1e21, w: 1e-7, big: 12345678901234, e: [], f: {}}",
        "{\n  _id: 10,\n  x: 1.5,\n  y: -0.25,\n  z: 1e+21,\n  w: 1e-7,\n  big: 12345678901234,\n  e: [],\n  f: {}\n}",
        "[\n  {\n    _id: 10,\n    x: 1.5,\n    y: -0.25,\n    z: 1e+21,\n    w: 1e-7,\n    big: 12345678901234,\n    e: [],\n    f: {}\n  }\n]",
    ),
    (
        "{_id: 11, matrix: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14]]}",
        "{\n  _id: 11,\n  matrix: [\n    [ 1, 2 ],\n    [ 3, 4 ],\n    [ 5, 6 ],\n    [ 7, 8 ],\n    [ 9, 10 ],\n    [ 11, 12 ],\n    [ 13, 14 ]\n  ]\n}",
        "[\n  {\n    _id: 11,\n    matrix: [\n      [ 1, 2 ],\n      [ 3, 4 ],\n      [ 5, 6 ],\n      [ 7, 8 ],\n      [ 9, 10 ],\n      [ 11, 12 ],\n      [ 13, 14 ]\n    ]\n  }\n]",
    ),
    (
        "{_id: 12, mixed: [1, \"two\", {three: 3}, [4], null, true, 7.5, \"eight\"]}",
        "{\n  _id: 12,\n  mixed: [ 1, 'two', { three: 3 }, [ 4 ], null, true, 7.5, 'eight' ]\n}",
        "[\n  {\n    _id: 12,\n    mixed: [ 1, 'two', { three: 3 }, [ 4 ], null, true, 7.5, 'eight' ]\n  }\n]",
    ),
    (
        "{_id: 13, longtext: \"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore\"}",
        "{\n  _id: 13,\n  longtext: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore'\n}",
        "[\n  {\n    _id: 13,\n    longtext: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore'\n  }\n]",
    ),
    (
        "{_id: 14, ml: \"first line\\nsecond line that is definitely long enough to push past the break length\\nthird\"}",
        "{\n  _id: 14,\n  ml: 'first line\\n' +\n    'second line that is definitely long enough to push past the break length\\n' +\n    'third'\n}",
        "[\n  {\n    _id: 14,\n    ml: 'first line\\n' +\n      'second line that is definitely long enough to push past the break length\\n' +\n      'third'\n  }\n]",
    ),
    (
        "{_id: 15, a: {b: [ {c: 1, d: [1, 2, {e: \"f\"}]} ]}, g: \"h\"}",
        "{\n  _id: 15,\n  a: {\n    b: [\n      { c: 1, d: [ 1, 2, { e: 'f' } ] }\n    ]\n  },\n  g: 'h'\n}",
        "[\n  {\n    _id: 15,\n    a: {\n      b: [\n        { c: 1, d: [ 1, 2, { e: 'f' } ] }\n      ]\n    },\n    g: 'h'\n  }\n]",
    ),
    (
        "{_id: 16, author: {name: \"Alex\", email: \"alex@example.com\", address: {city: \"Paris\", zip: \"75001\"}}, ok: true}",
        "{\n  _id: 16,\n  author: {\n    name: 'Alex',\n    email: 'alex@example.com',\n    address: { city: 'Paris', zip: '75001' }\n  },\n  ok: true\n}",
        "[\n  {\n    _id: 16,\n    author: {\n      name: 'Alex',\n      email: 'alex@example.com',\n      address: { city: 'Paris', zip: '75001' }\n    },\n    ok: true\n  }\n]",
    ),
    (
        "{_id: 17, words: [\"alpha\", \"beta\", \"gamma\", \"delta\", \"epsilon\", \"zeta\", \"eta\", \"theta\", \"iota\", \"kappa\", \"lambda\", \"mu\", \"nu\"]}",
        "{\n  _id: 17,\n  words: [\n    'alpha',   'beta',\n    'gamma',   'delta',\n    'epsilon', 'zeta',\n    'eta',     'theta',\n    'iota',    'kappa',\n    'lambda',  'mu',\n    'nu'\n  ]\n}",
        "[\n  {\n    _id: 17,\n    words: [\n      'alpha',   'beta',\n      'gamma',   'delta',\n      'epsilon', 'zeta',\n      'eta',     'theta',\n      'iota',    'kappa',\n      'lambda',  'mu',\n      'nu'\n    ]\n  }\n]",
    ),
    (
        "{_id: 18, x: null, y: true, z: false, n: -5, r: /ab+c/i}",
        "{ _id: 18, x: null, y: true, z: false, n: -5, r: /ab+c/i }",
        "[ { _id: 18, x: null, y: true, z: false, n: -5, r: /ab+c/i } ]",
    ),
];

#[test]
fn documents_print_as_node_inspects_them() {
    let mut shell = Shell::new();
    for (i, (literal, find_one, find)) in CASES.iter().enumerate() {
        let id = i + 1;
        let inserted = shell.eval_mongosh(&format!("db.golden.insertOne({literal})"), 0);
        assert_eq!(
            inserted,
            format!("{{ acknowledged: true, insertedId: {id} }}\n")
        );
        assert_eq!(
            shell.eval_mongosh(&format!("db.golden.findOne({{_id: {id}}})"), 0),
            format!("{find_one}\n"),
            "{literal}"
        );
        assert_eq!(
            shell.eval_mongosh(&format!("db.golden.find({{_id: {id}}})"), 0),
            format!("{find}\n"),
            "{literal}"
        );
    }
}

#[test]
fn cursor_batches_group_short_documents_like_node() {
    let mut shell = Shell::new();
    let docs: Vec<String> = (1..=25).map(|i| format!("{{_id: {i}}}")).collect();
    shell.eval_mongosh(&format!("db.g.insertMany([{}])", docs.join(", ")), 0);
    assert_eq!(shell.eval_mongosh("db.g.find()", 0), "[\n  { _id: 1 },  { _id: 2 },\n  { _id: 3 },  { _id: 4 },\n  { _id: 5 },  { _id: 6 },\n  { _id: 7 },  { _id: 8 },\n  { _id: 9 },  { _id: 10 },\n  { _id: 11 }, { _id: 12 },\n  { _id: 13 }, { _id: 14 },\n  { _id: 15 }, { _id: 16 },\n  { _id: 17 }, { _id: 18 },\n  { _id: 19 }, { _id: 20 }\n]\nType \"it\" for more\n");
    assert_eq!(
        shell.eval_mongosh("it", 0),
        "[ { _id: 21 }, { _id: 22 }, { _id: 23 }, { _id: 24 }, { _id: 25 } ]\n"
    );
    let big: Vec<String> = (0..120).map(|i| i.to_string()).collect();
    shell.eval_mongosh(
        &format!("db.g.insertOne({{_id: 100, a: [{}]}})", big.join(", ")),
        0,
    );
    assert_eq!(shell.eval_mongosh("db.g.findOne({_id: 100})", 0), "{\n  _id: 100,\n  a: [\n     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11,\n    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,\n    24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,\n    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,\n    60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71,\n    72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83,\n    84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,\n    96, 97, 98, 99,\n    ... 20 more items\n  ]\n}\n");
    assert_eq!(shell.eval_mongosh("db.g.find({_id: 100})", 0), "[\n  {\n    _id: 100,\n    a: [\n        0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,\n       12,  13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,\n       24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,\n       36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,\n       48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,\n       60,  61,  62,  63,  64,  65,  66,  67,  68,  69,  70,  71,\n       72,  73,  74,  75,  76,  77,  78,  79,  80,  81,  82,  83,\n       84,  85,  86,  87,  88,  89,  90,  91,  92,  93,  94,  95,\n       96,  97,  98,  99, 100, 101, 102, 103, 104, 105, 106, 107,\n      108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119\n    ]\n  }\n]\n");
}
