//! The rule catalogue as Markdown (`docs/rules.md` is this, checked by a test).

use alloc::format;
use alloc::string::String;

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
