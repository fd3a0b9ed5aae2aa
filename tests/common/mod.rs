//! What the tests share: a seeded generator, so every run sees the same inputs, and a
//! runner for mongosh steps at given moments of sandbox time, and one for table-driven
//! mongosh cases.
#![allow(dead_code)]

/// xorshift64*: the tests' own generator (no crate, no system randomness).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Runs each (input, milliseconds after `now`, expected output) on one Mongo shell.
pub fn run_mongosh_at(
    shell: &mut nosql_playground::mongo::Shell,
    now: u64,
    steps: &[(&str, u64, &str)],
) {
    for (input, later, want) in steps {
        assert_eq!(
            shell.eval_mongosh(input, now + later),
            *want,
            "input: {input}"
        );
    }
}

/// Runs `setup` in a fresh shell at sandbox time `now_ms`, then each step's statement,
/// comparing what mongosh prints with the step's expected text (trailing newlines aside).
pub fn check_mongosh(name: &str, now_ms: u64, setup: &[&str], steps: &[(&str, &str)]) {
    let mut shell = nosql_playground::mongo::Shell::new();
    for s in setup {
        shell.eval_mongosh(s, now_ms);
    }
    for (input, want) in steps {
        let got = shell.eval_mongosh(input, now_ms);
        assert_eq!(got.trim_end(), want.trim_end(), "{name}: {input}");
    }
}

/// What `eval_json` gives for `src` at `now_ms`, trailing newline trimmed; fails the test when
/// the statement answers with an error.
pub fn eval_json_ok(shell: &mut nosql_playground::mongo::Shell, src: &str, now_ms: u64) -> String {
    let out = shell.eval_json(src, now_ms);
    assert!(!out.contains("\"error\""), "{src}: {out}");
    out.trim_end().to_string()
}

/// The `_id`s in what `src` answers, in order, space-separated: how the sort tests compare
/// orders without comparing whole documents.
pub fn ids_in_order(shell: &mut nosql_playground::mongo::Shell, src: &str) -> String {
    eval_json_ok(shell, src, 0)
        .split("\"_id\": ")
        .skip(1)
        .map(|s| s.split(['}', ',']).next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Documents that put each sort-key case next to plain values of several types: array
/// fields, nested arrays, empty arrays, null and missing, paths through arrays of documents
/// and numeric path parts. The sort tests order them by `find`'s keys and by `$sortArray`'s.
pub const SORT_KEY_DOCS: &[&str] = &[
    "{ _id: 1, a: 5, b: { c: 2 } }",
    "{ _id: 2, a: [[1]], b: [{ c: 9 }, {}] }",
    "{ _id: 3, a: [[0, 9], 4], b: [{ c: 1 }, { c: 7 }] }",
    "{ _id: 4, a: [], b: [] }",
    "{ _id: 5, a: null, b: [{ c: [3, 8] }] }",
    "{ _id: 6, b: { c: [] } }",
    "{ _id: 7, a: [2, [0]], b: [[{ c: 0 }]] }",
    "{ _id: 8, a: 'x', b: [{ c: 'z' }, { c: 4 }] }",
    "{ _id: 9, a: [[]], b: { c: null } }",
    "{ _id: 10, a: [3, 'y', [10]], b: [1, { c: 6 }] }",
    "{ _id: 11, a: [{ c: 1 }], b: [{ c: [[5]] }] }",
];
