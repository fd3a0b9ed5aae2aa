//! mongosh's printed form of values.
//!
//! mongosh (packages/cli-repl/src/format-output.ts) prints results with Node's
//! `util.inspect`, passing `depth: 6` (its `inspectDepth` default) and otherwise Node's
//! defaults: `breakLength: 80`, `compact: 3`, `maxArrayLength: 100` (raised to Infinity when
//! printing a cursor batch), `maxStringLength: 10000`. BSON classes print through mongosh's
//! own stringifiers as `ObjectId('…')`, `ISODate('…')`, `Long('…')` (single quotes since
//! mongosh 2 / bson 6). Doubles and Int32s reach JS as plain numbers, so `5.0` prints `5`.
//!
//! The layout rules below follow Node's `lib/internal/util/inspect.js` (`formatValue`,
//! `reduceToSingleString`, `isBelowBreakLength`, `groupArrayElements`, `strEscape`) so that
//! line breaking matches exactly: an object goes on one line only if the object nesting
//! below it is shallower than `compact` levels and `sum(entries) + 2·count + indentation +
//! brace + 10 <= 80`.

use super::value::{base64_encode, format_uuid, iso_date, js_number, Document, Value};

const BREAK_LENGTH: usize = 80;
const COMPACT: usize = 3;
/// Strings up to this length are never split at their newlines (Node's `kMinLineWidth`).
const MIN_LINE_WIDTH: usize = 16;

/// Inspect options that vary between mongosh's call sites.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub depth: usize,
    pub max_array_length: usize,
    pub max_string_length: usize,
}

impl Options {
    /// What mongosh uses for ordinary results (findOne, insertOne's result, …).
    pub const VALUE: Options = Options {
        depth: 6,
        max_array_length: 100,
        max_string_length: 10_000,
    };
    /// What mongosh uses for a cursor batch: arrays are never cut short.
    pub const CURSOR: Options = Options {
        depth: 6,
        max_array_length: usize::MAX,
        max_string_length: 10_000,
    };
}

/// Formats a value as mongosh prints it nested inside a result (strings quoted).
pub fn inspect(v: &Value, options: Options) -> String {
    Ctx::mongosh(options).format_value(v, 0)
}

/// Formats an array of `total` items as `inspect` would, given only its first items: at least
/// as many as `options` prints and one more, or all of them.
pub fn inspect_array_head(items: &[Value], total: usize, options: Options) -> String {
    Ctx::mongosh(options).format_array_head(items, total, 0)
}

/// Formats a value as Node's `util.inspect` prints what the Node MongoDB driver returns
/// (bson 6): depth 2, `new ObjectId('…')`, dates as `2024-01-01T00:00:00.000Z`, Int64 as
/// a plain number (the driver's `promoteLongs`).
///
/// Documents equal to one of `null_proto` print as objects without a prototype
/// (`[Object: null prototype] {…}`), as node-redis builds its HGETALL and FT.SEARCH replies.
pub fn inspect_node(v: &Value, null_proto: &[Document]) -> String {
    let mut ctx = Ctx {
        options: Options {
            depth: 2,
            ..Options::VALUE
        },
        current_depth: 0,
        indentation: 0,
        node: true,
        null_proto,
    };
    ctx.format_value(v, 0)
}

/// Formats a document as Node prints an instance of the class `class`.
pub fn inspect_instance(class: &str, doc: &Document) -> String {
    let mut ctx = Ctx {
        options: Options::VALUE,
        current_depth: 0,
        indentation: 0,
        node: false,
        null_proto: &[],
    };
    ctx.format_object(doc, 0, Some(class))
}

/// Formats documents as Node prints an array of instances of the class `class`.
pub fn inspect_instances(class: &str, docs: &[Document]) -> String {
    let mut ctx = Ctx {
        options: Options::VALUE,
        current_depth: 0,
        indentation: 0,
        node: false,
        null_proto: &[],
    };
    ctx.format_class_array(class, docs, 0)
}

/// The line `inspect` writes for field `key` of a document it prints over several lines,
/// `level` documents deep (its fields indented by two spaces a level), without the
/// indentation: a giant result printed a few fields at a time.
pub fn inspect_field(key: &str, v: &Value, level: usize, options: Options) -> String {
    let mut ctx = Ctx::mongosh(options);
    ctx.indentation = 2 * level;
    ctx.current_depth = level;
    format!("{}: {}", format_key(key), ctx.format_value(v, level))
}

