//! Host objects: what an embedder (the JavaScript driver-snippet mode) adds to the
//! evaluator's language without the evaluator knowing them: `require`, driver clients and
//! their methods. The mongosh console installs no host, and then none of this is reachable.
//!
//! With a host installed the evaluator also knows the little of the event loop that driver
//! code leans on, with every promise settled at once: `new Promise(executor)`,
//! `Promise.resolve / all`, and `setTimeout(f, ms)`, which advances the session's clock by
//! `ms` before calling `f` (so `await new Promise(r => setTimeout(r, 1000))` sleeps a
//! virtual second).

use std::any::Any;

use super::eval::{Js, ScopeRef, Session};
use super::ShellError;
use crate::mongo::value::{Document, Value};

/// What a host object or one of its properties evaluates to.
#[derive(Debug, Clone)]
pub enum HostValue {
    Undefined,
    Value(Value),
    /// A host object, by the host's own number for it.
    Object(u32),
    /// A method of the object whose property was read: calling it calls the host.
    Method,
    /// A collection of the sandbox's Mongo store: its methods are the shell's own.
    Collection {
        db: String,
        name: String,
    },
    /// The shell's own global of that name (`ObjectId` as the driver exports it).
    Global(&'static str),
    /// A name the shell knows but the host's language does not (mongosh's `db` and
    /// `print` in Node): a ReferenceError, as there.
    NotDefined,
    /// A new client session of the sandbox's Mongo shell (the driver's `startSession()`).
    StartSession,
}

/// How a client session travels inside an options document (`{ session }`) to a collection
/// method of a host: the shell's session number under this key.
const SESSION_MARK: &str = "$clientSession";

/// An argument passed to a host call.
#[derive(Debug, Clone)]
pub enum HostArg {
    Undefined,
    Value(Value),
    Object(u32),
    /// A function (a callback the host may ignore, such as `client.on('error', f)`).
    Function,
}

/// One call into the host: `object(args)` or `object.method(args)`, with `new` or not.
pub struct HostCall<'a> {
    pub object: u32,
    pub method: Option<&'a str>,
    pub args: Vec<HostArg>,
    pub is_new: bool,
    /// The session's time now (the clock `setTimeout` advances).
    pub now_ms: u64,
}

pub trait Host: Any + std::fmt::Debug {
    /// A global name the host defines; user bindings shadow it, it shadows the shell's own.
    fn global(&self, name: &str) -> Option<HostValue>;
    /// Reading `name` of host object `object`.
    fn member(&self, object: u32, name: &str) -> HostValue;
    fn call(&mut self, call: HostCall) -> Result<HostValue, ShellError>;
    /// A collection method ran (`find` excepted: a cursor runs when first read, and then
    /// `cursor_read` is called); the host may replace its result with its own form.
    fn collection_call(&mut self, method: &str, result: Option<Value>) -> Option<Value>;
    /// A find cursor fetched its first batch.
    fn cursor_read(&mut self);
    /// What a host object prints as where the shell shows a value.
    fn describe(&self, object: u32) -> String;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// The console's own bindings while a hosted script runs in a scope of its own.
pub struct Stashed {
    global: ScopeRef,
    db: String,
}

impl Session {
    /// Installs `host` and gives the statements run until `remove_host` a global scope of
    /// their own, so that a snippet's `const client` neither sees nor leaves the console's.
    pub fn install_host(&mut self, host: Box<dyn Host>) -> Stashed {
        self.host = Some(host);
        let global = std::mem::take(&mut self.global);
        self.scope = self.global.clone();
        Stashed {
            global,
            db: self.db.clone(),
        }
    }

    pub fn remove_host(&mut self, stashed: Stashed) -> Option<Box<dyn Host>> {
        self.global = stashed.global;
        self.scope = self.global.clone();
        self.db = stashed.db;
        self.cursor = None;
        self.host.take()
    }

