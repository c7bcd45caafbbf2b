//! One gzip stream decoded on every core (native only), by rapidgzip's
//! method (Knespel & Brunst, HPDC 2023): the compressed stream is cut into
//! chunks; a worker finds a deflate block start in each chunk (finder.rs)
//! and decodes from there with the preceding 32 KiB still unknown (markers,
//! inflate.rs; then zlib-rs, chunk.rs), up to the first block boundary past
//! its chunk. The consumer ([`ParallelGunzip`]) takes the chunks in order,
//! resolves the markers with the previous chunk's last 32 KiB, accepts a
//! chunk only if it starts exactly where the previous one ended, checks
//! every member's CRC-32 and size, and hands out the bytes.
//!
//! When a speculation fails, the consumer decodes that chunk itself from
//! where the previous one ended (its window known); if that fails too (a
//! corrupt or truncated stream, a block longer than a chunk, a chunk that
//! decodes past the cap) the rest of the member is decoded sequentially
//! by zlib-rs, and the members after it by [`GzipReader`], the sequential
//! decoder, so that errors are its errors. At most a fixed number of chunks
//! is in flight, each decoding at most `CAP` bytes: memory stays bounded.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

mod bits;
mod chunk;
mod finder;
mod huffman;
mod inflate;

pub use finder::plausible as plausible_block;

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Cursor, Read};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use zlib_rs::{Inflate, InflateFlush, Status};

use super::gzip::{corrupt, incomplete, GzipReader};
use super::gzip_member::{self as member, Trailer};
use chunk::{Decoded, End, Job, Start};
use inflate::{MARKER, WINDOW};

/// A job's data, where it stops, and whether it reaches the stream's end.
type JobData = (Arc<Vec<u8>>, u64, bool);

/// Compressed bytes per chunk.
const CHUNK: usize = 4 << 20;
/// Decoded bytes per chunk at most (a ratio of 12): past it, that chunk is
/// decoded by the consumer, or sequentially.
const CAP: usize = 48 << 20;

/// Chunks in a row decoded mostly with markers before the rest of a
/// member is decoded sequentially.
const MARKED_CHUNKS: usize = 2;

/// Threads to decode one gzip stream with: `ROOTLESS_CHECK_GZIP_THREADS`,
/// else 1 (the sequential decoder). Not the cores by default: measured on
/// 2 cores (bench/GZIP-RESULTS.md), tar data keeps the workers in our
/// marker decoder (markers never clear) and 2 threads are slower than
/// zlib-rs on one.
pub fn threads() -> usize {
    std::env::var("ROOTLESS_CHECK_GZIP_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// A gzip stream read with [`ParallelGunzip`] if it is worth it: several
/// threads and at least `min_size` compressed bytes (unknown: yes).
pub fn reader<'a>(
    source: Box<dyn Read + 'a>,
    size: Option<u64>,
    min_size: u64,
) -> Box<dyn Read + 'a> {
    let threads = threads();
    if threads < 2 || size.is_some_and(|s| s < min_size) {
        return Box::new(GzipReader::new(source));
    }
    Box::new(ParallelGunzip::new(source, threads))
}

