//! Registry credentials, found where podman and skopeo look for them, and
//! the `WWW-Authenticate` challenges that say how to use them.
//!
//! A secret never leaves this module in text meant for people: errors and
//! reports name where credentials came from (`--creds`, a file's path, a
//! helper's name), never what they are. [`Credentials`]' `Debug` hides them.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::analysis::error::{Error, ErrorCode};
use crate::analysis::json::{key_is, Reader};

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// An OAuth2 refresh token that `docker login` stored in the place of
    /// the password (`identitytoken` in config.json; a credential helper's
    /// `Username` of `<token>`): exchanged at the token service, never sent
    /// to the registry itself.
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<hidden>)")
    }
}

impl Credentials {
    /// `Basic base64(user:password)`.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// `USER[:PASSWORD]`, as skopeo's `--creds` takes it.
    pub fn parse(text: &str) -> Result<Credentials, Error> {
        let (username, password) = text.split_once(':').unwrap_or((text, ""));
        if username.is_empty() {
            return Err(Error::new(
                ErrorCode::Usage,
                "--creds needs USER[:PASSWORD] with a user name",
            ));
        }
        Ok(Credentials {
            username: username.to_string(),
            password: password.to_string(),
            identity_token: None,
        })
    }
}

/// Credentials for one registry and where they came from.
#[derive(Debug, Default)]
pub struct Found {
    pub credentials: Option<Credentials>,
    /// Where they came from (`--creds`, a file's path, `docker-credential-NAME`).
    pub from: Option<String>,
    /// Every place that was looked at, for an `E_AUTH` message.
    pub tried: Vec<String>,
}

/// Where to look, beside the environment.
#[derive(Debug, Default, Clone)]
pub struct Lookup {
    /// `--creds USER[:PASSWORD]`.
    pub creds: Option<String>,
    /// `--authfile PATH`.
    pub authfile: Option<PathBuf>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn home() -> Option<PathBuf> {
    env("HOME").map(PathBuf::from)
}

/// The files podman and skopeo read, in their order (containers/image's
/// `pkg/docker/config`): an explicit auth file alone (`--authfile`, else
/// `REGISTRY_AUTH_FILE`); otherwise `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `$XDG_CONFIG_HOME/containers/auth.json`, Docker's `config.json` and the
/// legacy `~/.dockercfg`.
pub fn auth_files(lookup: &Lookup) -> Vec<PathBuf> {
    if let Some(p) = &lookup.authfile {
        return vec![p.clone()];
    }
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        return vec![PathBuf::from(p)];
    }
    let mut files = Vec::new();
    if let Some(run) = env("XDG_RUNTIME_DIR") {
        files.push(Path::new(&run).join("containers/auth.json"));
    }
    match env("XDG_CONFIG_HOME") {
        Some(c) => files.push(Path::new(&c).join("containers/auth.json")),
        None => files.extend(home().map(|h| h.join(".config/containers/auth.json"))),
    }
    match env("DOCKER_CONFIG") {
        Some(d) => files.push(Path::new(&d).join("config.json")),
        None => files.extend(home().map(|h| h.join(".docker/config.json"))),
    }
    files.extend(home().map(|h| h.join(".dockercfg")));
    files
}

/// Find credentials for `registry` (and `repository`, for per-repository
/// entries). A file that exists but cannot be read or parsed is an error:
/// silently going anonymous would hide the mistake.
pub fn find(registry: &str, repository: &str, lookup: &Lookup) -> Result<Found, Error> {
    let mut found = Found::default();
    if let Some(text) = &lookup.creds {
        found.credentials = Some(Credentials::parse(text)?);
        found.from = Some(String::from("--creds"));
        return Ok(found);
    }
    found.tried.push(String::from("--creds (not given)"));
    for file in auth_files(lookup) {
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found
                    .tried
                    .push(format!("{} (no such file)", file.display()));
                continue;
            }
            Err(e) => {
                return Err(Error::new(
                    ErrorCode::Auth,
                    format!("cannot read the auth file {}: {}", file.display(), e),
                ))
            }
        };
        let config = parse_auth_file(&bytes).map_err(|message| {
            Error::new(
                ErrorCode::Auth,
                format!("the auth file {} is not valid: {}", file.display(), message),
            )
        })?;
        match config.lookup(registry, repository)? {
            Some((credentials, via)) => {
                found.credentials = Some(credentials);
                found.from = Some(match via {
                    Some(helper) => {
                        format!("{} (through docker-credential-{})", file.display(), helper)
                    }
                    None => file.display().to_string(),
                });
                return Ok(found);
            }
            None => found
                .tried
                .push(format!("{} (no entry for {})", file.display(), registry)),
        }
    }
    Ok(found)
}

