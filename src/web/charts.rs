//! Server-drawn SVG charts (the referral dashboard, the certification
//! funnel, item analysis): plain functions that lay out axes with round tick
//! values, bars, a legend naming every series and the labels, in SVG units,
//! so that `templates/charts/chart.html` only copies numbers into attributes.
//! No script and no inline style: colours come from the classes in
//! static/app.css (`s1`…`s3`, `flag`, `grid`, `axis`, `ref`).
//!
//! Every chart is [`WIDTH`] units wide and scales to its column (CSS
//! `width: 100%`): on a 390 px phone the column is about 358 px, so text of
//! [`FONT`] units renders at 12.4 px or more, even with a scroll bar.

use crate::domain::numbers::{count_f64, whole_usize};

/// The viewBox width.
pub const WIDTH: f64 = 360.0;
/// Text size in SVG units.
pub const FONT: f64 = 13.0;
/// One line of text.
const LINE: f64 = 18.0;
/// From the top of a line of text to its baseline.
const BASELINE: f64 = 13.0;
/// Half a digit's height: added to a centre to get the baseline.
const HALF_DIGIT: f64 = 4.5;
const SWATCH: f64 = 12.0;
/// A horizontal bar's thickness.
const BAR: f64 = 14.0;
/// The height of a column chart's plot.
const PLOT_HEIGHT: f64 = 110.0;

/// One series of values, with its legend name and its colour class.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub class: &'static str,
}

impl Series {
    pub fn new(name: String, class: &'static str) -> Series {
        Series { name, class }
    }
}

/// What a chart is called: `id` names its `<title>` (the `aria-labelledby`
/// target), `title` is its accessible name, `caption` the visible text under
/// it (also its `<desc>`), `table` the summary of the data table.
#[derive(Debug, Clone)]
pub struct Captions {
    pub id: String,
    pub title: String,
    pub caption: String,
    pub table: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub class: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub class: &'static str,
    /// Shown on hover; empty for legend swatches.
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub x: f64,
    pub y: f64,
    /// `start`, `middle` or `end`.
    pub anchor: &'static str,
    /// `tick`, `legend`, `axis-title`, `label`, `value` or `note`.
    pub class: &'static str,
    pub text: String,
}

/// The same numbers as a table, for screen readers and exact reading.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub summary: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A laid-out chart: drawn in order grid and axes, bars, marks over the bars
/// (reference lines), texts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub caption: String,
    pub width: f64,
    pub height: f64,
    pub font_size: f64,
    pub lines: Vec<Line>,
    pub rects: Vec<Rect>,
    pub marks: Vec<Line>,
    pub texts: Vec<Text>,
    /// The legend's entries, in order (also drawn among `rects`, `marks` and
    /// `texts`).
    pub legend: Vec<String>,
    pub table: Table,
}

impl Chart {
    fn new(c: Captions) -> Chart {
        Chart {
            id: c.id,
            title: c.title,
            caption: c.caption,
            width: WIDTH,
            height: 0.0,
            font_size: FONT,
            lines: Vec::new(),
            rects: Vec::new(),
            marks: Vec::new(),
            texts: Vec::new(),
            legend: Vec::new(),
            table: Table {
                summary: c.table,
                ..Table::default()
            },
        }
    }

