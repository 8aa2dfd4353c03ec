//! Scaling the agent instances: reactively (the dispatcher starts one when
//! the best instance is over `scale_threshold`, [`Registry::scale_up`] with
//! [`Reason::Reactive`]) and predictively, on the supervisor's tick
//! ([`Registry::scale`]).
//!
//! Every task claimed for an agent type is an arrival
//! ([`Registry::record_arrivals`]), counted in buckets of
//! `predictive_scaling.bucket_ms` on the runtime's clock. Each tick closes
//! the buckets that ended, lets Holt's linear trend forecast the rate
//! `horizon_ms` ahead ([`ArrivalForecast`]), and turns it into instances by
//! Little's law ([`instances_for`]: rate × mean service time from the
//! instances' latency EMA ÷ what one instance holds at its threshold).
//! With prediction on, the type is brought up to that many before the load
//! arrives (within `max_instances`), and scaling down never goes below it
//! (nor below `min_instances`); an idle instance is stopped after ten idle
//! heartbeats as before, or — when the forecast is falling and needs fewer
//! than run — once it has been idle for a whole bucket (and two
//! heartbeats): a single quiet heartbeat in a steady load, whose trend
//! wobbles around 0, does not stop it. With it off the forecast is still made and
//! exported, so that an operator can see what it would do.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::super::config::RuntimeConfig;
use super::super::forecast::ArrivalForecast;
use super::super::lock;
use super::super::stats::Reason;
use super::instances_for;
use super::pool::Registry;
use crate::graph::AgentType;
use crate::state::{ClaimedTask, Priority};

/// Each agent type's arrivals and what their forecast asks for.
pub(in crate::runtime) struct Demand {
    types: BTreeMap<AgentType, TypeDemand>,
}

struct TypeDemand {
    arrivals: ArrivalForecast,
    /// Instances the latest forecast asks for (`min_instances` before one).
    needed: u32,
}

/// One type's forecast, for the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::runtime) struct Forecast {
    pub arrival_rate: f64,
    pub forecast_rate: f64,
    pub instances: u32,
}

impl Demand {
    pub(super) fn new(config: &RuntimeConfig) -> Self {
        let p = &config.predictive_scaling;
        Self {
            types: AgentType::ALL
                .into_iter()
                .filter(|t| config.orchestrator.local_agents.runs(*t))
                .map(|t| {
                    let demand = TypeDemand {
                        arrivals: ArrivalForecast::new(p.alpha, p.beta, p.bucket_ms, p.horizon_ms),
                        needed: config.agent(t).min_instances.max(1),
                    };
                    (t, demand)
                })
                .collect(),
        }
    }

    pub(in crate::runtime) fn forecasts(&self) -> BTreeMap<AgentType, Forecast> {
        self.types
            .iter()
            .map(|(t, d)| {
                (
                    *t,
                    Forecast {
                        arrival_rate: d.arrivals.rate(),
                        forecast_rate: d.arrivals.forecast(),
                        instances: d.needed,
                    },
                )
            })
            .collect()
    }
}

/// What the tick decided for one type.
struct Plan {
    agent_type: AgentType,
    online: u32,
    needed: u32,
    falling: bool,
}

impl Registry {
    /// Counts claimed tasks as arrivals of their agent types.
    pub(in crate::runtime) fn record_arrivals(&self, claimed: &[ClaimedTask]) {
        let now = self.clock.now().timestamp_millis();
        let mut per_type = [0u64; AgentType::ALL.len()];
        for task in claimed {
            per_type[task.agent_type as usize] += 1;
        }
        let mut pool = lock(&self.pool);
        for (agent_type, n) in AgentType::ALL.into_iter().zip(per_type) {
            if n == 0 {
                continue;
            }
            if let Some(d) = pool.demand.types.get_mut(&agent_type) {
                d.arrivals.record(now, n);
            }
        }
    }

    /// Each type's latest forecast, for the metrics.
    pub(in crate::runtime) fn forecasts(&self) -> BTreeMap<AgentType, Forecast> {
        lock(&self.pool).demand.forecasts()
    }

    /// Starts one more instance of `agent_type` and counts why.
    pub(in crate::runtime) fn scale_up(&self, agent_type: AgentType, reason: Reason) -> String {
        let id = self.spawn(agent_type);
        self.count_decision(agent_type, true, reason);
        match reason {
            Reason::Predictive => {
                tracing::info!(agent.id = %id, "instance started ahead of the forecast load");
            }
            _ => tracing::debug!(agent.id = %id, "instance started under load"),
        }
        id
    }

