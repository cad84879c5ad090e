//! The one error type of the C type engine. Its texts read like LuaJIT's, because Lua
//! code matches on them; every text is built here, so they stay consistent.

use std::fmt;

/// An expected failure: a bad declaration, an unknown type, a redefinition. The message
/// names the culprit and, for parse errors, the token and line (`... near 'x' at line 3`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CdefError {
    message: String,
}

impl CdefError {
    pub fn new(message: impl Into<String>) -> CdefError {
        CdefError {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// LuaJIT's text for a type without a size, or one above
    /// [`crate::MAX_TYPE_SIZE`].
    pub const SIZE_UNKNOWN: &'static str = "size of C type is unknown or too large";

    /// `size of C type is unknown or too large`.
    pub fn size_unknown() -> CdefError {
        CdefError::new(CdefError::SIZE_UNKNOWN)
    }

    /// `attempt to redefine 'name'`.
    pub fn redefined(name: &str) -> CdefError {
        CdefError::new(format!("attempt to redefine '{name}'"))
    }
}

impl fmt::Display for CdefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CdefError {}
