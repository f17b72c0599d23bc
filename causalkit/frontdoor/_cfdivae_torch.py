"""The identifiable VAE of CFDiVAE in torch (imported only when a model is trained or used)."""

from __future__ import annotations

import math
import threading

import numpy as np
import torch
from torch import nn

_INIT_LOCK = threading.Lock()

_LOG_2PI = math.log(2.0 * math.pi)
_LOGVAR_BOUNDS = (-10.0, 10.0)


def _mlp(n_in, n_out, hidden, n_layers):
    layers, width = [], n_in
    for _ in range(n_layers):
        layers += [nn.Linear(width, hidden), nn.ELU()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class IVAE(nn.Module):
    """Prior p(Z | T, W), encoder q(Z | T, W, X) and decoder p(X | Z), all Gaussian in Z."""

    def __init__(self, n_proxies, n_cond, latent_dim, families, hidden, n_layers):
        super().__init__()
        self.config = {"n_proxies": n_proxies, "n_cond": n_cond, "latent_dim": latent_dim,
                       "families": list(families), "hidden": hidden, "n_layers": n_layers}
        self.latent_dim = latent_dim
        self.prior = _mlp(n_cond, 2 * latent_dim, hidden, n_layers)
        self.encoder = _mlp(n_cond + n_proxies, 2 * latent_dim, hidden, n_layers)
        self.decoder = _mlp(latent_dim, 2 * n_proxies, hidden, n_layers)
        normal = torch.tensor([f == "normal" for f in families])
        self.register_buffer("normal", normal)
        # standardisation of the inputs, set from the training data
        self.register_buffer("x_loc", torch.zeros(n_proxies))
        self.register_buffer("x_scale", torch.ones(n_proxies))
        self.register_buffer("c_loc", torch.zeros(n_cond))
        self.register_buffer("c_scale", torch.ones(n_cond))

    @staticmethod
    def _split(out):
        mu, logvar = out.chunk(2, dim=-1)
        return mu, logvar.clamp(*_LOGVAR_BOUNDS)

    def encode(self, x, c):
        return self._split(self.encoder(torch.cat([x, c], dim=-1)))

    def kl(self, mu_q, logvar_q, c):
        """KL(q(Z_k | T, W, X) || p(Z_k | T, W)) of each unit and latent dimension."""
        mu_p, logvar_p = self._split(self.prior(c))
        return 0.5 * (logvar_p - logvar_q
                      + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) * torch.exp(-logvar_p) - 1.0)

    def neg_elbo(self, x, c, eps):
        """Per-unit negative ELBO, -E_q[log p(x | z)] + KL(q || p), one reparameterised draw.

        ``eps=None`` uses the posterior mean (a deterministic validation criterion).
        """
        mu_q, logvar_q = self.encode(x, c)
        z = mu_q if eps is None else mu_q + torch.exp(0.5 * logvar_q) * eps
        mean, logvar = self._split(self.decoder(z))
        gauss = -0.5 * (_LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))
        bern = -nn.functional.binary_cross_entropy_with_logits(mean, x, reduction="none")
        log_px = torch.where(self.normal, gauss, bern).sum(dim=-1)
        return self.kl(mu_q, logvar_q, c).sum(dim=-1) - log_px


def _standardise(net, P, cond, device):
    x = torch.as_tensor(P, dtype=torch.float32, device=device)
    c = torch.as_tensor(cond, dtype=torch.float32, device=device)
    x = torch.where(net.normal, (x - net.x_loc) / net.x_scale, x)
    c = (c - net.c_loc) / net.c_scale
    return x, c


