//! Stop sequences ([`ModelSettings::stop`](llm_do_core::ModelSettings::stop)) over a text
//! that is generated piece by piece: the text ends before the first stop sequence it
//! contains, and no piece that could be the start of one is let out before it is known not to
//! be (a stop sequence may be cut between two tokens).

/// Scans the pieces of one answer for its stop sequences.
#[derive(Debug, Default)]
pub(crate) struct StopScan {
    stops: Vec<String>,
    /// Text not let out yet: it may be the start of a stop sequence.
    held: String,
}

/// What a piece gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scanned {
    /// Text that may be let out now (maybe empty); go on.
    Go(String),
    /// A stop sequence was reached: the text before it, and the answer ends here.
    Stop(String),
}

impl StopScan {
    /// A scan for `stops` (empty strings are ignored; none: every piece goes out as it is).
    pub(crate) fn new(stops: &[String]) -> Self {
        StopScan {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    /// Takes the next piece of the answer (without stop sequences, it goes out as it is).
    pub(crate) fn push(&mut self, piece: String) -> Scanned {
        if self.stops.is_empty() {
            return Scanned::Go(piece);
        }
        self.held.push_str(&piece);
        let first = self.stops.iter().filter_map(|s| self.held.find(s.as_str())).min();
        if let Some(at) = first {
            self.held.truncate(at);
            return Scanned::Stop(std::mem::take(&mut self.held));
        }
        // Hold back the longest end of the text that begins some stop sequence.
        let keep = self
            .held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| self.stops.iter().any(|s| s.starts_with(&self.held[i..])))
            .unwrap_or(self.held.len());
        let rest = self.held.split_off(keep);
        Scanned::Go(std::mem::replace(&mut self.held, rest))
    }

    /// The end of the answer: the text held back (it began no stop sequence after all).
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces' text as let out, and whether a stop sequence ended it.
    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut scan = StopScan::new(&stops);
        let mut out = String::new();
        for piece in pieces {
            match scan.push(piece.to_string()) {
                Scanned::Go(text) => out.push_str(&text),
                Scanned::Stop(text) => return (out + &text, true),
            }
        }
        (out + &scan.finish(), false)
    }

    #[test]
    fn the_text_ends_before_the_first_stop_sequence_even_one_cut_between_pieces() {
        assert_eq!(run(&["\n\n"], &["one\n", "\ntwo"]), ("one".into(), true));
        assert_eq!(run(&["END", "stop"], &["a st", "op b END"]), ("a ".into(), true));
        assert_eq!(
            run(&["Observation:"], &["Thought: x\nObserv", "ation: y"]),
            ("Thought: x\n".into(), true)
        );
        // A prefix that turns out not to be one is let out whole, in order.
        assert_eq!(run(&["END"], &["the EN", "D", ""]), ("the ".into(), true));
        assert_eq!(run(&["END"], &["the EN", "ding"]), ("the ENding".into(), false));
        assert_eq!(run(&["END"], &["no stop, EN"]), ("no stop, EN".into(), false));
        assert_eq!(run(&[], &["as ", "is"]), ("as is".into(), false));
        assert_eq!(run(&["é!"], &["caf", "é", "!", "x"]), ("caf".into(), true));
    }

    #[test]
    fn nothing_that_may_begin_a_stop_sequence_is_let_out_early() {
        let stops = vec!["\n\nUser:".to_owned()];
        let mut scan = StopScan::new(&stops);
        assert_eq!(scan.push("Hi.\n".into()), Scanned::Go("Hi.".into()));
        assert_eq!(scan.push("\nUs".into()), Scanned::Go(String::new()));
        assert_eq!(scan.push("er:".into()), Scanned::Stop(String::new()));
    }
}
