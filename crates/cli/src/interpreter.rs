//! One run of the interpreter: the Lua state, the steps of `lua5.4`'s main program
//! (libraries, `arg`, LUA_INIT, `-e`/`-l`/`-W`, the script, the REPL) and its error
//! reports.
//!
//! # Errors are longjmps
//! A Lua error unwinds with `longjmp`, which must never cross a Rust frame that owns
//! something to drop or that is a `catch_unwind` (RFC 2945: only "plain old frames" may
//! be jumped over). So the work is split in two:
//! - the driver, the methods of [`Interpreter`], is ordinary Rust that owns strings and
//!   buffers and may panic, and calls only C API functions that never raise an error
//!   (push a C function or light userdata, `lua_pcall`, read the stack, set its top);
//! - everything that may raise (allocation, metamethods, `require`, ...) runs in a
//!   *step*: an `extern "C-unwind"` function called through `lua_pcall`, whose body
//!   makes C API calls on borrowed data only and contains no Rust code that can panic.
//!   Steps are therefore not wrapped in `catch_unwind`; the driver is (see `main`).

use crate::interrupt;
use crate::options::{Options, StartupAction};
use crate::package_path::PackagePaths;
use crate::stdio;
use mlua_sys as lua;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

/// The banner of `-v`: the vendored Lua's `LUA_COPYRIGHT` (read by build.rs from lua.h),
/// then a line about jitffi.
pub const LUA_COPYRIGHT: &str = env!("JITFFI_LUA_COPYRIGHT");
pub const JITFFI_BANNER: &str = concat!(
    "jitffi ",
    env!("CARGO_PKG_VERSION"),
    " (LuaJIT's ffi library for PUC Lua)"
);

/// Everything the run needs, gathered from the process before the Lua state exists.
pub struct Invocation {
    /// The command line, program name first.
    pub argv: Vec<CString>,
    /// The prefix of error messages: argv[0], like lua.c's `progname`.
    pub progname: String,
    pub options: Options,
    /// `LUA_INIT_5_4` or else `LUA_INIT`, as (chunk name, value); `None` with `-E`.
    pub lua_init: Option<(CString, CString)>,
    /// `package.path` and `package.cpath`, from the environment unless `-E`.
    pub package_paths: PackagePaths,
    pub stdin_is_tty: bool,
}

/// How the startup sequence ended.
pub enum Startup {
    Failed,
    Done,
    /// The caller goes on with the interactive loop ([`crate::repl`]).
    Interactive,
}

/// Where `lua_load` reads a chunk from.
enum ChunkSource {
    /// A byte buffer and its chunk name (a NUL-terminated string).
    Buffer {
        bytes: *const u8,
        len: usize,
        name: *const c_char,
    },
    /// A file by name, or stdin when null.
    File(*const c_char),
}

/// The job of [`load_step`]: where to load from, and where to put `lua_load`'s status.
struct LoadJob {
    source: ChunkSource,
    status: c_int,
}

/// The job of [`setup_step`].
struct SetupJob {
    argv: *const CString,
    argc: usize,
    /// argv index that becomes `arg[0]`: the script, or 0 without one.
    script: usize,
    ignore_env: bool,
    package_path: *const c_char,
    package_cpath: *const c_char,
}

/// A Lua state and the few facts its error reports need.
pub struct Interpreter<'a> {
    state: *mut lua::lua_State,
    /// Prefix of error reports; `None` inside the REPL, as in lua.c.
    progname: Option<&'a str>,
}

impl Drop for Interpreter<'_> {
    fn drop(&mut self) {
        // SAFETY: `state` came from luaL_newstate and is closed only here. Closing runs
        // finalizers in protected mode, so it raises nothing into this frame.
        unsafe { lua::lua_close(self.state) };
    }
}

