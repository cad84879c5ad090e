//! Deterministic fuzzing of `cdef` and `parse_type`: random declarations from a small C
//! grammar, and mutations of them (truncation, byte flips, token deletion and
//! duplication, deep nesting, huge numbers). Every input must give `Ok` or `Err`
//! without panicking, hanging or overflowing the stack, and a failed call must leave
//! the table as it was.
//!
//! `JITFFI_FUZZ_SEED` picks the seed, `JITFFI_FUZZ_ITERS` the number of generated
//! declarations (each is also mutated several ways). Crashes found are kept in
//! `parse_regressions.rs`.

use jitffi_ctype::{Param, Target, TypeTable};

/// xorshift64*: small, fast, and good enough to pick grammar branches.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a table holds, to compare before and after a failed call.
#[derive(PartialEq, Debug)]
struct Summary {
    types: usize,
    symbols: usize,
    tags: usize,
    complete_records: usize,
}

fn summary(table: &TypeTable) -> Summary {
    let complete_records = table
        .tags()
        .filter(|(_, ty)| match table.get(*ty) {
            jitffi_ctype::CType::Record(rid) => table.record(*rid).body.is_some(),
            _ => false,
        })
        .count();
    Summary {
        types: table.len(),
        symbols: table.symbols().count(),
        tags: table.tags().count(),
        complete_records,
    }
}

const BASE_TYPES: &[&str] = &[
    "int",
    "unsigned",
    "char",
    "signed char",
    "unsigned long long",
    "long int",
    "short",
    "double",
    "float",
    "_Bool",
    "void",
    "int8_t",
    "uint64_t",
    "size_t",
    "long double",
    "complex double",
    "__int32",
    "const int",
    "volatile unsigned short",
    "T0",
    "T1",
    "struct s0",
    "union u0",
    "enum e0",
    "struct s1",
];

struct Generator {
    rng: Rng,
    counter: u32,
}

