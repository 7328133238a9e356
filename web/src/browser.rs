//! What the app takes from the browser besides storage and the socket: the clock (set right
//! by the server's), random ids, User Timing measures, and a pause until the browser is idle.

use lots_core::Timestamp;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;

/// A User Timing measure in the browser's performance timeline, from `start` until
/// `finish`: benchmarks read them (`performance.getEntriesByName`), and so do the browser's
/// developer tools. `lots:save` is a change from the action to its IndexedDB commit;
/// `lots:open` is reading everything stored at start.
pub struct Measure {
    mark: Option<String>,
}

impl Measure {
    /// Starts measuring `name`.
    pub fn start(name: &str) -> Self {
        let performance = web_sys::window().and_then(|window| window.performance());
        let mark = performance.and_then(|performance| {
            let mark = format!("{name}:{}", js_sys::Math::random());
            performance.mark(&mark).ok().map(|()| mark)
        });
        Self { mark }
    }

    /// Records the measure as `name`.
    pub fn finish(self, name: &str) {
        if let (Some(performance), Some(mark)) = (
            web_sys::window().and_then(|window| window.performance()),
            self.mark,
        ) {
            let _ = performance.measure_with_start_mark(name, &mark);
            performance.clear_marks_with_mark_name(&mark);
        }
    }
}

/// Waits until the browser has nothing more urgent to do: a task at "background" priority
/// through `scheduler.postTask` where the browser has it (Chromium), else a zero timeout.
/// Work nobody is waiting for (loading every document after start, reading the past for
/// reports not opened yet) pauses with this, so that what a person asked for — a click, a
/// report being read — runs first. Written by hand: gloo and web-sys offer no binding for
/// the Prioritized Task Scheduling API.
pub async fn background_pause() {
    if let Some(promise) = post_background_task()
        && wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    {
        return;
    }
    gloo::timers::future::TimeoutFuture::new(0).await;
}

fn post_background_task() -> Option<js_sys::Promise> {
    use js_sys::{Function, Object, Reflect};
    let window = web_sys::window()?;
    let scheduler = Reflect::get(&window, &"scheduler".into()).ok()?;
    if scheduler.is_undefined() {
        return None;
    }
    let post: Function = Reflect::get(&scheduler, &"postTask".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    Reflect::set(&options, &"priority".into(), &"background".into()).ok()?;
    let task = Closure::once_into_js(|| {});
    post.call2(&scheduler, &task, &options)
        .ok()?
        .dyn_into()
        .ok()
}

thread_local! {
    /// The server's clock minus the device's (`clock.rs`), learned on each connection.
    static CLOCK_OFFSET_MS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Now: the browser's clock (core never reads it), set right by the offset learned from
/// the server, so that what is signed and recorded is neither backdated nor ahead.
pub fn now() -> Timestamp {
    Timestamp::from_millis(crate::clock::corrected(
        js_sys::Date::now(),
        CLOCK_OFFSET_MS.with(std::cell::Cell::get),
    ))
}

/// Sets the offset [`now`] adds to the browser's clock.
pub fn set_clock_offset(offset_ms: i64) {
    CLOCK_OFFSET_MS.with(|offset| offset.set(offset_ms));
}

/// A new id for something made on this device: `prefix-` and 16 random hex digits, from the
/// browser's `crypto.getRandomValues` through `getrandom`, which Automerge already needs for
/// its actor ids (so a browser without it cannot run the app at all).
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    if let Err(error) = getrandom::fill(&mut bytes) {
        panic!("this browser gives no random numbers (crypto.getRandomValues): {error}");
    }
    let number = u64::from_le_bytes(bytes);
    format!("{prefix}-{number:016x}")
}

/// Leaves `value` on the page's global object under `name`, for the next app started in this
/// page (the sign-in hands the whole app what it could not store: see `lock.rs`).
pub fn hand_to_next_app(name: &str, value: &wasm_bindgen::JsValue) {
    let _ = js_sys::Reflect::set(&js_sys::global(), &name.into(), value);
}

/// What the app before this one left under `name` ([`hand_to_next_app`]); taken, so it is
/// gone from the page afterwards.
pub fn take_from_last_app(name: &str) -> Option<wasm_bindgen::JsValue> {
    let global = js_sys::global();
    let value = js_sys::Reflect::get(&global, &name.into()).ok()?;
    let _ = js_sys::Reflect::delete_property(&global, &name.into());
    (!value.is_undefined()).then_some(value)
}
