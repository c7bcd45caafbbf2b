#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rootless_check_fuzz::gzip_blocks(data);
});
