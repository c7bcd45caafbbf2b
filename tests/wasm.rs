//! The JavaScript bindings (src/wasm.rs), called from Rust the way the
//! package's JS wrappers call them, under Node. Run by scripts/test.sh:
//!
//! CARGO_TARGET_DIR=target-wasm \
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! cargo test --target wasm32-unknown-unknown --test wasm
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use rootless_check::wasm::{self, Analysis};
use rootless_check::ErrorCode;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

/// The bundled sample: gzipped as a whole, so nothing can be deferred.
const SAMPLE: &[u8] = include_bytes!("../samples/pseudo-rootless.tar.gz");
/// An uncompressed docker-archive of 2.2 MB with two layers (and findings in
/// both): the parallel-layer API defers them, and 64 KiB blocks take many reads.
const LAYERED: &[u8] =
    include_bytes!("../../shared/fixtures/built/s6-overlay-v3.docker-archive.tar");
/// An OCI archive (uncompressed itself) of one gzip layer of 2.2 MB.
const GZIP_LAYERED: &[u8] =
    include_bytes!("../../shared/fixtures/built/bb-alpinelike.oci-archive.tar");
/// An OCI archive of a zstd layer.
const ZSTD_LAYERED: &[u8] =
    include_bytes!("../../shared/fixtures/public/wagoodman+dive__test-oci-zstd-image.tar");
/// The smallest block the bindings accept: more reads, so more to get wrong.
const SMALL_BLOCK: f64 = 65536.0;

// ---- helpers ---------------------------------------------------------------

fn analyze(data: &[u8]) -> Analysis {
    wasm::analyze_bytes(&Uint8Array::from(data), false, None).expect("analyzeBytes failed")
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("not JSON")
}

/// The `findings` (or `suppressed`) rule names of the first image.
fn rules(report: &Value, list: &str) -> Vec<String> {
    report["images"][0][list]
        .as_array()
        .unwrap_or_else(|| panic!("no images[0].{list}"))
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The `code` of a JS `Error` (which it must be).
#[track_caller]
fn code(err: &JsValue) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    let code = Reflect::get(err, &JsValue::from_str("code")).unwrap();
    code.as_string()
        .unwrap_or_else(|| panic!("no string code on {err:?}"))
}

/// The error of a call that must fail.
#[track_caller]
fn error<T>(result: Result<T, JsValue>) -> JsValue {
    match result {
        Ok(_) => panic!("the call succeeded, an error was expected"),
        Err(err) => err,
    }
}

/// The `code` of the error of a call that must fail.
#[track_caller]
fn error_code<T>(result: Result<T, JsValue>) -> String {
    code(&error(result))
}

/// The message of a JS `Error`.
fn message(err: &JsValue) -> String {
    err.unchecked_ref::<js_sys::Error>().message().into()
}

/// One call of a read callback.
#[derive(Debug)]
struct Call {
    offset: u64,
    length: u64,
    /// The `layer` argument: a member name, or None for undefined.
    layer: Option<String>,
}

