//! The work behind `wayfare import`, `wayfare plan` and `wayfare check`,
//! and the catalog loading `wayfare serve` shares with them.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_engine::catalog::{Catalog, MemoryCatalog, travelplanner};
use wayfare_engine::clock::SystemClock;
use wayfare_engine::ops::{self, Ops};
use wayfare_engine::orchestrator::{Planner, render_text, submission};
use wayfare_engine::runtime::audit::Auditor;
use wayfare_engine::runtime::{Runtime, RuntimeConfig, read_with_answers};
use wayfare_store::{Heard, ImportOptions, ImportProgress, Store};

use crate::cli::{EvalArgs, ImportArgs, PlanArgs, PlanFormat, today};
use crate::config::Config;

/// Opens the configured database (`database.url`).
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {url}"))
}

/// Starts the orchestration runtime on `store`, with the catalog it holds
/// ([`open_catalog`]): what `wayfare serve` and `wayfare worker` run.
pub async fn start_runtime(
    config: RuntimeConfig,
    store: &Store,
) -> anyhow::Result<Arc<Runtime<Store>>> {
    let catalog = open_catalog(store).await?;
    Runtime::start(config, store.clone(), catalog, Arc::new(SystemClock))
        .await
        .context("starting the orchestration runtime")
}

/// Loads the catalog into memory, first filling an empty database with the
/// demo catalog.
pub async fn open_catalog(store: &Store) -> anyhow::Result<Arc<dyn Catalog>> {
    let started = Instant::now();
    if store
        .ensure_demo_catalog()
        .await
        .context("loading the demo catalog")?
    {
        tracing::info!("the catalog was empty: loaded the demo catalog");
    }
    let data = store.load_catalog().await.context("reading the catalog")?;
    let catalog = MemoryCatalog::new(data);
    tracing::info!(
        cities = catalog.cities().len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "catalog loaded into memory"
    );
    Ok(Arc::new(catalog))
}

/// Reloads the catalog into `runtime` when another process imported a new
/// one (its version moved past `seen`); returns whether it did.
pub async fn refresh_catalog_if_changed(
    store: &Store,
    runtime: &Runtime<Store>,
    seen: &mut i64,
) -> anyhow::Result<bool> {
    let version = store
        .catalog_version()
        .await
        .context("reading the catalog version")?;
    if version == *seen {
        return Ok(false);
    }
    let data = store
        .load_catalog()
        .await
        .context("reading the new catalog")?;
    runtime.replace_catalog(Arc::new(MemoryCatalog::new(data)));
    tracing::info!(
        catalog.version = version,
        "a new catalog was imported: reloaded it"
    );
    *seen = version;
    Ok(true)
}

/// Polls the catalog version every `every` until the runtime stops, so a
/// `wayfare import` run against the same database is picked up without a
/// restart.
pub async fn watch_catalog(store: Store, runtime: Arc<Runtime<Store>>, every: std::time::Duration) {
    let mut seen = match store.catalog_version().await {
        Ok(v) => v,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the catalog version; not watching for imports");
            return;
        }
    };
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(err) = refresh_catalog_if_changed(&store, &runtime, &mut seen).await {
            tracing::warn!(error = %err, "checking for a new catalog failed");
        }
    }
}

/// Follows the other processes sharing a PostgreSQL database: each
/// notification of an append to a trip's log is handed to the runtime,
/// which reads the new events from the log for the trips it has in hand
/// (see `Runtime::appended_elsewhere`). After a lost connection (pointers
/// may have been missed) it catches every such trip up. Returns `None` on
/// SQLite (one process per file: nothing to follow).
pub async fn follow_other_processes(
    store: &Store,
    runtime: &Arc<Runtime<Store>>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(mut listener) = store
        .listen_appends()
        .await
        .context("listening for other processes' events")?
    else {
        return Ok(None);
    };
    runtime.share_log();
    // Whatever was appended before the listener listened.
    runtime.catch_up_all();
    let runtime = runtime.clone();
    Ok(Some(tokio::spawn(async move {
        loop {
            match listener.next().await {
                Ok(Heard::Appended { trip, seq, routine }) => {
                    runtime.appended_elsewhere(trip, seq, routine);
                }
                Ok(Heard::Lost) => {
                    tracing::warn!("the listener's connection was lost; catching up from the log");
                    runtime.catch_up_all();
                }
                Ok(Heard::Departed) => {
                    tracing::info!("a process left; catching up from the log");
                    runtime.catch_up_all();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other processes' events failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    runtime.catch_up_all();
                }
            }
        }
    })))
}

