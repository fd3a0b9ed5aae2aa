//! The native CLI: `nosql-playground redis` speaks redis-cli, `nosql-playground mongo` mongosh.
//! Piped input prints replies only; a terminal gets a prompt, line editing and history.

use std::io::{self, BufRead, IsTerminal, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use nosql_playground::clock::{self, Clock};
#[cfg(feature = "snippets")]
use nosql_playground::snippets;
use nosql_playground::{mongo, persist, redis};

const USAGE: &str =
    "usage: nosql-playground redis | nosql-playground mongo [--json] | nosql-playground python | nosql-playground node
       nosql-playground redis --export cli|resp | nosql-playground mongo --export mongosh|mongoimport";

fn host_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["redis"] => run(RedisConsole::new()),
        ["mongo"] => run(MongoConsole::new(false)),
        ["mongo", "--json"] | ["--json", "mongo"] => run(MongoConsole::new(true)),
        ["redis" | "mongo", "--export", format] => run_export(args[0].as_str(), format),
        #[cfg(feature = "snippets")]
        ["python"] => run_snippet(snippets::Language::Python),
        #[cfg(feature = "snippets")]
        ["node"] => run_snippet(snippets::Language::Node),
        ["--help" | "-h"] => {
            println!("{USAGE}");
            0
        }
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

/// Runs the piped script silently, then writes the session for a real server: `redis
/// --export cli` a redis-cli script, `resp` the same in RESP for `redis-cli --pipe`; `mongo
/// --export mongosh` a mongosh script, `mongoimport` each collection's file after a
/// `==> db.collection.json <==` line.
fn run_export(engine: &str, format: &str) -> i32 {
    let mut input = String::new();
    if let Err(err) = io::Read::read_to_string(&mut io::stdin(), &mut input) {
        eprintln!("nosql-playground: cannot read the script: {err}");
        return 2;
    }
    let mut clock = Clock::new();
    let mut out: Vec<u8> = Vec::new();
    if engine == "redis" {
        let mut server = redis::Server::new();
        let mut sink = String::new();
        for line in input.lines() {
            sink.clear();
            redis::cli::run_line_into(&mut server, &mut clock, line, host_ms(), false, &mut sink);
        }
        let now = clock.now(host_ms());
        match format {
            "cli" => out = persist::redis_cli_script(&server, now).into_bytes(),
            "resp" => out = persist::redis_resp(&server, now),
            _ => {}
        }
    } else {
        let mut console = MongoConsole::new(false);
        let mut sink = String::new();
        for line in input.lines() {
            console.feed(line, &mut sink);
        }
        let store = console.shell.store();
        match format {
            "mongosh" => out = persist::mongo_dump::mongosh_script(store).into_bytes(),
            "mongoimport" => {
                for (name, text) in persist::mongo_dump::mongoimport_files(store) {
                    out.extend_from_slice(format!("==> {name} <==\n{text}").as_bytes());
                }
            }
            _ => {}
        }
    }
    if out.is_empty() && !matches!(format, "cli" | "resp" | "mongosh" | "mongoimport") {
        eprintln!("{USAGE}");
        return 2;
    }
    if io::stdout().write_all(&out).is_err() {
        return 1;
    }
    0
}

/// Reads a whole driver snippet from stdin and prints what the language would print running
/// it against fresh servers; the exit status says whether it ended with an exception.
#[cfg(feature = "snippets")]
fn run_snippet(language: snippets::Language) -> i32 {
    let mut source = String::new();
    if let Err(err) = io::Read::read_to_string(&mut io::stdin(), &mut source) {
        eprintln!("nosql-playground: cannot read the snippet: {err}");
        return 2;
    }
    let mut redis = redis::Server::new();
    let mut mongo = mongo::Shell::new();
    let mut clock = Clock::new();
    let mut engines = snippets::Engines {
        redis: &mut redis,
        mongo: &mut mongo,
        clock: &mut clock,
        host_ms: host_ms(),
    };
    let result = snippets::run(&mut engines, language, &source);
    print!("{}", result.output);
    let _ = io::stdout().flush();
    i32::from(result.failed)
}

/// What the line loop needs from either engine.
// A wasm32 build has no line editor, so nothing asks for the prompt or the history file there.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
trait Console {
    fn prompt(&self) -> String;
    /// Feeds one input line, appending the text to print to `out`; true when the session ends.
    fn feed(&mut self, line: &str, out: &mut String) -> bool;
    fn history_file(&self) -> &'static str;
}

struct RedisConsole {
    server: redis::Server,
    clock: Clock,
}

impl RedisConsole {
    fn new() -> Self {
        RedisConsole {
            server: redis::Server::new(),
            clock: Clock::new(),
        }
    }
}

impl Console for RedisConsole {
    fn prompt(&self) -> String {
        match self.server.selected_db() {
            0 => "127.0.0.1:6379> ".into(),
            n => format!("127.0.0.1:6379[{n}]> "),
        }
    }

    fn feed(&mut self, line: &str, out: &mut String) -> bool {
        let quit = redis::cli::run_line_into(
            &mut self.server,
            &mut self.clock,
            line,
            host_ms(),
            true,
            out,
        );
        // The page's frame loop runs the active expiry cycle as time passes; the CLI has none,
        // so a `.time` line (waiting, in the sandbox) runs it at once and shows what it caused
        // (expired-key events to subscribers).
        if line.trim_start().starts_with(".time") {
            self.server.tick(self.clock.now(host_ms()));
            redis::cli::write_received(&mut self.server, out);
        }
        quit
    }

    fn history_file(&self) -> &'static str {
        ".nosql_playground_redis_history"
    }
}

