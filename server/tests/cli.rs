//! The `wayfare` binary's commands, run as a person runs them: import the
//! TravelPlanner sandbox, plan one trip, plan the dev queries as a batch and
//! score the batch with `wayfare eval`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn dataset() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner");
    if dir.join("dev_queries.jsonl").exists() {
        Some(dir)
    } else {
        eprintln!(
            "\n!!! SKIPPING: the TravelPlanner dataset is not at {}\n",
            dir.display()
        );
        None
    }
}

fn wayfare(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wayfare"))
        .args(args)
        .current_dir(dir)
        .env("WAYFARE_LOG", "warn")
        .env_remove("RUST_LOG")
        .output()
        .expect("run wayfare")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn imports_the_sandbox_and_plans_a_trip_from_the_database() {
    let Some(data) = dataset() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/tp.db", tmp.path().display());
    let data = data.to_str().expect("utf-8 path");

    let import = wayfare(&["import", "travelplanner", data, "--db", &db], tmp.path());
    let out = text(&import.stdout);
    assert!(import.status.success(), "{out}\n{}", text(&import.stderr));
    assert!(out.contains("4285 stays"), "{out}");
    assert!(
        out.contains("762"),
        "the left-out incomplete listings are reported: {out}"
    );

    // Re-running replaces rather than duplicates.
    let again = wayfare(&["import", "travelplanner", data, "--db", &db], tmp.path());
    assert!(text(&again.stdout).contains("4285 stays"));

    let query = "Please help me plan a trip from St. Petersburg to Rockford spanning 3 days \
                 from March 16th to March 18th, 2022. The travel should be planned for a \
                 single person with a budget of $1,700.";
    let plan = wayfare(
        &["plan", query, "--db", &db, "--format", "json"],
        tmp.path(),
    );
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("JSON on stdout");
    assert_eq!(outcome["intent"]["origin"], "St. Petersburg");
    assert_eq!(
        outcome["itinerary"]["days"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(
        outcome["itinerary"]["totals"]["total"]
            .as_f64()
            .is_some_and(|t| t <= 1700.0)
    );
}

#[test]
fn the_dev_queries_plan_as_a_batch_and_all_pass_the_official_rules() {
    let Some(data) = dataset() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("plans.jsonl");
    let labels = data.join("dev_queries.jsonl");
    let batch = wayfare(
        &[
            "plan",
            "--catalog",
            data.to_str().expect("utf-8"),
            "--batch",
            labels.to_str().expect("utf-8"),
            "--format",
            "travelplanner",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    assert!(batch.status.success(), "{}", text(&batch.stderr));
    let written = std::fs::read_to_string(&out).expect("plans written");
    let lines: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 15);
    for line in &lines {
        assert!(line["elapsed_ms"].is_u64(), "{line}");
        assert!(
            line["plan"].as_array().is_some_and(|p| !p.is_empty()),
            "{line}"
        );
    }

    let eval = wayfare(
        &[
            "eval",
            "--labels",
            labels.to_str().expect("utf-8"),
            "--plans",
            out.to_str().expect("utf-8"),
            "--catalog",
            data.to_str().expect("utf-8"),
            "--verbose",
        ],
        tmp.path(),
    );
    let report = text(&eval.stdout);
    assert!(eval.status.success(), "{report}\n{}", text(&eval.stderr));
    assert!(report.contains("final pass rate     100.0%"), "{report}");
    assert!(report.contains("parser fields       100.0%"), "{report}");
}

#[test]
fn a_batch_line_that_cannot_be_planned_gets_an_error_and_the_batch_goes_on() {
    let Some(data) = dataset() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("q.jsonl");
    std::fs::write(
        &input,
        "{\"idx\": 1, \"query\": \"a trip somewhere nice\"}\nnot json\n\
         {\"idx\": 3, \"query\": \"Please help me plan a trip from St. Petersburg to Rockford spanning 3 days from March 16th to March 18th, 2022, for one person, budget $1,700.\"}\n",
    )
    .expect("write");
    let out = tmp.path().join("p.jsonl");
    let batch = wayfare(
        &[
            "plan",
            "--catalog",
            data.to_str().expect("utf-8"),
            "--batch",
            input.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ],
        tmp.path(),
    );
    assert!(batch.status.success(), "{}", text(&batch.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0]["error"].is_string() && lines[0]["plan"] == serde_json::json!([]));
    assert!(lines[1]["error"].is_string());
    assert!(lines[2].get("error").is_none(), "{}", lines[2]);
    assert_eq!(lines[2]["plan"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_bad_configuration_stops_the_start_with_the_key_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_wayfare"))
        .args(["serve"])
        .current_dir(tmp.path())
        .env("WAYFARE_LISTEN", "nowhere")
        .output()
        .expect("run wayfare");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("listen") && err.contains("WAYFARE_LISTEN"),
        "{err}"
    );
}

/// `wayfare config` checks the configuration; `--show` prints every
/// effective value with its source; the profile comes from `--profile` or
/// `WAYFARE_PROFILE`, and a bad file is an error naming the key.
#[test]
fn config_show_prints_each_value_and_where_it_came_from() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("wayfare.yaml"),
        "orchestrator:\n  retry_attempts: 5\n",
    )
    .expect("write");
    let ok = wayfare(&["config"], tmp.path());
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("valid (profile: none)"),
        "{}",
        text(&ok.stdout)
    );

    let shown = Command::new(env!("CARGO_BIN_EXE_wayfare"))
        .args(["config", "--show"])
        .current_dir(tmp.path())
        .env("WAYFARE_PROFILE", "production")
        .env("WAYFARE_LOG", "warn")
        .output()
        .expect("run wayfare");
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let out = text(&shown.stdout);
    assert!(out.starts_with("# profile: production"), "{out}");
    for (key, value, source) in [
        ("orchestrator.retry_attempts", "5", "# file "),
        (
            "agents.transport.min_instances",
            "2",
            "# profile production",
        ),
        ("log", "\"warn\"", "# environment WAYFARE_LOG"),
        ("orchestrator.lease", "\"30s\"", "# built-in default"),
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} in {out}"));
        assert!(
            line.contains(&format!("= {value} ")) && line.contains(source),
            "{line}"
        );
    }

    std::fs::write(
        tmp.path().join("wayfare.yaml"),
        "orchestrator:\n  retry_atempts: 5\n",
    )
    .expect("write");
    let bad = wayfare(&["config", "--profile", "staging"], tmp.path());
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("retry_atempts"),
        "{}",
        text(&bad.stderr)
    );
}

