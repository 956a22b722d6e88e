use std::sync::Arc;

use http::Uri;
use tower::Layer;

use super::Failover;
use super::breaker::{BreakerConfig, BreakerState};
use super::hosts::{Hosts, Origin};

/// Applies [`Failover`] to a service: attempts that fail for the host's
/// sake go on to the next endpoint of the ring, and a circuit breaker per
/// host sends calls around a host that keeps failing.
///
/// Every service made by a layer, and every clone of the layer and of those
/// services, shares the breakers. Each setting below makes a layer with
/// fresh breakers, so set them before cloning it.
///
/// | setting | default |
/// |---|---|
/// | [`breaker`](Self::breaker) | [`BreakerConfig::new`]: opens after 5 failures at 75% within 60 s, cools down 60 s |
/// | [`domain_rings`](Self::domain_rings) | on: `*.tencentcloudapi.com` → `.com.cn` → `.cn` ([`DOMAIN_RING`](crate::action::DOMAIN_RING)) |
/// | [`ring`](Self::ring) | none: rings of custom endpoints (proxies, emulators) |
///
/// ```
/// use tower::ServiceBuilder;
/// use tower::retry::RetryLayer;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::failover::FailoverLayer;
/// use tower_tencentcloud::retry::RetryPolicy;
/// use tower_tencentcloud::sign::{Credentials, SignLayer};
/// # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let failover = FailoverLayer::new();
/// let client = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryPolicy::default()))
///     .layer(failover.clone())
///     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret-key")))
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// assert_eq!(failover.breaker_state("cvm.tencentcloudapi.com"), None); // not called yet
/// ```
#[derive(Debug, Clone)]
pub struct FailoverLayer {
    hosts: Arc<Hosts>,
}

impl FailoverLayer {
    /// A layer with the defaults listed above.
    pub fn new() -> Self {
        Self {
            hosts: Arc::new(Hosts::new(BreakerConfig::new(), Vec::new(), true)),
        }
    }

    /// The thresholds and durations of every host's breaker.
    pub fn breaker(self, config: BreakerConfig) -> Self {
        self.rebuild(|hosts| Hosts::new(config, hosts.rings().to_vec(), hosts.domain_rings()))
    }

    /// Whether hosts under [`DOMAIN_RING`](crate::action::DOMAIN_RING) fail
    /// over to the same host under the ring's other domains.
    pub fn domain_rings(self, enabled: bool) -> Self {
        self.rebuild(|hosts| Hosts::new(hosts.config(), hosts.rings().to_vec(), enabled))
    }

    /// A ring of endpoints that serve the same API, in failover order: a
    /// request to any of them goes on to the ones after it, round the ring.
    /// Only each URI's scheme and authority count
    /// (`http://127.0.0.1:8080`); a URI without them is left out. A ring
    /// takes precedence over the domain rings.
    ///
    /// ```
    /// use tower_tencentcloud::failover::FailoverLayer;
    ///
    /// let layer = FailoverLayer::new().ring([
    ///     "https://api.example.internal".parse().unwrap(),
    ///     "https://cvm.tencentcloudapi.com".parse().unwrap(),
    /// ]);
    /// # drop(layer);
    /// ```
    pub fn ring<I>(self, endpoints: I) -> Self
    where
        I: IntoIterator<Item = Uri>,
    {
        let ring: Vec<Origin> = endpoints
            .into_iter()
            .filter_map(|uri| {
                Some(Origin {
                    scheme: uri.scheme()?.clone(),
                    authority: uri.authority()?.clone(),
                })
            })
            .collect();
        self.rebuild(|hosts| {
            let mut rings = hosts.rings().to_vec();
            rings.push(ring);
            Hosts::new(hosts.config(), rings, hosts.domain_rings())
        })
    }

    /// The state of the breaker of `host` (`cvm.tencentcloudapi.com`,
    /// `127.0.0.1:8080`) now, `None` if no call has gone there yet.
    pub fn breaker_state(&self, host: &str) -> Option<BreakerState> {
        self.hosts.state(host)
    }

    fn rebuild(self, with: impl FnOnce(&Hosts) -> Hosts) -> Self {
        Self {
            hosts: Arc::new(with(&self.hosts)),
        }
    }
}

impl Default for FailoverLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for FailoverLayer {
    type Service = Failover<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Failover::new(inner, self.hosts.clone())
    }
}
