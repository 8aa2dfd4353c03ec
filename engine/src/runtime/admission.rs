//! Admission: how many trips plan at once (`max_concurrent_requests`
//! planning slots), the waiting line behind them (`queue_capacity`), and
//! back-pressure when both are full (the API's 503 with `Retry-After`).
//! It also times each trip submitted in this process from submission to
//! its end (the plan latency histogram).
//!
//! [`Admission`] owns the line behind one lock, held only for a set or
//! queue update — never across an `.await` nor while another part's lock
//! is taken (the latency goes to [`Stats`] after it is released).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use tokio::time::Instant;

use super::lock;
use super::stats::Stats;
use crate::state::TripId;

#[derive(Default)]
struct Line {
    running: HashSet<TripId>,
    waiting: VecDeque<TripId>,
    /// When each trip planning in this process was submitted.
    submitted_at: HashMap<TripId, Instant>,
}

/// The planning slots and the waiting line.
pub(super) struct Admission {
    slots: usize,
    queue_capacity: usize,
    line: Mutex<Line>,
}

impl Admission {
    pub(super) fn new(max_concurrent_requests: usize, queue_capacity: usize) -> Self {
        Self {
            slots: max_concurrent_requests.max(1),
            queue_capacity,
            line: Mutex::new(Line::default()),
        }
    }

    /// `Err(retry_after_secs)` when every slot and the waiting line are
    /// full: a new trip is refused before anything is recorded.
    pub(super) fn room(&self) -> Result<(), u64> {
        let line = lock(&self.line);
        if line.running.len() >= self.slots && line.waiting.len() >= self.queue_capacity {
            let per_slot = line.waiting.len() / self.slots;
            return Err(1 + per_slot as u64);
        }
        Ok(())
    }

    /// Starts timing a new trip and takes a slot for it when one is free
    /// (whether it did). Without one, the trip is not in line yet:
    /// [`Admission::enter`] puts it there once its submission is recorded.
    pub(super) fn try_take(&self, trip: TripId) -> bool {
        let mut line = lock(&self.line);
        line.submitted_at.insert(trip, Instant::now());
        let free = line.running.len() < self.slots;
        if free {
            line.running.insert(trip);
        }
        free
    }

    /// A trip recorded without a slot: takes one if one came free since
    /// (`true`: schedule it now), else joins the waiting line.
    pub(super) fn enter(&self, trip: TripId) -> bool {
        let mut line = lock(&self.line);
        let free = line.running.len() < self.slots;
        if free {
            line.running.insert(trip);
        } else {
            line.waiting.push_back(trip);
        }
        free
    }

    /// Starts timing a trip and puts it in line: a slot when one is free
    /// (`true`: schedule it now), else the waiting line.
    pub(super) fn admit(&self, trip: TripId) -> bool {
        lock(&self.line).submitted_at.insert(trip, Instant::now());
        self.enter(trip)
    }

    /// A trip planning again (resumed or retried): keeps the slot it holds
    /// or takes a free one (`true`: schedule it now); waits in line
    /// otherwise, or when it waits already (`false`).
    pub(super) fn readmit(&self, trip: TripId) -> bool {
        let mut line = lock(&self.line);
        if line.waiting.contains(&trip) {
            return false;
        }
        if line.running.contains(&trip) || line.running.len() < self.slots {
            line.running.insert(trip);
            true
        } else {
            line.waiting.push_back(trip);
            false
        }
    }

    /// Stops timing a trip that was never recorded.
    pub(super) fn untime(&self, trip: TripId) {
        lock(&self.line).submitted_at.remove(&trip);
    }

    /// Frees the trip's slot (recording how long it planned) and hands
    /// it to the next waiting trip, which the caller schedules.
    pub(super) fn release(&self, trip: TripId, stats: &Stats) -> Option<TripId> {
        let (elapsed, next) = {
            let mut line = lock(&self.line);
            let elapsed = line.submitted_at.remove(&trip).map(|at| at.elapsed());
            line.waiting.retain(|t| *t != trip);
            let next = if line.running.remove(&trip) {
                let next = line.waiting.pop_front();
                if let Some(next) = next {
                    line.running.insert(next);
                }
                next
            } else {
                None
            };
            (elapsed, next)
        };
        if let Some(elapsed) = elapsed {
            stats.plan_latency(elapsed.as_secs_f64() * 1000.0);
        }
        next
    }

    /// Forgets a deleted trip's place in the waiting line and its timing.
    pub(super) fn forget(&self, trip: TripId) {
        let mut line = lock(&self.line);
        line.submitted_at.remove(&trip);
        line.waiting.retain(|t| *t != trip);
    }

    /// Whether trips wait for a slot.
    pub(super) fn has_waiting(&self) -> bool {
        !lock(&self.line).waiting.is_empty()
    }

    /// Trips planning and trips waiting.
    pub(super) fn counts(&self) -> (usize, usize) {
        let line = lock(&self.line);
        (line.running.len(), line.waiting.len())
    }

    /// Every trip in line, planning or waiting.
    pub(super) fn trips(&self) -> Vec<TripId> {
        let line = lock(&self.line);
        line.running
            .iter()
            .chain(line.waiting.iter())
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_slot_goes_to_the_first_waiting_trip_and_the_line_refuses_beyond_its_capacity() {
        let admission = Admission::new(1, 1);
        let stats = Stats::default();
        let (a, b, c) = (TripId::new(), TripId::new(), TripId::new());
        assert!(admission.try_take(a));
        assert!(!admission.admit(b), "b waits");
        assert_eq!(admission.room(), Err(2));
        assert!(!admission.readmit(b), "waiting already");
        assert_eq!(admission.release(a, &stats), Some(b));
        assert_eq!(admission.counts(), (1, 0));
        assert!(admission.room().is_ok());
        assert!(!admission.enter(c));
        assert_eq!(admission.release(b, &stats), Some(c));
        assert_eq!(stats.metrics().plan_latency_ms_count, 2);
    }
}
