//! Save and load: bit-identical predictions, and the kind and scalar checked.

use nalgebra::DMatrix;
use rnn_core::{Error, Parameters, Persist, SequenceModel, load, save};
use rnn_partial::{Backprop, Elman, ElmanConfig, Jordan, JordanConfig};

use crate::common::batch;

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rnn-partial-{}-{name}", std::process::id()))
}

#[test]
fn save_then_load_gives_identical_predictions() {
    let data = batch(2, 3, &[6, 4], 7);
    let mut elman = ElmanConfig::new(2, &[5, 3], 3).initial_context(0.5).backprop(Backprop::Truncated(2)).seed(1);
    elman.hidden_activations[1] = rnn_core::Activation::Relu;
    let mut e = elman.build::<f32>().unwrap();
    let data32 = rnn_core::SeqBatch::new(data.inputs().map(|v| v as f32), None, 6, 2).unwrap();
    let path = temp_path("elman.rnn");
    save(&e, &path).unwrap();
    let mut back: Elman<f32> = load(&path).unwrap();
    assert_eq!(back.params(), e.params());
    assert_eq!(back.config(), e.config());
    assert_eq!(back.forward(&data32).unwrap(), e.forward(&data32).unwrap());
    let x = DMatrix::from_element(2, 1, 0.25f32);
    let (mut s1, mut s2) = (e.initial_state(1).unwrap(), back.initial_state(1).unwrap());
    assert_eq!(e.step(&x, &mut s1).unwrap(), back.step(&x, &mut s2).unwrap());
    // The file holds an Elman net of f32: not a Jordan net, not f64.
    assert!(matches!(load::<Jordan<f32>>(&path), Err(Error::WrongModelKind { .. })));
    assert!(matches!(load::<Elman<f64>>(&path), Err(Error::WrongScalar { .. })));
    std::fs::remove_file(&path).unwrap();

    let mut j = JordanConfig::new(2, &[4], 3).mu(0.7).seed(2).build::<f64>().unwrap();
    let path = temp_path("jordan.rnn");
    save(&j, &path).unwrap();
    let mut back: Jordan<f64> = load(&path).unwrap();
    assert_eq!(back.mu(), 0.7);
    assert_eq!(back.forward(&data).unwrap(), j.forward(&data).unwrap());
    std::fs::remove_file(&path).unwrap();
    assert_eq!(<Elman<f32> as Persist>::KIND, "rnn-partial/elman");
    assert_eq!(<Jordan<f32> as Persist>::KIND, "rnn-partial/jordan");
}

#[test]
fn a_decoded_net_is_validated() {
    let mut e = ElmanConfig::new(1, &[2], 1).build::<f64>().unwrap();
    assert!(e.validate().is_ok());
    e.params_mut()[0] = f64::NAN;
    assert!(e.validate().is_err());
    // save refuses to write a file that would not load.
    assert!(save(&e, temp_path("nan.rnn")).is_err());
}
