//! A full-text search index's postings: per indexed field, each term's documents with the
//! positions it has there, each document's length, and Lucene's BM25 over them.
//!
//! Postings are keyed by record id, which a document keeps for life, so that a write changes
//! only the entries of the document it wrote: the collection logs the record ids its writes
//! touch (`ChangeLog`) while it has a search index, and before a query the kept postings take
//! out what they held of each of those documents and add what the document holds now
//! (`Cache::take`). A log that no longer reaches back to the postings' state (more writes
//! than documents since, or a collection copied) builds the fields again at their next query.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::fulltext::{grams_of, values_at, Analyzer, Tokenization};
use crate::mongo::index::RecordId;
use crate::mongo::store::Collection;
use crate::mongo::value::{Document, Value};

/// The record ids a collection's latest writes touched, oldest first. It keeps at most about
/// as many as the collection has documents: replaying more costs more than building again.
#[derive(Debug, Default)]
pub struct ChangeLog {
    /// The collection's write count before the first write logged.
    first: u64,
    rids: Vec<RecordId>,
}

/// Fewer documents than this still keep a log this long.
const LOG_MIN: usize = 1024;

impl ChangeLog {
    /// Notes the write that brought the collection's write count to `writes`, on record
    /// `rid`. `on` says whether anything follows the log (a search index exists); `docs` is
    /// the collection's size.
    pub fn note(&mut self, writes: u64, rid: RecordId, on: bool, docs: usize) {
        let expected = self.first.saturating_add(self.rids.len() as u64 + 1);
        if !on || expected != writes {
            self.rids.clear();
            self.first = if on { writes.saturating_sub(1) } else { writes };
            if !on {
                return;
            }
        }
        self.rids.push(rid);
        let cap = docs.max(LOG_MIN);
        if self.rids.len() > cap {
            let dropped = self.rids.len() - cap / 2;
            self.rids.drain(..dropped);
            self.first += dropped as u64;
        }
    }

    /// The record ids written since the collection's write count was `writes`; None when
    /// the log does not reach back that far.
    pub fn since(&self, writes: u64) -> Option<&[RecordId]> {
        let skip = usize::try_from(writes.checked_sub(self.first)?).ok()?;
        self.rids.get(skip..)
    }
}

/// What a field index holds the tokens of.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    /// A string field (or one of its `multi` analyzers) as `analyzer` tokenizes it.
    Text { path: String, analyzer: Analyzer },
    /// An `autocomplete` field: the grams of its tokens.
    Autocomplete {
        path: String,
        analyzer: Analyzer,
        min: usize,
        max: usize,
        tokenization: Tokenization,
    },
}

impl Source {
    /// The tokens of each value of the document at the path (by the value's index among
    /// all the values there, so that phrases do not run across array elements).
    fn tokens(&self, doc: &Document) -> Vec<(usize, Vec<String>)> {
        let (path, analyzer) = match self {
            Source::Text { path, analyzer } | Source::Autocomplete { path, analyzer, .. } => {
                (path, *analyzer)
            }
        };
        values_at(doc, path)
            .into_iter()
            .enumerate()
            .filter_map(|(vi, v)| match v {
                Value::String(s) => Some((vi, s)),
                _ => None,
            })
            .map(|(vi, s)| {
                let tokens = analyzer.tokens(s);
                let terms = match self {
                    Source::Text { .. } => tokens,
                    Source::Autocomplete {
                        min,
                        max,
                        tokenization,
                        ..
                    } => tokens
                        .iter()
                        .flat_map(|t| grams_of(t, *min, *max, *tokenization))
                        .collect(),
                };
                (vi, terms)
            })
            .collect()
    }
}

/// One indexed field over the collection.
#[derive(Debug, PartialEq)]
pub(super) struct FieldIndex {
    source: Source,
    /// Documents with at least one token: their length.
    lengths: HashMap<RecordId, u32>,
    /// term → document → positions (value index, token index).
    pub(super) postings: HashMap<String, BTreeMap<RecordId, Vec<(usize, usize)>>>,
    /// Each document's distinct terms, to take its postings out again.
    terms_of: HashMap<RecordId, Vec<String>>,
    total_terms: u64,
}

