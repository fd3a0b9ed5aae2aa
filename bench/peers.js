// The libraries a student would reach for instead of this sandbox, bundled for the page so they
// run in the same browser, on the same data, in the same run as our wasm engines.
export { default as RedisMock } from "ioredis-mock";
export { Query, Aggregator, find, aggregate } from "mingo";