/// What an auth.json or config.json says.
#[derive(Debug, Default)]
struct AuthFile {
    /// Key as written → `auth` (base64 of `user:password`) and
    /// `identitytoken`.
    auths: Vec<(String, Option<String>, Option<String>)>,
    cred_helpers: Vec<(String, String)>,
    creds_store: Option<String>,
}

fn parse_auth_file(bytes: &[u8]) -> Result<AuthFile, String> {
    let mut out = AuthFile::default();
    let mut r = Reader::new(bytes);
    let result = r.object(&mut |r, key| {
        if key_is(key, "auths") {
            if r.null()? {
                return Ok(());
            }
            r.object(&mut |r, host| {
                let mut auth = None;
                let mut identity = None;
                if !r.null()? {
                    r.object(&mut |r, field| {
                        if field == "auth" && !r.null()? {
                            auth = Some(r.string()?);
                            Ok(())
                        } else if field == "identitytoken" && !r.null()? {
                            identity = Some(r.string()?).filter(|t| !t.is_empty());
                            Ok(())
                        } else {
                            r.skip()
                        }
                    })?;
                }
                out.auths.push((host.to_string(), auth, identity));
                Ok(())
            })
        } else if key_is(key, "credHelpers") {
            if r.null()? {
                return Ok(());
            }
            r.object(&mut |r, host| {
                let helper = r.string()?;
                out.cred_helpers.push((host.to_string(), helper));
                Ok(())
            })
        } else if key_is(key, "credsStore") {
            if !r.null()? {
                out.creds_store = Some(r.string()?).filter(|s| !s.is_empty());
            }
            Ok(())
        } else {
            r.skip()
        }
    });
    result
        .and_then(|_| r.finish())
        .map_err(|f| f.message(bytes))?;
    Ok(out)
}

