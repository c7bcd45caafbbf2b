//! A registry client that behaves like `docker pull` and skopeo (OCI
//! Distribution Spec, Docker Registry HTTP API V2): manifests and indexes,
//! Bearer-token and Basic auth, retries, blobs streamed through their
//! digest check into the same layer summaries as archive layers.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::auth::{self, Challenge, Credentials};
use super::{image_parts, ImageParts, Progress, SourceOptions};
use crate::analysis::config::{self, Descriptor, ManifestOrIndex};
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::{Compression, LayerSummary};
use crate::analysis::reference::Reference;
use crate::analysis::report::{Report, SourceInfo};
use crate::archive::budget::{Budget, Meter};
use crate::archive::hashing::{digest_string, sha256_digest};
use crate::archive::input::{read_full, DynInput, Peeked, StreamInput};
use crate::archive::{scan_layer, LayerRead};

/// What the client asks a manifest for, most wanted first (schema 1 left
/// out, so that a registry converts when it can).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
/// Distribution refuses manifests over 4 MiB; so do we.
const MAX_MANIFEST: u64 = 4 << 20;
/// Attempts of one request (connection errors, 429, 5xx) and resumes of one blob.
const MAX_ATTEMPTS: u32 = 5;
/// The longest `Retry-After` honoured, and the longest backoff.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// A read that gets nothing for this long ends the connection (then a retry).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a small answer (a manifest, a token) may take to arrive
/// whole: a server that drips it is cut off.
const SMALL_BODY_DEADLINE: Duration = Duration::from_secs(20);
/// A blob that brings fewer bytes than this in a window of that long is
/// stalled (a drip, not a slow network): an error, not a retry.
const STALL_BYTES: u64 = 32 << 10;
const STALL_WINDOW: Duration = Duration::from_secs(30);

pub struct Client {
    agent: ureq::Agent,
    reference: Reference,
    /// `https://host` or, with `--tls-verify=false` and a server without
    /// TLS, `http://host`.
    base: Mutex<Option<String>>,
    tls_verify: bool,
    /// `Authorization` for the registry (never for other hosts).
    authorization: Mutex<Option<String>>,
    lookup: auth::Lookup,
    found: Mutex<Option<auth::Found>>,
    /// Bytes received, manifests and blobs.
    pub downloaded: AtomicU64,
}

fn network_error(host: &str, e: &ureq::Error) -> Error {
    Error::new(ErrorCode::Network, format!("cannot reach {}: {}", host, e))
}

fn transient(e: &ureq::Error) -> bool {
    use io::ErrorKind::*;
    match e {
        // A TLS failure (InvalidData) comes again on every attempt.
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ConnectionRefused
                | ConnectionReset
                | ConnectionAborted
                | TimedOut
                | UnexpectedEof
                | BrokenPipe
                | Interrupted
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::BodyStalled => true,
        _ => false,
    }
}

fn backoff(attempt: u32) -> Duration {
    (Duration::from_millis(250) * 2u32.pow(attempt.min(6))).min(MAX_WAIT)
}

/// `Retry-After: SECONDS` (an HTTP date is taken as one second).
fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    let secs = v.trim().parse::<u64>().unwrap_or(1);
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers().get(name)?.to_str().ok().map(str::to_string)
}

/// The registry's own error (`{"errors":[{"code":"…","message":"…"}]}`), if it sent one.
pub fn registry_error_code(body: &[u8]) -> Option<String> {
    let mut code = None;
    let mut r = crate::analysis::json::Reader::new(body);
    let _ = r.object(&mut |r, key| {
        if key != "errors" {
            return r.skip();
        }
        r.array(&mut |r| {
            r.object(&mut |r, k| {
                if k == "code" && code.is_none() {
                    code = Some(r.string()?);
                    Ok(())
                } else {
                    r.skip()
                }
            })
        })
    });
    code.map(|c: String| {
        c.chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect()
    })
}

