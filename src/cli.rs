//! The command line, shared by the native CLI (src/bin/rootless-check.rs)
//! and the Node CLI (pkg-template/node/cli.cjs, through src/wasm.rs): the
//! usage text, option parsing, and what is said and returned after the
//! report. No I/O here: the callers read files and print.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::analysis::budget::MaxDecompressed;
use crate::analysis::error::{Error, ErrorCode};
use crate::analysis::policy::{Ignore, DEFAULT_FAIL_ON};
use crate::analysis::report::Report;
use crate::analysis::rules::Severity;

pub const USAGE: &str = "\
Usage: rootless-check [OPTIONS] SOURCE
       rootless-check --run 'DOCKER RUN OPTIONS' [SOURCE]
       rootless-check --compose FILE [SOURCE...]
       rootless-check --k8s FILE [SOURCE...]

Reads a container image and says whether it is truly rootless: root,
pseudo-rootless or rootless, with the evidence and the fix.

SOURCE is one of:
  FILE, -                  an image archive (docker save, podman save, an OCI
                           archive from skopeo/buildah/buildx, gzip- or
                           zstd-compressed or not, a flattened docker export);
                           '-' reads standard input: docker save IMAGE | rootless-check -
  docker-archive:FILE, oci-archive:FILE   the same, named explicitly
  oci:DIR[:REF]            an OCI image layout directory (REF: its ref name)
  docker://REF             an image in a registry: docker://ghcr.io/org/app:1
  docker-daemon:REF        an image in the Docker or Podman daemon (DOCKER_HOST)
  REF                      a registry reference (alpine, ghcr.io/org/app:1,
                           name@sha256:...), normalised as docker does, when no
                           such file exists and it does not look like a path
                           (starting with / ./ ../ ~ or ending in .tar, .tar.gz,
                           .tgz, .tar.zst)

Options:
  -f, --format FORMAT      text (default), json, sarif, markdown (job summaries,
                           pull-request comments), junit (CI test reports:
                           one testcase per rule and image, failed at or
                           above --fail-on), badge (an SVG badge) or shields
                           (a shields.io endpoint JSON)
      --fail-on SEVERITY   exit 1 when a finding is at or above SEVERITY:
                           critical, high (default), medium, low, info, or none
      --ignore RULE[:GLOB] accept findings of RULE (at paths matching GLOB:
                           * within a path component, ** across, ? one char);
                           repeatable
      --ignore-file FILE   read ignores from FILE, one per line, # comments
                           (default: .rootless-check-ignore when it exists)
      --verify             check every layer, config and manifest digest against
                           the manifests (reads the whole archive); a mismatch
                           means the archive was altered: exit 2
      --max-decompressed SIZE|none
                           stop decompressing (gzip, zstd) after SIZE bytes in
                           all: E_LIMIT, a partial report, exit 2. SIZE is bytes
                           or a number with K, M, G, T (powers of 1024); none
                           lifts it. Default: the larger of 2G and 100 times
                           the archive's size
      --no-color           no colours (also when NO_COLOR is set or not a terminal)

How it will run (each container or service held against its image: the
uid, whether it starts, is refused or fails, with the runtime's words, the
run's verdict, Pod Security Standards, fixes):
      --run 'OPTIONS'      docker/podman run options: -u/--user, --privileged,
                           --cap-add, --cap-drop, --security-opt
                           no-new-privileges[=true|:true], --read-only,
                           --userns, --group-add, --entrypoint (others are
                           ignored with a warning); an image named after
                           them is the run's image
      --compose FILE       a compose file's services (interpolated from the
                           environment and the .env beside it)
      --k8s FILE           Kubernetes manifests (Pod, Deployment, StatefulSet,
                           DaemonSet, ReplicaSet, Job, CronJob, List)
                           A container or service is paired with the SOURCE
                           whose tag matches its image (docker.io/ and
                           :latest implied); with one SOURCE and one image
                           named, they are paired whatever the tag; an
                           unpaired one is pulled by reference, or reported
                           not checked with the reason

