//! Districts: every district with its id (what the records hold), a form to create one
//! (its id made from its name), and renaming one (its id stays).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::admin::{district_id, explain};
use crate::api::{self, District};
use crate::i18n::{t, t_args, t_count, t1};
use crate::views::admin::{
    Admin, Fetched, Outcome, admin_table, fetch_into, loading_or_problem, outcome,
};

/// The districts section.
#[function_component(Districts)]
pub fn districts() -> Html {
    // Read so that a change of language renders this section again.
    let _language = use_context::<Admin>().map(|admin| admin.language);
    let districts = use_state(|| Fetched::<Vec<District>>::None);
    let revision = use_state(|| 0_u64);
    let renaming = use_state(|| None::<String>);
    let said = use_state(|| None::<Outcome>);
    let name = use_state(String::new);
    let busy = use_state(|| false);
    {
        let districts = districts.clone();
        use_effect_with(*revision, move |_| fetch_into(districts, api::districts()));
    }
    let id = district_id(&name);
    let onsubmit = {
        let (name, said, busy, revision) =
            (name.clone(), said.clone(), busy.clone(), revision.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let typed = name.trim().to_owned();
            if typed.is_empty() {
                return said.set(Some(Outcome::Failed(t("admin-error-district-name"))));
            }
            let (name, said, busy, revision) =
                (name.clone(), said.clone(), busy.clone(), revision.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::create_district(&district_id(&typed), &typed).await {
                    Ok(district) => {
                        name.set(String::new());
                        said.set(Some(Outcome::Done(t1(
                            "admin-district-created",
                            "name",
                            district.name,
                        ))));
                        revision.set(*revision + 1);
                    }
                    Err(error) => said.set(Some(Outcome::Failed(explain(&error)))),
                }
                busy.set(false);
            });
        })
    };
    let oninput = {
        let name = name.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            name.set(input.value());
        })
    };
    let body = if let Some(waiting) = loading_or_problem(&districts) {
        waiting
    } else {
        let mut list = match &*districts {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        };
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let rows = list.iter().map(|district| {
            let open = {
                let (renaming, said, id) = (renaming.clone(), said.clone(), district.id.clone());
                Callback::from(move |_: MouseEvent| {
                    said.set(None);
                    renaming.set(Some(id.clone()));
                })
            };
            let name_cell = if renaming.as_deref() == Some(district.id.as_str()) {
                let on_done = {
                    let (renaming, said, revision) =
                        (renaming.clone(), said.clone(), revision.clone());
                    Callback::from(move |outcome: Option<Outcome>| {
                        renaming.set(None);
                        if outcome.is_some() {
                            said.set(outcome);
                            revision.set(*revision + 1);
                        }
                    })
                };
                html! { <Rename district={district.clone()} {on_done} /> }
            } else {
                html! { { district.name.clone() } }
            };
            html! {
                <tr key={district.id.clone()}>
                    <th scope="row" data-label={t("admin-column-name")}>{ name_cell }</th>
                    <td data-label={t("admin-column-district-id")}><code>{ district.id.clone() }</code></td>
                    <td class="admin-actions">
                        if renaming.as_deref() != Some(district.id.as_str()) {
                            <button onclick={open}>
                                { t("admin-district-rename") }
                                <span class="visually-hidden">{ format!(": {}", district.name) }</span>
                            </button>
                        }
                    </td>
                </tr>
            }
        });
        admin_table(
            "districts-table",
            t_count("admin-districts-count", list.len()),
            &[
                "admin-column-name",
                "admin-column-district-id",
                "admin-column-actions",
            ],
            html! { { for rows } },
        )
    };
    html! {
        <section class="admin-districts" aria-labelledby="admin-districts-title">
            <h1 id="admin-districts-title">{ t("admin-districts-title") }</h1>
            <p class="meta">{ t("admin-districts-intro") }</p>
            { outcome(&said) }
            <form class="card admin-form new-district" {onsubmit} aria-labelledby="new-district-title">
                <h2 id="new-district-title">{ t("admin-district-new") }</h2>
                <label for="new-district-name">{ t("admin-column-name") }</label>
                <div class="password-row">
                    <input id="new-district-name" autocomplete="off" value={(*name).clone()} {oninput}
                        aria-describedby="new-district-id" />
                    <button class="primary" type="submit" disabled={*busy}>{ t("admin-district-create") }</button>
                </div>
                <p class="meta" id="new-district-id">
                    if name.trim().is_empty() {
                        { t("admin-district-id-hint") }
                    } else {
                        { t_args("admin-district-id-will-be", &[("id", id.into())]) }
                    }
                </p>
            </form>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct RenameProps {
    district: District,
    /// Called when done: with what happened, or `None` when cancelled.
    on_done: Callback<Option<Outcome>>,
}

/// Renaming one district, in its row.
#[function_component(Rename)]
fn rename(props: &RenameProps) -> Html {
    let input = use_node_ref();
    let problem = use_state(|| None::<String>);
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            }
        });
    }
    let onsubmit = {
        let (input, problem) = (input.clone(), problem.clone());
        let (id, on_done) = (props.district.id.clone(), props.on_done.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let name = input
                .cast::<HtmlInputElement>()
                .map(|input| input.value().trim().to_owned())
                .unwrap_or_default();
            if name.is_empty() {
                return problem.set(Some(t("admin-error-district-name")));
            }
            let (problem, on_done, id) = (problem.clone(), on_done.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::rename_district(&id, &name).await {
                    Ok(()) => on_done.emit(Some(Outcome::Done(t1(
                        "admin-district-renamed",
                        "name",
                        name,
                    )))),
                    Err(error) => problem.set(Some(explain(&error))),
                }
            });
        })
    };
    let cancel = props.on_done.reform(|_: MouseEvent| None);
    let field = format!("rename-{}", props.district.id);
    html! {
        <form class="rename" {onsubmit}>
            <label for={field.clone()} class="visually-hidden">{ t1("admin-district-new-name", "name", props.district.name.clone()) }</label>
            <input id={field} ref={input} autocomplete="off" value={props.district.name.clone()} />
            <button class="primary" type="submit">{ t("admin-save") }</button>
            <button type="button" onclick={cancel}>{ t("admin-cancel") }</button>
            if let Some(problem) = problem.as_ref() {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
        </form>
    }
}
