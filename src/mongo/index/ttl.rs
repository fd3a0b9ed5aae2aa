//! TTL indexes: a document whose indexed date (the earliest, for an array of dates) is more
//! than `expireAfterSeconds` in the past is deleted by a background monitor that runs every
//! 60 seconds, as MongoDB's TTL monitor does. Here the monitor runs on sandbox time, when the
//! shell is called and on the page's animation frames, so students can watch documents go.

use std::ops::Bound;

use super::{Key, KeyPart, RecordId};
use crate::mongo::store::{Collection, Store};
use crate::mongo::value::Value;

/// How often the TTL monitor wakes (MongoDB's `ttlMonitorSleepSecs` default).
pub const MONITOR_PERIOD_MS: u64 = 60_000;

/// Runs the TTL monitor if a period has passed since it last ran; returns the number of
/// documents it deleted.
pub fn tick(store: &mut Store, now_ms: u64) -> usize {
    match store.ttl_last_run_ms {
        Some(last) if now_ms < last.saturating_add(MONITOR_PERIOD_MS) && now_ms >= last => {
            return 0
        }
        _ => {}
    }
    store.ttl_last_run_ms = Some(now_ms);
    expire_now(store, now_ms)
}

/// Deletes every document a TTL index says has expired at `now_ms`.
pub fn expire_now(store: &mut Store, now_ms: u64) -> usize {
    let mut deleted = 0;
    for db in store.databases.values_mut() {
        for coll in db.collections.values_mut() {
            deleted += expire_collection(coll, now_ms);
            deleted += crate::mongo::timeseries::expire_collection(coll, now_ms);
        }
    }
    deleted
}

/// When the TTL indexes of `coll` let `doc` expire, in sandbox milliseconds: its indexed date
/// (the earliest, for an array of dates) plus `expireAfterSeconds`, the soonest over the
/// collection's TTL indexes. `None` when no TTL index covers it (no date in the field, or a
/// partial filter leaves it out). The monitor deletes it on its first pass at or after then.
pub fn expires_at(coll: &Collection, doc: &crate::mongo::value::Document) -> Option<f64> {
    let mut soonest: Option<f64> = None;
    for index in coll.indexes() {
        let Some(secs) = index.spec.expire_after_secs else {
            continue;
        };
        let Ok((keys, _)) = index.keys_for(doc) else {
            continue;
        };
        let earliest = keys
            .iter()
            .filter_map(|key| match key.value(0) {
                Some(Value::Date(ms)) => Some(*ms),
                _ => None,
            })
            .min();
        let Some(date) = earliest else {
            continue;
        };
        let at = date as f64 + secs * 1000.0;
        if at.is_finite() && soonest.is_none_or(|s| at < s) {
            soonest = Some(at);
        }
    }
    if let Some(at) = crate::mongo::timeseries::expires_at(coll, doc) {
        if soonest.is_none_or(|s| at < s) {
            soonest = Some(at);
        }
    }
    soonest
}

fn expire_collection(coll: &mut Collection, now_ms: u64) -> usize {
    let mut positions: Vec<usize> = Vec::new();
    for index in coll.indexes() {
        let Some(secs) = index.spec.expire_after_secs else {
            continue;
        };
        let Some(field) = index.spec.key.first() else {
            continue;
        };
        let cutoff = (now_ms as f64 - secs * 1000.0).floor();
        if !cutoff.is_finite() {
            continue;
        }
        let part = |value: Value| {
            Key::one(KeyPart {
                value,
                descending: field.descending,
            })
        };
        // Dates only: a TTL index ignores documents whose field holds anything else.
        let (oldest, newest) = (
            part(Value::Date(i64::MIN)),
            part(Value::Date(cutoff as i64)),
        );
        let (from, to) = if field.descending {
            (newest, oldest)
        } else {
            (oldest, newest)
        };
        let range = (
            Bound::Included((from, RecordId::MIN)),
            Bound::Included((to, RecordId::MAX)),
        );
        for (_, rid) in index.entries().range(range) {
            if let Some(pos) = coll.position_of(*rid) {
                // A document an open transaction wrote waits for it to end.
                if coll.docs.get(pos).is_some_and(|d| !coll.is_locked(d)) {
                    positions.push(pos);
                }
            }
        }
    }
    crate::sort::sort(&mut positions);
    positions.dedup();
    for &pos in positions.iter().rev() {
        coll.remove(pos);
    }
    positions.len()
}
