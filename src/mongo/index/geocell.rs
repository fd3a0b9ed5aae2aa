//! The cells a geo index keys its documents by: a quadtree over the index's coordinate
//! rectangle (longitude × latitude for `2dsphere`, `[-180, 180)²` for `2d`), numbered as S2
//! numbers its cells so that a cell's descendants are one range of ids.
//!
//! MongoDB keys a `2dsphere` index by S2 cells (a cube projected onto the sphere); this
//! quadtree on the plate carrée is simpler and answers the same: every query first collects
//! the cells covering a rectangle that contains its region, then measures or tests the
//! documents those cells hold exactly, so the cells only decide which documents are looked
//! at, never which are returned.
//!
//! An id has 2 × `MAX_LEVEL` position bits (the cell's path from the root, x and y bits
//! interleaved), then a sentinel 1 bit, then zeros: a cell at level `k` is
//! `prefix << (61 - 2k) | 1 << (60 - 2k)`, and its descendants are the ids within
//! `lsb - 1` of it. Ids are below 2^61, so they fit an Int64 index key.

/// Depth of the finest cells: 2^30 columns over 360 degrees is 0.03 mm at the equator.
pub const MAX_LEVEL: u32 = 30;

const SIDE: f64 = (1u64 << MAX_LEVEL) as f64;

/// The rectangle an index quantizes: its minimum and maximum x and y.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Domain {
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Domain {
    pub const SPHERE: Domain = Domain {
        x: (-180.0, 180.0),
        y: (-90.0, 90.0),
    };
    pub const FLAT: Domain = Domain {
        x: (-180.0, 180.0),
        y: (-180.0, 180.0),
    };

    /// The leaf column or row of a coordinate; monotone, so a point inside a rectangle
    /// quantizes inside the rectangle's quantized corners.
    fn quantize(v: f64, (lo, hi): (f64, f64)) -> u64 {
        let t = ((v - lo) / (hi - lo) * SIDE).floor();
        if t.is_nan() || t <= 0.0 {
            0
        } else if t >= SIDE - 1.0 {
            (1u64 << MAX_LEVEL) - 1
        } else {
            t as u64
        }
    }

    /// The leaf cell of a point.
    pub fn leaf(&self, x: f64, y: f64) -> u64 {
        let i = Self::quantize(x, self.x);
        let j = Self::quantize(y, self.y);
        (interleave(i, j) << 1) | 1
    }

    /// The cells, at one level, covering a rectangle: at most 3 × 3 of them, at the finest
    /// level where that many suffice.
    pub fn cover(&self, rect: Rect) -> Vec<u64> {
        let (a, b) = (
            Self::quantize(rect.x0, self.x),
            Self::quantize(rect.x1, self.x),
        );
        let (i0, i1) = (a.min(b), a.max(b));
        let (a, b) = (
            Self::quantize(rect.y0, self.y),
            Self::quantize(rect.y1, self.y),
        );
        let (j0, j1) = (a.min(b), a.max(b));
        let mut shift = 0;
        while shift < MAX_LEVEL
            && ((i1 >> shift) - (i0 >> shift) > 2 || (j1 >> shift) - (j0 >> shift) > 2)
        {
            shift += 1;
        }
        let level = MAX_LEVEL - shift;
        let mut out = Vec::with_capacity(9);
        for i in (i0 >> shift)..=(i1 >> shift) {
            for j in (j0 >> shift)..=(j1 >> shift) {
                out.push(cell_at(level, interleave(i, j)));
            }
        }
        out
    }

    /// The whole domain as a rectangle.
    pub fn all(&self) -> Rect {
        Rect {
            x0: self.x.0,
            x1: self.x.1,
            y0: self.y.0,
            y1: self.y.1,
        }
    }
}

