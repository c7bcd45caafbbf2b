//! `schema/report.schema.json` describes the JSON report (schemaVersion 1)
//! exactly. A small validator for the schema's keyword subset lives here, so
//! the check needs no extra dependency: every fixture's report, the bundled
//! sample and partial reports of truncated archives must validate, and
//! documents with a missing, extra, misspelt or mistyped field must not.

use std::path::{Path, PathBuf};

use rootless_check::archive::{analyze_path, ReadOptions};
use serde_json::{json, Value};

const SCHEMA_TEXT: &str = include_str!("../schema/report.schema.json");

/// The keywords the schema may use; the validator understands exactly these.
const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "$ref",
    "$defs",
    "oneOf",
];

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "string", "number", "integer",
];

fn schema() -> Value {
    serde_json::from_str(SCHEMA_TEXT).expect("schema/report.schema.json is not JSON")
}

// ---------------------------------------------------------------- validator

/// Validates `value` against `schema`; `root` resolves `$ref`s. Each error
/// starts with the JSON pointer of the offending value (the document itself,
/// pointer "", is shown as "(root)").
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
        match target {
            Some(t) => validate(root, t, value, at, errors),
            None => fail(errors, at, format!("unresolvable $ref {}", r)),
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !has_type(value, t) => {
            fail(errors, at, format!("expected {}, got {}", t, value))
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| has_type(value, t.as_str().unwrap_or(""))) => {
            fail(
                errors,
                at,
                format!(
                    "expected one of {}, got {}",
                    Value::Array(ts.clone()),
                    value
                ),
            )
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(value) {
            fail(
                errors,
                at,
                format!("{} is not one of {}", value, Value::Array(allowed.clone())),
            );
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            fail(errors, at, format!("expected {}, got {}", c, value));
        }
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n < min {
            fail(errors, at, format!("{} is below the minimum {}", n, min));
        }
    }
    if let Value::Object(obj) = value {
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or("");
            if !obj.contains_key(name) {
                fail(errors, at, format!("missing required property {:?}", name));
            }
        }
        for (key, v) in obj {
            match props.and_then(|p| p.get(key)) {
                Some(sub) => validate(root, sub, v, &child(at, key), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    fail(errors, &child(at, key), "property not allowed".into())
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(sub)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(root, sub, v, &child(at, &i.to_string()), errors);
        }
    }
    if let Some(Value::Array(branches)) = schema.get("oneOf") {
        let results: Vec<Vec<String>> = branches
            .iter()
            .map(|b| {
                let mut e = Vec::new();
                validate(root, b, value, at, &mut e);
                e
            })
            .collect();
        let matched = results.iter().filter(|e| e.is_empty()).count();
        if matched != 1 {
            fail(
                errors,
                at,
                format!(
                    "matches {} of the {} oneOf branches {:?}",
                    matched,
                    branches.len(),
                    results
                ),
            );
        }
    }
}

fn fail(errors: &mut Vec<String>, at: &str, message: String) {
    errors.push(format!("{}: {}", display(at), message));
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

/// JSON pointer of a child (RFC 6901 escaping).
fn child(at: &str, key: &str) -> String {
    format!("{}/{}", at, key.replace('~', "~0").replace('/', "~1"))
}

fn display(at: &str) -> &str {
    if at.is_empty() {
        "(root)"
    } else {
        at
    }
}

fn errors_of(doc: &Value) -> Vec<String> {
    let schema = schema();
    let mut errors = Vec::new();
    validate(&schema, &schema, doc, "", &mut errors);
    errors
}

// ---------------------------------------------------------------- the schema itself

/// Properties that may be absent: `Error`'s `skip_serializing_if` fields.
const OPTIONAL: &[&str] = &[
    "/$defs/Error/properties/entry",
    "/$defs/Error/properties/offset",
];

/// Walks a (sub)schema: only known keywords, well-formed values, `$ref`s that
/// resolve, and every object closed and with all its properties required.
fn check_schema(root: &Value, s: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(obj) = s.as_object() else {
        problems.push(format!("{}: a schema must be an object", at));
        return;
    };
    for (key, v) in obj {
        let here = child(at, key);
        let ok = match key.as_str() {
            k if !KEYWORDS.contains(&k) => false,
            "properties" | "$defs" => v.as_object().is_some_and(|m| {
                m.iter()
                    .for_each(|(name, sub)| check_schema(root, sub, &child(&here, name), problems));
                true
            }),
            "items" => {
                check_schema(root, v, &here, problems);
                true
            }
            "oneOf" => v.as_array().is_some_and(|bs| {
                bs.iter().enumerate().for_each(|(i, b)| {
                    check_schema(root, b, &child(&here, &i.to_string()), problems)
                });
                !bs.is_empty()
            }),
            "type" => match v {
                Value::String(t) => TYPES.contains(&t.as_str()),
                Value::Array(ts) => ts
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t))),
                _ => false,
            },
            "$ref" => v
                .as_str()
                .is_some_and(|r| r.starts_with("#/$defs/") && root.pointer(&r[1..]).is_some()),
            "required" => v.as_array().is_some_and(|names| {
                names.iter().all(|n| {
                    n.as_str()
                        .is_some_and(|n| obj.get("properties").and_then(|p| p.get(n)).is_some())
                })
            }),
            "additionalProperties" => v.is_boolean(),
            "enum" => v.is_array(),
            "minimum" => v.is_number(),
            _ => true, // annotations, const
        };
        if !ok {
            problems.push(format!("{}: keyword not allowed or malformed", here));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            problems.push(format!(
                "{}: object without \"additionalProperties\": false",
                at
            ));
        }
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for name in props.keys() {
            let path = child(&child(at, "properties"), name);
            if !required.contains(&name.as_str()) && !OPTIONAL.contains(&path.as_str()) {
                problems.push(format!("{}: not required", path));
            }
        }
    }
}

