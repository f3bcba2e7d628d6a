"""Peak resident memory of PyTorch CPU nn.LSTM training steps at (I, H, T, B) = (64, 512, 50, 32), float32.

The peer of `cargo run --release -p rnn-lstm --example train_step_memory`: nn.LSTM(64, 512) (no head),
deterministic x (T, B, I) and targets (T, B, H), 5 training steps (zero grads, forward over every step, MSE
mean, backward, SGD step), torch.set_num_threads(2). Prints VmHWM (peak RSS) and VmRSS from /proc/self/status
(Linux; "unavailable" elsewhere) at: the bare interpreter, after `import torch` (importing torch alone costs
about 500 MiB), the baseline (after a warm-up training step of a tiny LSTM, which loads what torch loads lazily
on first use), after building data + model, and after the steps. Gradients are set to None before each step,
as in torch_rnn_bench.py, so they are allocated by each backward and count in the training increment (ours
too: the gradient buffer is zeroed by calloc and becomes resident when the first step writes it).

Usage: /opt/torch-env/bin/python benches/peers/lstm_memory.py
"""


def status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def report(stage):
    hwm, rss = status_kb("VmHWM"), status_kb("VmRSS")
    show = lambda kb: "unavailable" if kb is None else f"{kb / 1024:8.1f} MiB"
    print(f"{stage:<14} VmHWM {show(hwm)}   VmRSS {show(rss)}", flush=True)
    return hwm


interp = report("interpreter")
import torch  # noqa: E402

I, H, T, B, STEPS = 64, 512, 50, 32, 5
torch.set_num_threads(2)
imported = report("import torch")

# Warm-up: one training step of a tiny LSTM, so that the code and libraries torch loads lazily on first
# use (autograd engine, optimizer, kernels) count in the baseline, not in the LSTM's memory.
tiny = torch.nn.LSTM(2, 2)
tiny_opt = torch.optim.SGD(tiny.parameters(), lr=0.1)
tiny_out, _ = tiny(torch.zeros(3, 1, 2))
(tiny_out ** 2).mean().backward()
tiny_opt.step()
del tiny, tiny_opt, tiny_out
baseline = report("baseline")

torch.manual_seed(0)
t = torch.arange(T * B, dtype=torch.float32).reshape(T, B, 1)
x = torch.sin(0.37 * torch.arange(I, dtype=torch.float32) + 0.011 * t) * 0.5
y = torch.cos(0.23 * torch.arange(H, dtype=torch.float32) - 0.017 * t) * 0.4
mod = torch.nn.LSTM(I, H, batch_first=False)
opt = torch.optim.SGD(mod.parameters(), lr=0.1)
setup = report("after setup")

for step in range(STEPS):
    opt.zero_grad(set_to_none=True)
    out, _ = mod(x)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    opt.step()
    print(f"step {step}: loss {loss.item():.6f}", flush=True)
steps = report("after steps")

nparams = sum(p.numel() for p in mod.parameters())
print(f"parameters     {nparams} ({nparams * 4 / 2**20:.1f} MiB; the gradient as much again)")
print(f"torch          {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")
if None not in (interp, imported, baseline, setup, steps):
    mib = lambda kb: kb / 1024
    print(f"increments     import torch {mib(imported - interp):.1f} MiB, warm-up {mib(baseline - imported):.1f} MiB, setup {mib(setup - baseline):.1f} MiB, "
          f"training steps {mib(steps - setup):.1f} MiB (peak over baseline {mib(steps - baseline):.1f} MiB)")
