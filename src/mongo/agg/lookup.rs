//! `$lookup`: the equality join of `localField` to `foreignField`, with or without a
//! sub-pipeline, and the uncorrelated and `let` forms.
//!
//! Which values meet (what the server's `lookup_equijoin_semantics` tests pin down): the
//! local side is the set of values the path reaches the way a query walks it (through
//! arrays of documents, array positions for numeric parts), each array found at the end
//! giving its elements rather than itself, and null when that set is empty. A foreign
//! document matches when `{ foreignField: { $eq: v } }` would match it for one of those
//! values: its own values at the path, the elements of arrays there, and null where the
//! query would see the field missing.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Bound;

use super::accum::encode_key;
use super::stages::{env, foreign_docs, set_path, KeyIndex, Pipeline, StageOp};
use super::{AggError, Ctx, Row};
use crate::mongo::agg::expr::Expr;
use crate::mongo::index::{Entry, Index, IndexKind, Key, KeyPart};
use crate::mongo::query::filter::array_index;
use crate::mongo::store::{Collection, Store};
use crate::mongo::value::{field, Document, Value};

type Rows<'a> = Vec<Row<'a>>;

pub(super) struct Lookup {
    pub from: Option<(Option<String>, String)>,
    pub local: Option<Vec<String>>,
    pub foreign: Option<Vec<String>>,
    pub as_path: Vec<String>,
    pub lets: Vec<(String, Expr)>,
    pub pipeline: Option<Pipeline>,
}

const NULL: Value = Value::Null;

/// Calls `f` with each local value of `doc` at `path` (see the module doc).
pub(super) fn local_values<'d>(doc: &'d Document, path: &[String], f: &mut dyn FnMut(&'d Value)) {
    let mut any = false;
    local_in_doc(doc, path, &mut |v| {
        any = true;
        f(v);
    });
    if !any {
        f(&NULL);
    }
}

/// Calls `f` with each value of `doc` at `path` as the server's
/// `extractAllElementsAlongPath` collects them (a trailing array gives its elements), and
/// not at all when the path reaches nothing: what `$graphLookup` follows from a document's
/// `connectFromField`.
pub(super) fn path_values<'d>(doc: &'d Document, path: &[String], f: &mut dyn FnMut(&'d Value)) {
    local_in_doc(doc, path, f);
}

fn local_in_doc<'d>(doc: &'d Document, path: &[String], f: &mut dyn FnMut(&'d Value)) {
    if let Some((first, rest)) = path.split_first() {
        if let Some(v) = field(doc, first) {
            local_in_value(v, rest, f);
        }
    }
}

fn local_in_value<'d>(v: &'d Value, rest: &[String], f: &mut dyn FnMut(&'d Value)) {
    let Some((first, after)) = rest.split_first() else {
        match v {
            Value::Array(items) => items.iter().for_each(&mut *f),
            v => f(v),
        }
        return;
    };
    match v {
        Value::Document(d) => local_in_doc(d, rest, f),
        Value::Array(items) => {
            if let Some(item) = array_index(first).and_then(|i| items.get(i)) {
                local_in_value(item, after, f);
            }
            for item in items {
                if let Value::Document(d) = item {
                    local_in_doc(d, rest, f);
                }
            }
        }
        _ => {}
    }
}

/// The values under which `{ path: { $eq: v } }` matches `doc`, appended to `out`; returns
/// whether the query would also match null there (the field missing somewhere on the way).
fn foreign_keys<'d>(doc: &'d Document, path: &[String], out: &mut Vec<&'d Value>) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match field(doc, first) {
        None => true,
        Some(v) => foreign_in_value(v, rest, false, out),
    }
}

