//! The read-eval-print loop of `lua5.4`, without readline.
//!
//! Each line is first tried as an expression (`return <line>;`), so that `1+1` prints 2;
//! otherwise as a statement, reading continuation lines (prompt `>> `) while the parser
//! stops at `<eof>`. A line starting with `=` means `return` (the Lua 5.1-5.3 habit).
//! Results are printed with the global `print`; errors are reported without the program
//! name. The statement being assembled lives in Rust buffers, never on the Lua stack.

use crate::interpreter::Interpreter;
use crate::stdio;
use mlua_sys as lua;
use std::os::raw::c_int;

/// The chunk name of everything typed at the prompt.
const CHUNK_NAME: &std::ffi::CStr = c"=stdin";

/// The parser's message for input that ends too early ends with this.
const EOF_MARK: &[u8] = b"<eof>";

/// Runs the loop until end of input, then prints a newline.
pub fn run(interpreter: &mut Interpreter) {
    let saved_progname = interpreter.replace_progname(None);
    let mut line = Vec::new();
    let mut statement = Vec::new();
    loop {
        interpreter.set_top(0);
        let Some(status) = read_statement(interpreter, &mut line, &mut statement) else {
            break;
        };
        let status = if status == lua::LUA_OK {
            interpreter.docall(0, lua::LUA_MULTRET)
        } else {
            status
        };
        if status == lua::LUA_OK {
            interpreter.print_stack();
        } else {
            interpreter.report(status);
        }
    }
    interpreter.set_top(0);
    stdio::write_stdout(b"\n");
    interpreter.replace_progname(saved_progname);
}

/// Shows the prompt and reads one line into `line`. False at end of input.
fn prompt_and_read(interpreter: &mut Interpreter, first_line: bool, line: &mut Vec<u8>) -> bool {
    let prompt = interpreter.prompt(first_line);
    stdio::write_stdout(&prompt);
    stdio::read_line(line)
}

/// Reads and compiles one statement. `None` at end of input; otherwise the load status,
/// with the function (or the error message) on the stack.
fn read_statement(
    interpreter: &mut Interpreter,
    line: &mut Vec<u8>,
    statement: &mut Vec<u8>,
) -> Option<c_int> {
    if !prompt_and_read(interpreter, true, line) {
        return None;
    }
    statement.clear();
    match line.strip_prefix(b"=") {
        Some(expression) => {
            statement.extend_from_slice(b"return ");
            statement.extend_from_slice(expression);
        }
        None => statement.extend_from_slice(line),
    }

    let mut as_expression = b"return ".to_vec();
    as_expression.extend_from_slice(statement);
    as_expression.push(b';');
    if interpreter.load_buffer(&as_expression, CHUNK_NAME) == lua::LUA_OK {
        return Some(lua::LUA_OK);
    }
    interpreter.set_top(0);

    loop {
        let status = interpreter.load_buffer(statement, CHUNK_NAME);
        if !is_incomplete(interpreter, status) {
            return Some(status);
        }
        interpreter.set_top(0);
        if !prompt_and_read(interpreter, false, line) {
            // End of input in the middle of a statement: drop it and start over, like
            // lua.c; the next read normally meets the end of input too.
            return read_statement(interpreter, line, statement);
        }
        statement.push(b'\n');
        statement.extend_from_slice(line);
    }
}

/// A syntax error at `<eof>` means the statement may go on in the next line.
fn is_incomplete(interpreter: &Interpreter, status: c_int) -> bool {
    status == lua::LUA_ERRSYNTAX
        && interpreter
            .string_at(-1)
            .is_some_and(|message| message.ends_with(EOF_MARK))
}
