//! Atlas Search and Atlas Vector Search through the shell: search index management, the
//! `$vectorSearch`, `$search` and `$searchMeta` stages, their scores and their errors, and
//! search indexes in snapshots and in the mongosh export.
//!
//! There is no Atlas (nor a local Atlas deployment) on this machine, so no oracle: the
//! expected outputs come from the documentation. Vector scores are the documented
//! normalisations computed by hand in single precision, as Lucene computes them — cosine
//! (1 + cos) / 2, dotProduct (1 + q·v) / 2, and euclidean 1 / (1 + d²): the Atlas page writes
//! `1 / (1 + euclidean(v1,v2))`, and mongot passes Lucene's `VectorSimilarityFunction.EUCLIDEAN`,
//! which squares the distance. Text scores are Lucene's BM25 (k1 = 1.2, b = 0.75), which
//! reproduce the Atlas Search documentation's printed scores to the last digit (see
//! tests/fidelity/mongo/atlas-search.mongo); the BM25 numbers below were worked out by hand
//! the same way. Each case is a setup and (statement, exact mongosh output) steps.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

/// A case: its name, its setup, and (statement, expected output) steps.
type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

fn check(name: &str, setup: &[&str], steps: &[(&str, &str)]) {
    common::check_mongosh(name, NOW, setup, steps);
}

const MOVIES: &[&str] = &[
    r#"db.movies.insertMany([
        {_id: 1, title: "Star Wars", year: 1977, genre: "scifi", v: [1, 0, 0]},
        {_id: 2, title: "Star Trek", year: 1979, genre: "scifi", v: [0.9, 0.1, 0]},
        {_id: 3, title: "Alien", year: 1979, genre: "horror", v: [0, 1, 0]},
        {_id: 4, title: "Heat", year: 1995, genre: "crime", v: [0, 0, 1]},
        {_id: 5, title: "No vector", year: 2000, genre: "crime"},
        {_id: 6, title: "Short vector", year: 2001, genre: "crime", v: [1, 0]}
    ])"#,
    r#"db.movies.createSearchIndex({name: "vector_index", type: "vectorSearch", definition: {fields: [
        {type: "vector", path: "v", numDimensions: 3, similarity: "cosine"},
        {type: "filter", path: "year"}, {type: "filter", path: "genre"}]}})"#,
];

fn vs(extra: &str) -> String {
    format!(
        r#"db.movies.aggregate([{{$vectorSearch: {{index: "vector_index", path: "v", queryVector: [1, 0, 0], {extra}}}}}, {{$project: {{_id: 1, score: {{$meta: "vectorSearchScore"}}}}}}])"#
    )
}