impl Client {
    pub fn new(reference: &Reference, options: &SourceOptions) -> Client {
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(!options.tls_verify)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(10)
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
            .https_only(false)
            .tls_config(tls)
            .proxy(ureq::Proxy::try_from_env())
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(READ_TIMEOUT))
            .user_agent(concat!("rootless-check/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
            reference: reference.clone(),
            base: Mutex::new(None),
            tls_verify: options.tls_verify,
            authorization: Mutex::new(None),
            lookup: options.auth.clone(),
            found: Mutex::new(None),
            downloaded: AtomicU64::new(0),
        }
    }

    fn host(&self) -> &str {
        self.reference.api_host()
    }

    /// The registry's base URL, found with the `/v2/` ping (as docker
    /// does): HTTPS, or plain HTTP when TLS is not verified and the server
    /// does not speak it.
    fn base(&self) -> Result<String> {
        if let Some(b) = self.base.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(b);
        }
        let https = format!("https://{}", self.host());
        // Without verification a server that does not speak TLS fails the
        // handshake at once: one attempt, then plain HTTP (as skopeo).
        let attempts = if self.tls_verify { MAX_ATTEMPTS } else { 1 };
        let base = match self.send_with(&format!("{}/v2/", https), &[], None, attempts) {
            Ok(_) => https,
            Err(e) if !self.tls_verify && e.code == ErrorCode::Network => {
                let http = format!("http://{}", self.host());
                self.send(&format!("{}/v2/", http), &[])?;
                http
            }
            Err(mut e) => {
                if e.code == ErrorCode::Network {
                    e.message
                        .push_str(" (a registry without TLS needs --tls-verify=false)");
                }
                return Err(e);
            }
        };
        *self.base.lock().unwrap_or_else(|p| p.into_inner()) = Some(base.clone());
        Ok(base)
    }

    /// One GET with retries on connection errors, 429 and 5xx.
    fn send(
        &self,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<ureq::http::Response<ureq::Body>> {
        self.send_with(url, headers, None, MAX_ATTEMPTS)
    }

    /// A GET, or a POST of `form` (`application/x-www-form-urlencoded`),
    /// retried on connection errors, 429 and 5xx.
    fn send_with(
        &self,
        url: &str,
        headers: &[(&str, String)],
        form: Option<&str>,
        max_attempts: u32,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = match form {
                None => {
                    let mut req = self.agent.get(url);
                    for (k, v) in headers {
                        req = req.header(*k, v.as_str());
                    }
                    req.call()
                }
                Some(body) => {
                    let mut req = self
                        .agent
                        .post(url)
                        .content_type("application/x-www-form-urlencoded");
                    for (k, v) in headers {
                        req = req.header(*k, v.as_str());
                    }
                    req.send(body)
                }
            };
            match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let again = status == 429 || (500..=504).contains(&status);
                    if again && attempt < max_attempts && started.elapsed() < 4 * MAX_WAIT {
                        let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                        drop(resp);
                        std::thread::sleep(wait);
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e) if transient(&e) && attempt < max_attempts => {
                    std::thread::sleep(backoff(attempt))
                }
                Err(e) => return Err(network_error(self.host(), &e)),
            }
        }
    }

    /// A GET to the registry with its `Authorization`, negotiating it on
    /// a 401 (once). Statuses other than 401 are the caller's to judge.
    fn get(
        &self,
        path: &str,
        extra: &[(&str, String)],
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}{}", self.base()?, path);
        let mut negotiated = false;
        loop {
            let mut headers: Vec<(&str, String)> = extra.to_vec();
            if let Some(a) = self
                .authorization
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                headers.push(("Authorization", a));
            }
            let resp = self.send(&url, &headers)?;
            if resp.status().as_u16() != 401 {
                return Ok(resp);
            }
            let challenge = header(&resp, "www-authenticate").unwrap_or_default();
            if negotiated {
                return Err(self.refused());
            }
            self.negotiate(&challenge)?;
            negotiated = true;
        }
    }

    fn credentials(&self) -> Result<Option<Credentials>> {
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        if found.is_none() {
            *found = Some(auth::find(
                &self.reference.registry,
                &self.reference.repository,
                &self.lookup,
            )?);
        }
        Ok(found.as_ref().and_then(|f| f.credentials.clone()))
    }

    /// `E_AUTH`, naming where credentials were looked for (never them).
    fn refused(&self) -> Error {
        let found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        let message = match found.as_ref() {
            Some(auth::Found {
                from: Some(from), ..
            }) => format!(
                "{} refused the credentials from {} for {}",
                self.reference.registry, from, self.reference.repository
            ),
            Some(f) => format!(
                "{} needs credentials for {} and none were found (tried: {})",
                self.reference.registry,
                self.reference.repository,
                f.tried.join("; ")
            ),
            None => format!(
                "{} refused access to {}",
                self.reference.registry, self.reference.repository
            ),
        };
        Error::new(ErrorCode::Auth, message)
    }

    /// Answer a challenge: Basic with the credentials, or a Bearer token
    /// from the realm (with the credentials when there are some).
    fn negotiate(&self, header: &str) -> Result<()> {
        let challenges = auth::parse_challenges(header);
        let creds = self.credentials()?;
        let value = if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            format!("Bearer {}", self.token(bearer, creds.as_ref())?)
        } else if challenges.iter().any(|c| c.scheme == "basic") {
            match creds {
                Some(c) if c.identity_token.is_some() => {
                    return Err(Error::new(
                        ErrorCode::Auth,
                        format!(
                            "{} asks for Basic auth, and the credentials found for it are an identity token, which only a token service takes",
                            self.reference.registry
                        ),
                    ))
                }
                Some(c) => c.basic_header(),
                None => return Err(self.refused()),
            }
        } else {
            return Err(Error::new(
                ErrorCode::Auth,
                format!(
                    "{} asks for an authentication scheme this tool does not know",
                    self.reference.registry
                ),
            ));
        };
        *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
        Ok(())
    }

    /// A token for `repository:REPO:pull` from the challenge's realm.
    fn token(&self, challenge: &Challenge, creds: Option<&Credentials>) -> Result<String> {
        let realm = challenge.param("realm").unwrap_or_default();
        if !(realm.starts_with("https://") || (!self.tls_verify && realm.starts_with("http://"))) {
            return Err(Error::new(
                ErrorCode::Auth,
                format!(
                    "{} names a token service that is not https ({} needs --tls-verify=false)",
                    self.reference.registry,
                    realm.chars().take(200).collect::<String>()
                ),
            ));
        }
        let scope = format!("repository:{}:pull", self.reference.repository);
        let token_host = host_of(realm);
        let resp = match creds.and_then(|c| c.identity_token.as_deref()) {
            // OAuth2's refresh-token grant, as Docker's client does with the
            // identity token `docker login` stored.
            Some(refresh) => {
                let mut form = format!(
                    "grant_type=refresh_token&client_id=rootless-check&refresh_token={}&scope={}",
                    encode(refresh),
                    encode(&scope)
                );
                if let Some(service) = challenge.param("service") {
                    form.push_str(&format!("&service={}", encode(service)));
                }
                self.send_with(realm, &[], Some(&form), MAX_ATTEMPTS)?
            }
            None => self.token_get(realm, challenge, &scope, creds)?,
        };
        self.token_answer(resp, &token_host)
    }

    /// The token request of Distribution's token spec: a GET with Basic.
    fn token_get(
        &self,
        realm: &str,
        challenge: &Challenge,
        scope: &str,
        creds: Option<&Credentials>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut url = format!(
            "{}{}scope={}",
            realm,
            if realm.contains('?') { '&' } else { '?' },
            encode(scope)
        );
        if let Some(service) = challenge.param("service") {
            url.push_str(&format!("&service={}", encode(service)));
        }
        let headers: Vec<(&str, String)> = creds
            .map(|c| ("Authorization", c.basic_header()))
            .into_iter()
            .collect();
        self.send(&url, &headers)
    }

    /// The token in a token service's answer.
    fn token_answer(
        &self,
        resp: ureq::http::Response<ureq::Body>,
        token_host: &str,
    ) -> Result<String> {
        match resp.status().as_u16() {
            200 => {}
            401 | 403 => return Err(self.refused()),
            s => {
                return Err(Error::new(
                    ErrorCode::Registry,
                    format!("the token service {} answered HTTP {}", token_host, s),
                ))
            }
        }
        let body = read_limited(resp, 1 << 20, token_host)?;
        token_of(&body).ok_or_else(|| {
            Error::new(
                ErrorCode::Registry,
                format!(
                    "the token service {} answered without a usable token",
                    token_host
                ),
            )
        })
    }

    /// An error for an answer that is neither success nor 401.
    fn status_error(&self, resp: ureq::http::Response<ureq::Body>, what: &str) -> Error {
        let status = resp.status().as_u16();
        let body = read_limited(resp, 64 << 10, self.host()).unwrap_or_default();
        let code = registry_error_code(&body);
        let registry_says = code
            .as_deref()
            .map(|c| format!(" ({})", c))
            .unwrap_or_default();
        let e = match status {
            404 => ErrorCode::NotFound,
            403 => ErrorCode::Auth,
            _ => ErrorCode::Registry,
        };
        let message = match e {
            ErrorCode::NotFound => format!(
                "{} has no {}{}",
                self.reference.registry, what, registry_says
            ),
            _ => format!(
                "{} answered HTTP {} for {}{}",
                self.reference.registry, status, what, registry_says
            ),
        };
        Error::new(e, message)
    }

    /// A manifest or index by tag or digest: its bytes, checked against
    /// the digest asked for or the one the registry names, and the digest.
    pub fn manifest(&self, reference: &str) -> Result<(Vec<u8>, String)> {
        let path = format!("/v2/{}/manifests/{}", self.reference.repository, reference);
        let resp = self.get(&path, &[("Accept", String::from(MANIFEST_ACCEPT))])?;
        let what = format!("manifest {}:{}", self.reference.repository, reference);
        if resp.status().as_u16() != 200 {
            return Err(self.status_error(resp, &what));
        }
        let content_type = header(&resp, "content-type").unwrap_or_default();
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let known = media.is_empty()
            || media == "application/json"
            || media == "application/octet-stream"
            || media.starts_with("application/vnd.oci.image.")
            || media.starts_with("application/vnd.docker.distribution.manifest.");
        if !known {
            return Err(Error::new(
                ErrorCode::Registry,
                format!(
                    "{} answered '{}' for {}, not a manifest",
                    self.reference.registry,
                    media.chars().take(80).collect::<String>(),
                    what
                ),
            ));
        }
        let claimed = header(&resp, "docker-content-digest");
        let body = read_limited(resp, MAX_MANIFEST, self.host())?;
        let digest = sha256_digest(&body);
        let expected = if reference.contains(':') {
            Some(reference.to_string())
        } else {
            claimed
        };
        if let Some(expected) = expected.filter(|e| e.starts_with("sha256:")) {
            if expected != digest {
                return Err(Error::new(
                    ErrorCode::DigestMismatch,
                    format!(
                        "{} has {} but {} was expected: it was altered on its way",
                        what, digest, expected
                    ),
                ));
            }
        }
        if media.starts_with("application/vnd.docker.distribution.manifest.v1") {
            return Err(schema1());
        }
        Ok((body, digest))
    }

    /// Bytes `start..=end` of a blob (a `Range` request), or `None` when the
    /// registry does not serve ranges: the caller reads the whole blob then.
    pub fn range(&self, digest: &str, start: u64, end: u64) -> Option<Vec<u8>> {
        let path = format!("/v2/{}/blobs/{}", self.reference.repository, digest);
        let resp = self
            .get(&path, &[("Range", format!("bytes={}-{}", start, end))])
            .ok()?;
        if resp.status().as_u16() != 206 {
            return None;
        }
        let want = end - start + 1;
        let body = read_limited(resp, want, self.host()).ok()?;
        self.downloaded
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        (body.len() as u64 == want).then_some(body)
    }

    /// A blob, streamed: a reader that checks size and digest at its end.
    pub fn blob<'a>(
        &'a self,
        descriptor: &Descriptor,
        progress: Option<&'a Progress>,
    ) -> BlobReader<'a> {
        BlobReader {
            client: self,
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            body: None,
            received: 0,
            hasher: Sha256::new(),
            resumes: 0,
            failure: None,
            progress,
            done: false,
            window: (Instant::now(), 0),
        }
    }
}

