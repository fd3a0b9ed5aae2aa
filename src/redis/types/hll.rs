//! HyperLogLog: cardinality estimates stored in a string (Redis's hyperloglog.c).
