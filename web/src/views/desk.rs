//! The supervisor's desk at desktop size: what its screens share. The directory of users
//! and districts (names for ids, staff to assign to), the cache of households as they stood
//! at past instants, report labels in the person's language, and CSV downloads.
//!
//! - `overview.rs` — every household of the supervisor's districts: filter, sort, assign.
//! - `workload.rs` — per staff member: cases, visits this month, overdue follow-ups.
//! - `plans.rs` — plan goals by status per district, as of any date.
//! - `report.rs` — the tertial report, the cost share, charts, CSV, print.
//! - `log.rs` — the access log for the systematic log review.
//! - `quarantine.rs` — changes the server refused, to accept or reject.
//! - `copy.rs` — a person's own copy (GDPR art. 15): review, withhold, release, print.

pub mod copy;
pub mod log;
pub mod overview;
pub mod plans;
pub mod quarantine;
pub mod report;
pub mod workload;

mod as_of;
pub use as_of::{AsOf, AsOfStep, as_of_status, use_households_as_of};

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use lots_core::automerge::ChangeHash;
use lots_core::{AsOfCache, DocumentId, Household, Label, Labeller, Tertial, Timeline, Timestamp};
use wasm_bindgen::JsCast as _;
use yew::prelude::*;

use crate::api::{self, District, Role, User};
use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{code, t};
use crate::routes::Route;
use crate::session::Session;

/// Users and districts, as the server lists them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Directory {
    /// Every user.
    pub people: Vec<User>,
    /// Every district.
    pub districts: Vec<District>,
    /// What went wrong fetching them (offline), in words.
    pub problem: Option<String>,
}

impl Directory {
    /// A user's name, or their id when the list is not here.
    pub fn person_name(&self, id: &str) -> String {
        self.people
            .iter()
            .find(|person| person.id == id)
            .map(|person| person.display_name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// A district's name, or its id.
    pub fn district_name(&self, id: &str) -> String {
        self.districts
            .iter()
            .find(|district| district.id == id)
            .map(|district| district.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// Active staff working in `district`, by name.
    pub fn staff_of(&self, district: &str) -> Vec<&User> {
        let mut staff: Vec<&User> = self
            .people
            .iter()
            .filter(|person| {
                person.role == Role::Staff
                    && !person.disabled
                    && person.districts.iter().any(|own| own == district)
            })
            .collect();
        staff.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        staff
    }
}

/// Households as they stood at past instants: kept for the session, and those that had to
/// be read from history kept on the device too, so a report over a past tertial reads
/// history once per device rather than once per session.
#[derive(Default)]
pub struct Past {
    cache: AsOfCache,
    /// Instants whose households kept on the device have been read this session.
    loaded: HashSet<Timestamp>,
}

/// A household as at an instant as the device keeps it: with the settled heads of its
/// document's timeline it was read under (`AsOfCache::keep`).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredPast<H> {
    settled: Vec<ChangeHash>,
    household: Option<H>,
}

/// What the desk's screens share, provided as context.
#[derive(Clone)]
pub struct Desk {
    /// Users and districts.
    pub directory: Rc<Directory>,
    /// Households as they stood at instants, kept between screens and renders.
    pub as_of: Rc<RefCell<Past>>,
}

impl PartialEq for Desk {
    fn eq(&self, other: &Self) -> bool {
        self.directory == other.directory && Rc::ptr_eq(&self.as_of, &other.as_of)
    }
}

/// Props of [`DeskProvider`].
#[derive(Properties, PartialEq)]
pub struct DeskProviderProps {
    /// The desk's screens.
    pub children: Html,
}

/// Fetches the directory once and provides the [`Desk`].
#[function_component(DeskProvider)]
pub fn desk_provider(props: &DeskProviderProps) -> Html {
    let directory = use_state(|| Rc::new(Directory::default()));
    let as_of = use_mut_ref(Past::default);
    {
        let session = use_session();
        let past = as_of.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(read_past_tertials(session, past));
        });
    }
    {
        let directory = directory.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let people = api::users().await;
                let districts = api::districts().await;
                let problem = people
                    .as_ref()
                    .err()
                    .or(districts.as_ref().err())
                    .map(ToString::to_string);
                directory.set(Rc::new(Directory {
                    people: people.unwrap_or_default(),
                    districts: districts.unwrap_or_default(),
                    problem,
                }));
            });
        });
    }
    let desk = Desk {
        directory: (*directory).clone(),
        as_of,
    };
    html! {
        <ContextProvider<Desk> context={desk}>
            if let Some(problem) = &directory.problem {
                <p class="problem" role="alert">{ crate::i18n::t1("desk-directory-problem", "error", problem.clone()) }</p>
            }
            { props.children.clone() }
        </ContextProvider<Desk>>
    }
}