/// An axis-aligned rectangle in index coordinates (x0 ≤ x1, y0 ≤ y1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Rect {
    /// The smallest rectangle holding the points, widened by a hair so that a point a
    /// rounding error outside still lands inside.
    pub fn around(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Rect> {
        let mut it = points.into_iter();
        let (x, y) = it.next()?;
        let mut r = Rect {
            x0: x,
            x1: x,
            y0: y,
            y1: y,
        };
        for (x, y) in it {
            r.x0 = r.x0.min(x);
            r.x1 = r.x1.max(x);
            r.y0 = r.y0.min(y);
            r.y1 = r.y1.max(y);
        }
        Some(r.padded(1e-9))
    }

    pub fn padded(self, by: f64) -> Rect {
        Rect {
            x0: self.x0 - by,
            x1: self.x1 + by,
            y0: self.y0 - by,
            y1: self.y1 + by,
        }
    }
}

/// The rectangles (two when it crosses the antimeridian) holding every point within
/// `radians` of (`lng`, `lat`) on the sphere.
pub fn cap_rects(lng: f64, lat: f64, radians: f64) -> Vec<Rect> {
    let whole = Domain::SPHERE.all();
    // A little more than asked: the bounds below are exact only up to rounding.
    let r = radians * (1.0 + 1e-9) + 1e-12;
    if !r.is_finite() || r >= std::f64::consts::PI {
        return vec![whole];
    }
    let r_deg = r.to_degrees();
    let (y0, y1) = (lat - r_deg, lat + r_deg);
    if y0 <= -90.0 || y1 >= 90.0 {
        // The cap holds a pole: every longitude.
        return vec![Rect {
            y0: y0.max(-90.0),
            y1: y1.min(90.0),
            ..whole
        }];
    }
    let s = r.sin() / lat.to_radians().cos();
    if s.is_nan() || s >= 1.0 {
        return vec![Rect { y0, y1, ..whole }];
    }
    let d = s.asin().to_degrees() * (1.0 + 1e-9) + 1e-9;
    let (x0, x1) = (lng - d, lng + d);
    if x1 - x0 >= 360.0 {
        return vec![Rect { y0, y1, ..whole }];
    }
    let mut out = vec![Rect {
        x0: x0.max(-180.0),
        x1: x1.min(180.0),
        y0,
        y1,
    }];
    if x0 < -180.0 {
        out.push(Rect {
            x0: x0 + 360.0,
            x1: 180.0,
            y0,
            y1,
        });
    }
    if x1 > 180.0 {
        out.push(Rect {
            x0: -180.0,
            x1: x1 - 360.0,
            y0,
            y1,
        });
    }
    out
}

/// Spreads the low 30 bits of `i` and `j` into alternate bits, `i` in the higher of each pair.
fn interleave(i: u64, j: u64) -> u64 {
    fn spread(mut v: u64) -> u64 {
        v &= 0x3fff_ffff;
        v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
        v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    }
    (spread(i) << 1) | spread(j)
}

/// The cell at `level` whose path from the root is `prefix` (2 × `level` bits).
fn cell_at(level: u32, prefix: u64) -> u64 {
    let lsb = lsb_of_level(level);
    (prefix << (61 - 2 * level)) | lsb
}

fn lsb_of_level(level: u32) -> u64 {
    1u64 << (2 * (MAX_LEVEL - level.min(MAX_LEVEL)))
}

/// The level of a cell id (0 for the root).
pub fn level(cell: u64) -> u32 {
    MAX_LEVEL - cell.trailing_zeros().min(2 * MAX_LEVEL) / 2
}

/// The first and last leaf ids under a cell: its descendants (and itself) are the ids
/// between them.
pub fn range(cell: u64) -> (u64, u64) {
    let lsb = cell & cell.wrapping_neg();
    (cell - (lsb - 1), cell + (lsb - 1))
}

/// The cell's ancestor at a coarser `level`.
pub fn parent(cell: u64, level: u32) -> u64 {
    let lsb = lsb_of_level(level);
    (cell & lsb.wrapping_neg()) | lsb
}

/// Sorted, disjoint ranges of leaf ids already scanned, so that a wider ring of cells reads
/// only the keys the narrower ones did not.
#[derive(Debug, Default)]
pub struct Scanned {
    ranges: Vec<(u64, u64)>,
}