enum Mode<'a> {
    /// Not started: the first member's header is read first.
    Start,
    Parallel,
    /// The rest of a member by zlib-rs, from an exact bit.
    Tail(Box<Tail<'a>>),
    /// From a member's start on: the sequential decoder.
    Sequential(Box<GzipReader<Box<dyn Read + 'a>>>),
    Done,
    /// An error, returned again on each read.
    Failed(io::ErrorKind, &'static str),
}

/// A gzip stream decoded by several threads; reads give the same bytes and
/// errors as [`GzipReader`].
pub struct ParallelGunzip<'a> {
    source: Option<Box<dyn Read + 'a>>,
    source_eof: bool,
    /// Compressed chunks `first..`, kept until decoded.
    raw: VecDeque<Arc<Vec<u8>>>,
    first: usize,
    /// Jobs: the next to hand out; the next chunk to consume.
    next_job: usize,
    next_chunk: usize,
    in_flight: usize,
    jobs: Option<Sender<(usize, Job)>>,
    results: Receiver<(usize, Decoded)>,
    pending: BTreeMap<usize, Decoded>,
    /// Each job's data, for decoding it again here.
    job_data: BTreeMap<usize, JobData>,
    workers: Vec<JoinHandle<()>>,
    /// The exact bit where decoding goes on, and the member so far: its
    /// last 32 KiB, CRC-32 and size.
    pos: u64,
    window: Vec<u8>,
    crc: u32,
    size: u64,
    /// Decoded bytes to hand out.
    ready: VecDeque<Vec<u8>>,
    ready_at: usize,
    mode: Mode<'a>,
    chunk: usize,
    cap: usize,
    /// Chunks taken as the workers decoded them, decoded again here, and
    /// whether the tail ran (`ROOTLESS_CHECK_PGZIP_STATS=1` prints them).
    stats: [usize; 3],
    /// Chunks in a row decoded mostly with markers.
    marked: usize,
}

impl<'a> ParallelGunzip<'a> {
    pub fn new(source: Box<dyn Read + 'a>, threads: usize) -> Self {
        Self::with_chunks(source, threads, CHUNK, CAP)
    }

    /// With chunks of `chunk` compressed bytes, each decoding to at most
    /// `cap` bytes (tests use small ones).
    pub fn with_chunks(
        source: Box<dyn Read + 'a>,
        threads: usize,
        chunk: usize,
        cap: usize,
    ) -> Self {
        let (jobs_tx, jobs_rx) = channel::<(usize, Job)>();
        let (results_tx, results) = channel();
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        let workers = (0..threads.max(1))
            .map(|_| {
                let rx = Arc::clone(&jobs_rx);
                let tx = results_tx.clone();
                std::thread::spawn(move || loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((i, job)) = job else { break };
                    if tx.send((i, chunk::decode(&job))).is_err() {
                        break;
                    }
                })
            })
            .collect();
        ParallelGunzip {
            source: Some(source),
            source_eof: false,
            raw: VecDeque::new(),
            first: 0,
            next_job: 0,
            next_chunk: 0,
            in_flight: 0,
            jobs: Some(jobs_tx),
            results,
            pending: BTreeMap::new(),
            job_data: BTreeMap::new(),
            workers,
            pos: 0,
            window: Vec::new(),
            crc: 0,
            size: 0,
            ready: VecDeque::new(),
            ready_at: 0,
            mode: Mode::Start,
            chunk,
            cap,
            stats: [0; 3],
            marked: 0,
        }
    }

    fn max_in_flight(&self) -> usize {
        self.workers.len() + 2
    }

    /// Compressed chunks read so far.
    fn read_count(&self) -> usize {
        self.first + self.raw.len()
    }

    fn raw_chunk(&self, i: usize) -> Option<&Arc<Vec<u8>>> {
        i.checked_sub(self.first).and_then(|j| self.raw.get(j))
    }

    /// Read chunks until chunk `i` is read (or the source ends).
    fn read_until(&mut self, i: usize) -> io::Result<()> {
        while self.read_count() <= i && !self.source_eof {
            let Some(source) = self.source.as_mut() else {
                break;
            };
            let mut buf = vec![0u8; self.chunk];
            let mut n = 0;
            while n < self.chunk {
                match source.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if n < self.chunk {
                self.source_eof = true;
            }
            if n > 0 {
                buf.truncate(n);
                self.raw.push_back(Arc::new(buf));
            }
        }
        Ok(())
    }

    /// Job `i`'s data (chunk `i` and the next), and whether it reaches
    /// the end of the stream.
    fn data(&mut self, i: usize) -> io::Result<Option<JobData>> {
        self.read_until(i + 2)?;
        let Some(this) = self.raw_chunk(i) else {
            return Ok(None);
        };
        let mut data = Vec::with_capacity(2 * self.chunk);
        data.extend_from_slice(this);
        let has_next = self.raw_chunk(i + 1).is_some();
        if let Some(next) = self.raw_chunk(i + 1) {
            data.extend_from_slice(next);
        }
        let eof = self.source_eof && self.read_count() <= i + 2;
        let stop = if has_next {
            self.chunk as u64 * 8
        } else {
            u64::MAX
        };
        Ok(Some((Arc::new(data), stop, eof)))
    }

    /// Hand out jobs up to the limit in flight.
    fn dispatch(&mut self) -> io::Result<()> {
        while self.in_flight < self.max_in_flight() {
            let i = self.next_job;
            let Some((data, stop, eof)) = self.data(i)? else {
                break;
            };
            let start = if i == 0 {
                Start::Known {
                    bit: self.pos,
                    window: Vec::new(),
                }
            } else {
                Start::Find {
                    to: self.chunk as u64 * 8,
                }
            };
            let job = Job {
                data: Arc::clone(&data),
                stop,
                eof,
                start,
                cap: self.cap,
            };
            self.job_data.insert(i, (data, stop, eof));
            if let Some(jobs) = &self.jobs {
                if jobs.send((i, job)).is_err() {
                    return Err(io::Error::other("gzip workers stopped"));
                }
            }
            self.next_job += 1;
            self.in_flight += 1;
        }
        Ok(())
    }

    /// The first member's header, read here: decoding starts after it.
    fn start(&mut self) -> io::Result<()> {
        self.read_until(0)?;
        let head = self.raw_chunk(0).cloned().unwrap_or_default();
        match member::header(&head, 0) {
            Ok(n) if n < head.len() => {
                self.pos = n as u64 * 8;
                self.mode = Mode::Parallel;
            }
            // An empty stream, a header at the end of the first chunk, or a
            // header zlib refuses: the sequential decoder.
            _ => self.sequential_from(0),
        }
        Ok(())
    }

    /// The compressed bytes from byte `at` on (in chunks kept or not read
    /// yet), as a reader; the workers stop.
    fn rest_from(&mut self, at: u64) -> Box<dyn Read + 'a> {
        self.jobs = None;
        let mut kept = Vec::new();
        let mut base = self.first as u64 * self.chunk as u64;
        for c in self.raw.drain(..) {
            let end = base + c.len() as u64;
            if end > at {
                let from = at.saturating_sub(base) as usize;
                kept.extend_from_slice(&c[from..]);
            }
            base = end;
        }
        let source = self.source.take().unwrap_or_else(|| Box::new(io::empty()));
        Box::new(Cursor::new(kept).chain(source))
    }

    /// The sequential decoder from byte `at` (a member's start) on.
    fn sequential_from(&mut self, at: u64) {
        let rest = self.rest_from(at);
        self.mode = Mode::Sequential(Box::new(GzipReader::new(rest)));
    }

    /// Take the next chunk's bytes (Parallel mode).
    fn next(&mut self) -> io::Result<()> {
        self.dispatch()?;
        let k = self.next_chunk;
        let Some((data, stop, eof)) = self.job_data.remove(&k) else {
            // No chunk left, yet no member said the stream ended.
            self.tail();
            return Ok(());
        };
        let d = loop {
            if let Some(d) = self.pending.remove(&k) {
                break d;
            }
            match self.results.recv() {
                Ok((i, d)) => {
                    self.pending.insert(i, d);
                }
                Err(_) => return Err(io::Error::other("gzip workers stopped")),
            }
        };
        self.in_flight -= 1;
        self.next_chunk += 1;
        let base = k as u64 * self.chunk as u64 * 8;
        // Decoded mostly before its window was known (markers).
        let marked = d.head.len() * 2 > d.len();
        if self.pos >= base.saturating_add(stop) {
            // A block spans this whole chunk: nothing starts in it.
        } else if self.same_start(&data, d.start, self.pos - base) && self.accept(d, base)? {
            self.stats[0] += 1;
            // Markers that never clear (a tar's zero padding copied from
            // the unknown window, again and again) keep the workers in our
            // decoder, slower than zlib-rs alone: after two such chunks in
            // a row the rest of the member is decoded sequentially.
            self.marked = if marked { self.marked + 1 } else { 0 };
            if self.marked >= MARKED_CHUNKS && matches!(self.mode, Mode::Parallel) {
                self.tail();
            }
        } else {
            self.stats[1] += 1;
            // The speculation failed: decode this chunk here, its window known.
            let job = Job {
                data,
                stop,
                eof,
                start: Start::Known {
                    bit: self.pos - base,
                    window: self.window.clone(),
                },
                cap: self.cap,
            };
            if !self.accept(chunk::decode(&job), base)? {
                self.tail();
            }
        }
        // Chunks before the one holding `pos` are no longer needed.
        while self.first < self.next_chunk
            && self.pos / 8 >= (self.first as u64 + 1) * self.chunk as u64
        {
            self.raw.pop_front();
            self.first += 1;
        }
        Ok(())
    }

    /// Does a chunk that starts at bit `found` start where the previous one
    /// ended (`at`)? Yes if equal, or if both read as the header of the
    /// same stored block: its 3 header bits are followed by zeros up to the
    /// byte boundary, so a few neighbouring bits read as the same header.
    fn same_start(&self, data: &[u8], found: u64, at: u64) -> bool {
        if found == at {
            return true;
        }
        let stored = |p: u64| {
            let head = bits::Bits::new(data, p).peek32();
            let pad = (8 - (p + 3) % 8) % 8;
            head & 6 == 0 && (head >> 3) & ((1 << pad) - 1) == 0
        };
        let byte = |p: u64| (p + 3).div_ceil(8);
        let last = |p: u64| bits::Bits::new(data, p).peek32() & 1;
        found.abs_diff(at) < 8
            && byte(found) == byte(at)
            && stored(found)
            && stored(at)
            && last(found) == last(at)
    }

    /// Take a decoded chunk that starts at `pos`, if it decoded to its end
    /// and its markers resolve; false if not (nothing taken).
    fn accept(&mut self, d: Decoded, base: u64) -> io::Result<bool> {
        let Decoded {
            head,
            body,
            members,
            end,
            ..
        } = d;
        if matches!(end, End::Failed(_)) {
            return Ok(false);
        }
        let mut bytes = Vec::with_capacity(head.len());
        for v in head {
            if v < MARKER {
                bytes.push(v as u8);
                continue;
            }
            // Byte `i` of the 32 KiB before the chunk.
            let back = WINDOW - usize::from(v - MARKER);
            if back > self.window.len() {
                return Ok(false); // before the member's start
            }
            bytes.push(self.window[self.window.len() - back]);
        }
        // The resolved head and the body, without copying the body.
        let mut parts = [bytes, body];
        let total = parts[0].len() + parts[1].len();
        let mut from = 0;
        let mut cut = None;
        for m in &members {
            self.take_parts(&parts, from, m.at);
            let check = Trailer {
                crc: self.crc,
                size: self.size as u32,
            };
            if check != m.trailer {
                // The sequential decoder reports the error in place of its
                // last output, so that a walk that stops at the archive's
                // end still sees it: this chunk's bytes of the member are
                // held back.
                cut = Some(from);
                break;
            }
            from = m.at;
            (self.crc, self.size) = (0, 0);
            self.window.clear();
        }
        if let Some(c) = cut {
            // Hand out the member's bytes, then the sequential decoder's error.
            let h = parts[0].len();
            parts[0].truncate(c);
            parts[1].truncate(c.saturating_sub(h));
            self.mode = Mode::Failed(io::ErrorKind::InvalidData, "corrupt gzip stream");
        } else {
            self.take_parts(&parts, from, total);
            match end {
                End::Boundary(p) => self.pos = base + p,
                _ => self.mode = Mode::Done,
            }
        }
        let [head, body] = parts;
        self.flush(head);
        self.flush(body);
        Ok(true)
    }

    /// [`Self::take`] bytes `[a, b)` of a head and a body.
    fn take_parts(&mut self, parts: &[Vec<u8>; 2], a: usize, b: usize) {
        let h = parts[0].len();
        if a < h {
            self.take(&parts[0][a..b.min(h)]);
        }
        if b > h {
            self.take(&parts[1][a.max(h) - h..b - h]);
        }
    }

    /// Count decoded bytes into the member's CRC, size and window.
    fn take(&mut self, bytes: &[u8]) {
        self.crc = zlib_rs::crc32::crc32(self.crc, bytes);
        self.size += bytes.len() as u64;
        if bytes.len() >= WINDOW {
            self.window.clear();
            self.window
                .extend_from_slice(&bytes[bytes.len() - WINDOW..]);
        } else {
            self.window.extend_from_slice(bytes);
            let cut = self.window.len().saturating_sub(WINDOW);
            self.window.drain(..cut);
        }
    }

    /// Hand out `bytes`.
    fn flush(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.ready.push_back(bytes);
        }
    }

    /// The rest of the member sequentially, from `pos`.
    fn tail(&mut self) {
        self.stats[2] += 1;
        let rest = self.rest_from(self.pos / 8);
        self.mode = Mode::Tail(Box::new(Tail::new(
            rest,
            self.pos,
            &self.window,
            self.crc,
            self.size,
        )));
    }
}

