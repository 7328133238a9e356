//! `cargo xtask bench`: the criterion benchmarks behind BENCHMARKS.md.

use anyhow::Result;
use xshell::{Shell, cmd};

/// Runs core's benchmarks, passing extra arguments to criterion.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    cmd!(
        sh,
        "cargo bench -p lots-core --bench household -- {args...}"
    )
    .run()?;
    cmd!(sh, "cargo bench -p lots-core --bench sync -- {args...}").run()?;
    Ok(())
}