/// Starts what keeps `/dashboard` and the alerts current: the sampler
/// (the runtime's figures, the ratings' average, every
/// `alerts.evaluate_every`, each followed by an evaluation of the rules)
/// and the tracker of trips that fail or plan too long. Abort the tasks to
/// stop them.
pub fn watch_operations(
    ops: &Ops,
    runtime: &Arc<Runtime<Store>>,
    store: &Store,
) -> [tokio::task::JoinHandle<()>; 2] {
    let ratings = store.clone();
    let sampler = tokio::spawn(ops::run_sampler(ops.clone(), runtime.clone(), move || {
        let store = ratings.clone();
        async move { satisfaction(&store).await }
    }));
    let tracker = tokio::spawn(ops::run_tracker(ops.clone(), runtime.clone()));
    [sampler, tracker]
}

/// The ratings' average for a sample; `None` before the first rating or
/// when the store cannot be read (logged: the sample goes on without it).
pub async fn satisfaction(store: &Store) -> Option<f64> {
    match store.satisfaction().await {
        Ok(s) => s.average,
        Err(err) => {
            tracing::warn!(error = %err, "sampling: could not read the ratings");
            None
        }
    }
}

/// `wayfare import travelplanner DIR`.
pub async fn import_travelplanner(config: &Config, args: &ImportArgs) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<24} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let options = ImportOptions {
        keep_incomplete: args.keep_incomplete,
        ..ImportOptions::default()
    };
    let mut on_progress = |p: ImportProgress| {
        // Reading knows bytes, writing knows rows.
        let (done, total) = match (p.rows_total, p.bytes_total) {
            (Some(total), _) => (p.rows_done, total),
            (None, Some(total)) => (p.bytes_done, total),
            (None, None) => (p.rows_done, p.rows_done),
        };
        bar.set_message(p.file);
        bar.set_length(total);
        bar.set_position(done);
    };
    let summary = wayfare_store::import_travelplanner(&store, &args.dir, options, &mut on_progress)
        .await
        .with_context(|| format!("importing {}", args.dir.display()))?;
    bar.finish_and_clear();
    println!("{summary}");
    store.close().await;
    Ok(())
}

/// A TravelPlanner directory read straight into memory (the benchmark's
/// sandbox: incomplete rows left out), without a database.
fn catalog_from_dir(dir: &std::path::Path) -> anyhow::Result<Arc<dyn Catalog>> {
    let (data, _report) = travelplanner::read_dir(dir, &ImportOptions::default(), &mut |_| {})
        .with_context(|| format!("reading the catalog in {}", dir.display()))?;
    Ok(Arc::new(MemoryCatalog::new(data)))
}

/// `wayfare plan`.
pub async fn plan(config: &Config, args: &PlanArgs) -> anyhow::Result<()> {
    let catalog: Arc<dyn Catalog> = match &args.catalog {
        Some(dir) => catalog_from_dir(dir)?,
        None => {
            let store = open_store(config).await?;
            let catalog = open_catalog(&store).await?;
            store.close().await;
            catalog
        }
    };
    let planner = Planner::new(catalog)
        .with_today(today())
        .with_objective(args.objective);
    match (&args.query, &args.batch) {
        (Some(query), _) => {
            let answers = answers(&args.answers)?;
            plan_one(&planner, query, &answers, args.format)
        }
        (None, Some(batch)) => {
            let out = args.out.as_ref().context("--batch needs --out FILE")?;
            plan_batch(&planner, batch, out)
        }
        (None, None) => anyhow::bail!("give a QUERY or --batch FILE"),
    }
}

/// `--answer KEY=VALUE` pairs as checked overrides: the same decoding and
/// bounds as the API's `overrides`, an error naming the key.
fn answers(pairs: &[String]) -> anyhow::Result<TripOverrides> {
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--answer {pair:?}: write it as KEY=VALUE"))?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        object.insert(key.trim().to_owned(), value);
    }
    let input: OverridesInput = serde_json::from_value(serde_json::Value::Object(object))
        .context("--answer: an unknown key or a value of the wrong kind")?;
    TripOverrides::try_from(input).map_err(|e| anyhow::anyhow!("--answer: {e}"))
}

fn plan_one(
    planner: &Planner,
    query: &str,
    answers: &TripOverrides,
    format: PlanFormat,
) -> anyhow::Result<()> {
    let outcome = planner.plan_intent_blocking(read_with_answers(planner, query, answers));
    let mut stdout = std::io::stdout().lock();
    match format {
        PlanFormat::Text => match &outcome.itinerary {
            Some(itinerary) => write!(stdout, "{}", render_text(itinerary))?,
            None => {
                writeln!(stdout, "No plan: {}", outcome.explanation)?;
                for question in &outcome.intent.questions {
                    writeln!(stdout, "  ? {question}")?;
                }
            }
        },
        PlanFormat::Json => serde_json::to_writer_pretty(&mut stdout, &outcome)?,
        PlanFormat::Travelplanner => serde_json::to_writer(
            &mut stdout,
            &submission(&outcome, planner.catalog().as_ref()),
        )?,
    }
    writeln!(stdout)?;
    if outcome.itinerary.is_none() {
        anyhow::bail!("no plan for this request");
    }
    Ok(())
}

