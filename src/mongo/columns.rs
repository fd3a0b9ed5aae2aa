//! Columns of a large collection's top-level fields, for scans.
//!
//! A collection scan that tests `city` reads, in every document, the document's field table,
//! each field's name (an allocation of its own) and the value: a few cache misses per
//! document, which is where a scan's time goes. A column keeps the field's value for every
//! document in one contiguous vector of small cells (numbers, booleans and null as they
//! are, strings as an index into the column's own list of distinct strings), so a scan reads
//! 16 bytes per document instead. Anything else (arrays, embedded documents, dates, object
//! ids, strings past the column's limit) is a cell that sends the reader back to the
//! document, so the answers are those of the documents themselves.
//!
//! Columns are built the first time a scan over a collection of at least `MIN_DOCS`
//! documents reads the field, and kept in step with every insert, replacement and removal
//! (`Collection` calls `appended`, `replaced` and `removed`).

use std::collections::HashMap;

use super::value::{field, field_hinted, Document, FieldHash, Value};

/// Collections smaller than this are scanned without columns: a scan of them is fast as it
/// is, and a column would only cost memory.
pub const MIN_DOCS: usize = 1024;

/// Documents a column scan selects at a time: its lists stay small, and a find with a
/// limit reads little past the document that completes it.
pub const CHUNK: usize = 4096;

/// The most columns a collection keeps; past it they are all dropped and built again as
/// scans need them.
const MAX_COLUMNS: usize = 16;

/// One document's value of the field.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Missing,
    Null,
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Double(f64),
    /// An index into the column's distinct strings.
    Str(u32),
    /// An array of strings: `len` indexes into the column's distinct strings, from `at` in
    /// its list of them (read by `$unwind`; other readers read the document).
    Strs {
        at: u32,
        len: u32,
    },
    /// Read the document itself.
    Other,
}

/// What a column knows of one document's field.
pub enum Found<'c> {
    Value(&'c Value),
    Missing,
    /// The column does not hold this value: read the document.
    Unknown,
}

/// `Column::string_ids`' entry for a row whose value is not one of the column's strings.
const NOT_A_STRING: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct Column {
    cells: Vec<Cell>,
    /// Each row's string index as in its cell, else `NOT_A_STRING`: a scan testing a field
    /// of strings reads 4 bytes a row here instead of a 16-byte cell, which is what bounds
    /// it (100k rows of cells do not stay in cache).
    string_ids: Vec<u32>,
    /// The distinct strings, each once, as values a test can be handed.
    strings: Vec<Value>,
    ids: HashMap<String, u32, FieldHash>,
    /// The elements of the arrays of strings (`Cell::Strs`), as indexes into `strings`.
    items: Vec<u32>,
}

impl Column {
    fn string_id_of(cell: Cell) -> u32 {
        match cell {
            Cell::Str(id) => id,
            _ => NOT_A_STRING,
        }
    }

    fn push(&mut self, cell: Cell) {
        self.cells.push(cell);
        self.string_ids.push(Column::string_id_of(cell));
    }

    fn set(&mut self, row: usize, cell: Cell) {
        match (self.cells.get_mut(row), self.string_ids.get_mut(row)) {
            (Some(slot), Some(id)) => {
                *slot = cell;
                *id = Column::string_id_of(cell);
            }
            _ => self.clear(),
        }
    }

    fn remove(&mut self, row: usize) {
        if row < self.cells.len() && row < self.string_ids.len() {
            self.cells.remove(row);
            self.string_ids.remove(row);
        } else {
            self.clear();
        }
    }

    /// Emptied: out of step with the documents, so rebuilt when next read.
    fn clear(&mut self) {
        self.cells.clear();
        self.string_ids.clear();
    }

