//! JavaScript bindings: every `#[wasm_bindgen]` item lives here, and only
//! here. The package's JS wrappers (pkg-template/) call these; they are not
//! the public JS API themselves.
//!
//! What only the Node package needs (the CLI's usage text and option
//! parsing, the text renderer, the exit status) is behind the `node`
//! feature: wasm-pack.toml builds the page's wasm without it, so that what a
//! browser downloads stays within its size budget.
//!
//! The report crosses as the JSON text of `render::json` (parsed in JS): the
//! same bytes as the native CLI's `--format json`, written by the small
//! `render::json_writer` (the wasm is built without the `serde` feature:
//! serde_json's serialiser is not in it). Not serde-wasm-bindgen: it would
//! also turn `None` into `undefined` where the JSON contract says `null`.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::analysis::budget::MaxDecompressed;
use crate::analysis::config::Descriptor;
#[cfg(feature = "node")]
use crate::analysis::config::Platform;
use crate::analysis::contents::{store_index, ArchiveContents};
#[cfg(feature = "node")]
use crate::analysis::contents::{DeferredLayer, Stored};
use crate::analysis::error::{Error, ErrorCode};
use crate::analysis::layer::{Compression, LayerBuilder, LayerSummary, PathKey};
use crate::analysis::policy::{self, Ignore};
use crate::analysis::report::Report;
use crate::analysis::report::SourceInfo;
#[cfg(feature = "node")]
use crate::analysis::rules::Severity;
use crate::archive::budget::Budget;
use crate::archive::gzip::GunzipSteps;
use crate::archive::input::{read_full, DynInput, Input};
use crate::archive::{read_archive_observed, scan_deferred_layer, walk_layer_from, ReadOptions};
use crate::render;

/// Block size when the caller gives none. Each JS read costs about a
/// millisecond in a browser worker (FileReaderSync): read big blocks.
const DEFAULT_BLOCK: usize = 8 << 20;
const MIN_BLOCK: usize = 64 << 10;
/// The first fetch, and the first after a long skip.
const FIRST_FETCH: usize = 64 << 10;
const MAX_BLOCK: usize = 256 << 20;

/// The archive member being read, shared between the reader (which sets
/// it) and the read callback (which reports it with each block).
type CurrentMember = Rc<RefCell<String>>;

/// Where the bytes come from. An enum, not a generic: each `Input` type
/// instantiates the whole archive reader again, which costs wasm size.
enum Source<'a> {
    /// `read(offset, length, layer, into)`, synchronous (fs.readSync,
    /// FileReaderSync): either fills `into` (a view of this wasm's memory,
    /// `length` bytes) and returns the count, or returns a Uint8Array. It may
    /// give fewer bytes than asked; none means the end. `layer` is the archive
    /// member being read, or undefined.
    Callback(&'a Function, CurrentMember),
    /// The same `read`, whose answer may also be a Promise of it: the wasm
    /// waits for it (JSPI), so the walk can take bytes another worker makes.
    #[cfg(feature = "jspi")]
    Suspending(&'a Function, CurrentMember),
    /// A Uint8Array in JS memory: copied block by block, never as a whole.
    Bytes(&'a Uint8Array),
}

impl Source<'_> {
    /// Fill `out` from `offset`, returning the count (0 = end), or `None`
    /// when the callback returned -1: it has no bytes there yet (only a
    /// [`LayerScan`] accepts that). A JS exception is passed back as it is.
    fn fetch(&mut self, offset: u64, out: &mut [u8]) -> Result<Option<usize>, JsValue> {
        let (read, member, suspending) = match self {
            Source::Callback(read, member) => (*read, &*member, false),
            #[cfg(feature = "jspi")]
            Source::Suspending(read, member) => (*read, &*member, true),
            Source::Bytes(all) => {
                let len = all.length() as u64;
                let start = offset.min(len);
                let end = (offset + out.len() as u64).min(len);
                return Ok(Some(copy_out(&all.subarray(start as u32, end as u32), out)));
            }
        };
        let layer = match member.borrow().as_str() {
            "" => JsValue::UNDEFINED,
            name => JsValue::from_str(name),
        };
        // Reading straight into wasm memory saves a copy and a JS
        // allocation per block.
        let into = memory_view(out);
        let (at, length) = (
            JsValue::from_f64(offset as f64),
            JsValue::from_f64(out.len() as f64),
        );
        let got = if suspending {
            suspend_on(read, &at, &length, &layer, &into)?
        } else {
            read.call4(&JsValue::NULL, &at, &length, &layer, &into)?
        };
        // A wrong answer is a bug in the caller's callback: E_USAGE.
        let misuse = |message: &str| usage_error(&Error::new(ErrorCode::Usage, message));
        if let Some(n) = got.as_f64() {
            if n == -1.0 {
                return Ok(None);
            }
            if !(n >= 0.0 && n <= out.len() as f64 && n.fract() == 0.0) {
                return Err(misuse(
                    "the read callback returned a count outside 0..=length",
                ));
            }
            return Ok(Some(n as usize));
        }
        let bytes = got
            .dyn_into::<Uint8Array>()
            .map_err(|_| misuse("the read callback must return a byte count or a Uint8Array"))?;
        if bytes.length() as usize > out.len() {
            return Err(misuse("the read callback returned more bytes than asked"));
        }
        Ok(Some(copy_out(&bytes, out)))
    }
}

/// Copy what fits of `bytes` into `out`; returns the count.
fn copy_out(bytes: &Uint8Array, out: &mut [u8]) -> usize {
    let n = (bytes.length() as usize).min(out.len());
    bytes.subarray(0, n as u32).copy_to(&mut out[..n]);
    n
}

#[cfg(feature = "jspi")]
use jspi::suspend_on;

#[cfg(not(feature = "jspi"))]
fn suspend_on(
    _: &Function,
    _: &JsValue,
    _: &JsValue,
    _: &JsValue,
    _: &Uint8Array,
) -> Result<JsValue, JsValue> {
    unreachable!("only a Source::Suspending suspends")
}

/// A Uint8Array over `bytes` in this wasm's memory, valid until the memory
/// grows (which detaches its buffer): made anew for each call that uses it.
fn memory_view(bytes: &[u8]) -> Uint8Array {
    let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
    Uint8Array::new_with_byte_offset_and_length(
        &memory.buffer(),
        bytes.as_ptr() as usize as u32,
        bytes.len() as u32,
    )
}

/// A block cache of `block_size` bytes, within the bounds.
fn block_buffer(block_size: usize) -> Vec<u8> {
    vec![0u8; block_size.clamp(MIN_BLOCK, MAX_BLOCK)]
}

/// An [`Input`] over a [`Source`] with one large block cached. With a known
/// size, skipping only moves the offset (entry contents are never read);
/// without one (a pipe) it reads through.
struct BlockInput<'a> {
    source: Source<'a>,
    size: Option<u64>,
    block: Vec<u8>,
    block_start: u64,
    block_len: usize,
    position: u64,
    /// Bytes asked by the next fetch: small after a long skip, doubling
    /// while reading goes on near where the last block ended.
    fetch_len: usize,
    /// The first JS exception: rethrown instead of the report, since the
    /// reader would otherwise turn it into a partial report.
    failure: Option<JsValue>,
    /// The callback said it has no bytes yet (see [`LayerScan`]): every
    /// read fails from then on, and the walk starts again later.
    suspended: bool,
}

impl<'a> BlockInput<'a> {
    fn new(source: Source<'a>, size: Option<u64>, block_size: usize) -> Self {
        Self::with_block(source, size, block_buffer(block_size))
    }

    /// Cache blocks in `block` (a buffer kept from an earlier input).
    fn with_block(source: Source<'a>, size: Option<u64>, block: Vec<u8>) -> Self {
        BlockInput {
            source,
            size,
            block,
            block_start: 0,
            block_len: 0,
            position: 0,
            fetch_len: FIRST_FETCH,
            failure: None,
            suspended: false,
        }
    }

    /// Start reading at `offset` (a member of a seekable source).
    fn starting_at(mut self, offset: u64) -> Self {
        self.position = offset;
        self
    }

