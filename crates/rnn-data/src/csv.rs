//! A small reader for numeric CSV files: a header row, then one record per line.
//!
//! Columns are chosen by header name or by 0-based index; quoted fields (`"YEAR"`, with `""`
//! for a quote inside) are unquoted. Every value of a chosen column must be a finite number.
//! An empty value or one of `NaN`, `NA`, `N/A`, `null` (in any case) is *missing*: an error by
//! default, or the whole row is dropped when the reader is asked to
//! [skip missing values](CsvReader::skip_missing). Columns that are not chosen may hold
//! anything, text included. Lines end in LF, CR LF or a lone CR (old Mac files); blank lines
//! are ignored; line numbers in errors count every line of the file from 1, the header being
//! line 1.
//!
//! ```
//! use rnn_data::csv::CsvReader;
//! let text = "\"YEAR\",\"SUNACTIVITY\",note\n1700,5,low\n1701,11.5,\n";
//! let table = CsvReader::new().columns(["YEAR", "SUNACTIVITY"]).read_str(text).unwrap();
//! assert_eq!(table.headers(), ["YEAR", "SUNACTIVITY"]);
//! assert_eq!(table.column("SUNACTIVITY").unwrap(), [5.0, 11.5]);
//! assert_eq!(table.lines(), [2, 3]);
//!
//! let err = CsvReader::new().read_str("a,b\n1,2\n3,x\n").unwrap_err();
//! assert_eq!(err.to_string(), "line 3, column b: expected a number, got \"x\"");
//! ```

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use nalgebra::DMatrix;
use rnn_core::{Error, Result};

/// The largest file [`CsvReader::read_path`] reads: 1 GiB.
pub const MAX_FILE_LEN: u64 = 1 << 30;

/// A column of a CSV file, by header name or by 0-based position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    /// The column whose header (unquoted, trimmed) is this name; the first if several are.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Name(n) => f.write_str(n),
            Column::Index(i) => write!(f, "#{i}"),
        }
    }
}

/// Options for reading a numeric CSV file; build with [`CsvReader::new`] and the setters,
/// then call [`read_str`](Self::read_str) or [`read_path`](Self::read_path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvReader {
    columns: Option<Vec<Column>>,
    skip_missing: bool,
    delimiter: char,
}

impl Default for CsvReader {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvReader {
    /// A reader of every column, separated by commas, that refuses missing values.
    pub fn new() -> Self {
        Self { columns: None, skip_missing: false, delimiter: ',' }
    }

