"""The conditional GAN's value (Eq. (64)) written as a student would, in plain NumPy, with
switchable mistakes; plus correct variants written otherwise.

MUTANTS maps (exercise, mistake) to (the properties that must fail, a substring of the named
mistake that some failing property must report)."""
import functools

import numpy as np


def variant(fn, **flags):
    f = functools.partial(fn, **flags)
    return functools.update_wrapper(f, fn)


def conditional_value(discriminator, x_real, labels_real, x_fake, labels_fake, mistake=None):
    if mistake == "ignore_labels":                  # D(x|y) used as if it were D(x)
        labels_real, labels_fake = 0 * labels_real, 0 * labels_fake
    if mistake == "real_labels_on_fakes":           # the fakes judged with the batch's labels
        labels_fake = labels_real
    if mistake == "swap_labels":
        labels_real, labels_fake = labels_fake, labels_real
    log_real = np.log(discriminator(x_real, labels_real))
    d_fake = discriminator(x_fake, labels_fake)
    log_fake = np.log(d_fake) if mistake == "log_d_fake" else np.log(1.0 - d_fake)
    if mistake == "per_label_mean":                 # each label's value, equal weights
        ks = np.unique(np.concatenate([labels_real, labels_fake]))
        return float(np.mean([log_real[labels_real == k].mean() + log_fake[labels_fake == k].mean()
                              for k in ks]))
    v = float(np.mean(log_real) + np.mean(log_fake))
    return -v if mistake == "negated" else v


def value_label_by_label(discriminator, x_real, labels_real, x_fake, labels_fake):
    """Correct, written otherwise: one call of D per label, each label's sum weighed by its
    frequency, log1p for log(1 - D)."""
    total = 0.0
    for x, y, term, n in ((x_real, labels_real, np.log, len(labels_real)),
                          (x_fake, labels_fake, lambda d: np.log1p(-d), len(labels_fake))):
        for k in np.unique(y):
            idx = np.flatnonzero(y == k)
            total += float(np.sum(term(discriminator(x[idx], y[idx])))) / n
    return total


FUNCTIONS = {"conditional_value": conditional_value}
CORRECT = {"conditional_value": [value_label_by_label, conditional_value]}
ALL = {"monte_carlo_value", "theorem1_per_label"}
MUTANTS = {
    ("conditional_value", "ignore_labels"): (ALL, "labels ignored"),
    ("conditional_value", "real_labels_on_fakes"): (ALL, "fakes judged with the data's labels"),
    ("conditional_value", "swap_labels"): (ALL, "labels_real and labels_fake swapped"),
    ("conditional_value", "log_d_fake"): (ALL, "in place of log(1 - D"),
    ("conditional_value", "per_label_mean"): (ALL, "pi(y) dropped"),
    ("conditional_value", "negated"): (ALL, ""),
}
