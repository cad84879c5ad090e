//! C library namespaces: `ffi.C` and the namespaces `ffi.load` returns (LuaJIT's
//! `lj_clib.c`).
//!
//! A namespace is a plain Lua table, empty at first, with a metatable of its own:
//!
//! ```text
//!   namespace table ──metatable──▶ { __index, __newindex, __tostring }
//!                                      │ upvalues of both closures:
//!                                      │   1 ffi state   2 library userdata   3 address cache
//!                                      ▼
//!                   library userdata (Box<Library>, dlclose'd by its own __gc)
//! ```
//!
//! - `__index(ns, name)` looks `name` up among the declarations of `ffi.cdef`. A
//!   function is resolved with `dlsym` (under its asm label if it has one), turned into
//!   a Lua value by [`crate::calls::call::push_function`] (which also keeps the library
//!   userdata reachable from the function) and stored in the table with
//!   `rawset`, so that every later `ns.name` is an ordinary table hit. An `extern`
//!   variable is never stored: each read comes back to `__index`, which converts the
//!   C value at the variable's address ([`crate::cdata::convert::push_c_value`]); the address
//!   itself is cached in upvalue 3 (`name -> light userdata`) so that `dlsym` runs once.
//!   Enum constants and `static const` constants are numbers, as in LuaJIT.
//! - `__newindex(ns, name, value)` stores into a variable with
//!   [`crate::cdata::convert::store_lua_value`]; functions, constants and `const` variables
//!   are "attempt to write to constant location".
//! - A cached function is a plain field: assigning to its name afterwards replaces it
//!   (LuaJIT raises); before its first use the assignment is refused as above. This is
//!   the price of a table hit per `ffi.C.f(...)`, and is in docs/porting.md's
//!   compatibility list.
//! - The library stays loaded while the namespace or a function from it is reachable:
//!   the table holds its metatable, whose closures hold the library userdata, and each
//!   function holds it too; its `__gc` closes it.
//!
//! `ffi.C` searches the process's default symbols: the handle of `dlopen(NULL)`
//! (the program, the libraries it was started with, among them libc, libm and libdl,
//! and every library opened with `RTLD_GLOBAL`, such as `ffi.load(name, true)`).
//!
//! `ffi.load(name)` finds the file as LuaJIT does ([`library_file_name`]): a name
//! without `/` gets `.so` unless it has a dot and `lib` in front unless it starts with
//! it (`"z"` -> `libz.so`), and a file that turns out to be a GNU ld script (such as
//! `/usr/lib/x86_64-linux-gnu/libm.so`) is replaced by the library its `GROUP` or
//! `INPUT` line names ([`ld_script_target`]).
//!
//! Errors read as LuaJIT's: `missing declaration for symbol 'x'`, and `dlerror`'s text
//! for a library that does not open or a symbol that is not found (it names the
//! library, or the program for `ffi.C`: `lua5.4: undefined symbol: x`).

use crate::calls::call::push_function;
use crate::cdata::convert::{push_c_value, store_lua_value, Conv};
use crate::cdata::state::FfiState;
use crate::lua::tagged::{self, Kind};
use crate::lua::{self, LuaError, LuaResult, State};
use crate::platform::library::{
    dlopen, Library, RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL, RTLD_NODELETE,
};
use jitffi_ctype::{CType, IntType, Symbol, TypeId};

use mlua_sys as sys;
use std::ffi::c_void;
use std::io::Read;
use std::os::raw::c_int;

/// Integers up to this magnitude are exact in a double.
const EXACT_IN_DOUBLE: u64 = 1 << 53;

/// Upvalue of `__index`/`__newindex` holding the library userdata.
const LIBRARY_UPVALUE: c_int = 2;
/// Upvalue of `__index`/`__newindex` holding the table `variable name -> address`.
const ADDRESSES_UPVALUE: c_int = 3;

/// An open library and the name its errors use when `dlerror` has nothing to say.
struct Namespace {
    library: Library,
    name: Box<str>,
}

