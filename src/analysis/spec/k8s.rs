//! `--k8s FILE`: Kubernetes manifests (several documents; Pod, Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
//! CronJob, and List of them; rendered Helm or Kustomize output is such a
//! file), decoded as sigs.k8s.io/yaml decodes them (YAML 1.1 scalars, then
//! JSON into the API types: a quoted `"true"` where a boolean belongs is a
//! decoding error). Containers and initContainers; the pod's and the
//! container's securityContext merged as kubelet's
//! `securitycontext.DetermineEffectiveSecurityContext` does (the
//! container's runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions,
//! seccompProfile and appArmorProfile win over the pod's).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::yaml::{self, Dialect, Node, Scalar};
use super::{normalise_cap, SpecError, Specs};
use crate::analysis::runs::{RunSpec, SpecKind};

const D: Dialect = Dialect::Kubernetes;

struct Reader<'a> {
    file: Option<&'a str>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn err(&self, node: &Node, message: String) -> SpecError {
        SpecError::at(self.file, node.pos, message)
    }

    fn type_err(&self, node: &Node, path: &str, want: &str) -> SpecError {
        let got = match node.kind_name(D) {
            "a string" => "string",
            "a boolean" => "bool",
            "a number" => "number",
            "a sequence" => "array",
            "a mapping" => "object",
            other => other,
        };
        self.err(
            node,
            format!(
                "{}: json: cannot unmarshal {} into Go value of type {}",
                path, got, want
            ),
        )
    }

    fn opt_bool(&self, node: Option<&Node>, path: &str) -> Result<Option<bool>, SpecError> {
        let Some(n) = node else { return Ok(None) };
        match n.scalar(D) {
            Some(Scalar::Null) => Ok(None),
            Some(Scalar::Bool(b)) => Ok(Some(b)),
            _ => Err(self.type_err(n, path, "bool")),
        }
    }

    fn opt_int(&self, node: Option<&Node>, path: &str) -> Result<Option<i64>, SpecError> {
        let Some(n) = node else { return Ok(None) };
        match n.scalar(D) {
            Some(Scalar::Null) => Ok(None),
            Some(Scalar::Int(i)) => Ok(Some(i)),
            _ => Err(self.type_err(n, path, "int64")),
        }
    }

    fn opt_str(&self, node: Option<&Node>, path: &str) -> Result<Option<String>, SpecError> {
        let Some(n) = node else { return Ok(None) };
        match n.scalar(D) {
            Some(Scalar::Null) => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(String::from(s))),
            _ => Err(self.type_err(n, path, "string")),
        }
    }

    fn strings(&self, node: Option<&Node>, path: &str) -> Result<Option<Vec<String>>, SpecError> {
        let Some(n) = node else { return Ok(None) };
        if n.is_null(D) {
            return Ok(None);
        }
        if !n.is_seq() {
            return Err(self.type_err(n, path, "[]string"));
        }
        n.items()
            .iter()
            .map(|i| match i.scalar(D) {
                Some(Scalar::Str(s)) => Ok(String::from(s)),
                _ => Err(self.type_err(i, path, "string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// The effective value: the container's when set, else the pod's.
fn pick<'a>(container: Option<&'a Node>, pod: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    container
        .and_then(|c| c.get(key))
        .filter(|n| !n.is_null(D))
        .or_else(|| pod.and_then(|p| p.get(key)).filter(|n| !n.is_null(D)))
}

struct PodContext<'a> {
    kind: String,
    name: String,
    namespace: String,
    spec: &'a Node,
}

fn pod_spec<'a>(doc: &'a Node, kind: &str) -> Option<&'a Node> {
    match kind {
        "Pod" => doc.get("spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => doc.get("spec")?.get("template")?.get("spec"),
        "CronJob" => doc
            .get("spec")?
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

fn container_spec(
    r: &mut Reader<'_>,
    pod: &PodContext<'_>,
    c: &Node,
    field: &str,
    index: usize,
) -> Result<RunSpec, SpecError> {
    let cname = r.opt_str(c.get("name"), "name")?.unwrap_or_default();
    let base = format!("{}[{}]", field, index);
    let mut spec = RunSpec::new(
        SpecKind::Kubernetes,
        format!("{}/{}/{}", pod.kind, pod.name, cname),
    );
    spec.file = r.file.map(String::from);
    spec.line = Some(c.pos.line);
    spec.container = Some(cname.clone());
    spec.pod = Some(match pod.kind.as_str() {
        "Pod" => format!("{}_{}", pod.name, pod.namespace),
        _ => format!("{}-…_{}", pod.name, pod.namespace),
    });
    spec.image = r.opt_str(c.get("image"), &format!("{}.image", base))?;
    spec.entrypoint = r.strings(c.get("command"), &format!("{}.command", base))?;
    spec.command = r.strings(c.get("args"), &format!("{}.args", base))?;
    let psc = pod.spec.get("securityContext").filter(|n| n.is_map());
    let csc = c.get("securityContext").filter(|n| n.is_map());
    let sc = |k: &str| format!("{}.securityContext.{}", base, k);
    let line = |spec: &mut RunSpec, key: &'static str, n: Option<&Node>| {
        if let Some(n) = n {
            spec.lines.push((key, n.pos.line));
        }
    };
    let n = pick(csc, psc, "runAsUser");
    spec.run_as_user = r.opt_int(n, &sc("runAsUser"))?;
    line(&mut spec, "user", n);
    spec.run_as_group = r.opt_int(pick(csc, psc, "runAsGroup"), &sc("runAsGroup"))?;
    let n = pick(csc, psc, "runAsNonRoot");
    spec.run_as_non_root = r.opt_bool(n, &sc("runAsNonRoot"))?;
    line(&mut spec, "runAsNonRoot", n);
    let n = csc.and_then(|s| s.get("privileged"));
    spec.privileged = r.opt_bool(n, &sc("privileged"))?.unwrap_or(false);
    line(&mut spec, "privileged", n);
    let n = csc.and_then(|s| s.get("allowPrivilegeEscalation"));
    spec.allow_privilege_escalation = r.opt_bool(n, &sc("allowPrivilegeEscalation"))?;
    line(&mut spec, "nnp", n);
    spec.read_only = r
        .opt_bool(
            csc.and_then(|s| s.get("readOnlyRootFilesystem")),
            &sc("readOnlyRootFilesystem"),
        )?
        .unwrap_or(false);
    if let Some(caps) = csc.and_then(|s| s.get("capabilities")) {
        let add = caps.get("add");
        let drop = caps.get("drop");
        spec.cap_add = r
            .strings(add, &sc("capabilities.add"))?
            .unwrap_or_default()
            .iter()
            .map(|c| normalise_cap(c))
            .collect();
        spec.cap_drop = r
            .strings(drop, &sc("capabilities.drop"))?
            .unwrap_or_default()
            .iter()
            .map(|c| normalise_cap(c))
            .collect();
        line(&mut spec, "capAdd", add);
        line(&mut spec, "capDrop", drop);
    }
    if let Some(p) = csc.and_then(|s| s.get("procMount")) {
        spec.proc_mount_unmasked =
            r.opt_str(Some(p), &sc("procMount"))?.as_deref() == Some("Unmasked");
    }
    let n = pick(csc, psc, "seccompProfile");
    if let Some(n) = n {
        spec.seccomp = r.opt_str(n.get("type"), &sc("seccompProfile.type"))?;
    }
    line(&mut spec, "seccomp", n);
    if let Some(n) = pick(csc, psc, "appArmorProfile") {
        spec.apparmor = r.opt_str(n.get("type"), &sc("appArmorProfile.type"))?;
    }
    if let Some(n) = pick(csc, psc, "seLinuxOptions") {
        spec.selinux_type = r.opt_str(n.get("type"), &sc("seLinuxOptions.type"))?;
    }
    if let Some(groups) = psc.and_then(|p| p.get("supplementalGroups")) {
        for g in groups.items() {
            if let Some(Scalar::Int(i)) = g.scalar(D) {
                spec.group_add.push(i.to_string());
            }
        }
    }
    if let Some(sysctls) = psc.and_then(|p| p.get("sysctls")) {
        for s in sysctls.items() {
            if let Some(n) = r.opt_str(s.get("name"), "sysctls[].name")? {
                spec.sysctls.push(n);
            }
        }
    }
    spec.host_network = r
        .opt_bool(pod.spec.get("hostNetwork"), "spec.hostNetwork")?
        .unwrap_or(false);
    spec.host_pid = r
        .opt_bool(pod.spec.get("hostPID"), "spec.hostPID")?
        .unwrap_or(false);
    spec.host_ipc = r
        .opt_bool(pod.spec.get("hostIPC"), "spec.hostIPC")?
        .unwrap_or(false);
    for p in c.get("ports").map(|p| p.items()).unwrap_or(&[]) {
        if let Some(h) = r.opt_int(p.get("hostPort"), &format!("{}.ports[].hostPort", base))? {
            if h != 0 {
                spec.host_ports.push(h);
            }
        }
    }
    for v in pod.spec.get("volumes").map(|v| v.items()).unwrap_or(&[]) {
        for (k, val) in v.entries() {
            let key = k.as_str().unwrap_or("");
            if key == "name" {
                continue;
            }
            if key == "hostPath" {
                spec.host_paths.push(
                    val.get("path")
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .to_string(),
                );
            }
            if !spec.volume_types.iter().any(|t| t == key) {
                spec.volume_types.push(key.to_string());
            }
        }
    }
    Ok(spec)
}

fn read_doc(r: &mut Reader<'_>, doc: &Node, runs: &mut Vec<RunSpec>) -> Result<(), SpecError> {
    if doc.is_null(D) {
        return Ok(());
    }
    if !doc.is_map() {
        return Err(r.err(
            doc,
            String::from("a document must be a mapping (an API object)"),
        ));
    }
    let kind = r.opt_str(doc.get("kind"), "kind")?.unwrap_or_default();
    if kind == "List" || kind.ends_with("List") {
        for item in doc.get("items").map(|i| i.items()).unwrap_or(&[]) {
            read_doc(r, item, runs)?;
        }
        return Ok(());
    }
    let meta = doc.get("metadata");
    let name = r
        .opt_str(meta.and_then(|m| m.get("name")), "metadata.name")?
        .unwrap_or_default();
    let Some(spec) = pod_spec(doc, &kind) else {
        if !kind.is_empty() {
            r.warnings.push(format!(
                "{}:{}: {} {:?} has no pod template: skipped",
                r.file.unwrap_or(""),
                doc.pos.line,
                kind,
                name
            ));
        }
        return Ok(());
    };
    let namespace = r
        .opt_str(meta.and_then(|m| m.get("namespace")), "metadata.namespace")?
        .unwrap_or_else(|| String::from("default"));
    let pod = PodContext {
        kind,
        name,
        namespace,
        spec,
    };
    for field in ["initContainers", "containers"] {
        for (i, c) in spec
            .get(field)
            .map(|c| c.items())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            runs.push(container_spec(r, &pod, c, field, i)?);
        }
    }
    Ok(())
}

/// Read every workload of a manifest file.
pub fn parse(text: &str, file: Option<&str>) -> Result<Specs, SpecError> {
    let stream = yaml::parse(text, D).map_err(|e| SpecError::at(file, e.pos, e.message))?;
    let mut r = Reader {
        file,
        warnings: Vec::new(),
    };
    r.warnings
        .extend(stream.warnings.iter().map(|w| match file {
            Some(f) => format!("{}: {}", f, w),
            None => w.clone(),
        }));
    let mut runs = Vec::new();
    for doc in &stream.documents {
        read_doc(&mut r, doc, &mut runs)?;
    }
    Ok(Specs {
        runs,
        warnings: r.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: yes
        runAsUser: 0x3E8
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: fixture/x:1
          securityContext:
            allowPrivilegeEscalation: off
            capabilities: {drop: [ALL]}
        - name: side
          image: busybox
          securityContext: {runAsUser: 0, privileged: true}
---
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: ops}
    spec:
      jobTemplate:
        spec:
          template:
            spec:
              initContainers: [{name: init, image: alpine}]
              containers: [{name: job, image: alpine, command: [sh, -c, id]}]
";

    #[test]
    fn workloads_containers_and_merged_contexts() {
        let s = parse(MANIFEST, Some("m.yaml")).unwrap();
        let names: Vec<&str> = s.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Deployment/web/app",
                "Deployment/web/side",
                "CronJob/nightly/init",
                "CronJob/nightly/job"
            ]
        );
        let app = &s.runs[0];
        assert_eq!(app.run_as_user, Some(1000));
        assert_eq!(app.run_as_non_root, Some(true));
        assert_eq!(app.allow_privilege_escalation, Some(false));
        assert_eq!(app.cap_drop, ["ALL"]);
        assert_eq!(app.seccomp.as_deref(), Some("RuntimeDefault"));
        assert_eq!(app.line, Some(12));
        let side = &s.runs[1];
        assert_eq!((side.run_as_user, side.privileged), (Some(0), true));
        assert_eq!(side.run_as_non_root, Some(true));
        assert_eq!(side.line_of("privileged"), Some(19));
        assert_eq!(s.runs[3].entrypoint.as_ref().unwrap(), &["sh", "-c", "id"]);
        assert_eq!(s.runs[3].pod.as_deref(), Some("nightly-…_ops"));
    }

    #[test]
    fn decoding_errors_as_the_api_types_give_them() {
        let e = parse(
            "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext: {privileged: \"true\"}\n",
            Some("p.yaml"),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(6));
        assert!(
            e.message
                .contains("cannot unmarshal string into Go value of type bool"),
            "{}",
            e
        );
    }
}
