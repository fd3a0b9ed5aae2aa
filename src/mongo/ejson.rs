//! Relaxed Extended JSON v2 text (the form `mongoJson` replies in and snapshots keep), on one
//! line, with `": "` and `", "` separators.
//!
//! A reply can be a whole collection, so this writer is on the page's hottest path. The
//! module is built for size (`opt-level = "z"`), where `String::push` and `push_str` stay
//! calls that each check capacity: writing a document that way spent more time in those
//! calls than in the bytes. So the writer keeps a zero-filled buffer ahead of what it has
//! written and copies pieces into it with inlined, bounds-checked slice copies; it grows
//! (rarely) out of line, and the text becomes a `String` once, at the end.

use super::value::{base64_encode, iso_date, js_number, Document, Value};
use crate::redis::reply::decimal;

/// What each byte becomes inside a JSON string, as serde_json escapes: 0 for itself, `u`
/// for a `\u00XX` escape, else the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Calls `piece` with `s`'s JSON string body (no quotes) in order: runs of `s` itself and
/// escapes. Escaped bytes are ASCII, so every run starts and ends on a char boundary.
#[inline(always)]
fn escaped(s: &str, mut piece: impl FnMut(&[u8])) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let esc = ESCAPE[usize::from(b)];
        if esc != 0 {
            piece(bytes.get(start..i).unwrap_or_default());
            if esc == b'u' {
                piece(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            } else {
                piece(&[b'\\', esc]);
            }
            start = i + 1;
        }
        i += 1;
    }
    piece(bytes.get(start..).unwrap_or_default());
}

/// Appends a JSON string literal to a `String`: for callers writing a key or two; a
/// document's worth goes through `Ejson`.
pub fn json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    escaped(s, |p| {
        out.push_str(std::str::from_utf8(p).unwrap_or_default())
    });
    out.push('"');
}

/// Relaxed Extended JSON text being written.
pub struct Ejson {
    /// Written bytes up to `len`, then zeros: room to copy into without a capacity check
    /// that calls out.
    buf: Vec<u8>,
    len: usize,
}

impl Default for Ejson {
    fn default() -> Self {
        Ejson::with_capacity(256)
    }
}

impl Ejson {
    pub fn with_capacity(bytes: usize) -> Self {
        Ejson {
            buf: vec![0; bytes.max(16)],
            len: 0,
        }
    }

    /// The text written. Every piece copied in is ASCII or a whole `&str`, so the check
    /// cannot fail; if it somehow did, the reply is kept with replacement characters.
    pub fn finish(mut self) -> String {
        self.buf.truncate(self.len);
        match String::from_utf8(self.buf) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// Appends what was written to `out` (taking it over when `out` is empty).
    pub fn finish_into(self, out: &mut String) {
        if out.is_empty() {
            *out = self.finish();
        } else {
            out.push_str(&self.finish());
        }
    }

    /// Makes room up to `end`. A fresh zeroed allocation is zeroed by the allocator's
    /// page-fresh memory or one fill, where `Vec::resize` writes the zeros a byte at a time.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, end: usize) {
        let size = end.max(self.buf.len().saturating_mul(2));
        let mut bigger = vec![0; size];
        if let (Some(to), Some(from)) = (bigger.get_mut(..self.len), self.buf.get(..self.len)) {
            to.copy_from_slice(from);
        }
        self.buf = bigger;
    }

    /// Copies `piece` in. Pieces of one or two bytes (punctuation, mostly) are stored
    /// directly: the slice copy is a call at this opt-level.
    #[inline(always)]
    fn put(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if end > self.buf.len() {
            self.grow(end);
        }
        if let Some(room) = self.buf.get_mut(self.len..end) {
            match (room, piece) {
                ([to], [b]) => *to = *b,
                ([to0, to1], [b0, b1]) => {
                    *to0 = *b0;
                    *to1 = *b1;
                }
                (room, piece) => room.copy_from_slice(piece),
            }
            self.len = end;
        }
    }

    /// Text already in JSON form (punctuation, a number's digits).
    #[inline(always)]
    pub fn raw(&mut self, s: &str) {
        self.put(s.as_bytes());
    }