    /// A JS exception (an abort, an fs error) wins over what the reader made
    /// of it; so does a -1 from a callback that may not return it.
    fn rethrow(&mut self) -> Result<(), JsValue> {
        if let Some(failure) = self.failure.take() {
            return Err(failure);
        }
        if self.suspended {
            return Err(cannot_wait());
        }
        Ok(())
    }

    /// Bytes cached from `position` on, fetching a block if there are none; 0 at the end.
    fn available(&mut self) -> io::Result<usize> {
        if self.failure.is_some() || self.suspended {
            return Err(io::Error::other("the read callback failed"));
        }
        let end = self.block_start + self.block_len as u64;
        if self.position >= self.block_start && self.position < end {
            return Ok((end - self.position) as usize);
        }
        // After skipping far (past a big file, to the next layer member) the
        // next bytes needed are often few: a header, the start of a member.
        // Reading a whole block there would read what the skip saved.
        let gap = self.position.checked_sub(end).unwrap_or(u64::MAX);
        self.fetch_len = if self.size.is_some() && gap > self.block.len() as u64 {
            FIRST_FETCH
        } else {
            (self.fetch_len * 2).min(self.block.len())
        };
        let mut want = self.fetch_len.min(self.block.len());
        if let Some(size) = self.size {
            want = want.min(size.saturating_sub(self.position) as usize);
            if want == 0 {
                return Ok(0);
            }
        }
        match self.source.fetch(self.position, &mut self.block[..want]) {
            Ok(Some(n)) => {
                self.block_start = self.position;
                self.block_len = n;
                Ok(n)
            }
            Ok(None) => {
                self.suspended = true;
                Err(io::Error::other("the read callback failed"))
            }
            Err(e) => {
                self.failure = Some(e);
                Err(io::Error::other("the read callback failed"))
            }
        }
    }
}

/// A -1 ("no bytes yet") from a read callback where reads cannot wait:
/// anywhere but in a `LayerScan` of an uncompressed or gzip layer.
fn cannot_wait() -> JsValue {
    usage_error(&Error::new(
        ErrorCode::Usage,
        "the read callback returned -1 (no bytes yet) where reads cannot wait",
    ))
}

impl Input for BlockInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.available()?.min(buf.len());
        if n == 0 {
            // At the end; the cached block may lie far behind a skip.
            return Ok(0);
        }
        let at = (self.position - self.block_start) as usize;
        buf[..n].copy_from_slice(&self.block[at..at + n]);
        self.position += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        if let Some(size) = self.size {
            let target = self.position.saturating_add(n).min(size.max(self.position));
            let skipped = target - self.position;
            self.position = target;
            return Ok(skipped);
        }
        let mut skipped = 0;
        while skipped < n {
            let k = (self.available()? as u64).min(n - skipped);
            if k == 0 {
                break;
            }
            self.position += k;
            skipped += k;
        }
        Ok(skipped)
    }

    fn position(&self) -> u64 {
        self.position
    }

    fn total_len(&self) -> Option<u64> {
        self.size
    }
}

/// A Rust [`Error`] as a JS `Error` with `code` (the stable code string),
/// and `entry`/`offset` when known. Its message is the native CLI's line
/// without the code (context included, control characters escaped), so
/// `code + ": " + message` is what the native CLI prints.
fn js_error(e: &Error) -> JsValue {
    let line = format!("{}", e);
    let prefix = format!("{}: ", e.code);
    coded_error(e, line.strip_prefix(&prefix).unwrap_or(&line))
}

/// A command-line mistake: the plain message, as the native CLI shows it.
fn usage_error(e: &Error) -> JsValue {
    coded_error(e, &e.message)
}

