//! Quantized weight matrices and their products with activations, for the engine's own
//! llama forward pass ([`llama`](crate::llama)).
//!
//! A [`QMatrix`] keeps a GGUF tensor's blocks exactly as the file stores them (Q4_0, Q4_1 or
//! Q8_0, 32 values per block); activations are quantized to 8 bits per value before a product
//! ([`quantize`], ggml's Q8_1: a scale and the scaled sum of each block), as llama.cpp does.
//! The dot products have an AVX2 path (chosen at run time, written with `pulp`'s safe
//! intrinsics) and a portable one; rows are split
//! over the current rayon pool (the engine's, sized by its thread setting).
//!
//! Why not candle's kernels: candle 0.11 computes Q4_1 with scalar code only, and each of its
//! operations allocates a tensor of its own; Q4_1 read as stored moves 96 MB per token for
//! SmolLM2-135M, against 143 MB when re-encoded as Q8_0 for candle's AVX2 kernel.

use candle_core::quantized::GgmlDType;
use half::f16;
use rayon::prelude::*;

/// Values per block.
pub(crate) const BLOCK: usize = 32;
/// Rows computed per rayon task.
const ROWS_PER_TASK: usize = 64;

/// A block of 32 activations quantized to 8 bits: `x ≈ d·q`; `s = d·Σq`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActBlock {
    d: f32,
    s: f32,
    qs: [i8; BLOCK],
}

/// Quantizes `x` (rows of a multiple of 32 values) into `out` as ggml's `quantize_row_q8_1`
/// does (scale: the block's largest magnitude / 127, kept as f16).
pub(crate) fn quantize(x: &[f32], out: &mut Vec<ActBlock>) {
    out.clear();
    out.extend(x.chunks_exact(BLOCK).map(|values| {
        let amax = values.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127.0;
        let inverse = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut qs = [0i8; BLOCK];
        let mut sum = 0i32;
        for (q, v) in qs.iter_mut().zip(values) {
            *q = (v * inverse).round() as i8;
            sum += i32::from(*q);
        }
        // The scale rounded to f16 as ggml stores it; the sum exact (ggml rounds it to f16
        // too, which would make Q4_0's `−8·d·Σq` term inexact).
        let d = f16::from_f32(d).to_f32();
        ActBlock { d, s: d * sum as f32, qs }
    }));
}

/// The block formats the own kernels compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `x = d·(q − 8)`, 4-bit q: f16 d, 16 bytes.
    Q4_0,
    /// `x = d·q + m`, 4-bit q: f16 d, f16 m, 16 bytes.
    Q4_1,
    /// `x = d·q`, signed 8-bit q: f16 d, 32 bytes.
    Q8_0,
}

impl Kind {
    fn of(dtype: GgmlDType) -> Option<Self> {
        match dtype {
            GgmlDType::Q4_0 => Some(Kind::Q4_0),
            GgmlDType::Q4_1 => Some(Kind::Q4_1),
            GgmlDType::Q8_0 => Some(Kind::Q8_0),
            _ => None,
        }
    }

    fn block_bytes(self) -> usize {
        match self {
            Kind::Q4_0 => 18,
            Kind::Q4_1 => 20,
            Kind::Q8_0 => 34,
        }
    }
}

/// A `rows × cols` matrix of quantized blocks, row-major, as stored in a GGUF file.
#[derive(Debug)]
pub(crate) struct QMatrix {
    kind: Kind,
    rows: usize,
    cols: usize,
    data: Vec<u8>,
}

/// Whether the own kernels compute tensors of `dtype`.
pub(crate) fn supported(dtype: GgmlDType) -> bool {
    Kind::of(dtype).is_some()
}