    fn text(&mut self, x: f64, y: f64, anchor: &'static str, class: &'static str, text: &str) {
        self.texts.push(Text {
            x: round(x),
            y: round(y),
            anchor,
            class,
            text: text.to_owned(),
        });
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), class: &'static str) {
        self.lines.push(Line {
            x1: round(x1),
            y1: round(y1),
            x2: round(x2),
            y2: round(y2),
            class,
        });
    }

    /// The legend from `top`, wrapping to more rows when needed: a swatch
    /// per series, then a dashed line for the reference lines if any.
    /// Returns the y below it.
    fn draw_legend(&mut self, series: &[&Series], reference: Option<&str>, top: f64) -> f64 {
        let mut x = 0.0;
        let mut y = top;
        let mut place = |chart: &mut Chart, name: &str| {
            let width = SWATCH + 4.0 + text_width(name);
            if x > 0.0 && x + width > WIDTH {
                x = 0.0;
                y += LINE + 2.0;
            }
            let at = (x, y);
            x += width + 14.0;
            chart.legend.push(name.to_owned());
            chart.text(
                at.0 + SWATCH + 4.0,
                at.1 + BASELINE,
                "start",
                "legend",
                name,
            );
            at
        };
        for s in series {
            let (sx, sy) = place(self, &s.name);
            self.rects.push(Rect {
                x: round(sx),
                y: round(sy + (LINE - SWATCH) / 2.0),
                width: SWATCH,
                height: SWATCH,
                class: s.class,
                title: String::new(),
            });
        }
        if let Some(name) = reference {
            let (sx, sy) = place(self, name);
            self.marks.push(Line {
                x1: round(sx),
                y1: round(sy + LINE / 2.0),
                x2: round(sx + SWATCH),
                y2: round(sy + LINE / 2.0),
                class: "ref",
            });
        }
        y + LINE
    }
}

/// Round tick values from 0 that cover `max`: steps of 1, 2 or 5 times a
/// power of ten, at most `most` steps, whole numbers when `whole`.
pub fn ticks(max: f64, most: usize, whole: bool) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let most = count(most.max(1));
    let power = 10f64.powf((max / most).log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| max / s <= most + 1e-9)
        .unwrap_or(10.0 * power);
    if whole {
        step = step.max(1.0);
    }
    // A handful of ticks (the step is a round fraction of the maximum).
    let n = whole_usize((max / step - 1e-9).ceil().max(1.0));
    let places = decimals(step);
    (0..=n)
        .map(|i| {
            // A few decimals: always fits.
            let scale = 10f64.powi(i32::try_from(places).unwrap_or(0));
            (count(i) * step * scale).round() / scale
        })
        .collect()
}

/// How many decimals a tick step needs.
// A step below 1: a few decimals, positive and small.
fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        whole_usize(-step.log10().floor())
    }
}

/// A tick label: as many decimals as the step needs.
fn tick_label(v: f64, ticks: &[f64]) -> String {
    let step = ticks.get(1).copied().unwrap_or(1.0);
    format!("{v:.*}", decimals(step))
}

/// A value: whole numbers without decimals, others with two.
pub fn show(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// An estimate of a text's width in SVG units, on the wide side: CJK
/// characters are a full em, others at most about 0.62 em.
pub fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if is_wide(c) { 1.0 } else { 0.62 })
        .sum::<f64>()
        * FONT
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// To a tenth of a unit, so the attributes stay short.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

// ----- columns: categories along the x axis -----

/// A category along the x axis: `label` under its columns, `note` on a
/// second line where it starts a group (a month's year), `name` in titles
/// and the table.
#[derive(Debug, Clone)]
pub struct Category {
    pub label: String,
    pub note: Option<String>,
    pub name: String,
}

/// One plot of a column chart with its own y axis; the panels of a chart
/// share the categories, so series of very different sizes (first visits
/// and referrals) each get a readable scale.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The y axis title, above the plot.
    pub title: String,
    /// Each series with one value per category.
    pub series: Vec<(Series, Vec<f64>)>,
}

