//! Recording a visit in under a minute: who was present, interpreter, duration, topics as
//! chips, notes, a follow-up with owner, agency and due date, and the next visit booked.

use std::collections::BTreeSet;

use lots_core::{
    ActionError, Agency, Date, DocumentId, FollowUpId, Interpreter, InterpreterMode, MemberId,
    NewFollowUp, Owner, OwnerKind, Set, Timestamp, Topic, VisitId, VisitRecord,
};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::now;
use crate::browser::random_id;
use crate::engine::ActError;
use crate::i18n::{self, code, t, t1};
use crate::routes::Route;
use crate::session::Session;
use crate::views::choice::{Choice, coded};
use crate::views::household_name;

/// Props of [`RecordVisit`].
#[derive(Properties, PartialEq)]
pub struct RecordVisitProps {
    /// The household's document id.
    pub id: String,
    /// `new`, or the id of the planned visit being recorded.
    pub visit: String,
}

/// What the form holds until it is saved.
#[derive(Clone, PartialEq)]
struct Form {
    present: BTreeSet<MemberId>,
    interpreter_language: String,
    interpreter_mode: Option<InterpreterMode>,
    duration: String,
    topics: BTreeSet<Topic>,
    notes: String,
    follow_up: String,
    follow_up_owner: OwnerKind,
    follow_up_agency: Option<Agency>,
    follow_up_due: String,
    next_visit: String,
}

/// `YYYY-MM-DDTHH:MM` (a datetime-local input), Swedish time, to an instant.
fn parse_local(text: &str) -> Option<Timestamp> {
    let (day, clock) = text.split_once('T')?;
    let day: Date = day.parse().ok()?;
    let (hours, minutes) = clock.split_once(':')?;
    let minutes = hours.parse::<i64>().ok()? * 60 + minutes.get(..2)?.parse::<i64>().ok()?;
    Some(Timestamp::swedish(day, minutes))
}

/// The ids one saving of the form writes under, drawn once per form: saving again after a
/// failure writes the same visit, follow-up and booking again instead of second ones.
#[derive(Clone, PartialEq)]
struct Ids {
    /// The visit recorded, when it was not planned (`new`).
    unplanned: String,
    follow_up: String,
    next_visit: String,
}

