//! The `/sync` WebSocket: authentication, origin check, size and rate limits, and the pump
//! between a socket and the hub.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::hub::{Outbound, now};
use super::policy::Principal;
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::SessionKind;

/// The WebSocket close code for a policy violation (RFC 6455).
const POLICY_VIOLATION: u16 = 1008;
/// The WebSocket close code for a message too big to process.
const MESSAGE_TOO_BIG: u16 = 1009;
/// "Try again later" (registered with IANA): over the message rate, the client may come back
/// after a pause, and clients that back off on other closes do.
const TRY_AGAIN_LATER: u16 = 1013;
/// Each socket's read buffer, and how much it writes at once. tungstenite's defaults (128 KiB
/// each) cost a thousand sockets 125 MB before they carry anything, as the read buffer is
/// filled to its size; sync messages are mostly a few kilobytes, and a larger one grows the
/// buffer for as long as it takes to read it.
const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// The query of `/sync`: a short-lived token for clients that cannot set headers.
#[derive(Debug, serde::Deserialize)]
pub struct SyncQuery {
    token: Option<String>,
}

/// `GET /sync`: upgrades an authenticated request to the sync protocol.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SyncQuery>,
    session: Result<Session, AppError>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AppError> {
    // Browsers always send Origin on WebSocket requests; a page from another site must not
    // open a socket with this user's cookie. Clients that are not browsers send none.
    if let Some(origin) = headers.get(ORIGIN)
        && origin.to_str().ok() != Some(state.config.public_origin.as_str())
    {
        return Err(AppError::Forbidden);
    }
    let principal = match (session, query.token) {
        (Ok(session), _) => session.principal(),
        (Err(_), Some(token)) => {
            let (user, device_id) = state
                .store
                .session(&token, SessionKind::Sync, now())
                .await?
                .ok_or(AppError::Unauthenticated)?;
            Principal {
                user_id: user.id,
                device_id,
                role: user.role,
                districts: user.districts,
            }
        }
        (Err(error), None) => return Err(error),
    };
    let max_message_bytes = state.config.max_message_bytes;
    Ok(upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
        .on_upgrade(move |socket| pump(socket, state, principal)))
}

async fn pump(socket: WebSocket, state: AppState, principal: Principal) {
    let (mut sink, mut stream) = socket.split();
    let (outbound, mut to_send) = mpsc::unbounded_channel();
    let closer = outbound.clone();
    let user = principal.user_id.clone();
    let Ok(connection) = state.hub.connect(principal, outbound).await else {
        return;
    };
    tracing::info!(connection = connection.0, %user, "sync connection opened");

    let writer = tokio::spawn(async move {
        while let Some(message) = to_send.recv().await {
            match message {
                Outbound::Binary(bytes) => {
                    if sink.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Outbound::Close(reason) => {
                    let code = if reason.contains("exceeds the limit") {
                        MESSAGE_TOO_BIG
                    } else if reason.contains("messages a second") {
                        TRY_AGAIN_LATER
                    } else {
                        POLICY_VIOLATION
                    };
                    // Close reasons are limited to 123 bytes by the protocol.
                    let reason: String = reason
                        .chars()
                        .scan(0, |len, c| {
                            *len += c.len_utf8();
                            (*len <= 123).then_some(c)
                        })
                        .collect();
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break;
                }
            }
        }
    });

    let limit = state.config.messages_per_second;
    let mut window = Instant::now();
    let mut in_window = 0u32;
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Binary(bytes)) => {
                if window.elapsed() >= Duration::from_secs(1) {
                    window = Instant::now();
                    in_window = 0;
                }
                in_window += 1;
                if in_window > limit {
                    tracing::warn!(connection = connection.0, %user, limit, "closing a connection over its message rate");
                    let _ = closer.send(Outbound::Close(format!(
                        "more than {limit} messages a second"
                    )));
                    break;
                }
                state.hub.received(connection, bytes.to_vec());
            }
            Ok(Message::Text(_)) => {
                let _ = closer.send(Outbound::Close(
                    "the sync protocol sends binary CBOR messages, not text".into(),
                ));
                break;
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(connection = connection.0, %user, %error, "closing a sync connection after a read error");
                let _ = closer.send(Outbound::Close(format!("message refused: {error}")));
                break;
            }
        }
    }
    state.hub.disconnected(connection);
    drop(closer);
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    tracing::info!(connection = connection.0, %user, "sync connection closed");
}
