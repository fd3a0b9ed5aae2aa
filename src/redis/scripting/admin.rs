//! The SCRIPT and FUNCTION commands that need no interpreter: they read and clear the script
//! cache and the libraries' code. The page's first module leaves them out with the engine (a
//! first module holds no script or library, so they would only ever answer "none"), and
//! `absent` answers them too.

use super::{busy, RDB_OPCODE_FUNCTION2};
use crate::redis::reply::{self, Reply};
use crate::redis::util::glob_match;
use crate::redis::{object, rdb, Server};
/// SCRIPT EXISTS sha1 [sha1 ...]
pub fn script_exists(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    Reply::Array(
        argv[2..]
            .iter()
            .map(|sha| {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                Reply::Integer(i64::from(server.scripting.scripts.contains_key(&sha)))
            })
            .collect(),
    )
}

/// SCRIPT FLUSH [ASYNC | SYNC]
pub fn script_flush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(reply) = flush_mode(argv) {
        return reply;
    }
    server.scripting.scripts.clear();
    Reply::ok()
}

fn flush_mode(argv: &[Vec<u8>]) -> Result<(), Reply> {
    match argv.get(2) {
        None => Ok(()),
        Some(mode)
            if argv.len() == 3
                && (mode.eq_ignore_ascii_case(b"async") || mode.eq_ignore_ascii_case(b"sync")) =>
        {
            Ok(())
        }
        Some(_) => Err(Reply::err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
}

/// SCRIPT KILL
pub fn script_kill(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    busy::kill(server, true)
}

/// FUNCTION KILL
pub fn function_kill(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    busy::kill(server, false)
}

/// SCRIPT SHOW sha1
pub fn script_show(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let sha = String::from_utf8_lossy(&argv[2]).to_ascii_lowercase();
    match server.scripting.scripts.get(&sha) {
        Some(body) => Reply::Bulk(body.clone()),
        None => reply::error("NOSCRIPT No matching script."),
    }
}

/// FUNCTION DUMP: every library as `RDB_OPCODE_FUNCTION2` and its code, in the RDB payload
/// framing, so a real server's FUNCTION RESTORE takes it.
pub fn function_dump(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let mut payload = Vec::new();
    for code in server.scripting.library_codes() {
        payload.push(RDB_OPCODE_FUNCTION2);
        rdb::write_string(&mut payload, code);
    }
    Reply::Bulk(rdb::seal(payload))
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
pub fn function_list(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if argv[i].eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            let Some(p) = argv.get(i + 1) else {
                return Reply::err("library name argument was not given");
            };
            pattern = Some(p);
            i += 1;
        } else {
            return Reply::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(&argv[i])
            ));
        }
        i += 1;
    }
    let resp = server.resp();
    let libs = server
        .scripting
        .libraries
        .iter()
        .filter(|(name, _)| pattern.is_none_or(|p| glob_match(p, name.as_bytes(), false)))
        .map(|(name, lib)| {
            let functions = lib
                .functions
                .iter()
                .map(|f| {
                    Reply::map(
                        vec![
                            (Reply::bulk("name"), Reply::bulk(f.name.as_str())),
                            (
                                Reply::bulk("description"),
                                f.description
                                    .as_ref()
                                    .map(|d| Reply::bulk(d.as_str()))
                                    .unwrap_or(Reply::Nil),
                            ),
                            (Reply::bulk("flags"), {
                                let flags = f.flags.iter().map(|g| Reply::status(g)).collect();
                                if resp >= 3 {
                                    Reply::Set(flags)
                                } else {
                                    Reply::Array(flags)
                                }
                            }),
                        ],
                        resp,
                    )
                })
                .collect();
            let mut pairs = vec![
                (Reply::bulk("library_name"), Reply::bulk(name.as_str())),
                (Reply::bulk("engine"), Reply::bulk("LUA")),
                (Reply::bulk("functions"), Reply::Array(functions)),
            ];
            if with_code {
                pairs.push((Reply::bulk("library_code"), Reply::Bulk(lib.code.clone())));
            }
            Reply::map(pairs, resp)
        })
        .collect();
    Reply::Array(libs)
}

/// FUNCTION DELETE library-name
pub fn function_delete(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&argv[2]).into_owned();
    match server.scripting.libraries.remove(&name) {
        Some(_) => Reply::ok(),
        None => Reply::err("Library not found"),
    }
}

/// FUNCTION FLUSH [ASYNC | SYNC]
pub fn function_flush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if flush_mode(argv).is_err() {
        return Reply::err("FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    server.scripting.libraries.clear();
    Reply::ok()
}

/// FUNCTION STATS
pub fn function_stats(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let running = match busy::running_script(server) {
        Ok(running) => running,
        Err(busy) => return busy,
    };
    let resp = server.resp();
    let libraries = server.scripting.libraries.len() as i64;
    let functions = server
        .scripting
        .libraries
        .values()
        .map(|l| l.functions.len() as i64)
        .sum();
    let lua = Reply::map(
        vec![
            (Reply::bulk("libraries_count"), Reply::Integer(libraries)),
            (Reply::bulk("functions_count"), Reply::Integer(functions)),
        ],
        resp,
    );
    Reply::map(
        vec![
            (Reply::bulk("running_script"), running),
            (
                Reply::bulk("engines"),
                Reply::map(vec![(Reply::bulk("LUA"), lua)], resp),
            ),
        ],
        resp,
    )
}

/// SCRIPT HELP
pub fn script_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    object::help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO) [<engine_name>]",
            "    Set the debug mode for subsequent scripts executed of the specified engine.",
            "    Default engine name: 'lua'",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined",
            "     by the lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "SHOW <sha1>",
            "    Show a script from the scripts cache.",
        ],
    )
}

/// FUNCTION HELP
pub fn function_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    object::help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    )
}
