//! Cutting an event stream at line ends, for the event reader (see [`super`]'s documentation
//! for why).

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Cuts a byte stream into pieces that end at a line end (`\n` or `\r`), holding a line that
/// has not ended yet: each piece is one line, or whole lines of at most [`Lines::BATCH`] bytes.
#[derive(Debug, Default)]
pub(super) struct Lines {
    /// The start of a line that has not ended yet.
    partial: BytesMut,
}

impl Lines {
    /// The most bytes of several lines in one piece (a longer line is a piece of its own).
    const BATCH: usize = 1024;

    /// Adds the pieces of `bytes` that end at a line end to `ready`, and keeps the rest.
    pub(super) fn split(&mut self, bytes: &Bytes, ready: &mut VecDeque<Bytes>) {
        let ends = |b: &u8| matches!(b, b'\n' | b'\r');
        let Some(last) = bytes.iter().rposition(ends) else {
            self.partial.extend_from_slice(bytes);
            return;
        };
        // The start of the piece not passed on yet, and of the line at hand.
        let (mut start, mut line) = (0, 0);
        for at in (0..=last).filter(|&at| ends(&bytes[at])) {
            if !self.partial.is_empty() {
                self.partial.extend_from_slice(&bytes[..=at]);
                ready.push_back(self.partial.split().freeze());
                (start, line) = (at + 1, at + 1);
                continue;
            }
            if at + 1 - start > Self::BATCH && line > start {
                // A long line after short ones: the short ones first.
                ready.push_back(bytes.slice(start..line));
                start = line;
            }
            if at + 1 - start >= Self::BATCH || at == last {
                ready.push_back(bytes.slice(start..=at));
                start = at + 1;
            }
            line = at + 1;
        }
        self.partial.extend_from_slice(&bytes[start..]);
    }

    /// What is left at the end of the stream: a last line without its end.
    pub(super) fn rest(&mut self) -> Option<Bytes> {
        (!self.partial.is_empty()).then(|| self.partial.split().freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_passed_on_whole_and_long_ones_alone() {
        let long = "d".repeat(3 * Lines::BATCH);
        let text = format!("a\n\nb\r\n{long}\r\n{}\n{long}\nc\rtail", "e\n".repeat(Lines::BATCH));
        for size in [1, 2, 7, 100, 5000, text.len()] {
            let mut lines = Lines::default();
            let mut ready = VecDeque::new();
            for piece in text.as_bytes().chunks(size) {
                lines.split(&Bytes::copy_from_slice(piece), &mut ready);
            }
            let passed: Vec<Bytes> = ready.into_iter().collect();
            let joined: Vec<u8> = passed.iter().flat_map(|p| p.iter().copied()).collect();
            assert_eq!([joined, lines.rest().unwrap().to_vec()].concat(), text.as_bytes());
            for piece in &passed {
                let ends = piece.iter().filter(|b| matches!(b, b'\n' | b'\r')).count();
                assert!(matches!(piece.last(), Some(b'\n' | b'\r')), "size {size}");
                // Whole lines of at most BATCH bytes, or one line (`\r\n` may be two pieces).
                assert!(piece.len() <= Lines::BATCH || ends == 1, "size {size}: {piece:?}");
            }
        }
    }
}
