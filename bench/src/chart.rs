//! The report's SVG chart: one group of bars per case, conflux first, then each peer.
//!
//! Bars are scaled per case (the slowest contender of a case spans the full width), since the
//! cases' units differ by five orders of magnitude; every bar is labelled with its median.

use std::fmt::Write as _;

use crate::harness::Case;

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 150.0;
const BAR_AREA: f64 = WIDTH - LABEL_WIDTH - 110.0;
const BAR_HEIGHT: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
const TITLE_HEIGHT: f64 = 22.0;
const GROUP_GAP: f64 = 14.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders `cases` (after a run) as a standalone SVG document.
pub fn svg(cases: &[Case]) -> String {
    let height: f64 = cases
        .iter()
        .map(|case| {
            TITLE_HEIGHT + case.contenders.len() as f64 * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
        })
        .sum::<f64>()
        + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">conflux vs peers: median ns per operation (shorter is faster; bars scaled per case)</text>"#
    );
    let mut y = 40.0;
    for case in cases {
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}" font-weight="bold">{} (ns per {})</text>"#,
            y + 14.0,
            escape(&case.name),
            escape(case.unit)
        );
        y += TITLE_HEIGHT;
        let slowest = case
            .contenders
            .iter()
            .map(|c| c.median())
            .fold(f64::MIN_POSITIVE, f64::max);
        for (i, contender) in case.contenders.iter().enumerate() {
            let ns = contender.median();
            let length = (ns / slowest * BAR_AREA).max(1.0);
            let colour = if i == 0 { "#1f77b4" } else { "#b0b0b0" };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - 6.0,
                y + BAR_HEIGHT - 3.0,
                escape(contender.name)
            );
            let _ = writeln!(
                out,
                r#"<rect x="{LABEL_WIDTH}" y="{y:.1}" width="{length:.1}" height="{BAR_HEIGHT}" fill="{colour}"/>"#
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                LABEL_WIDTH + length + 5.0,
                y + BAR_HEIGHT - 3.0,
                if ns >= 100.0 {
                    format!("{ns:.0}")
                } else {
                    format!("{ns:.2}")
                }
            );
            y += BAR_HEIGHT + BAR_GAP;
        }
        y += GROUP_GAP;
    }
    out.push_str("</svg>\n");
    out
}
