//! The MongoDB engine. (Interface stub: the first slice replaces the body.)

/// A mongosh session: the current database name and all databases of the sandbox.
#[derive(Debug, Default)]
pub struct Shell {}

impl Shell {
    pub fn new() -> Self {
        Shell {}
    }

    /// Runs mongosh source (one or more statements) at sandbox time `now_ms` and returns what
    /// mongosh prints for it, each result followed by a newline.
    pub fn eval_mongosh(&mut self, src: &str, now_ms: u64) -> String {
        let _ = (src, now_ms);
        String::new()
    }

    /// Like `eval_mongosh`, but each statement that yields a value gives one line of relaxed
    /// Extended JSON v2; an error gives `{"error": {"name": …, "code": …, "message": …}}`.
    pub fn eval_json(&mut self, src: &str, now_ms: u64) -> String {
        let _ = (src, now_ms);
        String::new()
    }
}

/// Whether `src` is a complete input (brackets and strings closed), so a console knows
/// whether Enter runs it or starts a new line.
pub fn input_is_complete(src: &str) -> bool {
    let _ = src;
    true
}