/// The payload of the library userdata: the boxed namespace, null once closed.
#[repr(C)]
struct NamespaceBox {
    namespace: *mut Namespace,
    /// [`tagged::tag`]`(Kind::Namespace)`: tells the box from a foreign userdata passed
    /// to its `__gc` or put in its place with `debug.setupvalue`.
    tag: u64,
}

impl NamespaceBox {
    /// The NamespaceBox at `index`, if the value there is one; else null.
    ///
    /// # Safety
    /// `l` is live; `index` is valid.
    unsafe fn at(l: *mut State, index: c_int) -> *mut NamespaceBox {
        // SAFETY: `tagged::check` reads inside the block only.
        unsafe {
            tagged::check(
                l,
                index,
                Kind::Namespace,
                std::mem::size_of::<NamespaceBox>(),
                std::mem::offset_of!(NamespaceBox, tag),
            )
            .cast()
        }
    }
}

/// Sets `ffi.C` and `ffi.load` on the module table.
///
/// # Safety
/// `l` is live with eight free slots; `state_index` and `module` are absolute indices of
/// the state userdata and the module table.
pub unsafe fn install(l: *mut State, state_index: c_int, module: c_int) {
    let default = Namespace {
        library: Library::this(),
        name: "ffi.C".into(),
    };
    // SAFETY: `l` is live with room for the namespace's values (caller).
    unsafe {
        push_namespace(l, state_index, default);
        lua::set_field_raw(l, module, "C");
        sys::lua_pushvalue(l, state_index);
        lua::push_closure(l, load, 1);
        lua::set_field_raw(l, module, "load");
    }
}

/// Pushes a new namespace table for `namespace` (see the module docs for its shape).
///
/// # Safety
/// `l` is live with seven free slots; `state_index` is the absolute index of the state
/// userdata.
unsafe fn push_namespace(l: *mut State, state_index: c_int, namespace: Namespace) {
    // The namespace is boxed into a raw pointer before anything allocates: should a push
    // below fail for lack of memory (a longjmp), the box leaks, and no Rust value with a
    // destructor is skipped.
    // SAFETY: `l` is live (caller). The userdata is sized for a NamespaceBox and
    // aligned by Lua for a pointer; only `library_gc` frees the box.
    unsafe {
        let namespace = Box::into_raw(Box::new(namespace));
        sys::lua_createtable(l, 0, 0);
        let table = sys::lua_gettop(l);
        sys::lua_createtable(l, 0, 3);
        let meta = sys::lua_gettop(l);

        sys::lua_pushvalue(l, state_index);
        let holder = lua::new_userdata(l, std::mem::size_of::<NamespaceBox>());
        let holder = holder.cast::<NamespaceBox>();
        holder.write(NamespaceBox {
            namespace: std::ptr::null_mut(),
            tag: tagged::tag(Kind::Namespace),
        });
        sys::lua_createtable(l, 0, 1);
        lua::push_closure(l, library_gc, 0);
        lua::set_field_raw(l, -2, "__gc");
        sys::lua_setmetatable(l, -2);
        (*holder).namespace = namespace;
        sys::lua_createtable(l, 0, 0);
        // state, library, addresses: the upvalues of both closures.
        for i in 0..3 {
            sys::lua_pushvalue(l, meta + 1 + i);
        }
        lua::push_closure(l, index, 3);
        lua::set_field_raw(l, meta, "__index");
        lua::push_closure(l, newindex, 3);
        lua::set_field_raw(l, meta, "__newindex");
        lua::push_closure(l, tostring, 0);
        lua::set_field_raw(l, meta, "__tostring");
        sys::lua_settop(l, meta);
        sys::lua_setmetatable(l, table);
    }
}

