//! The code arena shares pages between stubs: many signatures make few mappings (issue
//! 14 item 5: one mapping per stub exhausted `vm.max_map_count` and wasted a page each).
//! One test in its own process, so that no other test maps memory meanwhile.

use jitffi_abi::{ArgPlan, CallPlan, RetPlan};
use jitffi_jit::{stub_for, ArgFetch, Helper, Helpers, ResultPush, StubSpec};

fn helper(name: &'static str) -> Helper {
    // Never called: the stubs are only made.
    Helper {
        address: 0x1000,
        name,
    }
}

/// A distinct spec per `n`: one by-value argument of `8 * n` bytes on the stack.
fn spec(n: u32) -> StubSpec {
    let size = 8 * n;
    StubSpec {
        plan: CallPlan {
            args: vec![ArgPlan::Stack { offset: 0, size }],
            ret: RetPlan::Void,
            stack_bytes: size,
            stack_align: 16,
            vec_regs: 0,
            variadic: false,
        },
        args: vec![ArgFetch::Memory {
            helper: helper("fetch"),
            size,
        }],
        result: ResultPush::Nothing,
        helpers: Helpers {
            context: helper("context"),
            arg_count: helper("arg_count"),
            count_error: helper("count_error"),
            errno_location: helper("errno_location"),
            pending_error: helper("pending_error"),
        },
    }
}

fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .count()
}

#[test]
fn three_hundred_signatures_share_a_few_pages() {
    const STUBS: u32 = 300;
    let before = mappings();
    let stubs: Vec<_> = (1..=STUBS).map(|n| stub_for(&spec(n)).unwrap()).collect();
    let after = mappings();
    let mut pages: Vec<usize> = stubs
        .iter()
        .map(|s| s.caller_entry() as usize / 4096)
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let bytes: usize = stubs.iter().map(|s| s.len()).sum();
    let code_pages = bytes.div_ceil(4096);
    eprintln!(
        "{STUBS} stubs, {bytes} bytes: {} pages, {} new mappings",
        pages.len(),
        after - before
    );
    assert!(
        pages.len() <= code_pages + 1,
        "stubs spread over {} pages for {code_pages} pages of code",
        pages.len()
    );
    assert!(
        after - before <= code_pages + 2,
        "{} new mappings for {STUBS} stubs ({code_pages} pages of code)",
        after - before
    );
}
