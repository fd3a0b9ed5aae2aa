//! The objects a driver snippet sees: `require` and `console`, the `redis`, `ioredis` and
//! `mongodb` packages, and the clients they make, all answering from the sandbox's engines.

use std::any::Any;

use super::redis::{self as cmd, Command, Flavor, Shape};
use crate::mongo::format::inspect_node;
use crate::mongo::shell::{HostArg, HostCall, HostValue, ShellError};
use crate::mongo::value::{Document, Value};
use crate::redis::reply::Reply;

/// How `describe` marks a host object, so that the runner prints nothing for it where Node
/// would print the driver's internals.
pub const OBJECT_MARK: char = '\u{1}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Module {
    Redis,
    IoRedis,
    Mongodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Json,
    Ft,
}

#[derive(Debug)]
enum Obj {
    Require,
    Console,
    Module(Module),
    CreateClient,
    MongoClientClass,
    RedisClient {
        flavor: Flavor,
        conn: u64,
        open: bool,
        json: u32,
        ft: u32,
    },
    Namespace {
        client: u32,
        ns: Namespace,
    },
    /// `multi()` (a transaction) or ioredis's `pipeline()`: queued commands.
    Batch {
        client: u32,
        transaction: bool,
        cmds: Vec<Result<Command, ShellError>>,
    },
    MongoClient,
    MongoDb(String),
}

const REQUIRE: u32 = 0;
const CONSOLE: u32 = 1;
const REDIS_MODULE: u32 = 2;
/// `require('ioredis')` is the `Redis` class itself.
const IOREDIS_CLASS: u32 = 3;
const MONGODB_MODULE: u32 = 4;
const CREATE_CLIENT: u32 = 5;
const MONGO_CLIENT_CLASS: u32 = 6;

#[derive(Debug)]
pub struct NodeHost {
    pub redis: crate::redis::Server,
    objects: Vec<Obj>,
    /// What `console.log` wrote.
    pub output: String,
    pub round_trips: u64,
    /// Replies node-redis builds with `Object.create(null)`, for printing.
    null_proto: Vec<Document>,
    /// The Redis connections the snippet opened.
    pub connections: Vec<u64>,
}

fn value(a: Option<&HostArg>) -> Value {
    match a {
        Some(HostArg::Value(v)) => v.clone(),
        _ => Value::Undefined,
    }
}

fn not_a_function(what: &str) -> ShellError {
    ShellError::type_error(format!("{what} is not a function"))
}

impl NodeHost {
    pub fn new(redis: crate::redis::Server) -> Self {
        NodeHost {
            redis,
            objects: vec![
                Obj::Require,
                Obj::Console,
                Obj::Module(Module::Redis),
                Obj::Module(Module::IoRedis),
                Obj::Module(Module::Mongodb),
                Obj::CreateClient,
                Obj::MongoClientClass,
            ],
            output: String::new(),
            round_trips: 0,
            null_proto: Vec::new(),
            connections: Vec::new(),
        }
    }

    fn add(&mut self, obj: Obj) -> u32 {
        self.objects.push(obj);
        (self.objects.len() - 1) as u32
    }

    fn redis_client(&mut self, flavor: Flavor) -> u32 {
        let conn = self.redis.connect();
        self.connections.push(conn);
        let id = self.objects.len() as u32;
        self.objects.push(Obj::RedisClient {
            flavor,
            conn,
            // ioredis connects as soon as it is made; node-redis waits for `connect()`.
            open: flavor == Flavor::IoRedis,
            json: id + 1,
            ft: id + 2,
        });
        self.objects.push(Obj::Namespace {
            client: id,
            ns: Namespace::Json,
        });
        self.objects.push(Obj::Namespace {
            client: id,
            ns: Namespace::Ft,
        });
        id
    }

    /// Runs one command on connection `conn`, leaving the console's own client current.
    fn send(&mut self, conn: u64, argv: &[Vec<u8>], now: u64) -> Reply {
        if argv.is_empty() {
            return Reply::Error("ERR unknown command ''".into());
        }
        let home = self.redis.client_id();
        self.redis.switch_client(conn);
        let reply = self.redis.execute(argv, now);
        self.redis.switch_client(home);
        reply
    }

    fn reply_error(flavor: Flavor, message: String) -> ShellError {
        match flavor {
            Flavor::NodeRedis => ShellError::new("ErrorReply", message),
            Flavor::IoRedis => ShellError::new("ReplyError", message),
        }
    }

