//! `jitffi --help` and `-h`: usage with every inspection switch and an example of each,
//! and every example runs. The inspection examples of README.md run too, so that none
//! needs a file the repository does not ship.

use std::path::{Path, PathBuf};

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Splits an example command line into words: spaces separate, single quotes group.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            ' ' if !quoted => words.extend(word.take()),
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote in {line:?}");
    words.extend(word);
    words
}

/// Runs `jitffi ARGS` (the words after the program name) from the repository root; it
/// must succeed and print something.
fn run_example(line: &str) {
    let words = words(line);
    let output = target_program::command(JITFFI)
        .args(&words[1..])
        .current_dir(repository_root())
        .output()
        .expect("run jitffi");
    assert!(
        output.status.success() && !output.stdout.is_empty(),
        "example {line:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn help(switch: &str) -> String {
    let output = target_program::command(JITFFI)
        .arg(switch)
        .output()
        .expect("run jitffi");
    assert_eq!(output.status.code(), Some(0), "jitffi {switch}");
    assert!(output.stderr.is_empty(), "jitffi {switch} wrote to stderr");
    String::from_utf8(output.stdout).expect("help is UTF-8")
}

#[test]
fn help_and_h_print_usage_with_an_example_of_each_switch() {
    let text = help("--help");
    assert_eq!(text, help("-h"));
    assert!(text.starts_with("usage: "), "{text}");
    let examples: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .filter(|line| line.contains("jitffi --"))
        .filter(|line| !line.starts_with("usage:") && !line.contains("[--"))
        .filter(|line| !line.contains("--help"))
        .collect();
    for switch in [
        "--layout",
        "--plan",
        "--disasm",
        "--cdef",
        "--varargs",
        "--target",
    ] {
        assert!(
            text.lines()
                .any(|line| line.trim_start().starts_with(switch)),
            "no line explains {switch}:\n{text}"
        );
        assert!(
            examples.iter().any(|example| example.contains(switch)),
            "no example of {switch}:\n{text}"
        );
    }
    for example in examples {
        run_example(example);
    }
}

#[test]
fn help_only_as_the_first_argument() {
    // After an option, `-h` is lua5.4's unrecognized option.
    let output = target_program::command(JITFFI)
        .args(["-e", "", "-h"])
        .output()
        .expect("run jitffi");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognized option '-h'"));
}

/// Every `jitffi --layout`/`--plan` command in README.md's code blocks runs from the
/// repository root, with files the repository ships.
#[test]
fn readme_inspection_examples_run() {
    let readme = std::fs::read_to_string(repository_root().join("README.md")).expect("README");
    let examples: Vec<&str> = readme
        .lines()
        .map(|line| line.trim_start().trim_start_matches("$ "))
        .filter(|line| {
            line.starts_with("target/release/jitffi --") || line.starts_with("jitffi --")
        })
        .collect();
    assert!(
        examples.len() >= 3,
        "README.md shows fewer inspection examples than expected: {examples:?}"
    );
    for example in examples {
        let example = example.strip_prefix("target/release/").unwrap_or(example);
        let example = example.split("  #").next().unwrap_or(example).trim_end();
        run_example(example);
    }
}
