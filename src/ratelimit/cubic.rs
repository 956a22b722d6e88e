//! The CUBIC rate curve: how far a rate falls on throttling and how it
//! climbs back, in requests per second over seconds since the cut.

/// CUBIC's two constants (RFC 8312, section 4), applied to request rates as
/// the AWS SDKs' adaptive retry mode applies them.
///
/// After a cut from `last_max`, the rate follows
/// `scale * (t - k)^3 + last_max`, where `k` is the time the curve takes to
/// climb back to `last_max`: fast at first, flat around the rate that was
/// throttled, then probing beyond it ever faster in case the limit has
/// risen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cubic {
    beta: f64,
    scale: f64,
}

impl Cubic {
    pub(crate) const fn new(beta: f64, scale: f64) -> Self {
        Self { beta, scale }
    }

    pub(crate) fn beta(&self) -> f64 {
        self.beta
    }

    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// The rate right after a throttle at `rate`.
    pub(crate) fn cut(&self, rate: f64) -> f64 {
        rate * self.beta
    }

    /// Seconds after a cut from `last_max` at which the curve is back at
    /// `last_max`: `k = cbrt(last_max * (1 - beta) / scale)`.
    pub(crate) fn recovery_time(&self, last_max: f64) -> f64 {
        (last_max * (1.0 - self.beta) / self.scale).cbrt()
    }

    /// The rate `elapsed` seconds after a cut from `last_max`.
    pub(crate) fn rate_at(&self, last_max: f64, elapsed: f64) -> f64 {
        let from_plateau = elapsed - self.recovery_time(last_max);
        self.scale * from_plateau.powi(3) + last_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: Cubic = Cubic::new(0.7, 0.4);

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "{actual} is not {expected}"
        );
    }

    #[test]
    fn a_cut_keeps_beta_of_the_rate() {
        assert_close(AWS.cut(20.0), 14.0);
        assert_close(Cubic::new(0.5, 0.4).cut(20.0), 10.0);
    }

    #[test]
    fn the_curve_starts_at_the_cut_and_is_back_at_the_max_after_k() {
        for last_max in [0.5, 1.0, 20.0, 1000.0] {
            assert_close(AWS.rate_at(last_max, 0.0), AWS.cut(last_max));
            let k = AWS.recovery_time(last_max);
            assert_close(AWS.rate_at(last_max, k), last_max);
        }
        // 20 * 0.3 / 0.4 = 15, whose cube root is 2.466 s.
        assert_close(AWS.recovery_time(20.0), 15f64.cbrt());
    }

    #[test]
    fn climbs_fast_then_flattens_at_the_max_then_probes_beyond() {
        let k = AWS.recovery_time(20.0);
        let rate = |t: f64| AWS.rate_at(20.0, t);
        let climb_early = rate(0.5) - rate(0.0);
        let climb_near_k = rate(k) - rate(k - 0.5);
        assert!(
            climb_early > 4.0 * climb_near_k,
            "{climb_early} {climb_near_k}"
        );
        assert!(rate(k - 0.5) < 20.0 && rate(k + 0.5) > 20.0);
        let probe_soon = rate(k + 0.5) - rate(k);
        let probe_later = rate(k + 2.0) - rate(k + 1.5);
        assert!(probe_later > 4.0 * probe_soon, "{probe_soon} {probe_later}");
    }

    #[test]
    fn a_larger_scale_recovers_sooner() {
        let gentle = Cubic::new(0.7, 0.1);
        assert!(gentle.recovery_time(20.0) > AWS.recovery_time(20.0));
        assert!(gentle.rate_at(20.0, 1.0) < AWS.rate_at(20.0, 1.0));
    }
}
