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
    fn of(uri: &Uri) -> Option<Self> {
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
