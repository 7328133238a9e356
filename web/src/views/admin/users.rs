//! Users: every user with their role, districts and whether they are shut out; a form to
//! create one; per user, changing their name, role and districts, disabling or enabling
//! them, and resetting their password to a temporary one shown once.

use std::collections::BTreeSet;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::admin::{self, ROLES, explain, role_has_districts};
use crate::api::{self, District, Role, User, UserUpdate};
use crate::components::choice::{Choice, coded};
use crate::hooks::use_focus_first;
use crate::i18n::{code, t, t_count, t1};
use crate::state::user_forms::{UserDraft, UserDraftAction, UserEdit, UserEditAction};
use crate::views::admin::{
    Admin, Fetched, Outcome, admin_table, fetch_into, loading_or_problem, outcome, typed_text,
};

/// What is open under a user's row.
#[derive(Debug, Clone, PartialEq)]
enum Panel {
    /// Their name, role and districts, being changed.
    Edit(UserEdit),
    /// Asking whether to reset their password.
    ConfirmReset(String),
    /// Their temporary password, shown this once.
    Temporary { id: String, password: String },
}

impl Panel {
    fn user(&self) -> &str {
        match self {
            Panel::Edit(edit) => &edit.id,
            Panel::ConfirmReset(id) | Panel::Temporary { id, .. } => id,
        }
    }
}