/// `__gc` of the library userdata: closes the library (`dlclose`).
unsafe extern "C-unwind" fn library_gc(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__gc` with the NamespaceBox userdata as argument 1; the box is
    // taken out before it is dropped, so a second call finds null.
    unsafe {
        lua::entry(l, || {
            let holder = NamespaceBox::at(l, 1);
            if !holder.is_null() && !(*holder).namespace.is_null() {
                let namespace = Box::from_raw((*holder).namespace);
                (*holder).namespace = std::ptr::null_mut();
                // A failed dlclose leaves the library loaded; nothing to report.
                let _ = namespace.library.close();
            }
            Ok(0)
        })
    }
}

/// `__tostring`: `userdata: 0x...`, as LuaJIT prints its namespace objects.
unsafe extern "C-unwind" fn tostring(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the namespace as argument 1.
    unsafe {
        lua::entry(l, || {
            let address = sys::lua_topointer(l, 1);
            let text = format!("userdata: {address:p}");
            let pushed = lua::push_str_protected(l, &text);
            drop(text);
            pushed?;
            Ok(1)
        })
    }
}

/// What a declared name stands for in a namespace.
enum Entry {
    Constant { ty: TypeId, value: i64 },
    Function { ty: TypeId, symbol: String },
    Variable { ty: TypeId, symbol: String },
}

/// The declaration of `name`, or LuaJIT's error for a name that has none.
fn declaration(st: &FfiState, name: &str) -> LuaResult<Entry> {
    Ok(match st.types().symbol(name) {
        Some(Symbol::EnumConst { ty, value } | Symbol::Const { ty, value }) => Entry::Constant {
            ty: *ty,
            value: *value,
        },
        Some(Symbol::Func { ty, asm_name }) => Entry::Function {
            ty: *ty,
            symbol: asm_name.as_deref().unwrap_or(name).to_owned(),
        },
        Some(Symbol::Var { ty, asm_name }) => Entry::Variable {
            ty: *ty,
            symbol: asm_name.as_deref().unwrap_or(name).to_owned(),
        },
        Some(Symbol::Typedef(_)) | None => {
            return Err(LuaError::msg(format!(
                "missing declaration for symbol '{name}'"
            )))
        }
    })
}

/// The key at argument 2 of `__index`/`__newindex`: a string (LuaJIT refuses others).
///
/// # Safety
/// `l` is live; the returned text lives as long as argument 2.
unsafe fn key_name<'a>(l: *mut State) -> LuaResult<&'a str> {
    // SAFETY: `l` is live (caller).
    unsafe {
        let Some(bytes) = lua::to_string_only(l, 2) else {
            return Err(LuaError::arg(
                2,
                format!("string expected, got {}", lua::type_name(l, 2)),
            ));
        };
        // A name that is not UTF-8 cannot have been declared.
        std::str::from_utf8(bytes).map_err(|_| {
            LuaError::msg(format!(
                "missing declaration for symbol '{}'",
                String::from_utf8_lossy(bytes)
            ))
        })
    }
}

/// The namespace of the running `__index`/`__newindex` (its upvalue 2).
///
/// # Safety
/// Called from one of those closures; the reference must not outlive the call.
unsafe fn this_namespace<'a>(l: *mut State) -> LuaResult<&'a Namespace> {
    // SAFETY: upvalue 2 is the NamespaceBox userdata (see push_namespace). Its box is
    // null only once `library_gc` ran, which happens when the closures are unreachable
    // or the state is closing.
    unsafe {
        let holder = NamespaceBox::at(l, lua::upvalue(LIBRARY_UPVALUE));
        if holder.is_null() {
            // Only `debug.setupvalue` can take the library away from its closures.
            return Err(LuaError::msg("library namespace without its library"));
        }
        let namespace = (*holder).namespace;
        if namespace.is_null() {
            return Err(LuaError::msg("library namespace used after it was closed"));
        }
        Ok(&*namespace)
    }
}

/// The address of `symbol` in the namespace, or `dlerror`'s text as the error.
fn resolve(namespace: &Namespace, symbol: &str) -> LuaResult<*mut c_void> {
    // SAFETY: the symbol is only taken as an address here; what is done with it is
    // decided by its declared C type.
    let found = unsafe { namespace.library.get::<*mut c_void>(symbol) };
    let address = match found {
        Ok(address) => address.as_raw_ptr(),
        Err(err) => {
            return Err(match std::error::Error::source(&err) {
                Some(text) => LuaError::msg(text.to_string()),
                None => undefined_symbol(namespace, symbol),
            })
        }
    };
    if address.is_null() {
        // Found, but its value is NULL (an undefined weak symbol): nothing to call or
        // read there.
        return Err(undefined_symbol(namespace, symbol));
    }
    Ok(address)
}

fn undefined_symbol(namespace: &Namespace, symbol: &str) -> LuaError {
    LuaError::msg(format!("{}: undefined symbol: {symbol}", namespace.name))
}

/// The address of variable `name` (resolved as `symbol`), from the cache in upvalue 3
/// or resolved and cached.
///
/// # Safety
/// `l` is live inside `__index`/`__newindex` with two free slots; argument 2 is `name`.
unsafe fn variable_address(l: *mut State, symbol: String) -> LuaResult<*mut u8> {
    // SAFETY: upvalue 3 is the address table (see push_namespace); only light
    // userdata are stored in it, only by this function.
    unsafe {
        let cache = lua::upvalue(ADDRESSES_UPVALUE);
        sys::lua_pushvalue(l, 2);
        sys::lua_rawget(l, cache);
        let cached = sys::lua_touserdata(l, -1);
        sys::lua_settop(l, -2);
        if !cached.is_null() {
            return Ok(cached.cast());
        }
        let address = resolve(this_namespace(l)?, &symbol)?;
        // Dropped before the store, which may raise (out of memory).
        drop(symbol);
        sys::lua_pushvalue(l, 2);
        sys::lua_pushlightuserdata(l, address);
        sys::lua_rawset(l, cache);
        Ok(address.cast())
    }
}

/// Pushes a named constant as LuaJIT does: a number (an integer on 5.3+). Constants of
/// 64-bit types (an enum with a value beyond 32 bits, `#define`), which LuaJIT does not
/// have, are numbers too while a double holds them exactly, else 64-bit values as read
/// from C.
///
/// # Safety
/// `l` is live with three free slots; `st` is its state.
unsafe fn push_constant(l: *mut State, st: &FfiState, ty: TypeId, value: i64) -> LuaResult<()> {
    let (base, _) = st.types().unqualified(ty);
    let int = match &st.ctype(base) {
        CType::Int(int) => *int,
        CType::Enum(eid) => st.types().enum_def(*eid).int_type.unwrap_or(IntType::I32),
        CType::Bool => IntType::U8,
        CType::BoolInt => IntType::U32,
        _ => IntType::I64,
    };
    // SAFETY: `l` is live (caller); the 8 bytes of `value` are a readable int64/uint64.
    unsafe {
        match (int.bytes, int.signed) {
            (8, signed) if (signed || value >= 0) && value.unsigned_abs() <= EXACT_IN_DOUBLE => {
                sys::lua_pushinteger(l, value as sys::lua_Integer)
            }
            (8, _) => {
                let int_ty = st.types_mut()?.intern(CType::Int(int));
                let bytes = value.to_ne_bytes();
                push_c_value(l, st, int_ty, bytes.as_ptr())?;
            }
            (_, true) => sys::lua_pushinteger(l, (value as i32).into()),
            (_, false) => sys::lua_pushinteger(l, (value as u32).into()),
        }
    }
    Ok(())
}

/// `__index(ns, name)`: see the module docs.
unsafe extern "C-unwind" fn index(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__index` with the namespace table and the key; the closure's
    // upvalues are those of push_namespace.
    unsafe {
        lua::entry(l, || {
            if sys::lua_type(l, 1) != sys::LUA_TTABLE {
                return Err(LuaError::arg(1, "table expected"));
            }
            let name = key_name(l)?;
            let st = FfiState::get(l)?;
            match declaration(st, name)? {
                Entry::Constant { ty, value } => push_constant(l, st, ty, value)?,
                Entry::Function { ty, symbol } => {
                    let address = resolve(this_namespace(l)?, &symbol)?;
                    // Dropped before the allocations below, which may raise.
                    drop(symbol);
                    // The function keeps the library loaded, even if the namespace goes.
                    let library = Some(lua::upvalue(LIBRARY_UPVALUE));
                    push_function(l, st, ty, address, Some(name), library)?;
                    // Cached: the next `ns.name` does not come here.
                    sys::lua_pushvalue(l, 2);
                    sys::lua_pushvalue(l, -2);
                    sys::lua_rawset(l, 1);
                }
                Entry::Variable { ty, symbol } => {
                    let address = variable_address(l, symbol)?;
                    push_c_value(l, st, ty, address)?;
                }
            }
            Ok(1)
        })
    }
}

/// `__newindex(ns, name, value)`: see the module docs.
unsafe extern "C-unwind" fn newindex(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__newindex` with the namespace table, the key and the value;
    // the closure's upvalues are those of push_namespace.
    unsafe {
        lua::entry(l, || {
            let name = key_name(l)?;
            let st = FfiState::get(l)?;
            let (ty, symbol) = match declaration(st, name)? {
                Entry::Variable { ty, symbol } => (ty, symbol),
                Entry::Function { symbol, .. } => {
                    // LuaJIT resolves before it refuses.
                    resolve(this_namespace(l)?, &symbol)?;
                    return Err(constant_write());
                }
                Entry::Constant { .. } => return Err(constant_write()),
            };
            let address = variable_address(l, symbol)?;
            if crate::cdata::convert::holds_const(&st.types(), ty) {
                return Err(constant_write());
            }
            store_lua_value(l, st, ty, address, 3, Conv::ASSIGN)?;
            Ok(0)
        })
    }
}

fn constant_write() -> LuaError {
    LuaError::msg("attempt to write to constant location")
}

/// `ffi.load(name [, global])`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
unsafe extern "C-unwind" fn load(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let Some(name) = lua::to_bytes(l, 1) else {
                return Err(LuaError::arg(
                    1,
                    format!("string expected, got {}", lua::type_name(l, 1)),
                ));
            };
            // dlopen sees a C string: it ends at the first NUL.
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            let global = sys::lua_toboolean(l, 2) != 0;
            let namespace = open_library(name, global).map_err(LuaError::msg)?;
            sys::lua_settop(l, 0);
            sys::lua_pushvalue(l, lua::upvalue(crate::cdata::state::STATE_UPVALUE));
            push_namespace(l, 1, namespace);
            Ok(1)
        })
    }
}