Registries (docker://, a bare REF):
      --platform OS/ARCH[/VARIANT]  the image to pick from an index (default:
                           linux and this machine's architecture, as docker
                           pull does); also filters an OCI layout's images
      --all-platforms      report every image of an index
      --creds USER[:PASSWORD]  credentials (default: --authfile, then
                           REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
                           ~/.config/containers/auth.json, ~/.docker/config.json
                           with its credential helpers, as podman and skopeo)
      --authfile FILE      the only auth file to read (containers-auth.json)
      --tls-verify=false   allow plain HTTP and unverified TLS (skopeo's flag)
      --max-concurrent-downloads N  layers downloaded at once (default 3)
  -h, --help               this help
  -V, --version            the version

Exit status: 0 nothing at or above --fail-on; 1 something is; 2 the input is
unreadable or cannot be fetched (E_AUTH, E_NOT_FOUND, E_NETWORK, E_REGISTRY),
the report is partial, a digest does not match, or the command line is wrong.";

/// Read when `--ignore-file` is not given, if it exists.
pub const DEFAULT_IGNORE_FILE: &str = ".rootless-check-ignore";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
    Junit,
    Badge,
    Shields,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Badge => "badge",
            Format::Shields => "shields",
        }
    }

    pub const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Markdown,
        Format::Junit,
        Format::Badge,
        Format::Shields,
    ];

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// The report in `format`; `fail_on` decides JUnit's failures. Colour only
/// for text.
pub fn render(report: &Report, format: Format, fail_on: Option<Severity>, color: bool) -> String {
    use crate::render;
    match format {
        Format::Text => render::text::render(report, render::text::TextOptions { color }),
        Format::Json => render::json::render(report),
        Format::Sarif => render::sarif::render(report),
        Format::Markdown => render::markdown::render(report),
        Format::Junit => render::junit::render(report, fail_on),
        Format::Badge => render::badge::svg(report),
        Format::Shields => render::badge::shields(report),
    }
}

/// What the command line asks for.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per run of the CLI
pub enum Command {
    Help,
    Version,
    Analyze(Options),
}

#[derive(Debug)]
pub struct Options {
    pub format: Format,
    /// Index of the archive's name among the arguments (`-`: standard input),
    /// so that a caller can use the original, possibly non-UTF-8, name.
    pub file: usize,
    pub fail_on: Option<Severity>,
    /// The `--ignore` values as given, and parsed.
    pub ignore_specs: Vec<String>,
    pub ignores: Vec<Ignore>,
    pub ignore_file: Option<String>,
    pub verify: bool,
    /// `--max-decompressed`.
    pub max_decompressed: MaxDecompressed,
    /// `--no-color`; the caller also turns colour off for NO_COLOR and non-terminals.
    pub no_color: bool,
    /// `--platform OS/ARCH[/VARIANT]`.
    pub platform: Option<String>,
    pub all_platforms: bool,
    /// `--creds USER[:PASSWORD]`. A secret: never shown.
    pub creds: Option<String>,
    pub authfile: Option<String>,
    /// `--tls-verify` (default true).
    pub tls_verify: bool,
    /// `--max-concurrent-downloads`.
    pub concurrency: usize,
    /// Indexes of every source among the arguments (several with a spec).
    pub sources: Vec<usize>,
    /// `--run 'OPTIONS'`, `--compose FILE`, `--k8s FILE`.
    pub run: Option<String>,
    pub compose: Option<String>,
    pub k8s: Option<String>,
}

impl Options {
    /// A spec (how the image will run) was given.
    pub fn has_spec(&self) -> bool {
        self.run.is_some() || self.compose.is_some() || self.k8s.is_some()
    }
}

