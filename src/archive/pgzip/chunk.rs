//! Decoding one chunk of the compressed stream (what a worker does): from a
//! block start that the block finder found (the window before it unknown:
//! markers) or that the consumer knows (with its window), to the first
//! block boundary at or after the chunk's end.
//!
//! Our decoder ([`Inflater`]) runs while markers can still appear; once the
//! last 32 KiB are plain bytes and a block starts on a byte boundary,
//! zlib-rs (several times faster) takes over with them as its dictionary. zlib-rs's safe API stops at block
//! boundaries (`InflateFlush::Block`) but tells only the bytes it consumed,
//! so the exact bit of the boundary where the chunk ends ("pinning") is
//! found by decoding the last block again with our decoder from each
//! candidate bit and keeping the one that gives the same bytes.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use zlib_rs::{Inflate, InflateFlush, Status};

use super::super::gzip_member::{self as member, Trailer};
use super::bits::Bits;
use super::finder;
use super::inflate::{Fail, Inflater, WINDOW};

/// Time spent by the workers (nanoseconds): finding block starts, in our
/// decoder, in zlib-rs, pinning chunk ends (`ROOTLESS_CHECK_PGZIP_STATS`).
pub static TIME: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn timed<T>(what: usize, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    TIME[what].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r
}

/// Bytes of output given to zlib-rs at a time.
const STEP: usize = 256 << 10;
/// How far before the bytes zlib-rs consumed a boundary may lie (the bits
/// it holds in its bit buffer).
const SLACK: u64 = 128;

pub enum Start {
    /// Find a block start in `[0, to)`: the window before it is unknown.
    Find { to: u64 },
    /// A block (or the data after a gzip header) starts at `bit`, after
    /// `window` (the member's last ≤ 32 KiB decoded bytes).
    Known { bit: u64, window: Vec<u8> },
}

pub struct Job {
    /// Compressed bytes: this chunk and the next (a block may run past the
    /// chunk's end).
    pub data: Arc<Vec<u8>>,
    /// Decode up to the first block boundary at or after this bit.
    pub stop: u64,
    /// `data` ends where the stream ends.
    pub eof: bool,
    pub start: Start,
    /// At most this many decoded bytes.
    pub cap: usize,
}

/// A member ended: after `at` decoded bytes of the chunk, with this trailer.
#[derive(Debug)]
pub struct MemberEnd {
    pub at: usize,
    pub trailer: Trailer,
}

#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The block boundary (bit in `data`) where decoding stopped.
    Boundary(u64),
    /// The stream's last member ended with the data.
    Eof,
    Failed(Fail),
}

pub struct Decoded {
    /// The bit in `data` where decoding started.
    pub start: u64,
    /// Decoded symbols while the window was unknown (markers ≥ 256).
    pub head: Vec<u16>,
    /// Decoded bytes after `head`.
    pub body: Vec<u8>,
    pub members: Vec<MemberEnd>,
    pub end: End,
}

impl Decoded {
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    fn failed(start: u64, f: Fail) -> Decoded {
        Decoded {
            start,
            head: Vec::new(),
            body: Vec::new(),
            members: Vec::new(),
            end: End::Failed(f),
        }
    }
}

/// Decode a job's chunk.
pub fn decode(job: &Job) -> Decoded {
    match &job.start {
        Start::Known { bit, window } => run(job, *bit, Some(window)),
        Start::Find { to } => {
            let mut from = 0;
            loop {
                let Some(p) = timed(0, || finder::find(&job.data, from, *to)) else {
                    return Decoded::failed(from, Fail::Bad);
                };
                let d = run(job, p, None);
                match d.end {
                    // A false start: try the next candidate.
                    End::Failed(Fail::Bad | Fail::Short) => from = p + 1,
                    _ => return d,
                }
            }
        }
    }
}

