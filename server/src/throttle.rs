//! Sign-in throttling: after a few failed sign-ins for one username, or many from one
//! address, each further attempt must wait, twice as long each time up to fifteen minutes
//! (answered 429 with `Retry-After`). A success clears the username's count.
//!
//! Written here rather than taken from a rate-limiting crate: those (governor and the tower
//! layers on it) limit requests per time, while what is wanted is a wait that grows with
//! consecutive *failures* of one key and ends with a success. Counts live in this process's
//! memory, bounded in size; several server processes each keep their own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures a username may have before attempts are spaced out.
const FREE_PER_USERNAME: u32 = 5;
/// Failures one address may have (many people sign in from one office behind one address).
const FREE_PER_ADDRESS: u32 = 50;
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// The most keys kept; past it the oldest are forgotten first.
const MAX_KEYS: usize = 50_000;

/// What is counted: a username or an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A username, as typed (trimmed, lower case).
    Username(String),
    /// The client's address.
    Address(std::net::IpAddr),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::Username(_) => FREE_PER_USERNAME,
            Key::Address(_) => FREE_PER_ADDRESS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The wait after `count` failures of a key allowed `free` of them: none until then, then
/// 1 s, 2 s, 4 s… up to [`MAX_WAIT`].
fn wait(count: u32, free: u32) -> Duration {
    if count < free {
        return Duration::ZERO;
    }
    let doublings = (count - free).min(20);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

/// Failed sign-ins by key.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl SignInThrottle {
    /// How long the caller must still wait before trying `keys`, if at all.
    pub fn must_wait(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter()
            .filter_map(|key| {
                let failures = failures.get(key)?;
                let until = failures.last + wait(failures.count, key.free());
                until
                    .checked_duration_since(now)
                    .filter(|left| !left.is_zero())
            })
            .max()
    }

    /// Counts a failed attempt against every key.
    pub fn failed(&self, keys: &[Key], now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() + keys.len() > MAX_KEYS {
            failures.retain(|_, failures| now.duration_since(failures.last) < FORGET_AFTER);
            if failures.len() + keys.len() > MAX_KEYS {
                // Still full: the oldest half goes.
                let mut lasts: Vec<Instant> = failures.values().map(|f| f.last).collect();
                lasts.sort_unstable();
                let cut = lasts[lasts.len() / 2];
                failures.retain(|_, failures| failures.last > cut);
            }
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    /// Clears a username's count after a successful sign-in (an address's stays: one
    /// person's success says nothing of the others guessing from there).
    pub fn succeeded(&self, username: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&Key::Username(username.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures_and_a_success_clears_them() {
        let throttle = SignInThrottle::default();
        let anna = [Key::Username("anna".into())];
        let start = Instant::now();
        for _ in 0..FREE_PER_USERNAME - 1 {
            throttle.failed(&anna, start);
        }
        assert_eq!(throttle.must_wait(&anna, start), None);
        throttle.failed(&anna, start);
        assert_eq!(
            throttle.must_wait(&anna, start),
            Some(Duration::from_secs(1))
        );
        throttle.failed(&anna, start);
        throttle.failed(&anna, start);
        assert_eq!(
            throttle.must_wait(&anna, start),
            Some(Duration::from_secs(4))
        );
        let later = start + Duration::from_secs(3);
        assert_eq!(
            throttle.must_wait(&anna, later),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            throttle.must_wait(&anna, start + Duration::from_secs(4)),
            None
        );
        // Another username is not held back by Anna's.
        assert_eq!(
            throttle.must_wait(&[Key::Username("omar".into())], start),
            None
        );
        throttle.succeeded("anna");
        assert_eq!(throttle.must_wait(&anna, start), None);
    }

    #[test]
    fn the_wait_stops_growing_and_old_failures_are_forgotten() {
        assert_eq!(wait(1000, 5), MAX_WAIT);
        let throttle = SignInThrottle::default();
        let address = [Key::Address("192.0.2.7".parse().unwrap())];
        let start = Instant::now();
        for _ in 0..FREE_PER_ADDRESS + 3 {
            throttle.failed(&address, start);
        }
        assert_eq!(
            throttle.must_wait(&address, start),
            Some(Duration::from_secs(8))
        );
        // An hour on, one more failure starts the count again.
        let later = start + FORGET_AFTER;
        throttle.failed(&address, later);
        assert_eq!(throttle.must_wait(&address, later), None);
    }
}