fn coded_error(e: &Error, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    set(&err, "code", &JsValue::from_str(e.code.as_str()));
    if let Some(entry) = &e.entry {
        set(&err, "entry", &JsValue::from_str(entry));
    }
    if let Some(offset) = e.offset {
        set(&err, "offset", &JsValue::from_f64(offset as f64));
    }
    err.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// The result of one analysis, kept in wasm memory so that the caller can
/// apply ignores and render it in any format (the CLI does all three).
/// Free it with `free()`.
#[wasm_bindgen]
pub struct Analysis {
    report: Report,
}

#[wasm_bindgen]
impl Analysis {
    /// The JSON report: the same bytes as the native CLI's `--format json`.
    pub fn json(&self) -> String {
        render::json::render(&self.report)
    }

    /// The text report (the Node CLI's; the page renders the JSON itself).
    #[cfg(feature = "node")]
    pub fn text(&self, color: bool) -> String {
        render::text::render(&self.report, render::text::TextOptions { color })
    }

    pub fn sarif(&self) -> String {
        render::sarif::render(&self.report)
    }

    /// The report in any of the CLI's formats (`text` without colour,
    /// `json`, `sarif`, `markdown`, `junit`, `badge`, `shields`), the same
    /// bytes as the native CLI's `--format FORMAT --fail-on FAIL_ON`
    /// (`failOn` only matters for junit). Node only: the page renders the
    /// JSON itself. Throws an `E_USAGE` error on an unknown name.
    #[cfg(feature = "node")]
    pub fn render(&self, format: &str, fail_on: &str) -> Result<String, JsValue> {
        let fail_on = parse_fail_on(fail_on)?;
        let format = crate::cli::Format::parse(format).ok_or_else(|| {
            usage_error(&Error::new(
                ErrorCode::Usage,
                format!("unknown format {:?}", format),
            ))
        })?;
        Ok(crate::cli::render(&self.report, format, fail_on, false))
    }

    /// The verdict of each image (`root`, `pseudo-rootless`, `rootless`,
    /// `unknown`), in the report's order.
    #[cfg(feature = "node")]
    pub fn verdicts(&self) -> Vec<String> {
        self.report
            .images
            .iter()
            .map(|i| String::from(i.verdict.as_str()))
            .collect()
    }

    /// What the native CLI prints on stderr after the report (without the
    /// `rootless-check: ` prefix), for `failOn` (a severity name or "none").
    #[cfg(feature = "node")]
    #[wasm_bindgen(js_name = exitLines)]
    pub fn exit_lines(&self, fail_on: &str) -> Result<Vec<String>, JsValue> {
        Ok(self.exit(fail_on)?.1)
    }

    /// The native CLI's exit status: 2 partial or altered (`verify`), 1 a
    /// finding at or above `failOn`, else 0.
    #[cfg(feature = "node")]
    #[wasm_bindgen(js_name = exitStatus)]
    pub fn exit_status(&self, fail_on: &str) -> Result<u8, JsValue> {
        Ok(self.exit(fail_on)?.0)
    }

    /// Suppress findings: `specs` are `RULE[:GLOB]`, `ignoreFile` the text of
    /// an ignore file. Throws an `E_USAGE` error on a bad one.
    #[wasm_bindgen(js_name = applyIgnores)]
    pub fn apply_ignores(
        &mut self,
        specs: Vec<String>,
        ignore_file: Option<String>,
    ) -> Result<(), JsValue> {
        let ignores = parse_ignores(&specs, ignore_file.as_deref()).map_err(|e| usage_error(&e))?;
        policy::apply_ignores(&mut self.report, &ignores);
        Ok(())
    }
}

#[cfg(feature = "node")]
#[wasm_bindgen]
impl Analysis {
    /// Where an image read as an archive stream came from (the Node
    /// package's `docker-daemon:`): the report's `input.source`.
    #[wasm_bindgen(js_name = setSource)]
    #[allow(clippy::too_many_arguments)]
    pub fn set_source(
        &mut self,
        kind: String,
        reference: String,
        resolved: String,
        registry: Option<String>,
        repository: Option<String>,
        tag: Option<String>,
        digest: Option<String>,
        platforms: Vec<String>,
    ) {
        self.report.input.source = Some(SourceInfo {
            kind,
            reference,
            resolved,
            registry,
            repository,
            tag,
            digest,
            platforms,
        });
    }
}

#[cfg(feature = "node")]
impl Analysis {
    /// What the CLIs say and return after the report (`cli::outcome`).
    fn exit(&self, fail_on: &str) -> Result<(u8, Vec<String>), JsValue> {
        let fail_on = parse_fail_on(fail_on)?;
        Ok(crate::cli::outcome(&self.report, fail_on))
    }
}

/// Several sources in one report (the CLIs' `--compose FILE A B`, the page's
/// archives dropped with a spec).
#[cfg(any(feature = "node", feature = "specs"))]
#[wasm_bindgen]
impl Analysis {
    /// Add `next`'s images, errors and warnings to this report, as the
    /// native CLI merges its sources (`given`: how `next` was named). `next`
    /// is consumed.
    pub fn merge(&mut self, next: Analysis, given: &str) {
        self.report.merge(next.report, given);
    }
}

/// Run specs (the `specs` feature): how containers will run, read by
/// [`read_specs`] and held against an [`Analysis`] by `holdSpecs`. An image
/// a spec names that no source holds is pulled by the caller (in JS, which
/// has the registry client and is asynchronous): `wanted` says which,
/// `fetched`/`failed` hand back what came of each, before `holdSpecs`.
#[cfg(feature = "specs")]
#[wasm_bindgen]
pub struct Specs {
    specs: crate::analysis::spec::Specs,
    /// Images pulled for a name, or why they could not be.
    pulled: Vec<(
        String,
        Result<Vec<crate::analysis::report::ImageReport>, String>,
    )>,
}

#[cfg(feature = "specs")]
#[wasm_bindgen]
impl Specs {
    /// The images the specs name, each once, in order (what the native CLI
    /// pulls when no source is given).
    pub fn images(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.specs.runs.iter().filter_map(|s| s.image.as_ref()) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The names `holdSpecs` would still need pulled against `analysis`,
    /// given what was handed in so far: pairing the runs on a copy of the
    /// report.
    pub fn wanted(&self, analysis: &Analysis) -> Vec<String> {
        let mut report = analysis.report.clone();
        let mut wanted: Vec<String> = Vec::new();
        crate::analysis::runs::hold(&mut report, &self.specs.runs, &mut |name| {
            self.pull(name).unwrap_or_else(|| {
                wanted.push(String::from(name));
                Err(String::new())
            })
        });
        wanted
    }

    /// The images pulled for `name` (consumed).
    pub fn fetched(&mut self, name: &str, images: Analysis) {
        self.pulled
            .push((String::from(name), Ok(images.report.images)));
    }

    /// Why `name` could not be pulled: the message of its runs.
    pub fn failed(&mut self, name: &str, message: &str) {
        self.pulled
            .push((String::from(name), Err(String::from(message))));
    }
}

#[cfg(feature = "specs")]
impl Specs {
    fn pull(
        &self,
        name: &str,
    ) -> Option<Result<Vec<crate::analysis::report::ImageReport>, String>> {
        self.pulled
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
    }
}

/// Read a spec as the native CLI does: `kind` is `run` (docker/podman run
/// options), `compose` or `k8s`; `file` names the file in messages and in
/// the report; `env` (an object of strings, e.g. process.env) and `dotenv`
/// (the text of a `.env` file) interpolate a compose file, the environment
/// first. Throws an `E_BAD_SPEC` error (with `file`, `line`, `column` when
/// known) on a spec that does not read, `E_USAGE` on an unknown kind.
#[cfg(feature = "specs")]
#[wasm_bindgen(js_name = readSpecs)]
pub fn read_specs(
    kind: &str,
    text: &str,
    file: Option<String>,
    env: &JsValue,
    dotenv: Option<String>,
) -> Result<Specs, JsValue> {
    use crate::analysis::spec::{compose, docker_run, k8s, SpecError};
    let bad = |e: SpecError| {
        let err = js_error(&Error::new(ErrorCode::BadSpec, e.to_string()));
        let text = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from_str);
        let number = |v: Option<u32>| v.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64));
        set(&err, "file", &text(e.file.as_deref()));
        set(&err, "line", &number(e.line));
        set(&err, "column", &number(e.column));
        err
    };
    let specs = match kind {
        "run" => docker_run::parse(text).map_err(|message| {
            bad(SpecError {
                file: None,
                line: None,
                column: None,
                message: format!("--run: {}", message),
            })
        })?,
        "compose" => {
            // Only own string values: not what an object inherits.
            let lookup = |key: &str| {
                if !env.is_object()
                    || !js_sys::Object::has_own(
                        env.unchecked_ref::<js_sys::Object>(),
                        &JsValue::from_str(key),
                    )
                {
                    return None;
                }
                Reflect::get(env, &JsValue::from_str(key)).ok()?.as_string()
            };
            let env = compose::Env {
                lookup: &lookup,
                dotenv: dotenv
                    .as_deref()
                    .map(compose::parse_dotenv)
                    .unwrap_or_default(),
            };
            compose::parse(text, file.as_deref(), &env).map_err(bad)?
        }
        "k8s" => k8s::parse(text, file.as_deref()).map_err(bad)?,
        other => {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                format!("unknown spec kind {:?} (run, compose, k8s)", other),
            )))
        }
    };
    Ok(Specs {
        specs,
        pulled: Vec::new(),
    })
}

#[cfg(feature = "specs")]
#[wasm_bindgen]
impl Analysis {
    /// Hold the runs of `specs` against this report's images (the report's
    /// `runs`, and the specs' warnings). An image named that no source holds
    /// takes what `specs.fetched`/`failed` say of it; one never handed in is
    /// not checked, with `missing` as the reason after its name.
    #[wasm_bindgen(js_name = holdSpecs)]
    pub fn hold_specs(&mut self, specs: &Specs, missing: &str) {
        self.report
            .warnings
            .extend(specs.specs.warnings.iter().cloned());
        crate::analysis::runs::hold(&mut self.report, &specs.specs.runs, &mut |name| {
            specs
                .pull(name)
                .unwrap_or_else(|| Err(format!("{}: {}", name, missing)))
        });
    }
}

fn parse_ignores(specs: &[String], ignore_file: Option<&str>) -> Result<Vec<Ignore>, Error> {
    let mut ignores = specs
        .iter()
        .map(|s| Ignore::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(text) = ignore_file {
        ignores.extend(policy::parse_ignore_file(text)?);
    }
    Ok(ignores)
}

#[cfg(feature = "node")]
fn parse_fail_on(text: &str) -> Result<Option<Severity>, JsValue> {
    crate::cli::parse_fail_on(text)
        .map_err(|message| usage_error(&Error::new(ErrorCode::Usage, message)))
}

/// The command line's usage text (the native CLI's `--help`).
#[cfg(feature = "node")]
#[wasm_bindgen]
pub fn usage() -> String {
    String::from(crate::cli::USAGE)
}

/// Parse the CLI's arguments (without node and the script) as the native
/// CLI does: `{ command: "help" | "version" | "analyze", format, file,
/// failOn, ignores, ignoreFile, verify, maxDecompressed, noColor, platform,
/// allPlatforms, creds, authfile, tlsVerify, concurrency, sources, run,
/// compose, k8s }` (`file`: the first of `sources`, undefined without one)
/// (`maxDecompressed`: bytes, 'none', or undefined for the default). Throws an `E_USAGE`
/// error whose message is what the CLI shows above the usage text.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = parseArgs)]
pub fn parse_args(argv: Vec<String>) -> Result<js_sys::Object, JsValue> {
    use crate::cli::Command;
    let command = crate::cli::parse(&argv)
        .map_err(|message| usage_error(&Error::new(ErrorCode::Usage, message)))?;
    let out = js_sys::Object::new();
    let options = match command {
        Command::Help => {
            set(&out, "command", &JsValue::from_str("help"));
            return Ok(out);
        }
        Command::Version => {
            set(&out, "command", &JsValue::from_str("version"));
            return Ok(out);
        }
        Command::Analyze(options) => options,
    };
    set(&out, "command", &JsValue::from_str("analyze"));
    set(&out, "format", &JsValue::from_str(options.format.as_str()));
    set(
        &out,
        "file",
        &argv
            .get(options.file)
            .map_or(JsValue::UNDEFINED, |f| JsValue::from_str(f)),
    );
    let fail_on = options.fail_on.map_or("none", |s| s.as_str());
    set(&out, "failOn", &JsValue::from_str(fail_on));
    let ignores: Array = options
        .ignore_specs
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect();
    set(&out, "ignores", &ignores);
    let ignore_file = options
        .ignore_file
        .as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str);
    set(&out, "ignoreFile", &ignore_file);
    set(&out, "verify", &JsValue::from_bool(options.verify));
    let max = match options.max_decompressed {
        MaxDecompressed::Auto => JsValue::UNDEFINED,
        MaxDecompressed::Unlimited => JsValue::from_str("none"),
        MaxDecompressed::Bytes(n) => JsValue::from_f64(n as f64),
    };
    set(&out, "maxDecompressed", &max);
    set(&out, "noColor", &JsValue::from_bool(options.no_color));
    let text = |v: &Option<String>| v.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
    set(&out, "platform", &text(&options.platform));
    set(
        &out,
        "allPlatforms",
        &JsValue::from_bool(options.all_platforms),
    );
    set(&out, "creds", &text(&options.creds));
    set(&out, "authfile", &text(&options.authfile));
    set(&out, "tlsVerify", &JsValue::from_bool(options.tls_verify));
    set(
        &out,
        "concurrency",
        &JsValue::from_f64(options.concurrency as f64),
    );
    // Every source (`file` is the first), and the run spec options.
    let sources: Array = options
        .sources
        .iter()
        .filter_map(|&i| argv.get(i))
        .map(|s| JsValue::from_str(s))
        .collect();
    set(&out, "sources", &sources);
    set(&out, "run", &text(&options.run));
    set(&out, "compose", &text(&options.compose));
    set(&out, "k8s", &text(&options.k8s));
    Ok(out)
}