/// The users section.
#[function_component(Users)]
pub fn users() -> Html {
    let admin = use_context::<Admin>().expect("the administrator is provided");
    let people = use_state(|| Fetched::<Vec<User>>::None);
    let districts = use_state(|| Fetched::<Vec<District>>::None);
    let revision = use_state(|| 0_u64);
    let panel = use_state(|| None::<Panel>);
    let said = use_state(|| None::<Outcome>);
    let creating = use_state(|| false);
    {
        let (people, districts) = (people.clone(), districts.clone());
        use_effect_with(*revision, move |_| {
            fetch_into(people, api::users());
            fetch_into(districts, api::districts());
        });
    }
    let reload = {
        let revision = revision.clone();
        move || revision.set(*revision + 1)
    };
    let district_list: Vec<District> = match &*districts {
        Some(Ok(list)) => list.clone(),
        _ => Vec::new(),
    };
    let district_name = |id: &String| {
        district_list
            .iter()
            .find(|district| &district.id == id)
            .map(|district| district.name.clone())
            .unwrap_or_else(|| id.clone())
    };

    let new_user = if *creating {
        let on_created = {
            let (creating, said) = (creating.clone(), said.clone());
            let reload = reload.clone();
            Callback::from(move |person: User| {
                creating.set(false);
                said.set(Some(Outcome::Done(t1(
                    "admin-user-created",
                    "name",
                    person.display_name,
                ))));
                reload();
            })
        };
        let on_cancel = {
            let creating = creating.clone();
            Callback::from(move |()| creating.set(false))
        };
        html! { <NewUserForm districts={district_list.clone()} {on_created} {on_cancel} /> }
    } else {
        let open = {
            let (creating, said) = (creating.clone(), said.clone());
            Callback::from(move |_: MouseEvent| {
                said.set(None);
                creating.set(true);
            })
        };
        html! { <button class="primary admin-new" onclick={open}>{ t("admin-user-new") }</button> }
    };

    let body = if let Some(waiting) = loading_or_problem(&people) {
        waiting
    } else {
        let list: Vec<User> = match &*people {
            Some(Ok(list)) => {
                let mut list = list.clone();
                list.sort_by(|a, b| a.display_name.cmp(&b.display_name));
                list
            }
            _ => Vec::new(),
        };
        let rows = list.iter().map(|person| {
            let own = person.id == admin.me.user.id;
            let open = |make: fn(&User) -> Panel| {
                let (panel, said) = (panel.clone(), said.clone());
                let made = make(person);
                Callback::from(move |_: MouseEvent| {
                    said.set(None);
                    panel.set(Some(made.clone()));
                })
            };
            let toggle = {
                let (said, person) = (said.clone(), person.clone());
                let reload = reload.clone();
                Callback::from(move |_: MouseEvent| {
                    let (said, person, reload) = (said.clone(), person.clone(), reload.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let change = UserUpdate {
                            disabled: Some(!person.disabled),
                            ..UserUpdate::default()
                        };
                        match api::update_user(&person.id, &change).await {
                            Ok(()) => {
                                let key = if person.disabled {
                                    "admin-user-enabled"
                                } else {
                                    "admin-user-disabled"
                                };
                                said.set(Some(Outcome::Done(t1(key, "name", person.display_name))));
                                reload();
                            }
                            Err(error) => said.set(Some(Outcome::Failed(explain(&error)))),
                        }
                    });
                })
            };
            let districts_text = if person.districts.is_empty() {
                t("admin-none")
            } else {
                person.districts.iter().map(&district_name).collect::<Vec<_>>().join(", ")
            };
            let hidden_name = html! { <span class="visually-hidden">{ format!(": {}", person.display_name) }</span> };
            let under = panel
                .as_ref()
                .filter(|open| open.user() == person.id)
                .map(|open| {
                    let close = {
                        let panel = panel.clone();
                        Callback::from(move |()| panel.set(None))
                    };
                    let content = match open {
                        Panel::Edit(edit) => {
                            let on_saved = {
                                let (panel, said) = (panel.clone(), said.clone());
                                let reload = reload.clone();
                                let name = person.display_name.clone();
                                Callback::from(move |changed: bool| {
                                    panel.set(None);
                                    let key = if changed { "admin-user-saved" } else { "admin-user-unchanged" };
                                    said.set(Some(Outcome::Done(t1(key, "name", name.clone()))));
                                    reload();
                                })
                            };
                            html! { <EditUser person={person.clone()} edit={edit.clone()} {own} districts={district_list.clone()} {on_saved} on_cancel={close} /> }
                        }
                        Panel::ConfirmReset(_) => {
                            let on_reset = {
                                let panel = panel.clone();
                                let id = person.id.clone();
                                Callback::from(move |password: String| {
                                    panel.set(Some(Panel::Temporary { id: id.clone(), password }));
                                })
                            };
                            html! { <ConfirmReset person={person.clone()} {on_reset} on_cancel={close} /> }
                        }
                        Panel::Temporary { password, .. } => html! {
                            <TemporaryPassword name={person.display_name.clone()} password={password.clone()} on_done={close} />
                        },
                    };
                    html! {
                        <tr class="admin-panel-row"><td colspan="6">{ content }</td></tr>
                    }
                });
            html! {
                <>
                    <tr class={classes!(person.disabled.then_some("disabled"))}>
                        <th scope="row" data-label={t("admin-column-name")}>{ person.display_name.clone() }</th>
                        <td data-label={t("admin-column-username")}>{ person.username.clone() }</td>
                        <td data-label={t("admin-column-role")}>{ code("role", person.role.as_str()) }</td>
                        <td data-label={t("admin-column-districts")}>{ districts_text }</td>
                        <td data-label={t("admin-column-status")}>
                            if person.disabled {
                                <span class="badge warn">{ t("admin-user-status-disabled") }</span>
                            } else {
                                <span class="badge ok">{ t("admin-user-status-active") }</span>
                            }
                        </td>
                        <td class="admin-actions">
                            <button onclick={open(|person| Panel::Edit(UserEdit::of(person)))}>{ t("admin-user-edit") }{ hidden_name.clone() }</button>
                            if !own {
                                <button onclick={open(|person| Panel::ConfirmReset(person.id.clone()))}>{ t("admin-user-reset") }{ hidden_name.clone() }</button>
                                <button class={classes!((!person.disabled).then_some("danger"))} onclick={toggle}>
                                    { t(if person.disabled { "admin-user-enable" } else { "admin-user-disable" }) }{ hidden_name.clone() }
                                </button>
                            }
                        </td>
                    </tr>
                    { for under }
                </>
            }
        });
        admin_table(
            "users-table",
            t_count("admin-users-count", list.len()),
            &[
                "admin-column-name",
                "admin-column-username",
                "admin-column-role",
                "admin-column-districts",
                "admin-column-status",
                "admin-column-actions",
            ],
            html! { { for rows } },
        )
    };
    html! {
        <section class="admin-users" aria-labelledby="admin-users-title">
            <h1 id="admin-users-title">{ t("admin-users-title") }</h1>
            <p class="meta">{ t("admin-users-intro") }</p>
            { outcome(&said) }
            { new_user }
            { body }
        </section>
    }
}