/// Formats a list of documents as mongosh prints a cursor batch.
pub fn inspect_documents(docs: &[Document]) -> String {
    let arr = Value::Array(docs.iter().cloned().map(Value::Document).collect());
    inspect(&arr, Options::CURSOR)
}

struct Ctx<'a> {
    options: Options,
    /// Depth of the object or array whose formatting began most recently (Node's
    /// `ctx.currentDepth`): it is what decides whether a parent may be put on one line.
    current_depth: usize,
    indentation: usize,
    /// Node's own printing of the driver's types instead of mongosh's.
    node: bool,
    null_proto: &'a [Document],
}

/// JS string length (UTF-16 code units), which is what Node measures.
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

impl Ctx<'_> {
    fn mongosh(options: Options) -> Self {
        Ctx {
            options,
            current_depth: 0,
            indentation: 0,
            node: false,
            null_proto: &[],
        }
    }

    fn format_value(&mut self, v: &Value, recurse: usize) -> String {
        match v {
            Value::Double(x) => {
                if *x == 0.0 && x.is_sign_negative() {
                    "-0".into()
                } else {
                    js_number(*x)
                }
            }
            Value::Int32(i) => i.to_string(),
            Value::Int64(i) if self.node => js_number(*i as f64),
            Value::Int64(i) => format!("Long('{i}')"),
            Value::ObjectId(oid) if self.node => format!("new ObjectId('{}')", oid.to_hex()),
            Value::Date(ms) if self.node && ms.unsigned_abs() <= 8_640_000_000_000_000 => {
                iso_date(*ms)
            }
            Value::Decimal128(d) if self.node => format!("new Decimal128('{d}')"),
            Value::Timestamp { t, i } if self.node => {
                format!("new Timestamp({{ t: {t}, i: {i} }})")
            }
            Value::String(s) => self.format_string(s),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Undefined => "undefined".into(),
            Value::ObjectId(oid) => format!("ObjectId('{}')", oid.to_hex()),
            Value::Date(ms) => {
                // JS dates hold at most ±8.64e15 ms; anything beyond is an Invalid Date.
                if ms.unsigned_abs() > 8_640_000_000_000_000 {
                    "Invalid Date".into()
                } else {
                    format!("ISODate('{}')", iso_date(*ms))
                }
            }
            Value::Regex { pattern, options } => format!("/{pattern}/{options}"),
            Value::MinKey => "MinKey()".into(),
            Value::MaxKey => "MaxKey()".into(),
            Value::Decimal128(d) => format!("Decimal128('{d}')"),
            Value::Timestamp { t, i } => format!("Timestamp({{ t: {t}, i: {i} }})"),
            Value::Binary { subtype: 4, bytes } if bytes.len() == 16 => {
                format!("UUID('{}')", format_uuid(bytes))
            }
            Value::Binary { subtype, bytes } => format!(
                "Binary.createFromBase64('{}', {subtype})",
                base64_encode(bytes)
            ),
            Value::Array(items) => self.format_array(items, recurse),
            Value::Document(doc) => self.format_document(doc, recurse),
        }
    }

    fn format_string(&self, s: &str) -> String {
        let (s, trailer) = truncate_string(s, self.options.max_string_length);
        let len = js_len(s);
        if len > MIN_LINE_WIDTH && len + self.indentation + 4 > BREAK_LENGTH {
            let pad = format!(" +\n{}", " ".repeat(self.indentation + 2));
            let pieces: Vec<String> = s.split_inclusive('\n').map(quote_js_string).collect();
            return pieces.join(&pad) + &trailer;
        }
        quote_js_string(s) + &trailer
    }

    fn format_array(&mut self, items: &[Value], recurse: usize) -> String {
        self.format_array_head(items, items.len(), recurse)
    }

    /// An array of `total` items of which `items` holds the first: what is printed reads no
    /// further than one item past the shown ones.
    fn format_array_head(&mut self, items: &[Value], total: usize, recurse: usize) -> String {
        if total == 0 {
            return "[]".into();
        }
        if recurse > self.options.depth {
            return "[Array]".into();
        }
        let recurse = recurse + 1;
        self.current_depth = recurse;
        let shown = total.min(self.options.max_array_length);
        let mut output = Vec::with_capacity(shown + 1);
        for item in items.iter().take(shown) {
            self.indentation += 2;
            let s = self.format_value(item, recurse);
            self.indentation -= 2;
            output.push(s);
        }
        let extra = total - shown;
        if extra > 0 {
            output.push(format!(
                "... {extra} more item{}",
                if extra > 1 { "s" } else { "" }
            ));
        }
        // Node pads numbers to the right and everything else to the left when grouping.
        let all_numbers = items
            .iter()
            .take(output.len())
            .all(|v| matches!(v, Value::Double(_) | Value::Int32(_)));
        self.reduce_to_single_string(output, ("[", "]"), true, recurse, all_numbers, extra > 0)
    }

    fn format_document(&mut self, doc: &Document, recurse: usize) -> String {
        self.format_object(doc, recurse, None)
    }

    /// An object, optionally an instance of a named class (`BulkWriteResult { … }`), whose
    /// name becomes part of the opening brace as in Node.
    fn format_object(&mut self, doc: &Document, recurse: usize, class: Option<&str>) -> String {
        const NULL_PROTO: &str = "[Object: null prototype]";
        if class.is_none() && self.null_proto.contains(doc) {
            if recurse > self.options.depth {
                return NULL_PROTO.into();
            }
            return self.format_object(doc, recurse, Some(NULL_PROTO));
        }
        let open = match class {
            Some(name) => format!("{name} {{"),
            None => "{".to_string(),
        };
        if doc.is_empty() {
            return format!("{open}}}");
        }
        if recurse > self.options.depth {
            return match class {
                Some(name) => format!("[{name}]"),
                None => "[Object]".into(),
            };
        }
        let recurse = recurse + 1;
        self.current_depth = recurse;
        let mut output = Vec::with_capacity(doc.len());
        for (k, v) in js_property_order(doc) {
            self.indentation += 2;
            let s = self.format_value(v, recurse);
            self.indentation -= 2;
            output.push(format!("{}: {s}", format_key(k)));
        }
        self.reduce_to_single_string(output, (&open, "}"), false, recurse, false, false)
    }

    /// An array whose elements are all instances of one class (`[ WriteError { … } ]`).
    fn format_class_array(&mut self, class: &str, docs: &[Document], recurse: usize) -> String {
        if docs.is_empty() {
            return "[]".into();
        }
        let recurse = recurse + 1;
        self.current_depth = recurse;
        let mut output = Vec::with_capacity(docs.len());
        for doc in docs {
            self.indentation += 2;
            let s = self.format_object(doc, recurse, Some(class));
            self.indentation -= 2;
            output.push(s);
        }
        self.reduce_to_single_string(output, ("[", "]"), true, recurse, false, false)
    }

    fn reduce_to_single_string(
        &mut self,
        mut output: Vec<String>,
        braces: (&str, &str),
        is_array: bool,
        recurse: usize,
        all_numbers: bool,
        has_more_marker: bool,
    ) -> String {
        let entries = output.len();
        if is_array && entries > 6 {
            output = self.group_array_elements(output, all_numbers, has_more_marker);
        }
        if self.current_depth.saturating_sub(recurse) < COMPACT && entries == output.len() {
            let start = output.len() + self.indentation + braces.0.len() + 10;
            if is_below_break_length(&output, start) {
                let joined = output.join(", ");
                if !joined.contains('\n') {
                    return format!("{} {joined} {}", braces.0, braces.1);
                }
            }
        }
        let indentation = format!("\n{}", " ".repeat(self.indentation));
        format!(
            "{}{indentation}  {}{indentation}{}",
            braces.0,
            output.join(&format!(",{indentation}  ")),
            braces.1
        )
    }

    /// Node's column layout for arrays of more than six short entries.
    fn group_array_elements(
        &self,
        output: Vec<String>,
        all_numbers: bool,
        has_more_marker: bool,
    ) -> Vec<String> {
        let mut total_length = 0usize;
        let mut max_length = 0usize;
        let output_length = if has_more_marker {
            output.len() - 1
        } else {
            output.len()
        };
        const SEPARATOR_SPACE: usize = 2;
        let data_len: Vec<usize> = output[..output_length].iter().map(|s| js_len(s)).collect();
        for &len in &data_len {
            total_length += len + SEPARATOR_SPACE;
            max_length = max_length.max(len);
        }
        let actual_max = max_length + SEPARATOR_SPACE;
        if actual_max * 3 + self.indentation < BREAK_LENGTH
            && (total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6)
        {
            let approx_char_heights = 2.5;
            let average_bias =
                (actual_max as f64 - total_length as f64 / output.len() as f64).sqrt();
            let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
            let columns = [
                ((approx_char_heights * biased_max * output_length as f64).sqrt() / biased_max)
                    .round() as usize,
                (BREAK_LENGTH - self.indentation) / actual_max,
                COMPACT * 4,
                15,
            ]
            .into_iter()
            .min()
            .unwrap_or(1);
            if columns <= 1 {
                return output;
            }
            let mut max_line_length = Vec::with_capacity(columns);
            for i in 0..columns {
                let mut line_length = 0;
                let mut j = i;
                while j < output_length {
                    line_length = line_length.max(data_len[j]);
                    j += columns;
                }
                max_line_length.push(line_length + SEPARATOR_SPACE);
            }
            let mut tmp = Vec::new();
            let mut i = 0;
            while i < output_length {
                let max = (i + columns).min(output_length);
                let mut line = String::new();
                let mut j = i;
                while j < max - 1 {
                    let cell = format!("{}, ", output[j]);
                    line.push_str(&pad(&cell, max_line_length[j - i], all_numbers));
                    j += 1;
                }
                if all_numbers {
                    let width = max_line_length[j - i] - SEPARATOR_SPACE;
                    line.push_str(&pad(&output[j], width, true));
                } else {
                    line.push_str(&output[j]);
                }
                tmp.push(line);
                i += columns;
            }
            if has_more_marker {
                if let Some(last) = output.last() {
                    tmp.push(last.clone());
                }
            }
            return tmp;
        }
        output
    }
}