/// An image reference parsed and normalised as docker does (the native
/// CLI's `src/analysis/reference.rs`): `{ registry, repository, tag,
/// digest, apiHost, name, normalized }` (`tag`, `digest`: null when
/// absent). Throws an `E_USAGE` error saying what is wrong.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = parseReference)]
pub fn parse_reference(text: &str) -> Result<js_sys::Object, JsValue> {
    let r = crate::analysis::reference::Reference::parse(text)
        .map_err(|message| usage_error(&Error::new(ErrorCode::Usage, message)))?;
    let out = js_sys::Object::new();
    let text = |v: &Option<String>| v.as_deref().map_or(JsValue::NULL, JsValue::from_str);
    set(&out, "registry", &JsValue::from_str(&r.registry));
    set(&out, "repository", &JsValue::from_str(&r.repository));
    set(&out, "tag", &text(&r.tag));
    set(&out, "digest", &text(&r.digest));
    set(&out, "apiHost", &JsValue::from_str(r.api_host()));
    set(&out, "name", &JsValue::from_str(&r.name()));
    set(&out, "normalized", &JsValue::from_str(&r.to_string()));
    Ok(out)
}

/// A manifest, index or manifest list decoded as the analysis decodes it
/// (Go's `encoding/json` rules), as JSON text: `{ schemaVersion,
/// mediaType, manifests, config, layers }`, each descriptor `{ digest,
/// mediaType, size, platform, annotations }` (absent fields null). Throws
/// `E_BAD_JSON` (with `entry` when given) as the native CLI says it.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = parseManifest)]
pub fn parse_manifest(bytes: &[u8], entry: Option<String>) -> Result<String, JsValue> {
    let doc = crate::analysis::config::parse_manifest_or_index(bytes).map_err(|e| {
        js_error(&match entry {
            Some(entry) => e.with_entry(entry),
            None => e,
        })
    })?;
    Ok(render::json_writer::to_string(&DocumentJson(&doc)))
}

#[cfg(feature = "node")]
struct DocumentJson<'a>(&'a crate::analysis::config::ManifestOrIndex);

#[cfg(feature = "node")]
struct DescriptorJson<'a>(&'a Descriptor);

#[cfg(feature = "node")]
impl render::json_writer::WriteJson for DescriptorJson<'_> {
    fn write_json(&self, w: &mut render::json_writer::JsonWriter) {
        let d = self.0;
        w.begin_object();
        w.field("digest", &d.digest);
        w.field("mediaType", &d.media_type);
        w.field("size", &d.size);
        w.key("platform");
        match &d.platform {
            Some(p) => {
                w.begin_object();
                w.field("os", &p.os);
                w.field("architecture", &p.architecture);
                w.field("variant", &p.variant);
                w.end_object();
            }
            None => w.null(),
        }
        w.key("annotations");
        match &d.annotations {
            Some(a) => {
                w.begin_object();
                for (k, v) in a {
                    w.field(k, v);
                }
                w.end_object();
            }
            None => w.null(),
        }
        w.end_object();
    }
}

#[cfg(feature = "node")]
impl render::json_writer::WriteJson for DocumentJson<'_> {
    fn write_json(&self, w: &mut render::json_writer::JsonWriter) {
        let list = |w: &mut render::json_writer::JsonWriter, v: &Option<Vec<Descriptor>>| match v {
            Some(v) => {
                w.begin_array();
                for d in v {
                    DescriptorJson(d).write_json(w);
                }
                w.end_array();
            }
            None => w.null(),
        };
        let doc = self.0;
        w.begin_object();
        w.field("schemaVersion", &doc.schema_version);
        w.field("mediaType", &doc.media_type);
        w.key("manifests");
        list(w, &doc.manifests);
        w.key("config");
        match &doc.config {
            Some(d) => DescriptorJson(d).write_json(w),
            None => w.null(),
        }
        w.key("layers");
        list(w, &doc.layers);
        w.end_object();
    }
}

/// Check an ignore spec or an ignore file's text without analysing anything
/// (the CLI rejects a bad command line first). Throws an `E_USAGE` error.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = checkIgnores)]
pub fn check_ignores(specs: Vec<String>, ignore_file: Option<String>) -> Result<(), JsValue> {
    parse_ignores(&specs, ignore_file.as_deref())
        .map(|_| ())
        .map_err(|e| usage_error(&e))
}

/// `gunzipped`: the size of the gzip file whose decoded bytes `input` gives
/// (see `analyzeCallback`).
fn run(
    mut input: BlockInput<'_>,
    verify: bool,
    gunzipped: Option<u64>,
    max_decompressed: MaxDecompressed,
) -> Result<Analysis, JsValue> {
    let options = ReadOptions {
        verify,
        max_decompressed,
        predecoded_gzip: gunzipped,
        ..options_with_path_key(random_path_key())
    };
    let contents = read_observed(&mut input, &options)?;
    let report = crate::analysis::analyze(&contents).map_err(|e| js_error(&e))?;
    Ok(Analysis { report })
}

/// `maxDecompressed` as the JS side gives it: absent for the default
/// budget, `Infinity` for none ('none' in the API), or a number of bytes.
fn checked_budget(max: Option<f64>) -> Result<MaxDecompressed, JsValue> {
    Ok(match max {
        None => MaxDecompressed::Auto,
        Some(f64::INFINITY) => MaxDecompressed::Unlimited,
        Some(n) => MaxDecompressed::Bytes(checked_size(n).map_err(|_| {
            usage_error(&Error::new(
                ErrorCode::Usage,
                "maxDecompressed must be a number of bytes or 'none'",
            ))
        })?),
    })
}

/// A budget in bytes for JS: `Infinity` for none.
fn budget_to_js(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::INFINITY, |b| b as f64)
}

/// Read the archive, keeping the callback told which member is being read.
fn read_observed(
    input: &mut BlockInput<'_>,
    options: &ReadOptions,
) -> Result<ArchiveContents, JsValue> {
    let member = match &input.source {
        Source::Callback(_, member) => Some(member.clone()),
        #[cfg(feature = "jspi")]
        Source::Suspending(_, member) => Some(member.clone()),
        Source::Bytes(_) => None,
    };
    let outcome = read_archive_observed(&mut *input, options, &mut |name| {
        if let Some(m) = &member {
            let mut m = m.borrow_mut();
            m.clear();
            m.push_str(name);
        }
    });
    input.rethrow()?;
    outcome.map_err(|e| js_error(&e))
}

