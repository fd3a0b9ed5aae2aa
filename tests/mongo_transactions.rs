//! Client sessions and multi-document transactions, as mongosh 2 (Node driver 6) against a
//! MongoDB 7 replica set prints them: snapshot isolation, commit and abort, write conflicts,
//! the driver's state errors and the commands a transaction refuses.

mod common;

use nosql_playground::mongo::Shell;

/// 2024-01-01T00:00:00Z
const NOW: u64 = 1_704_067_200_000;

const UPDATED: &str = "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}\n";

const CONFLICT: &str = "MongoServerError[WriteConflict]: Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.\n";

/// Two accounts of 100, and a session `s` whose database `test` gives `acct`.
const SETUP: &str = r#"db.acct.insertMany([{_id: 1, balance: 100}, {_id: 2, balance: 100}])
s = db.getMongo().startSession()
acct = s.getDatabase("test").acct"#;

/// Runs each (input, expected output) pair in order on one shell set up with `SETUP`.
fn run(steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    for (i, (input, want)) in steps.iter().enumerate() {
        let got = shell.eval_mongosh(input, NOW + i as u64);
        assert_eq!(got, *want, "input: {input}");
    }
}

#[test]
fn sessions_and_their_databases_print_as_mongosh_prints_them() {
    run(&[
        ("acct", "test.acct\n"),
        ("s.getDatabase('shop')", "shop\n"),
        ("s.getDatabase('shop').orders.getName()", "orders\n"),
        ("s.hasEnded()", "false\n"),
        ("s.getOptions()", "{}\n"),
        (
            "db.getMongo().startSession({causalConsistency: false}).getOptions()",
            "{ causalConsistency: false }\n",
        ),
        ("typeof s.id", "object\n"),
        (
            "db.getMongo()",
            "mongodb://127.0.0.1:27017/?directConnection=true&serverSelectionTimeoutMS=2000&appName=mongosh+2.3.8\n",
        ),
        ("db.getSiblingDB('shop')", "shop\n"),
        ("db.getSiblingDB('shop').items.insertOne({_id: 1})", "{ acknowledged: true, insertedId: 1 }\n"),
        ("db.getMongo().getDB('shop').items.countDocuments()", "1\n"),
        ("db.getSiblingDB('shop').getCollectionNames()", "[ 'items' ]\n"),
    ]);
}

#[test]
fn writes_in_a_transaction_are_invisible_outside_until_commit() {
    run(&[
        ("s.startTransaction()", ""),
        ("acct.updateOne({_id: 1}, {$inc: {balance: -30}})", UPDATED),
        ("acct.updateOne({_id: 2}, {$inc: {balance: 30}})", UPDATED),
        (
            "acct.find()",
            "[ { _id: 1, balance: 70 }, { _id: 2, balance: 130 } ]\n",
        ),
        (
            "db.acct.find()",
            "[ { _id: 1, balance: 100 }, { _id: 2, balance: 100 } ]\n",
        ),
        ("s.commitTransaction()", ""),
        (
            "db.acct.find()",
            "[ { _id: 1, balance: 70 }, { _id: 2, balance: 130 } ]\n",
        ),
        // After the commit the session reads outside any transaction.
        ("acct.countDocuments()", "2\n"),
    ]);
}

#[test]
fn an_aborted_transaction_leaves_nothing_behind() {
    run(&[
        (
            "db.acct.createIndex({email: 1}, {unique: true, sparse: true})",
            "email_1\n",
        ),
        ("s.startTransaction()", ""),
        (
            "acct.insertOne({_id: 3, email: 'a@x'})",
            "{ acknowledged: true, insertedId: 3 }\n",
        ),
        (
            "acct.deleteOne({_id: 1})",
            "{ acknowledged: true, deletedCount: 1 }\n",
        ),
        ("acct.countDocuments()", "2\n"),
        ("s.abortTransaction()", ""),
        ("db.acct.countDocuments()", "2\n"),
        ("db.acct.findOne({_id: 1})", "{ _id: 1, balance: 100 }\n"),
        // The unique index holds no key of the aborted insert.
        (
            "db.acct.insertOne({_id: 4, email: 'a@x'})",
            "{ acknowledged: true, insertedId: 4 }\n",
        ),
        ("db.acct.find({email: 'a@x'}).count()", "1\n"),
    ]);
}