    /// Reads only these columns, in this order (by name or 0-based index).
    ///
    /// ```
    /// use rnn_data::csv::{Column, CsvReader};
    /// let t = CsvReader::new().columns([Column::Index(1), "a".into()]).read_str("a,b\n1,2\n").unwrap();
    /// assert_eq!(t.headers(), ["b", "a"]);
    /// assert_eq!(t.row(0).unwrap(), [2.0, 1.0]);
    /// ```
    pub fn columns<I>(mut self, columns: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Column>,
    {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Whether to drop rows that have a missing value (empty, `NaN`, `NA`, `N/A`, `null`) in a
    /// chosen column instead of failing; the dropped rows' line numbers are in
    /// [`Table::skipped`].
    ///
    /// ```
    /// use rnn_data::csv::CsvReader;
    /// let text = "x\n1\nNaN\n\n3\n";
    /// assert!(CsvReader::new().read_str(text).is_err());
    /// let t = CsvReader::new().skip_missing(true).read_str(text).unwrap();
    /// assert_eq!(t.column("x").unwrap(), [1.0, 3.0]);
    /// assert_eq!(t.skipped(), [3]);
    /// ```
    pub fn skip_missing(mut self, skip: bool) -> Self {
        self.skip_missing = skip;
        self
    }

    /// The field separator (default `,`); must not be `"`.
    pub fn delimiter(mut self, delimiter: char) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Reads a CSV file from disk.
    ///
    /// Only a regular file (or a symbolic link to one) of at most [`MAX_FILE_LEN`] bytes
    /// (1 GiB) is read: its type and size are checked before it is opened (so a FIFO without a
    /// writer cannot block the call), and the read stops after the limit in case the file grows
    /// meanwhile.
    ///
    /// # Errors
    /// [`Error::Io`] with the path if it cannot be read, is not a regular file (a directory,
    /// FIFO, socket or device such as `/dev/zero`), is larger than [`MAX_FILE_LEN`] (kind
    /// [`FileTooLarge`](std::io::ErrorKind::FileTooLarge)) or is not UTF-8, and every error of
    /// [`read_str`](Self::read_str).
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        let text = read_limited(path, MAX_FILE_LEN).map_err(|e| Error::io(path, e))?;
        self.read_str(&text)
    }

    /// Reads CSV text.
    ///
    /// # Errors
    /// - [`Error::InvalidConfig`] for `"`, CR or LF as delimiter;
    /// - [`Error::Empty`] for text without a header line;
    /// - [`Error::NotFound`] for a chosen column that is not in the header, listing those that are;
    /// - [`Error::Parse`] with the 1-based line and the column for a value that is not a finite
    ///   number, a missing value (unless skipped), a row with another number of fields than
    ///   the header, or an unterminated quote.
    pub fn read_str(&self, text: &str) -> Result<Table> {
        if matches!(self.delimiter, '"' | '\r' | '\n') {
            return Err(Error::config(
                "CSV delimiter",
                "a character other than '\"', CR and LF",
                self.delimiter.escape_default(),
            ));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = split_lines(text).enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
        let (header_line, header) = lines.next().ok_or_else(|| Error::empty("CSV text (header line)", 1))?;
        let header: Vec<String> =
            split_fields(header, self.delimiter, header_line)?.into_iter().map(|f| f.trim().to_string()).collect();
        let chosen: Vec<usize> = match &self.columns {
            None => (0..header.len()).collect(),
            Some(cols) => cols.iter().map(|c| resolve(c, &header)).collect::<Result<_>>()?,
        };
        let mut table = Table {
            headers: chosen.iter().map(|&i| header[i].clone()).collect(),
            columns: vec![Vec::new(); chosen.len()],
            lines: Vec::new(),
            skipped: Vec::new(),
        };
        let mut row = Vec::with_capacity(chosen.len());
        'rows: for (line, text) in lines {
            let fields = split_fields(text, self.delimiter, line)?;
            if fields.len() != header.len() {
                let column = match header.get(fields.len()) {
                    Some(_) => column_label(&header, fields.len()),
                    None => format!("#{}", header.len()),
                };
                return Err(Error::Parse {
                    line,
                    column,
                    message: format!("the row has {} fields, the header {}", fields.len(), header.len()),
                });
            }
            row.clear();
            for &c in &chosen {
                match parse_value(&fields[c]) {
                    Value::Number(x) => row.push(x),
                    Value::Missing(_) if self.skip_missing => {
                        table.skipped.push(line);
                        continue 'rows;
                    }
                    Value::Missing(what) => {
                        return Err(Error::Parse {
                            line,
                            column: column_label(&header, c),
                            message: format!("missing value ({what}); skip_missing(true) drops such rows"),
                        });
                    }
                    Value::Bad(message) => {
                        return Err(Error::Parse { line, column: column_label(&header, c), message });
                    }
                }
            }
            for (col, &x) in table.columns.iter_mut().zip(&row) {
                col.push(x);
            }
            table.lines.push(line);
        }
        Ok(table)
    }
}

/// The text of the regular file at `path`, refusing anything else and anything above `limit`
/// bytes.
fn read_limited(path: &Path, limit: u64) -> io::Result<String> {
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    let regular = |m: &std::fs::Metadata| -> io::Result<()> {
        let ft = m.file_type();
        if ft.is_file() {
            Ok(())
        } else if ft.is_dir() {
            Err(io::Error::new(io::ErrorKind::IsADirectory, "a directory, not a CSV file"))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, socket or device); a CSV file is a regular file",
            ))
        }
    };
    let too_large =
        |size: u64| io::Error::new(io::ErrorKind::FileTooLarge, format!("{size} bytes; the limit is {limit} bytes"));
    let metadata = std::fs::metadata(path)?;
    regular(&metadata)?;
    if metadata.len() > limit {
        return Err(too_large(metadata.len()));
    }
    let file = File::open(path)?;
    // The path may have been replaced between the check and the open.
    let metadata = file.metadata()?;
    regular(&metadata)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(usize::try_from(metadata.len().min(limit)).unwrap_or(0)).map_err(io::Error::other)?;
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8: {e}")))
}

/// The lines of `text`, each ended by LF, CR LF or a lone CR (the last may lack an ending).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match rest.find(['\n', '\r']) {
            None => (rest, ""),
            Some(i) => {
                let ending = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], &rest[i + ending..])
            }
        };
        rest = next;
        Some(line)
    })
}