fn checked_size(size: f64) -> Result<u64, JsValue> {
    if size >= 0.0 && size.fract() == 0.0 && size <= 9_007_199_254_740_991.0 {
        Ok(size as u64)
    } else {
        Err(usage_error(&Error::new(
            ErrorCode::Usage,
            "sizes and offsets must be non-negative integers",
        )))
    }
}

/// `blockSize`: absent for the default; a positive integer, raised to at
/// least 64 KiB (and at most 256 MiB).
fn checked_block(block_size: Option<f64>) -> Result<usize, JsValue> {
    match block_size {
        None => Ok(DEFAULT_BLOCK),
        Some(b) if b > 0.0 && b.fract() == 0.0 => Ok(b.min(MAX_BLOCK as f64) as usize),
        Some(_) => Err(usage_error(&Error::new(
            ErrorCode::Usage,
            "blockSize must be a positive integer",
        ))),
    }
}

/// An archive read once for its structure, its layers left to be summarised
/// elsewhere (in parallel workers, each with a `LayerScan`) and handed back
/// with `addLayer`; `finish()` then gives the analysis. Made by
/// `planCallback`; free it (or finish it).
#[wasm_bindgen]
pub struct Pending {
    contents: ArchiveContents,
    finished: bool,
    /// For an image gathered by the caller (`imagePlan`): the manifests it
    /// names, the image's name, and where it came from.
    images: Vec<Descriptor>,
    name: Option<String>,
    source: Option<SourceInfo>,
    /// The key its layers' plain files are hashed with: every `LayerScan`
    /// whose summary comes back here takes it (`pathKey()`).
    path_key: Option<PathKey>,
}

/// Plain files as hashes of their paths (layer/plain.rs): only in a build
/// with `compact-layers` (the Node package's, not the page's).
#[cfg(feature = "compact-layers")]
#[wasm_bindgen]
impl Pending {
    /// The key for the `LayerScan`s of this analysis (`setPathKey`): four
    /// 32-bit numbers. Their summaries then keep plain files as hashes of
    /// their paths, which takes a fraction of the memory.
    #[wasm_bindgen(js_name = pathKey)]
    pub fn path_key(&self) -> Vec<u32> {
        self.path_key
            .map(|key| {
                let [a, b] = key.words();
                vec![(a >> 32) as u32, a as u32, (b >> 32) as u32, b as u32]
            })
            .unwrap_or_default()
    }
}

#[cfg(feature = "compact-layers")]
#[wasm_bindgen]
impl LayerScan {
    /// Keep plain files as hashes of their paths, with `Pending.pathKey()`
    /// of the analysis the summary goes back to. Before the first `resume`.
    #[wasm_bindgen(js_name = setPathKey)]
    pub fn set_path_key(&mut self, key: Vec<u32>) -> Result<(), JsValue> {
        let path_key = match key[..] {
            [a, b, c, d] => PathKey::new([
                u64::from(a) << 32 | u64::from(b),
                u64::from(c) << 32 | u64::from(d),
            ]),
            _ => {
                return Err(usage_error(&Error::new(
                    ErrorCode::Usage,
                    "setPathKey: four 32-bit numbers, as Pending.pathKey() gives",
                )))
            }
        };
        let Some(builder) = self.builder.as_mut().filter(|_| self.compression.is_none()) else {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                "setPathKey: before the first resume",
            )));
        };
        *builder = LayerBuilder::new(options_with_path_key(path_key).layer_limits);
        self.path_key = path_key;
        builder.set_compression(Compression::None, self.size);
        Ok(())
    }
}

#[wasm_bindgen]
impl Pending {
    /// The layers still to summarise, in archive order, as
    /// `[name, offset, size, digest]` arrays (`digest`: for `LayerScan`).
    #[wasm_bindgen(js_name = deferredLayers)]
    pub fn deferred_layers(&self) -> Array {
        self.contents
            .deferred_layers
            .iter()
            .map(|d| {
                let item = Array::new();
                item.push(&JsValue::from_str(&d.name));
                item.push(&JsValue::from_f64(d.offset as f64));
                item.push(&JsValue::from_f64(d.size as f64));
                item.push(&JsValue::from_bool(self.contents.digest_layer(&d.name)));
                JsValue::from(item)
            })
            .collect()
    }

    /// What is left of the decompression budget (`Infinity`: no budget):
    /// the allowance of the next `LayerScan`. Layers summarised at once may
    /// together take more; `finish()` then reports the budget as spent.
    #[wasm_bindgen(js_name = budgetLeft)]
    pub fn budget_left(&self) -> f64 {
        let d = &self.contents.decompression;
        budget_to_js(d.limit.map(|limit| limit.saturating_sub(d.total)))
    }

    /// Hand back a layer's summary (the bytes `LayerScan.resume` gave at last).
    #[wasm_bindgen(js_name = addLayer)]
    pub fn add_layer(&mut self, name: &str, summary: &[u8]) -> Result<(), JsValue> {
        let summary = LayerSummary::decode(summary).ok_or_else(|| {
            usage_error(&Error::new(
                ErrorCode::Usage,
                "not a layer summary from LayerScan",
            ))
        })?;
        self.add_summary(name, summary)
    }

    /// Assemble the images, once. Throws `E_USAGE` while layers are still
    /// deferred (add them and call again) or when already finished. Free
    /// the `Pending` afterwards.
    pub fn finish(&mut self) -> Result<Analysis, JsValue> {
        if let Some(d) = self.contents.deferred_layers.first() {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                format!("layer {:?} was never added", d.name),
            )));
        }
        if self.finished {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                "finish() was already called",
            )));
        }
        self.finished = true;
        let mut contents = core::mem::take(&mut self.contents);
        if !self.images.is_empty() {
            store_index(&mut contents, &self.images, self.name.as_deref());
        }
        let mut report = crate::analysis::analyze(&contents).map_err(|e| js_error(&e))?;
        report.input.source = self.source.take();
        Ok(Analysis { report })
    }
}

impl Pending {
    /// `addLayer`'s work, from a summary already decoded (or never encoded:
    /// `LayerScan.resumeInto`).
    fn add_summary(&mut self, name: &str, summary: LayerSummary) -> Result<(), JsValue> {
        if !self.contents.deferred_layers.iter().any(|d| d.name == name) {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                format!("no deferred layer is named {:?}", name),
            )));
        }
        if summary.path_key().is_some() && summary.path_key() != self.path_key {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                "a layer summary from a LayerScan without this analysis's pathKey",
            )));
        }
        let d = &mut self.contents.decompression;
        d.total = d.total.saturating_add(summary.decompressed);
        self.contents.insert_layer(name, summary);
        Ok(())
    }
}

/// An image gathered by the caller: only Node does (the browser API takes
/// files, never references), so the page's wasm goes without.
#[cfg(feature = "node")]
#[wasm_bindgen]
impl Pending {
    /// `imagePlan`: a manifest, index or config the caller fetched, under
    /// its digest (checked by the caller).
    #[wasm_bindgen(js_name = addDocument)]
    pub fn add_document(&mut self, digest: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let path = member_of(digest)?;
        self.contents.store(&path, Stored::Json(bytes.to_vec()));
        Ok(())
    }

    /// `imagePlan`: an image to analyse, its manifest's digest and platform,
    /// and the annotations its index gives it (`[key, value, key, value…]`;
    /// a layout's `org.opencontainers.image.ref.name` names the image).
    #[wasm_bindgen(js_name = addImage)]
    pub fn add_image(
        &mut self,
        digest: &str,
        os: Option<String>,
        architecture: Option<String>,
        variant: Option<String>,
        annotations: Option<Vec<String>>,
    ) -> Result<(), JsValue> {
        member_of(digest)?;
        let platform = (os.is_some() || architecture.is_some()).then_some(Platform {
            os,
            architecture,
            variant,
        });
        // Inserted one by one: `collect` into a BTreeMap links a bulk
        // builder (about 4 KB of the browser's wasm); `insert` is linked anyway.
        let annotations = annotations.map(|pairs| {
            let mut map = alloc::collections::BTreeMap::new();
            let mut pairs = pairs.into_iter();
            while let (Some(k), Some(v)) = (pairs.next(), pairs.next()) {
                map.insert(k, v);
            }
            map
        });
        self.images.push(Descriptor {
            digest: String::from(digest),
            platform,
            annotations,
            ..Descriptor::default()
        });
        Ok(())
    }