/// Opens the library `name` as LuaJIT's `clib_loadlib` does, or returns the error text.
fn open_library(name: &[u8], global: bool) -> Result<Namespace, String> {
    let file = library_file_name(name);
    let file = String::from_utf8(file).map_err(|err| {
        format!(
            "{}: cannot open shared object file: name is not UTF-8",
            String::from_utf8_lossy(err.as_bytes())
        )
    })?;
    // A global library is never unloaded (RTLD_NODELETE, glibc and musl): functions
    // resolved through `ffi.C` hold only the process handle, not this library, and
    // must stay callable after its namespace is collected.
    let flags = RTLD_LAZY
        | if global {
            RTLD_GLOBAL | RTLD_NODELETE
        } else {
            RTLD_LOCAL
        };
    let first_error = match dlopen(&file, flags) {
        Ok(library) => {
            return Ok(Namespace {
                library,
                name: file.into(),
            })
        }
        Err(text) => text,
    };
    // dlopen found a file but not an ELF object: "/path/libm.so: invalid ELF header".
    // If it is a linker script, open the library it names instead.
    if let Some((path, _)) = first_error.split_once(':') {
        if path.starts_with('/') {
            if let Some(target) = ld_script_target(path) {
                return dlopen(&target, flags).map(|library| Namespace {
                    library,
                    name: target.into(),
                });
            }
        }
    }
    Err(first_error)
}