/// The display name of header column `i`: its name, or `#i` if the name is empty.
fn column_label(header: &[String], i: usize) -> String {
    match header.get(i) {
        Some(name) if !name.is_empty() => name.clone(),
        _ => format!("#{i}"),
    }
}

/// The position of `column` in `header`.
fn resolve(column: &Column, header: &[String]) -> Result<usize> {
    let found = match column {
        Column::Name(name) => header.iter().position(|h| h == name.trim()),
        Column::Index(i) => (*i < header.len()).then_some(*i),
    };
    found.ok_or_else(|| Error::NotFound {
        what: "CSV column".into(),
        name: column.to_string(),
        available: header.iter().enumerate().map(|(i, h)| format!("#{i} {h}")).collect::<Vec<_>>().join(", "),
    })
}

/// A value of a chosen column.
enum Value {
    Number(f64),
    /// Missing, with how it was written.
    Missing(&'static str),
    /// Not a finite number: the message.
    Bad(String),
}

fn parse_value(field: &str) -> Value {
    let s = field.trim();
    if s.is_empty() {
        return Value::Missing("empty");
    }
    for (word, what) in [("nan", "NaN"), ("na", "NA"), ("n/a", "N/A"), ("null", "null")] {
        if s.eq_ignore_ascii_case(word) {
            return Value::Missing(what);
        }
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Value::Number(x),
        Ok(_) => Value::Bad(format!("expected a finite number, got {s:?}")),
        Err(_) => Value::Bad(format!("expected a number, got {s:?}")),
    }
}

/// Splits one line into fields, unquoting `"…"` fields (`""` inside is one quote).
fn split_fields(line: &str, delimiter: char, line_no: usize) -> Result<Vec<Cow<'_, str>>> {
    let mut fields = Vec::new();
    let mut rest = line;
    // Blanks around a quoted field, but never the delimiter itself (a tab, say).
    let blank = |c: char| c.is_whitespace() && c != delimiter;
    loop {
        let trimmed = rest.trim_start_matches(blank);
        if let Some(quoted) = trimmed.strip_prefix('"') {
            // A quoted field: up to the closing quote, then optional spaces, then a delimiter or the end.
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    Some((i, '"')) => {
                        if quoted[i + 1..].starts_with('"') {
                            value.push('"');
                            chars.next();
                        } else {
                            break &quoted[i + 1..];
                        }
                    }
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(Error::Parse {
                            line: line_no,
                            column: format!("#{}", fields.len()),
                            message: "unterminated quoted field".into(),
                        });
                    }
                }
            };
            fields.push(Cow::Owned(value));
            let after = after.trim_start_matches(blank);
            match after.strip_prefix(delimiter) {
                Some(r) => rest = r,
                None if after.is_empty() => return Ok(fields),
                None => {
                    return Err(Error::Parse {
                        line: line_no,
                        column: format!("#{}", fields.len() - 1),
                        message: format!("unexpected text after a quoted field: {after:?}"),
                    });
                }
            }
        } else {
            match rest.find(delimiter) {
                Some(i) => {
                    fields.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + delimiter.len_utf8()..];
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        }
    }
}

/// The numbers read from a CSV file: the chosen columns, in the order they were chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    headers: Vec<String>,
    columns: Vec<Vec<f64>>,
    lines: Vec<usize>,
    skipped: Vec<usize>,
}

impl Table {
    /// The headers of the chosen columns.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Number of records (rows kept).
    pub fn nrows(&self) -> usize {
        self.lines.len()
    }

    /// Number of chosen columns.
    pub fn ncols(&self) -> usize {
        self.columns.len()
    }

    /// The values of one column of the table, by header name or by 0-based position *among
    /// the chosen columns*.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a column the table does not have.
    pub fn column(&self, column: impl Into<Column>) -> Result<&[f64]> {
        let column = column.into();
        let i = resolve(&column, &self.headers)?;
        Ok(&self.columns[i])
    }