struct MongoConsole {
    shell: mongo::Shell,
    clock: Clock,
    json: bool,
    /// Lines of a statement still waiting for its closing brackets.
    pending: String,
}

impl MongoConsole {
    fn new(json: bool) -> Self {
        MongoConsole {
            shell: mongo::Shell::new(),
            clock: Clock::new(),
            json,
            pending: String::new(),
        }
    }
}

impl Console for MongoConsole {
    fn prompt(&self) -> String {
        if self.pending.is_empty() {
            format!("{}> ", self.shell.current_db())
        } else {
            "... ".into()
        }
    }

    fn feed(&mut self, line: &str, out: &mut String) -> bool {
        if self.pending.is_empty() {
            if let Some(text) = clock::sandbox_line(&mut self.clock, line, host_ms()) {
                out.push_str(&text);
                return false;
            }
            let word = line.trim().trim_end_matches(';');
            if word == "exit" || word == "quit" || word == "exit()" || word == "quit()" {
                return true;
            }
        }
        if !self.pending.is_empty() {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        if !mongo::input_is_complete(&self.pending) {
            return false;
        }
        let src = std::mem::take(&mut self.pending);
        let now = self.clock.now(host_ms());
        let text = if self.json {
            self.shell.eval_json(&src, now)
        } else {
            self.shell.eval_mongosh(&src, now)
        };
        out.push_str(&text);
        false
    }

    fn history_file(&self) -> &'static str {
        ".nosql_playground_mongo_history"
    }
}

fn run(mut console: impl Console) -> i32 {
    if io::stdin().is_terminal() {
        return interactive(console);
    }
    let mut stdin = io::BufReader::with_capacity(1 << 16, io::stdin().lock());
    // Replies are buffered, and flushed whenever the next read could wait for input, so a
    // script piped in whole is written in large blocks while a program that sends one line
    // and waits for its reply still gets it at once.
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    // One input and one output buffer serve every line of a piped script.
    let mut raw = Vec::new();
    let mut text = String::new();
    loop {
        raw.clear();
        if stdin.buffer().is_empty() && stdout.flush().is_err() {
            break;
        }
        match stdin.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let bytes = raw.strip_suffix(b"\n").unwrap_or(&raw);
        // Arguments are bytes; invalid UTF-8 typed on a pipe is kept as close as we can.
        let line = match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let line = line.strip_suffix('\r').unwrap_or(&line);
        text.clear();
        let quit = console.feed(line, &mut text);
        if stdout.write_all(text.as_bytes()).is_err() || quit {
            break;
        }
    }
    let _ = stdout.flush();
    // The process ends here: the OS takes the memory back at once, where dropping the
    // console would free a large dataset one element at a time (the real server skips that
    // at shutdown too).
    std::mem::forget(console);
    0
}

#[cfg(not(target_arch = "wasm32"))]
fn interactive(mut console: impl Console) -> i32 {
    let Ok(mut editor) = rustyline::DefaultEditor::new() else {
        eprintln!("cannot open the terminal for line editing");
        return 1;
    };
    let history = std::env::var_os("HOME")
        .map(|home| std::path::Path::new(&home).join(console.history_file()));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        match editor.readline(&console.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let mut text = String::new();
                let quit = console.feed(&line, &mut text);
                print!("{text}");
                let _ = io::stdout().flush();
                if quit {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    0
}

/// The CLI is native-only; a wasm32 build of the binary (which `wasm-pack test` makes along
/// with the tests) has no terminal to edit lines on.
#[cfg(target_arch = "wasm32")]
fn interactive(_console: impl Console) -> i32 {
    eprintln!("the interactive console needs a native build");
    1
}