/// Checkboxes for districts, reporting the set chosen.
#[derive(Properties, PartialEq)]
struct DistrictPickerProps {
    /// For the ids of the boxes.
    prefix: AttrValue,
    districts: Vec<District>,
    chosen: BTreeSet<String>,
    #[prop_or_default]
    disabled: bool,
    onchange: Callback<BTreeSet<String>>,
}

#[function_component(DistrictPicker)]
fn district_picker(props: &DistrictPickerProps) -> Html {
    html! {
        <fieldset class="district-picker" disabled={props.disabled}>
            <legend>{ t("admin-column-districts") }</legend>
            if props.districts.is_empty() {
                <p class="meta">{ t("admin-districts-none") }</p>
            }
            <div class="checks">
                { for props.districts.iter().map(|district| {
                    let id = format!("{}-{}", props.prefix, district.id);
                    let checked = props.chosen.contains(&district.id);
                    let onchange = {
                        let (chosen, onchange) = (props.chosen.clone(), props.onchange.clone());
                        let district = district.id.clone();
                        Callback::from(move |event: Event| {
                            let input: HtmlInputElement = event.target_unchecked_into();
                            let mut chosen = chosen.clone();
                            if input.checked() {
                                chosen.insert(district.clone());
                            } else {
                                chosen.remove(&district);
                            }
                            onchange.emit(chosen);
                        })
                    };
                    html! {
                        <label class="check" for={id.clone()}>
                            <input type="checkbox" id={id} {checked} {onchange} />
                            { district.name.clone() }
                        </label>
                    }
                }) }
            </div>
        </fieldset>
    }
}

/// The roles to pick from, by their names: the list's values.
fn role_options() -> Vec<(AttrValue, AttrValue)> {
    coded("role", ROLES.map(Role::as_str))
}

#[derive(Properties, PartialEq)]
struct NewUserFormProps {
    districts: Vec<District>,
    on_created: Callback<User>,
    on_cancel: Callback<()>,
}

