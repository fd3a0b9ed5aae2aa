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
