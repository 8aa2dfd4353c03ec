//! The [`HubStore`] port: where durable messages wait until acknowledged,
//! and its in-memory twin.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::message::{Destination, Message, MessageId};
use crate::state::PortError;

/// How far a durable message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Stored, not yet handed to a mailbox or queue.
    Pending,
    /// In a mailbox or queue in memory; lost if the process stops.
    Delivered,
    /// Processed by its receiver: never replayed.
    Acked,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Acked => "acked",
        }
    }
}

/// Storage for durable messages.
pub trait HubStore: Send + Sync + 'static {
    /// Stores a message as pending (saving the same id again does nothing).
    fn save(
        &self,
        destination: &Destination,
        message: &Message,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    fn mark_delivered(
        &self,
        message_id: &MessageId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    fn ack(
        &self,
        message_id: &MessageId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Every message not yet acknowledged, in the order stored.
    fn unacked(
        &self,
    ) -> impl Future<Output = Result<Vec<(Destination, Message)>, PortError>> + Send;

    /// A message's status (`None` when unknown), for tests and dashboards.
    fn status(
        &self,
        message_id: &MessageId,
    ) -> impl Future<Output = Result<Option<DeliveryStatus>, PortError>> + Send;
}

/// Durable messages in memory (they survive a new [`super::Hub`] over the
/// same store, not the process). Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryHubStore {
    rows: Arc<Mutex<Vec<(Destination, Message, DeliveryStatus)>>>,
}

impl MemoryHubStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Destination, Message, DeliveryStatus)>> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, id: &MessageId, to: DeliveryStatus, only_from: Option<DeliveryStatus>) {
        for row in self.lock().iter_mut() {
            if row.1.message_id == *id && only_from.is_none_or(|s| row.2 == s) {
                row.2 = to;
            }
        }
    }
}

impl HubStore for MemoryHubStore {
    async fn save(
        &self,
        destination: &Destination,
        message: &Message,
        _at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut rows = self.lock();
        if rows.iter().all(|r| r.1.message_id != message.message_id) {
            rows.push((
                destination.clone(),
                message.clone(),
                DeliveryStatus::Pending,
            ));
        }
        Ok(())
    }

    async fn mark_delivered(&self, id: &MessageId, _at: DateTime<Utc>) -> Result<(), PortError> {
        self.set(id, DeliveryStatus::Delivered, Some(DeliveryStatus::Pending));
        Ok(())
    }

    async fn ack(&self, id: &MessageId, _at: DateTime<Utc>) -> Result<(), PortError> {
        self.set(id, DeliveryStatus::Acked, None);
        Ok(())
    }

    async fn unacked(&self) -> Result<Vec<(Destination, Message)>, PortError> {
        Ok(self
            .lock()
            .iter()
            .filter(|r| r.2 != DeliveryStatus::Acked)
            .map(|r| (r.0.clone(), r.1.clone()))
            .collect())
    }

    async fn status(&self, id: &MessageId) -> Result<Option<DeliveryStatus>, PortError> {
        Ok(self
            .lock()
            .iter()
            .find(|r| r.1.message_id == *id)
            .map(|r| r.2))
    }
}
