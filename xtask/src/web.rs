//! Building the web app into `dist/` with Trunk, as `../shared/toolchain.md` found works here:
//! Trunk 0.21.14 from crates.io, wasm-bindgen at the Cargo.lock version, and wasm-opt from npm
//! (binaryen 132), all found on PATH, with Trunk told never to download anything.
//!
//! After Trunk, four things no tool here does for us:
//! - two more binaries are built the way Trunk builds the phone's app (wasm-bindgen, then
//!   wasm-opt -Oz), since Trunk builds one binary per page: the sign-in alone
//!   (`web/src/bin/lots-signin.rs`, see `lots_web::boot`), a small first download, and the
//!   desk's app (`web/src/bin/lots-desk.rs`, see `lots_web::screens`), which a phone never
//!   downloads;
//! - Trunk's start-up script, written inline in `index.html`, is replaced by `web/boot.js`,
//!   which picks the app to start, in a hashed file of its own (the server's CSP forbids inline
//!   scripts); the page preloads the sign-in, not the whole app;
//! - the service worker gets the list of files to precache (all but the desk's), the desk's
//!   files (cached once a device has used them) and a version derived from them all;
//! - every file is precompressed (brotli and gzip) for the server to send as it is.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

use crate::tools::{self, step};

/// Trunk's version: 0.22 needs a newer rustc than this project's.
const TRUNK_VERSION: &str = "0.21.14";

/// Installs what building the web app needs (and leaves the tools' build folder for the
/// caller to remove).
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
            "installing trunk {TRUNK_VERSION} (several minutes on two cores)"
        ));
        // Without its default features (TLS for downloads and its update check): it is told
        // never to download (`Trunk.toml`), and `trunk build` serves nothing.
        tools::cargo_install(
            sh,
            &[
                "--locked",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--no-default-features",
            ],
        )?;
    }
    Ok(())
}

/// Builds the web app into `dist/`, ready to serve.
pub fn build(sh: &Shell) -> Result<()> {
    ensure_tools(sh)?;
    tools::forget_tool_builds(sh)?;
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
    step("building the sign-in alone (release), the first download of a new device");
    let sign_in = build_binary(sh, &dist, "lots-signin", SIGN_IN)?;
    step("building the desk's app (release): the supervisor's and the administrator's screens");
    let desk = build_binary(sh, &dist, "lots-desk", DESK)?;
    write_start_script(sh, &dist, &sign_in, &desk)?;
    fill_service_worker(&dist)?;
    precompress(&dist)?;
    step(&format!(
        "web app built: the phone's wasm is {} KB brotli, the desk's {} KB, the sign-in's {} KB",
        wasm_brotli_bytes(&dist, APP)? / 1024,
        wasm_brotli_bytes(&dist, DESK)? / 1024,
        wasm_brotli_bytes(&dist, SIGN_IN)? / 1024,
    ));
    Ok(())
}

fn short_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The phone's app's files in `dist/` start with this (Trunk names them after the binary).
pub const APP: &str = "lots-web-";
/// The sign-in's files in `dist/` start with this.
pub const SIGN_IN: &str = "lots-signin-";
/// The desk's app's files in `dist/` start with this.
pub const DESK: &str = "lots-desk-";

/// A build's two files in `dist/`: the JavaScript glue and the wasm, as URLs.
struct Files {
    js: String,
    wasm: String,
}

/// Builds the web crate's `binary` as Trunk builds the phone's app, into `dist/` under
/// hashed names starting with `prefix`.
fn build_binary(sh: &Shell, dist: &Path, binary: &str, prefix: &str) -> Result<Files> {
    cmd!(
        sh,
        "cargo build --release --offline --target wasm32-unknown-unknown -p lots-web --bin {binary}"
    )
    .run()
    .with_context(|| format!("building {binary} failed"))?;
    let (glue, optimised) =
        bind_and_optimise(sh, binary).with_context(|| format!("finishing {binary}'s wasm"))?;
    let glue = std::fs::read(glue)?;
    let wasm = std::fs::read(&optimised)?;
    let hash = short_hash(&[glue.as_slice(), wasm.as_slice()].concat());
    let files = Files {
        js: format!("/{prefix}{hash}.js"),
        wasm: format!("/{prefix}{hash}_bg.wasm"),
    };
    std::fs::write(dist.join(&files.js[1..]), glue)?;
    std::fs::write(dist.join(&files.wasm[1..]), wasm)?;
    Ok(files)
}

