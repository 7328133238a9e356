//! Recording a visit in under a minute: who was present, interpreter, duration, topics as
//! chips, notes, a follow-up with owner, agency and due date, and the next visit booked.

use std::collections::BTreeSet;

use lots_core::{
    ActionError, Agency, DocumentId, FollowUpId, IdError, InterpreterMode, OwnerKind, Topic,
    VisitId,
};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::{now, random_id};
use crate::components::choice::{Choice, coded};
use crate::engine::ActError;
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::routes::Route;
use crate::state::visit_form::{FormError, Ids, VisitForm, VisitFormAction as Act};
use crate::views::household_name;

/// Props of [`RecordVisit`].
#[derive(Properties, PartialEq)]
pub struct RecordVisitProps {
    /// The household's document id.
    pub id: String,
    /// `new`, or the id of the planned visit being recorded.
    pub visit: String,
}

/// Draws the ids one saving of the form writes under.
fn draw_ids() -> Result<Ids, IdError> {
    Ok(Ids {
        unplanned: VisitId::new(random_id("v"))?,
        follow_up: FollowUpId::new(random_id("f"))?,
        next_visit: VisitId::new(random_id("v"))?,
    })
}

/// The visit form.
#[function_component(RecordVisit)]
pub fn record_visit(props: &RecordVisitProps) -> Html {
    let session = use_session();
    {
        // Opening a planned visit's form is a read of that visit, for the access log.
        let reads = session.reads.clone();
        use_effect_with(
            (props.id.clone(), props.visit.clone()),
            move |(id, visit)| {
                if let (Ok(document), true) = (id.parse::<DocumentId>(), visit != "new") {
                    reads.record(&document, crate::reads::Shown::Visit, Some(visit.clone()));
                }
            },
        );
    }
    let navigator = use_navigator();
    let error = use_state(|| None::<String>);
    let saving = use_state(|| false);
    let ids = use_state(draw_ids);
    let form = use_reducer(|| VisitForm::new(i18n::local_date(now())));
    let draft = use_visit_draft(&props.id, &props.visit, &form);
    let Ok(document) = props.id.parse::<DocumentId>() else {
        return html! { <p class="problem">{ t("households-none") }</p> };
    };
    let Some(household) = session.engine.households().get(&document).cloned() else {
        return html! { <p class="empty">{ t("households-loading") }</p> };
    };

    // Each input tells the form what the person did; the form decides what it holds.
    let on_input = |action: fn(String) -> Act| {
        let form = form.dispatcher();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            form.dispatch(action(input.value()));
        })
    };
    let on_click = |action: Act| {
        let form = form.dispatcher();
        Callback::from(move |_: MouseEvent| form.dispatch(action.clone()))
    };
    let on_notes = {
        let form = form.dispatcher();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            form.dispatch(Act::Notes(area.value()));
        })
    };
    let on_owner = {
        let form = form.dispatcher();
        Callback::from(move |value: String| {
            form.dispatch(Act::FollowUpOwner(
                value.parse().unwrap_or(OwnerKind::Member),
            ));
        })
    };
    let on_agency = {
        let form = form.dispatcher();
        Callback::from(move |value: String| form.dispatch(Act::FollowUpAgency(value.parse().ok())))
    };

    let onsubmit = {
        let (form, error, saving) = (form.clone(), error.clone(), saving.clone());
        let ids = (*ids).clone();
        let session = session.clone();
        let visit_param = props.visit.clone();
        let navigator = navigator.clone();
        let id = props.id.clone();
        let draft_key = draft.key.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
                return;
            };
            let ids = match &ids {
                Ok(ids) => ids.clone(),
                Err(bad) => return error.set(Some(t1("visit-error", "error", bad.to_string()))),
            };
            let visit = match visit_param.as_str() {
                "new" => Ok(ids.unplanned.clone()),
                planned => VisitId::new(planned),
            };
            let visit = match visit {
                Ok(visit) => visit,
                Err(bad) => return error.set(Some(t1("visit-error", "error", bad.to_string()))),
            };
            let held_at = now();
            let entry = match form.entry(held_at, &staff, &ids) {
                Ok(entry) => entry,
                Err(bad) => return error.set(Some(t1("visit-error", "error", field_name(bad)))),
            };
            saving.set(true);
            let (error, saving, session) = (error.clone(), saving.clone(), session.clone());
            let (navigator, id, draft_key) = (navigator.clone(), id.clone(), draft_key.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let signature = session.engine.signature(&staff, &device);
                let result = session
                    .engine
                    .act(document, |household| {
                        household.record_visit_entry(&signature, &visit, entry)
                    })
                    .await;
                saving.set(false);
                match done_before(result) {
                    Ok(()) => {
                        if let Some(navigator) = navigator {
                            navigator.push(&Route::Household { id });
                        }
                        discard_draft(&session, &draft_key).await;
                    }
                    Err(bad) => error.set(Some(t1("visit-error", "error", bad.to_string()))),
                }
            });
        })
    };

    // Cancelling throws the draft away with the form.
    let on_cancel = {
        let (session, navigator, id) = (session.clone(), navigator.clone(), props.id.clone());
        let draft_key = draft.key.clone();
        Callback::from(move |_: MouseEvent| {
            let (session, navigator, id) = (session.clone(), navigator.clone(), id.clone());
            let draft_key = draft_key.clone();
            if let Some(navigator) = navigator {
                navigator.push(&Route::Household { id });
            }
            wasm_bindgen_futures::spawn_local(async move {
                discard_draft(&session, &draft_key).await;
            });
        })
    };

    let languages: BTreeSet<String> = household
        .members
        .values()
        .filter_map(|member| member.interpreter_language.clone())
        .collect();

    html! {
        <form class="visit-form" {onsubmit}>
            <h1>{ format!("{} — {}", t("visit-title"), household_name(&household)) }</h1>
            if draft.restored {
                <p class="card notice" role="status">{ t("visit-draft-restored") }</p>
            }
            <fieldset>
                <legend>{ t("visit-present") }</legend>
                <div class="chips">
                    { for household.members.iter().map(|(id, member)| html! {
                        <button type="button" class={classes!("chip", form.present.contains(id).then_some("on"))}
                            aria-pressed={form.present.contains(id).to_string()} onclick={on_click(Act::TogglePresent(id.clone()))}>
                            { member.name.clone() }
                        </button>
                    }) }
                </div>
            </fieldset>
            <fieldset>
                <legend>{ t("visit-interpreter") }</legend>
                <label for="interpreter-language">{ t("visit-interpreter-language") }</label>
                <input id="interpreter-language" list="languages" value={form.interpreter_language.clone()}
                    oninput={on_input(Act::InterpreterLanguage)} />
                <datalist id="languages">
                    { for languages.iter().map(|language| html! { <option value={language.clone()} label={i18n::language_name(language)} /> }) }
                </datalist>
                <div class="chips">
                    { for InterpreterMode::ALL.iter().map(|mode| {
                        let on = form.interpreter_mode == Some(*mode);
                        html! {
                            <button type="button" class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()}
                                onclick={on_click(Act::ToggleInterpreterMode(*mode))}>
                                { code("mode", mode.code()) }
                            </button>
                        }
                    }) }
                </div>
            </fieldset>
            <label for="duration">{ t("visit-duration") }</label>
            <input id="duration" type="number" inputmode="numeric" min="1" max="600" value={form.duration.clone()}
                oninput={on_input(Act::Duration)} />
            <fieldset>
                <legend>{ t("visit-topics") }</legend>
                <div class="chips">
                    { for Topic::ALL.iter().map(|topic| html! {
                        <button type="button" class={classes!("chip", form.topics.contains(topic).then_some("on"))}
                            aria-pressed={form.topics.contains(topic).to_string()} onclick={on_click(Act::ToggleTopic(*topic))}>
                            { code("topic", topic.code()) }
                        </button>
                    }) }
                </div>
            </fieldset>
            <label for="notes">{ t("visit-notes") }</label>
            <textarea id="notes" rows="5" value={form.notes.clone()} oninput={on_notes} />
            <fieldset>
                <legend>{ t("visit-follow-up") }</legend>
                <label for="follow-up">{ t("visit-follow-up-description") }</label>
                <input id="follow-up" value={form.follow_up.clone()} oninput={on_input(Act::FollowUp)} />
                <label for="follow-up-owner">{ t("visit-follow-up-owner") }</label>
                <Choice id="follow-up-owner" value={form.follow_up_owner.code()}
                    options={coded("owner", OwnerKind::ALL.iter().map(|kind| kind.code()))}
                    onchange={on_owner} />
                if form.follow_up_owner == OwnerKind::Agency {
                    <Choice label={t("visit-follow-up-owner")}
                        value={form.follow_up_agency.map_or("", |agency| agency.code())}
                        options={[(AttrValue::Static(""), AttrValue::Static("—"))].into_iter()
                            .chain(coded("agency", Agency::ALL.iter().map(|agency| agency.code())))
                            .collect::<Vec<_>>()}
                        onchange={on_agency} />
                }
                <label for="follow-up-due">{ t("visit-follow-up-due") }</label>
                <input id="follow-up-due" type="date" value={form.follow_up_due.clone()}
                    oninput={on_input(Act::FollowUpDue)} />
            </fieldset>
            <label for="next-visit">{ t("visit-next") }</label>
            <input id="next-visit" type="datetime-local" value={form.next_visit.clone()}
                oninput={on_input(Act::NextVisit)} />
            if let Some(message) = &*error {
                <p class="problem" role="alert">{ message.clone() }</p>
            }
            <div class="actions">
                <button class="primary" type="submit" disabled={*saving}>{ t("visit-save") }</button>
                <button type="button" onclick={on_cancel}>{ t("visit-cancel") }</button>
            </div>
        </form>
    }
}