impl<'a> Interpreter<'a> {
    pub fn new(progname: &'a str) -> Option<Self> {
        // SAFETY: luaL_newstate has no preconditions.
        let state = unsafe { lua::luaL_newstate() };
        if state.is_null() {
            return None;
        }
        // SAFETY: fresh state; stopping the collector while the libraries load is what
        // lua.c does, and LUA_GCSTOP raises nothing.
        unsafe { lua::lua_gc(state, lua::LUA_GCSTOP) };
        Some(Interpreter {
            state,
            progname: Some(progname),
        })
    }

    /// The sequence of lua.c's `pmain`, up to the interactive loop.
    pub fn main(&mut self, invocation: &Invocation) -> Startup {
        if self.startup(invocation) {
            let options = &invocation.options;
            if options.interactive {
                return Startup::Interactive;
            }
            if options.script.is_none() && !options.has_execute && !options.show_version {
                if invocation.stdin_is_tty {
                    print_version();
                    return Startup::Interactive;
                }
                let status = self.load(ChunkSource::File(ptr::null()));
                if !self.call_loaded(status, 0) {
                    return Startup::Failed;
                }
            }
            Startup::Done
        } else {
            Startup::Failed
        }
    }

    /// `pmain` before stdin and the interactive loop. Returns false when something failed.
    fn startup(&mut self, invocation: &Invocation) -> bool {
        let options = &invocation.options;
        if options.show_version {
            print_version();
        }
        let mut setup = SetupJob {
            argv: invocation.argv.as_ptr(),
            argc: invocation.argv.len(),
            script: options.script.unwrap_or(0),
            ignore_env: options.ignore_env,
            package_path: invocation.package_paths.path.as_ptr(),
            package_cpath: invocation.package_paths.cpath.as_ptr(),
        };
        let status = self.protected(setup_step, &mut setup, 0, 0);
        if !self.report(status) {
            return false;
        }
        if let Some((name, init)) = &invocation.lua_init {
            if !self.run_lua_init(name, init) {
                return false;
            }
        }
        for action in &options.actions {
            let ok = match action {
                StartupAction::Execute(code) => {
                    self.run_string(code.to_bytes(), c"=(command line)")
                }
                StartupAction::Require { global, module } => self.require_library(global, module),
                StartupAction::WarningsOn => {
                    let status = self.protected(warnings_on_step, ptr::null_mut::<()>(), 0, 0);
                    self.report(status)
                }
            };
            if !ok {
                return false;
            }
        }
        if let Some(script) = options.script {
            if !self.run_script(&invocation.argv, script) {
                return false;
            }
        }
        true
    }

    /// `LUA_INIT=@file` runs a file; any other value is a chunk named after the variable.
    fn run_lua_init(&mut self, name: &CStr, init: &CStr) -> bool {
        match init.to_bytes().strip_prefix(b"@") {
            Some(_) => {
                // SAFETY: skipping the one-byte '@' leaves a NUL-terminated string.
                let file = unsafe { init.as_ptr().add(1) };
                let status = self.load(ChunkSource::File(file));
                self.call_loaded(status, 0)
            }
            None => self.run_string(init.to_bytes(), name),
        }
    }

    /// Loads and runs `code` as a chunk named `name`.
    fn run_string(&mut self, code: &[u8], name: &CStr) -> bool {
        let status = self.load(ChunkSource::Buffer {
            bytes: code.as_ptr(),
            len: code.len(),
            name: name.as_ptr(),
        });
        self.call_loaded(status, 0)
    }

    /// Runs the function that a successful `load` left on the stack (with `nargs`
    /// arguments above it), or reports the load error.
    fn call_loaded(&mut self, status: c_int, nargs: c_int) -> bool {
        let status = if status == lua::LUA_OK {
            self.docall(nargs, 0)
        } else {
            status
        };
        self.report(status)
    }

    /// `-l g=mod`: `g = require "mod"`, with a traceback if `require` fails.
    fn require_library(&mut self, global: &CStr, module: &CStr) -> bool {
        let status = self.protected(push_require_step, module.as_ptr().cast_mut(), 0, 2);
        if !self.report(status) {
            return false;
        }
        let status = self.docall(1, 1);
        if !self.report(status) {
            return false;
        }
        let status = self.protected(set_global_step, global.as_ptr().cast_mut(), 1, 0);
        self.report(status)
    }