/// Runs wasm-bindgen and then `wasm-opt -Oz` on the release wasm of `binary` (built for
/// wasm32 by cargo), as Trunk does for the whole app. Returns the JavaScript glue and the
/// optimised wasm, in a staging directory under the target directory.
pub fn bind_and_optimise(
    sh: &Shell,
    binary: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| sh.current_dir().join("target"));
    let built = target.join(format!("wasm32-unknown-unknown/release/{binary}.wasm"));
    let staging = target.join(binary);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    cmd!(
        sh,
        "wasm-bindgen --target web --no-typescript --out-dir {staging} --out-name {binary} {built}"
    )
    .run()
    .context("wasm-bindgen failed")?;
    let bound = staging.join(format!("{binary}_bg.wasm"));
    let optimised = staging.join(format!("{binary}_opt.wasm"));
    let output = format!("--output={}", optimised.display());
    let tools_bin = sh.current_dir().join("web/tools/node_modules/.bin");
    let path = std::env::var("PATH").unwrap_or_default();
    let _path = sh.push_env("PATH", format!("{}:{path}", tools_bin.display()));
    cmd!(sh, "wasm-opt {output} -Oz {bound}")
        .run()
        .context("wasm-opt failed")?;
    Ok((staging.join(format!("{binary}.js")), optimised))
}

/// `bytes` compressed as the server's files are: brotli at quality 11, a 4 MiB window.
pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(compressed)
}

/// The text between the quotes that follow `marker` in `text`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let quote = rest.chars().next()?;
    let rest = &rest[quote.len_utf8()..];
    Some(&rest[..rest.find(quote)?])
}

/// Replaces Trunk's inline start-up script and its preloads of the whole app with
/// `web/boot.js` in `start-<hash>.js` and preloads of the sign-in.
fn write_start_script(sh: &Shell, dist: &Path, sign_in: &Files, desk: &Files) -> Result<()> {
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path).context("dist/index.html is missing")?;
    let (script, app) = trunk_start(&index)?;
    let template = sh.read_file("web/boot.js")?;
    let files = format!(
        "const FILES = {{ app: {{ js: {:?}, wasm: {:?} }}, desk: {{ js: {:?}, wasm: {:?} }}, \
         signIn: {{ js: {:?}, wasm: {:?} }} }};",
        app.js, app.wasm, desk.js, desk.wasm, sign_in.js, sign_in.wasm
    );
    let filled = template.replacen("const FILES = {};", &files, 1);
    if filled == template {
        bail!("web/boot.js lacks the `const FILES = {{}};` line xtask fills in");
    }
    let name = format!("start-{}.js", short_hash(filled.as_bytes()));
    std::fs::write(dist.join(&name), &filled)?;
    std::fs::write(
        &index_path,
        rewrite_index(&index, script, &app, &name, sign_in)?,
    )?;
    Ok(())
}

/// Trunk's inline start-up script in `index`: where it is, tags included, and the whole app's
/// files it starts.
fn trunk_start(index: &str) -> Result<(std::ops::Range<usize>, Files)> {
    let open = "<script type=\"module\">";
    let close = "</script>";
    let Some(start) = index.find(open) else {
        bail!("Trunk's start-up script is not in dist/index.html: has Trunk's output changed?");
    };
    let body_start = start + open.len();
    let end = index[body_start..]
        .find(close)
        .context("Trunk's start-up script is not closed")?
        + body_start;
    let script = &index[body_start..end];
    let app = Files {
        js: quoted_after(script, " from ")
            .context("Trunk's start-up script imports no module")?
            .to_owned(),
        wasm: quoted_after(script, "module_or_path: ")
            .context("Trunk's start-up script loads no wasm")?
            .to_owned(),
    };
    if !app.js.starts_with(&format!("/{APP}")) || !app.wasm.starts_with(&format!("/{APP}")) {
        bail!(
            "Trunk's start-up script starts {} and {}, not the whole app",
            app.js,
            app.wasm
        );
    }
    Ok((start..end + close.len(), app))
}

