//! The runtime's caches, each a small LRU with hit and miss counters:
//! request-level (normalised query + overrides → finished plan),
//! agent-level (agent type + hash of its inputs → output), and data-level
//! (query text → parsed intent: the parser's gazetteer lookups over the
//! catalog). `invalidate_all` empties them after a catalog import.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use super::CacheMetrics;

/// A bounded map evicting the least recently used entry.
#[derive(Debug)]
pub struct Lru<V> {
    capacity: usize,
    map: HashMap<String, V>,
    order: VecDeque<String>,
    hits: u64,
    misses: u64,
}

impl<V: Clone> Lru<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
            hits: 0,
            misses: 0,
        }
    }

    pub fn get(&mut self, key: &str) -> Option<V> {
        match self.map.get(key) {
            Some(v) => {
                self.hits += 1;
                let v = v.clone();
                self.order.retain(|k| k != key);
                self.order.push_back(key.to_string());
                Some(v)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn put(&mut self, key: String, value: V) {
        if self.capacity == 0 {
            return;
        }
        if self.map.insert(key.clone(), value).is_some() {
            self.order.retain(|k| *k != key);
        }
        self.order.push_back(key);
        while self.map.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    pub fn metrics(&self) -> CacheMetrics {
        CacheMetrics {
            hits: self.hits,
            misses: self.misses,
        }
    }
}

/// The three levels.
#[derive(Debug)]
pub struct Caches {
    pub enabled: bool,
    pub request: Mutex<Lru<serde_json::Value>>,
    pub agent: Mutex<Lru<serde_json::Value>>,
    pub data: Mutex<Lru<serde_json::Value>>,
}

impl Caches {
    pub fn new(enabled: bool, capacity: usize) -> Self {
        Self {
            enabled,
            request: Mutex::new(Lru::new(capacity)),
            agent: Mutex::new(Lru::new(capacity)),
            data: Mutex::new(Lru::new(capacity)),
        }
    }

    pub fn invalidate_all(&self) {
        for level in [&self.request, &self.agent, &self.data] {
            level.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

/// Lower-cased, whitespace collapsed: "Plan  a Trip" and "plan a trip" are one request.
pub fn normalise_query(query: &str) -> String {
    query
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stable key for an agent call: its type and a hash of its inputs.
pub fn agent_key(agent_type: &str, inputs: &serde_json::Value) -> String {
    let mut h = DefaultHasher::new();
    inputs.to_string().hash(&mut h);
    format!("{agent_type}:{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first_and_hits_are_counted() {
        let mut lru = Lru::new(2);
        lru.put("a".into(), 1);
        lru.put("b".into(), 2);
        assert_eq!(lru.get("a"), Some(1));
        lru.put("c".into(), 3);
        assert_eq!(lru.get("b"), None);
        assert_eq!(lru.get("a"), Some(1));
        assert_eq!(lru.metrics(), CacheMetrics { hits: 2, misses: 1 });
    }

    #[test]
    fn queries_differing_in_case_and_spacing_normalise_alike() {
        assert_eq!(
            normalise_query(" Plan  a TRIP "),
            normalise_query("plan a trip")
        );
    }
}
