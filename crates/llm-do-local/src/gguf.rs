//! Structural checks of a GGUF file, before the model loader sees it.
//!
//! A loader that trusts the header allocates what its lengths say and fails late, with a
//! message that names no file. [`inspect`] reads the whole header — magic number,
//! version, every metadata entry, every tensor description — with every length and offset
//! checked against the file size, and checks that the tensor data the header describes is all
//! in the file. A truncated download, a file that is not GGUF, or a header whose lengths or
//! offsets are corrupt is reported as a [`LocalError::InvalidGguf`] naming the problem, and is
//! never handed to the loader. It also checks that the vocabulary has no duplicate tokens and
//! that the metadata values loaders and the tokenizer trust are in range (layer and expert
//! counts; the beginning- and end-of-sequence token ids, which must name tokens of the
//! vocabulary), and, for the architectures the engine runs, that the hyperparameters the
//! loaders size their buffers by (embedding width, vocabulary, heads, head width) agree with
//! the tensors, and that every tensor the loader reads has the shape they describe
//! (projections, norms, biases): see `gguf/metadata.rs` and `gguf/shapes.rs`. Model files
//! are opened by `open` (`gguf/file.rs`): only regular files, never waiting on a FIFO.
//!
//! (Over 400 lines: about 150 of them are the tests of the header reader.)
//!
//! Corruption *inside* tensor data cannot be detected this way (GGUF has no checksums): such a
//! file loads and produces garbage. The embedded default model is protected by its pinned
//! SHA-256 instead.

#[cfg(test)]
pub(crate) mod craft;
mod file;
mod metadata;
mod shapes;

use crate::error::LocalError;
pub(crate) use file::open;
use metadata::{check_hyperparameters, check_token_ids};
use shapes::check_shapes;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What the header of a well-formed GGUF file says.
///
/// ```no_run
/// use llm_do_local::gguf;
/// let info = gguf::inspect("model.gguf".as_ref())?;
/// println!("{} tensors, architecture {:?}", info.tensors, info.architecture);
/// # Ok::<(), llm_do_local::LocalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GgufInfo {
    /// GGUF format version (2 or 3).
    pub version: u32,
    /// Number of tensors.
    pub tensors: u64,
    /// Number of metadata entries.
    pub metadata: u64,
    /// `general.architecture`, e.g. `llama`.
    pub architecture: Option<String>,
    /// `general.name`, if the file has one.
    pub name: Option<String>,
    /// Size of the file in bytes.
    pub file_size: u64,
}

/// Reads and checks the header of the GGUF file at `path` (see the module documentation).
///
/// ```
/// use llm_do_local::{gguf, LocalError};
/// let dir = std::env::temp_dir().join(format!("llm-do-gguf-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("not-a-model.gguf");
/// std::fs::write(&path, b"hello").unwrap();
/// assert!(matches!(gguf::inspect(&path), Err(LocalError::InvalidGguf { .. })));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn inspect(path: &Path) -> Result<GgufInfo, LocalError> {
    let invalid = |reason: String| LocalError::InvalidGguf { path: path.to_owned(), reason };
    let (file, len) = open(path)?;
    let mut r = Reader { inner: BufReader::new(file), pos: 0, len };
    read_header(&mut r).map_err(invalid)
}

struct Reader {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Reader {
    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, String> {
        if n > self.remaining() {
            return Err(truncated(self.len, what));
        }
        let mut buf = vec![0u8; n as usize];
        self.inner.read_exact(&mut buf).map_err(|e| format!("reading {what}: {e}"))?;
        self.pos += n;
        Ok(buf)
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        if n > self.remaining() {
            return Err(truncated(self.len, what));
        }
        let offset = i64::try_from(n).map_err(|_| truncated(self.len, what))?;
        self.inner.seek(SeekFrom::Current(offset)).map_err(|e| format!("reading {what}: {e}"))?;
        self.pos += n;
        Ok(())
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self, what: &str) -> Result<Vec<u8>, String> {
        let n = self.u64(what)?;
        self.bytes(n, what)
    }
}

fn truncated(len: u64, what: &str) -> String {
    format!("the file ends early ({len} bytes) while reading {what}: it is truncated or corrupt")
}

/// Metadata value types of the GGUF format.
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

/// Size in bytes of a fixed-size metadata value type, `None` for strings, arrays and unknown
/// types.
fn scalar_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1), // u8, i8, bool
        2 | 3 => Some(2),     // u16, i16
        4..=6 => Some(4),     // u32, i32, f32
        10..=12 => Some(8),   // u64, i64, f64
        _ => None,
    }
}

