//! Time series collections as the MongoDB 7 manual shows them through mongosh: creation
//! and its errors, inserts checked on the time field, documents read back in the unpacked
//! field order, `$group` by time bucket, `expireAfterSeconds` on the virtual clock, and how
//! `listCollections` / `show collections` present them.

mod common;

use nosql_playground::mongo::Shell;

/// 2024-01-01T00:00:00Z
const NOW: u64 = 1_704_067_200_000;

const WEATHER: &str = r#"db.createCollection("weather", {timeseries: {timeField: "timestamp", metaField: "metadata", granularity: "hours"}})
db.weather.insertMany([
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T00:00:00.000Z"), temp: 12},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T04:00:00.000Z"), temp: 11},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T08:00:00.000Z"), temp: 11},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T12:00:00.000Z"), temp: 12},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T16:00:00.000Z"), temp: 16},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-18T20:00:00.000Z"), temp: 15},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T00:00:00.000Z"), temp: 13},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T04:00:00.000Z"), temp: 12},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T08:00:00.000Z"), temp: 11},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T12:00:00.000Z"), temp: 12},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T16:00:00.000Z"), temp: 17},
  {metadata: {sensorId: 5578, type: "temperature"}, timestamp: ISODate("2021-05-19T20:00:00.000Z"), temp: 12}
])"#;

fn run(setup: &str, steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    shell.eval_mongosh(setup, NOW);
    for (input, want) in steps {
        assert_eq!(shell.eval_mongosh(input, NOW), *want, "input: {input}");
    }
}

#[test]
fn measurements_read_back_in_the_unpacked_field_order() {
    run(
        WEATHER,
        &[
            // The manual's findOne (its _id is generated, so projected out here).
            (
                r#"db.weather.findOne({"timestamp": ISODate("2021-05-18T00:00:00.000Z")}, {_id: 0})"#,
                "{\n  timestamp: ISODate('2021-05-18T00:00:00.000Z'),\n  metadata: { sensorId: 5578, type: 'temperature' },\n  temp: 12\n}\n",
            ),
            (
                "db.weather.insertOne({_id: 1, temp: 3, timestamp: ISODate('2021-05-20T00:00:00Z'), metadata: {sensorId: 1}})",
                "{ acknowledged: true, insertedId: 1 }\n",
            ),
            (
                "db.weather.findOne({_id: 1})",
                "{\n  timestamp: ISODate('2021-05-20T00:00:00.000Z'),\n  metadata: { sensorId: 1 },\n  temp: 3,\n  _id: 1\n}\n",
            ),
            ("db.weather.countDocuments({'metadata.sensorId': 5578})", "12\n"),
        ],
    );
}

#[test]
fn inserts_need_a_date_in_the_time_field() {
    let refused = "MongoServerError: 'timestamp' must be present and contain a valid BSON UTC datetime value\n";
    run(
        WEATHER,
        &[
            (
                "db.weather.insertOne({metadata: {sensorId: 1}, temp: 3})",
                refused,
            ),
            (
                "db.weather.insertOne({timestamp: '2021-05-18', temp: 3})",
                refused,
            ),
            ("db.weather.countDocuments()", "12\n"),
        ],
    );
}

#[test]
fn aggregations_group_by_time_bucket() {
    run(
        WEATHER,
        &[
            // The manual's "Run Aggregations on a Time Series Collection" example.
            (
                r#"db.weather.aggregate([{$project: {date: {$dateToParts: {date: "$timestamp"}}, temp: 1}}, {$group: {_id: {date: {year: "$date.year", month: "$date.month", day: "$date.day"}}, avgTmp: {$avg: "$temp"}}}, {$sort: {"_id.date.day": 1}}])"#,
                "[\n  {\n    _id: { date: { year: 2021, month: 5, day: 18 } },\n    avgTmp: 12.833333333333334\n  },\n  {\n    _id: { date: { year: 2021, month: 5, day: 19 } },\n    avgTmp: 12.833333333333334\n  }\n]\n",
            ),
            (
                r#"db.weather.aggregate([{$group: {_id: {$dateTrunc: {date: "$timestamp", unit: "hour", binSize: 12}}, max: {$max: "$temp"}}}, {$sort: {_id: 1}}])"#,
                "[\n  { _id: ISODate('2021-05-18T00:00:00.000Z'), max: 12 },\n  { _id: ISODate('2021-05-18T12:00:00.000Z'), max: 16 },\n  { _id: ISODate('2021-05-19T00:00:00.000Z'), max: 13 },\n  { _id: ISODate('2021-05-19T12:00:00.000Z'), max: 17 }\n]\n",
            ),
        ],
    );
}