impl Generator {
    fn name(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter % 7)
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth > 3 || self.rng.chance(40) {
            return match self.rng.below(7) {
                0 => self
                    .rng
                    .pick(&[
                        "0",
                        "1",
                        "7",
                        "0x10",
                        "0777",
                        "0b11",
                        "4294967295u",
                        "-1",
                        "'a'",
                        "'\\n'",
                    ])
                    .to_owned(),
                1 => self.rng.pick(&["A0", "A1", "K0", "K1", "D0"]).to_owned(),
                2 => format!("sizeof({})", self.type_name(depth + 1)),
                3 => format!("_Alignof({})", self.type_name(depth + 1)),
                4 => self
                    .rng
                    .pick(&[
                        "9223372036854775807",
                        "18446744073709551615ULL",
                        "1e3",
                        "2147483648",
                    ])
                    .to_owned(),
                _ => (self.rng.below(40)).to_string(),
            };
        }
        let op = self.rng.pick(&[
            "+", "-", "*", "/", "%", "<<", ">>", "<", "==", "!=", "&", "|", "^", "&&", "||",
        ]);
        match self.rng.below(5) {
            0 => format!("({})", self.expr(depth + 1)),
            1 => format!(
                "{}{}",
                self.rng.pick(&["-", "~", "!", "+"]),
                self.expr(depth + 1)
            ),
            2 => format!(
                "{} ? {} : {}",
                self.expr(depth + 1),
                self.expr(depth + 1),
                self.expr(depth + 1)
            ),
            3 => format!(
                "({}){}",
                self.rng
                    .pick(&["char", "unsigned", "long long", "unsigned char"]),
                self.expr(depth + 1)
            ),
            _ => format!("{} {op} {}", self.expr(depth + 1), self.expr(depth + 1)),
        }
    }

    fn attribute(&mut self) -> String {
        self.rng
            .pick(&[
                "__attribute__((packed))",
                "__attribute__((aligned(8)))",
                "__attribute__((aligned))",
                "__attribute__((__aligned__(16), unused))",
                "__attribute__((mode(QI)))",
                "__attribute__((vector_size(16)))",
                "__attribute__((deprecated(\"x\"), nonnull(1, 2)))",
                "__declspec(align(4))",
                "__asm__(\"sym\")",
                "__extension__",
            ])
            .to_owned()
    }

    fn type_name(&mut self, depth: u32) -> String {
        let base = self.spec(depth);
        let decl = self.declarator(depth, false);
        format!("{base} {decl}")
    }

    fn spec(&mut self, depth: u32) -> String {
        if depth < 3 && self.rng.chance(15) {
            return self.record(depth + 1);
        }
        if depth < 3 && self.rng.chance(5) {
            return self.enumeration(depth + 1);
        }
        let mut spec = self.rng.pick(BASE_TYPES).to_owned();
        if self.rng.chance(10) {
            spec = format!("{} {spec}", self.attribute());
        }
        spec
    }

    fn declarator(&mut self, depth: u32, named: bool) -> String {
        let mut out = String::new();
        for _ in 0..self.rng.below(3) {
            out.push_str(
                self.rng
                    .pick(&["*", "* const", "*restrict", "&", "__stdcall *"]),
            );
        }
        let mut inner = if named { self.name("x") } else { String::new() };
        if depth < 4 && self.rng.chance(15) {
            inner = format!("({})", self.declarator(depth + 1, named));
        }
        out.push_str(&inner);
        for _ in 0..self.rng.below(3) {
            match self.rng.below(4) {
                0 => out.push_str(&format!("[{}]", self.expr(depth + 1))),
                1 => out.push_str(self.rng.pick(&["[]", "[?]", "[3]", "[0]"])),
                2 if depth < 4 => {
                    let params: Vec<String> = (0..self.rng.below(3))
                        .map(|_| self.type_name(depth + 1))
                        .collect();
                    let tail = if self.rng.chance(20) { ", ..." } else { "" };
                    out.push_str(&format!("({}{tail})", params.join(", ")));
                }
                _ => out.push_str("(void)"),
            }
        }
        if self.rng.chance(10) {
            out.push(' ');
            out.push_str(&self.attribute());
        }
        out
    }

    fn record(&mut self, depth: u32) -> String {
        let kind = self.rng.pick(&["struct", "union"]);
        let tag = if self.rng.chance(60) {
            self.name(if kind == "struct" { "s" } else { "u" })
        } else {
            String::new()
        };
        let mut body = String::new();
        for _ in 0..self.rng.below(4) {
            let spec = self.spec(depth + 1);
            let decl = self.declarator(depth + 1, true);
            body.push_str(&spec);
            body.push(' ');
            body.push_str(&decl);
            if self.rng.chance(15) {
                body.push_str(&format!(" : {}", self.expr(depth + 1)));
            }
            body.push_str("; ");
        }
        let attr = if self.rng.chance(15) {
            self.attribute()
        } else {
            String::new()
        };
        format!("{kind} {tag} {{ {body} }} {attr}")
    }

    fn enumeration(&mut self, depth: u32) -> String {
        let tag = if self.rng.chance(50) {
            self.name("e")
        } else {
            String::new()
        };
        let constants: Vec<String> = (0..1 + self.rng.below(3))
            .map(|_| {
                let name = self.name("A");
                if self.rng.chance(50) {
                    format!("{name} = {}", self.expr(depth + 1))
                } else {
                    name
                }
            })
            .collect();
        format!("enum {tag} {{ {} }}", constants.join(", "))
    }

    fn declaration(&mut self) -> String {
        match self.rng.below(12) {
            0 => format!(
                "typedef {} {};",
                self.spec(0),
                self.declarator(0, true).replace('x', "T")
            ),
            1 => format!("static const int {} = {};", self.name("K"), self.expr(0)),
            2 => format!("#define {} {}\n", self.name("D"), self.expr(0)),
            3 => format!(
                "#pragma pack({})\n",
                self.rng
                    .pick(&["1", "push, 2", "pop", "", "push", "4", "16"])
            ),
            4 => format!("{};", self.record(0)),
            5 => format!("{};", self.enumeration(0)),
            6 => format!("_Static_assert({}, \"m\");", self.expr(0)),
            7 => format!(
                "extern {} {} {};",
                self.spec(0),
                self.declarator(0, true),
                self.attribute()
            ),
            _ => format!("{} {};", self.spec(0), self.declarator(0, true)),
        }
    }
}

