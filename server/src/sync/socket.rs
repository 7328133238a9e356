//! The `/sync` WebSocket: authentication, origin check, size and rate limits, the quarantine
//! quota, pings and the idle timeout, and the pump between a socket and the hub.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::hub::{Outbound, REFUSED_PREFIX, REMOVED_PREFIX, now};
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
/// Lots' own close code: some changes of a document were refused and kept in quarantine.
/// The reason reads `refused <document id> <reason codes>`; the app holds that document back.
pub const REFUSED_CHANGE: u16 = 4003;
/// Lots' own close code: the device has too many refused changes waiting for a supervisor.
pub const QUARANTINE_FULL: u16 = 4004;
/// Lots' close code: a household this user could read was removed (gallring, or a decision);
/// the app erases its copies and connects again at once.
pub const HOUSEHOLD_REMOVED: u16 = 4005;
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
    let user = principal.user_id.clone();
    // A device with too many refused changes waiting is told so, with its own close code,
    // until a supervisor has decided on them.
    match state
        .store
        .pending_quarantine_count(&principal.device_id)
        .await
    {
        Ok(pending) if pending >= state.config.quarantine_quota => {
            tracing::warn!(%user, pending, "refusing a sync connection: its quarantine is full");
            let reason = format!("quarantine-full {pending}");
            let _ = sink.send(close_frame(QUARANTINE_FULL, &reason)).await;
            return;
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(%error, "cannot count a device's quarantined changes");
            let _ = sink
                .send(close_frame(TRY_AGAIN_LATER, "try again later"))
                .await;
            return;
        }
    }
    let (outbound, mut to_send) = mpsc::channel(state.config.socket_queue);
    let closer = outbound.clone();
    // Counted while this function runs: the guard goes when the socket does.
    let _counted = state.metrics.socket_opened(principal.role.as_str());
    let connection = match state.hub.connect(principal, outbound).await {
        Ok(connection) => connection,
        Err(error) => {
            tracing::warn!(%user, %error, "refusing a sync connection");
            let _ = sink
                .send(close_frame(TRY_AGAIN_LATER, &error.to_string()))
                .await;
            return;
        }
    };
    tracing::info!(connection = connection.0, %user, "sync connection opened");

    let mut writer = tokio::spawn(async move {
        while let Some(message) = to_send.recv().await {
            match message {
                Outbound::Binary(bytes) => {
                    if sink.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Outbound::Ping => {
                    if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                        break;
                    }
                }
                Outbound::Close(reason) => {
                    let code = if reason.starts_with(REFUSED_PREFIX) {
                        REFUSED_CHANGE
                    } else if reason.starts_with(REMOVED_PREFIX) {
                        HOUSEHOLD_REMOVED
                    } else if reason.contains("exceeds the limit") {
                        MESSAGE_TOO_BIG
                    } else if reason.contains("messages a second") {
                        TRY_AGAIN_LATER
                    } else {
                        POLICY_VIOLATION
                    };
                    let _ = sink.send(close_frame(code, &reason)).await;
                    break;
                }
            }
        }
        // The hub dropped this connection (it stopped reading) or it was closed: say so.
        let _ = sink.close().await;
    });

    let limit = state.config.messages_per_second;
    let idle = Duration::from_secs(state.config.idle_seconds);
    let mut pings = tokio::time::interval(idle / 3);
    pings.tick().await;
    let mut last_heard = Instant::now();
    let mut window = Instant::now();
    let mut in_window = 0u32;
    let mut writer_ended = false;
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = &mut writer => {
                writer_ended = true;
                break;
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= idle {
                    tracing::info!(connection = connection.0, %user, "closing an idle sync connection");
                    let _ = closer.try_send(Outbound::Close("idle for too long".into()));
                    break;
                }
                let _ = closer.try_send(Outbound::Ping);
                continue;
            }
        };
        let Some(message) = message else { break };
        last_heard = Instant::now();
        match message {
            Ok(Message::Binary(bytes)) => {
                if window.elapsed() >= Duration::from_secs(1) {
                    window = Instant::now();
                    in_window = 0;
                }
                in_window += 1;
                if in_window > limit {
                    tracing::warn!(connection = connection.0, %user, limit, "closing a connection over its message rate");
                    let _ = closer.try_send(Outbound::Close(format!(
                        "more than {limit} messages a second"
                    )));
                    break;
                }
                state.hub.received(connection, bytes.to_vec()).await;
            }
            Ok(Message::Text(_)) => {
                let _ = closer.try_send(Outbound::Close(
                    "the sync protocol sends binary CBOR messages, not text".into(),
                ));
                break;
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(connection = connection.0, %user, %error, "closing a sync connection after a read error");
                let mut reason = format!("message refused: {error}");
                // Over the size limit: a hostile attempt (or a bug) a supervisor must see.
                if let Some((size, limit)) = message_too_long(error) {
                    state.hub.refused_unread(
                        connection,
                        u64::try_from(size).unwrap_or(u64::MAX),
                        u64::try_from(limit).unwrap_or(u64::MAX),
                    );
                    reason = format!(
                        "a message of {size} bytes or more exceeds the limit of {limit} bytes"
                    );
                }
                let _ = closer.try_send(Outbound::Close(reason));
                break;
            }
        }
    }
    state.hub.disconnected(connection);
    drop(closer);
    if !writer_ended {
        let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    }
    tracing::info!(connection = connection.0, %user, "sync connection closed");
}

/// The size and the limit of a message the socket refused for its size (a frame's announced
/// length, or a fragmented message's length so far), from the socket's read error; `None`
/// for every other error.
fn message_too_long(error: axum::Error) -> Option<(usize, usize)> {
    let error = error.into_inner().downcast::<tungstenite::Error>().ok()?;
    match *error {
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => Some((size, max_size)),
        _ => None,
    }
}

/// A close frame; reasons are cut to the protocol's 123 bytes.
fn close_frame(code: u16, reason: &str) -> Message {
    let reason: String = reason
        .chars()
        .scan(0, |len, c| {
            *len += c.len_utf8();
            (*len <= 123).then_some(c)
        })
        .collect();
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
