"""A one-line progress bar for training and long sampling runs: step, loss, steps/s, time left.

    denoiser  1200/3000 [=========>            ]  loss 0.2113  410 steps/s  4 s left

Shown on stderr when it is a terminal or a notebook (``progress=None``, the default), always with
``progress=True``, never with ``progress=False``; a run that ends within ``delay`` seconds prints
nothing, so quick calls and the test suite stay silent. Twenty lines of our own instead of tqdm:
no run-time dependency, and a loss that is read only when the line is redrawn (reading a device
scalar synchronizes the GPU).
"""
import math
import sys
import time


def _interactive():
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class Bar:
    """``bar.update(step, loss=None)`` after each of ``total`` steps (from 0), then ``close()``."""

    def __init__(self, total, name, progress=None, delay=0.5, every=0.2):
        self.total, self.name, self.delay, self.every = int(total), name, delay, every
        self.on = _interactive() if progress is None else bool(progress)
        self.start = self.last = time.perf_counter()
        self.shown = False

    def update(self, step, loss=None):
        """Redraw if ``every`` s passed since the last line and ``delay`` s since the start."""
        if not self.on:
            return
        now = time.perf_counter()
        early = now - self.start < self.delay
        if early or (now - self.last < self.every and step + 1 < self.total):
            return
        self.last, self.shown = now, True
        done = step + 1
        rate = done / max(now - self.start, 1e-9)
        width = 24
        filled = int(width * done / max(self.total, 1))
        bar = "=" * filled + (">" if filled < width else "") + " " * max(0, width - filled - 1)
        loss_text = "" if loss is None else f"  loss {float(loss):.4g}"
        left = (self.total - done) / rate
        sys.stderr.write(f"\r{self.name}  {done}/{self.total} [{bar}]{loss_text}"
                         f"  {rate:.0f} steps/s  {_duration(left)} left ")
        sys.stderr.flush()

    def close(self):
        """End the line (if one was drawn)."""
        if self.shown:
            sys.stderr.write(f"  ({_duration(time.perf_counter() - self.start)})\n")
            sys.stderr.flush()
            self.shown = False


def _duration(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def steps(n, name, progress=None, start=0):
    """range(start, start + n) that draws a bar as it advances: ``for k in steps(n, "ULA")``."""
    bar = Bar(n, name, progress)
    try:
        for i in range(n):
            yield start + i
            bar.update(i)
    finally:
        bar.close()
