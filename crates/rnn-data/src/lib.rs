#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod csv;
pub mod datasets;
pub mod generators;
pub mod metrics;
pub mod scale;
pub mod series;
pub mod window;

pub use datasets::{Digits, digits, santafe_laser, sunspots};
pub use scale::{MinMaxScaler, Scaler, ZScoreScaler};
pub use series::Series;
pub use window::{WindowSpec, Windows};

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn data_types_are_send_and_sync() {
        send_sync::<crate::Series>();
        send_sync::<crate::Windows>();
        send_sync::<crate::WindowSpec>();
        send_sync::<crate::Digits>();
        send_sync::<crate::MinMaxScaler>();
        send_sync::<crate::ZScoreScaler>();
        send_sync::<crate::csv::Table>();
        send_sync::<crate::csv::CsvReader>();
    }
}
