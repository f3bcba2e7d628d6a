//! Saving and loading models: a small checked header around a bincode 2 payload.
//!
//! Every model derives serde and implements [`Persist`]; [`save`] and [`load`] do the rest.
//! This is the only module of the workspace that touches bincode, so a later change of the
//! payload encoding touches this one file.
//!
//! # File format (version 1)
//!
//! All integers are little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic [`MAGIC`] = `89 52 4E 4E 52 53 0D 0A` (`\x89RNNRS\r\n`) |
//! | 8 | 4 | format version, `u32` ([`FORMAT_VERSION`]) |
//! | 12 | 2 | length k of the model kind, `u16`, at most [`MAX_NAME_LEN`] |
//! | 14 | k | model kind, UTF-8 ([`Persist::KIND`], e.g. `rnn-partial/elman`) |
//! | 14 + k | 2 | length s of the scalar name, `u16`, at most [`MAX_NAME_LEN`] |
//! | 16 + k | s | scalar name, UTF-8 (`f32` or `f64`, [`Persist::scalar_name`]) |
//! | 16 + k + s | 8 | payload length n, `u64`, at most [`MAX_PAYLOAD_LEN`] |
//! | 24 + k + s | 4 | CRC-32 (IEEE, as in zlib and PNG) of the payload, `u32` |
//! | 28 + k + s | n | payload: the model, bincode 2 standard configuration via serde |
//!
//! The file ends exactly after the payload. Like PNG's, the magic starts with a byte above
//! 0x7F and ends in CR LF, so a file mangled by a 7-bit or newline-converting transfer is
//! caught before anything else is read.
//!
//! # Loading
//!
//! [`load`] and [`from_bytes`] check, in this order, and stop at the first failure:
//!
//! 1. the magic ([`Error::BadMagic`]);
//! 2. the version ([`Error::UnsupportedVersion`]);
//! 3. that the whole header is there ([`Error::Truncated`]) and its name lengths are within
//!    bounds and UTF-8 ([`Error::Corrupt`]);
//! 4. the model kind ([`Error::WrongModelKind`]) and scalar ([`Error::WrongScalar`]);
//! 5. the declared payload length: above [`MAX_PAYLOAD_LEN`] is [`Error::Corrupt`], beyond
//!    the end of the file is [`Error::Truncated`], short of it is [`Error::Corrupt`];
//! 6. the checksum ([`Error::ChecksumMismatch`]);
//! 7. decoding and [`Persist::validate`] ([`Error::Corrupt`]).
//!
//! Nothing is allocated from a length read in the file before that length is checked against
//! a fixed bound and against the bytes actually there, and the decoder itself runs with a
//! limit of [`MAX_PAYLOAD_LEN`] bytes, so a hostile file cannot make the loader allocate more
//! than that.
//!
//! # Saving
//!
//! [`save`] writes the file next to its destination under a temporary name, flushes it to
//! disk (`fsync`), and renames it into place: a crash or a full disk at any moment leaves
//! either the old file or the new one, never a mix, and never a lost model.
//!
//! Saving to a path that is a symbolic link replaces the link itself with a regular file
//! holding the new model; the file the link pointed to is left untouched (the rename works
//! on the directory entry, as `mv` does). To update the target instead, pass its path
//! (e.g. from [`std::fs::canonicalize`]).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, Result};

/// The first eight bytes of every model file: `\x89RNNRS\r\n`.
pub const MAGIC: [u8; 8] = *b"\x89RNNRS\r\n";

/// The format version this build writes, and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The longest model kind or scalar name, in bytes, a file may hold.
pub const MAX_NAME_LEN: usize = 256;

/// The largest payload, in bytes, a file may hold (1 GiB).
pub const MAX_PAYLOAD_LEN: u64 = 1 << 30;

/// The decoder's allocation limit, equal to [`MAX_PAYLOAD_LEN`].
const DECODE_LIMIT: usize = 1 << 30;

/// The longest header: magic, version, two bounded names with their lengths, payload length
/// and checksum.
const MAX_HEADER_LEN: u64 = 8 + 4 + 2 * (2 + MAX_NAME_LEN as u64) + 8 + 4;