impl FieldIndex {
    /// The field over every document of the collection (`docs` with their record ids).
    pub(super) fn build(source: Source, docs: &[Document], rids: &[RecordId]) -> FieldIndex {
        let mut ix = FieldIndex {
            source,
            lengths: HashMap::new(),
            postings: HashMap::new(),
            terms_of: HashMap::new(),
            total_terms: 0,
        };
        for (doc, &rid) in docs.iter().zip(rids) {
            ix.add(rid, doc);
        }
        ix
    }

    fn add(&mut self, rid: RecordId, doc: &Document) {
        let mut terms_here: Vec<String> = Vec::new();
        let mut length = 0u32;
        for (value, terms) in self.source.tokens(doc) {
            length = length.saturating_add(terms.len() as u32);
            for (pos, t) in terms.into_iter().enumerate() {
                // Most terms are already indexed: look up before copying one as a key.
                if !self.postings.contains_key(&t) {
                    self.postings.insert(t.clone(), BTreeMap::new());
                }
                if let Some(docs) = self.postings.get_mut(&t) {
                    docs.entry(rid).or_default().push((value, pos));
                }
                terms_here.push(t);
            }
        }
        if length == 0 {
            return;
        }
        self.lengths.insert(rid, length);
        self.total_terms += u64::from(length);
        terms_here.sort_unstable();
        terms_here.dedup();
        self.terms_of.insert(rid, terms_here);
    }

    fn remove(&mut self, rid: RecordId) {
        let Some(length) = self.lengths.remove(&rid) else {
            return;
        };
        self.total_terms = self.total_terms.saturating_sub(u64::from(length));
        for t in self.terms_of.remove(&rid).unwrap_or_default() {
            if let Some(docs) = self.postings.get_mut(&t) {
                docs.remove(&rid);
                if docs.is_empty() {
                    self.postings.remove(&t);
                }
            }
        }
    }

    /// Redoes the entries of the documents `changed` names, as the collection has them now.
    fn follow(&mut self, coll: &Collection, changed: &HashSet<RecordId>) {
        for &rid in changed {
            self.remove(rid);
            if let Some(doc) = coll.position_of(rid).and_then(|pos| coll.docs.get(pos)) {
                self.add(rid, doc);
            }
        }
    }
}

// ---- BM25

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Lucene's `SmallFloat.longToInt4`: 4 significant bits and an exponent.
fn long_to_int4(i: u64) -> u32 {
    let bits = 64 - i.leading_zeros();
    if bits < 4 {
        return i as u32;
    }
    let shift = bits - 4;
    (((i >> shift) as u32) & 0x07) | ((shift + 1) << 3)
}

fn int4_to_long(i: u32) -> u64 {
    let bits = u64::from(i & 0x07);
    match (i >> 3).checked_sub(1) {
        None => bits,
        Some(shift) => (bits | 0x08) << shift,
    }
}

/// Field lengths as Lucene's norms keep them (`SmallFloat.intToByte4` then back): exact
/// below 24 tokens, 4 significant bits above.
fn norm_length(len: u32) -> f32 {
    let free = 255 - long_to_int4(i32::MAX as u64);
    let byte = if len < free {
        len
    } else {
        free + long_to_int4(u64::from(len - free))
    };
    let back = if byte < free {
        u64::from(byte)
    } else {
        u64::from(free) + int4_to_long(byte - free)
    };
    back as f32
}

impl FieldIndex {
    pub(super) fn idf(&self, df: usize) -> f32 {
        let n = self.lengths.len() as f64;
        (1.0 + (n - df as f64 + 0.5) / (df as f64 + 0.5)).ln() as f32
    }

    /// BM25 of `freq` occurrences in `doc` with weight `boost * idf`.
    pub(super) fn bm25(&self, weight: f32, freq: f32, doc: RecordId) -> f32 {
        let n = self.lengths.len().max(1) as f64;
        let avgdl = (self.total_terms as f64 / n) as f32;
        let dl = norm_length(self.lengths.get(&doc).copied().unwrap_or(0));
        let norm_inverse = 1.0 / (K1 * ((1.0 - B) + B * dl / avgdl));
        weight - weight / (1.0 + freq * norm_inverse)
    }

