//! The web app's entry point: Trunk builds this binary to WebAssembly.

fn main() {
    lots_web::start();
}