    /// The session's time: where `setTimeout` has moved it since `set_context`.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub(super) fn host_global(&self, name: &str) -> Option<Result<Js, ShellError>> {
        let host = self.host.as_ref()?;
        match host.global(name) {
            Some(HostValue::NotDefined) => {
                return Some(Err(ShellError::new(
                    "ReferenceError",
                    format!("{name} is not defined"),
                )))
            }
            Some(v) => return Some(Ok(from_host(v, None))),
            None => {}
        }
        match name {
            "setTimeout" => Some(Ok(Js::Native("setTimeout"))),
            "Promise" => Some(Ok(Js::Native("Promise"))),
            _ => None,
        }
    }

    pub(super) fn host_member(&self, target: &Js, name: &str) -> Option<Js> {
        self.host.as_ref()?;
        // A settled promise is its value: `.then(f)` calls `f` with it at once.
        if matches!(name, "then" | "catch" | "finally") && !matches!(target, Js::Host(_)) {
            return Some(Js::Method {
                target: Box::new(target.clone()),
                name: name.into(),
            });
        }
        match target {
            Js::Host(id) => {
                let host = self.host.as_ref()?;
                Some(from_host(host.member(*id, name), Some((*id, name))))
            }
            Js::Native("Promise") => match name {
                "resolve" => Some(Js::Native("Promise.resolve")),
                "all" => Some(Js::Native("Promise.all")),
                _ => Some(Js::Undefined),
            },
            _ => None,
        }
    }

    /// Whether calling `f` is the host's business (see `host_call`).
    pub(super) fn is_host_callable(&self, f: &Js) -> bool {
        self.host.is_some()
            && match f {
                Js::Host(_) => true,
                Js::Method { target, name } => {
                    matches!(**target, Js::Host(_))
                        || matches!(name.as_str(), "then" | "catch" | "finally")
                }
                Js::Native(name) => matches!(
                    *name,
                    "setTimeout"
                        | "Promise"
                        | "Promise.resolve"
                        | "Promise.all"
                        | "Promise resolve"
                        | "Promise reject"
                ),
                _ => false,
            }
    }

    /// Calls a host object, a method of one, or one of the event-loop stand-ins above.
    pub(super) fn host_call(
        &mut self,
        f: &Js,
        args: Vec<Js>,
        is_new: bool,
    ) -> Result<Js, ShellError> {
        let (object, method) = match f {
            Js::Host(id) => (*id, None),
            Js::Method { target, name } => match **target {
                Js::Host(id) => (id, Some(name.as_str())),
                _ => return self.settled_method(target, name, args),
            },
            Js::Native("setTimeout") => return self.set_timeout(args),
            Js::Native("Promise") => return self.new_promise(args),
            Js::Native("Promise resolve") => {
                self.resolved = Some(args.into_iter().next().unwrap_or(Js::Undefined));
                return Ok(Js::Undefined);
            }
            Js::Native("Promise reject") => {
                let reason = args.into_iter().next().unwrap_or(Js::Undefined);
                return Err(super::eval::thrown(reason));
            }
            // Promise.resolve(x) and Promise.all([…]): already settled.
            _ => return Ok(args.into_iter().next().unwrap_or(Js::Undefined)),
        };
        let args = args.into_iter().map(|a| self.host_arg(a)).collect();
        let call = HostCall {
            object,
            method,
            args,
            is_new,
            now_ms: self.now_ms,
        };
        match self.host.as_mut() {
            Some(host) => match host.call(call)? {
                HostValue::StartSession => self.mongo_method("startSession", Vec::new()),
                v => Ok(from_host(v, None)),
            },
            None => Ok(Js::Undefined),
        }
    }

    /// A client session as a value inside a document (`{ session }`), for a host's
    /// collection methods to find again.
    pub(super) fn session_mark(id: u32) -> Value {
        let mut d = Document::default();
        d.insert(SESSION_MARK.into(), Value::Int64(i64::from(id)));
        Value::Document(d)
    }

