#![recursion_limit = "256"]
//! The WebAssembly entry point: hydrates the islands of the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Also what links the app's islands (exported from `wayfare-app`)
    // into this bundle: without a call into the crate they are left out.
    wayfare_app::hydrate();
}
