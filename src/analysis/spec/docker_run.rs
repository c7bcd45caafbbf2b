//! `--run 'OPTIONS'`: the options of `docker run` / `podman run`, parsed as
//! their CLIs (spf13/pflag) parse them: `--opt=value` and `--opt value`,
//! `-u1000` and `-u 1000`, short-flag clusters (`-itu 1000`), `--` ending
//! the options. The first word that is not an option is the image, the
//! rest the command. Options that do not change who the process runs as
//! or what it may do are skipped with a warning (their values too, so
//! that `-e A=1 app:1` still finds the image).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{normalise_cap, Specs};
use crate::analysis::runs::{RunSpec, SpecKind};

/// Split like a POSIX shell: whitespace separates words; '…' keeps
/// everything, "…" keeps everything but `\"` `\\` `\$` `` \` ``, a
/// backslash outside quotes escapes the next character.
pub fn shell_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(String::from("unterminated ' quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(String::from("unterminated \" quote")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(String::from("unterminated \" quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => {}
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Short options that take a value (docker run's; podman's agree).
const SHORT_VALUE: &str = "acehlmpuvw";
/// Short boolean options.
const SHORT_BOOL: &str = "dtiPq";

/// Long options that take a value and are skipped (not about privilege).
const LONG_VALUE_SKIPPED: &[&str] = &[
    "add-host",
    "annotation",
    "attach",
    "blkio-weight",
    "blkio-weight-device",
    "cgroup-parent",
    "cgroupns",
    "cidfile",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "dns",
    "dns-option",
    "dns-opt",
    "dns-search",
    "domainname",
    "env",
    "env-file",
    "expose",
    "gpus",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-start-period",
    "health-timeout",
    "hostname",
    "ip",
    "ip6",
    "isolation",
    "kernel-memory",
    "label",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "mount",
    "name",
    "network-alias",
    "oom-score-adj",
    "pids-limit",
    "platform",
    "publish",
    "pull",
    "restart",
    "runtime",
    "shm-size",
    "stop-signal",
    "stop-timeout",
    "storage-opt",
    "tmpfs",
    "ulimit",
    "uts",
    "volume",
    "volume-driver",
    "volumes-from",
    "workdir",
    "arch",
    "os",
    "variant",
    "hostuser",
    "pod",
    "secret",
    "sysctl",
    "userns-uid-map",
    "uidmap",
    "gidmap",
    "subuidname",
    "subgidname",
    "cgroups",
    "systemd",
    "timezone",
    "umask",
];
/// Long boolean options that are skipped.
const LONG_BOOL_SKIPPED: &[&str] = &[
    "detach",
    "interactive",
    "tty",
    "rm",
    "publish-all",
    "init",
    "sig-proxy",
    "oom-kill-disable",
    "no-healthcheck",
    "quiet",
    "disable-content-trust",
    "replace",
    "read-only-tmpfs",
    "http-proxy",
];

fn short_long(c: char) -> &'static str {
    match c {
        'a' => "attach",
        'c' => "cpu-shares",
        'e' => "env",
        'h' => "hostname",
        'l' => "label",
        'm' => "memory",
        'p' => "publish",
        'u' => "user",
        'v' => "volume",
        'w' => "workdir",
        'd' => "detach",
        't' => "tty",
        'i' => "interactive",
        'P' => "publish-all",
        'q' => "quiet",
        _ => "",
    }
}

fn takes_value(long: &str) -> bool {
    matches!(
        long,
        "user"
            | "cap-add"
            | "cap-drop"
            | "security-opt"
            | "userns"
            | "group-add"
            | "entrypoint"
            | "network"
            | "net"
            | "pid"
            | "ipc"
    ) || LONG_VALUE_SKIPPED.contains(&long)
}

fn parse_bool(name: &str, v: &str) -> Result<bool, String> {
    // pflag's boolean: strconv.ParseBool.
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "invalid argument {:?} for \"--{}\" flag: strconv.ParseBool: parsing {:?}: invalid syntax",
            v, name, v
        )),
    }
}