/// Creating a user.
#[function_component(NewUserForm)]
fn new_user_form(props: &NewUserFormProps) -> Html {
    let draft = use_reducer(UserDraft::default);
    let problems = use_state(Vec::<String>::new);
    let busy = use_state(|| false);
    let first = use_focus_first();
    let onsubmit = {
        let (draft, problems, busy) = (draft.clone(), problems.clone(), busy.clone());
        let on_created = props.on_created.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let request = match draft.to_request() {
                Ok(request) => request,
                Err(found) => return problems.set(found),
            };
            let (problems, busy, on_created) = (problems.clone(), busy.clone(), on_created.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::create_user(&request).await {
                    Ok(person) => on_created.emit(person),
                    Err(error) => problems.set(vec![explain(&error)]),
                }
                busy.set(false);
            });
        })
    };
    let on_role = draft
        .dispatcher()
        .to_callback()
        .reform(UserDraftAction::Role);
    let on_districts = draft
        .dispatcher()
        .to_callback()
        .reform(UserDraftAction::Districts);
    let typed = |action: fn(String) -> UserDraftAction| {
        draft
            .dispatcher()
            .to_callback()
            .reform(move |event| action(typed_text(event)))
    };
    let suggest = {
        let draft = draft.dispatcher();
        Callback::from(move |_: MouseEvent| {
            // Without the browser's generator nothing is suggested: the field stays as typed.
            if let Some(random) = random_bytes() {
                draft.dispatch(UserDraftAction::Password(admin::suggested_password(
                    &random,
                )));
            }
        })
    };
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <form class="card admin-form new-user" {onsubmit} aria-labelledby="new-user-title" novalidate=true>
            <h2 id="new-user-title">{ t("admin-user-new") }</h2>
            <div class="admin-fields">
                <div>
                    <label for="new-username">{ t("admin-column-username") }</label>
                    <input id="new-username" ref={first} autocomplete="off" autocapitalize="none" spellcheck="false"
                        value={draft.username.clone()} oninput={typed(UserDraftAction::Username)}
                        aria-describedby="new-username-hint" />
                    <p class="meta" id="new-username-hint">{ t("admin-username-hint") }</p>
                </div>
                <div>
                    <label for="new-display-name">{ t("admin-column-name") }</label>
                    <input id="new-display-name" autocomplete="off"
                        value={draft.display_name.clone()} oninput={typed(UserDraftAction::DisplayName)} />
                </div>
                <div>
                    <label for="new-role">{ t("admin-column-role") }</label>
                    <Choice id="new-role" value={draft.role.as_str()} options={role_options()} onchange={on_role} />
                </div>
            </div>
            if role_has_districts(draft.role) {
                <DistrictPicker prefix="new-district" districts={props.districts.clone()} chosen={draft.districts.clone()} onchange={on_districts} />
            }
            <label for="new-initial-password">{ t("admin-initial-password") }</label>
            <div class="password-row">
                <input id="new-initial-password" type="text" autocomplete="off" spellcheck="false"
                    value={draft.password.clone()} oninput={typed(UserDraftAction::Password)}
                    aria-describedby="new-initial-password-hint" />
                <button type="button" onclick={suggest}>{ t("admin-initial-password-suggest") }</button>
            </div>
            <p class="meta" id="new-initial-password-hint">{ t("admin-initial-password-hint") }</p>
            { form_end(&problems, *busy, t("admin-user-create"), cancel) }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct EditUserProps {
    person: User,
    edit: UserEdit,
    own: bool,
    districts: Vec<District>,
    /// Called once saved, with whether anything changed.
    on_saved: Callback<bool>,
    on_cancel: Callback<()>,
}

/// Changing a user's name, role and districts.
#[function_component(EditUser)]
fn edit_user(props: &EditUserProps) -> Html {
    let edit = {
        let start = props.edit.clone();
        use_reducer(move || start)
    };
    let problems = use_state(Vec::<String>::new);
    let busy = use_state(|| false);
    let first = use_focus_first();
    let onsubmit = {
        let (edit, problems, busy) = (edit.clone(), problems.clone(), busy.clone());
        let (person, own, on_saved) = (props.person.clone(), props.own, props.on_saved.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let change = match edit.change_from(&person, own) {
                Ok(Some(change)) => change,
                Ok(None) => return on_saved.emit(false),
                Err(found) => return problems.set(found),
            };
            let (problems, busy, on_saved) = (problems.clone(), busy.clone(), on_saved.clone());
            let id = person.id.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::update_user(&id, &change).await {
                    Ok(()) => on_saved.emit(true),
                    Err(error) => problems.set(vec![explain(&error)]),
                }
                busy.set(false);
            });
        })
    };
    let on_role = edit.dispatcher().to_callback().reform(UserEditAction::Role);
    let on_districts = edit
        .dispatcher()
        .to_callback()
        .reform(UserEditAction::Districts);
    let on_display_name = edit
        .dispatcher()
        .to_callback()
        .reform(|event| UserEditAction::DisplayName(typed_text(event)));
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let title = format!("edit-user-title-{}", props.person.id);
    html! {
        <form class="admin-form edit-user" {onsubmit} aria-labelledby={title.clone()} novalidate=true>
            <h2 id={title}>{ t1("admin-user-edit-title", "name", props.person.display_name.clone()) }</h2>
            if props.own {
                <p class="meta own-account">{ t("admin-user-own") }</p>
            }
            <div class="admin-fields">
                <div>
                    <label for="edit-display-name">{ t("admin-column-name") }</label>
                    <input id="edit-display-name" ref={first} autocomplete="off" value={edit.display_name.clone()}
                        oninput={on_display_name} />
                </div>
                <div>
                    <label for="edit-role">{ t("admin-column-role") }</label>
                    if props.own {
                        <input id="edit-role" readonly=true value={code("role", edit.role.as_str())} />
                    } else {
                        <Choice id="edit-role" value={edit.role.as_str()} options={role_options()} onchange={on_role} />
                    }
                </div>
            </div>
            if role_has_districts(edit.role) {
                <DistrictPicker prefix="edit-district" districts={props.districts.clone()} chosen={edit.districts.clone()} disabled={props.own} onchange={on_districts} />
            }
            if !props.own && edit.role != props.person.role {
                <p class="meta">{ t("admin-user-role-audited") }</p>
            }
            { form_end(&problems, *busy, t("admin-save"), cancel) }
        </form>
    }
}

