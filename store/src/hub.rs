//! Durable hub messages on SQL (`hub_messages`): [`Store`] implements the
//! engine's [`HubStore`] port, so messages flagged durable survive a
//! restart and are replayed until their receiver acknowledges them.

use chrono::{DateTime, Utc};
use sqlx::Row;
use wayfare_engine::hub::{DeliveryStatus, Destination, HubStore, Message, MessageId};
use wayfare_engine::state::PortError;

use crate::events::{from_json, to_json, ts};
use crate::{Store, StoreError};

fn destination(kind: &str, name: String) -> Result<Destination, StoreError> {
    Destination::parse(kind, name)
        .ok_or_else(|| StoreError::Corrupt(format!("hub_messages.destination_kind: {kind:?}")))
}

impl Store {
    async fn save_message_sql(
        &self,
        to: &Destination,
        message: &Message,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json = to_json(message)?;
        match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query(
                    "INSERT INTO hub_messages (message_id, destination_kind, destination, message,
                        status, created_at)
                     VALUES (?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
                )
                .bind(message.message_id.as_str())
                .bind(to.kind())
                .bind(to.name())
                .bind(json)
                .bind(ts(at))
                .execute(pool)
                .await?;
            }
            Store::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO hub_messages (message_id, destination_kind, destination, message,
                        status, created_at)
                     VALUES ($1, $2, $3, $4::jsonb, 'pending', $5) ON CONFLICT DO NOTHING",
                )
                .bind(message.message_id.as_str())
                .bind(to.kind())
                .bind(to.name())
                .bind(json)
                .bind(at)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    async fn set_message_status_sql(
        &self,
        id: &MessageId,
        status: DeliveryStatus,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Delivered only moves a pending message on (a replay of an acked
        // one must not resurrect it); acked is final.
        let (column, from) = match status {
            DeliveryStatus::Delivered => ("delivered_at", "('pending')"),
            DeliveryStatus::Acked => ("acked_at", "('pending', 'delivered')"),
            DeliveryStatus::Pending => return Ok(()),
        };
        match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE hub_messages SET status = ?, {column} = ?
                     WHERE message_id = ? AND status IN {from}"
                )))
                .bind(status.as_str())
                .bind(ts(at))
                .bind(id.as_str())
                .execute(pool)
                .await?;
            }
            Store::Postgres(pool) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE hub_messages SET status = $1, {column} = $2
                     WHERE message_id = $3 AND status IN {from}"
                )))
                .bind(status.as_str())
                .bind(at)
                .bind(id.as_str())
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    async fn unacked_sql(&self) -> Result<Vec<(Destination, Message)>, StoreError> {
        let rows: Vec<(String, String, String)> = match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query_as(
                    "SELECT destination_kind, destination, message FROM hub_messages
                     WHERE status <> 'acked' ORDER BY rowid",
                )
                .fetch_all(pool)
                .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT destination_kind, destination, message::text FROM hub_messages
                     WHERE status <> 'acked' ORDER BY position",
                )
                .fetch_all(pool)
                .await?
            }
        };
        rows.into_iter()
            .map(|(kind, name, message)| {
                Ok((
                    destination(&kind, name)?,
                    from_json("hub_messages.message", &message)?,
                ))
            })
            .collect()
    }

    async fn message_status_sql(
        &self,
        id: &MessageId,
    ) -> Result<Option<DeliveryStatus>, StoreError> {
        let status: Option<String> = match self {
            Store::Sqlite { write: pool, .. } => {
                let row = sqlx::query("SELECT status FROM hub_messages WHERE message_id = ?")
                    .bind(id.as_str())
                    .fetch_optional(pool)
                    .await?;
                row.map(|r| r.try_get("status")).transpose()?
            }
            Store::Postgres(pool) => {
                let row = sqlx::query("SELECT status FROM hub_messages WHERE message_id = $1")
                    .bind(id.as_str())
                    .fetch_optional(pool)
                    .await?;
                row.map(|r| r.try_get("status")).transpose()?
            }
        };
        status
            .map(|s| match s.as_str() {
                "pending" => Ok(DeliveryStatus::Pending),
                "delivered" => Ok(DeliveryStatus::Delivered),
                "acked" => Ok(DeliveryStatus::Acked),
                other => Err(StoreError::Corrupt(format!(
                    "hub_messages.status: {other:?}"
                ))),
            })
            .transpose()
    }
}

impl HubStore for Store {
    async fn save(
        &self,
        destination: &Destination,
        message: &Message,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        Ok(self.save_message_sql(destination, message, at).await?)
    }

    async fn mark_delivered(&self, id: &MessageId, at: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self
            .set_message_status_sql(id, DeliveryStatus::Delivered, at)
            .await?)
    }

    async fn ack(&self, id: &MessageId, at: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self
            .set_message_status_sql(id, DeliveryStatus::Acked, at)
            .await?)
    }

    async fn unacked(&self) -> Result<Vec<(Destination, Message)>, PortError> {
        Ok(self.unacked_sql().await?)
    }

    async fn status(&self, id: &MessageId) -> Result<Option<DeliveryStatus>, PortError> {
        Ok(self.message_status_sql(id).await?)
    }
}