/// How a test callback answers, given the bytes asked for (`chunk`, cut at
/// the end of the data) and the `into` view of wasm memory.
type Answer = dyn Fn(&'static [u8], &Uint8Array) -> Result<JsValue, JsValue>;

/// The Rust side of a read callback.
type ReadFn = dyn FnMut(f64, f64, JsValue, Uint8Array) -> Result<JsValue, JsValue>;

/// The documented convention "fill `into`, return the count".
fn fill(chunk: &[u8], into: &Uint8Array) -> Result<JsValue, JsValue> {
    into.subarray(0, chunk.len() as u32).copy_from(chunk);
    Ok(JsValue::from(chunk.len() as u32))
}

/// The other documented convention: "return a Uint8Array" (`into` untouched).
fn give(chunk: &[u8], _into: &Uint8Array) -> Result<JsValue, JsValue> {
    Ok(Uint8Array::from(chunk).into())
}

/// A JS function `read(offset, length, layer, into)` over `data`, made from a
/// Rust closure, that records its calls.
struct Reader {
    closure: Closure<ReadFn>,
    calls: Rc<RefCell<Vec<Call>>>,
}

impl Reader {
    fn new(
        data: &'static [u8],
        answer: impl Fn(&'static [u8], &Uint8Array) -> Result<JsValue, JsValue> + 'static,
    ) -> Reader {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let log = calls.clone();
        let closure: Closure<ReadFn> = Closure::new(
            move |offset: f64, length: f64, layer: JsValue, into: Uint8Array| {
                let start = (offset as usize).min(data.len());
                let end = (start + length as usize).min(data.len());
                // Answer before recording: recording allocates, and a grown
                // wasm memory would detach `into`.
                let result = answer(&data[start..end], &into);
                log.borrow_mut().push(Call {
                    offset: offset as u64,
                    length: length as u64,
                    layer: layer.as_string(),
                });
                result
            },
        );
        Reader { closure, calls }
    }

    fn function(&self) -> &Function {
        self.closure.as_ref().unchecked_ref()
    }

    /// Bytes asked for, all calls together.
    fn asked(&self) -> u64 {
        self.calls.borrow().iter().map(|c| c.length).sum()
    }
}

/// The JSON report of `data` read through `answer`.
fn callback_json(
    data: &'static [u8],
    answer: fn(&[u8], &Uint8Array) -> Result<JsValue, JsValue>,
    size: Option<f64>,
) -> String {
    let reader = Reader::new(data, answer);
    let analysis = wasm::analyze_callback(
        reader.function(),
        size,
        Some(SMALL_BLOCK),
        false,
        None,
        None,
    )
    .expect("analyzeCallback failed");
    // Nothing is being read yet at offset 0.
    assert_eq!(reader.calls.borrow()[0].layer, None);
    analysis.json()
}

// ---- a gzip decoded by the caller (Node's zlib) ------------------------------

#[wasm_bindgen_test]
fn a_gzip_decoded_by_the_caller_gives_the_report_of_the_gzip() {
    use std::io::Read;
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(SAMPLE)
        .read_to_end(&mut tar)
        .unwrap();
    let tar: &'static [u8] = Box::leak(tar.into_boxed_slice());
    let size = SAMPLE.len() as f64;
    let whole = callback_json(SAMPLE, fill, Some(size));
    // The decoded tar as a pipe, the gzip's size given: the gzip's report.
    let reader = Reader::new(tar, fill);
    let decoded = wasm::analyze_callback(
        reader.function(),
        None,
        Some(SMALL_BLOCK),
        false,
        Some(size),
        None,
    )
    .unwrap();
    assert_eq!(decoded.json(), whole);
    // Without it, the report says what was read: an uncompressed tar.
    let plain = callback_json(tar, fill, None);
    assert!(whole.contains(r#""compression": "gzip""#), "{whole}");
    assert!(plain.contains(r#""compression": "none""#), "{plain}");
    // A size that is none is refused.
    let reader = Reader::new(tar, fill);
    assert_eq!(
        error_code(wasm::analyze_callback(
            reader.function(),
            None,
            None,
            false,
            Some(-1.0),
            None
        )),
        "E_USAGE"
    );
}

// ---- analyzeBytes and the Analysis methods ----------------------------------

#[wasm_bindgen_test]
fn analyze_bytes_renders_the_sample_in_every_format() {
    let analysis = analyze(SAMPLE);

    let report = parse(&analysis.json());
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["partial"], false);
    assert_eq!(report["images"].as_array().unwrap().len(), 1);
    assert_eq!(report["images"][0]["verdict"], "pseudo-rootless");
    assert!(rules(&report, "findings").contains(&"setuid-root".to_string()));

    let text = analysis.text(false);
    assert!(text.contains("VERDICT: PSEUDO-ROOTLESS"), "{text}");
    assert!(text.contains("/usr/bin/su"), "{text}");
    assert!(!text.contains('\x1b'), "colour without asking: {text}");
    assert!(
        analysis.text(true).contains("\x1b["),
        "no colour when asked"
    );

    let sarif = parse(&analysis.sarif());
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("no runs[0].results");
    assert!(
        results.iter().any(|r| r["ruleId"] == "setuid-root"),
        "{sarif}"
    );
}

#[wasm_bindgen_test]
fn exit_status_and_lines_match_the_native_cli() {
    // `rootless-check samples/pseudo-rootless.tar.gz` exits 1 (a HIGH
    // finding, --fail-on high by default) and prints nothing on stderr.
    let analysis = analyze(SAMPLE);
    for (fail_on, status) in [("high", 1), ("info", 1), ("critical", 0), ("none", 0)] {
        assert_eq!(analysis.exit_status(fail_on).unwrap(), status, "{fail_on}");
        assert!(
            analysis.exit_lines(fail_on).unwrap().is_empty(),
            "{fail_on}"
        );
    }
    assert_eq!(error_code(analysis.exit_status("severe")), "E_USAGE");
    assert_eq!(error_code(analysis.exit_lines("severe")), "E_USAGE");

    // Cut inside the last member: a partial report, which the CLI (`head -c
    // 2214500 s6-overlay-v3.docker-archive.tar | rootless-check -`) ends with
    // these lines and status 2, whatever --fail-on says.
    let partial = analyze(&LAYERED[..2_214_500]);
    assert_eq!(parse(&partial.json())["partial"], true);
    let lines = [
        r#"E_TRUNCATED: the archive ends inside a member (entry "repositories", offset 2214500)"#,
        "the report is partial: part of the archive could not be read",
    ];
    for fail_on in ["high", "none"] {
        assert_eq!(partial.exit_status(fail_on).unwrap(), 2);
        assert_eq!(partial.exit_lines(fail_on).unwrap(), lines);
    }
}

#[wasm_bindgen_test]
fn verify_checks_digests_like_the_native_cli() {
    let verified = wasm::analyze_bytes(&Uint8Array::from(LAYERED), true, None).unwrap();
    let report = parse(&verified.json());
    assert_eq!(
        report["images"][0]["verification"]["verified"], 3,
        "{report}"
    );
    assert_eq!(verified.exit_status("none").unwrap(), 0);
    // Without verify there is no verification at all.
    assert_eq!(
        parse(&analyze(LAYERED).json())["images"][0]["verification"],
        Value::Null
    );

    // One bit flipped in the end-of-archive blocks of the first layer: only
    // its digest shows it. `rootless-check --verify` exits 2 with this line.
    let mut tampered = LAYERED.to_vec();
    tampered[2_134_527] ^= 1;
    let altered = wasm::analyze_bytes(&Uint8Array::from(&tampered[..]), true, None).unwrap();
    let line = "E_DIGEST_MISMATCH: layer 0 (uncompressed) has \
        sha256:6fa63badbce2ccce3979ea8433b4937a1cace36ec85fbd659b5a4190ce514907 but \
        sha256:8933754061068561caaab4a253959492ed15bc12f23b112af5c3db17f87bc9df was expected: \
        the archive was altered after it was written \
        (entry \"8933754061068561caaab4a253959492ed15bc12f23b112af5c3db17f87bc9df.tar\")";
    assert_eq!(altered.exit_status("none").unwrap(), 2);
    assert_eq!(altered.exit_lines("none").unwrap(), [line]);
    assert_eq!(analyze(&tampered).exit_status("high").unwrap(), 1);

    // Through the callback, verify gives the same report.
    let reader = Reader::new(LAYERED, fill);
    let size = Some(LAYERED.len() as f64);
    let analysis =
        wasm::analyze_callback(reader.function(), size, Some(SMALL_BLOCK), true, None, None)
            .unwrap();
    assert_eq!(analysis.json(), verified.json());
}

#[wasm_bindgen_test]
fn apply_ignores_moves_findings_to_suppressed() {
    let mut analysis = analyze(SAMPLE);
    let before = analysis.json();

    // A bad spec is refused before anything is applied.
    for (specs, file) in [
        (vec!["no-such-rule".to_string()], None),
        (vec!["setuid-root:".to_string()], None),
        (vec![], Some("# fine\nno-such-rule\n".to_string())),
    ] {
        let err = error(analysis.apply_ignores(specs, file));
        assert_eq!(code(&err), "E_USAGE");
        assert!(message(&err).contains("no-such-rule") || message(&err).contains("empty"));
    }
    assert_eq!(analysis.json(), before);

    analysis
        .apply_ignores(
            vec!["setuid-root".to_string()],
            Some("# the image needs a shell\nshell-present:/bin/*\n".to_string()),
        )
        .unwrap();
    let report = parse(&analysis.json());
    let (findings, suppressed) = (rules(&report, "findings"), rules(&report, "suppressed"));
    assert_eq!(suppressed, ["setuid-root", "shell-present"]);
    assert!(
        !findings.iter().any(|r| suppressed.contains(r)),
        "{findings:?}"
    );
    // As `rootless-check --ignore setuid-root`: nothing HIGH is left, exit 0.
    assert_eq!(analysis.exit_status("high").unwrap(), 0);
}

// ---- analyzeCallback ----------------------------------------------------------

#[wasm_bindgen_test]
fn both_callback_conventions_give_the_report_of_analyze_bytes() {
    for data in [SAMPLE, LAYERED] {
        let expected = analyze(data).json();
        let size = data.len() as f64;
        for answer in [fill, give] {
            assert_eq!(callback_json(data, answer, Some(size)), expected);
            // Without a size (a pipe): read through, same report.
            assert_eq!(callback_json(data, answer, None), expected);
        }
    }
}

#[wasm_bindgen_test]
fn the_callback_is_told_the_layer_and_skips_with_a_known_size() {
    let size = LAYERED.len() as u64;
    let reader = Reader::new(LAYERED, fill);
    wasm::analyze_callback(
        reader.function(),
        Some(size as f64),
        Some(SMALL_BLOCK),
        false,
        None,
        None,
    )
    .unwrap();
    let calls = reader.calls.borrow();
    assert!(calls.len() > 1, "{calls:?}");
    for c in calls.iter() {
        assert!(
            c.length > 0 && c.length <= SMALL_BLOCK as u64 && c.offset + c.length <= size,
            "{c:?}"
        );
    }
    assert!(
        calls
            .iter()
            .any(|c| c.layer.as_deref().is_some_and(|l| l.ends_with(".tar"))),
        "no read named a layer: {calls:?}"
    );

    // Through a pipe (no size) nothing can be skipped: every byte is asked
    // for, which costs more reads than skipping file contents by offset.
    let pipe = Reader::new(LAYERED, fill);
    wasm::analyze_callback(pipe.function(), None, Some(SMALL_BLOCK), false, None, None).unwrap();
    assert!(
        pipe.asked() >= size,
        "{} of {size} bytes read",
        pipe.asked()
    );
    assert!(
        reader.asked() < pipe.asked(),
        "nothing skipped with a known size"
    );
}

#[wasm_bindgen_test]
fn a_callback_answering_something_else_fails_the_call() {
    let answers: [(&str, Box<Answer>); 4] = [
        (
            "a string",
            Box::new(|_: &[u8], _: &Uint8Array| Ok("bytes".into())),
        ),
        (
            "more than length",
            Box::new(|_: &[u8], into: &Uint8Array| Ok((into.length() + 1).into())),
        ),
        (
            "a negative count",
            Box::new(|_: &[u8], _: &Uint8Array| Ok((-1).into())),
        ),
        (
            "a fraction",
            Box::new(|_: &[u8], _: &Uint8Array| Ok(0.5.into())),
        ),
    ];
    for (what, answer) in answers {
        let reader = Reader::new(SAMPLE, answer);
        let result = wasm::analyze_callback(
            reader.function(),
            Some(SAMPLE.len() as f64),
            None,
            false,
            None,
            None,
        );
        let err = result.err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert_eq!(code(&err), "E_USAGE", "{what}: {err:?}");
    }
}

#[wasm_bindgen_test]
fn an_exception_in_the_callback_comes_back_as_thrown() {
    let thrown: JsValue = Object::new().into();
    let size = Some(LAYERED.len() as f64);

    // On the first read, and after a read succeeded (the reader would
    // otherwise make a partial report of it).
    for good_reads in [0, 1] {
        let (value, count) = (thrown.clone(), Cell::new(0));
        let reader = Reader::new(LAYERED, move |chunk: &[u8], into: &Uint8Array| {
            count.set(count.get() + 1);
            if count.get() > good_reads {
                return Err(value.clone());
            }
            fill(chunk, into)
        });
        let err = error(wasm::analyze_callback(
            reader.function(),
            size,
            Some(SMALL_BLOCK),
            false,
            None,
            None,
        ));
        assert!(Object::is(&err, &thrown), "wrapped: {err:?}");
        // And no read after it.
        assert_eq!(reader.calls.borrow().len(), good_reads + 1);
    }

    // LayerScan and planCallback too.
    let value = thrown.clone();
    let reader = Reader::new(LAYERED, move |_: &[u8], _: &Uint8Array| Err(value.clone()));
    let err = error(scan_layer(
        reader.function(),
        "layer.tar",
        512.0,
        1024.0,
        None,
    ));
    assert!(Object::is(&err, &thrown), "wrapped: {err:?}");
    let err = error(wasm::plan_callback(
        reader.function(),
        LAYERED.len() as f64,
        None,
        None,
    ));
    assert!(Object::is(&err, &thrown), "wrapped: {err:?}");
}

// ---- the parallel-layer API: planCallback, LayerScan, addLayer, finish ----------

/// A whole layer through a `LayerScan` in one step, as the Node package and
/// the browser's FileReaderSync path scan.
fn scan_layer(
    read: &Function,
    name: &str,
    offset: f64,
    size: f64,
    block: Option<f64>,
) -> Result<Vec<u8>, JsValue> {
    let mut scan = wasm::LayerScan::new(name, offset, size, block, None, None)?;
    let summary = scan.resume(read)?;
    Ok(summary
        .dyn_into::<Uint8Array>()
        .expect("one step without a -1")
        .to_vec())
}

/// What a step of a `LayerScan` gave: the offset to go on from, or the summary.
fn step(scan: &mut wasm::LayerScan, read: &Function) -> Result<Result<f64, Vec<u8>>, JsValue> {
    let value = scan.resume(read)?;
    Ok(match value.as_f64() {
        Some(at) => Ok(at),
        None => Err(value.dyn_into::<Uint8Array>().expect("a summary").to_vec()),
    })
}

/// `[name, offset, size]` of each deferred layer (whose `digest` flag is
/// false: these archives have their manifest).
fn deferred(pending: &wasm::Pending) -> Vec<(String, f64, f64)> {
    pending
        .deferred_layers()
        .iter()
        .map(|item| {
            let item: Array = item.dyn_into().expect("not an array");
            assert_eq!(item.length(), 4);
            assert_eq!(item.get(3).as_bool(), Some(false));
            let name = item.get(0).as_string().expect("name");
            (
                name,
                item.get(1).as_f64().expect("offset"),
                item.get(2).as_f64().expect("size"),
            )
        })
        .collect()
}

fn plan(data: &'static [u8]) -> (wasm::Pending, Reader) {
    let reader = Reader::new(data, fill);
    let pending = wasm::plan_callback(
        reader.function(),
        data.len() as f64,
        Some(SMALL_BLOCK),
        None,
    )
    .expect("planCallback failed");
    (pending, reader)
}

/// A layer scanned through a fresh reader, which must stay within the member
/// and be told its name on every read.
fn scan(data: &'static [u8], (name, offset, size): &(String, f64, f64)) -> Vec<u8> {
    let reader = Reader::new(data, give);
    let summary = scan_layer(reader.function(), name, *offset, *size, Some(SMALL_BLOCK))
        .expect("LayerScan failed");
    for c in reader.calls.borrow().iter() {
        assert_eq!(c.layer.as_deref(), Some(name.as_str()));
        assert!(
            c.offset >= *offset as u64 && c.offset + c.length <= (*offset + *size) as u64,
            "{c:?}"
        );
    }
    summary
}

#[wasm_bindgen_test]
fn parallel_layers_give_the_report_of_one_pass() {
    let (mut pending, reader) = plan(LAYERED);
    let layers = deferred(&pending);
    assert_eq!(layers.len(), 2, "{layers:?}");
    // The plan reads the structure, not the layers' contents.
    assert!(
        reader.asked() < LAYERED.len() as u64 / 2,
        "the plan read {} bytes",
        reader.asked()
    );
    // Handed back in any order: the archive's order is kept.
    for layer in layers.iter().rev() {
        pending.add_layer(&layer.0, &scan(LAYERED, layer)).unwrap();
    }
    let analysis = pending.finish().unwrap();
    assert_eq!(analysis.json(), analyze(LAYERED).json());

    // A compressed archive defers nothing: finish() right away.
    let (mut pending, _) = plan(SAMPLE);
    assert!(deferred(&pending).is_empty());
    assert_eq!(pending.finish().unwrap().json(), analyze(SAMPLE).json());
}

#[wasm_bindgen_test]
fn the_parallel_layer_api_refuses_misuse() {
    let (mut pending, _) = plan(LAYERED);
    let layers = deferred(&pending);
    let summary = scan(LAYERED, &layers[0]);
    assert_eq!(
        error_code(pending.add_layer("no/such/layer.tar", &summary)),
        "E_USAGE"
    );
    assert_eq!(
        error_code(pending.add_layer(&layers[0].0, &[1, 2, 3])),
        "E_USAGE"
    );
    pending.add_layer(&layers[0].0, &summary).unwrap();
    // The second layer is never added: finish() says which, and can be
    // called again once it is; but only once.
    let err = error(pending.finish());
    assert_eq!(code(&err), "E_USAGE");
    assert!(message(&err).contains(&layers[1].0), "{}", message(&err));
    pending
        .add_layer(&layers[1].0, &scan(LAYERED, &layers[1]))
        .unwrap();
    assert_eq!(pending.finish().unwrap().json(), analyze(LAYERED).json());
    assert_eq!(error_code(pending.finish()), "E_USAGE");

    let reader = Reader::new(LAYERED, fill);
    for bad in [-1.0, 0.5, f64::NAN] {
        assert_eq!(
            error_code(wasm::plan_callback(reader.function(), bad, None, None)),
            "E_USAGE"
        );
        assert_eq!(
            error_code(wasm::LayerScan::new("x", bad, 1.0, None, None, None)),
            "E_USAGE"
        );
        assert_eq!(
            error_code(wasm::analyze_callback(
                reader.function(),
                Some(bad),
                None,
                false,
                None,
                None
            )),
            "E_USAGE"
        );
    }
}

/// A read callback that only has the bytes of a window of `data`, which the
/// test moves: -1 (no bytes yet) outside it, as the browser's stream reader.
struct WindowReader {
    reader: Reader,
    window: Rc<Cell<(u64, u64)>>,
}

impl WindowReader {
    fn new(data: &'static [u8]) -> WindowReader {
        let window = Rc::new(Cell::new((0, 0)));
        let seen = window.clone();
        let calls = Rc::new(RefCell::new(Vec::new()));
        let log = calls.clone();
        let closure: Closure<ReadFn> = Closure::new(
            move |offset: f64, length: f64, layer: JsValue, into: Uint8Array| {
                let (start, end) = seen.get();
                let at = offset as u64;
                let answer = if at < start || at >= end {
                    JsValue::from(-1)
                } else {
                    let n = (length as u64).min(end - at) as usize;
                    let chunk = &data[at as usize..at as usize + n];
                    into.subarray(0, n as u32).copy_from(chunk);
                    JsValue::from(n as u32)
                };
                log.borrow_mut().push(Call {
                    offset: at,
                    length: length as u64,
                    layer: layer.as_string(),
                });
                Ok(answer)
            },
        );
        WindowReader {
            reader: Reader { closure, calls },
            window,
        }
    }
}

/// Scan a layer in steps, each with `width` bytes from where the last one
/// stopped (twice as many after a step that made no progress, as the
/// browser's window grows). Returns the summary and the number of steps.
fn scan_in_steps(data: &'static [u8], layer: &(String, f64, f64), width: u64) -> (Vec<u8>, usize) {
    scan_in_steps_within(data, layer, width, None)
}

/// [`scan_in_steps`], the layer's decoder allowed `allowance` bytes.
fn scan_in_steps_within(
    data: &'static [u8],
    (name, offset, size): &(String, f64, f64),
    width: u64,
    allowance: Option<f64>,
) -> (Vec<u8>, usize) {
    let r = WindowReader::new(data);
    let mut scan =
        wasm::LayerScan::new(name, *offset, *size, Some(SMALL_BLOCK), allowance, None).unwrap();
    let (mut steps, mut last, mut width) = (0, None, width);
    let summary = loop {
        let at = match step(&mut scan, r.reader.function()).unwrap() {
            Ok(at) => at,
            Err(summary) => break summary,
        };
        assert!(at >= *offset && at < offset + size, "resume at {at}");
        if last == Some(at) {
            width *= 2;
        }
        last = Some(at);
        r.window
            .set((at as u64, (at as u64 + width).min(data.len() as u64)));
        steps += 1;
        assert!(steps < 100_000, "no progress at {at}");
    };
    for c in r.reader.calls.borrow().iter() {
        assert_eq!(c.layer.as_deref(), Some(name.as_str()));
        assert!(
            c.offset >= *offset as u64 && c.offset < (*offset + *size) as u64,
            "{c:?}"
        );
    }
    (summary, steps)
}

#[wasm_bindgen_test]
fn layers_scanned_in_steps_give_the_summary_of_one_step() {
    for archive in [LAYERED, GZIP_LAYERED] {
        let (pending, _) = plan(archive);
        let layers = deferred(&pending);
        for layer in &layers {
            let whole = scan(archive, layer);
            // Windows smaller than a header, than most entries, and than a
            // block; the steps cut extension headers and /etc/passwd's
            // content too (in a gzip layer, what the decoder takes).
            for width in [300, 700, 5000, 100_000] {
                let (stepped, steps) = scan_in_steps(archive, layer, width);
                assert!(stepped == whole, "{} in steps of {width} bytes", layer.0);
                if (width as f64) < layer.2 / 2.0 {
                    assert!(steps > 1, "{steps} steps of {width} bytes");
                }
            }
        }
        // The stepped summaries make the report of one pass.
        let (mut pending, _) = plan(archive);
        for layer in &layers {
            pending
                .add_layer(&layer.0, &scan_in_steps(archive, layer, 1000).0)
                .unwrap();
        }
        assert_eq!(pending.finish().unwrap().json(), analyze(archive).json());
    }
}

/// An OCI archive of two gzip layers (4.1 and 2.0 MB decoded).
const TWO_GZIP_LAYERS: &[u8] =
    include_bytes!("../../shared/fixtures/built/bb-filecap.oci-archive.tar");

#[wasm_bindgen_test]
fn layer_scans_keep_to_the_decompression_budget() {
    const MIB: f64 = 1048576.0;
    let reader = Reader::new(GZIP_LAYERED, fill);
    let len = GZIP_LAYERED.len() as f64;
    let mut pending =
        wasm::plan_callback(reader.function(), len, Some(SMALL_BLOCK), Some(MIB)).unwrap();
    assert_eq!(pending.budget_left(), MIB);
    let layer = &deferred(&pending)[0];
    // In one go and in steps: stopped at the same byte, the same summary.
    let r = Reader::new(GZIP_LAYERED, give);
    let mut scan = wasm::LayerScan::new(&layer.0, layer.1, layer.2, None, Some(MIB), None).unwrap();
    let one_go = scan.resume(r.function()).unwrap();
    let one_go = one_go.dyn_into::<Uint8Array>().unwrap().to_vec();
    for width in [700, 100_000] {
        let (stepped, _) = scan_in_steps_within(GZIP_LAYERED, layer, width, Some(MIB));
        assert!(stepped == one_go, "in steps of {width} bytes");
    }
    pending.add_layer(&layer.0, &one_go).unwrap();
    assert_eq!(pending.budget_left(), 0.0);
    let json = pending.finish().unwrap().json();
    let report = parse(&json);
    assert_eq!(report["errors"][0]["code"], "E_LIMIT");
    assert_eq!(report["errors"][0]["entry"], layer.0.as_str());
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("1048576 bytes decompressed in all"),
        "{message}"
    );
    // As one pass over the bytes with the same budget.
    let bytes = Uint8Array::from(GZIP_LAYERED);
    assert_eq!(
        wasm::analyze_bytes(&bytes, false, Some(MIB))
            .unwrap()
            .json(),
        json
    );
    // Infinity lifts it; anything but bytes is E_USAGE.
    let unlimited = wasm::plan_callback(reader.function(), len, None, Some(f64::INFINITY)).unwrap();
    assert_eq!(unlimited.budget_left(), f64::INFINITY);
    let plain = wasm::analyze_bytes(&bytes, false, Some(f64::INFINITY)).unwrap();
    assert_eq!(plain.json(), analyze(GZIP_LAYERED).json());
    for bad in [-1.0, 0.5, f64::NAN, f64::NEG_INFINITY] {
        assert_eq!(
            error_code(wasm::analyze_bytes(&bytes, false, Some(bad))),
            "E_USAGE"
        );
    }

    // Two layers summarised at once, each allowed what was left when it
    // started (5 MiB): 6.1 MB together, past the budget; finish() says so.
    let reader = Reader::new(TWO_GZIP_LAYERS, fill);
    let len = TWO_GZIP_LAYERS.len() as f64;
    let mut pending = wasm::plan_callback(reader.function(), len, None, Some(5.0 * MIB)).unwrap();
    let layers = deferred(&pending);
    let left = pending.budget_left();
    let summaries: Vec<Vec<u8>> = layers
        .iter()
        .map(|layer| {
            let r = Reader::new(TWO_GZIP_LAYERS, give);
            let mut scan =
                wasm::LayerScan::new(&layer.0, layer.1, layer.2, None, Some(left), None).unwrap();
            scan.resume(r.function())
                .unwrap()
                .dyn_into::<Uint8Array>()
                .unwrap()
                .to_vec()
        })
        .collect();
    for (layer, summary) in layers.iter().zip(&summaries) {
        pending.add_layer(&layer.0, summary).unwrap();
    }
    let report = parse(&pending.finish().unwrap().json());
    assert_eq!(report["errors"][0]["code"], "E_LIMIT", "{report}");
    assert_eq!(report["partial"], true);
}

/// An image gathered in JS (a registry's, a layout's): no budget until
/// `setBudget`, then the rule sized from the layers' stored bytes.
#[cfg(feature = "node")]
#[wasm_bindgen_test]
fn an_image_plan_takes_the_budget_of_its_stored_layers() {
    const GIB: f64 = 1073741824.0;
    let mut plan = wasm::image_plan();
    assert_eq!(plan.budget_left(), f64::INFINITY);
    plan.set_budget(None, 1000.0).unwrap();
    assert_eq!(plan.budget_left(), 2.0 * GIB);
    plan.set_budget(None, GIB).unwrap();
    assert_eq!(plan.budget_left(), 100.0 * GIB);
    plan.set_budget(Some(5.0), GIB).unwrap();
    assert_eq!(plan.budget_left(), 5.0);
    plan.set_budget(Some(f64::INFINITY), GIB).unwrap();
    assert_eq!(plan.budget_left(), f64::INFINITY);
    assert_eq!(error_code(plan.set_budget(Some(-1.0), 0.0)), "E_USAGE");
    assert_eq!(error_code(plan.set_budget(None, f64::NAN)), "E_USAGE");
}

/// A gzip "layer" of `tar`, alone in a blob of its own.
fn gzip_blob(tar: &[u8]) -> &'static [u8] {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, tar).unwrap();
    Box::leak(gz.finish().unwrap().into_boxed_slice())
}

#[wasm_bindgen_test]
fn a_gzip_layer_cut_or_corrupt_is_partial_in_steps_as_in_one_go() {
    let (pending, _) = plan(GZIP_LAYERED);
    let layer = &deferred(&pending)[0];
    let blob = &GZIP_LAYERED[layer.1 as usize..(layer.1 + layer.2) as usize];
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(blob), &mut tar).unwrap();
    let whole_layer = |data: &'static [u8]| (String::from("layer"), 0.0, data.len() as f64);
    let one_go = |data: &'static [u8]| {
        let (name, offset, size) = whole_layer(data);
        scan_layer(
            Reader::new(data, fill).function(),
            &name,
            offset,
            size,
            None,
        )
        .unwrap()
    };
    let partial = |summary: &[u8]| {
        let s = rootless_check::analysis::layer::LayerSummary::decode(summary).unwrap();
        assert!(s.is_partial(), "not partial");
        s.errors[0].code
    };
    // The gzip stream cut, and a whole gzip stream of a cut tar: the same
    // summary, partial, either way.
    let cut_stream: &'static [u8] = &blob[..blob.len() * 2 / 3];
    let cut_tar = gzip_blob(&tar[..tar.len() * 2 / 3]);
    for data in [cut_stream, cut_tar] {
        let whole = one_go(data);
        for width in [700, 100_000] {
            let (stepped, _) = scan_in_steps(data, &whole_layer(data), width);
            assert!(stepped == whole, "{} bytes in steps of {width}", data.len());
        }
        assert_eq!(partial(&whole), ErrorCode::Truncated);
    }
    // Corrupt: partial either way, as a bad gzip stream or the bad tar it
    // decodes to (the one-go reader decodes ahead, so it may stop a few
    // entries earlier).
    let mut corrupt = blob.to_vec();
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 64] {
        *b = !*b;
    }
    let corrupt: &'static [u8] = Box::leak(corrupt.into_boxed_slice());
    let (stepped, _) = scan_in_steps(corrupt, &whole_layer(corrupt), 5000);
    for summary in [stepped, one_go(corrupt)] {
        let code = partial(&summary);
        assert!(
            matches!(code, ErrorCode::CorruptGzip | ErrorCode::CorruptTar),
            "{code:?}"
        );
    }
}

