//! A bounded, priority-ordered, multi-consumer buffer: the inside of a
//! mailbox or a queue. High-priority messages are taken before medium and
//! low ones; within a priority, first in first out. Any number of consumers
//! may wait on it, and each message goes to exactly one of them.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::message::Message;

/// The buffer is at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

#[derive(Debug)]
pub(crate) struct Lanes<P> {
    lanes: Mutex<[VecDeque<Message<P>>; 3]>,
    notify: Notify,
    capacity: usize,
}

impl<P> Lanes<P> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            lanes: Mutex::new(Default::default()),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, [VecDeque<Message<P>>; 3]> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a message, or refuses it when full (back-pressure).
    pub(crate) fn push(&self, message: Message<P>) -> Result<(), Full> {
        {
            let mut lanes = self.lock();
            if lanes.iter().map(VecDeque::len).sum::<usize>() >= self.capacity {
                return Err(Full);
            }
            lanes[message.priority.lane()].push_back(message);
        }
        self.notify.notify_one();
        Ok(())
    }

    pub(crate) fn try_pop(&self) -> Option<Message<P>> {
        self.lock().iter_mut().find_map(VecDeque::pop_front)
    }

    /// Waits for the next message.
    pub(crate) async fn pop(&self) -> Message<P> {
        loop {
            let notified = self.notify.notified();
            if let Some(message) = self.try_pop() {
                return message;
            }
            notified.await;
        }
    }

    /// Waits for one message, then takes up to `max` in all without waiting.
    pub(crate) async fn pop_batch(&self, max: usize) -> Vec<Message<P>> {
        let mut batch = vec![self.pop().await];
        while batch.len() < max {
            match self.try_pop() {
                Some(message) => batch.push(message),
                None => break,
            }
        }
        // Someone else may be waiting for what is left.
        if !self.lock().iter().all(VecDeque::is_empty) {
            self.notify.notify_one();
        }
        batch
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().iter().map(VecDeque::len).sum()
    }
}
