//! Counting the decompression budget (see `analysis::budget`) as the
//! decoders give their bytes: a [`Metered`] input sits on every decoder's
//! output (the whole archive's, each compressed layer's) and charges the
//! bytes the walk reads or skips through it to one [`Budget`] for the whole
//! analysis, shared by the threads that summarise layers in parallel. No
//! extra pass: the bytes are counted where they pass anyway.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;

use std::cell::Cell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::analysis::budget::{Decompression, MaxDecompressed, SPENT};

use super::input::Input;

/// The budget of one analysis.
#[derive(Debug)]
pub struct Budget {
    rule: MaxDecompressed,
    /// The input's size when known (a file, bytes in memory).
    input_len: Option<u64>,
    /// Bytes taken from the source (read or skipped); `bytesRead`.
    consumed: AtomicU64,
    /// For a stream (size unknown): the end of the archive member being read.
    seen: AtomicU64,
    /// Bytes the decoders gave.
    used: AtomicU64,
    /// Spent: from then on nothing more is decoded.
    spent: AtomicBool,
    /// When it was spent: the budget and the input's size then.
    spent_limit: AtomicU64,
    spent_input: AtomicU64,
}

impl Budget {
    pub fn new(rule: MaxDecompressed, input_len: Option<u64>) -> Self {
        Budget {
            rule,
            input_len,
            consumed: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            used: AtomicU64::new(0),
            spent: AtomicBool::new(false),
            spent_limit: AtomicU64::new(0),
            spent_input: AtomicU64::new(0),
        }
    }

    /// What is left of the budget of an archive read so far, for the
    /// layers it left to be summarised elsewhere.
    pub fn resumed(d: &Decompression) -> Self {
        let budget = Budget::new(
            d.limit
                .map_or(MaxDecompressed::Unlimited, MaxDecompressed::Bytes),
            None,
        );
        budget.used.store(d.total, Relaxed);
        budget
    }

    pub fn used(&self) -> u64 {
        self.used.load(Relaxed)
    }

    /// A budget of `bytes` (`None`: none), e.g. what one layer may take.
    pub fn of(bytes: Option<u64>) -> Self {
        Budget::new(
            bytes.map_or(MaxDecompressed::Unlimited, MaxDecompressed::Bytes),
            None,
        )
    }

    /// The input's size the rule applies to: for a stream, what is known so far.
    fn input(&self) -> u64 {
        self.input_len
            .unwrap_or_else(|| self.consumed.load(Relaxed).max(self.seen.load(Relaxed)))
    }

    pub fn limit(&self) -> Option<u64> {
        self.rule.limit(self.input())
    }

    /// A stream's reader knows its bytes up to `end` will be there (the end
    /// of the member it reads): the budget may grow with them.
    pub fn note_input(&self, end: u64) {
        self.seen.fetch_max(end, Relaxed);
    }

    pub fn add_consumed(&self, n: u64) {
        self.consumed.fetch_add(n, Relaxed);
    }

    pub fn consumed(&self) -> u64 {
        self.consumed.load(Relaxed)
    }

    /// Bytes the decoders may still give (`u64::MAX`: no budget).
    pub fn room(&self) -> u64 {
        if self.spent.load(Relaxed) {
            return 0;
        }
        match self.limit() {
            Some(limit) => limit.saturating_sub(self.used.load(Relaxed)),
            None => u64::MAX,
        }
    }

    /// Charge `n` decoded bytes; returns how many fit: fewer than `n` when
    /// the budget ran out (it is then spent, and its rest charged).
    pub fn charge(&self, n: u64) -> u64 {
        let mut used = self.used.load(Relaxed);
        loop {
            let room = match (self.spent.load(Relaxed), self.limit()) {
                (true, _) => 0,
                (false, Some(limit)) => limit.saturating_sub(used),
                (false, None) => u64::MAX,
            };
            let fit = n.min(room);
            match self
                .used
                .compare_exchange_weak(used, used + fit, Relaxed, Relaxed)
            {
                Ok(_) => {
                    if fit < n {
                        self.spend();
                    }
                    return fit;
                }
                Err(now) => used = now,
            }
        }
    }

    fn spend(&self) {
        if !self.spent.swap(true, Relaxed) {
            self.spent_limit
                .store(self.limit().unwrap_or(u64::MAX), Relaxed);
            self.spent_input.store(self.input(), Relaxed);
        }
    }

    pub fn is_spent(&self) -> bool {
        self.spent.load(Relaxed)
    }

