//! redis-cli's line syntax: how it splits a typed line into arguments, its numeric repeat
//! prefix, and the lines it answers itself (`help`, `quit`) without asking the server.

use super::commands::{self, Group};
use super::parts::Part;
use super::Server;
use crate::clock::{self, Clock, Millis};

/// Port of `sdssplitargs`: whitespace-separated words, `"double quotes"` with C escapes and
/// `\xHH`, `'single quotes'` literal but for `\'`. `None` for unbalanced quotes or a closing
/// quote followed by something other than a space, which redis-cli reports as
/// `Invalid argument(s)`.
pub fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let count = split_args_into(line, &mut args)?;
    args.truncate(count);
    Some(args)
}

/// `split_args` into buffers kept from earlier lines: the first `n` of `args` are the line's
/// words (the rest are spare), so a console running line after line stops allocating.
pub fn split_args_into(line: &str, args: &mut Vec<Vec<u8>>) -> Option<usize> {
    let p = line.as_bytes();
    let mut i = 0;
    let mut count = 0;
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    loop {
        while i < p.len() && is_space(p[i]) {
            i += 1;
        }
        if i >= p.len() {
            return Some(count);
        }
        if count == args.len() {
            args.push(Vec::new());
        }
        let current = &mut args[count];
        current.clear();
        count += 1;
        let (mut in_double, mut in_single) = (false, false);
        loop {
            if !in_double && !in_single {
                // Unquoted text up to the next separator or quote is copied in one piece.
                let run = p[i..]
                    .iter()
                    .position(|&b| matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'"' | b'\''))
                    .unwrap_or(p.len() - i);
                current.extend_from_slice(&p[i..i + run]);
                i += run;
            }
            let c = p.get(i).copied();
            let next = p.get(i + 1).copied();
            if in_double {
                match c {
                    None => return None,
                    Some(b'\\')
                        if next == Some(b'x')
                            && p.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                            && p.get(i + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        current.push(hex(p[i + 2]) * 16 + hex(p[i + 3]));
                        i += 3;
                    }
                    Some(b'\\') if next.is_some() => {
                        i += 1;
                        current.push(match p[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if next.is_some_and(|n| !is_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else if in_single {
                match c {
                    None => return None,
                    Some(b'\\') if next == Some(b'\'') => {
                        i += 1;
                        current.push(b'\'');
                    }
                    Some(b'\'') => {
                        if next.is_some_and(|n| !is_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => current.push(other),
                }
            }
            i += 1;
        }
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// The largest numeric repeat prefix (`3 INCR counter`) the console runs: redis-cli accepts
/// any `long`, which would keep a browser tab busy for ever.
pub const MAX_REPEAT: u64 = 100_000;

/// What one typed line produced.
#[derive(Debug, Clone, PartialEq)]
pub struct LineOutput {
    /// Exactly what redis-cli would print (each reply ends with a newline).
    pub text: String,
    /// The student typed `quit` or `exit`: redis-cli ends the session.
    pub quit: bool,
}

/// Runs one line as redis-cli's interactive loop would: sandbox `.time` lines, `help`,
/// `quit`/`exit`, the repeat prefix, then the command itself. `color` keeps the ANSI styling
/// redis-cli gives `help` (the terminal wants it, the page does not).
pub fn run_line(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    color: bool,
) -> LineOutput {
    let mut text = String::new();
    let quit = run_line_into(server, clock, line, host_ms, color, &mut text);
    LineOutput { text, quit }
}

/// Words longer than this are not kept for the next line, nor more than `KEPT_WORDS` of
/// them: one large MSET must not pin its memory for the rest of the session.
const KEPT_WORD_BYTES: usize = 4096;
const KEPT_WORDS: usize = 64;

/// `run_line` appending what redis-cli prints to `out` (a script's lines share one buffer);
/// true when the line was `quit` or `exit`. What other clients receive meanwhile follows,
/// as `write_received` lays it out.
pub fn run_line_into(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    color: bool,
    out: &mut String,
) -> bool {
    run_line_capped_into(server, clock, line, host_ms, color, MAX_REPEAT, out)
}

/// `run_line` running a repeated command at most `max_runs` times (a count above
/// `MAX_REPEAT` is still refused). For the redis_line fuzz target: `100000 FOO` on each of
/// 64 lines made one input run for seconds, and the 100,000th run of a line teaches the
/// fuzzer nothing the 16th did not.
pub fn run_line_repeating_at_most(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    max_runs: u64,
) -> LineOutput {
    let mut text = String::new();
    let quit = run_line_capped_into(server, clock, line, host_ms, false, max_runs, &mut text);
    LineOutput { text, quit }
}

fn run_line_capped_into(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    color: bool,
    max_runs: u64,
    out: &mut String,
) -> bool {
    if let Some(text) = client_line(server, line) {
        out.push_str(&text);
        return false;
    }
    if !run_time_line(server, clock, line, host_ms, out) {
        wait_for_own_block(server, clock, host_ms, out);
        let quit = run_command_line(server, clock, line, host_ms, color, max_runs, out);
        if server.has_outbox() {
            write_received(server, out);
        }
        return quit;
    }
    write_received(server, out);
    false
}

/// Runs one line typed in the console of client `id` (the page keeps one console per
/// client) and returns only that line's own output: what clients receive stays in their
/// outboxes, for each console to collect (`Server::take_outbox`). A client blocked in a
/// command keeps the line until it is served.
pub fn run_line_as(
    server: &mut Server,
    clock: &mut Clock,
    id: u64,
    line: &str,
    host_ms: Millis,
) -> LineOutput {
    server.switch_client(id);
    let mut text = String::new();
    let quit = !run_time_line(server, clock, line, host_ms, &mut text)
        && run_command_line(server, clock, line, host_ms, false, MAX_REPEAT, &mut text);
    LineOutput { text, quit }
}

/// The sandbox's `.time` line: true (with its text in `out`) if `line` was one. Moving
/// time may time out blocked clients.
fn run_time_line(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    out: &mut String,
) -> bool {
    match clock::sandbox_line(clock, line, host_ms) {
        Some(text) => {
            out.push_str(&text);
            server.wake_timed_out(clock.now(host_ms));
            true
        }
        None => false,
    }
}

/// Handles the sandbox-only `.client` line: `.client` lists the clients, `.client N` makes
/// client N the one typing (connecting it on first use), `.client close N` disconnects it.
/// `None` if `line` is not one.
pub fn client_line(server: &mut Server, line: &str) -> Option<String> {
    if line
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let rest = line.trim().strip_prefix(".client")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let id = |word: &str| word.parse::<u64>().ok().filter(|&n| n > 0 && n < 1 << 32);
    Some(match words.as_slice() {
        [] => {
            let current = server.client_id();
            let list: Vec<String> = server
                .client_ids()
                .into_iter()
                .map(|n| {
                    if n == current {
                        format!("client {n} (current)")
                    } else {
                        format!("client {n}")
                    }
                })
                .collect();
            format!("(sandbox) {}\n", list.join(", "))
        }
        [n] if id(n).is_some() => {
            let n = id(n).unwrap_or(1);
            server.switch_client(n);
            format!("(sandbox) client {n}\n")
        }
        ["close", n] if id(n).is_some() => {
            let n = id(n).unwrap_or(1);
            if server.close_client(n) {
                format!("(sandbox) client {n} closed\n")
            } else {
                format!("(sandbox) no client {n}\n")
            }
        }
        _ => "(sandbox) unknown .client argument: use .client, .client 2 or .client close 2\n"
            .to_string(),
    })
}

/// A line typed by a client blocked with a timeout waits for that timeout, as redis-cli sits
/// until the reply comes: the virtual clock moves to the deadline (waiting and advancing are
/// the same thing here), and the timeout reply is printed before the line runs. A client
/// blocked for ever keeps the line until it is served.
fn wait_for_own_block(server: &mut Server, clock: &mut Clock, host_ms: Millis, out: &mut String) {
    let Some(deadline) = server
        .client(server.client_id())
        .and_then(|c| c.blocked.as_ref())
        .and_then(|b| b.deadline)
    else {
        return;
    };
    let now = clock.now(host_ms);
    if deadline > now {
        clock.advance(i64::try_from(deadline - now).unwrap_or(i64::MAX));
    }
    server.wake_timed_out(clock.now(host_ms));
    write_received(server, out);
}

/// Appends what clients received outside their own replies, in the order the CLI shows it:
/// the current client's first, as is, then every other client's, ascending by id, each of
/// its lines prefixed with `[client N] `.
pub fn write_received(server: &mut Server, out: &mut String) {
    let current = server.client_id();
    for reply in server.take_outbox(current) {
        reply.write_cli_text(out);
    }
    for id in server.client_ids() {
        if id == current {
            continue;
        }
        let mut text = String::new();
        for reply in server.take_outbox(id) {
            reply.write_cli_text(&mut text);
        }
        for line in text.lines() {
            out.push_str(&format!("[client {id}] {line}\n"));
        }
    }
}

fn run_command_line(
    server: &mut Server,
    clock: &mut Clock,
    line: &str,
    host_ms: Millis,
    color: bool,
    max_runs: u64,
    out: &mut String,
) -> bool {
    let mut args = std::mem::take(&mut server.line_args);
    let quit = match split_args_into(line, &mut args) {
        Some(count) => run_words(server, clock, &args[..count], host_ms, color, max_runs, out),
        None => {
            out.push_str("Invalid argument(s)\n");
            false
        }
    };
    args.truncate(KEPT_WORDS);
    for word in &mut args {
        if word.capacity() > KEPT_WORD_BYTES {
            *word = Vec::new();
        }
    }
    server.line_args = args;
    quit
}

fn run_words(
    server: &mut Server,
    clock: &mut Clock,
    argv: &[Vec<u8>],
    host_ms: Millis,
    color: bool,
    max_runs: u64,
    out: &mut String,
) -> bool {
    if argv.is_empty() {
        return false;
    }
    let mut argv = argv;
    let mut repeat = 1u64;
    if argv.len() > 1 {
        if let Some(n) = repeat_count(&argv[0]) {
            match n {
                Some(n) => repeat = n,
                None => {
                    out.push_str("Invalid redis-cli repeat command option value.\n");
                    return false;
                }
            }
            argv = &argv[1..];
        }
    }
    if repeat > MAX_REPEAT {
        out.push_str(&format!(
            "(sandbox) a repeat count above {MAX_REPEAT} is refused, so that the tab stays responsive\n"
        ));
        return false;
    }
    let name = argv[0].as_slice();
    if name.eq_ignore_ascii_case(b"quit") || name.eq_ignore_ascii_case(b"exit") {
        return true;
    }
    let is_help = is_help(name);
    if repeat > 1 {
        server.long_replies.stop_deferring();
    }
    for _ in 0..repeat.min(max_runs) {
        if is_help && argv.len() > 1 && !Part::Docs.built() {
            super::parts::not_built(Part::Docs).write_cli_text(out);
        } else if is_help {
            out.push_str(&help_text(&argv[1..], color));
        } else {
            let now = clock.now(host_ms);
            server.execute_into(argv, now, out);
        }
    }
    false
}

/// The part of the engine (`parts::Part`: Lua, FT.*, JSON.*, streams, GEO*) that `line` runs,
/// after redis-cli's repeat prefix: the page's first module, built without those parts, hands
/// the sandbox to the full module before such a line runs. The name decides, not the arity, so
/// the page can start fetching that module as soon as the name is typed. A line redis-cli would
/// refuse (unbalanced quotes, a bad repeat count) runs nothing.
pub fn runs_part(line: &str) -> Option<Part> {
    let argv = split_args(line)?;
    let argv = match argv.first().map(|w| repeat_count(w)) {
        Some(Some(Some(_))) if argv.len() > 1 => &argv[1..],
        Some(Some(_)) if argv.len() > 1 => return None,
        _ => &argv[..],
    };
    if argv.len() > 1 && is_help(&argv[0]) {
        return Some(Part::Docs);
    }
    Part::of_command(argv)
}

/// redis-cli's own `help` (or `?`), which the server never sees.
fn is_help(word: &[u8]) -> bool {
    word.eq_ignore_ascii_case(b"help") || word == b"?"
}

/// redis-cli treats a first word that `strtol` parses completely as a repeat count:
/// `Some(Some(n))` to repeat, `Some(None)` for a count it rejects, `None` if not a number.
fn repeat_count(word: &[u8]) -> Option<Option<u64>> {
    // A command name, the usual first word, starts with a letter: neither space, sign nor digit.
    if word.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let text = std::str::from_utf8(word).ok()?;
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A huge count overflows strtol (ERANGE), which redis-cli rejects like zero or negatives.
    match t.parse::<i64>() {
        Ok(n) if n > 0 => Some(Some(n as u64)),
        _ => Some(None),
    }
}

/// redis-cli's `help` output, built from the command table. With `color`, the ANSI styling
/// and `\r\n` line ends redis-cli prints are kept; the page asks for plain text.
pub fn help_text(topic: &[Vec<u8>], color: bool) -> String {
    let (bold, gray, yellow, reset, nl) = if color {
        ("\x1b[1m", "\x1b[90m", "\x1b[33m", "\x1b[0m", "\r\n")
    } else {
        ("", "", "", "", "\n")
    };
    if topic.is_empty() {
        return format!(
            "redis-cli {}\nTo get help about Redis commands type:\n      \"help @<group>\" to get a list of commands in <group>\n      \"help <command>\" for help on <command>\n      \"help <tab>\" to get a list of possible help topics\n      \"quit\" to exit\n\nTo set redis-cli preferences:\n      \":set hints\" enable online hints\n      \":set nohints\" disable online hints\nSet your preferences in ~/.redisclirc\n\nSandbox lines (this playground only):\n      \".time\" show the virtual clock\n      \".time +10s\" advance it (ms, s, m, h, d)\n      \".time pause\" / \".time resume\" stop and restart it\n      \".client\" list the sandbox's clients\n      \".client 2\" type as client 2 (connected on first use)\n      \".client close 2\" disconnect client 2\n\nSandbox limits:\n      maxmemory starts at 128mb of modelled memory (MEMORY USAGE, INFO memory);\n      \"CONFIG SET maxmemory 256mb\" raises it, 0 removes it\n",
            REDIS_CLI_VERSION
        );
    }
    let words: Vec<String> = topic
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let mut out = String::new();
    let entry = |out: &mut String, spec: &commands::CommandSpec, with_group: bool| {
        out.push_str(nl);
        out.push_str(&format!(
            "  {bold}{}{reset} {gray}{}{reset}{nl}",
            spec.name.replace('|', " ").to_ascii_uppercase(),
            spec.syntax
        ));
        out.push_str(&format!("  {yellow}summary:{reset} {}{nl}", spec.summary));
        out.push_str(&format!("  {yellow}since:{reset} {}{nl}", spec.since));
        if with_group {
            out.push_str(&format!(
                "  {yellow}group:{reset} {}{nl}",
                spec.group.name()
            ));
        }
    };
    if let Some(group_name) = words[0].strip_prefix('@') {
        if let Some(group) = Group::from_name(&group_name.to_ascii_lowercase()) {
            let mut specs: Vec<_> = commands::TABLE
                .iter()
                .filter(|s| s.group == group)
                .collect();
            crate::sort::sort_by_key(&mut specs, |s| s.name);
            for spec in specs {
                entry(&mut out, spec, false);
            }
        }
        out.push_str(nl);
        return out;
    }
    // Like redis-cli, the whole topic is matched against command names ("help client list").
    // A container's help lists it and then each of its subcommands.
    let wanted = words.join(" ").to_ascii_lowercase();
    let (head, sub) = wanted.split_once(' ').unwrap_or((&wanted, ""));
    let Some(spec) = commands::lookup(head.as_bytes()) else {
        out.push_str(nl);
        return out;
    };
    if sub.is_empty() {
        entry(&mut out, spec, true);
        for sub in spec.subcommands {
            entry(&mut out, sub, true);
        }
        out.push_str(nl);
    } else {
        if let Some(sub) = spec.subcommand(sub.as_bytes()) {
            entry(&mut out, sub, true);
        }
        out.push_str(nl);
    }
    out
}

/// The redis-cli whose behaviour the consoles reproduce.
pub const REDIS_CLI_VERSION: &str = "7.0.15";

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(list.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    #[test]
    fn splits_like_sdssplitargs() {
        let cases: &[(&str, Option<Vec<Vec<u8>>>)] = &[
            ("SET a 1", words(&["SET", "a", "1"])),
            ("  GET   key  ", words(&["GET", "key"])),
            ("", words(&[])),
            (
                r#"SET k "hello world""#,
                words(&["SET", "k", "hello world"]),
            ),
            (r#"SET k "a\nb\t\x41\"""#, words(&["SET", "k", "a\nb\tA\""])),
            (r#"SET k "\x4""#, words(&["SET", "k", "x4"])),
            ("SET k 'it\\'s'", words(&["SET", "k", "it's"])),
            ("SET k 'raw \\n'", words(&["SET", "k", "raw \\n"])),
            (r#"SET k a"b c"d"#, None),
            (r#"SET k a"b c""#, words(&["SET", "k", "ab c"])),
            (r#"GET "a"#, None),
            ("GET 'a", None),
            (r#"GET "a"b"#, None),
        ];
        for (line, expected) in cases {
            assert_eq!(&split_args(line), expected, "{line}");
        }
        assert_eq!(split_args(r#""\x00\xff""#), Some(vec![vec![0u8, 0xff]]));
    }

    #[test]
    fn reused_buffers_hold_only_the_current_line() {
        let mut args = Vec::new();
        assert_eq!(
            split_args_into("SET longer:key value EX 10", &mut args),
            Some(5)
        );
        assert_eq!(split_args_into("GET k", &mut args), Some(2));
        assert_eq!(&args[..2], &[b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(split_args_into(r#"SET "a b"c"#, &mut args), None);
        assert_eq!(split_args_into("", &mut args), Some(0));
        assert_eq!(split_args_into(r#"x"y z" 'w'"#, &mut args), Some(2));
        assert_eq!(&args[..2], &[b"xy z".to_vec(), b"w".to_vec()]);
    }

    #[test]
    fn lines_that_run_scripting() {
        let cases: &[(&str, bool)] = &[
            ("EVAL \"return 1\" 0", true),
            ("eval_ro 'return 1' 0", true),
            ("EVALSHA abc 0", true),
            ("evalsha_ro abc 0", true),
            ("FCALL f 0", true),
            ("fcall_ro f 0", true),
            ("FUNCTION LOAD \"#!lua name=x\nreturn 1\"", true),
            ("function restore payload", true),
            ("SCRIPT LOAD \"return 1\"", true),
            ("3 EVAL \"return 1\" 0", true),
            // The name alone decides, as it is being typed.
            ("EVAL", true),
            ("fcall", true),
            ("FUNCTION LOAD", true),
            // A build without Lua holds no script or library: the admin commands go too.
            ("SCRIPT EXISTS abc", true),
            ("SCRIPT FLUSH", true),
            ("SCRIPT KILL", true),
            ("FUNCTION LIST", true),
            ("FUNCTION DUMP", true),
            ("FUNCTION FLUSH", true),
            ("FUNCTION", true),
            ("SET EVAL 1", false),
            ("GET k", false),
            ("0 EVAL \"return 1\" 0", false),
            ("EVAL \"return 1", false),
            ("", false),
            ("HELP EVAL", false),
            (".client 2", false),
        ];
        for (line, expected) in cases {
            assert_eq!(
                runs_part(line) == Some(Part::Scripting),
                *expected,
                "{line}"
            );
        }
    }

    #[test]
    fn lines_that_run_a_part() {
        let cases: &[(&str, Option<Part>)] = &[
            ("FT.CREATE idx ON HASH SCHEMA t TEXT", Some(Part::Search)),
            ("ft.search idx *", Some(Part::Search)),
            ("FT._LIST", Some(Part::Search)),
            ("ft.aggregate", Some(Part::Search)),
            ("2 FT.INFO idx", Some(Part::Search)),
            ("FT.NOSUCH idx", None),
            ("JSON.SET k $ 1", Some(Part::Json)),
            ("json.get k", Some(Part::Json)),
            ("3 JSON.ARRAPPEND k $ 1", Some(Part::Json)),
            ("JSON.NOSUCH k", None),
            ("XADD s * f v", Some(Part::Streams)),
            ("xread BLOCK 0 STREAMS s $", Some(Part::Streams)),
            (
                "XREADGROUP GROUP g c BLOCK 100 STREAMS s >",
                Some(Part::Streams),
            ),
            ("XGROUP CREATE s g $ MKSTREAM", Some(Part::Streams)),
            ("XGROUP", Some(Part::Streams)),
            ("XINFO HELP", Some(Part::Streams)),
            ("GEOADD g 13.36 38.11 p", Some(Part::Geo)),
            ("GEOSEARCH k FROMLONLAT 0 0 BYRADIUS 1 km", Some(Part::Geo)),
            ("georadius_ro g 0 0 1 km", Some(Part::Geo)),
            // Geo sets are sorted sets; generic commands may meet any key.
            ("ZADD g 1 m", None),
            ("ZRANGE g 0 -1 WITHSCORES", None),
            ("TYPE s", None),
            ("OBJECT ENCODING s", Some(Part::Internals)),
            ("SCAN 0 TYPE stream", None),
            ("SET FT.SEARCH 1", None),
            ("GET XADD", None),
            ("0 FT.INFO idx", None),
            ("FT.SEARCH \"idx", None),
            ("", None),
            ("HELP GET", Some(Part::Docs)),
            ("help @stream", Some(Part::Docs)),
            ("? SET", Some(Part::Docs)),
            ("COMMAND DOCS GET", Some(Part::Docs)),
            ("HELP", None),
            ("COMMAND INFO GET", Some(Part::Docs)),
            ("COMMAND COUNT", Some(Part::Docs)),
            ("COMMAND", Some(Part::Docs)),
            ("PFADD hll a", Some(Part::HyperLogLog)),
            ("pfcount hll", Some(Part::HyperLogLog)),
            ("SETBIT b 7 1", Some(Part::Bitmap)),
            ("2 BITCOUNT b", Some(Part::Bitmap)),
            ("bitfield b GET u8 0", Some(Part::Bitmap)),
            ("SORT l", Some(Part::Sort)),
            ("sort_ro l ALPHA", Some(Part::Sort)),
            ("SET SORT 1", None),
            ("GETRANGE b 0 -1", None),
            ("LCS a b", Some(Part::Lcs)),
            ("ZUNION 2 a b", Some(Part::ZsetAlgebra)),
            ("zintercard 1 a", Some(Part::ZsetAlgebra)),
            ("ZRANGESTORE d a 0 -1", None),
            ("COPY a b REPLACE", Some(Part::Copy)),
            ("MEMORY USAGE k", Some(Part::Internals)),
            ("slowlog get", Some(Part::Internals)),
            ("DEBUG SLEEP 0", Some(Part::Internals)),
            ("HEXPIRE h 10 FIELDS 1 f", Some(Part::FieldExpiry)),
            ("httl h FIELDS 1 f", Some(Part::FieldExpiry)),
            ("HPERSIST h FIELDS 1 f", Some(Part::FieldExpiry)),
            ("HSET h f v", None),
        ];
        for (line, expected) in cases {
            assert_eq!(runs_part(line), *expected, "{line}");
        }
    }

    /// Built without some part, of these well-formed lines exactly those `runs_part` names as
    /// a missing part are answered "not loaded": the page switches modules for those, and only
    /// those.
    #[test]
    fn runs_part_names_what_a_build_cannot_run() {
        let lines = [
            "EVAL \"return 1\" 0",
            "EVAL_RO \"return 1\" 0",
            "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0",
            "EVALSHA_RO e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0",
            "FCALL f 0",
            "FCALL_RO f 0",
            "FUNCTION LOAD \"#!lua name=x\\nredis.register_function('f', function() return 1 end)\"",
            "FUNCTION RESTORE x",
            "SCRIPT LOAD \"return 1\"",
            "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "SCRIPT FLUSH",
            "SCRIPT KILL",
            "FUNCTION LIST",
            "FUNCTION DUMP",
            "FUNCTION FLUSH",
            "FUNCTION KILL",
            "FUNCTION STATS",
            "FUNCTION DELETE x",
            "FT.CREATE i ON HASH SCHEMA t TEXT",
            "FT._LIST",
            "FT.SEARCH i *",
            "JSON.SET k $ 1",
            "JSON.GET k",
            "XADD s * f v",
            "XLEN s",
            "XREAD BLOCK 10 STREAMS s $",
            "XGROUP CREATE s g $ MKSTREAM",
            "XINFO STREAM s",
            "GEOADD g 0 0 m",
            "GEODIST g a b",
            "GEOSEARCH g FROMLONLAT 0 0 BYRADIUS 1 km",
            "ZADD z 1 m",
            "SCAN 0 TYPE stream",
            "TYPE s",
            "HELP GET",
            "HELP @string",
            "COMMAND DOCS GET",
            "HELP",
            "COMMAND INFO GET",
            "COMMAND COUNT",
            "COMMAND GETKEYS SET k v",
            "PFADD h a",
            "PFCOUNT h",
            "PFMERGE h2 h",
            "SETBIT b 7 1",
            "GETBIT b 7",
            "BITCOUNT b",
            "BITPOS b 1",
            "BITOP AND d b",
            "BITFIELD b GET u8 0",
            "SORT l",
            "SORT_RO l",
            "LCS a b",
            "ZDIFFSTORE d 1 a",
            "COPY a b",
            "OBJECT ENCODING b",
            "MEMORY USAGE b",
            "SLOWLOG LEN",
            "DEBUG SLEEP 0",
            "HEXPIRE h 10 FIELDS 1 f",
            "HTTL h FIELDS 1 f",
            "HPERSIST h FIELDS 1 f",
            "HSET h f v",
            "GET b",
        ];
        for line in lines {
            let mut server = Server::new();
            let mut clock = Clock::new();
            let out = run_line(&mut server, &mut clock, line, 0, false).text;
            let missing = runs_part(line).is_some_and(|part| !part.built());
            assert_eq!(out.contains("not loaded"), missing, "{line}: {out}");
        }
    }

    #[test]
    fn repeat_prefix() {
        let mut server = Server::new();
        let mut clock = Clock::new();
        let out = run_line(&mut server, &mut clock, "3 ECHO c", 0, false);
        assert_eq!(out.text, "\"c\"\n\"c\"\n\"c\"\n");
        let out = run_line(&mut server, &mut clock, "0 ECHO c", 0, false);
        assert_eq!(out.text, "Invalid redis-cli repeat command option value.\n");
        // A lone number is a command name, not a repeat count.
        let out = run_line(&mut server, &mut clock, "5", 0, false);
        assert!(out.text.starts_with("(error) ERR unknown command '5'"));
        assert!(run_line(&mut server, &mut clock, "exit", 0, false).quit);
        let out = run_line(
            &mut server,
            &mut clock,
            "9223372036854775807 PING",
            0,
            false,
        );
        assert!(
            out.text
                .starts_with("(sandbox) a repeat count above 100000"),
            "{}",
            out.text
        );
    }

    #[test]
    fn a_repeat_cap_bounds_the_runs_but_not_the_checks() {
        let mut server = Server::new();
        let mut clock = Clock::new();
        for (line, expected) in [
            ("3 INCR k", "(integer) 1\n(integer) 2\n(integer) 3\n"),
            ("100000 INCR k", "(integer) 4\n(integer) 5\n(integer) 6\n"),
            (
                "100001 INCR k",
                "(sandbox) a repeat count above 100000 is refused, so that the tab stays responsive\n",
            ),
            ("0 INCR k", "Invalid redis-cli repeat command option value.\n"),
            ("\"7\" GET k", "\"6\"\n\"6\"\n\"6\"\n"),
        ] {
            let out = run_line_repeating_at_most(&mut server, &mut clock, line, 0, 3);
            assert_eq!(out.text, expected, "{line}");
        }
    }

    #[test]
    fn help_for_a_command_shows_its_syntax() {
        let text = help_text(&[b"set".to_vec()], false);
        assert!(
            text.contains("  SET key value [NX|XX|IFEQ comparison-value] [GET]"),
            "{text}"
        );
        assert!(text.contains("  group: string"), "{text}");
        let colored = help_text(&[b"GET".to_vec()], true);
        assert!(
            colored.starts_with("\r\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\r\n"),
            "{colored:?}"
        );
        assert_eq!(help_text(&[b"nosuchcommand".to_vec()], false), "\n");
    }
}
