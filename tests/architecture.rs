//! The shape of the code the design asks for, checked from the sources:
//! the report is a leaf that the rules, the verdict and the run predictions
//! write into (no import cycle runs through it), and every
//! `#[wasm_bindgen]` item lives in the one binding module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `src/analysis` module a file belongs to: `rules/s6_overlay.rs` and
/// `rules/mod.rs` are `rules`, `spec/yaml.rs` is `spec`.
fn module_of(analysis: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(analysis).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Which analysis modules each one names outside its tests (`super::x`,
/// `crate::analysis::x`; `super::super::x` from a submodule).
fn analysis_graph() -> BTreeMap<String, BTreeSet<String>> {
    let analysis = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analysis");
    let mut files = Vec::new();
    rust_files(&analysis, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&analysis, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&analysis, file);
        let nested = file.parent() != Some(analysis.as_path());
        let text = std::fs::read_to_string(file).unwrap();
        // Test modules may import anything.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let code = code.split("#[cfg(all(test").next().unwrap();
        let edges = graph.entry(from.clone()).or_default();
        for prefix in ["crate::analysis::", "super::super::", "super::"] {
            for (at, _) in code.match_indices(prefix) {
                // `super::` inside a nested file names a sibling in the same
                // module, not another module.
                if prefix == "super::" && nested {
                    continue;
                }
                if prefix == "super::" && code[..at].ends_with("super::") {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&name) && name != from {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in graph.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn the_report_is_a_leaf_that_rules_and_the_verdict_write_into() {
    let graph = analysis_graph();
    let below_report = reachable(&graph, "report");
    assert!(
        !below_report.contains("report"),
        "an import cycle runs through the report: report reaches {below_report:?}"
    );
    for writer in ["rules", "verdict", "runs", "verify", "image"] {
        assert!(
            !below_report.contains(writer),
            "the report depends on {writer}, which writes into it ({below_report:?})"
        );
        assert!(
            reachable(&graph, writer).contains("report"),
            "{writer} no longer writes into the report: is the graph read right?"
        );
    }
}

#[test]
fn every_wasm_bindgen_item_is_in_the_binding_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("src/wasm.rs"))
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("#[wasm_bindgen")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "#[wasm_bindgen] outside src/wasm.rs: {outside:?}"
    );
}