#[test]
fn list_collections_shows_the_time_series_view_and_its_buckets() {
    run(
        WEATHER,
        &[
            ("db.plain.insertOne({_id: 1})", "{ acknowledged: true, insertedId: 1 }\n"),
            (
                "show collections",
                "plain\nweather                 [time-series]\nsystem.buckets.weather\nsystem.views\n",
            ),
            (
                "db.getCollectionNames()",
                "[ 'plain', 'system.buckets.weather', 'system.views', 'weather' ]\n",
            ),
            (
                "db.getCollectionInfos({name: 'weather'})",
                "[\n  {\n    name: 'weather',\n    type: 'timeseries',\n    options: {\n      timeseries: {\n        timeField: 'timestamp',\n        metaField: 'metadata',\n        granularity: 'hours',\n        bucketMaxSpanSeconds: 2592000\n      }\n    },\n    info: { readOnly: false }\n  }\n]\n",
            ),
        ],
    );
}

#[test]
fn creation_errors_are_the_servers() {
    run(
        "",
        &[
            (
                "db.createCollection('t', {timeseries: {metaField: 'm'}})",
                "MongoServerError[Location40414]: BSON field 'create.timeseries.timeField' is missing but a required field\n",
            ),
            (
                "db.createCollection('t', {timeseries: {timeField: 't', granularity: 'days'}})",
                "MongoServerError[BadValue]: Enumeration value 'days' for field 'create.timeseries.granularity' is not a valid value.\n",
            ),
            (
                "db.createCollection('t', {timeseries: {timeField: 't', metaField: 't'}})",
                "MongoServerError[InvalidOptions]: The 'metaField' field cannot be the same as the 'timeField' field\n",
            ),
            (
                "db.createCollection('t', {timeseries: {timeField: 't', size: 1}})",
                "MongoServerError[Location40415]: BSON field 'create.timeseries.size' is an unknown field.\n",
            ),
            (
                "db.createCollection('t', {expireAfterSeconds: 10})",
                "MongoServerError[InvalidOptions]: 'expireAfterSeconds' requires clustering to be enabled\n",
            ),
            ("db.getCollectionNames()", "[]\n"),
        ],
    );
}

#[test]
fn expire_after_seconds_deletes_measurements_on_the_virtual_clock() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        "db.createCollection('readings', {timeseries: {timeField: 'at'}, expireAfterSeconds: 300})",
        NOW,
    );
    let steps: &[(&str, u64, &str)] = &[
        (
            "db.readings.insertOne({_id: 1, at: new Date(), v: 1})",
            0,
            "{ acknowledged: true, insertedId: 1 }\n",
        ),
        (
            "db.readings.insertOne({_id: 2, at: new Date(), v: 2})",
            240_000,
            "{ acknowledged: true, insertedId: 2 }\n",
        ),
        ("db.readings.countDocuments()", 299_000, "2\n"),
        // The TTL monitor's first pass after 300 s deletes the first measurement only.
        (
            "db.readings.find({}, {v: 1, _id: 0})",
            420_000,
            "[ { v: 2 } ]\n",
        ),
        ("db.readings.countDocuments()", 600_000, "0\n"),
        (
            "db.getCollectionInfos()[0].options.expireAfterSeconds",
            600_000,
            "Long('300')\n",
        ),
        (
            "db.readings.insertOne({_id: 3, at: new Date(), v: 3})",
            600_000,
            "{ acknowledged: true, insertedId: 3 }\n",
        ),
    ];
    common::run_mongosh_at(&mut shell, NOW, steps);
    // The page's countdown: when the measurement expires.
    let page =
        nosql_playground::mongo::snapshot::documents(shell.store(), "test", "readings", 0, 10);
    let expire_at: Vec<Option<f64>> = page.documents.iter().map(|d| d.expire_at).collect();
    assert_eq!(expire_at, [Some((NOW + 600_000 + 300_000) as f64)]);
}

