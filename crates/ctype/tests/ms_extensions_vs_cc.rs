//! Unnamed members of named record types (`struct { struct pt; }`, `struct { pt_t; }`),
//! which LuaJIT embeds like anonymous members: laid out as gcc lays them out with
//! `-fms-extensions`, the one mode in which gcc accepts them. Each record's size,
//! alignment and member offsets are compared with what `cc -fms-extensions` prints for
//! the same declarations.

use jitffi_ctype::*;
use std::process::Command;

const DECLARATIONS: &str = "
struct foo { int x, y; };
typedef struct { int x, y; } pt_t;
typedef struct foo foo_t;
typedef const struct foo cfoo_t;
union u1 { int a; double b; };
struct al { char c0; double d0; } __attribute__((aligned(16)));
struct pk { char c1; int i1; } __attribute__((packed));
struct a1 { struct foo; };
struct a2 { pt_t; int z; };
struct a3 { char c; struct foo; char d; };
struct a4 { char c; union u1; char d; };
struct a5 { char c; const pt_t; };
struct a6 { short s; foo_t; };
struct a7 { char c; struct al; char e; };
struct a8 { char c; struct pk; char e; };
struct a9 { char c; cfoo_t; long long q; };
union a10 { struct foo; double d; char c; };
struct a11 { char c; struct { char e; union u1; }; int q; };
struct a12 { struct in12 { char k; double m; }; char c; };
struct a13 { char c; struct foo; } __attribute__((packed));
";

/// (record, members to locate in it).
const RECORDS: &[(&str, &[&str])] = &[
    ("struct a1", &["x", "y"]),
    ("struct a2", &["x", "y", "z"]),
    ("struct a3", &["c", "x", "y", "d"]),
    ("struct a4", &["c", "a", "b", "d"]),
    ("struct a5", &["c", "x", "y"]),
    ("struct a6", &["s", "x", "y"]),
    ("struct a7", &["c", "c0", "d0", "e"]),
    ("struct a8", &["c", "c1", "i1", "e"]),
    ("struct a9", &["c", "x", "y", "q"]),
    ("union a10", &["x", "y", "d", "c"]),
    ("struct a11", &["c", "e", "a", "b", "q"]),
    ("struct a12", &["k", "m", "c"]),
    ("struct a13", &["c", "x", "y"]),
];

fn cc_answers() -> Vec<String> {
    let mut program = String::from("#include <stdio.h>\n#include <stddef.h>\n");
    program.push_str(DECLARATIONS);
    program.push_str("int main(void) {\n");
    for (record, members) in RECORDS {
        program.push_str(&format!(
            "printf(\"%zu %zu\\n\", sizeof({record}), _Alignof({record}));\n"
        ));
        for member in *members {
            program.push_str(&format!(
                "printf(\"%zu\\n\", offsetof({record}, {member}));\n"
            ));
        }
    }
    program.push_str("return 0;\n}\n");
    let dir = std::env::temp_dir().join(format!("jitffi-ms-ext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let source = dir.join("ms.c");
    let binary = dir.join("ms");
    std::fs::write(&source, &program).expect("write C program");
    let compiled = Command::new("cc")
        .args(["-std=gnu11", "-fms-extensions", "-w", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("this test needs a C compiler: install gcc");
    assert!(
        compiled.status.success(),
        "cc -fms-extensions rejected the declarations:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = Command::new(&binary).output().expect("run the program");
    assert!(run.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(run.stdout)
        .expect("ASCII output")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn embedded_named_records_are_laid_out_as_gcc_ms_extensions() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    t.cdef(DECLARATIONS, &[]).expect("the declarations parse");
    let mut ours = Vec::new();
    for (record, members) in RECORDS {
        let ty = t.parse_type(record, &[]).expect(record);
        ours.push(format!(
            "{} {}",
            t.size_of(ty).expect("complete"),
            t.align_of(ty)
        ));
        for member in *members {
            let (offset, _) = t
                .find_member(ty, member)
                .unwrap_or_else(|| panic!("{record} has {member}"));
            ours.push(offset.to_string());
        }
    }
    assert_eq!(ours, cc_answers());
}