/// The input a [`FormError`] names, in words.
fn field_name(error: FormError) -> String {
    t(match error {
        FormError::Duration => "visit-duration",
        FormError::FollowUpDue => "visit-follow-up-due",
        FormError::NextVisit => "visit-next",
    })
}

/// A save tried again after its change reached memory but not the device (a write that
/// failed) finds its own ids taken: the earlier try is in, and is written with the next
/// write. The ids were drawn for this form alone, so a duplicate can only be its own.
fn done_before(result: Result<(), ActError>) -> Result<(), ActError> {
    match result {
        Err(ActError::Action(ActionError::DuplicateId(_))) => Ok(()),
        other => other,
    }
}

/// The draft of a visit form being typed: where it is kept, and whether it came back.
struct Draft {
    /// Its key in the device's (sealed) meta store.
    key: String,
    /// Whether the form was filled from a draft kept before a lock.
    restored: bool,
}

/// Keeps the form as a draft while it is typed (sealed, a moment after the last change),
/// and fills the form from one kept before: a lock reloads the page, and what was typed
/// must be there after unlocking.
#[hook]
fn use_visit_draft(id: &str, visit: &str, form: &UseReducerHandle<VisitForm>) -> Draft {
    let session = use_session();
    let key = format!("draft/visit/{id}/{visit}");
    let restored = use_state(|| false);
    let blank = use_state(|| (**form).clone());
    {
        let (session, form, restored) = (session.clone(), form.dispatcher(), restored.clone());
        use_effect_with(key.clone(), move |key| {
            let key = key.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(Some(draft)) = session.engine.storage().meta::<VisitForm>(&key).await {
                    form.dispatch(Act::Restore(Box::new(draft)));
                    restored.set(true);
                }
            });
        });
    }
    {
        let current = (**form).clone();
        let (session, key) = (session.clone(), key.clone());
        let untouched = current == *blank;
        use_effect_with(current, move |current| {
            let current = current.clone();
            let pending = (!untouched).then(|| {
                gloo::timers::callback::Timeout::new(DRAFT_AFTER_MS, move || {
                    wasm_bindgen_futures::spawn_local(async move {
                        let storage = session.engine.storage();
                        if let Err(error) = storage.set_meta(&key, Some(&current)).await {
                            web_sys::console::warn_1(&format!("keeping the draft: {error}").into());
                        }
                    });
                })
            });
            move || drop(pending)
        });
    }
    Draft {
        key,
        restored: *restored,
    }
}

/// A draft is written this long after the last change.
const DRAFT_AFTER_MS: u32 = 400;

/// Throws a draft away (saved, or cancelled).
async fn discard_draft(session: &crate::session::Session, key: &str) {
    let _ = session
        .engine
        .storage()
        .set_meta::<VisitForm>(key, None)
        .await;
}
