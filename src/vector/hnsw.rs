//! A hierarchical navigable small-world graph (Malkov & Yashunin, "Efficient and robust
//! approximate nearest neighbor search using HNSW graphs", 2016), laid out as hnswlib and
//! RediSearch's vector library lay it out: each node lives on layers 0..=its level, with up
//! to `2 M` links on layer 0 and `M` above, found by a greedy descent from the top layer's
//! entry point and a best-first search of `ef` candidates on the layers below.
//!
//! Levels come from a seeded generator, so the same inserts build the same graph. A removed
//! label's node stays in the graph as a tombstone (searches pass through it but never
//! return it); once tombstones outnumber the live nodes, the graph is rebuilt from the live
//! ones, so a long-lived index that is rewritten keeps its recall and its memory bounded.

use std::borrow::Borrow;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use super::{check, Metric, Scored, WrongDimension};

/// The parameters FT.CREATE's `VECTOR HNSW` takes, with RediSearch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Links per node on the upper layers (twice as many on layer 0).
    pub m: usize,
    /// Candidates kept while linking a new node.
    pub ef_construction: usize,
    /// Candidates kept by a query that does not name its own.
    pub ef_runtime: usize,
    /// The range queries' relative boundary (kept for FT.INFO and snapshots).
    pub epsilon: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            m: 16,
            ef_construction: 200,
            ef_runtime: 10,
            epsilon: 0.01,
        }
    }
}

/// Levels are capped: beyond this a layer would hold one node in 16^16.
const MAX_LEVEL: usize = 16;
/// The generator's seed; the same for every index, so builds replay exactly.
const SEED: u64 = 0x5eed_4e53_5700_0001;
/// Tombstones tolerated before a rebuild, whatever the live count.
const MIN_TOMBSTONES_FOR_REBUILD: usize = 64;

#[derive(Debug, Clone)]
pub struct Hnsw<L> {
    dim: usize,
    metric: Metric,
    params: Params,
    /// Links per node on layers above 0, and on layer 0.
    m: usize,
    m0: usize,
    level_factor: f64,
    rng: u64,
    /// Node `n`'s prepared vector is `vectors[n * dim..(n + 1) * dim]`.
    vectors: Vec<f32>,
    labels: Vec<L>,
    deleted: Vec<bool>,
    levels: Vec<u8>,
    /// Layer 0: per node a count then `m0` slots.
    links0: Vec<u32>,
    /// Layers 1..=level of the nodes that reach above 0: per layer a count then `m` slots.
    upper: HashMap<u32, Vec<u32>>,
    /// The live node of each label.
    nodes: HashMap<L, u32>,
    entry: Option<u32>,
    top: usize,
    tombstones: usize,
}

impl<L: Clone + Eq + Hash> Hnsw<L> {
    pub fn new(dim: usize, metric: Metric, params: Params) -> Self {
        let m = params.m.clamp(2, 512);
        Hnsw {
            dim,
            metric,
            params,
            m,
            m0: 2 * m,
            level_factor: 1.0 / (m as f64).ln(),
            rng: SEED,
            vectors: Vec::new(),
            labels: Vec::new(),
            deleted: Vec::new(),
            levels: Vec::new(),
            links0: Vec::new(),
            upper: HashMap::new(),
            nodes: HashMap::new(),
            entry: None,
            top: 0,
            tombstones: 0,
        }
    }

