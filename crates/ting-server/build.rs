//! Embeds the web app into the `ting` binary.
//!
//! If the repository's `web/dist` holds a built app (`index.html` present), every file under it is
//! embedded; otherwise the small placeholder in `assets/placeholder` is (it explains how to build
//! the app and keeps the first-administrator setup page working). `TING_WEB_DIST` points the
//! build at another directory. The generated `web_bundle.rs` is a list of
//! `(path, include_bytes!(…))` pairs; the server hashes and checks them at start
//! (`src/web/bundle.rs`).
//!
//! Also names the build for `ting --version`: the git commit (`TING_COMMIT`) and whether the
//! tracked files differed from it (`TING_TREE`: `clean`, `modified` or `unknown` outside a git
//! checkout). Nothing time- or path-dependent goes in, so two builds of one commit agree.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    git_version(&manifest.join("../.."));
    println!("cargo:rerun-if-env-changed=TING_WEB_DIST");
    let dist = std::env::var_os("TING_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../web/dist"));
    // Cargo scans a directory given here recursively for changes; a missing path makes the
    // script run again on the next build, which is what we want until the app is built.
    println!("cargo:rerun-if-changed={}", dist.display());
    let placeholder = manifest.join("assets/placeholder");
    println!("cargo:rerun-if-changed={}", placeholder.display());

    let (root, source) = if dist.join("index.html").is_file() {
        (dist, "web/dist")
    } else {
        (placeholder, "placeholder")
    };
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();

    let mut out = String::new();
    out.push_str("/// Where the embedded files came from at build time.\n");
    writeln!(out, "pub(crate) const EMBEDDED_SOURCE: &str = {source:?};").unwrap();
    out.push_str("/// The embedded files: path relative to the bundle root, contents.\n");
    out.push_str("pub(crate) static EMBEDDED_FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        writeln!(out, "    ({rel:?}, include_bytes!({:?})),", abs.display()).unwrap();
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    std::fs::write(out_dir.join("web_bundle.rs"), out).expect("writing web_bundle.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let rel = path
                .strip_prefix(root)
                .expect("inside root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let abs = path.canonicalize().expect("canonical path");
            files.push((rel, abs));
        }
    }
}

/// Sets `TING_COMMIT` and `TING_TREE`, and asks to run again when the checkout moves or a
/// tracked source changes.
fn git_version(repo: &Path) {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let tree = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if s.is_empty() => "clean",
        Some(_) => "modified",
        None => "unknown",
    };
    println!("cargo:rustc-env=TING_COMMIT={commit}");
    println!("cargo:rustc-env=TING_TREE={tree}");
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        for f in ["HEAD", "index", "packed-refs", "refs"] {
            println!("cargo:rerun-if-changed={dir}/{f}");
        }
    }
    // Sources (never build outputs, which would make every build run this again).
    let mut watched = vec![repo.join("Cargo.lock"), repo.join("web/src")];
    if let Ok(crates) = std::fs::read_dir(repo.join("crates")) {
        for c in crates.flatten() {
            watched.push(c.path().join("src"));
            watched.push(c.path().join("Cargo.toml"));
        }
    }
    for w in watched.iter().filter(|w| w.exists()) {
        println!("cargo:rerun-if-changed={}", w.display());
    }
}
