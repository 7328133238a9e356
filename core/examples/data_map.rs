//! Prints the data map (`docs/data-map.md`): `cargo xtask data-map` writes it.

fn main() {
    print!("{}", lots_core::data_map::data_map_markdown());
}