/// Grouped columns, one panel under the other: the legend on top, each
/// panel with its axis title, round ticks and gridlines, the category
/// labels and the x axis title at the bottom. The table has a row per
/// category and a column per series.
pub fn columns(c: Captions, x_title: &str, categories: &[Category], panels: &[Panel]) -> Chart {
    let mut chart = Chart::new(c);
    let all: Vec<&Series> = panels
        .iter()
        .flat_map(|p| p.series.iter().map(|(s, _)| s))
        .collect();
    let mut y = chart.draw_legend(&all, None, 0.0) + 4.0;
    let scales: Vec<Vec<f64>> = panels
        .iter()
        .map(|p| {
            let max = p
                .series
                .iter()
                .flat_map(|(_, v)| v.iter().copied())
                .fold(0.0, f64::max);
            ticks(max, 5, true)
        })
        .collect();
    let tick_width = scales
        .iter()
        .flat_map(|t| t.iter().map(|v| text_width(&tick_label(*v, t))))
        .fold(0.0, f64::max);
    let x0 = (tick_width + 8.0).max(20.0);
    let x1 = WIDTH - 2.0;
    let band = Band {
        x0,
        width: (x1 - x0) / count(categories.len().max(1)),
    };
    let mut bottom = y;
    for (panel, scale) in panels.iter().zip(&scales) {
        bottom = chart.draw_panel(panel, scale, categories, band, x1, y);
        y = bottom + 12.0;
    }
    let label_y = bottom + 4.0 + BASELINE;
    let has_notes = chart.draw_category_labels(categories, band, label_y);
    let title_y = label_y + if has_notes { 2.0 * LINE } else { LINE };
    chart.text(
        x0 + (x1 - x0) / 2.0,
        title_y,
        "middle",
        "axis-title",
        x_title,
    );
    chart.height = round(title_y + 6.0);
    chart.table.head = std::iter::once(x_title.to_owned())
        .chain(all.iter().map(|s| s.name.clone()))
        .collect();
    chart.table.rows = categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            std::iter::once(c.name.clone())
                .chain(panels.iter().flat_map(|p| {
                    p.series
                        .iter()
                        .map(move |(_, v)| v.get(i).map(|v| show(*v)).unwrap_or_default())
                }))
                .collect()
        })
        .collect();
    chart
}

/// A number of things (categories, series) as a length to divide by.
fn count(n: usize) -> f64 {
    count_f64(n)
}

/// The categories' bands of a column chart: where the first starts, and
/// how wide each is.
#[derive(Clone, Copy)]
struct Band {
    x0: f64,
    width: f64,
}

impl Chart {
    /// One panel of a column chart, its title at `y`: ticks, gridlines and
    /// a column per series and category. Returns the plot's bottom.
    fn draw_panel(
        &mut self,
        panel: &Panel,
        scale: &[f64],
        categories: &[Category],
        band: Band,
        x1: f64,
        y: f64,
    ) -> f64 {
        let x0 = band.x0;
        self.text(0.0, y + BASELINE, "start", "axis-title", &panel.title);
        let top = y + LINE + 8.0;
        let bottom = top + PLOT_HEIGHT;
        let end = scale.last().copied().unwrap_or(1.0);
        for v in scale {
            let ty = bottom - v / end * PLOT_HEIGHT;
            let class = if *v == 0.0 { "axis" } else { "grid" };
            self.line((x0, ty), (x1, ty), class);
            let label = tick_label(*v, scale);
            self.text(x0 - 6.0, ty + HALF_DIGIT, "end", "tick", &label);
        }
        self.line((x0, top), (x0, bottom), "axis");
        let width = band.width * 0.8 / count(panel.series.len().max(1));
        for (j, (s, values)) in panel.series.iter().enumerate() {
            for (i, v) in values.iter().enumerate().take(categories.len()) {
                let height = (v / end * PLOT_HEIGHT).clamp(0.0, PLOT_HEIGHT);
                let name = categories.get(i).map(|c| c.name.as_str()).unwrap_or("");
                self.rects.push(Rect {
                    x: round(x0 + count(i) * band.width + band.width * 0.1 + count(j) * width),
                    y: round(bottom - height),
                    width: round((width - 1.0).max(1.0)),
                    height: round(height),
                    class: s.class,
                    title: format!("{name} · {}: {}", s.name, show(*v)),
                });
            }
        }
        bottom
    }

    /// Category labels (every k-th when they do not fit) at `label_y`, then
    /// the notes that do not run into the next one shown, a line below.
    /// Whether there were notes.
    fn draw_category_labels(&mut self, categories: &[Category], band: Band, label_y: f64) -> bool {
        let widest = categories
            .iter()
            .map(|c| text_width(&c.label))
            .fold(0.0, f64::max);
        let every = every_kth((widest + 4.0) / band.width);
        for (i, c) in categories.iter().enumerate() {
            if i % every == 0 {
                let x = band.x0 + (count(i) + 0.5) * band.width;
                self.text(x, label_y, "middle", "tick", &c.label);
            }
        }
        let mut next_start = f64::INFINITY;
        let mut notes = Vec::new();
        for (i, c) in categories.iter().enumerate().rev() {
            if let Some(note) = &c.note {
                let x = band.x0 + count(i) * band.width + 1.0;
                if x + text_width(note) < next_start {
                    notes.push((x, note.clone()));
                    next_start = x - 4.0;
                }
            }
        }
        let has_notes = !notes.is_empty();
        for (x, note) in notes.into_iter().rev() {
            self.text(x, label_y + LINE, "start", "note", &note);
        }
        has_notes
    }
}