#[test]
fn a_transaction_reads_its_snapshot() {
    run(&[
        ("s.startTransaction({readConcern: {level: 'snapshot'}})", ""),
        ("acct.findOne({_id: 1})", "{ _id: 1, balance: 100 }\n"),
        (
            "db.acct.updateOne({_id: 1}, {$set: {balance: 200}})",
            UPDATED,
        ),
        (
            "db.acct.insertOne({_id: 9})",
            "{ acknowledged: true, insertedId: 9 }\n",
        ),
        ("acct.findOne({_id: 1})", "{ _id: 1, balance: 100 }\n"),
        ("acct.countDocuments()", "2\n"),
        ("s.commitTransaction()", ""),
        ("acct.findOne({_id: 1})", "{ _id: 1, balance: 200 }\n"),
    ]);
}

#[test]
fn write_conflicts_abort_the_transaction() {
    run(&[
        // Written outside after the snapshot, then in the transaction.
        ("s.startTransaction()", ""),
        ("acct.findOne({_id: 1})", "{ _id: 1, balance: 100 }\n"),
        ("db.acct.updateOne({_id: 1}, {$set: {balance: 200}})", UPDATED),
        ("acct.updateOne({_id: 1}, {$inc: {balance: 1}})", CONFLICT),
        (
            "s.commitTransaction()",
            "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 1 } has been aborted.\n",
        ),
        ("db.acct.findOne({_id: 1})", "{ _id: 1, balance: 200 }\n"),
        // Two transactions: the second writer of a document fails at once.
        ("s2 = db.getMongo().startSession(); acct2 = s2.getDatabase('test').acct", "test.acct\n"),
        ("s.startTransaction(); s2.startTransaction()", ""),
        ("acct.updateOne({_id: 2}, {$inc: {balance: 10}})", UPDATED),
        (
            "try { acct2.updateOne({_id: 2}, {$inc: {balance: 1}}) } catch (e) { printjson({codeName: e.codeName, errorLabels: e.errorLabels}) }",
            "{\n  codeName: 'WriteConflict',\n  errorLabels: [ 'TransientTransactionError' ]\n}\n",
        ),
        ("s2.abortTransaction()", ""),
        ("s.commitTransaction()", ""),
        ("db.acct.findOne({_id: 2})", "{ _id: 2, balance: 110 }\n"),
    ]);
}

#[test]
fn the_driver_refuses_what_the_session_state_forbids() {
    let no_txn = "MongoTransactionError: No transaction started\n";
    run(&[
        ("s.commitTransaction()", no_txn),
        ("s.abortTransaction()", no_txn),
        ("s.startTransaction()", ""),
        (
            "s.startTransaction()",
            "MongoTransactionError: Transaction already in progress\n",
        ),
        // Nothing was sent yet: committing an empty transaction succeeds at once.
        ("s.commitTransaction()", ""),
        ("s.commitTransaction()", ""),
        (
            "s.abortTransaction()",
            "MongoTransactionError: Cannot call abortTransaction after calling commitTransaction\n",
        ),
        ("s.startTransaction(); acct.insertOne({_id: 5})", "{ acknowledged: true, insertedId: 5 }\n"),
        ("s.abortTransaction()", ""),
        (
            "s.abortTransaction()",
            "MongoTransactionError: Cannot call abortTransaction twice\n",
        ),
        (
            "s.commitTransaction()",
            "MongoTransactionError: Cannot call commitTransaction after calling abortTransaction\n",
        ),
        (
            "s.startTransaction({writeConcern: {w: 0}})",
            "MongoTransactionError: Transactions do not support unacknowledged write concern\n",
        ),
        (
            "s.startTransaction({readConcern: {level: 'available'}})",
            "MongoServerError[InvalidOptions]: The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction\n",
        ),
        ("s.startTransaction(); acct.insertOne({_id: 6})", "{ acknowledged: true, insertedId: 6 }\n"),
        // Ending the session aborts its transaction.
        ("s.endSession()", ""),
        ("s.hasEnded()", "true\n"),
        ("db.acct.countDocuments()", "2\n"),
        (
            "s.startTransaction()",
            "MongoExpiredSessionError: Cannot use a session that has ended\n",
        ),
        (
            "acct.find()",
            "MongoExpiredSessionError: Cannot use a session that has ended\n",
        ),
    ]);
}