impl QMatrix {
    /// The matrix whose blocks are `data`; `None` if the type is not one of the own kernels'
    /// or the sizes disagree.
    pub(crate) fn new(dtype: GgmlDType, rows: usize, cols: usize, data: Vec<u8>) -> Option<Self> {
        let kind = Kind::of(dtype)?;
        let expected = rows.checked_mul(cols / BLOCK)?.checked_mul(kind.block_bytes())?;
        (cols.is_multiple_of(BLOCK) && data.len() == expected).then_some(Self {
            kind,
            rows,
            cols,
            data,
        })
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    fn row(&self, r: usize) -> &[u8] {
        let len = self.cols / BLOCK * self.kind.block_bytes();
        &self.data[r * len..(r + 1) * len]
    }

    /// Row `r` as f32 values (the embedding lookup).
    pub(crate) fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let bytes = self.kind.block_bytes();
        for (block, values) in self.row(r).chunks_exact(bytes).zip(out.chunks_exact_mut(BLOCK)) {
            let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
            match self.kind {
                Kind::Q8_0 => {
                    for (v, &q) in values.iter_mut().zip(&block[2..]) {
                        *v = d * f32::from(q as i8);
                    }
                }
                Kind::Q4_0 | Kind::Q4_1 => {
                    let (m, qs) = if self.kind == Kind::Q4_1 {
                        (f16::from_le_bytes([block[2], block[3]]).to_f32(), &block[4..])
                    } else {
                        (-8.0 * d, &block[2..])
                    };
                    for (j, &byte) in qs.iter().enumerate() {
                        values[j] = f32::from(byte & 0x0f) * d + m;
                        values[j + BLOCK / 2] = f32::from(byte >> 4) * d + m;
                    }
                }
            }
        }
    }

    /// `out[t][r] = row r · x[t]` for the `n` quantized activation rows in `x` (each
    /// `cols / 32` blocks); `out` holds `n × rows` values.
    pub(crate) fn matmul(&self, x: &[ActBlock], n: usize, out: &mut [f32]) {
        let per_row = self.cols / BLOCK;
        debug_assert_eq!(x.len(), n * per_row);
        debug_assert_eq!(out.len(), n * self.rows);
        let dot = Dot::new(self.kind);
        let compute = |first: usize, chunk: &mut [f32]| {
            // `chunk` holds rows first.. of every token, row-major by row.
            let tokens = |t: usize| &x[t * per_row..(t + 1) * per_row];
            for (i, values) in chunk.chunks_exact_mut(n).enumerate() {
                let row = self.row(first + i);
                // Four tokens at a time share each block's unpacking.
                for (g, group) in values.chunks_mut(4).enumerate() {
                    let t = g * 4;
                    if group.len() == 4 {
                        let xs = [tokens(t), tokens(t + 1), tokens(t + 2), tokens(t + 3)];
                        group.copy_from_slice(&dot.apply_many(row, xs));
                    } else {
                        for (j, v) in group.iter_mut().enumerate() {
                            *v = dot.apply(row, tokens(t + j));
                        }
                    }
                }
            }
        };
        let parallel = rayon::current_num_threads() > 1;
        if n == 1 {
            if parallel {
                out.par_chunks_mut(ROWS_PER_TASK)
                    .enumerate()
                    .for_each(|(c, chunk)| compute(c * ROWS_PER_TASK, chunk));
            } else {
                compute(0, out);
            }
            return;
        }
        // Several tokens (a prompt): each row is read once for all of them, into a
        // row-major `rows × n` buffer, then transposed.
        let mut by_row = vec![0f32; n * self.rows];
        if parallel {
            by_row
                .par_chunks_mut(ROWS_PER_TASK * n)
                .enumerate()
                .for_each(|(c, chunk)| compute(c * ROWS_PER_TASK, chunk));
        } else {
            compute(0, &mut by_row);
        }
        for (r, values) in by_row.chunks_exact(n).enumerate() {
            for (t, &v) in values.iter().enumerate() {
                out[t * self.rows + r] = v;
            }
        }
    }
}

/// The dot product of one row with one token's activations, on the fastest path this CPU has.
#[derive(Clone, Copy)]
struct Dot {
    kind: Kind,
    #[cfg(target_arch = "x86_64")]
    simd: Option<pulp::x86::V3>,
}

impl Dot {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            #[cfg(target_arch = "x86_64")]
            simd: pulp::x86::V3::try_new(),
        }
    }

    #[inline]
    fn apply(self, row: &[u8], x: &[ActBlock]) -> f32 {
        self.apply_many(row, [x])[0]
    }

    /// `row · xs[t]` for each of `N` tokens.
    #[inline]
    fn apply_many<const N: usize>(self, row: &[u8], xs: [&[ActBlock]; N]) -> [f32; N] {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = self.simd {
            return match self.kind {
                Kind::Q4_0 => avx2::dot_q4(simd, row, xs, false),
                Kind::Q4_1 => avx2::dot_q4(simd, row, xs, true),
                Kind::Q8_0 => avx2::dot_q8(simd, row, xs),
            };
        }
        xs.map(|x| self.portable(row, x))
    }

    fn portable(self, row: &[u8], x: &[ActBlock]) -> f32 {
        match self.kind {
            Kind::Q4_0 => portable::dot_q4(row, x, false),
            Kind::Q4_1 => portable::dot_q4(row, x, true),
            Kind::Q8_0 => portable::dot_q8_0(row, x),
        }
    }
}

