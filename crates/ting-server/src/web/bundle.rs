//! The web app bundle: its files, their published hash, and the Subresource Integrity check.
//!
//! The bundle hash (R14) is SHA-256 over, for each file in path order: the path, a zero byte,
//! the file length as a big-endian u64 and the file's own SHA-256. Anyone can recompute it from
//! a `web/dist` directory (or from `GET /api/v1/web-bundle`, which lists each file's hash) and
//! compare it with what the server prints at start.
//!
//! Before a bundle is served, every `<script src>` and `<link href>` in its `index.html` (and any
//! other top-level HTML page) must carry an `integrity` attribute that matches the referenced
//! file: a bundle whose pages would fail SRI in the browser is refused at start, not at the
//! first page load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use axum::body::Bytes;
use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384};

include!(concat!(env!("OUT_DIR"), "/web_bundle.rs"));

/// Where a bundle's files came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Compiled into the binary from the repository's `web/dist`.
    Embedded,
    /// The placeholder page compiled in when the app was not built.
    Placeholder,
    /// Read from a directory at start (`web.dir`).
    Dir(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Embedded => f.write_str("embedded"),
            Source::Placeholder => f.write_str("placeholder: the web app was not built"),
            Source::Dir(p) => write!(f, "from {}", p.display()),
        }
    }
}

/// One file of the bundle.
#[derive(Clone, Debug)]
pub struct Asset {
    /// Contents.
    pub bytes: Bytes,
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
}

/// A checked web bundle.
#[derive(Clone, Debug)]
pub struct WebBundle {
    files: BTreeMap<String, Asset>,
    hash: [u8; 32],
    source: Source,
    sri_checked: usize,
}

impl WebBundle {
    /// The bundle compiled into this binary.
    pub fn embedded() -> anyhow::Result<WebBundle> {
        let source = if EMBEDDED_SOURCE == "placeholder" {
            Source::Placeholder
        } else {
            Source::Embedded
        };
        let files = EMBEDDED_FILES
            .iter()
            .map(|(path, bytes)| ((*path).to_owned(), Bytes::from_static(bytes)));
        WebBundle::new(files, source)
    }

    /// The bundle in `dir` (e.g. a `web/dist` built after this binary).
    pub fn from_dir(dir: &Path) -> anyhow::Result<WebBundle> {
        let mut files = Vec::new();
        read_dir(dir, dir, &mut files)
            .with_context(|| format!("reading the web app from {}", dir.display()))?;
        if files.is_empty() {
            bail!("{} holds no files", dir.display());
        }
        WebBundle::new(files, Source::Dir(dir.to_path_buf()))
    }

    /// Checks and hashes `files` (path relative to the bundle root, contents).
    pub fn new(
        files: impl IntoIterator<Item = (String, Bytes)>,
        source: Source,
    ) -> anyhow::Result<WebBundle> {
        let files: BTreeMap<String, Asset> = files
            .into_iter()
            .map(|(path, bytes)| {
                let sha256 = Sha256::digest(&bytes).into();
                (path, Asset { bytes, sha256 })
            })
            .collect();
        if !files.contains_key("index.html") {
            bail!("the web app has no index.html");
        }
        let mut sri_checked = 0;
        for (path, asset) in files.iter().filter(|(p, _)| is_top_level_html(p)) {
            let html = std::str::from_utf8(&asset.bytes)
                .with_context(|| format!("{path} is not UTF-8"))?;
            sri_checked += check_sri(path, html, &files)?;
        }
        let mut h = Sha256::new();
        for (path, asset) in &files {
            h.update(path.as_bytes());
            h.update([0]);
            h.update((asset.bytes.len() as u64).to_be_bytes());
            h.update(asset.sha256);
        }
        Ok(WebBundle {
            files,
            hash: h.finalize().into(),
            source,
            sri_checked,
        })
    }

    /// A file by its path relative to the bundle root (no leading `/`).
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }

    /// A file and its path as stored (borrowed from the bundle), by path.
    pub fn get_entry(&self, path: &str) -> Option<(&str, &Asset)> {
        self.files.get_key_value(path).map(|(p, a)| (p.as_str(), a))
    }

    /// Every file, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &Asset)> {
        self.files.iter().map(|(p, a)| (p.as_str(), a))
    }

    /// The published bundle hash (hex).
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }

    /// Where the files came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// How many script/stylesheet references were checked against their `integrity`.
    pub fn sri_checked(&self) -> usize {
        self.sri_checked
    }

    /// The line printed at start.
    pub fn describe(&self) -> String {
        format!(
            "Web app bundle sha256 {} ({} files, {} integrity-checked references, {})",
            self.hash_hex(),
            self.files.len(),
            self.sri_checked,
            self.source
        )
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_top_level_html(path: &str) -> bool {
    !path.contains('/') && path.ends_with(".html")
}

fn read_dir(root: &Path, dir: &Path, out: &mut Vec<(String, Bytes)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, out)?;
        } else if path.is_file() {
            let rel = path
                .strip_prefix(root)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
            out.push((rel, bytes.into()));
        }
    }
    Ok(())
}

