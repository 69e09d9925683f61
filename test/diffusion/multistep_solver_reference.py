#!/usr/bin/python3
"""diffusers' multistep ODE solvers in plain float64 PyTorch, the reference of the C++ ones.

A transcription (diffusers itself is not installed here) of the deterministic paths of
  DPMSolverMultistepScheduler  (scheduling_dpmsolver_multistep.py, algorithm_type "dpmsolver++")
  UniPCMultistepScheduler      (scheduling_unipc_multistep.py, predict_x0=True, solver_p None)
as diffusers has them since v0.28 (2024, final_sigmas_type in both). Followed functions:
  __init__          betas ("linear", "scaled_linear", "squaredcos_cap_v2" = betas_for_alpha_bar cosine
                    with max_beta 0.999), alphas_cumprod = cumprod(1 - betas),
                    training sigmas sqrt((1 - alphas_cumprod) / alphas_cumprod)
  set_timesteps     timestep_spacing "linspace" / "leading" (+ steps_offset) / "trailing", built with
                    numpy exactly as diffusers does (np.round rounds halves to even); DPM's
                    last_timestep is num_train_timesteps (lambda_min_clipped = -inf only);
                    sigmas = np.interp(timesteps, arange, training sigmas) (the table entry; clamped
                    at the ends as interp does), then the final sigma: 0 ("zero") or
                    sigma(alphas_cumprod[0]) ("sigma_min")
  _sigma_to_alpha_sigma_t   alpha = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha;
                    lambda = log(alpha) - log(sigma_t) (+inf at sigma 0)
  convert_model_output      data prediction x0: epsilon (x - sigma_t eps) / alpha_t, sample, v_prediction
                    alpha_t x - sigma_t v; then _threshold_sample when thresholding (per-image
                    torch.quantile of |x0| at dynamic_thresholding_ratio, clamped to
                    [1, sample_max_value], x0 clamped to [-s, s] and divided by s)
  DPM: dpm_solver_first_order_update, multistep_dpm_solver_second_order_update (midpoint / heun),
       multistep_dpm_solver_third_order_update, step(): the order is 1 when solver_order == 1, at the
       first step (lower_order_nums < 1) or at the last step when euler_at_final, or lower_order_final
       with len(timesteps) < 15, or final_sigmas_type == "zero"; 2 when solver_order == 2,
       lower_order_nums < 2, or at the second-to-last step with lower_order_final and
       len(timesteps) < 15; 3 otherwise.
  UniPC: multistep_uni_p_bh_update (predictor), multistep_uni_c_bh_update (corrector), step(): the
       corrector runs first at every step_index > 0 with step_index - 1 not in disable_corrector, on
       the sample the previous predictor returned, with that step's order, the new data prediction
       (converted from the uncorrected sample) and sigmas[step_index - 1] -> sigmas[step_index]; then
       order = min(solver_order, len(timesteps) - step_index) with lower_order_final (else
       solver_order), warm-up min(order, lower_order_nums + 1); B(h) = h ("bh1") or e^h - 1 ("bh2")
       with h -> -h for predict_x0; rhos_p = 0.5 for predictor order 2, rhos_c = 0.5 for corrector
       order 1, torch.linalg.solve otherwise.

Where this reference differs from diffusers on purpose:
  * float64 throughout: betas, alphas_cumprod and sigmas (diffusers: float32 betas and a float32
    sigma table, a float32 upcast of the sample in DPM's step) and the tensors.
  * Degenerate steps where diffusers' float arithmetic gives NaN but the equations have a limit:
    - a predictor step with h == 0 (sigma_t == sigma_s0: "sigma_min" with a last timestep of 0, which
      only "trailing" with N > 2/3 num_train_timesteps gives): the identity x_t = x_s, the limit of
      every order's formula (diffusers gets it for first order, DPM midpoint and UniPC order 2, NaN
      for DPM heun / third order and UniPC third order);
    - UniPC's first-order predictor to sigma 0 with "bh1": B(h) = -inf multiplies the empty
      correction sum (0) in diffusers, giving NaN; here the empty sum is left out, x_t = x0 pred.
    UniPC stepping to sigma 0 with order > 1 (lower_order_final False) diverges (r_k -> 0, the
    differences D1 -> inf; diffusers gives inf/NaN) and raises ValueError, as does anything outside
    the scope above (Karras/lu/exponential/beta/flow sigmas, trained_betas, other algorithm types,
    duplicate timesteps, a "trailing" schedule whose numpy arange yields N + 1 timesteps).
  * The step index starts at 0 and counts steps (diffusers' _init_step_index gives 0 for distinct
    timesteps).

Usage: /usr/bin/python3 multistep_solver_reference.py INPUT.safetensors OUTPUT.safetensors [INPUT OUTPUT ...]
(several cases in one run: one Python start-up). Each INPUT holds "sample" (the initial noise, float64 [B, C, H, W]), "model_output.K" for K = 0..N-1 (the
model's raw output at step K) and in its metadata "config" (JSON: solver "dpmsolver++" | "unipc",
num_inference_steps, num_train_timesteps, beta_start, beta_end, beta_schedule, timestep_spacing,
steps_offset, prediction_type, solver_order, solver_type, lower_order_final, euler_at_final (DPM),
final_sigmas_type, thresholding, dynamic_thresholding_ratio, sample_max_value, disable_corrector
(UniPC)). OUTPUT gets "timesteps" (int64 [N]), "sigmas" (float64 [N + 1]) and "sample.K", the sample
step K returns.
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import read_safetensors, write_safetensors  # noqa: E402

F64 = torch.float64


# ----------------------------------------------------------------------------- noise schedule

def training_betas(config):
    T = config["num_train_timesteps"]
    schedule = config["beta_schedule"]
    if schedule == "linear":
        return torch.linspace(config["beta_start"], config["beta_end"], T, dtype=F64)
    if schedule == "scaled_linear":
        return torch.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, T, dtype=F64) ** 2
    if schedule == "squaredcos_cap_v2":  # betas_for_alpha_bar, cosine, max_beta 0.999
        def alpha_bar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return torch.tensor([min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), 0.999) for i in range(T)],
                            dtype=F64)
    raise ValueError("beta_schedule %r is out of scope" % schedule)


def inference_timesteps(config, n):
    """set_timesteps' integer timesteps (numpy, as diffusers computes them)."""
    T = config["num_train_timesteps"]
    spacing = config["timestep_spacing"]
    if spacing == "linspace":
        return np.linspace(0, T - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
    if spacing == "leading":
        ratio = T // (n + 1)
        t = (np.arange(0, n + 1) * ratio).round()[::-1][:-1].copy().astype(np.int64)
        return t + int(config.get("steps_offset", 0))
    if spacing == "trailing":
        t = np.arange(T, 0, -T / n).round().copy().astype(np.int64)
        return t - 1
    raise ValueError("timestep_spacing %r is out of scope" % spacing)


def make_schedule(config):
    """Returns (timesteps int64 [N], sigmas float64 [N + 1])."""
    n = config["num_inference_steps"]
    alphas_cumprod = torch.cumprod(1.0 - training_betas(config), dim=0)
    table = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
    timesteps = torch.from_numpy(inference_timesteps(config, n))
    if len(timesteps) != n:
        raise ValueError("timestep_spacing %r gives %d timesteps for %d steps"
                         % (config["timestep_spacing"], len(timesteps), n))
    sigmas = table[timesteps.clamp(0, len(table) - 1)]  # np.interp at integer points, clamped at the ends
    final = config.get("final_sigmas_type", "zero")
    if final == "zero":
        last = torch.zeros(1, dtype=F64)
    elif final == "sigma_min":
        last = table[:1]  # ((1 - alphas_cumprod[0]) / alphas_cumprod[0]) ** 0.5
    else:
        raise ValueError("final_sigmas_type %r is out of scope" % final)
    if n > 1 and not bool((sigmas[1:] < sigmas[:-1]).all()):
        raise ValueError("duplicate timesteps are out of scope")
    return timesteps, torch.cat([sigmas, last])


def alpha_sigma(sigma):
    """_sigma_to_alpha_sigma_t and lambda = log(alpha) - log(sigma_t) of a 0-d float64 sigma."""
    alpha = 1 / (sigma ** 2 + 1) ** 0.5
    sigma_t = sigma * alpha
    return alpha, sigma_t, torch.log(alpha) - torch.log(sigma_t)


def threshold(x0, ratio, max_value):
    """_threshold_sample: dynamic thresholding per image."""
    flat = x0.reshape(x0.shape[0], -1)
    s = torch.quantile(flat.abs(), ratio, dim=1)
    s = torch.clamp(s, min=1, max=max_value).unsqueeze(1)
    return (torch.clamp(flat, -s, s) / s).reshape(x0.shape)


def data_prediction(config, model_output, sample, sigma):
    """convert_model_output for dpmsolver++ and for UniPC with predict_x0 (identical)."""
    alpha, sigma_t, _ = alpha_sigma(sigma)
    kind = config["prediction_type"]
    if kind == "epsilon":
        x0 = (sample - sigma_t * model_output) / alpha
    elif kind == "sample":
        x0 = model_output
    elif kind == "v_prediction":
        x0 = alpha * sample - sigma_t * model_output
    else:
        raise ValueError("prediction_type %r is out of scope" % kind)
    if config.get("thresholding", False):
        x0 = threshold(x0, config["dynamic_thresholding_ratio"], config["sample_max_value"])
    return x0


# ----------------------------------------------------------------------------- DPM-Solver++

class DPMSolverPlusPlus:
    """DPMSolverMultistepScheduler with algorithm_type "dpmsolver++" (no noise)."""

    def __init__(self, config, sigmas):
        self.config, self.sigmas = config, sigmas
        self.order = config["solver_order"]
        if self.order not in (1, 2, 3):
            raise ValueError("solver_order %r is out of scope" % self.order)
        if config["solver_type"] not in ("midpoint", "heun"):
            raise ValueError("solver_type %r is out of scope for dpmsolver++" % config["solver_type"])
        self.history = []  # data predictions of the last `order` steps, newest last
        self.lower_order_nums = 0
        self.index = 0

    def step(self, model_output, sample):
        c, i, n = self.config, self.index, len(self.sigmas) - 1
        short = c.get("lower_order_final", True) and n < 15
        first_at_last = i == n - 1 and (c.get("euler_at_final", False) or short
                                        or c.get("final_sigmas_type", "zero") == "zero")
        second_at_second_last = i == n - 2 and short

        x0 = data_prediction(c, model_output, sample, self.sigmas[i])
        self.history = (self.history + [x0])[-self.order:]
        if self.order == 1 or self.lower_order_nums < 1 or first_at_last:
            out = self.first_order(sample)
        elif self.order == 2 or self.lower_order_nums < 2 or second_at_second_last:
            out = self.second_order(sample)
        else:
            out = self.third_order(sample)
        self.lower_order_nums = min(self.lower_order_nums + 1, self.order)
        self.index += 1
        return out

    def _levels(self, count):
        """(alpha, sigma_t, lambda) at sigmas[i + 1], sigmas[i], sigmas[i - 1], ... (count of them)."""
        return [alpha_sigma(self.sigmas[self.index + 1 - k]) for k in range(count)]

    def first_order(self, x):
        (alpha_t, sigma_t, lambda_t), (_, sigma_s0, lambda_s0) = self._levels(2)
        h = lambda_t - lambda_s0  # +inf to sigma 0: exp(-h) = 0, x_t = x0 prediction
        return (sigma_t / sigma_s0) * x - (alpha_t * (torch.exp(-h) - 1.0)) * self.history[-1]

    def second_order(self, x):
        (alpha_t, sigma_t, lambda_t), (_, sigma_s0, lambda_s0), (_, _, lambda_s1) = self._levels(3)
        h, h_0 = lambda_t - lambda_s0, lambda_s0 - lambda_s1
        if h == 0:  # sigma_t == sigma_s0: the identity (diffusers: NaN for heun)
            return x.clone()
        m0, m1 = self.history[-1], self.history[-2]
        r0 = h_0 / h
        D0, D1 = m0, (1.0 / r0) * (m0 - m1)
        phi_1 = torch.exp(-h) - 1.0
        if self.config["solver_type"] == "midpoint":
            return (sigma_t / sigma_s0) * x - (alpha_t * phi_1) * D0 - 0.5 * (alpha_t * phi_1) * D1
        return (sigma_t / sigma_s0) * x - (alpha_t * phi_1) * D0 + (alpha_t * (phi_1 / h + 1.0)) * D1

    def third_order(self, x):
        levels = self._levels(4)
        (alpha_t, sigma_t, lambda_t), (_, sigma_s0, lambda_s0) = levels[:2]
        lambda_s1, lambda_s2 = levels[2][2], levels[3][2]
        h, h_0, h_1 = lambda_t - lambda_s0, lambda_s0 - lambda_s1, lambda_s1 - lambda_s2
        if h == 0:  # sigma_t == sigma_s0: the identity (diffusers: NaN)
            return x.clone()
        m0, m1, m2 = self.history[-1], self.history[-2], self.history[-3]
        r0, r1 = h_0 / h, h_1 / h
        D1_0, D1_1 = (1.0 / r0) * (m0 - m1), (1.0 / r1) * (m1 - m2)
        D1 = D1_0 + (r0 / (r0 + r1)) * (D1_0 - D1_1)
        D2 = (1.0 / (r0 + r1)) * (D1_0 - D1_1)
        phi_1 = torch.exp(-h) - 1.0
        return ((sigma_t / sigma_s0) * x - (alpha_t * phi_1) * m0 + (alpha_t * (phi_1 / h + 1.0)) * D1
                - (alpha_t * ((phi_1 + h) / h ** 2 - 0.5)) * D2)


# ----------------------------------------------------------------------------- UniPC

def bh_coefficients(h, rks, order, solver_type):
    """The B(h) system of multistep_uni_{p,c}_bh_update with predict_x0 (hh = -h):
    returns (h_phi_1 = e^hh - 1, B_h, R [order x order] with rows rks^(k-1), b [order])."""
    hh = -h
    h_phi_1 = torch.expm1(hh)
    h_phi_k = h_phi_1 / hh - 1
    if solver_type == "bh1":
        B_h = hh
    elif solver_type == "bh2":
        B_h = torch.expm1(hh)
    else:
        raise ValueError("solver_type %r is out of scope for unipc" % solver_type)
    factorial = 1
    R, b = [], []
    for k in range(1, order + 1):
        R.append(rks ** (k - 1))
        b.append(h_phi_k * factorial / B_h)
        factorial *= k + 1
        h_phi_k = h_phi_k / hh - 1 / factorial
    return h_phi_1, B_h, torch.stack(R), torch.stack(b)


def weighted_sum(weights, tensors):
    total = weights[0] * tensors[0]
    for w, t in zip(weights[1:], tensors[1:]):
        total = total + w * t
    return total


class UniPC:
    """UniPCMultistepScheduler with predict_x0 True and no solver_p."""

    def __init__(self, config, sigmas):
        self.config, self.sigmas = config, sigmas
        self.order = config["solver_order"]
        if self.order not in (1, 2, 3):
            raise ValueError("solver_order %r is out of scope" % self.order)
        if config["solver_type"] not in ("bh1", "bh2"):
            raise ValueError("solver_type %r is out of scope for unipc" % config["solver_type"])
        self.disable_corrector = list(config.get("disable_corrector", []) or [])
        self.history = []  # data predictions, newest last
        self.lower_order_nums = 0
        self.this_order = None
        self.last_sample = None
        self.index = 0

    def step(self, model_output, sample):
        c, i, n = self.config, self.index, len(self.sigmas) - 1
        x0 = data_prediction(c, model_output, sample, self.sigmas[i])  # at the uncorrected sample
        if i > 0 and (i - 1) not in self.disable_corrector and self.last_sample is not None:
            sample = self.corrector(x0, self.last_sample, sample, self.this_order)
        self.history = (self.history + [x0])[-self.order:]
        order = min(self.order, n - i) if c.get("lower_order_final", True) else self.order
        self.this_order = min(order, self.lower_order_nums + 1)
        self.last_sample = sample
        out = self.predictor(sample, self.this_order)
        self.lower_order_nums = min(self.lower_order_nums + 1, self.order)
        self.index += 1
        return out

    def predictor(self, x, order):
        """multistep_uni_p_bh_update: sigmas[i] -> sigmas[i + 1], history[-k-1] at sigmas[i - k]."""
        i = self.index
        alpha_t, sigma_t, lambda_t = alpha_sigma(self.sigmas[i + 1])
        _, sigma_s0, lambda_s0 = alpha_sigma(self.sigmas[i])
        h = lambda_t - lambda_s0
        if h == 0:  # sigma_t == sigma_s0: the identity (diffusers: NaN for order 3)
            return x.clone()
        if torch.isinf(h) and order > 1:
            raise ValueError("UniPC of order %d to sigma 0 diverges (diffusers: inf/NaN); "
                             "use lower_order_final" % order)
        m0 = self.history[-1]
        rks, D1s = [], []
        for k in range(1, order):
            rk = (alpha_sigma(self.sigmas[i - k])[2] - lambda_s0) / h
            rks.append(rk)
            D1s.append((self.history[-(k + 1)] - m0) / rk)
        rks = torch.stack(rks + [torch.ones((), dtype=F64)])
        h_phi_1, B_h, R, b = bh_coefficients(h, rks, order, self.config["solver_type"])
        x_t = sigma_t / sigma_s0 * x - alpha_t * h_phi_1 * m0
        if not D1s:  # empty correction sum (diffusers multiplies B_h by 0: NaN for bh1 to sigma 0)
            return x_t
        rhos_p = torch.tensor([0.5], dtype=F64) if order == 2 else torch.linalg.solve(R[:-1, :-1], b[:-1])
        return x_t - alpha_t * B_h * weighted_sum(rhos_p, D1s)

    def corrector(self, model_t, last_sample, this_sample, order):
        """multistep_uni_c_bh_update: corrects this_sample (at sigmas[i]) from last_sample (at
        sigmas[i - 1]); history is still the previous step's: history[-1] at sigmas[i - 1],
        history[-k-1] at sigmas[i - k - 1]; model_t is the new data prediction at sigmas[i]."""
        i = self.index
        alpha_t, sigma_t, lambda_t = alpha_sigma(self.sigmas[i])
        _, sigma_s0, lambda_s0 = alpha_sigma(self.sigmas[i - 1])
        h = lambda_t - lambda_s0
        m0 = self.history[-1]
        rks, D1s = [], []
        for k in range(1, order):
            rk = (alpha_sigma(self.sigmas[i - (k + 1)])[2] - lambda_s0) / h
            rks.append(rk)
            D1s.append((self.history[-(k + 1)] - m0) / rk)
        rks = torch.stack(rks + [torch.ones((), dtype=F64)])
        h_phi_1, B_h, R, b = bh_coefficients(h, rks, order, self.config["solver_type"])
        rhos_c = torch.tensor([0.5], dtype=F64) if order == 1 else torch.linalg.solve(R, b)
        x_t = sigma_t / sigma_s0 * last_sample - alpha_t * h_phi_1 * m0
        correction = rhos_c[-1] * (model_t - m0)
        if D1s:
            correction = weighted_sum(rhos_c[:-1], D1s) + correction
        return x_t - alpha_t * B_h * correction


# ----------------------------------------------------------------------------- driver

def run(config, sample, model_outputs):
    """set_timesteps(N), then sample = step(model_outputs[K], timesteps[K], sample) for each K.
    Returns (timesteps, sigmas, [sample after step K])."""
    timesteps, sigmas = make_schedule(config)
    solver = config["solver"]
    if solver == "dpmsolver++":
        scheduler = DPMSolverPlusPlus(config, sigmas)
    elif solver == "unipc":
        scheduler = UniPC(config, sigmas)
    else:
        raise ValueError("solver %r is out of scope" % solver)
    samples = []
    for model_output in model_outputs:
        sample = scheduler.step(model_output.to(F64), sample)
        samples.append(sample)
    return timesteps, sigmas, samples


def main(input_path, output_path):
    torch.set_num_threads(1)
    tensors, metadata = read_safetensors(input_path)
    config = json.loads(metadata["config"])
    n = config["num_inference_steps"]
    outputs = [tensors["model_output.%d" % k] for k in range(n)]
    timesteps, sigmas, samples = run(config, tensors["sample"].to(F64), outputs)
    result = {"timesteps": timesteps.to(torch.int64), "sigmas": sigmas}
    result.update({"sample.%d" % k: s.contiguous() for k, s in enumerate(samples)})
    write_safetensors(output_path, result)


if __name__ == "__main__":
    if len(sys.argv) < 3 or len(sys.argv) % 2 != 1:
        sys.exit("usage: multistep_solver_reference.py INPUT OUTPUT [INPUT OUTPUT ...]")
    for i in range(1, len(sys.argv), 2):
        main(sys.argv[i], sys.argv[i + 1])
