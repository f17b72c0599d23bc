"""CFDiVAE on a GPU: does ``device="auto"`` work there, is it reproducible, and what does it cost?

CFDiVAE is the one estimator that trains a neural network; ``device="auto"`` picks CUDA
when torch sees a GPU. This script, run on a machine with one, checks three things:

* the fit runs on CUDA and its estimate agrees with the CPU fit's (both are draws of
  the same estimator with different random streams, so they agree within a few SEs,
  not to rounding);
* the same ``random_state`` gives the same numbers twice on CUDA;
* fit time on CUDA beside the CPU (wall and process CPU time), at several N, with the
  CPU and CUDA fits alternating; and the refit bootstrap's cost on CUDA.

Run: ``python benchmarks/gpu_check.py --out results.json``. Without a GPU it says so and
times the CPU only. The results of the last run are in ``benchmarks/results/cfdivae_gpu.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _fit(d, device, **kw):
    from causalkit.frontdoor import CFDiVAE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w0, c0 = time.perf_counter(), time.process_time()
        est = CFDiVAE(random_state=0, device=device, **kw).fit(
            d.X, d.y, treatment=d.treatment, proxies=d.proxies)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    e = est.ate()
    return {"device": est.device_, "value": float(e.value), "stderr": float(e.stderr),
            "wall_s": wall, "cpu_s": cpu, "epochs": len(est.history_["train"])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--sizes", default="4000,20000,100000")
    ap.add_argument("--cpu-max", type=int, default=20000,
                    help="largest N also fitted on the CPU")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-boot-refit", type=int, default=20)
    a = ap.parse_args(argv)

    import torch

    from causalkit.datasets import make_cfd_data

    cuda = torch.cuda.is_available()
    res = {"python": platform.python_version(), "torch": torch.__version__, "cuda": cuda,
           "gpu": torch.cuda.get_device_name(0) if cuda else None,
           "cpu_threads": torch.get_num_threads(), "fits": [], "checks": {}}
    print(json.dumps({k: res[k] for k in ("python", "torch", "cuda", "gpu", "cpu_threads")}),
          flush=True)
    devices = ["cpu", "cuda"] if cuda else ["cpu"]
    if cuda:  # first CUDA use pays for the context and kernels: not part of any timing
        _fit(make_cfd_data(2000, random_state=1), "cuda", n_boot=2)

    for n in [int(s) for s in a.sizes.split(",")]:
        d = make_cfd_data(n, random_state=0)
        for r in range(a.repeats):
            for dev in (devices if r % 2 == 0 else devices[::-1]):  # alternate the order
                if dev == "cpu" and n > a.cpu_max:
                    continue
                row = {"n": n, "repeat": r, **_fit(d, dev)}
                res["fits"].append(row)
                print(json.dumps(row), flush=True)

    d = make_cfd_data(4000, random_state=0)
    if cuda:
        a1, a2 = _fit(d, "cuda"), _fit(d, "cuda")
        res["checks"]["cuda_same_seed_abs_diff"] = abs(a1["value"] - a2["value"])
        c = _fit(d, "cpu")
        se = (a1["stderr"] ** 2 + c["stderr"] ** 2) ** 0.5
        res["checks"]["cuda_vs_cpu_gap_in_se"] = abs(a1["value"] - c["value"]) / se
        res["checks"]["truth"] = float(d.true_ate)
        res["checks"]["cuda_value"], res["checks"]["cpu_value"] = a1["value"], c["value"]
        print(json.dumps(res["checks"]), flush=True)
    for dev in devices:
        row = {"n": 4000, "bootstrap": "refit", "n_boot": a.n_boot_refit,
               **_fit(d, dev, bootstrap="refit", n_boot=a.n_boot_refit)}
        res["fits"].append(row)
        print(json.dumps(row), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