/// LuaJIT's `clib_extname`: a name without `/` gets `.so` if it has no dot, and the
/// prefix `lib` if it does not start with it.
pub fn library_file_name(name: &[u8]) -> Vec<u8> {
    if name.contains(&b'/') {
        return name.to_vec();
    }
    let mut file = Vec::with_capacity(name.len() + 6);
    if !name.starts_with(b"lib") {
        file.extend_from_slice(b"lib");
    }
    file.extend_from_slice(name);
    if !name.contains(&b'.') {
        file.extend_from_slice(b".so");
    }
    file
}

/// The library a GNU ld script at `path` stands for: the first word of its first
/// `GROUP ( ... )` or `INPUT ( ... )` line (only the first line is looked at unless
/// the file starts with `/* GNU ld script`), as LuaJIT's `clib_resolve_lds`.
pub fn ld_script_target(path: &str) -> Option<String> {
    // Scripts are short: read the start of the file only, whatever its size.
    let mut text = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(LD_SCRIPT_LIMIT)
        .read_to_end(&mut text)
        .ok()?;
    let mut lines = text.split(|&b| b == b'\n');
    let first = lines.next()?;
    if first.starts_with(b"/* GNU ld script") {
        lines.find_map(ld_script_line)
    } else {
        ld_script_line(first)
    }
}

