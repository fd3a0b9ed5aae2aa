#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nosql_playground::fuzz_entry::redis_panels(data);
});
