//! Machine code: call stubs generated per C signature (dynasm-rs).
//!
//! May use: `jitffi-abi` plans. Knows nothing of Lua: the code it emits calls helper
//! functions whose addresses the caller supplies.
