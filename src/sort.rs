//! Stable sorting that shares one instantiation of the standard library's sort.
//!
//! `slice::sort_by` is generic over the element and the comparator, and each instantiation is
//! several KB of wasm (driftsort, its quicksort, small-sort networks); with one per call site
//! they added up to about 100 KB of the shipped binary. Here the standard sort runs once, over
//! indices with a `dyn` comparator, and only a few lines per element type are generic: the
//! indices are applied to the slice by swapping along the permutation's cycles.
//!
//! The order is exactly `slice::sort_by`'s: stable, so equal elements keep their order. The
//! price is speed: comparing through indices reads the elements out of order, and a sort of
//! 100k elements takes about twice as long, so the paths that sort whole collections (`find`'s
//! sort, `$sort`) keep the standard sort.

use std::cmp::Ordering;

/// `v.sort_by(cmp)`.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = {
        let items: &[T] = v;
        sorted_order(items.len(), &mut |a, b| cmp(&items[a], &items[b]))
    };
    apply_order(order, &mut |a, b| v.swap(a, b));
}

/// `v.sort_by_key(key)`.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// `v.sort()` (also standing in for `sort_unstable`, whose result is the same for elements
/// that compare equal only when they are equal).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The indices `0..n` in the order `cmp` puts their elements, ties in index order.
fn sorted_order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Moves the element at `order[k]` to position `k` for every `k`, using only swaps.
fn apply_order(mut order: Vec<usize>, swap: &mut dyn FnMut(usize, usize)) {
    for start in 0..order.len() {
        // Each cycle of the permutation is walked once: the element that started at `start`
        // travels along it while every position it passes receives its own element.
        let mut k = start;
        while order[k] != start {
            let from = order[k];
            order[k] = k;
            swap(k, from);
            k = from;
        }
        order[k] = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_stable_sort() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..200 {
            let items: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ((seed % 7) as u8, i)
                })
                .collect();
            let mut ours = items.clone();
            let mut theirs = items;
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            theirs.sort_by_key(|p| p.0);
            assert_eq!(ours, theirs);
            sort_by_key(&mut ours, |p| std::cmp::Reverse(p.1));
            theirs.sort_by_key(|p| std::cmp::Reverse(p.1));
            assert_eq!(ours, theirs);
            sort(&mut ours);
            theirs.sort();
            assert_eq!(ours, theirs);
        }
    }
}
