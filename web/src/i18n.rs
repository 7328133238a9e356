//! Every string the app shows comes from a Fluent file (`web/locales/*.ftl`): Swedish by
//! default, English selectable. Dates and times are always written the Swedish way.

use std::cell::RefCell;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use lots_core::{Date, Timestamp};
use unic_langid::{LanguageIdentifier, langid};

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Svenska (the default).
    Swedish,
    /// English.
    English,
}

impl Language {
    /// Both, in the order the picker shows them.
    pub const ALL: [Language; 2] = [Language::Swedish, Language::English];

    /// The BCP 47 tag, also stored as the person's choice.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Swedish => "sv",
            Language::English => "en",
        }
    }

    /// Its name in itself.
    pub fn name(self) -> &'static str {
        match self {
            Language::Swedish => "Svenska",
            Language::English => "English",
        }
    }

    /// From a stored tag; anything else is Swedish.
    pub fn from_tag(tag: &str) -> Self {
        if tag == "en" {
            Language::English
        } else {
            Language::Swedish
        }
    }

    fn source(self) -> (&'static str, LanguageIdentifier) {
        match self {
            Language::Swedish => (include_str!("../locales/sv.ftl"), langid!("sv")),
            Language::English => (include_str!("../locales/en.ftl"), langid!("en")),
        }
    }
}

thread_local! {
    static BUNDLE: RefCell<(Language, FluentBundle<FluentResource>)> =
        RefCell::new((Language::Swedish, bundle(Language::Swedish)));
}

fn bundle(language: Language) -> FluentBundle<FluentResource> {
    let (source, id) = language.source();
    let mut bundle = FluentBundle::new(vec![id]);
    // No Unicode isolation marks around arguments: the app is left-to-right only.
    bundle.set_use_isolating(false);
    match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => {
            if let Err(errors) = bundle.add_resource(resource) {
                web_log(&format!("translation file {}: {errors:?}", language.tag()));
            }
        }
        Err((_, errors)) => web_log(&format!("translation file {}: {errors:?}", language.tag())),
    }
    bundle
}