/// The supervisor's screens for the route the address names, with the desk's data around
/// them: what the desk's binary registers ([`crate::screens`]). A household opens as on the
/// phone (the same conflict view).
pub fn screens() -> Html {
    html! {
        <DeskProvider>
            <yew_router::Switch<Route> render={desk_screen} />
        </DeskProvider>
    }
}

fn desk_screen(route: Route) -> Html {
    match route {
        Route::Desk | Route::Households | Route::NotFound => html! { <overview::Overview /> },
        Route::Workload => html! { <workload::WorkloadView /> },
        Route::Plans => html! { <plans::Plans /> },
        Route::Report => html! { <report::ReportView /> },
        Route::Log => html! { <log::Log /> },
        Route::Quarantine => html! { <quarantine::QuarantineView /> },
        Route::PersonCopy { id, member } => {
            html! { <copy::PersonCopyView id={id} member={member} /> }
        }
        other => crate::views::shell::field_screen(other),
    }
}

/// The supervisor's districts, as ids.
pub fn my_districts(session: &Session) -> Vec<lots_core::DistrictId> {
    session
        .me
        .user
        .districts
        .iter()
        .filter_map(|id| lots_core::DistrictId::new(id.clone()).ok())
        .collect()
}

/// The desk, from context.
#[hook]
pub fn use_desk() -> Desk {
    use_context::<Desk>().expect("the desk is provided")
}

/// The User Timing measure of [`households_as_of`].
const AS_OF_READ: &str = "lots:as-of";

/// Reads the households kept on the device as at `at` into the session's cache, once.
async fn load_past(session: &Session, past: &Rc<RefCell<Past>>, at: Timestamp) {
    if !is_tertial_end(at) || past.borrow().loaded.contains(&at) {
        return;
    }
    let stored = match session.engine.storage().past(at.as_millis()).await {
        Ok(stored) => stored,
        Err(error) => {
            // Only a shortcut: the households are read from history instead.
            web_sys::console::warn_1(&format!("households as at {at:?}: {error}").into());
            Vec::new()
        }
    };
    let mut past = past.borrow_mut();
    for (document, json) in stored {
        if let Ok(kept) = serde_json::from_str::<StoredPast<Household>>(&json) {
            past.cache
                .keep(document, at, kept.settled, kept.household.map(Rc::new));
        }
    }
    past.loaded.insert(at);
}

/// Past tertials the report offers, besides the current one (two years in all).
pub const PAST_TERTIALS: usize = 5;

/// The User Timing measure of a pass of [`read_past_tertials`] that read history, for
/// `tests/e2e/desk-speed.mjs`.
const PAST_READ: &str = "lots:past-tertials";

/// Reads every household as at the end of each past tertial the report offers, most recent
/// first, in the background whenever the households have settled after changing (the first
/// sync, a household newly assigned, a late change), and keeps them:
/// the first report over a past tertial is then a lookup, and later only a change that
/// syncs late (signed before the newest already there) makes one household be read again.
async fn read_past_tertials(session: Session, past: Rc<RefCell<Past>>) {
    let mut read_for = None;
    let mut seen = None;
    loop {
        // Only once the households have stopped changing for a while: every document
        // loaded from the device, every household of the caseload here and its first sync
        // done (the rest of a document that comes after its first part may be signed
        // earlier, which would make what was read too early be read again).
        let version = session.engine.households_version();
        let quiet = seen == Some(version) && !session.engine.loading();
        seen = Some(version);
        if quiet && read_for != Some(version) {
            let measure = crate::browser::Measure::start(PAST_READ);
            let reads_before = past.borrow().cache.history_reads();
            let current = Tertial::containing(crate::i18n::local_date(now()));
            for tertial in std::iter::successors(current.previous(), |tertial| tertial.previous())
                .take(PAST_TERTIALS)
            {
                if session.engine.ended() {
                    return;
                }
                let at = tertial.period().end_instant();
                let signed_in = || !session.engine.ended();
                households_as_of(&session, &past, at, |_, _| {}, signed_in, true).await;
            }
            if past.borrow().cache.history_reads() > reads_before {
                measure.finish(PAST_READ);
            }
            read_for = Some(version);
        }
        gloo::timers::future::TimeoutFuture::new(2_000).await;
        if session.engine.ended() {
            return;
        }
    }
}

