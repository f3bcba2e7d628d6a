//! The sizes of each layer and where its weights lie in the flat parameter vector.
//!
//! A layer's net inputs are stacked in R = C + G rows, in this order: the C cell inputs, then
//! the input gates, forget gates (if any) and output gates, one per block each. Its recurrent
//! sources r(t) are the C cell outputs, then (with gate recurrence) the G gate activations in
//! the same order. Parameter blocks of layer l, in layout order:
//!
//! | name                   | shape   | present                      |
//! |------------------------|---------|------------------------------|
//! | `layer{l}.w_x`         | R × I_l | always                       |
//! | `layer{l}.w_h`         | R × H_s | always                       |
//! | `layer{l}.bias.cell`   | C × 1   | cell biases                  |
//! | `layer{l}.bias.input`  | nb × 1  | gate biases                  |
//! | `layer{l}.bias.forget` | nb × 1  | gate biases and forget gates |
//! | `layer{l}.bias.output` | nb × 1  | gate biases                  |
//! | `layer{l}.peep.input`  | C × 1   | peepholes                    |
//! | `layer{l}.peep.forget` | C × 1   | peepholes and forget gates   |
//! | `layer{l}.peep.output` | C × 1   | peepholes                    |
//!
//! then the head: `head.w` (O × C_top), `head.shortcut` (O × I), `head.bias` (O × 1).
//! The bias blocks of a layer are contiguous and follow the row order, so they are one slice
//! starting at row `bias_row`; so are the peepholes.

use std::ops::Range;

use rnn_core::{Error, ParamLayout, Result, alloc::checked_size};

use crate::LstmConfig;

/// The shape of one layer and the ranges of its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    /// I_l, the layer's input width.
    pub inputs: usize,
    /// nb, memory blocks.
    pub blocks: usize,
    /// S, cells per block.
    pub cells_per_block: usize,
    pub forget: bool,
    pub gate_recurrence: bool,
    pub w_x: Range<usize>,
    pub w_h: Range<usize>,
    /// The biases and the first row of R they belong to.
    pub bias: Option<(Range<usize>, usize)>,
    /// The peepholes: C for the input gates, C for the forget gates (if any), C for the output
    /// gates.
    pub peep: Option<Range<usize>>,
}

impl Layer {
    /// C, the cells.
    pub fn cells(&self) -> usize {
        self.blocks * self.cells_per_block
    }

    /// G, the gates.
    pub fn gates(&self) -> usize {
        self.blocks * (2 + self.forget as usize)
    }

    /// R, the rows of net input.
    pub fn rows(&self) -> usize {
        self.cells() + self.gates()
    }

    /// H_s, the recurrent sources.
    pub fn sources(&self) -> usize {
        self.cells() + if self.gate_recurrence { self.gates() } else { 0 }
    }

    /// The first row of the input gates.
    pub fn in_row(&self) -> usize {
        self.cells()
    }

    /// The first row of the forget gates (meaningful with forget gates).
    pub fn forget_row(&self) -> usize {
        self.cells() + self.blocks
    }

    /// The first row of the output gates.
    pub fn out_row(&self) -> usize {
        self.cells() + self.blocks * (1 + self.forget as usize)
    }
}

/// The ranges of the head's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadShape {
    pub outputs: usize,
    pub w: Range<usize>,
    pub shortcut: Option<Range<usize>>,
    pub bias: Option<Range<usize>>,
}

/// Every layer's shape, the head's, and the layout naming the blocks. The default (no layer) only
/// stands in while a network is deserialised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub layers: Vec<Layer>,
    pub head: Option<HeadShape>,
    pub layout: ParamLayout,
}

impl Geometry {
    /// The geometry of a validated configuration.
    pub fn of(config: &LstmConfig) -> Result<Self> {
        let mut layout = ParamLayout::new();
        let mut layers = Vec::with_capacity(config.blocks.len());
        let mut inputs = config.inputs;
        for (l, &blocks) in config.blocks.iter().enumerate() {
            // Every size the layer's methods compute (C, G, R = C + G ≥ H_s) must fit in usize.
            let cells = checked_size(
                &format!("cells of layer {l} (blocks × cells per block)"),
                blocks,
                config.cells_per_block,
            )?;
            let gates = checked_size(&format!("gates of layer {l}"), blocks, 2 + config.forget_gate as usize)?;
            cells.checked_add(gates).ok_or_else(|| Error::Allocation {
                what: format!("net-input rows of layer {l} (cells + gates)"),
                bytes: cells as u128 + gates as u128,
            })?;
            let mut layer = Layer {
                inputs,
                blocks,
                cells_per_block: config.cells_per_block,
                forget: config.forget_gate,
                gate_recurrence: config.gate_recurrence,
                w_x: 0..0,
                w_h: 0..0,
                bias: None,
                peep: None,
            };
            let (c, r, nb) = (layer.cells(), layer.rows(), blocks);
            layer.w_x = layout.try_push(format!("layer{l}.w_x"), r, inputs)?.range();
            layer.w_h = layout.try_push(format!("layer{l}.w_h"), r, layer.sources())?.range();
            let mut bias: Option<(Range<usize>, usize)> = None;
            let mut extend = |range: Range<usize>, row: usize| {
                bias = Some(match bias.take() {
                    None => (range, row),
                    Some((prev, first)) => (prev.start..range.end, first),
                });
            };
            if config.cell_bias {
                extend(layout.try_push(format!("layer{l}.bias.cell"), c, 1)?.range(), 0);
            }
            if config.gate_bias {
                extend(layout.try_push(format!("layer{l}.bias.input"), nb, 1)?.range(), layer.in_row());
                if config.forget_gate {
                    extend(layout.try_push(format!("layer{l}.bias.forget"), nb, 1)?.range(), layer.forget_row());
                }
                extend(layout.try_push(format!("layer{l}.bias.output"), nb, 1)?.range(), layer.out_row());
            }
            layer.bias = bias;
            if config.peepholes {
                let start = layout.try_push(format!("layer{l}.peep.input"), c, 1)?.range().start;
                if config.forget_gate {
                    layout.try_push(format!("layer{l}.peep.forget"), c, 1)?;
                }
                let end = layout.try_push(format!("layer{l}.peep.output"), c, 1)?.range().end;
                layer.peep = Some(start..end);
            }
            inputs = c;
            layers.push(layer);
        }
        let head = match &config.head {
            None => None,
            Some(h) => Some(HeadShape {
                outputs: h.outputs,
                w: layout.try_push("head.w", h.outputs, inputs)?.range(),
                shortcut: if h.shortcut {
                    Some(layout.try_push("head.shortcut", h.outputs, config.inputs)?.range())
                } else {
                    None
                },
                bias: if h.bias { Some(layout.try_push("head.bias", h.outputs, 1)?.range()) } else { None },
            }),
        };
        Ok(Self { layers, head, layout })
    }

    /// The top layer.
    pub fn top(&self) -> &Layer {
        self.layers.last().expect("a validated configuration has a layer")
    }
}
