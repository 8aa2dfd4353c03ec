//! The operations' families: the alerts firing (and the webhook's
//! deliveries) read from [`Ops`] at scrape time, and the ratings read from
//! the store just before.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use wayfare_domain::rating::Satisfaction;
use wayfare_engine::ops::Ops;

use super::encode::{Label, counter, gauge};

/// `wayfare_alerts_firing{level,name}`: how many alerts of each rule fire
/// (every rule, zero included), and `wayfare_alert_webhook_total{outcome}`
/// when a webhook is configured.
#[derive(Clone)]
pub struct AlertsCollector {
    ops: Ops,
}

impl AlertsCollector {
    pub fn new(ops: Ops) -> Self {
        Self { ops }
    }
}

impl fmt::Debug for AlertsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertsCollector").finish_non_exhaustive()
    }
}

impl Collector for AlertsCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        alerts(&mut e, &self.ops)
    }
}

fn alerts(e: &mut DescriptorEncoder, ops: &Ops) -> fmt::Result {
    let firing = ops.firing_counts();
    gauge(
        e,
        "wayfare_alerts_firing",
        "Alerts firing in this process, by rule and level.",
        firing.iter().map(|(name, level, n)| {
            (
                vec![("level", Label(level.as_str())), ("name", Label(name))],
                *n as f64,
            )
        }),
    )?;
    if let Some(counters) = ops.webhook_counters() {
        counter(
            e,
            "wayfare_alert_webhook_total",
            "Alert changes sent to alerts.webhook_url, by outcome (dropped: the delivery queue was full).",
            counters
                .snapshot()
                .map(|(outcome, n)| (vec![("outcome", Label(outcome))], n as f64)),
        )?;
    }
    Ok(())
}

/// `wayfare_user_satisfaction` (the average stars, no sample before the
/// first rating) and `wayfare_ratings_total` (how many trips are rated: a
/// gauge, since deleting a trip takes its rating away).
#[derive(Debug, Clone)]
pub struct SatisfactionCollector(pub Satisfaction);

impl Collector for SatisfactionCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let s = &self.0;
        gauge(
            &mut e,
            "wayfare_user_satisfaction",
            "Average rating of the rated trips, 1 to 5 stars.",
            s.average.map(|average| (Vec::new(), average)),
        )?;
        gauge(
            &mut e,
            "wayfare_ratings_total",
            "Trips rated (a rating replaced counts once; a deleted trip's goes).",
            [(Vec::new(), s.ratings as f64)],
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wayfare_engine::clock::SystemClock;
    use wayfare_engine::ops::OpsConfig;

    use super::*;
    use crate::metrics::collected;

    #[test]
    fn every_alert_rule_is_exported_and_no_webhook_means_no_family() {
        let ops = Ops::new(OpsConfig::default(), Arc::new(SystemClock));
        let text = collected(AlertsCollector::new(ops)).expect("encodes");
        for line in [
            r#"wayfare_alerts_firing{level="critical",name="AgentTypeDown"} 0"#,
            r#"wayfare_alerts_firing{level="info",name="CacheHitRateLow"} 0"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            !text.contains("wayfare_alert_webhook_total"),
            "no webhook, no family"
        );
    }

    #[test]
    fn satisfaction_is_exported_and_absent_before_the_first_rating() {
        let text = collected(SatisfactionCollector(Satisfaction {
            ratings: 4,
            average: Some(4.25),
        }))
        .expect("encodes");
        for line in [
            "# TYPE wayfare_user_satisfaction gauge",
            "wayfare_user_satisfaction 4.25",
            "# TYPE wayfare_ratings_total gauge",
            "wayfare_ratings_total 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        let text = collected(SatisfactionCollector(Satisfaction::default())).expect("encodes");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("wayfare_user_satisfaction")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l == "wayfare_ratings_total 0"),
            "{text}"
        );
    }
}