/// `index` with Trunk's start-up script (at `script`) replaced by the file `start` and
/// preloads of the sign-in, and without Trunk's preloads of the whole app: on a first visit
/// they would fetch all of it before the form could show.
fn rewrite_index(
    index: &str,
    script: std::ops::Range<usize>,
    app: &Files,
    start: &str,
    sign_in: &Files,
) -> Result<String> {
    let tags = format!(
        "<script type=\"module\" src=\"/{start}\"></script>\n    \
         <link rel=\"modulepreload\" href=\"{}\" crossorigin=\"anonymous\">\n    \
         <link rel=\"preload\" href=\"{}\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">",
        sign_in.js, sign_in.wasm
    );
    let mut index = format!("{}{tags}{}", &index[..script.start], &index[script.end..]);
    for preload in [&app.js, &app.wasm] {
        let href = format!("href=\"{preload}\"");
        let Some(at) = index.find(&href) else {
            continue;
        };
        let tag_start = index[..at]
            .rfind("<link")
            .context("a preload outside a link")?;
        let tag_end = index[at..].find('>').context("an unclosed link")? + at + 1;
        index.replace_range(tag_start..tag_end, "");
    }
    if index.contains(&app.wasm) || index.contains(&app.js) {
        bail!("dist/index.html still names the whole app: has Trunk's output changed?");
    }
    if index.contains("<script>") || index.contains("<style") || index.contains(" style=") {
        bail!("dist/index.html still has an inline script or style, which the CSP forbids");
    }
    Ok(index)
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

/// Writes the precache list (every file but the desk's), the desk's files and a version (the
/// hash of every file) into `dist/sw.js`.
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
    let (desk, precache): (Vec<&String>, Vec<&String>) = files
        .iter()
        .partition(|file| file.starts_with(&format!("/{DESK}")));
    if desk.is_empty() {
        bail!("dist/ holds no file of the desk's app");
    }
    let list = |files: &[&String]| {
        files
            .iter()
            .map(|file| format!("{file:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for line in [
        "const PRECACHE = [];",
        "const DESK = [];",
        "const VERSION = \"dev\";",
    ] {
        if !worker.contains(line) {
            bail!("web/sw.js lacks the line `{line}` xtask fills in");
        }
    }
    let filled = worker
        .replacen(
            "const PRECACHE = [];",
            &format!("const PRECACHE = [{}];", list(&precache)),
            1,
        )
        .replacen(
            "const DESK = [];",
            &format!("const DESK = [{}];", list(&desk)),
            1,
        )
        .replacen(
            "const VERSION = \"dev\";",
            &format!("const VERSION = \"{version}\";"),
            1,
        );
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
        std::fs::write(
            path.with_extension(extension_plus(&path, "br")),
            brotli(&bytes)?,
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

/// The brotli size of a build's wasm (`prefix` is [`APP`], [`DESK`] or [`SIGN_IN`]), for the
/// size budget.
pub fn wasm_brotli_bytes(dist: &Path, prefix: &str) -> Result<u64> {
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".wasm.br") {
            return Ok(std::fs::metadata(path)?.len());
        }
    }
    bail!("no {prefix}*.wasm.br in dist/: build the web app first")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Trunk 0.21's `dist/index.html` for this project.
    const TRUNK_INDEX: &str = r#"<!doctype html>
<html lang="sv">
  <head>
    <title>Lots</title>
<script type="module">
import init, * as bindings from '/lots-web-8abf25f2b31a5979.js';
const wasm = await init({ module_or_path: '/lots-web-8abf25f2b31a5979_bg.wasm' });
window.wasmBindings = bindings;
</script>
    <link rel="stylesheet" href="/style-13b4e290e486eb0d.css" integrity="sha384-x"/>
  <link rel="modulepreload" href="/lots-web-8abf25f2b31a5979.js" crossorigin="anonymous" integrity="sha384-y"><link rel="preload" href="/lots-web-8abf25f2b31a5979_bg.wasm" crossorigin="anonymous" integrity="sha384-z" as="fetch" type="application/wasm"></head>
  <body></body>
</html>
"#;

    #[test]
    fn the_page_starts_the_boot_script_and_preloads_only_the_sign_in() {
        let (script, app) = trunk_start(TRUNK_INDEX).expect("Trunk's script is found");
        assert_eq!(app.js, "/lots-web-8abf25f2b31a5979.js");
        assert_eq!(app.wasm, "/lots-web-8abf25f2b31a5979_bg.wasm");
        let sign_in = Files {
            js: "/lots-signin-0123456789abcdef.js".into(),
            wasm: "/lots-signin-0123456789abcdef_bg.wasm".into(),
        };
        let index = rewrite_index(TRUNK_INDEX, script, &app, "start-1.js", &sign_in)
            .expect("the page is rewritten");
        assert!(index.contains(r#"<script type="module" src="/start-1.js"></script>"#));
        assert!(
            index.contains(r#"<link rel="modulepreload" href="/lots-signin-0123456789abcdef.js""#)
        );
        assert!(
            index.contains(r#"<link rel="preload" href="/lots-signin-0123456789abcdef_bg.wasm""#)
        );
        assert!(
            !index.contains("lots-web-"),
            "no trace of the whole app: {index}"
        );
        assert!(index.contains(r#"<link rel="stylesheet" href="/style-13b4e290e486eb0d.css""#));
        assert!(index.ends_with("</head>\n  <body></body>\n</html>\n"));
    }

    #[test]
    fn a_changed_trunk_output_is_refused_clearly() {
        let no_script = TRUNK_INDEX.replace(r#"<script type="module">"#, "<script>");
        let error = trunk_start(&no_script).err().expect("refused");
        assert!(error.to_string().contains("has Trunk's output changed?"));
        let other_app = TRUNK_INDEX.replace("lots-web-", "other-");
        let error = trunk_start(&other_app).err().expect("refused");
        assert!(error.to_string().contains("not the whole app"));
    }
}
