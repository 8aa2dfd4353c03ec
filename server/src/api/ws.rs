//! `GET /api/trips/{id}/events[?after=seq]` (WebSocket): the trip's past
//! events after `seq`, then live ones, each a JSON text frame
//! `{"type", "trip_id", "seq", "at", "data"}`, in `seq` order without
//! duplicates. The socket stays open after the plan is ready (a later
//! modification streams on it too); the client closes it. Live events come
//! from the trip's hub topic (`trip.<id>`), the past ones from the log.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use wayfare_domain::trip::WireEvent;
use wayfare_engine::runtime::{EventStream, Runtime};
use wayfare_store::Store;

use super::trips::trip_id;
use super::{ApiError, ApiResult};
use crate::web::AppState;
use crate::web::security::OriginPolicy;

/// How long to wait before subscribing again when the runtime closed a
/// trip's channel (it may open a new one for a later modification).
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// Only events with a larger sequence number (0: all of them).
    #[serde(default)]
    pub after: u64,
}

/// The event stream's read buffer, in bytes.
const READ_BUFFER: usize = 4 * 1024;
/// The largest message or frame a client may send, in bytes.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Checks the trip exists before upgrading: an unknown id is a plain 404.
/// A browser page of another origin may not open the stream (403): a
/// WebSocket is not bound by the same-origin policy.
pub async fn events(
    State(state): State<AppState>,
    origins: Option<Extension<Arc<OriginPolicy>>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    if let Some(Extension(origins)) = origins
        && !origins.allows(&headers)
    {
        tracing::info!(origin = ?headers.get(axum::http::header::ORIGIN), "event stream from another origin refused");
        return Ok((
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "error": "forbidden",
                "message": "this event stream may only be opened from Wayfare's own pages",
            })),
        )
            .into_response());
    }
    let id = trip_id(&raw)?;
    let Query(EventsQuery { after }) = query
        .map_err(|e| ApiError::BadRequest(format!("`after` must be a sequence number: {e}")))?;
    let (past, live) = state
        .runtime
        .events(&id, after)
        .await?
        .ok_or_else(|| ApiError::TripNotFound(id.clone()))?;
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::BadRequest(format!(
            "this endpoint speaks WebSocket: {}",
            rejection.body_text()
        ))
    })?;
    let runtime = state.runtime.clone();
    // The stream only sends: what a client sends is a close or a ping. A
    // small read buffer (tungstenite's default, 128 KiB, was zeroed on
    // every read: 3% of the server's CPU under load) and a small message
    // bound.
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    Ok(upgrade.on_upgrade(move |socket| async move {
        let mut stream = Stream {
            socket,
            runtime,
            trip_id: id,
            last_seq: after,
        };
        if let Err(err) = stream.run(past, live).await {
            tracing::debug!(trip.id = %stream.trip_id, error = %err, "event stream ended");
        }
    }))
}

struct Stream {
    socket: WebSocket,
    runtime: Arc<Runtime<Store>>,
    trip_id: String,
    /// The last sequence number sent: anything at or below it is a duplicate.
    last_seq: u64,
}

impl Stream {
    async fn run(&mut self, past: Vec<WireEvent>, live: EventStream) -> Result<(), axum::Error> {
        self.send_all(past).await?;
        let mut live = Some(live);
        loop {
            let event = async {
                match live.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => {
                        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                        Err(RecvError::Lagged(0))
                    }
                }
            };
            tokio::select! {
                incoming = self.socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                    // Pings are answered by the protocol layer; text from
                    // the client means nothing here.
                    Some(Ok(_)) => {}
                },
                event = event => match event {
                    Ok(event) => {
                        self.feed(event).await?;
                        // The events already waiting (one append logs
                        // several) go out in the same write.
                        let next = match live.as_mut() {
                            Some(rx) => self.feed_waiting(rx).await?,
                            None => None,
                        };
                        self.socket.flush().await?;
                        match next {
                            Some(RecvError::Lagged(_)) => live = self.resubscribe().await?,
                            Some(RecvError::Closed) => live = None,
                            None => {}
                        }
                    }
                    // Fell behind the channel, or it was closed: read what
                    // was missed from the log and subscribe again.
                    Err(RecvError::Lagged(_)) => live = self.resubscribe().await?,
                    Err(RecvError::Closed) => live = None,
                },
            }
        }
    }

    /// Queues the events waiting in `live` until none is left, or the
    /// channel says why not (lagged, closed).
    async fn feed_waiting(
        &mut self,
        live: &mut EventStream,
    ) -> Result<Option<RecvError>, axum::Error> {
        loop {
            match live.try_recv() {
                Ok(event) => self.feed(event).await?,
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Lagged(n)) => return Ok(Some(RecvError::Lagged(n))),
                Err(TryRecvError::Closed) => return Ok(Some(RecvError::Closed)),
            }
        }
    }

    async fn resubscribe(&mut self) -> Result<Option<EventStream>, axum::Error> {
        match self.runtime.events(&self.trip_id, self.last_seq).await {
            Ok(Some((past, live))) => {
                self.send_all(past).await?;
                Ok(Some(live))
            }
            Ok(None) => Ok(None),
            Err(err) => {
                tracing::warn!(trip.id = %self.trip_id, error = %err, "cannot resubscribe to trip events");
                Ok(None)
            }
        }
    }

    /// Sends `events` in one write.
    async fn send_all(&mut self, events: Vec<WireEvent>) -> Result<(), axum::Error> {
        for event in events {
            self.feed(event).await?;
        }
        self.socket.flush().await
    }

    /// Queues `event` for the next write, unless it was sent already.
    async fn feed(&mut self, event: WireEvent) -> Result<(), axum::Error> {
        if event.seq <= self.last_seq {
            return Ok(());
        }
        let text = serde_json::to_string(&event).map_err(axum::Error::new)?;
        self.socket.feed(Message::Text(text.into())).await?;
        self.last_seq = event.seq;
        Ok(())
    }
}