fn foreign_in_value<'d>(
    v: &'d Value,
    rest: &[String],
    in_array: bool,
    out: &mut Vec<&'d Value>,
) -> bool {
    let Some((first, after)) = rest.split_first() else {
        out.push(v);
        if let Value::Array(items) = v {
            out.extend(items.iter());
        }
        return false;
    };
    match v {
        Value::Document(d) => foreign_keys(d, rest, out),
        Value::Array(items) => {
            let mut null = false;
            if let Some(item) = array_index(first).and_then(|i| items.get(i)) {
                null |= foreign_in_value(item, after, true, out);
            }
            for item in items {
                if let Value::Document(d) = item {
                    null |= foreign_keys(d, rest, out);
                }
            }
            null
        }
        // A scalar where a document was expected is a missing field, except as an array's
        // element, which a query skips.
        _ => !in_array,
    }
}

/// The foreign documents' positions by each of their keys. `missing_is_null`: a document
/// that the path reaches nothing in is found under null, as `{ path: { $eq: null } }`
/// finds it (`$lookup`); `$graphLookup` finds only an explicit null there.
pub(super) fn index_foreign(docs: &[Document], path: &[String], missing_is_null: bool) -> KeyIndex {
    let mut idx = KeyIndex::default();
    let mut values = Vec::new();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        if idx.add_scalar(d, path, i, &mut buf) {
            continue;
        }
        values.clear();
        if foreign_keys(d, path, &mut values) && missing_is_null {
            values.push(&NULL);
        }
        keys.clear();
        for v in &values {
            buf.clear();
            encode_key(v, &mut buf);
            if !keys.contains(&buf) {
                idx.add(&buf, i);
                keys.push(buf.clone());
            }
        }
    }
    idx
}

/// The `_id` index of the collection a `$lookup` reads, when its `foreignField` is `_id`
/// and it has no sub-pipeline: `_id` is never an array nor missing, so equality on the
/// index's BSON order is exactly the join's matching, and each input document costs one
/// probe per local value instead of the whole foreign collection being hashed per run.
fn id_index<'a>(
    ctx: &Ctx<'a>,
    from: &Option<(Option<String>, String)>,
    foreign: Option<&Vec<String>>,
) -> Option<(&'a Collection, &'a Index)> {
    if foreign.map(Vec::as_slice) != Some(&["_id".to_string()][..]) {
        return None;
    }
    let (db, coll) = from.as_ref()?;
    let store: &'a Store = ctx.store;
    let c = store.collection(db.as_deref().unwrap_or(ctx.db), coll)?;
    let ix = c.indexes().first()?;
    let plain = matches!(ix.spec.kind, IndexKind::Regular)
        && !ix.spec.sparse
        && ix.spec.partial.is_none()
        && matches!(ix.spec.key.as_slice(), [f] if f.path == "_id" && !f.descending)
        && ix.len() == c.docs.len();
    plain.then_some((c, ix))
}

/// Probes of the `_id` index: the probe's key is kept and only its value replaced, so a
/// probe allocates nothing, and a probe descends the tree once, from its key up, reading
/// entries while their key equals it (an upper bound would cost a second descent).
struct IdProbe<'a> {
    coll: &'a Collection,
    ix: &'a Index,
    low: Entry,
}

impl<'a> IdProbe<'a> {
    fn new(coll: &'a Collection, ix: &'a Index) -> Self {
        let key = Key::one(KeyPart {
            value: Value::Null,
            descending: false,
        });
        IdProbe {
            coll,
            ix,
            low: (key, u64::MIN),
        }
    }

    /// Appends the position of the document whose `_id` equals `key`, if any.
    fn find(&mut self, key: &Value, out: &mut Vec<usize>) {
        // No `_id` is an array, and arrays among the local values match only whole.
        if matches!(key, Value::Array(_)) {
            return;
        }
        self.low.0.set_first_value(key.clone());
        let wanted = &self.low.0;
        out.extend(
            self.ix
                .entries()
                .range::<Entry, _>((Bound::Included(&self.low), Bound::Unbounded))
                .take_while(|(k, _)| k.cmp(wanted) == Ordering::Equal)
                .filter_map(|(_, rid)| self.coll.position_of(*rid)),
        );
    }
}

