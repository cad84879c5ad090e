//! Starts the programs the tests examine, which are built for the target: the runner
//! (`CARGO_BIN_EXE_jitffi`) and the reference interpreters found on PATH.
//!
//! On the host they start directly, as always. For another architecture on this machine
//! (`cargo test --target aarch64-unknown-linux-gnu` on x86-64, the tests running under
//! qemu-user with no binfmt_misc entry), a test cannot exec an arm64 executable itself:
//! `JITFFI_RUN_PREFIX` then names the qemu-user command that runs it, whitespace-separated
//! (`qemu-aarch64 -L target/aarch64-env/sysroot`; scripts/aarch64.sh sets it), and the
//! runner starts as `PREFIX [-0 ARGV0] EXECUTABLE ARGS` (qemu-user's `-0` gives argv[0]).
//! The interpreters on PATH are then scripts/aarch64.sh's wrappers, which start the
//! target's interpreters under qemu; they take argv[0] from `JITFFI_ARGV0`.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The words of `JITFFI_RUN_PREFIX`; empty when unset (the host runs the target's code).
fn run_prefix() -> Vec<String> {
    std::env::var("JITFFI_RUN_PREFIX")
        .map(|prefix| prefix.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A command that runs `executable`, a program built for the target (the runner).
#[allow(dead_code)] // Not every test that includes this module uses every function.
pub fn command(executable: impl AsRef<OsStr>) -> Command {
    match run_prefix().split_first() {
        Some((emulator, options)) => {
            let mut command = Command::new(emulator);
            command.args(options).arg(executable);
            command
        }
        None => Command::new(executable),
    }
}

/// [`command`], with `argv0` as the program's argv[0].
#[allow(dead_code)]
pub fn command_as(executable: impl AsRef<OsStr>, argv0: &str) -> Command {
    match run_prefix().split_first() {
        Some((emulator, options)) => {
            let mut command = Command::new(emulator);
            command.args(options).args(["-0", argv0]).arg(executable);
            command
        }
        None => {
            let mut command = Command::new(executable);
            command.arg0(argv0);
            command
        }
    }
}

/// A command that runs `name`, an interpreter found on PATH (`lua5.4`), with `argv0` as
/// its argv[0]: for another architecture, PATH's wrapper passes it on to qemu.
#[allow(dead_code)]
pub fn path_command_as(name: &str, argv0: &str) -> Command {
    let mut command = Command::new(name);
    command.arg0(argv0);
    if !run_prefix().is_empty() {
        command.env("JITFFI_ARGV0", argv0);
    }
    command
}

/// The C compiler that builds modules for the target's runner: `JITFFI_CC` (set with
/// the prefix: aarch64-linux-gnu-gcc), else `CC`, else `cc`.
#[allow(dead_code)]
pub fn c_compiler() -> std::ffi::OsString {
    std::env::var_os("JITFFI_CC")
        .or_else(|| std::env::var_os("CC"))
        .unwrap_or_else(|| "cc".into())
}
