// Types of the rootless-check JavaScript API. The report's types are
// generated at build time from schema/report.schema.json (the JSON report,
// schemaVersion 1: fields are added over time, never renamed or removed).

%REPORT_TYPES%

/** What `analyze()` rejects with when nothing could be analysed (or on misuse).
 * `E_INTERNAL` means a bug: the analysis trapped. */
export interface RootlessCheckError extends globalThis.Error {
  code: ErrorCode | 'E_INTERNAL';
  entry?: string;
  offset?: number;
  /** `E_BAD_SPEC`: where the spec does not read (`null` when not known). */
  file?: string | null;
  line?: number | null;
  column?: number | null;
}

export interface Progress {
  /** Bytes of the source read or skipped so far; for a registry, the bytes
   * of blobs downloaded (configs and layers). */
  bytesRead: number;
  /** The source's size; `undefined` for a pipe (and `docker-daemon:`); for
   * a registry, the sizes of the configs and layers to download; for an OCI
   * layout, of its layer files. */
  totalBytes: number | undefined;
  /** The archive member being read (e.g. `blobs/sha256/ab12…` or
   * `0123abcd/layer.tar`), or the blob being downloaded
   * (`blobs/sha256/<hex>`), when known. Untrusted text. */
  layer?: string;
}

export interface AnalyzeOptions {
  /** Called after each block read (at most a few per block). */
  onProgress?: (progress: Progress) => void;
  /** Rejects with `signal.reason` when aborted, at once: the analysis runs
   * in workers (Web Workers; in Node, worker threads whenever a signal is
   * given), which an abort terminates. */
  signal?: AbortSignal;
  /** Bytes read per call (default 1 MiB for files in Node, 8 MiB in browsers; at
   * least 64 KiB). Browsers read uncompressed and gzip layers through streams, in
   * windows of at most 1 MiB and at most this. */
  blockSize?: number;
  /** Accept findings: `RULE` or `RULE:GLOB`, as the CLI's `--ignore`. They
   * move to `suppressed`. An unknown rule rejects with `E_USAGE`. */
  ignore?: string[];
  /** Check every layer, config and manifest digest (reads the whole
   * archive); mismatches are in each image's `verification`. */
  verify?: boolean;
  /** The decompression budget: at most this many bytes decoded from gzip
   * and zstd (the whole archive and every compressed layer together), as
   * the CLI's `--max-decompressed`; `'none'` lifts it. Past it the report
   * is partial, with an `E_LIMIT` error naming the layer and the figures.
   * Default: the larger of 2 GiB and 100 times the archive's size (for a
   * registry or an OCI layout, the size of its layers as stored). */
  maxDecompressed?: number | 'none';
  /** The layers of a file (Node: a path or file descriptor; browsers: a
   * `File`/`Blob`) holding an uncompressed archive are summarised in
   * parallel workers (worker threads, Web Workers) when they total at least
   * this many bytes (default 32 MiB): below it, starting workers costs more
   * than it saves. */
  parallelMinBytes?: number;
  /** A file that is gzip as a whole and at least this big (default 32 MiB
   * with two CPUs or more, else `Infinity`) is inflated by the wasm in a
   * worker of its own while the analysis reads the decoded tar: in Node (a
   * path or descriptor; needs `zlib.crc32`, whose CRC checks each member on
   * the analysis' thread) and in browsers (a `File`/`Blob`; needs JS Promise
   * Integration, `WebAssembly.Suspending`, and fetches another wasm,
   * `web-stream/`; where that fails, one worker decodes the file). A
   * stream that does not end cleanly, a wrong CRC or size, or a partial
   * report (but for the decompression budget's) is analysed again with the
   * wasm's sequential decoder, whose word is final. */
  gunzipMinBytes?: number;

  // Sources named by reference (`docker://REF`, a bare `REF`, `oci:DIR`):
  // the native CLI's options of the same names. Node only.

  /** `os/arch[/variant]` (`linux/arm64/v8`): the image to pick from a
   * registry's index (default: `linux/` and this machine's architecture, as
   * `docker pull` does); also filters an OCI layout's images (`--platform`). */
  platform?: string;
  /** Every image of a registry's index, not one (`--all-platforms`). */
  allPlatforms?: boolean;
  /** `USER[:PASSWORD]` for the registry (`--creds`). Without it, credentials
   * are looked up as podman and skopeo do: `authfile` alone, else
   * `REGISTRY_AUTH_FILE` alone, else `$XDG_RUNTIME_DIR/containers/auth.json`,
   * `$XDG_CONFIG_HOME/containers/auth.json` (or `~/.config/…`),
   * `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`, with its
   * `credHelpers` and `credsStore`), `~/.dockercfg`. Never shown in errors. */
  creds?: string;
  /** The only auth file to read (containers-auth.json) (`--authfile`). */
  authfile?: string;
  /** `false`: allow a registry over plain HTTP (HTTPS is tried first), and
   * HTTPS without certificate verification, as `--tls-verify=false`. Default
   * `true`. */
  tlsVerify?: boolean;
  /** Layers downloaded at once, 1 to 64 (default 3, as docker pull;
   * `--max-concurrent-downloads`). */
  concurrency?: number;