/// A model that can be saved to and loaded from a file.
///
/// `KIND` names the model type in the file, `scalar_name` its scalar, and `validate` checks a
/// freshly decoded model (shapes, parameter count, configuration) before [`load`] returns it;
/// [`save`] runs it too, so a file that would not load is never written.
///
/// ```
/// use rnn_core::{Error, Persist, Real, Result};
/// use serde::{Deserialize, Serialize};
///
/// /// y = w x + b for a vector x.
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct Linear<T> { inputs: usize, weights: Vec<T> }
///
/// impl<T: Real> Persist for Linear<T> {
///     const KIND: &'static str = "doc/linear";
///     fn scalar_name() -> &'static str { T::NAME }
///     fn validate(&self) -> Result<()> {
///         rnn_core::error::check_dim("weights (inputs + bias)", self.inputs + 1, self.weights.len())
///     }
/// }
///
/// let model = Linear { inputs: 2, weights: vec![0.5f32, -1.0, 0.25] };
/// let bytes = rnn_core::persist::to_bytes(&model).unwrap();
/// let back: Linear<f32> = rnn_core::persist::from_bytes(&bytes).unwrap();
/// assert_eq!(back, model);
/// // The same bytes are not a model of f64.
/// let wrong = rnn_core::persist::from_bytes::<Linear<f64>>(&bytes);
/// assert!(matches!(wrong, Err(Error::WrongScalar { .. })));
/// ```
pub trait Persist: Serialize + DeserializeOwned {
    /// The model kind written in the file: `crate/model`, e.g. `"rnn-partial/elman"`. At most
    /// [`MAX_NAME_LEN`] bytes.
    const KIND: &'static str;

    /// The scalar type's name written in the file; for a model generic over `T: Real`, `T::NAME`
    /// (`"f32"` or `"f64"`).
    fn scalar_name() -> &'static str;

    /// Checks that the model is consistent: layout and parameter vector agree, sizes are
    /// positive, configuration in range.
    ///
    /// # Errors
    /// Whatever is wrong, as an [`Error`]; [`load`] reports it as [`Error::Corrupt`].
    fn validate(&self) -> Result<()>;
}

/// The header of a model file, as read by [`read_header`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version ([`FORMAT_VERSION`] for any header [`read_header`] returns).
    pub version: u32,
    /// The model kind, e.g. `"rnn-partial/elman"`.
    pub kind: String,
    /// The scalar type's name, `"f32"` or `"f64"`.
    pub scalar: String,
    /// The payload's declared length in bytes.
    pub payload_len: u64,
    /// The CRC-32 the payload should have.
    pub checksum: u32,
}

/// The bincode configuration of the payload: standard (variable-length integers, little
/// endian) with a decoding limit.
fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encodes `model` into the bytes of a model file (header and payload).
///
/// # Errors
/// Whatever [`Persist::validate`] returns for an inconsistent model; [`Error::Encode`] if the
/// model does not serialise, if its kind or scalar name is empty or longer than
/// [`MAX_NAME_LEN`], or if its payload exceeds [`MAX_PAYLOAD_LEN`].
pub fn to_bytes<M: Persist>(model: &M) -> Result<Vec<u8>> {
    model.validate()?;
    let payload = bincode::serde::encode_to_vec(model, bincode_config())
        .map_err(|e| Error::Encode(format!("{}: {e}", M::KIND)))?;
    container(M::KIND, M::scalar_name(), &payload)
}