    /// All columns, in order.
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.columns
    }

    /// Record `i`: one value per chosen column, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<Vec<f64>> {
        (i < self.nrows()).then(|| self.columns.iter().map(|c| c[i]).collect())
    }

    /// The 1-based line of the file each record came from.
    pub fn lines(&self) -> &[usize] {
        &self.lines
    }

    /// The 1-based lines of the rows dropped for a missing value.
    pub fn skipped(&self) -> &[usize] {
        &self.skipped
    }

    /// The table as a `ncols × nrows` matrix, one record per matrix column: the workspace's
    /// layout of one sample per column.
    ///
    /// ```
    /// let t = rnn_data::csv::CsvReader::new().read_str("a,b\n1,2\n3,4\n5,6\n").unwrap();
    /// let m = t.sample_matrix();
    /// assert_eq!(m.shape(), (2, 3));
    /// assert_eq!(m[(1, 2)], 6.0);
    /// ```
    pub fn sample_matrix(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.ncols(), self.nrows(), |r, c| self.columns[r][c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_headers_and_columns_by_name_or_index() {
        let text = "\"YEAR\", \"SUN\"\"S\" ,x\r\n1700,5,a\r\n1701, 11 ,b\r\n";
        let t = CsvReader::new().columns(["SUN\"S".into(), Column::Index(0)]).read_str(text).unwrap();
        assert_eq!(t.headers(), ["SUN\"S", "YEAR"]);
        assert_eq!(t.column(0).unwrap(), [5.0, 11.0]);
        assert_eq!(t.column("YEAR").unwrap(), [1700.0, 1701.0]);
        assert_eq!((t.nrows(), t.ncols()), (2, 2));
    }

    #[test]
    fn nan_is_an_error_naming_line_and_column() {
        let text = "YEAR,VALUE\n1,2\n\n2,NaN\n";
        match CsvReader::new().read_str(text) {
            Err(Error::Parse { line, column, message }) => {
                assert_eq!((line, column.as_str()), (4, "VALUE"));
                assert!(message.contains("NaN"), "{message}");
            }
            other => panic!("expected Parse, got {other:?}"),
        }
        // An unchosen column may hold anything.
        let t = CsvReader::new().columns(["YEAR"]).read_str(text).unwrap();
        assert_eq!(t.column("YEAR").unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn empty_and_missing_values_are_skipped_on_request() {
        let text = "a,b\n1,\n2,3\nNA,4\n5,null\n6,7\n";
        match CsvReader::new().read_str(text) {
            Err(Error::Parse { line: 2, column, .. }) => assert_eq!(column, "b"),
            other => panic!("expected Parse at line 2, got {other:?}"),
        }
        let t = CsvReader::new().skip_missing(true).read_str(text).unwrap();
        assert_eq!(t.column("a").unwrap(), [2.0, 6.0]);
        assert_eq!(t.column("b").unwrap(), [3.0, 7.0]);
        assert_eq!(t.lines(), [3, 6]);
        assert_eq!(t.skipped(), [2, 4, 5]);
    }

    #[test]
    fn bad_numbers_are_never_skipped() {
        for bad in ["x", "1.2.3", "inf", "-infinity", "1e999"] {
            let text = format!("a\n{bad}\n");
            let r = CsvReader::new().skip_missing(true).read_str(&text);
            assert!(matches!(r, Err(Error::Parse { line: 2, .. })), "{bad}: {r:?}");
        }
    }

    #[test]
    fn unknown_column_lists_the_available_ones() {
        match CsvReader::new().columns(["YEAR", "SUNSPOTS"]).read_str("\"YEAR\",\"SUNACTIVITY\"\n1700,5\n") {
            Err(Error::NotFound { name, available, .. }) => {
                assert_eq!(name, "SUNSPOTS");
                assert_eq!(available, "#0 YEAR, #1 SUNACTIVITY");
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
        assert!(matches!(CsvReader::new().columns([2]).read_str("a,b\n1,2\n"), Err(Error::NotFound { .. })));
        let t = CsvReader::new().read_str("a,b\n1,2\n").unwrap();
        assert!(matches!(t.column("c"), Err(Error::NotFound { .. })));
    }

    #[test]
    fn malformed_rows_and_text() {
        assert!(matches!(CsvReader::new().read_str(""), Err(Error::Empty { .. })));
        assert!(matches!(CsvReader::new().read_str("\n  \n"), Err(Error::Empty { .. })));
        match CsvReader::new().read_str("a,b,c\n1,2\n") {
            Err(Error::Parse { line: 2, column, .. }) => assert_eq!(column, "c"),
            other => panic!("expected Parse, got {other:?}"),
        }
        assert!(matches!(CsvReader::new().read_str("a\n1,2\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(CsvReader::new().read_str("\"a\n1\n"), Err(Error::Parse { line: 1, .. })));
        assert!(matches!(CsvReader::new().read_str("\"a\"b\n1\n"), Err(Error::Parse { line: 1, .. })));
        assert!(matches!(CsvReader::new().delimiter('"').read_str("a\n1\n"), Err(Error::InvalidConfig { .. })));
        // Header only: an empty table.
        assert_eq!(CsvReader::new().read_str("a,b\n").unwrap().nrows(), 0);
    }

    #[test]
    fn other_delimiters_and_byte_order_mark() {
        let t = CsvReader::new().delimiter(';').read_str("\u{feff}a;b\n1,5;2\n").unwrap_err();
        assert!(matches!(t, Error::Parse { .. }), "1,5 is not a number");
        let t = CsvReader::new().delimiter('\t').read_str("\u{feff}a\t\"b\"\tc\n1.5\t-2e3\t\"7\"\n").unwrap();
        assert_eq!(t.headers(), ["a", "b", "c"]);
        assert_eq!(t.row(0).unwrap(), [1.5, -2000.0, 7.0]);
        assert_eq!(t.row(1), None);
    }

    #[test]
    fn lone_cr_lf_and_crlf_all_end_lines() {
        let t = CsvReader::new().read_str("a,b\r1,2\r3,4\r").unwrap();
        assert_eq!(t.headers(), ["a", "b"]);
        assert_eq!(t.column("a").unwrap(), [1.0, 3.0]);
        assert_eq!(t.lines(), [2, 3]);
        let t = CsvReader::new().columns(["a"]).read_str("a,b\r1,2\r3,4").unwrap();
        assert_eq!(t.column("a").unwrap(), [1.0, 3.0]);
        // Mixed endings; CR LF is one line ending, not two.
        let t = CsvReader::new().read_str("a\r\n1\n2\r3\r\n\r\n4").unwrap();
        assert_eq!(t.column("a").unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(t.lines(), [2, 3, 4, 6]);
        match CsvReader::new().read_str("a\r1\rx\r") {
            Err(Error::Parse { line: 3, .. }) => {}
            other => panic!("expected Parse at line 3, got {other:?}"),
        }
        assert_eq!(split_lines("x\r\ny\rz\n").collect::<Vec<_>>(), ["x", "y", "z"]);
        assert_eq!(split_lines("\n\r").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn files_above_the_limit_or_not_regular_are_refused() {
        let dir = std::env::temp_dir().join(format!("rnn-data-csv-limits-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A small file through a small limit, and a sparse file over the real one (never read).
        let small = dir.join("small.csv");
        std::fs::write(&small, "x\n1\n2\n").unwrap();
        assert_eq!(read_limited(&small, 100).unwrap(), "x\n1\n2\n");
        assert_eq!(read_limited(&small, 3).unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        let big = dir.join("big.csv");
        File::create(&big).unwrap().set_len(MAX_FILE_LEN + 1).unwrap();
        match CsvReader::new().read_path(&big) {
            Err(Error::Io { path, source }) => {
                assert_eq!(path, big);
                assert_eq!(source.kind(), io::ErrorKind::FileTooLarge);
            }
            other => panic!("expected Io, got {other:?}"),
        }
        match CsvReader::new().read_path(&dir) {
            Err(Error::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::IsADirectory),
            other => panic!("expected Io, got {other:?}"),
        }
        std::fs::write(&small, b"caf\xe9\n1\n").unwrap();
        match CsvReader::new().read_path(&small) {
            Err(Error::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::InvalidData),
            other => panic!("expected Io, got {other:?}"),
        }
        #[cfg(unix)]
        {
            // Special files are refused without being opened or read.
            let fifo = dir.join("fifo.csv");
            if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
                let (tx, rx) = std::sync::mpsc::channel();
                let p = fifo.clone();
                std::thread::spawn(move || tx.send(CsvReader::new().read_path(&p)).unwrap());
                let r = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("read_path blocked on a FIFO");
                assert!(matches!(r, Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::InvalidInput));
            }
            if Path::new("/dev/zero").exists() {
                let r = CsvReader::new().read_path("/dev/zero");
                assert!(matches!(r, Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::InvalidInput));
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn read_path_reports_the_path() {
        let path = std::env::temp_dir().join(format!("rnn-data-csv-missing-{}.csv", std::process::id()));
        match CsvReader::new().read_path(&path) {
            Err(Error::Io { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected Io, got {other:?}"),
        }
        std::fs::write(&path, "x\n1\n2\n").unwrap();
        let t = CsvReader::new().read_path(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(t.column("x").unwrap(), [1.0, 2.0]);
    }
}
