//! SORT and SORT_RO over lists, sets and sorted sets (Redis's sort.c).
//!
//! SORT reads the elements of the value at its key in the value's own order (head to tail,
//! the set's iteration order, by rank), and STORE writes a list. Those are the only things it
//! needs from the container types, and they go through the four adapters below.

use std::cmp::Ordering;

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::zset::ZSet;
use super::{wrong_type, Value};
use crate::redis::parts::{require_part, Part};
use crate::redis::reply::{self, Reply};
use crate::redis::util::parse_i64;
use crate::redis::Server;

// ---------------------------------------------------------------------------------------
// What SORT needs from the container types
// ---------------------------------------------------------------------------------------

/// A list's elements, head to tail.
fn list_elements(list: &List) -> Vec<Vec<u8>> {
    list.iter().map(<[u8]>::to_vec).collect()
}

/// A set's members in the order SMEMBERS lists them.
fn set_members(set: &Set) -> Vec<Vec<u8>> {
    set.members()
}

/// A sorted set's members by rank, lowest score first.
fn zset_members(zset: &ZSet) -> Vec<Vec<u8>> {
    zset.iter().map(|(member, _)| member.to_vec()).collect()
}

/// A hash field's value, for `pattern->field`.
fn hash_field(hash: &Hash, field: &[u8]) -> Option<Vec<u8>> {
    hash.get(field).cloned()
}

