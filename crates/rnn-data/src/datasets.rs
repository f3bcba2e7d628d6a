//! The small real data sets, embedded in the crate so they work without a file system.
//!
//! Provenance and licences are in `data/README.md` of this crate:
//!
//! - yearly sunspot numbers 1700–2008, NOAA National Geophysical Data Center, public domain
//!   (as shipped by statsmodels);
//! - Santa Fe competition data set A, far-infrared laser intensity, Weigend & Gershenfeld
//!   (1993), the continued series of J. McNames as shipped by reservoirpy (MIT);
//! - optical handwritten digits 8×8, E. Alpaydin & C. Kaynak (1998), UCI ML repository, CC BY
//!   4.0 (as shipped by scikit-learn).

use std::ops::RangeInclusive;

use nalgebra::DMatrix;
use rnn_core::{Error, Result};

use crate::Series;
use crate::csv::CsvReader;

/// The yearly sunspot file as embedded: `"YEAR","SUNACTIVITY"`, 309 rows, 1700–2008.
pub const SUNSPOTS_CSV: &str = include_str!("../data/sunspots_yearly.csv");

/// The Santa Fe laser file as embedded: `intensity`, 10,093 rows.
pub const SANTAFE_LASER_CSV: &str = include_str!("../data/santafe_laser.csv");

/// The digits file as embedded: `p0..p63,label`, 1,797 rows.
pub const DIGITS_CSV: &str = include_str!("../data/digits_8x8.csv");

/// Training years of the classic sunspot split (Weigend, Huberman & Rumelhart 1990).
pub const SUNSPOTS_TRAIN: RangeInclusive<i64> = 1700..=1920;

/// First test period of the classic sunspot split.
pub const SUNSPOTS_TEST1: RangeInclusive<i64> = 1921..=1955;

/// Second test period of the classic sunspot split.
pub const SUNSPOTS_TEST2: RangeInclusive<i64> = 1956..=1979;

/// The whole period of the classic sunspot studies, whose variance normalises their NMSE.
pub const SUNSPOTS_CLASSIC: RangeInclusive<i64> = 1700..=1979;

/// The yearly mean sunspot numbers 1700–2008, labelled by year.
///
/// ```
/// let s = rnn_data::sunspots().unwrap();
/// assert_eq!(s.len(), 309);
/// assert_eq!(s.get(1700), Some(5.0));
/// // The NMSE denominator of the classic studies: the variance of 1700–1979.
/// let classic = s.between(rnn_data::datasets::SUNSPOTS_CLASSIC).unwrap();
/// assert_eq!(classic.len(), 280);
/// ```
///
/// # Errors
/// None in practice: the embedded file is checked by the tests; a parse error would be a bug.
pub fn sunspots() -> Result<Series> {
    let table = CsvReader::new().columns(["YEAR", "SUNACTIVITY"]).read_str(SUNSPOTS_CSV)?;
    let years = table.column("YEAR")?;
    let mut labels = Vec::with_capacity(years.len());
    for (&y, &line) in years.iter().zip(table.lines()) {
        labels.push(integer(y, line, "YEAR", i64::MIN as f64, i64::MAX as f64)? as i64);
    }
    Series::new(labels, table.column("SUNACTIVITY")?.to_vec())
}

/// The Santa Fe laser series (data set A, continued): 10,093 intensities in 0–255.
///
/// ```
/// let x = rnn_data::santafe_laser().unwrap();
/// assert_eq!(x.len(), 10_093);
/// assert_eq!(&x[..3], &[86.0, 141.0, 95.0]);
/// ```
///
/// # Errors
/// None in practice: the embedded file is checked by the tests.
pub fn santafe_laser() -> Result<Vec<f64>> {
    let table = CsvReader::new().columns(["intensity"]).read_str(SANTAFE_LASER_CSV)?;
    Ok(table.column("intensity")?.to_vec())
}

/// The 8×8 handwritten digits: 1,797 images with their labels 0–9.
#[derive(Debug, Clone, PartialEq)]
pub struct Digits {
    images: DMatrix<f64>,
    labels: Vec<u8>,
}

impl Digits {
    /// The images, `64 × n`, one image per column; row 8r + c is the pixel in row r, column c
    /// of the image, a count 0–16.
    pub fn images(&self) -> &DMatrix<f64> {
        &self.images
    }

