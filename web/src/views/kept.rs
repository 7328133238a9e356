//! "What you wrote that the server did not take": on a household's page, after a supervisor
//! rejected a change to it, the refused edits as text the person can select and copy, kept
//! on the device (across reloads, and signing out waits for it) until they say they have
//! what they need of it.

use lots_core::DocumentId;
use wasm_bindgen::JsCast as _;
use yew::prelude::*;

use crate::hooks::use_session;
use crate::i18n::{self, code, t, t_count, t1};
use crate::replay::{Kept, KeptText, What};
use crate::views::reasons_in_words;

/// Props of [`KeptRecords`].
#[derive(Properties, PartialEq)]
pub struct KeptProps {
    /// The household.
    pub document: DocumentId,
}

/// Every record kept of the household, oldest first; nothing when there is none.
#[function_component(KeptRecords)]
pub fn kept_records(props: &KeptProps) -> Html {
    let session = use_session();
    let records: Vec<Kept> = session
        .engine
        .kept()
        .into_iter()
        .filter(|kept| kept.document == props.document)
        .collect();
    html! {
        { for records.into_iter().map(|record| {
            let key = record.since.to_string();
            html! { <KeptRecord key={key} record={record} /> }
        }) }
    }
}

/// Props of [`KeptRecord`].
#[derive(Properties, PartialEq)]
pub struct KeptRecordProps {
    /// The record.
    pub record: Kept,
}

/// One record: why, what came back, each text not taken with a copy button, and the
/// dismissal, which asks first.
#[function_component(KeptRecord)]
pub fn kept_record(props: &KeptRecordProps) -> Html {
    let session = use_session();
    let record = &props.record;
    let asking = use_state(|| false);
    let problem = use_state(|| None::<String>);
    let ask = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let cancel = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(false))
    };
    let dismiss = {
        let (engine, problem) = (session.engine.clone(), problem.clone());
        let (document, since) = (record.document, record.since);
        Callback::from(move |_: MouseEvent| {
            let (engine, problem) = (engine.clone(), problem.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(error) = engine.dismiss_kept(document, since).await {
                    problem.set(Some(error.to_string()));
                }
            });
        })
    };
    let title_id = format!("kept-{}-{}", record.document, record.since);
    let explained = i18n::t_args(
        "kept-explained",
        &[
            ("reason", reasons_in_words(&record.codes).into()),
            (
                "date",
                i18n::date_time(lots_core::Timestamp::from_millis(record.since)).into(),
            ),
        ],
    );
    let texts: Vec<(Option<lots_core::Timestamp>, &str, &KeptText)> = record
        .changes
        .iter()
        .flat_map(|change| {
            change
                .texts
                .iter()
                .map(move |text| (change.signed_at, change.action.as_str(), text))
        })
        .collect();
    html! {
        <section class="kept" aria-labelledby={title_id.clone()}>
            <h2 id={title_id}>{ t("kept-title") }</h2>
            <p>{ explained }</p>
            if record.replayed > 0 {
                <p class="meta">{ t_count("kept-replayed", record.replayed) }</p>
            }
            <ol class="plain kept-texts">
                { for texts.into_iter().enumerate().map(|(index, (signed_at, action, text))| html! {
                    <KeptItem key={index} signed_at={signed_at} action={AttrValue::from(action.to_owned())} text={text.clone()} />
                }) }
            </ol>
            <div class="kept-dismiss">
                if *asking {
                    <p>{ t("kept-dismiss-warning") }</p>
                    <div class="decisions">
                        <button class="danger" onclick={dismiss}>{ t("kept-dismiss-confirm") }</button>
                        <button onclick={cancel}>{ t("kept-dismiss-cancel") }</button>
                    </div>
                } else {
                    <button onclick={ask}>{ t("kept-dismiss") }</button>
                }
                if let Some(problem) = &*problem {
                    <p class="problem">{ problem.clone() }</p>
                }
            </div>
        </section>
    }
}

/// Props of [`KeptItem`].
#[derive(Properties, PartialEq)]
pub struct KeptItemProps {
    /// When the change was signed.
    pub signed_at: Option<lots_core::Timestamp>,
    /// The change's action, shown for what has no words of its own.
    pub action: AttrValue,
    /// The text.
    pub text: KeptText,
}

/// One text: what it was, when, and the text itself, selectable, with a copy button.
#[function_component(KeptItem)]
pub fn kept_item(props: &KeptItemProps) -> Html {
    let copied = use_state(|| None::<bool>);
    let text = &props.text;
    let mut heading = code("kept-what", text.what.code());
    if let Some(when) = text.when {
        heading = format!("{heading}, {}", i18n::date_time(when));
    }
    let mut details = Vec::new();
    if let Some(minutes) = text.minutes {
        details.push(t1("kept-minutes", "minutes", minutes.to_string()));
    }
    let prefix = match text.what {
        What::VisitRecorded => Some("topic"),
        What::GoalStatus => Some("goal-status"),
        What::StepStatus => Some("step-status"),
        What::CaseClosed => Some("close"),
        _ => None,
    };
    if let Some(prefix) = prefix
        && !text.codes.is_empty()
    {
        let words: Vec<String> = text.codes.iter().map(|c| code(prefix, c)).collect();
        details.push(words.join(", "));
    }
    if let Some(on) = text.on {
        details.push(t1("kept-on", "date", i18n::date(on)));
    }
    if text.what == What::Other {
        details.push(t1("kept-action", "action", props.action.to_string()));
    }
    if let Some(signed_at) = props.signed_at {
        details.push(t1("kept-written", "time", i18n::date_time(signed_at)));
    }
    let copy = {
        let (copied, value) = (copied.clone(), text.text.clone());
        Callback::from(move |_: MouseEvent| {
            let (copied, value) = (copied.clone(), value.clone());
            wasm_bindgen_futures::spawn_local(async move {
                copied.set(Some(copy_to_clipboard(&value).await));
            });
        })
    };
    let said = match *copied {
        Some(true) => html! { <span class="meta" role="status">{ t("kept-copied") }</span> },
        Some(false) => {
            html! { <span class="problem" role="status">{ t("kept-copy-failed") }</span> }
        }
        None => html! {},
    };
    html! {
        <li class="kept-item">
            <h3>{ heading }</h3>
            if !details.is_empty() {
                <p class="meta">{ details.join(" · ") }</p>
            }
            if !text.text.is_empty() {
                <p class="kept-text" tabindex="0">{ text.text.clone() }</p>
                <button class="copy" onclick={copy}>{ t("kept-copy") }</button>
                { said }
            }
        </li>
    }
}

/// Puts `text` on the clipboard (`navigator.clipboard.writeText`, by hand: web-sys's binding
/// needs a feature for this one call); `false` where the browser does not let it.
async fn copy_to_clipboard(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(clipboard) = Reflect::get(&window.navigator(), &"clipboard".into()) else {
        return false;
    };
    if clipboard.is_undefined() {
        return false;
    }
    let Some(write) = Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|write| write.dyn_into::<Function>().ok())
    else {
        return false;
    };
    let Some(promise) = write
        .call1(&clipboard, &text.into())
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok())
    else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
