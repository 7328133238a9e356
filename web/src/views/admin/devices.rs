//! Devices: every user's devices with when each was last seen; revoking a lost phone in one
//! click, after a confirmation that names the device and its owner. A revoked device's
//! sessions end and its sockets close at once; its row then says it is revoked.

use lots_core::Timestamp;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::admin::{DeviceRow, device_name, device_rows, explain};
use crate::api::{self, Device, User};
use crate::i18n::{self, t, t_args, t_count, t1};
use crate::views::admin::{
    Admin, Fetched, Outcome, admin_table, fetch_into, loading_or_problem, outcome,
};

fn when(millis: i64) -> String {
    i18n::date_time(Timestamp::from_millis(millis))
}

/// The devices section.
#[function_component(Devices)]
pub fn devices() -> Html {
    let admin = use_context::<Admin>().expect("the administrator is provided");
    let devices = use_state(|| Fetched::<Vec<Device>>::None);
    let people = use_state(|| Fetched::<Vec<User>>::None);
    let revision = use_state(|| 0_u64);
    let confirming = use_state(|| None::<String>);
    let said = use_state(|| None::<Outcome>);
    let filter = use_state(String::new);
    let busy = use_state(|| false);
    {
        let (devices, people) = (devices.clone(), people.clone());
        use_effect_with(*revision, move |_| {
            fetch_into(devices, api::devices());
            fetch_into(people, api::users());
        });
    }
    let body = if let Some(waiting) = loading_or_problem(&devices) {
        waiting
    } else {
        let listed = match &*devices {
            Some(Ok(list)) => list.as_slice(),
            _ => &[],
        };
        let known = match &*people {
            Some(Ok(list)) => list.as_slice(),
            _ => &[],
        };
        let needle = filter.trim().to_lowercase();
        let rows: Vec<DeviceRow> = device_rows(listed, known)
            .into_iter()
            .filter(|row| needle.is_empty() || row.owner.to_lowercase().contains(&needle))
            .collect();
        let shown = rows.len();
        let rows = rows.into_iter().map(|row| {
            let device = &row.device;
            let name = device_name(&device.label);
            let is_confirming = confirming.as_deref() == Some(device.id.as_str());
            let ask = {
                let (confirming, said, id) = (confirming.clone(), said.clone(), device.id.clone());
                Callback::from(move |_: MouseEvent| {
                    said.set(None);
                    confirming.set(Some(id.clone()));
                })
            };
            let status = match device.revoked_at {
                Some(at) => html! { <span class="badge warn revoked">{ t1("admin-device-revoked-at", "time", when(at)) }</span> },
                None => html! { <span class="badge ok">{ t("admin-device-in-use") }</span> },
            };
            let this_device = device.id == admin.me.device_id;
            let action = if device.revoked_at.is_some() {
                html! {}
            } else if this_device {
                // Revoking the device in use would sign the administrator out mid-task:
                // signing out does that, on purpose.
                html! { <span class="badge">{ t("admin-device-this") }</span> }
            } else if is_confirming {
                let revoke = {
                    let (confirming, said, revision, busy) =
                        (confirming.clone(), said.clone(), revision.clone(), busy.clone());
                    let (id, owner, name) = (device.id.clone(), row.owner.clone(), name.clone());
                    Callback::from(move |_: MouseEvent| {
                        let (confirming, said, revision, busy) =
                            (confirming.clone(), said.clone(), revision.clone(), busy.clone());
                        let (id, owner, name) = (id.clone(), owner.clone(), name.clone());
                        busy.set(true);
                        wasm_bindgen_futures::spawn_local(async move {
                            match api::revoke_device(&id).await {
                                Ok(()) => {
                                    said.set(Some(Outcome::Done(t_args(
                                        "admin-device-revoked",
                                        &[("device", name.into()), ("name", owner.into())],
                                    ))));
                                    revision.set(*revision + 1);
                                }
                                Err(error) => said.set(Some(Outcome::Failed(explain(&error)))),
                            }
                            confirming.set(None);
                            busy.set(false);
                        });
                    })
                };
                let cancel = {
                    let confirming = confirming.clone();
                    Callback::from(move |_: MouseEvent| confirming.set(None))
                };
                html! {
                    <div class="admin-confirm inline" role="group" aria-label={t("admin-device-revoke")}>
                        <p>{ t_args("admin-device-confirm", &[("device", name.clone().into()), ("name", row.owner.clone().into())]) }</p>
                        <div class="admin-buttons">
                            <button class="primary danger-fill" onclick={revoke} disabled={*busy}>{ t("admin-device-revoke-confirm") }</button>
                            <button onclick={cancel}>{ t("admin-cancel") }</button>
                        </div>
                    </div>
                }
            } else {
                html! {
                    <button class="danger" onclick={ask}>
                        { t("admin-device-revoke") }
                        <span class="visually-hidden">{ t_args("admin-device-of", &[("device", name.clone().into()), ("name", row.owner.clone().into())]) }</span>
                    </button>
                }
            };
            html! {
                <tr key={device.id.clone()} class={classes!(device.revoked_at.is_some().then_some("revoked"))}>
                    <th scope="row" data-label={t("admin-column-person")}>{ row.owner.clone() }</th>
                    <td data-label={t("admin-column-device")}>
                        <span class="device-name">{ name.clone() }</span>
                        <span class="meta device-id">{ device.id.clone() }</span>
                    </td>
                    <td class="when" data-label={t("admin-column-first-seen")}>{ when(device.created_at) }</td>
                    <td class="when" data-label={t("admin-column-last-seen")}>{ when(device.last_seen_at) }</td>
                    <td data-label={t("admin-column-status")}>{ status }</td>
                    <td class="admin-actions">{ action }</td>
                </tr>
            }
        });
        admin_table(
            "devices-table",
            t_count("admin-devices-count", shown),
            &[
                "admin-column-person",
                "admin-column-device",
                "admin-column-first-seen",
                "admin-column-last-seen",
                "admin-column-status",
                "admin-column-actions",
            ],
            html! { { for rows } },
        )
    };
    let oninput = {
        let filter = filter.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            filter.set(input.value());
        })
    };
    html! {
        <section class="admin-devices" aria-labelledby="admin-devices-title">
            <h1 id="admin-devices-title">{ t("admin-devices-title") }</h1>
            <p class="meta">{ t("admin-devices-intro") }</p>
            { outcome(&said) }
            <div class="filters">
                <label for="device-filter">{ t("admin-devices-filter") }
                    <input id="device-filter" type="search" autocomplete="off" value={(*filter).clone()} {oninput} />
                </label>
            </div>
            { body }
            <super::device_lock::DeviceLockForm />
        </section>
    }
}
