//! Q4_1 weights re-encoded as Q8_0 while they load.
//!
//! candle's CPU backend has SIMD dot products for Q8_0, Q4_0 and the K-quants, but computes
//! Q4_1 (the embedded SmolLM2's type for its layer weights) with scalar code. K-quants need
//! rows of a multiple of 256 values (SmolLM2's are 576), and Q4_0 would lose precision (its
//! scale is symmetric, Q4_1's has an offset). Q8_0 holds every Q4_1 value almost exactly (a
//! rounding step of 1/254 of the block's largest magnitude, against Q4_1's own 1/15 of the
//! block's range), and its AVX2 kernel decodes about 20 % faster here for 1.7× the memory of
//! those tensors (`docs/benchmarks.md` has the figures).
//!
//! [`Requantized`] presents the GGUF file to candle's loader as if its Q4_1 tensors were
//! Q8_0: the header ([`gguf_file::Content`]) is rewritten with the new types and offsets, and
//! reads from the tensor data convert the Q4_1 blocks they cover as they go, a bounded chunk at
//! a time, so no second copy of the model is ever held in memory or written to disk.

use candle_core::quantized::{GgmlDType, gguf_file};
use half::f16;
use std::io::{self, Read, Seek, SeekFrom};

/// Values per Q4_1 or Q8_0 block.
const BLOCK: usize = 32;
/// Bytes of a Q4_1 block: scale and minimum (f16), 16 bytes of 4-bit values.
const Q4_1_BYTES: usize = 20;
/// Bytes of a Q8_0 block: scale (f16), 32 signed bytes.
const Q8_0_BYTES: usize = 34;
/// Blocks converted per read (bounds the scratch buffers to a few hundred KiB).
const CHUNK_BLOCKS: usize = 4096;

/// A tensor's bytes in the presented file.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Where the presented bytes start.
    start: u64,
    /// How many there are.
    len: u64,
    /// Where the tensor's bytes start in the real file.
    source: u64,
    /// `true`: Q4_1 in the file, Q8_0 as presented.
    convert: bool,
}

/// A GGUF file whose Q4_1 tensors read as Q8_0 (see the module documentation).
pub(crate) struct Requantized<R> {
    inner: R,
    /// Where the tensor data starts (the header before it is passed through unchanged).
    data_start: u64,
    /// Sorted by `start`, not overlapping.
    segments: Vec<Segment>,
    size: u64,
    pos: u64,
}

/// Rewrites `content`'s Q4_1 tensors as Q8_0 and returns the reader that presents them so;
/// `None` (and `content` untouched) when there is no Q4_1 tensor.
pub(crate) fn q4_1_as_q8_0<R: Read + Seek>(
    content: &mut gguf_file::Content,
    inner: R,
) -> Option<Requantized<R>> {
    let convertible = |info: &gguf_file::TensorInfo| {
        info.ggml_dtype == GgmlDType::Q4_1 && info.shape.elem_count().is_multiple_of(BLOCK)
    };
    if !content.tensor_infos.values().any(convertible) {
        return None;
    }
    let data_start = content.tensor_data_offset;
    let mut infos: Vec<(&String, &mut gguf_file::TensorInfo)> =
        content.tensor_infos.iter_mut().collect();
    infos.sort_by_key(|(name, info)| (info.offset, name.as_str()));
    let mut segments = Vec::with_capacity(infos.len());
    let mut next = 0u64;
    for (_, info) in infos {
        let elems = info.shape.elem_count();
        let convert = convertible(info);
        let len = if convert {
            info.ggml_dtype = GgmlDType::Q8_0;
            elems / BLOCK * Q8_0_BYTES
        } else {
            elems / info.ggml_dtype.block_size() * info.ggml_dtype.type_size()
        } as u64;
        let source = data_start.saturating_add(info.offset);
        info.offset = next;
        segments.push(Segment { start: data_start + next, len, source, convert });
        next = (next + len).next_multiple_of(BLOCK as u64);
    }
    Some(Requantized { inner, data_start, segments, size: data_start + next, pos: 0 })
}