fn web_log(message: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::error_1(&message.into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}

/// Where the person's choice of language is kept on the device (both the sign-in and the
/// whole app read it).
const LANGUAGE_KEY: &str = "lots-language";

/// The language this device was last set to; Swedish when none.
pub fn stored_language() -> Language {
    let tag = web_sys::window()
        .and_then(|window| window.local_storage().ok().flatten())
        .and_then(|storage| storage.get_item(LANGUAGE_KEY).ok().flatten())
        .unwrap_or_default();
    Language::from_tag(&tag)
}

/// Switches to `language` and keeps the choice on the device.
pub fn choose_language(language: Language) {
    if let Some(storage) =
        web_sys::window().and_then(|window| window.local_storage().ok().flatten())
    {
        let _ = storage.set_item(LANGUAGE_KEY, language.tag());
    }
    set_language(language);
}

/// Switches the language of everything formatted from now on.
pub fn set_language(language: Language) {
    BUNDLE.with(|cell| {
        let mut current = cell.borrow_mut();
        if current.0 != language {
            *current = (language, bundle(language));
        }
    });
}

/// The language in use.
pub fn language() -> Language {
    BUNDLE.with(|cell| cell.borrow().0)
}

/// The message `key`; its key itself when the file lacks it (visible, never a crash).
pub fn t(key: &str) -> String {
    format(key, None)
}

/// The message `key` with arguments.
pub fn t_args(key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    format(key, Some(&fluent_args))
}

/// The message `key` with one text argument.
pub fn t1(key: &str, name: &str, value: impl Into<String>) -> String {
    t_args(key, &[(name, FluentValue::from(value.into()))])
}

/// The message `key` with a count (plural forms).
pub fn t_count(key: &str, count: usize) -> String {
    t_args(key, &[("count", FluentValue::from(count))])
}

/// The message `key`, or `None` when the file lacks it.
pub fn try_t(key: &str) -> Option<String> {
    let exists = BUNDLE.with(|cell| cell.borrow().1.has_message(key));
    exists.then(|| t(key))
}

/// The name of a language from the ISO 639 code a phone records ("prs" → "dari"); a code the
/// app does not know is shown as recorded.
pub fn language_name(code: &str) -> String {
    try_t(&format!("language-name-{code}")).unwrap_or_else(|| code.to_owned())
}

/// Language names from their codes, joined for a line of text: "dari, engelska".
pub fn language_names<'a>(codes: impl IntoIterator<Item = &'a String>) -> String {
    codes
        .into_iter()
        .map(|code| language_name(code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label of one of core's codes: `prefix-code`.
pub fn code(prefix: &str, code: &str) -> String {
    t(&format!("{prefix}-{code}"))
}

fn format(key: &str, args: Option<&FluentArgs<'_>>) -> String {
    BUNDLE.with(|cell| {
        let current = cell.borrow();
        let bundle = &current.1;
        let Some(pattern) = bundle.get_message(key).and_then(|message| message.value()) else {
            web_log(&format!("missing translation {key}"));
            return key.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            web_log(&format!("translation {key}: {errors:?}"));
        }
        text.into_owned()
    })
}

const WEEKDAYS_SV: [&str; 7] = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The calendar day of an instant, in Sweden: the app counts days as the municipality
/// does, whatever the device's time zone.
pub fn local_date(at: Timestamp) -> Date {
    at.date()
}

/// `14:32`, Swedish time.
pub fn time(at: Timestamp) -> String {
    let minutes = at.swedish_minutes_of_day();
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `2026-11-23` — the Swedish way to write a date.
pub fn date(date: Date) -> String {
    date.to_string()
}

/// `mån 23/11 14:32`, local time.
pub fn date_time(at: Timestamp) -> String {
    let day = local_date(at);
    let weekday = weekday_index(day);
    let names = match language() {
        Language::Swedish => WEEKDAYS_SV,
        Language::English => WEEKDAYS_EN,
    };
    format!(
        "{} {}/{} {}",
        names[weekday],
        day.day(),
        day.month(),
        time(at)
    )
}

/// Monday = 0.
fn weekday_index(day: Date) -> usize {
    // 1970-01-01 was a Thursday (index 3).
    let epoch = Date::from_ymd(1970, 1, 1).unwrap_or(day);
    (epoch.days_until(day) + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_message_and_plurals() {
        for language in Language::ALL {
            set_language(language);
            assert_ne!(t("signin-title"), "signin-title");
            assert_ne!(t_count("status-waiting", 2), "status-waiting");
            assert_ne!(code("topic", "letters"), "topic-letters");
        }
        set_language(Language::Swedish);
        assert_eq!(t_count("status-waiting", 1), "1 ändring väntar");
        assert_eq!(t_count("status-waiting", 3), "3 ändringar väntar");
    }

    #[test]
    fn every_code_has_a_label() {
        use lots_core::*;
        for language in Language::ALL {
            set_language(language);
            let mut keys = Vec::new();
            keys.extend(Topic::ALL.iter().map(|c| format!("topic-{}", c.code())));
            keys.extend(Agency::ALL.iter().map(|c| format!("agency-{}", c.code())));
            keys.extend(
                HousingForm::ALL
                    .iter()
                    .map(|c| format!("housing-{}", c.code())),
            );
            keys.extend(
                ArrivalRoute::ALL
                    .iter()
                    .map(|c| format!("route-{}", c.code())),
            );
            keys.extend(
                CloseReason::ALL
                    .iter()
                    .map(|c| format!("close-{}", c.code())),
            );
            keys.extend(GoalArea::ALL.iter().map(|c| format!("goal-{}", c.code())));
            keys.extend(
                GoalStatus::ALL
                    .iter()
                    .map(|c| format!("goal-status-{}", c.code())),
            );
            keys.extend(
                StepStatus::ALL
                    .iter()
                    .map(|c| format!("step-status-{}", c.code())),
            );
            keys.extend(
                VisitStatus::ALL
                    .iter()
                    .map(|c| format!("visit-status-{}", c.code())),
            );
            keys.extend(
                InterpreterMode::ALL
                    .iter()
                    .map(|c| format!("mode-{}", c.code())),
            );
            keys.extend(OwnerKind::ALL.iter().map(|c| format!("owner-{}", c.code())));
            keys.extend(Gender::ALL.iter().map(|c| format!("gender-{}", c.code())));
            for key in keys {
                assert_ne!(t(&key), key, "{} lacks {key}", language.tag());
            }
        }
    }

    #[test]
    fn both_files_have_the_same_messages() {
        let ids = |source: &str| -> std::collections::BTreeSet<String> {
            source
                .lines()
                .filter(|line| {
                    line.starts_with(|c: char| c.is_ascii_lowercase()) && line.contains(" =")
                })
                .filter_map(|line| line.split(" =").next().map(str::to_owned))
                .collect()
        };
        let swedish = ids(Language::Swedish.source().0);
        let english = ids(Language::English.source().0);
        assert_eq!(
            swedish.difference(&english).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "only in sv.ftl"
        );
        assert_eq!(
            english.difference(&swedish).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "only in en.ftl"
        );
    }

    #[test]
    fn every_refusal_and_quarantine_status_has_words() {
        for language in Language::ALL {
            set_language(language);
            for reason in crate::refused::Reason::ALL {
                let key = format!("refused-reason-{}", reason.code());
                assert_ne!(t(&key), key, "{} lacks {key}", language.tag());
            }
            for status in ["pending", "accepted", "rejected"] {
                let key = format!("quarantine-status-{status}");
                assert_ne!(t(&key), key, "{} lacks {key}", language.tag());
            }
            let notice = t_args(
                "refused-notice",
                &[
                    ("household", "Storgatan 1".into()),
                    ("reason", t("refused-reason-clock").into()),
                ],
            );
            assert!(notice.contains("Storgatan 1"), "{notice}");
        }
        set_language(Language::Swedish);
        assert!(t_count("status-held-back", 1).starts_with("1 hushåll"));
    }

    #[test]
    fn every_kind_of_kept_text_has_words() {
        for language in Language::ALL {
            set_language(language);
            for what in crate::replay::What::ALL {
                let key = format!("kept-what-{}", what.code());
                assert_ne!(t(&key), key, "{} lacks {key}", language.tag());
            }
        }
        set_language(Language::Swedish);
        assert_eq!(t("kept-title"), "Det du skrev som servern inte tog emot");
    }

    #[test]
    fn languages_are_named_not_coded() {
        let codes = ["prs".to_owned(), "en".to_owned()];
        set_language(Language::Swedish);
        assert_eq!(language_names(&codes), "dari, engelska");
        assert_eq!(
            language_name("xx"),
            "xx",
            "an unknown code is shown as recorded"
        );
        set_language(Language::English);
        assert_eq!(language_names(&codes), "Dari, English");
        set_language(Language::Swedish);
        // Every language the synthetic households speak has a name in both languages.
        for code in ["ar", "prs", "fa", "so", "ti", "uk", "en", "sv"] {
            for language in Language::ALL {
                set_language(language);
                assert_ne!(language_name(code), code, "{} lacks {code}", language.tag());
            }
        }
        set_language(Language::Swedish);
    }

    #[test]
    fn dates_are_written_the_swedish_way() {
        let day = Date::from_ymd(2026, 11, 23).unwrap();
        assert_eq!(date(day), "2026-11-23");
        assert_eq!(weekday_index(day), 0, "2026-11-23 is a Monday");
        let at = Timestamp::start_of(day).plus_minutes(13 * 60 + 32);
        set_language(Language::Swedish);
        assert_eq!(date_time(at), "mån 23/11 13:32");
    }
}