#[test]
fn time_series_collections_and_transactions() {
    run(
        &format!("{WEATHER}\ns = db.getMongo().startSession()\ns.startTransaction()"),
        &[
            (
                "s.getDatabase('test').weather.insertOne({timestamp: new Date()})",
                "MongoServerError[OperationNotSupportedInTransaction]: Cannot insert into a time-series collection in a multi-document transaction: test.weather\n",
            ),
            ("s.abortTransaction(); s.startTransaction()", ""),
            // Reads are allowed.
            ("s.getDatabase('test').weather.countDocuments()", "12\n"),
            (
                "s.getDatabase('test').weather.deleteMany({'metadata.sensorId': 5578})",
                "MongoServerError[OperationNotSupportedInTransaction]: Cannot perform a multi delete inside of a multi-document transaction on a time-series collection: test.weather\n",
            ),
            ("s.abortTransaction(); s.startTransaction()", ""),
            (
                "s.getDatabase('test').createCollection('w2', {timeseries: {timeField: 't'}})",
                "MongoServerError[OperationNotSupportedInTransaction]: Cannot create a time-series collection in a multi-document transaction.\n",
            ),
        ],
    );
}

#[test]
fn a_time_series_collection_has_its_meta_and_time_index_and_no_id_index() {
    run(
        WEATHER,
        &[
            (
                "db.weather.getIndexes()",
                "[\n  {\n    v: 2,\n    key: { metadata: 1, timestamp: 1 },\n    name: 'metadata_1_timestamp_1'\n  }\n]\n",
            ),
            (
                "db.createCollection('plain_ts', {timeseries: {timeField: 't'}})",
                "{ ok: 1 }\n",
            ),
            ("db.plain_ts.getIndexes()", "[]\n"),
        ],
    );
}

#[test]
fn coll_mod_changes_expiry_and_coarsens_granularity() {
    run(
        "db.createCollection('weather24h', {timeseries: {timeField: 'timestamp', metaField: 'metadata', granularity: 'minutes'}, expireAfterSeconds: 86400})",
        &[
            (
                "db.runCommand({collMod: 'weather24h', expireAfterSeconds: 604801})",
                "{ ok: 1 }\n",
            ),
            (
                "db.getCollectionInfos()[0].options.expireAfterSeconds",
                "Long('604801')\n",
            ),
            (
                "db.runCommand({collMod: 'weather24h', expireAfterSeconds: 'off'})",
                "{ ok: 1 }\n",
            ),
            (
                "db.getCollectionInfos()[0].options.expireAfterSeconds",
                "",
            ),
            (
                "db.runCommand({collMod: 'weather24h', timeseries: {granularity: 'seconds'}})",
                "MongoServerError[InvalidOptions]: Invalid transition for timeseries.granularity. Can only transition from 'seconds' to 'minutes' or 'minutes' to 'hours'.\n",
            ),
            (
                "db.runCommand({collMod: 'weather24h', timeseries: {granularity: 'hours'}})",
                "{ ok: 1 }\n",
            ),
            (
                "db.getCollectionInfos()[0].options.timeseries.bucketMaxSpanSeconds",
                "2592000\n",
            ),
        ],
    );
}

/// Granularity `seconds`: buckets span an hour and start on a minute.
const READINGS: &str = r#"db.createCollection("t", {timeseries: {timeField: "ts", metaField: "s", granularity: "seconds"}})
db.t.insertMany([
  {ts: ISODate("2024-01-01T10:00:30Z"), s: {b: 2, a: 1}, v: 5},
  {ts: ISODate("2024-01-01T10:20:00Z"), s: {a: 1, b: 2}, v: 3},
  {ts: ISODate("2024-01-01T11:00:30Z"), s: {a: 1, b: 2}, v: 7},
  {ts: ISODate("2024-01-01T10:30:00Z"), s: {a: 9}, v: 1, w: [1, 5]}
])"#;

