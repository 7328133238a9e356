//! Report tables as plain rows of numbers, their labels, and their CSV export.
//!
//! A table's headers and row names are [`Label`]s, not strings. Each label has a stable
//! machine key ([`Label::key`]: `female_18_24`, `closed_work`, `budget`), which is what CSV
//! carries unless the caller supplies a [`Labeller`]: the web app passes one that looks each
//! label up in its Fluent bundle, so the same table exports with Swedish or English headers
//! while core stays free of translations.

use std::borrow::Cow;
use std::io;

use crate::ids::DistrictId;
use crate::report::split::{AgeBand, GenderAgeSplit};
use crate::schema::codes::{CloseReason, Gender, GoalArea, Topic, VisitStatus};

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// Households supported, new and closed (by reason), with their people.
    Cases,
    /// Visits by status.
    Visits,
    /// Interpreter use by language.
    Interpreters,
    /// Topics covered at visits.
    Topics,
    /// Plan goals reached, by area.
    GoalsReached,
    /// The cost share between districts.
    CostShare,
}

impl TableKind {
    /// The stable key, also a good file name stem: `cases`, `goals_reached`, …
    pub const fn key(self) -> &'static str {
        match self {
            TableKind::Cases => "cases",
            TableKind::Visits => "visits",
            TableKind::Interpreters => "interpreters",
            TableKind::Topics => "topics",
            TableKind::GoalsReached => "goals_reached",
            TableKind::CostShare => "cost_share",
        }
    }
}

/// A column that is not part of a gender and age split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The row names of the cases table.
    CaseFigure,
    /// The row names of the visits table.
    VisitStatus,
    /// The row names of the interpreters table.
    Language,
    /// The row names of the topics table.
    Topic,
    /// The row names of the goals table.
    GoalArea,
    /// The row names of the cost-share table.
    District,
    /// Households.
    Households,
    /// Visits.
    Visits,
    /// Visits with the interpreter in the room.
    InPerson,
    /// Visits with the interpreter on the phone.
    Phone,
    /// Minutes of visits with an interpreter.
    Minutes,
    /// Visits with an interpreter whose length was not recorded.
    VisitsWithoutMinutes,
    /// Plan goals.
    Goals,
    /// People: the total of the split that follows.
    People,
    /// Registered newcomers aged 18–64.
    Newcomers,
    /// The share's numerator (the district's newcomers).
    ShareNumerator,
    /// The share's denominator (all districts' newcomers).
    ShareDenominator,
    /// The share in thousandths, rounded so that the districts' add up to 1,000.
    PerMille,
    /// The district's amount in öre.
    AmountOre,
}

impl Column {
    const fn key(self) -> &'static str {
        match self {
            Column::CaseFigure => "case_figure",
            Column::VisitStatus => "visit_status",
            Column::Language => "language",
            Column::Topic => "topic",
            Column::GoalArea => "goal_area",
            Column::District => "district",
            Column::Households => "households",
            Column::Visits => "visits",
            Column::InPerson => "in_person",
            Column::Phone => "phone",
            Column::Minutes => "minutes",
            Column::VisitsWithoutMinutes => "visits_without_minutes",
            Column::Goals => "goals",
            Column::People => "people",
            Column::Newcomers => "newcomers",
            Column::ShareNumerator => "share_numerator",
            Column::ShareDenominator => "share_denominator",
            Column::PerMille => "per_mille",
            Column::AmountOre => "amount_ore",
        }
    }
}

/// The rows of the cases table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseRow {
    /// Households supported in the period.
    Supported,
    /// Cases opened in the period.
    New,
    /// Cases closed in the period.
    Closed,
    /// Cases closed in the period for one reason; `None` for a closed case with no reason.
    ClosedFor(Option<CloseReason>),
}

/// Anything a table or chart shows as text: titles, headers and row names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Label {
    /// A table's (or chart's) title.
    Table(TableKind),
    /// A column header.
    Column(Column),
    /// A column of a split: people of one gender in one age band.
    Split(Gender, AgeBand),
    /// A column of a split's gender totals, or a gender in a chart.
    Gender(Gender),
    /// A column of a split's age-band totals, or a band in a chart.
    AgeBand(AgeBand),
    /// A row of the cases table.
    Case(CaseRow),
    /// A row of the visits table.
    VisitStatus(VisitStatus),
    /// A row of the interpreters table: the language as recorded (trimmed, lower case),
    /// `None` when an interpreter took part but no language was recorded.
    Language(Option<String>),
    /// A row of the topics table.
    Topic(Topic),
    /// A row of the goals table.
    GoalArea(GoalArea),
    /// A row of the cost-share table.
    District(DistrictId),
    /// A row of totals.
    Total,
}

