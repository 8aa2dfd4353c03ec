//! `alerts:` — how often the figures are sampled and the alert rules
//! evaluated, their windows, and the optional webhook every fire and
//! resolve is POSTed to. Converted into the engine's
//! [`OpsConfig`] by [`AlertsSection::ops`].

use serde::{Deserialize, Serialize};
use wayfare_engine::ops::OpsConfig;
use wayfare_engine::ops::alerts::AlertRules;

use super::human::HumanDuration;

/// `alerts:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSection {
    /// Sample the runtime and evaluate the rules this often (`5s`); the
    /// dashboard keeps an hour of samples at most (720).
    pub evaluate_every: HumanDuration,
    /// A warning (slow planning, a low success rate) fires when its
    /// condition has held this long (`2m`).
    pub sustain: HumanDuration,
    /// Any alert resolves when its condition has been clear this long
    /// (`1m`).
    pub resolve_after: HumanDuration,
    /// Rates and the planning time's p95 are computed over this (`1m`).
    pub rate_window: HumanDuration,
    /// An agent type idle at its minimum instances this long is worth an
    /// info alert (`30m`).
    pub idle_for: HumanDuration,
    /// A trip planning longer than this is listed on the dashboard
    /// (`1m`).
    pub stuck_after: HumanDuration,
    /// POST each fire and resolve here as JSON (`http://…` or
    /// `https://…`); absent: no webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Each POST's bound (`5s`); a failed one is logged and counted.
    pub webhook_timeout: HumanDuration,
}

impl Default for AlertsSection {
    fn default() -> Self {
        let ops = OpsConfig::default();
        let rules = &ops.rules;
        Self {
            evaluate_every: HumanDuration(ops.sample_every),
            sustain: HumanDuration(rules.sustain),
            resolve_after: HumanDuration(rules.resolve_after),
            rate_window: HumanDuration(rules.rate_window),
            idle_for: HumanDuration(rules.idle_for),
            stuck_after: HumanDuration(ops.stuck_after),
            webhook_url: None,
            webhook_timeout: HumanDuration(ops.webhook_timeout),
        }
    }
}

impl AlertsSection {
    /// The engine's settings; what the section does not name keeps the
    /// engine's default.
    pub fn ops(&self) -> OpsConfig {
        let defaults = OpsConfig::default();
        OpsConfig {
            sample_every: self.evaluate_every.0,
            rules: AlertRules {
                sustain: self.sustain.0,
                resolve_after: self.resolve_after.0,
                rate_window: self.rate_window.0,
                idle_for: self.idle_for.0,
                ..defaults.rules
            },
            stuck_after: self.stuck_after.0,
            webhook_url: self.webhook_url.clone(),
            webhook_timeout: self.webhook_timeout.0,
            ..defaults
        }
    }

    pub(super) fn problems(&self, problems: &mut Vec<String>) {
        for (key, value) in [
            ("alerts.evaluate_every", self.evaluate_every),
            ("alerts.rate_window", self.rate_window),
            ("alerts.webhook_timeout", self.webhook_timeout),
        ] {
            if value.as_millis() == 0 {
                problems.push(format!("key `{key}`: must be longer than 0"));
            }
        }
        if self.rate_window < self.evaluate_every {
            problems.push(format!(
                "key `alerts.rate_window`: {} is shorter than alerts.evaluate_every ({}): a window needs two samples",
                self.rate_window, self.evaluate_every
            ));
        }
        if let Some(url) = &self.webhook_url
            && !is_http_url(url)
        {
            problems.push(format!(
                "key `alerts.webhook_url`: {url:?} is not an http:// or https:// URL"
            ));
        }
    }
}

/// An absolute `http`/`https` URL with a host.
fn is_http_url(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_url_must_be_http() {
        for (url, ok) in [
            ("http://127.0.0.1:9000/hook", true),
            ("https://alerts.example/wayfare", true),
            ("ftp://alerts.example", false),
            ("alerts.example/hook", false),
            ("http://", false),
        ] {
            let section = AlertsSection {
                webhook_url: Some(url.to_owned()),
                ..AlertsSection::default()
            };
            let mut problems = Vec::new();
            section.problems(&mut problems);
            assert_eq!(problems.is_empty(), ok, "{url}: {problems:?}");
        }
    }
}