#[test]
fn the_buckets_collection_holds_the_servers_bucket_documents() {
    run(
        READINGS,
        &[
            // The generated `_id`s projected out. One bucket per meta value (its fields in
            // name order) and hour from its first measurement's minute; the last
            // measurement of {a: 1, b: 2} is past that hour and opens a second bucket.
            (
                r#"db.system.buckets.t.find({}, {_id: 0, "control.min._id": 0, "control.max._id": 0, "data._id": 0})"#,
                "[
  {
    control: {
      version: 1,
      min: { ts: ISODate('2024-01-01T10:00:00.000Z'), v: 3 },
      max: { ts: ISODate('2024-01-01T10:20:00.000Z'), v: 5 }
    },
    meta: { a: 1, b: 2 },
    data: {
      ts: {
        '0': ISODate('2024-01-01T10:00:30.000Z'),
        '1': ISODate('2024-01-01T10:20:00.000Z')
      },
      v: { '0': 5, '1': 3 }
    }
  },
  {
    control: {
      version: 1,
      min: { ts: ISODate('2024-01-01T10:30:00.000Z'), v: 1, w: [ 1, 5 ] },
      max: { ts: ISODate('2024-01-01T10:30:00.000Z'), v: 1, w: [ 1, 5 ] }
    },
    meta: { a: 9 },
    data: {
      ts: { '0': ISODate('2024-01-01T10:30:00.000Z') },
      v: { '0': 1 },
      w: { '0': [ 1, 5 ] }
    }
  },
  {
    control: {
      version: 1,
      min: { ts: ISODate('2024-01-01T11:00:00.000Z'), v: 7 },
      max: { ts: ISODate('2024-01-01T11:00:30.000Z'), v: 7 }
    },
    meta: { a: 1, b: 2 },
    data: { ts: { '0': ISODate('2024-01-01T11:00:30.000Z') }, v: { '0': 7 } }
  }
]
",
            ),
            // A bucket's _id carries its minimum time.
            (
                "db.system.buckets.t.find().map(b => b._id.getTimestamp())",
                "[\n  ISODate('2024-01-01T10:00:00.000Z'),\n  ISODate('2024-01-01T10:30:00.000Z'),\n  ISODate('2024-01-01T11:00:00.000Z')\n]\n",
            ),
            ("db.system.buckets.t.countDocuments({'control.max.v': {$gte: 5}})", "2\n"),
            (
                "db.system.buckets.t.aggregate([{$group: {_id: null, n: {$sum: {$size: {$objectToArray: '$data.ts'}}}}}])",
                "[ { _id: null, n: 4 } ]\n",
            ),
            // Reads of the measurements give the meta value as the bucket stores it.
            ("db.t.findOne({v: 5}, {_id: 0})", "{ ts: ISODate('2024-01-01T10:00:30.000Z'), s: { a: 1, b: 2 }, v: 5 }\n"),
            // The bucket documents are not a collection of their own.
            (
                "db.getCollectionNames()",
                "[ 'system.buckets.t', 'system.views', 't' ]\n",
            ),
            (
                "db.system.buckets.t.insertOne({})",
                "MongoshInvalidInputError: [COMMON-10001] the sandbox builds test.system.buckets.t from the measurements of test.t on each read; write to test.t instead\n",
            ),
            ("db.system.buckets.nothing.find()", ""),
        ],
    );
}

#[test]
fn a_bucket_holds_at_most_a_thousand_measurements() {
    run(
        "db.createCollection('m', {timeseries: {timeField: 't', granularity: 'hours'}})\nfor (let i = 0; i < 2500; i++) db.m.insertOne({t: new Date(1704067200000 + i * 1000), i: i})",
        &[
            (
                "db.system.buckets.m.find().map(b => [b.control.min.i, b.control.max.i])",
                "[ [ 0, 999 ], [ 1000, 1999 ], [ 2000, 2499 ] ]\n",
            ),
            ("db.system.buckets.m.findOne().meta", ""),
        ],
    );
}

#[test]
fn measurements_with_the_same_id_are_all_kept() {
    run(
        WEATHER,
        &[
            (
                "db.weather.insertMany([{_id: 1, timestamp: ISODate('2021-05-20T00:00:00Z')}, {_id: 1, timestamp: ISODate('2021-05-20T01:00:00Z')}])",
                "{ acknowledged: true, insertedIds: { '0': 1, '1': 1 } }\n",
            ),
            ("db.weather.countDocuments({_id: 1})", "2\n"),
            (
                "db.weather.find({_id: 1}, {timestamp: 1})",
                "[\n  { timestamp: ISODate('2021-05-20T00:00:00.000Z'), _id: 1 },\n  { timestamp: ISODate('2021-05-20T01:00:00.000Z'), _id: 1 }\n]\n",
            ),
        ],
    );
}

