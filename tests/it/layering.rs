//! Layering anyone can check: the `crate::` references of every file under src/ make a graph
//! of top-level modules (`cert`, `net`, `probe`, …), and that graph must have no cycle.
//!
//! Both `use crate::x…` lines (with `use crate::{x, y}` groups) and `crate::x::…` paths in code
//! count: a dependency is a dependency however it is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Cycles still being taken apart, each with where that happens. The test fails when one of
/// them is gone (remove it here) and on any other cycle.
const PENDING: &[(&str, &str, &str)] = &[];

type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn top_level(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "main" && name != "lib").then(|| name.to_string())
}

/// The top-level modules a line of Rust names through `crate::`.
fn referenced(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        rest = after;
    }
    out
}

fn graph(src: &Path) -> Graph {
    let mut g = Graph::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let Some(from) = top_level(rel) else { continue };
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                for to in referenced(line) {
                    if to != from && to != "self" && to != "super" {
                        g.entry(from.clone())
                            .or_default()
                            .entry(to)
                            .or_default()
                            .push(format!("src/{}:{}", rel.display(), i + 1));
                    }
                }
            }
        }
    }
    g
}

fn reaches(g: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n.clone()) {
            if let Some(next) = g.get(&n) {
                stack.extend(next.keys().cloned());
            }
        }
    }
    false
}

/// Every edge that lies on a cycle, as (from, to, where).
fn cycle_edges(g: &Graph) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (from, tos) in g {
        for (to, at) in tos {
            if reaches(g, to, from) {
                out.push((from.clone(), to.clone(), at.clone()));
            }
        }
    }
    out
}

#[test]
fn crate_references_are_read_from_use_lines_groups_and_paths() {
    assert_eq!(referenced("use crate::net::tls;"), ["net"]);
    assert_eq!(
        referenced("use crate::{cert, net::fetch};"),
        ["cert", "net"]
    );
    assert_eq!(
        referenced("    let x = crate::platform::internet::current(); // crate::demo"),
        ["platform"]
    );
    let mut g = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into())
            .or_default()
            .insert(b.into(), vec![String::new()]);
    }
    let on: Vec<(String, String)> = cycle_edges(&g)
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect();
    assert_eq!(on.len(), 3, "{on:?}");
    assert!(!on.contains(&("c".into(), "d".into())));
}

#[test]
fn no_cycle_between_top_level_modules() {
    let g = graph(&crate::support::repo().join("src"));
    assert!(g.len() > 5, "the module graph looks empty: {g:?}");
    let pending = |a: &str, b: &str| {
        PENDING
            .iter()
            .any(|(x, y, _)| (a == *x && b == *y) || (a == *y && b == *x))
    };
    let cycles = cycle_edges(&g);
    let unexpected: Vec<String> = cycles
        .iter()
        .filter(|(a, b, _)| !pending(a, b))
        .map(|(a, b, at)| format!("{a} → {b} ({})", at.join(", ")))
        .collect();
    assert!(
        unexpected.is_empty(),
        "cycles between top-level modules:\n{}",
        unexpected.join("\n")
    );
    for (a, b, why) in PENDING {
        assert!(
            cycles
                .iter()
                .any(|(x, y, _)| (x == a && y == b) || (x == b && y == a)),
            "the cycle {a} ↔ {b} ({why}) is gone: remove it from PENDING"
        );
    }
}

/// The library takes plain option structs: clap's types stay in `src/cli.rs`, and only
/// `src/commands/` (which builds the options from them) and `src/main.rs` name `crate::cli`.
#[test]
fn only_the_commands_name_the_command_line() {
    let g = graph(&crate::support::repo().join("src"));
    let users: Vec<String> = g
        .iter()
        .filter(|(from, _)| from.as_str() != "commands" && from.as_str() != "cli")
        .filter_map(|(from, tos)| {
            tos.get("cli")
                .map(|at| format!("{from}: {}", at.join(", ")))
        })
        .collect();
    assert!(
        users.is_empty(),
        "library modules that name crate::cli (build a plain options struct in commands/ instead):\n{}",
        users.join("\n")
    );
    assert!(
        g.get("commands").is_some_and(|tos| tos.contains_key("cli")),
        "the commands no longer read the command line: is the graph still read?"
    );
}
