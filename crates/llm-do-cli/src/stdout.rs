//! Results on stdout without a panic when the reader has gone.
//!
//! `println!` panics when a write fails. A closed pipe is how the next program says it has
//! read enough (`llm-do run … | head -1`, a pager quit early), so the output ends there
//! quietly and the command keeps its exit code. Any other failure (a full disk behind a
//! redirection) is reported on stderr, since the output is incomplete. The CLI writes stdout
//! through [`outln!`] and [`out!`] only.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write as _};

/// `println!` through [`write`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Writes `text` to stdout and flushes it; a closed pipe ends the output silently.
pub(crate) fn write(text: Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush())
        && e.kind() != ErrorKind::BrokenPipe
    {
        let _ = writeln!(std::io::stderr(), "llm-do: the output could not be written: {e}");
    }
}