    /// `imagePlan`: the decompression budget (`maxDecompressed` as
    /// `planCallback` takes it), sized from `stored`, the bytes the layers
    /// weigh as stored, as the native registry and layout readers size it.
    /// Without it the layers have no budget.
    #[wasm_bindgen(js_name = setBudget)]
    pub fn set_budget(
        &mut self,
        max_decompressed: Option<f64>,
        stored: f64,
    ) -> Result<(), JsValue> {
        let rule = checked_budget(max_decompressed)?;
        let input = checked_size(stored)?;
        let d = &mut self.contents.decompression;
        d.rule = rule;
        d.input = input;
        d.limit = rule.limit(input);
        Ok(())
    }

    /// `imagePlan`: a layer blob the caller will summarise (with a
    /// `LayerScan`) and hand back with `addLayer` under the name returned.
    #[wasm_bindgen(js_name = expectLayer)]
    pub fn expect_layer(&mut self, digest: &str) -> Result<String, JsValue> {
        let name = member_of(digest)?;
        if !self.contents.deferred_layers.iter().any(|d| d.name == name) {
            self.contents.store(&name, Stored::Deferred);
            self.contents.deferred_layers.push(DeferredLayer {
                name: name.clone(),
                offset: 0,
                size: 0,
            });
        }
        Ok(name)
    }

    /// `imagePlan`: where the image came from (the report's `input.source`),
    /// the name its images are tagged with, and the bytes read.
    #[wasm_bindgen(js_name = setSource)]
    #[allow(clippy::too_many_arguments)]
    pub fn set_source(
        &mut self,
        kind: String,
        reference: String,
        resolved: String,
        registry: Option<String>,
        repository: Option<String>,
        tag: Option<String>,
        digest: Option<String>,
        platforms: Vec<String>,
        name: Option<String>,
        bytes_read: f64,
    ) -> Result<(), JsValue> {
        self.contents.bytes_read = checked_size(bytes_read)?;
        self.name = name;
        self.source = Some(SourceInfo {
            kind,
            reference,
            resolved,
            registry,
            repository,
            tag,
            digest,
            platforms,
        });
        Ok(())
    }
}

#[cfg(feature = "node")]
fn member_of(digest: &str) -> Result<String, JsValue> {
    crate::analysis::config::blob_path(digest).ok_or_else(|| {
        usage_error(&Error::new(
            ErrorCode::Usage,
            "not a digest (algorithm:hex)",
        ))
    })
}

/// An image the caller gathers itself (a registry or an OCI layout read in
/// JS): its documents (`addDocument`), images (`addImage`) and layers
/// (`expectLayer`, then `addLayer`), then `setSource` and `finish`. The
/// analysis assembles it as it assembles an OCI archive.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = imagePlan)]
pub fn image_plan() -> Pending {
    Pending {
        contents: ArchiveContents::default(),
        finished: false,
        images: Vec::new(),
        name: None,
        source: None,
        path_key: random_path_key(),
    }
}

/// A key for the plain files' path hashes (layer/plain.rs), one per
/// analysis. The wasm has no random source of its own: four draws of
/// `Math.random`, whose state the engine seeds at random and which an
/// archive cannot observe.
fn random_path_key() -> Option<PathKey> {
    if !cfg!(feature = "compact-layers") {
        return None; // no keys in this build: no draws either
    }
    let draw = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    PathKey::new([draw() << 32 | draw(), draw() << 32 | draw()])
}

fn options_with_path_key(path_key: Option<PathKey>) -> ReadOptions {
    let mut options = ReadOptions::default();
    options.layer_limits.path_key = path_key;
    options
}

/// Read a seekable source of `size` bytes for its structure, leaving its
/// layers (when the archive is uncompressed) to `LayerScan`: see [`Pending`].
#[wasm_bindgen(js_name = planCallback)]
pub fn plan_callback(
    read: &Function,
    size: f64,
    block_size: Option<f64>,
    max_decompressed: Option<f64>,
) -> Result<Pending, JsValue> {
    let size = checked_size(size)?;
    let block = checked_block(block_size)?;
    let max_decompressed = checked_budget(max_decompressed)?;
    let source = Source::Callback(read, CurrentMember::default());
    let mut input = BlockInput::new(source, Some(size), block);
    let path_key = random_path_key();
    let options = ReadOptions {
        defer_layers: true,
        max_decompressed,
        ..options_with_path_key(path_key)
    };
    let contents = read_observed(&mut input, &options)?;
    Ok(Pending {
        contents,
        finished: false,
        images: Vec::new(),
        name: None,
        source: None,
        path_key,
    })
}

/// Summarises one deferred layer: the member `name` of `size` bytes at
/// `offset`, read through `read(offset, length, layer, into)` (as for
/// `analyzeCallback`). `resume(read)` walks the layer and returns the
/// summary's bytes (for `Pending.addLayer`) when it is done.
///
/// An uncompressed or gzip layer can also be walked in steps, for a reader
/// that cannot block (a browser worker reading a File through streams,
/// several times faster than FileReaderSync): when `read` returns -1 (no
/// bytes there yet), `resume` returns the offset from which it needs bytes
/// next; call it again once they are there. A zstd layer (see
/// `sniffCompression`) is walked in one go: its decompressor cannot wait,
/// and a -1 is an error (`E_USAGE`); so is a compressed layer to `digest`.
///
/// `allowance`: the bytes its decoder may give (`Pending.budgetLeft()`;
/// absent or `Infinity`: no limit). `digest`: digest a compressed layer's
/// uncompressed stream (`Pending.deferredLayers()` says which).
#[wasm_bindgen]
pub struct LayerScan {
    name: String,
    /// The member's offset in the source and its size.
    offset: u64,
    size: u64,
    /// Where the next step's walk starts over (in the layer's tar, from its
    /// start) and the bytes it skips first: see `TarWalker::resume_point`.
    from: (u64, u64),
    /// A gzip layer's decoder, between steps.
    gunzip: Option<GunzipSteps>,
    /// Known after a step has read the layer's first bytes.
    compression: Option<Compression>,
    /// `None` once the summary was given, or a read threw.
    builder: Option<LayerBuilder>,
    /// The read cache, kept from one step to the next.
    block: Vec<u8>,
    /// What its decoder may give; `None`: no limit.
    allowance: Option<u64>,
    digest: bool,
    /// `setPathKey`'s key.
    path_key: Option<PathKey>,
}

#[wasm_bindgen]
impl LayerScan {
    #[wasm_bindgen(constructor)]
    pub fn new(
        name: &str,
        offset: f64,
        size: f64,
        block_size: Option<f64>,
        allowance: Option<f64>,
        digest: Option<bool>,
    ) -> Result<LayerScan, JsValue> {
        let (offset, size) = (checked_size(offset)?, checked_size(size)?);
        let block = block_buffer(checked_block(block_size)?);
        let allowance = match checked_budget(allowance)? {
            MaxDecompressed::Bytes(n) => Some(n),
            _ => None,
        };
        let mut builder = LayerBuilder::new(ReadOptions::default().layer_limits);
        builder.set_compression(Compression::None, size);
        Ok(LayerScan {
            name: String::from(name),
            offset,
            size,
            from: (0, 0),
            gunzip: None,
            compression: None,
            builder: Some(builder),
            block,
            allowance,
            digest: digest.unwrap_or(false),
            path_key: None,
        })
    }