/// How much of a would-be ld script [`ld_script_target`] reads.
const LD_SCRIPT_LIMIT: u64 = 64 * 1024;

/// The file a `GROUP (file ...)` or `INPUT (file ...)` line names.
fn ld_script_line(line: &[u8]) -> Option<String> {
    if !(line.starts_with(b"GROUP") || line.starts_with(b"INPUT")) {
        return None;
    }
    let open = line.iter().position(|&b| b == b'(')?;
    let rest = &line[open + 1..];
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let rest = &rest[start..];
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b')')
        .unwrap_or(rest.len());
    String::from_utf8(rest[..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_as_luajit() {
        let cases: [(&str, &str); 7] = [
            ("z", "libz.so"),
            ("libz", "libz.so"),
            ("z.so.1", "libz.so.1"),
            ("libz.so.1", "libz.so.1"),
            ("", "lib.so"),
            ("./foo", "./foo"),
            ("/usr/lib/libm.so", "/usr/lib/libm.so"),
        ];
        for (name, file) in cases {
            assert_eq!(
                library_file_name(name.as_bytes()),
                file.as_bytes(),
                "{name}"
            );
        }
    }

    #[test]
    fn ld_script_lines() {
        let line = b"GROUP ( /lib/x86_64-linux-gnu/libm.so.6  AS_NEEDED ( /x ) )";
        assert_eq!(
            ld_script_line(line).as_deref(),
            Some("/lib/x86_64-linux-gnu/libm.so.6")
        );
        assert_eq!(
            ld_script_line(b"INPUT(libfoo.so)").as_deref(),
            Some("libfoo.so")
        );
        assert_eq!(ld_script_line(b"OUTPUT_FORMAT(elf64-x86-64)"), None);
    }

    #[test]
    fn ld_script_files() {
        let dir = std::env::temp_dir().join(format!("jitffi-lds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("libscript.so");
        std::fs::write(
            &script,
            "/* GNU ld script\n*/\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( /x/liba.so.6 /x/b.a )\n",
        )
        .unwrap();
        let one_line = dir.join("libone.so");
        std::fs::write(&one_line, "INPUT ( /x/libone.so.2 )\nGROUP ( /y )\n").unwrap();
        let other = dir.join("libother.so");
        std::fs::write(&other, "\x7fELF binary\nGROUP ( /z )\n").unwrap();
        let target = |p: &std::path::Path| ld_script_target(p.to_str().unwrap());
        assert_eq!(target(&script).as_deref(), Some("/x/liba.so.6"));
        assert_eq!(target(&one_line).as_deref(), Some("/x/libone.so.2"));
        assert_eq!(target(&other), None);
        assert_eq!(target(&dir.join("missing.so")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
