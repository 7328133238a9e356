//! Locks the app after a while without use, with a warning a minute before, so that the
//! person can ask for more time (WCAG 2.2.1). Use is a key, a pointer, a touch or a scroll in
//! any tab of the app: the tabs share the last moment of use through `localStorage`, so a
//! tab left in the background does not lock the one being used.

use std::cell::Cell;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Interval;
use yew::prelude::*;

use crate::lock;

/// The last moment of use in any tab (ms since the epoch, as text): no person's data.
const LAST_USE: &str = "lots-last-use";
/// The warning shows this long before the lock.
pub const WARN_BEFORE_MS: f64 = 60_000.0;
/// How often the idle time is checked.
const CHECK_EVERY_MS: u32 = 1_000;
/// A tab writes its use to `localStorage` at most this often.
const SHARE_EVERY_MS: f64 = 5_000.0;
const USE_EVENTS: [&str; 5] = ["pointerdown", "keydown", "touchstart", "wheel", "scroll"];

fn shared_last_use() -> f64 {
    crate::screens::local_storage()
        .and_then(|storage| storage.get_item(LAST_USE).ok().flatten())
        .and_then(|text| text.parse().ok())
        .unwrap_or(0.0)
}

fn share_use(at: f64) {
    if let Some(storage) = crate::screens::local_storage() {
        let _ = storage.set_item(LAST_USE, &format!("{at}"));
    }
}

/// Locks every tab after `idle_minutes` without use (never with `None`, as when locked).
/// While the warning shows: the whole seconds left.
#[hook]
pub fn use_idle_lock(idle_minutes: Option<u32>) -> Option<u32> {
    let left = use_state_eq(|| None::<u32>);
    {
        let left = left.clone();
        use_effect_with(idle_minutes, move |minutes| {
            let guards = minutes.and_then(|minutes| {
                let window = web_sys::window()?;
                let document = window.document()?;
                let limit = f64::from(minutes) * 60_000.0;
                let last = Rc::new(Cell::new(js_sys::Date::now()));
                let shared = Rc::new(Cell::new(0.0));
                share_use(last.get());
                let options = EventListenerOptions::run_in_capture_phase();
                let listeners: Vec<EventListener> = USE_EVENTS
                    .iter()
                    .map(|name| {
                        let (last, shared) = (last.clone(), shared.clone());
                        EventListener::new_with_options(&window, *name, options, move |_| {
                            let now = js_sys::Date::now();
                            last.set(now);
                            if now - shared.get() >= SHARE_EVERY_MS {
                                shared.set(now);
                                share_use(now);
                            }
                        })
                    })
                    .collect();
                let check = Rc::new(move || {
                    let idle = js_sys::Date::now() - last.get().max(shared_last_use());
                    if idle >= limit {
                        lock::lock_everywhere();
                    } else if idle >= limit - WARN_BEFORE_MS {
                        left.set(Some(((limit - idle) / 1000.0).ceil() as u32));
                    } else {
                        left.set(None);
                    }
                });
                let interval = Interval::new(CHECK_EVERY_MS, {
                    let check = check.clone();
                    move || check()
                });
                // Timers are slowed in a hidden tab: checked at once when it is seen again.
                let visible = EventListener::new(&document, "visibilitychange", move |_| check());
                Some((listeners, interval, visible))
            });
            move || drop(guards)
        });
    }
    *left
}
