//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Every rule
//! of the catalogue is listed with its help text; each finding is a result
//! located at the file inside the image (or at the image itself), with the
//! image, layer and history step as properties.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{json, Value};

use crate::analysis::report::{ImageReport, Report};
use crate::analysis::rules::{Finding, Rule, Severity, RULES};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub ranks security results by this CVSS-like score.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule_json(r: &Rule) -> Value {
    let refs: Vec<String> = r.references.iter().map(|x| format!("- {}", x)).collect();
    let markdown = format!(
        "{}\n\n**Fix**\n\n```dockerfile\n{}\n```\n{}",
        r.rationale,
        r.remediation,
        if refs.is_empty() {
            String::new()
        } else {
            format!("\n**References**\n\n{}\n", refs.join("\n"))
        }
    );
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.rationale},
        "help": {"text": format!("{}\n\nFix:\n{}", r.rationale, r.remediation), "markdown": markdown},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "security-severity": security_severity(r.severity),
            "tags": ["security", "container", "rootless"],
            "precision": "very-high"
        }
    })
}

/// A stable fingerprint so code scanning tracks a result across runs.
fn fingerprint(image: &str, f: &Finding) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in image
        .bytes()
        .chain([0])
        .chain(f.rule.bytes())
        .chain([0])
        .chain(f.path.as_deref().unwrap_or("").bytes())
    {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{:016x}", h)
}

fn image_name(image: &ImageReport) -> String {
    image
        .tags
        .first()
        .cloned()
        .or_else(|| image.config_digest.clone())
        .unwrap_or_else(|| String::from("image"))
}

fn result_json(image: &ImageReport, f: &Finding, suppressed: bool) -> Value {
    let name = image_name(image);
    let rule_index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
    // Files are located by their path in the image; image-level findings at the image.
    let uri = match &f.path {
        Some(p) => String::from(p.trim_start_matches('/')),
        None => name.clone(),
    };
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": format!("{} ({}). Fix: {}", f.message, name, f.remediation)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
            "logicalLocations": [{"name": name, "kind": "module"}]
        }],
        "partialFingerprints": {"rootlessCheck/v1": fingerprint(&name, f)},
        "properties": {
            "image": name,
            "platform": image.platform,
            "verdict": image.verdict.as_str(),
            "severity": f.severity.as_str(),
            "layer": f.layer,
            "createdBy": f.created_by,
            "evidence": f.evidence
        }
    });
    if suppressed {
        result["suppressions"] =
            json!([{"kind": "external", "justification": "matched an ignore rule"}]);
    }
    result
}

pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = RULES.iter().map(|r| rule_json(r)).collect();
    let mut results = Vec::new();
    for image in &report.images {
        results.extend(image.findings.iter().map(|f| result_json(image, f, false)));
        results.extend(image.suppressed.iter().map(|f| result_json(image, f, true)));
    }
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| json!({"level": "error", "message": {"text": format!("{}", e)}, "descriptor": {"id": e.code.as_str()}}))
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rootless-check",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://www.npmjs.com/package/rootless-check",
                "rules": rules
            }},
            "results": results,
            "invocations": [{"executionSuccessful": !report.partial, "toolExecutionNotifications": notifications}],
            "properties": {"partial": report.partial}
        }]
    });
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    s.push('\n');
    s
}
