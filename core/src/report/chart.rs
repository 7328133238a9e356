//! Accessible SVG charts, rendered as strings: a horizontal bar chart and a stacked bar chart
//! (for gender and age splits).
//!
//! Each chart is an `<svg role="img">` with an `aria-label`, a `<title>` and a `<desc>` that
//! reads out every figure, so a screen reader gets the whole chart as text. Every bar carries
//! its label and its number as visible text; the parts of a stacked bar differ by pattern as
//! well as by colour (and the legend shows both), and each part has a `<title>` with its
//! series, label and number. All text from outside is escaped.

use std::fmt::Write as _;

use crate::report::split::{AgeBand, GenderAgeSplit};
use crate::report::table::{Label, Labeller, TableKind};
use crate::report::tertial::TertialReport;
use crate::schema::codes::Gender;

/// One bar: its label and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// The text beside the bar.
    pub label: String,
    /// Its length.
    pub value: u64,
}

/// One stacked bar: its label and one number per series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackedBar {
    /// The text beside the bar.
    pub label: String,
    /// One number per series, in the series' order; missing numbers count as zero and
    /// numbers beyond the series are left out.
    pub values: Vec<u64>,
}

const WIDTH: u32 = 640;
const ROW_HEIGHT: u32 = 26;
const BAR_HEIGHT: u32 = 18;
const TITLE_HEIGHT: u32 = 34;
const LEGEND_HEIGHT: u32 = 26;
const VALUE_ROOM: u32 = 56;
const CHAR_WIDTH: u32 = 7;
const BAR_COLOUR: &str = "#0072b2";
const TEXT_COLOUR: &str = "#1a1a1a";
/// Colour-blind-safe colours (after Okabe and Ito), each at least 3:1 against white.
const SERIES_COLOURS: [&str; 5] = ["#0072b2", "#c04f00", "#007a5a", "#6a3d9a", "#7a5c00"];

/// Escapes text for SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in XML.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A short id for a chart's patterns, the same for the same chart, so that several charts
/// inlined in one page do not share pattern ids (FNV-1a of the title and the text summary).
fn chart_id(title: &str, summary: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in title.bytes().chain(summary.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("lots-chart-{hash:08x}")
}

fn label_width(labels: impl Iterator<Item = usize>) -> u32 {
    let longest = labels.max().unwrap_or(0) as u32;
    (longest * CHAR_WIDTH + 12).clamp(80, 260)
}

fn open_svg(svg: &mut String, title: &str, summary: &str, height: u32) {
    let title = escape(title);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{title}\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"13\">\
         <title>{title}</title><desc>{}</desc>\
         <rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\
         <text x=\"8\" y=\"22\" font-size=\"16\" font-weight=\"bold\" fill=\"{TEXT_COLOUR}\">\
         {title}</text>",
        escape(summary),
    );
}

