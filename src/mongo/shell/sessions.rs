//! `db.getMongo()`, client sessions and their transactions, as mongosh and the Node driver
//! present them: `startSession`, `session.getDatabase(name)`, `startTransaction`,
//! `commitTransaction`, `abortTransaction`, `withTransaction`, `endSession`, and
//! `db.getSiblingDB(name)`.
//!
//! The driver's own checks (a transaction already in progress, none started, a session that
//! has ended) come first, in the driver's words (`MongoTransactionError`,
//! `MongoExpiredSessionError`); what reaches the server runs on the transaction's snapshot
//! (see `crate::mongo::txn`).

use std::collections::BTreeMap;

use super::eval::Js;
use super::{Session, ShellError};
use crate::mongo::store::WRITE_CONFLICT_MESSAGE;
use crate::mongo::txn::OpenTxn;
use crate::mongo::value::{Document, Value};

/// A database object other than `db`: from `db.getSiblingDB`, `db.getMongo().getDB`, or a
/// session's `getDatabase` (then bound to that session).
#[derive(Debug, Clone)]
pub(super) struct DbRef {
    pub name: String,
    pub session: Option<u32>,
}

/// A collection reached through a session's database.
#[derive(Debug, Clone)]
pub(super) struct CollRef {
    pub db: String,
    pub name: String,
    pub session: u32,
}

pub(super) const MONGO_METHODS: &[&str] = &["startSession", "getDB", "getDBNames"];

pub(super) const SESSION_METHODS: &[&str] = &[
    "getDatabase",
    "startTransaction",
    "commitTransaction",
    "abortTransaction",
    "withTransaction",
    "endSession",
    "hasEnded",
    "getOptions",
];

/// What mongosh prints for `db.getMongo()`.
pub(super) const CONNECTION_STRING: &str =
    "mongodb://127.0.0.1:27017/?directConnection=true&serverSelectionTimeoutMS=2000&appName=mongosh+2.3.8";

/// The driver's view of a session's transaction (`TxnState` in the Node driver).
#[derive(Debug, Clone, Copy, PartialEq)]
enum TxnState {
    None,
    Starting,
    InProgress,
    Committed,
    CommittedEmpty,
    Aborted,
}

#[derive(Debug)]
struct ClientSession {
    ended: bool,
    txn_number: i64,
    state: TxnState,
    options: Document,
    /// `defaultTransactionOptions` from startSession.
    defaults: Document,
}

/// The sessions a shell started, and the transactions open on the server.
#[derive(Debug, Default)]
pub struct Sessions {
    list: Vec<ClientSession>,
    open: BTreeMap<u32, OpenTxn>,
    /// The session whose transaction the running operation belongs to.
    pub(super) active: Option<u32>,
    /// `transactionLifetimeLimitSeconds`, when `setParameter` changed it.
    lifetime_secs: Option<i64>,
    /// The buckets collections a read built in the store (see `shell::buckets`), by
    /// database and name, to drop when the input ends.
    pub(super) bucket_views: Vec<(String, String)>,
}

/// `transactionLifetimeLimitSeconds` unless `setParameter` changes it.
pub const DEFAULT_TRANSACTION_LIFETIME_SECS: i64 = 60;

impl Sessions {
    /// Whether a transaction is open (its locks may make a write wait).
    pub(super) fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// `transactionLifetimeLimitSeconds` now.
    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
            .unwrap_or(DEFAULT_TRANSACTION_LIFETIME_SECS)
    }
}

fn transaction_error(message: &str) -> ShellError {
    ShellError::new("MongoTransactionError", message)
}

fn expired() -> ShellError {
    ShellError::new(
        "MongoExpiredSessionError",
        "Cannot use a session that has ended",
    )
}

/// `WriteConflict`, as a transaction's operation gets it.
pub(super) fn write_conflict() -> ShellError {
    let mut e = ShellError::server(112, Some("WriteConflict"), WRITE_CONFLICT_MESSAGE);
    e.labels = vec!["TransientTransactionError"];
    e
}

