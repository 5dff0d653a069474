//! Caps on how much one player or one address may ask for.
//!
//! - Completed rounds per player per China day: enforced by the ledger's
//!   single writer (see `NewParticipation::player_daily_cap`), so concurrent
//!   finishes cannot overshoot.
//! - Requests per client address: a token bucket per address, in memory
//!   (`governor`'s GCRA). IPv6 clients are keyed by their /64, the block one
//!   household or phone usually gets, so rotating addresses inside it does not
//!   buy more requests.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sim::wire::RejectReason;

use crate::state::AppState;

/// Checks between two sweeps of idle buckets out of the limiter's map.
const CHECKS_PER_SWEEP: u64 = 4_096;

/// Per-address request limit of the round API.
#[derive(Debug)]
pub struct AddressLimiter {
    /// `None` when the limit is turned off.
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
}

impl AddressLimiter {
    /// Allows `rate_per_sec` requests per second per address on average,
    /// `burst` at once; a rate of 0 turns the limit off.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(rate_per_sec).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from `address`'s bucket.
    pub fn check(&self, address: IpAddr) -> Result<(), RejectReason> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        // Forget addresses whose bucket is full again, now and then, so the
        // map does not grow with every address ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % CHECKS_PER_SWEEP == CHECKS_PER_SWEEP - 1 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&bucket_key(address))
            .map_err(|_| RejectReason::RateLimited)
    }
}

/// The key of an address's bucket: IPv4 as is, IPv6 by its /64.
fn bucket_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// The client's address: the TCP peer, or with `--trust-forwarded-for` the
/// last `X-Forwarded-For` entry (the one the trusted proxy appended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = if state.policy.trust_forwarded_for {
            last_forwarded_for(&parts.headers)
        } else {
            None
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        // Without connection info (a router driven in-process) every client
        // shares one bucket, which is the safe side.
        Ok(Self(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// The last address of the `X-Forwarded-For` headers, if it parses.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last_header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last_entry = last_header.to_str().ok()?.rsplit(',').next()?;
    last_entry.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_gets_its_burst_then_is_limited() {
        let limiter = AddressLimiter::new(1, 3);
        for attempt in 1..=3 {
            assert_eq!(
                limiter.check(ip("192.0.2.1")),
                Ok(()),
                "request {attempt} is within the burst"
            );
        }
        assert_eq!(
            limiter.check(ip("192.0.2.1")),
            Err(RejectReason::RateLimited),
            "the fourth is over it"
        );
        assert_eq!(
            limiter.check(ip("192.0.2.2")),
            Ok(()),
            "another address has its own bucket"
        );
    }

    #[test]
    fn a_rate_of_zero_turns_the_limit_off() {
        let limiter = AddressLimiter::new(0, 0);
        for attempt in 0..1_000 {
            assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()), "request {attempt}");
        }
    }

    #[test]
    fn ipv6_addresses_share_the_bucket_of_their_64() {
        assert_eq!(
            bucket_key(ip("2001:db8:1:2:aaaa::1")),
            bucket_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            bucket_key(ip("2001:db8:1:2::1")),
            bucket_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            bucket_key(ip("::ffff:192.0.2.7")),
            ip("192.0.2.7"),
            "mapped IPv4 is IPv4"
        );
    }

    #[test]
    fn the_last_forwarded_entry_is_the_one_the_proxy_saw() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_forwarded_for(&headers), None);
        headers.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        assert_eq!(last_forwarded_for(&headers), Some(ip("198.51.100.4")));
        headers.append("x-forwarded-for", "192.0.2.33".parse().unwrap());
        assert_eq!(last_forwarded_for(&headers), Some(ip("192.0.2.33")));
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(last_forwarded_for(&headers), None);
    }
}
