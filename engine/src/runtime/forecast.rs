//! Demand forecasting for predictive scaling: each agent type's arrival
//! rate (tasks that reached it per second), counted in fixed buckets on the
//! runtime's clock and smoothed by Holt's linear trend (double exponential
//! smoothing), so that the supervisor can start instances for the load a
//! ramp will bring `horizon` from now rather than for the load it brought.
//!
//! ```text
//! level_t = α·x_t + (1 − α)·(level_{t−1} + trend_{t−1})
//! trend_t = β·(level_t − level_{t−1}) + (1 − β)·trend_{t−1}
//! forecast(h) = max(0, level_t + h·trend_t)        h in buckets
//! ```
//!
//! Pure: time is passed in (milliseconds on the runtime's clock), nothing
//! here sleeps or reads a clock, so it is unit-tested with plain numbers.

/// Holt's linear trend over one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holt {
    alpha: f64,
    beta: f64,
    /// `None` until the first observation (the level starts there, the
    /// trend at 0).
    level: Option<f64>,
    trend: f64,
}

impl Holt {
    /// `alpha` weighs the newest observation in the level, `beta` the
    /// newest change in the trend; both are clamped to (0, 1].
    pub fn new(alpha: f64, beta: f64) -> Self {
        let unit = |x: f64| {
            if x.is_finite() {
                x.clamp(f64::EPSILON, 1.0)
            } else {
                1.0
            }
        };
        Self {
            alpha: unit(alpha),
            beta: unit(beta),
            level: None,
            trend: 0.0,
        }
    }

    /// Takes one observation (a non-finite or negative one counts as 0:
    /// a rate is never below it).
    pub fn observe(&mut self, x: f64) {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        match self.level {
            None => self.level = Some(x),
            Some(previous) => {
                let level = self.alpha * x + (1.0 - self.alpha) * (previous + self.trend);
                self.trend = self.beta * (level - previous) + (1.0 - self.beta) * self.trend;
                self.level = Some(level);
            }
        }
    }

    /// The smoothed value now (0 before any observation).
    pub fn level(&self) -> f64 {
        self.level.unwrap_or(0.0).max(0.0)
    }

    /// Change per step.
    pub fn trend(&self) -> f64 {
        self.trend
    }

    /// The value `steps` observations ahead; never negative (a falling
    /// trend runs out at 0, it does not ask for fewer than no arrivals).
    pub fn forecast(&self, steps: f64) -> f64 {
        match self.level {
            None => 0.0,
            Some(level) => (level + steps.max(0.0) * self.trend).max(0.0),
        }
    }
}

/// One agent type's arrivals, bucketed on the runtime's clock, and their
/// forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalForecast {
    holt: Holt,
    bucket_ms: u64,
    horizon_ms: u64,
    /// Start of the bucket being counted; `None` before the first call.
    bucket_start_ms: Option<i64>,
    in_bucket: u64,
    /// Rate of the last closed bucket (per second).
    last_rate: f64,
}

/// At most this many buckets are closed at once: after a longer silence
/// the series has long decayed to nothing, and a clock that jumped (set
/// by hand in a test, or a suspended host) must not make one tick loop
/// for ever.
const MAX_CATCH_UP: i64 = 120;

impl ArrivalForecast {
    pub fn new(alpha: f64, beta: f64, bucket_ms: u64, horizon_ms: u64) -> Self {
        Self {
            holt: Holt::new(alpha, beta),
            bucket_ms: bucket_ms.max(1),
            horizon_ms,
            bucket_start_ms: None,
            in_bucket: 0,
            last_rate: 0.0,
        }
    }

    /// Counts `n` arrivals at `now_ms`, closing the buckets that ended
    /// before it.
    pub fn record(&mut self, now_ms: i64, n: u64) {
        self.roll(now_ms);
        self.in_bucket += n;
    }

    /// Closes every bucket that ended by `now_ms` (an empty one observes
    /// a rate of 0). A clock that went backwards closes nothing.
    pub fn roll(&mut self, now_ms: i64) {
        let bucket = self.bucket_ms as i64;
        let Some(start) = self.bucket_start_ms else {
            self.bucket_start_ms = Some(now_ms);
            return;
        };
        let elapsed = now_ms.saturating_sub(start);
        if elapsed < bucket {
            return;
        }
        let closed = elapsed / bucket;
        let seconds = bucket as f64 / 1000.0;
        self.last_rate = self.in_bucket as f64 / seconds;
        self.holt.observe(self.last_rate);
        for _ in 1..closed.min(MAX_CATCH_UP) {
            self.last_rate = 0.0;
            self.holt.observe(0.0);
        }
        self.in_bucket = 0;
        self.bucket_start_ms = Some(start.saturating_add(closed.saturating_mul(bucket)));
    }