#[test]
fn schema_uses_only_the_supported_keywords() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let mut problems = Vec::new();
    check_schema(&s, &s, "", &mut problems);
    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------- reports

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ROOTLESS_CHECK_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    }
}

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/pseudo-rootless.tar.gz")
}

/// The report as JSON, checked to be what the JSON renderer prints.
fn report_json(report: &rootless_check::Report) -> Value {
    let value = serde_json::to_value(report).unwrap();
    let printed: Value =
        serde_json::from_str(&rootless_check::render::json::render(report)).unwrap();
    assert_eq!(
        value, printed,
        "render::json differs from serde_json::to_value"
    );
    value
}

fn report_of(path: &Path) -> Value {
    let report = analyze_path(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
    report_json(&report)
}

#[test]
fn every_fixture_report_matches_the_schema() {
    let dir = fixtures_dir();
    let listing = std::fs::read_to_string(dir.join("EXPECTED.json"))
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), e));
    let listing: Value = serde_json::from_str(&listing).unwrap();
    let mut paths: Vec<PathBuf> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|f| dir.join(f["file"].as_str().unwrap()))
        .collect();
    assert!(!paths.is_empty());
    paths.push(sample());
    let mut failures = Vec::new();
    for path in &paths {
        for e in errors_of(&report_of(path)) {
            failures.push(format!("{}: {}", path.display(), e));
        }
    }
    assert!(
        failures.is_empty(),
        "{} report(s) checked:\n{}",
        paths.len(),
        failures.join("\n")
    );
}

#[test]
fn partial_reports_match_the_schema() {
    // The metadata of a `docker save` comes last: cutting into it (or just
    // the end-of-archive marker) still leaves a report, an earlier cut does not.
    let source = fixtures_dir().join("built/bb-filecap.docker26-save.tar");
    let data = std::fs::read(&source).unwrap_or_else(|e| panic!("{}: {}", source.display(), e));
    let mut partial = 0;
    for cut in [1024, 1500, 2000, 3500, 3_000_000] {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schema-cut-{}.tar", cut));
        std::fs::write(&path, &data[..data.len() - cut]).unwrap();
        let result = analyze_path(&path, &ReadOptions::default());
        std::fs::remove_file(&path).ok();
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cut {} bytes: no report ({}), skipped", cut, e);
                continue;
            }
        };
        assert!(
            report.errors.is_empty() || report.partial,
            "cut {}: errors but not partial",
            cut
        );
        partial += usize::from(report.partial);
        let errors = errors_of(&report_json(&report));
        assert!(
            errors.is_empty(),
            "cut {} bytes:\n{}",
            cut,
            errors.join("\n")
        );
    }
    eprintln!("{} partial report(s) validated", partial);
}

// ---------------------------------------------------------------- the validator can fail

/// Applies `change` to the sample's report and returns the validation errors.
fn errors_after(change: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut doc = report_of(&sample());
    assert!(!doc["images"][0]["layers"].as_array().unwrap().is_empty());
    change(&mut doc);
    errors_of(&doc)
}

fn assert_rejected_at(errors: &[String], pointer: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{}: ", pointer))),
        "expected an error at {}, got {:?}",
        pointer,
        errors
    );
}

