//! The WebSocket to the server: opened with its handlers, which turn what the browser
//! reports into the client's events, and closed without hearing of it again.

use super::*;

pub(super) struct Socket {
    pub(super) socket: WebSocket,
    // Kept alive as long as the socket: the browser calls them.
    pub(super) _on_open: Closure<dyn FnMut()>,
    pub(super) _on_message: Closure<dyn FnMut(MessageEvent)>,
    pub(super) _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Closes it without hearing of it again.
    pub(super) fn close(self, reason: Option<&str>) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = match reason {
            Some(reason) => self.socket.close_with_code_and_reason(1000, reason),
            None => self.socket.close(),
        };
    }
}

impl Engine {
    pub(super) fn open_socket(&self) {
        let socket = match WebSocket::new(&self.inner.sync_url) {
            Ok(socket) => socket,
            Err(error) => return self.dispatch(Event::SocketFailed(format!("{error:?}"))),
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let engine = self.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || engine.dispatch(Event::SocketOpened));
        let engine = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                engine.dispatch(Event::SocketMessage(bytes));
            }
        });
        let engine = self.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            // The browser is done with this socket: its handlers may go.
            let closed = engine.inner.socket.borrow_mut().take();
            let (code, reason) = (event.code(), event.reason());
            engine.dispatch(Event::SocketClosed { code, reason });
            drop(closed);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let previous = self.inner.socket.replace(Some(Socket {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        }));
        if let Some(previous) = previous {
            previous.close(None);
        }
    }
}