fn schema1() -> Error {
    Error::new(
        ErrorCode::UnsupportedFormat,
        "the registry serves this image only as a Docker schema 1 manifest, which this tool does not read (push it again with a current docker or skopeo)",
    )
}

/// The token of a token service's answer (`token`, else `access_token`):
/// printable ASCII only, since it goes into a header.
pub fn token_of(body: &[u8]) -> Option<String> {
    let mut token = None;
    let mut r = crate::analysis::json::Reader::new(body);
    r.object(&mut |r, key| match key {
        "token" | "access_token" if token.is_none() => {
            token = Some(r.string()?).filter(|t| !t.is_empty());
            Ok(())
        }
        _ => r.skip(),
    })
    .ok()?;
    token.filter(|t| t.bytes().all(|b| b.is_ascii_graphic()))
}

/// `host[:port]` of a URL, for messages.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?'])
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}

/// Percent-encoding for a query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

/// A body read whole, refused past `limit` bytes.
fn read_limited(resp: ureq::http::Response<ureq::Body>, limit: u64, host: &str) -> Result<Vec<u8>> {
    let too_big = || {
        Error::new(
            ErrorCode::LimitExceeded,
            format!("an answer from {} is larger than {} bytes", host, limit),
        )
    };
    // A length announced beyond the limit is refused before any byte is read.
    if header(&resp, "content-length")
        .and_then(|l| l.trim().parse::<u64>().ok())
        .is_some_and(|l| l > limit)
    {
        return Err(too_big());
    }
    let mut out = Vec::new();
    let mut reader = resp.into_body().into_reader().take(limit + 1);
    let started = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            Error::new(
                ErrorCode::Network,
                format!("cannot read an answer from {}: {}", host, e),
            )
        })?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if started.elapsed() > SMALL_BODY_DEADLINE {
            return Err(Error::new(
                ErrorCode::Network,
                format!(
                    "an answer from {} did not arrive whole within {} s",
                    host,
                    SMALL_BODY_DEADLINE.as_secs()
                ),
            ));
        }
    }
    if out.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(out)
}