/// Whether `at` is the last instant of a tertial: only those are kept on the device. Any
/// other date (plan progress as of a day picked) stays in memory for the session, so that
/// picking dates does not fill the device with 500 households a date.
fn is_tertial_end(at: Timestamp) -> bool {
    Tertial::containing(at.date()).period().end_instant() == at
}

/// Keeps households just read from history as at `at` on the device, for the next session,
/// when `at` is a tertial's end.
fn store_past(
    session: &Session,
    at: Timestamp,
    read: Vec<(DocumentId, Vec<ChangeHash>, Option<Rc<Household>>)>,
) {
    if read.is_empty() || !is_tertial_end(at) {
        return;
    }
    let engine = session.engine.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if engine.ended() {
            return; // Signed out: the device is being cleared.
        }
        let households: Vec<(DocumentId, String)> = read
            .into_iter()
            .filter_map(|(document, settled, household)| {
                let stored = StoredPast {
                    settled,
                    household: household.as_deref(),
                };
                Some((document, serde_json::to_string(&stored).ok()?))
            })
            .collect();
        if let Err(error) = engine
            .storage()
            .save_past(at.as_millis(), &households)
            .await
        {
            web_sys::console::warn_1(&format!("households as at {at:?}: {error}").into());
        }
    });
}

/// The households as they stood at `at`: from each household's summary when its timeline
/// says it is as it is now (or did not exist yet), else from the households kept for `at`
/// this session or on the device, else read from the document's history (and kept). The
/// browser gets its thread back every 40 ms, so that a first read of a long past stays
/// responsive; `progress` hears (done, of) meanwhile. Households that cannot be read are
/// counted in the second value, so a report can say it is incomplete rather than be
/// silently wrong. `None` when `wanted` says, at a pause, that the read is no longer wanted
/// (a newer one replaced it); what was read from history so far is kept all the same. In
/// the `background`, the pauses let everything else run first.
pub async fn households_as_of(
    session: &Session,
    past: &Rc<RefCell<Past>>,
    at: Timestamp,
    progress: impl Fn(usize, usize),
    wanted: impl Fn() -> bool,
    background: bool,
) -> Option<(Vec<Rc<Household>>, Vec<DocumentId>, usize)> {
    let measure = crate::browser::Measure::start(AS_OF_READ);
    load_past(session, past, at).await;
    let current = session.engine.households_with_timelines();
    let total = current.len();
    let mut households = Vec::with_capacity(total);
    let mut documents = Vec::with_capacity(total);
    // Households that do not read at all (on this computer or on the server) are missing
    // from every figure: counted, so that a report says it is incomplete.
    let mut unreadable = session.engine.unreadable().len();
    let mut read_from_history = Vec::new();
    let mut slice_started = js_sys::Date::now();
    for (index, (document, (household, timeline))) in current.into_iter().enumerate() {
        // A summary stored by an older version of the app has no timeline yet.
        let timeline = timeline.or_else(|| {
            session
                .engine
                .with_document(&document, |doc| Timeline::of(&doc))
        });
        let Some(timeline) = timeline else {
            continue;
        };
        let mut from_history = false;
        let read = past.borrow_mut().cache.household_at(
            document,
            &timeline,
            at,
            || household.clone(),
            || {
                from_history = true;
                session
                    .engine
                    .with_document(&document, |doc| {
                        doc.household_at(at).map_err(|error| error.to_string())
                    })
                    .unwrap_or(Ok(None))
            },
        );
        match read {
            Ok(household) => {
                if from_history {
                    read_from_history.push((
                        document,
                        timeline.settled().to_vec(),
                        household.clone(),
                    ));
                }
                if let Some(household) = household {
                    households.push(household);
                    documents.push(document);
                }
            }
            Err(error) => {
                unreadable += 1;
                web_sys::console::warn_1(
                    &format!("household {document} does not read as at {at:?}: {error}").into(),
                );
            }
        }
        if js_sys::Date::now() - slice_started > 40.0 {
            progress(index + 1, total);
            if background {
                crate::browser::background_pause().await;
            } else {
                gloo::timers::future::TimeoutFuture::new(0).await;
            }
            if !wanted() {
                store_past(session, at, read_from_history);
                return None;
            }
            slice_started = js_sys::Date::now();
        }
    }
    store_past(session, at, read_from_history);
    measure.finish(AS_OF_READ);
    Some((households, documents, unreadable))
}

/// Report labels in the person's language.
pub struct Words<'a>(pub &'a Directory);

