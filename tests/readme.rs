//! The README names the dependency lines its snippets need: every crate a
//! ```rust snippet uses, with the features the snippets rely on, is in one
//! of its ```toml `[dependencies]` blocks, at a version compatible with the
//! one this crate builds against.

use std::collections::{BTreeMap, BTreeSet};

const README: &str = include_str!("../README.md");
const CARGO_TOML: &str = include_str!("../Cargo.toml");

/// The contents of the README's fenced blocks of `language`.
fn blocks(language: &str) -> Vec<&'static str> {
    let fence = format!("```{language}\n");
    let mut found = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("a closed block");
        found.push(&body[..end]);
        rest = &body[end..][3..];
    }
    found
}

/// A dependency line: its version and features.
#[derive(Debug, Default)]
struct Line {
    version: String,
    features: BTreeSet<String>,
}

/// The dependency lines of TOML `text` under `[dependencies]` and
/// `[dev-dependencies]`, one line per crate (`name = "1"` or
/// `name = { version = "1", features = [...] }`); the features of a crate
/// listed twice are merged.
fn dependency_lines(text: &str, lines: &mut BTreeMap<String, Line>) {
    let mut in_dependencies = false;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap().trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line == "[dev-dependencies]";
            continue;
        }
        let Some((name, value)) = line.split_once(" = ") else {
            continue;
        };
        if !in_dependencies {
            continue;
        }
        let entry = lines.entry(name.to_owned()).or_default();
        let quoted = |after: &str| {
            value
                .split_once(after)
                .map(|(_, rest)| rest.trim_start().trim_start_matches('"'))
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        };
        if value.starts_with('"') {
            entry.version = value.trim_matches('"').to_owned();
        } else if let Some(version) = quoted("version =") {
            entry.version = version;
        }
        if let Some((_, features)) = value.split_once("features = [") {
            let features = &features[..features.find(']').unwrap()];
            entry.features.extend(
                features
                    .split(',')
                    .map(|f| f.trim().trim_matches('"').to_owned())
                    .filter(|f| !f.is_empty()),
            );
        }
    }
}

/// The crates the snippets name: roots of paths (`tokio::spawn`,
/// `use tower::retry::RetryLayer`) that are neither local nor imported
/// names, as Cargo spells them (`hyper_util` is `hyper-util`).
fn crates_used(snippets: &[&str]) -> BTreeSet<String> {
    let mut imported = BTreeSet::new();
    let mut roots = BTreeSet::new();
    for snippet in snippets {
        for line in snippet.lines() {
            let code = match line.find(" //") {
                Some(at) => &line[..at],
                None if line.trim_start().starts_with("//") => "",
                None => line,
            };
            if let Some(path) = code.trim().strip_prefix("use ") {
                let path = path.trim_end_matches(';');
                roots.insert(path.split("::").next().unwrap().to_owned());
                let group = path.find('{').map_or(path, |at| &path[at + 1..]);
                for item in group.trim_end_matches('}').split(',') {
                    let name = item.rsplit("::").next().unwrap();
                    imported.insert(name.split(" as ").last().unwrap().trim().to_owned());
                }
                continue;
            }
            let bytes = code.as_bytes();
            for (at, _) in code.match_indices("::") {
                let start = code[..at]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |i| i + 1);
                let root = &code[start..at];
                let after_path = start >= 2 && &bytes[start - 2..start] == b"::";
                // `.build::<T>()` is a method, not a path.
                let method = start >= 1 && bytes[start - 1] == b'.';
                let turbofish = bytes.get(at + 2) == Some(&b'<');
                if !root.is_empty()
                    && !after_path
                    && !method
                    && !turbofish
                    && root.starts_with(|c: char| c.is_ascii_lowercase())
                {
                    roots.insert(root.to_owned());
                }
            }
        }
    }
    roots
        .into_iter()
        .filter(|root| !imported.contains(root))
        .filter(|root| !["std", "core", "alloc", "crate", "self", "super"].contains(&root.as_str()))
        .map(|root| root.replace('_', "-"))
        .map(|name| {
            if name == "serde-json" {
                "serde_json".to_owned()
            } else {
                name
            }
        })
        .collect()
}

