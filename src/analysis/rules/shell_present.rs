//! A shell in the image (information: distroless images have none).

use alloc::format;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "shell-present",
    severity: Severity::Info,
    title: "shell present",
    rationale: "A shell makes post-exploitation easier. Distroless and scratch images ship none.",
    remediation:
        "Consider a distroless or scratch base for the final stage of a multi-stage build.",
    references: &[],
    escalation: false,
    check,
};

const SHELLS: &[&str] = &[
    "bin/sh",
    "bin/bash",
    "bin/ash",
    "bin/dash",
    "bin/zsh",
    "usr/bin/bash",
    "usr/bin/sh",
    "busybox/sh",
];

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if let Some((p, layer)) = ctx.find_first(SHELLS) {
        let path = format!("/{}", p);
        out.push(
            Finding::new(
                &RULE,
                format!("The image has a shell ({}).", path),
                RULE.remediation.into(),
            )
            .at(&path, layer, ctx.created_by(layer)),
        );
    }
}
