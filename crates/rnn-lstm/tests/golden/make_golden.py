"""Golden data for checking rnn-lstm against PyTorch's nn.LSTM (forward pass and gradients).

Writes torch_lstm.json next to this script: three cases ("single", "stacked", "ragged"), each with
the LSTM's weights, inputs, outputs, final states, targets, the loss and the gradient of that loss
with respect to every weight and to the input. Everything is float64 on the CPU, with a fixed seed,
and floats are written with repr (shortest round-trip), so the numbers are exact to ~1e-15.

Rerun from the repository root with:
    /opt/torch-env/bin/python crates/rnn-lstm/tests/golden/make_golden.py
"""
import json
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

COMMAND = "/opt/torch-env/bin/python crates/rnn-lstm/tests/golden/make_golden.py"
SEED = 0
torch.set_default_dtype(torch.float64)
torch.manual_seed(SEED)

NOTES = (
    "Time-major, no batch_first. Each layer's weight_ih is 4H x I_l (I_0 = input_size, I_l = H above), "
    "weight_hh is 4H x H, written as a list of rows; the 4H rows are the gates in PyTorch's order "
    "(input i, forget f, cell g, output o), H rows each. With z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh: "
    "i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o), c_t = f*c_{t-1} + i*g, "
    "h_t = o*tanh(c_t); h_0 = c_0 = 0; layer l > 0 reads layer l-1's h (no dropout). "
    "output is the top layer's h, 0 at padded steps (t >= lengths[b]); h_n/c_n are each layer's state "
    "at step lengths[b]-1. loss = sum over valid steps t < lengths[b], b and units of 0.5*(output - target)^2; "
    "targets at padded steps are written as 0 and do not count. grad_* are d loss / d (that tensor), "
    "same shapes; grad_x is 0 at padded steps."
)


def reference_lstm(x, lengths, layers, H):
    """Plain re-implementation of the equations in NOTES, to check that they describe nn.LSTM."""
    T, B, _ = x.shape
    inp, h_n, c_n = x, [], []
    for w_ih, w_hh, b_ih, b_hh in layers:
        h, c, outs = torch.zeros(B, H), torch.zeros(B, H), []
        for t in range(T):
            z = inp[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            i, f, g, o = z[:, :H].sigmoid(), z[:, H:2*H].sigmoid(), z[:, 2*H:3*H].tanh(), z[:, 3*H:].sigmoid()
            valid = (t < lengths).unsqueeze(1)  # a finished sequence keeps its state
            c = torch.where(valid, f * c + i * g, c)
            h = torch.where(valid, o * c.tanh(), h)
            outs.append(torch.where(valid, h, torch.zeros_like(h)))
        inp = torch.stack(outs)
        h_n.append(h), c_n.append(c)
    return inp, torch.stack(h_n), torch.stack(c_n)


def make_case(name, I, H, L, T, B, lengths):
    lstm = torch.nn.LSTM(I, H, num_layers=L)
    with torch.no_grad():  # default init biases are U(-1/sqrt(H), 1/sqrt(H)); make them larger
        for l in range(L):
            getattr(lstm, f"bias_ih_l{l}").add_(0.5 * torch.randn(4 * H))
            getattr(lstm, f"bias_hh_l{l}").add_(0.5 * torch.randn(4 * H))
    x = torch.randn(T, B, I, requires_grad=True)
    lengths_t = torch.tensor(lengths)
    mask = (torch.arange(T).unsqueeze(1) < lengths_t).to(x.dtype).unsqueeze(2)  # [T][B][1]
    target = torch.randn(T, B, H) * mask

    if all(n == T for n in lengths):
        out, (h_n, c_n) = lstm(x)
    else:
        packed = pack_padded_sequence(x, lengths_t, enforce_sorted=False)
        out_packed, (h_n, c_n) = lstm(packed)  # h_n, c_n come back in the original batch order
        out, _ = pad_packed_sequence(out_packed, total_length=T)
        assert torch.all(out[mask.squeeze(2) == 0] == 0), "padded outputs must be exactly 0"
        for b, n in enumerate(lengths):
            assert torch.equal(h_n[-1, b], out[n - 1, b]), "h_n must be the output at the last real step"

    loss = (0.5 * (out - target) ** 2 * mask).sum()
    loss.backward()

    layers = [[getattr(lstm, f"{p}_l{l}") for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
              for l in range(L)]
    with torch.no_grad():  # the documented equations reproduce PyTorch to rounding
        for got, want in zip(reference_lstm(x, lengths_t, layers, H), (out, h_n, c_n)):
            assert torch.allclose(got, want, rtol=0, atol=1e-13), name

    def rows(t):
        return t.detach().tolist()

    return {
        "name": name, "input_size": I, "hidden_size": H, "num_layers": L, "steps": T, "batch": B,
        "lengths": lengths,
        "layers": [{
            "weight_ih": rows(w_ih), "weight_hh": rows(w_hh), "bias_ih": rows(b_ih), "bias_hh": rows(b_hh),
            "grad_weight_ih": rows(w_ih.grad), "grad_weight_hh": rows(w_hh.grad),
            "grad_bias_ih": rows(b_ih.grad), "grad_bias_hh": rows(b_hh.grad),
        } for w_ih, w_hh, b_ih, b_hh in layers],
        "x": rows(x), "output": rows(out), "h_n": rows(h_n), "c_n": rows(c_n),
        "target": rows(target), "loss": loss.item(), "grad_x": rows(x.grad),
    }


cases = [
    make_case("single", I=3, H=5, L=1, T=7, B=3, lengths=[7, 7, 7]),
    make_case("stacked", I=3, H=4, L=2, T=6, B=2, lengths=[6, 6]),
    make_case("ragged", I=2, H=4, L=1, T=6, B=3, lengths=[6, 4, 1]),
]
golden = {
    "generated_by": {"torch": torch.__version__, "command": COMMAND, "seed": SEED, "dtype": "float64"},
    "gate_order": ["i", "f", "g", "o"],
    "notes": NOTES,
    "cases": cases,
}
path = Path(__file__).with_name("torch_lstm.json")
path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")  # json writes floats with repr
print(f"wrote {path} ({path.stat().st_size} bytes)")
