package dev.curvlab.curvature.kfac;

import java.util.Locale;

/**
 * What replaces the output Hessian {@code H_i} of sample i in the curvature factors (mean loss, so
 * each carries the mean's {@code 1/Z}):
 * <ul>
 * <li>{@code EXACT}: {@code H_i} itself through its square root {@code H_i = R_i R_i^T} (type-2; the GGN);</li>
 * <li>{@code MC}: {@code (1/Z)(1/S) sum_s g_s g_s^T} with {@code g_s} the gradient of the per-sample loss in
 *     the outputs at a label drawn from the model's predictive distribution (seeded); its expectation is
 *     the Fisher, equal to {@code H_i} for mse, ce, bce and poisson;</li>
 * <li>{@code EMPIRICAL}: {@code (1/Z) g g^T} at the observed label.</li>
 * </ul>
 */
public enum KfacVariant {
    EXACT, MC, EMPIRICAL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