#[test]
fn search_index_management() {
    let cases: &[Case] = &[
        (
            "every createSearchIndex form answers the name; the name defaults to default",
            &[r#"db.c.insertOne({_id: 1})"#],
            &[
                (r#"db.c.createSearchIndex({mappings: {dynamic: true}})"#, "default"),
                (
                    r#"db.c.createSearchIndex("byName", {mappings: {dynamic: false}})"#,
                    "byName",
                ),
                (
                    r#"db.c.createSearchIndex("vec", "vectorSearch", {fields: [{type: "vector", path: "v", numDimensions: 2, similarity: "euclidean"}]})"#,
                    "vec",
                ),
                (
                    r#"db.c.createSearchIndex({name: "desc", type: "search", definition: {mappings: {dynamic: true}}})"#,
                    "desc",
                ),
                (
                    r#"db.c.createSearchIndexes([{name: "a", definition: {mappings: {dynamic: true}}}, {name: "b", type: "vectorSearch", definition: {fields: [{type: "vector", path: "w", numDimensions: 4, similarity: "dotProduct"}]}}])"#,
                    "[ 'a', 'b' ]",
                ),
                (
                    r#"db.c.getSearchIndexes().map(i => i.name + ":" + i.type + ":" + i.status + ":" + i.queryable)"#,
                    "[\n  'default:search:READY:true',\n  'byName:search:READY:true',\n  'vec:vectorSearch:READY:true',\n  'desc:search:READY:true',\n  'a:search:READY:true',\n  'b:vectorSearch:READY:true'\n]",
                ),
            ],
        ),
        (
            "getSearchIndexes and $listSearchIndexes describe an index as Atlas does",
            &[
                r#"db.c.insertOne({_id: 1})"#,
                r#"db.c.createSearchIndex("vec", "vectorSearch", {fields: [{type: "vector", path: "v", numDimensions: 2, similarity: "euclidean"}]})"#,
            ],
            &[
                (
                    r#"db.c.getSearchIndexes("vec").map(i => Object.keys(i))"#,
                    "[\n  [\n    'id',\n    'name',\n    'type',\n    'status',\n    'queryable',\n    'latestDefinitionVersion',\n    'latestDefinition'\n  ]\n]",
                ),
                (
                    r#"db.c.aggregate([{$listSearchIndexes: {name: "vec"}}, {$project: {_id: 0, id: 0}}])"#,
                    "[
  {
    name: 'vec',
    type: 'vectorSearch',
    status: 'READY',
    queryable: true,
    latestDefinitionVersion: { version: 0, createdAt: ISODate('2024-01-01T00:00:00.000Z') },
    latestDefinition: {
      fields: [
        {
          type: 'vector',
          path: 'v',
          numDimensions: 2,
          similarity: 'euclidean'
        }
      ]
    }
  }
]",
                ),
                (r#"db.c.getSearchIndexes("none")"#, "[]"),
                (
                    r#"db.c.aggregate([{$listSearchIndexes: {name: "vec", id: "x"}}])"#,
                    "MongoServerError[BadValue]: Cannot set both 'name' and 'id' to select an index",
                ),
            ],
        ),
        (
            "creating the same index again is a no-op; another definition under the name is refused",
            &[
                r#"db.c.insertOne({_id: 1})"#,
                r#"db.c.createSearchIndex({mappings: {dynamic: true}})"#,
            ],
            &[
                (r#"db.c.createSearchIndex({mappings: {dynamic: true}})"#, "default"),
                (r#"db.c.getSearchIndexes().length"#, "1"),
                (
                    r#"db.c.createSearchIndex({mappings: {dynamic: false}})"#,
                    "MongoServerError[IndexAlreadyExists]: Duplicate Index: an index named default already exists",
                ),
            ],
        ),
        (
            "updateSearchIndex replaces the definition and bumps the version; dropSearchIndex removes",
            &[
                r#"db.c.insertOne({_id: 1})"#,
                r#"db.c.createSearchIndex({mappings: {dynamic: true}})"#,
            ],
            &[
                (r#"db.c.updateSearchIndex("default", {mappings: {dynamic: false}})"#, ""),
                (
                    r#"db.c.getSearchIndexes()[0].latestDefinitionVersion.version"#,
                    "1",
                ),
                (
                    r#"db.c.getSearchIndexes()[0].latestDefinition"#,
                    "{ mappings: { dynamic: false } }",
                ),
                (
                    r#"db.c.updateSearchIndex("default", {fields: []})"#,
                    r#"MongoServerError[BadValue]: unrecognized field "fields""#,
                ),
                (r#"db.c.dropSearchIndex("default")"#, ""),
                (r#"db.c.getSearchIndexes()"#, "[]"),
                (
                    r#"db.c.dropSearchIndex("default")"#,
                    "MongoServerError[IndexNotFound]: Search index default not found",
                ),
                (
                    r#"db.c.updateSearchIndex("nope", {mappings: {dynamic: true}})"#,
                    "MongoServerError[IndexNotFound]: Search index nope not found",
                ),
            ],
        ),
        (
            "definitions are checked as mongot checks them",
            &[r#"db.c.insertOne({_id: 1})"#],
            &[
                (
                    r#"db.c.createSearchIndex({})"#,
                    r#"MongoServerError[BadValue]: "mappings" is required"#,
                ),
                (
                    r#"db.c.createSearchIndex("v", "vectorSearch", {fields: [{type: "vector", path: "v", similarity: "cosine"}]})"#,
                    r#"MongoServerError[BadValue]: "fields[0].numDimensions" is required"#,
                ),
                (
                    r#"db.c.createSearchIndex("v", "vectorSearch", {fields: [{type: "vector", path: "v", numDimensions: 9000, similarity: "cosine"}]})"#,
                    r#"MongoServerError[BadValue]: "fields[0].numDimensions" must be within bounds [1..8192]"#,
                ),
                (
                    r#"db.c.createSearchIndex("v", "vectorSearch", {fields: [{type: "vector", path: "v", numDimensions: 3, similarity: "l2"}]})"#,
                    r#"MongoServerError[BadValue]: "fields[0].similarity" must be one of [euclidean, cosine, dotProduct]"#,
                ),
                (
                    r#"db.c.createSearchIndex("v", "knn", {fields: []})"#,
                    "MongoServerError[BadValue]: Invalid index type 'knn'. Allowed types are 'search' and 'vectorSearch'",
                ),
                (
                    r#"db.c.createSearchIndex({mappings: {dynamic: true, fields: {t: {type: "text"}}}})"#,
                    r#"MongoServerError[BadValue]: "mappings.fields.t.type" unknown field type "text""#,
                ),
                (
                    r#"db.c.createSearchIndex({analyzer: "lucene.klingon", mappings: {dynamic: true}})"#,
                    r#"MongoServerError[BadValue]: "analyzer" analyzer lucene.klingon is not available in this sandbox (it has lucene.standard, lucene.english, lucene.simple, lucene.whitespace and lucene.keyword)"#,
                ),
                (r#"db.c.getSearchIndexes()"#, "[]"),
            ],
        ),
        (
            "a collection that does not exist has no search indexes to manage",
            &[],
            &[
                (
                    r#"db.nothere.createSearchIndex({mappings: {dynamic: true}})"#,
                    "MongoServerError[NamespaceNotFound]: Collection 'test.nothere' does not exist.",
                ),
                (
                    r#"db.nothere.getSearchIndexes()"#,
                    "MongoServerError[NamespaceNotFound]: Collection 'test.nothere' does not exist.",
                ),
            ],
        ),
    ];
    for (name, setup, steps) in cases {
        check(name, setup, steps);
    }
}

#[test]
fn vector_search() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            // cos(q, v2) = 0.9 / √0.82; (1 + cos) / 2 in single precision.
            "cosine scores, best first, limited",
            &[(
                &vs("numCandidates: 10, limit: 3"),
                "[\n  { _id: 1, score: 1 },\n  { _id: 2, score: 0.996941864490509 },\n  { _id: 3, score: 0.5 }\n]",
            )],
        ),
        (
            "exact mode gives the same ranking; documents without a vector of the right length are not indexed",
            &[(
                &vs("exact: true, limit: 10"),
                "[\n  { _id: 1, score: 1 },\n  { _id: 2, score: 0.996941864490509 },\n  { _id: 3, score: 0.5 },\n  { _id: 4, score: 0.5 }\n]",
            )],
        ),
        (
            "the filter subset on fields indexed as filter",
            &[
                (&vs(r#"exact: true, limit: 10, filter: {year: {$gte: 1979}}"#), "[\n  { _id: 2, score: 0.996941864490509 },\n  { _id: 3, score: 0.5 },\n  { _id: 4, score: 0.5 }\n]"),
                (&vs(r#"exact: true, limit: 10, filter: {year: 1979, genre: {$ne: "scifi"}}"#), "[ { _id: 3, score: 0.5 } ]"),
                (&vs(r#"exact: true, limit: 10, filter: {$or: [{genre: {$in: ["crime", "horror"]}}, {year: {$lt: 1978}}]}"#), "[\n  { _id: 1, score: 1 },\n  { _id: 3, score: 0.5 },\n  { _id: 4, score: 0.5 }\n]"),
                (&vs(r#"exact: true, limit: 10, filter: {$and: [{genre: {$nin: ["crime"]}}, {year: {$gt: 1977, $lte: 1979}}]}"#), "[ { _id: 2, score: 0.996941864490509 }, { _id: 3, score: 0.5 } ]"),
            ],
        ),
        (
            "the filter's errors are mongot's",
            &[
                (&vs(r#"exact: true, limit: 10, filter: {title: "Alien"}"#), "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: Path 'title' needs to be indexed as filter"),
                (&vs(r#"exact: true, limit: 10, filter: {year: {$regex: "19"}}"#), r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "filter.year" unrecognized field "$regex""#),
                (&vs(r#"exact: true, limit: 10, filter: {year: {$in: []}}"#), r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "filter.year.$in" cannot be empty"#),
            ],
        ),
        (
            "limit, numCandidates and exact are validated as Atlas validates them",
            &[
                (&vs("numCandidates: 2, limit: 3"), "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: limit should be less than or equal to numCandidates"),
                (&vs("numCandidates: 10001, limit: 3"), r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "numCandidates" must be within bounds [1..10000]"#),
                (&vs("limit: 3"), "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: numCandidates is required for approximate vector search"),
                (&vs("exact: true, numCandidates: 10, limit: 3"), r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "numCandidates" must be omitted when "exact" is set to true"#),
                (&vs("numCandidates: 10, limit: 0"), r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "limit" must be positive"#),
                (&vs("numCandidates: 10, limit: 1, k: 3"), "MongoServerError[Location40415]: BSON field '$vectorSearch.k' is an unknown field."),
                (r#"db.movies.aggregate([{$vectorSearch: {path: "v", queryVector: [1, 0, 0], numCandidates: 10, limit: 2}}])"#, r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "index" is required"#),
            ],
        ),
        (
            "the query vector must have the index's dimensions and the path must be indexed as vector",
            &[
                (r#"db.movies.aggregate([{$vectorSearch: {index: "vector_index", path: "v", queryVector: [1, 0], numCandidates: 10, limit: 2}}])"#, "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: vector field is indexed with 3 dimensions but queried with 2"),
                (r#"db.movies.aggregate([{$vectorSearch: {index: "vector_index", path: "w", queryVector: [1, 0, 0], numCandidates: 10, limit: 2}}])"#, "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: w is not indexed as vector"),
            ],
        ),
        (
            "an index that does not exist finds nothing, silently, as on Atlas",
            &[(r#"db.movies.aggregate([{$vectorSearch: {index: "nope", path: "v", queryVector: [1, 0, 0], numCandidates: 10, limit: 2}}])"#, "")],
        ),
        (
            "$vectorSearch must be the first stage",
            &[
                (r#"db.movies.aggregate([{$match: {}}, {$vectorSearch: {index: "vector_index", path: "v", queryVector: [1, 0, 0], numCandidates: 10, limit: 2}}])"#, "MongoServerError[Location40602]: $vectorSearch is only valid as the first stage in a pipeline"),
                (r#"db.movies.aggregate([{$project: {s: {$meta: "vectorSearchScore"}}}])"#, "MongoServerError[Location40218]: query requires vectorSearchScore metadata, but it is not available"),
            ],
        ),
        (
            "later stages see the documents; the score survives an exclusion projection and never shows by itself",
            &[(
                r#"db.movies.aggregate([{$vectorSearch: {index: "vector_index", path: "v", queryVector: [1, 0, 0], numCandidates: 10, limit: 2}}, {$project: {v: 0}}, {$addFields: {s: {$meta: "vectorSearchScore"}}}])"#,
                "[\n  { _id: 1, title: 'Star Wars', year: 1977, genre: 'scifi', s: 1 },\n  {\n    _id: 2,\n    title: 'Star Trek',\n    year: 1979,\n    genre: 'scifi',\n    s: 0.996941864490509\n  }\n]",
            )],
        ),
        (
            "the flow view shows the stage's documents without the hidden score",
            &[(
                r#"db.movies.aggregate([{$vectorSearch: {index: "vector_index", path: "v", queryVector: [1, 0, 0], numCandidates: 10, limit: 1}}, {$project: {title: 1}}], {flow: true})"#,
                "Stage 1 $vectorSearch: 1 in -> 1 out (examined 1)\n  [\n    {\n      _id: 1,\n      title: 'Star Wars',\n      year: 1977,\n      genre: 'scifi',\n      v: [ 1, 0, 0 ]\n    }\n  ]\nStage 2 $project: 1 in -> 1 out (examined 1)\n  [ { _id: 1, title: 'Star Wars' } ]\nResult: 1 document",
            )],
        ),
        (
            // _id 7: cos = 1 / √1.25; _id 1 is now orthogonal (0.5), tied with 3 and 4, and
            // ties keep collection order.
            "the index follows inserts, updates and deletes (built once, rebuilt after writes)",
            &[
                (&vs("numCandidates: 10, limit: 1"), "[ { _id: 1, score: 1 } ]"),
                (r#"db.movies.insertOne({_id: 7, title: "New", v: [1, 0, 0.5]})"#, "{ acknowledged: true, insertedId: 7 }"),
                (r#"db.movies.updateOne({_id: 1}, {$set: {v: [0, 0, -1]}})"#, "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}"),
                (r#"db.movies.deleteOne({_id: 2})"#, "{ acknowledged: true, deletedCount: 1 }"),
                (&vs("numCandidates: 10, limit: 2"), "[ { _id: 7, score: 0.9472135901451111 }, { _id: 1, score: 0.5 } ]"),
            ],
        ),
    ];
    for (name, steps) in cases {
        check(name, MOVIES, steps);
    }
}

#[test]
fn vector_similarities() {
    let setup: &[&str] = &[
        r#"db.p.insertMany([{_id: 1, a: [0.8, 0.6], b: [2, 2]}, {_id: 2, a: [0.6, 0.8], b: [1, 0]}])"#,
        r#"db.p.createSearchIndex("dot", "vectorSearch", {fields: [{type: "vector", path: "a", numDimensions: 2, similarity: "dotProduct"}]})"#,
        r#"db.p.createSearchIndex("euc", "vectorSearch", {fields: [{type: "vector", path: "b", numDimensions: 2, similarity: "euclidean"}]})"#,
    ];
    check(
        "dotProduct: (1 + q·v) / 2; euclidean: 1 / (1 + d²)",
        setup,
        &[
            (
                r#"db.p.aggregate([{$vectorSearch: {index: "dot", path: "a", queryVector: [0.6, 0.8], exact: true, limit: 5}}, {$project: {score: {$meta: "vectorSearchScore"}}}])"#,
                "[ { _id: 2, score: 1 }, { _id: 1, score: 0.9800000190734863 } ]",
            ),
            (
                r#"db.p.aggregate([{$vectorSearch: {index: "euc", path: "b", queryVector: [1, 0], exact: true, limit: 5}}, {$project: {score: {$meta: "vectorSearchScore"}}}])"#,
                "[ { _id: 2, score: 1 }, { _id: 1, score: 0.1666666716337204 } ]",
            ),
        ],
    );
}

const BOOKS: &[&str] = &[
    r#"db.books.insertMany([
        {_id: 1, title: "The Quick Brown Fox", tags: ["animals", "classic"], pages: 120, published: ISODate("2001-05-01"), isbn: "111"},
        {_id: 2, title: "A Brown Bear Story", tags: ["animals"], pages: 300, published: ISODate("2010-01-01"), isbn: "222"},
        {_id: 3, title: "Quick Recipes for Busy Cooks", tags: ["cooking"], pages: 80, published: ISODate("2020-03-15"), isbn: "333"},
        {_id: 4, title: "Running with Foxes", pages: 210, isbn: "444"}
    ])"#,
    r#"db.books.createSearchIndex({mappings: {dynamic: true, fields: {
        title: [{type: "string"}, {type: "autocomplete", minGrams: 2, maxGrams: 7}],
        isbn: {type: "token"}}}})"#,
    r#"db.books.createSearchIndex("english", {analyzer: "lucene.english", mappings: {dynamic: false, fields: {title: {type: "string"}}}})"#,
];

fn search(op: &str) -> String {
    format!(
        r#"db.books.aggregate([{{$search: {op}}}, {{$project: {{_id: 1, score: {{$meta: "searchScore"}}}}}}])"#
    )
}

#[test]
fn full_text_search() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            // N = 4 titles, avgdl = 16/4; "brown": df 2, idf = ln(1 + 2.5/2.5) = ln 2;
            // tf = 1 / (1 + 1.2 (0.25 + 0.75 dl / avgdl)) with dl 4 for both.
            "text: lucene.standard, BM25, ties in collection order",
            &[(
                &search(r#"{text: {query: "brown", path: "title"}}"#),
                "[\n  { _id: 1, score: 0.3150668740272522 },\n  { _id: 2, score: 0.3150668740272522 }\n]",
            )],
        ),
        (
            "text: several words are OR-ed and a document with more of them scores higher",
            &[(
                &search(r#"{text: {query: "quick fox", path: "title"}}"#),
                "[\n  { _id: 1, score: 0.8623272180557251 },\n  { _id: 3, score: 0.28583386540412903 }\n]",
            )],
        ),
        (
            "text: matchCriteria all; the standard analyzer neither stems nor drops stop words",
            &[
                (&search(r#"{text: {query: "quick fox", path: "title", matchCriteria: "all"}}"#), "[ { _id: 1, score: 0.8623272180557251 } ]"),
                (&search(r#"{text: {query: "foxes", path: "title"}}"#), "[ { _id: 4, score: 0.6096064448356628 } ]"),
                (&search(r#"{text: {query: "the", path: "title"}}"#), "[ { _id: 1, score: 0.5472603440284729 } ]"),
            ],
        ),
        (
            "text with lucene.english: stems and drops stop words (\"with\"), so the shorter title ranks first",
            &[
                (r#"db.books.aggregate([{$search: {index: "english", text: {query: "fox", path: "title"}}}, {$project: {_id: 1}}])"#, "[ { _id: 4 }, { _id: 1 } ]"),
                (r#"db.books.aggregate([{$search: {index: "english", text: {query: "the", path: "title"}}}])"#, ""),
            ],
        ),
        (
            "text: fuzzy matching within the edit distance",
            &[
                (&search(r#"{text: {query: "bron", path: "title", fuzzy: {maxEdits: 1}}}"#), "[\n  { _id: 1, score: 0.3150668740272522 },\n  { _id: 2, score: 0.3150668740272522 }\n]"),
                (&search(r#"{text: {query: "bron", path: "title"}}"#), ""),
            ],
        ),
        (
            "text: several paths and wildcard paths",
            &[
                (r#"db.books.aggregate([{$search: {text: {query: "animals", path: ["title", "tags"]}}}, {$project: {_id: 1}}])"#, "[ { _id: 2 }, { _id: 1 } ]"),
                (r#"db.books.aggregate([{$search: {text: {query: "cooking", path: {wildcard: "*"}}}}, {$project: {_id: 1}}])"#, "[ { _id: 3 } ]"),
            ],
        ),
        (
            "phrase, with slop",
            &[
                (r#"db.books.aggregate([{$search: {phrase: {query: "quick brown", path: "title"}}}, {$project: {_id: 1}}])"#, "[ { _id: 1 } ]"),
                (r#"db.books.aggregate([{$search: {phrase: {query: "quick fox", path: "title"}}}, {$project: {_id: 1}}])"#, ""),
                (r#"db.books.aggregate([{$search: {phrase: {query: "quick fox", path: "title", slop: 1}}}, {$project: {_id: 1}}])"#, "[ { _id: 1 } ]"),
            ],
        ),
        (
            "autocomplete over edge grams, in any order or in sequence",
            &[
                (r#"db.books.aggregate([{$search: {autocomplete: {query: "qui", path: "title"}}}, {$project: {_id: 1}}])"#, "[ { _id: 1 }, { _id: 3 } ]"),
                (r#"db.books.aggregate([{$search: {autocomplete: {query: "brown fo", path: "title", tokenOrder: "sequential"}}}, {$project: {_id: 1}}])"#, "[ { _id: 1 } ]"),
                (r#"db.books.aggregate([{$search: {autocomplete: {query: "q", path: "title"}}}])"#, ""),
                (r#"db.books.aggregate([{$search: {autocomplete: {query: "an", path: "tags"}}}])"#, "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: Path 'tags' needs to be indexed as autocomplete"),
            ],
        ),
        (
            "equals and range on numbers, dates and tokens score 1",
            &[
                (&search(r#"{range: {path: "pages", gte: 100, lt: 250}}"#), "[ { _id: 1, score: 1 }, { _id: 4, score: 1 } ]"),
                (&search(r#"{range: {path: "published", gt: ISODate("2005-01-01")}}"#), "[ { _id: 2, score: 1 }, { _id: 3, score: 1 } ]"),
                (&search(r#"{equals: {path: "isbn", value: "333"}}"#), "[ { _id: 3, score: 1 } ]"),
                (&search(r#"{equals: {path: "title", value: "Running with Foxes"}}"#), "MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: Path 'title' needs to be indexed as token"),
                (&search(r#"{exists: {path: "published"}}"#), "[ { _id: 1, score: 1 }, { _id: 2, score: 1 }, { _id: 3, score: 1 } ]"),
            ],
        ),
        (
            "score options: boost multiplies, constant replaces",
            &[
                (&search(r#"{range: {path: "pages", gte: 300, score: {boost: {value: 3}}}}"#), "[ { _id: 2, score: 3 } ]"),
                (&search(r#"{text: {query: "recipes", path: "title", score: {constant: {value: 5}}}}"#), "[ { _id: 3, score: 5 } ]"),
            ],
        ),
        (
            "$sort by { $meta: \"searchScore\" } puts the best first again",
            &[(
                r#"db.books.aggregate([{$search: {text: {query: "quick fox", path: "title"}}}, {$sort: {_id: -1}}, {$sort: {s: {$meta: "searchScore"}}}, {$project: {_id: 1}}])"#,
                "[ { _id: 1 }, { _id: 3 } ]",
            )],
        ),
        (
            "$searchMeta counts the matches",
            &[
                (r#"db.books.aggregate([{$searchMeta: {text: {query: "quick brown", path: "title"}}}])"#, "[ { count: { lowerBound: Long('3') } } ]"),
                (r#"db.books.aggregate([{$searchMeta: {range: {path: "pages", gt: 100}, count: {type: "total"}}}])"#, "[ { count: { total: Long('3') } } ]"),
            ],
        ),
        (
            "a missing index finds nothing; a search stage must come first",
            &[
                (r#"db.books.aggregate([{$search: {index: "nope", text: {query: "brown", path: "title"}}}])"#, ""),
                (r#"db.books.aggregate([{$limit: 1}, {$search: {text: {query: "brown", path: "title"}}}])"#, "MongoServerError[Location40602]: $search is only valid as the first stage in a pipeline"),
                (r#"db.books.aggregate([{$search: {text: {query: "brown", path: "title"}, phrase: {query: "x", path: "title"}}}])"#, r#"MongoServerError[UnknownError]: PlanExecutor error during aggregation :: caused by :: "$search" must have exactly one operator, found more than one"#),
            ],
        ),
        (
            "the index follows writes (the new, shorter title ranks first)",
            &[
                (r#"db.books.insertOne({_id: 5, title: "Brown Rice Cooking"})"#, "{ acknowledged: true, insertedId: 5 }"),
                (r#"db.books.deleteOne({_id: 1})"#, "{ acknowledged: true, deletedCount: 1 }"),
                (r#"db.books.aggregate([{$search: {text: {query: "brown", path: "title"}}}, {$project: {_id: 1}}])"#, "[ { _id: 5 }, { _id: 2 } ]"),
            ],
        ),
    ];
    for (name, steps) in cases {
        check(name, BOOKS, steps);
    }
}

#[test]
fn search_indexes_are_saved_and_exported() {
    let mut shell = Shell::new();
    for s in MOVIES {
        shell.eval_mongosh(s, NOW);
    }
    let redis = nosql_playground::redis::Server::new();
    let clock = nosql_playground::clock::Clock::default();
    let bytes = nosql_playground::persist::save(&redis, &shell, &clock, b"", NOW);
    let loaded = nosql_playground::persist::load(&bytes, NOW).unwrap_or_else(|e| panic!("{e}"));
    let mut restored = loaded.mongo;
    assert_eq!(
        restored
            .eval_mongosh(&vs("numCandidates: 10, limit: 1"), NOW)
            .trim_end(),
        "[ { _id: 1, score: 1 } ]"
    );
    assert_eq!(
        restored
            .eval_mongosh(r#"db.movies.getSearchIndexes()[0].id"#, NOW)
            .trim_end(),
        shell
            .eval_mongosh(r#"db.movies.getSearchIndexes()[0].id"#, NOW)
            .trim_end()
    );
    let script = nosql_playground::persist::mongo_dump::mongosh_script(restored.store());
    assert!(
        script.contains(r#"db.getCollection("movies").createSearchIndex(EJSON.deserialize({"name":"vector_index","type":"vectorSearch","definition":{"fields":[{"type":"vector","path":"v","numDimensions":{"$numberInt":"3"},"similarity":"cosine"},{"type":"filter","path":"year"},{"type":"filter","path":"genre"}]}}, { relaxed: false }));"#),
        "{script}"
    );
}

/// Recall@10 of the approximate structure against exact search on seeded vectors: the
/// measure the issue sets (≥ 0.95), for the HNSW graph behind `approximate_index` searched
/// with numCandidates 100, as the Atlas tutorials query. The vectors are shaped like
/// embeddings: points of a 16-dimensional space, mapped into `dims` dimensions by a fixed
/// random matrix, plus a little noise (uniform noise in 128 dimensions has no neighbours to
/// speak of: every point is nearly as far as every other, for any index).
fn recall_at_10(n: usize, dims: usize, queries: usize) -> f64 {
    use nosql_playground::mongo::search::vector::{approximate_index, BruteForce, VectorIndex};
    use nosql_playground::mongo::search::Similarity;
    use std::sync::Arc;
    const LATENT: usize = 16;
    let mut rng = common::Rng(0x5eed_1234_abcd_0001);
    let mut unit = move || (rng.next() % 2001) as f32 / 1000.0 - 1.0;
    let matrix: Vec<f32> = (0..LATENT * dims).map(|_| unit()).collect();
    let mut vector = || -> Vec<f32> {
        let point: Vec<f32> = (0..LATENT).map(|_| unit()).collect();
        (0..dims)
            .map(|d| {
                let along: f32 = (0..LATENT).map(|l| point[l] * matrix[l * dims + d]).sum();
                along + 0.05 * unit()
            })
            .collect()
    };
    let entries = Arc::new((0..n as u64).map(|i| (i, vector())).collect::<Vec<_>>());
    let exact = BruteForce {
        similarity: Similarity::Cosine,
        entries: Arc::clone(&entries),
    };
    let approximate = approximate_index(Similarity::Cosine, entries);
    let all = |_: u64| true;
    let mut found = 0usize;
    for _ in 0..queries {
        let q = vector();
        let want: Vec<u64> = exact
            .search(&q, 10, usize::MAX, &all)
            .iter()
            .map(|r| r.0)
            .collect();
        let got = approximate.search(&q, 10, 100, &all);
        found += got.iter().filter(|r| want.contains(&r.0)).count();
    }
    found as f64 / (10 * queries) as f64
}

#[test]
fn approximate_vector_search_recall() {
    let recall = recall_at_10(2_000, 32, 20);
    assert!(recall >= 0.95, "recall@10 {recall}");
}

/// The issue's full measure: 100k vectors of 128 dimensions (minutes in a debug build).
#[test]
#[ignore]
fn approximate_vector_search_recall_100k() {
    let recall = recall_at_10(100_000, 128, 50);
    println!("recall@10 over 100k 128-dim vectors: {recall}");
    assert!(recall >= 0.95, "recall@10 {recall}");
}