    /// Walk on; see [`LayerScan`]. Returns the offset in the source from
    /// which bytes are needed, or the summary's bytes (a Uint8Array).
    pub fn resume(&mut self, read: &Function) -> Result<JsValue, JsValue> {
        Ok(match self.step(read)? {
            Step::Need(offset) => JsValue::from_f64(offset),
            Step::Done(summary) => Uint8Array::from(&summary.encode()[..]).into(),
        })
    }
}

/// Where a `LayerScan` stopped: bytes needed from an offset, or done.
enum Step {
    Need(f64),
    Done(LayerSummary),
}

impl LayerScan {
    fn step(&mut self, read: &Function) -> Result<Step, JsValue> {
        let Some(builder) = self.builder.as_mut() else {
            return Err(usage_error(&Error::new(
                ErrorCode::Usage,
                "this layer scan is over",
            )));
        };
        let member = CurrentMember::new(RefCell::new(self.name.clone()));
        let end = self.offset.saturating_add(self.size);
        // This step reads on where the walk starts over in the layer, or, in
        // a gzip layer, where its decoder stopped taking bytes.
        let start = self.gunzip.as_ref().map_or(self.from.0, GunzipSteps::taken);
        let mut input = BlockInput::with_block(
            Source::Callback(read, member),
            Some(end),
            core::mem::take(&mut self.block),
        )
        .starting_at(self.offset + start);
        if self.compression.is_none() {
            // The first step: what the layer is, from its first bytes (which
            // stay in the cache for the walk).
            let mut head = [0u8; 8];
            let got = read_full(&mut input, &mut head).unwrap_or(0);
            input.position = self.offset;
            if !input.suspended {
                self.compression = Some(Compression::sniff(&head[..got]));
            }
        }
        // A zstd layer's summary (or a compressed one to digest): it is walked in one go.
        let mut scanned = None;
        let mut walked = None;
        match (self.compression, self.digest) {
            (None, _) => {} // no bytes yet
            (Some(Compression::None), _) => {
                if self.from == (0, 0) {
                    builder.reserve_for_tar(self.size);
                }
                let input = Box::new(&mut input) as DynInput<'_>;
                let (outcome, from) =
                    walk_layer_from(input, self.size, self.from, ErrorCode::Io, builder);
                self.from = from;
                walked = Some(outcome);
            }
            (Some(Compression::Gzip), false) => {
                if self.gunzip.is_none() {
                    builder.set_compression(Compression::Gzip, self.size);
                }
                let allowance = self.allowance;
                let gunzip = self
                    .gunzip
                    .get_or_insert_with(|| GunzipSteps::new(allowance));
                let tar = Box::new(gunzip.input(&mut input, self.from.0)) as DynInput<'_>;
                let (outcome, from) =
                    walk_layer_from(tar, u64::MAX, self.from, ErrorCode::CorruptGzip, builder);
                self.from = from;
                walked = Some(outcome);
            }
            (Some(_), _) => {
                let limits = options_with_path_key(self.path_key).layer_limits;
                let input = Box::new(&mut input) as DynInput<'_>;
                let budget = Budget::of(self.allowance);
                scanned = Some(scan_deferred_layer(
                    input,
                    self.size,
                    limits,
                    &budget,
                    self.digest,
                ));
            }
        }
        self.block = core::mem::take(&mut input.block);
        if let Some(failure) = input.failure.take() {
            self.builder = None;
            return Err(failure);
        }
        if input.suspended {
            if scanned.is_some() {
                self.builder = None;
                return Err(cannot_wait());
            }
            // Bytes are needed where the walk goes on in the layer, or, in a
            // gzip layer, where its decoder stopped taking them.
            let (from, skip) = self.from;
            let need = self.gunzip.as_ref().map_or(from + skip, GunzipSteps::taken);
            return Ok(Step::Need((self.offset + need) as f64));
        }
        let mut builder = self.builder.take().expect("checked above");
        if let Some(Err(e)) = walked {
            builder.fail(e);
        }
        let summary = match (scanned, &self.gunzip) {
            (Some(summary), _) => summary,
            (None, Some(gunzip)) => gunzip.finish(builder),
            (None, None) => builder.finish(),
        };
        Ok(Step::Done(summary))
    }
}

#[cfg(feature = "node")]
#[wasm_bindgen]
impl LayerScan {
    /// Bytes its decoder has given so far (0 for an uncompressed layer).
    pub fn decoded(&self) -> f64 {
        self.gunzip.as_ref().map_or(0, GunzipSteps::decoded) as f64
    }

    /// What its decoder may give in all (as `allowance`), from the next
    /// step on: a caller that walks several gzip layers by turns on one
    /// thread gives each, before each step, the budget left less what the
    /// others decoded, so that together they never pass the budget.
    #[wasm_bindgen(js_name = setAllowance)]
    pub fn set_allowance(&mut self, allowance: Option<f64>) -> Result<(), JsValue> {
        self.allowance = match checked_budget(allowance)? {
            MaxDecompressed::Bytes(n) => Some(n),
            _ => None,
        };
        if let Some(gunzip) = self.gunzip.as_mut() {
            gunzip.set_allowance(self.allowance);
        }
        Ok(())
    }

    /// `resume`, on the thread of the `Pending` the summary goes to: when
    /// done, the summary goes straight into `pending` (as `addLayer(name, …)`
    /// would take it) and this returns `undefined`. Encoding it, copying it
    /// out and decoding it again would take three times its memory.
    #[wasm_bindgen(js_name = resumeInto)]
    pub fn resume_into(
        &mut self,
        read: &Function,
        pending: &mut Pending,
        name: &str,
    ) -> Result<JsValue, JsValue> {
        match self.step(read)? {
            Step::Need(offset) => Ok(JsValue::from_f64(offset)),
            Step::Done(summary) => {
                pending.add_summary(name, summary)?;
                Ok(JsValue::UNDEFINED)
            }
        }
    }
}

/// How a stream (an archive, a layer) is compressed, from its first bytes:
/// `"none"`, `"gzip"` or `"zstd"`. A `LayerScan` walks only the first two
/// in steps.
#[wasm_bindgen(js_name = sniffCompression)]
pub fn sniff_compression(head: &[u8]) -> String {
    String::from(Compression::sniff(head).as_str())
}

/// Analyse through `read(offset, length) -> Uint8Array`. `size` is the
/// source's length (undefined for a pipe: then nothing is skipped without
/// being read); `blockSize` is the bytes asked per call; `verify` checks
/// every digest (and so reads everything); `maxDecompressed` is the
/// decompression budget in bytes (`Infinity`: none; absent: the default).
///
/// `gunzipped`: the caller decoded a gzip file of that many bytes itself
/// (Node's zlib, native and on another thread) and `read` serves the
/// decoded tar as a pipe (`size` undefined). The report then names the
/// input gzip, read whole. The caller keeps the decoder's errors for
/// itself (it analyses the file again without `gunzipped` when its decoder
/// failed, stopped early or the report is partial).
#[wasm_bindgen(js_name = analyzeCallback)]
pub fn analyze_callback(
    read: &Function,
    size: Option<f64>,
    block_size: Option<f64>,
    verify: bool,
    gunzipped: Option<f64>,
    max_decompressed: Option<f64>,
) -> Result<Analysis, JsValue> {
    let size = size.map(checked_size).transpose()?;
    let gunzipped = gunzipped.map(checked_size).transpose()?;
    let block = checked_block(block_size)?;
    let max_decompressed = checked_budget(max_decompressed)?;
    let source = Source::Callback(read, CurrentMember::default());
    run(
        BlockInput::new(source, size, block),
        verify,
        gunzipped,
        max_decompressed,
    )
}

/// Analyse bytes already in memory.
#[wasm_bindgen(js_name = analyzeBytes)]
pub fn analyze_bytes(
    bytes: &Uint8Array,
    verify: bool,
    max_decompressed: Option<f64>,
) -> Result<Analysis, JsValue> {
    let size = bytes.length() as u64;
    let max_decompressed = checked_budget(max_decompressed)?;
    // No JS calls per block here, so a smaller block costs nothing.
    run(
        BlockInput::new(Source::Bytes(bytes), Some(size), 1 << 20),
        verify,
        None,
        max_decompressed,
    )
}

