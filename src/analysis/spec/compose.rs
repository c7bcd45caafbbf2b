//! `--compose FILE`: the Compose Specification's `services`, read as
//! compose-go reads them: YAML 1.2 (go-yaml v3: a repeated key is an
//! error), then interpolation of every string (`${VAR}`, `$VAR`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+alt}`, `${VAR+alt}`, `$$`) from the environment, then the
//! `.env` file beside the compose file (the environment wins), then the
//! type casts of compose-go's loader (`toBoolean`: `true`/`false`, and
//! with a warning `y`/`yes`/`on`/`n`/`no`/`off`, any case), then
//! `extends` within the file.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::docker_run::{apply_security_opt, shell_split};
use super::yaml::{self, Dialect, Node, Scalar, Value};
use super::{normalise_cap, SpecError, Specs};
use crate::analysis::runs::{RunSpec, SpecKind};

const D: Dialect = Dialect::Compose;

/// Variables: the environment first, then `.env`.
pub struct Env<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    pub dotenv: Vec<(String, String)>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).or_else(|| {
            self.dotenv
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }
}

/// A `.env` file: `KEY=VALUE` lines, `#` comments, `export ` allowed,
/// values in '…' kept as they are, in "…" with `\n` escapes.
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
            String::from(inner)
        } else if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
            inner.replace("\\n", "\n").replace("\\\"", "\"")
        } else {
            String::from(v.split(" #").next().unwrap_or(v).trim())
        };
        out.push((String::from(k.trim()), value));
    }
    out
}

/// Substitute variables in one string.
pub fn interpolate(text: &str, env: &Env<'_>) -> Result<String, String> {
    let mut out = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let c = text[i..].chars().next().unwrap_or('$');
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                // Find the matching '}' (defaults may hold nested ${…}).
                let mut depth = 0;
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err(format!("invalid interpolation format for {:?}", text));
                }
                let inner = &text[i + 2..j];
                out.push_str(&expand(inner, env, text)?);
                i = j + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push_str(&env.get(&text[i + 1..j]).unwrap_or_default());
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