impl Label {
    /// The stable machine key: snake_case, made of the schema's codes where there are some.
    /// Split cells are `<gender>_<band>` (`female_0_17`), gender totals `<gender>`, band
    /// totals `age_<band>` (`age_65_plus`), close reasons `closed_<reason>`.
    pub fn key(&self) -> Cow<'_, str> {
        match self {
            Label::Table(kind) => kind.key().into(),
            Label::Column(column) => column.key().into(),
            Label::Split(gender, band) => format!("{}_{}", gender.code(), band.code()).into(),
            Label::Gender(gender) => gender.code().into(),
            Label::AgeBand(band) => format!("age_{}", band.code()).into(),
            Label::Case(CaseRow::Supported) => "supported".into(),
            Label::Case(CaseRow::New) => "new".into(),
            Label::Case(CaseRow::Closed) => "closed".into(),
            Label::Case(CaseRow::ClosedFor(Some(reason))) => {
                format!("closed_{}", reason.code()).into()
            }
            Label::Case(CaseRow::ClosedFor(None)) => "closed_not_recorded".into(),
            Label::VisitStatus(status) => status.code().into(),
            Label::Language(Some(language)) => language.as_str().into(),
            Label::Language(None) => "not_recorded".into(),
            Label::Topic(topic) => topic.code().into(),
            Label::GoalArea(area) => area.code().into(),
            Label::District(district) => district.as_str().into(),
            Label::Total => "total".into(),
        }
    }
}

impl serde::Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

/// Turns labels into the text a person reads. Any `Fn(&Label) -> String` is one, so the web
/// app passes a closure over its Fluent bundle; [`MachineKeys`] writes the stable keys.
pub trait Labeller {
    /// The text for `label`.
    fn label(&self, label: &Label) -> String;
}

impl<F: Fn(&Label) -> String> Labeller for F {
    fn label(&self, label: &Label) -> String {
        self(label)
    }
}

/// The labeller that writes every label as its stable machine key.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineKeys;

impl Labeller for MachineKeys {
    fn label(&self, label: &Label) -> String {
        label.key().into_owned()
    }
}

/// The columns of a [`GenderAgeSplit`], in the order of [`GenderAgeSplit::values`]: each
/// gender with each band, then the gender totals, then the band totals.
pub fn split_columns() -> Vec<Label> {
    let cells = Gender::ALL
        .iter()
        .flat_map(|gender| AgeBand::ALL.map(|band| Label::Split(*gender, band)));
    let genders = Gender::ALL.iter().map(|gender| Label::Gender(*gender));
    let bands = AgeBand::ALL.into_iter().map(Label::AgeBand);
    cells.chain(genders).chain(bands).collect()
}

/// One row: its name and its numbers, one per column after the first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// The row's name (the first column).
    pub key: Label,
    /// The numbers, one per remaining column.
    pub values: Vec<u64>,
}

/// A table of counts: the first column names the rows, every other column is a count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    /// Which table.
    pub kind: TableKind,
    /// Every column's header, the row-name column first.
    pub columns: Vec<Label>,
    /// The rows, in the order to show them.
    pub rows: Vec<Row>,
}