/// Parse the arguments (without the program name). The error is the message
/// to show with the usage text.
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, String> {
    let mut options = Options {
        format: Format::Text,
        file: usize::MAX,
        fail_on: Some(DEFAULT_FAIL_ON),
        ignore_specs: Vec::new(),
        ignores: Vec::new(),
        ignore_file: None,
        verify: false,
        max_decompressed: MaxDecompressed::Auto,
        no_color: false,
        platform: None,
        all_platforms: false,
        creds: None,
        authfile: None,
        tls_verify: true,
        concurrency: 3,
        sources: Vec::new(),
        run: None,
        compose: None,
        k8s: None,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline {
                return Ok(String::from(v));
            }
            i += 1;
            args.get(i)
                .map(|v| String::from(v.as_ref()))
                .ok_or_else(|| format!("{} needs a value", name))
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-f" | "--format" => {
                let v = value("--format")?;
                options.format = Format::parse(&v).ok_or_else(|| {
                    format!(
                        "unknown format {:?}: use text, json, sarif, markdown, junit, badge or shields",
                        v
                    )
                })?
            }
            "--fail-on" => options.fail_on = parse_fail_on(&value("--fail-on")?)?,
            "--ignore" => {
                let spec = value("--ignore")?;
                options
                    .ignores
                    .push(Ignore::parse(&spec).map_err(|e| e.message)?);
                options.ignore_specs.push(spec);
            }
            "--ignore-file" => options.ignore_file = Some(value("--ignore-file")?),
            "--no-color" => options.no_color = true,
            "--verify" => options.verify = true,
            "--platform" => options.platform = Some(parse_platform(&value("--platform")?)?),
            "--all-platforms" => options.all_platforms = true,
            "--creds" => options.creds = Some(value("--creds")?),
            "--authfile" => options.authfile = Some(value("--authfile")?),
            // A boolean flag: only `--tls-verify=VALUE` takes a value (as in skopeo).
            "--tls-verify" => {
                options.tls_verify = match inline {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(v) => {
                        return Err(format!("--tls-verify takes true or false, not {:?}", v))
                    }
                }
            }
            "--max-concurrent-downloads" => {
                let v = value("--max-concurrent-downloads")?;
                options.concurrency = match v.parse::<usize>() {
                    Ok(n) if (1..=64).contains(&n) => n,
                    _ => {
                        return Err(format!(
                            "--max-concurrent-downloads takes 1 to 64, not {:?}",
                            v
                        ))
                    }
                }
            }
            "--max-decompressed" => {
                options.max_decompressed = MaxDecompressed::parse(&value("--max-decompressed")?)?
            }
            "--run" => options.run = Some(value("--run")?),
            "--compose" => options.compose = Some(value("--compose")?),
            "--k8s" => options.k8s = Some(value("--k8s")?),
            "-" => options.sources.push(i),
            f if f.starts_with('-') => return Err(format!("unknown option {:?}", f)),
            _ => options.sources.push(i),
        }
        i += 1;
    }
    let specs = usize::from(options.compose.is_some()) + usize::from(options.k8s.is_some());
    if specs > 0 && options.run.is_some() || specs > 1 {
        return Err(String::from("give one of --run, --compose and --k8s"));
    }
    match (options.sources.len(), options.has_spec()) {
        (0, false) => return Err(String::from("no source given")),
        (n, false) if n > 1 => return Err(String::from("give one source")),
        (n, true) if n > 1 && options.run.is_some() => {
            return Err(String::from("--run takes one source"))
        }
        _ => {}
    }
    options.file = options.sources.first().copied().unwrap_or(usize::MAX);
    Ok(Command::Analyze(options))
}

/// `OS/ARCH[/VARIANT]`, each part a lower-case word.
fn parse_platform(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let word = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(word) {
        return Err(format!(
            "--platform takes OS/ARCH[/VARIANT] (linux/amd64, linux/arm64/v8), not {:?}",
            text
        ));
    }
    Ok(String::from(text))
}

/// `--fail-on`'s value: a severity, or `none`.
pub fn parse_fail_on(text: &str) -> Result<Option<Severity>, String> {
    if text == "none" {
        return Ok(None);
    }
    Severity::parse(text)
        .map(Some)
        .ok_or_else(|| format!("unknown severity {:?}", text))
}

