//! The RESP3 shapes of replies. Handlers answer in RESP2 shapes; for a client that said
//! HELLO 3, `shape` turns the replies whose type RESP3 refines into that type, as the
//! server would send them. One row of `TABLE` per command names its conversion: field/value
//! pairs into maps (HGETALL, CONFIG GET, XINFO, LCS IDX, MEMORY STATS), members into sets
//! (SMEMBERS, SPOP with a count), scores and coordinates into doubles, WITHSCORES lists into
//! [member, score] pairs, XREAD's streams into a map keyed by stream, COMMAND INFO / DOCS
//! into their nested maps and sets. EXEC shapes each queued reply as it runs it.

use super::reply::bulks::{Bulks, Shape};
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

/// A flat `[k1, v1, k2, v2]` array as a map, each value passed through `value(key, v)`.
fn map_with(reply: Reply, value: &dyn Fn(&[u8], Reply) -> Reply) -> Reply {
    let Reply::Array(items) = reply else {
        return reply;
    };
    let mut map = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let v = match &k {
            Reply::Bulk(name) => value(name, v),
            Reply::Status(name) => value(name.as_bytes(), v),
            _ => v,
        };
        map.push((k, v));
    }
    Reply::Map(map)
}

fn map(reply: Reply) -> Reply {
    map_with(reply, &|_, v| v)
}

fn set(reply: Reply) -> Reply {
    match reply {
        Reply::Array(items) => Reply::Set(items),
        other => other,
    }
}

/// Each element of an array through `f`.
fn each(reply: Reply, f: &dyn Fn(Reply) -> Reply) -> Reply {
    match reply {
        Reply::Array(items) => Reply::Array(items.into_iter().map(f).collect()),
        other => other,
    }
}

/// The last element of an array through `f`.
fn last(reply: Reply, f: fn(Reply) -> Reply) -> Reply {
    match reply {
        Reply::Array(mut items) => {
            if let Some(x) = items.pop() {
                items.push(f(x));
            }
            Reply::Array(items)
        }
        other => other,
    }
}

/// A `[longitude, latitude]` pair as doubles.
fn coords(reply: Reply) -> Reply {
    each(reply, &double)
}

/// `[[stream, entries], ...]` (XREAD, XREADGROUP) as a map from stream to entries.
fn streams(reply: Reply) -> Reply {
    let Reply::Array(items) = reply else {
        return reply;
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Reply::Array(pair) if pair.len() == 2 => {
                let mut it = pair.into_iter();
                if let (Some(k), Some(v)) = (it.next(), it.next()) {
                    out.push((k, v));
                }
            }
            // Not a stream pair: not a shape we know, so the reply stays as it was.
            other => return Reply::Array(vec![other]),
        }
    }
    Reply::Map(out)
}

/// XINFO STREAM: a map; with FULL, its groups and their consumers are maps too.
fn xinfo_stream(reply: Reply) -> Reply {
    map_with(reply, &|key, v| match key {
        b"groups" => each(v, &|group| {
            map_with(group, &|key, v| match key {
                b"consumers" => each(v, &map),
                _ => v,
            })
        }),
        _ => v,
    })
}

/// One key specification of COMMAND INFO (the specs themselves a set): a map whose flags are a set and whose
/// begin_search / find_keys hold maps.
fn key_spec(reply: Reply) -> Reply {
    map_with(reply, &|key, v| match key {
        b"flags" => set(v),
        b"begin_search" | b"find_keys" => map_with(v, &|key, v| match key {
            b"spec" => map(v),
            _ => v,
        }),
        _ => v,
    })
}

/// One command of COMMAND INFO: flags, ACL categories and tips are sets, key specs maps,
/// subcommands commands again.
fn command_info(reply: Reply) -> Reply {
    let Reply::Array(items) = reply else {
        return reply;
    };
    Reply::Array(
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match i {
                2 | 6 | 7 => set(item),
                8 => set(each(item, &key_spec)),
                9 => each(item, &command_info),
                _ => item,
            })
            .collect(),
    )
}

/// One argument of COMMAND DOCS: a map, its own arguments maps again.
fn doc_argument(reply: Reply) -> Reply {
    map_with(reply, &|key, v| match key {
        b"arguments" => each(v, &doc_argument),
        _ => v,
    })
}

