//! Catalog lookup latency and memory, printed (not a timed test).
//!
//! `cargo bench -p wayfare-engine --bench catalog` loads the TravelPlanner
//! sandbox (or the demo catalog when the sandbox is absent), builds a
//! `MemoryCatalog`, then times each `Catalog` call individually over many
//! random calls and prints the median and p99, and the bytes the records
//! and indexes hold, measured with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use chrono::{Days, NaiveDate};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::travelplanner::read_dir;
use wayfare_engine::catalog::{Catalog, CatalogData, ImportOptions, MemoryCatalog};

/// Counts the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwards the caller's layout unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// xorshift64*: enough randomness to pick keys, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

const CALLS: usize = 200_000;

fn measure(name: &str, rng: &mut Rng, mut call: impl FnMut(&mut Rng) -> usize) {
    let mut times = Vec::with_capacity(CALLS);
    let mut sink = 0usize;
    for _ in 0..CALLS / 10 {
        sink = sink.wrapping_add(call(rng));
    }
    for _ in 0..CALLS {
        let start = Instant::now();
        sink = sink.wrapping_add(call(rng));
        times.push(start.elapsed().as_nanos() as u64);
    }
    black_box(sink);
    times.sort_unstable();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<22} median {:>6} ns   p99 {:>6} ns   max {:>8} ns",
        pick(0.5),
        pick(0.99),
        times[times.len() - 1]
    );
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner");
    let before = live();
    let data: CatalogData = if dir.join("accommodations.csv").is_file() {
        println!("catalog: TravelPlanner sandbox at {}", dir.display());
        read_dir(&dir, &ImportOptions::default(), &mut |_| {})
            .expect("read the sandbox")
            .0
    } else {
        println!("catalog: demo (no sandbox at {})", dir.display());
        demo_catalog().expect("demo")
    };
    let records = live() - before;
    let started = Instant::now();
    let catalog = MemoryCatalog::new(data);
    let build = started.elapsed();
    let total = live() - before;
    let d = catalog.data();
    println!(
        "records: {} cities, {} flights, {} ground routes, {} stays, {} restaurants, {} attractions",
        d.cities.len(),
        d.flights.len(),
        d.ground_routes.len(),
        d.stays.len(),
        d.restaurants.len(),
        d.attractions.len()
    );
    println!(
        "memory (counting allocator): records {:.2} MiB + indexes {:.2} MiB = {:.2} MiB; estimate memory_bytes() {:.2} MiB; index build {:.1} ms",
        records as f64 / 1048576.0,
        (total - records) as f64 / 1048576.0,
        total as f64 / 1048576.0,
        catalog.memory_bytes() as f64 / 1048576.0,
        build.as_secs_f64() * 1000.0
    );

    let cities: Vec<String> = d.cities.iter().map(|c| c.name.clone()).collect();
    let states: Vec<String> = d.cities.iter().map(|c| c.state.clone()).collect();
    let flights: Vec<(String, String, NaiveDate)> = d
        .flights
        .iter()
        .map(|f| {
            let date = match &f.schedule {
                wayfare_domain::catalog::FlightSchedule::On { date } => *date,
                wayfare_domain::catalog::FlightSchedule::Weekly { .. } => {
                    NaiveDate::from_ymd_opt(2027, 3, 1).expect("date")
                }
            };
            (f.origin.clone(), f.destination.clone(), date)
        })
        .collect();
    let routes: Vec<(String, String)> = d
        .ground_routes
        .iter()
        .map(|r| (r.origin.clone(), r.destination.clone()))
        .collect();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    measure("cities()", &mut rng, |_| catalog.cities().len());
    measure("city(name)", &mut rng, |r| {
        catalog.city(&cities[r.below(cities.len())]).is_some() as usize
    });
    measure("cities_in_state", &mut rng, |r| {
        catalog
            .cities_in_state(&states[r.below(states.len())])
            .len()
    });
    // Half hits (a flown route and date), half a random city pair and day.
    measure("flights(o, d, date)", &mut rng, |r| {
        if r.below(2) == 0 {
            let (o, de, date) = &flights[r.below(flights.len())];
            catalog.flights(o, de, *date).len()
        } else {
            let o = &cities[r.below(cities.len())];
            let de = &cities[r.below(cities.len())];
            let date =
                NaiveDate::from_ymd_opt(2022, 3, 1).expect("date") + Days::new(r.below(31) as u64);
            catalog.flights(o, de, date).len()
        }
    });
    measure("ground_route(o, d)", &mut rng, |r| {
        if r.below(2) == 0 {
            let (o, de) = &routes[r.below(routes.len())];
            catalog.ground_route(o, de).is_some() as usize
        } else {
            let o = &cities[r.below(cities.len())];
            let de = &cities[r.below(cities.len())];
            catalog.ground_route(o, de).is_some() as usize
        }
    });
    measure("stays_in(city)", &mut rng, |r| {
        catalog.stays_in(&cities[r.below(cities.len())]).len()
    });
    measure("restaurants_in(city)", &mut rng, |r| {
        catalog.restaurants_in(&cities[r.below(cities.len())]).len()
    });
    measure("attractions_in(city)", &mut rng, |r| {
        catalog.attractions_in(&cities[r.below(cities.len())]).len()
    });
}
