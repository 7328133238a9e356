//! The supervisor's desk at desktop size: what its screens share. The directory of users
//! and districts (names for ids, staff to assign to), the cache of households as they stood
//! at past instants, report labels in the person's language, and CSV downloads.
//!
//! - `overview.rs` — every household of the supervisor's districts: filter, sort, assign.
//! - `workload.rs` — per staff member: cases, visits this month, overdue follow-ups.
//! - `plans.rs` — plan goals by status per district, as of any date.
//! - `report.rs` — the tertial report, the cost share, charts, CSV, print.
//! - `log.rs` — the access log for the systematic log review.

pub mod log;
pub mod overview;
pub mod plans;
pub mod report;
pub mod workload;

use std::cell::RefCell;
use std::rc::Rc;

use lots_core::{AsOfCache, Household, Label, Labeller, Timestamp};
use wasm_bindgen::JsCast as _;
use yew::prelude::*;

use crate::api::{self, District, Person};
use crate::app::Session;
use crate::i18n::{code, t};

/// Users and districts, as the server lists them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Directory {
    /// Every user.
    pub people: Vec<Person>,
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
    pub fn staff_of(&self, district: &str) -> Vec<&Person> {
        let mut staff: Vec<&Person> = self
            .people
            .iter()
            .filter(|person| {
                person.role == "staff"
                    && !person.disabled
                    && person.districts.iter().any(|own| own == district)
            })
            .collect();
        staff.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        staff
    }
}

/// What the desk's screens share, provided as context.
#[derive(Clone)]
pub struct Desk {
    /// Users and districts.
    pub directory: Rc<Directory>,
    /// Households as they stood at instants, kept between screens and renders.
    pub as_of: Rc<RefCell<AsOfCache>>,
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
    let as_of = use_mut_ref(AsOfCache::new);
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

/// The households as they stood at `at`, read through the desk's cache, giving the browser
/// back its thread every 40 ms so that a first read of a long past stays responsive;
/// `progress` hears (done, of) meanwhile. Households that cannot be read are counted in the
/// second value, so a report can say it is incomplete rather than be silently wrong.
pub async fn households_as_of(
    session: &Session,
    cache: &Rc<RefCell<AsOfCache>>,
    at: Timestamp,
    progress: impl Fn(usize, usize),
) -> (Vec<Rc<Household>>, usize) {
    let current = session.engine.households();
    let total = current.len();
    let mut households = Vec::with_capacity(total);
    let mut unreadable = 0;
    let mut slice_started = js_sys::Date::now();
    for (index, (document, household)) in current.into_iter().enumerate() {
        let read = session.engine.with_document(&document, |doc| {
            cache
                .borrow_mut()
                .household_at(document, &doc, at, || household.clone())
                .map_err(|error| error.to_string())
        });
        match read {
            Some(Ok(Some(household))) => households.push(household),
            Some(Ok(None)) | None => {}
            Some(Err(error)) => {
                unreadable += 1;
                web_sys::console::warn_1(
                    &format!("household {document} does not read as at {at:?}: {error}").into(),
                );
            }
        }
        if js_sys::Date::now() - slice_started > 40.0 {
            progress(index + 1, total);
            gloo::timers::future::TimeoutFuture::new(0).await;
            slice_started = js_sys::Date::now();
        }
    }
    (households, unreadable)
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
            // shown as recorded.
            Label::Language(Some(language)) => {
                crate::i18n::try_t(&format!("language-name-{language}"))
                    .unwrap_or_else(|| language.clone())
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
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Ok(anchor) = document.create_element("a") else {
        return;
    };
    let data = js_sys::encode_uri_component(&format!("\u{feff}{csv}"));
    let _ = anchor.set_attribute("href", &format!("data:text/csv;charset=utf-8,{data}"));
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
                problem.set(None);
                download_csv(&file_name, &text);
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

/// Households as at an instant, as a screen shows them while they are read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AsOf {
    /// The instant the households are for, once read (the previous instant's stay shown,
    /// marked by this, while another is read).
    pub at: Option<Timestamp>,
    /// The households.
    pub households: Rc<Vec<Rc<Household>>>,
    /// Households that could not be read.
    pub unreadable: usize,
    /// (done, of) while reading.
    pub progress: Option<(usize, usize)>,
    generation: u64,
}

/// How reading households as at an instant goes.
pub enum AsOfStep {
    /// A new read began.
    Started(u64),
    /// So many of so many done.
    Progress(u64, usize, usize),
    /// Finished.
    Read(u64, Timestamp, Vec<Rc<Household>>, usize),
}

impl Reducible for AsOf {
    type Action = AsOfStep;

    fn reduce(self: Rc<Self>, action: AsOfStep) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            AsOfStep::Started(generation) => next.generation = generation,
            // Steps of a read that a newer one replaced are dropped.
            AsOfStep::Progress(generation, ..) | AsOfStep::Read(generation, ..)
                if generation != next.generation =>
            {
                return self;
            }
            AsOfStep::Progress(_, done, of) => next.progress = Some((done, of)),
            AsOfStep::Read(_, at, households, unreadable) => {
                next.at = Some(at);
                next.households = Rc::new(households);
                next.unreadable = unreadable;
                next.progress = None;
            }
        }
        Rc::new(next)
    }
}

/// The households as they stood at `at`, read again whenever the engine changes (cheaply:
/// the desk's [`AsOfCache`] reads history only for what changed before `at`).
#[hook]
pub fn use_households_as_of(at: Timestamp) -> UseReducerHandle<AsOf> {
    let session = use_context::<Session>().expect("the session is provided");
    let desk = use_desk();
    let state = use_reducer(AsOf::default);
    let generations = use_mut_ref(|| 0_u64);
    {
        let state = state.clone();
        use_effect_with((at, session.revision), move |_| {
            let generation = {
                let mut counter = generations.borrow_mut();
                *counter += 1;
                *counter
            };
            state.dispatch(AsOfStep::Started(generation));
            wasm_bindgen_futures::spawn_local(async move {
                let progress = {
                    let state = state.clone();
                    move |done, of| state.dispatch(AsOfStep::Progress(generation, done, of))
                };
                let (households, unreadable) =
                    households_as_of(&session, &desk.as_of, at, progress).await;
                state.dispatch(AsOfStep::Read(generation, at, households, unreadable));
            });
        });
    }
    state
}

/// "Reading 120 of 500 households…" and any households that could not be read.
pub fn as_of_status(state: &AsOf) -> Html {
    html! {
        <>
            if let Some((done, of)) = state.progress {
                <p class="meta no-print" role="status">
                    { crate::i18n::t_args("desk-reading", &[("done", done.into()), ("of", of.into())]) }
                </p>
            }
            if state.unreadable > 0 {
                <p class="problem" role="alert">{ crate::i18n::t_count("desk-unreadable", state.unreadable) }</p>
            }
        </>
    }
}
