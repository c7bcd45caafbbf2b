//! Resolving the image's `USER` (`config.User`) to a uid and gid, the way the
//! container runtimes do: the part before `:` is the user, the part after it
//! the group; names are looked up in the image's own `/etc/passwd` and
//! `/etc/group`; a user given without a group runs with its primary group,
//! or gid 0 when it has none.

use alloc::string::String;
use alloc::vec::Vec;

use super::passwd::{Groups, Passwd};

/// Problems a runtime or the kubelet would have with the USER.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase", tag = "kind"))]
pub enum UserProblem {
    /// The user name is not in the image's /etc/passwd: Docker refuses to start.
    UserNotInPasswd { name: String },
    /// The group name is not in the image's /etc/group: Docker refuses to start.
    GroupNotInGroupFile { name: String },
    /// The image has no /etc/passwd at all, so a user name cannot be resolved.
    NoPasswdFile,
    /// A numeric id that does not fit in 32 bits.
    InvalidId { value: String },
}

/// What the image's USER resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct UserFacts {
    /// `config.User` as written: `null` without a config, `""` when empty or absent.
    pub configured: Option<String>,
    /// The uid the container starts with, when it can be known.
    pub uid: Option<u32>,
    /// The gid the container starts with, when it can be known.
    pub gid: Option<u32>,
    /// The user name, as written or from /etc/passwd.
    pub name: Option<String>,
    /// The group name, as written or from /etc/group.
    pub group: Option<String>,
    /// The user part is a number (the kubelet can verify `runAsNonRoot` only then).
    pub numeric: bool,
    pub problems: Vec<UserProblem>,
}

fn parse_id(text: &str) -> Option<Result<u32, ()>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u32>().map_err(|_| ()))
}

/// Resolve `configured` (None: the archive has no image config).
pub fn resolve(
    configured: Option<&str>,
    passwd: Option<&Passwd>,
    groups: Option<&Groups>,
) -> UserFacts {
    let mut facts = UserFacts {
        configured: configured.map(String::from),
        uid: None,
        gid: None,
        name: None,
        group: None,
        numeric: false,
        problems: Vec::new(),
    };
    // Without a config nothing is known.
    let Some(spec) = configured else { return facts };
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    // Empty user means root (the runtime default).
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let mut primary_gid = None;
    match parse_id(user_part) {
        Some(Ok(uid)) => {
            facts.numeric = !spec.is_empty();
            facts.uid = Some(uid);
            if let Some(e) = passwd.and_then(|p| p.by_uid(uid)) {
                facts.name = Some(e.name.clone());
                primary_gid = Some(e.gid);
            }
        }
        Some(Err(())) => {
            facts.numeric = true;
            facts.problems.push(UserProblem::InvalidId {
                value: String::from(user_part),
            });
        }
        None => {
            facts.name = Some(String::from(user_part));
            match passwd {
                None => facts.problems.push(UserProblem::NoPasswdFile),
                Some(p) => match p.by_name(user_part) {
                    Some(e) => {
                        facts.uid = Some(e.uid);
                        primary_gid = Some(e.gid);
                    }
                    None => facts.problems.push(UserProblem::UserNotInPasswd {
                        name: String::from(user_part),
                    }),
                },
            }
        }
    }
    match group_part.filter(|g| !g.is_empty()) {
        Some(g) => match parse_id(g) {
            Some(Ok(gid)) => {
                facts.gid = Some(gid);
                facts.group = groups.and_then(|gr| gr.by_gid(gid)).map(|e| e.name.clone());
            }
            Some(Err(())) => facts.problems.push(UserProblem::InvalidId {
                value: String::from(g),
            }),
            None => {
                facts.group = Some(String::from(g));
                match groups.and_then(|gr| gr.by_name(g)) {
                    Some(e) => facts.gid = Some(e.gid),
                    None => facts.problems.push(UserProblem::GroupNotInGroupFile {
                        name: String::from(g),
                    }),
                }
            }
        },
        None => {
            // Known uid: its primary group, or 0 when passwd has no entry for it.
            if facts.uid.is_some() {
                let gid = primary_gid.unwrap_or(0);
                facts.gid = Some(gid);
                facts.group = groups.and_then(|gr| gr.by_gid(gid)).map(|e| e.name.clone());
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (Passwd, Groups) {
        (
            Passwd::parse(b"root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\ntoor:x:0:0::/:/bin/sh\n"),
            Groups::parse(b"root:x:0:\napp:x:1001:\nstaff:x:50:\n"),
        )
    }

    #[test]
    fn empty_is_root() {
        let (p, g) = db();
        let f = resolve(Some(""), Some(&p), Some(&g));
        assert_eq!((f.uid, f.gid, f.numeric), (Some(0), Some(0), false));
        assert_eq!(f.name.as_deref(), Some("root"));
    }

    #[test]
    fn name_maps_through_passwd() {
        let (p, g) = db();
        let f = resolve(Some("app"), Some(&p), Some(&g));
        assert_eq!((f.uid, f.gid, f.numeric), (Some(1000), Some(1001), false));
        let f = resolve(Some("toor"), Some(&p), Some(&g));
        assert_eq!(f.uid, Some(0));
    }

    #[test]
    fn numeric_without_passwd_entry_gets_gid_0() {
        let (p, g) = db();
        let f = resolve(Some("65534"), Some(&p), Some(&g));
        assert_eq!((f.uid, f.gid, f.numeric), (Some(65534), Some(0), true));
        assert!(f.problems.is_empty());
        let f = resolve(Some("65534:65534"), None, None);
        assert_eq!((f.uid, f.gid), (Some(65534), Some(65534)));
    }

    #[test]
    fn group_names() {
        let (p, g) = db();
        let f = resolve(Some("1000:staff"), Some(&p), Some(&g));
        assert_eq!(f.gid, Some(50));
        let f = resolve(Some("app:nogroup"), Some(&p), Some(&g));
        assert_eq!(
            f.problems,
            [UserProblem::GroupNotInGroupFile {
                name: "nogroup".into()
            }]
        );
    }

    #[test]
    fn missing_names() {
        let (p, g) = db();
        let f = resolve(Some("ghost"), Some(&p), Some(&g));
        assert_eq!(f.uid, None);
        assert_eq!(
            f.problems,
            [UserProblem::UserNotInPasswd {
                name: "ghost".into()
            }]
        );
        let f = resolve(Some("ghost"), None, None);
        assert_eq!(f.problems, [UserProblem::NoPasswdFile]);
        let f = resolve(Some("99999999999"), None, None);
        assert!(matches!(f.problems[0], UserProblem::InvalidId { .. }));
    }

    #[test]
    fn no_config() {
        let f = resolve(None, None, None);
        assert_eq!(f.configured, None);
        assert_eq!(f.uid, None);
    }
}