mod portable {
    use super::{ActBlock, BLOCK, f16};

    /// Q4_0 (`with_min == false`) or Q4_1 blocks · activations.
    pub(super) fn dot_q4(row: &[u8], x: &[ActBlock], with_min: bool) -> f32 {
        let bytes = if with_min { 20 } else { 18 };
        let mut sum = 0f32;
        for (block, a) in row.chunks_exact(bytes).zip(x) {
            let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
            let (m, qs) = if with_min {
                (f16::from_le_bytes([block[2], block[3]]).to_f32(), &block[4..])
            } else {
                (-8.0 * d, &block[2..])
            };
            let mut dot = 0i32;
            for (j, &byte) in qs.iter().enumerate() {
                dot += i32::from(byte & 0x0f) * i32::from(a.qs[j]);
                dot += i32::from(byte >> 4) * i32::from(a.qs[j + BLOCK / 2]);
            }
            sum += d * a.d * dot as f32 + m * a.s;
        }
        sum
    }

    /// Q8_0 blocks · activations.
    pub(super) fn dot_q8_0(row: &[u8], x: &[ActBlock]) -> f32 {
        let mut sum = 0f32;
        for (block, a) in row.chunks_exact(34).zip(x) {
            let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
            let dot: i32 = block[2..]
                .iter()
                .zip(&a.qs)
                .map(|(&w, &q)| i32::from(w as i8) * i32::from(q))
                .sum();
            sum += d * a.d * dot as f32;
        }
        sum
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! AVX2 + FMA dot products, in the layout of ggml's `ggml_vec_dot_q4_1_q8_1` and
    //! `ggml_vec_dot_q8_0_q8_0`, through `pulp`'s safe intrinsics (the workspace forbids
    //! `unsafe`); `V3` proves at run time that the CPU has the instructions.
    use super::{ActBlock, f16};
    use pulp::cast;
    use pulp::x86::V3;
    use std::arch::x86_64::{__m128i, __m256, __m256i};

    fn total(v: __m256) -> f32 {
        let lanes: [f32; 8] = cast(v);
        lanes.iter().sum()
    }

    /// Q4_0 (`with_min == false`) or Q4_1 blocks · the activations of `N` tokens.
    #[inline]
    pub(super) fn dot_q4<const N: usize>(
        simd: V3,
        row: &[u8],
        xs: [&[ActBlock]; N],
        with_min: bool,
    ) -> [f32; N] {
        simd.vectorize(
            #[inline(always)]
            || {
                let (bytes, quants) = if with_min { (20, 4) } else { (18, 2) };
                let low = simd.avx._mm256_set1_epi8(0x0f);
                let ones = simd.avx._mm256_set1_epi16(1);
                let mut acc = [simd.avx._mm256_setzero_ps(); N];
                let mut mins = [0f32; N];
                for (b, block) in row.chunks_exact(bytes).enumerate() {
                    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
                    let m = if with_min {
                        f16::from_le_bytes([block[2], block[3]]).to_f32()
                    } else {
                        -8.0 * d
                    };
                    let packed: [u8; 16] =
                        block[quants..quants + 16].try_into().unwrap_or_default();
                    let packed: __m128i = cast(packed);
                    let q = simd.avx2._mm256_and_si256(
                        simd.avx._mm256_set_m128i(simd.sse2._mm_srli_epi16::<4>(packed), packed),
                        low,
                    );
                    for t in 0..N {
                        let Some(a) = xs[t].get(b) else { continue };
                        let y: __m256i = cast(a.qs);
                        let products =
                            simd.avx2._mm256_madd_epi16(simd.avx2._mm256_maddubs_epi16(q, y), ones);
                        acc[t] = simd.fma._mm256_fmadd_ps(
                            simd.avx._mm256_set1_ps(d * a.d),
                            simd.avx._mm256_cvtepi32_ps(products),
                            acc[t],
                        );
                        mins[t] += m * a.s;
                    }
                }
                std::array::from_fn(|t| total(acc[t]) + mins[t])
            },
        )
    }

    /// Q8_0 blocks · the activations of `N` tokens.
    #[inline]
    pub(super) fn dot_q8<const N: usize>(simd: V3, row: &[u8], xs: [&[ActBlock]; N]) -> [f32; N] {
        simd.vectorize(
            #[inline(always)]
            || {
                let ones = simd.avx._mm256_set1_epi16(1);
                let mut acc = [simd.avx._mm256_setzero_ps(); N];
                for (b, block) in row.chunks_exact(34).enumerate() {
                    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
                    let w: [u8; 32] = block[2..34].try_into().unwrap_or_default();
                    let w: __m256i = cast(w);
                    // maddubs takes one unsigned operand: |w| · (y with w's sign).
                    let magnitudes = simd.avx2._mm256_sign_epi8(w, w);
                    for t in 0..N {
                        let Some(a) = xs[t].get(b) else { continue };
                        let y: __m256i = cast(a.qs);
                        let products = simd.avx2._mm256_madd_epi16(
                            simd.avx2
                                ._mm256_maddubs_epi16(magnitudes, simd.avx2._mm256_sign_epi8(y, w)),
                            ones,
                        );
                        acc[t] = simd.fma._mm256_fmadd_ps(
                            simd.avx._mm256_set1_ps(d * a.d),
                            simd.avx._mm256_cvtepi32_ps(products),
                            acc[t],
                        );
                    }
                }
                std::array::from_fn(|t| total(acc[t]))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::QTensor;
    use candle_core::{Device, Tensor};

    /// A quantized `rows × cols` matrix of made-up values, and those values as stored.
    fn matrix(dtype: GgmlDType, rows: usize, cols: usize) -> (QMatrix, Vec<f32>) {
        let device = Device::Cpu;
        let values: Vec<f32> =
            (0..rows * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
        let t = QTensor::quantize(&Tensor::from_vec(values, (rows, cols), &device).unwrap(), dtype)
            .unwrap();
        let held = t.dequantize(&device).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        (QMatrix::new(dtype, rows, cols, t.data().unwrap().into_owned()).unwrap(), held)
    }

    #[test]
    fn rows_dequantize_as_candle_does() {
        for dtype in [GgmlDType::Q4_0, GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let (m, held) = matrix(dtype, 3, 64);
            let mut row = vec![0f32; 64];
            m.dequantize_row(2, &mut row);
            assert_eq!(row, held[128..], "{dtype:?}");
        }
    }

    #[test]
    fn products_match_the_dequantized_values_on_both_paths() {
        let (rows, cols, n) = (70, 96, 5);
        let x: Vec<f32> = (0..n * cols).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect();
        let mut blocks = Vec::new();
        quantize(&x, &mut blocks);
        for dtype in [GgmlDType::Q4_0, GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let (m, held) = matrix(dtype, rows, cols);
            let mut out = vec![0f32; n * rows];
            m.matmul(&blocks, n, &mut out);
            for t in 0..n {
                for r in 0..rows {
                    // Against the activations as quantized.
                    let a = |c: usize| {
                        let block = &blocks[t * 3 + c / BLOCK];
                        block.d * f32::from(block.qs[c % BLOCK])
                    };
                    let exact: f32 = (0..cols).map(|c| held[r * cols + c] * a(c)).sum();
                    let got = out[t * rows + r];
                    let tolerance = 1e-4 * (1.0 + exact.abs());
                    assert!((got - exact).abs() < tolerance, "{dtype:?} {got} {exact}");
                    let tokens = &blocks[t * 3..t * 3 + 3];
                    assert_eq!(got, Dot::new(m.kind).apply(m.row(r), tokens));
                    let four = Dot::new(m.kind).apply_many(m.row(r), [tokens; 4]);
                    assert_eq!(four, [got; 4]);
                    let portable = Dot::new(m.kind).portable(m.row(r), tokens);
                    assert!((portable - got).abs() <= 1e-4 * (1.0 + got.abs()), "{portable} {got}");
                }
            }
        }
    }

    #[test]
    fn sizes_that_disagree_are_refused() {
        assert!(QMatrix::new(GgmlDType::Q4_1, 2, 32, vec![0; 39]).is_none());
        assert!(QMatrix::new(GgmlDType::Q4_1, 2, 33, vec![0; 40]).is_none());
        assert!(QMatrix::new(GgmlDType::Q4K, 2, 256, vec![0; 288]).is_none());
        assert!(QMatrix::new(GgmlDType::Q4_1, 2, 32, vec![0; 40]).is_some());
    }
}
