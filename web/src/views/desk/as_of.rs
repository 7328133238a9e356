//! Households as they stood at an instant, read in the background for the desk's screens:
//! the state of the reading (a `Reducible`), the hook that runs it, and its status line.

use super::*;
use crate::hooks::use_session;

/// Households as at an instant, as a screen shows them while they are read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AsOf {
    /// The instant the households are for, once read (the previous instant's stay shown,
    /// marked by this, while another is read).
    pub at: Option<Timestamp>,
    /// The households.
    pub households: Rc<Vec<Rc<Household>>>,
    /// Their documents, in the same order.
    pub documents: Rc<Vec<DocumentId>>,
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
    Read(u64, Timestamp, Vec<Rc<Household>>, Vec<DocumentId>, usize),
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
            AsOfStep::Read(_, at, households, documents, unreadable) => {
                next.at = Some(at);
                // The same households as before (the engine changed elsewhere) keep their
                // list, so what is computed from it is not computed again.
                let same = households.len() == next.households.len()
                    && households
                        .iter()
                        .zip(next.households.iter())
                        .all(|(new, old)| Rc::ptr_eq(new, old));
                if !same {
                    next.households = Rc::new(households);
                    next.documents = Rc::new(documents);
                }
                next.unreadable = unreadable;
                next.progress = None;
            }
        }
        Rc::new(next)
    }
}

/// The households as they stood at `at` (nothing while `None`), read again whenever some
/// household may have changed (`Engine::households_version`; cheaply: timelines and the
/// desk's [`Past`] read history only for what changed before `at`).
#[hook]
pub fn use_households_as_of(at: Option<Timestamp>) -> UseReducerHandle<AsOf> {
    let session = use_session();
    let desk = use_desk();
    let state = use_reducer(AsOf::default);
    let generations = use_mut_ref(|| 0_u64);
    {
        let state = state.clone();
        let version = session.engine.households_version();
        use_effect_with((at, version), move |(at, _)| {
            let Some(at) = *at else {
                return;
            };
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
                let latest = move || *generations.borrow() == generation;
                if let Some((households, documents, unreadable)) =
                    households_as_of(&session, &desk.as_of, at, progress, latest, false).await
                {
                    state.dispatch(AsOfStep::Read(
                        generation, at, households, documents, unreadable,
                    ));
                }
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