/// [`parse_auth_file`] and a lookup, for the fuzzer (`super::parse_untrusted`).
pub(crate) fn parse_auth_file_for_fuzzing(bytes: &[u8]) -> bool {
    match parse_auth_file(bytes) {
        // No helpers: a fuzzer must not start programs.
        Ok(f) if f.cred_helpers.is_empty() && f.creds_store.is_none() => {
            f.lookup("docker.io", "library/x").is_ok()
        }
        _ => false,
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`; `host/ns/repo` stays.
fn normalise_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let k = k
        .strip_suffix("/v1/")
        .or_else(|| k.strip_suffix("/v2/"))
        .or_else(|| k.strip_suffix("/v1"))
        .or_else(|| k.strip_suffix("/v2"))
        .unwrap_or(k);
    let k = k.trim_end_matches('/');
    match k {
        "index.docker.io" | "registry-1.docker.io" => String::from("docker.io"),
        _ => match k.split_once('/') {
            Some(("index.docker.io" | "registry-1.docker.io", rest)) => {
                format!("docker.io/{}", rest)
            }
            _ => k.to_string(),
        },
    }
}

impl AuthFile {
    /// Credentials for the registry: its credential helper, else the most
    /// specific `auths` entry (`host/ns/repo`, then `host/ns`, then
    /// `host`), else the default store. The second value names the helper.
    fn lookup(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<(Credentials, Option<String>)>, Error> {
        if let Some((_, helper)) = self
            .cred_helpers
            .iter()
            .find(|(k, _)| normalise_key(k) == registry)
        {
            return Ok(helper_get(helper, registry)?.map(|c| (c, Some(helper.clone()))));
        }
        let full = format!("{}/{}", registry, repository);
        let mut scope = full.as_str();
        loop {
            if let Some((_, auth, identity)) = self
                .auths
                .iter()
                .find(|(k, _, _)| normalise_key(k) == scope)
            {
                if let Some(token) = identity.clone() {
                    // `auth` then holds the user name alone (`user:`).
                    let username = auth
                        .as_deref()
                        .and_then(|a| decode_auth(a).ok())
                        .map(|c| c.username)
                        .unwrap_or_default();
                    return Ok(Some((
                        Credentials {
                            username,
                            password: String::new(),
                            identity_token: Some(token),
                        },
                        None,
                    )));
                }
                if let Some(auth) = auth.as_deref().filter(|a| !a.is_empty()) {
                    return decode_auth(auth).map(|c| Some((c, None)));
                }
                // An entry without `auth`: the default store holds it.
                break;
            }
            match scope.rsplit_once('/') {
                Some((shorter, _)) => scope = shorter,
                None => break,
            }
        }
        match &self.creds_store {
            Some(store) => Ok(helper_get(store, registry)?.map(|c| (c, Some(store.clone())))),
            None => Ok(None),
        }
    }
}

fn decode_auth(auth: &str) -> Result<Credentials, Error> {
    let bad = || {
        Error::new(
            ErrorCode::Auth,
            "an `auth` entry is not base64 of USER:PASSWORD",
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (username, password) = text.split_once(':').ok_or_else(bad)?;
    Ok(Credentials {
        username: username.to_string(),
        password: password.to_string(),
        identity_token: None,
    })
}

/// How long a credential helper may take.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// `docker-credential-NAME get` with the server on stdin: `{"Username",
/// "Secret"}` on stdout; "credentials not found" means none.
fn helper_get(name: &str, registry: &str) -> Result<Option<Credentials>, Error> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(Error::new(
            ErrorCode::Auth,
            format!("credential helper name '{}' is not valid", name),
        ));
    }
    let program = format!("docker-credential-{}", name);
    let server = if registry == crate::analysis::reference::DOCKER_HUB {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    let failed = |why: String| {
        Error::new(
            ErrorCode::Auth,
            format!("the credential helper {} failed: {}", program, why),
        )
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| failed(e.to_string()))? {
            Some(status) => break status,
            None if started.elapsed() > HELPER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let mut out = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = stdout.take(1 << 20).read_to_end(&mut out);
    }
    if !status.success() {
        // "credentials not found in native keychain": no credentials, not an error.
        return Ok(None);
    }
    let (mut username, mut secret) = (None, None);
    let mut r = Reader::new(&out);
    r.object(&mut |r, key| match key {
        "Username" => {
            username = Some(r.string()?);
            Ok(())
        }
        "Secret" => {
            secret = Some(r.string()?);
            Ok(())
        }
        _ => r.skip(),
    })
    .map_err(|_| failed(String::from("its answer is not the JSON it should be")))?;
    match (username, secret) {
        // Docker's convention for a helper holding an identity token.
        (Some(username), Some(token)) if username == "<token>" && !token.is_empty() => {
            Ok(Some(Credentials {
                username: String::new(),
                password: String::new(),
                identity_token: Some(token),
            }))
        }
        (Some(username), Some(password)) if !password.is_empty() => Ok(Some(Credentials {
            username,
            password,
            identity_token: None,
        })),
        _ => Ok(None),
    }
}

/// One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lower case: `bearer`, `basic`.
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Longest header this parser reads.
const MAX_CHALLENGE: usize = 16 << 10;

/// Parse `WWW-Authenticate` (RFC 7235): challenges separated by commas,
/// each a scheme and `name=value` or `name="quoted \" value"` parameters.
/// Whatever does not parse ends the list; never panics.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let s = header.as_bytes();
    let s = &s[..s.len().min(MAX_CHALLENGE)];
    let mut i = 0;
    let mut out: Vec<Challenge> = Vec::new();
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b);
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && (s[*i] == b' ' || s[*i] == b'\t' || s[*i] == b',') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        let start = i;
        while i < s.len() && is_token(s[i]) {
            i += 1;
        }
        if start == i {
            break;
        }
        let token = String::from_utf8_lossy(&s[start..i]).to_string();
        // `token=` after a comma is a parameter of the current challenge.
        let mut j = i;
        while j < s.len() && s[j] == b' ' {
            j += 1;
        }
        if j < s.len() && s[j] == b'=' && !out.is_empty() && !(j + 1 < s.len() && s[j + 1] == b'=')
        {
            i = j + 1;
            while i < s.len() && s[i] == b' ' {
                i += 1;
            }
            let value = if i < s.len() && s[i] == b'"' {
                i += 1;
                let mut v = Vec::new();
                while i < s.len() && s[i] != b'"' {
                    if s[i] == b'\\' && i + 1 < s.len() {
                        i += 1;
                    }
                    v.push(s[i]);
                    i += 1;
                }
                i += 1; // the closing quote (or the end)
                String::from_utf8_lossy(&v).to_string()
            } else {
                let vs = i;
                while i < s.len() && s[i] != b',' && s[i] != b' ' {
                    i += 1;
                }
                String::from_utf8_lossy(&s[vs..i]).to_string()
            };
            if let Some(last) = out.last_mut() {
                last.params.push((token, value));
            }
            continue;
        }
        out.push(Challenge {
            scheme: token.to_ascii_lowercase(),
            params: Vec::new(),
        });
        // A token68 (Basic's `abc==`) or parameters follow.
        skip_ws(&mut i);
        let _ = i;
        if out.len() > 16 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_as_registries_send_them() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:library/alpine:pull"));
        let c = parse_challenges(r#"Basic realm="basic-realm""#);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("REALM"), Some("basic-realm"));
        let c = parse_challenges(r#"Basic realm="a, b \"c\"", Bearer realm=x,service=y"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].param("realm"), Some("a, b \"c\""));
        assert_eq!(c[1].param("service"), Some("y"));
        for junk in [
            "",
            "=",
            "\"",
            "Bearer realm=\"unterminated",
            ",,,",
            "Bearer ==",
            "é=é",
        ] {
            let _ = parse_challenges(junk);
        }
    }

    #[test]
    fn auth_file_entries_by_specificity() {
        let auth = |u: &str| base64::engine::general_purpose::STANDARD.encode(u);
        let text = format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}, "r.io": {{"auth": "{}"}}, "r.io/team/app": {{"auth": "{}"}}}}}}"#,
            auth("hub:h"),
            auth("reg:r"),
            auth("team:t:with:colons")
        );
        let f = parse_auth_file(text.as_bytes()).unwrap();
        let user = |reg: &str, repo: &str| f.lookup(reg, repo).unwrap().map(|(c, _)| c.username);
        assert_eq!(user("docker.io", "library/alpine").as_deref(), Some("hub"));
        assert_eq!(user("r.io", "other/x").as_deref(), Some("reg"));
        assert_eq!(user("r.io", "team/app").as_deref(), Some("team"));
        assert_eq!(
            f.lookup("r.io", "team/app").unwrap().unwrap().0.password,
            "t:with:colons"
        );
        assert_eq!(user("q.io", "a"), None);
        assert!(parse_auth_file(b"{\"auths\": 3}").is_err());
        // After a login that returned an identity token, `auth` holds `user:`.
        let text = format!(
            r#"{{"auths": {{"id.io": {{"auth": "{}", "identitytoken": "rt-1"}}}}}}"#,
            auth("me:")
        );
        let f = parse_auth_file(text.as_bytes()).unwrap();
        let (c, _) = f.lookup("id.io", "x/y").unwrap().unwrap();
        assert_eq!(c.identity_token.as_deref(), Some("rt-1"));
        assert_eq!((c.username.as_str(), c.password.as_str()), ("me", ""));
    }

    #[test]
    fn credentials_never_show() {
        let c = Credentials::parse("me:s3cr3t").unwrap();
        assert!(!format!("{:?}", c).contains("s3cr3t"));
        assert_eq!(c.basic_header(), "Basic bWU6czNjcjN0");
        assert!(Credentials::parse(":x").is_err());
    }
}