    /// Runs the script at `argv[script]` (`-` is stdin unless it came after `--`) with
    /// the positive entries of `arg` as its `...`.
    fn run_script(&mut self, argv: &[CString], script: usize) -> bool {
        let name = &argv[script];
        let after_double_dash = argv[script - 1].as_bytes() == b"--";
        let file = if name.as_bytes() == b"-" && !after_double_dash {
            ptr::null()
        } else {
            name.as_ptr()
        };
        let status = self.load(ChunkSource::File(file));
        if status != lua::LUA_OK {
            return self.report(status);
        }
        let before = self.top();
        let status = self.protected(
            push_script_args_step,
            ptr::null_mut::<()>(),
            0,
            lua::LUA_MULTRET,
        );
        if status != lua::LUA_OK {
            return self.report(status);
        }
        let nargs = self.top() - before;
        self.call_loaded(lua::LUA_OK, nargs)
    }

    /// Loads a chunk; on success the function is on top of the stack, otherwise the
    /// error message is. Returns `lua_load`'s status.
    pub(crate) fn load_buffer(&mut self, code: &[u8], name: &CStr) -> c_int {
        self.load(ChunkSource::Buffer {
            bytes: code.as_ptr(),
            len: code.len(),
            name: name.as_ptr(),
        })
    }

    /// Loads a chunk with LuaJIT's number literals rewritten (crate `luajit-literals`):
    /// a buffer or file that has some is loaded from its rewritten text; anything else
    /// (no literal, a binary chunk, a file that cannot be read) exactly as `lua5.4`
    /// loads it.
    fn load(&mut self, source: ChunkSource) -> c_int {
        let rewritten: Vec<u8>;
        let file_name: CString;
        let source = match source {
            ChunkSource::Buffer { bytes, len, name } => {
                // SAFETY: a Buffer describes live bytes (its makers borrow them).
                let code = unsafe { std::slice::from_raw_parts(bytes, len) };
                match luajit_literals::rewrite(code) {
                    Some(text) => {
                        rewritten = text;
                        ChunkSource::Buffer {
                            bytes: rewritten.as_ptr(),
                            len: rewritten.len(),
                            name,
                        }
                    }
                    None => source,
                }
            }
            ChunkSource::File(name) => match rewritten_file(name) {
                Some((text, chunk_name)) => {
                    rewritten = text;
                    file_name = chunk_name;
                    ChunkSource::Buffer {
                        bytes: rewritten.as_ptr(),
                        len: rewritten.len(),
                        name: file_name.as_ptr(),
                    }
                }
                None => source,
            },
        };
        let mut job = LoadJob {
            source,
            status: lua::LUA_OK,
        };
        let status = self.protected(load_step, &mut job, 0, 1);
        if status != lua::LUA_OK {
            status
        } else {
            job.status
        }
    }

    /// Calls the function under the top `nargs` values with a traceback handler and
    /// Ctrl-C armed, like lua.c's `docall`. The call goes through [`call_step`] so that
    /// tracebacks end in a C frame (`[C]: in ?`) exactly as under `lua5.4`, where
    /// everything runs inside the C function `pmain`.
    pub(crate) fn docall(&mut self, nargs: c_int, nresults: c_int) -> c_int {
        self.reserve(2);
        // The stack holds the function and its `nargs` arguments (callers push them
        // first) and has room for two more values. Both pushed functions are light C
        // functions and lua_insert/lua_remove only move slots.
        // SAFETY: as above, none of these calls raises, and lua_pcall catches the rest.
        unsafe {
            let base = lua::lua_gettop(self.state) - nargs;
            lua::lua_pushcfunction(self.state, call_step);
            lua::lua_insert(self.state, base);
            lua::lua_pushcfunction(self.state, message_handler);
            lua::lua_insert(self.state, base);
            interrupt::arm(self.state);
            let status = lua::lua_pcall(self.state, nargs + 1, nresults, base);
            interrupt::disarm();
            lua::lua_remove(self.state, base);
            status
        }
    }