/// Checks every `<script src>` and `<link href>` (stylesheet, modulepreload, preload) of a page:
/// same-origin, present in the bundle, and carrying a matching `integrity`. Returns how many
/// references were checked.
fn check_sri(page: &str, html: &str, files: &BTreeMap<String, Asset>) -> anyhow::Result<usize> {
    let mut checked = 0;
    for tag in tags(html) {
        let url = match tag.name.as_str() {
            "script" => tag.attr("src"),
            "link" => {
                let rel = tag.attr("rel").unwrap_or_default().to_ascii_lowercase();
                let needs = rel
                    .split_ascii_whitespace()
                    .any(|r| matches!(r, "stylesheet" | "modulepreload" | "preload"));
                if needs { tag.attr("href") } else { None }
            }
            _ => None,
        };
        let Some(url) = url else { continue };
        let Some(path) = url.strip_prefix('/').filter(|p| !p.starts_with('/')) else {
            bail!("{page}: {url:?} is not a same-origin absolute path");
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let Some(asset) = files.get(path) else {
            bail!("{page}: {url:?} is not in the bundle");
        };
        let Some(integrity) = tag.attr("integrity") else {
            bail!("{page}: {url:?} has no integrity attribute");
        };
        if !integrity_matches(&integrity, &asset.bytes) {
            bail!("{page}: the integrity of {url:?} does not match the file");
        }
        checked += 1;
    }
    Ok(checked)
}

/// Whether any `sha256-`/`sha384-`/`sha512-` token of an integrity attribute matches. (Browsers
/// use the strongest algorithm present; bundles here carry one token.)
fn integrity_matches(integrity: &str, bytes: &[u8]) -> bool {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    integrity.split_ascii_whitespace().any(|token| {
        let token = token.split('?').next().unwrap_or_default();
        match token.split_once('-') {
            Some(("sha256", v)) => v == b64(&Sha256::digest(bytes)),
            Some(("sha384", v)) => v == b64(&Sha384::digest(bytes)),
            Some(("sha512", v)) => v == b64(&sha2::Sha512::digest(bytes)),
            _ => false,
        }
    })
}

struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// The start tags of an HTML document with their attributes: enough of HTML for a build tool's
/// output (quoted or bare attribute values, comments skipped).
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |j| &after[j + 3..]);
            continue;
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        rest = &rest[name_len..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with('>') || rest.starts_with("/>") {
                break;
            }
            let key_len = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
                .unwrap_or(rest.len())
                .max(1);
            let key = rest[..key_len].to_ascii_lowercase();
            rest = rest[key_len..].trim_start();
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (v, remaining) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let end = body.find(q).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                value = v.to_owned();
                rest = remaining;
            }
            attrs.push((key, value));
        }
        out.push(Tag { name, attrs });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sri(bytes: &[u8]) -> String {
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
        )
    }

    fn bundle(index: &str) -> anyhow::Result<WebBundle> {
        WebBundle::new(
            [
                (
                    "index.html".to_owned(),
                    index.to_owned().into_bytes().into(),
                ),
                (
                    "assets/app.js".to_owned(),
                    b"console.log(1)".to_vec().into(),
                ),
                ("assets/app.css".to_owned(), b"body{}".to_vec().into()),
            ],
            Source::Placeholder,
        )
    }

    #[test]
    fn matching_integrity_is_accepted_and_counted() {
        let html = format!(
            r#"<!doctype html><!-- <script src="/nope.js"> --><html><head>
            <script type="module" crossorigin src="/assets/app.js" integrity="{}"></script>
            <link rel="stylesheet" crossorigin href="/assets/app.css" integrity='{}'>
            <link rel="icon" href="/favicon.svg"></head></html>"#,
            sri(b"console.log(1)"),
            sri(b"body{}")
        );
        let b = bundle(&html).unwrap();
        assert_eq!(b.sri_checked(), 2);
        assert_eq!(b.hash_hex().len(), 64);
    }

    #[test]
    fn missing_wrong_or_foreign_references_are_refused() {
        let ok = sri(b"console.log(1)");
        for (html, why) in [
            (
                r#"<script src="/assets/app.js"></script>"#.to_owned(),
                "no integrity",
            ),
            (
                format!(
                    r#"<script src="/assets/app.js" integrity="{}"></script>"#,
                    sri(b"x")
                ),
                "does not match",
            ),
            (
                format!(r#"<script src="https://cdn.example/app.js" integrity="{ok}"></script>"#),
                "same-origin",
            ),
            (
                format!(r#"<script src="//cdn.example/app.js" integrity="{ok}"></script>"#),
                "same-origin",
            ),
            (
                format!(r#"<script src="/assets/gone.js" integrity="{ok}"></script>"#),
                "not in the bundle",
            ),
            (
                r#"<link rel="modulepreload" href="/assets/app.js">"#.to_owned(),
                "no integrity",
            ),
        ] {
            let err = bundle(&html).unwrap_err().to_string();
            assert!(err.contains(why), "{html}: {err}");
        }
    }

    #[test]
    fn the_hash_covers_paths_and_contents() {
        let a = bundle("<p>").unwrap().hash_hex();
        assert_eq!(a, bundle("<p>").unwrap().hash_hex());
        assert_ne!(a, bundle("<p>.").unwrap().hash_hex());
        let renamed = WebBundle::new(
            [
                ("index.html".to_owned(), b"<p>".to_vec().into()),
                (
                    "assets/app2.js".to_owned(),
                    b"console.log(1)".to_vec().into(),
                ),
                ("assets/app.css".to_owned(), b"body{}".to_vec().into()),
            ],
            Source::Placeholder,
        )
        .unwrap();
        assert_ne!(a, renamed.hash_hex());
    }

    #[test]
    fn a_bundle_without_index_is_refused() {
        let err = WebBundle::new(
            [("a.js".to_owned(), b"".to_vec().into())],
            Source::Placeholder,
        )
        .unwrap_err();
        assert!(err.to_string().contains("index.html"));
    }

    #[test]
    fn the_embedded_bundle_passes_its_own_checks() {
        let b = WebBundle::embedded().unwrap();
        assert!(b.get("index.html").is_some());
        assert!(b.sri_checked() >= 1);
    }
}
