//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Every rule
//! of the catalogue is listed with its help text; each finding is a result
//! located at the file inside the image (or at the image itself), with the
//! image, layer and history step as properties.
//!
//! Written with the JSON writer (`json_writer`), not serde: the keys of each
//! object are in byte order of their names, as the `serde_json::Value` maps
//! (BTreeMap) that first wrote this log had them, so the output never changed.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::json_writer::JsonWriter;
#[cfg(feature = "specs")]
use crate::analysis::report::RunReport;
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

/// `"key": {"text": text}`, SARIF's message and description objects.
fn text(w: &mut JsonWriter, key: &str, text: &str) {
    w.key(key);
    w.object(|w| w.field("text", text));
}

/// One rule of the catalogue, as a SARIF `reportingDescriptor`.
fn write_rule(w: &mut JsonWriter, rule: &Rule) {
    let refs: Vec<String> = rule.references.iter().map(|x| format!("- {}", x)).collect();
    let markdown = format!(
        "{}\n\n**Fix**\n\n```dockerfile\n{}\n```\n{}",
        rule.rationale,
        rule.remediation,
        if refs.is_empty() {
            String::new()
        } else {
            format!("\n**References**\n\n{}\n", refs.join("\n"))
        }
    );
    let help = format!("{}\n\nFix:\n{}", rule.rationale, rule.remediation);
    w.object(|w| {
        w.key("defaultConfiguration");
        w.object(|w| w.field("level", level(rule.severity)));
        text(w, "fullDescription", rule.rationale);
        w.key("help");
        w.object(|w| {
            w.field("markdown", &markdown);
            w.field("text", &help);
        });
        w.field("id", rule.id);
        w.field("name", rule.id);
        w.key("properties");
        w.object(|w| {
            w.field("precision", "very-high");
            w.field("security-severity", security_severity(rule.severity));
            w.field("tags", &["security", "container", "rootless"][..]);
        });
        text(w, "shortDescription", rule.title);
    });
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

fn write_result(w: &mut JsonWriter, image: &ImageReport, f: &Finding, suppressed: bool) {
    let name = image_name(image);
    let rule_index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
    // Files are located by their path in the image; image-level findings at the image.
    let uri = match &f.path {
        Some(p) => p.trim_start_matches('/'),
        None => &name,
    };
    let message = format!("{} ({}). Fix: {}", f.message, name, f.remediation);
    w.object(|w| {
        w.field("level", level(f.severity));
        w.key("locations");
        w.array(|w| {
            w.object(|w| {
                w.key("logicalLocations");
                w.array(|w| {
                    w.object(|w| {
                        w.field("kind", "module");
                        w.field("name", &name);
                    })
                });
                w.key("physicalLocation");
                w.object(|w| {
                    w.key("artifactLocation");
                    w.object(|w| w.field("uri", uri));
                    w.key("region");
                    w.object(|w| w.field("startLine", &1u32));
                });
            })
        });
        text(w, "message", &message);
        w.key("partialFingerprints");
        w.object(|w| w.field("rootlessCheck/v1", &fingerprint(&name, f)));
        w.key("properties");
        w.object(|w| {
            w.field("createdBy", &f.created_by);
            w.field("evidence", &f.evidence);
            w.field("image", &name);
            w.field("layer", &f.layer);
            w.field("platform", &image.platform);
            w.field("severity", f.severity.as_str());
            w.field("verdict", image.verdict.as_str());
        });
        w.field("ruleId", f.rule);
        w.field("ruleIndex", &rule_index);
        if suppressed {
            w.key("suppressions");
            w.array(|w| {
                w.object(|w| {
                    w.field("justification", "matched an ignore rule");
                    w.field("kind", "external");
                })
            });
        }
    });
}

/// A run's finding, located in its spec file at the field's line (or at
/// the image for `--run`).
#[cfg(feature = "specs")]
fn write_run_result(w: &mut JsonWriter, run: &RunReport, f: &Finding, suppressed: bool) {
    let rule_index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
    let line = run
        .finding_lines
        .iter()
        .find(|(r, _)| *r == f.rule)
        .map(|(_, l)| *l)
        .or(run.source.line)
        .unwrap_or(1);
    let image = run.image.clone().unwrap_or_else(|| String::from("image"));
    let uri = run.source.file.clone().unwrap_or_else(|| image.clone());
    let message = format!("{} ({}). Fix: {}", f.message, run.name, f.remediation);
    let key = format!("{}\u{0}{}", run.name, image);
    w.object(|w| {
        w.field("level", level(f.severity));
        w.key("locations");
        w.array(|w| {
            w.object(|w| {
                w.key("logicalLocations");
                w.array(|w| {
                    w.object(|w| {
                        w.field("kind", "object");
                        w.field("name", &run.name);
                    })
                });
                w.key("physicalLocation");
                w.object(|w| {
                    w.key("artifactLocation");
                    w.object(|w| w.field("uri", &uri));
                    w.key("region");
                    w.object(|w| w.field("startLine", &line));
                });
            })
        });
        text(w, "message", &message);
        w.key("partialFingerprints");
        w.object(|w| w.field("rootlessCheck/v1", &fingerprint(&key, f)));
        w.key("properties");
        w.object(|w| {
            w.field("evidence", &f.evidence);
            w.field("image", &image);
            w.field("outcome", run.outcome.as_str());
            w.field("run", &run.name);
            w.field("severity", f.severity.as_str());
            w.field("verdict", run.verdict.as_str());
        });
        w.field("ruleId", f.rule);
        w.field("ruleIndex", &rule_index);
        if suppressed {
            w.key("suppressions");
            w.array(|w| {
                w.object(|w| {
                    w.field("justification", "matched an ignore rule");
                    w.field("kind", "external");
                })
            });
        }
    });
}

pub fn render(report: &Report) -> String {
    let mut w = JsonWriter::new();
    w.object(|w| {
        w.field("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
        w.key("runs");
        w.array(|w| {
            w.object(|w| {
                w.key("invocations");
                w.array(|w| {
                    w.object(|w| {
                        w.field("executionSuccessful", &!report.partial);
                        w.key("toolExecutionNotifications");
                        w.array(|w| {
                            for e in &report.errors {
                                w.object(|w| {
                                    w.key("descriptor");
                                    w.object(|w| w.field("id", e.code.as_str()));
                                    w.field("level", "error");
                                    text(w, "message", &format!("{}", e));
                                });
                            }
                        });
                    })
                });
                w.key("properties");
                w.object(|w| w.field("partial", &report.partial));
                w.key("results");
                w.array(|w| {
                    for image in &report.images {
                        for f in &image.findings {
                            write_result(w, image, f, false);
                        }
                        for f in &image.suppressed {
                            write_result(w, image, f, true);
                        }
                    }
                    // Only the `specs` feature makes runs (see render::json).
                    #[cfg(feature = "specs")]
                    for run in &report.runs {
                        for f in &run.findings {
                            write_run_result(w, run, f, false);
                        }
                        for f in &run.suppressed {
                            write_run_result(w, run, f, true);
                        }
                    }
                });
                w.key("tool");
                w.object(|w| {
                    w.key("driver");
                    w.object(|w| {
                        w.field(
                            "informationUri",
                            "https://www.npmjs.com/package/rootless-check",
                        );
                        w.field("name", "rootless-check");
                        w.key("rules");
                        w.array(|w| RULES.iter().for_each(|r| write_rule(w, r)));
                        w.field("semanticVersion", report.tool.version);
                        w.field("version", report.tool.version);
                    });
                });
            })
        });
        w.field("version", "2.1.0");
    });
    let mut s = w.finish();
    s.push('\n');
    s
}