    /// Calls `step(..., job)` in protected mode, the top `nargs` values being its first
    /// arguments and `job` a light userdata after them; returns the status. The step's
    /// `nresults` results (or the error object) are left on the stack.
    fn protected<J>(
        &mut self,
        step: lua::lua_CFunction,
        job: *mut J,
        nargs: c_int,
        nresults: c_int,
    ) -> c_int {
        self.reserve(2);
        // SAFETY: two free slots were just reserved; the top `nargs` values exist (the
        // callers push them). Pushing a light C function or light userdata allocates
        // nothing, lua_insert only moves slots, and lua_pcall raises nothing.
        unsafe {
            lua::lua_pushcfunction(self.state, step);
            lua::lua_insert(self.state, -(nargs + 1));
            lua::lua_pushlightuserdata(self.state, job.cast::<c_void>());
            lua::lua_pcall(self.state, nargs + 1, nresults, 0)
        }
    }

    /// Makes room for `slots` more values. lua_checkstack does not raise; it fails only
    /// when the stack is at Lua's hard limit, which the runner's few values never reach.
    fn reserve(&mut self, slots: c_int) {
        // SAFETY: live state; lua_checkstack reports failure instead of raising.
        if unsafe { lua::lua_checkstack(self.state, slots) } == 0 {
            message(
                self.progname,
                b"stack overflow in the runner (a bug in jitffi)",
            );
            std::process::exit(1);
        }
    }

    pub(crate) fn top(&self) -> c_int {
        // SAFETY: live state.
        unsafe { lua::lua_gettop(self.state) }
    }

    pub(crate) fn set_top(&mut self, top: c_int) {
        // SAFETY: live state; shrinking the stack (or filling it with nil within the
        // reserved room) raises nothing. Values with __close are never on this stack.
        unsafe { lua::lua_settop(self.state, top) };
    }

    /// The bytes of the string at `index`, or `None` if it is not a string. A number
    /// is not converted (that would allocate, which may raise).
    pub(crate) fn string_at(&self, index: c_int) -> Option<&[u8]> {
        // SAFETY: live state; lua_tolstring on a value that is already a string
        // neither allocates nor raises, and the bytes live while the value stays on
        // the stack, which the borrow of `self` ensures until the next stack change.
        unsafe {
            if lua::lua_type(self.state, index) != lua::LUA_TSTRING {
                return None;
            }
            let mut len = 0usize;
            let text = lua::lua_tolstring(self.state, index, &mut len);
            Some(std::slice::from_raw_parts(text.cast::<u8>(), len))
        }
    }

    /// The type name of the value at `index` (a static string of Lua's).
    fn type_name_at(&self, index: c_int) -> String {
        // SAFETY: live state; lua_typename returns a static C string.
        let name = unsafe {
            CStr::from_ptr(lua::lua_typename(
                self.state,
                lua::lua_type(self.state, index),
            ))
        };
        name.to_string_lossy().into_owned()
    }

    /// The error object on top of the stack as report text.
    pub(crate) fn error_text(&self) -> Vec<u8> {
        match self.string_at(-1) {
            Some(text) => text.to_vec(),
            None => format!("(error object is a {} value)", self.type_name_at(-1)).into_bytes(),
        }
    }

    /// If `status` is an error, prints the message on top of the stack (prefixed by the
    /// program name outside the REPL) and pops it. Returns whether `status` was OK.
    pub(crate) fn report(&mut self, status: c_int) -> bool {
        if status == lua::LUA_OK {
            return true;
        }
        let text = self.error_text();
        message(self.progname, &text);
        self.set_top(self.top() - 1);
        false
    }

