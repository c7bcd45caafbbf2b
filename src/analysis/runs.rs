//! How the image will run: a [`RunSpec`] (from `--run`, a Compose service
//! or a Kubernetes container, read by `analysis::spec`) held against the
//! image's report. It predicts who the process is, whether it starts, is
//! refused or fails, and what the run's verdict is, with the runtime's own
//! words, Pod Security Standards and fixes to paste.
//!
//! The runtime behaviour followed, with its source:
//! - kubelet `verifyRunAsNonRoot` (pkg/kubelet/kuberuntime/security_context_others.go)
//!   and `getImageUser` (kuberuntime_container.go: a numeric USER is a uid,
//!   a name is a username, empty is uid 0);
//! - Docker/runc `GetExecUser` (libcontainer/user): `unable to find user
//!   NAME: no matching entries in passwd file`; numeric ids need no entry;
//!   without a group, the user's primary group or gid 0;
//! - no_new_privs (Docker `no-new-privileges`, kubelet sets it for
//!   `allowPrivilegeEscalation: false`): setuid bits and file capabilities
//!   are ignored at exec;
//! - s6-overlay v3's preinit, as the real image in fixtures/README.md showed.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::report::{
    ImageReport, PssFailure, PssResult, RunOutcome, RunReport, RunSource, RunUser,
};
use super::rules::{self, Finding, Rule, Severity};
use super::user::{self, UserProblem};
use super::verdict::Verdict;

/// Where a run was described.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecKind {
    Run,
    Compose,
    Kubernetes,
}

impl SpecKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecKind::Run => "run",
            SpecKind::Compose => "compose",
            SpecKind::Kubernetes => "kubernetes",
        }
    }
}

/// One container or service as its spec says it runs. Kubernetes' pod and
/// container securityContext are already merged (the container's wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    pub kind: SpecKind,
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub image: Option<String>,
    /// Kubernetes: `name_namespace` of the pod (as kubelet's format.Pod
    /// starts), and the container's name, for kubelet's messages.
    pub pod: Option<String>,
    pub container: Option<String>,
    /// Docker/Compose `user` (`u[:g]`).
    pub user: Option<String>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub privileged: bool,
    pub allow_privilege_escalation: Option<bool>,
    pub no_new_privileges: bool,
    /// Capability names without `CAP_`, upper case; `ALL` as given.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub read_only: bool,
    pub userns: Option<String>,
    pub group_add: Vec<String>,
    /// Replaces the image's Entrypoint (and drops its Cmd).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's Cmd.
    pub command: Option<Vec<String>>,
    /// `Unconfined`, `RuntimeDefault`, `Localhost`; `None` when not set.
    pub seccomp: Option<String>,
    pub apparmor: Option<String>,
    pub proc_mount_unmasked: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub host_ports: Vec<i64>,
    pub host_paths: Vec<String>,
    /// Kubernetes volume types used by the pod (`emptyDir`, `hostPath`, …).
    pub volume_types: Vec<String>,
    pub sysctls: Vec<String>,
    pub selinux_type: Option<String>,
    /// A tmpfs mounted at /run (`--tmpfs /run:uid=…,gid=…,mode=…,exec`):
    /// its owner uid, mode (Docker's default 1777) and whether it allows
    /// exec (Docker's default is noexec).
    pub run_tmpfs: Option<(u32, u32, bool)>,
    /// Lines of the fields, by the field's name in [`RunSpec::field`]'s terms.
    pub lines: Vec<(&'static str, u32)>,
    pub warnings: Vec<String>,
}

impl RunSpec {
    pub fn new(kind: SpecKind, name: String) -> RunSpec {
        RunSpec {
            kind,
            name,
            file: None,
            line: None,
            image: None,
            pod: None,
            container: None,
            user: None,
            run_as_user: None,
            run_as_group: None,
            run_as_non_root: None,
            privileged: false,
            allow_privilege_escalation: None,
            no_new_privileges: false,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            read_only: false,
            userns: None,
            group_add: Vec::new(),
            entrypoint: None,
            command: None,
            seccomp: None,
            apparmor: None,
            proc_mount_unmasked: false,
            host_network: false,
            host_pid: false,
            host_ipc: false,
            host_ports: Vec::new(),
            host_paths: Vec::new(),
            volume_types: Vec::new(),
            sysctls: Vec::new(),
            selinux_type: None,
            run_tmpfs: None,
            lines: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// no_new_privs is set: Docker's option, or Kubernetes'
    /// `allowPrivilegeEscalation: false` (which the API refuses beside
    /// `privileged: true`).
    pub fn no_new_privs(&self) -> bool {
        match self.kind {
            SpecKind::Kubernetes => self.allow_privilege_escalation == Some(false),
            _ => self.no_new_privileges,
        }
    }

    pub fn line_of(&self, field: &'static str) -> Option<u32> {
        self.lines
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, l)| *l)
            .or(self.line)
    }