  // How the images will run (the CLI's `--run`, `--compose`, `--k8s`): give
  // one. Each container or service is held against its image (paired by
  // reference as docker normalises it; with one image and one name, whatever
  // the tag) and reported in `runs`. With a spec, `source` may be an array
  // of sources (or, in Node, none: the images the spec names are pulled).

  /** `docker run`/`podman run` options (`--user 1000 --cap-drop ALL`). */
  run?: string;
  /** The text of a compose file, interpolated from `env` then `dotenv`. */
  compose?: string;
  /** The text of Kubernetes manifests (Pod, Deployment, StatefulSet, …). */
  k8s?: string;
  /** Node: a compose file's path, read as the CLI reads it (its `.env`
   * beside it, unless `dotenv` is given). */
  composeFile?: string;
  /** Node: a manifests file's path. */
  k8sFile?: string;
  /** The spec's name in messages and in `runs[].source.file` (default: the
   * file's path for `composeFile`/`k8sFile`, else none). */
  specName?: string;
  /** Variables for compose interpolation. Node: default `process.env`;
   * browsers: none unless given. */
  env?: Record<string, string | undefined>;
  /** The text of a `.env` file: variables the environment lacks. */
  dotenv?: string;
}

/** Anything with a size and `slice()`: a browser `File` or `Blob`. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): unknown;
}

/** What {@link analyze} reads (see there). */
export type Source = string | URL | Uint8Array | ArrayBuffer | BlobLike | { fd: number };

/**
 * Analyse an image archive (docker save, podman save, an OCI archive, a
 * flattened export; gzip- or zstd-compressed or not), or an image named by
 * reference.
 *
 * - Node: `source` is a string naming it as the CLI does — a file path (read
 *   in blocks, never whole), `docker-archive:PATH`, `oci-archive:PATH`,
 *   `oci:DIR[:REF]` (an OCI layout directory), `docker://REF` (a registry),
 *   `docker-daemon:REF` (the Docker Engine API on `DOCKER_HOST`), or a bare
 *   `REF` (`alpine`, `ghcr.io/org/app:1`) when no such file exists and it
 *   does not look like a path — or a `URL` of a file, bytes, or `{ fd }`.
 *   The report then says where the image came from in `input.source`.
 * - Browsers: a `File`/`Blob` (read in a Web Worker) or bytes; a string
 *   rejects with `E_NETWORK` (registries send no CORS headers; a page reads
 *   only local files).
 *
 * With a run spec (`run`, `compose`, `k8s`…), `source` may also be an array
 * of sources, or `null` (Node: the images the spec names are pulled); a
 * spec that does not read rejects with `E_BAD_SPEC`.
 *
 * Resolves with the report, which may be `partial` (see `errors`). Rejects
 * with a {@link RootlessCheckError} when nothing could be analysed.
 */
export function analyze(
  source: Source | Source[] | null,
  options?: AnalyzeOptions,
): Promise<Report>;

/** A report with its renderings: `json` is the text of `report` (as the
 * CLI's `--format json`), `sarif` the SARIF 2.1.0 log (`--format sarif`). */
export interface AnalysisOutputs {
  report: Report;
  json: string;
  sarif: string;
}

/** The same analysis as {@link analyze}; also gives the JSON and SARIF texts
 * (for downloads, or to write them out without rendering again). */
export function analyzeWithOutputs(
  source: Source | Source[] | null,
  options?: AnalyzeOptions,
): Promise<AnalysisOutputs>;

/** The CLI's formats. */
export type Format = 'text' | 'json' | 'sarif' | 'markdown' | 'junit' | 'badge' | 'shields';

/** Options of {@link check}: those of {@link analyze}, and the CLI's. */
export interface CheckOptions extends AnalyzeOptions {
  /** The format of `output` (default "text", without colour). */
  format?: Format;
  /** `--fail-on`: a severity or "none" (default "high"). */
  failOn?: 'critical' | 'high' | 'medium' | 'low' | 'info' | 'none';
  /** The text of an ignore file (`--ignore-file`), with `ignore`'s specs. */
  ignoreFile?: string;
}

/** What {@link check} gives: what the CLI would print and return. */
export interface CheckResult {
  report: Report;
  /** The verdict of each image, in order. */
  verdicts: Array<'root' | 'pseudo-rootless' | 'rootless' | 'unknown'>;
  /** The report in `options.format`: the native CLI's bytes. */
  output: string;
  sarif: string;
  markdown: string;
  /** The CLI's exit status: 0, 1 (a finding at or above failOn) or 2. */
  status: number;
  /** What the CLI says on stderr after the report (without its prefix). */
  messages: string[];
}

/** Node only: analyse and render as the CLI does (the GitHub Action uses it). */
export function check(source: Source | Source[] | null, options?: CheckOptions): Promise<CheckResult>;

/** The version of the analysis (the Rust crate's). */
export function version(): string;