    /// Sets the prefix of error reports (the REPL reports without one); returns the
    /// previous prefix.
    pub(crate) fn replace_progname(&mut self, progname: Option<&'a str>) -> Option<&'a str> {
        std::mem::replace(&mut self.progname, progname)
    }

    /// The REPL prompt: `_PROMPT` (or `_PROMPT2` for continuation lines) through
    /// `tostring`, or the default `> ` / `>> `.
    pub(crate) fn prompt(&mut self, first_line: bool) -> Vec<u8> {
        let mut first_line = first_line;
        let status = self.protected(prompt_step, &mut first_line, 0, 1);
        let text = match status {
            lua::LUA_OK => self.string_at(-1).map(<[u8]>::to_vec).unwrap_or_default(),
            _ => {
                self.report(status);
                return if first_line {
                    b"> ".to_vec()
                } else {
                    b">> ".to_vec()
                };
            }
        };
        self.set_top(self.top() - 1);
        text
    }

    /// Prints the values on the stack with the global `print`, as the REPL does.
    pub(crate) fn print_stack(&mut self) {
        let count = self.top();
        if count == 0 {
            return;
        }
        let status = self.protected(print_step, ptr::null_mut::<()>(), count, 0);
        if status != lua::LUA_OK {
            let mut text = b"error calling 'print' (".to_vec();
            text.extend_from_slice(&self.error_text());
            text.push(b')');
            message(self.progname, &text);
            self.set_top(0);
        }
    }
}

/// The text of the source file `name` (stdin when null) with LuaJIT literals
/// rewritten, and its chunk name, as `luaL_loadfilex` would name and read it (a UTF-8
/// byte order mark and a first line starting with `#` skipped, that line's newline
/// kept). `None` when the file has no such literal or cannot be read: Lua then loads
/// it itself, with its own messages. Stdin is read here in any case.
fn rewritten_file(name: *const c_char) -> Option<(Vec<u8>, CString)> {
    use std::io::Read;
    let (text, chunk_name) = if name.is_null() {
        let mut text = Vec::new();
        std::io::stdin().lock().read_to_end(&mut text).ok()?;
        (text, c"=stdin".to_owned())
    } else {
        // SAFETY: a File source holds a live NUL-terminated name.
        let name = unsafe { CStr::from_ptr(name) };
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let text = std::fs::read(path).ok()?;
        let mut chunk_name = b"@".to_vec();
        chunk_name.extend_from_slice(name.to_bytes());
        (text, CString::new(chunk_name).ok()?)
    };
    let mut code = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
    if code.first() == Some(&b'#') {
        // From the line's newline on, so that line numbers stay right.
        let line_end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
        code = &code[line_end..];
    }
    match luajit_literals::rewrite(code) {
        Some(rewritten) => Some((rewritten, chunk_name)),
        // Stdin cannot be read twice: load what was read.
        None if name.is_null() => Some((code.to_vec(), chunk_name)),
        None => None,
    }
}

/// Prints `progname: text` (or just `text`) and a newline on stderr.
pub(crate) fn message(progname: Option<&str>, text: &[u8]) {
    let mut line = Vec::with_capacity(text.len() + 32);
    if let Some(progname) = progname {
        line.extend_from_slice(progname.as_bytes());
        line.extend_from_slice(b": ");
    }
    line.extend_from_slice(text);
    line.push(b'\n');
    stdio::write_stderr(&line);
}

/// The `-v` banner.
pub(crate) fn print_version() {
    stdio::write_stdout(format!("{LUA_COPYRIGHT}\n{JITFFI_BANNER}\n").as_bytes());
}

// ---------------------------------------------------------------------------------------
// Steps: run under lua_pcall, may raise, own nothing, cannot panic (see the module docs).
// Each takes its job as the last argument, a light userdata.

/// Pops the job argument of a step.
///
/// # Safety
/// `state` is a live state whose top value is the light userdata pushed by `protected`.
unsafe fn take_job<J>(state: *mut lua::lua_State) -> *mut J {
    // SAFETY: per this function's contract.
    unsafe {
        let job = lua::lua_touserdata(state, -1).cast::<J>();
        lua::lua_settop(state, -2);
        job
    }
}

/// Opens the standard libraries, sets the package paths, preloads `ffi` and `cbframe`,
/// builds `arg`, restarts the collector.
unsafe extern "C-unwind" fn setup_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected` with a `SetupJob` that outlives the call; its argv
    // pointer and length describe a live slice of CStrings, its package paths point to
    // live C strings.
    unsafe {
        let job = &*take_job::<SetupJob>(state);
        if job.ignore_env {
            lua::lua_pushboolean(state, 1);
            lua::lua_setfield(state, lua::LUA_REGISTRYINDEX, c"LUA_NOENV".as_ptr());
        }
        lua::luaL_openlibs(state);

        // The system lua5.4's search paths (crate::package_path), in place of the
        // vendored Lua's /usr/local-only defaults.
        lua::lua_getglobal(state, c"package".as_ptr());
        lua::lua_pushstring(state, job.package_path);
        lua::lua_setfield(state, -2, c"path".as_ptr());
        lua::lua_pushstring(state, job.package_cpath);
        lua::lua_setfield(state, -2, c"cpath".as_ptr());
        lua::lua_settop(state, -2);

        // `require "ffi"` and `require "cbframe"` work; neither is a global.
        lua::luaL_getsubtable(state, lua::LUA_REGISTRYINDEX, lua::LUA_PRELOAD_TABLE);
        lua::lua_pushcfunction(state, jitffi_lua::luaopen_ffi);
        lua::lua_setfield(state, -2, c"ffi".as_ptr());
        lua::lua_pushcfunction(state, jitffi_lua::luaopen_cbframe);
        lua::lua_setfield(state, -2, c"cbframe".as_ptr());
        lua::lua_pushcfunction(state, jitffi_lua::luaopen_ffi_core);
        lua::lua_setfield(state, -2, c"ffi.core".as_ptr());
        lua::lua_pushcfunction(state, jitffi_lua::luaopen_ffi_literals);
        lua::lua_setfield(state, -2, c"ffi.literals".as_ptr());
        lua::lua_settop(state, -2);

        // LuaJIT's environment from the start (`require "ffi"` defines it, and the
        // global `type`/`tonumber`), and its number literals in every chunk Lua code
        // loads: load, loadstring, loadfile, dofile and require's Lua-file searcher.
        // The runner's own loads (script, -e, LUA_INIT, stdin, the REPL) rewrite in
        // `Interpreter::load`.
        lua::lua_getglobal(state, c"require".as_ptr());
        lua::lua_pushstring(state, c"ffi".as_ptr());
        lua::lua_call(state, 1, 0);
        lua::lua_getglobal(state, c"require".as_ptr());
        lua::lua_pushstring(state, c"ffi.literals".as_ptr());
        lua::lua_call(state, 1, 1);
        lua::lua_getfield(state, -1, c"install".as_ptr());
        lua::lua_call(state, 0, 0);
        lua::lua_settop(state, -2);

        // arg[0] is the script; the interpreter and options get negative indices.
        let argv = std::slice::from_raw_parts(job.argv, job.argc);
        let script = job.script as lua::lua_Integer;
        let positive = (job.argc as c_int).saturating_sub(job.script as c_int + 1);
        lua::lua_createtable(state, positive.max(0), job.script as c_int + 1);
        for (index, arg) in (0..).zip(argv) {
            let bytes = arg.as_bytes();
            lua::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
            lua::lua_rawseti(state, -2, index - script);
        }
        lua::lua_setglobal(state, c"arg".as_ptr());

        lua::lua_gc(state, lua::LUA_GCRESTART);
        lua::lua_gc(state, lua::LUA_GCGEN, 0, 0);
    }
    0
}

/// Loads a chunk; returns the function or the error message, and stores the status.
unsafe extern "C-unwind" fn load_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected` with a `LoadJob` that outlives the call, whose
    // pointers are live NUL-terminated strings or a live byte buffer.
    unsafe {
        let job = &mut *take_job::<LoadJob>(state);
        job.status = match job.source {
            ChunkSource::Buffer { bytes, len, name } => {
                lua::luaL_loadbufferx(state, bytes.cast(), len, name, ptr::null())
            }
            ChunkSource::File(name) => lua::luaL_loadfilex(state, name, ptr::null()),
        };
    }
    1
}

