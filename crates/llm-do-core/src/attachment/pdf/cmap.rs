//! How many character codes the `bfrange` sections of a ToUnicode CMap span. `lopdf` builds a
//! reverse map with one entry per code of every range (a 40-byte CMap can name 2^32 codes), so
//! the total is counted before `lopdf` parses the CMap.

/// An upper bound of the codes `lopdf` visits for this (decoded) CMap: the sum of `hi - lo + 1`
/// over the `<lo> <hi> target` entries of its `bfrange` sections. The scan accepts more than
/// `lopdf`'s parser, never less, so a CMap `lopdf` reads is never under-counted.
pub(super) fn range_codes(cmap: &[u8]) -> u64 {
    let mut total = 0u64;
    let mut in_ranges = false;
    // The codes of the entry being read (`None`: an array or a code too long for `lopdf`).
    let mut entry: Vec<Option<u64>> = Vec::with_capacity(3);
    let mut i = 0;
    while i < cmap.len() {
        let item = match cmap[i] {
            b'%' => {
                i = skip_until(cmap, i, |b| b == b'\n' || b == b'\r');
                continue;
            }
            b'(' => {
                i = skip_literal_string(cmap, i);
                continue;
            }
            b'<' if cmap.get(i + 1) == Some(&b'<') => {
                i += 2;
                continue;
            }
            b'<' => {
                let end = skip_until(cmap, i, |b| b == b'>');
                let digits: Vec<u8> =
                    cmap[i + 1..end].iter().copied().filter(u8::is_ascii_hexdigit).collect();
                i = end + 1;
                (digits.len() <= 8).then(|| {
                    digits
                        .iter()
                        .fold(0u64, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0) as u64)
                })
            }
            b'[' => {
                i = skip_until(cmap, i, |b| b == b']') + 1;
                None
            }
            b if b.is_ascii_alphabetic() => {
                let end = skip_until(cmap, i, |b| !b.is_ascii_alphanumeric());
                match &cmap[i..end] {
                    b"beginbfrange" => in_ranges = true,
                    b"endbfrange" => in_ranges = false,
                    _ => {}
                }
                entry.clear();
                i = end;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if !in_ranges {
            continue;
        }
        entry.push(item);
        if entry.len() == 3 {
            if let (Some(lo), Some(hi)) = (entry[0], entry[1])
                && hi >= lo
            {
                total = total.saturating_add(hi - lo + 1);
            }
            entry.clear();
        }
    }
    total
}

/// The index of the first byte after `start` that `stop` accepts, or the length.
fn skip_until(bytes: &[u8], start: usize, stop: impl Fn(u8) -> bool) -> usize {
    bytes[start + 1..].iter().position(|&b| stop(b)).map_or(bytes.len(), |p| start + 1 + p)
}

/// The index after the literal string opening at `start` (nested parentheses, escapes).
fn skip_literal_string(bytes: &[u8], start: usize) -> usize {
    let (mut depth, mut i) = (0usize, start);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::range_codes;

    #[test]
    fn counts_ranges_and_ignores_chars_comments_and_strings() {
        let cmap = b"/CIDSystemInfo << /Registry (beginbfrange <00> <FF> <00>) >> def\n\
            1 beginbfchar\n<0003> <0020>\nendbfchar\n\
            % <0000> <FFFF> <0000>\n\
            2 beginbfrange\n<0020> <007E> <0020>\n<0100> <01FF> [<0041> <0042>]\nendbfrange\n";
        assert_eq!(range_codes(cmap), 95 + 256);
    }

    #[test]
    fn a_four_byte_range_spans_all_codes() {
        assert_eq!(range_codes(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange"), 1 << 32);
    }
}
