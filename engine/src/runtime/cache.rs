//! The runtime's caches, each a small LRU with hit and miss counters:
//! request-level (normalised query + overrides → finished plan),
//! agent-level (agent type + hash of its inputs → output), and data-level
//! (query text → parsed intent: the parser's gazetteer lookups over the
//! catalog). `invalidate_all` empties them after a catalog import. A
//! request-level entry ([`cached_plan`]) keeps every task's result, so that
//! a trip served from it ([`cached_plan_commands`]) can be modified.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::verdict::Verdict;

use super::pipeline::{TaskOutput, schedule_commands};
use super::{CacheMetrics, lock};
use crate::state::{AgentType, Command, LoggedIntent, TaskStatus, TripState};

/// A bounded map evicting the least recently used entry (the `lru`
/// crate's O(1) list; the hand-written one moved the key through a
/// `VecDeque` with `retain` on every hit, O(capacity) under the cache's
/// lock), with hit and miss counters for the metrics.
#[derive(Debug)]
pub struct Lru<K: Hash + Eq, V> {
    /// `None` when the capacity is 0: nothing is kept.
    map: Option<lru::LruCache<K, V>>,
    hits: u64,
    misses: u64,
}

impl<K: Hash + Eq, V: Clone> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            map: NonZeroUsize::new(capacity).map(lru::LruCache::new),
            hits: 0,
            misses: 0,
        }
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        match self.map.as_mut().and_then(|m| m.get(key)) {
            Some(v) => {
                self.hits += 1;
                Some(v.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn put(&mut self, key: K, value: V) {
        if let Some(map) = self.map.as_mut() {
            map.put(key, value);
        }
    }

    pub fn clear(&mut self) {
        if let Some(map) = self.map.as_mut() {
            map.clear();
        }
    }

    pub fn metrics(&self) -> CacheMetrics {
        CacheMetrics {
            hits: self.hits,
            misses: self.misses,
        }
    }
}

/// The three levels, each behind its own lock (held only for one get or
/// put). Off (`enabled: false`), every read misses without counting and
/// every write is dropped.
#[derive(Debug)]
pub struct Caches {
    pub enabled: bool,
    request: Mutex<Lru<String, Arc<CachedPlan>>>,
    agent: Mutex<Lru<AgentKey, Arc<TaskOutput>>>,
    data: Mutex<Lru<String, TripIntent>>,
    /// What the agent level's keys name each dependency's output by.
    digests: Mutex<Digests>,
}

impl Caches {
    pub fn new(enabled: bool, capacity: usize) -> Self {
        Self {
            enabled,
            request: Mutex::new(Lru::new(capacity)),
            agent: Mutex::new(Lru::new(capacity)),
            data: Mutex::new(Lru::new(capacity)),
            digests: Mutex::new(Digests::new(capacity.saturating_mul(DIGESTS_PER_ENTRY))),
        }
    }

    fn get<K, Q, V>(&self, level: &Mutex<Lru<K, V>>, key: &Q) -> Option<V>
    where
        K: Hash + Eq + Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        if self.enabled {
            lock(level).get(key)
        } else {
            None
        }
    }

    fn put<K: Hash + Eq, V: Clone>(&self, level: &Mutex<Lru<K, V>>, key: K, value: V) {
        if self.enabled {
            lock(level).put(key, value);
        }
    }

    /// A finished plan ([`cached_plan`]) by [`request_key`].
    pub fn plan(&self, key: &str) -> Option<Arc<CachedPlan>> {
        self.get(&self.request, key)
    }

    pub fn keep_plan(&self, key: String, plan: Arc<CachedPlan>) {
        self.put(&self.request, key, plan);
    }

    /// An agent's output by [`Caches::agent_key`].
    pub fn output(&self, key: AgentKey) -> Option<Arc<TaskOutput>> {
        let hit = self.get(&self.agent, &key)?;
        // Named by the key again, should its name have been dropped.
        lock(&self.digests).name(&hit, key.0);
        Some(hit)
    }

    /// Keeps `output`, made under `key`, which names it from now on.
    pub fn keep_output(&self, key: AgentKey, output: Arc<TaskOutput>) {
        if self.enabled {
            lock(&self.digests).name(&output, key.0);
        }
        self.put(&self.agent, key, output);
    }

    /// The agent level's key for a run of `agent_type` on these inputs,
    /// with the catalog of `generation`. The intent and an edited plan are
    /// hashed as JSON; each dependency's output by its digest.
    pub fn agent_key(
        &self,
        agent_type: AgentType,
        generation: u64,
        intent: &TripIntent,
        deps: &BTreeMap<AgentType, Arc<TaskOutput>>,
        edited: Option<&Itinerary>,
    ) -> AgentKey {
        let mut named: Vec<(AgentType, Option<u64>)> = {
            let mut digests = lock(&self.digests);
            deps.iter()
                .map(|(t, output)| (*t, digests.get(output)))
                .collect()
        };
        // Outputs from elsewhere are hashed outside the lock, once.
        for ((_, digest), output) in named.iter_mut().zip(deps.values()) {
            if digest.is_none() {
                let content = json_digest(Tag::Content, output.as_ref());
                lock(&self.digests).name(output, content);
                *digest = Some(content);
            }
        }
        let mut h = JsonHasher::new(Tag::Key);
        h.0.write_u64(generation);
        h.0.write_u8(agent_type as u8);
        h.json(intent);
        for (t, digest) in named {
            h.0.write_u8(t as u8);
            h.0.write_u64(digest.unwrap_or_default());
        }
        h.json(&edited);
        AgentKey(h.0.finish())
    }

    /// A parsed request (the day it was read on and its text).
    pub fn intent(&self, key: &str) -> Option<TripIntent> {
        self.get(&self.data, key)
    }

    pub fn keep_intent(&self, key: String, intent: TripIntent) {
        self.put(&self.data, key, intent);
    }

    /// Hits and misses by level: "request", "agent", "data".
    pub fn metrics(&self) -> BTreeMap<String, CacheMetrics> {
        BTreeMap::from([
            ("request".to_string(), lock(&self.request).metrics()),
            ("agent".to_string(), lock(&self.agent).metrics()),
            ("data".to_string(), lock(&self.data).metrics()),
        ])
    }

    pub fn invalidate_all(&self) {
        lock(&self.request).clear();
        lock(&self.agent).clear();
        lock(&self.data).clear();
        lock(&self.digests).clear();
    }
}

/// The agent level's key: a hash of the agent type, the catalog's
/// generation and the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentKey(u64);

/// How many outputs' names are kept per agent cache entry: the outputs of
/// the trips in flight, most of which the cache does not keep.
const DIGESTS_PER_ENTRY: usize = 8;

/// The names of the outputs at hand, for the agent cache's keys. An agent's
/// output is a function of its inputs and the catalog, so an output made
/// here is named by the key it was made under, with nothing to hash; an
/// output from elsewhere (the store, another process) by the hash of its
/// JSON, computed once. (Hashing every dependency's JSON for each task that
/// reads it took 7% of the server's CPU under load.) An output whose name
/// was dropped is hashed again: another name, so a miss, never a wrong hit.
///
/// Entries are by the output's address: each keeps a `Weak` to its output,
/// which keeps the allocation, so the address is not reused while the
/// entry lasts.
#[derive(Debug)]
struct Digests(Option<lru::LruCache<usize, (Weak<TaskOutput>, u64)>>);

impl Digests {
    fn new(capacity: usize) -> Self {
        Self(NonZeroUsize::new(capacity).map(lru::LruCache::new))
    }

    fn get(&mut self, output: &Arc<TaskOutput>) -> Option<u64> {
        let (_, digest) = self.0.as_mut()?.get(&address(output))?;
        Some(*digest)
    }

    fn name(&mut self, output: &Arc<TaskOutput>, digest: u64) {
        if let Some(map) = self.0.as_mut() {
            map.put(address(output), (Arc::downgrade(output), digest));
        }
    }

    fn clear(&mut self) {
        if let Some(map) = self.0.as_mut() {
            map.clear();
        }
    }
}

fn address(output: &Arc<TaskOutput>) -> usize {
    Arc::as_ptr(output) as usize
}

/// Keeps the two kinds of hashed names apart.
#[derive(Clone, Copy)]
enum Tag {
    Key = 1,
    Content = 2,
}

/// A hasher that JSON is written straight into.
struct JsonHasher(DefaultHasher);

impl JsonHasher {
    fn new(tag: Tag) -> Self {
        let mut h = DefaultHasher::new();
        h.write_u8(tag as u8);
        Self(h)
    }

    /// Writing into a hasher cannot fail; a value that does not serialise
    /// hashes what was written of it.
    fn json(&mut self, value: &impl Serialize) {
        let _ = serde_json::to_writer(&mut *self, value);
    }
}

impl std::io::Write for JsonHasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn json_digest(tag: Tag, value: &impl Serialize) -> u64 {
    let mut h = JsonHasher::new(tag);
    h.json(value);
    h.0.finish()
}

/// Lower-cased, whitespace collapsed: "Plan  a Trip" and "plan a trip" are one request.
pub fn normalise_query(query: &str) -> String {
    query
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The request cache's key: the request as [`normalise_query`] reads it,
/// its overrides, and what it was read as (the intent, less its text) — the
/// same words read on another day ("next Saturday") are another trip.
pub fn request_key(query: &str, overrides: &TripOverrides, intent: &TripIntent) -> String {
    #[derive(Serialize)]
    struct Key<'a> {
        overrides: &'a TripOverrides,
        #[serde(flatten)]
        intent: &'a TripIntent,
    }
    let read_as = TripIntent {
        text: String::new(),
        ..intent.clone()
    };
    let key = serde_json::to_string(&Key {
        overrides,
        intent: &read_as,
    })
    .unwrap_or_default();
    format!("{}|{key}", normalise_query(query))
}

/// A request cache entry: the finished plan and every task's result (or
/// skip) it was made of, so that a trip served from it can be modified
/// like the one that was planned.
#[derive(Debug)]
pub struct CachedPlan {
    /// The plan and its verdict as the trip's `PlanReady` logged them.
    itinerary: Arc<Itinerary>,
    verdict: Arc<Verdict>,
    tasks: Vec<CachedTask>,
}

#[derive(Debug)]
struct CachedTask {
    agent_type: AgentType,
    /// `None`: the task was skipped for `skip_reason`.
    result: Option<Arc<TaskOutput>>,
    skip_reason: Option<String>,
}

/// The cache entry for a trip that has just finished planning, when every
/// task of it is completed with its result at hand or skipped.
pub fn cached_plan(state: &TripState) -> Option<CachedPlan> {
    let tasks = state
        .tasks
        .iter()
        .map(|t| match t.status {
            TaskStatus::Completed => Some(CachedTask {
                agent_type: t.agent_type,
                result: Some(Arc::clone(t.result.as_ref()?)),
                skip_reason: None,
            }),
            TaskStatus::Skipped => Some(CachedTask {
                agent_type: t.agent_type,
                result: None,
                skip_reason: t.skip_reason.clone(),
            }),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(CachedPlan {
        itinerary: state.itinerary.clone()?,
        verdict: state.verdict.clone()?,
        tasks,
    })
}

impl Caches {
    /// Keeps the plan of a trip that has just become ready under its
    /// request's key — a first plan only: a modified trip no longer answers
    /// its words alone. The journal calls this after the append and before
    /// anyone hears of `PlanReady`, so the same request sent the moment the
    /// first is ready is served from here.
    pub fn keep_ready(&self, state: &TripState) {
        if !self.enabled || state.modifications != 0 {
            return;
        }
        let (Some(query), Some(intent)) = (&state.query, &state.intent) else {
            return;
        };
        if let Some(entry) = cached_plan(state) {
            let key = request_key(query, &state.overrides, &intent.intent);
            self.keep_plan(key, Arc::new(entry));
        }
    }
}

/// What a trip served from the cache entry `hit` logs: the submission, the
/// intent, a fresh task graph completed (or skipped) with the cached
/// results, and the plan. `None` when the entry does not cover the graph
/// (then the request is planned).
pub fn cached_plan_commands(
    query: &str,
    overrides: &TripOverrides,
    intent: &TripIntent,
    cached: &CachedPlan,
) -> Option<Vec<Command>> {
    let schedule = schedule_commands();
    let mut settle = Vec::with_capacity(schedule.len());
    for command in &schedule {
        let Command::ScheduleTask {
            task_id,
            agent_type,
            ..
        } = command
        else {
            continue;
        };
        let task = cached.tasks.iter().find(|t| t.agent_type == *agent_type)?;
        settle.push(match &task.result {
            Some(result) => Command::CompleteTask {
                task_id: *task_id,
                result: Arc::clone(result),
                elapsed_ms: 0,
            },
            None => Command::SkipTask {
                task_id: *task_id,
                reason: task.skip_reason.clone().unwrap_or_else(|| "skipped".into()),
            },
        });
    }
    let mut commands = vec![
        Command::Submit {
            query: query.to_string(),
            overrides: Box::new(overrides.clone()),
        },
        Command::RecordIntent {
            intent: Arc::new(LoggedIntent::from(intent.clone())),
        },
    ];
    commands.extend(schedule);
    commands.extend(settle);
    commands.push(Command::FinishPlan {
        itinerary: Arc::clone(&cached.itinerary),
        verdict: Arc::clone(&cached.verdict),
    });
    Some(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first_and_hits_are_counted() {
        let mut lru = Lru::<String, _>::new(2);
        lru.put("a".into(), 1);
        lru.put("b".into(), 2);
        assert_eq!(lru.get("a"), Some(1));
        lru.put("c".into(), 3);
        assert_eq!(lru.get("b"), None);
        assert_eq!(lru.get("a"), Some(1));
        assert_eq!(lru.metrics(), CacheMetrics { hits: 2, misses: 1 });
        let mut none = Lru::<String, _>::new(0);
        none.put("a".into(), 1);
        assert_eq!(none.get("a"), None);
    }

    fn tips(text: &str) -> Arc<TaskOutput> {
        Arc::new(TaskOutput::Tips(vec![text.to_string()]))
    }

    fn key_after(caches: &Caches, generation: u64, dep: &Arc<TaskOutput>) -> AgentKey {
        let deps = BTreeMap::from([(AgentType::Tips, Arc::clone(dep))]);
        caches.agent_key(
            AgentType::Budget,
            generation,
            &TripIntent::default(),
            &deps,
            None,
        )
    }

    #[test]
    fn an_output_made_here_is_named_by_its_key_and_one_from_elsewhere_by_its_content() {
        let caches = Caches::new(true, 16);
        let made = tips("carry water");
        let key = key_after(&caches, 0, &tips("anything"));
        caches.keep_output(key, Arc::clone(&made));
        assert_eq!(lock(&caches.digests).get(&made), Some(key.0));
        // The same content read back from the store: another allocation,
        // named by its JSON, the same for equal outputs.
        let (read, again) = (tips("carry water"), tips("carry water"));
        assert_eq!(key_after(&caches, 0, &read), key_after(&caches, 0, &again));
        assert_ne!(key_after(&caches, 0, &read), key_after(&caches, 0, &made));
        assert_ne!(
            key_after(&caches, 0, &read),
            key_after(&caches, 0, &tips("carry more water"))
        );
        // Another catalog, another key.
        assert_ne!(key_after(&caches, 1, &read), key_after(&caches, 0, &read));
        // An output whose name was dropped (a catalog import) is named by
        // its content: the keys after it miss, never hit a stale entry.
        caches.invalidate_all();
        assert_eq!(key_after(&caches, 0, &made), key_after(&caches, 0, &read));
    }

    #[test]
    fn queries_differing_in_case_and_spacing_normalise_alike() {
        assert_eq!(
            normalise_query(" Plan  a TRIP "),
            normalise_query("plan a trip")
        );
    }
}
