//! VECTOR fields and `=>[KNN k @field $blob AS alias]` queries.
//!
//! Both FLAT and HNSW fields answer with an exact nearest-neighbour scan over the matching
//! documents: results are what FLAT gives, which an HNSW index approximates.

use super::{text, upper};
use crate::redis::reply::{self, Reply};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    L2,
    Ip,
    Cosine,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorSpec {
    /// `FLAT` or `HNSW`, as FT.INFO shows it.
    pub algorithm: &'static str,
    pub dim: usize,
    pub metric: Metric,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "L2",
            Metric::Ip => "IP",
            Metric::Cosine => "COSINE",
        }
    }

    /// RediSearch's distances, computed in single precision as it does: squared L2,
    /// 1 - dot product, 1 - cosine similarity.
    pub fn distance(self, a: &[f32], b: &[f32]) -> f64 {
        let dot = || a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let d = match self {
            Metric::L2 => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
            Metric::Ip => 1.0 - dot(),
            Metric::Cosine => {
                let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
                let denominator = norm(a) * norm(b);
                if denominator == 0.0 {
                    1.0
                } else {
                    1.0 - dot() / denominator
                }
            }
        };
        f64::from(d)
    }
}

/// A FLOAT32 blob (little-endian) of exactly `dim` numbers.
pub fn from_blob(bytes: &[u8], dim: usize) -> Option<Vec<f32>> {
    if bytes.len() != dim.checked_mul(4)? {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// `VECTOR {FLAT | HNSW} count attribute value ...` after the field name; returns the spec
/// and how many arguments it took.
pub fn parse_spec(args: &[Vec<u8>], field: &str) -> Result<(VectorSpec, usize), Reply> {
    let algorithm = match args.first().map(|a| upper(a)).as_deref() {
        Some("FLAT") => "FLAT",
        Some("HNSW") => "HNSW",
        _ => return Err(reply::error(&format!("Bad arguments for vector similarity algorithm: Unknown vector similarity algorithm for field `{field}`"))),
    };
    let count = args
        .get(1)
        .and_then(|a| text(a).parse::<usize>().ok())
        .filter(|c| c % 2 == 0 && *c <= args.len().saturating_sub(2))
        .ok_or_else(|| reply::error(&format!("Bad arguments for vector similarity number of parameters: Expected an argument, but none provided for field `{field}`")))?;
    let (mut dim, mut metric, mut float32) = (None, None, false);
    for pair in args[2..2 + count].chunks_exact(2) {
        let value = upper(&pair[1]);
        match upper(&pair[0]).as_str() {
            "TYPE" => float32 = value == "FLOAT32",
            "DIM" => {
                dim = value
                    .parse::<usize>()
                    .ok()
                    .filter(|d| (1..=32_768).contains(d))
            }
            "DISTANCE_METRIC" => {
                metric = match value.as_str() {
                    "L2" => Some(Metric::L2),
                    "IP" => Some(Metric::Ip),
                    "COSINE" => Some(Metric::Cosine),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    match (dim, metric, float32) {
        (Some(dim), Some(metric), true) => Ok((
            VectorSpec {
                algorithm,
                dim,
                metric,
            },
            2 + count,
        )),
        _ => Err(reply::error(&format!(
            "Bad arguments for vector similarity {algorithm} index: the sandbox supports TYPE FLOAT32 with DIM and DISTANCE_METRIC L2, IP or COSINE for field `{field}`"
        ))),
    }
}

/// `[KNN k @field $param [AS alias]]`, the part of a query after `=>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    pub k: usize,
    pub field: String,
    pub param: String,
    pub alias: String,
}

pub fn parse_knn(clause: &str) -> Result<Knn, String> {
    let inner = clause
        .trim()
        .strip_prefix('[')
        .and_then(|c| c.strip_suffix(']'))
        .ok_or_else(|| format!("Syntax error at offset 0 near {clause}"))?;
    let words: Vec<&str> = inner.split_whitespace().collect();
    let bad = || "Syntax error: expected KNN k @field $blob [AS alias]".to_string();
    match words.as_slice() {
        [knn, k, field, param, rest @ ..] if knn.eq_ignore_ascii_case("KNN") => {
            let k = k.parse::<usize>().map_err(|_| bad())?;
            let field = field.strip_prefix('@').ok_or_else(bad)?.to_string();
            let param = param.strip_prefix('$').ok_or_else(bad)?.to_string();
            let alias = match rest {
                [] => format!("__{field}_score"),
                [as_word, alias] if as_word.eq_ignore_ascii_case("AS") => alias.to_string(),
                _ => return Err(bad()),
            };
            Ok(Knn {
                k,
                field,
                param,
                alias,
            })
        }
        _ => Err(bad()),
    }
}

/// A distance as RediSearch prints it: 12 significant digits, trailing zeros dropped.
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0".to_string();
    }
    let digits = 11 - d.abs().log10().floor() as i32;
    let text = format!("{:.*}", digits.clamp(0, 40) as usize, d);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_their_text_match_redisearch() {
        let (a, b, c) = ([1.0f32, 0.0], [0.0f32, 1.0], [2.0f32, 2.0]);
        let cases = [
            (Metric::L2, a, b, "2"),
            (Metric::L2, a, c, "5"),
            (Metric::Ip, a, b, "1"),
            (Metric::Ip, a, c, "-1"),
            (Metric::Cosine, a, a, "0"),
            (Metric::Cosine, a, c, "0.292893230915"),
        ];
        for (metric, x, y, expected) in cases {
            assert_eq!(
                format_distance(metric.distance(&x, &y)),
                expected,
                "{metric:?}"
            );
        }
    }

    #[test]
    fn knn_clauses_parse() {
        assert_eq!(
            parse_knn("[KNN 10 @vec $blob AS score]").unwrap(),
            Knn {
                k: 10,
                field: "vec".into(),
                param: "blob".into(),
                alias: "score".into()
            }
        );
        assert_eq!(parse_knn("[KNN 3 @v $q]").unwrap().alias, "__v_score");
        assert!(parse_knn("[KNN x @v $q]").is_err());
        assert!(parse_knn("KNN 3 @v $q").is_err());
    }

    /// `cargo test --release --lib knn_latency -- --ignored --nocapture`: FLAT KNN over 100k
    /// 128-dimension vectors, natively. A measurement, never an assertion on time.
    #[test]
    #[ignore]
    fn knn_latency() {
        use crate::redis::Server;
        let mut server = Server::new();
        let argv = |words: &[&[u8]]| -> Vec<Vec<u8>> { words.iter().map(|w| w.to_vec()).collect() };
        server.execute(
            &argv(&[
                b"FT.CREATE",
                b"v",
                b"SCHEMA",
                b"vec",
                b"VECTOR",
                b"FLAT",
                b"6",
                b"TYPE",
                b"FLOAT32",
                b"DIM",
                b"128",
                b"DISTANCE_METRIC",
                b"L2",
            ]),
            0,
        );
        let mut rng = crate::redis::fuzz::Rng(7);
        let blob = |rng: &mut crate::redis::fuzz::Rng| -> Vec<u8> {
            (0..128)
                .flat_map(|_| ((rng.below(1000) as f32) / 1000.0).to_le_bytes())
                .collect()
        };
        for i in 0..100_000 {
            let key = format!("doc:{i}");
            let v = blob(&mut rng);
            server.execute(&argv(&[b"HSET", key.as_bytes(), b"vec", &v]), 0);
        }
        let query = blob(&mut rng);
        let start = std::time::Instant::now();
        let runs = 5;
        for _ in 0..runs {
            let reply = server.execute(
                &argv(&[
                    b"FT.SEARCH",
                    b"v",
                    b"*=>[KNN 10 @vec $q AS d]",
                    b"PARAMS",
                    b"2",
                    b"q",
                    &query,
                    b"NOCONTENT",
                    b"DIALECT",
                    b"2",
                ]),
                0,
            );
            assert!(matches!(reply, Reply::Array(ref items) if items.len() == 11));
        }
        println!(
            "FLAT KNN 10 over 100k x 128: {:?} per query",
            start.elapsed() / runs
        );
    }
}
