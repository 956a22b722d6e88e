//! The endpoints a request may go to, and the breaker of each host.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::Uri;
use http::uri::{Authority, Scheme};
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerConfig, BreakerState, Outcome, Permit};
use crate::action::domain_ring;

/// The most hosts that get a breaker; calls to hosts beyond go through
/// untracked, so that a caller naming ever new hosts cannot grow the map
/// without bound.
const MAX_HOSTS: usize = 1024;

/// Where one attempt goes: the scheme and authority of a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
}

impl Origin {
    pub(crate) fn of(uri: &Uri) -> Option<Self> {
        Some(Self {
            scheme: uri.scheme()?.clone(),
            authority: uri.authority()?.clone(),
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// Rings and breakers, shared by every service of a layer.
pub(crate) struct Hosts {
    config: BreakerConfig,
    rings: Vec<Vec<Origin>>,
    domain_rings: bool,
    breakers: Mutex<HashMap<Authority, Breaker>>,
}

/// A breaker's answer to an attempt.
pub(crate) enum Admission {
    Admitted(Ticket),
    Refused,
}

impl Hosts {
    pub(crate) fn new(config: BreakerConfig, rings: Vec<Vec<Origin>>, domain_rings: bool) -> Self {
        Self {
            config,
            rings,
            domain_rings,
            breakers: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn config(&self) -> BreakerConfig {
        self.config
    }

    pub(crate) fn rings(&self) -> &[Vec<Origin>] {
        &self.rings
    }

    pub(crate) fn domain_rings(&self) -> bool {
        self.domain_rings
    }

    /// The endpoints `uri` may be served by, its own first, then the rest
    /// of its ring in order; empty for a URI without scheme and host.
    pub(crate) fn ring_for(&self, uri: &Uri) -> Vec<Origin> {
        let Some(origin) = Origin::of(uri) else {
            return Vec::new();
        };
        for ring in &self.rings {
            if let Some(start) = ring.iter().position(|member| *member == origin) {
                return ring[start..]
                    .iter()
                    .chain(&ring[..start])
                    .cloned()
                    .collect();
            }
        }
        if self.domain_rings
            && let Some(hosts) = domain_ring(origin.authority.as_str())
        {
            return hosts
                .iter()
                .filter_map(|host| host.parse().ok())
                .map(|authority| Origin {
                    scheme: origin.scheme.clone(),
                    authority,
                })
                .collect();
        }
        vec![origin]
    }

    pub(crate) fn admit(self: &Arc<Self>, origin: &Origin, now: Instant) -> Admission {
        let permit = {
            let mut breakers = self.lock();
            if !breakers.contains_key(&origin.authority) && breakers.len() >= MAX_HOSTS {
                None
            } else {
                let breaker = breakers
                    .entry(origin.authority.clone())
                    .or_insert_with(|| Breaker::new(self.config, now));
                match breaker.admit(now) {
                    Some(permit) => Some(permit),
                    None => return Admission::Refused,
                }
            }
        };
        Admission::Admitted(Ticket {
            hosts: self.clone(),
            origin: origin.clone(),
            permit,
        })
    }

    /// The state of the breaker of `host`, `None` for a host not called yet.
    pub(crate) fn state(&self, host: &str) -> Option<BreakerState> {
        let authority: Authority = host.parse().ok()?;
        let now = Instant::now();
        self.lock()
            .get(&authority)
            .map(|breaker| breaker.state(now))
    }

    fn record(&self, origin: &Origin, permit: Permit, outcome: Outcome) {
        let now = Instant::now();
        if let Some(breaker) = self.lock().get_mut(&origin.authority) {
            breaker.record(permit, outcome, now);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Authority, Breaker>> {
        // A breaker's state is whole between calls: a panic elsewhere while
        // the lock was held leaves nothing half-written.
        self.breakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hosts")
            .field("config", &self.config)
            .field("rings", &self.rings)
            .field("domain_rings", &self.domain_rings)
            .finish_non_exhaustive()
    }
}

/// One attempt admitted to a host: hands its outcome to the host's breaker,
/// or, dropped unfinished (the call was cancelled), frees its place.
pub(crate) struct Ticket {
    hosts: Arc<Hosts>,
    origin: Origin,
    permit: Option<Permit>,
}

impl Ticket {
    /// An attempt that the breakers do not judge: sent to a host whose
    /// breaker is open because every host of the ring is, or to a host
    /// beyond [`MAX_HOSTS`].
    pub(crate) fn untracked(hosts: Arc<Hosts>, origin: Origin) -> Self {
        Self {
            hosts,
            origin,
            permit: None,
        }
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    pub(crate) fn finish(mut self, outcome: Outcome) {
        if let Some(permit) = self.permit.take() {
            self.hosts.record(&self.origin, permit, outcome);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.hosts.record(&self.origin, permit, Outcome::Neither);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(uri: &str) -> Origin {
        Origin::of(&uri.parse().unwrap()).unwrap()
    }

    fn hosts(rings: Vec<Vec<Origin>>) -> Arc<Hosts> {
        Arc::new(Hosts::new(BreakerConfig::new(), rings, true))
    }

    fn names(ring: Vec<Origin>) -> Vec<String> {
        ring.iter().map(Origin::to_string).collect()
    }

    #[test]
    fn a_tencentcloud_host_turns_around_its_domain_ring_keeping_its_scheme() {
        let hosts = hosts(Vec::new());
        let ring = hosts.ring_for(&"https://hunyuan.ai.tencentcloudapi.cn/".parse().unwrap());
        assert_eq!(
            names(ring),
            [
                "https://hunyuan.ai.tencentcloudapi.cn",
                "https://hunyuan.ai.tencentcloudapi.com",
                "https://hunyuan.ai.tencentcloudapi.com.cn",
            ]
        );
        let off = Hosts::new(BreakerConfig::new(), Vec::new(), false);
        let ring = off.ring_for(&"https://cvm.tencentcloudapi.com/".parse().unwrap());
        assert_eq!(names(ring), ["https://cvm.tencentcloudapi.com"]);
    }

    #[test]
    fn a_custom_ring_starts_at_the_requests_own_endpoint() {
        let ring = vec![
            origin("http://127.0.0.1:1"),
            origin("http://127.0.0.1:2"),
            origin("http://127.0.0.1:3"),
        ];
        let hosts = hosts(vec![ring]);
        let from_second = hosts.ring_for(&"http://127.0.0.1:2/".parse().unwrap());
        assert_eq!(
            names(from_second),
            [
                "http://127.0.0.1:2",
                "http://127.0.0.1:3",
                "http://127.0.0.1:1"
            ]
        );
        let elsewhere = hosts.ring_for(&"http://127.0.0.1:4/".parse().unwrap());
        assert_eq!(names(elsewhere), ["http://127.0.0.1:4"]);
        assert!(hosts.ring_for(&"/".parse().unwrap()).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn hosts_beyond_the_bound_go_through_untracked() {
        let hosts = hosts(Vec::new());
        for port in 0..MAX_HOSTS + 10 {
            let origin = origin(&format!("http://127.0.0.1:{port}"));
            let Admission::Admitted(ticket) = hosts.admit(&origin, Instant::now()) else {
                panic!("refused {origin}");
            };
            ticket.finish(Outcome::Failure);
        }
        assert_eq!(hosts.lock().len(), MAX_HOSTS);
        assert_eq!(hosts.state("127.0.0.1:0"), Some(BreakerState::Closed));
        assert_eq!(hosts.state(&format!("127.0.0.1:{}", MAX_HOSTS + 1)), None);
    }
}