    fn count_decision(&self, agent_type: AgentType, up: bool, reason: Reason) {
        self.stats.scaled(agent_type, up, reason);
    }

    /// The supervisor's scaling step: the forecasts move on to now, the
    /// types get the instances their forecasts ask for (when prediction
    /// is on), and idle instances beyond what is needed stop.
    pub(in crate::runtime) fn scale(&self) {
        let plans = self.plan_scaling();
        let predictive = self.config.predictive_scaling.enabled;
        if predictive {
            for plan in &plans {
                for _ in plan.online..plan.needed {
                    self.scale_up(plan.agent_type, Reason::Predictive);
                }
            }
        }
        self.scale_down(&plans, predictive);
    }

    /// Rolls every type's forecast to now and sizes it: the service time
    /// is the mean of its instances' latency EMAs (of those that ran
    /// something), else the mean of every call so far.
    fn plan_scaling(&self) -> Vec<Plan> {
        let measured: Vec<(AgentType, u32, Option<f64>)> = {
            let pool = lock(&self.pool);
            AgentType::ALL
                .into_iter()
                .map(|t| {
                    let online = pool
                        .instances
                        .iter()
                        .filter(|i| i.row.agent_type == t && i.row.online);
                    let (mut n, mut sum, mut count) = (0u32, 0.0, 0u32);
                    for i in online {
                        n += 1;
                        if i.row.successes + i.row.failures > 0 {
                            sum += i.row.response_time_avg_ms;
                            count += 1;
                        }
                    }
                    let service = if count > 0 {
                        Some(sum / f64::from(count))
                    } else {
                        self.stats.mean_latency_ms(t)
                    };
                    (t, n, service)
                })
                .collect()
        };
        let now = self.clock.now().timestamp_millis();
        let mut pool = lock(&self.pool);
        measured
            .into_iter()
            .filter_map(|(agent_type, online, service)| {
                let d = pool.demand.types.get_mut(&agent_type)?;
                d.arrivals.roll(now);
                let config = self.config.agent(agent_type);
                // A P0 instance is dedicated: it holds one task at a time.
                let per_instance = match agent_type.node().priority {
                    Priority::P0 => 1,
                    _ => config.max_capacity,
                };
                d.needed = instances_for(
                    d.arrivals.forecast(),
                    service,
                    per_instance,
                    config.scale_threshold,
                    config.min_instances,
                    config.max_instances,
                );
                Some(Plan {
                    agent_type,
                    online,
                    needed: d.needed,
                    falling: d.arrivals.falling(),
                })
            })
            .collect()
    }

    /// Stops idle instances down to `min_instances` — and, with
    /// prediction on, to no fewer than the forecast needs: idle for ten
    /// heartbeats (reason idle), or for a bucket (at least two heartbeats)
    /// while the forecast is falling (reason predictive).
    fn scale_down(&self, plans: &[Plan], predictive: bool) {
        let idle_for = self.tick() * 10;
        let bucket = Duration::from_millis(self.config.predictive_scaling.bucket_ms);
        let idle_when_falling = (self.tick() * 2).max(bucket).min(idle_for);
        let now = Instant::now();
        let mut stopped: Vec<(AgentType, Reason)> = Vec::new();
        {
            let mut pool = lock(&self.pool);
            for plan in plans {
                let min = self.config.agent(plan.agent_type).min_instances.max(1);
                let floor = if predictive {
                    min.max(plan.needed)
                } else {
                    min
                } as usize;
                let early = predictive && plan.falling;
                loop {
                    let online: Vec<usize> = pool
                        .instances
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| i.row.agent_type == plan.agent_type && i.row.online)
                        .map(|(n, _)| n)
                        .collect();
                    if online.len() <= floor {
                        break;
                    }
                    let idle = online.into_iter().rev().find_map(|n| {
                        let i = &pool.instances[n];
                        let idle = now.saturating_duration_since(i.idle_since);
                        if i.row.current_load != 0 {
                            None
                        } else if idle >= idle_for {
                            Some((n, Reason::Idle))
                        } else if early && idle >= idle_when_falling {
                            Some((n, Reason::Predictive))
                        } else {
                            None
                        }
                    });
                    match idle {
                        Some((n, reason)) => {
                            let gone = pool.instances.remove(n);
                            gone.handle.abort();
                            tracing::info!(agent.id = %gone.row.agent_id, ?reason, "idle instance stopped");
                            stopped.push((plan.agent_type, reason));
                        }
                        None => break,
                    }
                }
            }
        }
        for (agent_type, reason) in stopped {
            self.count_decision(agent_type, false, reason);
        }
    }
}
