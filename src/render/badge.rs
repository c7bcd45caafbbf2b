//! Badges for documentation pages: an SVG badge (`--format badge`) and a
//! shields.io endpoint JSON (`--format shields`). Both show one verdict: the
//! worst of the report's images (root, then unknown, then pseudo-rootless,
//! then rootless); no image or a partial report is unknown. Nothing from
//! the archive is written: the label and the verdict names are fixed text.

use alloc::format;
use alloc::string::String;

use super::json_writer::JsonWriter;
use crate::analysis::report::Report;
use crate::analysis::verdict::Verdict;

pub const LABEL: &str = "rootless-check";

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Rootless => 0,
        Verdict::PseudoRootless => 1,
        Verdict::Unknown => 2,
        Verdict::Root => 3,
    }
}

/// The verdict a badge shows.
pub fn verdict(report: &Report) -> Verdict {
    if report.partial {
        return Verdict::Unknown;
    }
    report
        .images
        .iter()
        .map(|i| i.verdict)
        .max_by_key(|v| rank(*v))
        .unwrap_or(Verdict::Unknown)
}

/// shields.io's named colour, and its hex value for the SVG.
fn color(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Rootless => ("brightgreen", "#4c1"),
        Verdict::PseudoRootless => ("yellow", "#dfb317"),
        Verdict::Root => ("red", "#e05d44"),
        Verdict::Unknown => ("lightgrey", "#9f9f9f"),
    }
}

/// Width in pixels of ASCII `text` in 11 px Verdana (shields' font), close
/// enough for lower-case words, digits and dashes.
fn text_width(text: &str) -> u32 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' => 3,
            'f' | 't' | 'r' | '-' => 5,
            'm' | 'w' => 10,
            _ => 7,
        })
        .sum()
}

/// The SVG badge: `role="img"`, a `<title>` and an `aria-label` say
/// "rootless-check: VERDICT" to screen readers.
pub fn svg(report: &Report) -> String {
    let v = verdict(report);
    let message = v.as_str();
    let (_, fill) = color(v);
    let lw = text_width(LABEL) + 10;
    let mw = text_width(message) + 10;
    let w = lw + mw;
    let title = format!("{}: {}", LABEL, message);
    format!(
        concat!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{title}\">",
            "<title>{title}</title>",
            "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>",
            "<clipPath id=\"r\"><rect width=\"{w}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>",
            "<g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{mw}\" height=\"20\" fill=\"{fill}\"/><rect width=\"{w}\" height=\"20\" fill=\"url(#s)\"/></g>",
            "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\" aria-hidden=\"true\">",
            "<text x=\"{lx}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{label}</text><text x=\"{lx}\" y=\"14\">{label}</text>",
            "<text x=\"{mx}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">{message}</text><text x=\"{mx}\" y=\"14\">{message}</text>",
            "</g></svg>\n"
        ),
        w = w,
        lw = lw,
        mw = mw,
        fill = fill,
        title = title,
        label = LABEL,
        message = message,
        lx = lw / 2,
        mx = lw + mw / 2,
    )
}

/// The shields.io endpoint JSON: `{"schemaVersion":1,"label":…,"message":…,"color":…}`
/// (<https://shields.io/badges/endpoint-badge>).
pub fn shields(report: &Report) -> String {
    let v = verdict(report);
    let mut w = JsonWriter::new();
    w.object(|w| {
        w.field("schemaVersion", &1u32);
        w.field("label", LABEL);
        w.field("message", v.as_str());
        w.field("color", color(v).0);
    });
    let mut s = w.finish();
    s.push('\n');
    s
}
