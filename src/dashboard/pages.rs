//! The dashboard's own small pages: the campaign list, and the loader that a request
//! without the token gets (it holds no ledger data).

use std::fmt::Write;

use crate::ledger::Campaign;
use crate::report::Summary;
use crate::report::html::{esc, thousands};

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

/// The campaigns, newest first as the ledger lists them, each linking to its page.
pub fn index(lines: &[(Campaign, Summary)]) -> String {
    let mut s = format!(
        "{HEAD}<title>dialer dashboard</title>\n<style>\n{}</style>\n</head>\n<body>\n\
         <header><h1>Campaigns</h1><p class=\"sub\">{} in the ledger</p></header>\n",
        include_str!("../report/html/style.css"),
        lines.len()
    );
    if lines.is_empty() {
        s.push_str("<p class=\"note\">No campaign yet: start one with <code>dialer run FILE.csv</code>.</p>\n");
    } else {
        s.push_str(
            "<table class=\"breakdown\" id=\"campaigns\"><thead><tr><th>campaign</th>\
             <th class=\"num\">rows</th><th class=\"num\">dialed</th><th class=\"num\">placed</th>\
             <th class=\"num\">reached</th><th class=\"num\">done</th><th>created (UTC)</th>\
             </tr></thead><tbody>\n",
        );
        for (c, sum) in lines {
            let f = &sum.funnel;
            let _ = writeln!(
                s,
                "<tr><th><a href=\"{}\">{}</a></th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} %</td>\
                 <td>{}</td></tr>",
                esc(&super::routes::base(&c.name)),
                esc(&c.name),
                thousands(f.rows),
                thousands(f.dialed),
                thousands(f.placed),
                thousands(f.reached),
                sum.done_pct,
                esc(sum.created_at.get(..19).unwrap_or(&sum.created_at))
            );
        }
        s.push_str("</tbody></table>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The body of every 401: it takes `#token=...` from the URL once, keeps it in
/// sessionStorage (never a cookie, so no other site's request carries it), and loads the
/// page again with `Authorization: Bearer`, writing the answer in place of itself.
pub fn loader() -> axum::response::Html<&'static str> {
    axum::response::Html(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<title>dialer dashboard</title>\n</head>\n<body>\n",
        "<p id=\"msg\">This dashboard needs its token: open it as ",
        "<code>http://HOST:PORT/#token=YOUR_TOKEN</code> (the value of DIALER_DASHBOARD_TOKEN).</p>\n",
        "<script>\n",
        include_str!("loader.js"),
        "</script>\n</body>\n</html>\n"
    ))
}
