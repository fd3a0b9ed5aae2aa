//! SORT and SORT_RO over lists, sets and sorted sets (Redis's sort.c).