    /// How this spec spells a setting (`privileged`: `--privileged`,
    /// `privileged:`, `securityContext.privileged`).
    pub fn field(&self, generic: &str) -> String {
        let (run, compose, k8s) = match generic {
            "privileged" => ("--privileged", "privileged", "securityContext.privileged"),
            "user" => ("--user", "user", "securityContext.runAsUser"),
            "runAsNonRoot" => (
                "(no docker run option)",
                "(no compose key)",
                "securityContext.runAsNonRoot",
            ),
            "nnp" => (
                "--security-opt no-new-privileges",
                "security_opt: [no-new-privileges:true]",
                "securityContext.allowPrivilegeEscalation",
            ),
            "capAdd" => ("--cap-add", "cap_add", "securityContext.capabilities.add"),
            "capDrop" => (
                "--cap-drop",
                "cap_drop",
                "securityContext.capabilities.drop",
            ),
            "seccomp" => (
                "--security-opt seccomp",
                "security_opt: [seccomp:…]",
                "securityContext.seccompProfile.type",
            ),
            "apparmor" => (
                "--security-opt apparmor",
                "security_opt: [apparmor:…]",
                "appArmorProfile",
            ),
            "hostNetwork" => ("--network host", "network_mode: host", "spec.hostNetwork"),
            "hostPID" => ("--pid host", "pid: host", "spec.hostPID"),
            "hostIPC" => ("--ipc host", "ipc: host", "spec.hostIPC"),
            "hostPath" => (
                "--volume (bind)",
                "volumes (bind)",
                "spec.volumes[*].hostPath",
            ),
            "hostPort" => ("--publish", "ports", "ports[*].hostPort"),
            "procMount" => (
                "--security-opt systempaths=unconfined",
                "security_opt: [systempaths=unconfined]",
                "securityContext.procMount",
            ),
            "sysctls" => ("--sysctl", "sysctls", "spec.securityContext.sysctls"),
            "volumes" => ("--volume", "volumes", "spec.volumes[*]"),
            "seLinux" => (
                "--security-opt label",
                "security_opt: [label:…]",
                "securityContext.seLinuxOptions.type",
            ),
            other => (other, other, other),
        };
        String::from(match self.kind {
            SpecKind::Run => run,
            SpecKind::Compose => compose,
            SpecKind::Kubernetes => k8s,
        })
    }
}

// ------------------------------------------------------------------ the rules of runs

macro_rules! run_rule {
    ($name:ident, $id:expr, $sev:expr, $title:expr, $why:expr, $fix:expr, $refs:expr) => {
        pub static $name: Rule = Rule {
            id: $id,
            severity: $sev,
            title: $title,
            rationale: $why,
            remediation: $fix,
            references: $refs,
            escalation: false,
            check: rules::no_check,
        };
    };
}

run_rule!(
    PRIVILEGED_ROOT,
    "run-privileged-root",
    Severity::Critical,
    "Run: privileged container as root",
    "`privileged: true` (`--privileged`) gives the container every capability, every device and no \
     seccomp or AppArmor confinement; as uid 0 that is root on the host in all but name, the case \
     the rootless question exists for.",
    "Drop `privileged` and run as a non-root uid; add back only the capability the program needs.",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline", "CIS Docker Benchmark 5.4"]
);
run_rule!(
    PRIVILEGED,
    "run-privileged",
    Severity::High,
    "Run: privileged container",
    "A privileged container keeps every capability in its bounding set and sees the host's devices: \
     a non-root process there is one setuid file or file capability away from full host root.",
    "Drop `privileged`; add back only the capability the program needs.",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline", "CIS Docker Benchmark 5.4"]
);
run_rule!(
    AS_ROOT,
    "run-as-root",
    Severity::High,
    "Run: the container runs as uid 0",
    "The spec (or the image's USER, which the spec does not replace) makes the process uid 0.",
    "Run as a non-root uid: `runAsUser`/`user`/`--user` with a uid from the image's /etc/passwd.",
    &[
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
        "CIS Docker Benchmark 4.1"
    ]
);
run_rule!(
    REFUSED,
    "run-refused",
    Severity::High,
    "Run: the runtime refuses to start the container",
    "The kubelet (runAsNonRoot) or the container runtime (a user or group missing from the image's \
     files) refuses before the process runs.",
    "Give a numeric non-root uid that the image can run as.",
    &["https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"]
);
run_rule!(
    FAILS,
    "run-fails",
    Severity::High,
    "Run: the container starts and then fails",
    "The process starts, but its start path needs a privilege the run does not give it: a setuid \
     helper under no-new-privileges, a user switch without root.",
    "Make the start path need no privilege, or run it with what it needs, knowingly.",
    &["https://www.kernel.org/doc/html/latest/userspace-api/no_new_privs.html"]
);
run_rule!(
    ESCALATION,
    "run-escalation",
    Severity::Medium,
    "Run: the image's ways back to root are live",
    "The run starts as a non-root uid, but nothing stops the setuid-root files or file capabilities \
     of the image from granting privilege: without no-new-privileges the run is pseudo-rootless.",
    "Set `allowPrivilegeEscalation: false` (Kubernetes) or `--security-opt no-new-privileges:true` \
     (Docker, Compose `security_opt`), and drop all capabilities.",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted", "CIS Docker Benchmark 5.25"]
);
run_rule!(
    NEUTRALISED,
    "run-escalation-neutralised",
    Severity::Info,
    "Run: no-new-privileges neutralises the image's setuid files and file capabilities",
    "Under no_new_privs the kernel ignores setuid/setgid bits and file capabilities at exec: the \
     image is pseudo-rootless, this run of it is rootless.",
    "Nothing to do for this run; the image fix remains worth making for runs without it.",
    &["https://www.kernel.org/doc/html/latest/userspace-api/no_new_privs.html"]
);
run_rule!(
    CAPABILITIES,
    "run-capabilities",
    Severity::High,
    "Run: capabilities that amount to root are added",
    "Capabilities such as SYS_ADMIN, SYS_PTRACE or NET_ADMIN added to a root process widen what a \
     compromise can do to the host; `ALL` adds every one.",
    "Drop ALL and add back only what the program needs (`NET_BIND_SERVICE` at most).",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"]
);
run_rule!(
    PSS_BASELINE,
    "run-pss-baseline",
    Severity::Medium,
    "Run: fails the Pod Security Standards baseline level",
    "The baseline level forbids the known privilege escalations (privileged, host namespaces, \
     hostPath, capabilities beyond the default set, unconfined seccomp/AppArmor, unsafe sysctls); a \
     namespace enforcing it rejects the pod.",
    "Change the fields named in the run's pss.failures.",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/", "https://github.com/kubernetes/pod-security-admission/tree/master/policy"]
);
run_rule!(
    PSS_RESTRICTED,
    "run-pss-restricted",
    Severity::Low,
    "Run: fails the Pod Security Standards restricted level",
    "The restricted level adds runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL, \
     a seccomp profile and restricted volume types; a namespace enforcing it rejects the pod.",
    "Change the fields named in the run's pss.failures.",
    &["https://kubernetes.io/docs/concepts/security/pod-security-standards/", "https://github.com/kubernetes/pod-security-admission/tree/master/policy"]
);