#[test]
fn validator_rejects_wrong_documents() {
    assert_eq!(errors_after(|_| {}), Vec::<String>::new());
    let ok_error =
        json!({"code": "E_TRUNCATED", "message": "cut short", "entry": null, "offset": 7});
    assert_eq!(
        errors_after(|d| d["errors"] = json!([ok_error])),
        Vec::<String>::new()
    );

    let e = errors_after(|d| {
        d.as_object_mut().unwrap().remove("partial");
    });
    assert_rejected_at(&e, "(root)");
    let e = errors_after(|d| d["images"][0]["extra"] = json!(1));
    assert_rejected_at(&e, "/images/0/extra");
    let e = errors_after(|d| {
        let image = d["images"][0].as_object_mut().unwrap();
        let v = image.remove("hasPasswd").unwrap();
        image.insert("has_passwd".into(), v);
    });
    assert_rejected_at(&e, "/images/0/has_passwd");
    assert_rejected_at(&e, "/images/0");
    let e = errors_after(|d| d["images"][0]["verdict"] = json!("mostly-rootless"));
    assert_rejected_at(&e, "/images/0/verdict");
    let e = errors_after(|d| d["schemaVersion"] = json!("1"));
    assert_rejected_at(&e, "/schemaVersion");
    let e = errors_after(|d| d["input"]["bytesRead"] = json!(-1));
    assert_rejected_at(&e, "/input/bytesRead");
    let e = errors_after(|d| d["images"][0]["layers"][0]["compression"] = json!("brotli"));
    assert_rejected_at(&e, "/images/0/layers/0/compression");
    let e = errors_after(|d| d["images"][0]["platform"] = json!(7));
    assert_rejected_at(&e, "/images/0/platform");
    let e =
        errors_after(|d| d["images"][0]["user"]["problems"] = json!([{"kind": "userNotInPasswd"}]));
    assert_rejected_at(&e, "/images/0/user/problems/0");
    let e = errors_after(|d| {
        d["errors"] = json!([{"code": "E_TRUNCATED", "message": "x", "entry": 5, "offset": null}])
    });
    assert_rejected_at(&e, "/errors/0/entry");
    let e = errors_after(|d| d["errors"] = json!([{"code": "E_NOPE", "message": "x"}]));
    assert_rejected_at(&e, "/errors/0/code");
    let e = errors_after(|d| d["warnings"] = json!(["ok", false]));
    assert_rejected_at(&e, "/warnings/1");
}

#[test]
fn verified_reports_match_the_schema() {
    let options = rootless_check::archive::ReadOptions {
        verify: true,
        ..Default::default()
    };
    for path in [
        sample(),
        fixtures_dir().join("built/bb-filecap.oci-archive.tar"),
    ] {
        let report = rootless_check::archive::analyze_path(&path, &options).unwrap();
        let doc = report_json(&report);
        assert!(
            doc["images"][0]["verification"]["verified"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert_eq!(errors_of(&doc), Vec::<String>::new(), "{}", path.display());
    }
}

#[test]
fn reports_with_runs_match_the_schema() {
    use rootless_check::analysis::spec::{compose, docker_run, k8s};
    let mut report = analyze_path(
        &fixtures_dir().join("built/bb-suid-wh.docker20-save.tar"),
        &ReadOptions::default(),
    )
    .unwrap();
    let mut specs = docker_run::parse("--privileged -u 0").unwrap().runs;
    specs.extend(docker_run::parse("--user ghost").unwrap().runs);
    let lookup = |_: &str| None;
    let env = compose::Env {
        lookup: &lookup,
        dotenv: Vec::new(),
    };
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runs/compose.yml"),
    )
    .unwrap();
    specs.extend(
        compose::parse(&text, Some("compose.yml"), &env)
            .unwrap()
            .runs,
    );
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runs/manifests.yaml"),
    )
    .unwrap();
    specs.extend(k8s::parse(&text, Some("m.yaml")).unwrap().runs);
    rootless_check::analysis::runs::hold(&mut report, &specs, &mut |n| {
        Err(format!("{} not fetched", n))
    });
    let doc = report_json(&report);
    let outcomes: std::collections::BTreeSet<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    for o in ["starts", "refused", "not-checked"] {
        assert!(outcomes.contains(o), "{:?}", outcomes);
    }
    assert_eq!(errors_of(&doc), Vec::<String>::new());
    let mut bad = doc.clone();
    bad["runs"][0]["outcome"] = json!("maybe");
    assert_rejected_at(&errors_of(&bad), "/runs/0/outcome");
}
