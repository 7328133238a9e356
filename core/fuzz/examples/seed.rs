//! Writes the fuzz targets' seed corpora (see `lots_fuzz::seeds`).
//!
//! `seed <dir>` writes every seed into `<dir>/<target>/` (what `cargo xtask fuzz` runs on);
//! `seed --committed <dir>` writes only the small committed set, replacing what was there:
//!
//! ```text
//! cargo run --manifest-path core/fuzz/Cargo.toml --example seed -- --committed core/fuzz/seeds
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut committed_only = false;
    let mut dir = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--committed" => committed_only = true,
            _ if dir.is_none() && !arg.starts_with('-') => dir = Some(PathBuf::from(arg)),
            _ => {
                eprintln!("usage: seed [--committed] <dir>");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: seed [--committed] <dir>");
        return ExitCode::FAILURE;
    };
    let seeds = lots_fuzz::seeds::seeds();
    match lots_fuzz::seeds::write(&seeds, &dir, committed_only) {
        Ok(written) => {
            println!("wrote {written} seeds into {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("could not write the seeds into {}: {error}", dir.display());
            ExitCode::FAILURE
        }
    }
}