/// A blob's bytes as they arrive, hashed on the way. A connection that
/// breaks is resumed with a `Range` request where it stopped; at the end
/// the size and digest must be those of the descriptor. A failure is kept
/// in `failure` (the layer walker sees only an I/O error).
pub struct BlobReader<'a> {
    client: &'a Client,
    digest: String,
    size: Option<u64>,
    body: Option<ureq::BodyReader<'static>>,
    received: u64,
    hasher: Sha256,
    resumes: u32,
    pub failure: Option<Error>,
    progress: Option<&'a Progress>,
    done: bool,
    /// The stall guard's window: when it began and the bytes since.
    window: (Instant, u64),
}

impl BlobReader<'_> {
    fn fail(&mut self, e: Error) -> io::Error {
        let text = e.message.clone();
        self.failure.get_or_insert(e);
        io::Error::other(text)
    }

    fn open(&mut self) -> Result<()> {
        let path = format!(
            "/v2/{}/blobs/{}",
            self.client.reference.repository, self.digest
        );
        let extra: Vec<(&str, String)> = if self.received > 0 {
            vec![("Range", format!("bytes={}-", self.received))]
        } else {
            Vec::new()
        };
        let resp = self.client.get(&path, &extra)?;
        let status = resp.status().as_u16();
        let what = format!("blob {}", self.digest);
        let mut skip = 0;
        match status {
            200 => skip = self.received, // the server ignored Range: skip what we have
            206 if self.received > 0 => {}
            _ => return Err(self.client.status_error(resp, &what)),
        }
        let mut body = resp.into_body().into_reader();
        if skip > 0 {
            io::copy(&mut (&mut body).take(skip), &mut io::sink()).map_err(|e| {
                Error::new(ErrorCode::Network, format!("cannot read {}: {}", what, e))
            })?;
        }
        self.body = Some(body);
        Ok(())
    }

    /// The connection broke (or ended short): resume, within the budget.
    fn resume(&mut self, why: String) -> io::Result<()> {
        self.body = None;
        self.resumes += 1;
        if self.resumes >= MAX_ATTEMPTS {
            let e = Error::new(
                ErrorCode::Network,
                format!(
                    "blob {} broke off {} times, last: {}",
                    self.digest, self.resumes, why
                ),
            );
            return Err(self.fail(e));
        }
        std::thread::sleep(backoff(self.resumes));
        Ok(())
    }

    fn check_end(&mut self) -> io::Result<()> {
        self.done = true;
        let actual = digest_string(&self.hasher.clone().finalize());
        if actual != self.digest {
            let e = Error::new(
                ErrorCode::DigestMismatch,
                format!(
                    "blob {} arrived with digest {}: it was altered on its way",
                    self.digest, actual
                ),
            );
            return Err(self.fail(e));
        }
        Ok(())
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if let Some(e) = &self.failure {
            return Err(io::Error::other(e.message.clone()));
        }
        loop {
            if self.body.is_none() {
                if let Err(e) = self.open() {
                    return Err(self.fail(e));
                }
            }
            let body = self.body.as_mut().expect("opened above");
            match body.read(buf) {
                Ok(0) => {
                    if self.size.is_some_and(|s| self.received < s) {
                        let why = format!(
                            "it ended after {} of {} bytes",
                            self.received,
                            self.size.unwrap_or(0)
                        );
                        self.resume(why)?;
                        continue;
                    }
                    self.check_end()?;
                    return Ok(0);
                }
                Ok(n) => {
                    if let Some(size) = self.size.filter(|&s| self.received + n as u64 > s) {
                        let e = Error::new(
                            ErrorCode::DigestMismatch,
                            format!(
                                "blob {} is bigger than the {} bytes its descriptor says",
                                self.digest, size
                            ),
                        );
                        return Err(self.fail(e));
                    }
                    self.hasher.update(&buf[..n]);
                    self.received += n as u64;
                    self.window.1 += n as u64;
                    if self.window.0.elapsed() >= STALL_WINDOW {
                        if self.window.1 < STALL_BYTES {
                            let e = Error::new(
                                ErrorCode::Network,
                                format!(
                                    "blob {} stalled: {} bytes in {} s",
                                    self.digest,
                                    self.window.1,
                                    STALL_WINDOW.as_secs()
                                ),
                            );
                            return Err(self.fail(e));
                        }
                        self.window = (Instant::now(), 0);
                    }
                    self.client
                        .downloaded
                        .fetch_add(n as u64, Ordering::Relaxed);
                    if let Some(p) = self.progress {
                        p(&self.digest, self.received, self.size);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => self.resume(e.to_string())?,
            }
        }
    }
}

/// What `--platform` asks for, or the host's (as docker pull does).
pub fn wanted_platform(options: &SourceOptions) -> String {
    options.platform.clone().unwrap_or_else(host_platform)
}

/// `linux/<arch>` of this machine, in Go's names.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm/v7",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    };
    format!("linux/{}", arch)
}