/// `no-new-privileges`, `no-new-privileges=true`, `no-new-privileges:true`
/// (Docker accepts both separators), `seccomp=unconfined`, `apparmor=…`.
pub fn apply_security_opt(spec: &mut RunSpec, opt: &str, warnings: &mut Vec<String>) {
    let (key, value) = match opt.find(['=', ':']) {
        Some(i) => (&opt[..i], Some(&opt[i + 1..])),
        None => (opt, None),
    };
    match key {
        "no-new-privileges" => match value.map(|v| parse_bool("security-opt", v)) {
            None => spec.no_new_privileges = true,
            Some(Ok(b)) => spec.no_new_privileges = b,
            Some(Err(_)) => warnings.push(format!(
                "security-opt {:?}: Docker refuses it: invalid --security-opt 2: {:?}",
                opt, opt
            )),
        },
        "seccomp" => {
            spec.seccomp = value.map(|v| {
                if v == "unconfined" {
                    String::from("Unconfined")
                } else {
                    String::from("Localhost")
                }
            })
        }
        "apparmor" => spec.apparmor = value.map(String::from),
        "label" | "systempaths" | "mask" | "unmask" | "proc-opts" => {
            if opt == "systempaths=unconfined" {
                spec.proc_mount_unmasked = true;
            }
        }
        _ => warnings.push(format!("security-opt {:?} is not known", opt)),
    }
}

/// Parse `docker run` options (and the image and command when given).
pub fn parse(text: &str) -> Result<Specs, String> {
    let words = shell_split(text)?;
    parse_words(&words)
}

pub fn parse_words(words: &[String]) -> Result<Specs, String> {
    let mut spec = RunSpec::new(SpecKind::Run, String::from("docker run"));
    let mut warnings = Vec::new();
    let mut i = 0;
    let mut ignored: Vec<String> = Vec::new();
    // The option's long name and its value (None for booleans without one).
    let mut options: Vec<(String, Option<String>)> = Vec::new();
    while i < words.len() {
        let w = &words[i];
        if w == "--" {
            i += 1;
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(String::from(v))),
                None => (long, None),
            };
            if takes_value(name) {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        words
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("flag needs an argument: --{}", name))?
                    }
                };
                options.push((String::from(name), Some(v)));
            } else {
                options.push((String::from(name), inline));
            }
            i += 1;
            continue;
        }
        if w.len() > 1 && w.starts_with('-') {
            let chars: Vec<char> = w[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                if SHORT_VALUE.contains(c) {
                    let rest: String = chars[k + 1..].iter().collect();
                    let rest = rest.strip_prefix('=').map(String::from).unwrap_or(rest);
                    let v = if rest.is_empty() {
                        i += 1;
                        words
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("flag needs an argument: '{}' in -{}", c, c))?
                    } else {
                        rest
                    };
                    options.push((String::from(short_long(c)), Some(v)));
                    break;
                } else if SHORT_BOOL.contains(c) {
                    options.push((String::from(short_long(c)), None));
                } else {
                    return Err(format!("unknown shorthand flag: '{}' in {}", c, w));
                }
                k += 1;
            }
            i += 1;
            continue;
        }
        // The image; everything after it is the command.
        spec.image = Some(w.clone());
        spec.command = Some(words[i + 1..].to_vec()).filter(|c| !c.is_empty());
        i = words.len();
    }
    if i < words.len() && spec.image.is_none() {
        spec.image = Some(words[i].clone());
        spec.command = Some(words[i + 1..].to_vec()).filter(|c| !c.is_empty());
    }
    for (name, value) in options {
        let v = value.clone().unwrap_or_default();
        match name.as_str() {
            "user" => spec.user = Some(v),
            "privileged" => spec.privileged = flag(&name, &value)?,
            "read-only" => spec.read_only = flag(&name, &value)?,
            "cap-add" => spec.cap_add.extend(v.split(',').map(normalise_cap)),
            "cap-drop" => spec.cap_drop.extend(v.split(',').map(normalise_cap)),
            "security-opt" => apply_security_opt(&mut spec, &v, &mut warnings),
            "userns" => spec.userns = Some(v),
            "group-add" => spec.group_add.push(v),
            "entrypoint" => {
                // Docker: one word, and it resets the image's Cmd.
                spec.entrypoint = Some(if v.is_empty() {
                    Vec::new()
                } else {
                    alloc::vec![v]
                });
            }
            "tmpfs" => {
                if let Some(t) = crate::analysis::runs::run_tmpfs(&v) {
                    spec.run_tmpfs = Some(t);
                }
            }
            "network" | "net" => spec.host_network = v == "host",
            "pid" => spec.host_pid = v == "host",
            "ipc" => spec.host_ipc = v == "host",
            other => {
                if !ignored.iter().any(|x| x == other) {
                    ignored.push(other.to_string());
                }
                if !takes_value(other) && !LONG_BOOL_SKIPPED.contains(&other) && !other.is_empty() {
                    warnings.push(format!(
                        "--{}: not a docker run option known here; taken as a flag without a value",
                        other
                    ));
                }
            }
        }
    }
    if !ignored.is_empty() {
        let list: Vec<String> = ignored.iter().map(|o| format!("--{}", o)).collect();
        warnings.push(format!(
            "ignored (they do not change who the container runs as or what it may do): {}",
            list.join(", ")
        ));
    }
    spec.warnings = warnings.clone();
    Ok(Specs {
        runs: alloc::vec![spec],
        warnings,
    })
}

