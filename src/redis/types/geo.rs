//! Geo: positions stored as 52-bit geohash scores in a sorted set (Redis's geo.c).
