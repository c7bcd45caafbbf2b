//! The JSON report (schemaVersion 1).

use alloc::string::String;

use crate::analysis::report::Report;

pub fn render(report: &Report) -> String {
    // Serialising plain data structures cannot fail.
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