#[test]
fn a_transaction_refuses_the_commands_mongodb_refuses_in_one() {
    let refused = |cmd: &str| {
        format!(
            "MongoServerError[OperationNotSupportedInTransaction]: Cannot run '{cmd}' in a multi-document transaction.\n"
        )
    };
    let count = refused("count");
    let drop = refused("drop");
    let list = refused("listCollections");
    let indexes = refused("listIndexes");
    run(&[
        ("db.createCollection('log', {capped: true, size: 4096})", "{ ok: 1 }\n"),
        ("s.startTransaction()", ""),
        ("acct.estimatedDocumentCount()", &count),
        ("s.abortTransaction(); s.startTransaction()", ""),
        ("acct.drop()", &drop),
        ("s.abortTransaction(); s.startTransaction()", ""),
        ("s.getDatabase('test').getCollectionNames()", &list),
        ("s.abortTransaction(); s.startTransaction()", ""),
        ("acct.getIndexes()", &indexes),
        ("s.abortTransaction(); s.startTransaction()", ""),
        (
            "acct.createIndex({balance: 1})",
            "MongoServerError[OperationNotSupportedInTransaction]: Cannot create new indexes on existing collection test.acct in a multi-document transaction.\n",
        ),
        ("s.abortTransaction(); s.startTransaction()", ""),
        (
            "s.getDatabase('test').log.insertOne({a: 1})",
            "MongoServerError[OperationNotSupportedInTransaction]: Collection 'test.log' is a capped collection. Writes in transactions are not allowed on capped collections.\n",
        ),
        ("s.abortTransaction(); s.startTransaction()", ""),
        (
            "acct.aggregate([{$out: 'copy'}])",
            "MongoServerError[OperationNotSupportedInTransaction]: $out cannot be used in a transaction\n",
        ),
        // Collections and their indexes may be created in a transaction.
        ("s.abortTransaction(); s.startTransaction()", ""),
        ("s.getDatabase('test').createCollection('fresh')", "{ ok: 1 }\n"),
        ("s.getDatabase('test').fresh.createIndex({k: 1})", "k_1\n"),
        (
            "s.getDatabase('test').fresh.insertOne({_id: 1, k: 2})",
            "{ acknowledged: true, insertedId: 1 }\n",
        ),
        ("db.getCollectionNames()", "[ 'acct', 'log' ]\n"),
        ("s.commitTransaction()", ""),
        ("db.getCollectionNames()", "[ 'acct', 'fresh', 'log' ]\n"),
        ("db.fresh.getIndexes().length", "2\n"),
        ("db.fresh.find({k: 2})", "[ { _id: 1, k: 2 } ]\n"),
    ]);
}

#[test]
fn cursors_opened_through_a_session_read_its_snapshot() {
    run(&[
        ("acct.find().count()", "2\n"),
        ("s.startTransaction(); acct.insertOne({_id: 3})", "{ acknowledged: true, insertedId: 3 }\n"),
        (
            "c = acct.find({}, {_id: 1}); db.acct.insertOne({_id: 4}); c.toArray()",
            "[ { _id: 1 }, { _id: 2 }, { _id: 3 } ]\n",
        ),
        (
            "acct.find().size()",
            "MongoServerError[OperationNotSupportedInTransaction]: Cannot run 'count' in a multi-document transaction.\n",
        ),
        ("s.abortTransaction()", ""),
        ("db.acct.find({}, {_id: 1})", "[ { _id: 1 }, { _id: 2 }, { _id: 4 } ]\n"),
    ]);
}

#[test]
fn with_transaction_commits_what_the_function_did_or_aborts_on_error() {
    run(&[
        (
            "s.withTransaction(() => { acct.updateOne({_id: 1}, {$inc: {balance: -5}}); acct.updateOne({_id: 2}, {$inc: {balance: 5}}) })",
            "",
        ),
        (
            "db.acct.find()",
            "[ { _id: 1, balance: 95 }, { _id: 2, balance: 105 } ]\n",
        ),
        (
            "s.withTransaction(() => { acct.insertOne({_id: 7}); acct.insertOne({_id: 1}) })",
            "MongoServerError: E11000 duplicate key error collection: test.acct index: _id_ dup key: { _id: 1 }\n",
        ),
        ("db.acct.countDocuments()", "2\n"),
        ("s.withTransaction(() => acct.countDocuments())", "2\n"),
    ]);
}