    pub fn params(&self) -> Params {
        self.params
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// `label`'s vector as stored (scaled to unit length for COSINE).
    pub fn vector_of<Q: Hash + Eq + ?Sized>(&self, label: &Q) -> Option<&[f32]>
    where
        L: Borrow<Q>,
    {
        self.nodes.get(label).map(|&node| self.vector(node))
    }

    /// Live labels.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, label: &Q) -> bool
    where
        L: Borrow<Q>,
    {
        self.nodes.contains_key(label)
    }

    /// Nodes in the graph, tombstones included.
    pub fn nodes(&self) -> usize {
        self.labels.len()
    }

    /// Adds `label`'s vector; a label already present is removed first (its node becomes a
    /// tombstone), as an overwritten document is re-indexed.
    pub fn insert(&mut self, label: L, vector: &[f32]) -> Result<(), WrongDimension> {
        check(self.dim, vector)?;
        self.remove(&label);
        let v = self.metric.prepare(vector);
        let node = self.labels.len() as u32;
        let level = self.random_level();
        self.vectors.extend_from_slice(&v);
        self.labels.push(label.clone());
        self.deleted.push(false);
        self.levels.push(level as u8);
        self.links0.extend(std::iter::repeat_n(0, self.m0 + 1));
        if level > 0 {
            self.upper.insert(node, vec![0; level * (self.m + 1)]);
        }
        self.nodes.insert(label, node);
        let Some(mut ep) = self.entry else {
            self.entry = Some(node);
            self.top = level;
            return Ok(());
        };
        let mut ep_distance = self.distance_to(&v, ep);
        for layer in (level + 1..=self.top).rev() {
            (ep, ep_distance) = self.greedy(&v, ep, ep_distance, layer);
        }
        for layer in (0..=level.min(self.top)).rev() {
            let found = self.search_layer(
                &v,
                Scored(ep_distance, ep),
                self.params.ef_construction.max(1),
                layer,
                |_| true,
            );
            if let Some(nearest) = found.first() {
                (ep_distance, ep) = (nearest.0, nearest.1);
            }
            let chosen = self.select(found, self.m);
            self.set_links(node, layer, &chosen);
            let cap = if layer == 0 { self.m0 } else { self.m };
            for neighbour in chosen {
                self.link_back(neighbour, node, layer, cap);
            }
        }
        if level > self.top {
            self.entry = Some(node);
            self.top = level;
        }
        Ok(())
    }

    /// Removes `label`; false if it was not there. Its node stays as a tombstone until the
    /// tombstones outnumber the live nodes, when the graph is rebuilt.
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, label: &Q) -> bool
    where
        L: Borrow<Q>,
    {
        let Some(node) = self.nodes.remove(label) else {
            return false;
        };
        if let Some(flag) = self.deleted.get_mut(node as usize) {
            *flag = true;
        }
        self.tombstones += 1;
        if self.nodes.is_empty() {
            *self = Hnsw::new(self.dim, self.metric, self.params);
        } else if self.tombstones >= MIN_TOMBSTONES_FOR_REBUILD
            && self.tombstones > self.nodes.len()
        {
            self.rebuild();
        }
        true
    }

    /// The graph built again from the live nodes, in the order they were added.
    fn rebuild(&mut self) {
        let mut fresh = Hnsw::new(self.dim, self.metric, self.params);
        for (node, label) in self.labels.iter().enumerate() {
            if self.deleted.get(node) == Some(&false) {
                let v = self.vector(node as u32);
                // Already prepared: a unit vector stays one when prepared again.
                let _ = fresh.insert(label.clone(), v);
            }
        }
        *self = fresh;
    }