/// The visit form.
#[function_component(RecordVisit)]
pub fn record_visit(props: &RecordVisitProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
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
    let ids = use_state(|| Ids {
        unplanned: random_id("v"),
        follow_up: random_id("f"),
        next_visit: random_id("v"),
    });
    let form = use_state(|| Form {
        present: BTreeSet::new(),
        interpreter_language: String::new(),
        interpreter_mode: None,
        duration: "45".into(),
        topics: BTreeSet::new(),
        notes: String::new(),
        follow_up: String::new(),
        follow_up_owner: OwnerKind::Member,
        follow_up_agency: None,
        follow_up_due: i18n::local_date(now()).plus_days(14).to_string(),
        next_visit: String::new(),
    });
    let Ok(document) = props.id.parse::<DocumentId>() else {
        return html! { <p class="problem">{ t("households-none") }</p> };
    };
    let Some(household) = session.engine.households().get(&document).cloned() else {
        return html! { <p class="empty">{ t("households-loading") }</p> };
    };

    let update = |change: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            change(&mut next, value);
            form.set(next);
        })
    };
    let input_value = |callback: Callback<String>| {
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            callback.emit(input.value());
        })
    };

    let onsubmit = {
        let (form, error, saving) = (form.clone(), error.clone(), saving.clone());
        let ids = (*ids).clone();
        let session = session.clone();
        let visit_param = props.visit.clone();
        let navigator = navigator.clone();
        let id = props.id.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let form = (*form).clone();
            let ids = ids.clone();
            let (error, saving, session) = (error.clone(), saving.clone(), session.clone());
            let visit_param = visit_param.clone();
            let navigator = navigator.clone();
            let id = id.clone();
            let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
                return;
            };
            let Ok(duration) = form.duration.trim().parse::<u32>() else {
                error.set(Some(t1("visit-error", "error", t("visit-duration"))));
                return;
            };
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let now = now();
                let visit = if visit_param == "new" {
                    VisitId::new(ids.unplanned.clone())
                } else {
                    VisitId::new(visit_param)
                };
                let result = match visit {
                    Ok(visit) => {
                        let saving = Saving {
                            session: &session,
                            document,
                            staff: &staff,
                            device: &device,
                            now,
                        };
                        saving.save(&visit, &ids, &form, duration).await
                    }
                    Err(bad) => Err(bad.to_string()),
                };
                saving.set(false);
                match result {
                    Ok(()) => {
                        if let Some(navigator) = navigator {
                            navigator.push(&Route::Household { id });
                        }
                    }
                    Err(message) => error.set(Some(t1("visit-error", "error", message))),
                }
            });
        })
    };

    let toggle_member = |member: MemberId| {
        let form = form.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*form).clone();
            if !next.present.remove(&member) {
                next.present.insert(member.clone());
            }
            form.set(next);
        })
    };
    let toggle_topic = |topic: Topic| {
        let form = form.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*form).clone();
            if !next.topics.remove(&topic) {
                next.topics.insert(topic);
            }
            form.set(next);
        })
    };
    let on_notes = {
        let form = form.clone();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            let mut next = (*form).clone();
            next.notes = area.value();
            form.set(next);
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
            <fieldset>
                <legend>{ t("visit-present") }</legend>
                <div class="chips">
                    { for household.members.iter().map(|(id, member)| html! {
                        <button type="button" class={classes!("chip", form.present.contains(id).then_some("on"))}
                            aria-pressed={form.present.contains(id).to_string()} onclick={toggle_member(id.clone())}>
                            { member.name.clone() }
                        </button>
                    }) }
                </div>
            </fieldset>
            <fieldset>
                <legend>{ t("visit-interpreter") }</legend>
                <label for="interpreter-language">{ t("visit-interpreter-language") }</label>
                <input id="interpreter-language" list="languages" value={form.interpreter_language.clone()}
                    oninput={input_value(update(|form, value| form.interpreter_language = value))} />
                <datalist id="languages">
                    { for languages.iter().map(|language| html! { <option value={language.clone()} label={i18n::language_name(language)} /> }) }
                </datalist>
                <div class="chips">
                    { for InterpreterMode::ALL.iter().map(|mode| {
                        let on = form.interpreter_mode == Some(*mode);
                        let form = form.clone();
                        let mode = *mode;
                        let onclick = Callback::from(move |_: MouseEvent| {
                            let mut next = (*form).clone();
                            next.interpreter_mode = if on { None } else { Some(mode) };
                            form.set(next);
                        });
                        html! {
                            <button type="button" class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()} {onclick}>
                                { code("mode", mode.code()) }
                            </button>
                        }
                    }) }
                </div>
            </fieldset>
            <label for="duration">{ t("visit-duration") }</label>
            <input id="duration" type="number" inputmode="numeric" min="1" max="600" value={form.duration.clone()}
                oninput={input_value(update(|form, value| form.duration = value))} />
            <fieldset>
                <legend>{ t("visit-topics") }</legend>
                <div class="chips">
                    { for Topic::ALL.iter().map(|topic| html! {
                        <button type="button" class={classes!("chip", form.topics.contains(topic).then_some("on"))}
                            aria-pressed={form.topics.contains(topic).to_string()} onclick={toggle_topic(*topic)}>
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
                <input id="follow-up" value={form.follow_up.clone()}
                    oninput={input_value(update(|form, value| form.follow_up = value))} />
                <label for="follow-up-owner">{ t("visit-follow-up-owner") }</label>
                <Choice id="follow-up-owner" value={form.follow_up_owner.code()}
                    options={coded("owner", OwnerKind::ALL.iter().map(|kind| kind.code()))}
                    onchange={update(|form, value| {
                        form.follow_up_owner = value.parse().unwrap_or(OwnerKind::Member);
                    })} />
                if form.follow_up_owner == OwnerKind::Agency {
                    <Choice label={t("visit-follow-up-owner")}
                        value={form.follow_up_agency.map_or("", |agency| agency.code())}
                        options={[(AttrValue::Static(""), AttrValue::Static("—"))].into_iter()
                            .chain(coded("agency", Agency::ALL.iter().map(|agency| agency.code())))
                            .collect::<Vec<_>>()}
                        onchange={update(|form, value| form.follow_up_agency = value.parse().ok())} />
                }
                <label for="follow-up-due">{ t("visit-follow-up-due") }</label>
                <input id="follow-up-due" type="date" value={form.follow_up_due.clone()}
                    oninput={input_value(update(|form, value| form.follow_up_due = value))} />
            </fieldset>
            <label for="next-visit">{ t("visit-next") }</label>
            <input id="next-visit" type="datetime-local" value={form.next_visit.clone()}
                oninput={input_value(update(|form, value| form.next_visit = value))} />
            if let Some(message) = &*error {
                <p class="problem" role="alert">{ message.clone() }</p>
            }
            <div class="actions">
                <button class="primary" type="submit" disabled={*saving}>{ t("visit-save") }</button>
                <Link<Route> to={Route::Household { id: props.id.clone() }} classes="button">{ t("visit-cancel") }</Link<Route>>
            </div>
        </form>
    }
}

/// Who saves the form, where, and when.
struct Saving<'a> {
    session: &'a Session,
    document: DocumentId,
    staff: &'a lots_core::StaffId,
    device: &'a lots_core::DeviceId,
    now: Timestamp,
}