    /// Scores of one term over the documents that have it.
    pub(super) fn term_scores(&self, term: &str, boost: f32) -> HashMap<RecordId, f32> {
        let Some(docs) = self.postings.get(term) else {
            return HashMap::new();
        };
        let weight = boost * self.idf(docs.len());
        docs.iter()
            .map(|(&d, positions)| (d, self.bm25(weight, positions.len() as f32, d)))
            .collect()
    }
}

/// The field indexes a search index's queries built, by field key (path and analyzer
/// choice), with the collection's write count and the definition's version they are for.
#[derive(Default)]
pub struct Cache(std::sync::Mutex<Option<Kept>>);

struct Kept {
    writes: u64,
    version: i32,
    fields: HashMap<String, FieldIndex>,
}

impl Cache {
    /// The kept field indexes, brought up to the collection as it is now by the writes it
    /// logged since; none when they cannot be (another definition, or the log is too short).
    pub(super) fn take(&self, coll: &Collection, version: i32) -> HashMap<String, FieldIndex> {
        let kept = match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some(mut kept) = kept.filter(|k| k.version == version) else {
            return HashMap::new();
        };
        if kept.writes == coll.writes() {
            return kept.fields;
        }
        let Some(changed) = coll.changed_since(kept.writes) else {
            return HashMap::new();
        };
        let changed: HashSet<RecordId> = changed.iter().copied().collect();
        for field in kept.fields.values_mut() {
            field.follow(coll, &changed);
        }
        kept.fields
    }

