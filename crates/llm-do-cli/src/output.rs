//! The CLI's stdout and stderr, written without a panic when the reader has gone.
//!
//! `println!` and `eprintln!` panic when a write fails. A closed pipe is how the next program
//! says it has read enough (`llm-do run … | head -1`, `2>&1 | head`, a pager quit early), so
//! the output ends there quietly and the command goes on to its end and its exit code (a
//! panic in the middle of a run would have skipped its orderly end). Any other failure to
//! write stdout (a full disk behind a redirection) is reported on stderr, since the result is
//! incomplete; a failure to write stderr has nowhere to be reported. The CLI writes through
//! [`outln!`], [`out!`], [`errln!`] and [`err!`] only.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// `println!` through [`stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` through [`stderr`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` through [`stderr`].
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!($($arg)*))
    };
}

pub(crate) use {err, errln, out, outln};

/// Writes `text` to stdout and flushes it; a closed pipe ends the output silently.
pub(crate) fn stdout(text: Arguments<'_>) {
    if let Err(e) = write_all(&mut std::io::stdout().lock(), text)
        && e.kind() != ErrorKind::BrokenPipe
    {
        stderr(format_args!("llm-do: the output could not be written: {e}\n"));
    }
}

/// Writes `text` to stderr; a failure is dropped (there is nowhere left to report it).
pub(crate) fn stderr(text: Arguments<'_>) {
    let _ = write_all(&mut std::io::stderr().lock(), text);
}

fn write_all(to: &mut impl Write, text: Arguments<'_>) -> std::io::Result<()> {
    to.write_fmt(text)?;
    to.flush()
}
