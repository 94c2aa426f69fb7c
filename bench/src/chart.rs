//! The report's SVG chart: one group of bars per case, conflux first, then each peer.
//!
//! Each group has its own scale, since the cases' units differ by five orders of magnitude:
//! linear when its medians are within 10x of each other, logarithmic (with a line at each
//! power of ten) when they are not, so that a contender 100x slower does not squash every other
//! bar to a sliver. A bar is a median (conflux blue, a second conflux API light blue, the
//! peers grey); the black whisker across it spans the interquartile range. The group's title carries the verdict; a noisy case's bars are pale and its title
//! says NOISY. Every label is whole: the left margin is sized from the longest contender name,
//! the width from the longest title.

use std::fmt::Write as _;

use crate::harness::{fmt_ns, Case, Verdict, WIDE_SPREAD};

const FONT: f64 = 12.0;
/// A generous average advance of the chart's sans-serif at 12 px (DejaVu Sans, the widest
/// common fallback, averages about 0.6 em); bold text is given 10 % more.
const CHAR: f64 = 7.3;
const BAR_AREA: f64 = 560.0;
/// Room right of the bars for "12345 (IQR 153%)".
const VALUE_WIDTH: f64 = 150.0;
const BAR_HEIGHT: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
const TITLE_HEIGHT: f64 = 22.0;
const AXIS_HEIGHT: f64 = 13.0;
const GROUP_GAP: f64 = 14.0;
const HEADER_HEIGHT: f64 = 62.0;
/// Medians this far apart switch a group to a log scale.
const LOG_ABOVE: f64 = 10.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text_width(text: &str, bold: bool) -> f64 {
    text.chars().count() as f64 * CHAR * if bold { 1.1 } else { 1.0 }
}

/// A power of ten as an axis label: "0.1", "1", "10", "1k", "10M".
fn decade_label(decade: f64) -> String {
    match decade {
        d if d >= 1e6 => format!("{:.0}M", d / 1e6),
        d if d >= 1e3 => format!("{:.0}k", d / 1e3),
        d if d >= 1.0 => format!("{d:.0}"),
        d => format!("{d}"),
    }
}

/// Maps a value in ns to a bar length in one group.
enum Scale {
    Linear { max: f64 },
    Log { low: f64, high: f64 },
}

impl Scale {
    fn of(medians: &[f64]) -> Scale {
        let finite = || {
            medians
                .iter()
                .copied()
                .filter(|m| m.is_finite() && *m > 0.0)
        };
        let max = finite().fold(f64::MIN_POSITIVE, f64::max);
        let min = finite().fold(f64::INFINITY, f64::min);
        if min.is_finite() && max / min >= LOG_ABOVE {
            // The fastest bar keeps a visible length: the axis starts at a quarter of it.
            Scale::Log {
                low: min / 4.0,
                high: max,
            }
        } else {
            Scale::Linear { max }
        }
    }

    fn x(&self, ns: f64) -> f64 {
        let fraction = match *self {
            Scale::Linear { max } => ns / max,
            Scale::Log { low, high } => (ns / low).ln() / (high / low).ln(),
        };
        if fraction.is_finite() {
            (fraction * BAR_AREA).clamp(1.0, BAR_AREA)
        } else {
            1.0
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Scale::Linear { .. } => "",
            Scale::Log { .. } => ", log scale",
        }
    }
}

fn group_height(case: &Case, scale: &Scale) -> f64 {
    let axis = match scale {
        Scale::Log { .. } => AXIS_HEIGHT,
        Scale::Linear { .. } => 0.0,
    };
    TITLE_HEIGHT + case.contenders.len() as f64 * (BAR_HEIGHT + BAR_GAP) + axis + GROUP_GAP
}

/// The group's title: the case, its unit and scale; then the verdict, coloured.
fn titles(case: &Case, scale: &Scale, busy: bool) -> (String, String, &'static str) {
    let title = format!("{} (ns per {}{})", case.name, case.unit, scale.label());
    let comparison = case.comparison();
    let (verdict, colour) = match comparison.verdict {
        Verdict::Noisy => (
            format!(
                "NOISY (spread {:.0}%): no verdict",
                comparison.spread * 100.0
            ),
            "#c00000",
        ),
        Verdict::Alone => (String::new(), "#000000"),
        verdict => (
            format!(
                "conflux / best peer {:.2}: {}{}",
                comparison.ratio,
                verdict.label(),
                if busy { " (busy box)" } else { "" }
            ),
            match verdict {
                Verdict::Faster => "#1a7f1a",
                Verdict::Slower => "#b35900",
                _ => "#404040",
            },
        ),
    };
    (title, verdict, colour)
}