/// Why a table could not be written as CSV.
#[derive(Debug, thiserror::Error)]
#[error("could not write the table as CSV: {0}")]
pub struct CsvError(#[from] csv::Error);

impl Table {
    /// A table whose rows each carry `counts` and then a gender and age split: the headers
    /// are `key_column`, `count_columns`, people, and the split's columns.
    pub(crate) fn with_split(
        kind: TableKind,
        key_column: Column,
        count_columns: &[Column],
        rows: impl IntoIterator<Item = (Label, Vec<u64>, GenderAgeSplit)>,
    ) -> Self {
        let columns = std::iter::once(key_column)
            .chain(count_columns.iter().copied())
            .chain([Column::People])
            .map(Label::Column)
            .chain(split_columns())
            .collect();
        let rows = rows
            .into_iter()
            .map(|(key, mut values, people)| {
                values.push(people.total());
                values.extend(people.values());
                Row { key, values }
            })
            .collect();
        Self {
            kind,
            columns,
            rows,
        }
    }

    /// Writes the table as CSV (RFC 4180, comma-separated, a header row first), with the
    /// headers and row names as `labeller` gives them.
    ///
    /// A text cell that a spreadsheet would take for a formula (one starting with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return; a recorded language is free text from a phone)
    /// is written with a leading `'`, so opening the file runs nothing.
    pub fn write_csv<W: io::Write>(
        &self,
        writer: W,
        labeller: &dyn Labeller,
    ) -> Result<(), CsvError> {
        let mut csv = csv::Writer::from_writer(writer);
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|label| defuse(labeller.label(label)))
            .collect();
        csv.write_record(&header)?;
        for row in &self.rows {
            let mut record = Vec::with_capacity(1 + row.values.len());
            record.push(defuse(labeller.label(&row.key)));
            record.extend(row.values.iter().map(u64::to_string));
            csv.write_record(&record)?;
        }
        csv.flush().map_err(csv::Error::from)?;
        Ok(())
    }

    /// The table as a CSV string; see [`Table::write_csv`].
    pub fn to_csv(&self, labeller: &dyn Labeller) -> Result<String, CsvError> {
        let mut bytes = Vec::new();
        self.write_csv(&mut bytes, labeller)?;
        // Every field came from a `String`, so the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The numbers of the column headed `column`, one per row, when the table has it.
    pub fn column(&self, column: &Label) -> Option<Vec<u64>> {
        let index = self.columns.iter().position(|label| label == column)?;
        // The first header names the rows; values start at the second.
        let index = index.checked_sub(1)?;
        self.rows
            .iter()
            .map(|row| row.values.get(index).copied())
            .collect()
    }
}

/// Rows of text (the first the header) as CSV, each cell defused as in
/// [`Table::write_csv`]: for the desk's lists, whose cells are names and dates, not counts.
pub fn text_csv(rows: &[Vec<String>]) -> Result<String, CsvError> {
    let mut bytes = Vec::new();
    {
        let mut csv = csv::Writer::from_writer(&mut bytes);
        for row in rows {
            csv.write_record(row.iter().map(|cell| defuse(cell.clone())))?;
        }
        csv.flush().map_err(csv::Error::from)?;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn defuse(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut people = GenderAgeSplit::new();
        people.add(Gender::Female, AgeBand::From25To44);
        people.add(Gender::Male, AgeBand::Under18);
        Table::with_split(
            TableKind::Interpreters,
            Column::Language,
            &[Column::Visits],
            [
                (Label::Language(Some("ar".into())), vec![3], people),
                (
                    Label::Language(Some("=cmd|' /C calc'!A0".into())),
                    vec![1],
                    GenderAgeSplit::new(),
                ),
                (Label::Language(None), vec![0], GenderAgeSplit::new()),
            ],
        )
    }

    #[test]
    fn csv_with_machine_keys() {
        let csv = table().to_csv(&MachineKeys).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "language,visits,people,\
             female_0_17,female_18_24,female_25_44,female_45_64,female_65_plus,\
             male_0_17,male_18_24,male_25_44,male_45_64,male_65_plus,\
             other_0_17,other_18_24,other_25_44,other_45_64,other_65_plus,\
             female,male,other,age_0_17,age_18_24,age_25_44,age_45_64,age_65_plus"
        );
        assert_eq!(
            lines[1],
            "ar,3,2,0,0,1,0,0,1,0,0,0,0,0,0,0,0,0,1,1,0,1,0,1,0,0"
        );
        // A would-be formula is defused with a leading quote.
        assert!(
            lines[2].starts_with("'=cmd|' /C calc'!A0,1,0,"),
            "{}",
            lines[2]
        );
        assert!(lines[3].starts_with("not_recorded,0,0,"));
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn csv_with_translated_headers() {
        let swedish = |label: &Label| match label {
            Label::Column(Column::Language) => "Språk, tolk".to_owned(),
            Label::Split(Gender::Female, band) => format!("Kvinnor/flickor {}", band.label()),
            other => other.key().into_owned(),
        };
        let csv = table().to_csv(&swedish).unwrap();
        let header = csv.lines().next().unwrap();
        assert!(header.starts_with("\"Språk, tolk\",visits,people,Kvinnor/flickor 0–17,"));
    }

    #[test]
    fn columns_are_found_by_label() {
        let table = table();
        assert_eq!(
            table.column(&Label::Column(Column::Visits)),
            Some(vec![3, 1, 0])
        );
        assert_eq!(
            table.column(&Label::Gender(Gender::Male)),
            Some(vec![1, 0, 0])
        );
        assert_eq!(table.column(&Label::Column(Column::Language)), None);
        assert_eq!(table.column(&Label::Column(Column::Minutes)), None);
        assert_eq!(table.columns.len(), 1 + table.rows[0].values.len());
    }
}
