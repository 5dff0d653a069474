//! The game's entry point, for the browser (WASM) and for native development.

fn main() {
    game::app().run();
}