    /// Arrivals per second in the last closed bucket.
    pub fn rate(&self) -> f64 {
        self.last_rate
    }

    /// Arrivals per second expected `horizon` from now.
    pub fn forecast(&self) -> f64 {
        self.holt
            .forecast(self.horizon_ms as f64 / self.bucket_ms as f64)
    }

    /// Whether the smoothed rate is falling.
    pub fn falling(&self) -> bool {
        self.holt.trend() < 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(series: &[f64]) -> Holt {
        let mut h = Holt::new(0.5, 0.3);
        for x in series {
            h.observe(*x);
        }
        h
    }

    #[test]
    fn a_ramps_forecast_leads_the_ramp() {
        // 0, 1, 2, … arrivals per second: the forecast 4 steps ahead is
        // above the latest value and approaches the ramp 4 steps on.
        let ramp: Vec<f64> = (0..30).map(f64::from).collect();
        let h = fed(&ramp);
        let latest = 29.0;
        let ahead = h.forecast(4.0);
        assert!(ahead > latest + 2.0, "{ahead} leads {latest}");
        assert!((ahead - 33.0).abs() < 1.5, "{ahead} is near the ramp's 33");
        assert!(h.trend() > 0.9, "{}", h.trend());
    }

    #[test]
    fn a_flat_series_forecasts_flat() {
        let h = fed(&[7.0; 20]);
        assert!((h.forecast(0.0) - 7.0).abs() < 1e-9);
        assert!((h.forecast(10.0) - 7.0).abs() < 1e-9);
        assert_eq!(h.trend(), 0.0);
    }

    #[test]
    fn a_falling_series_does_not_go_negative() {
        let falling: Vec<f64> = (0..20).map(|n| f64::from(20 - n)).collect();
        let h = fed(&falling);
        assert!(h.trend() < 0.0);
        assert_eq!(h.forecast(50.0), 0.0, "a fall runs out at 0");
        let mut g = fed(&[10.0, 5.0]);
        g.observe(-3.0);
        g.observe(f64::NAN);
        assert!(g.level() >= 0.0 && g.forecast(3.0) >= 0.0);
    }

    #[test]
    fn nothing_observed_forecasts_nothing() {
        let h = Holt::new(0.5, 0.3);
        assert_eq!((h.level(), h.forecast(5.0)), (0.0, 0.0));
    }

    #[test]
    fn arrivals_are_counted_per_bucket_and_silence_counts_as_zero() {
        // Buckets of 1 s, a horizon of 2 s.
        let mut f = ArrivalForecast::new(0.5, 0.3, 1_000, 2_000);
        f.roll(0);
        f.record(100, 3);
        f.record(900, 1);
        assert_eq!(f.rate(), 0.0, "the first bucket is still open");
        f.roll(1_000);
        assert_eq!(f.rate(), 4.0);
        f.record(1_500, 2);
        f.roll(2_000);
        assert_eq!(f.rate(), 2.0);
        // Three silent seconds: three buckets of 0, the forecast decays.
        let before = f.forecast();
        f.roll(5_000);
        assert_eq!(f.rate(), 0.0);
        assert!(f.forecast() < before);
        assert!(f.falling());
    }

    #[test]
    fn a_rising_arrival_rate_is_forecast_above_what_arrives() {
        let mut f = ArrivalForecast::new(0.5, 0.3, 1_000, 5_000);
        f.roll(0);
        for second in 0..20u64 {
            let at = second as i64 * 1_000;
            f.record(at + 10, second);
            f.roll(at + 1_000);
        }
        assert_eq!(f.rate(), 19.0);
        assert!(f.forecast() > 21.0, "{}", f.forecast());
    }

    #[test]
    fn a_clock_that_jumps_or_goes_back_is_survived() {
        let mut f = ArrivalForecast::new(0.5, 0.3, 1_000, 1_000);
        f.record(0, 5);
        f.roll(i64::MAX);
        assert_eq!(f.rate(), 0.0);
        f.roll(0);
        f.record(-10_000, 1);
        assert!(f.forecast() >= 0.0);
    }
}