def train_ivae(P, cond, *, latent_dim, families, hidden, n_layers, epochs, batch_size, lr,
               lr_decay, weight_decay, early_stopping, validation_fraction, patience, device,
               seed, log=None):
    """Train the iVAE by minibatch Adam on the negative ELBO; return (net, history).

    ``log``, when given, is called once per epoch with the epoch's losses as text.
    """
    n, d_x = P.shape
    # the initial weights come from torch's global generator: seed it under a lock so that
    # trainings running in threads (joblib's threading backend) cannot interleave
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = IVAE(d_x, cond.shape[1], latent_dim, families, hidden, n_layers)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=gen).numpy()
    n_val = int(round(validation_fraction * n)) if early_stopping else 0
    val_idx, tr_idx = order[:n_val], order[n_val:]
    # standardise Gaussian proxies and the covariates (not the binary treatment column)
    normal = np.array([f == "normal" for f in families])
    x_loc = np.where(normal, P[tr_idx].mean(axis=0), 0.0)
    x_scale = np.where(normal, P[tr_idx].std(axis=0), 1.0)
    c_loc = cond[tr_idx].mean(axis=0)
    c_scale = cond[tr_idx].std(axis=0)
    c_loc[0], c_scale[0] = 0.0, 1.0
    x_scale[x_scale == 0] = 1.0
    c_scale[c_scale == 0] = 1.0
    for name, v in (("x_loc", x_loc), ("x_scale", x_scale), ("c_loc", c_loc), ("c_scale", c_scale)):
        getattr(net, name).copy_(torch.as_tensor(v, dtype=torch.float32))
    net = net.to(device)
    x_all, c_all = _standardise(net, P, cond, device)
    x_tr, c_tr = x_all[tr_idx], c_all[tr_idx]
    x_val, c_val = x_all[val_idx], c_all[val_idx]
    m = x_tr.shape[0]
    steps_per_epoch = max(1, math.ceil(m / batch_size))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    gamma = lr_decay ** (1.0 / (epochs * steps_per_epoch))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
    history = {"train": []}
    if early_stopping:
        history["validation"] = []
    best, best_state, bad = math.inf, None, 0
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(m, generator=gen).to(device)
        eps_all = torch.randn(m, latent_dim, generator=gen).to(device)
        total = 0.0
        for s in range(0, m, batch_size):
            idx = perm[s:s + batch_size]
            loss = net.neg_elbo(x_tr[idx], c_tr[idx], eps_all[s:s + idx.shape[0]]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * idx.shape[0]
        history["train"].append(total / m)
        msg = f"train loss {history['train'][-1]:.4f}"
        if early_stopping and n_val > 0:
            net.eval()
            with torch.no_grad():
                val = float(net.neg_elbo(x_val, c_val, None).mean())
            history["validation"].append(val)
            msg += f", validation {val:.4f}"
            if val < best - 1e-6:
                best, bad = val, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
        if log is not None:
            log(msg)
        if early_stopping and bad >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return net, history


def posterior(net, P, cond, *, device, with_kl=False, batch=65536):
    """Posterior means of Z in batches, and (``with_kl``) each dimension's average KL.

    The KL is that of q(Z_k | T, W, X) from the prior p(Z_k | T, W), in nats, averaged
    over units; ``None`` when ``with_kl`` is false.
    """
    net = net.to(device)
    means, total = [], None
    with torch.no_grad():
        x, c = _standardise(net, P, cond, device)
        for s in range(0, x.shape[0], batch):
            mu_q, logvar_q = net.encode(x[s:s + batch], c[s:s + batch])
            means.append(mu_q.cpu().numpy())
            if with_kl:
                part = net.kl(mu_q, logvar_q, c[s:s + batch]).sum(dim=0).cpu().numpy()
                total = part if total is None else total + part
    kl = None if total is None else total / x.shape[0]
    return np.concatenate(means).astype(float), kl


def net_to_numpy(net):
    """A picklable, device-free copy of the network's configuration and weights."""
    return {"_numpy_state": True, "config": dict(net.config),
            "state": {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}}


def net_from_numpy(state):
    c = state["config"]
    net = IVAE(c["n_proxies"], c["n_cond"], c["latent_dim"], c["families"], c["hidden"],
               c["n_layers"])
    net.load_state_dict({k: torch.as_tensor(v) for k, v in state["state"].items()})
    net.eval()
    return net
