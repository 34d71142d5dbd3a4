package dev.curvlab.curvature.spectrum;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * k eigenpairs of an operator found iteratively ({@link Lanczos}, {@link PowerIteration}).
 *
 * @param values the eigenvalue estimates: descending for {@code LARGEST}, ascending for
 *        {@code SMALLEST}, descending by magnitude for {@code LARGEST_MAGNITUDE} and power iteration
 * @param vectors {@code [N, k]}, column {@code i} the unit eigenvector estimate of {@code values[i]}
 * @param iterations operator products (matrix-vector products) spent
 * @param residuals {@code [k]} residual norms {@code ||A x_i - values[i] x_i||} (for Lanczos the
 *        estimate {@code |beta_m s_{m,i}|}, equal to it in exact arithmetic)
 * @param converged true when every residual met the method's tolerance
 */
public record EigenResult(double[] values, INDArray vectors, int iterations, double[] residuals, boolean converged) {
    /** Number of eigenpairs k. */
    public int k() {
        return values.length;
    }
}