#[test]
fn a_transaction_leaves_ttl_and_outside_documents_consistent() {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    let steps: &[(&str, u64, &str)] = &[
        (
            "db.acct.createIndex({at: 1}, {expireAfterSeconds: 10})",
            0,
            "at_1\n",
        ),
        ("s.startTransaction()", 0, ""),
        (
            "acct.insertOne({_id: 3, at: new Date()})",
            0,
            "{ acknowledged: true, insertedId: 3 }\n",
        ),
        ("s.abortTransaction()", 0, ""),
        (
            "db.acct.insertOne({_id: 4, at: new Date()})",
            0,
            "{ acknowledged: true, insertedId: 4 }\n",
        ),
        // The TTL monitor's next pass deletes the outside document only.
        (
            "db.acct.find({}, {_id: 1})",
            120_000,
            "[ { _id: 1 }, { _id: 2 } ]\n",
        ),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
}

/// `NoSuchTransaction` for the session's first transaction.
const ABORTED_1: &str =
    "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 1 } has been aborted.\n";

#[test]
fn a_write_from_outside_waits_until_the_holding_transaction_expires() {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    // (input, ms after NOW, expected output)
    let steps: &[(&str, u64, &str)] = &[
        ("s.startTransaction()", 0, ""),
        // The transaction starts on the server with its first operation, at 10 s.
        ("acct.updateOne({_id: 2}, {$set: {balance: 0}})", 10_000, UPDATED),
        // The server would make this write wait for the transaction; with maxTimeMS
        // shorter than the transaction's remaining 60 s it gives up first.
        (
            "db.acct.updateOne({_id: 2}, {$set: {balance: 1}}, {maxTimeMS: 5000})",
            20_000,
            "MongoServerError[MaxTimeMSExpired]: operation exceeded time limit\n",
        ),
        // An updateMany that blocks keeps what it did before it blocked.
        (
            "db.acct.updateMany({}, {$inc: {balance: 1}}, {maxTimeMS: 5000})",
            20_000,
            "MongoServerError[MaxTimeMSExpired]: operation exceeded time limit\n",
        ),
        (
            "db.acct.find()",
            20_000,
            "[ { _id: 1, balance: 101 }, { _id: 2, balance: 100 } ]\n",
        ),
        // A maxTimeMS that outlasts the transaction: the write waits for the server to
        // abort it (at 70 s) and then succeeds.
        (
            "db.acct.updateOne({_id: 2}, {$set: {balance: 1}}, {maxTimeMS: 60000})",
            20_000,
            UPDATED,
        ),
        ("s.commitTransaction()", 20_000, ABORTED_1),
        (
            "db.acct.find()",
            20_000,
            "[ { _id: 1, balance: 101 }, { _id: 2, balance: 1 } ]\n",
        ),
        // Without maxTimeMS the write waits as long as it takes; an insert of an _id the
        // transaction inserted waits too, and succeeds once the transaction is gone.
        ("s.startTransaction(); acct.insertOne({_id: 3, t: 'txn'})", 30_000, "{ acknowledged: true, insertedId: 3 }\n"),
        (
            "db.acct.insertOne({_id: 3, t: 'outside'})",
            30_000,
            "{ acknowledged: true, insertedId: 3 }\n",
        ),
        ("db.acct.findOne({_id: 3})", 30_000, "{ _id: 3, t: 'outside' }\n"),
        (
            "acct.find()",
            30_000,
            "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 2 } has been aborted.\n",
        ),
        ("s.abortTransaction()", 30_000, ""),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
}

#[test]
fn a_write_waits_only_for_the_transactions_it_reaches() {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    let steps: &[(&str, u64, &str)] = &[
        (
            "s2 = db.getMongo().startSession(); acct2 = s2.getDatabase('test').acct",
            0,
            "test.acct\n",
        ),
        ("s2.startTransaction(); acct2.updateOne({_id: 2}, {$set: {b: 1}})", 0, UPDATED),
        ("s.startTransaction(); acct.updateOne({_id: 1}, {$set: {a: 1}})", 5_000, UPDATED),
        // Reaches only s2's document: the write ends when s2 expires (60 s), before s
        // would (65 s), so s stays open.
        ("db.acct.deleteOne({_id: 2})", 6_000, "{ acknowledged: true, deletedCount: 1 }\n"),
        ("s2.commitTransaction()", 6_000, ABORTED_1),
        ("s.commitTransaction()", 6_000, ""),
        // Every transaction that expires while a write waits is gone when it completes.
        ("s.startTransaction(); acct.updateOne({_id: 1}, {$set: {a: 2}})", 7_000, UPDATED),
        ("s2.startTransaction(); acct2.insertOne({_id: 2})", 8_000, "{ acknowledged: true, insertedId: 2 }\n"),
        ("db.acct.insertOne({_id: 2, c: 1})", 9_000, "{ acknowledged: true, insertedId: 2 }\n"),
        (
            "s.commitTransaction()",
            9_000,
            "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 2 } has been aborted.\n",
        ),
        (
            "db.acct.find()",
            9_000,
            "[ { _id: 1, balance: 100, a: 1 }, { _id: 2, c: 1 } ]\n",
        ),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
}

#[test]
fn merge_and_out_wait_for_the_transactions_holding_their_target() {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    shell.eval_mongosh(
        "db.src.insertMany([{_id: 2, balance: 5}, {_id: 9, balance: 9}])",
        NOW,
    );
    let expired = "MongoServerError[MaxTimeMSExpired]: PlanExecutor error during aggregation :: caused by :: operation exceeded time limit\n";
    let steps: &[(&str, u64, &str)] = &[
        ("s.startTransaction(); acct.updateOne({_id: 2}, {$set: {balance: 0}})", 10_000, UPDATED),
        // $merge reaches the document the transaction holds: it waits, and its maxTimeMS
        // runs out before the transaction's 60 s do.
        (
            "db.src.aggregate([{$merge: {into: 'acct'}}], {maxTimeMS: 5000})",
            20_000,
            expired,
        ),
        (
            "db.acct.find()",
            20_000,
            "[ { _id: 1, balance: 100 }, { _id: 2, balance: 100 } ]\n",
        ),
        // Without a maxTimeMS it waits until the server aborts the transaction (at 70 s),
        // then merges.
        ("db.src.aggregate([{$merge: {into: 'acct', whenMatched: 'merge'}}])", 20_000, ""),
        ("s.commitTransaction()", 20_000, ABORTED_1),
        (
            "db.acct.find()",
            20_000,
            "[\n  { _id: 1, balance: 100 },\n  { _id: 2, balance: 5 },\n  { _id: 9, balance: 9 }\n]\n",
        ),
        // $out replaces the whole collection: any document a transaction wrote there, even
        // one only the transaction sees, holds it.
        ("s.startTransaction(); acct.insertOne({_id: 3})", 30_000, "{ acknowledged: true, insertedId: 3 }\n"),
        (
            "db.src.aggregate([{$match: {_id: 9}}, {$out: 'acct'}], {maxTimeMS: 1000})",
            30_000,
            expired,
        ),
        ("db.acct.countDocuments()", 30_000, "3\n"),
        (
            "db.src.aggregate([{$match: {_id: 9}}, {$out: {db: 'test', coll: 'acct'}}])",
            30_000,
            "",
        ),
        ("db.acct.find()", 30_000, "[ { _id: 9, balance: 9 } ]\n"),
        (
            "s.commitTransaction()",
            30_000,
            "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 2 } has been aborted.\n",
        ),
        // A $merge that reaches no document the transaction holds runs at once, and the
        // transaction goes on.
        ("s.startTransaction(); acct.updateOne({_id: 9}, {$set: {t: 1}})", 40_000, UPDATED),
        (
            "db.aggregate([{$documents: [{_id: 4, balance: 4}]}, {$merge: 'acct'}])",
            40_000,
            "",
        ),
        ("s.commitTransaction()", 40_000, ""),
        (
            "db.acct.find()",
            40_000,
            "[ { _id: 9, balance: 9, t: 1 }, { _id: 4, balance: 4 } ]\n",
        ),
        // db.aggregate's $merge waits as the collection's does.
        ("s.startTransaction(); acct.updateOne({_id: 4}, {$set: {t: 2}})", 50_000, UPDATED),
        (
            "db.aggregate([{$documents: [{_id: 4, balance: 44}]}, {$merge: {into: {db: 'test', coll: 'acct'}, whenMatched: 'replace'}}], {maxTimeMS: 100})",
            50_000,
            expired,
        ),
        (
            "db.aggregate([{$documents: [{_id: 4, balance: 44}]}, {$merge: {into: {db: 'test', coll: 'acct'}, whenMatched: 'replace'}}])",
            50_000,
            "",
        ),
        (
            "db.acct.find()",
            50_000,
            "[ { _id: 9, balance: 9, t: 1 }, { _id: 4, balance: 44 } ]\n",
        ),
        (
            "s.commitTransaction()",
            50_000,
            "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 4 } has been aborted.\n",
        ),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
}

#[test]
fn the_server_aborts_a_transaction_that_outlives_its_limit() {
    let mut shell = Shell::new();
    shell.eval_mongosh(SETUP, NOW);
    let steps: &[(&str, u64, &str)] = &[
        (
            "db.adminCommand({getParameter: 1, transactionLifetimeLimitSeconds: 1})",
            0,
            "{ transactionLifetimeLimitSeconds: 60, ok: 1 }\n",
        ),
        ("s.startTransaction(); acct.insertOne({_id: 3})", 0, "{ acknowledged: true, insertedId: 3 }\n"),
        ("acct.countDocuments()", 59_999, "3\n"),
        // Sixty seconds after its first operation the server has aborted it.
        ("acct.countDocuments()", 60_000, ABORTED_1),
        ("s.commitTransaction()", 60_000, ABORTED_1),
        ("db.acct.countDocuments()", 60_000, "2\n"),
        // A shorter limit applies to transactions that start after it is set.
        (
            "db.adminCommand({setParameter: 1, transactionLifetimeLimitSeconds: 10})",
            60_000,
            "{ was: 60, ok: 1 }\n",
        ),
        ("s.startTransaction(); acct.insertOne({_id: 4})", 60_000, "{ acknowledged: true, insertedId: 4 }\n"),
        ("s.commitTransaction()", 70_000, "MongoServerError[NoSuchTransaction]: Transaction with { txnNumber: 2 } has been aborted.\n"),
        ("s.startTransaction(); acct.insertOne({_id: 5})", 80_000, "{ acknowledged: true, insertedId: 5 }\n"),
        ("s.commitTransaction()", 89_999, ""),
        ("db.acct.find({}, {_id: 1})", 90_000, "[ { _id: 1 }, { _id: 2 }, { _id: 5 } ]\n"),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
}

#[test]
fn set_parameter_and_get_parameter_answer_in_the_servers_words() {
    common::check_mongosh(
        "parameters",
        NOW,
        &[],
        &[
            (
                "db.adminCommand({getParameter: '*'}).transactionLifetimeLimitSeconds",
                "60",
            ),
            (
                "db.adminCommand({setParameter: 1, transactionLifetimeLimitSeconds: 0})",
                "MongoServerError[BadValue]: Invalid value for parameter transactionLifetimeLimitSeconds: 0 is not greater than or equal to 1",
            ),
            (
                "db.adminCommand({setParameter: 1, transactionLifetimeLimitSecs: 5})",
                "MongoServerError[InvalidOptions]: attempted to set unrecognized parameter [transactionLifetimeLimitSecs], use help:true to see options",
            ),
            (
                "db.adminCommand({setParameter: 1})",
                "MongoServerError[InvalidOptions]: no option found to set, use help:true to see options",
            ),
            (
                "db.adminCommand({getParameter: 1, nosuchParameter: 1})",
                "MongoServerError[InvalidOptions]: no option found to get",
            ),
            (
                "db.adminCommand({setParameter: 1, transactionLifetimeLimitSeconds: 120})",
                "{ was: 60, ok: 1 }",
            ),
            (
                "db.adminCommand({getParameter: 1, transactionLifetimeLimitSeconds: 1})",
                "{ transactionLifetimeLimitSeconds: 120, ok: 1 }",
            ),
            ("db.adminCommand({ping: 1})", "{ ok: 1 }"),
        ],
    );
}
