//! Durable hub messages on SQL (`hub_messages`): [`Store`] implements the
//! engine's [`HubStore`] port, so messages flagged durable survive a
//! restart and are replayed until their receiver acknowledges them.

use chrono::{DateTime, Utc};
use wayfare_engine::hub::{DeliveryStatus, Destination, HubStore, Message, MessageId};
use wayfare_engine::state::PortError;

use crate::codec::{JsonText, Time, to_json};
use crate::db::on_pool;
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
        let json = JsonText(to_json(message)?);
        on_pool!(self, write, |pool| sqlx::query(
            "INSERT INTO hub_messages (message_id, destination_kind, destination, message,
                status, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT DO NOTHING",
        )
        .bind(message.message_id.as_str())
        .bind(to.kind())
        .bind(to.name())
        .bind(&json)
        .bind(Time(at))
        .execute(pool)
        .await
        .map(drop)?);
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
        let sql = match status {
            DeliveryStatus::Delivered => {
                "UPDATE hub_messages SET status = $1, delivered_at = $2
                 WHERE message_id = $3 AND status IN ('pending')"
            }
            DeliveryStatus::Acked => {
                "UPDATE hub_messages SET status = $1, acked_at = $2
                 WHERE message_id = $3 AND status IN ('pending', 'delivered')"
            }
            DeliveryStatus::Pending => return Ok(()),
        };
        on_pool!(self, write, |pool| sqlx::query(sql)
            .bind(status.as_str())
            .bind(Time(at))
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    async fn unacked_sql(&self) -> Result<Vec<(Destination, Message)>, StoreError> {
        let sql = format!(
            "SELECT destination_kind, destination, message FROM hub_messages
             WHERE status <> 'acked' ORDER BY {}",
            self.dialect().order
        );
        let rows: Vec<(String, String, JsonText)> =
            on_pool!(self, write, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|(kind, name, message)| {
                Ok((
                    destination(&kind, name)?,
                    message.decode_as("hub_messages.message")?,
                ))
            })
            .collect()
    }

    async fn message_status_sql(
        &self,
        id: &MessageId,
    ) -> Result<Option<DeliveryStatus>, StoreError> {
        let status: Option<String> = on_pool!(self, write, |pool| sqlx::query_scalar(
            "SELECT status FROM hub_messages WHERE message_id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?);
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