    /// The label 0–9 of each image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as 64 pixels in row-major order, or `None` past the end.
    pub fn image(&self, i: usize) -> Option<[f64; 64]> {
        let s = self.images.as_slice().get(64 * i..64 * (i + 1))?;
        let mut out = [0.0; 64];
        out.copy_from_slice(s);
        Some(out)
    }

    /// The labels as one-hot columns, `10 × n`: entry (k, i) is 1 if image i shows digit k.
    pub fn one_hot_labels(&self) -> DMatrix<f64> {
        DMatrix::from_fn(10, self.len(), |k, i| if usize::from(self.labels[i]) == k { 1.0 } else { 0.0 })
    }
}

/// The optical handwritten digits (UCI test part, as shipped by scikit-learn).
///
/// ```
/// let d = rnn_data::digits().unwrap();
/// assert_eq!((d.images().shape(), d.len()), ((64, 1797), 1797));
/// assert_eq!(&d.labels()[..4], &[0, 1, 2, 3]);
/// assert_eq!(d.image(0).unwrap()[2], 5.0);
/// ```
///
/// # Errors
/// None in practice: the embedded file is checked by the tests.
pub fn digits() -> Result<Digits> {
    let names = (0..64).map(|p| format!("p{p}")).chain(["label".to_string()]);
    let table = CsvReader::new().columns(names).read_str(DIGITS_CSV)?;
    let labels_col = table.column("label")?;
    let mut labels = Vec::with_capacity(labels_col.len());
    for (&l, &line) in labels_col.iter().zip(table.lines()) {
        labels.push(integer(l, line, "label", 0.0, 9.0)? as u8);
    }
    let pixels = table.columns();
    let images = DMatrix::from_fn(64, table.nrows(), |p, i| pixels[p][i]);
    Ok(Digits { images, labels })
}

/// `x` if it is an integer in [lo, hi], else [`Error::Parse`] at `line`, `column`.
fn integer(x: f64, line: usize, column: &str, lo: f64, hi: f64) -> Result<f64> {
    if x.fract() == 0.0 && x >= lo && x <= hi {
        Ok(x)
    } else {
        Err(Error::Parse {
            line,
            column: column.into(),
            message: format!("expected an integer in [{lo}, {hi}], got {x}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sunspots_parse_to_309_years() {
        let s = sunspots().unwrap();
        assert_eq!(s.len(), 309);
        assert_eq!(s.labels().first(), Some(&1700));
        assert_eq!(s.labels().last(), Some(&2008));
        assert!(s.labels().windows(2).all(|w| w[1] == w[0] + 1), "consecutive years");
        assert_eq!(&s.values()[..4], &[5.0, 11.0, 16.0, 23.0]);
        assert_eq!(s.get(2008), Some(2.9));
        assert!(s.values().iter().all(|&v| v >= 0.0));
        // The classic split covers 1700–1979 without gap or overlap.
        let parts = [SUNSPOTS_TRAIN, SUNSPOTS_TEST1, SUNSPOTS_TEST2].map(|r| s.between(r).unwrap().len());
        assert_eq!(parts, [221, 35, 24]);
        assert_eq!(parts.iter().sum::<usize>(), s.between(SUNSPOTS_CLASSIC).unwrap().len());
    }

    #[test]
    fn laser_and_digits() {
        let x = santafe_laser().unwrap();
        assert_eq!(x.len(), 10_093);
        assert!(x.iter().all(|&v| (0.0..=255.0).contains(&v) && v.fract() == 0.0));
        let d = digits().unwrap();
        assert_eq!(d.len(), 1797);
        assert!(d.images().iter().all(|&p| (0.0..=16.0).contains(&p)));
        let mut counts = [0usize; 10];
        d.labels().iter().for_each(|&l| counts[usize::from(l)] += 1);
        assert!(counts.iter().all(|&c| (170..=190).contains(&c)), "{counts:?}");
        let oh = d.one_hot_labels();
        assert_eq!(oh.shape(), (10, 1797));
        assert!(oh.column_iter().zip(d.labels()).all(|(c, &l)| c.sum() == 1.0 && c[usize::from(l)] == 1.0));
        assert_eq!(d.image(1797), None);
        assert!(!d.is_empty());
    }

    #[test]
    fn integer_check() {
        assert!(integer(3.0, 1, "x", 0.0, 9.0).is_ok());
        assert!(matches!(integer(3.5, 4, "x", 0.0, 9.0), Err(Error::Parse { line: 4, .. })));
        assert!(integer(10.0, 1, "x", 0.0, 9.0).is_err());
    }
}