fn no_such_transaction(txn_number: i64) -> ShellError {
    let mut e = ShellError::server(
        251,
        Some("NoSuchTransaction"),
        format!("Transaction with {{ txnNumber: {txn_number} }} has been aborted."),
    );
    e.labels = vec!["TransientTransactionError"];
    e
}

/// `Cannot run 'count' in a multi-document transaction.`
pub(super) fn not_in_transaction(command: &str) -> ShellError {
    ShellError::server(
        263,
        Some("OperationNotSupportedInTransaction"),
        format!("Cannot run '{command}' in a multi-document transaction."),
    )
}

fn doc_arg(arg: Option<&Js>) -> Document {
    match arg {
        Some(Js::Val(Value::Document(d))) => d.clone(),
        _ => Document::default(),
    }
}

impl Session {
    fn client_session(&mut self, id: u32) -> Result<&mut ClientSession, ShellError> {
        let s = self
            .sessions
            .list
            .get_mut(id as usize)
            .ok_or_else(expired)?;
        if s.ended {
            return Err(expired());
        }
        Ok(s)
    }

    /// `db.getMongo().<name>(…)`.
    pub(super) fn mongo_method(&mut self, name: &str, args: Vec<Js>) -> Result<Js, ShellError> {
        match name {
            "startSession" => {
                let options = doc_arg(args.first());
                let mut defaults = Document::default();
                for k in ["readConcern", "writeConcern", "readPreference"] {
                    if let Some(v) = options.get(k) {
                        defaults.insert(k.into(), v.clone());
                    }
                }
                let mut driver = Document::default();
                if !defaults.is_empty() {
                    driver.insert(
                        "defaultTransactionOptions".into(),
                        Value::Document(defaults.clone()),
                    );
                }
                if let Some(v) = options.get("causalConsistency") {
                    driver.insert("causalConsistency".into(), v.clone());
                }
                let id = self.sessions.list.len() as u32;
                self.sessions.list.push(ClientSession {
                    ended: false,
                    txn_number: 0,
                    state: TxnState::None,
                    options: driver,
                    defaults,
                });
                Ok(Js::ClientSession(id))
            }
            "getDB" => match args.into_iter().next() {
                Some(Js::Val(Value::String(name))) if !name.trim().is_empty() => {
                    Ok(Js::Database(Box::new(DbRef {
                        name,
                        session: None,
                    })))
                }
                Some(Js::Val(Value::String(_))) => {
                    Err(ShellError::invalid_input("Database name cannot be empty."))
                }
                _ => Err(ShellError::invalid_input(
                    "Missing required argument at position 0 (Mongo.getDB)",
                )),
            },
            "getDBNames" => {
                let names = self
                    .store
                    .databases
                    .keys()
                    .cloned()
                    .chain(["admin", "config", "local"].map(String::from))
                    .collect::<std::collections::BTreeSet<_>>();
                Ok(Js::Val(Value::Array(
                    names.into_iter().map(Value::String).collect(),
                )))
            }
            _ => Err(ShellError::type_error(format!(
                "db.getMongo().{name} is not a function"
            ))),
        }
    }

    /// What mongosh prints for a session: its id.
    pub(super) fn session_value(&self, id: u32) -> Value {
        let mut d = Document::default();
        d.insert(
            "id".into(),
            super::ddl::collection_uuid("\0session", &id.to_string()),
        );
        Value::Document(d)
    }