    /// The `k` live labels nearest to `query` among those `accept` keeps, nearest first,
    /// searching with `ef` candidates (at least `k`).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        accept: impl Fn(&L) -> bool,
    ) -> Result<Vec<(L, f32)>, WrongDimension> {
        check(self.dim, query)?;
        let (Some(mut ep), true) = (self.entry, k > 0) else {
            return Ok(Vec::new());
        };
        let q = self.metric.prepare(query);
        let mut ep_distance = self.distance_to(&q, ep);
        for layer in (1..=self.top).rev() {
            (ep, ep_distance) = self.greedy(&q, ep, ep_distance, layer);
        }
        let found = self.search_layer(&q, Scored(ep_distance, ep), ef.max(k), 0, |node| {
            self.deleted.get(node as usize) == Some(&false)
                && self.labels.get(node as usize).is_some_and(&accept)
        });
        Ok(found
            .into_iter()
            .take(k)
            .filter_map(|Scored(d, node)| Some((self.labels.get(node as usize)?.clone(), d)))
            .collect())
    }

    fn vector(&self, node: u32) -> &[f32] {
        let at = node as usize * self.dim;
        self.vectors.get(at..at + self.dim).unwrap_or(&[])
    }

    fn distance_to(&self, q: &[f32], node: u32) -> f32 {
        self.metric.distance(q, self.vector(node))
    }

    /// xorshift64*, a uniform number in (0, 1].
    fn uniform(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let bits = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        (bits as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// The paper's level distribution: `floor(-ln(u) / ln(M))`.
    fn random_level(&mut self) -> usize {
        let level = -self.uniform().ln() * self.level_factor;
        (level as usize).min(MAX_LEVEL)
    }

    fn links(&self, node: u32, layer: usize) -> &[u32] {
        let block = if layer == 0 {
            let at = node as usize * (self.m0 + 1);
            self.links0.get(at..at + self.m0 + 1)
        } else {
            let at = (layer - 1) * (self.m + 1);
            self.upper
                .get(&node)
                .and_then(|l| l.get(at..at + self.m + 1))
        };
        match block {
            Some([count, slots @ ..]) => slots.get(..*count as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn set_links(&mut self, node: u32, layer: usize, to: &[Scored]) {
        let block = if layer == 0 {
            let at = node as usize * (self.m0 + 1);
            self.links0.get_mut(at..at + self.m0 + 1)
        } else {
            let at = (layer - 1) * (self.m + 1);
            self.upper
                .get_mut(&node)
                .and_then(|l| l.get_mut(at..at + self.m + 1))
        };
        if let Some([count, slots @ ..]) = block {
            let n = to.len().min(slots.len());
            for (slot, s) in slots.iter_mut().zip(to) {
                *slot = s.1;
            }
            *count = n as u32;
        }
    }

    /// Adds `node` to `neighbour`'s links on `layer`; when they are full, keeps the `cap`
    /// the heuristic picks among them and `node`.
    fn link_back(&mut self, neighbour: Scored, node: u32, layer: usize, cap: usize) {
        let from = neighbour.1;
        let current = self.links(from, layer);
        if current.contains(&node) {
            return;
        }
        if current.len() < cap {
            let mut grown: Vec<Scored> = current.iter().map(|&n| Scored(0.0, n)).collect();
            grown.push(Scored(0.0, node));
            self.set_links(from, layer, &grown);
            return;
        }
        let base = self.vector(from).to_vec();
        let mut all: Vec<Scored> = current
            .iter()
            .map(|&n| Scored(self.distance_to(&base, n), n))
            .collect();
        all.push(Scored(neighbour.0, node));
        if all.len() > cap {
            all.sort();
            all = self.select(all, cap);
        }
        self.set_links(from, layer, &all);
    }

    /// Greedy descent on one upper layer: moves to a closer neighbour while there is one.
    fn greedy(&self, q: &[f32], mut at: u32, mut distance: f32, layer: usize) -> (u32, f32) {
        loop {
            let mut moved = false;
            for &n in self.links(at, layer) {
                let d = self.distance_to(q, n);
                if d < distance {
                    (at, distance, moved) = (n, d, true);
                }
            }
            if !moved {
                return (at, distance);
            }
        }
    }

    /// Best-first search of one layer from `start`, keeping the `ef` nearest nodes that
    /// `accept` keeps; returns them nearest first. Rejected nodes are still walked through,
    /// so a filter or tombstones never disconnect the graph.
    fn search_layer(
        &self,
        q: &[f32],
        start: Scored,
        ef: usize,
        layer: usize,
        accept: impl Fn(u32) -> bool,
    ) -> Vec<Scored> {
        let mut visited = vec![0u64; self.labels.len().div_ceil(64)];
        let mut mark = |n: u32| -> bool {
            let (word, bit) = (n as usize / 64, 1u64 << (n % 64));
            match visited.get_mut(word) {
                Some(w) if *w & bit == 0 => {
                    *w |= bit;
                    true
                }
                _ => false,
            }
        };
        mark(start.1);
        let mut candidates = BinaryHeap::new();
        candidates.push(std::cmp::Reverse(start));
        let mut best: BinaryHeap<Scored> = BinaryHeap::new();
        if accept(start.1) {
            best.push(start);
        }
        while let Some(std::cmp::Reverse(current)) = candidates.pop() {
            if best.len() >= ef && best.peek().is_some_and(|worst| current.0 > worst.0) {
                break;
            }
            for &n in self.links(current.1, layer) {
                if !mark(n) {
                    continue;
                }
                let d = self.distance_to(q, n);
                if best.len() < ef || best.peek().is_some_and(|worst| d < worst.0) {
                    candidates.push(std::cmp::Reverse(Scored(d, n)));
                    if accept(n) {
                        best.push(Scored(d, n));
                        if best.len() > ef {
                            best.pop();
                        }
                    }
                }
            }
        }
        best.into_sorted_vec()
    }

    /// The paper's neighbour heuristic (hnswlib's `getNeighborsByHeuristic2`): from
    /// candidates nearest first, keep one only if it is nearer to the new node than to every
    /// neighbour kept so far, which spreads links in all directions.
    fn select(&self, sorted: Vec<Scored>, m: usize) -> Vec<Scored> {
        if sorted.len() <= m {
            return sorted;
        }
        let mut kept: Vec<Scored> = Vec::with_capacity(m);
        for candidate in sorted {
            if kept.len() >= m {
                break;
            }
            let v = self.vector(candidate.1);
            let diverse = kept
                .iter()
                .all(|k| self.metric.distance(v, self.vector(k.1)) >= candidate.0);
            if diverse {
                kept.push(candidate);
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::Flat;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 40) as f32) / (1u64 << 24) as f32 - 0.5
        }

        fn vector(&mut self, dim: usize) -> Vec<f32> {
            (0..dim).map(|_| self.next()).collect()
        }
    }

    /// Mean share of FLAT's `k` nearest that HNSW finds, over `queries` random queries.
    fn recall(
        hnsw: &Hnsw<u32>,
        flat: &Flat<u32>,
        rng: &mut Rng,
        dim: usize,
        queries: usize,
        k: usize,
        ef: usize,
    ) -> f64 {
        let mut found = 0;
        for _ in 0..queries {
            let q = rng.vector(dim);
            let exact: Vec<u32> = flat
                .search(&q, k, |_| true)
                .unwrap()
                .into_iter()
                .map(|h| h.0)
                .collect();
            let approx = hnsw.search(&q, k, ef, |_| true).unwrap();
            assert!(approx.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
            found += approx.iter().filter(|h| exact.contains(&h.0)).count();
        }
        found as f64 / (queries * k) as f64
    }

    fn build(
        n: u32,
        dim: usize,
        metric: Metric,
        params: Params,
        rng: &mut Rng,
    ) -> (Hnsw<u32>, Flat<u32>) {
        let (mut hnsw, mut flat) = (Hnsw::new(dim, metric, params), Flat::new(dim, metric));
        for label in 0..n {
            let v = rng.vector(dim);
            hnsw.insert(label, &v).unwrap();
            flat.insert(label, &v).unwrap();
        }
        (hnsw, flat)
    }

    #[test]
    fn recall_at_10_over_10k_vectors_of_32() {
        let mut rng = Rng(42);
        // A lower EF_CONSTRUCTION than the default keeps the unoptimised test build quick.
        let params = Params {
            ef_construction: 64,
            ..Params::default()
        };
        let (hnsw, flat) = build(10_000, 32, Metric::L2, params, &mut rng);
        let r = recall(&hnsw, &flat, &mut rng, 32, 200, 10, 64);
        assert!(r >= 0.95, "recall {r}");
    }

    #[test]
    fn every_metric_agrees_with_brute_force_and_reports_its_distances() {
        for metric in [Metric::L2, Metric::Ip, Metric::Cosine] {
            let mut rng = Rng(7);
            let (hnsw, flat) = build(2_000, 16, metric, Params::default(), &mut rng);
            let r = recall(&hnsw, &flat, &mut rng, 16, 50, 10, 50);
            assert!(r >= 0.98, "{metric:?}: recall {r}");
            let q = rng.vector(16);
            let exact = flat.search(&q, 5, |_| true).unwrap();
            let approx = hnsw.search(&q, 5, 200, |_| true).unwrap();
            assert_eq!(approx, exact, "{metric:?}");
        }
    }

    #[test]
    #[ignore]
    fn recall_by_ef() {
        let mut rng = Rng(42);
        let (hnsw, flat) = build(10_000, 32, Metric::L2, Params::default(), &mut rng);
        for ef in [10, 20, 50, 100, 200] {
            let r = recall(&hnsw, &flat, &mut rng, 32, 200, 10, ef);
            println!("ef {ef}: recall {r}");
        }
    }

    /// `cargo test --release --lib hnsw_build_100k -- --ignored --nocapture`: build time and
    /// recall over 100k vectors of 128 spread around a 16-dimensional subspace, as embeddings
    /// are. A measurement, never an assertion on time.
    #[test]
    #[ignore]
    fn hnsw_build_100k() {
        let (n, dim, latent) = (100_000, 128, 16);
        let mut rng = Rng(1);
        let basis: Vec<Vec<f32>> = (0..latent).map(|_| rng.vector(dim)).collect();
        let point = |rng: &mut Rng| -> Vec<f32> {
            let z = rng.vector(latent);
            (0..dim)
                .map(|j| {
                    z.iter().zip(&basis).map(|(zi, b)| zi * b[j]).sum::<f32>() + 0.05 * rng.next()
                })
                .collect()
        };
        let (mut hnsw, mut flat) = (
            Hnsw::new(dim, Metric::L2, Params::default()),
            Flat::new(dim, Metric::L2),
        );
        let start = std::time::Instant::now();
        for label in 0..n {
            let v = point(&mut rng);
            hnsw.insert(label, &v).unwrap();
            flat.insert(label, &v).unwrap();
        }
        println!("built {n} x {dim} in {:?}", start.elapsed());
        let queries: Vec<Vec<f32>> = (0..100).map(|_| point(&mut rng)).collect();
        for ef in [10, 20, 50, 100] {
            let (mut found, start) = (0, std::time::Instant::now());
            for q in &queries {
                let exact: Vec<u32> = flat
                    .search(q, 10, |_| true)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.0)
                    .collect();
                found += hnsw
                    .search(q, 10, ef, |_| true)
                    .unwrap()
                    .iter()
                    .filter(|h| exact.contains(&h.0))
                    .count();
            }
            println!(
                "ef {ef}: recall {} ({:?} for 100 queries, FLAT included)",
                found as f64 / 1000.0,
                start.elapsed()
            );
        }
    }

    #[test]
    fn small_graphs_are_exact() {
        let mut rng = Rng(3);
        // With no more nodes than candidates, a search reaches every node.
        let (hnsw, flat) = build(40, 4, Metric::Cosine, Params::default(), &mut rng);
        for _ in 0..20 {
            let q = rng.vector(4);
            assert_eq!(
                hnsw.search(&q, 10, 40, |_| true).unwrap(),
                flat.search(&q, 10, |_| true).unwrap()
            );
        }
    }

    #[test]
    fn removed_and_overwritten_labels_follow_the_data() {
        let mut rng = Rng(11);
        let (mut hnsw, mut flat) = build(
            3_000,
            8,
            Metric::L2,
            Params {
                m: 8,
                ..Params::default()
            },
            &mut rng,
        );
        // Remove two thirds (which rebuilds the graph on the way) and overwrite some of the rest.
        for label in (0..3_000).filter(|l| l % 3 != 0) {
            assert!(hnsw.remove(&label));
            assert!(flat.remove(&label));
        }
        assert!(!hnsw.remove(&1));
        for label in (0..3_000).step_by(9) {
            let v = rng.vector(8);
            hnsw.insert(label, &v).unwrap();
            flat.insert(label, &v).unwrap();
        }
        assert_eq!(hnsw.len(), 1_000);
        assert!(hnsw.nodes() < 3_000, "tombstones were compacted");
        let r = recall(&hnsw, &flat, &mut rng, 8, 100, 10, 20);
        assert!(r >= 0.95, "recall {r}");
        for _ in 0..50 {
            let hits = hnsw.search(&rng.vector(8), 20, 20, |_| true).unwrap();
            assert!(hits.iter().all(|(l, _)| l % 3 == 0 && hnsw.contains(l)));
        }
        for label in (0..3_000).step_by(3) {
            hnsw.remove(&label);
        }
        assert!(hnsw.is_empty());
        assert_eq!(hnsw.search(&rng.vector(8), 5, 10, |_| true).unwrap(), []);
    }

    #[test]
    fn a_filter_returns_only_what_it_accepts() {
        let mut rng = Rng(5);
        let (hnsw, flat) = build(2_000, 8, Metric::Ip, Params::default(), &mut rng);
        let q = rng.vector(8);
        let even = |l: &u32| l.is_multiple_of(2);
        let approx = hnsw.search(&q, 10, 100, even).unwrap();
        assert!(approx.iter().all(|(l, _)| even(l)));
        let exact = flat.search(&q, 10, even).unwrap();
        let shared = approx.iter().filter(|h| exact.contains(h)).count();
        assert!(shared >= 9, "{shared} of 10");
        // A filter that keeps nothing walks the whole graph and finds nothing.
        assert_eq!(hnsw.search(&q, 10, 10, |_| false).unwrap(), []);
    }

    #[test]
    fn the_same_inserts_build_the_same_graph() {
        let run = || {
            let mut rng = Rng(9);
            let (hnsw, _) = build(500, 6, Metric::L2, Params::default(), &mut rng);
            (hnsw.levels.clone(), hnsw.links0.clone())
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn odd_input_gives_errors_not_panics() {
        let mut hnsw: Hnsw<u32> = Hnsw::new(
            3,
            Metric::Cosine,
            Params {
                m: 0,
                ef_construction: 0,
                ef_runtime: 0,
                epsilon: 0.0,
            },
        );
        assert_eq!(
            hnsw.insert(1, &[1.0]),
            Err(WrongDimension {
                expected: 3,
                got: 1
            })
        );
        assert!(hnsw.search(&[1.0, 2.0], 1, 1, |_| true).is_err());
        for (label, v) in [
            [0.0, 0.0, 0.0],
            [f32::NAN, 1.0, 0.0],
            [f32::INFINITY, 0.0, 1.0],
            [1.0, 2.0, 3.0],
        ]
        .iter()
        .enumerate()
        {
            hnsw.insert(label as u32, v).unwrap();
        }
        assert_eq!(hnsw.search(&[1.0, 2.0, 3.0], 0, 0, |_| true).unwrap(), []);
        let hits = hnsw.search(&[1.0, 2.0, 3.0], 10, 0, |_| true).unwrap();
        assert_eq!(hits.len(), 4);
        assert_eq!(hits[0].0, 3);
    }
}