fn plan_batch(
    planner: &Planner,
    input: &std::path::Path,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let reader =
        BufReader::new(File::open(input).with_context(|| format!("opening {}", input.display()))?);
    let mut writer = BufWriter::new(
        File::create(output).with_context(|| format!("creating {}", output.display()))?,
    );
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("planning [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let summary = planner.run_batch(reader, &mut writer, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    writer.flush()?;
    bar.finish_and_clear();
    eprintln!(
        "planned {} queries in {:.2}s: {} delivered, {} without a plan; wrote {}",
        summary.total,
        started.elapsed().as_secs_f64(),
        summary.delivered,
        summary.failed,
        output.display()
    );
    Ok(())
}

/// `wayfare eval`: scores `plan --batch` output against labelled queries.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::io::BufRead;
    use wayfare_engine::eval::{parser_accuracy, read_labelled, report, score_plan};

    let catalog = catalog_from_dir(&args.catalog)?;
    let text = std::fs::read_to_string(&args.labels)
        .with_context(|| format!("reading {}", args.labels.display()))?;
    let labels =
        read_labelled(&text).with_context(|| format!("parsing {}", args.labels.display()))?;
    let mut plans: HashMap<u64, Vec<serde_json::Value>> = HashMap::new();
    let file =
        File::open(&args.plans).with_context(|| format!("opening {}", args.plans.display()))?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not JSON", args.plans.display(), n + 1))?;
        let Some(idx) = record["idx"].as_u64() else {
            anyhow::bail!("{}:{}: no numeric \"idx\"", args.plans.display(), n + 1);
        };
        let plan = record["plan"].as_array().cloned().unwrap_or_default();
        plans.insert(idx, plan);
    }
    let mut scores = Vec::with_capacity(labels.len());
    for label in &labels {
        let plan = plans
            .get(&u64::from(label.idx))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let score = score_plan(label, plan, catalog.as_ref());
        if args.verbose && !score.final_pass() {
            println!("#{}: {:?}", label.idx, score.messages);
        }
        scores.push(score);
    }
    let r = report(&scores);
    let planner = Planner::new(catalog.clone());
    let (fields, exact) = parser_accuracy(|q| planner.parse(q), &labels);
    println!("queries             {}", r.queries);
    println!("delivery rate       {:.1}%", r.delivery_rate * 100.0);
    println!("commonsense micro   {:.1}%", r.commonsense_micro * 100.0);
    println!("commonsense macro   {:.1}%", r.commonsense_macro * 100.0);
    println!("hard micro          {:.1}%", r.hard_micro * 100.0);
    println!("hard macro          {:.1}%", r.hard_macro * 100.0);
    println!("final pass rate     {:.1}%", r.final_pass_rate * 100.0);
    println!("parser fields       {:.1}%", fields * 100.0);
    println!("parser queries      {:.1}%", exact * 100.0);
    Ok(())
}

/// `wayfare check [--repair]`: audits every trip in the database against
/// its log ([`wayfare_engine::runtime::audit`]), prints the score and each
/// finding, and fails when a disagreement remains. Trips planning, or
/// changed within the last few seconds (a server may be working on them),
/// are left out and counted.
pub async fn check(config: &Config, repair: bool) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let auditor = Auditor::new(store.clone(), Arc::new(SystemClock));
    let report = auditor
        .check_all(repair)
        .await
        .context("auditing the trips")?;
    store.close().await;
    for finding in &report.findings {
        println!("{finding}");
    }
    let disagreeing = report.audited_trips - report.agreeing_trips;
    println!(
        "State consistency: {:.1}% ({} of {} trips agree with their log; {} left out while planning or just changed{})",
        report.score * 100.0,
        report.agreeing_trips,
        report.audited_trips,
        report.skipped_trips,
        if repair {
            format!("; {} repaired", report.repaired_trips)
        } else {
            String::new()
        }
    );
    if report.all_agree_or_repaired() {
        return Ok(());
    }
    let left = disagreeing - report.repaired_trips;
    anyhow::bail!(
        "{left} trip(s) disagree with their log{}",
        if repair {
            ""
        } else {
            "; `wayfare check --repair` puts them back to what the log says"
        }
    )
}
