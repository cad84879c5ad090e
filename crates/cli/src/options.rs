//! The command line of `lua5.4`, parsed before any Lua state exists.
//!
//! Options come first; the first argument that is not an option is the script, and every
//! argument after it belongs to the script. `--` ends the options, `-` names stdin as the
//! script. A bad option stops everything with the usage message.

use std::ffi::CString;

/// Something to do, in command-line order, before the script runs (`-e`, `-l`, `-W`).
#[derive(Debug, PartialEq, Eq)]
pub enum StartupAction {
    /// `-e stat`: run a chunk named `=(command line)`.
    Execute(CString),
    /// `-l mod` or `-l g=mod`: `g = require "mod"`.
    Require { global: CString, module: CString },
    /// `-W`: turn warnings on.
    WarningsOn,
}

/// A command line that parsed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-i`: enter the REPL after the script.
    pub interactive: bool,
    /// `-v`, or `-i` (which implies it): print the version banner first.
    pub show_version: bool,
    /// At least one `-e`: together with `-v` it keeps stdin from being run.
    pub has_execute: bool,
    /// `-E`: ignore `LUA_INIT` and the `LUA_PATH`-style variables.
    pub ignore_env: bool,
    /// Index in argv of the script (`-` meaning stdin), if there is one.
    pub script: Option<usize>,
    pub actions: Vec<StartupAction>,
}

/// A command line that did not parse: the usage message names `argv[index]`.
#[derive(Debug, PartialEq, Eq)]
pub struct BadOption {
    pub index: usize,
}

/// Parses `argv` (with the program name at index 0) like `lua.c`'s `collectargs`.
pub fn parse(argv: &[CString]) -> Result<Options, BadOption> {
    let mut options = Options::default();
    let mut index = 1;
    while let Some(arg) = argv.get(index) {
        let bytes = arg.to_bytes();
        let bad = BadOption { index };
        let Some(rest) = bytes.strip_prefix(b"-") else {
            options.script = Some(index);
            return Ok(options);
        };
        match rest {
            [] => {
                options.script = Some(index);
                return Ok(options);
            }
            b"-" => {
                options.script = argv.get(index + 1).map(|_| index + 1);
                return Ok(options);
            }
            b"E" => options.ignore_env = true,
            b"W" => options.actions.push(StartupAction::WarningsOn),
            b"i" => {
                options.interactive = true;
                options.show_version = true;
            }
            b"v" => options.show_version = true,
            [letter @ (b'e' | b'l'), attached @ ..] => {
                let value = if attached.is_empty() {
                    index += 1;
                    match argv.get(index) {
                        Some(next) if !next.to_bytes().starts_with(b"-") => next.to_bytes(),
                        _ => return Err(bad),
                    }
                } else {
                    attached
                };
                options.actions.push(if *letter == b'e' {
                    options.has_execute = true;
                    StartupAction::Execute(c_string(value))
                } else {
                    library_request(value)
                });
            }
            _ => return Err(bad),
        }
        index += 1;
    }
    Ok(options)
}

/// `-l g=mod` stores `require "mod"` in `g`; plain `-l mod` stores it in `mod`, cut at
/// the first `-` (Lua 5.4's LUA_IGMARK: `-l mod-v2` sets global `mod`).
fn library_request(value: &[u8]) -> StartupAction {
    let (global, module) = match value.iter().position(|&b| b == b'=') {
        Some(eq) => (&value[..eq], &value[eq + 1..]),
        None => {
            let cut = value.iter().position(|&b| b == b'-').unwrap_or(value.len());
            (&value[..cut], value)
        }
    };
    StartupAction::Require {
        global: c_string(global),
        module: c_string(module),
    }
}

/// Sub-slices of an argument hold no NUL byte, because the whole argument came from a
/// C string.
fn c_string(bytes: &[u8]) -> CString {
    CString::new(bytes).expect("a piece of a C string has no interior NUL")
}

/// The usage message for a bad option, as `lua5.4` words it.
pub fn usage_message(progname: &str, bad_option: &[u8]) -> String {
    let bad = String::from_utf8_lossy(bad_option);
    let complaint = if matches!(bad_option.get(1), Some(b'e' | b'l')) {
        format!("'{bad}' needs argument")
    } else {
        format!("unrecognized option '{bad}'")
    };
    format!(
        "{progname}: {complaint}\n\
         usage: {progname} [options] [script [args]]\n\
         Available options are:\n\
         \x20 -e stat   execute string 'stat'\n\
         \x20 -i        enter interactive mode after executing 'script'\n\
         \x20 -l mod    require library 'mod' into global 'mod'\n\
         \x20 -l g=mod  require library 'mod' into global 'g'\n\
         \x20 -v        show version information\n\
         \x20 -E        ignore environment variables\n\
         \x20 -W        turn warnings on\n\
         \x20 --        stop handling options\n\
         \x20 -         stop handling options and execute stdin\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<CString> {
        std::iter::once("jitffi")
            .chain(args.iter().copied())
            .map(|a| CString::new(a).unwrap())
            .collect()
    }

    fn cs(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    #[test]
    fn script_ends_options() {
        let o = parse(&argv(&["-e", "x=1", "s.lua", "-v"])).unwrap();
        assert_eq!(o.script, Some(3));
        assert!(!o.show_version);
        assert_eq!(o.actions, vec![StartupAction::Execute(cs("x=1"))]);
    }

    #[test]
    fn dash_is_stdin_and_double_dash_stops() {
        assert_eq!(parse(&argv(&["-"])).unwrap().script, Some(1));
        assert_eq!(parse(&argv(&["--", "-v"])).unwrap().script, Some(2));
        assert_eq!(parse(&argv(&["--"])).unwrap().script, None);
        assert_eq!(parse(&argv(&[])).unwrap().script, None);
    }

    #[test]
    fn attached_and_detached_values() {
        let o = parse(&argv(&["-eprint(1)", "-l", "a=b", "-lmod-v2", "-W"])).unwrap();
        assert_eq!(
            o.actions,
            vec![
                StartupAction::Execute(cs("print(1)")),
                StartupAction::Require {
                    global: cs("a"),
                    module: cs("b")
                },
                StartupAction::Require {
                    global: cs("mod"),
                    module: cs("mod-v2")
                },
                StartupAction::WarningsOn,
            ]
        );
        assert!(o.has_execute);
    }

    #[test]
    fn interactive_implies_version() {
        let o = parse(&argv(&["-i", "-E"])).unwrap();
        assert!(o.interactive && o.show_version && o.ignore_env);
    }

    #[test]
    fn bad_options_name_their_index() {
        assert_eq!(parse(&argv(&["-x"])), Err(BadOption { index: 1 }));
        assert_eq!(parse(&argv(&["-v", "-ifoo"])), Err(BadOption { index: 2 }));
        assert_eq!(parse(&argv(&["--layout"])), Err(BadOption { index: 1 }));
        assert_eq!(parse(&argv(&["-e"])), Err(BadOption { index: 1 }));
        assert_eq!(parse(&argv(&["-l", "-v"])), Err(BadOption { index: 1 }));
    }

    #[test]
    fn usage_wording() {
        assert!(usage_message("lua", b"-e").starts_with("lua: '-e' needs argument\n"));
        assert!(usage_message("lua", b"-x").starts_with("lua: unrecognized option '-x'\n"));
    }
}