fn expand(inner: &str, env: &Env<'_>, whole: &str) -> Result<String, String> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() {
        return Err(format!("invalid interpolation format for {:?}", whole));
    }
    let rest = &inner[name_end..];
    let value = env.get(name);
    let (colon, op, arg) = if let Some(r) = rest.strip_prefix(':') {
        (true, r.chars().next(), r.get(1..).unwrap_or(""))
    } else {
        (false, rest.chars().next(), rest.get(1..).unwrap_or(""))
    };
    let unset = match &value {
        None => true,
        Some(v) => colon && v.is_empty(),
    };
    match op {
        None => Ok(value.unwrap_or_default()),
        Some('-') => {
            if unset {
                interpolate(arg, env)
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        Some('?') => {
            if unset {
                Err(format!(
                    "required variable {} is missing a value: {}",
                    name,
                    interpolate(arg, env)?
                ))
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        Some('+') => {
            if unset {
                Ok(String::new())
            } else {
                interpolate(arg, env)
            }
        }
        _ => Err(format!("invalid interpolation format for {:?}", whole)),
    }
}

fn interpolate_tree(node: &mut Node, env: &Env<'_>, file: Option<&str>) -> Result<(), SpecError> {
    let pos = node.pos;
    match &mut node.value {
        Value::Scalar { text, plain, tag } => {
            // Only strings are interpolated: a plain `true` or `1` is not.
            let is_string = !*plain
                || matches!(
                    (Node {
                        value: Value::Scalar {
                            text: text.clone(),
                            plain: *plain,
                            tag: tag.clone()
                        },
                        pos
                    })
                    .scalar(D),
                    Some(Scalar::Str(_))
                );
            if is_string && text.contains('$') {
                *text = interpolate(text, env).map_err(|m| SpecError::at(file, pos, m))?;
                // compose-go keeps the value a string after substitution.
                *plain = false;
            }
        }
        Value::Seq(items) => {
            for i in items {
                interpolate_tree(i, env, file)?;
            }
        }
        Value::Map(entries) => {
            for (_, v) in entries {
                interpolate_tree(v, env, file)?;
            }
        }
    }
    Ok(())
}

struct Reader<'a> {
    file: Option<&'a str>,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn err(&self, node: &Node, message: String) -> SpecError {
        SpecError::at(self.file, node.pos, message)
    }

    fn string(&self, node: &Node, path: &str) -> Result<String, SpecError> {
        match node.scalar(D) {
            Some(Scalar::Str(s)) => Ok(String::from(s)),
            Some(Scalar::Int(i)) => Ok(i.to_string()),
            _ => match node.as_str() {
                Some(s) if matches!(node.scalar(D), Some(Scalar::Float)) => Ok(String::from(s)),
                _ => Err(self.err(node, format!("{} must be a string", path))),
            },
        }
    }

    /// compose-go's toBoolean.
    fn boolean(&mut self, node: &Node, path: &str) -> Result<bool, SpecError> {
        match node.scalar(D) {
            Some(Scalar::Bool(b)) => Ok(b),
            Some(Scalar::Str(s)) => match s.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                "y" | "yes" | "on" => {
                    self.warnings.push(format!(
                        "{}:{}: {:?} for boolean is not supported by YAML 1.2, please use `true`",
                        self.file.unwrap_or(""),
                        node.pos.line,
                        s
                    ));
                    Ok(true)
                }
                "n" | "no" | "off" => {
                    self.warnings.push(format!(
                        "{}:{}: {:?} for boolean is not supported by YAML 1.2, please use `false`",
                        self.file.unwrap_or(""),
                        node.pos.line,
                        s
                    ));
                    Ok(false)
                }
                _ => Err(self.err(
                    node,
                    format!("{} must be a boolean (invalid boolean: {})", path, s),
                )),
            },
            _ => Err(self.err(node, format!("{} must be a boolean", path))),
        }
    }

    fn strings(&self, node: &Node, path: &str) -> Result<Vec<String>, SpecError> {
        if !node.is_seq() {
            return Err(self.err(node, format!("{} must be an array", path)));
        }
        node.items().iter().map(|i| self.string(i, path)).collect()
    }

    /// A command: a string (split as compose-go's shellwords) or a list.
    fn command(&self, node: &Node, path: &str) -> Result<Option<Vec<String>>, SpecError> {
        if node.is_null(D) {
            return Ok(None);
        }
        if node.is_seq() {
            return self.strings(node, path).map(Some);
        }
        let s = self.string(node, path)?;
        shell_split(&s)
            .map(Some)
            .map_err(|m| self.err(node, format!("{}: {}", path, m)))
    }
}

/// Fields whose lists `extends` merges (base first, duplicates dropped).
const MERGED_LISTS: &[&str] = &[
    "cap_add",
    "cap_drop",
    "security_opt",
    "group_add",
    "volumes",
    "sysctls",
];

/// The service with its `extends` chain applied.
fn resolve_extends(
    services: &Node,
    name: &str,
    node: &Node,
    seen: &mut Vec<String>,
    r: &mut Reader<'_>,
) -> Result<Node, SpecError> {
    let Some(ext) = node.get("extends") else {
        return Ok(node.clone());
    };
    let (base_name, other_file) = if ext.is_map() {
        let s = ext
            .get("service")
            .ok_or_else(|| r.err(ext, format!("services.{}.extends needs service", name)))?;
        (
            r.string(s, "extends.service")?,
            ext.get("file").and_then(|f| f.as_str()).map(String::from),
        )
    } else {
        (r.string(ext, "extends")?, None)
    };
    if let Some(f) = other_file {
        r.warnings.push(format!(
            "services.{}.extends names another file ({}): not followed, the service is read without its base",
            name, f
        ));
        return Ok(node.clone());
    }
    if seen.contains(&base_name) {
        return Err(r.err(
            ext,
            format!(
                "circular reference with extends: {} -> {}",
                seen.join(" -> "),
                base_name
            ),
        ));
    }
    let base = services.get(&base_name).ok_or_else(|| {
        r.err(
            ext,
            format!(
                "cannot extend service {:?} in {}: service not found",
                name,
                r.file.unwrap_or("the file")
            ),
        )
    })?;
    seen.push(base_name.clone());
    let base = resolve_extends(services, &base_name, base, seen, r)?;
    let mut entries: Vec<(Node, Node)> = base
        .entries()
        .iter()
        .filter(|(k, _)| k.as_str() != Some("extends"))
        .cloned()
        .collect();
    for (k, v) in node.entries() {
        let key = k.as_str().unwrap_or("");
        if key == "extends" {
            continue;
        }
        match entries.iter().position(|(bk, _)| bk.as_str() == Some(key)) {
            Some(i) if MERGED_LISTS.contains(&key) && v.is_seq() && entries[i].1.is_seq() => {
                let mut items: Vec<Node> = entries[i].1.items().to_vec();
                for item in v.items() {
                    if !items.iter().any(|x| x.as_str() == item.as_str()) {
                        items.push(item.clone());
                    }
                }
                entries[i].1 = Node {
                    value: Value::Seq(items),
                    pos: v.pos,
                };
            }
            Some(i) => entries[i] = (k.clone(), v.clone()),
            None => entries.push((k.clone(), v.clone())),
        }
    }
    Ok(Node {
        value: Value::Map(entries),
        pos: node.pos,
    })
}

