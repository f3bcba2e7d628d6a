#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod capacity;
mod energy;
mod memory;
pub mod modern;
mod network;
pub mod pattern;
pub mod recall;
pub mod rules;
pub mod update;

pub use memory::AssociativeMemory;
pub use modern::{ModernDynamics, ModernHopfield, ModernRecall};
pub use network::Hopfield;
pub use pattern::Pattern;
pub use recall::{Nearest, Outcome, Recall, StateKind};
pub use rules::Rule;
pub use update::{Dynamics, Order, Update};

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn models_configs_and_results_are_send_and_sync() {
        send_sync::<crate::Hopfield<f32>>();
        send_sync::<crate::ModernHopfield<f64>>();
        send_sync::<crate::Pattern>();
        send_sync::<crate::Recall<f32>>();
        send_sync::<crate::ModernRecall<f32>>();
        send_sync::<crate::Dynamics>();
        send_sync::<crate::Rule>();
    }
}
