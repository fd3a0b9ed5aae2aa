//! The Redis keyspace as the commands that rebuild it, the way Redis's own AOF rewrite
//! (`rewriteAppendOnlyFile`) writes it: one value-creating command per key (split every
//! `ITEMS_PER_COMMAND` items), then its TTL, hash field TTLs, stream metadata, consumer
//! groups with their pending entries, and finally the search indexes. Before the keys come
//! the function libraries (FUNCTION LOAD, as the AOF rewrite writes them) and the script
//! cache (SCRIPT LOAD, which the AOF never holds; see `dump`).
//!
//! The same list serves the snapshot (replayed into a fresh server on load, with absolute
//! times on the virtual clock) and the way out to a real server (printed for `redis-cli`
//! or as RESP for `redis-cli --pipe`, with TTLs relative to the moment of the export, since
//! a real server's clock is not the sandbox's).

#[cfg(feature = "streams")]
use super::stream_state::{self, resume};
use crate::clock::Millis;
use crate::redis::db::Entry;
#[cfg(feature = "search")]
use crate::redis::search::{FieldKind, Index, Source};
use crate::redis::types::hash::Hash;
#[cfg(feature = "streams")]
use crate::redis::types::stream::{Stream, StreamId};
use crate::redis::types::zset::format_score;
use crate::redis::types::Value;
use crate::redis::Server;

/// Items one command carries at most (Redis's `AOF_REWRITE_ITEMS_PER_CMD` is 64): long
/// collections become several commands, so no single line grows without bound.
pub const ITEMS_PER_COMMAND: usize = 64;

pub type Command = Vec<Vec<u8>>;

/// How times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// Absolute sandbox milliseconds (PXAT, PEXPIREAT, HPEXPIREAT): the snapshot, replayed
    /// on the same virtual clock; a stream's pending entries, consumers and node layout go
    /// in a record only the loader reads (`stream_state`).
    Absolute,
    /// Milliseconds left at the export (PX, PEXPIRE, HPEXPIRE, XCLAIM IDLE): a real server.
    Relative,
}

/// The commands that rebuild every database's live keys (`SELECT` before each non-empty
/// one, `SELECT 0` at the end if another was selected), then the search indexes, plus the
/// sorted sets that were written by GEOADD (the sandbox shows those as maps).
#[derive(Debug, Default)]
pub struct Dump {
    pub commands: Vec<Command>,
    pub geo_keys: Vec<(usize, Vec<u8>)>,
}