/// (block size, bytes per block) of the ggml tensor types a GGUF file may use.
fn tensor_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),      // f32
        1 => (1, 2),      // f16
        2 => (32, 18),    // q4_0
        3 => (32, 20),    // q4_1
        6 => (32, 22),    // q5_0
        7 => (32, 24),    // q5_1
        8 => (32, 34),    // q8_0
        9 => (32, 36),    // q8_1
        10 => (256, 84),  // q2_K
        11 => (256, 110), // q3_K
        12 => (256, 144), // q4_K
        13 => (256, 176), // q5_K
        14 => (256, 210), // q6_K
        15 => (256, 292), // q8_K
        16 => (256, 66),  // iq2_xxs
        17 => (256, 74),  // iq2_xs
        18 => (256, 98),  // iq3_xxs
        19 => (256, 50),  // iq1_s
        20 => (32, 18),   // iq4_nl
        21 => (256, 110), // iq3_s
        22 => (256, 82),  // iq2_s
        23 => (256, 136), // iq4_xs
        24 => (1, 1),     // i8
        25 => (1, 2),     // i16
        26 => (1, 4),     // i32
        27 => (1, 8),     // i64
        28 => (1, 8),     // f64
        29 => (256, 56),  // iq1_m
        30 => (1, 2),     // bf16
        34 => (256, 54),  // tq1_0
        35 => (256, 66),  // tq2_0
        39 => (32, 17),   // mxfp4
        40 => (64, 36),   // nvfp4
        41 => (128, 18),  // q1_0
        42 => (64, 18),   // q2_0
        _ => return None,
    })
}

