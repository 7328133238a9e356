//! The reports filed for a tertial and scope: loaded from the server, listed, filed anew,
//! and shown in place of today's figures.

use super::*;

/// The reports filed, as loaded from the server; `reload` asks again.
#[derive(Clone, PartialEq)]
pub(super) struct Filed {
    pub(super) list: Rc<Vec<api::FiledReportSummary>>,
    pub(super) problem: Option<String>,
    pub(super) reload: Callback<()>,
}

#[hook]
pub(super) fn use_filed_reports() -> Filed {
    let list = use_state(|| Rc::new(Vec::new()));
    let problem = use_state(|| None::<String>);
    let round = use_state(|| 0_u32);
    {
        let (list, problem) = (list.clone(), problem.clone());
        use_effect_with(*round, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::filed_reports().await {
                    Ok(filed) => {
                        problem.set(None);
                        list.set(Rc::new(filed));
                    }
                    Err(error) => {
                        problem.set(Some(t1("filed-load-failed", "error", error.to_string())))
                    }
                }
            });
        });
    }
    let reload = {
        let round = round.clone();
        Callback::from(move |()| round.set(*round + 1))
    };
    Filed {
        list: (*list).clone(),
        problem: (*problem).clone(),
        reload,
    }
}

pub(super) struct FiledSection<'a> {
    pub(super) tertial: Tertial,
    pub(super) scope: Option<String>,
    pub(super) here: &'a [api::FiledReportSummary],
    pub(super) shown: UseStateHandle<Option<Rc<api::FiledReport>>>,
    pub(super) list: Filed,
    pub(super) over: bool,
    pub(super) may_file: bool,
    pub(super) directory: &'a crate::views::desk::Directory,
    /// Why filing failed, when it did.
    pub(super) problem: UseStateHandle<Option<String>>,
}

/// Filing the report, and the reports filed for this tertial and scope: each can be shown
/// in place of today's figures, as it was filed.
pub(super) fn filed_section(section: &FiledSection<'_>) -> Html {
    let on_file = {
        let (tertial, scope, shown, reload, problem) = (
            section.tertial,
            section.scope.clone(),
            section.shown.clone(),
            section.list.reload.clone(),
            section.problem.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (scope, shown, reload, problem) = (
                scope.clone(),
                shown.clone(),
                reload.clone(),
                problem.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::file_report(tertial, scope.as_deref()).await {
                    Ok(filed) => {
                        problem.set(None);
                        shown.set(Some(Rc::new(filed)));
                    }
                    Err(error) => problem.set(Some(t1("filed-failed", "error", error.to_string()))),
                }
                reload.emit(());
            });
        })
    };
    let show = |id: i64| {
        let shown = section.shown.clone();
        Callback::from(move |_: MouseEvent| {
            let shown = shown.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(filed) = api::filed_report(id).await {
                    shown.set(Some(Rc::new(filed)));
                }
            });
        })
    };
    let show_live = {
        let shown = section.shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(None))
    };
    let showing = section.shown.as_ref().map(|filed| filed.summary.id);
    html! {
        <section class="filed no-print" aria-labelledby="filed-title">
            <h2 id="filed-title">{ t("filed-title") }</h2>
            if section.here.is_empty() {
                <p class="meta">{ t("filed-none") }</p>
            } else {
                <ul class="plain filed-list">
                    { for section.here.iter().map(|entry| html! {
                        <li>
                            { i18n::t_args("filed-entry", &[
                                ("when", i18n::date_time(lots_core::Timestamp::from_millis(entry.filed_at)).into()),
                                ("by", section.directory.person_name(&entry.filed_by).into()),
                            ]) }
                            { " " }
                            if showing == Some(entry.id) {
                                <button onclick={show_live.clone()}>{ t("filed-show-live") }</button>
                            } else {
                                <button onclick={show(entry.id)}>{ t("filed-show") }</button>
                            }
                        </li>
                    }) }
                </ul>
            }
            if !section.over {
                <p class="meta">{ t1("filed-not-over", "date", i18n::date(section.tertial.end())) }</p>
            } else if !section.may_file {
                <p class="meta">{ t("filed-not-every-district") }</p>
            } else {
                <button class="primary" onclick={on_file}>{ t1(if section.here.is_empty() { "filed-file" } else { "filed-file-again" }, "tertial", section.tertial.to_string()) }</button>
                <p class="meta">{ t("filed-explained") }</p>
            }
            if let Some(problem) = section.list.problem.as_ref().or(section.problem.as_ref()) {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
        </section>
    }
}