/// The list STORE writes.
fn list_from(elements: Vec<Vec<u8>>) -> List {
    List::from_items(elements)
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// The elements to sort and the kind of value they came from; a missing key sorts as an
/// empty list.
fn elements_of(server: &mut Server, key: &[u8]) -> Result<(Kind, Vec<Vec<u8>>), Reply> {
    let now = server.now;
    match server.db().get(key, now).map(|e| &e.value) {
        None => Ok((Kind::List, Vec::new())),
        Some(Value::List(l)) => Ok((Kind::List, list_elements(l))),
        Some(Value::Set(s)) => Ok((Kind::Set, set_members(s))),
        Some(Value::ZSet(z)) => Ok((Kind::ZSet, zset_members(z))),
        Some(_) => Err(wrong_type()),
    }
}

/// Port of `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is
/// replaced by the element and the key read as a string, or with `->field` as a hash field.
/// Anything else (no `*`, a missing key, another type) is no value.
fn lookup_by_pattern(server: &mut Server, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    // The server reads the pattern as a C string.
    let pattern = &pattern[..pattern
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(pattern.len())];
    if pattern == b"#" {
        return Some(element.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&at| at + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(at) => (&after[..at], Some(&after[at + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let now = server.now;
    let value = &server.db().get(&key, now)?.value;
    match (value, field) {
        (Value::Str(bytes), None) => Some(bytes.clone()),
        (Value::Hash(h), Some(field)) => hash_field(h, field),
        _ => None,
    }
}

/// The score SORT gives a value when sorting numerically, `None` if it is not a double.
/// Valkey parses strictly: no spaces, no hex, nothing trailing, no NaN, and no value that
/// overflows to infinity or underflows to zero.
fn score(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let value: f64 = text.parse().ok()?;
    if value.is_nan() {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if value.is_infinite() && unsigned != "inf" && unsigned != "infinity" {
        return None;
    }
    let mantissa = unsigned.split('e').next().unwrap_or_default();
    if value == 0.0 && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return None;
    }
    Some(value)
}

/// One element being sorted, with what it is compared by.
struct Item {
    element: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorting; `None` when the pattern found nothing.
    by: Option<Vec<u8>>,
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
/// [ALPHA] [STORE destination]
pub fn sort(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Sort);
    sort_generic(server, argv, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
/// [ALPHA]
pub fn sort_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Sort);
    sort_generic(server, argv, true)
}

/// SORT's options, as `sortCommandGeneric` parses them.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// BY a pattern without `*`: keep the value's own order.
    dont_sort: bool,
    limit: (i64, i64),
    by: Option<&'a [u8]>,
    store: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
}

fn parse(argv: &[Vec<u8>], readonly: bool) -> Result<Options<'_>, Reply> {
    let mut o = Options {
        desc: false,
        alpha: false,
        dont_sort: false,
        limit: (0, -1),
        by: None,
        store: None,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let opt = argv[j].as_slice();
        let is = |w: &str| opt.eq_ignore_ascii_case(w.as_bytes());
        if is("asc") {
            o.desc = false;
        } else if is("desc") {
            o.desc = true;
        } else if is("alpha") {
            o.alpha = true;
        } else if is("limit") && left >= 2 {
            match (parse_i64(&argv[j + 1]), parse_i64(&argv[j + 2])) {
                (Some(s), Some(c)) => o.limit = (s, c),
                _ => return Err(reply::error(reply::NOT_INTEGER)),
            }
            j += 2;
        } else if !readonly && is("store") && left >= 1 {
            o.store = Some(&argv[j + 1]);
            j += 1;
        } else if is("by") && left >= 1 {
            let pattern = argv[j + 1].as_slice();
            let c_str = &pattern[..pattern
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(pattern.len())];
            o.dont_sort = !c_str.contains(&b'*');
            o.by = Some(pattern);
            j += 1;
        } else if is("get") && left >= 1 {
            o.gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(reply::error(reply::SYNTAX_ERROR));
        }
        j += 1;
    }
    Ok(o)
}

/// Port of `sortCommandGeneric`.
fn sort_generic(server: &mut Server, argv: &[Vec<u8>], readonly: bool) -> Reply {
    let opts = match parse(argv, readonly) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match elements_of(server, &argv[1]) {
        Ok((kind, elements)) => run(server, opts, kind, elements),
        Err(e) => e,
    }
}

/// Sorts (or not), applies LIMIT and GET, and replies or stores.
fn run(server: &mut Server, opts: Options, kind: Kind, mut elements: Vec<Vec<u8>>) -> Reply {
    let Options {
        desc,
        mut alpha,
        mut dont_sort,
        limit: (limit_start, limit_count),
        mut by,
        store,
        gets,
    } = opts;
    // A set has no order of its own worth storing: Redis sorts it alphabetically instead.
    if dont_sort && kind == Kind::Set && store.is_some() {
        dont_sort = false;
        alpha = true;
        by = None;
    }

    let len = elements.len() as i64;
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut int_conversion_error = false;
    if dont_sort {
        if desc && kind != Kind::Set {
            elements.reverse();
        }
    } else {
        let mut items = Vec::with_capacity(elements.len());
        for element in elements {
            let mut item = Item {
                score: 0.0,
                by: None,
                element,
            };
            let by_value = match by {
                Some(pattern) => lookup_by_pattern(server, pattern, &item.element),
                None => Some(item.element.clone()),
            };
            if let Some(value) = by_value {
                if alpha {
                    if by.is_some() {
                        item.by = Some(value);
                    }
                } else {
                    match score(&value) {
                        Some(s) => item.score = s,
                        None => int_conversion_error = true,
                    }
                }
            }
            items.push(item);
        }
        let by_pattern = by.is_some();
        crate::sort::sort_by(&mut items, |a, b| {
            let cmp = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.element.cmp(&b.element))
            } else if by_pattern {
                match (&a.by, &b.by) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                }
            } else {
                a.element.cmp(&b.element)
            };
            if desc {
                cmp.reverse()
            } else {
                cmp
            }
        });
        elements = items.into_iter().map(|i| i.element).collect();
    }
    if int_conversion_error {
        return Reply::err("One or more scores can't be converted into double");
    }

    let selected: &[Vec<u8>] = if end >= start && start >= 0 {
        elements
            .get(start as usize..=end as usize)
            .unwrap_or_default()
    } else {
        &[]
    };
    let selected = selected.to_vec();
    let mut out = Vec::with_capacity(selected.len() * gets.len().max(1));
    for element in &selected {
        if gets.is_empty() {
            out.push(Some(element.clone()));
        }
        for pattern in &gets {
            out.push(lookup_by_pattern(server, pattern, element));
        }
    }

    let Some(dest) = store else {
        return Reply::Array(
            out.into_iter()
                .map(|v| v.map(Reply::Bulk).unwrap_or(Reply::Nil))
                .collect(),
        );
    };
    let stored = out.len();
    let now = server.now;
    if stored > 0 {
        let list = list_from(out.into_iter().map(Option::unwrap_or_default).collect());
        server.db().set(dest, Value::List(Box::new(list)), now);
    } else {
        server.db().remove(dest);
    }
    Reply::Integer(stored as i64)
}

#[cfg(test)]
mod tests {
    use super::{parse, run, score, Kind};
    use crate::redis::cli::split_args;
    use crate::redis::Server;

    #[test]
    fn sort_checks_its_arguments_and_the_key_type() {
        let mut s = Server::new();
        let rows = [
            ("SET str v", "OK\n"),
            (
                "SORT str",
                "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n",
            ),
            (
                "SORT_RO str ALPHA",
                "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n",
            ),
            ("SORT str FOO", "(error) ERR syntax error\n"),
            ("SORT str LIMIT 1", "(error) ERR syntax error\n"),
            (
                "SORT str LIMIT x 1",
                "(error) ERR value is not an integer or out of range\n",
            ),
            (
                "SORT str LIMIT 1 1.5",
                "(error) ERR value is not an integer or out of range\n",
            ),
            ("SORT str BY", "(error) ERR syntax error\n"),
            ("SORT str GET", "(error) ERR syntax error\n"),
            ("SORT str STORE", "(error) ERR syntax error\n"),
            ("SORT_RO str STORE dst", "(error) ERR syntax error\n"),
            ("SORT nokey", "(empty array)\n"),
            (
                "SORT nokey BY w_* GET # GET h_*->f DESC ALPHA LIMIT 0 10",
                "(empty array)\n",
            ),
            ("SORT_RO nokey BY nosort", "(empty array)\n"),
            ("SET dst x", "OK\n"),
            ("SORT nokey STORE dst", "(integer) 0\n"),
            ("EXISTS dst", "(integer) 0\n"),
        ];
        for (line, expected) in rows {
            let argv = split_args(line).expect("balanced line");
            assert_eq!(s.execute(&argv, 0).to_cli_text(), expected, "{line}");
        }
    }

    #[test]
    fn scores_parse_as_valkey_reads_doubles() {
        let cases: &[(&str, Option<f64>)] = &[
            ("2.5", Some(2.5)),
            ("+3", Some(3.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1E+2", Some(100.0)),
            ("-0", Some(-0.0)),
            ("inf", Some(f64::INFINITY)),
            ("-infinity", Some(f64::NEG_INFINITY)),
            ("1e-310", Some(1e-310)),
            ("", None),
            (" 5", None),
            ("5 ", None),
            ("0x10", None),
            ("nan", None),
            ("1e400", None),
            ("1e-330", None),
            ("1_0", None),
        ];
        for (text, expected) in cases {
            assert_eq!(score(text.as_bytes()), *expected, "{text:?}");
        }
    }

    /// The sorting itself, fed the elements a list, set or sorted set would hand over;
    /// expected texts are the real server's for the same value and options.
    #[test]
    fn sorting_limits_and_patterns_match_the_real_server() {
        let mut s = Server::new();
        let setup =
            "MSET w_bob 3 w_alice 1 w_carol 2 w_dave 10 n_bob Bob n_alice Alice n_carol Carol";
        s.execute(&split_args(setup).expect("balanced"), 0);
        let cases: &[(Kind, &[&str], &str, &str)] = &[
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "",
                r#"1) "-5"
2) "1"
3) "2"
4) "2.5"
5) "3"
6) "10"
"#,
            ),
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "DESC LIMIT 1 3",
                r#"1) "3"
