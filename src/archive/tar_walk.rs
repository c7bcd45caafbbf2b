//! Walks a tar stream header by header over an [`Input`], applying GNU and
//! PAX extension headers. Contents the caller does not read are skipped (by
//! seeking when the input can). Never trusts a size to allocate: extension
//! bodies are bounded, and short reads are handled everywhere.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io;

use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::layer::{EntryKind, RawEntry};
use crate::analysis::tar::{self, Header, PaxOverrides, TypeFlag, BLOCK};

use super::input::{read_full, Input, Window};

/// Largest PAX or GNU long-name body accepted.
const MAX_EXTENSION_BYTES: u64 = 1 << 20;
/// Extension headers in a row before an entry.
const MAX_EXTENSIONS: usize = 64;

/// One entry, extension headers applied.
#[derive(Debug)]
pub struct TarEntry {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub type_flag: TypeFlag,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub capability: Option<Vec<u8>>,
    /// Offset of the entry's header in this stream.
    pub offset: u64,
}

impl TarEntry {
    /// The entry as the layer builder takes it.
    pub fn raw(&self, kind: EntryKind) -> RawEntry<'_> {
        RawEntry {
            path: &self.path,
            link: &self.link,
            kind,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            capability: self.capability.as_deref(),
        }
    }
}

pub struct TarWalker<I: Input> {
    input: I,
    /// Unread bytes of the current entry's content.
    remaining: u64,
    /// Padding after the current entry's content.
    padding: u64,
    /// The input ended inside an entry.
    truncated: bool,
    finished: bool,
    /// The end-of-archive marker (a zero block) was seen.
    saw_end_marker: bool,
    /// Code for errors the input itself reports (a decompressor's).
    input_error: ErrorCode,
    /// Where the walk stood before the entry being read: the offset and
    /// the bytes it skipped from there (the content of the entry before).
    resume_point: (u64, u64),
}

