//! Correlated patterns: the handwritten digits' class prototypes.

use rnn_hopfield::{Dynamics, Hopfield, ModernHopfield, Pattern, Rule};

/// One prototype per digit class, the pixel-wise majority of the binarised images (pixel > 8 of
/// 16), and every image binarised with its label.
fn digits() -> (Vec<Pattern>, Vec<(Pattern, usize)>) {
    let d = rnn_data::digits().unwrap();
    let mut votes = vec![[0i32; 64]; 10];
    let mut images = Vec::new();
    for i in 0..d.len() {
        let img = d.image(i).unwrap();
        let label = usize::from(d.labels()[i]);
        let p = Pattern::threshold(&img, 8.0).unwrap();
        for (v, &s) in votes[label].iter_mut().zip(p.as_slice()) {
            *v += i32::from(s);
        }
        images.push((p, label));
    }
    let protos = votes.iter().map(|v| Pattern::bipolar(&v.map(|x| if x > 0 { 1 } else { -1 })).unwrap()).collect();
    (protos, images)
}

fn class_of(state: &Pattern, protos: &[Pattern]) -> usize {
    (0..protos.len()).min_by_key(|&k| state.hamming(&protos[k]).unwrap()).unwrap_or(0)
}

#[test]
fn storkey_beats_hebbian_on_digit_prototypes() {
    let (protos, images) = digits();
    let mut rng = rnn_core::rng::seeded(1);
    let cues: Vec<(Pattern, usize)> =
        images.iter().step_by(9).map(|(p, l)| (p.flipped(6, &mut rng).unwrap(), *l)).collect();
    let cue_patterns: Vec<Pattern> = cues.iter().map(|(p, _)| p.clone()).collect();
    let mut results = Vec::new();
    for rule in [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse()] {
        let net = Hopfield::<f64>::with_patterns(rule, &protos).unwrap();
        let fixed = net.fixed_points(&protos).unwrap().iter().filter(|&&f| f).count();
        let out = net.recall_batch(&cue_patterns, &Dynamics::asynchronous()).unwrap();
        let right = out.iter().zip(&cues).filter(|(r, (_, l))| class_of(&r.state, &protos) == *l).count();
        let exact = out.iter().zip(&cues).filter(|(r, (_, l))| r.is_pattern(*l)).count();
        eprintln!("{rule:?}: fixed {fixed}/10, right class {right}/{}, exact {exact}", cues.len());
        results.push((fixed, right, exact));
    }
    let modern = ModernHopfield::<f64>::from_patterns(&protos, 0.5).unwrap();
    let out = modern.recall_signs(&cue_patterns).unwrap();
    let right = out.iter().zip(&cues).filter(|(r, (_, l))| class_of(r, &protos) == *l).count();
    eprintln!("modern: right class {right}/{}", cues.len());
    let direct = cues.iter().filter(|(p, l)| class_of(p, &protos) == *l).count();
    eprintln!("nearest prototype of the cue: {direct}/{}", cues.len());
    let (hebb, storkey) = (results[0], results[1]);
    assert!(storkey.0 > hebb.0, "fixed prototypes: hebbian {}, storkey {}", hebb.0, storkey.0);
    assert!(storkey.1 > hebb.1, "right class: hebbian {}, storkey {}", hebb.1, storkey.1);
}