/// Two versions a caret requirement would both accept: the same first
/// component that is not zero, and every component before it.
fn compatible(a: &str, b: &str) -> bool {
    let parts = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            return false;
        }
        if *x != 0 {
            return true;
        }
    }
    true
}

#[test]
fn the_readme_names_every_crate_and_feature_its_snippets_use() {
    let mut declared = BTreeMap::new();
    for block in blocks("toml") {
        dependency_lines(block, &mut declared);
    }
    let snippets = blocks("rust");
    assert!(snippets.len() > 10, "the README's snippets were not found");
    let all = snippets.concat();

    for name in crates_used(&snippets) {
        assert!(
            declared.contains_key(&name),
            "the snippets use `{name}`, which no [dependencies] block of the README names"
        );
    }

    // What a snippet relies on, and the feature that provides it.
    let needs = [
        ("tower::retry", "tower", "retry"),
        ("tower::timeout", "tower", "timeout"),
        ("ServiceExt", "tower", "util"),
        ("hyper_util::client::legacy", "hyper-util", "client-legacy"),
        ("build_http", "hyper-util", "http1"),
        ("TokioExecutor", "hyper-util", "tokio"),
        ("with_webpki_roots", "hyper-rustls", "webpki-roots"),
        ("#[tokio::main]", "tokio", "rt-multi-thread"),
        ("#[tokio::main]", "tokio", "macros"),
        ("#[tokio::test]", "tokio", "macros"),
        (
            "tower_tencentcloud::emulator",
            "tower-tencentcloud",
            "emulator",
        ),
        (
            "tower_tencentcloud::reqwest",
            "tower-tencentcloud",
            "reqwest",
        ),
    ];
    for (used, name, feature) in needs {
        if !all.contains(used) {
            continue;
        }
        let line = declared
            .get(name)
            .unwrap_or_else(|| panic!("`{used}` needs `{name}`, which the README does not name"));
        assert!(
            line.features.contains(feature),
            "`{used}` needs the feature `{feature}` of `{name}`: {line:?}"
        );
    }

    // Versions the crate builds against.
    let mut ours = BTreeMap::new();
    dependency_lines(CARGO_TOML, &mut ours);
    let (package_version, _) = CARGO_TOML
        .split_once("version = \"")
        .map(|(_, rest)| rest.split_once('"').unwrap())
        .unwrap();
    ours.entry("tower-tencentcloud".to_owned())
        .or_default()
        .version = package_version.to_owned();
    for (name, line) in &declared {
        if let Some(our) = ours.get(name) {
            assert!(
                compatible(&line.version, &our.version),
                "the README asks for {name} {}, the crate builds against {}",
                line.version,
                our.version
            );
        }
    }
}

#[test]
fn the_parsers_of_this_test_read_what_they_should() {
    let mut lines = BTreeMap::new();
    dependency_lines(
        "[dependencies]\na = \"1\"\nb-c = { version = \"0.5\", features = [\"x\", \"y\"] } # why\n[features]\nz = []\n",
        &mut lines,
    );
    assert_eq!(lines["a"].version, "1");
    assert_eq!(lines["b-c"].version, "0.5");
    assert_eq!(lines["b-c"].features.len(), 2);
    assert!(!lines.contains_key("z"));
    let used = crates_used(&[
        "use a_b::c::{D, e};\nuse o::{p::Q, r};\nlet x = e::f(); // g::h\nlet y = i::j::K::new(\"https://l\").m::<N>();\n",
    ]);
    assert_eq!(
        used,
        BTreeSet::from(["a-b".to_owned(), "i".to_owned(), "o".to_owned()])
    );
    assert!(compatible("0.5", "0.5.2") && compatible("1", "1.47") && !compatible("0.4", "0.5"));
}