    /// The cell for a value; `rows` bounds how many distinct strings are kept (a field of
    /// names or e-mail addresses, all different, stays in the documents).
    fn cell_of(&mut self, v: Option<&Value>, rows: usize) -> Cell {
        match v {
            None => Cell::Missing,
            Some(Value::Null) => Cell::Null,
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Int32(i)) => Cell::Int32(*i),
            Some(Value::Int64(i)) => Cell::Int64(*i),
            Some(Value::Double(x)) => Cell::Double(*x),
            Some(Value::String(s)) => match self.intern(s, rows) {
                Some(id) => Cell::Str(id),
                None => Cell::Other,
            },
            Some(Value::Array(items)) => {
                let at = self.items.len();
                for item in items {
                    let id = match item {
                        Value::String(s) => self.intern(s, rows),
                        _ => None,
                    };
                    match id {
                        Some(id) => self.items.push(id),
                        None => {
                            self.items.truncate(at);
                            return Cell::Other;
                        }
                    }
                }
                match (u32::try_from(at), u32::try_from(items.len())) {
                    (Ok(at), Ok(len)) => Cell::Strs { at, len },
                    _ => Cell::Other,
                }
            }
            Some(_) => Cell::Other,
        }
    }

    /// The index of `s` among the column's distinct strings, added if new and there is room.
    fn intern(&mut self, s: &str, rows: usize) -> Option<u32> {
        if let Some(&id) = self.ids.get(s) {
            return Some(id);
        }
        let id = u32::try_from(self.strings.len()).ok()?;
        if self.strings.len() >= 64 + rows / 8 {
            return None;
        }
        self.ids.insert(s.to_string(), id);
        self.strings.push(Value::String(s.to_string()));
        Some(id)
    }

    /// Document `row`'s array of strings, as indexes among the column's distinct strings,
    /// when the column holds it.
    #[inline]
    pub fn string_list(&self, row: usize) -> Option<&[u32]> {
        match self.cells.get(row) {
            Some(Cell::Strs { at, len }) => {
                let at = *at as usize;
                self.items.get(at..at.checked_add(*len as usize)?)
            }
            _ => None,
        }
    }

    /// Distinct string `id`, as a value.
    pub fn string(&self, id: usize) -> Option<&Value> {
        self.strings.get(id)
    }

    /// How many distinct strings the column holds (the bound of `string_id`).
    pub fn distinct_strings(&self) -> usize {
        self.strings.len()
    }

    /// The index of document `row`'s string among the column's distinct strings, when the
    /// column holds it.
    #[inline]
    pub fn string_id(&self, row: usize) -> Option<usize> {
        match self.string_ids.get(row) {
            Some(&id) if id != NOT_A_STRING => Some(id as usize),
            _ => None,
        }
    }

    /// The value of document `row`, with `tmp` holding it when it is not a string.
    #[inline]
    pub fn get<'c>(&'c self, row: usize, tmp: &'c mut Value) -> Found<'c> {
        let v = match self.cells.get(row) {
            Some(Cell::Missing) => return Found::Missing,
            Some(Cell::Str(id)) => {
                return match self.strings.get(*id as usize) {
                    Some(s) => Found::Value(s),
                    None => Found::Unknown,
                }
            }
            Some(Cell::Null) => Value::Null,
            Some(Cell::Bool(b)) => Value::Bool(*b),
            Some(Cell::Int32(i)) => match tmp {
                // Of the type the previous row had (the usual case): no drop of the old value.
                Value::Int32(slot) => {
                    *slot = *i;
                    return Found::Value(tmp);
                }
                _ => Value::Int32(*i),
            },
            Some(Cell::Double(x)) => match tmp {
                Value::Double(slot) => {
                    *slot = *x;
                    return Found::Value(tmp);
                }
                _ => Value::Double(*x),
            },
            Some(Cell::Int64(i)) => Value::Int64(*i),
            Some(Cell::Other | Cell::Strs { .. }) | None => return Found::Unknown,
        };
        *tmp = v;
        Found::Value(tmp)
    }
}

/// A collection's columns, by field name.
#[derive(Debug, Default)]
pub struct Columns {
    /// The collection's write count the columns are in step with.
    writes: u64,
    by_name: Vec<(String, Column)>,
}