/// COMMAND DOCS: a map from command name to its documentation map.
fn command_docs(reply: Reply) -> Reply {
    map_with(reply, &|_, doc| {
        map_with(doc, &|key, v| match key {
            b"arguments" => each(v, &doc_argument),
            b"subcommands" => command_docs(v),
            _ => v,
        })
    })
}

/// MEMORY STATS: a map, each database's figures a map, ratios and percentages doubles.
fn memory_stats(reply: Reply) -> Reply {
    map_with(reply, &|key, v| match v {
        Reply::Array(_) if key.starts_with(b"db.") => map(v),
        Reply::Bulk(text) if std::str::from_utf8(&text).is_ok_and(|t| t.parse::<f64>().is_ok()) => {
            double(Reply::Bulk(text))
        }
        v => v,
    })
}

/// The ZMPOP / BZMPOP reply `[key, [[member, score], ...]]` with scores as doubles.
fn mpop(reply: Reply) -> Reply {
    each(reply, &|part| match part {
        // ZMPOP's pairs, in one buffer.
        Reply::Bulks(pairs) => score_pairs(&pairs),
        part => each(part, &|pair| match pair {
            Reply::Array(p) if p.len() == 2 => last(Reply::Array(p), double),
            other => other,
        }),
    })
}

/// How a command's RESP2 reply becomes its RESP3 one.
#[derive(Clone, Copy)]
enum Conv {
    /// Field/value pairs into a map.
    Map,
    /// Members into a set.
    Set,
    /// A score into a double.
    Double,
    /// Each element a double (ZMSCORE).
    Doubles,
    /// Flat pairs into [a, b] pairs when the command said this word (HRANDFIELD WITHVALUES).
    PairsIf(&'static str),
    /// Flat member/score pairs into [member, double] pairs when the command said this word.
    ScorePairsIf(&'static str),
    /// ZPOPMIN / ZPOPMAX: with a count, [member, double] pairs; else the score a double.
    Pop,
    /// The last element of a non-empty array a double (ZRANK WITHSCORE, BZPOPMIN).
    LastDouble,
    /// ZMPOP / BZMPOP.
    Mpop,
    /// XREAD / XREADGROUP.
    Streams,
    XinfoStream,
    /// An array of maps (XINFO GROUPS / CONSUMERS).
    Maps,
    /// GEOPOS: each position's coordinates doubles.
    GeoPos,
    /// GEOSEARCH / GEORADIUS WITHCOORD: the coordinates in each match doubles.
    GeoWith,
    /// A map when the command said this word (LCS IDX).
    MapIf(&'static str),
    CommandInfo,
    CommandDocs,
    /// COMMAND GETKEYSANDFLAGS: each key's flags a set.
    KeysAndFlags,
    MemoryStats,
}

/// The commands whose RESP3 reply differs from their RESP2 one, by table name.
const TABLE: &[(&str, Conv)] = &[
    ("hgetall", Conv::Map),
    ("config|get", Conv::Map),
    ("smembers", Conv::Set),
    ("sinter", Conv::Set),
    ("sunion", Conv::Set),
    ("sdiff", Conv::Set),
    ("spop", Conv::Set),
    ("zscore", Conv::Double),
    ("zincrby", Conv::Double),
    ("zadd", Conv::Double),
    ("zmscore", Conv::Doubles),
    ("hrandfield", Conv::PairsIf("withvalues")),
    ("zrange", Conv::ScorePairsIf("withscores")),
    ("zrangebyscore", Conv::ScorePairsIf("withscores")),
    ("zrevrange", Conv::ScorePairsIf("withscores")),
    ("zrevrangebyscore", Conv::ScorePairsIf("withscores")),
    ("zunion", Conv::ScorePairsIf("withscores")),
    ("zinter", Conv::ScorePairsIf("withscores")),
    ("zdiff", Conv::ScorePairsIf("withscores")),
    ("zrandmember", Conv::ScorePairsIf("withscores")),
    ("zpopmin", Conv::Pop),
    ("zpopmax", Conv::Pop),
    ("zrank", Conv::LastDouble),
    ("zrevrank", Conv::LastDouble),
    ("bzpopmin", Conv::LastDouble),
    ("bzpopmax", Conv::LastDouble),
    ("zmpop", Conv::Mpop),
    ("bzmpop", Conv::Mpop),
    ("xread", Conv::Streams),
    ("xreadgroup", Conv::Streams),
    ("xinfo|stream", Conv::XinfoStream),
    ("xinfo|groups", Conv::Maps),
    ("xinfo|consumers", Conv::Maps),
    ("geopos", Conv::GeoPos),
    ("geosearch", Conv::GeoWith),
    ("georadius", Conv::GeoWith),
    ("georadius_ro", Conv::GeoWith),
    ("georadiusbymember", Conv::GeoWith),
    ("georadiusbymember_ro", Conv::GeoWith),
    ("lcs", Conv::MapIf("idx")),
    ("command|info", Conv::CommandInfo),
    ("command|docs", Conv::CommandDocs),
    ("command|getkeysandflags", Conv::KeysAndFlags),
    ("memory|stats", Conv::MemoryStats),
];

/// The RESP3 form of `reply`, the answer to `argv` (run as `name`, the table's name).
pub fn shape(name: &str, argv: &[Vec<u8>], reply: Reply) -> Reply {
    let Some(&(_, conv)) = TABLE.iter().find(|(n, _)| *n == name) else {
        return reply;
    };
    // The replies in one buffer are HGETALL's (a map, still one buffer), SMEMBERS' and
    // SPOP's (a set, the same) and the ZRANGE family's and ZPOPMIN's, whose scores become
    // pairs; no other conversion meets one (LRANGE, KEYS, HKEYS, HVALS and the SCANs are
    // the same in RESP3).
    let reply = match (reply, conv) {
        (Reply::Bulks(mut bulks), Conv::Map | Conv::Set) => {
            bulks.reshape(if matches!(conv, Conv::Map) {
                Shape::Map
            } else {
                Shape::Set
            });
            return Reply::Bulks(bulks);
        }
        (Reply::Bulks(bulks), Conv::ScorePairsIf(word)) if said(argv, word) => {
            return score_pairs(&bulks);
        }
        (Reply::Bulks(bulks), Conv::Pop) => return score_pairs(&bulks),
        (reply, _) => reply,
    };
    if let Reply::Array(items) = &reply {
        match conv {
            Conv::Double => return reply,
            Conv::LastDouble if !matches!(items.len(), 2 | 3) => return reply,
            _ => {}
        }
    } else if !matches!(conv, Conv::Double) {
        return reply;
    }
    match conv {
        Conv::Map => map(reply),
        Conv::Set => set(reply),
        Conv::Double => double(reply),
        Conv::Doubles => each(reply, &double),
        Conv::PairsIf(word) | Conv::ScorePairsIf(word) if !said(argv, word) => reply,
        Conv::PairsIf(_) => flat_pairs(reply, keep),
        Conv::ScorePairsIf(_) => flat_pairs(reply, double),
        Conv::Pop if argv.len() > 2 => flat_pairs(reply, double),
        Conv::Pop => match reply {
            Reply::Array(items) if items.len() == 2 => last(Reply::Array(items), double),
            other => other,
        },
        Conv::LastDouble => last(reply, double),
        Conv::Mpop => mpop(reply),
        Conv::Streams => streams(reply),
        Conv::XinfoStream => xinfo_stream(reply),
        Conv::Maps => each(reply, &map),
        Conv::GeoPos => each(reply, &coords),
        Conv::GeoWith if !said(argv, "withcoord") => reply,
        Conv::GeoWith => each(reply, &|found| match found {
            Reply::Array(parts) => Reply::Array(
                parts
                    .into_iter()
                    .map(|p| match p {
                        Reply::Array(_) => coords(p),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        }),
        Conv::MapIf(word) if !said(argv, word) => reply,
        Conv::MapIf(_) => map(reply),
        Conv::CommandInfo => each(reply, &command_info),
        Conv::CommandDocs => command_docs(reply),
        Conv::KeysAndFlags => each(reply, &|pair| last(pair, set)),
        Conv::MemoryStats => memory_stats(reply),
    }
}

/// Members and scores in one buffer as [member, double] pairs.
fn score_pairs(bulks: &Bulks) -> Reply {
    let mut out = Vec::with_capacity(bulks.len() / 2);
    let mut items = bulks.iter();
    while let (Some(member), Some(score)) = (items.next(), items.next()) {
        out.push(Reply::Array(vec![
            Reply::bulk(member),
            double(Reply::bulk(score)),
        ]));
    }
    Reply::Array(out)
}

fn flat_pairs(reply: Reply, second: fn(Reply) -> Reply) -> Reply {
    match reply {
        Reply::Array(items) => Reply::Array(pairs(items, second)),
        other => other,
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

    #[test]
    fn resp3_streams_geo_lcs_and_exec() {
        let mut s = Server::new();
        run_as(&mut s, 1, "HELLO 3", 0);
        let cases = [
            ("XADD st 1-1 f v", "\"1-1\"\n"),
            ("XGROUP CREATE st g 0", "OK\n"),
            (
                "XREADGROUP GROUP g c STREAMS st >",
                "1# \"st\" => \n   1) 1) \"1-1\"\n      2) 1) \"f\"\n         2) \"v\"\n",
            ),
            ("XREAD STREAMS nosuch 0", "(nil)\n"),
            (
                "XINFO CONSUMERS st g",
                "1) 1# \"name\" => \"c\"\n   2# \"pending\" => (integer) 1\n   3# \"idle\" => (integer) 0\n   4# \"inactive\" => (integer) 0\n",
            ),
            ("SADD s x", "(integer) 1\n"),
            ("SPOP s 5", "1~ \"x\"\n"),
            ("SPOP s 5", "(empty set)\n"),
            ("SET a x", "OK\n"),
            (
                "LCS a a IDX",
                "1# \"matches\" => \n   1) 1) 1) (integer) 0\n         2) (integer) 0\n      2) 1) (integer) 0\n         2) (integer) 0\n2# \"len\" => (integer) 1\n",
            ),
            ("LCS a a", "\"x\"\n"),
            ("GEOADD geo 13.361389 38.115556 p", "(integer) 1\n"),
            (
                "GEOPOS geo p",
                "1) 1) (double) 13.36138933897018433\n   2) (double) 38.11555639549629859\n",
            ),
            ("GEOSEARCH geo FROMMEMBER p BYRADIUS 1 km", "1) \"p\"\n"),
            ("ZADD z 1 m", "(integer) 1\n"),
            ("MULTI", "OK\n"),
            ("ZSCORE z m", "QUEUED\n"),
            ("XREAD STREAMS st 0", "QUEUED\n"),
            (
                "EXEC",
                "1) (double) 1\n2) 1# \"st\" => \n      1) 1) \"1-1\"\n         2) 1) \"f\"\n            2) \"v\"\n",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(run_as(&mut s, 1, line, 0), expected, "{line}");
        }
        let full = run_as(&mut s, 1, "XINFO STREAM st FULL", 0);
        assert!(
            full.contains("9# \"groups\" => \n   1) 1# \"name\" => \"g\""),
            "{full}"
        );
        assert!(
            full.contains("7# \"consumers\" => \n         1) 1# \"name\" => \"c\""),
            "{full}"
        );
        let info = run_as(&mut s, 1, "COMMAND INFO get", 0);
        assert!(
            info.contains("3) 1~ readonly") && info.contains("9) 1~ 1# \"flags\" => "),
            "{info}"
        );
        let docs = run_as(&mut s, 1, "COMMAND DOCS get", 0);
        assert!(
            docs.starts_with("1# \"get\" => \n   1# \"summary\""),
            "{docs}"
        );
        let stats = run_as(&mut s, 1, "MEMORY STATS", 0);
        assert!(
            stats.contains("# \"dataset.percentage\" => (double) "),
            "{stats}"
        );
    }

    #[test]
    fn resp3_leaves_unexpected_shapes_alone() {
        use super::shape;
        use crate::redis::reply::Reply;
        let odd = [
            Reply::Integer(1),
            Reply::Nil,
            Reply::Array(vec![Reply::Integer(1)]),
            Reply::Array(vec![Reply::Array(vec![])]),
            Reply::Array(vec![Reply::Bulk(b"k".to_vec())]),
        ];
        let argv: Vec<Vec<u8>> = ["x", "withscores", "withcoord", "idx", "full"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        for (name, _) in super::TABLE {
            for reply in &odd {
                let _ = shape(name, &argv, reply.clone());
                let _ = shape(name, &argv[..1], reply.clone());
            }
        }
    }
}