impl Drop for ParallelGunzip<'_> {
    fn drop(&mut self) {
        if std::env::var_os("ROOTLESS_CHECK_PGZIP_STATS").is_some() {
            let [taken, again, tails] = self.stats;
            let ms =
                |i: usize| chunk::TIME[i].load(std::sync::atomic::Ordering::Relaxed) / 1_000_000;
            std::eprintln!(
                "pgzip: {taken} chunks taken, {again} decoded again, {tails} tails; workers: find {} ms, own decoder {} ms, zlib-rs {} ms (pinning {} ms)",
                ms(0), ms(1), ms(2), ms(3)
            );
        }
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Read for ParallelGunzip<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(front) = self.ready.front() {
                let n = out.len().min(front.len() - self.ready_at);
                out[..n].copy_from_slice(&front[self.ready_at..self.ready_at + n]);
                self.ready_at += n;
                if self.ready_at == front.len() {
                    self.ready.pop_front();
                    self.ready_at = 0;
                }
                return Ok(n);
            }
            if out.is_empty() {
                return Ok(0);
            }
            match &mut self.mode {
                Mode::Start => self.start()?,
                Mode::Parallel => self.next()?,
                Mode::Sequential(g) => return g.read(out),
                Mode::Done => return Ok(0),
                Mode::Failed(kind, msg) => return Err(io::Error::new(*kind, *msg)),
                Mode::Tail(t) => match t.read(out) {
                    Ok(TailRead::Bytes(n)) => return Ok(n),
                    Ok(TailRead::MemberEnd(next)) => {
                        let Mode::Tail(t) = core::mem::replace(&mut self.mode, Mode::Done) else {
                            unreachable!()
                        };
                        self.mode = Mode::Sequential(Box::new(GzipReader::new(t.into_rest(next))));
                    }
                    Err(e) => {
                        self.mode = Mode::Failed(
                            e.kind(),
                            if e.kind() == io::ErrorKind::UnexpectedEof {
                                "incomplete gzip stream"
                            } else {
                                "corrupt gzip stream"
                            },
                        );
                        return Err(e);
                    }
                },
            }
        }
    }
}

