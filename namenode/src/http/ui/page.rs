//! The pieces every page is made of: escaping, the layout (navigation, inline CSS, the live-refresh
//! script), and formatting of sizes, times and modes. Everything is compiled into the binary: a page
//! loads nothing from elsewhere.

use std::fmt::Write;

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` percent-encoded for a URL's path or query (`/` kept).
pub fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A value the live script refreshes: `<span id="v-KEY">value</span>`.
pub fn live(key: &str, value: &str) -> String {
    format!("<span id=\"v-{}\">{}</span>", esc(key), esc(value))
}

/// The pages, in the navigation's order: (path, title).
const NAV: [(&str, &str); 5] = [
    ("/ui/", "Overview"),
    ("/ui/datanodes", "Datanodes"),
    ("/ui/files", "Files"),
    ("/ui/healing", "Healing"),
    ("/ui/jobs", "Jobs"),
];

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#263445;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header b{font-size:18px;letter-spacing:.5px}
header a{color:#c9d6e6;text-decoration:none}header a.on{color:#fff;border-bottom:2px solid #f0a030}
main{padding:16px 24px;max-width:1200px}
h1{font-size:20px;margin:8px 0 16px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 2px #0002}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e7ec;font-size:14px}
td.cap{white-space:nowrap}
th{background:#eef1f5;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;padding:10px 16px;box-shadow:0 1px 2px #0002;min-width:140px}
.card .k{font-size:12px;color:#5a6475}.card .v{font-size:20px;font-weight:600}
.bar{background:#e4e7ec;width:160px;height:10px;display:inline-block;vertical-align:middle}
.bar i{background:#3c8dde;height:10px;display:block}
.live{color:#1a7f37}.dead{color:#cf222e}.warn{color:#9a6700}
.muted{color:#5a6475;font-size:12px}code{font-size:13px}
"#;

/// Polls `/ui/api/status` every 2 s and writes each value into the element `v-KEY` (no reload).
const SCRIPT: &str = r#"
window.basaltPageLoaded = Date.now();
async function basaltRefresh() {
  try {
    const r = await fetch('/ui/api/status', {cache: 'no-store'});
    if (!r.ok) return;
    const s = await r.json();
    for (const [k, v] of Object.entries(s.values)) {
      const e = document.getElementById('v-' + k);
      if (e && e.textContent !== String(v)) e.textContent = v;
    }
    const bars = s.bars || {};
    for (const [k, v] of Object.entries(bars)) {
      const e = document.getElementById('bar-' + k);
      if (e) e.style.width = v + '%';
    }
    window.basaltRefreshes = (window.basaltRefreshes || 0) + 1;
  } catch (e) { /* the namenode is away: try again next time */ }
}
setInterval(basaltRefresh, 2000);
"#;

/// A whole page: the navigation with `current` marked, the title and `body`.
pub fn layout(current: &str, title: &str, body: &str) -> String {
    let mut nav = String::new();
    for (path, name) in NAV {
        let on = if path == current { " class=\"on\"" } else { "" };
        let _ = write!(nav, "<a href=\"{path}\"{on}>{name}</a>");
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t} · Basalt</title><style>{CSS}</style></head><body>\
         <header><b>Basalt</b>{nav}<span class=\"muted\" style=\"margin-left:auto;color:#c9d6e6\">\
         updated {upd}</span></header><main><h1>{t}</h1>{body}</main><script>{SCRIPT}</script></body></html>",
        t = esc(title),
        upd = live("updated", &clock(crate::service::now_ms())),
    )
}

/// A row of key/value cards.
pub fn cards(items: &[(&str, String)]) -> String {
    let mut out = String::from("<div class=\"cards\">");
    for (k, v) in items {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{v}</div></div>",
            esc(k)
        );
    }
    out.push_str("</div>");
    out
}

/// A bar filled to `used / total`, its fill refreshed as `bar-KEY`.
pub fn bar(key: &str, used: u64, total: u64) -> String {
    bar_filled(key, percent(used, total))
}

/// A bar filled to `pct` percent, its fill refreshed as `bar-KEY`.
pub fn bar_filled(key: &str, pct: u64) -> String {
    format!(
        "<span class=\"bar\"><i id=\"bar-{}\" style=\"width:{pct}%\"></i></span>",
        esc(key)
    )
}

pub fn percent(used: u64, total: u64) -> u64 {
    (used.saturating_mul(100)).checked_div(total).unwrap_or(0).min(100)
}

pub fn bytes(n: u64) -> String {
    basalt_common::units::format_bytes(n)
}

/// `drwxr-xr-x`, as `hadoop fs -ls` shows it.
pub fn mode(mode: u32, dir: bool) -> String {
    basalt_common::mode::mode_string(dir, mode)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC ("-" for 0).
pub fn time(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    basalt_common::units::format_utc(ms, true)
}

/// Milliseconds since the epoch as `HH:MM:SS` UTC.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// A duration in milliseconds for people: `850ms`, `12s`, `3m 4s`, `2h 5m`, `3d 4h`.
pub fn ago(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_urls() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(url("/a b/c&d?é"), "/a%20b/c%26d%3F%C3%A9");
    }

    #[test]
    fn modes_times_and_durations() {
        assert_eq!(mode(0o755, true), "drwxr-xr-x");
        assert_eq!(mode(0o644, false), "-rw-r--r--");
        assert_eq!(mode(0o1777, true), "drwxrwxrwt");
        assert_eq!(time(0), "-");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(time(1_767_225_599_000), "2025-12-31 23:59:59");
        assert_eq!(ago(850), "850ms");
        assert_eq!(ago(185_000), "3m 5s");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 0), 0);
    }
}