/// Every rule of runs, in catalogue order (they are in `rules::RULES` too).
pub static RUN_RULES: &[&Rule] = &[
    &PRIVILEGED_ROOT,
    &PRIVILEGED,
    &AS_ROOT,
    &REFUSED,
    &FAILS,
    &ESCALATION,
    &NEUTRALISED,
    &CAPABILITIES,
    &PSS_BASELINE,
    &PSS_RESTRICTED,
];

// ------------------------------------------------------------------ prediction

/// Who the process is, or why the runtime refuses.
struct Who {
    uid: Option<u32>,
    gid: Option<u32>,
    name: Option<String>,
    refusal: Option<String>,
}

fn pod_ref(spec: &RunSpec) -> String {
    // kubelet's format.Pod: name_namespace(uid); the uid exists only once
    // the API server made the pod.
    format!(
        "{}(<pod-uid>)",
        spec.pod.as_deref().unwrap_or("<pod>_default")
    )
}

fn who(spec: &RunSpec, image: &ImageReport) -> Who {
    let rt = &image.runtime;
    let image_user = image.user.configured.clone();
    match spec.kind {
        SpecKind::Run | SpecKind::Compose => {
            let given = spec.user.clone().or(image_user).unwrap_or_default();
            let f = user::resolve(Some(&given), rt.passwd.as_ref(), rt.groups.as_ref());
            let refusal = f
                .problems
                .iter()
                .map(|p| match p {
                    UserProblem::UserNotInPasswd { name } => format!(
                        "unable to find user {}: no matching entries in passwd file",
                        name
                    ),
                    UserProblem::NoPasswdFile => format!(
                        "unable to find user {}: no matching entries in passwd file",
                        f.name.as_deref().unwrap_or("")
                    ),
                    UserProblem::GroupNotInGroupFile { name } => format!(
                        "unable to find group {}: no matching entries in group file",
                        name
                    ),
                    UserProblem::InvalidId { value } => format!(
                        "unable to find user {}: no matching entries in passwd file",
                        value
                    ),
                })
                .next();
            Who {
                uid: f.uid,
                gid: f.gid,
                name: f.name,
                refusal,
            }
        }
        SpecKind::Kubernetes => {
            // What the CRI reports for the image: the user part of USER.
            let configured = image_user.unwrap_or_default();
            let user_part = configured.split(':').next().unwrap_or("");
            let image_uid: Option<i64> = if user_part.is_empty() {
                Some(0)
            } else {
                user_part.parse::<i64>().ok()
            };
            let container = spec.container.as_deref().unwrap_or("");
            let mut refusal = None;
            if spec.run_as_non_root == Some(true) {
                match spec.run_as_user {
                    Some(0) => {
                        refusal = Some(format!(
                            "container's runAsUser breaks non-root policy (pod: {:?}, container: {})",
                            pod_ref(spec),
                            container
                        ))
                    }
                    Some(_) => {}
                    None => match image_uid {
                        None => {
                            refusal = Some(format!(
                                "container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root (pod: {:?}, container: {})",
                                user_part,
                                pod_ref(spec),
                                container
                            ))
                        }
                        Some(0) => {
                            refusal = Some(format!(
                                "container has runAsNonRoot and image will run as root (pod: {:?}, container: {})",
                                pod_ref(spec),
                                container
                            ))
                        }
                        Some(uid) if !(1..=i32::MAX as i64).contains(&uid) => {
                            refusal = Some(format!(
                                "container has runAsNonRoot and image has an invalid user id ({}). (Must be 1-({})): must be between 0 and 2147483647, inclusive (pod: {:?}, container: {})",
                                uid,
                                i32::MAX,
                                pod_ref(spec),
                                container
                            ))
                        }
                        Some(_) => {}
                    },
                }
            }
            // The runtime then resolves what it runs as.
            let spec_text = match (spec.run_as_user, spec.run_as_group) {
                (Some(u), Some(g)) => format!("{}:{}", u, g),
                (Some(u), None) => format!("{}", u),
                (None, Some(g)) => format!("{}:{}", user_part, g),
                (None, None) => configured.clone(),
            };
            let f = user::resolve(Some(&spec_text), rt.passwd.as_ref(), rt.groups.as_ref());
            if refusal.is_none() {
                refusal = f.problems.iter().find_map(|p| match p {
                    UserProblem::UserNotInPasswd { name } => Some(format!(
                        "unable to find user {}: no matching entries in passwd file",
                        name
                    )),
                    UserProblem::NoPasswdFile => Some(format!(
                        "unable to find user {}: no matching entries in passwd file",
                        user_part
                    )),
                    UserProblem::GroupNotInGroupFile { name } => Some(format!(
                        "unable to find group {}: no matching entries in group file",
                        name
                    )),
                    UserProblem::InvalidId { .. } => None,
                });
            }
            let name = f
                .uid
                .and_then(|u| rt.passwd.as_ref()?.by_uid(u).map(|e| e.name.clone()))
                .or(f.name);
            Who {
                uid: f.uid,
                gid: f.gid,
                name,
                refusal,
            }
        }
    }
}