/// A horizontal bar chart: one labelled bar per entry, with its number at its end.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let summary = bars
        .iter()
        .map(|bar| format!("{}: {}", bar.label, bar.value))
        .collect::<Vec<_>>()
        .join("; ");
    let labels = label_width(bars.iter().map(|bar| bar.label.chars().count()));
    let room = WIDTH - labels - VALUE_ROOM;
    let max = bars.iter().map(|bar| bar.value).max().unwrap_or(0).max(1);
    let height = TITLE_HEIGHT + ROW_HEIGHT * bars.len() as u32 + 8;
    let mut svg = String::new();
    open_svg(&mut svg, title, &summary, height);
    for (index, bar) in bars.iter().enumerate() {
        let y = TITLE_HEIGHT + ROW_HEIGHT * index as u32;
        let length = scale(bar.value, max, room);
        let text_y = y + BAR_HEIGHT / 2 + 5;
        let _ = write!(
            svg,
            "<g><text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\" fill=\"{TEXT_COLOUR}\">{}</text>\
             <rect x=\"{labels}\" y=\"{y}\" width=\"{length}\" height=\"{BAR_HEIGHT}\" \
             fill=\"{BAR_COLOUR}\"><title>{}: {}</title></rect>\
             <text x=\"{}\" y=\"{text_y}\" fill=\"{TEXT_COLOUR}\">{}</text></g>",
            labels - 6,
            escape(&bar.label),
            escape(&bar.label),
            bar.value,
            labels + length + 4,
            bar.value,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A stacked horizontal bar chart: one bar per entry, split into one part per series, with
/// a legend and each bar's total at its end.
pub fn stacked_bar_chart(title: &str, series: &[String], bars: &[StackedBar]) -> String {
    let value = |bar: &StackedBar, index: usize| bar.values.get(index).copied().unwrap_or(0);
    let total = |bar: &StackedBar| {
        (0..series.len())
            .map(|index| value(bar, index))
            .sum::<u64>()
    };
    let summary = bars
        .iter()
        .map(|bar| {
            let parts = series
                .iter()
                .enumerate()
                .map(|(index, name)| format!("{name} {}", value(bar, index)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}: {} ({parts})", bar.label, total(bar))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let id = chart_id(title, &summary);
    let labels = label_width(bars.iter().map(|bar| bar.label.chars().count()));
    let room = WIDTH - labels - VALUE_ROOM;
    let max = bars.iter().map(total).max().unwrap_or(0).max(1);
    let top = TITLE_HEIGHT + LEGEND_HEIGHT;
    let height = top + ROW_HEIGHT * bars.len() as u32 + 8;
    let mut svg = String::new();
    open_svg(&mut svg, title, &summary, height);
    svg.push_str("<defs>");
    for index in 0..series.len() {
        svg.push_str(&pattern(&id, index));
    }
    svg.push_str("</defs>");
    // The legend: a swatch with the series' pattern and its name.
    let mut x = 8;
    for (index, name) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"url(#{id}-{index})\" \
             stroke=\"{TEXT_COLOUR}\" stroke-width=\"0.5\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"{TEXT_COLOUR}\">{}</text>",
            TITLE_HEIGHT - 2,
            x + 19,
            TITLE_HEIGHT + 10,
            escape(name),
        );
        x += 19 + name.chars().count() as u32 * CHAR_WIDTH + 18;
    }
    for (row, bar) in bars.iter().enumerate() {
        let y = top + ROW_HEIGHT * row as u32;
        let text_y = y + BAR_HEIGHT / 2 + 5;
        let _ = write!(
            svg,
            "<g><text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\" fill=\"{TEXT_COLOUR}\">{}</text>",
            labels - 6,
            escape(&bar.label),
        );
        // Parts start where the running total before them ends, so rounding never leaves
        // a gap or an overlap between them.
        let mut before = 0;
        for (index, name) in series.iter().enumerate() {
            let part = value(bar, index);
            if part == 0 {
                continue;
            }
            let start = scale(before, max, room);
            before += part;
            let end = scale(before, max, room);
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{BAR_HEIGHT}\" \
                 fill=\"url(#{id}-{index})\" stroke=\"#ffffff\" stroke-width=\"1\">\
                 <title>{}, {}: {part}</title></rect>",
                labels + start,
                end - start,
                escape(name),
                escape(&bar.label),
            );
            // The part's number inside it when it fits, dark on a white halo so that it
            // reads over any colour and pattern.
            let digits = part.to_string().len() as u32;
            if end - start >= digits * CHAR_WIDTH + 10 {
                let _ = write!(
                    svg,
                    "<text x=\"{}\" y=\"{text_y}\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\" \
                     stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" \
                     aria-hidden=\"true\">{part}</text>",
                    labels + (start + end) / 2,
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{text_y}\" fill=\"{TEXT_COLOUR}\">{}</text></g>",
            labels + scale(before, max, room) + 4,
            total(bar),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The fill of series `index`: its colour, overlaid with white marks of its own kind
/// (none, diagonal lines, dots, horizontal lines, crossed lines) so parts differ without
/// colour.
fn pattern(id: &str, index: usize) -> String {
    let colour = SERIES_COLOURS[index % SERIES_COLOURS.len()];
    let marks = match index % SERIES_COLOURS.len() {
        0 => "",
        1 => {
            "<path d=\"M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>"
        }
        2 => "<circle cx=\"4\" cy=\"4\" r=\"1.6\" fill=\"#ffffff\"/>",
        3 => "<path d=\"M0,4 h8\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>",
        _ => "<path d=\"M0,0 l8,8 M8,0 l-8,8\" stroke=\"#ffffff\" stroke-width=\"1.2\"/>",
    };
    format!(
        "<pattern id=\"{id}-{index}\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\">\
         <rect width=\"8\" height=\"8\" fill=\"{colour}\"/>{marks}</pattern>"
    )
}

/// `value` of `max` as a length out of `room` pixels, rounded to the nearest pixel.
fn scale(value: u64, max: u64, room: u32) -> u32 {
    let length = (u128::from(value) * u128::from(room) + u128::from(max) / 2) / u128::from(max);
    u32::try_from(length).unwrap_or(room)
}

/// A split as a stacked bar chart: one bar per age band, split by gender.
pub fn split_chart(title: &str, split: &GenderAgeSplit, labeller: &dyn Labeller) -> String {
    let series: Vec<String> = Gender::ALL
        .iter()
        .map(|gender| labeller.label(&Label::Gender(*gender)))
        .collect();
    let bars: Vec<StackedBar> = AgeBand::ALL
        .iter()
        .map(|band| StackedBar {
            label: labeller.label(&Label::AgeBand(*band)),
            values: Gender::ALL
                .iter()
                .map(|gender| split.get(*gender, *band))
                .collect(),
        })
        .collect();
    stacked_bar_chart(title, &series, &bars)
}

impl TertialReport {
    /// The people supported, by age band and gender, under `title` (the tables have no
    /// label of their own for people: their rows count households, their columns people).
    pub fn people_chart(&self, title: &str, labeller: &dyn Labeller) -> String {
        split_chart(title, &self.supported.people, labeller)
    }

    /// Done visits per topic, the topics dealt with at least once, most visits first.
    pub fn topics_chart(&self, labeller: &dyn Labeller) -> String {
        let mut topics: Vec<_> = self
            .topics
            .iter()
            .filter(|row| row.visits.count > 0)
            .collect();
        topics.sort_by_key(|row| std::cmp::Reverse(row.visits.count));
        let bars: Vec<Bar> = topics
            .iter()
            .map(|row| Bar {
                label: labeller.label(&Label::Topic(row.topic)),
                value: row.visits.count,
            })
            .collect();
        bar_chart(&labeller.label(&Label::Table(TableKind::Topics)), &bars)
    }

    /// Visits with an interpreter, per language.
    pub fn interpreters_chart(&self, labeller: &dyn Labeller) -> String {
        let bars: Vec<Bar> = self
            .interpreters
            .iter()
            .map(|row| Bar {
                label: labeller.label(&Label::Language(row.language.clone())),
                value: row.visits,
            })
            .collect();
        bar_chart(
            &labeller.label(&Label::Table(TableKind::Interpreters)),
            &bars,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::MachineKeys;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom & Jerry's\"</b>\u{0007}"),
            "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"
        );
        let svg = bar_chart(
            "Språk & <tolk>",
            &[Bar {
                label: "\"><script>alert(1)</script>".into(),
                value: 2,
            }],
        );
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<tolk>"));
        assert!(svg.contains("aria-label=\"Språk &amp; &lt;tolk&gt;\""));
        assert!(svg.contains("&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn bar_charts_label_every_bar() {
        let bars = [
            Bar {
                label: "Budget".into(),
                value: 10,
            },
            Bar {
                label: "Letters".into(),
                value: 5,
            },
            Bar {
                label: "SFI".into(),
                value: 0,
            },
        ];
        let svg = bar_chart("Topics", &bars);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
        assert!(svg.contains("<title>Topics</title>"));
        assert!(svg.contains("<desc>Budget: 10; Letters: 5; SFI: 0</desc>"));
        for text in [
            ">Budget</text>",
            ">10</text>",
            ">Letters</text>",
            ">5</text>",
            ">0</text>",
        ] {
            assert!(svg.contains(text), "{text} in {svg}");
        }
        // The longest bar fills the room; half the value is half the length.
        let room = WIDTH - label_width([6, 7, 3].into_iter()) - VALUE_ROOM;
        assert!(svg.contains(&format!("width=\"{room}\" height=\"{BAR_HEIGHT}\"")));
        assert!(svg.contains(&format!("width=\"{}\" height=\"{BAR_HEIGHT}\"", room / 2)));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn empty_charts_still_render() {
        let svg = bar_chart("Nothing", &[]);
        assert!(svg.contains("<desc></desc>"));
        let svg = stacked_bar_chart("Nothing", &["a".into()], &[]);
        assert!(svg.contains("<title>Nothing</title>"));
    }

    #[test]
    fn stacked_parts_differ_by_pattern_and_carry_their_numbers() {
        let mut split = GenderAgeSplit::new();
        split.add(Gender::Female, AgeBand::From25To44);
        split.add(Gender::Female, AgeBand::From25To44);
        split.add(Gender::Male, AgeBand::From25To44);
        split.add(Gender::Other, AgeBand::Under18);
        let svg = split_chart("People", &split, &MachineKeys);
        assert!(svg.contains(
            "<desc>age_0_17: 1 (female 0, male 0, other 1); age_18_24: 0 (female 0, male 0, \
             other 0); age_25_44: 3 (female 2, male 1, other 0); age_45_64: 0 (female 0, male \
             0, other 0); age_65_plus: 0 (female 0, male 0, other 0)</desc>"
        ));
        assert!(svg.contains("<title>female, age_25_44: 2</title>"));
        assert!(svg.contains("<title>male, age_25_44: 1</title>"));
        assert!(svg.contains("<title>other, age_0_17: 1</title>"));
        // Three patterns, each with its own marks, and a legend naming each.
        let id = svg
            .split("<pattern id=\"")
            .nth(1)
            .and_then(|rest| rest.split("-0\"").next())
            .unwrap();
        for index in 0..3 {
            assert!(svg.contains(&format!("fill=\"url(#{id}-{index})\"")));
        }
        assert!(svg.contains("<circle"), "dots mark the third series");
        for name in [">female</text>", ">male</text>", ">other</text>"] {
            assert!(svg.contains(name));
        }
        // Wide parts show their number too.
        assert!(svg.contains("paint-order=\"stroke\" aria-hidden=\"true\">2</text>"));
        // Every part is drawn once: the empty ones are not drawn at all.
        assert_eq!(svg.matches("<title>").count(), 1 + 3);
    }

    #[test]
    fn stacked_parts_meet_without_gaps() {
        let bars = [StackedBar {
            label: "x".into(),
            values: vec![1, 1, 1],
        }];
        let series: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let svg = stacked_bar_chart("Thirds", &series, &bars);
        let room = WIDTH - label_width([1].into_iter()) - VALUE_ROOM;
        let widths: u32 = svg
            .split("<rect x=\"")
            .skip(1)
            .filter(|part| part.contains("<title>"))
            .map(|part| {
                let width = part.split("width=\"").nth(1).unwrap();
                width.split('"').next().unwrap().parse::<u32>().unwrap()
            })
            .sum();
        assert_eq!(widths, room);
    }
}
