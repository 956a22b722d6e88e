//! The arrows of ARCHITECTURE.md that can be read off the source: the core
//! and the vocabulary of a call name no layer, no layer names another but
//! as allowed, nothing in the product names the emulator, and every
//! `X-TC-*` header is spelled once, in `action/header.rs`.

use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["sign", "retry", "sse", "ratelimit", "emulator", "reqwest"];

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The rooms that `text` imports with `use crate::ROOM`, outside its tests.
fn imported_rooms(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.lines()
        .map(str::trim_start)
        .filter_map(|line| line.strip_prefix("use crate::"))
        .map(|rest| {
            rest.split([':', ';', '{', ' '])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The room a source file is in: its folder under `src/`, or its file stem.
fn room_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    Path::new(first)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_core_and_the_vocabulary_import_no_layer() {
    let core = [
        "error",
        "code",
        "retry_class",
        "request_id",
        "text",
        "macros",
        "action",
    ];
    let mut checked = 0;
    for (path, text) in sources(&src()) {
        let room = room_of(&path);
        if !core.contains(&room.as_str()) {
            continue;
        }
        checked += 1;
        for imported in imported_rooms(&text) {
            assert!(
                !LAYERS.contains(&imported.as_str()) && imported != "envelope",
                "{} (core room {room}) imports crate::{imported}",
                path.display()
            );
        }
    }
    assert!(checked >= 8, "only {checked} core files found");
}

#[test]
fn layers_import_only_what_the_architecture_allows() {
    // Room -> the other layers it may import.
    let allowed: &[(&str, &[&str])] = &[
        ("sse", &["envelope"]),
        ("emulator", &["sign"]),
        ("sign", &[]),
        ("retry", &[]),
        ("ratelimit", &[]),
        ("envelope", &[]),
        ("reqwest", &[]),
    ];
    for (path, text) in sources(&src()) {
        let room = room_of(&path);
        let Some((_, may)) = allowed.iter().find(|(name, _)| *name == room) else {
            continue;
        };
        for imported in imported_rooms(&text) {
            let is_layer = LAYERS.contains(&imported.as_str()) || imported == "envelope";
            if is_layer && imported != room {
                assert!(
                    may.contains(&imported.as_str()),
                    "{} ({room}) imports crate::{imported}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn every_tc_header_is_spelled_once() {
    let header_file = src().join("action").join("header.rs");
    for (path, text) in sources(&src()) {
        if path == header_file {
            continue;
        }
        // Doc examples and tests may spell headers as a user would.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (number, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            // Header names are spelled in lower case; the emulator's error
            // messages name headers as the API's do ("X-TC-Timestamp").
            assert!(
                !line.contains("\"x-tc-"),
                "{}:{}: spells an X-TC-* header; import it from action::header",
                path.display(),
                number + 1
            );
        }
    }
}