enum TailRead {
    Bytes(usize),
    /// The member ended; the next starts at this index of `buf`.
    MemberEnd(usize),
}

/// The rest of a member from an exact bit: our decoder up to a block that
/// starts on a byte boundary (zlib-rs cannot start between bits), then
/// zlib-rs with the member's last 32 KiB as its dictionary.
struct Tail<'a> {
    rest: Box<dyn Read + 'a>,
    rest_eof: bool,
    /// Compressed bytes from byte `pos / 8` of the stream on.
    buf: Vec<u8>,
    /// The bit in `buf` where decoding goes on (a block start while our
    /// decoder runs; a byte, `used`, once zlib-rs does).
    at: u64,
    used: usize,
    z: Option<Inflate>,
    /// Our decoder's bytes not handed out yet.
    pending: Vec<u8>,
    pending_at: usize,
    window: Vec<u8>,
    crc: u32,
    size: u64,
    /// The member's last block ended (at `at`: exactly, or not, see
    /// [`Tail::trailer`]); its trailer is checked next.
    ended: Option<bool>,
    /// The member's trailer checked: the next starts at this index of `buf`.
    next_member: Option<usize>,
}

impl<'a> Tail<'a> {
    fn new(rest: Box<dyn Read + 'a>, pos: u64, window: &[u8], crc: u32, size: u64) -> Self {
        Tail {
            rest,
            rest_eof: false,
            buf: Vec::new(),
            at: pos % 8,
            used: 0,
            z: None,
            pending: Vec::new(),
            pending_at: 0,
            window: window.to_vec(),
            crc,
            size,
            ended: None,
            next_member: None,
        }
    }

