//! Predictive scaling end to end on the in-memory store: a synthetic ramp
//! of trips, submitted second by second on a manual clock (moved together
//! with tokio's paused time), makes the dining agent's arrival rate rise
//! and fall. With prediction on, its instances are up before the ramp's
//! peak — earlier than the reactive rule alone brings them — and they go
//! back to the minimum once the ramp is over.

use std::sync::Arc;
use std::time::Duration;

use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::ManualClock;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{
    AgentConfig, MemoryRuntimeStore, PredictiveScalingConfig, Runtime, RuntimeConfig,
};

const QUERIES: [&str; 2] = [
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.",
    "Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $4,000.",
];

/// The ramp: trips per second climb linearly to `PEAK_RATE` at
/// `PEAK_AT`, fall back to none by `FALL_END`, then nothing for
/// `QUIET` seconds.
const PEAK_RATE: f64 = 2.0;
const PEAK_AT: u64 = 60;
const FALL_END: u64 = 75;
const QUIET: u64 = 90;
/// Each dining call takes this long: at the peak 2 trips/s × 4 s = 8
/// dining tasks in flight, which at 4 per instance and a 75% threshold
/// want 3 instances.
const DINING_MS: u64 = 4_000;
const WANTED: usize = 3;

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn config(predictive: bool) -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    // Every trip must reach the agents: no plan served from the cache.
    c.cache.enabled = false;
    c.agents.insert(
        "dining".into(),
        AgentConfig {
            min_instances: 1,
            max_instances: 4,
            scale_threshold: 0.75,
            max_capacity: 4,
            cost_per_request: 0.01,
        },
    );
    c.faults.insert(
        "dining".into(),
        FaultConfig {
            added_latency: Duration::from_millis(DINING_MS),
            ..FaultConfig::default()
        },
    );
    c.predictive_scaling = PredictiveScalingConfig {
        enabled: predictive,
        alpha: 0.5,
        beta: 0.3,
        horizon_ms: 20_000,
        bucket_ms: 2_000,
    };
    c
}

/// Trips to submit in second `t` of the ramp (the rate's integral, rounded
/// down, less what went before).
fn trips_in_second(t: u64) -> u64 {
    let total = |t: u64| -> f64 {
        let t = t as f64;
        let (peak_at, fall_end) = (PEAK_AT as f64, FALL_END as f64);
        if t <= peak_at {
            PEAK_RATE * t * t / (2.0 * peak_at)
        } else {
            let fall = (t.min(fall_end) - peak_at).max(0.0);
            let span = fall_end - peak_at;
            PEAK_RATE * peak_at / 2.0 + PEAK_RATE * (fall - fall * fall / (2.0 * span))
        }
    };
    (total(t + 1).floor() - total(t).floor()) as u64
}

/// What one run saw, second by second.
#[derive(Debug)]
struct Trace {
    /// Online dining instances at the end of each second.
    instances: Vec<usize>,
    /// (arrival rate, forecast rate) of dining at the end of each second.
    rates: Vec<(f64, f64)>,
    submitted: usize,
    ready: usize,
    up_predictive: u64,
    up_reactive: u64,
    down: u64,
}

impl Trace {
    /// The first second at which `n` dining instances were up.
    fn first_with(&self, n: usize) -> Option<usize> {
        self.instances.iter().position(|i| *i >= n)
    }
}

