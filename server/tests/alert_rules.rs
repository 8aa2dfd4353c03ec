//! `deploy/prometheus/wayfare-alerts.yml`, the Prometheus twin of the
//! in-process alert rules: `promtool check rules` accepts it, `promtool
//! test rules` runs its unit tests (wayfare-alerts.test.yml), and every
//! series it names is one `/metrics` really renders; `promtool check
//! config` accepts the scrape configuration of `deploy/compose.yaml`.
//!
//! promtool comes with Debian's `prometheus` package
//! (`scripts/install-tools.sh` installs it). Without it this test fails
//! under `CI=true` and is skipped, loudly, elsewhere.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{Method, StatusCode};
use support::{TestApp, TestDb};
use wayfare_engine::runtime::RuntimeConfig;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus")
}

/// `promtool`, or `None` (the test then skips) outside CI.
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("promtool");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "promtool is missing: install Debian's `prometheus` package (scripts/install-tools.sh)"
    );
    eprintln!(
        "SKIPPED: promtool is not installed (Debian package `prometheus`); the alert rules are not checked"
    );
    None
}

fn run(args: &[&str]) {
    let Some(promtool) = promtool() else { return };
    let output = Command::new(promtool)
        .args(args)
        .current_dir(deploy_dir())
        .output()
        .expect("promtool runs");
    assert!(
        output.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_accepts_the_rules() {
    run(&["check", "rules", "wayfare-alerts.yml"]);
}

/// The scrape configuration `deploy/compose.yaml` mounts, with the rules.
#[test]
fn promtool_accepts_the_compose_scrape_config() {
    run(&["check", "config", "prometheus.yml"]);
}

#[test]
fn the_rules_fire_on_their_unit_tests_series() {
    run(&["test", "rules", "wayfare-alerts.test.yml"]);
}

/// Every `wayfare_…` name in the rules' expressions (comments left out).
fn series_in_rules() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(deploy_dir().join("wayfare-alerts.yml")).expect("the rules file");
    let mut names = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find("wayfare_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            names.insert(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    names
}

#[tokio::test]
async fn every_series_the_rules_use_is_rendered_by_metrics() {
    let names = series_in_rules();
    assert!(names.len() >= 6, "{names:?}");
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let answer = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let rendered: BTreeSet<&str> = answer
        .text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for name in &names {
        assert!(
            rendered.contains(name.as_str()),
            "the rules use {name}, which /metrics does not render:\n{}",
            answer.text
        );
    }
    app.finish().await;
}
