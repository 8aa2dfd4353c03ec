//! What the clients send: a deterministic, varied stream of trip requests
//! over the demo catalog (optionally only those the in-process planner
//! delivers), or the lines of a file in turn.

use std::sync::Arc;

use wayfare_engine::orchestrator::Planner;

/// Demo-catalog cities with flights between every pair.
const CITIES: [&str; 10] = [
    "Seattle",
    "Spokane",
    "Portland",
    "Denver",
    "Colorado Springs",
    "San Francisco",
    "Los Angeles",
    "San Diego",
    "Chicago",
    "New York",
];

const MONTHS: [&str; 6] = ["March", "April", "May", "June", "September", "October"];

/// A deterministic stream of varied trip requests over the demo catalog.
#[derive(Debug, Clone)]
pub struct QueryGen {
    rng: fastrand::Rng,
}

impl QueryGen {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.u64(..)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    pub fn next_query(&mut self) -> String {
        let from = self.pick(&CITIES);
        let mut to = self.pick(&CITIES);
        while to == from {
            to = self.pick(&CITIES);
        }
        let days = 2 + self.next_u64() % 3;
        let people = 1 + self.next_u64() % 3;
        let budget = 1500 + 250 * (self.next_u64() % 12) * people;
        let month = self.pick(&MONTHS);
        let day = 1 + self.next_u64() % 20;
        let who = match people {
            1 => "1 person".to_owned(),
            n => format!("{n} people"),
        };
        format!(
            "Plan a {days}-day trip from {from} to {to} starting {month} {day}, 2027, budget ${budget} for {who}."
        )
    }
}

/// One client's source of queries.
pub enum Queries {
    /// Generated; with a planner, only those it delivers.
    Generated(QueryGen, Option<Arc<Planner>>),
    /// The lines of `--queries`, from the given offset, round and round.
    Listed(Arc<Vec<String>>, usize),
}

impl Queries {
    pub fn next_query(&mut self) -> String {
        match self {
            Queries::Generated(g, None) => g.next_query(),
            Queries::Generated(g, Some(planner)) => loop {
                let query = g.next_query();
                if planner.plan_blocking(&query).itinerary.is_some() {
                    break query;
                }
            },
            Queries::Listed(list, i) => {
                let q = list[*i % list.len()].clone();
                *i += 1;
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use wayfare_engine::catalog::MemoryCatalog;
    use wayfare_engine::catalog::demo::demo_catalog;

    use super::*;

    #[test]
    fn plannable_only_sends_just_the_queries_the_planner_delivers() {
        let catalog = demo_catalog().expect("the demo catalog");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date");
        let planner =
            Arc::new(Planner::new(Arc::new(MemoryCatalog::new(catalog))).with_today(today));
        let delivers = |q: &str| planner.plan_blocking(q).itinerary.is_some();
        // The plain stream holds requests that cannot be planned...
        let mut plain = Queries::Generated(QueryGen::new(1), None);
        let unplannable = (0..300).filter(|_| !delivers(&plain.next_query())).count();
        assert!(unplannable > 0, "the generator made no unplannable request");
        // ...the filtered one none.
        let mut filtered = Queries::Generated(QueryGen::new(1), Some(planner.clone()));
        for _ in 0..100 {
            let query = filtered.next_query();
            assert!(delivers(&query), "sent an unplannable request: {query}");
        }
    }

    #[test]
    fn generated_queries_are_reproducible_and_varied() {
        let a: Vec<String> = (0..50)
            .scan(QueryGen::new(7), |g, _| Some(g.next_query()))
            .collect();
        let b: Vec<String> = (0..50)
            .scan(QueryGen::new(7), |g, _| Some(g.next_query()))
            .collect();
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert!(distinct.len() > 45, "{distinct:?}");
        assert!(a[0].starts_with("Plan a "), "{}", a[0]);
    }

    #[test]
    fn listed_queries_go_round_from_each_clients_offset() {
        let list = Arc::new(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        let mut q = Queries::Listed(list, 2);
        let sent: Vec<String> = (0..4).map(|_| q.next_query()).collect();
        assert_eq!(sent, ["c", "a", "b", "c"]);
    }
}