fn padding_for(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

impl<I: Input> TarWalker<I> {
    /// `input_error` names errors raised by the input (e.g. `CorruptGzip` for a gzip stream).
    pub fn new(input: I, input_error: ErrorCode) -> Self {
        let input_start = input.position();
        TarWalker {
            input,
            remaining: 0,
            padding: 0,
            truncated: false,
            finished: false,
            saw_end_marker: false,
            input_error,
            resume_point: (input_start, 0),
        }
    }

    pub fn position(&self) -> u64 {
        self.input.position()
    }

    /// Where the walk stood before the entry being read, and the bytes it
    /// then skipped: a walk that stopped inside the entry (or inside the
    /// skip) starts again there, with [`TarWalker::skip_first`].
    pub fn resume_point(&self) -> (u64, u64) {
        self.resume_point
    }

    /// Skip `n` bytes before the first entry (see [`TarWalker::resume_point`]).
    pub fn skip_first(&mut self, n: u64) {
        self.remaining = n;
    }

    pub fn into_inner(self) -> I {
        self.input
    }

    /// Map an I/O error to a stable code.
    pub fn io_error(&self, e: io::Error) -> Error {
        if super::budget::is_over_budget(&e) {
            // The analysis names what the budget stopped (`analysis::budget`).
            return Error::new(ErrorCode::LimitExceeded, format!("{}", e))
                .with_offset(self.input.position());
        }
        let code = if self.truncated || e.kind() == io::ErrorKind::UnexpectedEof {
            ErrorCode::Truncated
        } else {
            self.input_error
        };
        let message = if code == ErrorCode::Truncated {
            format!("the data ends early ({})", e)
        } else {
            format!("{}", e)
        };
        Error::new(code, message).with_offset(self.input.position())
    }

    fn truncated_error(&self, what: &str) -> Error {
        Error::new(
            ErrorCode::Truncated,
            format!("the archive ends inside {}", what),
        )
        .with_offset(self.input.position())
    }

    fn skip_exact(&mut self, n: u64, what: &str) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let done = self.input.skip(n).map_err(|e| self.io_error(e))?;
        if done < n {
            self.truncated = true;
            return Err(self.truncated_error(what));
        }
        Ok(())
    }

    /// Read one block; `Ok(None)` at a clean end of input (exactly between blocks).
    fn read_block(&mut self) -> Result<Option<[u8; BLOCK]>> {
        let mut block = [0u8; BLOCK];
        let got = read_full(&mut self.input, &mut block).map_err(|e| self.io_error(e))?;
        match got {
            0 => Ok(None),
            BLOCK => Ok(Some(block)),
            _ => {
                self.truncated = true;
                Err(self.truncated_error("a tar header"))
            }
        }
    }

    fn read_body(&mut self, size: u64, what: &str) -> Result<Vec<u8>> {
        if size > MAX_EXTENSION_BYTES {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("{} is larger than {} bytes", what, MAX_EXTENSION_BYTES),
            )
            .with_offset(self.input.position()));
        }
        let mut body = vec![0u8; size as usize];
        let got = read_full(&mut self.input, &mut body).map_err(|e| self.io_error(e))?;
        if got < body.len() {
            self.truncated = true;
            return Err(self.truncated_error(what));
        }
        self.skip_exact(padding_for(size), what)?;
        Ok(body)
    }

    /// The next entry, or `None` at the end of the archive.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        if self.finished {
            return Ok(None);
        }
        let leftover = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        self.resume_point = (self.input.position(), leftover);
        self.input.mark();
        self.skip_exact(leftover, "an entry's content")?;

        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax = PaxOverrides::default();
        let mut extensions = 0;
        loop {
            let offset = self.input.position();
            let Some(block) = self.read_block()? else {
                // No end-of-archive blocks: accepted, as GNU tar does.
                if extensions > 0 {
                    self.truncated = true;
                    return Err(self.truncated_error("an entry's extended header"));
                }
                self.finished = true;
                return Ok(None);
            };
            if tar::is_zero_block(&block) {
                self.finished = true;
                self.saw_end_marker = true;
                return Ok(None);
            }
            let header: Header = tar::parse_header(&block).map_err(|e| e.with_offset(offset))?;
            if header.type_flag.is_extension() {
                extensions += 1;
                if extensions > MAX_EXTENSIONS {
                    return Err(Error::new(
                        ErrorCode::CorruptTar,
                        "too many extension headers in a row",
                    )
                    .with_offset(offset));
                }
                let body = self.read_body(header.size, "an extended header")?;
                match header.type_flag {
                    TypeFlag::GnuLongName => long_name = Some(trim_nul(body)),
                    TypeFlag::GnuLongLink => long_link = Some(trim_nul(body)),
                    TypeFlag::PaxLocal => {
                        tar::parse_pax(&body, &mut pax).map_err(|e| e.with_offset(offset))?
                    }
                    _ => {} // global PAX headers: nothing per file we rely on
                }
                continue;
            }
            if header.sparse_extended {
                // Old GNU sparse: extension blocks of the sparse map follow.
                for _ in 0..MAX_EXTENSIONS * 16 {
                    let Some(ext) = self.read_block()? else {
                        self.truncated = true;
                        return Err(self.truncated_error("a sparse file map"));
                    };
                    if !tar::sparse_block_continues(&ext) {
                        break;
                    }
                }
            }
            let size = pax.size.unwrap_or(header.size);
            let size = if matches!(
                header.type_flag,
                TypeFlag::HardLink
                    | TypeFlag::Symlink
                    | TypeFlag::Directory
                    | TypeFlag::CharDevice
                    | TypeFlag::BlockDevice
                    | TypeFlag::Fifo
            ) {
                0
            } else {
                size
            };
            self.remaining = size;
            self.padding = padding_for(size);
            return Ok(Some(TarEntry {
                path: pax.path.take().or(long_name).unwrap_or(header.name),
                link: pax
                    .link_path
                    .take()
                    .or(long_link)
                    .unwrap_or(header.link_name),
                type_flag: header.type_flag,
                mode: header.mode,
                uid: pax.uid.unwrap_or(header.uid),
                gid: pax.gid.unwrap_or(header.gid),
                size,
                capability: pax.capability.take(),
                offset,
            }));
        }
    }

    /// The current entry's content as an input of its own.
    pub fn content(&mut self) -> Window<'_, I> {
        Window::new(&mut self.input, &mut self.remaining, &mut self.truncated)
    }

    /// Read up to `max` bytes of the current entry's content; the flag says
    /// whether the content was longer.
    pub fn read_content(&mut self, max: usize) -> Result<(Vec<u8>, bool)> {
        let want = self.remaining.min(max as u64) as usize;
        let mut buf = vec![0u8; want];
        let got = {
            let mut w = self.content();
            read_full(&mut w, &mut buf)
        };
        let got = got.map_err(|e| self.io_error(e))?;
        if got < want {
            self.truncated = true;
            return Err(self.truncated_error("an entry's content"));
        }
        Ok((buf, self.remaining > 0))
    }

    /// Whether the archive ended with its end-of-archive marker. Without it,
    /// it was most likely cut at an entry boundary.
    pub fn saw_end_marker(&self) -> bool {
        self.saw_end_marker
    }

    /// Whether the input ended inside an entry.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(n) = v.iter().position(|&b| b == 0) {
        v.truncate(n);
    }
    v
}