    /// Read until `want` bytes from `from` are buffered (or the input ends).
    fn fill(&mut self, from: usize, want: usize) -> io::Result<()> {
        while !self.rest_eof && self.buf.len() < from + want {
            let at = self.buf.len();
            self.buf.resize(at + (256 << 10).max(want), 0);
            let n = loop {
                match self.rest.read(&mut self.buf[at..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r,
                }
            };
            let n = n.inspect_err(|_| self.buf.truncate(at))?;
            self.buf.truncate(at + n);
            self.rest_eof = n == 0;
        }
        Ok(())
    }

    fn count(&mut self, bytes: &[u8]) {
        self.crc = zlib_rs::crc32::crc32(self.crc, bytes);
        self.size += bytes.len() as u64;
    }

    fn read(&mut self, out: &mut [u8]) -> io::Result<TailRead> {
        loop {
            if self.pending_at < self.pending.len() {
                let n = out.len().min(self.pending.len() - self.pending_at);
                out[..n].copy_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
                self.pending_at += n;
                return Ok(TailRead::Bytes(n));
            }
            if let Some(at) = self.next_member {
                return Ok(TailRead::MemberEnd(at));
            }
            // The member's bytes are all out: now its trailer (an error
            // there comes after them, as from the sequential decoder).
            if let Some(exact) = self.ended.take() {
                self.trailer(exact)?;
                continue;
            }
            if self.z.is_none() {
                self.own_block()?;
                continue;
            }
            let n = self.inflate(out)?;
            if n > 0 {
                return Ok(TailRead::Bytes(n));
            }
        }
    }

    /// One block by our decoder (its bytes then handed out).
    fn own_block(&mut self) -> io::Result<()> {
        let mut want = 1 << 20;
        loop {
            let from = (self.at / 8) as usize;
            self.fill(from, want)?;
            let mut inf = inflate::Inflater::known(&self.window, CAP);
            let mut bits = bits::Bits::new(&self.buf, self.at);
            let r = inf.block(&mut bits);
            let end = bits.pos;
            match r {
                Ok(last) => {
                    let bytes: Vec<u8> = inf.out[self.window.len()..]
                        .iter()
                        .map(|&v| v as u8)
                        .collect();
                    self.count(&bytes);
                    let keep = inf.out.len().saturating_sub(WINDOW);
                    self.window = inf.out[keep..].iter().map(|&v| v as u8).collect();
                    self.at = end;
                    (self.pending, self.pending_at) = (bytes, 0);
                    if last {
                        self.ended = Some(true);
                        return Ok(());
                    }
                    if self.at % 8 == 0 {
                        // zlib-rs from here on.
                        let mut z = Inflate::new(false, 15);
                        if !self.window.is_empty() {
                            z.set_dictionary(&self.window).map_err(|_| corrupt())?;
                        }
                        self.z = Some(z);
                        self.used = (self.at / 8) as usize;
                    }
                    return Ok(());
                }
                Err(inflate::Fail::Short) if !self.rest_eof => want *= 2,
                Err(inflate::Fail::Short) => return Err(incomplete()),
                Err(_) => return Err(corrupt()),
            }
        }
    }

    /// zlib-rs into `out`: the bytes it gave.
    fn inflate(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.used > (4 << 20) {
            // Drop what is long consumed.
            let cut = self.used - 64;
            self.buf.drain(..cut);
            self.used -= cut;
        }
        let used = self.used;
        self.fill(used, 64 << 10)?;
        let Some(z) = self.z.as_mut() else {
            return Err(corrupt());
        };
        let input = &self.buf[self.used..];
        let (in0, out0) = (z.total_in(), z.total_out());
        let r = z.decompress(input, out, InflateFlush::NoFlush);
        let consumed = (z.total_in() - in0) as usize;
        let produced = (z.total_out() - out0) as usize;
        let drained = consumed == input.len();
        self.used += consumed;
        self.count(&out[..produced]);
        let status = r.map_err(|_| corrupt())?;
        if status == Status::StreamEnd {
            self.at = self.used as u64 * 8;
            self.z = None;
            // A trailer that is there and wrong: the error replaces this
            // output (as from the sequential decoder); a missing one comes
            // after it.
            match self.trailer(false) {
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(e),
                _ => self.ended = Some(false),
            }
            self.next_member = None;
        } else if produced == 0 && drained && self.rest_eof {
            return Err(incomplete());
        } else if produced == 0 && consumed == 0 && !out.is_empty() {
            return Err(corrupt());
        }
        Ok(produced)
    }

    /// After the member's last block, which ended at `at` (`exact`) or at
    /// most 128 bits before it (zlib-rs): the trailer that matches the
    /// member's CRC and size. The next member starts after it.
    fn trailer(&mut self, exact: bool) -> io::Result<()> {
        let hi = self.at.div_ceil(8) as usize;
        let lo = if exact {
            hi
        } else {
            self.at.saturating_sub(128).div_ceil(8) as usize
        };
        self.fill(lo, 16 + hi - lo)?;
        let want = Trailer {
            crc: self.crc,
            size: self.size as u32,
        };
        let mut short = false;
        for t in lo..=hi {
            match self.buf.get(t..t + 8) {
                Some(b) if Trailer::parse(b) == want => {
                    self.next_member = Some(t + 8);
                    return Ok(());
                }
                Some(_) => {}
                // zlib checks the CRC-32 as soon as its 4 bytes are there.
                None => match self.buf.get(t..t + 4) {
                    Some(c) if u32::from_le_bytes([c[0], c[1], c[2], c[3]]) != want.crc => {}
                    _ => short = true,
                },
            }
        }
        Err(if short { incomplete() } else { corrupt() })
    }

    fn into_rest(self, at: usize) -> Box<dyn Read + 'a> {
        let kept = self.buf[at..].to_vec();
        Box::new(Cursor::new(kept).chain(self.rest))
    }
}

#[cfg(test)]
mod tests;
