//! Retrying idempotent requests: [`RetryConfig`].
//!
//! A request is retried only when sending it again cannot do harm:
//!
//! * its method is `GET`, `HEAD`, `PUT` or `DELETE` (never `POST` or `PATCH`),
//! * and its body can be produced again (no body, bytes in memory, or a
//!   file that is reopened; never a caller's one-shot stream);
//!
//! and only after a failure that another attempt may cure: a connection or
//! timeout error, a `5xx` or a `429`. Waits grow exponentially with *full
//! jitter* (a uniformly random wait between zero and the exponential
//! ceiling), a `Retry-After` header (seconds or an HTTP date) is honoured,
//! and the whole exchange stays within [`RetryConfig::timeout`]. When the
//! retries are spent, the error of the last attempt is returned: its status
//! and request id are those of the last response.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How idempotent requests are retried. Set it with
/// [`ClientBuilder::retry`](crate::ClientBuilder::retry).
///
/// ```
/// use std::time::Duration;
/// use glance_client::RetryConfig;
///
/// let patient = RetryConfig::default()
///     .with_max_retries(6)
///     .with_initial_backoff(Duration::from_millis(500))
///     .with_max_backoff(Duration::from_secs(30))
///     .with_timeout(Duration::from_secs(300));
/// assert_eq!(patient.max_retries, 6);
/// assert_eq!(RetryConfig::disabled().max_retries, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts after the first one (default 3; 0 disables retries).
    pub max_retries: u32,
    /// Ceiling of the first wait (default 250 ms); it doubles per retry.
    pub initial_backoff: Duration,
    /// Largest ceiling of a jittered wait (default 20 s). A longer
    /// `Retry-After` is still honoured if it fits in the timeout.
    pub max_backoff: Duration,
    /// Budget of the whole exchange, waits included (default 60 s): no
    /// retry is started whose wait would end after it.
    pub timeout: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            timeout: Duration::from_secs(60),
        }
    }
}

impl RetryConfig {
    /// Never retry.
    pub fn disabled() -> Self {
        RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        }
    }

    /// Set [`RetryConfig::max_retries`].
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Set [`RetryConfig::initial_backoff`].
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Set [`RetryConfig::max_backoff`].
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Set [`RetryConfig::timeout`].
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The ceiling of the wait before retry number `retry` (1-based):
    /// `initial_backoff * 2^(retry-1)`, at most `max_backoff`.
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// The wait before retry number `retry` (1-based), or `None` to give up.
    ///
    /// `elapsed` is the time spent since the first attempt started,
    /// `retry_after` what the server asked for, and `unit` a number in
    /// `[0, 1)` that draws the jittered wait.
    pub(crate) fn delay(
        &self,
        retry: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Option<Duration> {
        if retry > self.max_retries {
            return None;
        }
        let wait = match retry_after {
            Some(asked) => asked,
            None => self.ceiling(retry).mul_f64(unit.clamp(0.0, 1.0)),
        };
        if elapsed.saturating_add(wait) >= self.timeout {
            return None;
        }
        Some(wait)
    }
}

/// Whether a response status is worth another attempt.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Whether a transport failure is worth another attempt of an idempotent
/// request: anything but a request that could not even be built.
pub(crate) fn retryable_transport(e: &reqwest::Error) -> bool {
    !(e.is_builder() || e.is_redirect())
}

/// The wait a `Retry-After` header asks for: delta seconds or an HTTP date
/// (a date in the past means no wait). Unparsable values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        let c = RetryConfig::default()
            .with_initial_backoff(ms(100))
            .with_max_backoff(ms(1000));
        let got: Vec<_> = (1..=6).map(|n| c.ceiling(n)).collect();
        assert_eq!(
            got,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(c.ceiling(200), ms(1000), "no overflow on huge retry counts");
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let c = RetryConfig::default()
            .with_initial_backoff(ms(100))
            .with_max_backoff(ms(1000));
        assert_eq!(c.delay(3, Duration::ZERO, None, 0.0), Some(ms(0)));
        assert_eq!(c.delay(3, Duration::ZERO, None, 0.5), Some(ms(200)));
        let top = c
            .delay(3, Duration::ZERO, None, 0.999_999)
            .expect("retries");
        assert!(top < ms(400) && top > ms(399), "{top:?}");
    }

    #[test]
    fn gives_up_after_max_retries_or_past_the_budget() {
        let c = RetryConfig::default()
            .with_max_retries(2)
            .with_timeout(Duration::from_secs(10));
        assert!(c.delay(2, Duration::ZERO, None, 0.5).is_some());
        assert_eq!(c.delay(3, Duration::ZERO, None, 0.5), None);
        // Retry-After wins over the jitter, but not over the budget.
        assert_eq!(
            c.delay(1, Duration::from_secs(1), Some(Duration::from_secs(5)), 0.0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            c.delay(1, Duration::from_secs(6), Some(Duration::from_secs(5)), 0.0),
            None
        );
        assert_eq!(
            RetryConfig::disabled().delay(1, Duration::ZERO, None, 0.0),
            None
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").expect("date");
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(RETRY_AFTER, HeaderValue::from_str(v).expect("header"));
            m
        };
        assert_eq!(retry_after(&h("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2026 07:28:03 GMT"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2026 07:27:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses_worth_retrying() {
        assert!(retryable_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(retryable_status(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(retryable_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(!retryable_status(StatusCode::CONFLICT));
        assert!(!retryable_status(StatusCode::NOT_FOUND));
    }
}
