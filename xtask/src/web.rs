//! Building the web app into `dist/` with Trunk, as `../shared/toolchain.md` found works here:
//! Trunk 0.21.14 from crates.io, wasm-bindgen at the Cargo.lock version, and wasm-opt from npm
//! (binaryen 132), all found on PATH, with Trunk told never to download anything.
//!
//! After Trunk, three things no tool here does for us:
//! - Trunk writes its start-up script inline in `index.html`; the server's CSP forbids inline
//!   scripts, so it moves to a hashed file of its own;
//! - the service worker gets the list of files to precache and a version derived from them;
//! - every file is precompressed (brotli and gzip) for the server to send as it is.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

use crate::tools::{self, step};

/// Trunk's version: 0.22 needs a newer rustc than this project's.
const TRUNK_VERSION: &str = "0.21.14";

/// Installs what building the web app needs.
pub fn ensure_tools(sh: &Shell) -> Result<()> {
    tools::wasm_target(sh)?;
    tools::wasm_bindgen_cli(sh)?;
    tools::npm_install(
        sh,
        Path::new("web/tools"),
        "the web build's npm tools (wasm-opt)",
    )?;
    if tools::installed_version(sh, "trunk").as_deref() != Some(TRUNK_VERSION) {
        step(&format!(
            "installing trunk {TRUNK_VERSION} (about 13 minutes on two cores)"
        ));
        cmd!(sh, "cargo install --locked trunk --version {TRUNK_VERSION}").run()?;
    }
    Ok(())
}

/// Builds the web app into `dist/`, ready to serve.
pub fn build(sh: &Shell) -> Result<()> {
    ensure_tools(sh)?;
    step("building the web app (release) into dist/");
    let tools_bin = sh.current_dir().join("web/tools/node_modules/.bin");
    let path = std::env::var("PATH").unwrap_or_default();
    let _path = sh.push_env("PATH", format!("{}:{path}", tools_bin.display()));
    let _skip = sh.push_env("TRUNK_SKIP_VERSION_CHECK", "true");
    // Trunk's `offline = true` runs cargo with `--offline`: every crate must be fetched first.
    cmd!(sh, "cargo fetch").run()?;
    cmd!(sh, "trunk build index.html --release")
        .run()
        .context("trunk build failed")?;
    let dist = sh.current_dir().join("dist");
    externalise_start_script(&dist)?;
    fill_service_worker(&dist)?;
    precompress(&dist)?;
    step(&format!(
        "web app built: the wasm is {} KB brotli",
        wasm_brotli_bytes(&dist)? / 1024
    ));
    Ok(())
}

fn short_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Moves Trunk's inline `<script type="module">` into `start-<hash>.js`.
fn externalise_start_script(dist: &Path) -> Result<()> {
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path).context("dist/index.html is missing")?;
    let open = "<script type=\"module\">";
    let Some(start) = index.find(open) else {
        bail!("Trunk's start-up script is not in dist/index.html: has Trunk's output changed?");
    };
    let body_start = start + open.len();
    let end = index[body_start..]
        .find("</script>")
        .context("Trunk's start-up script is not closed")?
        + body_start;
    let script = index[body_start..end].trim().to_owned() + "\n";
    let name = format!("start-{}.js", short_hash(script.as_bytes()));
    std::fs::write(dist.join(&name), &script)?;
    let tag = format!("<script type=\"module\" src=\"/{name}\"></script>");
    let index = format!(
        "{}{tag}{}",
        &index[..start],
        &index[end + "</script>".len()..]
    );
    if index.contains("<script>") || index.contains("<style") || index.contains(" style=") {
        bail!("dist/index.html still has an inline script or style, which the CSP forbids");
    }
    std::fs::write(&index_path, index)?;
    Ok(())
}

/// Every file of the build except the service worker and compressed copies, as URLs.
fn shell_files(dist: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut pending = vec![dist.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dist)?
                .to_string_lossy()
                .replace('\\', "/");
            if relative == "sw.js" || relative.ends_with(".br") || relative.ends_with(".gz") {
                continue;
            }
            files.push(format!("/{relative}"));
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the precache list and a version (the hash of every file) into `dist/sw.js`.
fn fill_service_worker(dist: &Path) -> Result<()> {
    let files = shell_files(dist)?;
    let mut hasher = Sha256::new();
    for file in &files {
        hasher.update(file.as_bytes());
        hasher.update(std::fs::read(dist.join(file.trim_start_matches('/')))?);
    }
    let version = hex(&hasher.finalize()[..8]);
    let worker_path = dist.join("sw.js");
    let worker = std::fs::read_to_string(&worker_path).context("dist/sw.js is missing")?;
    let list = files
        .iter()
        .map(|file| format!("{file:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let filled = worker
        .replacen(
            "const PRECACHE = [];",
            &format!("const PRECACHE = [{list}];"),
            1,
        )
        .replacen(
            "const VERSION = \"dev\";",
            &format!("const VERSION = \"{version}\";"),
            1,
        );
    if filled == worker {
        bail!("web/sw.js lacks the PRECACHE and VERSION lines xtask fills in");
    }
    std::fs::write(worker_path, filled)?;
    Ok(())
}

/// Writes `.br` and `.gz` beside every compressible file.
fn precompress(dist: &Path) -> Result<()> {
    let mut files = shell_files(dist)?;
    files.push("/sw.js".into());
    for file in files {
        let path = dist.join(file.trim_start_matches('/'));
        let compressible = ["html", "js", "wasm", "css", "svg", "webmanifest", "json"]
            .iter()
            .any(|extension| path.extension().is_some_and(|e| e == *extension));
        if !compressible {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut brotli_bytes = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut brotli_bytes, 4096, 11, 22);
            writer.write_all(&bytes)?;
        }
        std::fs::write(
            path.with_extension(extension_plus(&path, "br")),
            brotli_bytes,
        )?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&bytes)?;
        std::fs::write(
            path.with_extension(extension_plus(&path, "gz")),
            gzip.finish()?,
        )?;
    }
    Ok(())
}

fn extension_plus(path: &Path, added: &str) -> String {
    match path.extension() {
        Some(extension) => format!("{}.{added}", extension.to_string_lossy()),
        None => added.to_owned(),
    }
}

/// The brotli size of the built wasm, for the size budget.
pub fn wasm_brotli_bytes(dist: &Path) -> Result<u64> {
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(".wasm.br") {
            return Ok(std::fs::metadata(path)?.len());
        }
    }
    bail!("no .wasm.br in dist/: build the web app first")
}