    pub fn string(&mut self, s: &str) {
        let end = self.len + s.len() + 2;
        if end > self.buf.len() {
            self.grow(end);
        }
        self.put(b"\"");
        escaped(s, |p| self.put(p));
        self.put(b"\"");
    }

    /// `open`, then `text` (which needs no escaping), then `"}`: the one-field documents
    /// Extended JSON wraps some types in, as `{"$oid": "…"}`.
    fn wrapped(&mut self, open: &[u8], text: &str) {
        self.put(open);
        self.raw(text);
        self.put(b"\"}");
    }

    pub fn int(&mut self, n: i64) {
        let mut digits = [0u8; 21];
        self.put(decimal(n, &mut digits));
    }

    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Double(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                // Integral doubles (averages, sums, counts) print as the integer plus `.0`;
                // negative zero prints as 0.0, as JavaScript's String(-0) is "0".
                self.int(*x as i64);
                self.put(b".0");
            }
            Value::Double(x) => {
                if x.is_finite() {
                    let s = js_number(*x);
                    self.raw(&s);
                    // The spec's relaxed form keeps a double recognisable: 1.0, not 1.
                    if !s.contains(['.', 'e', 'E']) {
                        self.put(b".0");
                    }
                } else {
                    self.put(b"{\"$numberDouble\": \"");
                    self.put(if x.is_nan() {
                        b"NaN"
                    } else if *x > 0.0 {
                        b"Infinity"
                    } else {
                        b"-Infinity"
                    });
                    self.put(b"\"}");
                }
            }
            Value::Int32(i) => self.int(i64::from(*i)),
            Value::Int64(i) => self.int(*i),
            Value::String(s) => self.string(s),
            Value::Bool(b) => self.put(if *b { b"true" } else { b"false" }),
            Value::Null => self.put(b"null"),
            Value::Undefined => self.put(b"{\"$undefined\": true}"),
            Value::ObjectId(oid) => self.wrapped(b"{\"$oid\": \"", &oid.to_hex()),
            Value::Date(ms) => {
                // Relaxed form uses ISO-8601 only for years 1970–9999 (ms in
                // [0, 253402300799999]).
                if (0..=253_402_300_799_999).contains(ms) {
                    self.wrapped(b"{\"$date\": \"", &iso_date(*ms));
                } else {
                    self.put(b"{\"$date\": {\"$numberLong\": \"");
                    self.int(*ms);
                    self.put(b"\"}}");
                }
            }
            Value::Regex { pattern, options } => {
                self.put(b"{\"$regularExpression\": {\"pattern\": ");
                self.string(pattern);
                self.put(b", \"options\": ");
                self.string(options);
                self.put(b"}}");
            }
            Value::Array(items) => {
                self.put(b"[");
                let mut i = 0;
                while let Some(item) = items.get(i) {
                    if i > 0 {
                        self.put(b", ");
                    }
                    self.value(item);
                    i += 1;
                }
                self.put(b"]");
            }
            Value::Document(doc) => self.doc(doc),
            Value::MinKey => self.put(b"{\"$minKey\": 1}"),
            Value::MaxKey => self.put(b"{\"$maxKey\": 1}"),
            Value::Decimal128(d) => self.wrapped(b"{\"$numberDecimal\": \"", &d.to_string()),
            Value::Timestamp { t, i } => {
                self.put(b"{\"$timestamp\": {\"t\": ");
                self.int(i64::from(*t));
                self.put(b", \"i\": ");
                self.int(i64::from(*i));
                self.put(b"}}");
            }
            Value::Binary { subtype, bytes } => {
                self.put(b"{\"$binary\": {\"base64\": \"");
                self.raw(&base64_encode(bytes));
                self.put(b"\", \"subType\": \"");
                self.put(&[
                    HEX[usize::from(subtype >> 4)],
                    HEX[usize::from(subtype & 0xf)],
                ]);
                self.put(b"\"}}");
            }
        }
    }

    pub fn doc(&mut self, doc: &Document) {
        self.put(b"{");
        let fields = doc.as_slice();
        let mut i = 0;
        while let Some((k, v)) = fields.get_index(i) {
            if i > 0 {
                self.put(b", ");
            }
            self.string(k);
            self.put(b": ");
            self.value(v);
            i += 1;
        }
        self.put(b"}");
    }

    /// A document of a list, its top-level keys written from `keys` (`"key": ` as text,
    /// by position) when they are those of the document before, as a list's usually are.
    fn doc_like_last(&mut self, doc: &Document, keys: &mut Vec<(String, Vec<u8>)>) {
        self.put(b"{");
        // Indexed rather than iterated: at this opt-level an iterator adapter's `next`
        // stays a call per field.
        let fields = doc.as_slice();
        let mut i = 0;
        while let Some((k, v)) = fields.get_index(i) {
            if i > 0 {
                self.put(b", ");
            }
            match keys.get(i) {
                Some((key, text)) if key == k => self.put(text),
                _ => {
                    let start = self.len;
                    self.string(k);
                    self.put(b": ");
                    let text = self.buf.get(start..self.len).unwrap_or_default().to_vec();
                    match keys.get_mut(i) {
                        Some(slot) => *slot = (k.clone(), text),
                        None => keys.push((k.clone(), text)),
                    }
                }
            }
            self.value(v);
            i += 1;
        }
        self.put(b"}");
    }

    /// `[d1, d2, …]`, with room made after the first document for as many more of its
    /// size (up to a few MB), instead of the buffer doubling its way up.
    pub fn docs<'d>(&mut self, docs: impl ExactSizeIterator<Item = &'d Document>) {
        const MOST_AHEAD: usize = 8 << 20;
        let count = docs.len();
        let mut keys = Vec::new();
        self.put(b"[");
        for (i, d) in docs.enumerate() {
            if i > 0 {
                self.put(b", ");
            }
            let before = self.len;
            self.doc_like_last(d, &mut keys);
            if i == 0 {
                let ahead = (self.len - before + 2).saturating_mul(count);
                let end = self.len + ahead.min(MOST_AHEAD);
                if end > self.buf.len() {
                    self.grow(end);
                }
            }
        }
        self.put(b"]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::value::{Decimal128, ObjectId};

    fn doc(fields: &[(&str, Value)]) -> Document {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn one_doc(d: &Document) -> String {
        let mut w = Ejson::with_capacity(1);
        w.doc(d);
        w.finish()
    }

    /// Every ASCII byte, and the usual suspects, escape as serde_json escapes them, as
    /// string values and as keys, through a writer that starts too small to hold them.
    #[test]
    fn strings_and_keys_escape_as_serde_json_does() {
        let mut cases: Vec<String> = (0u8..=127).map(|b| char::from(b).to_string()).collect();
        cases.extend(
            [
                "",
                "plain",
                "q\"uote",
                "back\\slash",
                "\n\r\t\u{8}\u{c}",
                "\u{0}\u{1f}\u{7f}",
                "é漢字🙂/",
                "a\u{1}b\"c",
                "ends with an escape\n",
            ]
            .map(String::from),
        );
        for s in &cases {
            let want = serde_json::to_string(s).unwrap_or_default();
            let mut w = Ejson::with_capacity(1);
            w.value(&Value::String(s.clone()));
            assert_eq!(w.finish(), want, "value {s:?}");
            let keyed = doc(&[(s.as_str(), Value::Int32(1))]);
            assert_eq!(one_doc(&keyed), format!("{{{want}: 1}}"), "key {s:?}");
            let mut out = String::from("x");
            json_string(&mut out, s);
            assert_eq!(out, format!("x{want}"), "json_string {s:?}");
        }
    }

    #[test]
    fn each_kind_of_value_is_written_in_relaxed_form() {
        let oid = ObjectId::parse_hex("5f1d7c4e8a3b2c1d0e9f8a7b").unwrap_or(ObjectId([0; 12]));
        let cases: Vec<(Value, &str)> = vec![
            (Value::Int32(-7), "-7"),
            (Value::Int32(i32::MIN), "-2147483648"),
            (Value::Int64(i64::MAX), "9223372036854775807"),
            (Value::Int64(i64::MIN), "-9223372036854775808"),
            (Value::Double(3.0), "3.0"),
            (Value::Double(-0.0), "0.0"),
            (Value::Double(2.5), "2.5"),
            (Value::Double(1e300), "1e+300"),
            (Value::Double(f64::NAN), r#"{"$numberDouble": "NaN"}"#),
            (
                Value::Double(f64::INFINITY),
                r#"{"$numberDouble": "Infinity"}"#,
            ),
            (
                Value::Double(f64::NEG_INFINITY),
                r#"{"$numberDouble": "-Infinity"}"#,
            ),
            (Value::Bool(true), "true"),
            (Value::Bool(false), "false"),
            (Value::Null, "null"),
            (Value::Undefined, r#"{"$undefined": true}"#),
            (
                Value::ObjectId(oid),
                r#"{"$oid": "5f1d7c4e8a3b2c1d0e9f8a7b"}"#,
            ),
            (Value::Date(0), r#"{"$date": "1970-01-01T00:00:00.000Z"}"#),
            (Value::Date(-1), r#"{"$date": {"$numberLong": "-1"}}"#),
            (
                Value::Regex {
                    pattern: "a\"b".into(),
                    options: "i".into(),
                },
                r#"{"$regularExpression": {"pattern": "a\"b", "options": "i"}}"#,
            ),
            (Value::MinKey, r#"{"$minKey": 1}"#),
            (Value::MaxKey, r#"{"$maxKey": 1}"#),
            (
                Value::Decimal128(Decimal128::parse("1.50").unwrap()),
                r#"{"$numberDecimal": "1.50"}"#,
            ),
            (
                Value::Timestamp {
                    t: 4_000_000_000,
                    i: 7,
                },
                r#"{"$timestamp": {"t": 4000000000, "i": 7}}"#,
            ),
            (
                Value::Binary {
                    subtype: 4,
                    bytes: vec![1, 2, 3],
                },
                r#"{"$binary": {"base64": "AQID", "subType": "04"}}"#,
            ),
            (
                Value::Binary {
                    subtype: 0x80,
                    bytes: Vec::new(),
                },
                r#"{"$binary": {"base64": "", "subType": "80"}}"#,
            ),
            (
                Value::Array(vec![
                    Value::Int32(1),
                    Value::Array(Vec::new()),
                    Value::Document(doc(&[("a", Value::Null)])),
                ]),
                r#"[1, [], {"a": null}]"#,
            ),
        ];
        for (v, want) in cases {
            let mut w = Ejson::with_capacity(1);
            w.value(&v);
            assert_eq!(w.finish(), want, "{v:?}");
        }
    }

    /// A list's documents reuse the keys of the one before only where they are the same:
    /// the list reads as each document written alone.
    #[test]
    fn a_list_of_documents_of_changing_shapes_reads_as_each_alone() {
        let nested = Value::Document(doc(&[("a", Value::Int32(2)), ("b", Value::Null)]));
        let docs = vec![
            doc(&[("a", Value::Int32(1)), ("b", Value::String("x".into()))]),
            doc(&[("a", Value::Int32(1)), ("b", Value::String("y".into()))]),
            doc(&[("b", Value::Int32(1)), ("a", Value::Int32(2))]),
            doc(&[("a", nested.clone())]),
            doc(&[
                ("a", nested),
                ("b\"", Value::Int32(3)),
                ("c", Value::Bool(true)),
            ]),
            doc(&[("ab", Value::Int32(4)), ("b", Value::Int32(5))]),
            doc(&[]),
            doc(&[("a", Value::Int32(6)), ("b\"", Value::Int32(7))]),
            doc(&[("é", Value::Int32(8)), ("b\n", Value::Int32(9))]),
            doc(&[("é", Value::Int32(8)), ("b\n", Value::Int32(9))]),
        ];
        let want = format!(
            "[{}]",
            docs.iter().map(one_doc).collect::<Vec<_>>().join(", ")
        );
        for capacity in [1, 64, 1 << 16] {
            let mut w = Ejson::with_capacity(capacity);
            w.docs(docs.iter());
            assert_eq!(w.finish(), want, "capacity {capacity}");
        }
        let mut w = Ejson::default();
        w.docs(std::iter::empty());
        assert_eq!(w.finish(), "[]");
    }
}
