//! What the keyspace panel shows for the one key a student selected: each type as students
//! picture it. A hash as a field/value table with each field's TTL, a list with its head and
//! tail, a set's members, a sorted set ranked (and, for a geo set, its points with distances
//! as GEODIST gives them), a stream's entries with each consumer group's cursor, a bitmap's
//! bits. Like `snapshot`, it reads without side effects: nothing expires, no access counts.

use serde::Serialize;

use super::db::Entry;
use super::snapshot::printable;
use super::types::geo;
#[cfg(feature = "streams")]
use super::types::stream::StreamId;
use super::types::zset::{format_score, ZSet};
use super::types::Value;
use super::Server;
use crate::clock::Millis;

/// Elements of a collection shown; the page says how many more there are.
pub const DETAIL_ITEMS: usize = 100;
/// Elements shown from a long list's tail, after its first `DETAIL_ITEMS - LIST_TAIL`.
pub const LIST_TAIL: usize = 10;
/// Bytes of a string shown as bits (8 per byte).
pub const BIT_BYTES: usize = 32;
/// Members of a geo set drawn on its map.
pub const GEO_POINTS: usize = 40;
/// Nodes of a JSON document's tree shown.
pub const DETAIL_JSON_NODES: usize = 1_000;
/// Characters of a string or element shown.
pub const DETAIL_CHARS: usize = 400;

