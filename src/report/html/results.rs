//! The results part of the page, what a manager reads first: the funnel from rows to calls
//! that got through and how they ended, talk time, outcomes over the hours of the day, and
//! how each value of one metadata or tag column fared. Each function returns its HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{duration, esc, thousands};
use crate::ledger::BreakdownLine;
use crate::report::summary::Summary;

/// "42.0 %" of `n` in `total`, or "" when there is no total.
fn share(n: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    format!("{:.1} %", 100.0 * n as f64 / total as f64)
}

/// One funnel line: label, a bar scaled to the rows, the count and its share.
fn step(s: &mut String, key: &str, label: &str, n: u64, rows: u64, of: &str, class: &str) {
    let width = if rows == 0 {
        0.0
    } else {
        100.0 * n as f64 / rows as f64
    };
    let _ = writeln!(
        s,
        "<tr class=\"{class}\" data-step=\"{}\"><th>{}</th><td><div class=\"track\">\
         <div class=\"fill\" style=\"width:{width:.1}%\"></div></div></td>\
         <td class=\"num n\" data-n=\"{n}\">{}</td><td class=\"share\">{}</td></tr>",
        esc(key),
        esc(label),
        thousands(n),
        esc(of)
    );
}

pub fn funnel(sum: &Summary) -> String {
    let f = &sum.funnel;
    let mut s = String::from(
        "<section id=\"results\">\n<h2>Results</h2>\n<div class=\"results\">\n<table class=\"funnel\">\n",
    );
    step(&mut s, "rows", "rows in the file", f.rows, f.rows, "", "");
    let of = |n, total, what: &str| match share(n, total) {
        t if t.is_empty() => String::new(),
        t => format!("{t} of {what}"),
    };
    step(
        &mut s,
        "dialed",
        "dialed",
        f.dialed,
        f.rows,
        &of(f.dialed, f.rows, "rows"),
        "",
    );
    step(
        &mut s,
        "placed",
        "calls placed",
        f.placed,
        f.rows,
        &of(f.placed, f.dialed, "dialed"),
        "",
    );
    step(
        &mut s,
        "reached",
        "reached (delivered)",
        f.reached,
        f.rows,
        &of(f.reached, f.placed, "placed"),
        "",
    );
    if let Some(o) = &sum.outcomes {
        let mut v: Vec<(&String, &u64)> = o.call_output.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (label, n) in v {
            let key = format!("outcome:{label}");
            step(
                &mut s,
                &key,
                label,
                *n,
                f.rows,
                &of(*n, o.received, "outcomes"),
                "outcome",
            );
        }
    }
    s.push_str("</table>\n<div class=\"cards\">\n");
    let card = |s: &mut String, key: &str, value: String, label: &str| {
        let _ = writeln!(
            s,
            "<div class=\"card\" data-card=\"{key}\"><div class=\"n\">{}</div><div class=\"l\">{}</div></div>",
            esc(&value),
            esc(label)
        );
    };
    card(
        &mut s,
        "talk",
        format!("{:.1}", f.talk_minutes),
        "talk minutes",
    );
    card(
        &mut s,
        "reach",
        share(f.reached, f.placed).replace(' ', "\u{a0}"),
        "of placed calls reached",
    );
    if let Some(d) = sum.outcomes.as_ref().and_then(|o| o.mean_duration_s) {
        card(&mut s, "mean", duration(d), "mean call length");
    }
    if sum.awaiting_outcome > 0 {
        card(
            &mut s,
            "awaiting",
            thousands(sum.awaiting_outcome),
            "placed, no outcome yet",
        );
    }
    card(
        &mut s,
        "done",
        format!("{:.1}\u{a0}%", sum.done_pct),
        "of rows done",
    );
    s.push_str("</div>\n</div>\n</section>\n");
    s
}

/// The CSS class of the `i`-th outcome in a chart (eight colours, then they repeat).
fn outcome_class(i: usize) -> String {
    format!("oc{}", i % 8)
}

/// Stacked columns, one per UTC hour, one colour per call outcome.
pub fn by_hour(points: &[(u8, String, u64)]) -> String {
    let mut s = String::from("<section>\n<h2>Outcomes over the day</h2>\n");
    if points.is_empty() {
        s.push_str("<p class=\"note\">No call outcome has arrived yet.</p>\n</section>\n");
        return s;
    }
    let mut labels: BTreeMap<&str, u64> = BTreeMap::new();
    let mut hours = [0u64; 24];
    for (h, label, n) in points {
        *labels.entry(label).or_default() += n;
        hours[*h as usize] += n;
    }
    let mut order: Vec<(&str, u64)> = labels.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let index = |label: &str| order.iter().position(|(l, _)| *l == label).unwrap_or(0);
    let max = hours.iter().copied().max().unwrap_or(1).max(1);
    let (w, h, top, left) = (960.0, 180.0, 8.0, 36.0);
    let col = (w - left) / 24.0;
    let _ = write!(
        s,
        "<p class=\"note\">Calls with an outcome, by the hour (UTC) of their last request.</p>\n\
         <svg class=\"chart\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"outcomes by hour\">\n\
         <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text>\
         <line class=\"grid\" x1=\"{left}\" x2=\"{w}\" y1=\"{top}\" y2=\"{top}\"/>\
         <line class=\"grid\" x1=\"{left}\" x2=\"{w}\" y1=\"{}\" y2=\"{}\"/>\n",
        h + 22.0,
        left - 4.0,
        top + 4.0,
        top + h,
        top + h
    );
    let mut stacked = [0u64; 24];
    for (hour, label, n) in points {
        let hr = *hour as usize;
        let y0 = top + h - h * (stacked[hr] + n) as f64 / max as f64;
        let height = h * *n as f64 / max as f64;
        stacked[hr] += n;
        let _ = writeln!(
            s,
            "<rect class=\"{}\" x=\"{:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{height:.1}\">\
             <title>{hour:02}:00 UTC: {n} {}</title></rect>",
            outcome_class(index(label)),
            left + col * hr as f64 + 2.0,
            col - 4.0,
            esc(label)
        );
    }
    for hr in (0..24).step_by(3) {
        let _ = write!(
            s,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{hr:02}:00</text>",
            left + col * hr as f64 + col / 2.0,
            top + h + 16.0
        );
    }
    s.push_str("\n</svg>\n<ul class=\"legend\">");
    for (i, (label, n)) in order.iter().enumerate() {
        let _ = write!(
            s,
            "<li><span class=\"sw {}\"></span>{} {}</li>",
            outcome_class(i),
            esc(label),
            thousands(*n)
        );
    }
    s.push_str("</ul>\n</section>\n");
    s
}