fn read_header(r: &mut Reader) -> Result<GgufInfo, String> {
    let magic = r
        .bytes(4, "the magic number")
        .map_err(|_| format!("the file is {} bytes long, too short to be a GGUF model", r.len))?;
    if magic != b"GGUF" {
        return Err("it does not start with the GGUF magic number (is it a model file?)".into());
    }
    let version = r.u32("the version")?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version} (supported: 2 and 3)"));
    }
    let tensors = r.u64("the tensor count")?;
    let metadata = r.u64("the metadata count")?;
    // Each metadata entry takes at least 12 bytes, each tensor description at least 28.
    if metadata.saturating_mul(12) > r.remaining() {
        return Err(format!(
            "the header claims {metadata} metadata entries, more than the file holds"
        ));
    }
    if tensors.saturating_mul(28) > r.remaining() {
        return Err(format!("the header claims {tensors} tensors, more than the file holds"));
    }

    let mut architecture = None;
    let mut name = None;
    let mut alignment: u64 = 32;
    let mut keys = HashSet::new();
    let mut integers: Vec<(String, u64)> = Vec::new();
    let mut vocab: Option<u64> = None;
    for i in 0..metadata {
        let key = r.string(&format!("the key of metadata entry {i}"))?;
        let key = String::from_utf8_lossy(&key).into_owned();
        if !keys.insert(key.clone()) {
            return Err(format!("the metadata key `{key}` appears twice"));
        }
        let what = format!("metadata `{key}`");
        let t = r.u32(&what)?;
        match t {
            TYPE_STRING => {
                let value = r.string(&what)?;
                let value = String::from_utf8_lossy(&value).into_owned();
                match key.as_str() {
                    "general.architecture" => architecture = Some(value),
                    "general.name" => name = Some(value),
                    _ => {}
                }
            }
            TYPE_ARRAY => {
                let elem = r.u32(&what)?;
                let n = r.u64(&what)?;
                if elem == TYPE_STRING {
                    if n.saturating_mul(8) > r.remaining() {
                        return Err(truncated(r.len, &what));
                    }
                    let check_unique = key == "tokenizer.ggml.tokens";
                    if check_unique {
                        vocab = Some(n);
                    }
                    let mut seen = HashSet::new();
                    for _ in 0..n {
                        let s = r.string(&what)?;
                        if check_unique && !seen.insert(s) {
                            return Err("the vocabulary (`tokenizer.ggml.tokens`) has duplicate \
                                        tokens"
                                .into());
                        }
                    }
                } else if let Some(size) = scalar_size(elem) {
                    let total = n.checked_mul(size).ok_or_else(|| truncated(r.len, &what))?;
                    r.skip(total, &what)?;
                } else {
                    return Err(format!("{what} is an array of unsupported type {elem}"));
                }
            }
            t => {
                let Some(size) = scalar_size(t) else {
                    return Err(format!("{what} has an unknown value type {t}"));
                };
                let value = r.bytes(size, &what)?;
                if matches!(t, 0 | 2 | 4 | 10) {
                    let mut le = [0u8; 8];
                    le[..value.len()].copy_from_slice(&value);
                    integers.push((key.clone(), u64::from_le_bytes(le)));
                }
                if key == "general.alignment" {
                    if t != 4 {
                        return Err("`general.alignment` is not a u32".into());
                    }
                    let a = u64::from(u32::from_le_bytes([value[0], value[1], value[2], value[3]]));
                    if a == 0 || !a.is_power_of_two() {
                        return Err(format!("`general.alignment` is {a}, not a power of two"));
                    }
                    alignment = a;
                }
            }
        }
    }

    check_hyperparameters(architecture.as_deref(), &integers)?;
    check_token_ids(&integers, vocab)?;

    let mut data_end: u64 = 0;
    let mut shapes = HashMap::new();
    for i in 0..tensors {
        let tname = r.string(&format!("the name of tensor {i}"))?;
        let tname = String::from_utf8_lossy(&tname).into_owned();
        let what = format!("tensor `{tname}`");
        if shapes.contains_key(&tname) {
            return Err(format!("{what} appears twice"));
        }
        let n_dims = r.u32(&what)?;
        if n_dims == 0 || n_dims > 4 {
            return Err(format!("{what} has {n_dims} dimensions (1 to 4 allowed)"));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.u64(&what)?);
        }
        let t = r.u32(&what)?;
        let offset = r.u64(&what)?;
        let Some((block, block_bytes)) = tensor_type(t) else {
            return Err(format!("{what} has an unknown data type {t}"));
        };
        if dims.iter().any(|&d| d == 0 || d > i64::MAX as u64) {
            return Err(format!("{what} has an invalid shape {dims:?}"));
        }
        if dims[0] % block != 0 {
            return Err(format!(
                "{what}: its first dimension {} is not a multiple of {block}",
                dims[0]
            ));
        }
        let size = dims[1..]
            .iter()
            .try_fold((dims[0] / block).checked_mul(block_bytes), |acc, &d| {
                Some(acc?.checked_mul(d))
            })
            .flatten()
            .ok_or_else(|| format!("{what} has an impossible size"))?;
        if offset % alignment != 0 {
            return Err(format!("{what} is not aligned to {alignment} bytes"));
        }
        let end =
            offset.checked_add(size).ok_or_else(|| format!("{what} has an impossible offset"))?;
        data_end = data_end.max(end);
        shapes.insert(tname, dims);
    }
    check_shapes(architecture.as_deref(), &integers, vocab, &shapes)?;
    let data_start = r.pos.div_ceil(alignment) * alignment;
    let needed = data_start.saturating_add(data_end);
    if needed > r.len {
        return Err(format!(
            "the tensor data needs {needed} bytes but the file has only {}: it is truncated",
            r.len
        ));
    }
    if tensors == 0 {
        return Err("it contains no tensors".into());
    }
    Ok(GgufInfo { version, tensors, metadata, architecture, name, file_size: r.len })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal, well-formed GGUF file: one string entry, a token list and one f32 tensor.
    fn tiny(tokens: &[&str], data_len: usize) -> Vec<u8> {
        tiny_with(tokens, data_len, &[])
    }

    /// [`tiny`] with `u32` metadata entries added after the token list.
    fn tiny_with(tokens: &[&str], data_len: usize, extra: &[(&str, u32)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"GGUF");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes()); // tensors
        b.extend_from_slice(&(2 + extra.len() as u64).to_le_bytes()); // metadata
        let s = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(&(s.len() as u64).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        };
        s(&mut b, "general.architecture");
        b.extend_from_slice(&TYPE_STRING.to_le_bytes());
        s(&mut b, "llama");
        s(&mut b, "tokenizer.ggml.tokens");
        b.extend_from_slice(&TYPE_ARRAY.to_le_bytes());
        b.extend_from_slice(&TYPE_STRING.to_le_bytes());
        b.extend_from_slice(&(tokens.len() as u64).to_le_bytes());
        for t in tokens {
            s(&mut b, t);
        }
        for (key, value) in extra {
            s(&mut b, key);
            b.extend_from_slice(&4u32.to_le_bytes()); // u32
            b.extend_from_slice(&value.to_le_bytes());
        }
        s(&mut b, "w");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&4u64.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // f32
        b.extend_from_slice(&0u64.to_le_bytes());
        while b.len() % 32 != 0 {
            b.push(0);
        }
        b.extend(std::iter::repeat_n(0u8, data_len));
        b
    }

    fn check(bytes: &[u8]) -> Result<GgufInfo, LocalError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        inspect(f.path())
    }

    fn reason(bytes: &[u8]) -> String {
        match check(bytes) {
            Err(LocalError::InvalidGguf { reason, .. }) => reason,
            other => panic!("expected InvalidGguf, got {other:?}"),
        }
    }

    #[test]
    fn a_well_formed_file_passes() {
        let info = check(&tiny(&["a", "b"], 16)).unwrap();
        assert_eq!(info.architecture.as_deref(), Some("llama"));
        assert_eq!((info.version, info.tensors, info.metadata), (3, 1, 2));
    }

    #[test]
    fn truncation_anywhere_is_detected() {
        let full = tiny(&["a", "b"], 16);
        for len in 0..full.len() {
            let r = reason(&full[..len]);
            assert!(
                r.contains("truncated")
                    || r.contains("too short")
                    || r.contains("ends early")
                    || r.contains("more than the file holds"),
                "{len}: {r}"
            );
        }
    }

    #[test]
    fn wrong_magic_version_and_duplicates_are_named() {
        assert!(reason(b"PK\x03\x04 not a gguf at all").contains("magic"));
        let mut v = tiny(&["a"], 16);
        v[4] = 9;
        assert!(reason(&v).contains("version 9"));
        assert!(reason(&tiny(&["a", "a"], 16)).contains("duplicate tokens"));
    }

    #[test]
    fn an_end_of_sequence_token_outside_the_vocabulary_is_named() {
        let eos = |id| tiny_with(&["a", "b"], 16, &[("tokenizer.ggml.eos_token_id", id)]);
        assert!(check(&eos(1)).is_ok());
        assert_eq!(
            reason(&eos(4_000_000_000)),
            "`tokenizer.ggml.eos_token_id` is 4000000000, but the vocabulary \
             (`tokenizer.ggml.tokens`) has 2 tokens (ids 0 to 1)"
        );
    }

    #[test]
    fn missing_files_are_not_found() {
        let e = inspect(Path::new("/definitely/not/here.gguf")).unwrap_err();
        assert!(matches!(e, LocalError::ModelNotFound { .. }), "{e:?}");
    }

    #[test]
    fn random_corruption_never_panics() {
        let full = tiny(&["a", "b", "c"], 16);
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let mut bytes = full.clone();
            for _ in 0..3 {
                let i = rng.usize(..bytes.len());
                bytes[i] = rng.u8(..);
            }
            let _ = check(&bytes);
        }
    }
}