impl Columns {
    /// Builds the columns of `names` that are missing; all are dropped first when the
    /// collection was written without them being kept in step.
    pub fn ensure(&mut self, docs: &[Document], writes: u64, names: &[&str]) {
        if self.writes != writes
            || self
                .by_name
                .iter()
                .any(|(_, c)| c.cells.len() != docs.len() || c.string_ids.len() != docs.len())
        {
            self.by_name.clear();
            self.writes = writes;
        }
        let mut missing: Vec<&str> = Vec::new();
        for name in names {
            if self.get(name).is_none() && !missing.contains(name) {
                missing.push(name);
            }
        }
        if missing.is_empty() {
            return;
        }
        if self.by_name.len() + missing.len() > MAX_COLUMNS {
            self.by_name.clear();
        }
        // One pass over the documents for all the new columns: each document is read once.
        let mut built: Vec<(String, Column)> = missing
            .iter()
            .map(|name| {
                let column = Column {
                    cells: Vec::with_capacity(docs.len()),
                    string_ids: Vec::with_capacity(docs.len()),
                    ..Column::default()
                };
                ((*name).to_string(), column)
            })
            .collect();
        // Where each field was found in the previous document (see `field_hinted`).
        let hints: Vec<std::cell::Cell<usize>> = built.iter().map(|_| Default::default()).collect();
        for d in docs {
            for ((name, c), hint) in built.iter_mut().zip(&hints) {
                let cell = c.cell_of(field_hinted(d, name, hint), docs.len());
                c.push(cell);
            }
        }
        self.by_name.extend(built);
    }

    pub fn get(&self, name: &str) -> Option<&Column> {
        self.by_name.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Whether the columns were in step before the write that made the count `writes`;
    /// they are dropped if not.
    fn step(&mut self, writes: u64) -> bool {
        if self.by_name.is_empty() {
            return false;
        }
        if self.writes.wrapping_add(1) != writes {
            self.by_name.clear();
            return false;
        }
        self.writes = writes;
        true
    }

    /// After a document was appended as the collection's last.
    pub fn appended(&mut self, docs: &[Document], writes: u64) {
        if !self.step(writes) {
            return;
        }
        let Some(doc) = docs.last() else {
            return;
        };
        for (name, c) in &mut self.by_name {
            let cell = c.cell_of(field(doc, name), docs.len());
            c.push(cell);
        }
    }

    /// After the document at `row` was replaced (an update).
    pub fn replaced(&mut self, docs: &[Document], row: usize, writes: u64) {
        if !self.step(writes) {
            return;
        }
        // A replaced array's elements stay in the column's list: once the list holds far
        // more than the documents' arrays, the columns are built again when next read.
        if self
            .by_name
            .iter()
            .any(|(_, c)| c.items.len() > 4 * (c.cells.len() + 1024))
        {
            self.by_name.clear();
            return;
        }
        let Some(doc) = docs.get(row) else {
            self.by_name.clear();
            return;
        };
        for (name, c) in &mut self.by_name {
            let cell = c.cell_of(field(doc, name), docs.len());
            c.set(row, cell);
        }
    }

    /// After the document at `row` was removed.
    pub fn removed(&mut self, row: usize, writes: u64) {
        if !self.step(writes) {
            return;
        }
        for (_, c) in &mut self.by_name {
            c.remove(row);
        }
    }
}

/// A numeric comparison a column scan makes inline (`{age: 42}`, `{age: {$gte: 18}}`),
/// with the operand as a double (only operands a double holds exactly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumCmp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl NumCmp {
    #[inline(always)]
    fn holds(self, x: f64, want: f64) -> bool {
        match self {
            NumCmp::Eq => x == want,
            NumCmp::Gt => x > want,
            NumCmp::Gte => x >= want,
            NumCmp::Lt => x < want,
            NumCmp::Lte => x <= want,
        }
    }
}

/// The largest integer magnitude a double holds exactly.
const EXACT: u64 = 1 << 53;

/// A filter's test of a field's value (None: the field is missing).
pub type FieldTestFn<'c> = Box<dyn Fn(Option<&Value>) -> bool + 'c>;

/// A test of one top-level field (`run_top_level` of a filter's field test), answered from
/// the field's column: once per distinct string, null, boolean and absence, and per number.
pub struct ColumnTest<'c> {
    cells: &'c [Cell],
    string_ids: &'c [u32],
    strings: Vec<bool>,
    null: bool,
    yes: bool,
    no: bool,
    missing: bool,
    num: Option<(NumCmp, f64)>,
    test: FieldTestFn<'c>,
}

impl<'c> ColumnTest<'c> {
    pub fn new(column: &'c Column, test: FieldTestFn<'c>, num: Option<(NumCmp, f64)>) -> Self {
        ColumnTest {
            cells: &column.cells,
            // A column without strings is read from its cells alone.
            string_ids: if column.strings.is_empty() {
                &[]
            } else {
                &column.string_ids
            },
            strings: column.strings.iter().map(|s| test(Some(s))).collect(),
            null: test(Some(&Value::Null)),
            yes: test(Some(&Value::Bool(true))),
            no: test(Some(&Value::Bool(false))),
            missing: test(None),
            num,
            test,
        }
    }