/// Whether a descriptor's platform is the one asked for: os and
/// architecture equal, and the variant too when asked (arm64's absent
/// variant is v8, as containerd takes it).
pub fn platform_matches(have: &config::Platform, wanted: &str) -> bool {
    let mut parts = wanted.split('/');
    let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
    fn norm<'a>(v: Option<&'a str>, a: Option<&str>) -> Option<&'a str> {
        match (a, v) {
            (Some("arm64"), None | Some("")) => Some("v8"),
            (_, v) => v.filter(|v| !v.is_empty()),
        }
    }
    have.os.as_deref() == os
        && have.architecture.as_deref() == arch
        && (variant.is_none() || norm(have.variant.as_deref(), arch) == norm(variant, arch))
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os.as_deref() == Some("unknown"))
}

/// The images an index names, attestations left out.
pub fn index_images(index: &ManifestOrIndex) -> Vec<&Descriptor> {
    index
        .manifests
        .iter()
        .flatten()
        .filter(|d| !is_attestation(d))
        .collect()
}

/// Analyse `reference` from its registry.
pub fn analyze(reference: &Reference, given: &str, options: &SourceOptions) -> Result<Report> {
    let client = Client::new(reference, options);
    let (top, top_digest) = client.manifest(reference.manifest_ref())?;
    let doc = parse_document(&top)?;
    let mut parts = ImageParts {
        verify: options.read.verify,
        ..ImageParts::default()
    };
    let mut platforms = Vec::new();
    let mut chosen: Vec<(Descriptor, Vec<u8>)> = Vec::new();
    if doc.manifests.is_some() {
        let images = index_images(&doc);
        platforms = images
            .iter()
            .map(|d| {
                d.platform
                    .as_ref()
                    .map_or_else(|| String::from("unknown/unknown"), |p| p.display())
            })
            .collect();
        let picked: Vec<&Descriptor> = if options.all_platforms {
            images.clone()
        } else {
            let wanted = wanted_platform(options);
            match images.iter().find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| platform_matches(p, &wanted))
            }) {
                Some(d) => vec![*d],
                None => {
                    return Err(Error::new(
                        ErrorCode::NotFound,
                        format!(
                            "{} has no image for platform {}; it has: {}",
                            reference,
                            wanted,
                            if platforms.is_empty() {
                                String::from("none")
                            } else {
                                platforms.join(", ")
                            }
                        ),
                    ))
                }
            }
        };
        for d in picked {
            let (bytes, digest) = client.manifest(&d.digest)?;
            let manifest = parse_document(&bytes)?;
            if manifest.manifests.is_some() {
                return Err(Error::new(
                    ErrorCode::UnsupportedFormat,
                    "an image index names another index",
                ));
            }
            let mut d = d.clone();
            d.digest = digest;
            chosen.push((d, bytes));
        }
    } else {
        let d = Descriptor {
            digest: top_digest.clone(),
            ..Descriptor::default()
        };
        chosen.push((d, top));
    }
    // The configs first: USER is known before any layer.
    let mut layers: Vec<Descriptor> = Vec::new();
    for (d, bytes) in &chosen {
        let manifest = parse_document(bytes)?;
        let Some(config_d) = manifest.config.clone() else {
            return Err(Error::new(
                ErrorCode::BadJson,
                format!("manifest {} has no config", d.digest),
            ));
        };
        let mut config_bytes = Vec::new();
        let mut reader = client.blob(&config_d, None);
        let limit = crate::analysis::config::MAX_JSON_BYTES as u64;
        if let Err(e) = (&mut reader).take(limit + 1).read_to_end(&mut config_bytes) {
            return Err(reader
                .failure
                .take()
                .unwrap_or_else(|| Error::new(ErrorCode::Network, e.to_string())));
        }
        if config_bytes.len() as u64 > limit {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("config {} is larger than {} bytes", config_d.digest, limit),
            ));
        }
        parts.add_json(&config_d.digest, config_bytes)?;
        parts.add_json(&d.digest, bytes.clone())?;
        for l in manifest.layers.iter().flatten() {
            if !layers.iter().any(|x| x.digest == l.digest) {
                layers.push(l.clone());
            }
        }
        parts.index.push(d.clone());
    }
    let threads = options.concurrency.max(1);
    let progress = options.progress.as_deref();
    // The decompression budget, from what the layers weigh as stored.
    let stored: u64 = layers.iter().filter_map(|l| l.size).sum();
    let budget = Budget::new(options.read.max_decompressed, Some(stored));
    let results = super::parallel(&layers, threads, |d| {
        scan_blob(&client, d, options, &budget, progress)
    });
    for (i, result) in results {
        let summary = result?;
        if options.read.verify {
            // The blob's digest was checked as it streamed (else `result`
            // is an error); its diff_id is held against the config's.
            let checked = layers[i].digest.starts_with("sha256:");
            parts.add_layer_digests(
                &layers[i].digest,
                checked.then(|| layers[i].digest.clone()),
                &summary,
            );
        }
        parts.add_layer(&layers[i].digest, summary)?;
    }
    parts.contents.decompression = budget.figures(&Meter::new(&budget));
    let source = SourceInfo {
        kind: String::from("registry"),
        reference: given.to_string(),
        resolved: reference.to_string(),
        registry: Some(reference.registry.clone()),
        repository: Some(reference.repository.clone()),
        tag: reference.tag.clone(),
        digest: Some(top_digest),
        platforms,
    };
    let tag = reference.tag.as_ref().map(|_| reference.to_string());
    image_parts::finish(
        parts,
        tag,
        source,
        client.downloaded.load(Ordering::Relaxed),
    )
}