/// Token-ish split points: positions where a space or punctuator starts.
fn token_bounds(src: &[u8]) -> Vec<usize> {
    let mut bounds = vec![0];
    for (i, pair) in src.windows(2).enumerate() {
        if pair[0].is_ascii_alphanumeric() != pair[1].is_ascii_alphanumeric()
            || !pair[1].is_ascii_alphanumeric()
        {
            bounds.push(i + 1);
        }
    }
    bounds.push(src.len());
    bounds
}

/// Runs one input through both entry points; asserts the transactional promise.
fn check(table: &mut TypeTable, src: &str) {
    let before = summary(table);
    if table.cdef(src, &[]).is_err() {
        assert_eq!(
            summary(table),
            before,
            "failed cdef changed the table: {src:?}"
        );
    }
    let before = summary(table);
    if table.parse_type(src, &[]).is_err() {
        assert_eq!(
            summary(table),
            before,
            "failed parse_type changed the table: {src:?}"
        );
    }
}

/// `cdef` must refuse `src` with an error (and, failing, change nothing); returns the
/// error text for the caller to check further.
fn check_refused(src: &str) -> String {
    let mut table = TypeTable::new(Target::X86_64SysV);
    let before = summary(&table);
    match table.cdef(src, &[]) {
        Ok(()) => panic!("cdef accepted what must be an error: {:.200}", src),
        Err(e) => {
            assert_eq!(
                summary(&table),
                before,
                "failed cdef changed the table: {src:.200}"
            );
            e.to_string()
        }
    }
}

fn mutate(rng: &mut Rng, src: &str) -> Vec<String> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    // Truncation at a few positions (every position for short inputs).
    if bytes.len() < 40 {
        for cut in 0..bytes.len() {
            out.push(String::from_utf8_lossy(&bytes[..cut]).into_owned());
        }
    } else {
        for _ in 0..6 {
            let cut = rng.below(bytes.len());
            out.push(String::from_utf8_lossy(&bytes[..cut]).into_owned());
        }
    }
    // Byte flips.
    for _ in 0..4 {
        let mut flipped = bytes.to_vec();
        if !flipped.is_empty() {
            let at = rng.below(flipped.len());
            let alphabet = b"(){}[];,*&:?=$#\"'\\/\n0x9azZ_@\xff";
            flipped[at] = alphabet[rng.below(alphabet.len())];
        }
        out.push(String::from_utf8_lossy(&flipped).into_owned());
    }
    // Token deletion and duplication.
    let bounds = token_bounds(bytes);
    for _ in 0..4 {
        let i = rng.below(bounds.len() - 1);
        let (a, b) = (bounds[i], bounds[i + 1]);
        let mut deleted = bytes[..a].to_vec();
        deleted.extend_from_slice(&bytes[b..]);
        out.push(String::from_utf8_lossy(&deleted).into_owned());
        let mut doubled = bytes[..b].to_vec();
        doubled.extend_from_slice(&bytes[a..]);
        out.push(String::from_utf8_lossy(&doubled).into_owned());
    }
    out
}