#[wasm_bindgen_test]
fn only_a_layer_scan_may_wait_for_bytes() {
    // A zstd layer is walked in one go: its decompressor cannot wait.
    let (pending, _) = plan(ZSTD_LAYERED);
    let layer = &deferred(&pending)[0];
    assert!(ZSTD_LAYERED[layer.1 as usize..].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
    let whole = scan(ZSTD_LAYERED, layer);
    let r = WindowReader::new(ZSTD_LAYERED);
    r.window.set((layer.1 as u64, layer.1 as u64 + 1000));
    let mut scan = wasm::LayerScan::new(&layer.0, layer.1, layer.2, None, None, None).unwrap();
    assert_eq!(error_code(scan.resume(r.reader.function())), "E_USAGE");
    // And the scan is over.
    r.window.set((0, ZSTD_LAYERED.len() as u64));
    assert_eq!(error_code(scan.resume(r.reader.function())), "E_USAGE");
    // With every byte there, it is the one-go summary.
    let mut zstd = wasm::LayerScan::new(&layer.0, layer.1, layer.2, None, None, None).unwrap();
    assert_eq!(step(&mut zstd, r.reader.function()).unwrap(), Err(whole));

    // Nor may the one-pass readers be told "no bytes yet".
    let r = WindowReader::new(LAYERED);
    r.window.set((0, 70_000));
    let size = LAYERED.len() as f64;
    let err = error(wasm::analyze_callback(
        r.reader.function(),
        Some(size),
        Some(SMALL_BLOCK),
        false,
        None,
        None,
    ));
    assert_eq!(code(&err), "E_USAGE");
    assert!(message(&err).contains("-1"), "{}", message(&err));
    assert_eq!(
        error_code(wasm::plan_callback(
            r.reader.function(),
            size,
            Some(SMALL_BLOCK),
            None
        )),
        "E_USAGE"
    );

    // Steps go on where the last one stopped; the summary comes once.
    let (pending, _) = plan(LAYERED);
    let layer = &deferred(&pending)[0];
    let r = WindowReader::new(LAYERED);
    let mut scan = wasm::LayerScan::new(&layer.0, layer.1, layer.2, None, None, None).unwrap();
    assert_eq!(step(&mut scan, r.reader.function()).unwrap(), Ok(layer.1));
    assert_eq!(step(&mut scan, r.reader.function()).unwrap(), Ok(layer.1));
    r.window.set((layer.1 as u64, (layer.1 + layer.2) as u64));
    assert_eq!(
        step(&mut scan, r.reader.function()).unwrap(),
        Err(scan_in_steps(LAYERED, layer, 4096).0)
    );
    assert_eq!(error_code(scan.resume(r.reader.function())), "E_USAGE");
}

// ---- the command line, checks, version, error codes ----------------------------

/// `parseArgs(argv)` as a JSON value (`ignoreFile: undefined` becomes absent).
fn parse_args(argv: &[&str]) -> Result<Value, JsValue> {
    let argv = argv.iter().map(|s| s.to_string()).collect();
    let object = wasm::parse_args(argv)?;
    let json = js_sys::JSON::stringify(&object).unwrap();
    Ok(parse(&String::from(json)))
}

#[wasm_bindgen_test]
fn usage_and_parse_args_follow_the_native_command_line() {
    assert_eq!(wasm::usage(), rootless_check::cli::USAGE);
    assert!(wasm::usage().contains("Usage: rootless-check [OPTIONS] SOURCE"));

    assert_eq!(
        parse_args(&["--help"]).unwrap(),
        json!({ "command": "help" })
    );
    assert_eq!(
        parse_args(&["x.tar", "-V"]).unwrap(),
        json!({ "command": "version" })
    );
    let defaults = json!({
        "command": "analyze", "format": "text", "file": "x.tar", "failOn": "high",
        "ignores": [], "verify": false, "noColor": false,
        "allPlatforms": false, "tlsVerify": true, "concurrency": 3, "sources": ["x.tar"],
    });
    assert_eq!(parse_args(&["x.tar"]).unwrap(), defaults);
    let all = [
        "--format=json",
        "--fail-on",
        "none",
        "--ignore",
        "setuid-root:/usr/**",
        "--ignore-file",
        "ignores.txt",
        "--verify",
        "--no-color",
        "-",
    ];
    let expected = json!({
        "command": "analyze", "format": "json", "file": "-", "failOn": "none",
        "ignores": ["setuid-root:/usr/**"], "ignoreFile": "ignores.txt",
        "verify": true, "noColor": true,
        "allPlatforms": false, "tlsVerify": true, "concurrency": 3, "sources": ["-"],
    });
    assert_eq!(parse_args(&all).unwrap(), expected);
    // A spec: every source, or none (its images are pulled).
    let spec = parse_args(&["--compose", "c.yml", "a.tar", "b.tar"]).unwrap();
    assert_eq!(
        (&spec["compose"], &spec["sources"], &spec["file"]),
        (&json!("c.yml"), &json!(["a.tar", "b.tar"]), &json!("a.tar"))
    );
    let spec = parse_args(&["--run", "-u 1"]).unwrap();
    assert_eq!(
        (&spec["run"], &spec["sources"]),
        (&json!("-u 1"), &json!([]))
    );
    assert!(spec.get("file").is_none());
    // The registry options, as the native CLI reads them.
    let registry = parse_args(&[
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
    ])
    .unwrap();
    assert_eq!(
        (
            &registry["platform"],
            &registry["allPlatforms"],
            &registry["creds"],
            &registry["authfile"]
        ),
        (
            &json!("linux/arm64/v8"),
            &json!(true),
            &json!("u:p"),
            &json!("a.json")
        )
    );
    assert_eq!(
        (&registry["tlsVerify"], &registry["concurrency"]),
        (&json!(false), &json!(5))
    );

    // The messages the native CLI shows above the usage text.
    for (argv, text) in [
        (&["--color", "x.tar"][..], r#"unknown option "--color""#),
        (&[][..], "no source given"),
        (&["a.tar", "b.tar"][..], "give one source"),
        (
            &["--fail-on", "severe", "x.tar"][..],
            r#"unknown severity "severe""#,
        ),
        (&["--ignore", "no-such-rule", "x.tar"][..], "no-such-rule"),
        (&["x.tar", "--format"][..], "--format needs a value"),
    ] {
        let err = error(parse_args(argv));
        assert_eq!(code(&err), "E_USAGE", "{argv:?}");
        assert!(message(&err).contains(text), "{argv:?}: {}", message(&err));
    }
}

#[wasm_bindgen_test]
fn check_ignores_accepts_good_values_and_refuses_bad_ones() {
    let specs = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    wasm::check_ignores(specs(&["setuid-root", "shell-present:/bin/**"]), None).unwrap();
    wasm::check_ignores(
        vec![],
        Some("# comment\n\nsetuid-root:/usr/bin/su\n".into()),
    )
    .unwrap();
    assert_eq!(
        error_code(wasm::check_ignores(specs(&["no-such-rule"]), None)),
        "E_USAGE"
    );
    assert_eq!(
        error_code(wasm::check_ignores(specs(&["setuid-root:"]), None)),
        "E_USAGE"
    );
    let err = error(wasm::check_ignores(
        vec![],
        Some("setuid-root\nbogus\n".into()),
    ));
    assert_eq!(code(&err), "E_USAGE");
    assert!(message(&err).contains("line 2"), "{}", message(&err));
}

#[wasm_bindgen_test]
fn version_is_the_crates() {
    assert_eq!(wasm::version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn junk_is_not_an_archive_from_bytes_or_callback() {
    const ZIP: &[u8] = b"PK\x03\x04 this is a zip file, not a tar archive";
    let reader = Reader::new(ZIP, fill);
    for result in [
        wasm::analyze_bytes(&Uint8Array::from(ZIP), false, None),
        wasm::analyze_callback(
            reader.function(),
            Some(ZIP.len() as f64),
            None,
            false,
            None,
            None,
        ),
    ] {
        let err = error(result);
        assert_eq!(code(&err), "E_NOT_ARCHIVE");
        // The CLI prints `E_NOT_ARCHIVE: <message>`: the code is not repeated.
        let message = message(&err);
        assert!(
            message.starts_with("the input is not an image archive"),
            "{message}"
        );
        assert!(message.contains("zip"), "{message}");
    }
}

// ---- run specs (the `specs` feature) ----------------------------------------

fn js_object(pairs: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).unwrap();
    }
    o.into()
}

#[wasm_bindgen_test]
fn a_compose_spec_is_interpolated_and_held_against_the_image() {
    // The environment object first, then .env; an inherited property is no variable.
    let text = "services:\n  a:\n    image: x\n    user: \"${U}:${G}\"\n    \
                security_opt: [no-new-privileges:true]\n  b:\n    image: x\n    user: \"${toString:-5}\"\n";
    let specs = wasm::read_specs(
        "compose",
        text,
        Some("c.yml".into()),
        &js_object(&[("U", "7000")]),
        Some("U=1\nG=7001\n".into()),
    )
    .unwrap();
    let mut analysis = analyze(LAYERED);
    // One image and a spec naming one: paired whatever the tag, nothing to pull.
    assert!(specs.wanted(&analysis).is_empty());
    analysis.hold_specs(&specs, "not pulled");
    let report = parse(&analysis.json());
    let a = &report["runs"][0];
    assert_eq!(a["user"], json!({"uid": 7000, "gid": 7001, "name": null}));
    assert_eq!(a["source"], json!({"file": "c.yml", "line": 2}));
    assert_eq!(a["imageIndex"], 0);
    // s6-overlay under no-new-privileges as uid 7000: its preinit's own words.
    assert_eq!(a["outcome"], "fails");
    assert!(a["message"].as_str().unwrap().contains("s6-overlay-suexec"));
    assert_eq!(report["runs"][1]["user"]["uid"], 5);
}

#[wasm_bindgen_test]
fn images_no_source_holds_are_asked_for_and_handed_in() {
    let text = "services:\n  a:\n    image: fixture/s6-overlay-v3:1\n  \
                b:\n    image: other:1\n  c:\n    image: gone:2\n";
    let mut specs = wasm::read_specs("compose", text, None, &JsValue::UNDEFINED, None).unwrap();
    assert_eq!(
        specs.images(),
        vec!["fixture/s6-overlay-v3:1", "other:1", "gone:2"]
    );
    let mut analysis = analyze(LAYERED);
    // Three names: `a` pairs by reference, the others are wanted.
    assert_eq!(specs.wanted(&analysis), vec!["other:1", "gone:2"]);
    specs.fetched("other:1", analyze(SAMPLE));
    specs.failed("gone:2", "E_NOT_FOUND: gone:2 is not there");
    assert!(specs.wanted(&analysis).is_empty());
    analysis.hold_specs(&specs, "not pulled");
    let report = parse(&analysis.json());
    assert_eq!(report["images"].as_array().unwrap().len(), 2);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs[0]["imageIndex"], 0);
    assert_eq!(runs[1]["imageIndex"], 1);
    assert_eq!(runs[2]["outcome"], "not-checked");
    assert_eq!(runs[2]["message"], "E_NOT_FOUND: gone:2 is not there");
    // Never handed in: not checked, with the caller's reason after the name.
    let mut alone = analyze(LAYERED);
    let specs = wasm::read_specs("run", "-u 1", None, &JsValue::UNDEFINED, None).unwrap();
    alone.hold_specs(&specs, "unused");
    assert_eq!(parse(&alone.json())["runs"][0]["outcome"], "starts");
    let named = wasm::read_specs("k8s", "kind: Pod\napiVersion: v1\nspec:\n  containers:\n    - {name: a, image: x:1}\n    - {name: b, image: y:1}\n", None, &JsValue::UNDEFINED, None).unwrap();
    let mut alone = analyze(LAYERED);
    alone.hold_specs(&named, "no archive given holds it");
    let runs = parse(&alone.json())["runs"].clone();
    assert_eq!(runs[0]["message"], "x:1: no archive given holds it");
}

#[wasm_bindgen_test]
fn bad_specs_are_e_bad_spec_with_where() {
    let err = error(wasm::read_specs(
        "compose",
        "services:\n  a:\n    user: x\n    user: y\n",
        Some("c.yml".into()),
        &JsValue::UNDEFINED,
        None,
    ));
    assert_eq!(code(&err), "E_BAD_SPEC");
    assert!(
        message(&err).starts_with("c.yml:4:5: mapping key"),
        "{}",
        message(&err)
    );
    let get = |k: &str| Reflect::get(&err, &JsValue::from_str(k)).unwrap();
    assert_eq!(get("file"), "c.yml");
    assert_eq!(get("line").as_f64(), Some(4.0));
    assert_eq!(get("column").as_f64(), Some(5.0));
    let run = error(wasm::read_specs(
        "run",
        "-Z",
        None,
        &JsValue::UNDEFINED,
        None,
    ));
    assert_eq!(code(&run), "E_BAD_SPEC");
    assert!(message(&run).starts_with("--run: "));
    assert!(Reflect::get(&run, &JsValue::from_str("line"))
        .unwrap()
        .is_null());
    // Hostile input is an error, never a trap.
    let deep = "[".repeat(100_000);
    assert_eq!(
        error_code(wasm::read_specs(
            "k8s",
            &deep,
            None,
            &JsValue::UNDEFINED,
            None
        )),
        "E_BAD_SPEC"
    );
    assert_eq!(
        error_code(wasm::read_specs(
            "helm",
            "",
            None,
            &JsValue::UNDEFINED,
            None
        )),
        "E_USAGE"
    );
}

#[wasm_bindgen_test]
fn merge_adds_the_images_and_says_so() {
    let mut a = analyze(LAYERED);
    a.merge(analyze(SAMPLE), "sample.tar.gz");
    let report = parse(&a.json());
    assert_eq!(report["images"].as_array().unwrap().len(), 2);
    assert!(report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w == "input describes the first source; sample.tar.gz added 1 image(s)"));
}
