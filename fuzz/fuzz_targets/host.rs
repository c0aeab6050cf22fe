//! libFuzzer entry point for the `host` target; its body is `targets::host` in
//! fuzz/targets/mod.rs, which pki-core/tests/fuzz_corpus.rs replays on stable.

#![no_main]

#[path = "../targets/mod.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::host(data));