/// The order a JS object enumerates its keys: array-index keys (`'0'`, `'17'`) first in
/// numeric order, then the rest in insertion order. The driver turns each document into a JS
/// object, so mongosh shows `{ _id: 9, '0': 3 }` as `{ '0': 3, _id: 9 }`.
fn js_property_order(doc: &Document) -> Vec<(&String, &Value)> {
    let mut indexed: Vec<(u32, (&String, &Value))> = Vec::new();
    let mut named = Vec::with_capacity(doc.len());
    for (k, v) in doc {
        match array_index(k) {
            Some(i) => indexed.push((i, (k, v))),
            None => named.push((k, v)),
        }
    }
    if indexed.is_empty() {
        return named;
    }
    crate::sort::sort_by_key(&mut indexed, |(i, _)| *i);
    indexed.into_iter().map(|(_, kv)| kv).chain(named).collect()
}

/// A canonical array index: digits without leading zeros, below 2^32 - 1.
fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || (k.len() > 1 && k.starts_with('0')) || !k.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    k.parse::<u32>().ok().filter(|i| *i != u32::MAX)
}

fn pad(s: &str, width: usize, at_start: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(js_len(s)));
    if at_start {
        fill + s
    } else {
        format!("{s}{fill}")
    }
}

fn is_below_break_length(output: &[String], start: usize) -> bool {
    let mut total = output.len() + start;
    if total + output.len() > BREAK_LENGTH {
        return false;
    }
    for s in output {
        total += js_len(s);
        if total > BREAK_LENGTH {
            return false;
        }
    }
    true
}

