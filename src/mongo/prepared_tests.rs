//! `prepare_mongosh` then `run_prepared` print and change what one `eval_mongosh` does.

use super::Shell;

#[test]
fn two_calls_print_and_change_what_one_does() {
    let big: Vec<String> = (0..2_000)
        .map(|i| format!("{{_id: {i}, s: 'x'}}"))
        .collect();
    let inputs = [
        "db.c.insertOne({_id: 1, a: [1, 2]})".to_string(),
        format!("db.big.insertMany([{}])", big.join(", ")),
        "print('before'); db.c.find()\ndb.c.countDocuments()".to_string(),
        // A syntax error anywhere: nothing runs.
        "db.c.insertOne({_id: 2})\ndb.c.find({".to_string(),
        // A runtime error stops its line; later lines run.
        "db.c.insertOne({_id: 1}); db.c.insertOne({_id: 3})\ndb.c.insertOne({_id: 4})".to_string(),
        "let n = db.c.countDocuments()".to_string(),
        "n + 1".to_string(),
        "use other".to_string(),
        "db.getName()".to_string(),
        "for (;;) {}".to_string(),
        String::new(),
    ];
    let mut once = Shell::new();
    let mut twice = Shell::new();
    once.set_step_limit(100_000);
    twice.set_step_limit(100_000);
    for (i, src) in inputs.iter().enumerate() {
        let now = 1_000 * i as u64;
        let expected = once.eval_mongosh(src, now);
        let got = match twice.prepare_mongosh(src, now) {
            Some(error) => error,
            None => twice.run_prepared(now),
        };
        assert_eq!(got, expected, "{src}");
        // Nothing stays kept after the run.
        assert_eq!(twice.run_prepared(now), "");
    }
    let check = "use test\ndb.c.find()\ndb.big.countDocuments()";
    assert_eq!(twice.eval_mongosh(check, 0), once.eval_mongosh(check, 0));
}