/// Wraps `payload` in a header naming `kind` and `scalar`.
fn container(kind: &str, scalar: &str, payload: &[u8]) -> Result<Vec<u8>> {
    let kind_len = name_len("model kind", kind)?;
    let scalar_len = name_len("scalar name", scalar)?;
    let payload_len = u64::try_from(payload.len()).unwrap_or(u64::MAX);
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(Error::Encode(format!(
            "{kind}: payload of {payload_len} bytes exceeds the limit of {MAX_PAYLOAD_LEN} bytes"
        )));
    }
    let mut out = Vec::with_capacity(28 + kind.len() + scalar.len() + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&kind_len.to_le_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(&scalar_len.to_le_bytes());
    out.extend_from_slice(scalar.as_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// The length of a name as written in the header, checked against [`MAX_NAME_LEN`].
fn name_len(what: &str, name: &str) -> Result<u16> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::Encode(format!(
            "{what} `{name}` must be 1 to {MAX_NAME_LEN} bytes long, is {}",
            name.len()
        )));
    }
    u16::try_from(name.len()).map_err(|_| Error::Encode(format!("{what} `{name}` is too long")))
}

/// A reader over the file's bytes that reports a short read as [`Error::Truncated`].
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.saturating_add(n);
        match self.bytes.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::Truncated { expected: end as u64, got: self.bytes.len() as u64 }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn name(&mut self, what: &str) -> Result<String> {
        let len = usize::from(u16::from_le_bytes(self.array()?));
        if len > MAX_NAME_LEN {
            return Err(Error::Corrupt(format!("{what} is {len} bytes long; the limit is {MAX_NAME_LEN}")));
        }
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| Error::Corrupt(format!("{what} is not UTF-8: {raw:?}")))
    }
}

/// Reads the header at the start of `bytes` and returns it with the payload's offset.
fn parse_header(bytes: &[u8]) -> Result<(Header, usize)> {
    let prefix = &bytes[..bytes.len().min(MAGIC.len())];
    if prefix != &MAGIC[..prefix.len()] {
        return Err(Error::BadMagic { expected: MAGIC, got: prefix.to_vec() });
    }
    let mut c = Cursor { bytes, pos: 0 };
    c.take(MAGIC.len())?;
    let version = u32::from_le_bytes(c.array()?);
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { expected: FORMAT_VERSION, got: version });
    }
    let kind = c.name("model kind")?;
    let scalar = c.name("scalar name")?;
    let payload_len = u64::from_le_bytes(c.array()?);
    let checksum = u32::from_le_bytes(c.array()?);
    Ok((Header { version, kind, scalar, payload_len, checksum }, c.pos))
}

/// Reads the header of a model file's bytes without decoding the payload: which model, which
/// scalar, how long a payload.
///
/// ```
/// # use rnn_core::{Persist, Result};
/// # #[derive(serde::Serialize, serde::Deserialize)]
/// # struct Bias(Vec<f64>);
/// # impl Persist for Bias {
/// #     const KIND: &'static str = "doc/bias";
/// #     fn scalar_name() -> &'static str { "f64" }
/// #     fn validate(&self) -> Result<()> { Ok(()) }
/// # }
/// let bytes = rnn_core::persist::to_bytes(&Bias(vec![1.0, 2.0])).unwrap();
/// let header = rnn_core::persist::read_header(&bytes).unwrap();
/// assert_eq!((header.kind.as_str(), header.scalar.as_str()), ("doc/bias", "f64"));
/// ```
///
/// # Errors
/// [`Error::BadMagic`], [`Error::UnsupportedVersion`], [`Error::Truncated`] for bytes that end
/// inside the header, [`Error::Corrupt`] for a name that is too long or not UTF-8.
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    parse_header(bytes).map(|(h, _)| h)
}