fn truncate_string(s: &str, max: usize) -> (&str, String) {
    let len = js_len(s);
    if len <= max {
        return (s, String::new());
    }
    let mut units = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if units + c.len_utf16() > max {
            break;
        }
        units += c.len_utf16();
        end = i + c.len_utf8();
    }
    let remaining = len - max;
    (
        &s[..end],
        format!(
            "... {remaining} more character{}",
            if remaining > 1 { "s" } else { "" }
        ),
    )
}

/// Keys that are JS identifiers (`[A-Za-z_][A-Za-z0-9_]*`, Node's `keyStrRegExp`) print bare;
/// any other key (`'0'`, `'a-b'`, `'$oid'`) prints as a quoted string.
pub fn format_key(k: &str) -> String {
    let mut chars = k.chars();
    let ident = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if ident {
        k.to_string()
    } else {
        quote_js_string(k)
    }
}

/// Node's `strEscape`: single quotes unless the string contains one, then double quotes if it
/// has none, then backticks; control characters, the chosen quote and backslash escaped.
pub fn quote_js_string(s: &str) -> String {
    let quote = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\'' if quote == '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::value::ObjectId;

    fn doc(pairs: &[(&str, Value)]) -> Value {
        Value::Document(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn short_documents_fit_on_one_line() {
        let d = doc(&[("_id", Value::Int32(1)), ("title", s("Redis Caching"))]);
        assert_eq!(
            inspect(&d, Options::VALUE),
            "{ _id: 1, title: 'Redis Caching' }"
        );
        assert_eq!(
            inspect(&Value::Array(vec![d]), Options::CURSOR),
            "[ { _id: 1, title: 'Redis Caching' } ]"
        );
    }

    #[test]
    fn insert_one_result_breaks_at_81_columns() {
        let oid = ObjectId::parse_hex("65a1b2c3d4e5f60718293a4b").map(Value::ObjectId);
        let d = doc(&[
            ("acknowledged", Value::Bool(true)),
            ("insertedId", oid.unwrap_or(Value::Null)),
        ]);
        assert_eq!(
            inspect(&d, Options::VALUE),
            "{\n  acknowledged: true,\n  insertedId: ObjectId('65a1b2c3d4e5f60718293a4b')\n}"
        );
    }

    #[test]
    fn nesting_three_levels_deep_forces_line_breaks() {
        let inner = doc(&[("c", doc(&[("d", Value::Int32(1))]))]);
        let d = doc(&[("a", doc(&[("b", inner)]))]);
        assert_eq!(
            inspect(&d, Options::VALUE),
            "{\n  a: { b: { c: { d: 1 } } }\n}"
        );
    }

    #[test]
    fn depth_beyond_six_prints_placeholders() {
        let mut v = doc(&[("x", Value::Int32(1))]);
        for _ in 0..7 {
            v = doc(&[("n", v)]);
        }
        let out = inspect(&v, Options::VALUE);
        assert!(out.contains("[Object]"), "{out}");
        let arr = doc(&[("n", Value::Array(vec![Value::Int32(1)]))]);
        let mut v = arr;
        for _ in 0..6 {
            v = doc(&[("n", v)]);
        }
        assert!(inspect(&v, Options::VALUE).contains("n: [Array]"));
    }

    #[test]
    fn strings_keys_and_scalars() {
        let cases: Vec<(Value, &str)> = vec![
            (s("it's"), "\"it's\""),
            (s("a'b\"c"), "`a'b\"c`"),
            (s("line\nnext\\"), "'line\\nnext\\\\'"),
            (s("\u{1}"), "'\\x01'"),
            (Value::Double(5.0), "5"),
            (Value::Double(-0.0), "-0"),
            (Value::Double(2.5), "2.5"),
            (Value::Int64(5), "Long('5')"),
            (
                Value::Date(1_704_067_200_000),
                "ISODate('2024-01-01T00:00:00.000Z')",
            ),
            (
                Value::Regex {
                    pattern: "^re".into(),
                    options: "i".into(),
                },
                "/^re/i",
            ),
            (
                doc(&[
                    ("a-b", Value::Int32(1)),
                    ("$oid", Value::Null),
                    ("0", Value::Null),
                ]),
                "{ '0': null, 'a-b': 1, '$oid': null }",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(inspect(&v, Options::VALUE), want);
        }
    }

    #[test]
    fn long_arrays_group_into_columns() {
        let v = Value::Array((1..=30).map(Value::Int32).collect());
        assert_eq!(
            inspect(&v, Options::VALUE),
            "[\n   1,  2,  3,  4,  5,  6,  7,  8,  9,\n  10, 11, 12, 13, 14, 15, 16, 17, 18,\n  19, 20, 21, 22, 23, 24, 25, 26, 27,\n  28, 29, 30\n]"
        );
        let v = Value::Array((0..101).map(|_| Value::Int32(0)).collect());
        assert!(inspect(&v, Options::VALUE).ends_with("... 1 more item\n]"));
    }

    #[test]
    fn long_multiline_strings_split_at_newlines() {
        let text = "first line of text\nsecond line of text that is long enough to wrap the output";
        let v = doc(&[("body", s(text))]);
        assert_eq!(
            inspect(&v, Options::VALUE),
            "{\n  body: 'first line of text\\n' +\n    'second line of text that is long enough to wrap the output'\n}"
        );
    }
}
