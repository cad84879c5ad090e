//! `package.path` and `package.cpath`: those of the system's `lua5.4`, so that modules
//! installed by the distribution (Debian's `/usr/share/lua/5.4`,
//! `/usr/lib/<multiarch>/lua/5.4`) and by LuaRocks (`/usr/local`) load under the runner.
//!
//! The vendored Lua's built-in defaults know only `/usr/local`; Debian's `lua5.4` is built
//! with the longer paths below. The runner sets the result after `luaL_openlibs`, chosen
//! as `loadlib.c`'s `setpath` chooses it: `LUA_PATH_5_4`, else `LUA_PATH` (the same
//! for `LUA_CPATH`), with `;;` standing for the default; the default alone under `-E`.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// Debian's multiarch directory name (`/usr/lib/<this>/lua/5.4`).
#[cfg(target_arch = "x86_64")]
macro_rules! multiarch {
    () => {
        "x86_64-linux-gnu"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! multiarch {
    () => {
        "aarch64-linux-gnu"
    };
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
macro_rules! multiarch {
    () => {
        compile_error!("package_path.rs: add Debian's multiarch name for this architecture")
    };
}

/// Debian lua5.4's `package.path` (its luaconf.h: LuaRocks' `/usr/local` tree, then
/// the distribution's, then the current directory).
pub const DEFAULT_PATH: &str =
    "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;\
/usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua;\
/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;./?.lua;./?/init.lua";

/// Debian lua5.4's `package.cpath`.
pub const DEFAULT_CPATH: &str = concat!(
    "/usr/local/lib/lua/5.4/?.so;/usr/lib/",
    multiarch!(),
    "/lua/5.4/?.so;/usr/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so"
);

/// The two search paths the runner sets.
pub struct PackagePaths {
    pub path: CString,
    pub cpath: CString,
}

impl PackagePaths {
    /// From the process environment, or the defaults alone when `ignore_env` (`-E`).
    pub fn from_environment(ignore_env: bool) -> Self {
        let variable = |name: &str| -> Option<OsString> {
            if ignore_env {
                return None;
            }
            std::env::var_os(format!("{name}_5_4")).or_else(|| std::env::var_os(name))
        };
        let choose = |name: &str, default: &str| {
            let value = variable(name).map(OsStringExt::into_vec);
            CString::new(search_path(value.as_deref(), default))
                .expect("an environment value has no NUL byte")
        };
        PackagePaths {
            path: choose("LUA_PATH", DEFAULT_PATH),
            cpath: choose("LUA_CPATH", DEFAULT_CPATH),
        }
    }
}

/// `setpath`'s rule: no variable gives the default; a value without `;;` is used as it
/// is; the first `;;` is replaced by `;DEFAULT;` (without the `;` on a side where
/// nothing is left).
fn search_path(value: Option<&[u8]>, default: &str) -> Vec<u8> {
    let Some(value) = value else {
        return default.as_bytes().to_vec();
    };
    let Some(mark) = value.windows(2).position(|pair| pair == b";;") else {
        return value.to_vec();
    };
    let (prefix, suffix) = (&value[..mark], &value[mark + 2..]);
    let mut path = Vec::with_capacity(value.len() + default.len());
    if !prefix.is_empty() {
        path.extend_from_slice(prefix);
        path.push(b';');
    }
    path.extend_from_slice(default.as_bytes());
    if !suffix.is_empty() {
        path.push(b';');
        path.extend_from_slice(suffix);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::search_path;

    fn path(value: Option<&str>) -> String {
        String::from_utf8(search_path(value.map(str::as_bytes), "D")).unwrap()
    }

    #[test]
    fn double_semicolon_is_the_default() {
        assert_eq!(path(None), "D");
        assert_eq!(path(Some("a;b")), "a;b");
        assert_eq!(path(Some("")), "");
        assert_eq!(path(Some(";;")), "D");
        assert_eq!(path(Some("a;;")), "a;D");
        assert_eq!(path(Some(";;b")), "D;b");
        assert_eq!(path(Some("a;;b;;c")), "a;D;b;;c");
    }
}