fn run(job: &Job, start: u64, window: Option<&Vec<u8>>) -> Decoded {
    let mut d = Decoded::failed(start, Fail::Bad);
    let mut pos = start;
    let mut inf = match window {
        None => Inflater::unknown(job.cap),
        Some(w) => Inflater::known(w, job.cap),
    };
    let mut tail = false;
    loop {
        let base = d.len();
        let wlen = if inf.inherited { 0 } else { inf.out.len() };
        let r = timed(1, || {
            own(job, &mut inf, &mut pos, &mut d.members, base, wlen, tail)
        });
        // What our decoder wrote: the head while the window was unknown.
        if d.head.is_empty() && d.body.is_empty() && window.is_none() && !tail {
            d.head = core::mem::take(&mut inf.out);
        } else {
            d.body.extend(inf.out[wlen..].iter().map(|&v| v as u8));
        }
        match r {
            Err(f) => {
                d.end = End::Failed(f);
                return d;
            }
            Ok(Some(end)) => {
                d.end = end;
                return d;
            }
            Ok(None) => {}
        }
        // Clean: zlib-rs from here, with the member's last 32 KiB.
        let hist: Vec<u8> = if d.head.is_empty() || !inf.out.is_empty() {
            let from = inf.out.len().saturating_sub(WINDOW).max(inf.member_start);
            inf.out[from..].iter().map(|&v| v as u8).collect()
        } else {
            let from = d.head.len().saturating_sub(WINDOW).max(inf.member_start);
            d.head[from..].iter().map(|&v| v as u8).collect()
        };
        match timed(2, || zlib(job, pos, hist, &mut d)) {
            Err(f) => {
                d.end = End::Failed(f);
                return d;
            }
            Ok(Zlib::End(end)) => {
                d.end = end;
                return d;
            }
            Ok(Zlib::Pinned { pos: p, window }) => {
                // Our decoder again, up to the chunk's end.
                pos = p;
                inf = Inflater::known(&window, job.cap.saturating_sub(d.len()));
                tail = true;
            }
        }
    }
}

/// Our decoder from `pos`: up to the chunk's end (`Some`), or until the
/// window is known (`None`; never in the `tail`).
fn own(
    job: &Job,
    inf: &mut Inflater,
    pos: &mut u64,
    members: &mut Vec<MemberEnd>,
    base: usize,
    wlen: usize,
    tail: bool,
) -> Result<Option<End>, Fail> {
    loop {
        if *pos >= job.stop {
            return Ok(Some(End::Boundary(*pos)));
        }
        // zlib-rs takes over on a byte boundary: a stored block aligns to
        // the stream's bytes, so its input cannot be shifted.
        if !tail && inf.clean() && *pos % 8 == 0 {
            return Ok(None);
        }
        let mut bits = Bits::new(&job.data, *pos);
        let last = inf.block(&mut bits)?;
        *pos = bits.pos;
        if last {
            let (trailer, next) = member_end(job, *pos)?;
            members.push(MemberEnd {
                at: base + inf.out.len() - wlen,
                trailer,
            });
            match next {
                None => return Ok(Some(End::Eof)),
                Some(p) => {
                    *pos = p;
                    inf.new_member();
                }
            }
        }
    }
}

/// After a member's last block (ending at bit `end`): its trailer, and
/// where the next member's first block starts (`None`: the stream ended).
fn member_end(job: &Job, end: u64) -> Result<(Trailer, Option<u64>), Fail> {
    let mut bits = Bits::new(&job.data, end);
    bits.align()?;
    let trailer = Trailer::parse(bits.bytes(8)?);
    let at = (bits.pos / 8) as usize;
    if at == job.data.len() && job.eof {
        return Ok((trailer, None));
    }
    let h = member::header(&job.data, at)?;
    Ok((trailer, Some((at + h) as u64 * 8)))
}

enum Zlib {
    End(End),
    /// Stopped at this exact block boundary, before the chunk's end, with
    /// the member's last 32 KiB.
    Pinned {
        pos: u64,
        window: Vec<u8>,
    },
}

/// A block boundary zlib-rs stopped at: exact, or within `SLACK` bits
/// before `bit`; and the decoded bytes before it.
#[derive(Clone, Copy)]
struct Mark {
    bit: u64,
    exact: bool,
    out: usize,
}