2) "2.5"
3) "2"
"#,
            ),
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "LIMIT -3 2",
                r#"1) "-5"
2) "1"
"#,
            ),
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "LIMIT 2 -1",
                r#"1) "2"
2) "2.5"
3) "3"
4) "10"
"#,
            ),
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "LIMIT 10 2",
                "(empty array)\n",
            ),
            (
                Kind::List,
                &["3", "1", "2", "10", "-5", "2.5"],
                "ALPHA DESC",
                r#"1) "3"
2) "2.5"
3) "2"
4) "10"
5) "1"
6) "-5"
"#,
            ),
            (
                Kind::List,
                &["bob", "alice", "carol", "dave"],
                "BY nosort DESC LIMIT 1 2",
                r#"1) "carol"
2) "alice"
"#,
            ),
            (
                Kind::List,
                &["bob", "alice", "carol", "dave"],
                "BY w_* GET # GET n_*",
                r#"1) "alice"
2) "Alice"
3) "carol"
4) "Carol"
5) "bob"
6) "Bob"
7) "dave"
8) (nil)
"#,
            ),
            (
                Kind::List,
                &["bob", "alice", "carol", "dave"],
                "BY n_* ALPHA DESC",
                r#"1) "carol"
2) "bob"
3) "alice"
4) "dave"
"#,
            ),
            (
                Kind::List,
                &["bob", "alice", "carol", "dave"],
                "BY missing_* GET nostar",
                "1) (nil)\n2) (nil)\n3) (nil)\n4) (nil)\n",
            ),
            (
                Kind::List,
                &["bob", "alice", "carol", "dave", "bob"],
                "ALPHA LIMIT 1 3",
                r#"1) "bob"
2) "bob"
3) "carol"
"#,
            ),
            (
                Kind::List,
                &["1", "x", "2"],
                "",
                "(error) ERR One or more scores can't be converted into double\n",
            ),
            (
                Kind::List,
                &["1", "x", "2"],
                "BY nosort",
                r#"1) "1"
2) "x"
3) "2"
"#,
            ),
            (
                Kind::Set,
                &["5", "3", "9", "1"],
                "DESC",
                r#"1) "9"
2) "5"
3) "3"
4) "1"
"#,
            ),
            (
                Kind::Set,
                &["pear", "apple", "fig"],
                "BY nosort DESC",
                r#"1) "pear"
2) "apple"
3) "fig"
"#,
            ),
            (
                Kind::ZSet,
                &["d", "a", "b", "c"],
                "BY nosort DESC LIMIT 1 2",
                r#"1) "b"
2) "a"
"#,
            ),
            (
                Kind::ZSet,
                &["d", "a", "b", "c"],
                "ALPHA DESC",
                r#"1) "d"
2) "c"
3) "b"
4) "a"
"#,
            ),
        ];
        for (kind, elements, options, expected) in cases {
            let argv = split_args(&format!("SORT k {options}")).expect("balanced");
            let opts = parse(&argv, false).expect("valid options");
            let elements = elements.iter().map(|e| e.as_bytes().to_vec()).collect();
            let reply = run(&mut s, opts, *kind, elements);
            assert_eq!(reply.to_cli_text(), *expected, "{kind:?} {options}");
        }
    }
}