/// Every how many bands a label is shown, when labels are `ratio` bands
/// wide: at least every one.
// Rounded up to a whole number of at least 1 first; a float cast saturates
// (an absurd ratio shows one label).
fn every_kth(ratio: f64) -> usize {
    whole_usize(ratio.ceil().max(1.0))
}

// ----- bars: categories down the y axis -----

/// One row of a bar chart: its label and a value per series (`None`: no
/// bar of that series in this row).
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// The value axis of a bar chart.
#[derive(Debug, Clone)]
pub struct Axis {
    pub title: String,
    /// A fixed end (1 for a proportion); otherwise the ticks cover the
    /// largest value.
    pub max: Option<f64>,
    pub whole: bool,
}

/// Vertical reference lines (limits), with their legend name.
#[derive(Debug, Clone)]
pub struct References {
    pub name: String,
    pub at: Vec<f64>,
}

/// Horizontal bars, a row per category: the legend on top, the value axis
/// with round ticks and gridlines, each row's label on its left when the
/// labels are short and above its bars otherwise, each bar's value at its
/// end. With many rows the tick values show above the rows as well. The
/// table has a row per row and a column per series.
pub fn bars(
    c: Captions,
    first_column: &str,
    series: &[Series],
    rows: &[Row],
    axis: &Axis,
    references: Option<&References>,
) -> Chart {
    let mut chart = Chart::new(c);
    let all: Vec<&Series> = series.iter().collect();
    let mut y = chart.draw_legend(&all, references.map(|r| r.name.as_str()), 0.0) + 4.0;
    let v = ValueAxis::of(rows, axis);
    let long = rows.len() > 8;
    if long {
        chart.text(0.0, y + BASELINE, "start", "axis-title", &axis.title);
        y += LINE;
        for t in &v.scale {
            let label = tick_label(*t, &v.scale);
            chart.text(v.x_of(*t), y + BASELINE, "middle", "tick", &label);
        }
        y += LINE;
    }
    let top = y + 2.0;
    y = top + 4.0;
    for row in rows {
        y = chart.draw_bar_row(row, series, &v, y);
    }
    let bottom = y;
    chart.draw_value_axis(&v, top, bottom, references);
    y = bottom + 4.0 + LINE;
    if !long {
        chart.text(
            v.x0 + (v.x1 - v.x0) / 2.0,
            y + BASELINE,
            "middle",
            "axis-title",
            &axis.title,
        );
        y += LINE;
    }
    chart.height = round(y + 6.0);
    chart.table.head = std::iter::once(first_column.to_owned())
        .chain(series.iter().map(|s| s.name.clone()))
        .collect();
    chart.table.rows = rows
        .iter()
        .map(|r| {
            std::iter::once(r.label.clone())
                .chain(
                    r.values
                        .iter()
                        .map(|x| x.map(|x| v.show(x)).unwrap_or_else(|| "–".to_owned())),
                )
                .collect()
        })
        .collect();
    chart
}

/// The value axis of a bar chart as laid out: its ticks, where the bars
/// start and end, and whether labels go left of the bars.
struct ValueAxis {
    scale: Vec<f64>,
    end: f64,
    whole: bool,
    left: bool,
    x0: f64,
    x1: f64,
}