    fn remember_null_proto(&mut self, shape: Shape, v: &Value) {
        match (shape, v) {
            (Shape::Object { null_proto: true }, Value::Document(d)) => {
                self.null_proto.push(d.clone());
            }
            (Shape::Search, Value::Document(d)) => {
                if let Some(Value::Array(docs)) = d.get("documents") {
                    for doc in docs {
                        if let Value::Document(hit) = doc {
                            if let Some(Value::Document(v)) = hit.get("value") {
                                self.null_proto.push(v.clone());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// One command as one round trip.
    fn run_command(
        &mut self,
        flavor: Flavor,
        conn: u64,
        command: Command,
        now: u64,
    ) -> Result<HostValue, ShellError> {
        self.round_trips += 1;
        let reply = self.send(conn, &command.argv, now);
        match cmd::shape_reply(command.shape, reply) {
            Ok(v) => {
                self.remember_null_proto(command.shape, &v);
                Ok(HostValue::Value(v))
            }
            Err(message) => Err(Self::reply_error(flavor, message)),
        }
    }

    fn build(
        flavor: Flavor,
        ns: Option<Namespace>,
        method: &str,
        args: &[HostArg],
    ) -> Result<Command, ShellError> {
        match (flavor, ns, method) {
            (_, Some(Namespace::Json), m) => cmd::node_redis_json(m, args),
            (_, Some(Namespace::Ft), m) => cmd::node_redis_ft(m, args),
            (Flavor::NodeRedis, None, "sendCommand") => Ok(cmd::raw(args)),
            (Flavor::IoRedis, None, "call" | "send_command") => Ok(cmd::raw(args)),
            (Flavor::NodeRedis, None, m) => cmd::node_redis(m, args),
            (Flavor::IoRedis, None, m) => cmd::ioredis(m, args),
        }
    }

    fn client_call(
        &mut self,
        id: u32,
        method: &str,
        args: &[HostArg],
        now: u64,
    ) -> Result<HostValue, ShellError> {
        let Some(Obj::RedisClient {
            flavor, conn, open, ..
        }) = self.objects.get(id as usize)
        else {
            return Ok(HostValue::Undefined);
        };
        let (flavor, conn, open) = (*flavor, *conn, *open);
        match method {
            "connect" => {
                self.set_open(id, true);
                return Ok(HostValue::Object(id));
            }
            "on" | "once" | "off" => return Ok(HostValue::Object(id)),
            "quit" | "disconnect" | "close" => {
                self.set_open(id, false);
                let _ = self.redis.disconnect(conn);
                return Ok(match (method, flavor) {
                    ("quit", _) | ("close", Flavor::NodeRedis) => {
                        HostValue::Value(Value::String("OK".into()))
                    }
                    _ => HostValue::Undefined,
                });
            }
            "multi" | "pipeline" => {
                let transaction = method == "multi";
                return Ok(HostValue::Object(self.add(Obj::Batch {
                    client: id,
                    transaction,
                    cmds: Vec::new(),
                })));
            }
            _ => {}
        }
        if !open {
            return Err(match flavor {
                Flavor::NodeRedis => ShellError::new("ClientClosedError", "The client is closed"),
                Flavor::IoRedis => ShellError::new("Error", "Connection is closed."),
            });
        }
        let command = Self::build(flavor, None, method, args)?;
        self.run_command(flavor, conn, command, now)
    }

    fn set_open(&mut self, id: u32, value: bool) {
        if let Some(Obj::RedisClient { open, .. }) = self.objects.get_mut(id as usize) {
            *open = value;
        }
    }

    fn client_of(&self, id: u32) -> Option<(Flavor, u64)> {
        match self.objects.get(id as usize) {
            Some(Obj::RedisClient { flavor, conn, .. }) => Some((*flavor, *conn)),
            _ => None,
        }
    }

    fn batch_call(
        &mut self,
        id: u32,
        method: &str,
        args: &[HostArg],
        now: u64,
    ) -> Result<HostValue, ShellError> {
        let Some(Obj::Batch {
            client,
            transaction,
            ..
        }) = self.objects.get(id as usize)
        else {
            return Ok(HostValue::Undefined);
        };
        let (client, transaction) = (*client, *transaction);
        let Some((flavor, conn)) = self.client_of(client) else {
            return Ok(HostValue::Undefined);
        };
        if method != "exec" && method != "execAsPipeline" {
            let built = Self::build(flavor, None, method, args);
            if let Some(Obj::Batch { cmds, .. }) = self.objects.get_mut(id as usize) {
                cmds.push(built);
            }
            return Ok(HostValue::Object(id));
        }
        let cmds = match self.objects.get_mut(id as usize) {
            Some(Obj::Batch { cmds, .. }) => std::mem::take(cmds),
            _ => Vec::new(),
        };
        // The whole batch is written at once: one round trip.
        self.round_trips += 1;
        let transaction = transaction && method == "exec";
        let mut out = Vec::with_capacity(cmds.len());
        if transaction {
            let _ = self.send(conn, &[b"MULTI".to_vec()], now);
        }
        let mut shapes = Vec::with_capacity(cmds.len());
        for c in cmds {
            let c = c?;
            let reply = self.send(conn, &c.argv, now);
            shapes.push(c.shape);
            if !transaction {
                out.push(self.batch_entry(flavor, c.shape, reply));
            }
        }
        if transaction {
            match self.send(conn, &[b"EXEC".to_vec()], now) {
                Reply::Array(replies) => {
                    for (reply, shape) in replies.into_iter().zip(shapes) {
                        out.push(self.batch_entry(flavor, shape, reply));
                    }
                }
                Reply::Error(e) => return Err(Self::reply_error(flavor, e)),
                _ => return Ok(HostValue::Value(Value::Null)),
            }
        }
        if flavor == Flavor::NodeRedis && transaction {
            // node-redis 4 rejects a transaction in which a command failed.
            let failed = out.iter().filter(|v| error_parts(v).is_some()).count();
            if failed > 0 {
                return Err(ShellError::new(
                    "MultiErrorReply",
                    format!(
                        "{failed} commands failed, see .replies and .errorIndexes for more information"
                    ),
                ));
            }
        }
        Ok(HostValue::Value(Value::Array(out)))
    }

    /// One reply of a batch: ioredis gives `[err, result]` pairs, node-redis the results.
    fn batch_entry(&mut self, flavor: Flavor, shape: Shape, reply: Reply) -> Value {
        let r = cmd::shape_reply(shape, reply);
        if let Ok(v) = &r {
            self.remember_null_proto(shape, v);
        }
        match (flavor, r) {
            (Flavor::NodeRedis, Ok(v)) => v,
            (Flavor::NodeRedis, Err(e)) => cmd::error_document("ErrorReply", &e),
            (Flavor::IoRedis, Ok(v)) => Value::Array(vec![Value::Null, v]),
            (Flavor::IoRedis, Err(e)) => Value::Array(vec![cmd::error_document("ReplyError", &e)]),
        }
    }

    fn console(&mut self, method: &str, args: &[HostArg]) -> Result<HostValue, ShellError> {
        match method {
            "log" | "info" | "warn" | "error" | "debug" | "dir" | "trace" => {
                let line = self.console_text(args);
                self.output.push_str(&line);
                self.output.push('\n');
                Ok(HostValue::Undefined)
            }
            other => Err(not_a_function(&format!("console.{other}"))),
        }
    }

    /// Node's `util.format` for `console.log`'s arguments.
    pub fn console_text(&self, args: &[HostArg]) -> String {
        let mut parts = Vec::with_capacity(args.len());
        let mut rest = args;
        if let Some(HostArg::Value(Value::String(fmt))) = args.first() {
            if fmt.contains('%') {
                let (text, used) = self.substitute(fmt, &args[1..]);
                parts.push(text);
                rest = args.get(1 + used..).unwrap_or(&[]);
            } else {
                parts.push(fmt.clone());
                rest = &args[1..];
            }
        }
        for a in rest {
            parts.push(match a {
                HostArg::Value(Value::String(s)) => s.clone(),
                other => self.inspect_arg(other),
            });
        }
        parts.join(" ")
    }

    fn substitute(&self, fmt: &str, args: &[HostArg]) -> (String, usize) {
        let mut out = String::new();
        let mut used = 0;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(&spec) = chars.peek() else {
                out.push('%');
                break;
            };
            if spec == '%' {
                chars.next();
                out.push('%');
                continue;
            }
            if !matches!(spec, 's' | 'd' | 'i' | 'f' | 'j' | 'o' | 'O' | 'c') {
                out.push('%');
                continue;
            }
            let Some(arg) = args.get(used) else {
                out.push('%');
                continue;
            };
            chars.next();
            used += 1;
            let v = value(Some(arg));
            match spec {
                's' => out.push_str(&match &v {
                    Value::String(s) => s.clone(),
                    Value::Document(_) | Value::Array(_) => self.inspect_arg(arg),
                    _ => self.inspect_arg(arg),
                }),
                'd' | 'i' | 'f' => {
                    let n = match &v {
                        Value::String(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
                        Value::Bool(b) => f64::from(u8::from(*b)),
                        Value::Int32(i) => f64::from(*i),
                        Value::Int64(i) => *i as f64,
                        Value::Double(x) => *x,
                        _ => f64::NAN,
                    };
                    let n = if spec == 'i' { n.trunc() } else { n };
                    out.push_str(&crate::mongo::value::js_number(n));
                }
                'j' => out.push_str(&crate::mongo::shell::host::json_stringify(&v)),
                'c' => {}
                _ => out.push_str(&self.inspect_arg(arg)),
            }
        }
        (out, used)
    }

    /// How `console.log` shows a non-string argument (and the REPL any value).
    pub fn inspect_arg(&self, a: &HostArg) -> String {
        match a {
            HostArg::Undefined => "undefined".into(),
            HostArg::Function => "[Function (anonymous)]".into(),
            HostArg::Object(id) => self.class_name(*id),
            HostArg::Value(v) => self.inspect(v),
        }
    }

    pub fn inspect(&self, v: &Value) -> String {
        if let Some((name, message)) = error_parts(v) {
            return render_error(name, message);
        }
        inspect_node(v, &self.null_proto)
    }

    fn class_name(&self, id: u32) -> String {
        match self.objects.get(id as usize) {
            Some(Obj::RedisClient {
                flavor: Flavor::NodeRedis,
                ..
            }) => "Commander {}".into(),
            Some(Obj::RedisClient { .. }) => "Redis {}".into(),
            Some(Obj::MongoClient) => "MongoClient {}".into(),
            Some(Obj::MongoDb(name)) => format!("Db {{ databaseName: '{name}' }}"),
            Some(Obj::Batch { .. }) => "Pipeline {}".into(),
            Some(Obj::Console) => "Object [console] {}".into(),
            _ => "[Function (anonymous)]".into(),
        }
    }

    fn require(&self, args: &[HostArg]) -> Result<HostValue, ShellError> {
        let name = match value(args.first()) {
            Value::String(s) => s,
            _ => {
                return Err(ShellError::type_error(
                    "The \"id\" argument must be of type string",
                ))
            }
        };
        match name.as_str() {
            "redis" | "@redis/client" => Ok(HostValue::Object(REDIS_MODULE)),
            "ioredis" => Ok(HostValue::Object(IOREDIS_CLASS)),
            "mongodb" => Ok(HostValue::Object(MONGODB_MODULE)),
            _ => Err(ShellError::new(
                "Error",
                format!(
                    "Cannot find module '{name}' (driver snippets can require 'redis', 'ioredis' and 'mongodb')"
                ),
            )),
        }
    }

    fn mongo_call(
        &mut self,
        id: u32,
        method: &str,
        args: &[HostArg],
    ) -> Result<HostValue, ShellError> {
        match (self.objects.get(id as usize), method) {
            (Some(Obj::MongoClient), "connect") => Ok(HostValue::Object(id)),
            (Some(Obj::MongoClient), "close") => Ok(HostValue::Undefined),
            (Some(Obj::MongoClient), "startSession") => Ok(HostValue::StartSession),
            (Some(Obj::MongoClient), "db") => {
                let name = match value(args.first()) {
                    Value::String(s) => s,
                    _ => "test".into(),
                };
                Ok(HostValue::Object(self.add(Obj::MongoDb(name))))
            }
            (Some(Obj::MongoDb(db)), "collection") => match value(args.first()) {
                Value::String(name) => Ok(HostValue::Collection {
                    db: db.clone(),
                    name,
                }),
                _ => Err(ShellError::new(
                    "MongoInvalidArgumentError",
                    "Collection names must be a String",
                )),
            },
            _ => Err(not_a_function(method)),
        }
    }
}

/// `{ name, message }` documents with an error's name: how caught errors reach `console.log`.
fn error_parts(v: &Value) -> Option<(&str, &str)> {
    let Value::Document(d) = v else {
        return None;
    };
    let (Some(Value::String(name)), Some(Value::String(message))) =
        (d.get("name"), d.get("message"))
    else {
        return None;
    };
    let is_error = name.ends_with("Error") || name.ends_with("ErrorReply");
    let only_error_fields = d
        .keys()
        .all(|k| matches!(k.as_str(), "name" | "message" | "code" | "codeName"));
    (is_error && only_error_fields).then_some((name.as_str(), message.as_str()))
}

/// The line Node prints for an error: node-redis's `ErrorReply` and `MultiErrorReply` have
/// no stack, so Node shows them bracketed; other errors show their stack's first line.
pub fn render_error(name: &str, message: &str) -> String {
    if name.ends_with("ErrorReply") {
        format!("[{name}: {message}]")
    } else if message.is_empty() {
        name.to_string()
    } else {
        format!("{name}: {message}")
    }
}

const NODE_REDIS_METHODS: &[&str] = &[
    "connect",
    "quit",
    "disconnect",
    "on",
    "once",
    "off",
    "multi",
    "sendCommand",
];

const IOREDIS_METHODS: &[&str] = &[
    "quit",
    "disconnect",
    "on",
    "once",
    "off",
    "multi",
    "pipeline",
    "call",
    "send_command",
    "connect",
];

impl crate::mongo::shell::Host for NodeHost {
    fn global(&self, name: &str) -> Option<HostValue> {
        match name {
            "require" => Some(HostValue::Object(REQUIRE)),
            "console" => Some(HostValue::Object(CONSOLE)),
            // mongosh's globals are not Node's: the driver's types must be imported.
            "db" | "print" | "printjson" | "ISODate" | "ObjectId" | "NumberInt" | "NumberLong"
            | "NumberDecimal" | "Decimal128" | "Timestamp" | "UUID" | "BinData" | "HexData"
            | "MinKey" | "MaxKey" | "Long" | "Int32" | "Double" | "Binary" | "EJSON" => {
                Some(HostValue::NotDefined)
            }
            _ => None,
        }
    }

    fn member(&self, object: u32, name: &str) -> HostValue {
        match self.objects.get(object as usize) {
            Some(Obj::Console) => HostValue::Method,
            Some(Obj::Module(Module::Redis)) => match name {
                "createClient" => HostValue::Object(CREATE_CLIENT),
                "default" => HostValue::Object(REDIS_MODULE),
                _ => HostValue::Undefined,
            },
            Some(Obj::Module(Module::IoRedis)) => match name {
                "Redis" | "default" => HostValue::Object(IOREDIS_CLASS),
                _ => HostValue::Undefined,
            },
            Some(Obj::Module(Module::Mongodb)) => match name {
                "MongoClient" => HostValue::Object(MONGO_CLIENT_CLASS),
                "ObjectId" | "Decimal128" | "Long" | "Timestamp" | "Double" | "Int32"
                | "MinKey" | "MaxKey" | "UUID" | "Binary" => HostValue::Global(match name {
                    "ObjectId" => "ObjectId",
                    "Decimal128" => "Decimal128",
                    "Long" => "Long",
                    "Timestamp" => "Timestamp",
                    "Double" => "Double",
                    "Int32" => "Int32",
                    "MinKey" => "MinKey",
                    "MaxKey" => "MaxKey",
                    "UUID" => "UUID",
                    _ => "Binary",
                }),
                "default" => HostValue::Object(MONGODB_MODULE),
                _ => HostValue::Undefined,
            },
            Some(Obj::RedisClient {
                flavor,
                open,
                json,
                ft,
                ..
            }) => match (flavor, name) {
                (Flavor::NodeRedis, "json") => HostValue::Object(*json),
                (Flavor::NodeRedis, "ft") => HostValue::Object(*ft),
                (Flavor::NodeRedis, "isOpen" | "isReady") => HostValue::Value(Value::Bool(*open)),
                (Flavor::IoRedis, "status") => {
                    HostValue::Value(Value::String(if *open { "ready" } else { "end" }.into()))
                }
                (Flavor::NodeRedis, m)
                    if NODE_REDIS_METHODS.contains(&m) || cmd::node_redis_command(m).is_some() =>
                {
                    HostValue::Method
                }
                (Flavor::IoRedis, m)
                    if IOREDIS_METHODS.contains(&m)
                        || crate::redis::commands::lookup(m.as_bytes()).is_some() =>
                {
                    HostValue::Method
                }
                _ => HostValue::Undefined,
            },
            Some(Obj::Namespace { .. }) | Some(Obj::Batch { .. }) => HostValue::Method,
            Some(Obj::MongoClient) => match name {
                "connect" | "close" | "db" | "startSession" => HostValue::Method,
                _ => HostValue::Undefined,
            },
            Some(Obj::MongoDb(db)) => match name {
                "collection" => HostValue::Method,
                "databaseName" => HostValue::Value(Value::String(db.clone())),
                _ => HostValue::Undefined,
            },
            _ => HostValue::Undefined,
        }
    }

    fn call(&mut self, call: HostCall) -> Result<HostValue, ShellError> {
        let HostCall {
            object,
            method,
            args,
            is_new,
            now_ms,
        } = call;
        let Some(method) = method else {
            return match object {
                REQUIRE => self.require(&args),
                CREATE_CLIENT => Ok(HostValue::Object(self.redis_client(Flavor::NodeRedis))),
                IOREDIS_CLASS if is_new => {
                    Ok(HostValue::Object(self.redis_client(Flavor::IoRedis)))
                }
                IOREDIS_CLASS => Err(ShellError::type_error(
                    "Class constructor Redis cannot be invoked without 'new'",
                )),
                MONGO_CLIENT_CLASS if is_new => Ok(HostValue::Object(self.add(Obj::MongoClient))),
                MONGO_CLIENT_CLASS => Err(ShellError::type_error(
                    "Class constructor MongoClient cannot be invoked without 'new'",
                )),
                _ => Err(ShellError::type_error("object is not a function")),
            };
        };
        match self.objects.get(object as usize) {
            Some(Obj::Console) => self.console(method, &args),
            Some(Obj::RedisClient { .. }) => self.client_call(object, method, &args, now_ms),
            Some(Obj::Namespace { client, ns }) => {
                let (client, ns) = (*client, *ns);
                let Some((flavor, conn)) = self.client_of(client) else {
                    return Ok(HostValue::Undefined);
                };
                let command = Self::build(flavor, Some(ns), method, &args)?;
                self.run_command(flavor, conn, command, now_ms)
            }
            Some(Obj::Batch { .. }) => self.batch_call(object, method, &args, now_ms),
            Some(Obj::MongoClient | Obj::MongoDb(_)) => self.mongo_call(object, method, &args),
            _ => Err(not_a_function(method)),
        }
    }

    fn collection_call(&mut self, method: &str, result: Option<Value>) -> Option<Value> {
        self.round_trips += 1;
        let mut result = result?;
        if let Value::Document(d) = &mut result {
            reshape_write_result(method, d);
        }
        Some(result)
    }

    fn cursor_read(&mut self) {
        self.round_trips += 1;
    }

    fn describe(&self, _object: u32) -> String {
        OBJECT_MARK.to_string()
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// The driver's result objects where they differ from mongosh's: `insertMany` counts what
/// it inserted, and update results are `{ acknowledged, modifiedCount, upsertedId,
/// upsertedCount, matchedCount }` (mongodb 6, lib/operations/update.js).
fn reshape_write_result(method: &str, d: &mut Document) {
    match method {
        "insertMany" => {
            let count = match d.get("insertedIds") {
                Some(Value::Document(ids)) => ids.len(),
                _ => 0,
            };
            let ids = d.shift_remove("insertedIds").unwrap_or(Value::Null);
            d.insert("insertedCount".into(), Value::Int32(count as i32));
            d.insert("insertedIds".into(), ids);
        }
        "updateOne" | "updateMany" | "replaceOne" => {
            let get = |k: &str| d.get(k).cloned();
            let mut out = Document::default();
            out.insert(
                "acknowledged".into(),
                get("acknowledged").unwrap_or(Value::Bool(true)),
            );
            out.insert(
                "modifiedCount".into(),
                get("modifiedCount").unwrap_or(Value::Int32(0)),
            );
            out.insert(
                "upsertedId".into(),
                get("upsertedId")
                    .or_else(|| get("insertedId"))
                    .unwrap_or(Value::Null),
            );
            out.insert(
                "upsertedCount".into(),
                get("upsertedCount").unwrap_or(Value::Int32(0)),
            );
            out.insert(
                "matchedCount".into(),
                get("matchedCount").unwrap_or(Value::Int32(0)),
            );
            *d = out;
        }
        _ => {}
    }
}