/// The breakdown by one column; in the dashboard, with a picker of the columns.
pub fn breakdown(
    chosen: Option<&(String, Vec<BreakdownLine>)>,
    columns: &[String],
    live: bool,
) -> String {
    let mut s = String::from("<section id=\"breakdown\">\n<h2>By column</h2>\n");
    if live && !columns.is_empty() {
        s.push_str("<p><label>Break results down by <select id=\"by\"><option value=\"\">choose a column</option>");
        for c in columns {
            let sel = if chosen.is_some_and(|(name, _)| name == c) {
                " selected"
            } else {
                ""
            };
            let _ = write!(s, "<option{sel}>{}</option>", esc(c));
        }
        s.push_str("</select></label></p>\n");
    }
    let Some((column, lines)) = chosen else {
        if columns.is_empty() {
            s.push_str("<p class=\"note\">The rows carry no metadata or tag column to break down by.</p>\n");
        } else if !live {
            let _ = writeln!(
                s,
                "<p class=\"note\">Pass <code>--by COLUMN</code> to break the results down by one of: {}.</p>",
                esc(&columns.join(", "))
            );
        }
        s.push_str("</section>\n");
        return s;
    };
    if lines.iter().all(|l| l.value.is_none()) {
        let _ = writeln!(
            s,
            "<p class=\"note\">No row has a column <code>{}</code>. Columns: {}.</p>\n</section>",
            esc(column),
            esc(&if columns.is_empty() {
                "none".to_string()
            } else {
                columns.join(", ")
            })
        );
        return s;
    }
    let _ = writeln!(
        s,
        "<p class=\"note\">Rows by <code>{}</code>, largest groups first (at most {}).</p>\n\
         <table class=\"breakdown\"><thead><tr><th>{}</th><th class=\"num\">rows</th>\
         <th class=\"num\">dialed</th><th class=\"num\">placed</th><th class=\"num\">reached</th>\
         <th>reached of placed</th></tr></thead><tbody>",
        esc(column),
        crate::ledger::BREAKDOWN_VALUES,
        esc(column)
    );
    for l in lines {
        let pct = if l.placed == 0 {
            0.0
        } else {
            100.0 * l.reached as f64 / l.placed as f64
        };
        let _ = writeln!(
            s,
            "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><div class=\"track\"><div class=\"fill\" style=\"width:{pct:.1}%\">\
             </div></div><span class=\"share\">{}</span></td></tr>",
            l.value.as_deref().map_or("(empty)".into(), esc),
            thousands(l.rows),
            thousands(l.dialed),
            thousands(l.placed),
            thousands(l.reached),
            share(l.reached, l.placed)
        );
    }
    s.push_str("</tbody></table>\n</section>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_stack_by_outcome_and_escape_labels() {
        let h = by_hour(&[
            (9, "<b>x</b>".into(), 2),
            (9, "CALLBACK_REQUESTED".into(), 3),
            (14, "CALLBACK_REQUESTED".into(), 1),
        ]);
        assert!(!h.contains("<b>"), "{h}");
        assert!(h.contains("09:00 UTC: 3 CALLBACK_REQUESTED"), "{h}");
        // The most frequent outcome takes the first colour.
        assert!(
            h.contains("<span class=\"sw oc0\"></span>CALLBACK_REQUESTED 4"),
            "{h}"
        );
    }

    #[test]
    fn a_breakdown_names_missing_columns() {
        let lines = vec![BreakdownLine {
            value: None,
            rows: 3,
            ..BreakdownLine::default()
        }];
        let h = breakdown(Some(&("plan".into(), lines)), &["account".into()], false);
        assert!(
            h.contains("No row has a column <code>plan</code>. Columns: account."),
            "{h}"
        );
        let lines = vec![BreakdownLine {
            value: Some("A".into()),
            rows: 2,
            dialed: 2,
            placed: 2,
            reached: 1,
        }];
        let h = breakdown(Some(&("account".into(), lines)), &["account".into()], true);
        assert!(h.contains("<option selected>account</option>"), "{h}");
        assert!(h.contains("50.0 %"), "{h}");
    }
}
