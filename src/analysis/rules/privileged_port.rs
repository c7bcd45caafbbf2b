//! A non-root USER with ExposedPorts below 1024.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Context, Finding, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "privileged-port",
    severity: Severity::Low,
    title: "Non-root USER exposes a port below 1024",
    rationale: "Binding a port below 1024 needs cap_net_bind_service unless the network namespace lowers \
                net.ipv4.ip_unprivileged_port_start (Docker ≥ 20.10 sets it to 0; Kubernetes and Podman \
                may not). A non-root process otherwise fails with EACCES.",
    remediation: "Listen on a port at or above 1024 and map it (`-p 80:8080`, a Service targetPort), or give \
                  the server binary the one capability:\nRUN setcap cap_net_bind_service=+ep /path/to/server",
    references: &["https://man7.org/linux/man-pages/man7/capabilities.7.html"],
    escalation: false,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(run) = ctx.run else { return };
    if !ctx.non_root_user() || ctx.user.uid.is_none() {
        return;
    }
    let low: Vec<&String> = run
        .exposed_ports
        .iter()
        .filter(|p| {
            p.split('/')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n < 1024)
        })
        .collect();
    if low.is_empty() {
        return;
    }
    let has_cap = ctx
        .capabilities
        .iter()
        .any(|c| c.capabilities.iter().any(|n| n == "cap_net_bind_service"));
    let ports: Vec<&str> = low.iter().map(|s| s.as_str()).collect();
    let mut f = Finding::new(
        &RULE,
        format!(
            "USER is not root but the image exposes {}.",
            ports.join(", ")
        ),
        RULE.remediation.into(),
    );
    f = f.evidence(if has_cap {
        String::from("a file in the image has cap_net_bind_service")
    } else {
        String::from("no file in the image has cap_net_bind_service")
    });
    out.push(f);
}