#[test]
fn random_declarations_never_panic_and_fail_cleanly() {
    let seed = env_u64("JITFFI_FUZZ_SEED", 0x5eed_c0de_1234_5678) | 1;
    let iterations = env_u64(
        "JITFFI_FUZZ_ITERS",
        if cfg!(debug_assertions) { 1500 } else { 20000 },
    );
    let mut generator = Generator {
        rng: Rng(seed),
        counter: 0,
    };
    let mut mutation_rng = Rng(seed.rotate_left(17) | 1);
    let mut table = TypeTable::new(Target::X86_64SysV);
    table
        .cdef(
            "typedef int T0; typedef double T1; struct s0 { int a; }; enum e0 { E0 };",
            &[],
        )
        .unwrap();
    let mut accepted = 0;
    for i in 0..iterations {
        // A fresh table now and then, so that redefinitions do not make everything fail.
        if i % 200 == 0 {
            table = TypeTable::new(Target::X86_64SysV);
            table
                .cdef(
                    "typedef int T0; typedef double T1; struct s0 { int a; }; enum e0 { E0 };",
                    &[],
                )
                .unwrap();
        }
        let src = generator.declaration();
        let before = summary(&table);
        match table.cdef(&src, &[]) {
            Ok(()) => accepted += 1,
            Err(_) => assert_eq!(
                summary(&table),
                before,
                "failed cdef changed the table: {src:?}"
            ),
        }
        for mutant in mutate(&mut mutation_rng, &src) {
            check(&mut table, &mutant);
        }
    }
    assert!(accepted > 0, "the generator produced nothing valid");
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let mut table = TypeTable::new(Target::X86_64SysV);
    let n = 100_000;
    let inputs = [
        format!("int {}x;", "(".repeat(n)),
        format!("int {}x;", "*".repeat(n)),
        format!("int x{};", "[1]".repeat(n)),
        format!("int x{};", "(void)".repeat(n)),
        format!("int x({}", "int (".repeat(n)),
        format!("enum {{ A = {}1 }};", "(".repeat(n)),
        format!("enum {{ A = {}1 }};", "-".repeat(n)),
        format!("enum {{ A = {}1 }};", "sizeof(".repeat(n)),
        format!("enum {{ A = 1{} }};", " ? 1 : 1".repeat(n)),
        "struct { ".repeat(n),
        format!("int {}", "(*".repeat(n)),
        format!("typedef int t{};", "[1][2]".repeat(n / 2)),
        "#pragma pack(push, 1)\n".repeat(n),
    ];
    for src in &inputs {
        check(&mut table, src);
        check_refused(src);
    }
    // Long but flat: valid C, accepted without deep recursion.
    for src in [
        format!("enum {{ A = 1{} }};", " + 1".repeat(n)),
        format!("{}int x;", "__attribute__((aligned(8))) ".repeat(n)),
    ] {
        let mut table = TypeTable::new(Target::X86_64SysV);
        assert!(table.cdef(&src, &[]).is_ok(), "{:.60}", src);
    }
}

/// Numbers out of range in sizes, bitfield widths, enum values and attributes: each is
/// an error (LuaJIT refuses every one of them already as a "malformed number").
#[test]
fn huge_numbers_are_errors() {
    for src in [
        "int a[99999999999999999999999999];",
        "int a[18446744073709551615];",
        "int a[0x7fffffffffffffff];",
        "int a[1ULL << 63][1ULL << 63];",
        "enum { A = 18446744073709551615ULL, B };",
        "struct s { int x : 18446744073709551615; };",
        "typedef int v __attribute__((vector_size(18446744073709551615)));",
        // gcc: "requested alignment is not a positive power of 2" / "exceeds maximum".
        "typedef int v __attribute__((aligned(18446744073709551615)));",
        "typedef int v __attribute__((aligned(3)));",
        "typedef int v __attribute__((aligned(1 << 29)));",
        "struct s { _Alignas(-8) int x; };",
    ] {
        check_refused(src);
    }
    // Accepted on purpose, unlike LuaJIT (whose number parser stops at 32 bits): C's
    // wrapping 64-bit constant arithmetic (parse_regressions.rs pins these).
    for src in [
        "enum { A = -9223372036854775807 - 1, B = A / -1, C = A % -1 };",
        "enum { A = 1 << 18446744073709551615 };",
    ] {
        let mut table = TypeTable::new(Target::X86_64SysV);
        assert!(table.cdef(src, &[]).is_ok(), "{src}");
    }
}

#[test]
fn parameters_out_of_place() {
    let mut table = TypeTable::new(Target::X86_64SysV);
    let int = table.builtins().i32;
    let params = [
        Param::Type(int),
        Param::Int(-5),
        Param::Name("nm".into()),
        Param::Int(i64::MIN),
    ];
    for src in [
        "$ $ $ $;",
        "int $[$];",
        "struct $ { $ $; };",
        "enum { $ = $ };",
        "int x[$]",
        "$",
        "$$$$$",
        "int $(int $, $);",
    ] {
        let _ = table.cdef(src, &params);
        let _ = table.parse_type(src, &params);
        let _ = table.parse_type(src, &params[..1]);
    }
}