    pub(super) fn keep(
        &self,
        coll: &Collection,
        version: i32,
        fields: HashMap<String, FieldIndex>,
    ) {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Some(Kept {
            writes: coll.writes(),
            version,
            fields,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::search::{Caches, Kind, SearchIndex};

    /// xorshift64*: a seeded generator, so every run makes the same writes.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
        }
    }

    const WORDS: &[&str] = &[
        "apple", "pear", "pie", "tart", "crust", "sweet", "The", "running",
    ];

    /// A document with `_id` `id` and a title, a list of tags and sometimes no title (or a
    /// number there), from the generator.
    fn random_doc(rng: &mut Rng, id: i32) -> Document {
        let words = |rng: &mut Rng, n: usize| -> String {
            (0..n)
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut d = Document::default();
        d.insert("_id".into(), Value::Int32(id));
        match rng.below(6) {
            0 => {}
            1 => {
                d.insert("t".into(), Value::Int32(id));
            }
            _ => {
                let n = rng.below(8);
                d.insert("t".into(), Value::String(words(rng, n)));
            }
        }
        let tags = (0..rng.below(3))
            .map(|_| {
                let n = 1 + rng.below(3);
                Value::String(words(rng, n))
            })
            .collect();
        d.insert("tags".into(), Value::Array(tags));
        d
    }

    fn sources() -> Vec<Source> {
        vec![
            Source::Text {
                path: "t".into(),
                analyzer: Analyzer::Standard,
            },
            Source::Text {
                path: "tags".into(),
                analyzer: Analyzer::English,
            },
            Source::Autocomplete {
                path: "t".into(),
                analyzer: Analyzer::Standard,
                min: 2,
                max: 5,
                tokenization: Tokenization::NGram,
            },
        ]
    }

    fn fresh(coll: &Collection) -> HashMap<String, FieldIndex> {
        sources()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    i.to_string(),
                    FieldIndex::build(s, &coll.docs, coll.record_ids()),
                )
            })
            .collect()
    }

    /// An empty collection with a search index, so that it logs its writes.
    fn with_search_index() -> Collection {
        let mut coll = Collection::default();
        coll.search_indexes.push(SearchIndex {
            id: String::new(),
            name: "default".into(),
            kind: Kind::Search,
            definition: Document::default(),
            version: 0,
            created_at_ms: 0,
            cache: Caches::default(),
        });
        coll
    }

    #[test]
    fn postings_that_follow_writes_equal_postings_built_afresh() {
        let mut rng = Rng(0x5eed);
        let mut coll = with_search_index();
        let cache = Cache::default();
        let mut next_id = 0;
        for _ in 0..40 {
            coll.insert(random_doc(&mut rng, next_id)).unwrap();
            next_id += 1;
        }
        cache.keep(&coll, 0, fresh(&coll));
        for round in 0..300 {
            // A few writes between queries: inserts, replacements and removals anywhere.
            for _ in 0..1 + rng.below(4) {
                match rng.below(3) {
                    0 => {
                        coll.insert(random_doc(&mut rng, next_id)).unwrap();
                        next_id += 1;
                    }
                    1 if !coll.docs.is_empty() => {
                        let pos = rng.below(coll.docs.len());
                        let id = match coll.docs[pos].get("_id") {
                            Some(Value::Int32(id)) => *id,
                            _ => unreachable!(),
                        };
                        coll.replace(pos, random_doc(&mut rng, id)).unwrap();
                    }
                    _ if !coll.docs.is_empty() => {
                        let pos = rng.below(coll.docs.len());
                        coll.remove(pos);
                    }
                    _ => {}
                }
            }
            let followed = cache.take(&coll, 0);
            assert_eq!(followed.len(), 3, "round {round}: the log reached back");
            assert_eq!(followed, fresh(&coll), "round {round}");
            cache.keep(&coll, 0, followed);
        }
        // Another version of the definition starts again.
        assert!(cache.take(&coll, 1).is_empty());
    }

    #[test]
    fn postings_are_built_again_when_the_log_no_longer_reaches_back() {
        let mut rng = Rng(7);
        let mut coll = with_search_index();
        coll.insert(random_doc(&mut rng, 0)).unwrap();
        let cache = Cache::default();
        cache.keep(&coll, 0, fresh(&coll));
        for _ in 0..2 * LOG_MIN + 1 {
            let doc = random_doc(&mut rng, 0);
            coll.replace(0, doc).unwrap();
        }
        assert!(cache.take(&coll, 0).is_empty());
        // A copy of the collection (a transaction's snapshot) logs from its own start.
        let copy = coll.snapshot(false);
        cache.keep(&copy, 0, fresh(&copy));
        assert_eq!(cache.take(&copy, 0), fresh(&copy));
    }

    #[test]
    fn norms_round_lengths_as_lucene_does() {
        let cases = [
            (1, 1.0),
            (23, 23.0),
            (24, 24.0),
            (25, 25.0),
            (40, 40.0),
            (100, 96.0),
        ];
        for (len, want) in cases {
            assert_eq!(norm_length(len), want, "{len}");
        }
    }

    #[test]
    fn the_log_gives_the_writes_since_a_count_while_it_reaches_back() {
        let mut log = ChangeLog::default();
        // Off: nothing kept.
        log.note(1, 10, false, 5);
        assert_eq!(log.since(1), Some(&[][..]));
        assert_eq!(log.since(0), None);
        log.note(2, 11, true, 5);
        log.note(3, 12, true, 5);
        assert_eq!(log.since(1), Some(&[11, 12][..]));
        assert_eq!(log.since(2), Some(&[12][..]));
        assert_eq!(log.since(3), Some(&[][..]));
        assert_eq!(log.since(4), None);
        assert_eq!(log.since(0), None);
        // A write it did not see (a gap in the counts) starts it again.
        log.note(7, 13, true, 5);
        assert_eq!(log.since(6), Some(&[13][..]));
        assert_eq!(log.since(3), None);
        // It keeps no more than about the collection's size (at least LOG_MIN).
        for w in 8..8 + 3 * LOG_MIN as u64 {
            log.note(w, w, true, 5);
        }
        let last = 7 + 3 * LOG_MIN as u64;
        assert!(log.since(last - LOG_MIN as u64 / 2).is_some());
        assert_eq!(log.since(6), None);
        assert!(log.rids.len() <= LOG_MIN);
    }
}