    /// The figures for the report; `outer`: what the whole archive's decoder gave.
    pub fn figures(&self, outer: &Meter<'_>) -> Decompression {
        let spent = self.is_spent();
        Decompression {
            rule: self.rule,
            limit: if spent {
                Some(self.spent_limit.load(Relaxed))
            } else {
                self.limit()
            },
            input: if spent {
                self.spent_input.load(Relaxed)
            } else {
                self.input()
            },
            total: self.used.load(Relaxed),
            outer: outer.given(),
            outer_stopped: outer.stopped(),
        }
    }
}

/// One decoder's account: what it gave, and whether the budget stopped it.
pub struct Meter<'a> {
    budget: &'a Budget,
    given: Cell<u64>,
    stopped: Cell<bool>,
}

impl<'a> Meter<'a> {
    pub fn new(budget: &'a Budget) -> Self {
        Meter {
            budget,
            given: Cell::new(0),
            stopped: Cell::new(false),
        }
    }

    pub fn given(&self) -> u64 {
        self.given.get()
    }

    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// How many of `want` bytes may be decoded now: all of them, or one
    /// more than the room left, so that a decoder with more to give than
    /// the budget is caught.
    pub fn allow(&self, want: usize) -> usize {
        let room = self.budget.room();
        want.min(usize::try_from(room.saturating_add(1)).unwrap_or(usize::MAX))
    }

    /// Charge `n` decoded bytes, or say the budget stops the decoder.
    pub fn charge(&self, n: usize) -> io::Result<()> {
        let fit = self.budget.charge(n as u64);
        self.given.set(self.given.get() + fit);
        if fit < n as u64 {
            self.stopped.set(true);
            return Err(over_budget());
        }
        Ok(())
    }
}

/// The error a spent budget gives inside the reader.
#[derive(Debug)]
struct OverBudget;

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SPENT)
    }
}

impl std::error::Error for OverBudget {}

pub fn over_budget() -> io::Error {
    io::Error::other(OverBudget)
}

/// Whether an I/O error is a spent budget's.
pub fn is_over_budget(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OverBudget>())
}

/// A decoder's output, each byte read or skipped through it charged to a meter.
pub struct Metered<'m, I: Input> {
    inner: I,
    meter: &'m Meter<'m>,
}

impl<'m, I: Input> Metered<'m, I> {
    pub fn new(inner: I, meter: &'m Meter<'m>) -> Self {
        Metered { inner, meter }
    }
}

impl<I: Input> Input for Metered<'_, I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.meter.allow(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.meter.charge(n)?;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let want = (self.meter.allow(usize::MAX) as u64).min(n);
        let done = self.inner.skip(want)?;
        self.meter.charge(done as usize)?;
        Ok(done)
    }

    fn position(&self) -> u64 {
        self.inner.position()
    }

    fn mark(&mut self) {
        self.inner.mark()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::input::{read_full, StreamInput};
    use std::io::Cursor;

    #[test]
    fn a_decoder_stops_one_byte_past_the_budget() {
        let budget = Budget::new(MaxDecompressed::Bytes(10), None);
        let meter = Meter::new(&budget);
        let mut m = Metered::new(StreamInput::new(Cursor::new(vec![7u8; 10])), &meter);
        let mut buf = [0u8; 64];
        // Exactly the budget: fine, and the end is seen.
        assert_eq!(read_full(&mut m, &mut buf).unwrap(), 10);
        assert!(!budget.is_spent());

        let budget = Budget::new(MaxDecompressed::Bytes(10), None);
        let meter = Meter::new(&budget);
        let mut m = Metered::new(StreamInput::new(Cursor::new(vec![7u8; 11])), &meter);
        assert_eq!(m.skip(4).unwrap(), 4);
        let e = read_full(&mut m, &mut buf).unwrap_err();
        assert!(is_over_budget(&e));
        assert_eq!(e.to_string(), SPENT);
        assert!(budget.is_spent() && meter.stopped());
        assert_eq!(meter.given(), 10);
        // Spent: nothing more is decoded, by anyone.
        let other = Meter::new(&budget);
        let mut m = Metered::new(StreamInput::new(Cursor::new(vec![1u8])), &other);
        assert!(is_over_budget(&m.read(&mut buf).unwrap_err()));
        let mut empty = Metered::new(StreamInput::new(Cursor::new(vec![])), &other);
        assert_eq!(empty.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn a_stream_budget_grows_with_what_is_known() {
        let budget = Budget::new(MaxDecompressed::Auto, None);
        assert_eq!(budget.limit(), Some(2 << 30));
        budget.add_consumed(100 << 20);
        assert_eq!(budget.limit(), Some(10_000 << 20));
        budget.note_input(200 << 20);
        assert_eq!(budget.limit(), Some(20_000 << 20));
        let file = Budget::new(MaxDecompressed::Auto, Some(1 << 30));
        file.note_input(5 << 30);
        assert_eq!(file.limit(), Some(100 << 30));
        assert_eq!(Budget::of(None).room(), u64::MAX);
    }
}