    /// `session.<name>(…)`.
    pub(super) fn session_method(
        &mut self,
        id: u32,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        match name {
            "hasEnded" => Ok(Js::Val(Value::Bool(
                self.sessions.list.get(id as usize).is_none_or(|s| s.ended),
            ))),
            "getOptions" => Ok(Js::Val(Value::Document(
                self.sessions
                    .list
                    .get(id as usize)
                    .map(|s| s.options.clone())
                    .unwrap_or_default(),
            ))),
            "endSession" => {
                let Some(s) = self.sessions.list.get_mut(id as usize) else {
                    return Ok(Js::Undefined);
                };
                if s.ended {
                    return Ok(Js::Undefined);
                }
                s.ended = true;
                if matches!(s.state, TxnState::Starting | TxnState::InProgress) {
                    s.state = TxnState::Aborted;
                    self.drop_open(id);
                }
                Ok(Js::Undefined)
            }
            "getDatabase" => {
                self.client_session(id)?;
                match args.into_iter().next() {
                    Some(Js::Val(Value::String(db))) => {
                        if !super::eval::valid_db_name(&db) {
                            return Err(ShellError::invalid_input(format!(
                                "Invalid database name: {db}"
                            )));
                        }
                        Ok(Js::Database(Box::new(DbRef {
                            name: db,
                            session: Some(id),
                        })))
                    }
                    _ => Err(ShellError::invalid_input(
                        "Missing required argument at position 0 (Session.getDatabase)",
                    )),
                }
            }
            "startTransaction" => {
                let options = doc_arg(args.first());
                self.start_transaction(id, &options)?;
                Ok(Js::Undefined)
            }
            "commitTransaction" => self.commit_transaction(id).map(|()| Js::Undefined),
            "abortTransaction" => self.abort_transaction(id).map(|()| Js::Undefined),
            "withTransaction" => {
                let mut args = args.into_iter();
                let f = args.next().unwrap_or(Js::Undefined);
                if !super::js::is_callable(&f) {
                    return Err(ShellError::invalid_input(
                        "Argument at position 0 must be of type function",
                    ));
                }
                let options = doc_arg(args.next().as_ref());
                self.with_transaction(id, &f, &options)
            }
            _ => Err(ShellError::type_error(format!(
                "session.{name} is not a function"
            ))),
        }
    }

    fn start_transaction(&mut self, id: u32, options: &Document) -> Result<(), ShellError> {
        let s = self.client_session(id)?;
        if matches!(s.state, TxnState::Starting | TxnState::InProgress) {
            return Err(transaction_error("Transaction already in progress"));
        }
        let write_concern = options
            .get("writeConcern")
            .or_else(|| s.defaults.get("writeConcern"));
        if let Some(Value::Document(wc)) = write_concern {
            if wc
                .get("w")
                .is_some_and(|w| w.is_number() && super::eval::js_to_number(w) == 0.0)
            {
                return Err(transaction_error(
                    "Transactions do not support unacknowledged write concern",
                ));
            }
        }
        let read_concern = options
            .get("readConcern")
            .or_else(|| s.defaults.get("readConcern"));
        if let Some(Value::Document(rc)) = read_concern {
            if let Some(Value::String(level)) = rc.get("level") {
                if !matches!(level.as_str(), "local" | "majority" | "snapshot") {
                    // The driver sends it; the server refuses it with the first operation.
                    // The sandbox refuses it at once, with the server's words.
                    return Err(ShellError::server(
                        72,
                        Some("InvalidOptions"),
                        "The readConcern level must be either 'local' (default), 'majority' \
                         or 'snapshot' in order to run in a transaction",
                    ));
                }
            }
        }
        s.txn_number += 1;
        s.state = TxnState::Starting;
        Ok(())
    }

    /// A driver snippet's command that reaches the server (a commit or abort of a
    /// transaction that sent operations) counts as a round trip.
    fn driver_round_trip(&mut self, command: &str) {
        if let Some(host) = self.host.as_mut() {
            host.collection_call(command, None);
        }
    }

    fn drop_open(&mut self, id: u32) {
        if let Some(txn) = self.sessions.open.remove(&id) {
            txn.release(&mut self.store);
        }
    }

    fn commit_transaction(&mut self, id: u32) -> Result<(), ShellError> {
        let s = self.client_session(id)?;
        let txn_number = s.txn_number;
        match s.state {
            TxnState::None => Err(transaction_error("No transaction started")),
            TxnState::Starting | TxnState::CommittedEmpty => {
                s.state = TxnState::CommittedEmpty;
                Ok(())
            }
            TxnState::Aborted => Err(transaction_error(
                "Cannot call commitTransaction after calling abortTransaction",
            )),
            // Committing again is a retry: the server answers as it did.
            TxnState::Committed => Ok(()),
            TxnState::InProgress => {
                s.state = TxnState::Committed;
                self.driver_round_trip("commitTransaction");
                let Some(txn) = self.sessions.open.remove(&id) else {
                    return Ok(());
                };
                if txn.aborted {
                    return Err(no_such_transaction(txn_number));
                }
                txn.commit(&mut self.store).map_err(|_| write_conflict())
            }
        }
    }