/// The end of a user's form: what is wrong with it, and its two buttons.
fn form_end(problems: &[String], busy: bool, save: String, cancel: Callback<MouseEvent>) -> Html {
    html! {
        <>
            if !problems.is_empty() {
                <div role="alert">
                    <ul class="problem">
                        { for problems.iter().map(|problem| html! { <li>{ problem.clone() }</li> }) }
                    </ul>
                </div>
            }
            <div class="admin-buttons">
                <button class="primary" type="submit" disabled={busy}>{ save }</button>
                <button type="button" onclick={cancel}>{ t("admin-cancel") }</button>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ConfirmResetProps {
    person: User,
    /// Called with the temporary password.
    on_reset: Callback<String>,
    on_cancel: Callback<()>,
}

/// Asking before a user's password is replaced by a temporary one.
#[function_component(ConfirmReset)]
fn confirm_reset(props: &ConfirmResetProps) -> Html {
    let problem = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let confirm = {
        let (problem, busy) = (problem.clone(), busy.clone());
        let (id, on_reset) = (props.person.id.clone(), props.on_reset.clone());
        Callback::from(move |_: MouseEvent| {
            let (problem, busy, on_reset, id) =
                (problem.clone(), busy.clone(), on_reset.clone(), id.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::reset_password(&id).await {
                    Ok(password) => on_reset.emit(password),
                    Err(error) => problem.set(Some(explain(&error))),
                }
                busy.set(false);
            });
        })
    };
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <div class="admin-confirm" role="group" aria-label={t1("admin-reset-title", "name", props.person.display_name.clone())}>
            <h2>{ t1("admin-reset-title", "name", props.person.display_name.clone()) }</h2>
            <p>{ t("admin-reset-explain") }</p>
            if let Some(problem) = problem.as_ref() {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
            <div class="admin-buttons">
                <button class="primary" onclick={confirm} disabled={*busy}>{ t("admin-reset-confirm") }</button>
                <button onclick={cancel}>{ t("admin-cancel") }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct TemporaryPasswordProps {
    name: String,
    password: String,
    on_done: Callback<()>,
}

/// A temporary password, shown once, with how to hand it over.
#[function_component(TemporaryPassword)]
fn temporary_password(props: &TemporaryPasswordProps) -> Html {
    let done = props.on_done.reform(|_: MouseEvent| ());
    html! {
        <div class="admin-temporary" role="status">
            <h2>{ t1("admin-temporary-title", "name", props.name.clone()) }</h2>
            <p class="temporary-password"><code>{ props.password.clone() }</code></p>
            <ul>
                <li>{ t("admin-temporary-once") }</li>
                <li>{ t("admin-temporary-hand-over") }</li>
                <li>{ t1("admin-temporary-change", "name", props.name.clone()) }</li>
            </ul>
            <button class="primary" onclick={done}>{ t("admin-temporary-done") }</button>
        </div>
    }
}

/// 16 bytes from the browser's cryptographic generator (for a suggested password).
fn random_bytes() -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    filled.then_some(bytes)
}