    #[inline]
    fn number(&self, x: f64, v: Value) -> bool {
        match self.num {
            Some((cmp, want)) => cmp.holds(x, want),
            None => (self.test)(Some(&v)),
        }
    }

    /// Whether document `row` passes; None when the column does not hold its value. The
    /// cases a scan meets on nearly every row (a string, by its 4-byte index; an int against
    /// an inline comparison) are answered here, inlined into the scan's loop; the rest out
    /// of line.
    #[inline(always)]
    fn verdict(&self, row: usize) -> Option<bool> {
        if let Some(&pass) = self
            .string_ids
            .get(row)
            .and_then(|&id| self.strings.get(id as usize))
        {
            return Some(pass);
        }
        match self.cells.get(row)? {
            Cell::Int32(i) => match self.num {
                Some((cmp, want)) => Some(cmp.holds(f64::from(*i), want)),
                None => Some((self.test)(Some(&Value::Int32(*i)))),
            },
            cell => self.other_verdict(*cell),
        }
    }

    #[inline(never)]
    fn other_verdict(&self, cell: Cell) -> Option<bool> {
        Some(match cell {
            Cell::Str(id) => *self.strings.get(id as usize)?,
            Cell::Int32(i) => self.number(f64::from(i), Value::Int32(i)),
            Cell::Double(x) if !x.is_nan() => self.number(x, Value::Double(x)),
            Cell::Double(x) => (self.test)(Some(&Value::Double(x))),
            Cell::Int64(i) if i.unsigned_abs() <= EXACT => self.number(i as f64, Value::Int64(i)),
            Cell::Int64(i) => (self.test)(Some(&Value::Int64(i))),
            Cell::Null => self.null,
            Cell::Bool(true) => self.yes,
            Cell::Bool(false) => self.no,
            Cell::Missing => self.missing,
            Cell::Other | Cell::Strs { .. } => return None,
        })
    }
}

/// A filter that is a conjunction of top-level field tests, run over columns a range of
/// documents at a time.
pub struct ColumnFilter<'c> {
    tests: Vec<ColumnTest<'c>>,
    unsure: Vec<usize>,
    /// The first test's passing rows, written whether or not the row passes (the count
    /// only moves on when it does), so the scan's loop neither branches on the verdict nor
    /// calls out to grow a vector.
    passed: Vec<usize>,
}

impl<'c> ColumnFilter<'c> {
    pub fn new(tests: Vec<ColumnTest<'c>>) -> Self {
        ColumnFilter {
            tests,
            unsure: Vec::new(),
            passed: Vec::new(),
        }
    }

    /// The documents of `rows` that pass, in order, into `out`; `check` decides those a
    /// column cannot answer (by reading the document).
    pub fn select(
        &mut self,
        rows: std::ops::Range<usize>,
        out: &mut Vec<usize>,
        mut check: impl FnMut(usize) -> bool,
    ) {
        out.clear();
        self.unsure.clear();
        let unsure = &mut self.unsure;
        let Some((first, rest)) = self.tests.split_first() else {
            out.extend(rows);
            return;
        };
        if self.passed.len() < rows.len() {
            self.passed.resize(rows.len(), 0);
        }
        let mut passed = 0;
        let mut row = rows.start;
        while row < rows.end {
            match first.verdict(row) {
                Some(pass) => {
                    if let Some(slot) = self.passed.get_mut(passed) {
                        *slot = row;
                    }
                    passed += usize::from(pass);
                }
                None => unsure.push(row),
            }
            row += 1;
        }
        out.extend_from_slice(self.passed.get(..passed).unwrap_or_default());
        for t in rest {
            let mut kept = 0;
            let mut i = 0;
            while let Some(&row) = out.get(i) {
                match t.verdict(row) {
                    Some(pass) => {
                        if let Some(slot) = out.get_mut(kept) {
                            *slot = row;
                        }
                        kept += usize::from(pass);
                    }
                    None => unsure.push(row),
                }
                i += 1;
            }
            out.truncate(kept);
        }
        let before = out.len();
        out.extend(unsure.iter().copied().filter(|&row| check(row)));
        if out.len() != before {
            out.sort_unstable();
        }
    }
}
