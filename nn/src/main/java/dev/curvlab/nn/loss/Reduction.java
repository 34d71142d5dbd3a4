package dev.curvlab.nn.loss;

/** How per-element losses are combined into one number. */
public enum Reduction {
    /** The loss as trained and reported: the sum divided by {@link Loss#normalizer}. */
    MEAN,
    /** The plain sum over samples (and outputs) of the per-element loss. */
    SUM,
    /** The negative log-likelihood of the targets under the model's predictive distribution, summed over samples (up to a parameter-free constant). */
    NLL
}
