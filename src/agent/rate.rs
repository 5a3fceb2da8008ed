//! Per-client request budgets: a token bucket per client key, holding up to one minute's
//! allowance and refilled continuously, so a client may burst its whole per-minute rate and then
//! gets one request every `60/rate` seconds. The table is bounded: when it is full the entry
//! used longest ago is dropped (its client starts again with a full bucket, which is the most
//! a forgotten client can gain).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

/// Most clients remembered at once.
pub const MAX_CLIENTS: usize = 4096;

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Requests refused since the last refusal that was recorded.
    unrecorded: u64,
    /// When a refusal of this client was last recorded.
    recorded_at: Option<Instant>,
}

/// What [`Limiter::take`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Within the budget.
    Allowed,
    /// Over the budget. `record`: this refusal should be written to the audit log, standing
    /// for `count` refusals (1 + those not recorded since the last recorded one); refusals are
    /// recorded at most once a minute per client.
    Limited {
        /// Write a record now.
        record: bool,
        /// How many refusals the record stands for.
        count: u64,
    },
}

/// The budgets of every client, by key.
pub struct Limiter<K> {
    buckets: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Default for Limiter<K> {
    fn default() -> Self {
        Limiter {
            buckets: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// Spend one request of `key`'s budget of `per_minute` requests a minute, at `now`.
    pub fn take(&mut self, key: &K, per_minute: u32, now: Instant) -> Decision {
        let capacity = f64::from(per_minute.max(1));
        if !self.buckets.contains_key(key)
            && self.buckets.len() >= MAX_CLIENTS
            && let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.last)
                .map(|(k, _)| k.clone())
        {
            self.buckets.remove(&oldest);
        }
        let b = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            last: now,
            unrecorded: 0,
            recorded_at: None,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * capacity / 60.0).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Decision::Allowed;
        }
        b.unrecorded += 1;
        let due = b
            .recorded_at
            .is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 60);
        if due {
            let count = b.unrecorded;
            b.unrecorded = 0;
            b.recorded_at = Some(now);
            Decision::Limited {
                record: true,
                count,
            }
        } else {
            Decision::Limited {
                record: false,
                count: 0,
            }
        }
    }

    /// Forget every budget (when the agent seals).
    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_one_minute_then_the_steady_rate() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(l.take(&1u32, 60, t0), Decision::Allowed);
        }
        assert_eq!(
            l.take(&1, 60, t0),
            Decision::Limited {
                record: true,
                count: 1
            }
        );
        // Further refusals within the minute are counted, not recorded.
        assert_eq!(
            l.take(&1, 60, t0),
            Decision::Limited {
                record: false,
                count: 0
            }
        );
        // Another client is not affected.
        assert_eq!(l.take(&2, 60, t0), Decision::Allowed);
        // One second later, one more request.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.take(&1, 60, t1), Decision::Allowed);
        // A minute after the last record, the next refusal is recorded with the count.
        let t2 = t0 + Duration::from_secs(61);
        for _ in 0..60 {
            l.take(&1, 60, t2);
        }
        assert!(matches!(
            l.take(&1, 60, t2),
            Decision::Limited { record: true, count } if count >= 2
        ));
    }

    #[test]
    fn the_table_is_bounded() {
        let mut l = Limiter::default();
        let t = Instant::now();
        for k in 0..(MAX_CLIENTS as u32 + 10) {
            l.take(&k, 1, t);
        }
        assert_eq!(l.buckets.len(), MAX_CLIENTS);
    }
}
