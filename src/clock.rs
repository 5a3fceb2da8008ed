//! custody's idea of the time, passed in by the front end. Records, certificates, rotation
//! dates and expiry checks all take their time from a [`Clock`]; nothing in the library reads
//! the system time or an environment variable behind the caller's back.

use time::OffsetDateTime;

/// Where "now" comes from: the system clock, or a fixed instant (tests, reproducible vectors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<u64>,
}

impl Clock {
    /// The system's UTC clock.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// Always `unix_seconds`.
    pub fn fixed(unix_seconds: u64) -> Clock {
        Clock {
            fixed: Some(unix_seconds),
        }
    }

    /// Seconds since the Unix epoch (UTC).
    pub fn now(&self) -> u64 {
        match self.fixed {
            Some(t) => t,
            None => OffsetDateTime::now_utc().unix_timestamp().max(0) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn fixed_and_system() {
        assert_eq!(Clock::fixed(42).now(), 42);
        // 2026-01-01: the system clock of any machine running these tests is later.
        assert!(Clock::system().now() > 1_767_225_600);
    }
}
