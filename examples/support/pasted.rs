//! The pasted statement the paste examples measure.

/// The first command-line argument as a count, or `default`.
pub fn count_arg(default: usize) -> usize {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// `db.big.insertMany([...])` of `n` plain documents (the page test's shape, about a hundred
/// bytes of source each).
pub fn insert_many(n: usize) -> String {
    let text = "x".repeat(90);
    let docs: Vec<String> = (0..n).map(|i| format!("{{n: {i}, s: '{text}'}}")).collect();
    format!("db.big.insertMany([{}])", docs.join(", "))
}