impl<R: Read + Seek> Read for Requantized<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        let pos = self.pos;
        let n = if pos < self.data_start {
            // The header: as in the file.
            let want = buf.len().min((self.data_start - pos) as usize);
            self.inner.seek(SeekFrom::Start(pos))?;
            self.inner.read(&mut buf[..want])?
        } else {
            let at = self.segments.partition_point(|s| s.start + s.len <= pos);
            match self.segments.get(at).copied() {
                Some(s) if s.start <= pos => {
                    let offset = pos - s.start;
                    let want = buf.len().min((s.len - offset) as usize);
                    if s.convert {
                        self.convert(s, offset, &mut buf[..want])?
                    } else {
                        self.inner.seek(SeekFrom::Start(s.source + offset))?;
                        self.inner.read(&mut buf[..want])?
                    }
                }
                next => {
                    // Alignment padding between tensors.
                    let end = next.map_or(self.size, |s| s.start);
                    let want = buf.len().min((end - pos) as usize);
                    buf[..want].fill(0);
                    want
                }
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Requantized<R> {
    /// Fills `out` with the presented (Q8_0) bytes of segment `s` from `offset` on.
    fn convert(&mut self, s: Segment, offset: u64, out: &mut [u8]) -> io::Result<usize> {
        let first = (offset / Q8_0_BYTES as u64) as usize;
        let skip = (offset % Q8_0_BYTES as u64) as usize;
        let total = (s.len / Q8_0_BYTES as u64) as usize;
        let blocks = (skip + out.len()).div_ceil(Q8_0_BYTES).min(CHUNK_BLOCKS).min(total - first);
        let mut packed = vec![0u8; blocks * Q4_1_BYTES];
        self.inner.seek(SeekFrom::Start(s.source + (first * Q4_1_BYTES) as u64))?;
        self.inner.read_exact(&mut packed)?;
        let mut converted = vec![0u8; blocks * Q8_0_BYTES];
        for (from, to) in
            packed.chunks_exact(Q4_1_BYTES).zip(converted.chunks_exact_mut(Q8_0_BYTES))
        {
            q4_1_block_to_q8_0(from, to);
        }
        let n = out.len().min(converted.len() - skip);
        out[..n].copy_from_slice(&converted[skip..skip + n]);
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Requantized<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"));
        };
        self.pos = target;
        Ok(target)
    }
}

/// One block: Q4_1 (`x = d·q + m`, q in 0..16; low nibbles are values 0–15, high nibbles
/// 16–31) to Q8_0 (`x = d'·q'`, q' in -127..=127), as ggml's `quantize_row_q8_0` rounds.
fn q4_1_block_to_q8_0(from: &[u8], to: &mut [u8]) {
    let d = f16::from_le_bytes([from[0], from[1]]).to_f32();
    let m = f16::from_le_bytes([from[2], from[3]]).to_f32();
    let mut values = [0f32; BLOCK];
    for (j, &byte) in from[4..Q4_1_BYTES].iter().enumerate() {
        values[j] = f32::from(byte & 0x0f) * d + m;
        values[j + BLOCK / 2] = f32::from(byte >> 4) * d + m;
    }
    let amax = values.iter().fold(0f32, |a, v| a.max(v.abs()));
    let scale = amax / 127.0;
    let inverse = if scale != 0.0 { 1.0 / scale } else { 0.0 };
    to[..2].copy_from_slice(&f16::from_f32(scale).to_le_bytes());
    for (q, v) in to[2..].iter_mut().zip(values) {
        *q = ((v * inverse).round() as i8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{QTensor, gguf_file};
    use candle_core::{Device, Tensor};
    use std::io::Cursor;

    /// A GGUF with a Q4_1 matrix between two f32 vectors, and the values it holds.
    fn sample() -> (Vec<u8>, Vec<f32>) {
        let device = Device::Cpu;
        let values: Vec<f32> = (0..4 * 64).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
        let matrix = Tensor::from_vec(values, (4, 64), &device).unwrap();
        let q4_1 = QTensor::quantize(&matrix, GgmlDType::Q4_1).unwrap();
        let held = q4_1.dequantize(&device).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let norm = QTensor::quantize(
            &Tensor::ones(64, candle_core::DType::F32, &device).unwrap(),
            GgmlDType::F32,
        )
        .unwrap();
        let bias = QTensor::quantize(&Tensor::arange(0f32, 32., &device).unwrap(), GgmlDType::F32)
            .unwrap();
        let arch = gguf_file::Value::String("llama".into());
        let mut file = Cursor::new(Vec::new());
        gguf_file::write(
            &mut file,
            &[("general.architecture", &arch)],
            &[("a.norm", &norm), ("b.matrix", &q4_1), ("c.bias", &bias)],
        )
        .unwrap();
        (file.into_inner(), held)
    }

    #[test]
    fn q4_1_tensors_read_as_q8_0_with_the_same_values() {
        let (bytes, held) = sample();
        let mut file = Cursor::new(bytes);
        let mut content = gguf_file::Content::read(&mut file).unwrap();
        let mut reader = q4_1_as_q8_0(&mut content, file).expect("a Q4_1 tensor");
        let device = Device::Cpu;
        let matrix = content.tensor(&mut reader, "b.matrix", &device).unwrap();
        assert_eq!(matrix.dtype(), GgmlDType::Q8_0);
        let read: Vec<f32> =
            matrix.dequantize(&device).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(read.len(), held.len());
        for (block, (r, h)) in read.chunks(BLOCK).zip(held.chunks(BLOCK)).enumerate() {
            let amax = h.iter().fold(0f32, |a, v| a.max(v.abs()));
            for (x, y) in r.iter().zip(h) {
                assert!((x - y).abs() <= amax / 200.0, "block {block}: {x} vs {y}");
            }
        }
        // The other tensors pass through unchanged.
        let bias = content.tensor(&mut reader, "c.bias", &device).unwrap();
        let bias: Vec<f32> = bias.dequantize(&device).unwrap().to_vec1().unwrap();
        assert_eq!(bias, (0..32).map(|i| i as f32).collect::<Vec<_>>());
        let norm = content.tensor(&mut reader, "a.norm", &device).unwrap();
        assert_eq!(norm.dequantize(&device).unwrap().to_vec1::<f32>().unwrap(), vec![1f32; 64]);
    }

    #[test]
    fn reads_of_any_size_and_position_agree() {
        let (bytes, _) = sample();
        let mut file = Cursor::new(bytes);
        let mut content = gguf_file::Content::read(&mut file).unwrap();
        let mut reader = q4_1_as_q8_0(&mut content, file).unwrap();
        let size = reader.seek(SeekFrom::End(0)).unwrap();
        reader.seek(SeekFrom::Start(0)).unwrap();
        let mut whole = Vec::new();
        reader.read_to_end(&mut whole).unwrap();
        assert_eq!(whole.len() as u64, size);
        for (start, len) in [(content.tensor_data_offset + 33, 70), (1, 5), (size - 3, 10)] {
            reader.seek(SeekFrom::Start(start)).unwrap();
            let mut part = vec![0u8; len];
            let n = reader.read(&mut part).unwrap();
            assert!(n > 0);
            assert_eq!(part[..n], whole[start as usize..start as usize + n]);
        }
        assert!(reader.seek(SeekFrom::Current(-(size as i64) - 1)).is_err());
    }

    #[test]
    fn files_without_q4_1_are_left_alone() {
        let device = Device::Cpu;
        let t = QTensor::quantize(
            &Tensor::ones(64, candle_core::DType::F32, &device).unwrap(),
            GgmlDType::F32,
        )
        .unwrap();
        let mut file = Cursor::new(Vec::new());
        gguf_file::write(&mut file, &[], &[("x", &t)]).unwrap();
        file.set_position(0);
        let mut content = gguf_file::Content::read(&mut file).unwrap();
        assert!(q4_1_as_q8_0(&mut content, file).is_none());
        assert_eq!(content.tensor_infos["x"].ggml_dtype, GgmlDType::F32);
    }
}