impl ValueAxis {
    fn of(rows: &[Row], axis: &Axis) -> ValueAxis {
        let largest = rows
            .iter()
            .flat_map(|r| r.values.iter().flatten().copied())
            .fold(0.0, f64::max);
        let scale = ticks(axis.max.unwrap_or(largest).max(largest), 5, axis.whole);
        let end = scale.last().copied().unwrap_or(1.0);
        let label_width = rows
            .iter()
            .map(|r| text_width(&r.label))
            .fold(0.0, f64::max);
        let left = label_width <= WIDTH * 0.3;
        let first_tick = scale.first().map(|v| text_width(&tick_label(*v, &scale)));
        let x0 = if left {
            label_width + 8.0
        } else {
            first_tick.unwrap_or(0.0) / 2.0 + 2.0
        };
        let mut axis = ValueAxis {
            scale,
            end,
            whole: axis.whole,
            left,
            x0,
            x1: 0.0,
        };
        let value_width = rows
            .iter()
            .flat_map(|r| {
                r.values
                    .iter()
                    .flatten()
                    .map(|v| text_width(&axis.show(*v)))
            })
            .fold(0.0, f64::max);
        let last_tick = axis
            .scale
            .last()
            .map(|v| text_width(&tick_label(*v, &axis.scale)) / 2.0)
            .unwrap_or(0.0);
        axis.x1 = WIDTH - (value_width + 6.0).max(last_tick + 2.0);
        axis
    }

    /// Values as the axis counts: whole numbers, or two decimals throughout.
    fn show(&self, v: f64) -> String {
        if self.whole {
            show(v)
        } else {
            format!("{v:.2}")
        }
    }

    fn x_of(&self, v: f64) -> f64 {
        self.x0 + (v / self.end).clamp(0.0, 1.0) * (self.x1 - self.x0)
    }
}

impl Chart {
    /// One row of a bar chart from `y`: its label, a bar per series with a
    /// value, each with its value at its end. Returns where the next starts.
    fn draw_bar_row(&mut self, row: &Row, series: &[Series], v: &ValueAxis, mut y: f64) -> f64 {
        let x0 = v.x0;
        let shown: Vec<(usize, f64)> = row
            .values
            .iter()
            .enumerate()
            .filter_map(|(j, v)| v.map(|v| (j, v)))
            .collect();
        let block = count(shown.len().max(1)) * (BAR + 2.0) - 2.0;
        if v.left {
            let mid = y + block / 2.0;
            self.text(x0 - 6.0, mid + HALF_DIGIT, "end", "label", &row.label);
        } else {
            self.text(x0, y + BASELINE, "start", "label", &row.label);
            y += LINE;
        }
        for (j, value) in shown {
            let Some(s) = series.get(j).or_else(|| series.last()) else {
                continue;
            };
            let width = v.x_of(value) - x0;
            self.rects.push(Rect {
                x: round(x0),
                y: round(y),
                width: round(width),
                height: BAR,
                class: s.class,
                title: format!("{} · {}: {}", row.label, s.name, v.show(value)),
            });
            let shown = v.show(value);
            self.text(
                x0 + width + 4.0,
                y + BAR / 2.0 + HALF_DIGIT,
                "start",
                "value",
                &shown,
            );
            y += BAR + 2.0;
        }
        if row.values.iter().all(Option::is_none) {
            y += BAR + 2.0;
        }
        y + if v.left { 4.0 } else { 6.0 }
    }

