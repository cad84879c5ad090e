//! `jitffi --plan 'PROTOTYPE' [--cdef FILE]... [--varargs 'TYPE, ...'] [--target T]`:
//! where each argument and the result of a call travel, as the ABI crate's classifier
//! plans it (`jitffi_abi::Convention::classify`, printed by `CallPlan::display`): one
//! line per argument, then the result and the outgoing stack size.
//!
//! ```text
//! $ jitffi --plan 'double f(int8_t, struct double_int)' --cdef tests/golden/plan/structs.h
//! double f(char, struct double_int)
//! arg 1: s8@0 gpr0
//! arg 2: f64@0 vec0, i64@8 gpr1
//! result: f64@0 vec0
//! stack: 0 bytes
//! ```
//!
//! Types are spelled as LuaJIT spells them (`int8_t` is `char`). A piece reads `KIND@OFFSET LOCATION`: `s8`/`u16` are integers the caller sign- or
//! zero-extends from that width, `i64` register-sized integer bytes, `f32`/`f64`/`v128`
//! vector register contents; the offset is the byte of the value the piece starts at;
//! `gprN` is the N-th integer argument register (rdi, rsi, rdx, rcx, r8, r9; results
//! rax, rdx), `vecN` xmmN, `stack+N` the outgoing argument area.
//!
//! `--target` plans for another convention than the host's, with that target's type
//! sizes: `x86_64` (System V), `aarch64` (AAPCS64 on Linux: `gprN` is xN, `gpr8` the
//! indirect result register x8, `vecN` vN), `apple-arm64`, `win64` (`gprN` rcx, rdx,
//! r8, r9). The classifiers are pure, so any of them runs on any host; so is AArch64's
//! stub emitter, so `--disasm` lists the host's stubs and AArch64's everywhere.
//!
//! The prototype is a declaration (`int f(double)`), an abstract function type
//! (`int (double)`, `int (*)(double)`), or the name of a function or function typedef
//! declared by a `--cdef` file. The variadic part of a call is given with `--varargs`
//! as the types of the actual arguments, which get C's default argument promotions
//! (C11 6.5.2.2p6-7: `float` becomes `double`, integers narrower than `int` become
//! `int`).
//!
//! `--disasm` adds, after the plan, the listing of the call stub the ffi generates for
//! the prototype (`jitffi_lua::calls::call::stub_listing`). A variadic call's stub is that of
//! its concrete type, the fixed parameters followed by the promoted `--varargs` types
//! (without `--varargs`, a call with no extra arguments).

use jitffi_abi::{CallPlan, Convention};
use jitffi_ctype::{CType, FloatKind, FuncType, Symbol, Target, TypeId, TypeTable};
use std::ffi::CString;
use std::fmt::Write as _;

const USAGE: &str = "usage: jitffi --plan 'PROTOTYPE' [--cdef FILE]... [--varargs 'TYPE, ...'] \
     [--target x86_64|aarch64|apple-arm64|win64] [--disasm]";

/// The command line of a prototype inspection (`--plan [--disasm]`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PrototypeArgs {
    /// The prototype text, as given.
    pub prototype: String,
    /// `--cdef FILE`, in order.
    pub cdef_files: Vec<String>,
    /// `--varargs 'T, T'`: the types of the variadic arguments of the call.
    pub varargs: Option<String>,
    /// `--disasm`: also the call stub's machine code.
    pub disasm: bool,
    /// `--target NAME`: the convention to plan for; the host's when absent.
    pub target: Option<Convention>,
}

/// The convention a `--target` name stands for.
fn target_named(name: &str) -> Result<Convention, String> {
    let target = match name {
        "x86_64" | "x64" => Target::X86_64SysV,
        "aarch64" | "arm64" => Target::Aarch64,
        "apple-arm64" => Target::AppleArm64,
        "win64" => Target::Win64,
        _ => {
            return Err(format!(
                "--target '{name}': expected x86_64, aarch64, apple-arm64 or win64"
            ))
        }
    };
    Ok(Convention::for_target(target))
}

/// Parses the arguments after the switch.
pub fn parse_args(args: &[String]) -> Result<PrototypeArgs, String> {
    let mut parsed = PrototypeArgs::default();
    let mut prototype = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--cdef" => parsed
                .cdef_files
                .push(rest.next().ok_or("--cdef needs a file")?.clone()),
            "--varargs" => {
                let types = rest.next().ok_or("--varargs needs a list of types")?;
                if parsed.varargs.replace(types.clone()).is_some() {
                    return Err("--varargs given twice".into());
                }
            }
            "--disasm" => parsed.disasm = true,
            "--target" => {
                let name = rest.next().ok_or("--target needs a name")?;
                if parsed.target.replace(target_named(name)?).is_some() {
                    return Err("--target given twice".into());
                }
            }
            _ if prototype.is_none() && !arg.starts_with("--") => prototype = Some(arg.clone()),
            _ => return Err(format!("unexpected argument '{arg}'\n{USAGE}")),
        }
    }
    parsed.prototype = prototype.ok_or(USAGE)?;
    Ok(parsed)
}