/// A manifest or index, with schema 1 refused.
fn parse_document(bytes: &[u8]) -> Result<ManifestOrIndex> {
    let doc = config::parse_manifest_or_index(bytes)?;
    if doc.schema_version == Some(1) {
        return Err(schema1());
    }
    Ok(doc)
}

/// Stream one layer blob into its summary. An error of the transfer
/// (network, auth, digest) fails the whole analysis: the summary of bytes
/// that did not arrive, or were not the image's, must not be reported.
fn scan_blob(
    client: &Client,
    d: &Descriptor,
    options: &SourceOptions,
    budget: &Budget,
    progress: Option<&Progress>,
) -> Result<LayerSummary> {
    // A table of contents reads part of the blob: --verify needs all of it.
    if !options.read.verify {
        if let Some(summary) = super::toc::scan(client, d, options.read.layer_limits) {
            return Ok(summary);
        }
    }
    let mut reader = client.blob(d, progress);
    let mut head = vec![0u8; 512];
    let summary = {
        let mut input = StreamInput::new(&mut reader);
        let got = read_full(&mut input, &mut head).unwrap_or(0);
        head.truncate(got);
        let compression = Compression::sniff(&head);
        let replay: DynInput<'_> = Box::new(Peeked::with_head(input, head));
        let layer = LayerRead {
            limits: options.read.layer_limits,
            budget,
            digest: options.read.verify,
        };
        scan_layer(replay, compression, d.size.unwrap_or(0), &layer)
    };
    // The walker stops at the tar's end: the rest still counts for the digest.
    let _ = io::copy(&mut reader, &mut io::sink());
    match reader.failure.take() {
        Some(e) => Err(e.with_entry(d.digest.clone())),
        None => Ok(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_as_containerd_matches_them() {
        let p = |os: &str, arch: &str, variant: Option<&str>| config::Platform {
            os: Some(os.into()),
            architecture: Some(arch.into()),
            variant: variant.map(String::from),
        };
        assert!(platform_matches(&p("linux", "amd64", None), "linux/amd64"));
        assert!(!platform_matches(&p("linux", "arm64", None), "linux/amd64"));
        assert!(platform_matches(
            &p("linux", "arm64", None),
            "linux/arm64/v8"
        ));
        assert!(platform_matches(
            &p("linux", "arm64", Some("v8")),
            "linux/arm64"
        ));
        assert!(platform_matches(
            &p("linux", "arm", Some("v7")),
            "linux/arm/v7"
        ));
        assert!(!platform_matches(
            &p("linux", "arm", Some("v6")),
            "linux/arm/v7"
        ));
        assert!(!platform_matches(
            &p("windows", "amd64", None),
            "linux/amd64"
        ));
        assert!(host_platform().starts_with("linux/"));
    }

    #[test]
    fn registry_error_bodies() {
        assert_eq!(
            registry_error_code(br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]}"#)
                .as_deref(),
            Some("MANIFEST_UNKNOWN")
        );
        assert_eq!(registry_error_code(b"<html>"), None);
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
        assert_eq!(host_of("https://auth.io:443/token?x"), "auth.io:443");
    }
}