/// Decodes a model from the bytes of a model file, checking everything listed in the
/// [module documentation](self).
///
/// # Errors
/// [`Error::BadMagic`], [`Error::UnsupportedVersion`], [`Error::WrongModelKind`],
/// [`Error::WrongScalar`], [`Error::Truncated`], [`Error::ChecksumMismatch`] or
/// [`Error::Corrupt`], as described in the [module documentation](self).
pub fn from_bytes<M: Persist>(bytes: &[u8]) -> Result<M> {
    let (header, start) = parse_header(bytes)?;
    if header.kind != M::KIND {
        return Err(Error::WrongModelKind { expected: M::KIND.to_string(), got: header.kind });
    }
    if header.scalar != M::scalar_name() {
        return Err(Error::WrongScalar { expected: M::scalar_name().to_string(), got: header.scalar });
    }
    if header.payload_len > MAX_PAYLOAD_LEN {
        return Err(Error::Corrupt(format!(
            "declared payload of {} bytes exceeds the limit of {MAX_PAYLOAD_LEN} bytes",
            header.payload_len
        )));
    }
    // Both fit in u64 on every platform; the sum cannot overflow because payload_len ≤ 2³⁰.
    let expected = start as u64 + header.payload_len;
    let got = bytes.len() as u64;
    if got < expected {
        return Err(Error::Truncated { expected, got });
    }
    if got > expected {
        return Err(Error::Corrupt(format!("{} unexpected bytes after the payload", got - expected)));
    }
    let payload = &bytes[start..];
    let crc = crc32fast::hash(payload);
    if crc != header.checksum {
        return Err(Error::ChecksumMismatch { expected: header.checksum, got: crc });
    }
    let (model, used): (M, usize) = bincode::serde::decode_from_slice(payload, bincode_config())
        .map_err(|e| Error::Corrupt(format!("payload does not decode as `{}`: {e}", M::KIND)))?;
    if used != payload.len() {
        return Err(Error::Corrupt(format!(
            "payload decodes as `{}` in {used} of its {} bytes",
            M::KIND,
            payload.len()
        )));
    }
    model.validate().map_err(|e| Error::Corrupt(format!("decoded `{}` is invalid: {e}", M::KIND)))?;
    Ok(model)
}

/// Saves `model` to `path`, atomically replacing any file there.
///
/// The bytes of [`to_bytes`] go to a temporary file in the same directory (named
/// `.<file name>.<process id>.<counter>.tmp`), which is flushed to disk and then renamed onto
/// `path`; the directory is then flushed too where the platform allows. If anything fails
/// before the rename, the temporary file is removed and the old file at `path`, if any, is
/// untouched. The new file gets the default permissions for a new file, not the old file's.
///
/// If `path` is a symbolic link, the link is replaced by a regular file holding the model and
/// the file it pointed to is not modified (see the [module documentation](self#saving)).
///
/// ```
/// # use rnn_core::{Persist, Result};
/// # #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// # struct Bias(Vec<f64>);
/// # impl Persist for Bias {
/// #     const KIND: &'static str = "doc/bias";
/// #     fn scalar_name() -> &'static str { "f64" }
/// #     fn validate(&self) -> Result<()> { Ok(()) }
/// # }
/// let path = std::env::temp_dir().join(format!("rnn-core-doc-save-{}.rnn", std::process::id()));
/// rnn_core::save(&Bias(vec![0.5, -0.25]), &path).unwrap();
/// let back: Bias = rnn_core::load(&path).unwrap();
/// assert_eq!(back, Bias(vec![0.5, -0.25]));
/// # std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// The errors of [`to_bytes`] (nothing is written then), and [`Error::Io`] naming `path` (not
/// the temporary file) if the file cannot be created, written, flushed or renamed, e.g. for a
/// missing directory.
pub fn save<M: Persist>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    let bytes = to_bytes(model)?;
    write_atomic(path.as_ref(), &bytes)
}

/// Loads a model of type `M` from `path`.
///
/// At most [`MAX_PAYLOAD_LEN`] plus the longest header's bytes are read; a longer file is
/// refused before it is read. Only a regular file (or a symbolic link to one) is read: a
/// directory, FIFO, socket or device is refused before it is opened, so a FIFO without a
/// writer cannot block the call and `/dev/zero` is not read.
///
/// # Errors
/// [`Error::Io`] with the path if it is not a regular file or cannot be opened or read,
/// [`Error::Corrupt`] for a file above the size limit, and every error of [`from_bytes`].
pub fn load<M: Persist>(path: impl AsRef<Path>) -> Result<M> {
    let path = path.as_ref();
    check_regular_file(path)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let limit = MAX_PAYLOAD_LEN + MAX_HEADER_LEN;
    let metadata = file.metadata().map_err(|e| Error::io(path, e))?;
    // The path may have been replaced between the check and the open.
    if !metadata.is_file() {
        return Err(not_a_regular_file(path, &metadata));
    }
    let size = metadata.len();
    if size > limit {
        return Err(too_large(path, size, limit));
    }
    // `size ≤ limit` was just checked, and the read is capped at `limit + 1` in case the
    // file grows meanwhile.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, bytes.len() as u64, limit));
    }
    from_bytes(&bytes)
}