/// Pushes the positive entries of `arg`, the script's `...`.
unsafe extern "C-unwind" fn push_script_args_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected`; errors raised here are caught by its lua_pcall.
    unsafe {
        take_job::<()>(state);
        if lua::lua_getglobal(state, c"arg".as_ptr()) != lua::LUA_TTABLE {
            lua::luaL_error(state, c"'arg' is not a table".as_ptr());
        }
        let count = lua::luaL_len(state, -1) as c_int;
        lua::luaL_checkstack(
            state,
            count.saturating_add(3),
            c"too many arguments to script".as_ptr(),
        );
        for index in 1..=count {
            lua::lua_rawgeti(state, 1, index as lua::lua_Integer);
        }
        lua::lua_remove(state, 1);
        count
    }
}

/// Calls its first argument with the others and returns all results (see `docall`).
unsafe extern "C-unwind" fn call_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `docall` with the function at index 1; errors propagate to the
    // lua_pcall there.
    unsafe {
        lua::lua_call(state, lua::lua_gettop(state) - 1, lua::LUA_MULTRET);
        lua::lua_gettop(state)
    }
}

/// Pushes `require` and the module name (the job, a C string) for `-l`.
unsafe extern "C-unwind" fn push_require_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected` with a live NUL-terminated module name.
    unsafe {
        let module = take_job::<c_char>(state);
        lua::lua_getglobal(state, c"require".as_ptr());
        lua::lua_pushstring(state, module);
    }
    2
}