/// zlib-rs from byte boundary `start` (a bit), after `window`.
fn zlib(job: &Job, mut start: u64, mut window: Vec<u8>, d: &mut Decoded) -> Result<Zlib, Fail> {
    loop {
        debug_assert!(start % 8 == 0);
        let input = job.data.get((start / 8) as usize..).unwrap_or(&[]);
        let mut z = Inflate::new(false, 15);
        if !window.is_empty() {
            z.set_dictionary(&window).map_err(|_| Fail::Bad)?;
        }
        // The member's bytes before `d.body[from..]` are `window`.
        let from = d.body.len();
        let hist = |body: &[u8], upto: usize| -> Vec<u8> {
            let mut h = window.clone();
            h.extend_from_slice(&body[from..upto]);
            let cut = h.len().saturating_sub(WINDOW);
            h.drain(..cut);
            h
        };
        let mut prev = Mark {
            bit: start,
            exact: true,
            out: from,
        };
        // The boundary before `prev`: zlib-rs says a block was the last
        // only on the call after the one that decoded it.
        let mut before: Option<Mark> = None;
        let mut used = 0usize;
        loop {
            let filled = d.body.len();
            d.body.resize(filled + STEP, 0);
            let (in0, out0) = (z.total_in(), z.total_out());
            let r = z.decompress(&input[used..], &mut d.body[filled..], InflateFlush::Block);
            let consumed = (z.total_in() - in0) as usize;
            let produced = (z.total_out() - out0) as usize;
            d.body.truncate(filled + produced);
            used += consumed;
            if d.len() > job.cap {
                return Err(Fail::TooBig);
            }
            let status = r.map_err(|_| Fail::Bad)?;
            let approx = start + 8 * used as u64;
            let at_end = status == Status::StreamEnd;
            if !at_end {
                if produced == STEP {
                    continue; // the output was full, not a boundary
                }
                if used >= input.len() {
                    return Err(Fail::Short);
                }
                if consumed == 0 && produced == 0 {
                    return Err(Fail::Bad);
                }
                if approx < job.stop {
                    // A block boundary before the chunk's end.
                    before = Some(prev);
                    prev = Mark {
                        bit: approx,
                        exact: false,
                        out: d.body.len(),
                    };
                    continue;
                }
            }
            // The exact end of the block just decoded (or, at the member's
            // end with nothing decoded since `prev`, of the one before it).
            let (from_mark, to_bit) = match before {
                Some(b) if at_end && produced == 0 && prev.out == d.body.len() => (b, prev.bit),
                _ => (prev, approx),
            };
            let t = Instant::now();
            let (end, last) = pin(
                job,
                from_mark,
                to_bit,
                &hist(&d.body, from_mark.out),
                &d.body[from_mark.out..],
            )?;
            TIME[3].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let last = match last {
                Some(last) => last,
                None if at_end => true,
                // Whether zlib-rs ends the member right here.
                None => matches!(
                    z.decompress(&input[used..], &mut [0u8; 1], InflateFlush::Block),
                    Ok(Status::StreamEnd)
                ),
            };
            if !last {
                if end >= job.stop {
                    return Ok(Zlib::End(End::Boundary(end)));
                }
                return Ok(Zlib::Pinned {
                    pos: end,
                    window: hist(&d.body, d.body.len()),
                });
            }
            let (trailer, next) = member_end(job, end)?;
            d.members.push(MemberEnd {
                at: d.len(),
                trailer,
            });
            match next {
                None => return Ok(Zlib::End(End::Eof)),
                Some(p) if p >= job.stop => return Ok(Zlib::End(End::Boundary(p))),
                Some(p) => {
                    start = p;
                    window = Vec::new();
                    break;
                }
            }
        }
    }
}

/// The exact bit where the block that zlib-rs decoded after `prev` (to
/// `expected`) ends, and whether it was the member's last (`None`: a
/// stored block whose header bits may be read either way), `approx` being
/// where zlib-rs stopped: our decoder decodes that block from each
/// candidate start; exactly one must give the same bytes and end near
/// `approx`.
fn pin(
    job: &Job,
    prev: Mark,
    approx: u64,
    window: &[u8],
    expected: &[u8],
) -> Result<(u64, Option<bool>), Fail> {
    let candidates = if prev.exact {
        prev.bit..=prev.bit
    } else {
        prev.bit.saturating_sub(SLACK)..=prev.bit
    };
    let mut found = None;
    let mut inf = Inflater::known(window, expected.len());
    for c in candidates {
        inf.reset(window.len());
        let mut bits = Bits::new(&job.data, c);
        let Ok(last) = inf.block(&mut bits) else {
            continue;
        };
        let end = bits.pos;
        let same = inf.out.len() - window.len() == expected.len()
            && inf.out[window.len()..]
                .iter()
                .zip(expected)
                .all(|(&a, &b)| a == u16::from(b));
        if same && end <= approx && end + SLACK >= approx {
            found = match found {
                None => Some((end, Some(last))),
                Some((e, l)) if e == end => Some((e, l.filter(|&l| l == last))),
                Some(_) => return Err(Fail::Bad),
            };
        }
    }
    found.ok_or(Fail::Bad)
}