/// Collection order, each document once, when several local values matched.
fn in_order(hits: &mut Vec<usize>, values: usize) {
    if values > 1 {
        crate::sort::sort(hits);
        hits.dedup();
    }
}

/// `row` with `joined` at `as_path`. A borrowed row is copied with room for the new field,
/// so adding it does not grow the copy again.
fn with_joined(row: Row<'_>, as_path: &[String], joined: Vec<Value>) -> Document {
    let mut d = match row {
        Cow::Owned(d) => d,
        Cow::Borrowed(b) => {
            let mut d = Document::with_capacity_and_hasher(b.len() + 1, Default::default());
            d.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            d
        }
    };
    set_path(&mut d, as_path, Value::Array(joined));
    d
}

impl Lookup {
    fn run_by_id<'a>(
        &self,
        rows: Rows<'a>,
        ctx: &Ctx<'a>,
        mut probe: IdProbe<'a>,
        local: &[String],
    ) -> Result<Rows<'a>, AggError> {
        let mut out = Vec::with_capacity(rows.len());
        let mut hits = Vec::new();
        for r in rows {
            hits.clear();
            let mut values = 0;
            local_values(&r, local, &mut |v| {
                values += 1;
                probe.find(v, &mut hits);
            });
            in_order(&mut hits, values);
            ctx.count(hits.len());
            let mut joined = Vec::with_capacity(hits.len());
            for &i in &hits {
                if let Some(d) = probe.coll.docs.get(i) {
                    joined.push(Value::Document(d.clone()));
                }
            }
            out.push(Cow::Owned(with_joined(r, &self.as_path, joined)));
        }
        Ok(out)
    }
}

impl StageOp for Lookup {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Result<Rows<'a>, AggError> {
        if self.pipeline.is_none() {
            if let (Some((coll, ix)), Some(local)) = (
                id_index(ctx, &self.from, self.foreign.as_ref()),
                &self.local,
            ) {
                return self.run_by_id(rows, ctx, IdProbe::new(coll, ix), local);
            }
        }
        let foreign = foreign_docs(ctx, &self.from);
        let index = match &self.foreign {
            Some(f) => {
                ctx.count(foreign.len());
                Some(index_foreign(foreign, f, true))
            }
            None => None,
        };
        let mut out = Vec::with_capacity(rows.len());
        let mut buf = Vec::new();
        let mut hits = Vec::new();
        for r in rows {
            hits.clear();
            let candidates: Vec<&'a Document> = match (&index, &self.local) {
                (Some(idx), Some(local)) => {
                    let mut values = 0;
                    local_values(&r, local, &mut |v| {
                        values += 1;
                        buf.clear();
                        encode_key(v, &mut buf);
                        idx.hits(&buf, &mut hits);
                    });
                    // One key gives each document at most once, newest first.
                    hits.reverse();
                    in_order(&mut hits, values);
                    hits.iter().filter_map(|&i| foreign.get(i)).collect()
                }
                _ => foreign.iter().collect(),
            };
            let joined: Vec<Value> = match &self.pipeline {
                None => candidates
                    .into_iter()
                    .map(|d| Value::Document(d.clone()))
                    .collect(),
                Some(p) => {
                    let mut vars = ctx.vars.clone();
                    {
                        let mut e = env(&r, ctx);
                        for (name, x) in &self.lets {
                            vars.push((name.clone(), x.eval(&mut e)?));
                        }
                    }
                    let sub = ctx.nested(vars)?;
                    ctx.count(candidates.len());
                    let input: Rows<'a> = candidates.into_iter().map(Cow::Borrowed).collect();
                    p.run(input, &sub)?
                        .into_iter()
                        .map(|d| Value::Document(d.into_owned()))
                        .collect()
                }
            };
            out.push(Cow::Owned(with_joined(r, &self.as_path, joined)));
        }
        Ok(out)
    }
}