/// Read the services of a compose file. `file` names it in messages.
pub fn parse(text: &str, file: Option<&str>, env: &Env<'_>) -> Result<Specs, SpecError> {
    let stream = yaml::parse(text, D).map_err(|e| SpecError::at(file, e.pos, e.message))?;
    let mut r = Reader {
        file,
        warnings: stream.warnings,
    };
    let Some(mut doc) = stream.documents.into_iter().next() else {
        return Err(SpecError {
            file: file.map(String::from),
            line: None,
            column: None,
            message: String::from("empty compose file"),
        });
    };
    interpolate_tree(&mut doc, env, file)?;
    let Some(services) = doc.get("services") else {
        return Err(r.err(&doc, String::from("no services: not a compose file")));
    };
    if !services.is_map() {
        return Err(r.err(services, String::from("services must be a mapping")));
    }
    let mut runs = Vec::new();
    for (key, raw) in services.entries() {
        let name = key.as_str().unwrap_or("").to_string();
        if !raw.is_map() && !raw.is_null(D) {
            return Err(r.err(raw, format!("services.{} must be a mapping", name)));
        }
        let mut seen = alloc::vec![name.clone()];
        let svc = resolve_extends(services, &name, raw, &mut seen, &mut r)?;
        let mut spec = RunSpec::new(SpecKind::Compose, name.clone());
        spec.file = file.map(String::from);
        spec.line = Some(key.pos.line);
        for (k, v) in svc.entries() {
            let field = k.as_str().unwrap_or("");
            let path = format!("services.{}.{}", name, field);
            let line = v.pos.line;
            match field {
                "image" => spec.image = Some(r.string(v, &path)?),
                "user" => {
                    spec.user = Some(r.string(v, &path)?);
                    spec.lines.push(("user", line));
                }
                "privileged" => {
                    spec.privileged = r.boolean(v, &path)?;
                    spec.lines.push(("privileged", line));
                }
                "read_only" => spec.read_only = r.boolean(v, &path)?,
                "cap_add" => {
                    spec.cap_add = r
                        .strings(v, &path)?
                        .iter()
                        .map(|c| normalise_cap(c))
                        .collect();
                    spec.lines.push(("capAdd", line));
                }
                "cap_drop" => {
                    spec.cap_drop = r
                        .strings(v, &path)?
                        .iter()
                        .map(|c| normalise_cap(c))
                        .collect();
                    spec.lines.push(("capDrop", line));
                }
                "security_opt" => {
                    let mut w = Vec::new();
                    for o in r.strings(v, &path)? {
                        apply_security_opt(&mut spec, &o, &mut w);
                    }
                    r.warnings
                        .extend(w.into_iter().map(|m| format!("{}: {}", path, m)));
                    spec.lines.push(("nnp", line));
                    spec.lines.push(("seccomp", line));
                }
                "userns_mode" => spec.userns = Some(r.string(v, &path)?),
                "group_add" => spec.group_add = r.strings(v, &path)?,
                "entrypoint" => spec.entrypoint = r.command(v, &path)?,
                "command" => spec.command = r.command(v, &path)?,
                "tmpfs" => {
                    let entries = if v.is_seq() {
                        r.strings(v, &path)?
                    } else {
                        alloc::vec![r.string(v, &path)?]
                    };
                    for e in entries {
                        if let Some(t) = crate::analysis::runs::run_tmpfs(&e) {
                            spec.run_tmpfs = Some(t);
                        }
                    }
                }
                "network_mode" => spec.host_network = r.string(v, &path)? == "host",
                "pid" => spec.host_pid = r.string(v, &path)? == "host",
                "ipc" => spec.host_ipc = r.string(v, &path)? == "host",
                "sysctls" => {
                    spec.sysctls = if v.is_map() {
                        v.entries()
                            .iter()
                            .filter_map(|(k, _)| k.as_str().map(String::from))
                            .collect()
                    } else {
                        r.strings(v, &path)?
                            .iter()
                            .map(|s| String::from(s.split('=').next().unwrap_or("")))
                            .collect()
                    }
                }
                _ => {}
            }
        }
        spec.warnings = Vec::new();
        runs.push(spec);
    }
    Ok(Specs {
        runs,
        warnings: r.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| String::from(*v))
        }
    }

    #[test]
    fn interpolation_as_compose_does_it() {
        let lookup = env_of(&[("UID", "1000"), ("EMPTY", "")]);
        let env = Env {
            lookup: &lookup,
            dotenv: parse_dotenv("GID=2000\nUID=9\n# c\nexport X='a b'\n"),
        };
        assert_eq!(interpolate("${UID}:${GID}", &env).unwrap(), "1000:2000");
        assert_eq!(interpolate("$UID-$$x", &env).unwrap(), "1000-$x");
        assert_eq!(interpolate("${NOPE:-7000}", &env).unwrap(), "7000");
        assert_eq!(interpolate("${EMPTY:-d}|${EMPTY-d}", &env).unwrap(), "d|");
        assert_eq!(interpolate("${X}", &env).unwrap(), "a b");
        assert_eq!(interpolate("${UID:+set}${NOPE:+set}", &env).unwrap(), "set");
        assert_eq!(
            interpolate("${NOPE?give NOPE}", &env).unwrap_err(),
            "required variable NOPE is missing a value: give NOPE"
        );
        assert!(interpolate("${", &env).is_err());
    }

    #[test]
    fn services_extends_and_booleans() {
        let lookup = env_of(&[("APP_UID", "7000")]);
        let env = Env {
            lookup: &lookup,
            dotenv: Vec::new(),
        };
        let text = "x-base: &base\n  cap_drop: [ALL]\nservices:\n  base:\n    image: fixture/x:1\n    cap_add: [NET_ADMIN]\n    security_opt: [no-new-privileges:true]\n  web:\n    <<: *base\n    extends: base\n    user: \"${APP_UID}:${APP_UID}\"\n    privileged: yes\n    cap_add: [chown]\n    entrypoint: /bin/sh -c 'id -u'\n";
        let s = parse(text, Some("compose.yml"), &env).unwrap();
        let web = s.runs.iter().find(|r| r.name == "web").unwrap();
        assert_eq!(web.user.as_deref(), Some("7000:7000"));
        assert!(web.privileged && web.no_new_privileges);
        assert_eq!(web.cap_add, ["NET_ADMIN", "CHOWN"]);
        assert_eq!(web.cap_drop, ["ALL"]);
        assert_eq!(web.image.as_deref(), Some("fixture/x:1"));
        assert_eq!(
            web.entrypoint.as_ref().unwrap(),
            &["/bin/sh", "-c", "id -u"]
        );
        assert_eq!(web.line, Some(8));
        assert_eq!(web.line_of("privileged"), Some(12));
        assert!(s.warnings.iter().any(|w| w.contains("\"yes\" for boolean")));
    }

    #[test]
    fn errors_with_positions() {
        let lookup = env_of(&[]);
        let env = Env {
            lookup: &lookup,
            dotenv: Vec::new(),
        };
        let e = parse(
            "services:\n  a:\n    privileged: maybe\n",
            Some("c.yml"),
            &env,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yml:3:17: services.a.privileged must be a boolean (invalid boolean: maybe)"
        );
        let e = parse(
            "services:\n  a:\n    user: x\n    user: y\n",
            Some("c.yml"),
            &env,
        )
        .unwrap_err();
        assert!(e.message.contains("already defined at line 3"));
        let e = parse(
            "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
            None,
            &env,
        )
        .unwrap_err();
        assert!(e.message.contains("circular"));
        let e = parse("services:\n  a:\n    user: ${U?set U}\n", None, &env).unwrap_err();
        assert!(e.message.contains("required variable U"));
    }
}