/// [`Error::Io`] unless `path` is a regular file (after following symbolic links), checked
/// without opening it: opening a FIFO blocks until a writer comes.
fn check_regular_file(path: &Path) -> Result<()> {
    let metadata = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if metadata.is_file() { Ok(()) } else { Err(not_a_regular_file(path, &metadata)) }
}

/// The [`Error::Io`] for a path that is not a regular file, saying what it is.
fn not_a_regular_file(path: &Path, metadata: &fs::Metadata) -> Error {
    let ft = metadata.file_type();
    let (kind, what) = if ft.is_dir() {
        (io::ErrorKind::IsADirectory, "a directory")
    } else {
        (io::ErrorKind::InvalidInput, special_kind(&ft))
    };
    Error::io(path, io::Error::new(kind, format!("not a regular file but {what}; a model file is a regular file")))
}

/// What kind of special file `ft` is, in words.
fn special_kind(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    let _ = ft;
    "a special file"
}

fn too_large(path: &Path, size: u64, limit: u64) -> Error {
    Error::Corrupt(format!("{} is {size} bytes long; no model file exceeds {limit} bytes", path.display()))
}

/// Counter making temporary names unique within the process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::io(path, io::Error::new(io::ErrorKind::InvalidInput, "the path names no file")))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Errors name the caller's path: the temporary file is an implementation detail.
    let (tmp, mut file) = create_temp(dir, name).map_err(|e| Error::io(path, e))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// Creates a new temporary file `.<name>.<pid>.<n>.tmp` in `dir`, never reusing an existing one.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..64 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{pid}.{n}.tmp"));
        let tmp = dir.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary name was free")))
}