fn flag(name: &str, value: &Option<String>) -> Result<bool, String> {
    match value {
        None => Ok(true),
        Some(v) => parse_bool(name, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> RunSpec {
        parse(text).unwrap().runs.remove(0)
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            shell_split(r#"-u "app user" --x='a b' c\ d "q\"x""#).unwrap(),
            ["-u", "app user", "--x=a b", "c d", "q\"x"]
        );
        assert!(shell_split("'open").is_err());
    }

    #[test]
    fn flags_in_every_spelling() {
        let s = run("-itu 1000:1000 --privileged --cap-add=NET_ADMIN --cap-add sys_ptrace --cap-drop ALL --security-opt no-new-privileges:true --read-only --userns=host --group-add 10 --entrypoint /bin/sh -e A=1 img:1 -c id");
        assert_eq!(s.user.as_deref(), Some("1000:1000"));
        assert!(s.privileged && s.read_only && s.no_new_privileges);
        assert_eq!(s.cap_add, ["NET_ADMIN", "SYS_PTRACE"]);
        assert_eq!(s.cap_drop, ["ALL"]);
        assert_eq!(s.userns.as_deref(), Some("host"));
        assert_eq!(s.group_add, ["10"]);
        assert_eq!(s.entrypoint, Some(alloc::vec![String::from("/bin/sh")]));
        assert_eq!(s.image.as_deref(), Some("img:1"));
        assert_eq!(
            s.command,
            Some(alloc::vec![String::from("-c"), String::from("id")])
        );
        assert_eq!(run("-u1000").user.as_deref(), Some("1000"));
        assert_eq!(run("--user=0").user.as_deref(), Some("0"));
        assert!(run("--security-opt=no-new-privileges").no_new_privileges);
        assert!(run("--security-opt no-new-privileges=true").no_new_privileges);
        assert!(!run("--security-opt no-new-privileges=false").no_new_privileges);
        assert!(!run("--privileged=false").privileged);
        assert_eq!(
            run("--security-opt seccomp=unconfined").seccomp.as_deref(),
            Some("Unconfined")
        );
    }

    #[test]
    fn unknown_and_wrong() {
        let s = parse("--rm --name x -p 80:80 --user 1").unwrap();
        assert_eq!(s.runs[0].user.as_deref(), Some("1"));
        assert!(
            s.warnings[0].contains("--rm, --name, --publish"),
            "{:?}",
            s.warnings
        );
        assert!(parse("--user").unwrap_err().contains("--user"));
        assert!(parse("-Z").unwrap_err().contains("unknown shorthand"));
        assert!(parse("--privileged=maybe").is_err());
    }
}
