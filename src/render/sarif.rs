//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Every rule
//! of the catalogue is listed with its help text; each finding is a result
//! located at the file inside the image (or at the image itself), with the
//! image, layer and history step as properties.
//!
//! Written with derived `Serialize` structs, not `serde_json::json!`: that
//! pulled `serde_json::Value` (its map, drop and serialisation code) into the
//! wasm. The fields are declared in byte order of their JSON names, as the
//! `Value` maps (BTreeMap) used to write them: the output is unchanged.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

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

#[derive(Serialize)]
struct Text<S> {
    text: S,
}

#[derive(Serialize)]
struct Help {
    markdown: String,
    text: String,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 3],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleJson {
    default_configuration: Level,
    full_description: Text<&'static str>,
    help: Help,
    id: &'static str,
    name: &'static str,
    properties: RuleProperties,
    short_description: Text<&'static str>,
}

fn rule_json(r: &Rule) -> RuleJson {
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
    RuleJson {
        default_configuration: Level {
            level: level(r.severity),
        },
        full_description: Text { text: r.rationale },
        help: Help {
            markdown,
            text: format!("{}\n\nFix:\n{}", r.rationale, r.remediation),
        },
        id: r.id,
        name: r.id,
        properties: RuleProperties {
            precision: "very-high",
            security_severity: security_severity(r.severity),
            tags: ["security", "container", "rootless"],
        },
        short_description: Text { text: r.title },
    }
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

#[derive(Serialize)]
struct Uri {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Uri,
    region: Region,
}

#[derive(Serialize)]
struct LogicalLocation {
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    logical_locations: [LogicalLocation; 1],
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "rootlessCheck/v1")]
    v1: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    created_by: &'a Option<String>,
    evidence: &'a [String],
    image: String,
    layer: Option<usize>,
    platform: &'a Option<String>,
    severity: &'static str,
    verdict: &'static str,
}

#[derive(Serialize)]
struct Suppression {
    justification: &'static str,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultJson<'a> {
    level: &'static str,
    locations: [Location; 1],
    message: Text<String>,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties<'a>,
    rule_id: &'static str,
    rule_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression; 1]>,
}

fn result_json<'a>(image: &'a ImageReport, f: &'a Finding, suppressed: bool) -> ResultJson<'a> {
    let name = image_name(image);
    let rule_index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
    // Files are located by their path in the image; image-level findings at the image.
    let uri = match &f.path {
        Some(p) => String::from(p.trim_start_matches('/')),
        None => name.clone(),
    };
    ResultJson {
        level: level(f.severity),
        locations: [Location {
            logical_locations: [LogicalLocation {
                kind: "module",
                name: name.clone(),
            }],
            physical_location: PhysicalLocation {
                artifact_location: Uri { uri },
                region: Region { start_line: 1 },
            },
        }],
        message: Text {
            text: format!("{} ({}). Fix: {}", f.message, name, f.remediation),
        },
        partial_fingerprints: Fingerprints {
            v1: fingerprint(&name, f),
        },
        properties: ResultProperties {
            created_by: &f.created_by,
            evidence: &f.evidence,
            image: name,
            layer: f.layer,
            platform: &image.platform,
            severity: f.severity.as_str(),
            verdict: image.verdict.as_str(),
        },
        rule_id: f.rule,
        rule_index,
        suppressions: suppressed.then_some([Suppression {
            justification: "matched an ignore rule",
            kind: "external",
        }]),
    }
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

#[derive(Serialize)]
struct Notification {
    descriptor: Descriptor,
    level: &'static str,
    message: Text<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct RunProperties {
    partial: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    information_uri: &'static str,
    name: &'static str,
    rules: Vec<RuleJson>,
    semantic_version: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
struct Run<'a> {
    invocations: [Invocation; 1],
    properties: RunProperties,
    results: Vec<ResultJson<'a>>,
    tool: Tool,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

pub fn render(report: &Report) -> String {
    let rules: Vec<RuleJson> = RULES.iter().map(|r| rule_json(r)).collect();
    let mut results = Vec::new();
    for image in &report.images {
        results.extend(image.findings.iter().map(|f| result_json(image, f, false)));
        results.extend(image.suppressed.iter().map(|f| result_json(image, f, true)));
    }
    let notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| Notification {
            descriptor: Descriptor {
                id: e.code.as_str(),
            },
            level: "error",
            message: Text {
                text: format!("{}", e),
            },
        })
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [Run {
            invocations: [Invocation {
                execution_successful: !report.partial,
                tool_execution_notifications: notifications,
            }],
            properties: RunProperties {
                partial: report.partial,
            },
            results,
            tool: Tool {
                driver: Driver {
                    information_uri: "https://www.npmjs.com/package/rootless-check",
                    name: "rootless-check",
                    rules,
                    semantic_version: report.tool.version,
                    version: report.tool.version,
                },
            },
        }],
        version: "2.1.0",
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}
