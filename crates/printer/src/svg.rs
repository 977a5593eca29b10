//! Line charts as inline SVG for the HTML report: the heap at each snapshot, a suspect's
//! growth. Plain SVG elements styled by the page's CSS (classes, no inline colors), a
//! `<title>` on each point for a tooltip without JavaScript, and the values in an
//! `aria-label` for screen readers.

use std::fmt::Write;

use crate::bytes::format_bytes;
use crate::html::escape as esc;

/// A chart's size in SVG units (it scales to the width of its box).
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub width: f64,
    pub height: f64,
    /// Room left of the plot for the value labels, and under it for the point labels.
    pub left: f64,
    pub bottom: f64,
}

/// The heap chart: wide, with every point labelled.
pub const WIDE: Size = Size {
    width: 640.0,
    height: 220.0,
    left: 72.0,
    bottom: 28.0,
};

/// A suspect's growth: small, first and last values only.
pub const SMALL: Size = Size {
    width: 280.0,
    height: 90.0,
    left: 64.0,
    bottom: 20.0,
};

const TOP: f64 = 12.0;
const RIGHT: f64 = 16.0;

/// A line through `values` (bytes), one point per label; `title` names the chart for screen
/// readers and tooltips. With fewer than two values, an empty chart saying so.
pub fn bytes_chart(title: &str, labels: &[String], values: &[u64], size: Size) -> String {
    bytes_chart_scaled(title, labels, values, size, values)
}

/// As [`bytes_chart`], on a vertical scale that also fits `scale`: charts shown side by side
/// (before and after a fix) share one scale, so a flat line looks flat next to a rising one.
pub fn bytes_chart_scaled(
    title: &str,
    labels: &[String],
    values: &[u64],
    size: Size,
    scale: &[u64],
) -> String {
    let described: Vec<String> = labels
        .iter()
        .zip(values)
        .map(|(l, &v)| format!("{l}: {}", format_bytes(v)))
        .collect();
    let mut s = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><title>{t}</title>"#,
        w = size.width,
        h = size.height,
        label = esc(&format!("{title}: {}", described.join(", "))),
        t = esc(title),
    );
    if values.len() < 2 {
        let _ = write!(
            s,
            r#"<text class="note" x="{}" y="{}">not enough snapshots to draw</text></svg>"#,
            size.left,
            size.height / 2.0
        );
        return s;
    }
    let (lo, hi) = range(&[values, scale].concat());
    let plot_w = size.width - size.left - RIGHT;
    let plot_h = size.height - TOP - size.bottom;
    let x = |i: usize| size.left + plot_w * i as f64 / (values.len() - 1) as f64;
    let y = |v: u64| TOP + plot_h * (1.0 - (v as f64 - lo) / (hi - lo));
    let bottom = TOP + plot_h;
    // Axes: the value range on the left, the baseline under the plot.
    let _ = write!(
        s,
        r#"<line class="axis" x1="{l}" y1="{TOP}" x2="{l}" y2="{bottom}"/><line class="axis" x1="{l}" y1="{bottom}" x2="{r}" y2="{bottom}"/>"#,
        l = size.left,
        r = size.width - RIGHT,
    );
    for (v, at) in [(hi, TOP), (lo, bottom)] {
        let _ = write!(
            s,
            r#"<text class="value" x="{}" y="{}" text-anchor="end">{}</text>"#,
            size.left - 6.0,
            at + 4.0,
            esc(&format_bytes(v.max(0.0).round() as u64))
        );
    }
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
        .collect();
    // The area under the line first, so the line and points draw over it.
    let _ = write!(
        s,
        r#"<polygon class="area" points="{:.1},{bottom} {} {:.1},{bottom}"/><polyline class="line" points="{}"/>"#,
        x(0),
        points.join(" "),
        x(values.len() - 1),
        points.join(" ")
    );
    let every = size.width >= WIDE.width;
    for (i, (&v, label)) in values.iter().zip(labels).enumerate() {
        let _ = write!(
            s,
            r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="3.5"><title>{}</title></circle>"#,
            x(i),
            y(v),
            esc(&described[i])
        );
        if every || i == 0 || i + 1 == values.len() {
            let anchor = match i {
                0 => "start",
                i if i + 1 == values.len() => "end",
                _ => "middle",
            };
            let _ = write!(
                s,
                r#"<text class="label" x="{:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
                x(i),
                size.height - 6.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The vertical range drawn: the values' range with a little room, never a flat zero span.
fn range(values: &[u64]) -> (f64, f64) {
    let min = values.iter().copied().min().unwrap_or(0) as f64;
    let max = values.iter().copied().max().unwrap_or(0) as f64;
    let pad = if max > min {
        (max - min) * 0.1
    } else {
        (max * 0.05).max(1.0)
    };
    ((min - pad).max(0.0), max + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_line_goes_up_the_chart() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let svg = bytes_chart("Heap", &labels, &[1000, 2000, 3000], WIDE);
        let points = svg
            .split(r#"<polyline class="line" points=""#)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let ys: Vec<f64> = points
            .split(' ')
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert!(ys[0] > ys[1] && ys[1] > ys[2], "{ys:?}");
        assert_eq!(svg.matches("<circle").count(), 3);
    }

    #[test]
    fn a_shared_scale_keeps_a_small_change_small() {
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let ys = |svg: &str| -> Vec<f64> {
            let points = svg
                .split(r#"<polyline class="line" points=""#)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap();
            points
                .split(' ')
                .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
                .collect()
        };
        let alone = ys(&bytes_chart("After", &labels, &[1000, 1010], WIDE));
        let shared = ys(&bytes_chart_scaled(
            "After",
            &labels,
            &[1000, 1010],
            WIDE,
            &[1000, 9000],
        ));
        assert!(alone[0] - alone[1] > 100.0, "{alone:?}");
        assert!(shared[0] - shared[1] < 5.0, "{shared:?}");
    }

    #[test]
    fn one_value_or_a_flat_line_still_draws() {
        let one = bytes_chart("Heap", &["a".into()], &[5], SMALL);
        assert!(one.contains("not enough snapshots"));
        let flat = bytes_chart("Heap", &["a".into(), "b".into()], &[0, 0], SMALL);
        assert!(!flat.contains("NaN") && !flat.contains("inf"), "{flat}");
    }
}
