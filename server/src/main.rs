//! The Lots sync server. The server issue builds it; until then it says so and exits.

fn main() {
    eprintln!(
        "lots-server {}: not built yet; see the server issue (schema version {})",
        env!("CARGO_PKG_VERSION"),
        lots_core::SCHEMA_VERSION
    );
    std::process::exit(2);
}
