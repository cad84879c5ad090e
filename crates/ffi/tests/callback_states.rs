//! Callbacks and Lua states: a callback runs only in the state that made it, never on
//! another OS thread, and never after its state closed (those calls are reported on
//! stderr and C gets a zero result). Several states live in this one process.
//!
//! The tests whose point is what reaches stderr run the scenario in a child process
//! (this same test binary, selected by an environment variable) and read its stderr.

use mlua_sys as sys;
use std::ffi::{c_int, CString};
use std::process::Command;

/// A fresh Lua 5.4 state with the standard libraries and `ffi` loaded as global `ffi`.
fn new_state() -> *mut sys::lua_State {
    // SAFETY: a new state is used only through the Lua API below.
    unsafe {
        let l = sys::luaL_newstate();
        assert!(!l.is_null());
        sys::luaL_openlibs(l);
        sys::lua_pushcfunction(l, jitffi_lua::luaopen_ffi);
        sys::lua_call(l, 0, 1);
        sys::lua_setglobal(l, c"ffi".as_ptr());
        l
    }
}

/// Runs `code` in `l`; the error message if it fails.
fn run(l: *mut sys::lua_State, code: &str) -> Result<(), String> {
    let code = CString::new(code).unwrap();
    // SAFETY: `l` is a live state; the message is copied before it is popped.
    unsafe {
        let status = sys::luaL_loadstring(l, code.as_ptr());
        let status = if status == sys::LUA_OK {
            sys::lua_pcall(l, 0, 0, 0)
        } else {
            status
        };
        if status == sys::LUA_OK {
            return Ok(());
        }
        let mut len = 0;
        let text = sys::lua_tolstring(l, -1, &mut len);
        let message =
            String::from_utf8_lossy(std::slice::from_raw_parts(text.cast(), len)).into_owned();
        sys::lua_settop(l, -2);
        Err(message)
    }
}

/// The integer value of global `name`.
fn global_int(l: *mut sys::lua_State, name: &str) -> i64 {
    let name = CString::new(name).unwrap();
    // SAFETY: `l` is live.
    unsafe {
        sys::lua_getglobal(l, name.as_ptr());
        let value = sys::lua_tointegerx(l, -1, std::ptr::null_mut());
        sys::lua_settop(l, -2);
        value
    }
}

const MAKE_CALLBACK: &str = r#"
    hits = 0
    cb = ffi.cast("int (*)(int)", function(x) hits = hits + 1; return x + 1 end)
    address = tonumber(ffi.cast("intptr_t", cb))
"#;

type IntCallback = extern "C" fn(c_int) -> c_int;

fn callback_at(address: i64) -> IntCallback {
    // SAFETY: the address is a callback of type int (*)(int), whose slot code stays
    // mapped for the life of the process.
    unsafe { std::mem::transmute::<usize, IntCallback>(address as usize) }
}

#[test]
fn a_callback_runs_in_the_state_that_made_it() {
    let a = new_state();
    let b = new_state();
    run(a, MAKE_CALLBACK).unwrap();
    run(b, "hits = 0").unwrap();
    let address = global_int(a, "address");
    // State b calls a's callback through a function pointer of its own.
    run(
        b,
        &format!(
            r#"local f = ffi.cast("int (*)(int)", ffi.cast("intptr_t", {address}))
               result = f(41)"#
        ),
    )
    .unwrap();
    assert_eq!(global_int(b, "result"), 42);
    assert_eq!(global_int(a, "hits"), 1, "the function of state a ran");
    assert_eq!(global_int(b, "hits"), 0, "nothing ran in state b");
    // Called from plain C (no ffi call in progress), it runs on the state's own thread.
    assert_eq!(callback_at(address)(1), 2);
    assert_eq!(global_int(a, "hits"), 2);
    // SAFETY: both states are live and no longer used.
    unsafe {
        sys::lua_close(a);
        sys::lua_close(b);
    }
}

#[test]
fn errors_of_callbacks_called_outside_a_c_call_wait_for_the_next_call() {
    let a = new_state();
    run(
        a,
        r#"cb = ffi.cast("int (*)(int)", function(x) error("late boom") end)
           address = tonumber(ffi.cast("intptr_t", cb))
           ffi.cdef "int abs(int)""#,
    )
    .unwrap();
    assert_eq!(callback_at(global_int(a, "address"))(1), 0, "zero result");
    let error = run(a, "ffi.C.abs(-1)").unwrap_err();
    assert!(error.contains("late boom"), "{error}");
    run(a, "assert(ffi.C.abs(-2) == 2)").unwrap();
    // SAFETY: the state is live and no longer used.
    unsafe { sys::lua_close(a) };
}

/// The scenarios run in a child process, chosen by this variable.
const SCENARIO: &str = "JITFFI_CALLBACK_SCENARIO";

/// Runs this test binary again, through `JITFFI_RUN_PREFIX` when it is set: the
/// qemu-user command (whitespace-separated) that runs a binary built for another
/// architecture, which a test under qemu without binfmt_misc cannot exec itself
/// (scripts/aarch64.sh sets it, as crates/cli/tests/target_program does).
fn run_scenario(name: &str) -> (i32, String, String) {
    let prefix = std::env::var("JITFFI_RUN_PREFIX").unwrap_or_default();
    let mut words = prefix.split_whitespace();
    let exe = std::env::current_exe().unwrap();
    let mut command = match words.next() {
        Some(emulator) => {
            let mut command = Command::new(emulator);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    let output = command
        .args([
            "--exact",
            "scenario_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, name)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The child's side: does what `JITFFI_CALLBACK_SCENARIO` names, printing results on
/// stdout. Does nothing in a normal test run.
#[test]
fn scenario_child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    let a = new_state();
    run(a, MAKE_CALLBACK).unwrap();
    let f = callback_at(global_int(a, "address"));
    match scenario.as_str() {
        "foreign-thread" => {
            let got = std::thread::spawn(move || f(41)).join().unwrap();
            println!("foreign thread got {got}");
            println!("hits {}", global_int(a, "hits"));
            println!("home thread got {}", f(41));
        }
        "closed-state" => {
            // SAFETY: the state is live; it is not used after.
            unsafe { sys::lua_close(a) };
            println!("after close got {}", f(41));
            // A new state may take the memory of the old one: the old slot still
            // refuses.
            let b = new_state();
            run(b, MAKE_CALLBACK).unwrap();
            println!("after close again got {}", f(7));
            // SAFETY: b is live.
            unsafe { sys::lua_close(b) };
        }
        other => panic!("unknown scenario {other}"),
    }
}

#[test]
fn a_callback_called_from_another_thread_does_not_run() {
    let (status, stdout, stderr) = run_scenario("foreign-thread");
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("foreign thread got 0"), "{stdout}");
    assert!(stdout.contains("hits 0"), "{stdout}");
    assert!(stdout.contains("home thread got 42"), "{stdout}");
    assert!(
        stderr.contains("called on a thread other than the one that created it"),
        "{stderr}"
    );
}

#[test]
fn a_callback_called_after_its_state_closed_does_not_run() {
    let (status, stdout, stderr) = run_scenario("closed-state");
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("after close got 0"), "{stdout}");
    assert!(stdout.contains("after close again got 0"), "{stdout}");
    assert_eq!(
        stderr
            .matches("called after its Lua state was closed")
            .count(),
        2,
        "{stderr}"
    );
}