impl Scanned {
    /// The parts of `[lo, hi]` not yet scanned; marks all of it scanned.
    pub fn take(&mut self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let mut gaps = Vec::new();
        let mut at = lo;
        for &(a, b) in &self.ranges {
            if b < at {
                continue;
            }
            if a > hi {
                break;
            }
            if a > at {
                gaps.push((at, a - 1));
            }
            at = b.saturating_add(1);
            if at > hi {
                break;
            }
        }
        if at <= hi {
            gaps.push((at, hi));
        }
        // Merge [lo, hi] in.
        let mut merged = Vec::with_capacity(self.ranges.len() + 1);
        let (mut nlo, mut nhi) = (lo, hi);
        let mut placed = false;
        for &(a, b) in &self.ranges {
            if b.saturating_add(1) < nlo {
                merged.push((a, b));
            } else if a > nhi.saturating_add(1) {
                if !placed {
                    merged.push((nlo, nhi));
                    placed = true;
                }
                merged.push((a, b));
            } else {
                nlo = nlo.min(a);
                nhi = nhi.max(b);
            }
        }
        if !placed {
            merged.push((nlo, nhi));
        }
        self.ranges = merged;
        gaps
    }

    pub fn covers(&self, lo: u64, hi: u64) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= lo && hi <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_nest_by_id_range() {
        let d = Domain::SPHERE;
        let leaf = d.leaf(2.35, 48.85);
        assert_eq!(level(leaf), MAX_LEVEL);
        for l in 0..MAX_LEVEL {
            let p = parent(leaf, l);
            assert_eq!(level(p), l);
            let (lo, hi) = range(p);
            assert!(lo <= leaf && leaf <= hi, "level {l}");
            // The next coarser ancestor holds this one's whole range.
            if l > 0 {
                let (plo, phi) = range(parent(leaf, l - 1));
                assert!(plo <= lo && hi <= phi);
            }
        }
        assert_eq!(range(parent(leaf, 0)), (1, (1 << 61) - 1));
    }

    #[test]
    fn a_cover_holds_every_point_of_its_rectangle() {
        let d = Domain::SPHERE;
        let rect = Rect {
            x0: -3.0,
            x1: 4.5,
            y0: 10.0,
            y1: 10.25,
        };
        let cells = d.cover(rect);
        assert!(cells.len() <= 9);
        for k in 0..=40 {
            let x = rect.x0 + (rect.x1 - rect.x0) * f64::from(k) / 40.0;
            for m in 0..=10 {
                let y = rect.y0 + (rect.y1 - rect.y0) * f64::from(m) / 10.0;
                let leaf = d.leaf(x, y);
                assert!(
                    cells.iter().any(|&c| {
                        let (lo, hi) = range(c);
                        lo <= leaf && leaf <= hi
                    }),
                    "({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn caps_cross_the_antimeridian_and_the_poles() {
        let near_date_line = cap_rects(179.9, 0.0, 1f64.to_radians());
        assert_eq!(near_date_line.len(), 2);
        assert!(near_date_line.iter().any(|r| r.x0 == -180.0));
        let polar = cap_rects(0.0, 89.5, 1f64.to_radians());
        assert_eq!(polar.len(), 1);
        assert_eq!(
            (polar[0].x0, polar[0].x1, polar[0].y1),
            (-180.0, 180.0, 90.0)
        );
    }

    #[test]
    fn scanned_ranges_give_only_the_gaps() {
        let mut s = Scanned::default();
        assert_eq!(s.take(10, 20), vec![(10, 20)]);
        assert_eq!(s.take(30, 40), vec![(30, 40)]);
        assert_eq!(s.take(5, 50), vec![(5, 9), (21, 29), (41, 50)]);
        assert_eq!(s.take(12, 18), vec![]);
        assert!(s.covers(5, 50));
        assert_eq!(s.take(51, 51), vec![(51, 51)]);
        assert_eq!(s.take(0, u64::MAX), vec![(0, 4), (52, u64::MAX)]);
    }
}