    /// Takes `session` out of a collection method's options: the session it runs in.
    fn take_session(args: &mut [Js]) -> Option<u32> {
        for a in args.iter_mut() {
            let Js::Val(Value::Document(opts)) = a else {
                continue;
            };
            let id = match opts.get("session") {
                Some(Value::Document(mark)) => match mark.get(SESSION_MARK) {
                    Some(Value::Int64(id)) => u32::try_from(*id).ok(),
                    _ => None,
                },
                _ => None,
            };
            if id.is_some() {
                opts.shift_remove("session");
                return id;
            }
        }
        None
    }

    /// A collection method of a host, in a session when its options named one.
    fn host_method(
        &mut self,
        db: &str,
        coll: &str,
        session: Option<u32>,
        method: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        match session {
            Some(session) => {
                let c = super::sessions::CollRef {
                    db: db.to_string(),
                    name: coll.to_string(),
                    session,
                };
                self.session_collection_call(&c, method, args)
            }
            None => self.outside_collection_call(db, coll, method, args),
        }
    }

    /// `.then(f)`, `.catch(f)`, `.finally(f)` on a settled value.
    fn settled_method(&mut self, value: &Js, name: &str, args: Vec<Js>) -> Result<Js, ShellError> {
        let f = args.into_iter().next().unwrap_or(Js::Undefined);
        match name {
            "then" if super::js::is_callable(&f) => self.call_value(&f, vec![value.clone()]),
            "finally" if super::js::is_callable(&f) => {
                self.call_value(&f, Vec::new())?;
                Ok(value.clone())
            }
            _ => Ok(value.clone()),
        }
    }

    fn host_arg(&self, a: Js) -> HostArg {
        match a {
            Js::Undefined => HostArg::Undefined,
            Js::Host(id) => HostArg::Object(id),
            Js::Function(_) | Js::Method { .. } | Js::Native(_) | Js::Builtin(_) => {
                HostArg::Function
            }
            other => self
                .to_bson(other)
                .map_or(HostArg::Function, HostArg::Value),
        }
    }