/// After the report: the exit status (2 partial or altered, 1 a finding at
/// or above `fail_on`, else 0) and the lines to print on stderr (each after
/// `rootless-check: `).
pub fn outcome(report: &Report, fail_on: Option<Severity>) -> (u8, Vec<String>) {
    if report.partial {
        let mut lines: Vec<String> = report.errors.iter().map(|e| format!("{}", e)).collect();
        lines.push(String::from(
            "the report is partial: part of the archive could not be read",
        ));
        return (2, lines);
    }
    let mismatches: Vec<String> = report
        .images
        .iter()
        .flat_map(|i| i.verification.iter().flat_map(|v| &v.mismatches))
        .map(|m| {
            let e = Error::new(
                ErrorCode::DigestMismatch,
                format!(
                    "{} has {} but {} was expected: the archive was altered after it was written",
                    m.what, m.actual, m.expected
                ),
            )
            .with_entry(m.member.clone());
            format!("{}", e)
        })
        .collect();
    if !mismatches.is_empty() {
        return (2, mismatches);
    }
    (
        u8::from(crate::analysis::policy::fails(report, fail_on)),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Analyze(o)) => o,
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn flags_values_and_the_file() {
        let o = options(&[
            "--format=json",
            "--fail-on",
            "none",
            "--ignore",
            "setuid-root",
            "x.tar",
        ]);
        assert_eq!(o.format, Format::Json);
        assert_eq!(o.fail_on, None);
        assert_eq!(o.ignore_specs, ["setuid-root"]);
        assert_eq!(o.file, 5);
        assert_eq!(options(&["-"]).file, 0);
        assert_eq!(
            options(&["-f", "sarif", "--verify", "--no-color", "a"]).format,
            Format::Sarif
        );
        assert!(matches!(parse(&["x", "--help"]), Ok(Command::Help)));
        for f in Format::ALL {
            assert_eq!(options(&["--format", f.as_str(), "a"]).format, f);
        }
        let o = options(&[
            "--platform=linux/arm64/v8",
            "--all-platforms",
            "--creds",
            "u:p",
            "--authfile",
            "a.json",
            "--tls-verify=false",
            "--max-concurrent-downloads",
            "5",
            "docker://x",
        ]);
        assert_eq!(o.platform.as_deref(), Some("linux/arm64/v8"));
        assert!(o.all_platforms && !o.tls_verify);
        assert_eq!(
            (o.creds.as_deref(), o.authfile.as_deref(), o.concurrency),
            (Some("u:p"), Some("a.json"), 5)
        );
        assert!(options(&["--tls-verify", "a"]).tls_verify);
        assert_eq!(options(&["a"]).max_decompressed, MaxDecompressed::Auto);
        assert_eq!(
            options(&["--max-decompressed", "64G", "a"]).max_decompressed,
            MaxDecompressed::Bytes(64 << 30)
        );
        assert_eq!(
            options(&["--max-decompressed=none", "a"]).max_decompressed,
            MaxDecompressed::Unlimited
        );
        assert!(matches!(parse(&["-V"]), Ok(Command::Version)));
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(err(&[]), "no source given");
        assert_eq!(err(&["a", "b"]), "give one source");
        assert!(err(&["--platform", "linux", "a"]).starts_with("--platform takes"));
        assert!(err(&["--tls-verify=no", "a"]).starts_with("--tls-verify takes"));
        assert!(err(&["--max-concurrent-downloads", "0", "a"])
            .starts_with("--max-concurrent-downloads"));
        assert_eq!(err(&["--format"]), "--format needs a value");
        assert_eq!(
            err(&["--format", "xml", "a"]),
            "unknown format \"xml\": use text, json, sarif, markdown, junit, badge or shields"
        );
        assert_eq!(
            err(&["--fail-on", "severe", "a"]),
            "unknown severity \"severe\""
        );
        assert_eq!(err(&["--bogus", "a"]), "unknown option \"--bogus\"");
        assert!(err(&["--max-decompressed", "lots", "a"]).starts_with("invalid size \"lots\""));
        assert_eq!(
            err(&["--max-decompressed"]),
            "--max-decompressed needs a value"
        );
        assert!(err(&["--ignore", "no-such-rule", "a"]).contains("no-such-rule"));
    }
}