impl Labeller for Words<'_> {
    fn label(&self, label: &Label) -> String {
        match label {
            Label::Table(_) => code("report-table", &label.key()),
            Label::Column(_) => code("report-column", &label.key()),
            Label::Split(gender, band) => {
                format!("{} {}", code("gender", gender.code()), band.label())
            }
            Label::Gender(gender) => code("gender", gender.code()),
            Label::AgeBand(band) => band.label().to_owned(),
            Label::Case(_) => code("report-case", &label.key()),
            Label::VisitStatus(status) => code("visit-status", status.code()),
            // Phones record ISO 639 codes; a code the app knows is named, anything else is
            // shown as recorded. A row of the table starts with a capital ("Dari", "Arabiska").
            Label::Language(Some(language)) => {
                let name = crate::i18n::language_name(language);
                let mut letters = name.chars();
                letters
                    .next()
                    .map(|first| first.to_uppercase().chain(letters).collect())
                    .unwrap_or(name)
            }
            Label::Language(None) => t("report-language-none"),
            Label::Topic(topic) => code("topic", topic.code()),
            Label::GoalArea(area) => code("goal", area.code()),
            Label::District(district) => self.0.district_name(district.as_str()),
            Label::Total => t("report-total"),
        }
    }
}

/// Offers `csv` as a file to save. A byte-order mark leads, so that spreadsheet programs
/// read å, ä and ö as UTF-8.
pub fn download_csv(file_name: &str, csv: &str) {
    download_file(file_name, "text/csv", &format!("\u{feff}{csv}"));
}

/// Offers `text` as a file of type `mime` (UTF-8) to save.
pub fn download_file(file_name: &str, mime: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Ok(anchor) = document.create_element("a") else {
        return;
    };
    let data = js_sys::encode_uri_component(text);
    let _ = anchor.set_attribute("href", &format!("data:{mime};charset=utf-8,{data}"));
    let _ = anchor.set_attribute("download", file_name);
    if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlElement>() {
        anchor.click();
    }
}

/// A button that downloads what `csv` makes when pressed (made then, not on every render).
#[derive(Properties, PartialEq)]
pub struct CsvButtonProps {
    /// The file's name.
    pub file_name: AttrValue,
    /// What the button names (the table), for its accessible name.
    pub what: AttrValue,
    /// Makes the CSV text, or says why it cannot.
    pub csv: Callback<(), Result<String, String>>,
}

/// "CSV" next to a table.
#[function_component(CsvButton)]
pub fn csv_button(props: &CsvButtonProps) -> Html {
    let problem = use_state(|| None::<String>);
    let onclick = {
        let (csv, file_name, problem) =
            (props.csv.clone(), props.file_name.clone(), problem.clone());
        Callback::from(move |_: MouseEvent| match csv.emit(()) {
            Ok(text) => {
                // An export is on the access log (which table, how many rows) before the
                // file is offered: offline, nothing leaves the desk unlogged.
                let (file, rows) = (
                    file_name.to_string(),
                    text.lines().count().saturating_sub(1),
                );
                let problem = problem.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match crate::api::log_export(&file, rows).await {
                        Ok(()) => {
                            problem.set(None);
                            download_csv(&file, &text);
                        }
                        Err(error) => problem.set(Some(crate::i18n::t1(
                            "desk-csv-not-logged",
                            "error",
                            error.to_string(),
                        ))),
                    }
                });
            }
            Err(error) => problem.set(Some(error)),
        })
    };
    html! {
        <>
            <button class="csv no-print" {onclick} aria-label={crate::i18n::t1("desk-csv-of", "what", props.what.to_string())}>
                { t("desk-csv") }
            </button>
            if let Some(problem) = &*problem {
                <span class="problem" role="alert">{ problem.clone() }</span>
            }
        </>
    }
}

/// The SVG a chart function of core made, in the page. Core escapes every text it puts in.
pub fn chart(svg: String) -> Html {
    html! { <figure class="chart">{ Html::from_html_unchecked(svg.into()) }</figure> }
}

/// A table of `lots_core::Table` with its labels in words.
pub fn report_table(table: &lots_core::Table, words: &Words<'_>) -> Html {
    let title = words.label(&Label::Table(table.kind));
    html! {
        <div class="table-scroll" tabindex="0" role="region" aria-label={title.clone()}>
            <table class="figures">
                <caption>{ title }</caption>
                <thead>
                    <tr>
                        { for table.columns.iter().map(|column| html! { <th scope="col">{ words.label(column) }</th> }) }
                    </tr>
                </thead>
                <tbody>
                    { for table.rows.iter().map(|row| html! {
                        <tr class={classes!(matches!(row.key, Label::Total).then_some("total"))}>
                            <th scope="row">{ words.label(&row.key) }</th>
                            { for row.values.iter().map(|value| html! { <td>{ value }</td> }) }
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests;
