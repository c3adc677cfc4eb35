//! Decoding a PDF stream's filters with a cap on the output, for the filters `lopdf` decodes
//! (Flate, LZW, ASCII85, PNG predictors) and with the same results: `lopdf`'s own
//! `Stream::decompressed_content` reads to the end whatever the size.

use std::borrow::Cow;
use std::io::{self, Read, Write};

use lopdf::{Dictionary, Object, Stream};

/// Why a stream was not decoded.
#[derive(Debug)]
pub(super) enum Stop {
    /// The decoded bytes would exceed the cap.
    OverCap,
    /// A PNG predictor row wider than the data: `lopdf` would allocate two rows of that width
    /// (chosen by the file) before failing.
    BadPredictor,
}

/// The decoded content of `stream`, at most `cap` bytes. `Ok(None)`: `lopdf` could not
/// decode it either (a filter it does not know, a damaged ASCII85 or predictor stream).
pub(super) fn decode(stream: &Stream, cap: usize) -> Result<Option<Vec<u8>>, Stop> {
    let filters = match stream.filters() {
        Ok(filters) if !filters.is_empty() => filters,
        _ => return capped(stream.content.clone(), cap).map(Some),
    };
    let params = stream.dict.get(b"DecodeParms").and_then(Object::as_dict).ok();
    let mut data = Cow::Borrowed(stream.content.as_slice());
    for filter in filters {
        let out = match filter {
            b"FlateDecode" => predictor(inflate(&data, cap)?, params)?,
            b"LZWDecode" => predictor(lzw(&data, params, cap)?, params)?,
            b"ASCII85Decode" => ascii85(&data, cap)?,
            _ => return Ok(None),
        };
        match out {
            Some(out) => data = Cow::Owned(out),
            None => return Ok(None),
        }
    }
    capped(data.into_owned(), cap).map(Some)
}

fn capped(data: Vec<u8>, cap: usize) -> Result<Vec<u8>, Stop> {
    if data.len() > cap { Err(Stop::OverCap) } else { Ok(data) }
}

/// Zlib, then (as `lopdf` does when zlib yields nothing) raw deflate after the 2-byte header.
fn inflate(input: &[u8], cap: usize) -> Result<Vec<u8>, Stop> {
    use flate2::read::{DeflateDecoder, ZlibDecoder};
    let limit = cap as u64 + 1;
    let mut out = Vec::new();
    if input.is_empty() {
        return Ok(out);
    }
    let zlib = ZlibDecoder::new(input).take(limit).read_to_end(&mut out);
    if zlib.is_err() && out.is_empty() && input.len() > 2 {
        let _ = DeflateDecoder::new(&input[2..]).take(limit).read_to_end(&mut out);
    }
    capped(out, cap)
}

/// A writer that refuses to hold more than `cap` bytes.
struct CappedWriter {
    out: Vec<u8>,
    cap: usize,
    over: bool,
}

impl Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.len() + buf.len() > self.cap {
            self.over = true;
            return Err(io::Error::other("over the cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn lzw(input: &[u8], params: Option<&Dictionary>, cap: usize) -> Result<Vec<u8>, Stop> {
    use weezl::{BitOrder, decode::Decoder};
    let early_change = params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|p| p.as_i64().ok())
        .is_none_or(|v| v != 0);
    let mut decoder = if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    };
    let mut out = CappedWriter { out: Vec::new(), cap, over: false };
    // A decoding error keeps what was decoded, as in `lopdf`.
    let _ = decoder.into_stream(&mut out).decode_all(input);
    if out.over { Err(Stop::OverCap) } else { Ok(out.out) }
}

/// PNG predictors (10 to 15), through `lopdf`'s own `decode_frame` once the row width is known
/// to be small; the output is never longer than the input.
fn predictor(data: Vec<u8>, params: Option<&Dictionary>) -> Result<Option<Vec<u8>>, Stop> {
    let Some(params) = params else { return Ok(Some(data)) };
    let int =
        |key: &[u8], default: i64| params.get(key).and_then(Object::as_i64).unwrap_or(default);
    if !(10..=15).contains(&int(b"Predictor", 1)) {
        return Ok(Some(data));
    }
    let columns = int(b"Columns", 1).max(1) as u64;
    let colors = int(b"Colors", 1).max(1) as u64;
    let bits = int(b"BitsPerComponent", 8).max(8) as u64;
    let row = colors
        .checked_mul(bits)
        .map(|b| b / 8)
        .and_then(|bytes_per_pixel| bytes_per_pixel.checked_mul(columns));
    match row {
        // A row wider than the data fails in `decode_frame`; up to 64 KiB it is cheap to try.
        Some(row) if row <= (data.len() as u64).max(1 << 16) => {
            let (bpp, columns) = ((colors * bits / 8) as usize, columns as usize);
            Ok(lopdf::filters::png::decode_frame(&data, bpp, columns).ok())
        }
        _ => Err(Stop::BadPredictor),
    }
}

/// ASCII85 through `lopdf`, once an upper bound of its output fits the cap: every `z` gives 4
/// bytes, every other group of 5 digits 4.
fn ascii85(input: &[u8], cap: usize) -> Result<Option<Vec<u8>>, Stop> {
    let zs = input.iter().filter(|&&b| b == b'z').count();
    let digits = input.iter().filter(|b| (b'!'..=b'u').contains(*b)).count();
    if zs.saturating_mul(4).saturating_add(digits / 5 * 4 + 4) > cap {
        return Err(Stop::OverCap);
    }
    let mut dict = Dictionary::new();
    dict.set("Filter", "ASCII85Decode");
    Ok(Stream::new(dict, input.to_vec()).decompressed_content().ok())
}
