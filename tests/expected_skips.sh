# Sourced by the test scripts (tests/modules.sh, diff.sh, callgen.sh, fuzz.sh,
# valgrind.sh): a test that reports SKIP fails the run unless this list expects it.
#
# Each entry is a shell glob matched against "SCRIPT RUNNER CASE", for example
# "modules.sh lua5.2 tests/lua/callbacks.lua" or "callgen.sh * callbacks"; write the
# reason in a comment above it. CI runs with the list as committed.
EXPECTED_SKIPS=(
    # Lua 5.1 code cannot reach a light userdata (debug.upvalueid is 5.2+); the
    # conversion it would test is the same code on every version.
    "diff.sh lua5.1 tests/diff/semantics1_light.lua"
)

# On a developer's machine, more entries can come from the environment, separated by
# spaces, for example JITFFI_EXPECTED_SKIPS='valgrind.sh*' where valgrind is missing.
read -r -a _extra_skips <<<"${JITFFI_EXPECTED_SKIPS:-}"
EXPECTED_SKIPS+=("${_extra_skips[@]}")

# Succeeds when the skip "$1" (SCRIPT RUNNER CASE) is in EXPECTED_SKIPS.
skip_is_expected() {
    local pattern
    for pattern in "${EXPECTED_SKIPS[@]}"; do
        # shellcheck disable=SC2053
        [[ $1 == $pattern ]] && return 0
    done
    return 1
}