    fn abort_transaction(&mut self, id: u32) -> Result<(), ShellError> {
        let s = self.client_session(id)?;
        match s.state {
            TxnState::None => Err(transaction_error("No transaction started")),
            TxnState::Aborted => Err(transaction_error("Cannot call abortTransaction twice")),
            TxnState::Committed | TxnState::CommittedEmpty => Err(transaction_error(
                "Cannot call abortTransaction after calling commitTransaction",
            )),
            TxnState::Starting | TxnState::InProgress => {
                let sent = s.state == TxnState::InProgress;
                s.state = TxnState::Aborted;
                if sent {
                    self.driver_round_trip("abortTransaction");
                }
                // The driver ignores what the server answers to abortTransaction.
                self.drop_open(id);
                Ok(())
            }
        }
    }

    /// `session.withTransaction(fn, options)`: runs `fn` in a transaction and commits it;
    /// an error labelled TransientTransactionError runs it again (a few times: in the
    /// sandbox nothing else runs in between, so a conflict that repeats would repeat
    /// forever), any other error aborts and is thrown.
    fn with_transaction(&mut self, id: u32, f: &Js, options: &Document) -> Result<Js, ShellError> {
        const ATTEMPTS: usize = 3;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.start_transaction(id, options)?;
            // The driver passes the callback its session.
            let result = self.call_value(f, vec![Js::ClientSession(id)]);
            let result = match result {
                Ok(v) => {
                    let ended = self.sessions.list.get(id as usize).is_none_or(|s| {
                        !matches!(s.state, TxnState::Starting | TxnState::InProgress)
                    });
                    if ended {
                        return Ok(v);
                    }
                    self.commit_transaction(id).map(|()| v)
                }
                Err(e) => {
                    let open = self.sessions.list.get(id as usize).is_some_and(|s| {
                        matches!(s.state, TxnState::Starting | TxnState::InProgress)
                    });
                    if open {
                        self.abort_transaction(id)?;
                    }
                    Err(e)
                }
            };
            match result {
                Err(e) if e.labels.contains(&"TransientTransactionError") && attempt < ATTEMPTS => {
                    continue
                }
                other => return other,
            }
        }
    }

    /// Runs `f` as an operation of session `id`: in its transaction's snapshot when one is
    /// open, on the databases themselves when not.
    pub(super) fn in_session<T>(
        &mut self,
        id: u32,
        f: impl FnOnce(&mut Session) -> Result<T, ShellError>,
    ) -> Result<T, ShellError> {
        let s = self.client_session(id)?;
        let txn_number = s.txn_number;
        match s.state {
            TxnState::Starting => {
                s.state = TxnState::InProgress;
                let lifetime_ms = self.sessions.lifetime_secs().saturating_mul(1000);
                let expires_ms = self.now_ms.saturating_add(lifetime_ms.max(0) as u64);
                let txn = OpenTxn::begin(&self.store, expires_ms);
                self.sessions.open.insert(id, txn);
            }
            TxnState::InProgress => {}
            // An operation outside a transaction ends the driver's memory of the last one.
            _ => {
                s.state = TxnState::None;
                return f(self);
            }
        }
        let Some(mut txn) = self.sessions.open.remove(&id) else {
            return f(self);
        };
        if txn.aborted {
            self.sessions.open.insert(id, txn);
            return Err(no_such_transaction(txn_number));
        }
        std::mem::swap(&mut self.store, &mut txn.work);
        let outer = self.sessions.active.replace(id);
        let result = f(self);
        self.sessions.active = outer;
        std::mem::swap(&mut self.store, &mut txn.work);
        let others: Vec<&OpenTxn> = self.sessions.open.values().collect();
        let absorbed = txn.absorb(&mut self.store, &others);
        let result = match absorbed {
            Err(_) => Err(write_conflict()),
            Ok(()) => result,
        };
        if let Err(e) = &result {
            // A server error in a transaction aborts it on the server.
            if e.name == "MongoServerError" && e.code.is_some() {
                txn.abort(&mut self.store);
            }
        }
        self.sessions.open.insert(id, txn);
        result
    }

    /// `count()`, `size()` and `explain()` of a cursor opened through a session: they read
    /// the session's snapshot, and a transaction refuses them as the server does.
    pub(super) fn session_cursor_method(
        &mut self,
        id: u32,
        cursor: &std::rc::Rc<std::cell::RefCell<super::eval::LiveCursor>>,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        self.in_session(id, |s| {
            if s.in_transaction() {
                return Err(not_in_transaction(if name == "explain" {
                    "explain"
                } else {
                    "count"
                }));
            }
            s.cursor_method(cursor, name, args)
        })
    }

    /// The server's transaction reaper: every open transaction whose lifetime has run out by
    /// sandbox time `now_ms` is aborted (its session learns of it with its next command).
    pub(super) fn reap_expired_transactions(&mut self) {
        let now = self.now_ms;
        for txn in self.sessions.open.values_mut() {
            if !txn.aborted && txn.expires_ms <= now {
                txn.abort(&mut self.store);
            }
        }
    }

    /// A collection method called outside any transaction (`db.coll.…`, or through a
    /// session with no transaction open).
    ///
    /// A write that reaches a document an open transaction has written waits, on the real
    /// server, until that transaction ends. The shell is blocked meanwhile, so the only end
    /// is the transaction's expiry: the write completes once the server has aborted the
    /// transaction, `transactionLifetimeLimitSeconds` after it began, or fails with
    /// `MaxTimeMSExpired` if its `maxTimeMS` runs out first. The sandbox shows that outcome
    /// at once (its clock does not move): the holder is aborted and the write runs again on
    /// the collection as it was before the blocked attempt. Holders go in the order they
    /// expire, since every transaction that expires during the wait is aborted by then.
    /// An aggregation ending in `$merge` or `$out` is such a write, to its target.
    pub(super) fn outside_collection_call(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        self.prepare_buckets_view(db, coll, name, is_write(name))?;
        let target = if is_write(name) {
            Some((db.to_string(), coll.to_string()))
        } else if name == "aggregate" {
            pipeline_target(db, &args)
        } else {
            None
        };
        self.write_waiting_for_locks(target, name, args, |s, args| {
            s.collection_method(db, coll, name, args)
        })
    }

    /// `db.aggregate(…)` outside a transaction: a `$merge` or `$out` at its end waits for
    /// the transactions holding its target as a collection's writes do.
    pub(super) fn outside_db_aggregate(&mut self, args: Vec<Js>) -> Result<Js, ShellError> {
        let db = self.db.clone();
        let target = pipeline_target(&db, &args);
        self.write_waiting_for_locks(target, "aggregate", args, |s, args| {
            s.db_method("aggregate", args)
        })
    }

    /// Runs `call`, a write to collection `target` (None: not a write), waiting as
    /// `outside_collection_call` describes for the transactions that hold it.
    fn write_waiting_for_locks(
        &mut self,
        target: Option<crate::mongo::txn::Namespace>,
        name: &str,
        args: Vec<Js>,
        mut call: impl FnMut(&mut Session, Vec<Js>) -> Result<Js, ShellError>,
    ) -> Result<Js, ShellError> {
        let blocked = |s: &Session, ns: &crate::mongo::txn::Namespace| {
            s.sessions.open.values().any(|t| t.holds_locks_in(ns))
        };
        let Some(ns) = target.filter(|ns| blocked(self, ns)) else {
            return call(self, args).map_err(super::eval::outside_conflict);
        };
        let max_time = max_time_ms(name, &args);
        loop {
            let before = self
                .store
                .collection(&ns.0, &ns.1)
                .map(|c| c.snapshot(false));
            let result = call(self, args.clone());
            let conflicted = matches!(&result, Err(e) if e.code == Some(112));
            let holder = self
                .sessions
                .open
                .iter()
                .filter(|(_, t)| t.holds_locks_in(&ns))
                .min_by_key(|(_, t)| t.expires_ms)
                .map(|(id, t)| (*id, t.expires_ms));
            let (Some((id, expires_ms)), true) = (holder, conflicted) else {
                return result.map_err(super::eval::outside_conflict);
            };
            if max_time.is_some_and(|ms| self.now_ms.saturating_add(ms) < expires_ms) {
                // What the write did before it blocked stays, as on the server.
                return Err(max_time_expired(name));
            }
            match before {
                Some(mut before) => {
                    let target = self.store.collection_mut(&ns.0, &ns.1);
                    before.take_locks_from(target);
                    *target = before;
                }
                None => {
                    self.store.drop_collection(&ns.0, &ns.1);
                }
            }
            if let Some(txn) = self.sessions.open.get_mut(&id) {
                txn.abort(&mut self.store);
            }
        }
    }

    /// `db.adminCommand(command)`: `getParameter` and `setParameter` of
    /// `transactionLifetimeLimitSeconds`; other commands as `db.runCommand`.
    pub(super) fn admin_command(&mut self, command: Option<Js>) -> Result<Js, ShellError> {
        const NAME: &str = "transactionLifetimeLimitSeconds";
        let spec = match &command {
            Some(Js::Val(Value::Document(d))) => d.clone(),
            _ => return self.run_command(command),
        };
        let Some((verb, _)) = spec.first() else {
            return self.run_command(command);
        };
        let mut reply = Document::default();
        match verb.as_str() {
            "getParameter" => {
                let all = matches!(spec.get("getParameter"), Some(Value::String(s)) if s == "*");
                if all || spec.contains_key(NAME) {
                    reply.insert(
                        NAME.into(),
                        Value::Int32(self.sessions.lifetime_secs() as i32),
                    );
                } else {
                    return Err(ShellError::server(
                        72,
                        Some("InvalidOptions"),
                        "no option found to get",
                    ));
                }
            }
            "setParameter" => {
                let mut named = spec.iter().skip(1);
                let Some((name, value)) = named.next() else {
                    return Err(ShellError::server(
                        72,
                        Some("InvalidOptions"),
                        "no option found to set, use help:true to see options ",
                    ));
                };
                if name != NAME {
                    return Err(ShellError::server(
                        72,
                        Some("InvalidOptions"),
                        format!(
                            "attempted to set unrecognized parameter [{name}], use help:true \
                             to see options "
                        ),
                    ));
                }
                let secs = match value {
                    v if v.is_number() => crate::mongo::query::filter::number_f64(v),
                    other => {
                        return Err(ShellError::server(
                            2,
                            Some("BadValue"),
                            format!(
                                "Invalid value for parameter {NAME}: a {} is not a number",
                                other.type_name()
                            ),
                        ))
                    }
                };
                if secs.is_nan() || secs < 1.0 {
                    return Err(ShellError::server(
                        2,
                        Some("BadValue"),
                        format!(
                            "Invalid value for parameter {NAME}: {} is not greater than or \
                             equal to 1",
                            secs as i64
                        ),
                    ));
                }
                reply.insert(
                    "was".into(),
                    Value::Int32(self.sessions.lifetime_secs() as i32),
                );
                self.sessions.lifetime_secs = Some(secs.min(i32::MAX as f64) as i64);
            }
            _ => return self.run_command(command),
        }
        reply.insert("ok".into(), Value::Int32(1));
        Ok(Js::Val(Value::Document(reply)))
    }

    /// Whether the running operation is in a transaction.
    pub(super) fn in_transaction(&self) -> bool {
        self.sessions.active.is_some()
    }

    /// A collection method called through a session's database.
    pub(super) fn session_collection_call(
        &mut self,
        c: &CollRef,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let r = self.in_session(c.session, |s| {
            if s.in_transaction() {
                s.collection_method(&c.db, &c.name, name, args)
            } else {
                s.outside_collection_call(&c.db, &c.name, name, args)
            }
        })?;
        Ok(match r {
            Js::Cursor(mut spec) => {
                spec.session = Some(c.session);
                Js::Cursor(spec)
            }
            other => other,
        })
    }

    /// A database method called on a `DbRef`: runs as `db.<name>(…)` would with `db` being
    /// that database (and in its session's transaction, if it has one).
    pub(super) fn database_call(
        &mut self,
        d: &DbRef,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        if name == "getMongo" {
            return Ok(Js::Mongo);
        }
        let current = std::mem::replace(&mut self.db, d.name.clone());
        let r = match d.session {
            Some(id) => self.in_session(id, |s| s.db_method(name, args)),
            None => self.db_method(name, args),
        };
        self.db = current;
        Ok(match (r?, d.session) {
            (Js::Collection { db, name }, Some(session)) => {
                Js::SessionColl(Box::new(CollRef { db, name, session }))
            }
            (other, _) => other,
        })
    }

    /// `database.<name>`: a method, or a collection.
    pub(super) fn database_member(d: &DbRef, name: &str) -> Js {
        if super::eval::DB_METHODS.contains(&name) || name == "getMongo" {
            return Js::Method {
                target: Box::new(Js::Database(Box::new(d.clone()))),
                name: name.into(),
            };
        }
        match d.session {
            Some(session) => Js::SessionColl(Box::new(CollRef {
                db: d.name.clone(),
                name: name.into(),
                session,
            })),
            None => Js::Collection {
                db: d.name.clone(),
                name: name.into(),
            },
        }
    }

    /// Refuses, inside a transaction, the commands MongoDB does not run in one.
    pub(super) fn check_transaction_allows(
        &self,
        db: &str,
        coll: &str,
        method: &str,
        args: &[Js],
    ) -> Result<(), ShellError> {
        if !self.in_transaction() {
            return Ok(());
        }
        let options = self.store.collection(db, coll).map(|c| &c.options);
        let writes = is_write(method);
        if writes && options.is_some_and(|o| o.capped.is_some()) {
            return Err(ShellError::server(
                263,
                Some("OperationNotSupportedInTransaction"),
                format!(
                    "Collection '{db}.{coll}' is a capped collection. Writes in transactions \
                     are not allowed on capped collections."
                ),
            ));
        }
        let inserts = matches!(method, "insertOne" | "insertMany" | "bulkWrite");
        if inserts && options.is_some_and(|o| o.timeseries.is_some()) {
            return Err(ShellError::server(
                263,
                Some("OperationNotSupportedInTransaction"),
                format!(
                    "Cannot insert into a time-series collection in a multi-document \
                     transaction: {db}.{coll}"
                ),
            ));
        }
        if method == "deleteMany" && options.is_some_and(|o| o.timeseries.is_some()) {
            return Err(ShellError::server(
                263,
                Some("OperationNotSupportedInTransaction"),
                format!(
                    "Cannot perform a multi delete inside of a multi-document transaction on \
                     a time-series collection: {db}.{coll}"
                ),
            ));
        }
        if method == "aggregate" {
            check_pipeline_in_transaction(args)?;
        }
        let command = match method {
            "estimatedDocumentCount" => "count",
            "drop" => "drop",
            "dropIndex" | "dropIndexes" => "dropIndexes",
            "getIndexes" | "getIndexKeys" => "listIndexes",
            "explain" => "explain",
            "createIndex" | "createIndexes" => {
                let exists = self
                    .store
                    .collection(db, coll)
                    .is_some_and(|c| !c.docs.is_empty() || c.indexes().len() > 1);
                if exists {
                    return Err(ShellError::server(
                        263,
                        Some("OperationNotSupportedInTransaction"),
                        format!(
                            "Cannot create new indexes on existing collection {db}.{coll} in a \
                             multi-document transaction."
                        ),
                    ));
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        Err(not_in_transaction(command))
    }

    /// Refuses, inside a transaction, the database commands MongoDB does not run in one.
    pub(super) fn check_transaction_allows_db(
        &self,
        method: &str,
        args: &[Js],
    ) -> Result<(), ShellError> {
        if !self.in_transaction() {
            return Ok(());
        }
        if method == "aggregate" {
            check_pipeline_in_transaction(args)?;
        }
        let creates_time_series = matches!(
            args.get(1),
            Some(Js::Val(Value::Document(o))) if o.contains_key("timeseries")
        );
        if method == "createCollection" && creates_time_series {
            return Err(ShellError::server(
                263,
                Some("OperationNotSupportedInTransaction"),
                "Cannot create a time-series collection in a multi-document transaction.",
            ));
        }
        let command = match method {
            "getCollectionNames" | "getCollectionInfos" => "listCollections",
            "dropDatabase" => "dropDatabase",
            _ => return Ok(()),
        };
        Err(not_in_transaction(command))
    }
}

/// The collection methods that write documents, and where their options document sits.
fn write_options_at(method: &str) -> Option<usize> {
    match method {
        "insertOne" | "insertMany" | "bulkWrite" | "deleteOne" | "deleteMany"
        | "findOneAndDelete" => Some(1),
        "updateOne" | "updateMany" | "replaceOne" | "findOneAndUpdate" | "findOneAndReplace" => {
            Some(2)
        }
        _ => None,
    }
}

fn is_write(method: &str) -> bool {
    write_options_at(method).is_some()
}

/// `maxTimeMS` from a write's options (an aggregation's, after its pipeline array), in
/// milliseconds.
fn max_time_ms(method: &str, args: &[Js]) -> Option<u64> {
    let at = match method {
        "aggregate" if matches!(args.first(), Some(Js::Val(Value::Array(_)))) => 1,
        _ => write_options_at(method)?,
    };
    match args.get(at) {
        Some(Js::Val(Value::Document(o))) => match o.get("maxTimeMS") {
            Some(v) if v.is_number() => {
                let ms = crate::mongo::query::filter::number_f64(v);
                (ms > 0.0).then_some(ms.min(u64::MAX as f64) as u64)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The error of a write whose `maxTimeMS` ran out; an aggregation's comes out of its plan
/// executor, which adds that to the message.
fn max_time_expired(method: &str) -> ShellError {
    const EXCEEDED: &str = "operation exceeded time limit";
    let message = match method {
        "aggregate" => format!("PlanExecutor error during aggregation :: caused by :: {EXCEEDED}"),
        _ => EXCEEDED.to_string(),
    };
    ShellError::server(50, Some("MaxTimeMSExpired"), message)
}

/// An `aggregate` call's stages: its first argument's array, or every argument (mongosh
/// also takes the stages one by one).
fn pipeline_stages(args: &[Js]) -> Vec<&Value> {
    match args.first() {
        Some(Js::Val(Value::Array(stages))) => stages.iter().collect(),
        _ => args
            .iter()
            .filter_map(|a| match a {
                Js::Val(v) => Some(v),
                _ => None,
            })
            .collect(),
    }
}

/// The collection an aggregation's last stage writes, `$out` or `$merge` (a name, or
/// `{db, coll}`; `$merge` also `{into: …}`), with `db` the database it runs in.
fn pipeline_target(db: &str, args: &[Js]) -> Option<crate::mongo::txn::Namespace> {
    let Some(Value::Document(stage)) = pipeline_stages(args).last().copied() else {
        return None;
    };
    let target = match (stage.get("$out"), stage.get("$merge")) {
        (Some(t), _) => t,
        (None, Some(Value::Document(m))) => m.get("into")?,
        (None, Some(t)) => t,
        (None, None) => return None,
    };
    match target {
        Value::String(coll) => Some((db.to_string(), coll.clone())),
        Value::Document(t) => match (t.get("db"), t.get("coll")) {
            (Some(Value::String(d)), Some(Value::String(c))) => Some((d.clone(), c.clone())),
            (None, Some(Value::String(c))) => Some((db.to_string(), c.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// `$out` and `$merge` write outside the transaction's snapshot: MongoDB refuses them in one.
fn check_pipeline_in_transaction(args: &[Js]) -> Result<(), ShellError> {
    for stage in pipeline_stages(args) {
        if let Value::Document(d) = stage {
            for name in ["$out", "$merge"] {
                if d.contains_key(name) {
                    return Err(ShellError::server(
                        263,
                        Some("OperationNotSupportedInTransaction"),
                        format!("{name} cannot be used in a transaction"),
                    ));
                }
            }
        }
    }
    Ok(())
}
