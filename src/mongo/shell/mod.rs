//! The mongosh syntax: lexer, parser, and a small evaluator over the sandbox's databases.

pub mod eval;
pub mod lexer;
pub mod parser;

pub use eval::{Output, Session};

/// An error as mongosh prints it: `Name: message`, or `Name[CodeName]: message` for server
/// errors that carry a code name (mongosh 2 adds it; write errors such as E11000 have none).
#[derive(Debug, Clone, PartialEq)]
pub struct ShellError {
    pub name: String,
    pub code: Option<i32>,
    pub code_name: Option<&'static str>,
    pub message: String,
}

impl ShellError {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        ShellError {
            name: name.to_string(),
            code: None,
            code_name: None,
            message: message.into(),
        }
    }

    pub fn server(code: i32, code_name: Option<&'static str>, message: impl Into<String>) -> Self {
        ShellError {
            name: "MongoServerError".into(),
            code: Some(code),
            code_name,
            message: message.into(),
        }
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

    /// The line mongosh prints.
    pub fn display(&self) -> String {
        match self.code_name {
            Some(code_name) => format!("{}[{code_name}]: {}", self.name, self.message),
            None => format!("{}: {}", self.name, self.message),
        }
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
