//! Image references (`alpine`, `ghcr.io/org/app:1`, `…@sha256:…`), parsed
//! and normalised as Docker does (distribution's `reference` package):
//! a first component without `.` or `:` that is not `localhost` is not a
//! registry, so `alpine` is `docker.io/library/alpine:latest`.

use alloc::format;
use alloc::string::{String, ToString};

/// A normalised reference: `registry/repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`.
    pub registry: String,
    /// `library/alpine`, `org/app`.
    pub repository: String,
    /// `latest` when the reference names neither a tag nor a digest.
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

/// Docker Hub's name, and the host its API answers on.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";
const MAX_NAME: usize = 255;

impl Reference {
    /// Parse and normalise; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Reference, String> {
        if text.is_empty() {
            return Err(String::from("an image reference cannot be empty"));
        }
        if text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(String::from(
                "a bare 64-hex name is an image ID, not a reference (write sha256:<hex> after @)",
            ));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (text, None),
        };
        if let Some(d) = digest {
            check_digest(d)?;
        }
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_and_tag[..last_slash + i],
                Some(&name_and_tag[last_slash + i + 1..]),
            ),
            None => (name_and_tag, None),
        };
        if let Some(t) = tag {
            check_tag(t)?;
        }
        let (registry, remainder) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, rest)
            }
            _ => (DOCKER_HUB, name),
        };
        check_registry(registry)?;
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
            format!("library/{}", remainder)
        } else {
            remainder.to_string()
        };
        check_repository(&repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME {
            return Err(format!(
                "the repository name is longer than {} characters",
                MAX_NAME
            ));
        }
        let tag = match (tag, digest) {
            (None, None) => Some(String::from("latest")),
            (t, _) => t.map(String::from),
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag,
            digest: digest.map(String::from),
        })
    }

    /// Whether `text` reads as a reference (for telling a bare name from a path).
    pub fn looks_like_reference(text: &str) -> bool {
        Reference::parse(text).is_ok()
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the registry's API answers on (Docker Hub's differs from its name).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What `/v2/<repository>/manifests/<here>` takes: the digest when
    /// there is one (it pins the content), else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl core::fmt::Display for Reference {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{}", t)?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{}", d)?;
        }
        Ok(())
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` for each `/`-separated component.
fn check_repository(repository: &str) -> Result<(), String> {
    for component in repository.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let mut ok = !bytes.is_empty()
            && alnum(bytes[0])
            && alnum(bytes[bytes.len() - 1])
            && bytes
                .iter()
                .all(|&b| alnum(b) || matches!(b, b'.' | b'_' | b'-'));
        // Separators: one '.', one or two '_', any run of '-', never mixed.
        let mut i = 0;
        while ok && i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let run = &bytes[start..i];
            ok = run == b"." || run == b"_" || run == b"__" || run.iter().all(|&b| b == b'-');
        }
        if !ok {
            if component.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(String::from("the repository name must be lowercase"));
            }
            return Err(String::from("the repository name is not valid"));
        }
    }
    Ok(())
}

/// A host name or IP address (IPv6 in brackets), with an optional port.
fn check_registry(registry: &str) -> Result<(), String> {
    let bad = || Err(String::from("the registry host is not valid"));
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return bad();
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return bad();
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(p) => (None, Some(p)),
                None => return bad(),
            },
        }
    } else {
        match registry.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return bad();
        }
    }
    if let Some(h) = host {
        let label_ok = |l: &str| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        };
        if !h.split('.').all(label_ok) {
            return bad();
        }
    }
    Ok(())
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    let b = tag.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if b.is_empty()
        || b.len() > 128
        || !word(b[0])
        || !b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
    {
        return Err(String::from("the tag is not valid"));
    }
    Ok(())
}

/// `algorithm:hex`; sha256 needs 64 lowercase hex digits, sha512 128.
pub fn check_digest(digest: &str) -> Result<(), String> {
    let bad = || Err(format!("the digest is not valid: {:?}", digest));
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return bad();
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(format!("unsupported digest algorithm {:?}", algorithm)),
    };
    if hex.len() != want || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return bad();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s)
            .map(|r| r.to_string())
            .unwrap_or_else(|e| format!("error: {}", e))
    }

    #[test]
    fn normalised_as_docker_does() {
        assert_eq!(norm("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(norm("alpine:3.20"), "docker.io/library/alpine:3.20");
        assert_eq!(
            norm("linuxserver/nginx"),
            "docker.io/linuxserver/nginx:latest"
        );
        assert_eq!(
            norm("index.docker.io/library/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            norm("docker.io/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(norm("ghcr.io/org/app:1"), "ghcr.io/org/app:1");
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(
            norm("127.0.0.1:5000/fixtures/bb:v1"),
            "127.0.0.1:5000/fixtures/bb:v1"
        );
        assert_eq!(norm("[::1]:5000/a"), "[::1]:5000/a:latest");
        let d = "sha256:".to_string() + &"ab".repeat(32);
        assert_eq!(
            norm(&format!("quay.io/a/b@{}", d)),
            format!("quay.io/a/b@{}", d)
        );
        assert_eq!(
            norm(&format!("a:1@{}", d)),
            format!("docker.io/library/a:1@{}", d)
        );
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.manifest_ref(), "latest");
        assert_eq!(r.name(), "docker.io/library/alpine");
    }

    #[test]
    fn what_is_not_a_reference() {
        for bad in [
            "",
            "Alpine",
            "a//b",
            "a/b/",
            "image.tar/",
            "./image.tar",
            "/tmp/image.tar",
            "a:b:c",
            "a@sha256:12",
            "a@md5:0123456789abcdef0123456789abcdef",
            "a:-tag",
            "a..b",
            "a_-b",
            "host:port/a",
            &"ab".repeat(32),
        ] {
            assert!(
                Reference::parse(bad).is_err(),
                "{:?} parsed as {:?}",
                bad,
                Reference::parse(bad)
            );
        }
        assert_eq!(
            norm("Alpine"),
            "error: the repository name must be lowercase"
        );
        // File names that are also valid references (a bare name that exists
        // as a file is read as a file: see the source rules).
        assert!(Reference::looks_like_reference("image.tar"));
    }
}
