//! The allocation-tracking sections: `trace_function_infos` (flat records, like `nodes`) and
//! `trace_tree`, the one nested array of a snapshot:
//! `[id, function_info_index, count, size, [children…], id, …]`. The tree is read token by
//! token with an explicit stack (one entry per open level, on the heap), so no depth of
//! recursion in the program that was profiled can overflow ours, and nothing is held but
//! the flat columns.

use super::lexer::Lexer;
use super::v8::{corrupt, fit_u32, Records};
use crate::error::{ErrorKind, Result};
use crate::graph::HeapGraph;
use crate::traces::{TraceFunction, NO_PARENT};

pub(crate) fn read_functions(lex: &mut Lexer, fields: &[String], g: &mut HeapGraph) -> Result<()> {
    let at = |name: &str| fields.iter().position(|f| f == name);
    let (Some(ni), Some(si), Some(li), Some(ci)) =
        (at("name"), at("script_name"), at("line"), at("column"))
    else {
        // A layout we do not know: the stacks are an extra, not a reason to refuse the file.
        return lex.skip_value("trace_function_infos");
    };
    let mut records = Records::<16>::new(fields.len())?;
    let functions = &mut g.traces.functions;
    lex.read_uint_array("trace_function_infos", |vals| {
        records.feed(vals, |rec| {
            functions.push(TraceFunction {
                name: fit_u32(rec[ni], "a trace function's name")?,
                script_name: fit_u32(rec[si], "a trace function's script name")?,
                line: fit_u32(rec[li], "a trace function's line")?,
                column: fit_u32(rec[ci], "a trace function's column")?,
            });
            Ok(())
        })
    })?;
    if records.filled != 0 {
        return Err(ErrorKind::Truncated(format!(
            "'trace_function_infos' has {} values, which is not a whole number of {}-field records",
            records.values,
            fields.len()
        ))
        .into());
    }
    Ok(())
}

/// One open array of the tree: the node whose children it holds (`NO_PARENT` for the
/// top level), how many values it has had, and the current record's id and function.
struct Level {
    parent: u32,
    values: usize,
    id: u64,
    function: u64,
}

pub(crate) fn read_tree(lex: &mut Lexer, fields: &[String], g: &mut HeapGraph) -> Result<()> {
    let at = |name: &str| fields.iter().position(|f| f == name);
    let stride = fields.len();
    let (Some(ii), Some(fi), Some(ci)) = (at("id"), at("function_info_index"), at("children"))
    else {
        return lex.skip_value("trace_tree");
    };
    if ci < ii || ci < fi {
        // A node is stored when its children open; its id must be known by then.
        return lex.skip_value("trace_tree");
    }
    let inside = "in the 'trace_tree' array";
    lex.expect(b'[', "where the 'trace_tree' array should start")?;
    let mut stack = vec![Level {
        parent: NO_PARENT,
        values: 0,
        id: 0,
        function: 0,
    }];
    // Right after `[`: a value or `]`.
    let mut may_close = true;
    loop {
        let b = lex.next_token_byte()?;
        let level = stack.last_mut().expect("an open level");
        if may_close && b == Some(b']') {
            close(&mut stack, stride)?;
            if stack.is_empty() {
                return Ok(());
            }
            may_close = false;
            continue_after_value(lex, &mut stack, stride, &mut may_close, inside)?;
            if stack.is_empty() {
                return Ok(());
            }
            continue;
        }
        let field = level.values % stride;
        level.values += 1;
        match b {
            Some(b'[') if field == ci => {
                let function = level.function;
                let id = fit_u32(level.id, "a trace node id")?;
                let function = fit_u32(function, "a trace function index")?;
                let parent = level.parent;
                let node = g.traces.push_node(id, parent, function);
                stack.push(Level {
                    parent: node,
                    values: 0,
                    id: 0,
                    function: 0,
                });
                may_close = true;
                continue;
            }
            Some(d @ b'0'..=b'9') if field != ci => {
                let v = read_uint(lex, d)?;
                if field == ii {
                    level.id = v;
                } else if field == fi {
                    level.function = v;
                }
            }
            other => return Err(lex.unexpected(other, inside)),
        }
        may_close = false;
        continue_after_value(lex, &mut stack, stride, &mut may_close, inside)?;
        if stack.is_empty() {
            return Ok(());
        }
    }
}

/// After a value: `,` (another value follows) or `]` (closing this level, and possibly
/// more levels after it).
fn continue_after_value(
    lex: &mut Lexer,
    stack: &mut Vec<Level>,
    stride: usize,
    may_close: &mut bool,
    inside: &str,
) -> Result<()> {
    loop {
        match lex.next_token_byte()? {
            Some(b',') => {
                *may_close = false;
                return Ok(());
            }
            Some(b']') => {
                close(stack, stride)?;
                if stack.is_empty() {
                    return Ok(());
                }
            }
            other => return Err(lex.unexpected(other, inside)),
        }
    }
}

fn close(stack: &mut Vec<Level>, stride: usize) -> Result<()> {
    let level = stack.pop().expect("an open level");
    if level.values % stride != 0 {
        return Err(corrupt(format!(
            "a level of 'trace_tree' has {} values, which is not a whole number of {stride}-field records",
            level.values
        )));
    }
    Ok(())
}

fn read_uint(lex: &mut Lexer, first: u8) -> Result<u64> {
    let mut v = (first - b'0') as u64;
    while let Some(d @ b'0'..=b'9') = lex.peek()? {
        lex.next_byte()?;
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(|| corrupt("a number in 'trace_tree' is too large".into()))?;
    }
    Ok(v)
}

/// Checks what the traces point at, once the strings are known: functions name strings,
/// tree nodes name functions, ids are distinct.
pub(crate) fn validate(g: &mut HeapGraph) -> Result<()> {
    let strings = g.strings.len() as u32;
    let t = &mut g.traces;
    if let Some(f) = t
        .functions
        .iter()
        .find(|f| f.name >= strings || f.script_name >= strings)
    {
        return Err(corrupt(format!(
            "a trace function is named by string {}, but there are only {strings} strings",
            f.name.max(f.script_name)
        )));
    }
    let functions = t.functions.len() as u32;
    if let Some(&f) = t.function_of.iter().find(|&&f| f >= functions) {
        return Err(corrupt(format!(
            "a 'trace_tree' node names function {f}, but there are only {functions}"
        )));
    }
    if !t.finish() {
        return Err(corrupt("an id appears twice in 'trace_tree'".into()));
    }
    Ok(())
}