#[test]
fn updates_may_only_touch_the_meta_field_as_in_mongodb_7() {
    let refused = |m: &str| format!("MongoServerError: {m}\n");
    let not_meta_query = refused("Cannot perform an update or delete on a time-series collection when querying on a field that is not the metaField 'metadata'");
    let not_meta_update = refused("Cannot perform an update on a time-series collection which updates a field that is not the metaField 'metadata'");
    let non_multi = refused("Cannot perform a non-multi update on a time-series collection");
    let cases: Vec<(&str, String)> = vec![
        ("db.weather.updateOne({'metadata.sensorId': 5578}, {$set: {'metadata.type': 't'}})", non_multi.clone()),
        ("db.weather.replaceOne({'metadata.sensorId': 5578}, {temp: 1})", non_multi),
        ("db.weather.updateMany({'metadata.sensorId': 5578}, {$set: {'metadata.type': 't'}}, {upsert: true})", refused("Cannot perform an upsert on a time-series collection")),
        ("db.weather.updateMany({temp: 12}, {$set: {'metadata.type': 't'}})", not_meta_query.clone()),
        ("db.weather.updateMany({$or: [{'metadata.sensorId': 1}, {temp: 12}]}, {$set: {'metadata.type': 't'}})", not_meta_query),
        ("db.weather.updateMany({$expr: {$gt: ['$temp', 12]}}, {$set: {'metadata.type': 't'}})", refused("Cannot use $expr when performing an update or delete on a time-series collection")),
        ("db.weather.updateMany({'metadata.sensorId': 5578}, {$inc: {temp: 1}})", not_meta_update.clone()),
        ("db.weather.updateMany({}, {$rename: {'metadata.type': 'kind'}})", not_meta_update),
        ("db.weather.updateMany({}, [{$set: {'metadata.type': 't'}}])", refused("Cannot perform an update on a time-series collection using a pipeline update")),
        ("db.weather.countDocuments({'metadata.type': 'temperature'})", "12\n".into()),
        // What MongoDB 7.0 allows: a multi update that filters on and changes the meta field.
        (
            "db.weather.updateMany({'metadata.sensorId': 5578}, {$set: {'metadata.type': 'celsius'}})",
            "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 12,\n  modifiedCount: 12,\n  upsertedCount: 0\n}\n".into(),
        ),
        ("db.weather.distinct('metadata.type')", "[ 'celsius' ]\n".into()),
        // Deletes take any filter since 7.0, deleteOne included.
        ("db.weather.deleteOne({temp: 12})", "{ acknowledged: true, deletedCount: 1 }\n".into()),
        ("db.weather.deleteMany({temp: {$gte: 16}})", "{ acknowledged: true, deletedCount: 2 }\n".into()),
        ("db.weather.countDocuments()", "9\n".into()),
    ];
    let steps: Vec<(&str, &str)> = cases.iter().map(|(i, o)| (*i, o.as_str())).collect();
    run(WEATHER, &steps);
    run(
        "db.createCollection('nometa', {timeseries: {timeField: 't'}})",
        &[(
            "db.nometa.updateMany({}, {$set: {a: 1}})",
            "MongoServerError: Cannot perform an update on a time-series collection that does not have a metaField\n",
        )],
    );
}

#[test]
fn the_bucket_documents_are_gone_once_the_input_ends() {
    let mut shell = Shell::new();
    shell.eval_mongosh(READINGS, NOW);
    let read = "db.system.buckets.t.countDocuments()";
    assert_eq!(shell.eval_mongosh(read, NOW), "3\n");
    // Nothing that reads the store between inputs (the collections panel, a saved
    // snapshot) sees them as a collection.
    assert!(shell
        .store()
        .collection("test", "system.buckets.t")
        .is_none());
    // The next read builds them again from the measurements as they are then.
    shell.eval_mongosh("db.t.deleteMany({'s.a': 9})", NOW);
    assert_eq!(shell.eval_mongosh(read, NOW), "2\n");
    // A collection of that form with no time series collection behind it is ordinary.
    shell.eval_mongosh("db.system.buckets.other.insertOne({_id: 1})", NOW);
    assert_eq!(
        shell.eval_mongosh("db.system.buckets.other.find()", NOW),
        "[ { _id: 1 } ]\n"
    );
    assert!(shell
        .store()
        .collection("test", "system.buckets.other")
        .is_some());
}

