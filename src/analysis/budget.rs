//! The decompression budget: how many bytes the gzip and zstd decoders may
//! give in one analysis (the whole archive's compression and every
//! compressed layer together), so that a small archive cannot make the
//! analysis decompress without end (a 16 MB archive can hold a layer of
//! 16 GiB of zeros).
//!
//! By default the budget is the larger of [`DEFAULT_FLOOR`] and
//! [`DEFAULT_RATIO`] times the input's size; `--max-decompressed` sets it or
//! lifts it. The figures and why they are safe for real images are in the
//! README (Limits). Counting is done by the archive reader (`archive::budget`,
//! `std`), as the decoders give their bytes; this module holds the rule and
//! the error the report shows.

use alloc::format;
use alloc::string::String;

use super::contents::ArchiveContents;
use super::error::{Error, ErrorCode};

/// The budget is at least this many bytes, whatever the input's size: an
/// image of up to 2 GiB decompressed is never stopped (a small image with a
/// 1 GB zeroed database file, ~1000:1 in gzip, fits twice over).
pub const DEFAULT_FLOOR: u64 = 2 << 30;

/// ... and at least this many times the input's size: the real archives
/// measured decompress to at most 2.7 times their size in all (gzip and
/// zstd, whole file and layers; `tests/limits.rs`).
pub const DEFAULT_RATIO: u64 = 100;

/// How many bytes the decoders may give in one analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MaxDecompressed {
    /// The larger of [`DEFAULT_FLOOR`] and [`DEFAULT_RATIO`] times the input's size.
    #[default]
    Auto,
    /// A budget given explicitly (`--max-decompressed SIZE`).
    Bytes(u64),
    /// No budget (`--max-decompressed none`).
    Unlimited,
}

impl MaxDecompressed {
    /// The budget for an input of `input` bytes; `None`: no budget.
    pub fn limit(self, input: u64) -> Option<u64> {
        match self {
            MaxDecompressed::Auto => Some(DEFAULT_FLOOR.max(DEFAULT_RATIO.saturating_mul(input))),
            MaxDecompressed::Bytes(n) => Some(n),
            MaxDecompressed::Unlimited => None,
        }
    }

    /// `none`, a number of bytes, or a number with `K`, `M`, `G` or `T`
    /// (powers of 1024; `KiB`, `GB`… are read the same). The error is the
    /// message for people.
    pub fn parse(text: &str) -> Result<MaxDecompressed, String> {
        if text == "none" {
            return Ok(MaxDecompressed::Unlimited);
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let unit = unit.to_ascii_lowercase();
        let unit = unit
            .strip_suffix("ib")
            .or_else(|| unit.strip_suffix('b'))
            .unwrap_or(&unit);
        let shift = match unit {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            "t" => 40,
            _ => u32::MAX,
        };
        let bytes = match shift {
            u32::MAX => None,
            _ => number
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(1 << shift)),
        };
        match bytes {
            Some(n) => Ok(MaxDecompressed::Bytes(n)),
            None => Err(format!(
                "invalid size {:?}: give bytes, a number with K, M, G or T (powers of 1024), or none",
                text
            )),
        }
    }
}

/// What the decoders gave while the archive was read (outside the layers,
/// whose summaries count their own), for [`budget_error`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decompression {
    pub rule: MaxDecompressed,
    /// The budget in force (when it ran out: the budget then); `None`: none.
    pub limit: Option<u64>,
    /// The input's size the budget was derived from (`Auto`): the file's
    /// size, or for a stream the bytes known when the budget ran out.
    pub input: u64,
    /// Bytes all the decoders gave.
    pub total: u64,
    /// Bytes the decoder of the whole archive gave (or, in Node, its zlib).
    pub outer: u64,
    /// That decoder was stopped by the budget.
    pub outer_stopped: bool,
}

/// The message of the error a reader maps a spent budget to, before the
/// analysis replaces it with [`budget_error`]'s.
pub const SPENT: &str = "the decompression budget is spent";

/// The report's error when the decoders went past the budget (one for the
/// analysis, naming the layer that was stopped, or that gave the most), or
/// `None`. A layer summarised on its own (by another wasm instance) may take
/// what was left when it started: whatever the order, the decoders' total
/// over the budget is an error.
pub fn budget_error(contents: &ArchiveContents) -> Option<Error> {
    let d = &contents.decompression;
    let limit = d.limit?;
    let total = d.total;
    let mut stopped = d.outer_stopped;
    // The layer named: the one stopped that gave the most, else the one that gave the most.
    let mut named: Option<(&str, u64, u64, bool)> = None;
    for (name, layer) in contents.layers() {
        stopped |= layer.over_budget;
        let better = match named {
            None => true,
            Some((_, given, _, over)) => (layer.over_budget, layer.decompressed) > (over, given),
        };
        if better && (layer.decompressed > 0 || layer.over_budget) {
            named = Some((
                name,
                layer.decompressed,
                layer.stored_size,
                layer.over_budget,
            ));
        }
    }
    if !stopped && total <= limit {
        return None;
    }
    let how = match d.rule {
        MaxDecompressed::Auto => format!(
            "the larger of {} bytes and {} times the {} bytes of the input",
            DEFAULT_FLOOR, DEFAULT_RATIO, d.input
        ),
        _ => String::from("--max-decompressed"),
    };
    const RAISE: &str = "--max-decompressed raises the budget or lifts it (none)";
    let error = match named.filter(|_| !d.outer_stopped) {
        Some((name, given, stored, _)) => Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "decompressing went past the budget of {} bytes ({}): {} bytes decompressed in all, {} of them from this layer of {} bytes; {}",
                limit, how, total, given, stored, RAISE
            ),
        )
        .with_entry(name),
        None => Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "decompressing the archive went past the budget of {} bytes ({}): {} bytes decompressed; {}",
                limit, how, total, RAISE
            ),
        ),
    };
    Some(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let ok = |t: &str| match MaxDecompressed::parse(t).unwrap() {
            MaxDecompressed::Bytes(n) => n,
            other => panic!("{:?}", other),
        };
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("1234"), 1234);
        assert_eq!(ok("500M"), 500 << 20);
        assert_eq!(ok("64G"), 64 << 30);
        assert_eq!(ok("64GiB"), 64 << 30);
        assert_eq!(ok("64gb"), 64 << 30);
        assert_eq!(ok("2k"), 2048);
        assert_eq!(ok("1T"), 1 << 40);
        assert_eq!(
            MaxDecompressed::parse("none").unwrap(),
            MaxDecompressed::Unlimited
        );
        for bad in [
            "",
            "G",
            "-1",
            "1.5G",
            "12X",
            "1 G",
            "99999999999999999999",
            "16777216T",
            "none ",
        ] {
            assert!(MaxDecompressed::parse(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn the_default_rule() {
        let auto = MaxDecompressed::Auto;
        assert_eq!(auto.limit(0), Some(DEFAULT_FLOOR));
        assert_eq!(auto.limit(1 << 20), Some(DEFAULT_FLOOR));
        assert_eq!(auto.limit(1 << 30), Some(100 << 30));
        assert_eq!(auto.limit(u64::MAX), Some(u64::MAX));
        assert_eq!(MaxDecompressed::Unlimited.limit(5), None);
        assert_eq!(MaxDecompressed::Bytes(7).limit(1 << 40), Some(7));
    }
}
