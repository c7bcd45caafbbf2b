//! The rule catalogue as Markdown (`docs/rules.md` is this, checked by a test).

use alloc::format;
use alloc::string::String;

use crate::analysis::error::ErrorCode;
use crate::analysis::rules::RULES;

pub fn markdown() -> String {
    let mut out = String::from(
        "# Rule catalogue\n\n\
         Generated from `src/analysis/rules/` by `UPDATE_DOCS=1 cargo test --test docs`; a test fails when \
         this file and the code disagree. Rule ids are stable: ignore files and SARIF results use them.\n\n\
         A rule marked **escalation** is a way back to root for a non-root USER: one such finding makes \
         the verdict `pseudo-rootless` (see `src/analysis/verdict.rs`).\n\n\
         | id | severity | escalation | title |\n| --- | --- | --- | --- |\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} | {} |\n",
            r.id,
            r.id,
            r.severity.as_str(),
            if r.escalation { "yes" } else { "" },
            r.title
        ));
    }
    for r in RULES {
        out.push_str(&format!("\n## {}\n\n", r.id));
        out.push_str(&format!(
            "**{}** · severity `{}`{}\n\n",
            r.title,
            r.severity.as_str(),
            if r.escalation { " · escalation" } else { "" }
        ));
        out.push_str(&format!("{}\n\n", r.rationale));
        out.push_str(&format!("Fix:\n\n```dockerfile\n{}\n```\n", r.remediation));
        if !r.references.is_empty() {
            out.push_str("\nReferences:\n\n");
            for reference in r.references {
                out.push_str(&format!("- {}\n", reference));
            }
        }
    }
    out
}

/// The error-code catalogue as Markdown (`docs/errors.md`).
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\n\
         Generated from `src/analysis/error.rs` by `UPDATE_DOCS=1 cargo test --test docs`. Every error \
         carries one of these stable codes; the message beside it is for people and may change. On the \
         command line an unreadable input exits with status 2 and one line on stderr: \
         `rootless-check: E_CODE: message (entry \"…\", offset N)`. Problems that leave part of an \
         archive unread do not stop the analysis: they are listed in the report's `errors`, which is then \
         marked `partial`.\n\n| code | meaning | what to do |\n| --- | --- | --- |\n",
    );
    for code in ErrorCode::ALL {
        let (meaning, action) = code.explanation();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            meaning,
            action
        ));
    }
    out
}