async fn ramp(predictive: bool) -> Trace {
    let clock = ManualClock::at_epoch();
    let rt = Runtime::start(
        config(predictive),
        MemoryRuntimeStore::new(),
        catalog(),
        Arc::new(clock.clone()),
    )
    .await
    .expect("the runtime starts");
    let dining = |rt: &Runtime<MemoryRuntimeStore>| {
        rt.agents()
            .iter()
            .filter(|a| a.agent_type == "dining" && a.status != "offline")
            .count()
    };
    let mut ids = Vec::new();
    let mut instances = Vec::new();
    let mut rates = Vec::new();
    for second in 0..FALL_END + QUIET {
        for _ in 0..trips_in_second(second) {
            let query = QUERIES[ids.len() % QUERIES.len()];
            let submitted = rt
                .submit(query.to_owned(), TripOverrides::default())
                .await
                .expect("accepted");
            ids.push(submitted.trip_id);
        }
        // The runtime's clock and tokio's move together, a second at a
        // time; the supervisor ticks every heartbeat (1 s) in between.
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(1)).await;
        instances.push(dining(&rt));
        let m = &rt.metrics().agents["dining"];
        rates.push((m.arrival_rate, m.forecast_rate));
    }
    let mut ready = 0;
    for id in &ids {
        let status = rt.status(id).await.expect("read").expect("the trip exists");
        if status.status == TripStatus::Ready {
            ready += 1;
        }
    }
    let scaling = rt.metrics().agents["dining"].scaling;
    rt.shutdown().await;
    Trace {
        instances,
        rates,
        submitted: ids.len(),
        ready,
        up_predictive: scaling.up_predictive,
        up_reactive: scaling.up_reactive,
        down: scaling.down_predictive + scaling.down_idle,
    }
}

#[test]
fn the_ramp_rises_to_its_peak_and_falls_to_nothing() {
    let per_second: Vec<u64> = (0..FALL_END + 5).map(trips_in_second).collect();
    let total: u64 = per_second.iter().sum();
    // The rate's integral: half the peak over the climb and over the fall.
    let expected = PEAK_RATE * (PEAK_AT + (FALL_END - PEAK_AT)) as f64 / 2.0;
    assert!(
        (total as f64 - expected).abs() <= 1.0,
        "{total} vs {expected}"
    );
    assert!(per_second[..10].iter().sum::<u64>() < per_second[50..60].iter().sum::<u64>());
    assert_eq!(per_second[FALL_END as usize..].iter().sum::<u64>(), 0);
}

#[tokio::test(start_paused = true)]
async fn instances_are_up_before_the_ramps_peak_and_back_to_the_minimum_after_it() {
    let predictive = ramp(true).await;
    let reactive = ramp(false).await;
    let report = format!("predictive {predictive:?}\nreactive {reactive:?}");

    // Every trip was planned either way.
    for trace in [&predictive, &reactive] {
        assert_eq!(trace.ready, trace.submitted, "{report}");
        assert!(trace.submitted > 50, "{report}");
    }

    // Up before the peak, and before the reactive rule gets there.
    let ahead = predictive.first_with(WANTED).expect(&report);
    assert!(ahead < PEAK_AT as usize, "{ahead}s: {report}");
    let behind = reactive.first_with(WANTED).unwrap_or(usize::MAX);
    assert!(
        ahead + 5 <= behind,
        "predictive at {ahead}s, reactive at {behind}s: {report}"
    );
    // Held while the climb lasts: nothing the forecast asks for is
    // stopped as idle.
    assert!(
        predictive.instances[ahead..PEAK_AT as usize]
            .iter()
            .all(|n| *n >= WANTED),
        "{report}"
    );
    assert!(predictive.up_predictive > 0, "{report}");
    assert_eq!(reactive.up_predictive, 0, "{report}");
    assert!(reactive.up_reactive > 0, "{report}");

    // The forecast leads the climb (in both runs: it is made either way).
    for trace in [&predictive, &reactive] {
        let climb = &trace.rates[20..PEAK_AT as usize];
        assert!(
            climb.iter().all(|(rate, forecast)| forecast >= rate),
            "{report}"
        );
        assert!(
            climb.iter().any(|(rate, forecast)| *forecast > rate + 0.3),
            "{report}"
        );
    }

    // After the ramp, back to the minimum (one instance), and the forecast
    // to nothing.
    for trace in [&predictive, &reactive] {
        assert_eq!(trace.instances.last(), Some(&1), "{report}");
        assert!(trace.down > 0, "{report}");
        assert!(trace.rates.last().is_some_and(|r| r.1 < 0.01), "{report}");
    }
}