    fn set_timeout(&mut self, args: Vec<Js>) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        let f = args.next().unwrap_or(Js::Undefined);
        let ms = args.next().map_or(0.0, |v| self.to_js_number(&v));
        // Node runs a delay beyond 2^31 - 1 ms after 1 ms (and warns).
        let ms = if ms > 2_147_483_647.0 { 1.0 } else { ms };
        if ms.is_finite() && ms > 0.0 {
            self.now_ms = self.now_ms.saturating_add(ms as u64);
        }
        if super::js::is_callable(&f) {
            let rest: Vec<Js> = args.collect();
            self.call_value(&f, rest)?;
        }
        Ok(Js::Undefined)
    }

    fn new_promise(&mut self, args: Vec<Js>) -> Result<Js, ShellError> {
        let executor = args.into_iter().next().unwrap_or(Js::Undefined);
        if !super::js::is_callable(&executor) {
            return Err(ShellError::type_error(format!(
                "Promise resolver {} is not a function",
                self.to_js_string(&executor)
            )));
        }
        let outer = self.resolved.take();
        let r = self.call_value(
            &executor,
            vec![Js::Native("Promise resolve"), Js::Native("Promise reject")],
        );
        let value = std::mem::replace(&mut self.resolved, outer);
        r.map(|_| value.unwrap_or(Js::Undefined))
    }

    /// A collection method called as the Node driver takes it: `find` and `findOne` take
    /// an options object (`{ projection, sort, limit, skip }`) where mongosh takes the
    /// projection; the result then goes through the host.
    pub(super) fn host_collection_call(
        &mut self,
        db: &str,
        coll: &str,
        method: &str,
        mut args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let session = Self::take_session(&mut args);
        let mut options = None;
        if matches!(method, "find" | "findOne") {
            if let Some(Js::Val(Value::Document(opts))) = args.get(1) {
                options = Some(opts.clone());
                args[1] = opts
                    .get("projection")
                    .cloned()
                    .map_or(Js::Undefined, Js::Val);
            }
        }
        if method == "findOne" {
            if let Some(opts) = &options {
                // findOne with a sort or skip is find(…).sort(…).skip(…).limit(1).next().
                if opts.contains_key("sort") || opts.contains_key("skip") {
                    let r = self.host_method(db, coll, session, "find", args)?;
                    let docs = match r {
                        Js::Cursor(mut spec) => {
                            apply_find_options(&mut spec, opts);
                            spec.limit = Some(1);
                            self.run_cursor(&spec)?
                        }
                        _ => Vec::new(),
                    };
                    let first = docs.into_iter().next().map_or(Value::Null, Value::Document);
                    return Ok(self.host_collection_result(method, Js::Val(first)));
                }
            }
        }
        let mut r = match self.host_method(db, coll, session, method, args) {
            Ok(r) => r,
            Err(e) => {
                // A write the server refused was still a round trip.
                if let Some(host) = self.host.as_mut() {
                    host.collection_call(method, None);
                }
                return Err(e);
            }
        };
        if let (Js::Cursor(spec), Some(opts)) = (&mut r, &options) {
            apply_find_options(spec, opts);
        }
        Ok(self.host_collection_result(method, r))
    }

    /// A collection method's result, as the host shows it.
    fn host_collection_result(&mut self, method: &str, r: Js) -> Js {
        let Some(host) = self.host.as_mut() else {
            return r;
        };
        if method == "find" {
            return r;
        }
        match r {
            Js::Val(v) => host
                .collection_call(method, Some(v))
                .map_or(Js::Undefined, Js::Val),
            other => {
                host.collection_call(method, None);
                other
            }
        }
    }

    pub(super) fn host_cursor_read(&mut self) {
        if let Some(host) = self.host.as_mut() {
            host.cursor_read();
        }
    }
}

fn apply_find_options(spec: &mut super::eval::CursorSpec, opts: &crate::mongo::value::Document) {
    let count = |v: &Value| match v {
        Value::Int32(n) => usize::try_from(*n).ok(),
        Value::Int64(n) => usize::try_from(*n).ok(),
        Value::Double(x) if x.is_finite() && *x >= 0.0 => Some(*x as usize),
        _ => None,
    };
    if let Some(Value::Document(sort)) = opts.get("sort") {
        spec.sort = Some(sort.clone());
    }
    if let Some(n) = opts.get("limit").and_then(count) {
        spec.limit = (n > 0).then_some(n);
    }
    if let Some(n) = opts.get("skip").and_then(count) {
        spec.skip = n;
    }
}

fn from_host(v: HostValue, method_of: Option<(u32, &str)>) -> Js {
    match v {
        HostValue::Undefined | HostValue::NotDefined | HostValue::StartSession => Js::Undefined,
        HostValue::Value(v) => Js::Val(v),
        HostValue::Object(id) => Js::Host(id),
        HostValue::Collection { db, name } => Js::Collection { db, name },
        HostValue::Global(name) => super::eval::shell_global(name),
        HostValue::Method => match method_of {
            Some((id, name)) => Js::Method {
                target: Box::new(Js::Host(id)),
                name: name.into(),
            },
            None => Js::Undefined,
        },
    }
}

/// `JSON.stringify(v)`, for hosts that send values as JSON text.
pub fn json_stringify(v: &Value) -> String {
    let mut out = String::new();
    super::js::json_stringify(&mut out, v, "", "");
    out
}

/// `JSON.parse(text)`; None for text that is not JSON.
pub fn json_parse(text: &str) -> Option<Value> {
    let j = serde_json::from_str::<serde_json::Value>(text).ok()?;
    super::js::from_json(&j, 0, false).ok()
}
