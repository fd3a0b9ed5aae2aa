//! The typed reply every command returns, and its redis-cli rendering.

use std::borrow::Cow;
use std::fmt::Write;

pub mod bulks;

pub use bulks::Bulks;

/// A reply as the server would put it on the wire (RESP2 shapes).
#[derive(Debug, Clone)]
pub enum Reply {
    /// `+OK`: printed unquoted. Borrowed for the fixed words so replying OK never allocates.
    Status(Cow<'static, str>),
    /// `-ERR ...`: the full text, error code included.
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    /// The null bulk string.
    Nil,
    /// The null array (`*-1`), which redis-cli also prints as `(nil)`.
    NilArray,
    Array(Vec<Reply>),
    /// A RESP3 map (HELLO 3); RESP2 clients get the pairs as a flat array instead.
    Map(Vec<(Reply, Reply)>),
    /// A RESP3 set (SMEMBERS for a RESP3 client).
    Set(Vec<Reply>),
    /// A RESP3 double, in the text the server sends (`1.5`, `inf`).
    Double(String),
    /// Several replies to one command, one after the other (SUBSCRIBE a b).
    Many(Vec<Reply>),
    /// The command blocked: its reply comes later, through the client's outbox.
    Blocked,
    /// An array, set or map of bulk strings in one buffer (`bulks`): what the commands that
    /// list a whole value answer, equal to the aggregate of `Bulk`s it stands for. Boxed, so
    /// that every other reply stays as small as it was.
    Bulks(Box<Bulks>),
}

impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        match (self, other) {
            (Reply::Bulks(a), Reply::Bulks(b)) => a.expand() == b.expand(),
            (Reply::Bulks(a), b) | (b, Reply::Bulks(a)) => a.expand() == *b,
            (Reply::Status(a), Reply::Status(b)) => a == b,
            (Reply::Error(a), Reply::Error(b)) | (Reply::Double(a), Reply::Double(b)) => a == b,
            (Reply::Integer(a), Reply::Integer(b)) => a == b,
            (Reply::Bulk(a), Reply::Bulk(b)) => a == b,
            (Reply::Nil, Reply::Nil)
            | (Reply::NilArray, Reply::NilArray)
            | (Reply::Blocked, Reply::Blocked) => true,
            (Reply::Array(a), Reply::Array(b))
            | (Reply::Set(a), Reply::Set(b))
            | (Reply::Many(a), Reply::Many(b)) => a == b,
            (Reply::Map(a), Reply::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status(Cow::Borrowed("OK"))
    }

    pub fn status(s: &str) -> Reply {
        Reply::Status(Cow::Owned(s.to_string()))
    }

    /// A status reply for a word known at compile time (type names, PONG).
    pub fn static_status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// An error with the generic `ERR` code.
    pub fn err(msg: impl AsRef<str>) -> Reply {
        Reply::Error(format!("ERR {}", msg.as_ref()))
    }

    pub fn bulk(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::Bulk(bytes.into())
    }

    /// Key/value pairs as the protocol `resp` shapes them: a map for RESP3, a flat array
    /// for RESP2.
    pub fn map(pairs: Vec<(Reply, Reply)>, resp: u8) -> Reply {
        if resp >= 3 {
            Reply::Map(pairs)
        } else {
            Reply::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
        }
    }

    fn is_nonempty_aggregate(&self) -> bool {
        match self {
            Reply::Array(items) | Reply::Set(items) => !items.is_empty(),
            Reply::Map(pairs) => !pairs.is_empty(),
            Reply::Bulks(bulks) => !bulks.is_empty(),
            _ => false,
        }
    }

    /// The reply with a `Bulks` at its top turned into the aggregate of `Bulk`s it stands
    /// for, for consumers that walk the tree (nested ones are left: see `expand_all`).
    pub fn expand(self) -> Reply {
        match self {
            Reply::Bulks(bulks) => bulks.expand(),
            other => other,
        }
    }

    /// The reply with every `Bulks` in it, at any depth, expanded.
    pub fn expand_all(self) -> Reply {
        let all = |items: Vec<Reply>| items.into_iter().map(Reply::expand_all).collect();
        match self {
            Reply::Bulks(bulks) => bulks.expand(),
            Reply::Array(items) => Reply::Array(all(items)),
            Reply::Set(items) => Reply::Set(all(items)),
            Reply::Many(items) => Reply::Many(all(items)),
            Reply::Map(pairs) => Reply::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.expand_all(), v.expand_all()))
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Renders the reply exactly as `redis-cli --no-raw` prints it, with a trailing newline.
    pub fn to_cli_text(&self) -> String {
        let mut out = String::new();
        self.write_cli_text(&mut out);
        out
    }

    /// Appends `to_cli_text`'s rendering to `out`, so that a batch of lines shares one buffer.
    pub fn write_cli_text(&self, out: &mut String) {
        format_tty(self, "", out);
    }

    /// How many top-level elements `write_cli_items` can write: an array's or a set's items,
    /// a map's pairs; 0 for any other reply.
    pub fn cli_items(&self) -> usize {
        match self {
            Reply::Array(items) | Reply::Set(items) => items.len(),
            Reply::Map(pairs) => pairs.len(),
            Reply::Bulks(bulks) => bulks.cli_items(),
            _ => 0,
        }
    }

    /// The top-level elements `from..to` (clamped) of an aggregate as `write_cli_text` writes
    /// them, indexes aligned to the widest of the whole reply: the parts of a long reply
    /// written one after another make its whole text.
    pub fn write_cli_items(&self, from: usize, to: usize, out: &mut String) {
        self.write_cli_items_under("", from, to, out);
    }

    /// `write_cli_items` of an aggregate nested in another, whose later lines start with
    /// `prefix`.
    pub fn write_cli_items_under(&self, prefix: &str, from: usize, to: usize, out: &mut String) {
        match self {
            Reply::Array(items) => format_items_in(items, ')', prefix, from, to, out),
            Reply::Set(items) => format_items_in(items, '~', prefix, from, to, out),
            Reply::Map(pairs) => format_pairs_range(pairs, prefix, from, to, out),
            Reply::Bulks(bulks) => bulks.write_cli_items(prefix, from, to, out),
            _ => {}
        }
    }

    /// How many lines `write_cli_text` writes for this reply, without writing them.
    pub fn cli_lines(&self) -> usize {
        let text_lines = |text: &str| 1 + text.bytes().filter(|&b| b == b'\n').count();
        match self {
            Reply::Status(s) => text_lines(s),
            Reply::Error(e) => text_lines(e),
            Reply::Double(d) => text_lines(d),
            Reply::Integer(_) | Reply::Bulk(_) | Reply::Nil | Reply::NilArray => 1,
            Reply::Array(items) | Reply::Set(items) if items.is_empty() => 1,
            Reply::Map(pairs) if pairs.is_empty() => 1,
            Reply::Array(items) | Reply::Set(items) | Reply::Many(items) => {
                items.iter().map(Reply::cli_lines).sum()
            }
            Reply::Map(pairs) => pairs.iter().map(pair_lines).sum(),
            Reply::Bulks(bulks) => bulks.cli_lines(),
            Reply::Blocked => 0,
        }
    }
}

/// Lines of one map pair: the value goes on the key's last line unless it is a non-empty
/// aggregate, which starts on the next.
fn pair_lines((key, value): &(Reply, Reply)) -> usize {
    let joined = usize::from(!value.is_nonempty_aggregate());
    (key.cli_lines() + value.cli_lines()).saturating_sub(joined)
}

// The canonical error texts, shared by every command so that each is worded once.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX_ERROR: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

pub fn error(text: &str) -> Reply {
    Reply::Error(text.to_string())
}

/// Port of redis-cli's `cliFormatReplyTTY`.
fn format_tty(reply: &Reply, prefix: &str, out: &mut String) {
    match reply {
        Reply::Status(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Reply::Error(e) => {
            let _ = writeln!(out, "(error) {e}");
        }
        Reply::Integer(n) => {
            out.push_str("(integer) ");
            push_i64(*n, out);
            out.push('\n');
        }
        Reply::Bulk(bytes) => {
            quote_bytes(bytes, out);
            out.push('\n');
        }
        Reply::Nil | Reply::NilArray => out.push_str("(nil)\n"),
        Reply::Array(items) if items.is_empty() => out.push_str("(empty array)\n"),
        Reply::Array(items) => format_items(items, ')', prefix, out),
        Reply::Double(text) => {
            let _ = writeln!(out, "(double) {text}");
        }
        Reply::Set(items) if items.is_empty() => out.push_str("(empty set)\n"),
        Reply::Set(items) => format_items(items, '~', prefix, out),
        Reply::Map(pairs) if pairs.is_empty() => out.push_str("(empty hash)\n"),
        Reply::Map(pairs) => format_pairs_range(pairs, prefix, 0, pairs.len(), out),
        Reply::Many(replies) => {
            for reply in replies {
                format_tty(reply, prefix, out);
            }
        }
        Reply::Blocked => {}
        Reply::Bulks(bulks) => bulks.write_cli(prefix, out),
    }
}

/// The elements of an array (`1) `) or a set (`1~ `), indexes right-aligned, nested
/// aggregates continuing on the same line.
fn format_items(items: &[Reply], separator: char, prefix: &str, out: &mut String) {
    format_items_in(items, separator, prefix, 0, items.len(), out);
}

fn format_items_in(
    items: &[Reply],
    separator: char,
    prefix: &str,
    from: usize,
    to: usize,
    out: &mut String,
) {
    let width = items.len().to_string().len();
    let nested_prefix = format!("{prefix}{}", " ".repeat(width + 2));
    let to = to.min(items.len());
    for (i, item) in items.iter().enumerate().take(to).skip(from) {
        let lead = if i == 0 { "" } else { prefix };
        let _ = write!(out, "{lead}{:>width$}{separator} ", i + 1);
        format_tty(item, &nested_prefix, out);
    }
}

/// A map's pairs `from..to` (`1# "key" => "value"`), indexes aligned to the whole map.
fn format_pairs_range(
    pairs: &[(Reply, Reply)],
    prefix: &str,
    from: usize,
    to: usize,
    out: &mut String,
) {
    let width = pairs.len().to_string().len();
    let nested_prefix = format!("{prefix}{}", " ".repeat(width + 2));
    let to = to.min(pairs.len());
    for (i, (key, value)) in pairs.iter().enumerate().take(to).skip(from) {
        let lead = if i == 0 { "" } else { prefix };
        let _ = write!(out, "{lead}{:>width$}# ", i + 1);
        format_tty(key, &nested_prefix, out);
        // The key's line break gives way to the arrow, as redis-cli prints pairs; a
        // value that is a non-empty aggregate starts on the next line.
        out.pop();
        out.push_str(" => ");
        if value.is_nonempty_aggregate() {
            out.push('\n');
            out.push_str(&nested_prefix);
        }
        format_tty(value, &nested_prefix, out);
    }
}

/// Decimal digits without going through `fmt`, whose machinery costs more than the
/// conversion on the hot INCR / DEL / EXISTS replies.
pub fn push_i64(n: i64, out: &mut String) {
    let mut digits = [0u8; 21];
    for &d in decimal(n, &mut digits) {
        out.push(char::from(d));
    }
}

/// `n` in decimal, sign included, written at the end of `digits`.
pub(crate) fn decimal(n: i64, digits: &mut [u8; 21]) -> &[u8] {
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    &digits[at..]
}

/// Bytes `quote_bytes` copies unchanged.
fn is_plain(b: u8) -> bool {
    matches!(b, 0x20..=0x7e) && b != b'\\' && b != b'"'
}

/// Port of `sdscatrepr`: a double-quoted string with C escapes, other bytes as `\xHH`.
pub fn quote_bytes(bytes: &[u8], out: &mut String) {
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        // Runs of printable ASCII are copied whole: values are mostly plain text.
        let run = rest
            .iter()
            .position(|&b| !is_plain(b))
            .unwrap_or(rest.len());
        if run > 0 {
            out.push_str(std::str::from_utf8(&rest[..run]).unwrap_or_default());
            rest = &rest[run..];
            continue;
        }
        let b = rest[0];
        rest = &rest[1..];
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::bulk(s)
    }

    #[test]
    fn scalars_render_like_redis_cli() {
        let cases = [
            (Reply::ok(), "OK\n"),
            (Reply::err("syntax error"), "(error) ERR syntax error\n"),
            (Reply::Integer(-5), "(integer) -5\n"),
            (Reply::Integer(0), "(integer) 0\n"),
            (Reply::Integer(i64::MIN), "(integer) -9223372036854775808\n"),
            (Reply::Integer(i64::MAX), "(integer) 9223372036854775807\n"),
            (bulk("hello"), "\"hello\"\n"),
            (
                Reply::bulk(b"a\"b\\c\n\r\t\x07\x08\x00\xff".to_vec()),
                "\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff\"\n",
            ),
            (Reply::Nil, "(nil)\n"),
            (Reply::NilArray, "(nil)\n"),
            (Reply::Array(vec![]), "(empty array)\n"),
            (Reply::Map(vec![]), "(empty hash)\n"),
            (Reply::Set(vec![]), "(empty set)\n"),
            (Reply::Double("1.5".into()), "(double) 1.5\n"),
            (
                Reply::Map(vec![(
                    bulk("modules"),
                    Reply::Array(vec![Reply::Map(vec![(bulk("name"), bulk("lua"))])]),
                )]),
                "1# \"modules\" => \n   1) 1# \"name\" => \"lua\"\n",
            ),
            (Reply::Blocked, ""),
            (
                Reply::Many(vec![Reply::ok(), Reply::Integer(1)]),
                "OK\n(integer) 1\n",
            ),
            (
                Reply::map(vec![(bulk("a"), Reply::Integer(1))], 3),
                "1# \"a\" => (integer) 1\n",
            ),
            (
                Reply::map(vec![(bulk("a"), Reply::Integer(1))], 2),
                "1) \"a\"\n2) (integer) 1\n",
            ),
        ];
        for (reply, text) in cases {
            assert_eq!(reply.to_cli_text(), text, "{reply:?}");
        }
    }

    #[test]
    fn arrays_align_indexes_and_nest_on_the_same_line() {
        let items: Vec<Reply> = (1..=10).map(|i| bulk(&i.to_string())).collect();
        let text = Reply::Array(items).to_cli_text();
        assert!(text.starts_with(" 1) \"1\"\n 2) \"2\"\n"));
        assert!(text.ends_with("10) \"10\"\n"));

        let nested = Reply::Array(vec![
            Reply::Array(vec![bulk("a"), Reply::Integer(1)]),
            Reply::Array(vec![bulk("b"), Reply::Array(vec![])]),
        ]);
        assert_eq!(
            nested.to_cli_text(),
            "1) 1) \"a\"\n   2) (integer) 1\n2) 1) \"b\"\n   2) (empty array)\n"
        );
    }
}