/// `wayfare plan` on a request that leaves a question: it says so and fails;
/// `--answer` settles it (checked like the API's overrides) and the plan is
/// made; a bad answer is refused naming its key.
#[test]
fn plan_answers_the_questions_a_request_leaves() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/demo.db", tmp.path().display());
    let query = "A 3-day trip for two from Seattle to Denver, budget $2,000.";
    let asked = wayfare(&["plan", query, "--db", &db], tmp.path());
    assert!(!asked.status.success());
    assert!(
        text(&asked.stdout).contains("When does the trip start?"),
        "{}",
        text(&asked.stdout)
    );

    let planned = wayfare(
        &[
            "plan",
            query,
            "--db",
            &db,
            "--answer",
            "start_date=2027-05-14",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(
        planned.status.success(),
        "{}\n{}",
        text(&planned.stdout),
        text(&planned.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&planned.stdout).expect("json");
    assert_eq!(outcome["intent"]["start_date"], "2027-05-14");
    assert_eq!(outcome["itinerary"]["days"][0]["date"], "2027-05-14");

    for (answer, key) in [
        ("people=0", "people"),
        ("start_date=2027-02-30", "start_date"),
        ("nights=2", "nights"),
    ] {
        let bad = wayfare(
            &["plan", query, "--db", &db, "--answer", answer],
            tmp.path(),
        );
        assert!(!bad.status.success(), "{answer}");
        assert!(
            text(&bad.stderr).contains(key),
            "{answer}: {}",
            text(&bad.stderr)
        );
    }
}