/// Stores its argument in the global named by the job (a C string).
unsafe extern "C-unwind" fn set_global_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected` with one argument and a live NUL-terminated name.
    unsafe {
        let name = take_job::<c_char>(state);
        lua::lua_setglobal(state, name);
    }
    0
}

/// `-W`: turns warnings on.
unsafe extern "C-unwind" fn warnings_on_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected`.
    unsafe {
        take_job::<()>(state);
        lua::lua_warning(state, c"@on".as_ptr(), 0);
    }
    0
}

/// Pushes the REPL prompt as a string; the job is a `bool`, true for the first line.
unsafe extern "C-unwind" fn prompt_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected` with a live `bool`.
    unsafe {
        let first_line = *take_job::<bool>(state);
        let (global, default) = if first_line {
            (c"_PROMPT", c"> ")
        } else {
            (c"_PROMPT2", c">> ")
        };
        if lua::lua_getglobal(state, global.as_ptr()) == lua::LUA_TNIL {
            lua::lua_pushstring(state, default.as_ptr());
        } else {
            lua::luaL_tolstring(state, -1, ptr::null_mut());
        }
    }
    1
}

/// Calls the global `print` with all its arguments.
unsafe extern "C-unwind" fn print_step(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by `protected`; print's errors are caught by its lua_pcall.
    unsafe {
        take_job::<()>(state);
        let count = lua::lua_gettop(state);
        lua::luaL_checkstack(
            state,
            lua::LUA_MINSTACK,
            c"too many results to print".as_ptr(),
        );
        lua::lua_getglobal(state, c"print".as_ptr());
        lua::lua_insert(state, 1);
        lua::lua_call(state, count, 0);
    }
    0
}

/// The message handler of `docall`: adds a traceback to the error message, or turns a
/// non-string error object into a message (through `__tostring` if it has one).
unsafe extern "C-unwind" fn message_handler(state: *mut lua::lua_State) -> c_int {
    // SAFETY: called by Lua as a message handler with the error object at index 1.
    unsafe {
        let mut text = lua::lua_tolstring(state, 1, ptr::null_mut());
        if text.is_null() {
            if lua::luaL_callmeta(state, 1, c"__tostring".as_ptr()) != 0
                && lua::lua_type(state, -1) == lua::LUA_TSTRING
            {
                return 1;
            }
            text = lua::lua_pushfstring(
                state,
                c"(error object is a %s value)".as_ptr(),
                lua::luaL_typename(state, 1),
            );
        }
        lua::luaL_traceback(state, state, text, 1);
    }
    1
}