    /// The gridlines and tick values below the rows, the axis line and the
    /// reference lines.
    fn draw_value_axis(
        &mut self,
        v: &ValueAxis,
        top: f64,
        bottom: f64,
        references: Option<&References>,
    ) {
        for t in &v.scale {
            let class = if *t == 0.0 { "axis" } else { "grid" };
            self.line((v.x_of(*t), top), (v.x_of(*t), bottom), class);
            let label = tick_label(*t, &v.scale);
            self.text(
                v.x_of(*t),
                bottom + 4.0 + BASELINE,
                "middle",
                "tick",
                &label,
            );
        }
        self.line((v.x0, bottom), (v.x1, bottom), "axis");
        if let Some(r) = references {
            for at in &r.at {
                self.marks.push(Line {
                    x1: round(v.x_of(*at)),
                    y1: round(top),
                    x2: round(v.x_of(*at)),
                    y2: round(bottom),
                    class: "ref",
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    fn captions() -> Captions {
        Captions {
            id: "c".into(),
            title: "T".into(),
            caption: "C".into(),
            table: "Table".into(),
        }
    }

    fn inside(chart: &Chart) {
        for r in &chart.rects {
            assert!(r.x >= 0.0 && r.y >= 0.0, "{r:?}");
            assert!(r.x + r.width <= chart.width + 0.05, "{r:?}");
            assert!(r.y + r.height <= chart.height + 0.05, "{r:?}");
            assert!(r.width >= 0.0 && r.height >= 0.0, "{r:?}");
        }
        for t in &chart.texts {
            let w = text_width(&t.text);
            let (from, to) = match t.anchor {
                "start" => (t.x, t.x + w),
                "end" => (t.x - w, t.x),
                _ => (t.x - w / 2.0, t.x + w / 2.0),
            };
            assert!(from >= -0.05 && to <= chart.width + 0.05, "{t:?}");
            assert!(t.y - FONT >= -0.05 && t.y <= chart.height, "{t:?}");
        }
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_maximum() {
        assert_eq!(ticks(80.0, 5, true), vec![0.0, 20.0, 40.0, 60.0, 80.0]);
        assert_eq!(
            ticks(81.0, 5, true),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(1.0, 5, false), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(1.0, 4, true), vec![0.0, 1.0]);
        assert_eq!(ticks(3.0, 4, true), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(ticks(0.0, 4, true), vec![0.0, 1.0], "an empty chart");
        assert_eq!(ticks(f64::NAN, 4, true), vec![0.0, 1.0]);
        for max in [1.0, 7.0, 13.0, 99.0, 101.0, 1234.0, 19_106.0, 0.37] {
            let t = ticks(max, 4, max >= 1.0);
            let step = t[1] - t[0];
            let mantissa = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-6),
                "{max}: {t:?}"
            );
            assert!(t[0] == 0.0 && *t.last().unwrap() >= max, "{max}: {t:?}");
            assert!(t.len() <= 5 && t[t.len() - 2] < max, "{max}: {t:?}");
        }
        assert_eq!(tick_label(0.6000000001, &[0.0, 0.2]), "0.6");
        assert_eq!(tick_label(2000.0, &[0.0, 500.0]), "2000");
    }

    fn months() -> Vec<Category> {
        (0..12)
            .map(|i| {
                let (year, month) = if i < 2 { (2024, 11 + i) } else { (2025, i - 1) };
                Category {
                    label: format!("{month:02}"),
                    note: (i == 0 || month == 1).then(|| year.to_string()),
                    name: format!("{year}-{month:02}"),
                }
            })
            .collect()
    }

    #[test]
    fn columns_stay_inside_the_plot_with_a_legend_entry_per_series() {
        let visits: Vec<f64> = (0..12).map(|i| 1000.0 + 97.0 * f64::from(i)).collect();
        let up: Vec<f64> = (0..12).map(|i| f64::from(i * 3 % 17)).collect();
        let back: Vec<f64> = up.iter().map(|v| (v / 2.0).floor()).collect();
        let panels = [
            Panel {
                title: "First visits per month".into(),
                series: vec![(Series::new("First visits".into(), "s3"), visits.clone())],
            },
            Panel {
                title: "Referrals per month".into(),
                series: vec![
                    (Series::new("Referrals up".into(), "s1"), up.clone()),
                    (Series::new("Back down".into(), "s2"), back),
                ],
            },
        ];
        let chart = columns(captions(), "Month", &months(), &panels);
        assert_eq!(
            chart.legend,
            vec!["First visits", "Referrals up", "Back down"]
        );
        let swatches = chart.rects.iter().filter(|r| r.title.is_empty()).count();
        assert_eq!(swatches, 3, "a swatch per series");
        assert_eq!(chart.rects.len(), 3 + 12 * 3, "a bar per value");
        inside(&chart);
        // Every bar stands on its panel's zero line and no higher than the
        // top tick; the tallest first-visit bar is below the top gridline.
        let tallest = chart
            .rects
            .iter()
            .filter(|r| r.class == "s3" && !r.title.is_empty())
            .map(|r| r.height)
            .fold(0.0, f64::max);
        assert!(tallest <= PLOT_HEIGHT && tallest > PLOT_HEIGHT / 2.0);
        let ticks: Vec<&str> = chart
            .texts
            .iter()
            .filter(|t| t.class == "tick")
            .map(|t| t.text.as_str())
            .collect();
        assert!(ticks.contains(&"2500") && ticks.contains(&"0"), "{ticks:?}");
        assert!(ticks.contains(&"01") && ticks.contains(&"12"), "{ticks:?}");
        let notes: Vec<&str> = chart
            .texts
            .iter()
            .filter(|t| t.class == "note")
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(notes, vec!["2024", "2025"]);
        assert_eq!(chart.table.head.len(), 4);
        assert_eq!(chart.table.rows.len(), 12);
        assert_eq!(chart.table.rows[0][1], show(visits[0]));
    }

    #[test]
    fn bars_stay_inside_the_plot_with_labels_left_or_above() {
        let series = [
            Series::new("Reached".into(), "s1"),
            Series::new("There now".into(), "s2"),
        ];
        let rows: Vec<Row> = ["Applied", "Eligible", "Training · Pass rate 100%"]
            .iter()
            .enumerate()
            .map(|(i, l)| Row {
                label: l.to_string(),
                values: vec![Some(30.0 - 7.0 * i as f64), Some(i as f64)],
            })
            .collect();
        let axis = Axis {
            title: "Cases".into(),
            max: None,
            whole: true,
        };
        let chart = bars(captions(), "Stage", &series, &rows, &axis, None);
        assert_eq!(chart.legend, vec!["Reached", "There now"]);
        inside(&chart);
        let labels: Vec<&Text> = chart.texts.iter().filter(|t| t.class == "label").collect();
        assert!(
            labels.iter().all(|t| t.anchor == "start"),
            "long labels go above"
        );
        let widest = chart
            .rects
            .iter()
            .map(|r| r.x + r.width)
            .fold(0.0, f64::max);
        let top_tick = chart.lines.iter().map(|l| l.x1).fold(0.0, f64::max);
        assert!(widest <= top_tick + 0.05, "no bar past the last tick");
        assert_eq!(
            chart.table.rows[2],
            vec!["Training · Pass rate 100%", "16", "2"]
        );

        // Short labels on the left; a fixed axis end and reference lines.
        let series = [
            Series::new("Facility".into(), "s1"),
            Series::new("Flagged".into(), "flag"),
        ];
        let rows: Vec<Row> = (0..20)
            .map(|i| {
                let f = f64::from(i) / 19.0;
                let flagged = !(0.2..=0.95).contains(&f);
                Row {
                    label: format!("q-{i}"),
                    values: vec![(!flagged).then_some(f), flagged.then_some(f)],
                }
            })
            .collect();
        let axis = Axis {
            title: "Facility".into(),
            max: Some(1.0),
            whole: false,
        };
        let limits = References {
            name: "Flag limits".into(),
            at: vec![0.2, 0.95],
        };
        let chart = bars(captions(), "Question", &series, &rows, &axis, Some(&limits));
        assert_eq!(chart.legend, vec!["Facility", "Flagged", "Flag limits"]);
        inside(&chart);
        assert_eq!(chart.marks.len(), 3, "two limits and a legend line");
        let labels: Vec<&Text> = chart.texts.iter().filter(|t| t.class == "label").collect();
        assert!(labels.iter().all(|t| t.anchor == "end" && t.x > 0.0));
        assert_eq!(chart.rects.len(), 2 + 20, "a bar per row");
        let ticks: Vec<&str> = chart
            .texts
            .iter()
            .filter(|t| t.class == "tick")
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(ticks.len(), 12, "above and below a long chart: {ticks:?}");
        assert!(
            ticks.contains(&"0.2") && ticks.contains(&"1.0"),
            "{ticks:?}"
        );
    }

    #[test]
    fn a_long_legend_wraps_and_chinese_is_measured_wide() {
        assert!(text_width("首诊人次") > text_width("abcd"));
        let series: Vec<Series> = (0..6)
            .map(|i| Series::new(format!("每月上转与下转例数 {i}"), "s1"))
            .collect();
        let rows = vec![Row {
            label: "一".into(),
            values: series.iter().map(|_| Some(1.0)).collect(),
        }];
        let axis = Axis {
            title: "案例数".into(),
            max: None,
            whole: true,
        };
        let chart = bars(captions(), "阶段", &series, &rows, &axis, None);
        assert_eq!(chart.legend.len(), 6);
        inside(&chart);
    }
}
