//! C types for jitffi.
#![forbid(unsafe_code)]