/// A step that was already written by an earlier try of the same form (its id was drawn
/// for this form alone) counts as done.
fn done_before(result: Result<(), ActError>) -> Result<(), ActError> {
    match result {
        Err(ActError::Action(ActionError::DuplicateId(_))) => Ok(()),
        other => other,
    }
}

impl Saving<'_> {
    /// Records the visit, its follow-up and the next booking: each one signed change, each
    /// on the device before the next. Everything the form says is checked before the first
    /// is written; a try that fails part-way can be repeated, and writes nothing twice.
    async fn save(
        &self,
        visit: &VisitId,
        ids: &Ids,
        form: &Form,
        duration: u32,
    ) -> Result<(), String> {
        let Saving {
            session,
            document,
            staff,
            device,
            now,
        } = *self;
        let engine = &session.engine;
        let interpreter = match (form.interpreter_language.trim(), form.interpreter_mode) {
            ("", _) => None,
            (language, mode) => Some(Interpreter {
                language: language.to_owned(),
                mode: mode.unwrap_or(InterpreterMode::InPerson),
            }),
        };
        let follow_up = if form.follow_up.trim().is_empty() {
            None
        } else {
            let due_on: Date = form
                .follow_up_due
                .parse()
                .map_err(|_| t("visit-follow-up-due"))?;
            let owner = match form.follow_up_owner {
                OwnerKind::Member => match form.present.iter().next() {
                    Some(member) => Owner::Member(member.clone()),
                    None => Owner::Staff(staff.clone()),
                },
                OwnerKind::Staff => Owner::Staff(staff.clone()),
                OwnerKind::Agency => Owner::Agency(form.follow_up_agency.unwrap_or(Agency::Other)),
            };
            let id = FollowUpId::new(ids.follow_up.clone()).map_err(|error| error.to_string())?;
            let new = NewFollowUp {
                description: form.follow_up.trim().to_owned(),
                owner,
                agency: form.follow_up_agency,
                due_on,
            };
            Some((id, new))
        };
        let next = match form.next_visit.trim() {
            "" => None,
            text => {
                let at = parse_local(text).ok_or_else(|| t("visit-next"))?;
                let id = VisitId::new(ids.next_visit.clone()).map_err(|error| error.to_string())?;
                Some((id, at))
            }
        };
        let record = VisitRecord {
            held_at: now,
            staff: staff.clone(),
            present: form.present.iter().cloned().collect::<Set<_>>(),
            interpreter,
            duration_minutes: duration,
            topics: form.topics.iter().copied().collect::<Set<_>>(),
            notes: form.notes.clone(),
        };
        let signature = engine.signature(staff, device);
        engine
            .act(document, |household| {
                household.record_visit(&signature, visit, record)
            })
            .await
            .map_err(|error| error.to_string())?;
        if let Some((id, new)) = follow_up {
            let signature = engine.signature(staff, device);
            done_before(
                engine
                    .act(document, |household| {
                        household.add_follow_up(&signature, visit, &id, new)
                    })
                    .await,
            )
            .map_err(|error| error.to_string())?;
        }
        if let Some((id, at)) = next {
            let signature = engine.signature(staff, device);
            done_before(
                engine
                    .act(document, |household| {
                        household.schedule_visit(&signature, &id, at, staff)
                    })
                    .await,
            )
            .map_err(|error| error.to_string())?;
        }
        Ok(())
    }
}