/// One key's value for the detail area, tagged by `kind` like the row previews.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Detail {
    String {
        text: String,
        len: usize,
        truncated: bool,
        /// Present when the string reads as a bitmap: last written by SETBIT, BITFIELD or
        /// BITOP, or holding bytes that are not printable text.
        bits: Option<Bits>,
    },
    Hash {
        fields: Vec<HashField>,
        len: usize,
    },
    /// `head` from index 0; `tail` the last elements when the list is longer than both.
    List {
        head: Vec<String>,
        tail: Vec<String>,
        len: usize,
    },
    Set {
        members: Vec<String>,
        len: usize,
    },
    /// Members by rank (0 first), scores as ZSCORE prints them.
    Zset {
        members: Vec<(String, String)>,
        len: usize,
        geo: Option<GeoPlot>,
    },
    Stream {
        entries: Vec<StreamEntry>,
        len: usize,
        #[serde(rename = "lastId")]
        last_id: String,
        groups: Vec<GroupCursor>,
    },
    /// The document as a tree, cut to `DETAIL_JSON_NODES` nodes (`…` marks the cut).
    Json {
        tree: serde_json::Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bits {
    /// The first bytes, as numbers; bit 0 is the most significant bit of byte 0 (as SETBIT
    /// numbers them).
    pub bytes: Vec<u8>,
    /// Bytes in the whole string.
    pub len: usize,
    /// Set bits in the whole string (BITCOUNT).
    pub count: u64,
    pub by_bit_command: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HashField {
    pub field: String,
    pub value: String,
    /// Absolute sandbox time the field expires at (HEXPIRE and friends).
    pub expire_at: Option<Millis>,
    pub ttl_ms: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeoPlot {
    /// The member distances are measured from.
    pub origin: String,
    pub points: Vec<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeoPoint {
    pub member: String,
    pub longitude: f64,
    pub latitude: f64,
    /// What `GEODIST key origin member km` prints.
    pub distance_km: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(String, String)>,
    /// Groups whose last-delivered ID is this entry (or lies between it and the next one):
    /// the next XREADGROUP `>` of those groups starts after it.
    pub cursors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCursor {
    pub name: String,
    pub last_delivered_id: String,
    /// Entries delivered and not acknowledged (XPENDING's count).
    pub pending: usize,
    pub consumers: usize,
}

/// The key written as the panel shows keys (`printable`): the literal key if one has that
/// name, else the text with its escapes (`\xHH`, `\n`, `\r`, `\t`, `\a`, `\b`) turned back
/// into bytes.
pub fn key_bytes(text: &str) -> Vec<u8> {
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        let named = match raw.get(i + 1) {
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            Some(b'a') => Some(0x07),
            Some(b'b') => Some(0x08),
            _ => None,
        };
        match (raw[i], raw.get(i + 1), hex) {
            (b'\\', Some(b'x'), Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (b'\\', _, _) if named.is_some() => {
                out.extend(named);
                i += 2;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The detail of `key` in database `db` at sandbox time `now`, or `None` if it is not there
/// (or already due). For a geo set, distances are measured from `origin` when it is one of
/// the plotted members, else from the first.
pub fn detail(server: &Server, db: usize, key: &str, origin: &str, now: Millis) -> Option<Detail> {
    let database = server.dbs.get(db)?;
    let entry = database
        .stored(key.as_bytes())
        .or_else(|| database.stored(&key_bytes(key)))?;
    if entry.expire_at.is_some_and(|at| at <= now) {
        return None;
    }
    Some(of_entry(entry, origin, now))
}

fn text(bytes: &[u8]) -> String {
    printable(bytes, DETAIL_CHARS).0
}

fn of_entry(entry: &Entry, origin: &str, now: Millis) -> Detail {
    match &entry.value {
        #[cfg(feature = "json")]
        Value::Json(doc) => Detail::Json {
            tree: super::types::json::preview_tree(doc, DETAIL_JSON_NODES),
        },
        Value::Str(bytes) => {
            let (text, truncated) = printable(bytes, DETAIL_CHARS);
            let by_bit_command = entry.encoding == Some(super::object::BITMAP_WRITTEN);
            let unprintable =
                std::str::from_utf8(bytes).map_or(true, |s| s.chars().any(|c| c.is_control()));
            let bits = (by_bit_command || unprintable).then(|| Bits {
                bytes: bytes.iter().take(BIT_BYTES).copied().collect(),
                len: bytes.len(),
                count: bytes.iter().map(|b| u64::from(b.count_ones())).sum(),
                by_bit_command,
            });
            Detail::String {
                text,
                len: bytes.len(),
                truncated,
                bits,
            }
        }
        Value::Hash(hash) => Detail::Hash {
            fields: hash
                .iter()
                .filter_map(|(f, v)| {
                    let expire_at = hash.expiry_of(f).flatten();
                    if expire_at.is_some_and(|at| at <= now) {
                        return None;
                    }
                    Some(HashField {
                        field: text(f),
                        value: text(v),
                        expire_at,
                        ttl_ms: expire_at.map(|at| at - now),
                    })
                })
                .take(DETAIL_ITEMS)
                .collect(),
            len: hash
                .iter()
                .filter(|(f, _)| hash.expiry_of(f).flatten().is_none_or(|at| at > now))
                .count(),
        },
        Value::List(list) => {
            let len = list.len();
            let (head_len, tail_len) = if len <= DETAIL_ITEMS {
                (len, 0)
            } else {
                (DETAIL_ITEMS - LIST_TAIL, LIST_TAIL)
            };
            // Loops rather than `collect`: the list's iterator is not `TrustedLen`, and a
            // collect of it costs the first module's size.
            let (mut head, mut tail) = (Vec::new(), Vec::new());
            for e in list.range(0, head_len) {
                head.push(text(e));
            }
            for e in list.range(len - tail_len, len) {
                tail.push(text(e));
            }
            Detail::List { head, tail, len }
        }
        Value::Set(set) => Detail::Set {
            members: (0..set.len().min(DETAIL_ITEMS))
                .filter_map(|i| set.member_at(i))
                .map(|m| text(&m))
                .collect(),
            len: set.len(),
        },
        Value::ZSet(zset) => Detail::Zset {
            members: zset
                .iter()
                .take(DETAIL_ITEMS)
                .map(|(m, score)| (text(m), format_score(score)))
                .collect(),
            len: zset.len(),
            geo: geo_plot(zset, origin),
        },
        #[cfg(feature = "streams")]
        Value::Stream(stream) => {
            let mut shown: Vec<(StreamId, &Vec<Vec<u8>>)> = stream
                .range(StreamId::MIN, StreamId::MAX, true)
                .take(DETAIL_ITEMS)
                .map(|(id, fields)| (*id, fields))
                .collect();
            shown.reverse();
            let entries = shown
                .iter()
                .enumerate()
                .map(|(i, (id, fields))| {
                    let next = shown.get(i + 1).map(|(n, _)| *n);
                    StreamEntry {
                        id: id.to_string(),
                        fields: fields
                            .chunks(2)
                            .map(|pair| {
                                let at =
                                    |j: usize| pair.get(j).map(|b| text(b)).unwrap_or_default();
                                (at(0), at(1))
                            })
                            .collect(),
                        cursors: stream
                            .groups
                            .iter()
                            .filter(|(_, g)| g.last_id >= *id && next.is_none_or(|n| g.last_id < n))
                            .map(|(name, _)| text(name))
                            .collect(),
                    }
                })
                .collect();
            Detail::Stream {
                entries,
                len: stream.len(),
                last_id: stream.last_id.to_string(),
                groups: stream
                    .groups
                    .iter()
                    .map(|(name, g)| GroupCursor {
                        name: text(name),
                        last_delivered_id: g.last_id.to_string(),
                        pending: g.pel.len(),
                        consumers: g.consumers.len(),
                    })
                    .collect(),
            }
        }
    }
}

/// The first members of a set a GEO command wrote, as points; `None` for other sets.
fn geo_plot(zset: &ZSet, origin: &str) -> Option<GeoPlot> {
    if !zset.is_geo() {
        return None;
    }
    let mut points: Vec<(String, f64, (f64, f64))> = Vec::new();
    for (member, score) in zset.iter().take(GEO_POINTS) {
        if !geo::is_geohash(score) {
            return None;
        }
        if let Some(point) = geo::point_of(score) {
            points.push((text(member), score, point));
        }
    }
    let (origin, origin_score) = points
        .iter()
        .find(|(m, _, _)| m == origin)
        .or_else(|| points.first())
        .map(|(m, s, _)| (m.clone(), *s))?;
    Some(GeoPlot {
        origin,
        points: points
            .into_iter()
            .map(|(member, score, (longitude, latitude))| GeoPoint {
                member,
                longitude,
                latitude,
                distance_km: geo::distance_km_text(origin_score, score).unwrap_or_default(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_795_671_600_000;

    fn server_with(lines: &[&str]) -> Server {
        let mut server = Server::new();
        for line in lines {
            let argv = super::super::cli::split_args(line).expect("balanced");
            let reply = server.execute(&argv, T0);
            assert!(!reply.is_error(), "{line}: {reply:?}");
        }
        server
    }

    fn run(server: &mut Server, line: &str) -> String {
        let argv = super::super::cli::split_args(line).expect("balanced");
        server
            .execute(&argv, T0)
            .to_cli_text()
            .trim_end()
            .to_string()
    }

    fn of(server: &Server, key: &str) -> Detail {
        detail(server, 0, key, "", T0).expect("key present")
    }

    #[test]
    fn hash_fields_carry_their_ttl_and_due_fields_are_hidden() {
        let server = server_with(&["HSET h a 1 b 2 c 3", "HPEXPIRE h 5000 FIELDS 1 b"]);
        let Detail::Hash { fields, len } = of(&server, "h") else {
            panic!("not a hash")
        };
        assert_eq!(len, 3);
        let ttl: Vec<_> = fields
            .iter()
            .map(|f| (f.field.as_str(), f.value.as_str(), f.ttl_ms))
            .collect();
        assert_eq!(
            ttl,
            [("a", "1", None), ("b", "2", Some(5_000)), ("c", "3", None)]
        );
        let later = detail(&server, 0, "h", "", T0 + 5_000).unwrap();
        let Detail::Hash { fields, len } = later else {
            panic!("not a hash")
        };
        assert_eq!(len, 2);
        assert_eq!(
            fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
            ["a", "c"]
        );
    }

    #[test]
    fn a_long_list_shows_its_head_and_its_tail() {
        let mut server = Server::new();
        for i in 0..150 {
            run(&mut server, &format!("RPUSH l e{i}"));
        }
        let Detail::List { head, tail, len } = of(&server, "l") else {
            panic!("not a list")
        };
        assert_eq!(
            (head.len(), tail.len(), len),
            (DETAIL_ITEMS - LIST_TAIL, LIST_TAIL, 150)
        );
        assert_eq!(
            (head[0].as_str(), tail[LIST_TAIL - 1].as_str()),
            ("e0", "e149")
        );
        assert_eq!(tail[0], "e140");
    }

    #[test]
    fn geo_sets_are_plotted_with_the_distances_geodist_gives() {
        let mut server = server_with(&[
            "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
            "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
            "ZADD board 1 a 2 b",
        ]);
        let Detail::Zset {
            geo: Some(plot), ..
        } = of(&server, "Sicily")
        else {
            panic!("not plotted")
        };
        assert_eq!(plot.points.len(), 4);
        assert_eq!(plot.origin, plot.points[0].member);
        for p in &plot.points {
            let line = format!("GEODIST Sicily {} {} km", plot.origin, p.member);
            assert_eq!(
                run(&mut server, &line),
                format!("\"{}\"", p.distance_km),
                "{line}"
            );
        }
        let from_catania = detail(&server, 0, "Sicily", "Catania", T0).unwrap();
        let Detail::Zset {
            geo: Some(plot), ..
        } = from_catania
        else {
            panic!("not plotted")
        };
        assert_eq!(plot.origin, "Catania");
        let palermo = plot.points.iter().find(|p| p.member == "Palermo").unwrap();
        assert_eq!(palermo.distance_km, "166.2742");
        assert!((palermo.longitude - 13.361389).abs() < 1e-5);

        // A leaderboard is not a map, and a ZADD over a geo set makes it one no more.
        assert!(matches!(
            of(&server, "board"),
            Detail::Zset { geo: None, .. }
        ));
        run(&mut server, "ZADD Sicily 5 Palermo");
        assert!(matches!(
            of(&server, "Sicily"),
            Detail::Zset { geo: None, .. }
        ));
        run(
            &mut server,
            "GEOSEARCHSTORE near Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        );
        assert!(matches!(
            of(&server, "near"),
            Detail::Zset { geo: Some(_), .. }
        ));
        run(
            &mut server,
            "GEOSEARCHSTORE dist Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        );
        assert!(matches!(
            of(&server, "dist"),
            Detail::Zset { geo: None, .. }
        ));
    }

    #[test]
    fn strings_show_bits_when_a_bit_command_wrote_them_or_they_are_binary() {
        let server = server_with(&[
            "SETBIT visits 1 1",
            "SETBIT visits 9 1",
            "SET plain hello",
            "SET raw \"\\x00\\xff\"",
            "SET flags x",
            "BITOP NOT inverted flags",
        ]);
        let bits = |key: &str| match of(&server, key) {
            Detail::String { bits, .. } => bits,
            other => panic!("{other:?}"),
        };
        let visits = bits("visits").expect("bits");
        assert_eq!(
            (visits.bytes.clone(), visits.count, visits.by_bit_command),
            (vec![0x40, 0x40], 2, true)
        );
        assert_eq!(bits("plain"), None);
        let raw = bits("raw").expect("binary");
        assert_eq!((raw.count, raw.by_bit_command), (8, false));
        assert!(bits("inverted").expect("bitop").by_bit_command);
        let mut server = server;
        assert_eq!(run(&mut server, "OBJECT ENCODING visits"), "\"raw\"");
        run(&mut server, "SET visits again");
        assert!(matches!(
            of(&server, "visits"),
            Detail::String { bits: None, .. }
        ));
    }

    #[test]
    fn stream_entries_show_where_each_group_stands() {
        let mut server = server_with(&[
            "XADD s 1-1 a 1",
            "XADD s 2-1 b 2",
            "XADD s 3-1 c 3",
            "XGROUP CREATE s readers 0",
            "XGROUP CREATE s late $",
        ]);
        run(
            &mut server,
            "XREADGROUP GROUP readers alice COUNT 2 STREAMS s >",
        );
        let Detail::Stream {
            entries,
            groups,
            last_id,
            len,
        } = of(&server, "s")
        else {
            panic!("not a stream")
        };
        assert_eq!((len, last_id.as_str()), (3, "3-1"));
        let cursors: Vec<_> = entries
            .iter()
            .map(|e| (e.id.as_str(), e.cursors.clone()))
            .collect();
        assert_eq!(
            cursors,
            [
                ("1-1", vec![]),
                ("2-1", vec!["readers".to_string()]),
                ("3-1", vec!["late".to_string()])
            ]
        );
        assert_eq!(
            groups,
            [
                GroupCursor {
                    name: "late".into(),
                    last_delivered_id: "3-1".into(),
                    pending: 0,
                    consumers: 0
                },
                GroupCursor {
                    name: "readers".into(),
                    last_delivered_id: "2-1".into(),
                    pending: 2,
                    consumers: 1
                }
            ]
        );
    }

    #[test]
    fn keys_are_found_by_their_printable_name_and_missing_keys_give_none() {
        let server = server_with(&["SET \"a\\x00b\" v", "SET k v PX 10"]);
        assert!(detail(&server, 0, "a\\x00b", "", T0).is_some());
        assert_eq!(key_bytes("x\\x41\\xzz\\"), b"xA\\xzz\\");
        assert_eq!(key_bytes("a\\r\\n\\t\\a\\b\\q"), b"a\r\n\t\x07\x08\\q");
        assert!(detail(&server, 0, "nope", "", T0).is_none());
        assert!(detail(&server, 0, "k", "", T0 + 10).is_none());
        assert!(detail(&server, 99, "k", "", T0).is_none());
    }
}
