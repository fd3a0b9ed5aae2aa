//! Nearest-neighbour indexes over dense FLOAT32 vectors, independent of either engine: a
//! label is whatever the caller names a document by (a Redis key, a Mongo `_id`'s bytes).
//!
//! - [`Metric`]: the three distances RediSearch reports (squared L2, `1 - dot`, `1 - cosine`).
//! - [`Flat`]: exact search over a contiguous block of vectors.
//! - [`hnsw::Hnsw`]: a hierarchical navigable small-world graph (Malkov & Yashunin), the
//!   approximate index behind `VECTOR HNSW`.

pub mod hnsw;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// A distance between two vectors, as RediSearch's vector library reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Squared Euclidean distance.
    L2,
    /// `1 - a·b`.
    Ip,
    /// `1 - a·b` of the vectors scaled to unit length.
    Cosine,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "L2",
            Metric::Ip => "IP",
            Metric::Cosine => "COSINE",
        }
    }

    /// The vector as the index stores it: COSINE keeps unit vectors, so that its distance is
    /// the inner product's (the vector library normalises at insertion and at query time).
    pub fn prepare(self, vector: &[f32]) -> Vec<f32> {
        let mut v = vector.to_vec();
        if self == Metric::Cosine {
            let sum: f64 = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum();
            let norm = sum.sqrt() as f32;
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        v
    }

    /// The distance between two prepared vectors, in single precision as RediSearch computes it.
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::L2 => squared_l2(a, b),
            Metric::Ip | Metric::Cosine => 1.0 - dot(a, b),
        }
    }
}

/// Four running sums, so the loop pipelines (and vectorises where the target can).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut s = [0.0f32; 4];
    for (x, y) in ca.zip(cb) {
        if let ([x0, x1, x2, x3], [y0, y1, y2, y3]) = (x, y) {
            s[0] += x0 * y0;
            s[1] += x1 * y1;
            s[2] += x2 * y2;
            s[3] += x3 * y3;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut s = [0.0f32; 4];
    for (x, y) in ca.zip(cb) {
        if let ([x0, x1, x2, x3], [y0, y1, y2, y3]) = (x, y) {
            let d = [x0 - y0, x1 - y1, x2 - y2, x3 - y3];
            s[0] += d[0] * d[0];
            s[1] += d[1] * d[1];
            s[2] += d[2] * d[2];
            s[3] += d[3] * d[3];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// A vector whose length is not the index's dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongDimension {
    pub expected: usize,
    pub got: usize,
}

/// A distance ordered totally (NaN from NaN input sorts last instead of panicking a sort).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored(pub f32, pub u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Every NaN as the positive one, after infinity (an x86 NaN is negative).
        let key = |d: f32| if d.is_nan() { f32::NAN } else { d };
        key(self.0)
            .total_cmp(&key(other.0))
            .then(self.1.cmp(&other.1))
    }
}

/// Exact nearest neighbours: every vector is compared with the query.
#[derive(Debug, Clone)]
pub struct Flat<L> {
    dim: usize,
    metric: Metric,
    vectors: Vec<f32>,
    labels: Vec<L>,
    slots: HashMap<L, u32>,
}

impl<L: Clone + Eq + Hash> Flat<L> {
    pub fn new(dim: usize, metric: Metric) -> Self {
        Flat {
            dim,
            metric,
            vectors: Vec::new(),
            labels: Vec::new(),
            slots: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, label: &Q) -> bool
    where
        L: Borrow<Q>,
    {
        self.slots.contains_key(label)
    }

    /// Adds `label`'s vector, replacing the one it had.
    pub fn insert(&mut self, label: L, vector: &[f32]) -> Result<(), WrongDimension> {
        check(self.dim, vector)?;
        let v = self.metric.prepare(vector);
        if let Some(&slot) = self.slots.get(&label) {
            let at = slot as usize * self.dim;
            if let Some(place) = self.vectors.get_mut(at..at + self.dim) {
                place.copy_from_slice(&v);
            }
            return Ok(());
        }
        self.slots.insert(label.clone(), self.labels.len() as u32);
        self.labels.push(label);
        self.vectors.extend_from_slice(&v);
        Ok(())
    }

    /// Drops `label`'s vector (the last one moves into its place); false if it had none.
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, label: &Q) -> bool
    where
        L: Borrow<Q>,
    {
        let Some(slot) = self.slots.remove(label) else {
            return false;
        };
        let (slot, last) = (slot as usize, self.labels.len() - 1);
        if slot != last {
            self.vectors
                .copy_within(last * self.dim..(last + 1) * self.dim, slot * self.dim);
            self.labels.swap(slot, last);
            if let Some(moved) = self.labels.get(slot) {
                self.slots.insert(moved.clone(), slot as u32);
            }
        }
        self.labels.pop();
        self.vectors.truncate(last * self.dim);
        true
    }

    /// The `k` labels nearest to `query` that `accept` keeps, nearest first (ties in
    /// insertion order).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        accept: impl Fn(&L) -> bool,
    ) -> Result<Vec<(L, f32)>, WrongDimension> {
        check(self.dim, query)?;
        let q = self.metric.prepare(query);
        let mut best = std::collections::BinaryHeap::new();
        if k == 0 || self.dim == 0 {
            return Ok(Vec::new());
        }
        for (slot, (v, label)) in self
            .vectors
            .chunks_exact(self.dim)
            .zip(&self.labels)
            .enumerate()
        {
            let d = self.metric.distance(&q, v);
            let entry = Scored(d, slot as u32);
            if best.len() < k {
                if accept(label) {
                    best.push(entry);
                }
            } else if best.peek().is_some_and(|worst| entry < *worst) && accept(label) {
                best.pop();
                best.push(entry);
            }
        }
        Ok(best
            .into_sorted_vec()
            .into_iter()
            .filter_map(|Scored(d, slot)| Some((self.labels.get(slot as usize)?.clone(), d)))
            .collect())
    }
}

