//! Link settings for a Node addon (undefined `napi_*` symbols resolved by Node at load).
fn main() {
    napi_build::setup();
}
