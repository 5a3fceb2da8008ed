//! Orders per second and per minute, per proxy token, as the policy's terms allow.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The order times kept per token (the largest per-minute limit the policy accepts bounds it).
#[derive(Default)]
pub struct OrderBudgets {
    sent: HashMap<u64, VecDeque<Instant>>,
}

/// Why an order is over budget.
#[derive(Debug, PartialEq, Eq)]
pub struct OverBudget {
    /// `second` or `minute`.
    pub per: &'static str,
    /// The limit.
    pub limit: u32,
}

impl OrderBudgets {
    /// Take `n` orders for `token` at `now` if they fit both limits; nothing is taken
    /// otherwise.
    pub fn take(
        &mut self,
        token: u64,
        n: usize,
        per_second: Option<u32>,
        per_minute: Option<u32>,
        now: Instant,
    ) -> Result<(), OverBudget> {
        if per_second.is_none() && per_minute.is_none() {
            return Ok(());
        }
        let q = self.sent.entry(token).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            q.pop_front();
        }
        if let Some(lim) = per_minute
            && q.len() + n > lim as usize
        {
            return Err(OverBudget {
                per: "minute",
                limit: lim,
            });
        }
        if let Some(lim) = per_second {
            let last_second = q
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
                .count();
            if last_second + n > lim as usize {
                return Err(OverBudget {
                    per: "second",
                    limit: lim,
                });
            }
        }
        for _ in 0..n {
            q.push_back(now);
        }
        // Only the last minute is ever looked at; a per-second-only budget keeps one second.
        let keep = per_minute.map_or(per_second.unwrap_or(0) as usize, |m| m as usize);
        while q.len() > keep {
            q.pop_front();
        }
        Ok(())
    }

    /// Forget every token (on seal).
    pub fn clear(&mut self) {
        self.sent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_windows_are_enforced_and_refusals_take_nothing() {
        let mut b = OrderBudgets::default();
        let t0 = Instant::now();
        for _ in 0..2 {
            b.take(1, 1, Some(2), Some(3), t0).unwrap();
        }
        assert_eq!(
            b.take(1, 1, Some(2), Some(3), t0),
            Err(OverBudget {
                per: "second",
                limit: 2
            })
        );
        let t1 = t0 + Duration::from_millis(1100);
        b.take(1, 1, Some(2), Some(3), t1).unwrap();
        assert_eq!(
            b.take(1, 1, Some(2), Some(3), t1),
            Err(OverBudget {
                per: "minute",
                limit: 3
            })
        );
        // Another token has its own budget; a batch counts each order.
        assert!(b.take(2, 3, None, Some(3), t1).is_ok());
        assert!(b.take(3, 4, None, Some(3), t1).is_err());
        let t2 = t0 + Duration::from_secs(61);
        b.take(1, 1, Some(2), Some(3), t2).unwrap();
    }
}
