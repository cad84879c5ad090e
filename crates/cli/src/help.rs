//! `jitffi --help` / `jitffi -h`: the command line, Lua's options and the inspection
//! switches, each with an example. Recognised only as the first argument, like the
//! inspections (`lua5.4` itself has no help switch and rejects both).
//!
//! The examples name files of a checkout (`tests/golden/`); crates/cli/tests/help.rs runs
//! every one of them from the repository root.

/// The help text; `progname` as the program was called.
pub fn text(progname: &str) -> String {
    format!(
        "usage: {progname} [options] [script [args]]
       {progname} --layout 'TYPE' [--cdef FILE]...
       {progname} --plan 'PROTOTYPE' [--cdef FILE]... [--varargs 'TYPE, ...'] [--target NAME]
                      [--disasm]
       {progname} --help | -h

Lua 5.4 with LuaJIT's ffi library preloaded (local ffi = require \"ffi\").
Options, as lua5.4's:
  -e stat   execute string 'stat'
  -i        enter interactive mode after executing 'script'
  -l mod    require library 'mod' into global 'mod'
  -l g=mod  require library 'mod' into global 'g'
  -v        show version information
  -E        ignore environment variables
  -W        turn warnings on
  --        stop handling options
  -         stop handling options and execute stdin
Environment, as lua5.4's: LUA_INIT_5_4 or LUA_INIT (run first), LUA_PATH_5_4 or
LUA_PATH, LUA_CPATH_5_4 or LUA_CPATH (';;' stands for the default path).

Inspection, as the first argument: prints what the ffi makes of C declarations, runs
no Lua (the example files are in the source tree, under tests/golden/):
  --layout 'TYPE'        size, alignment and every field's offset of a C type
      {progname} --layout 'struct outer' --cdef tests/golden/layout/nested.h
  --plan 'PROTOTYPE'     where each argument and the result of a call travel
      {progname} --plan 'double f(int8_t, struct double_int)' --cdef tests/golden/plan/structs.h
  --cdef FILE            C declarations the type or prototype uses (repeatable)
      {progname} --layout 'struct bits' --cdef tests/golden/layout/bitfields.h
  --varargs 'TYPE, ...'  with --plan: the types of a variadic call's extra arguments
      {progname} --plan 'int printf(const char *, ...)' --varargs 'float, char'
  --target NAME          with --plan: plan for x86_64, aarch64, apple-arm64 or win64
      {progname} --plan 'long double f(int8_t, ...)' --varargs 'float' --target aarch64
  --disasm               with --plan: also the listing of the generated call stub
      {progname} --plan 'int add(int, int)' --disasm
"
    )
}