fn check(dim: usize, vector: &[f32]) -> Result<(), WrongDimension> {
    if vector.len() == dim {
        Ok(())
    } else {
        Err(WrongDimension {
            expected: dim,
            got: vector.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_redisearchs() {
        let cases: [(Metric, [f32; 2], [f32; 2], f32); 6] = [
            (Metric::L2, [1.0, 0.0], [0.0, 1.0], 2.0),
            (Metric::L2, [1.0, 0.0], [2.0, 2.0], 5.0),
            (Metric::Ip, [1.0, 0.0], [0.0, 1.0], 1.0),
            (Metric::Ip, [1.0, 0.0], [2.0, 2.0], -1.0),
            (Metric::Cosine, [1.0, 0.0], [1.0, 0.0], 0.0),
            (Metric::Cosine, [1.0, 0.0], [3.0, 0.0], 0.0),
        ];
        for (metric, a, b, expected) in cases {
            let d = metric.distance(&metric.prepare(&a), &metric.prepare(&b));
            assert_eq!(d, expected, "{metric:?} {a:?} {b:?}");
        }
        // A zero vector has no direction: it stays zero, at distance 1 from everything.
        let zero = Metric::Cosine.prepare(&[0.0, 0.0]);
        assert_eq!(Metric::Cosine.distance(&zero, &[1.0, 0.0]), 1.0);
    }

    #[test]
    fn unrolled_sums_cover_every_component() {
        let a: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let b = vec![1.0f32; 11];
        assert_eq!(dot(&a, &b), 55.0);
        assert_eq!(
            squared_l2(&a, &b),
            (0..11).map(|i| ((i - 1) * (i - 1)) as f32).sum::<f32>()
        );
    }

    #[test]
    fn flat_finds_the_nearest_and_follows_removals() {
        let mut flat = Flat::new(2, Metric::L2);
        for (label, v) in [
            ("a", [0.0, 0.0]),
            ("b", [1.0, 0.0]),
            ("c", [5.0, 5.0]),
            ("d", [1.0, 0.0]),
        ] {
            flat.insert(label, &v).unwrap();
        }
        fn labels(hits: Vec<(&'static str, f32)>) -> Vec<&'static str> {
            hits.into_iter().map(|(l, _)| l).collect()
        }
        assert_eq!(
            labels(flat.search(&[0.9, 0.0], 3, |_| true).unwrap()),
            ["b", "d", "a"]
        );
        assert!(flat.remove(&"b"));
        assert!(!flat.remove(&"b"));
        flat.insert("a", &[9.0, 9.0]).unwrap();
        assert_eq!(
            labels(flat.search(&[0.9, 0.0], 2, |_| true).unwrap()),
            ["d", "c"]
        );
        assert_eq!(
            labels(flat.search(&[0.9, 0.0], 2, |l| *l != "d").unwrap()),
            ["c", "a"]
        );
        assert_eq!(flat.len(), 3);
        assert_eq!(
            flat.insert("e", &[1.0]),
            Err(WrongDimension {
                expected: 2,
                got: 1
            })
        );
        assert!(flat.search(&[1.0, 2.0, 3.0], 1, |_| true).is_err());
    }
}
