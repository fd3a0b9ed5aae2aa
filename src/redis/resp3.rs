//! The RESP3 shapes of replies. Handlers answer in RESP2 shapes; for a client that said
//! HELLO 3, `shape` turns the replies whose type RESP3 refines into that type, as the
//! server would send them: field/value pairs (HGETALL, CONFIG GET) into maps, set members into sets, scores into
//! doubles, WITHSCORES lists into [member, score] pairs.

use super::reply::Reply;

fn said(argv: &[Vec<u8>], word: &str) -> bool {
    argv.iter()
        .skip(1)
        .any(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

/// A score bulk as a double (nil and anything else unchanged).
fn double(reply: Reply) -> Reply {
    match reply {
        Reply::Bulk(bytes) => Reply::Double(String::from_utf8_lossy(&bytes).into_owned()),
        other => other,
    }
}

/// `[a, b, c, d]` as `[[a, f(b)], [c, f(d)]]`.
fn pairs(items: Vec<Reply>, second: fn(Reply) -> Reply) -> Vec<Reply> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push(Reply::Array(vec![a, second(b)]));
    }
    out
}

fn keep(reply: Reply) -> Reply {
    reply
}

/// The RESP3 form of `reply`, the answer to `argv` (run as `name`, the table's name).
pub fn shape(name: &str, argv: &[Vec<u8>], reply: Reply) -> Reply {
    let Reply::Array(items) = reply else {
        return match name {
            "zscore" | "zincrby" | "zadd" => double(reply),
            _ => reply,
        };
    };
    match name {
        "hgetall" | "config|get" => {
            let mut map = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                map.push((k, v));
            }
            Reply::Map(map)
        }
        "smembers" | "sinter" | "sunion" | "sdiff" => Reply::Set(items),
        "zmscore" => Reply::Array(items.into_iter().map(double).collect()),
        "hrandfield" if said(argv, "withvalues") => Reply::Array(pairs(items, keep)),
        "zrange" | "zrangebyscore" | "zrevrange" | "zrevrangebyscore" | "zunion" | "zinter"
        | "zdiff" | "zrandmember"
            if said(argv, "withscores") =>
        {
            Reply::Array(pairs(items, double))
        }
        "zpopmin" | "zpopmax" if argv.len() > 2 => Reply::Array(pairs(items, double)),
        "zpopmin" | "zpopmax" | "zrank" | "zrevrank" if items.len() == 2 => {
            let mut items = items;
            if let Some(last) = items.pop() {
                items.push(double(last));
            }
            Reply::Array(items)
        }
        "bzpopmin" | "bzpopmax" if items.len() == 3 => {
            let mut items = items;
            if let Some(last) = items.pop() {
                items.push(double(last));
            }
            Reply::Array(items)
        }
        "zmpop" | "bzmpop" => Reply::Array(
            items
                .into_iter()
                .map(|part| match part {
                    Reply::Array(list) => Reply::Array(
                        list.into_iter()
                            .map(|pair| match pair {
                                Reply::Array(mut pair) if pair.len() == 2 => {
                                    if let Some(score) = pair.pop() {
                                        pair.push(double(score));
                                    }
                                    Reply::Array(pair)
                                }
                                other => other,
                            })
                            .collect(),
                    ),
                    other => other,
                })
                .collect(),
        ),
        _ => Reply::Array(items),
    }
}

#[cfg(test)]
mod tests {
    use crate::redis::testing::run_as;
    use crate::redis::Server;

    #[test]
    fn resp3_clients_get_maps_sets_and_doubles() {
        let mut s = Server::new();
        run_as(&mut s, 1, "HELLO 3", 0);
        let cases = [
            ("HSET h a 1 b 2", "(integer) 2\n"),
            ("HGETALL h", "1# \"a\" => \"1\"\n2# \"b\" => \"2\"\n"),
            ("HGETALL nope", "(empty hash)\n"),
            ("SADD s x", "(integer) 1\n"),
            ("SMEMBERS s", "1~ \"x\"\n"),
            ("SMEMBERS nope", "(empty set)\n"),
            ("ZADD z 1.5 a 2 b", "(integer) 2\n"),
            ("ZSCORE z a", "(double) 1.5\n"),
            ("ZSCORE z nope", "(nil)\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                "1) 1) \"a\"\n   2) (double) 1.5\n2) 1) \"b\"\n   2) (double) 2\n",
            ),
            ("ZRANGE z 0 -1", "1) \"a\"\n2) \"b\"\n"),
            ("ZPOPMIN z", "1) \"a\"\n2) (double) 1.5\n"),
            ("ZINCRBY z 1 b", "(double) 3\n"),
            ("ZMSCORE z b nope", "1) (double) 3\n2) (nil)\n"),
            ("ZRANK z b WITHSCORE", "1) (integer) 0\n2) (double) 3\n"),
            ("ZPOPMAX z 2", "1) 1) \"b\"\n   2) (double) 3\n"),
            (
                "CONFIG GET notify-keyspace-events",
                "1# \"notify-keyspace-events\" => \"\"\n",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(run_as(&mut s, 1, line, 0), expected, "{line}");
        }
        run_as(&mut s, 1, "HELLO 2", 0);
        assert_eq!(
            run_as(&mut s, 1, "HGETALL h", 0),
            "1) \"a\"\n2) \"1\"\n3) \"b\"\n4) \"2\"\n"
        );
    }
}