#[test]
fn find_and_modify_and_bulk_write_meet_the_limits_of_mongodb_7() {
    let locked = "MongoServerError[CommandNotSupportedOnView]: Taking test.weather lock for timeseries is not allowed\n";
    run(
        WEATHER,
        &[
            // findAndModify takes a collection lock, which a time series collection refuses
            // whatever the query, update or options (MongoDB 7.1 runs them).
            ("db.weather.findOneAndUpdate({'metadata.sensorId': 5578}, {$set: {'metadata.type': 't'}})", locked),
            ("db.weather.findOneAndUpdate({temp: 12}, {$inc: {temp: 1}}, {upsert: true, returnDocument: 'after'})", locked),
            ("db.weather.findOneAndReplace({temp: 12}, {timestamp: ISODate('2021-05-18T00:00:00Z'), temp: 1})", locked),
            ("db.weather.findOneAndDelete({temp: 12})", locked),
            ("db.weather.findOneAndDelete({}, {sort: {timestamp: -1}, projection: {temp: 1}})", locked),
            // The driver's own argument checks come first.
            (
                "db.weather.findOneAndUpdate({}, {temp: 1})",
                "MongoInvalidArgumentError: Update document requires atomic operators\n",
            ),
            ("db.weather.countDocuments({temp: 12})", "5\n"),
            // bulkWrite sends its updates as update commands: each statement obeys the
            // limits updateMany obeys, and a refused one is a write error of its own.
            (
                "db.weather.bulkWrite([{updateMany: {filter: {'metadata.sensorId': 5578}, update: {$set: {'metadata.type': 'celsius'}}}}, {deleteOne: {filter: {temp: 17}}}, {insertOne: {document: {_id: 100, timestamp: ISODate('2021-05-20T00:00:00Z'), metadata: {sensorId: 7}, temp: 3}}}])",
                "{\n  acknowledged: true,\n  insertedCount: 1,\n  insertedIds: { '2': 100 },\n  matchedCount: 12,\n  modifiedCount: 12,\n  deletedCount: 1,\n  upsertedCount: 0,\n  upsertedIds: {}\n}\n",
            ),
            ("db.weather.distinct('metadata.type')", "[ 'celsius' ]\n"),
            // An ordered bulkWrite stops at the refused statement.
            (
                "db.weather.bulkWrite([{updateOne: {filter: {'metadata.sensorId': 5578}, update: {$set: {'metadata.type': 'x'}}}}, {insertOne: {document: {_id: 101, timestamp: ISODate('2021-05-20T00:00:00Z')}}}])",
                "Uncaught:
MongoBulkWriteError: Cannot perform a non-multi update on a time-series collection
Result: BulkWriteResult {
  insertedCount: 0,
  matchedCount: 0,
  modifiedCount: 0,
  deletedCount: 0,
  upsertedCount: 0,
  upsertedIds: {},
  insertedIds: {}
}
Write Errors: [
  WriteError {
    err: {
      index: 0,
      code: 72,
      errmsg: 'Cannot perform a non-multi update on a time-series collection',
      errInfo: undefined,
      op: {
        q: { 'metadata.sensorId': 5578 },
        u: { '$set': { 'metadata.type': 'x' } },
        upsert: false,
        multi: false
      }
    }
  }
]
",
            ),
            // An unordered one runs the others: a delete with any filter, since 7.0.
            (
                "db.weather.bulkWrite([{updateMany: {filter: {temp: 12}, update: {$set: {'metadata.type': 'x'}}}}, {deleteMany: {filter: {temp: 11}}}, {replaceOne: {filter: {}, replacement: {timestamp: ISODate('2021-05-20T00:00:00Z')}, upsert: true}}], {ordered: false})",
                "Uncaught:
MongoBulkWriteError: Cannot perform an update or delete on a time-series collection when querying on a field that is not the metaField 'metadata'
Result: BulkWriteResult {
  insertedCount: 0,
  matchedCount: 0,
  modifiedCount: 0,
  deletedCount: 3,
  upsertedCount: 0,
  upsertedIds: {},
  insertedIds: {}
}
Write Errors: [
  WriteError {
    err: {
      index: 0,
      code: 72,
      errmsg: \"Cannot perform an update or delete on a time-series collection when querying on a field that is not the metaField 'metadata'\",
      errInfo: undefined,
      op: {
        q: { temp: 12 },
        u: { '$set': { 'metadata.type': 'x' } },
        upsert: false,
        multi: true
      }
    }
  },
  WriteError {
    err: {
      index: 2,
      code: 72,
      errmsg: 'Cannot perform a non-multi update on a time-series collection',
      errInfo: undefined,
      op: {
        q: {},
        u: { timestamp: ISODate('2021-05-20T00:00:00.000Z') },
        upsert: true,
        multi: false
      }
    }
  }
]
",
            ),
            ("db.weather.countDocuments()", "9\n"),
        ],
    );
}