/// Flushes the directory entry of a rename to disk; best effort, as not every platform or
/// file system can open or sync a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Real;
    use serde::Deserialize;

    /// A stand-in model: a `rows × cols` matrix of weights and a name.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Toy<T> {
        name: String,
        rows: usize,
        cols: usize,
        weights: Vec<T>,
    }

    impl<T: Real> Persist for Toy<T> {
        const KIND: &'static str = "rnn-core/toy";
        fn scalar_name() -> &'static str {
            T::NAME
        }
        fn validate(&self) -> Result<()> {
            crate::error::check_dim("toy weights (rows × cols)", self.rows * self.cols, self.weights.len())
        }
    }

    /// Another model kind with the same payload shape.
    #[derive(Debug, Serialize, Deserialize)]
    struct Other(Toy<f64>);

    impl Persist for Other {
        const KIND: &'static str = "rnn-core/other";
        fn scalar_name() -> &'static str {
            "f64"
        }
        fn validate(&self) -> Result<()> {
            self.0.validate()
        }
    }

    fn toy() -> Toy<f64> {
        Toy { name: "toy".into(), rows: 2, cols: 3, weights: vec![0.1, -2.5, 3.0e-300, f64::MIN_POSITIVE, 7.0, -0.0] }
    }

    /// Offset of the payload-length field in a file of `Toy<f64>`.
    fn payload_len_offset() -> usize {
        8 + 4 + 2 + Toy::<f64>::KIND.len() + 2 + "f64".len()
    }

    /// A fresh empty directory under the system temporary directory.
    fn temp_dir(tag: &str) -> PathBuf {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rnn-core-persist-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn round_trip_is_bit_identical() {
        let model = toy();
        let bytes = to_bytes(&model).unwrap();
        let back: Toy<f64> = from_bytes(&bytes).unwrap();
        assert_eq!(back.name, model.name);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.weights), bits(&model.weights));
        // Encoding is deterministic: the same model gives the same bytes.
        assert_eq!(to_bytes(&back).unwrap(), bytes);
    }

    #[test]
    fn header_layout_is_as_documented() {
        let bytes = to_bytes(&toy()).unwrap();
        assert_eq!(&bytes[..8], b"\x89RNNRS\r\n");
        assert_eq!(&bytes[8..12], &1u32.to_le_bytes());
        assert_eq!(&bytes[12..14], &(Toy::<f64>::KIND.len() as u16).to_le_bytes());
        let h = read_header(&bytes).unwrap();
        assert_eq!(h.version, FORMAT_VERSION);
        assert_eq!(h.kind, "rnn-core/toy");
        assert_eq!(h.scalar, "f64");
        let start = payload_len_offset() + 12;
        assert_eq!(h.payload_len as usize, bytes.len() - start);
        assert_eq!(h.checksum, crc32fast::hash(&bytes[start..]));
    }

    #[test]
    fn save_and_load_through_a_file() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("model.rnn");
        let model = Toy { name: "f32".into(), rows: 1, cols: 2, weights: vec![1.5f32, -0.125] };
        save(&model, &path).unwrap();
        let back: Toy<f32> = load(&path).unwrap();
        assert_eq!(back, model);
        assert_eq!(dir_entries(&dir), ["model.rnn"], "no temporary file is left behind");
        // Overwriting replaces the file, again leaving nothing else.
        let newer = Toy { name: "newer".into(), rows: 1, cols: 1, weights: vec![9.0f32] };
        save(&newer, &path).unwrap();
        assert_eq!(load::<Toy<f32>>(&path).unwrap(), newer);
        assert_eq!(dir_entries(&dir), ["model.rnn"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_save_keeps_the_old_file() {
        let dir = temp_dir("keep");
        let path = dir.join("model.rnn");
        save(&toy(), &path).unwrap();
        let before = fs::read(&path).unwrap();
        let mut bad = toy();
        bad.weights.pop();
        assert!(matches!(save(&bad, &path), Err(Error::DimensionMismatch { .. })));
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(dir_entries(&dir), ["model.rnn"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn io_errors_name_the_path() {
        let dir = temp_dir("io");
        let missing = dir.join("no-such-dir").join("model.rnn");
        match save(&toy(), &missing) {
            // The path given, not the temporary file's.
            Err(Error::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected Io, got {other:?}"),
        }
        match load::<Toy<f64>>(&missing) {
            Err(Error::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected Io, got {other:?}"),
        }
        // A directory is not a file to save to: the rename fails and the temporary file goes.
        let sub = dir.join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("keep"), b"x").unwrap();
        assert!(matches!(save(&toy(), &sub), Err(Error::Io { .. })));
        assert_eq!(dir_entries(&dir), ["sub"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs `f` on another thread and fails the test if it has not returned after 10 s
    /// (instead of hanging the test run).
    fn within_seconds<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the call blocked")
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = temp_dir("special");
        // A FIFO without a writer: opening it for reading would block forever.
        let fifo = dir.join("fifo.rnn");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
        if made {
            let p = fifo.clone();
            match within_seconds(move || load::<Toy<f64>>(&p)) {
                Err(Error::Io { path, source }) => {
                    assert_eq!(path, fifo);
                    assert!(source.to_string().contains("FIFO"), "{source}");
                }
                other => panic!("expected Io, got {other:?}"),
            }
        }
        // A socket.
        let socket = dir.join("socket.rnn");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        match load::<Toy<f64>>(&socket) {
            Err(Error::Io { path, source }) => {
                assert_eq!(path, socket);
                assert!(source.to_string().contains("socket"), "{source}");
            }
            other => panic!("expected Io, got {other:?}"),
        }
        // A device that never ends is not read at all.
        if Path::new("/dev/zero").exists() {
            match within_seconds(|| load::<Toy<f64>>("/dev/zero")) {
                Err(Error::Io { source, .. }) => assert!(source.to_string().contains("device"), "{source}"),
                other => panic!("expected Io, got {other:?}"),
            }
        }
        // A directory.
        match load::<Toy<f64>>(&dir) {
            Err(Error::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::IsADirectory),
            other => panic!("expected Io, got {other:?}"),
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn saving_to_a_symlink_replaces_the_link_and_leaves_its_target_alone() {
        let dir = temp_dir("symlink");
        let target = dir.join("real.rnn");
        let link = dir.join("link.rnn");
        save(&toy(), &target).unwrap();
        let before = fs::read(&target).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        // Loading through a link reads its target.
        assert_eq!(load::<Toy<f64>>(&link).unwrap(), toy());
        let newer = Toy { name: "newer".into(), rows: 1, cols: 1, weights: vec![9.0f64] };
        save(&newer, &link).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file(), "the link became a regular file");
        assert_eq!(load::<Toy<f64>>(&link).unwrap(), newer);
        assert_eq!(fs::read(&target).unwrap(), before, "the link's target is untouched");
        assert_eq!(dir_entries(&dir), ["link.rnn", "real.rnn"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_truncation_is_reported() {
        let bytes = to_bytes(&toy()).unwrap();
        for cut in 0..bytes.len() {
            match from_bytes::<Toy<f64>>(&bytes[..cut]) {
                Err(Error::Truncated { got, expected }) => {
                    assert_eq!(got, cut as u64);
                    assert!(expected > got, "cut at {cut}: expected {expected}");
                }
                other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
            }
        }
        // Cut inside the payload: the header's promise is the whole file.
        match from_bytes::<Toy<f64>>(&bytes[..bytes.len() - 1]) {
            Err(Error::Truncated { expected, .. }) => assert_eq!(expected, bytes.len() as u64),
            other => panic!("expected Truncated, got {other:?}"),
        }
    }

    #[test]
    fn flipped_payload_byte_fails_the_checksum() {
        let mut bytes = to_bytes(&toy()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        assert!(matches!(from_bytes::<Toy<f64>>(&bytes), Err(Error::ChecksumMismatch { .. })));
        // Also when a flip hits the stored checksum itself.
        let mut bytes = to_bytes(&toy()).unwrap();
        bytes[payload_len_offset() + 8] ^= 1;
        assert!(matches!(from_bytes::<Toy<f64>>(&bytes), Err(Error::ChecksumMismatch { .. })));
    }

    #[test]
    fn wrong_kind_scalar_version_magic() {
        let bytes = to_bytes(&toy()).unwrap();
        match from_bytes::<Other>(&bytes) {
            Err(Error::WrongModelKind { expected, got }) => {
                assert_eq!((expected.as_str(), got.as_str()), ("rnn-core/other", "rnn-core/toy"))
            }
            other => panic!("expected WrongModelKind, got {other:?}"),
        }
        match from_bytes::<Toy<f32>>(&bytes) {
            Err(Error::WrongScalar { expected, got }) => assert_eq!((expected.as_str(), got.as_str()), ("f32", "f64")),
            other => panic!("expected WrongScalar, got {other:?}"),
        }
        let mut v2 = bytes.clone();
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert!(matches!(from_bytes::<Toy<f64>>(&v2), Err(Error::UnsupportedVersion { expected: 1, got: 2 })));
        let mut bad = bytes.clone();
        bad[1] = b'X';
        assert!(matches!(from_bytes::<Toy<f64>>(&bad), Err(Error::BadMagic { .. })));
        // A short file that is not ours is bad magic, not truncated.
        assert!(matches!(from_bytes::<Toy<f64>>(b"PK"), Err(Error::BadMagic { .. })));
        assert!(matches!(from_bytes::<Toy<f64>>(b"{\"json\": true}"), Err(Error::BadMagic { .. })));
    }

    #[test]
    fn declared_lengths_are_bounded() {
        let bytes = to_bytes(&toy()).unwrap();
        let at = payload_len_offset();
        // Beyond every limit.
        let mut huge = bytes.clone();
        huge[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(from_bytes::<Toy<f64>>(&huge), Err(Error::Corrupt(_))));
        let mut over = bytes.clone();
        over[at..at + 8].copy_from_slice(&(MAX_PAYLOAD_LEN + 1).to_le_bytes());
        assert!(matches!(from_bytes::<Toy<f64>>(&over), Err(Error::Corrupt(_))));
        // Within the limit but beyond the file.
        let real = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let mut longer = bytes.clone();
        longer[at..at + 8].copy_from_slice(&(real + 1).to_le_bytes());
        assert!(matches!(
            from_bytes::<Toy<f64>>(&longer),
            Err(Error::Truncated { expected, got }) if expected == got + 1
        ));
        // Short of the file: trailing bytes.
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(from_bytes::<Toy<f64>>(&trailing), Err(Error::Corrupt(_))));
        // A name length beyond MAX_NAME_LEN.
        let mut name = bytes.clone();
        name[12..14].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(matches!(from_bytes::<Toy<f64>>(&name), Err(Error::Corrupt(_))));
    }

    #[test]
    fn undecodable_or_invalid_payload_is_corrupt() {
        // A payload with a valid checksum that is not a Toy.
        let garbage = container(Toy::<f64>::KIND, "f64", &[0xff; 5]).unwrap();
        assert!(matches!(from_bytes::<Toy<f64>>(&garbage), Err(Error::Corrupt(_))));
        // A vector length far beyond the payload (varint 0xfd = u64 follows).
        let mut hostile = bincode::serde::encode_to_vec(("x", 1usize, 1usize), bincode_config()).unwrap();
        hostile.push(0xfd);
        hostile.extend_from_slice(&u64::MAX.to_le_bytes());
        let file = container(Toy::<f64>::KIND, "f64", &hostile).unwrap();
        assert!(matches!(from_bytes::<Toy<f64>>(&file), Err(Error::Corrupt(_))));
        // A hostile string length.
        let mut s = vec![0xfd];
        s.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
        let file = container(Toy::<f64>::KIND, "f64", &s).unwrap();
        assert!(matches!(from_bytes::<Toy<f64>>(&file), Err(Error::Corrupt(_))));
        // A well-formed payload whose model fails validation.
        let invalid = Toy { name: "bad".into(), rows: 3, cols: 3, weights: vec![1.0f64] };
        let payload = bincode::serde::encode_to_vec(&invalid, bincode_config()).unwrap();
        let file = container(Toy::<f64>::KIND, "f64", &payload).unwrap();
        match from_bytes::<Toy<f64>>(&file) {
            Err(Error::Corrupt(msg)) => assert!(msg.contains("invalid"), "{msg}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn bad_names_are_refused_on_save() {
        #[derive(Serialize, Deserialize)]
        struct Nameless;
        impl Persist for Nameless {
            const KIND: &'static str = "";
            fn scalar_name() -> &'static str {
                "f64"
            }
            fn validate(&self) -> Result<()> {
                Ok(())
            }
        }
        assert!(matches!(to_bytes(&Nameless), Err(Error::Encode(_))));
        assert!(matches!(container(&"k".repeat(MAX_NAME_LEN + 1), "f64", &[]), Err(Error::Encode(_))));
        assert!(container(&"k".repeat(MAX_NAME_LEN), "f64", &[]).is_ok());
    }

    #[test]
    fn load_reports_an_oversized_file_as_corrupt_without_reading_it() {
        let dir = temp_dir("big");
        let path = dir.join("sparse.rnn");
        let file = File::create(&path).unwrap();
        // A sparse file: its length is set, its blocks are never written or read.
        file.set_len(MAX_PAYLOAD_LEN + MAX_HEADER_LEN + 1).unwrap();
        drop(file);
        assert!(matches!(load::<Toy<f64>>(&path), Err(Error::Corrupt(_))));
        fs::remove_dir_all(&dir).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn any_f64_vector_round_trips_bit_for_bit(
            weights in proptest::collection::vec(proptest::num::f64::ANY, 0..200),
            name in "\\PC{0,20}",
        ) {
            let model = Toy { name, rows: 1, cols: weights.len(), weights };
            let back: Toy<f64> = from_bytes(&to_bytes(&model).unwrap()).unwrap();
            proptest::prop_assert_eq!(&back.name, &model.name);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&back.weights), bits(&model.weights));
        }
    }
}
