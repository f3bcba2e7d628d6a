"""Peer baseline: PyTorch CPU LSTM / Elman (nn.RNN tanh) training step and inference.
Prints one JSON line per configuration. Usage: python torch_rnn_bench.py [--threads N] [--kinds elman,lstm]

Copied from the team's shared peer baseline (shared/peers/torch_rnn_bench.py); the only change is the
optional --kinds filter, so that `cargo xtask bench --peers` times only the kinds this workspace has."""
import json, sys, time, torch
threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else torch.get_num_threads()
kinds = sys.argv[sys.argv.index("--kinds") + 1].split(",") if "--kinds" in sys.argv else ["lstm", "elman"]
torch.set_num_threads(threads)
torch.manual_seed(0)

def bench(fn, min_time=1.0):
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn(); n += 1
        el = time.perf_counter() - t0
        if el > min_time and n >= 3:
            return el / n

def lstm_flops(I, H, T, B):  # forward matmul flops; backward ~2x
    return 2 * 4 * H * (I + H) * T * B

for kind in [k for k in ("lstm", "elman") if k in kinds]:
    for (I, H, T, B) in [(1, 32, 100, 1), (1, 32, 100, 32), (16, 128, 100, 32), (64, 512, 50, 32), (8, 128, 100, 1)]:
        mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.RNN)(I, H, batch_first=False)
        x = torch.randn(T, B, I)
        y = torch.randn(T, B, H)
        opt = torch.optim.SGD(mod.parameters(), lr=1e-3)
        def train():
            opt.zero_grad(set_to_none=True)
            out, _ = mod(x)
            loss = ((out - y) ** 2).mean()
            loss.backward()
            opt.step()
        def infer():
            with torch.no_grad():
                mod(x)
        tt, ti = bench(train), bench(infer)
        g = 4 if kind == "lstm" else 1
        fl = 2 * g * H * (I + H) * T * B
        print(json.dumps(dict(peer="torch", ver=torch.__version__, threads=threads, kind=kind, I=I, H=H, T=T, B=B,
                              train_step_s=tt, infer_s=ti, train_steps_per_s=1/tt,
                              infer_gflops=fl/ti/1e9, train_gflops=3*fl/tt/1e9)), flush=True)

# GEMM peak on this machine (the physical limit reference)
for n in (256, 1024):
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = bench(lambda: a @ b, 0.5)
    print(json.dumps(dict(peer="torch", kind="sgemm", n=n, threads=threads, gflops=2*n**3/t/1e9)), flush=True)