/// The command line the container starts: the spec's entrypoint replaces
/// the image's and drops its Cmd; the spec's command replaces Cmd.
fn command_line(spec: &RunSpec, image: &ImageReport) -> Vec<String> {
    let config = image.config.as_ref();
    let (entrypoint, cmd) = match &spec.entrypoint {
        Some(e) => (e.clone(), spec.command.clone().unwrap_or_default()),
        None => (
            config
                .and_then(|c| c.entrypoint.clone())
                .unwrap_or_default(),
            spec.command
                .clone()
                .or_else(|| config.and_then(|c| c.cmd.clone()))
                .unwrap_or_default(),
        ),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

fn is_setuid_root(image: &ImageReport, path: &str) -> bool {
    image
        .setuid_files
        .iter()
        .any(|f| f.path == path && f.setuid && f.uid == 0)
}

/// The start path's failure, in the program's own words, if it has one.
fn start_failure(
    spec: &RunSpec,
    image: &ImageReport,
    uid: u32,
    nnp: bool,
    argv: &[String],
) -> Option<(String, String)> {
    let first = argv.first().map(|s| s.as_str()).unwrap_or("");
    let program = rules::command_name(first);
    if uid != 0 && image.s6.detected && first == "/init" {
        let helper = image.s6.setuid_helper.as_deref();
        let regains = helper.is_some_and(|h| is_setuid_root(image, h)) && !nnp;
        if regains {
            return None;
        }
        // preinit runs as the user: it goes on only when /run is already
        // the user's and writable by it.
        let (owner, mode) = match spec.run_tmpfs {
            Some((owner, mode, _)) => (owner, mode),
            None => {
                let (owner, _, mode) = image.runtime.run_dir.unwrap_or((0, 0, 0o755));
                (owner, mode)
            }
        };
        if owner == uid && mode & 0o200 != 0 {
            // A tmpfs without exec: stage0 cannot run what preinit put there
            // (seen with the real s6-overlay 3.2.3.2 fixture: exit 126).
            if let Some((_, _, false)) = spec.run_tmpfs {
                let version = image.s6.version.as_deref().unwrap_or("");
                let line = if version == "3.2.3.2" {
                    "line 83: "
                } else {
                    ""
                };
                return Some((
                    format!(
                        "/package/admin/s6-overlay-{}/libexec/stage0: exec: {}/run/s6/basedir/bin/init: Permission denied",
                        version, line
                    ),
                    String::from("the tmpfs at /run is mounted noexec (Docker's default): add exec to its options"),
                ));
            }
            return None;
        }
        let why = if helper.is_none() {
            String::from("the image has no setuid s6-overlay-suexec")
        } else if nnp {
            format!(
                "no-new-privileges: the kernel ignores the setuid bit of {}, so preinit runs as uid {} and /run belongs to uid {}",
                helper.unwrap_or(""),
                uid,
                owner
            )
        } else {
            format!("{} is not setuid root", helper.unwrap_or(""))
        };
        let message = if image.s6.major == Some(3) {
            format!(
                "/package/admin/s6-overlay/libexec/preinit: fatal: /run belongs to uid {} instead of {}, has insecure and/or unworkable permissions, and we're lacking the privileges to fix it.\ns6-overlay-suexec: fatal: child failed with exit code 100",
                owner, uid
            )
        } else {
            String::from(
                "s6-overlay-preinit cannot prepare /var/run/s6 without root (s6-overlay v2)",
            )
        };
        return Some((message, why));
    }
    if uid != 0 {
        match program {
            "gosu" => {
                let target = argv.get(1).cloned().unwrap_or_default();
                return Some((
                    format!(
                        "error: failed switching to {:?}: operation not permitted",
                        target
                    ),
                    format!("gosu switches user and needs root; the run is uid {}", uid),
                ));
            }
            "su-exec" => {
                return Some((
                    String::from("su-exec: setgroups: Operation not permitted"),
                    format!(
                        "su-exec switches user and needs root; the run is uid {}",
                        uid
                    ),
                ))
            }
            _ => {}
        }
    }
    None
}

/// Capabilities a root process in a container keeps by default (Docker's
/// and containerd's default set): what baseline allows to add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The Pod Security Standards controls, as
/// k8s.io/pod-security-admission/policy/check_*.go define them.
pub fn pss(spec: &RunSpec, uid: Option<u32>) -> PssResult {
    let mut failures = Vec::new();
    let mut fail = |level: &'static str, control: &'static str, field: &str, message: String| {
        failures.push(PssFailure {
            level,
            control,
            field: spec.field(field),
            message,
        })
    };
    // baseline (check_hostNamespaces.go, check_privileged.go, check_capabilities_baseline.go,
    // check_hostPathVolumes.go, check_hostPorts.go, check_appArmorProfile.go,
    // check_seLinuxOptions.go, check_procMount.go, check_seccompProfile_baseline.go, check_sysctls.go)
    for (on, f) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if on {
            fail(
                "baseline",
                "Host Namespaces",
                f,
                format!("{}=true shares the host's namespace", f),
            );
        }
    }
    if spec.privileged {
        fail(
            "baseline",
            "Privileged Containers",
            "privileged",
            String::from("privileged=true"),
        );
    }
    let bad_add: Vec<&String> = spec
        .cap_add
        .iter()
        .filter(|c| !BASELINE_CAPS.contains(&c.as_str()))
        .collect();
    if !bad_add.is_empty() {
        fail(
            "baseline",
            "Capabilities",
            "capAdd",
            format!(
                "adds {}, beyond the default set baseline allows",
                bad_add
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !spec.host_paths.is_empty() {
        fail(
            "baseline",
            "HostPath Volumes",
            "hostPath",
            format!("hostPath volumes: {}", spec.host_paths.join(", ")),
        );
    }
    if !spec.host_ports.is_empty() {
        let p: Vec<String> = spec.host_ports.iter().map(|p| p.to_string()).collect();
        fail(
            "baseline",
            "Host Ports",
            "hostPort",
            format!("hostPort {}", p.join(", ")),
        );
    }
    if spec
        .apparmor
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("unconfined"))
    {
        fail(
            "baseline",
            "AppArmor",
            "apparmor",
            String::from("AppArmor profile unconfined"),
        );
    }
    if let Some(t) = &spec.selinux_type {
        if !matches!(
            t.as_str(),
            "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t"
        ) {
            fail(
                "baseline",
                "SELinux",
                "seLinux",
                format!("SELinux type {}", t),
            );
        }
    }
    if spec.proc_mount_unmasked {
        fail(
            "baseline",
            "/proc Mount Type",
            "procMount",
            String::from("procMount Unmasked"),
        );
    }
    if spec.seccomp.as_deref() == Some("Unconfined") {
        fail(
            "baseline",
            "Seccomp",
            "seccomp",
            String::from("seccomp profile Unconfined"),
        );
    }
    let unsafe_sysctls: Vec<&String> = spec
        .sysctls
        .iter()
        .filter(|s| !SAFE_SYSCTLS.contains(&s.as_str()))
        .collect();
    if !unsafe_sysctls.is_empty() {
        fail(
            "baseline",
            "Sysctls",
            "sysctls",
            format!(
                "unsafe sysctls {}",
                unsafe_sysctls
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let baseline = failures.is_empty();
    // restricted (check_restrictedVolumes.go, check_allowPrivilegeEscalation.go,
    // check_runAsNonRoot.go, check_runAsUser.go, check_seccompProfile_restricted.go,
    // check_capabilities_restricted.go)
    let mut fail = |control: &'static str, field: &str, message: String| {
        failures.push(PssFailure {
            level: "restricted",
            control,
            field: spec.field(field),
            message,
        })
    };
    let bad_volumes: Vec<&String> = spec
        .volume_types
        .iter()
        .filter(|v| !RESTRICTED_VOLUMES.contains(&v.as_str()))
        .collect();
    if !bad_volumes.is_empty() {
        fail(
            "Volume Types",
            "volumes",
            format!(
                "volume types {}",
                bad_volumes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !spec.no_new_privs() {
        fail(
            "Privilege Escalation",
            "nnp",
            String::from(match spec.kind {
                SpecKind::Kubernetes => "allowPrivilegeEscalation is not set to false",
                _ => "no-new-privileges is not set",
            }),
        );
    }
    match spec.kind {
        SpecKind::Kubernetes => {
            if spec.run_as_non_root != Some(true) {
                fail(
                    "Running as Non-root",
                    "runAsNonRoot",
                    String::from("runAsNonRoot is not set to true"),
                );
            }
            if spec.run_as_user == Some(0) {
                fail(
                    "Running as Non-root user",
                    "user",
                    String::from("runAsUser=0"),
                );
            }
        }
        _ => {
            // No runAsNonRoot outside Kubernetes: what counts is the uid the run gets.
            if uid == Some(0) {
                fail(
                    "Running as Non-root",
                    "user",
                    String::from("the run is uid 0"),
                );
            }
        }
    }
    if !matches!(
        spec.seccomp.as_deref(),
        Some("RuntimeDefault") | Some("Localhost")
    ) {
        match spec.kind {
            SpecKind::Kubernetes => fail(
                "Seccomp",
                "seccomp",
                String::from("seccompProfile.type is not RuntimeDefault or Localhost"),
            ),
            // Docker and Podman apply their default profile unless told otherwise.
            _ if spec.seccomp.is_none() => {}
            _ => fail("Seccomp", "seccomp", String::from("seccomp is unconfined")),
        }
    }
    if !spec.cap_drop.iter().any(|c| c == "ALL") {
        fail(
            "Capabilities",
            "capDrop",
            String::from("capabilities do not drop ALL"),
        );
    }
    let extra: Vec<&String> = spec
        .cap_add
        .iter()
        .filter(|c| *c != "NET_BIND_SERVICE")
        .collect();
    if !extra.is_empty() {
        fail(
            "Capabilities",
            "capAdd",
            format!(
                "adds {} (only NET_BIND_SERVICE is allowed)",
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let restricted = failures.is_empty();
    PssResult {
        baseline,
        restricted,
        failures,
    }
}

/// A non-root uid the image knows: its USER's when that is not root, else
/// `nobody` (65534), else its first account from 1000, else 65534 (a uid
/// missing from passwd is allowed, as runtimes allow it).
pub fn suggested_uid(image: &ImageReport) -> (u32, Option<String>) {
    if let Some(uid) = image.user.uid.filter(|&u| u != 0) {
        return (uid, image.user.name.clone());
    }
    if let Some(p) = &image.runtime.passwd {
        if let Some(e) = p.by_name("nobody").filter(|e| e.uid != 0) {
            return (e.uid, Some(e.name.clone()));
        }
        if let Some(e) = p.entries.iter().find(|e| e.uid >= 1000 && e.uid < 65534) {
            return (e.uid, Some(e.name.clone()));
        }
    }
    (65534, None)
}

fn fix_text(spec: &RunSpec, k8s: &str, compose: &str, run: &str) -> String {
    String::from(match spec.kind {
        SpecKind::Kubernetes => k8s,
        SpecKind::Compose => compose,
        SpecKind::Run => run,
    })
}

/// A run with no image to hold it against.
pub fn not_checked(spec: &RunSpec, reason: String) -> RunReport {
    RunReport {
        name: spec.name.clone(),
        kind: spec.kind.as_str(),
        source: RunSource {
            file: spec.file.clone(),
            line: spec.line,
        },
        image: spec.image.clone(),
        image_index: None,
        user: RunUser::default(),
        outcome: RunOutcome::NotChecked,
        message: Some(reason),
        verdict: Verdict::Unknown,
        verdict_reasons: alloc::vec![String::from(
            "Not checked: no image to hold the run against."
        )],
        findings: Vec::new(),
        suppressed: Vec::new(),
        pss: pss(spec, None),
        fixes: Vec::new(),
        warnings: spec.warnings.clone(),
        finding_lines: Vec::new(),
    }
}

/// Hold `spec` against `image` (the `index`th of the report).
pub fn predict(spec: &RunSpec, image: &ImageReport, index: usize) -> RunReport {
    let who = who(spec, image);
    let nnp = spec.no_new_privs();
    let argv = command_line(spec, image);
    let mut findings: Vec<Finding> = Vec::new();
    let mut lines: Vec<(&'static str, u32)> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let mut add = |f: Finding, line: Option<u32>, findings: &mut Vec<Finding>| {
        if let Some(l) = line {
            lines.push((f.rule, l));
        }
        findings.push(f);
    };
    let (suggest_uid, suggest_name) = suggested_uid(image);
    let uid_fix = || -> String {
        let who = match &suggest_name {
            Some(n) => format!(" ({} in the image's /etc/passwd)", n),
            None => String::from(" (not in the image's /etc/passwd; runtimes allow that)"),
        };
        let body = match spec.kind {
            SpecKind::Kubernetes => format!(
                "securityContext:\n  runAsUser: {}\n  runAsNonRoot: true",
                suggest_uid
            ),
            SpecKind::Compose => format!("user: \"{}\"", suggest_uid),
            SpecKind::Run => format!("--user {}", suggest_uid),
        };
        format!("{}  # uid {}{}", body, suggest_uid, who)
    };

    // Outcome.
    let (mut outcome, mut message) = (RunOutcome::Starts, None);
    if let Some(r) = &who.refusal {
        outcome = RunOutcome::Refused;
        message = Some(r.clone());
        let f = Finding::new(
            &REFUSED,
            format!("The runtime refuses this run: {}", r),
            uid_fix(),
        )
        .evidence(format!(
            "image USER {:?}",
            image.user.configured.as_deref().unwrap_or("")
        ));
        add(f, spec.line_of("user"), &mut findings);
        fixes.push(uid_fix());
    } else if let Some(uid) = who.uid {
        if let Some((m, why)) = start_failure(spec, image, uid, nnp, &argv) {
            outcome = RunOutcome::Fails;
            let fix = if image.s6.detected {
                match spec.kind {
                    SpecKind::Kubernetes => format!("# either let s6-overlay start as root and drop to its user itself:\nsecurityContext:\n  runAsUser: 0\n# or hand uid {} a /run it owns (an emptyDir at /run with fsGroup, or USER's /run chowned at build time: RUN chown {}:{} /run)", uid, uid, who.gid.unwrap_or(uid)),
                    SpecKind::Compose => format!("# either drop no-new-privileges (suexec then regains root for preinit), or hand uid {} a /run it owns:\ntmpfs:\n  - /run:uid={},gid={},mode=0755,exec", uid, uid, who.gid.unwrap_or(uid)),
                    SpecKind::Run => format!("--tmpfs /run:uid={},gid={},mode=0755,exec  # or run without no-new-privileges, or --user 0", uid, who.gid.unwrap_or(uid)),
                }
            } else {
                fix_text(
                    spec,
                    "securityContext:\n  runAsUser: 0  # the entrypoint switches user itself",
                    "user: \"0\"  # the entrypoint switches user itself",
                    "--user 0  # the entrypoint switches user itself",
                )
            };
            let f = Finding::new(
                &FAILS,
                format!("The container starts and fails: {}.", why),
                fix.clone(),
            )
            .evidence(format!("starts {}", argv.join(" ")));
            add(
                f,
                spec.line_of("nnp").or(spec.line_of("user")),
                &mut findings,
            );
            fixes.push(fix);
            message = Some(m);
        }
    }

    // Verdict.
    let escalations: Vec<&Finding> = image.findings.iter().filter(|f| f.escalation).collect();
    let verdict = match who.uid {
        None if image.user.configured.is_none()
            && spec.user.is_none()
            && spec.run_as_user.is_none() =>
        {
            reasons.push(String::from(
                "The image has no config and the run names no user: the uid is not known.",
            ));
            Verdict::Unknown
        }
        None => {
            reasons.push(String::from("The uid this run gets could not be resolved."));
            Verdict::Unknown
        }
        Some(0) => {
            reasons.push(match (&spec.user, spec.run_as_user) {
                (_, Some(0)) => format!(
                    "runAsUser: 0 makes this run root{}.",
                    if image.verdict == Verdict::Root {
                        ""
                    } else {
                        " although the image's USER is not"
                    }
                ),
                (Some(u), _) => format!("{} {} makes this run uid 0.", spec.field("user"), u),
                _ => String::from(
                    "The image's USER makes this run uid 0, and the run does not replace it.",
                ),
            });
            if spec.privileged {
                let fix = fix_text(
                    spec,
                    &format!("securityContext:\n  privileged: false\n  runAsUser: {}\n  runAsNonRoot: true\n  allowPrivilegeEscalation: false\n  capabilities: {{drop: [ALL]}}", suggest_uid),
                    &format!("privileged: false\nuser: \"{}\"\ncap_drop: [ALL]\nsecurity_opt: [no-new-privileges:true]", suggest_uid),
                    &format!("--user {} --cap-drop ALL --security-opt no-new-privileges:true  # and no --privileged", suggest_uid),
                );
                let f = Finding::new(
                    &PRIVILEGED_ROOT,
                    String::from(
                        "Privileged and uid 0: this container is root on the host in all but name.",
                    ),
                    fix.clone(),
                );
                add(f, spec.line_of("privileged"), &mut findings);
                fixes.push(fix);
            } else {
                let f = Finding::new(&AS_ROOT, String::from("The run is uid 0."), uid_fix());
                add(f, spec.line_of("user"), &mut findings);
                if outcome != RunOutcome::Refused {
                    fixes.push(uid_fix());
                }
            }
            let big: Vec<&String> = spec
                .cap_add
                .iter()
                .filter(|c| {
                    *c == "ALL"
                        || rules::is_dangerous_cap(&format!("cap_{}", c.to_ascii_lowercase()))
                })
                .collect();
            if !big.is_empty() {
                let f = Finding::new(
                    &CAPABILITIES,
                    format!(
                        "A root process with {} added.",
                        big.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    fix_text(
                        spec,
                        "securityContext:\n  capabilities: {drop: [ALL]}",
                        "cap_drop: [ALL]",
                        "--cap-drop ALL",
                    ),
                );
                add(f, spec.line_of("capAdd"), &mut findings);
            }
            Verdict::Root
        }
        Some(uid) => {
            if spec.privileged {
                let f = Finding::new(
                    &PRIVILEGED,
                    format!("Privileged although uid {}: every setuid file or file capability of the image gives full host root.", uid),
                    fix_text(spec, "securityContext:\n  privileged: false", "privileged: false", "(drop --privileged)"),
                );
                add(f, spec.line_of("privileged"), &mut findings);
            }
            if escalations.is_empty() {
                reasons.push(format!(
                    "The run is uid {}, and the image holds no way back to root.",
                    uid
                ));
                Verdict::Rootless
            } else if nnp && !spec.privileged {
                let list: Vec<String> = escalations.iter().map(|f| f.message.clone()).collect();
                reasons.push(format!(
                    "The run is uid {} under {}: the kernel ignores setuid bits and file capabilities, so the image's {} way{} back to root {} inert. The image is pseudo-rootless; this run is rootless.",
                    uid,
                    spec.field("nnp"),
                    escalations.len(),
                    if escalations.len() == 1 { "" } else { "s" },
                    if escalations.len() == 1 { "is" } else { "are" }
                ));
                let mut f = Finding::new(
                    &NEUTRALISED,
                    format!(
                        "no-new-privileges neutralises {} way{} back to root: this run is rootless although the image is pseudo-rootless.",
                        escalations.len(),
                        if escalations.len() == 1 { "" } else { "s" }
                    ),
                    String::from(NEUTRALISED.remediation),
                );
                f.evidence = list;
                add(f, spec.line_of("nnp"), &mut findings);
                Verdict::Rootless
            } else {
                reasons.push(format!(
                    "The run is uid {}, but without no-new-privileges the image's {} way{} back to root {} live:",
                    uid,
                    escalations.len(),
                    if escalations.len() == 1 { "" } else { "s" },
                    if escalations.len() == 1 { "is" } else { "are" }
                ));
                reasons.extend(escalations.iter().map(|f| f.message.clone()));
                // The usual fix, unless the start path needs the escalation
                // (s6-overlay: no-new-privileges would make it fail).
                let start_needs_it =
                    image.s6.detected && argv.first().map(|s| s.as_str()) == Some("/init");
                let fix = if start_needs_it {
                    fix_text(
                        spec,
                        "# s6-overlay regains root through its setuid suexec at every start; allowPrivilegeEscalation: false would make it fail.\n# Run it as root knowingly (runAsUser: 0), or pre-own /run for the uid and then set allowPrivilegeEscalation: false",
                        "# s6-overlay regains root through its setuid suexec at every start; no-new-privileges would make it fail.\n# Run it as root knowingly, or pre-own /run for the uid (tmpfs: [/run:uid=UID,gid=GID,mode=0755,exec]) and then add security_opt: [no-new-privileges:true]",
                        "# s6-overlay regains root through suexec at every start: --security-opt no-new-privileges needs --tmpfs /run:uid=UID,gid=GID,mode=0755,exec beside it",
                    )
                } else {
                    fix_text(
                        spec,
                        "securityContext:\n  allowPrivilegeEscalation: false\n  capabilities: {drop: [ALL]}",
                        "security_opt:\n  - no-new-privileges:true\ncap_drop: [ALL]",
                        "--security-opt no-new-privileges:true --cap-drop ALL",
                    )
                };
                let mut f = Finding::new(
                    &ESCALATION,
                    format!(
                        "uid {} without no-new-privileges: {} way{} back to root stay{} open.",
                        uid,
                        escalations.len(),
                        if escalations.len() == 1 { "" } else { "s" },
                        if escalations.len() == 1 { "s" } else { "" }
                    ),
                    fix.clone(),
                );
                f.evidence = escalations.iter().map(|f| f.message.clone()).collect();
                add(f, spec.line_of("nnp"), &mut findings);
                fixes.push(fix);
                Verdict::PseudoRootless
            }
        }
    };
    match outcome {
        RunOutcome::Refused => reasons.insert(
            0,
            String::from("The runtime refuses to start this run (see message)."),
        ),
        RunOutcome::Fails => reasons.insert(
            0,
            String::from("This run starts and then fails (see message)."),
        ),
        _ => {}
    }

    // Pod Security Standards.
    let pss = pss(spec, who.uid);
    if !pss.baseline {
        let controls: Vec<String> = pss
            .failures
            .iter()
            .filter(|f| f.level == "baseline")
            .map(|f| format!("{} ({})", f.control, f.field))
            .collect();
        let f = Finding::new(
            &PSS_BASELINE,
            format!(
                "Fails Pod Security Standards baseline: {}.",
                controls.join(", ")
            ),
            String::from(PSS_BASELINE.remediation),
        );
        add(f, spec.line, &mut findings);
    } else if !pss.restricted {
        let controls: Vec<String> = pss
            .failures
            .iter()
            .map(|f| format!("{} ({})", f.control, f.field))
            .collect();
        let f = Finding::new(
            &PSS_RESTRICTED,
            format!(
                "Fails Pod Security Standards restricted: {}.",
                controls.join(", ")
            ),
            String::from(PSS_RESTRICTED.remediation),
        );
        add(f, spec.line, &mut findings);
    }
    if spec.kind == SpecKind::Kubernetes && !pss.restricted {
        let mut lines_fix: Vec<String> = Vec::new();
        let has = |c: &str| pss.failures.iter().any(|f| f.control == c);
        if has("Running as Non-root") || has("Running as Non-root user") {
            lines_fix.push(format!(
                "  runAsNonRoot: true\n  runAsUser: {}",
                suggest_uid
            ));
        }
        if has("Privilege Escalation")
            && !(image.s6.detected && argv.first().map(|s| s.as_str()) == Some("/init"))
        {
            lines_fix.push(String::from("  allowPrivilegeEscalation: false"));
        }
        if has("Capabilities") {
            lines_fix.push(String::from("  capabilities: {drop: [ALL]}"));
        }
        if has("Seccomp") {
            lines_fix.push(String::from("  seccompProfile: {type: RuntimeDefault}"));
        }
        if !lines_fix.is_empty() {
            fixes.push(format!(
                "securityContext:  # restricted\n{}",
                lines_fix.join("\n")
            ));
        }
    }

    // Most severe first (catalogue order breaks ties).
    let mut sorted = Vec::with_capacity(findings.len());
    for severity in Severity::ALL.into_iter().rev() {
        sorted.extend(findings.iter().filter(|f| f.severity == severity).cloned());
    }
    let mut unique: Vec<String> = Vec::new();
    for f in fixes {
        if !unique.contains(&f) {
            unique.push(f);
        }
    }
    let mut warnings = spec.warnings.clone();
    if spec
        .userns
        .as_deref()
        .is_some_and(|u| u != "host" && !u.is_empty())
    {
        warnings.push(format!(
            "userns {:?}: uid {} inside maps to another uid on the host; the verdict is about the container's view",
            spec.userns.as_deref().unwrap_or(""),
            who.uid.map(|u| u.to_string()).unwrap_or_else(|| String::from("?"))
        ));
    }
    if spec.read_only && image.s6.detected {
        warnings.push(String::from(
            "read-only root filesystem with s6-overlay: it needs S6_READ_ONLY_ROOT=1 and a writable /run; not predicted here",
        ));
    }
    RunReport {
        name: spec.name.clone(),
        kind: spec.kind.as_str(),
        source: RunSource {
            file: spec.file.clone(),
            line: spec.line,
        },
        image: spec.image.clone().or_else(|| image.tags.first().cloned()),
        image_index: Some(index),
        user: RunUser {
            uid: who.uid,
            gid: who.gid,
            name: who.name,
        },
        outcome,
        message,
        verdict,
        verdict_reasons: reasons,
        findings: sorted,
        suppressed: Vec::new(),
        pss,
        fixes: unique,
        warnings,
        finding_lines: lines,
    }
}

// ------------------------------------------------------------------ pairing

/// Whether `tag` (as the archive names it) is the image `wanted` names,
/// both normalised as Docker does (`fixture/x:1` is `docker.io/fixture/x:1`).
fn same_image(wanted: &super::reference::Reference, image: &ImageReport) -> bool {
    use super::reference::Reference;
    if let Some(d) = &wanted.digest {
        if image.manifest_digest.as_deref() == Some(d) || image.config_digest.as_deref() == Some(d)
        {
            return true;
        }
    }
    image.tags.iter().any(|t| {
        Reference::parse(t).is_ok_and(|r| {
            r.registry == wanted.registry
                && r.repository == wanted.repository
                && (wanted.tag.is_none() || r.tag == wanted.tag)
        })
    })
}

/// The image of `report` a spec's `image:` names, if any.
pub fn pair(report: &super::report::Report, image: Option<&str>, one_name: bool) -> Option<usize> {
    if let Some(text) = image {
        if let Ok(wanted) = super::reference::Reference::parse(text) {
            if let Some(i) = report.images.iter().position(|i| same_image(&wanted, i)) {
                return Some(i);
            }
        }
    }
    // One image given and one named in the spec (or none named): paired
    // whatever the tag says.
    (report.images.len() == 1 && (one_name || image.is_none())).then_some(0)
}

/// Hold every spec against the report's images. A spec left unpaired is
/// handed to `fetch` (the native CLI pulls it by reference); what `fetch`
/// returns is added to `images`; its error is why the run is not checked.
pub fn hold(
    report: &mut super::report::Report,
    specs: &[RunSpec],
    fetch: &mut dyn FnMut(&str) -> Result<Vec<ImageReport>, String>,
) {
    let mut names: Vec<&str> = Vec::new();
    for s in specs {
        let n = s.image.as_deref().unwrap_or("");
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let one_name = names.len() == 1;
    let mut failed: Vec<(String, String)> = Vec::new();
    for spec in specs {
        let mut index = pair(report, spec.image.as_deref(), one_name);
        if index.is_none() {
            if let Some(name) = spec.image.as_deref() {
                let earlier = failed
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, e)| e.clone());
                match earlier {
                    Some(e) => {
                        report.runs.push(not_checked(spec, e));
                        continue;
                    }
                    None => match fetch(name) {
                        Ok(images) if !images.is_empty() => {
                            report.images.extend(images);
                            index = pair(report, spec.image.as_deref(), false)
                                .or(Some(report.images.len() - 1));
                        }
                        Ok(_) => failed.push((String::from(name), format!("{}: no image", name))),
                        Err(e) => failed.push((String::from(name), e)),
                    },
                }
            }
        }
        match index {
            Some(i) => {
                let r = predict(spec, &report.images[i], i);
                report.runs.push(r);
            }
            None => {
                let reason = match spec.image.as_deref() {
                    Some(name) => failed
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, e)| e.clone())
                        .unwrap_or_else(|| format!("no source given is {}", name)),
                    None => String::from("the spec names no image and more than one was given"),
                };
                report.runs.push(not_checked(spec, reason));
            }
        }
    }
}

/// A `--tmpfs`/compose `tmpfs` entry: `(uid, mode, exec)` when it mounts /run.
pub fn run_tmpfs(entry: &str) -> Option<(u32, u32, bool)> {
    let (path, options) = entry.split_once(':').unwrap_or((entry, ""));
    if path.trim_end_matches('/') != "/run" {
        return None;
    }
    let (mut uid, mut mode, mut exec) = (0, 0o1777, false);
    for o in options.split(',') {
        match o.split_once('=') {
            Some(("uid", v)) => uid = v.parse().unwrap_or(0),
            Some(("mode", v)) => mode = u32::from_str_radix(v, 8).unwrap_or(0o1777),
            _ if o == "exec" => exec = true,
            _ if o == "noexec" => exec = false,
            _ => {}
        }
    }
    Some((uid, mode, exec))
}
