//! How devices lock, in the devices section: minutes without use before the phone's and the
//! desk's app lock, and days a device may go without reaching the server and still unlock.
//! Devices follow it from their next contact.

use lots_core::api::DeviceLock;
use yew::prelude::*;

use crate::admin::explain;
use crate::api;
use crate::i18n::t;
use crate::views::admin::{Fetched, Outcome, fetch_into, loading_or_problem, outcome};

/// The form.
#[function_component(DeviceLockForm)]
pub fn device_lock_form() -> Html {
    let stored = use_state(|| Fetched::<DeviceLock>::None);
    let said = use_state(|| None::<Outcome>);
    let (phone, desk, offline) = (use_node_ref(), use_node_ref(), use_node_ref());
    {
        let stored = stored.clone();
        use_effect_with((), move |_| fetch_into(stored, api::device_lock()));
    }
    if let Some(waiting) = loading_or_problem(&stored) {
        return waiting;
    }
    let Some(Ok(current)) = &*stored else {
        return html! {};
    };
    let onsubmit = {
        let (phone, desk, offline, said) =
            (phone.clone(), desk.clone(), offline.clone(), said.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let number = |node: &NodeRef| {
                crate::views::input_value(node)
                    .trim()
                    .parse::<u32>()
                    .unwrap_or(0)
            };
            let lock = DeviceLock {
                phone_idle_minutes: number(&phone),
                desk_idle_minutes: number(&desk),
                offline_days: number(&offline),
            };
            if let Err(words) = lock.check() {
                return said.set(Some(Outcome::Failed(words)));
            }
            let said = said.clone();
            wasm_bindgen_futures::spawn_local(async move {
                said.set(Some(match api::set_device_lock(&lock).await {
                    Ok(()) => Outcome::Done(t("admin-lock-saved")),
                    Err(error) => Outcome::Failed(explain(&error)),
                }));
            });
        })
    };
    let max_minutes = DeviceLock::MAX_IDLE_MINUTES.to_string();
    html! {
        <form class="admin-form device-lock" {onsubmit} aria-labelledby="admin-lock-title">
            <h2 id="admin-lock-title">{ t("admin-lock-title") }</h2>
            <p class="meta">{ t("admin-lock-intro") }</p>
            <label for="lock-phone">{ t("admin-lock-phone") }</label>
            <input id="lock-phone" ref={phone} type="number" inputmode="numeric" min="1" max={max_minutes.clone()}
                value={current.phone_idle_minutes.to_string()} required=true />
            <label for="lock-desk">{ t("admin-lock-desk") }</label>
            <input id="lock-desk" ref={desk} type="number" inputmode="numeric" min="1" max={max_minutes}
                value={current.desk_idle_minutes.to_string()} required=true />
            <label for="lock-offline">{ t("admin-lock-offline") }</label>
            <input id="lock-offline" ref={offline} type="number" inputmode="numeric" min="1"
                max={DeviceLock::MAX_OFFLINE_DAYS.to_string()} value={current.offline_days.to_string()} required=true />
            { outcome(&said) }
            <button class="primary" type="submit">{ t("admin-lock-save") }</button>
        </form>
    }
}
