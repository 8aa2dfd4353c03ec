//! The planner's figures: benchmark scores on the dev queries, delivery on
//! the validation queries, latency per trip length, peak memory.
//!
//! `cargo bench -p wayfare-engine --bench plan`

#[path = "../tests/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wayfare_engine::eval::{parser_accuracy, read_labelled, report, score_plan};
use wayfare_engine::orchestrator::{Planner, submission};

/// Counts live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the same layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// CPU time this thread has used: a plan's cost that other processes on a
/// busy machine do not inflate (wall time on 2 shared cores at load 15 said
/// 12 ms for what costs 1.5 ms). Called through the C library directly, so
/// the bench needs no `libc` dependency.
#[cfg(target_os = "linux")]
fn thread_cpu() -> std::time::Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the call's duration.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> std::time::Duration {
    std::time::Duration::ZERO
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let Some(catalog) = common::catalog() else {
        eprintln!("no data: nothing to measure");
        return;
    };
    let after_load = LIVE.load(Ordering::Relaxed);
    println!(
        "catalog loaded: {:.1} MiB live, peak {:.1} MiB",
        mib(after_load),
        mib(PEAK.load(Ordering::Relaxed))
    );
    PEAK.store(after_load, Ordering::Relaxed);

    let planner = Planner::new(catalog.clone()).with_default_year(2022);

    // Dev queries, scored by RULES.md.
    let labels = read_labelled(&common::read("dev_queries.jsonl")).expect("dev labels");
    let scores: Vec<_> = labels
        .iter()
        .map(|l| {
            let outcome = planner.plan_blocking(&l.query);
            score_plan(l, &submission(&outcome, catalog.as_ref()), catalog.as_ref())
        })
        .collect();
    let r = report(&scores);
    let (fields, exact) = parser_accuracy(|q| planner.parse(q), &labels);
    println!("dev ({} queries):", r.queries);
    println!("  delivery rate        {:.1}%", r.delivery_rate * 100.0);
    println!(
        "  commonsense micro    {:.1}%   macro {:.1}%",
        r.commonsense_micro * 100.0,
        r.commonsense_macro * 100.0
    );
    println!(
        "  hard micro           {:.1}%   macro {:.1}%",
        r.hard_micro * 100.0,
        r.hard_macro * 100.0
    );
    println!("  final pass rate      {:.1}%", r.final_pass_rate * 100.0);
    println!(
        "  parser accuracy      {:.1}% of fields, {:.1}% of queries exact",
        fields * 100.0,
        exact * 100.0
    );

    // Validation queries: delivery and the verifier's pass rate.
    let queries: Vec<String> = common::read("validation_queries.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["query"].as_str().map(str::to_string))
        .collect();
    let mut delivered = 0usize;
    let mut check_rates = Vec::new();
    for q in &queries {
        let outcome = planner.plan_blocking(q);
        if let Some(plan) = &outcome.itinerary {
            delivered += 1;
            let v = &plan.verdict;
            check_rates.push(
                v.checks.iter().filter(|c| c.passed).count() as f64 / v.checks.len().max(1) as f64,
            );
        }
    }
    let mean_rate = check_rates.iter().sum::<f64>() / check_rates.len().max(1) as f64;
    println!("validation ({} queries):", queries.len());
    println!(
        "  delivery rate        {:.1}% ({delivered})",
        delivered as f64 * 100.0 / queries.len().max(1) as f64
    );
    println!(
        "  verifier pass rate   {:.1}% of checks on delivered plans",
        mean_rate * 100.0
    );

    // Latency per trip length: parse + plan + verify, every validation query, several rounds.
    let rounds = 5;
    // Wall and CPU milliseconds per trip length.
    type Samples = (Vec<f64>, Vec<f64>);
    let mut by_days: std::collections::BTreeMap<u32, Samples> = Default::default();
    for _ in 0..rounds {
        for q in &queries {
            let (start, cpu) = (Instant::now(), thread_cpu());
            let outcome = planner.plan_blocking(q);
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let cpu_ms = (thread_cpu() - cpu).as_secs_f64() * 1000.0;
            if let Some(d) = outcome.intent.days {
                let (wall, cpu) = by_days.entry(d.get()).or_default();
                wall.push(ms);
                cpu.push(cpu_ms);
            }
        }
    }
    println!("latency (ms, {rounds} rounds of the validation queries, parse + plan + verify):");
    for (days, (mut wall, mut cpu)) in by_days {
        wall.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        println!(
            "  {days}-day  n={:<4} p50 {:>7.2}  p95 {:>7.2}  p99 {:>7.2}  max {:>7.2}   CPU p50 {:>6.2}  p95 {:>6.2}  p99 {:>6.2}  mean {:>6.3}",
            wall.len(),
            percentile(&wall, 50.0),
            percentile(&wall, 95.0),
            percentile(&wall, 99.0),
            wall.last().copied().unwrap_or(f64::NAN),
            percentile(&cpu, 50.0),
            percentile(&cpu, 95.0),
            percentile(&cpu, 99.0),
            cpu.iter().sum::<f64>() / cpu.len().max(1) as f64,
        );
    }
    println!(
        "memory: catalog {:.1} MiB; peak while planning {:.1} MiB (catalog included, +{:.1} MiB)",
        mib(after_load),
        mib(PEAK.load(Ordering::Relaxed)),
        mib(PEAK.load(Ordering::Relaxed).saturating_sub(after_load))
    );
}
