//! The mongosh syntax: lexer, parser, and a small evaluator over the sandbox's databases.

mod bson;
mod buckets;
pub mod collection;
pub(crate) mod ddl;
pub mod eval;
pub mod host;
mod indexes;
mod insert_many;
mod js;
pub(crate) mod plan_cache;
mod search_indexes;
pub mod sessions;
// Only the fuzz targets read documents as Extended JSON text (see lib.rs for their gate).
#[cfg(all(not(target_arch = "wasm32"), feature = "search"))]
pub(crate) use js::value_from_ejson;
pub mod lexer;
pub mod parser;

pub use eval::{Output, Session};
pub use host::{Host, HostArg, HostCall, HostValue};

/// An error as mongosh prints it: `Name: message`, or `Name[CodeName]: message` for server
/// errors that carry a code name (mongosh 2 adds it; write errors such as E11000 have none).
#[derive(Debug, Clone, PartialEq)]
pub struct ShellError(Box<ErrorInfo>);

/// The fields of a `ShellError`, boxed so that `Result`s stay small in the recursive
/// evaluator and parser (their frames repeat at every nesting level of the input).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    pub name: String,
    pub code: Option<i32>,
    pub code_name: Option<&'static str>,
    pub message: String,
    /// Where a syntax error is: 1-based line, 0-based column (as Babel reports them).
    pub pos: Option<(usize, usize)>,
    /// Further lines mongosh prints after the message (`Result: …`, `Write Errors: […]`).
    pub details: Option<String>,
    /// The server's `errorLabels` (`TransientTransactionError`); mongosh does not print
    /// them, a `catch` sees them.
    pub labels: Vec<&'static str>,
}

impl std::ops::Deref for ShellError {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for ShellError {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl ShellError {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        ShellError(Box::new(ErrorInfo {
            name: name.to_string(),
            code: None,
            code_name: None,
            message: message.into(),
            pos: None,
            details: None,
            labels: Vec::new(),
        }))
    }

    pub fn server(code: i32, code_name: Option<&'static str>, message: impl Into<String>) -> Self {
        ShellError(Box::new(ErrorInfo {
            name: "MongoServerError".into(),
            code: Some(code),
            code_name,
            message: message.into(),
            pos: None,
            details: None,
            labels: Vec::new(),
        }))
    }

    /// mongosh's own argument errors carry a `[COMMON-10001]` tag in the message.
    pub fn invalid_input(message: impl std::fmt::Display) -> Self {
        ShellError::new(
            "MongoshInvalidInputError",
            format!("[COMMON-10001] {message}"),
        )
    }

    pub fn type_error(message: impl Into<String>) -> Self {
        ShellError::new("TypeError", message)
    }

    /// The first line mongosh prints.
    pub fn display(&self) -> String {
        match self.code_name {
            Some(code_name) => format!("{}[{code_name}]: {}", self.name, self.message),
            None => format!("{}: {}", self.name, self.message),
        }
    }

    /// Everything mongosh prints for the error, ending in a newline.
    ///
    /// mongosh's formatter starts the text with `\r` and the Node REPL prefixes `Uncaught`
    /// to it: on a terminal the carriage return overwrites that prefix when the error is one
    /// line, while a multi-line error shows `Uncaught:` on a line of its own. Syntax errors
    /// are multi-line: Babel's code frame follows the message, then a blank line.
    pub fn render(&self, src: &str) -> String {
        let mut text = self.display();
        if let (true, Some((line, col))) = (self.name == "SyntaxError", self.pos) {
            text.push_str("\n\n");
            text.push_str(&code_frame(src, line, col));
            text.push_str("\n\n");
        }
        if let Some(details) = &self.details {
            text.push('\n');
            text.push_str(details);
        }
        if text.contains('\n') {
            text.insert_str(0, "Uncaught:\n");
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// `{"error": {"name": …, "code": …, "message": …}}`; `code` is null for errors that
    /// have none (syntax and type errors).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"error\": {\"name\": ");
        crate::mongo::value::json_string(&mut out, &self.name);
        out.push_str(", \"code\": ");
        match self.code {
            Some(c) => out.push_str(&c.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(", \"message\": ");
        crate::mongo::value::json_string(&mut out, &self.message);
        out.push_str("}}");
        out
    }
}

/// Babel's code frame (uncoloured) around a 1-based line and 0-based column: two lines of
/// context above, three below, `>` on the error line and a caret under the column. The
/// source is taken with the newline the console's Enter adds, as mongosh receives it.
pub fn code_frame(src: &str, line: usize, col: usize) -> String {
    let source = format!("{src}\n");
    let lines: Vec<&str> = source.split('\n').collect();
    let start = line.saturating_sub(3);
    let end = (line + 3).min(lines.len());
    let width = end.to_string().len();
    let mut out = Vec::new();
    for (i, text) in lines.iter().enumerate().take(end).skip(start) {
        let number = i + 1;
        let gutter = format!(" {number:>width$} |");
        let body = if text.is_empty() {
            String::new()
        } else {
            format!(" {text}")
        };
        if number == line {
            let spacing: String = text
                .chars()
                .take(col)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let blank_gutter: String = gutter
                .chars()
                .map(|c| if c.is_ascii_digit() { ' ' } else { c })
                .collect();
            out.push(format!(">{gutter}{body}\n {blank_gutter} {spacing}^"));
        } else {
            out.push(format!(" {gutter}{body}"));
        }
    }
    out.join("\n")
}
