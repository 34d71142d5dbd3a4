package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.progress.ProgressListener;

/**
 * Options of the iterative eigensolvers, {@link Lanczos} and {@link PowerIteration}; start from {@link #defaults()} and change
 * fields with the {@code with*} methods.
 *
 * @param tol relative residual tolerance: a Ritz pair is converged when
 *        {@code |beta_m s_{m,i}| <= tol * max_j |theta_j|} (power iteration:
 *        {@code ||A x - lambda x|| <= tol * |lambda|}); default {@code 1e-10}
 * @param maxIterations Lanczos: the largest Krylov dimension (operator products), clipped to N;
 *        power iteration: products per eigenpair; 0 selects the default
 *        ({@code min(N, max(2k + 20, 60))} for Lanczos, 1000 for power iteration)
 * @param seed seed of the random start vector(s)
 * @param progress receives {@code (task, products done, maximum products)}
 */
public record EigensolverOptions(double tol, int maxIterations, long seed, ProgressListener progress) {
    public EigensolverOptions {
        if (!(tol > 0) || !Double.isFinite(tol)) {
            throw new IllegalArgumentException("EigensolverOptions: tol must be finite and > 0, got " + tol);
        }
        if (maxIterations < 0) {
            throw new IllegalArgumentException("EigensolverOptions: maxIterations must be >= 0 (0 = default), got " + maxIterations);
        }
        if (progress == null) {
            progress = ProgressListener.NONE;
        }
    }

    /** tol 1e-10, default iterations, seed 0, no progress. */
    public static EigensolverOptions defaults() {
        return new EigensolverOptions(1e-10, 0, 0L, ProgressListener.NONE);
    }

    public EigensolverOptions withTol(double value) {
        return new EigensolverOptions(value, maxIterations, seed, progress);
    }

    public EigensolverOptions withMaxIterations(int value) {
        return new EigensolverOptions(tol, value, seed, progress);
    }

    public EigensolverOptions withSeed(long value) {
        return new EigensolverOptions(tol, maxIterations, value, progress);
    }

    public EigensolverOptions withProgress(ProgressListener value) {
        return new EigensolverOptions(tol, maxIterations, seed, value);
    }
}