fn cmd(parts: &[&[u8]]) -> Command {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn num(n: impl ToString) -> Vec<u8> {
    n.to_string().into_bytes()
}

#[cfg(feature = "streams")]
fn id(id: StreamId) -> Vec<u8> {
    id.to_string().into_bytes()
}

pub fn dump(server: &Server, now: Millis, times: Times) -> Dump {
    let mut out = Dump {
        commands: Vec::new(),
        geo_keys: Vec::new(),
    };
    Cursor::default().next(server, now, times, usize::MAX, &mut out);
    out
}

/// Where a dump stands between batches, so that a large keyspace can be written a few keys
/// at a time (the page's stepped save); `dump` runs one to the end in a single batch. The
/// keyspace must not change between batches: the caller drops the cursor if it does.
#[derive(Debug, Default, Clone)]
pub struct Cursor {
    started: bool,
    db: usize,
    /// The next key's position in `db`'s insertion order.
    pos: usize,
    /// Where the key at `pos` stands, when a batch ended inside it.
    inside: Option<Inside>,
    selected: usize,
    /// Whether the current database has written a command yet (its SELECT goes first).
    db_written: bool,
    done: bool,
}

/// Where the dump of one collection stands between batches: a million-member key is
/// written over many batches, each ending after a whole command.
#[derive(Debug, Default, Clone)]
struct Inside {
    /// The next item of the collection (in its iteration order, due hash fields included).
    item: usize,
    /// A hash's fields are all written: its field TTLs are being written.
    field_ttls: bool,
    /// The last field TTL written.
    ttl_after: Option<(Millis, Vec<u8>)>,
    /// The key has written a command (its own TTL then follows its items).
    wrote: bool,
    #[cfg(feature = "streams")]
    stream: StreamAt,
}

/// Where a stream's dump stands: a million entries, or the record of a million pending
/// entries, are written over many batches.
#[cfg(feature = "streams")]
#[derive(Debug, Clone)]
enum StreamAt {
    /// The entries after this ID (from the first for `None`) are next.
    Entries(Option<StreamId>),
    /// The groups after this one (by name) are next.
    Groups(Option<Vec<u8>>),
    /// For a real server: this group's pending entries after this ID, as XCLAIM.
    Claims(Vec<u8>, Option<StreamId>),
    /// For a real server: this group's consumers after this one that hold nothing.
    Idle(Vec<u8>, Option<Vec<u8>>),
    Record(stream_state::Building),
}

#[cfg(feature = "streams")]
impl Default for StreamAt {
    fn default() -> StreamAt {
        StreamAt::Entries(None)
    }
}

impl Cursor {
    /// Appends the commands of about `budget` more units (at least one) to `out`: a key
    /// is one, and so is each item of a collection, and each entry, group, consumer and
    /// pending entry of a stream (a batch ends after a whole command, so it may go up to
    /// `ITEMS_PER_COMMAND` items past its budget; a stream's state record is built over
    /// many batches and written by the last). Returns whether the dump is complete.
    pub fn next(
        &mut self,
        server: &Server,
        now: Millis,
        times: Times,
        budget: usize,
        out: &mut Dump,
    ) -> bool {
        if self.done {
            return true;
        }
        if !self.started {
            self.started = true;
            // Libraries first, as the AOF rewrite (`rewriteFunctions`) writes them: nothing
            // in the keyspace depends on them, but a reader of the file sees the code before
            // the data.
            for code in server.scripting.library_codes() {
                out.commands.push(cmd(&[b"FUNCTION", b"LOAD", code]));
            }
            // The real server keeps its script cache in memory only (EVALSHA answers NOSCRIPT
            // after a restart); the sandbox keeps it, since a page reload is no restart for
            // the student, and the export hands it to the real server too.
            for body in server.scripting.cached_scripts() {
                out.commands.push(cmd(&[b"SCRIPT", b"LOAD", body]));
            }
        }
        let mut left = budget.max(1);
        while let Some(db) = server.dbs.get(self.db) {
            let Some((key, entry)) = db.get_index(self.pos) else {
                self.db += 1;
                self.pos = 0;
                self.db_written = false;
                continue;
            };
            if left == 0 {
                return false;
            }
            // A key is a unit when it starts; a key resumed goes on with the whole budget, so
            // that every batch writes something.
            let at = match self.inside.take() {
                Some(at) => at,
                None => {
                    left -= 1;
                    Inside::default()
                }
            };
            let before = out.commands.len();
            let rest = dump_key(key, entry, self.db, now, times, at, &mut left, out);
            if out.commands.len() > before && !self.db_written {
                self.db_written = true;
                if self.db != self.selected {
                    out.commands
                        .insert(before, cmd(&[b"SELECT", &num(self.db)]));
                    self.selected = self.db;
                }
            }
            match rest {
                Some(at) => {
                    self.inside = Some(at);
                    return false;
                }
                None => self.pos += 1,
            }
        }
        if self.selected != 0 {
            out.commands.push(cmd(&[b"SELECT", b"0"]));
        }
        #[cfg(feature = "search")]
        for (name, index) in &server.search {
            out.commands.push(ft_create(name, index));
        }
        self.done = true;
        true
    }
}

/// A time as `times` writes it, or `None` if it is already due (the item is left out).
fn when(at: Millis, now: Millis, times: Times) -> Option<Vec<u8>> {
    if at <= now {
        return None;
    }
    Some(match times {
        Times::Absolute => num(at),
        Times::Relative => num(at - now),
    })
}

/// Writes the items from position `from` on (`None` for one left out) as commands of
/// `ITEMS_PER_COMMAND` items after `head`, each item spending a unit of `left`; once that is
/// spent, stops at the end of a command and returns the position to go on from.
fn chunked(
    out: &mut Vec<Command>,
    head: &[&[u8]],
    from: usize,
    items: impl Iterator<Item = Option<Vec<Vec<u8>>>>,
    per_item: usize,
    left: &mut usize,
) -> Option<usize> {
    let mut current: Command = Vec::new();
    for (pos, item) in (from..).zip(items) {
        if *left == 0 && current.is_empty() {
            return Some(pos);
        }
        *left = left.saturating_sub(1);
        let Some(item) = item else {
            continue;
        };
        if current.is_empty() {
            current = cmd(head);
        }
        current.extend(item);
        if current.len() - head.len() >= ITEMS_PER_COMMAND * per_item {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    None
}

/// The commands that rebuild one live key (none if it or all its items are already due),
/// from where `at` stands; returns where to go on from when `left` ran out inside it.
#[allow(clippy::too_many_arguments)]
fn dump_key(
    key: &[u8],
    entry: &Entry,
    index: usize,
    now: Millis,
    times: Times,
    mut at: Inside,
    left: &mut usize,
    out: &mut Dump,
) -> Option<Inside> {
    let (expire, hexpire, pxat) = match times {
        Times::Absolute => (&b"PEXPIREAT"[..], &b"HPEXPIREAT"[..], &b"PXAT"[..]),
        Times::Relative => (&b"PEXPIRE"[..], &b"HPEXPIRE"[..], &b"PX"[..]),
    };
    let ttl = match entry.expire_at {
        Some(due) => Some(when(due, now, times)?),
        None => None,
    };
    let cmds = &mut out.commands;
    let before = cmds.len();
    let from = at.item;
    let rest = match &entry.value {
        Value::Str(s) => {
            let mut c = cmd(&[b"SET", key, s]);
            if let Some(t) = ttl.as_ref() {
                c.push(pxat.to_vec());
                c.push(t.clone());
            }
            cmds.push(c);
            return None;
        }
        Value::Hash(hash) => {
            // Fields already due are gone for every reader; they are not written.
            let fields = (from..hash.len()).map(|i| {
                let (f, v) = hash.at(i)?;
                match hash.expiry_of(f).flatten() {
                    Some(due) if due <= now => None,
                    _ => Some(vec![f.to_vec(), v.to_vec()]),
                }
            });
            let rest = match at.field_ttls {
                false => chunked(cmds, &[b"HSET", key], from, fields, 2, left),
                true => None,
            };
            rest.or_else(|| {
                at.field_ttls = true;
                let ttl_after = &mut at.ttl_after;
                field_ttls(cmds, hexpire, key, hash, now, times, ttl_after, left)
            })
        }
        Value::List(list) => chunked(
            cmds,
            &[b"RPUSH", key],
            from,
            list.range(from, list.len()).map(|e| Some(vec![e.to_vec()])),
            1,
            left,
        ),
        Value::Set(set) => chunked(
            cmds,
            &[b"SADD", key],
            from,
            (from..set.len()).map(|i| Some(vec![set.member_at(i)?.to_vec()])),
            1,
            left,
        ),
        Value::ZSet(zset) => {
            let rest = chunked(
                cmds,
                &[b"ZADD", key],
                from,
                zset.iter_from_rank(from, false)
                    .map(|(m, s)| Some(vec![format_score(s).into_bytes(), m.to_vec()])),
                2,
                left,
            );
            if rest.is_none() && zset.is_geo() {
                out.geo_keys.push((index, key.to_vec()));
            }
            rest
        }
        #[cfg(feature = "streams")]
        Value::Stream(stream) => {
            match dump_stream(cmds, key, stream, now, times, &mut at.stream, left) {
                true => None,
                false => Some(0),
            }
        }
        #[cfg(feature = "json")]
        Value::Json(doc) => {
            let text = serde_json::to_string(doc).unwrap_or_else(|_| "null".into());
            cmds.push(cmd(&[b"JSON.SET", key, b"$", text.as_bytes()]));
            None
        }
    };
    let cmds = &mut out.commands;
    at.wrote |= cmds.len() > before;
    if let Some(next) = rest {
        at.item = next;
        return Some(at);
    }
    // A key all of whose items had expired is as good as gone: no TTL either.
    if let (true, Some(t)) = (at.wrote, ttl) {
        cmds.push(cmd(&[expire, key, &t]));
    }
    None
}

/// A hash's field TTLs after `after`, one command per expiry time (split every
/// `ITEMS_PER_COMMAND` fields), each field spending a unit of `left`; once that is spent,
/// stops at the end of a command and returns `Some` (`after` then names its last field).
#[allow(clippy::too_many_arguments)]
fn field_ttls(
    cmds: &mut Vec<Command>,
    hexpire: &[u8],
    key: &[u8],
    hash: &Hash,
    now: Millis,
    times: Times,
    after: &mut Option<(Millis, Vec<u8>)>,
    left: &mut usize,
) -> Option<usize> {
    let push = |cmds: &mut Vec<Command>, due: Millis, fields: Vec<Vec<u8>>| {
        if let Some(t) = when(due, now, times) {
            let mut c = cmd(&[hexpire, key, &t, b"FIELDS", &num(fields.len())]);
            c.extend(fields);
            cmds.push(c);
        }
    };
    let mut group: Option<(Millis, Vec<Vec<u8>>)> = None;
    let mut last: Option<&(Millis, Vec<u8>)> = None;
    for item in hash.volatile_after(now, after.take()) {
        let (due, field) = item;
        let ends =
            |(t, fields): &(Millis, Vec<Vec<u8>>)| *t != *due || fields.len() >= ITEMS_PER_COMMAND;
        if let Some((t, fields)) = group.take_if(|g| ends(g)) {
            push(cmds, t, fields);
            if *left == 0 {
                *after = last.cloned();
                return Some(0);
            }
        }
        *left = left.saturating_sub(1);
        group
            .get_or_insert_with(|| (*due, Vec::new()))
            .1
            .push(field.clone());
        last = Some(item);
    }
    if let Some((t, fields)) = group {
        push(cmds, t, fields);
    }
    None
}

#[cfg(feature = "streams")]
/// As Redis's `rewriteStreamObject`: the entries (or, for an empty stream, the `XADD MAXLEN 0`
/// trick), XSETID with the counters, then each group, its pending entries claimed with
/// FORCE, and its consumers that hold nothing. The snapshot writes the groups' contents as
/// a `stream_state` record instead, which keeps what those commands lose.
///
/// Each entry, group, and item of the record spends a unit of `left`; once that is spent,
/// returns false with `at` where to go on from.
fn dump_stream(
    cmds: &mut Vec<Command>,
    key: &[u8],
    s: &Stream,
    now: Millis,
    times: Times,
    at: &mut StreamAt,
    left: &mut usize,
) -> bool {
    loop {
        match at {
            StreamAt::Entries(last) => {
                let from = match last {
                    Some(last) => last.next(),
                    None => Some(StreamId::MIN),
                };
                let entries = from
                    .into_iter()
                    .flat_map(|from| s.range(from, StreamId::MAX, false));
                let done = resume(entries, last, left, |entry_id, fields| {
                    let mut c = cmd(&[b"XADD", key, &id(*entry_id)]);
                    c.extend(fields.iter().cloned());
                    cmds.push(c);
                });
                if !done {
                    return false;
                }
                if s.is_empty() {
                    cmds.push(cmd(&[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]));
                }
                cmds.push(cmd(&[
                    b"XSETID",
                    key,
                    &id(s.last_id),
                    b"ENTRIESADDED",
                    &num(s.entries_added),
                    b"MAXDELETEDID",
                    &id(s.max_deleted_id),
                ]));
                *at = StreamAt::Groups(None);
            }
            StreamAt::Groups(last) => {
                let Some((name, group)) = stream_state::after(&s.groups, last).next() else {
                    if times == Times::Relative {
                        return true;
                    }
                    *at = StreamAt::Record(stream_state::Building::default());
                    continue;
                };
                if *left == 0 {
                    return false;
                }
                *left -= 1;
                cmds.push(cmd(&[
                    b"XGROUP",
                    b"CREATE",
                    key,
                    name,
                    &id(group.last_id),
                    b"ENTRIESREAD",
                    &num(group.entries_read),
                ]));
                *at = match times {
                    Times::Absolute => StreamAt::Groups(Some(name.clone())),
                    Times::Relative => StreamAt::Claims(name.clone(), None),
                };
            }
            StreamAt::Claims(name, last) => {
                let Some(group) = s.groups.get(name) else {
                    return true;
                };
                let pending = stream_state::after(&group.pel, last);
                let done = resume(pending, last, left, |entry_id, nack| {
                    let mut c = cmd(&[b"XCLAIM", key, name, &nack.consumer, b"0", &id(*entry_id)]);
                    let idle = (now as i64).saturating_sub(nack.delivery_time).max(0);
                    c.extend([
                        b"IDLE".to_vec(),
                        num(idle),
                        b"RETRYCOUNT".to_vec(),
                        num(nack.delivery_count),
                        b"JUSTID".to_vec(),
                        b"FORCE".to_vec(),
                    ]);
                    cmds.push(c);
                });
                if !done {
                    return false;
                }
                *at = StreamAt::Idle(std::mem::take(name), None);
            }
            StreamAt::Idle(name, last) => {
                let Some(group) = s.groups.get(name) else {
                    return true;
                };
                let consumers = stream_state::after(&group.consumers, last);
                let done = resume(consumers, last, left, |consumer, state| {
                    if state.pel.is_empty() {
                        cmds.push(cmd(&[b"XGROUP", b"CREATECONSUMER", key, name, consumer]));
                    }
                });
                if !done {
                    return false;
                }
                *at = StreamAt::Groups(Some(std::mem::take(name)));
            }
            StreamAt::Record(building) => {
                if !building.step(s, left) {
                    return false;
                }
                cmds.push(std::mem::take(building).finish(key));
                return true;
            }
        }
    }
}

/// The FT.CREATE that defines `index` again (the definition, not the original words: an
/// FT.ALTER's added fields are part of the schema).
#[cfg(feature = "search")]
pub fn ft_create(name: &str, index: &Index) -> Command {
    let mut c = cmd(&[b"FT.CREATE", name.as_bytes(), b"ON"]);
    c.push(match index.source {
        Source::Hash => b"HASH".to_vec(),
        Source::Json => b"JSON".to_vec(),
    });
    if !index.prefixes.is_empty() {
        c.push(b"PREFIX".to_vec());
        c.push(num(index.prefixes.len()));
        c.extend(index.prefixes.iter().cloned());
    }
    c.extend(index.option_args());
    c.push(b"SCHEMA".to_vec());
    for field in &index.fields {
        c.push(field.identifier.as_bytes().to_vec());
        if field.attribute != field.identifier {
            c.push(b"AS".to_vec());
            c.push(field.attribute.as_bytes().to_vec());
        }
        match &field.kind {
            FieldKind::Text { weight, nostem } => {
                c.push(b"TEXT".to_vec());
                if *weight != 1.0 {
                    c.push(b"WEIGHT".to_vec());
                    c.push(num(weight));
                }
                if *nostem {
                    c.push(b"NOSTEM".to_vec());
                }
            }
            FieldKind::Tag {
                separator,
                case_sensitive,
            } => {
                c.push(b"TAG".to_vec());
                if *separator != ',' {
                    c.push(b"SEPARATOR".to_vec());
                    c.push(separator.to_string().into_bytes());
                }
                if *case_sensitive {
                    c.push(b"CASESENSITIVE".to_vec());
                }
            }
            FieldKind::Numeric => c.push(b"NUMERIC".to_vec()),
            FieldKind::Geo => c.push(b"GEO".to_vec()),
            FieldKind::Vector(spec) => {
                c.push(b"VECTOR".to_vec());
                c.push(spec.algorithm.as_bytes().to_vec());
                let mut attributes = vec![
                    b"TYPE".to_vec(),
                    b"FLOAT32".to_vec(),
                    b"DIM".to_vec(),
                    num(spec.dim),
                    b"DISTANCE_METRIC".to_vec(),
                    spec.metric.name().as_bytes().to_vec(),
                ];
                attributes.extend(crate::redis::search::vector::hnsw_attributes(spec));
                c.push(num(attributes.len()));
                c.extend(attributes);
            }
        }
        if field.sortable {
            c.push(b"SORTABLE".to_vec());
        }
    }
    c
}

/// One argument as redis-cli reads it back: bare when it is plain printable ASCII, else
/// double-quoted with `\xHH` for every other byte.
pub fn cli_arg(out: &mut String, arg: &[u8]) {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|&b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if plain {
        out.extend(arg.iter().map(|&b| char::from(b)));
        return;
    }
    out.push('"');
    for &b in arg {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// The commands as a redis-cli script: one command per line (`redis-cli < file`).
pub fn to_cli_script(commands: &[Command]) -> String {
    let mut out = String::new();
    for c in commands {
        for (i, arg) in c.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            cli_arg(&mut out, arg);
        }
        out.push('\n');
    }
    out
}

/// The commands in the Redis protocol, for `redis-cli --pipe`.
pub fn to_resp(commands: &[Command]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in commands {
        out.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
        for arg in c {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}