/// Runs the inspection; prints the report or an error, returns the exit status.
pub fn run(args: &[CString]) -> i32 {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match parse_args(&args).and_then(|parsed| report(&parsed)) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(message) => {
            eprintln!("jitffi --plan: {message}");
            1
        }
    }
}

/// The report for one command line.
pub fn report(args: &PrototypeArgs) -> Result<String, String> {
    let convention = args.target.unwrap_or(Convention::host());
    let mut table = TypeTable::new(convention.target());
    for path in &args.cdef_files {
        let source = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        table
            .cdef(&source, &[])
            .map_err(|e| format!("{path}: {e}"))?;
    }
    let (name, func_ty) = resolve_prototype(&mut table, &args.prototype)?;
    let CType::Func(func) = table.get(func_ty).clone() else {
        return Err(format!("'{}' is not a function type", args.prototype));
    };
    let mut varargs = Vec::new();
    if let Some(list) = &args.varargs {
        if !func.variadic {
            return Err(format!(
                "--varargs: '{}' takes no variable arguments",
                args.prototype
            ));
        }
        for text in split_top_level(list) {
            let ty = table
                .parse_type(text, &[])
                .map_err(|e| format!("--varargs '{text}': {e}"))?;
            varargs.push((ty, promoted(&table, ty)));
        }
    }
    let promoted: Vec<TypeId> = varargs.iter().map(|&(_, p)| p).collect();
    let plan = convention
        .classify(&table, &func, &promoted)
        .map_err(|e| e.to_string())?;
    let mut text = describe(&table, name.as_deref(), &func, &varargs, &plan, convention);
    if args.disasm {
        let stub_ty = if promoted.is_empty() {
            func_ty
        } else {
            let mut params = func.params.to_vec();
            params.extend_from_slice(&promoted);
            table.intern(CType::Func(FuncType {
                params: params.into(),
                ..func.clone()
            }))
        };
        let listing = jitffi_lua::calls::call::stub_listing(&mut table, stub_ty, convention)
            .map_err(|e| format!("--disasm: {e}"))?;
        text.push_str("stub:\n");
        text.push_str(&listing);
        if !listing.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

/// The report: the prototype as C text, the variadic arguments' types, the plan.
fn describe(
    table: &TypeTable,
    name: Option<&str>,
    func: &FuncType,
    varargs: &[(TypeId, TypeId)],
    plan: &CallPlan,
    convention: Convention,
) -> String {
    let mut params: Vec<String> = func.params.iter().map(|&p| table.type_name(p)).collect();
    if func.variadic {
        params.push("...".into());
    } else if params.is_empty() {
        params.push("void".into());
    }
    let mut out = format!(
        "{} {}({})\n",
        table.type_name(func.ret),
        name.unwrap_or(""),
        params.join(", ")
    );
    if !varargs.is_empty() {
        let types: Vec<String> = varargs
            .iter()
            .map(|&(given, promoted)| {
                if given == promoted {
                    table.type_name(promoted)
                } else {
                    format!(
                        "{} (from {})",
                        table.type_name(promoted),
                        table.type_name(given)
                    )
                }
            })
            .collect();
        let _ = writeln!(out, "varargs: {}", types.join(", "));
    }
    let _ = writeln!(out, "{}", plan.display(convention));
    out
}

/// The function type a prototype names, and the function's name if it has one.
fn resolve_prototype(
    table: &mut TypeTable,
    text: &str,
) -> Result<(Option<String>, TypeId), String> {
    let text = text.trim().trim_end_matches(';');
    // The name of a declared function or of a function typedef.
    if is_identifier(text) {
        return match table.symbol(text) {
            Some(&Symbol::Func { ty, .. }) => Ok((Some(text.to_owned()), ty)),
            Some(&Symbol::Typedef(ty)) => function_type(table, ty)
                .map(|ty| (None, ty))
                .ok_or_else(|| format!("'{text}' is not a function type")),
            _ => Err(format!("'{text}' is not a declared function")),
        };
    }
    // An abstract function type or function pointer type.
    if let Ok(ty) = table.parse_type(text, &[]) {
        return function_type(table, ty)
            .map(|ty| (None, ty))
            .ok_or_else(|| format!("'{text}' is not a function type"));
    }
    // A declaration: the function it declares is the first word naming a function.
    table
        .cdef(&format!("{text};"), &[])
        .map_err(|e| e.to_string())?;
    identifiers(text)
        .find_map(|word| match table.symbol(word) {
            Some(&Symbol::Func { ty, .. }) => Some((Some(word.to_owned()), ty)),
            _ => None,
        })
        .ok_or_else(|| format!("'{text}' declares no function"))
}

/// `ty` if it is a function type, the function type it points to if it is a function
/// pointer; `None` otherwise.
fn function_type(table: &TypeTable, ty: TypeId) -> Option<TypeId> {
    let (base, _) = table.unqualified(ty);
    match table.get(base) {
        CType::Func(_) => Some(base),
        CType::Pointer(target) => {
            let (target, _) = table.unqualified(*target);
            matches!(table.get(target), CType::Func(_)).then_some(target)
        }
        _ => None,
    }
}

/// C's default argument promotions of a variadic argument (C11 6.5.2.2p6-7, with the
/// integer promotions of 6.3.1.1p2: every value of a narrower integer fits in `int`).
fn promoted(table: &TypeTable, ty: TypeId) -> TypeId {
    let (base, _) = table.unqualified(ty);
    let builtins = table.builtins();
    match table.get(base) {
        CType::Bool => builtins.i32,
        CType::Int(int) if int.bytes < 4 => builtins.i32,
        CType::Float(FloatKind::Float) => builtins.double,
        _ => ty,
    }
}

/// The comma-separated parts of a type list, commas inside parentheses or brackets kept
/// (`int (*)(int, int), double`).
fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in list.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The C identifiers of a text, in order.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| is_identifier(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_in_any_order() {
        let parsed = parse_args(&args(&[
            "--cdef",
            "a.h",
            "int f(int, ...)",
            "--varargs",
            "double, int",
            "--cdef",
            "b.h",
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            PrototypeArgs {
                prototype: "int f(int, ...)".into(),
                cdef_files: vec!["a.h".into(), "b.h".into()],
                varargs: Some("double, int".into()),
                disasm: false,
                target: None,
            }
        );
        assert_eq!(
            parse_args(&args(&["int f(void)", "--target", "aarch64"]))
                .unwrap()
                .target,
            Some(Convention::Aapcs64)
        );
        assert!(
            parse_args(&args(&["int f(void)", "--disasm"]))
                .unwrap()
                .disasm
        );
    }

    #[test]
    fn bad_command_lines() {
        assert!(parse_args(&args(&[])).is_err());
        assert!(parse_args(&args(&["int f(void)", "int g(void)"])).is_err());
        assert!(parse_args(&args(&["int f(void)", "--cdef"])).is_err());
        assert!(parse_args(&args(&["int f(void)", "--bogus"])).is_err());
        assert!(parse_args(&args(&["int f(void)", "--target"])).is_err());
        assert!(parse_args(&args(&["int f(void)", "--target", "mips"]))
            .unwrap_err()
            .contains("--target 'mips'"));
        let twice = ["int f(void)", "--target", "x86_64", "--target", "aarch64"];
        assert!(parse_args(&args(&twice)).is_err());
    }

    #[test]
    fn type_lists_split_at_top_level_commas() {
        assert_eq!(
            split_top_level("int (*)(int, int), double ,char[2]"),
            vec!["int (*)(int, int)", "double", "char[2]"]
        );
        assert!(split_top_level(" ").is_empty());
    }

    fn plan_of(prototype: &str, varargs: Option<&str>) -> Result<String, String> {
        report(&PrototypeArgs {
            prototype: prototype.into(),
            varargs: varargs.map(Into::into),
            ..PrototypeArgs::default()
        })
    }

    #[test]
    fn prototypes_in_every_form() {
        let declared = plan_of("int f(double)", None).unwrap();
        assert!(declared.starts_with("int f(double)\n"), "{declared}");
        let abstract_type = plan_of("int (double)", None).unwrap();
        assert_eq!(
            abstract_type.split_once('\n').unwrap().1,
            declared.split_once('\n').unwrap().1
        );
        let pointer = plan_of("int (*)(double)", None).unwrap();
        assert_eq!(pointer, abstract_type);
        assert!(plan_of("int", None).is_err());
        assert!(plan_of("int x", None).is_err());
        assert!(plan_of("int f(double", None).is_err());
    }

    #[test]
    fn varargs_are_promoted_and_need_an_ellipsis() {
        let text = plan_of("int printf(const char *, ...)", Some("float, char, int")).unwrap();
        assert!(
            text.contains("varargs: double (from float), int (from char), int\n"),
            "{text}"
        );
        assert!(plan_of("int f(int)", Some("int")).is_err());
    }
}