/// The crate version, as the native CLI's `--version` prints it.
#[wasm_bindgen]
pub fn version() -> String {
    String::from(env!("CARGO_PKG_VERSION"))
}

/// Decoded bytes handed to `gunzipSplit`'s (`gunzipStream`'s) `write` at a time.
#[cfg(any(feature = "node", feature = "jspi"))]
const SPLIT_OUTPUT: usize = 256 << 10;

/// Reads a source from its start, straight into the reader's buffer.
#[cfg(any(feature = "node", feature = "jspi"))]
struct SourceReader<'a> {
    source: Source<'a>,
    offset: u64,
    /// The first JS exception, rethrown as it is.
    failure: Option<JsValue>,
}

#[cfg(any(feature = "node", feature = "jspi"))]
impl io::Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.source.fetch(self.offset, buf) {
            Ok(Some(n)) => {
                self.offset += n as u64;
                Ok(n)
            }
            Ok(None) => {
                self.failure = Some(cannot_wait());
                Err(io::Error::other("the read callback failed"))
            }
            Err(e) => {
                self.failure = Some(e);
                Err(io::Error::other("the read callback failed"))
            }
        }
    }
}

/// Decode the gzip stream that `read(offset, length, layer, into)` gives (as
/// `analyzeCallback`'s) without checking its members' CRC-32 and size:
/// `write(bytes)` takes the decoded bytes (a view of this wasm's memory,
/// valid during the call only) and `memberEnd(crc, size)` each member's
/// trailer, after that member's bytes. The caller checks the trailers where
/// the bytes go (gunzip-pipe.cjs, on another thread). Returns the compressed
/// bytes used. Throws on anything but a clean stream (then decode it with
/// the analysis' own decoder, whose errors are the native CLI's), or what a
/// callback threw.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = gunzipSplit)]
pub fn gunzip_split(
    read: &Function,
    write: &Function,
    member_end: &Function,
) -> Result<f64, JsValue> {
    let member = CurrentMember::new(RefCell::new(String::new()));
    split_gunzip(
        Source::Callback(read, member),
        |bytes| write.call1(&JsValue::NULL, &memory_view(bytes)).map(drop),
        |t| {
            let (crc, size) = (f64::from(t.crc), f64::from(t.size));
            member_end
                .call2(
                    &JsValue::NULL,
                    &JsValue::from_f64(crc),
                    &JsValue::from_f64(size),
                )
                .map(drop)
        },
    )
}

/// Decode the gzip stream `source` gives from its start with the split
/// decoder: `bytes` takes each run of decoded bytes, `member_end` each
/// member's trailer, after that member's bytes. Returns the compressed bytes
/// used; the first error of the decoder or of a callback otherwise (a JS
/// exception of the source's as it was thrown).
#[cfg(any(feature = "node", feature = "jspi"))]
fn split_gunzip(
    source: Source<'_>,
    mut bytes: impl FnMut(&[u8]) -> Result<(), JsValue>,
    mut member_end: impl FnMut(crate::archive::gzip_member::Trailer) -> Result<(), JsValue>,
) -> Result<f64, JsValue> {
    use crate::archive::split_gunzip::{Piece, SplitGunzip};
    let mut decoder = SplitGunzip::new(SourceReader {
        source,
        offset: 0,
        failure: None,
    });
    let mut out = vec![0u8; SPLIT_OUTPUT];
    loop {
        let piece = decoder
            .next(&mut out)
            .map_err(|e| JsValue::from_str(&e.to_string()));
        match piece {
            Ok(Piece::Bytes(n)) => bytes(&out[..n])?,
            Ok(Piece::MemberEnd(t)) => member_end(t)?,
            Ok(Piece::End) => return Ok(decoder.taken() as f64),
            Err(e) => return Err(decoder.reader_mut().failure.take().unwrap_or(e)),
        }
    }
}

/// The page's whole-file gzip on two Web Workers (the `jspi` feature, in the
/// web-stream build only): one inflates (`gunzipStream`), the other walks
/// the decoded tar (`analyzeStream`), each awaiting bytes through JS Promise
/// Integration: a callback that answers with a Promise suspends the wasm
/// until it settles.
#[cfg(feature = "jspi")]
// wasm-bindgen marks JSPI experimental (a deprecation warning on each use);
// Chromium and Firefox ship it, and the worker uses it only where it exists.
#[allow(deprecated)]
mod jspi {
    use super::*;
    use core::cell::Cell;

    #[wasm_bindgen]
    extern "C" {
        /// A callback that may answer with a Promise.
        type Suspending;
        /// `read.call(null, offset, length, layer, into)`, suspending this
        /// wasm while the Promise it may return is pending.
        #[wasm_bindgen(method, catch, suspending, js_name = call)]
        fn call4(
            read: &Suspending,
            this: &JsValue,
            offset: &JsValue,
            length: &JsValue,
            layer: &JsValue,
            into: &Uint8Array,
        ) -> Result<JsValue, JsValue>;
        /// `write.call(null, bytes)`, the same way.
        #[wasm_bindgen(method, catch, suspending, js_name = call)]
        fn call1(
            write: &Suspending,
            this: &JsValue,
            bytes: &Uint8Array,
        ) -> Result<JsValue, JsValue>;
    }

    /// `read(offset, length, layer, into)`, awaited when it returns a Promise.
    pub(super) fn suspend_on(
        read: &Function,
        at: &JsValue,
        length: &JsValue,
        layer: &JsValue,
        into: &Uint8Array,
    ) -> Result<JsValue, JsValue> {
        let read = read.unchecked_ref::<Suspending>();
        read.call4(&JsValue::NULL, at, length, layer, into)
    }

    /// `analyzeCallback` with `gunzipped`, whose `read` may return a Promise
    /// of its answer (JSPI: the wasm waits for it, and this returns a Promise
    /// of the Analysis): the page's walk of a gzip file that another worker
    /// inflates (web/worker.js). `read` serves the decoded tar as a pipe.
    #[wasm_bindgen(js_name = analyzeStream, jspi)]
    pub fn analyze_stream(
        read: Function,
        block_size: Option<f64>,
        verify: bool,
        gunzipped: f64,
        max_decompressed: Option<f64>,
    ) -> Result<Analysis, JsValue> {
        let gunzipped = checked_size(gunzipped)?;
        let block = checked_block(block_size)?;
        let max_decompressed = checked_budget(max_decompressed)?;
        let source = Source::Suspending(&read, CurrentMember::default());
        run(
            BlockInput::new(source, None, block),
            verify,
            Some(gunzipped),
            max_decompressed,
        )
    }

    /// Decode the gzip stream that `read(offset, length, layer, into)` gives
    /// from its start (as `analyzeStream`'s: it may answer with a Promise),
    /// checking each member's CRC-32 and size: `write(bytes)` takes the decoded
    /// bytes (a view of this wasm's memory, valid until the Promise it may
    /// return settles, or during the call). Returns the compressed bytes used.
    /// Throws on anything but a clean stream (the page's worker then analyses
    /// the file with the sequential decoder, whose errors are the native CLI's),
    /// or what a callback threw. The page's inflating worker.
    #[wasm_bindgen(js_name = gunzipStream, jspi)]
    pub fn gunzip_stream(read: Function, write: Function) -> Result<f64, JsValue> {
        let member = CurrentMember::new(RefCell::new(String::new()));
        let write = write.unchecked_ref::<Suspending>();
        // The current member's CRC-32 and size so far.
        let (crc, size) = (Cell::new(0u32), Cell::new(0u64));
        split_gunzip(
            Source::Suspending(&read, member),
            |bytes| {
                crc.set(zlib_rs::crc32::crc32(crc.get(), bytes));
                size.set(size.get() + bytes.len() as u64);
                write.call1(&JsValue::NULL, &memory_view(bytes)).map(drop)
            },
            |t| {
                if t.crc != crc.replace(0) || t.size != size.replace(0) as u32 {
                    return Err(JsValue::from_str(
                        "a member's CRC-32 or size does not match",
                    ));
                }
                Ok(())
            },
        )
    }
}