/// Renders `cases` (after a run) as a standalone SVG document; `subtitle` says what run, and
/// `busy` whether the box was busy (every verdict then says so).
pub fn svg(cases: &[Case], subtitle: &str, busy: bool) -> String {
    let scales: Vec<Scale> = cases
        .iter()
        .map(|case| {
            let medians: Vec<f64> = case.contenders.iter().map(|c| c.median()).collect();
            Scale::of(&medians)
        })
        .collect();
    let label_width = cases
        .iter()
        .flat_map(|case| case.contenders.iter())
        .map(|c| text_width(c.name, false))
        .fold(60.0, f64::max)
        + 16.0;
    let headline = "conflux vs peers: median ns per operation (shorter is faster)";
    let legend = "bar: median over rounds; whisker: interquartile range; each group has its own scale (log where medians differ 10x or more); pale bars and NOISY: spread too wide for a verdict";
    let widest_title = cases
        .iter()
        .zip(&scales)
        .map(|(case, scale)| {
            let (title, verdict, _) = titles(case, scale, busy);
            text_width(&title, true) + 10.0 + text_width(&verdict, false)
        })
        .fold(0.0, f64::max);
    let width = (label_width + BAR_AREA + VALUE_WIDTH)
        .max(widest_title + 20.0)
        .max(text_width(headline, true) * 15.0 / FONT + 20.0)
        .max(text_width(legend, false) * 11.0 / FONT + 20.0)
        .max(text_width(subtitle, false) * 11.0 / FONT + 20.0)
        .ceil();
    let height = cases
        .iter()
        .zip(&scales)
        .map(|(case, scale)| group_height(case, scale))
        .sum::<f64>()
        + HEADER_HEIGHT
        + 10.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="{FONT}">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#,
        escape(headline)
    );
    let _ = writeln!(
        out,
        r##"<text x="10" y="37" font-size="11" fill="#404040">{}</text>"##,
        escape(subtitle)
    );
    let _ = writeln!(
        out,
        r##"<text x="10" y="52" font-size="11" fill="#404040">{}</text>"##,
        escape(legend)
    );
    let mut y = HEADER_HEIGHT;
    for (case, scale) in cases.iter().zip(&scales) {
        let (title, verdict, colour) = titles(case, scale, busy);
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}"><tspan font-weight="bold">{}</tspan><tspan dx="10" fill="{colour}">{}</tspan></text>"#,
            y + 14.0,
            escape(&title),
            escape(&verdict)
        );
        y += TITLE_HEIGHT;
        let noisy = case.comparison().verdict == Verdict::Noisy;
        let bars_top = y;
        let bars_height = case.contenders.len() as f64 * (BAR_HEIGHT + BAR_GAP);
        if let Scale::Log { low, high } = *scale {
            // A faint line and a label at each power of ten inside the axis.
            let mut decade = 10f64.powf(low.log10().ceil());
            while decade <= high * 1.000_001 {
                let x = label_width + scale.x(decade);
                let _ = writeln!(
                    out,
                    r##"<line x1="{x:.1}" y1="{bars_top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#d8d8d8"/>"##,
                    bars_top + bars_height
                );
                let _ = writeln!(
                    out,
                    r##"<text x="{x:.1}" y="{:.1}" font-size="9" fill="#707070" text-anchor="middle">{}</text>"##,
                    bars_top + bars_height + 10.0,
                    decade_label(decade)
                );
                decade *= 10.0;
            }
        }
        for (i, contender) in case.contenders.iter().enumerate() {
            let (q1, ns, q3) = contender.quartiles();
            let length = scale.x(ns);
            let fill = if i == 0 {
                "#1f77b4"
            } else if contender.name.starts_with("conflux") {
                "#8fbbe0"
            } else {
                "#a8a8a8"
            };
            let opacity = if noisy { 0.35 } else { 1.0 };
            let mid = y + BAR_HEIGHT / 2.0;
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                label_width - 6.0,
                y + BAR_HEIGHT - 3.0,
                escape(contender.name)
            );
            let _ = writeln!(
                out,
                r#"<rect x="{label_width:.1}" y="{y:.1}" width="{length:.1}" height="{BAR_HEIGHT}" fill="{fill}" fill-opacity="{opacity}"/>"#
            );
            let (w1, w3) = (scale.x(q1), scale.x(q3));
            if w3 - w1 >= 1.0 {
                let _ = writeln!(
                    out,
                    r#"<path d="M{a:.1} {top:.1}V{bottom:.1}M{a:.1} {mid:.1}H{b:.1}M{b:.1} {top:.1}V{bottom:.1}" stroke="black" stroke-width="1" fill="none"/>"#,
                    a = label_width + w1,
                    b = label_width + w3,
                    top = mid - 3.5,
                    bottom = mid + 3.5
                );
            }
            let spread = contender.spread();
            let flag = if spread > WIDE_SPREAD {
                format!(
                    r##"<tspan dx="6" fill="#c00000">(IQR {:.0}%)</tspan>"##,
                    spread * 100.0
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}">{}{flag}</text>"#,
                label_width + length.max(w3) + 5.0,
                y + BAR_HEIGHT - 3.0,
                fmt_ns(ns)
            );
            y += BAR_HEIGHT + BAR_GAP;
        }
        if let Scale::Log { .. } = scale {
            y += AXIS_HEIGHT;
        }
        y += GROUP_GAP;
    }
    out.push_str("</svg>\n");
    out
}
