package dev.curvlab.curvature.inference;

import dev.curvlab.curvature.spectrum.SymmetricEigen;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.special.Erf;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asymptotic (Wald) inference from the observed Fisher information {@code I = -d2 log L / d theta2}
 * {@code [N, N]} at a maximum-likelihood estimate (e.g. {@code ObservedFisherOperator.toDense}):
 * {@code Cov(theta_hat) ~ I^{-1}}, standard errors {@code sqrt(diag(I^{-1}))}, and
 * {@code z = theta_hat / SE} with two-sided p-value {@code 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2)}
 * (e.g. Pawitan, <i>In All Likelihood</i>, 2001, ch. 9; Wasserman, <i>All of Statistics</i>, 9.7).
 *
 * <p>The inverse comes from the eigen-decomposition {@code I = V diag(lambda) V^T}:
 * {@code I^{-1} = V diag(1/lambda) V^T}, and {@code diag(I^{-1})_i = sum_j V_ij^2 / lambda_j}.
 * Eigenvalues {@code lambda <= relTol * max lambda} (including negative ones: theta is then not a
 * maximum) make I singular for inference; {@link SingularPolicy} decides what happens. The default
 * relTol is {@code N * 2^-52} (as numpy/scipy use for rank decisions).
 */
public final class FisherInference {
    private static final Logger LOG = LoggerFactory.getLogger(FisherInference.class);

    private FisherInference() {
    }

    /** What to do when the information matrix is singular, near singular or indefinite. */
    public enum SingularPolicy {
        /** Throw an {@link IllegalStateException} describing the offending eigenvalues. */
        ERROR,
        /**
         * Invert only eigenvalues above the tolerance (drop the others, logging a warning): the
         * Moore-Penrose pseudo-inverse when I is positive semidefinite. Standard errors then describe
         * only the identified directions.
         */
        PSEUDO_INVERSE
    }

    /**
     * @param matrix the covariance {@code I^{-1}} (or pseudo-inverse) {@code [N, N]}
     * @param standardErrors {@code sqrt(diag(matrix)) [N]}
     * @param droppedDirections eigen-directions not inverted (0 for a regular I)
     */
    public record Covariance(INDArray matrix, INDArray standardErrors, int droppedDirections) {
    }

    /** One row of a Wald table: {@code z = estimate / standardError}, two-sided normal p-value. */
    public record Coefficient(String name, double estimate, double standardError, double z, double pValue) {
    }

    /** {@link #covariance(INDArray, SingularPolicy, double)} with relTol {@code N * 2^-52}. */
    public static Covariance covariance(INDArray fisher, SingularPolicy policy) {
        return covariance(fisher, policy, defaultTol(fisher));
    }

    /**
     * The covariance {@code I^{-1}} of the estimate from the symmetric observed Fisher information
     * {@code fisher [N, N]}; eigenvalues {@code <= relTol * max lambda} are handled by {@code policy}.
     */
    public static Covariance covariance(INDArray fisher, SingularPolicy policy, double relTol) {
        if (!(relTol >= 0) || !Double.isFinite(relTol)) {
            throw new IllegalArgumentException("relTol must be finite and >= 0, got " + relTol);
        }
        SymmetricEigen.Decomposition e = SymmetricEigen.decompose(fisher);
        double[] l = e.values();
        int n = l.length;
        double max = l[n - 1];
        double tol = relTol * Math.max(max, 0);
        int dropped = 0;
        while (dropped < n && !(l[dropped] > tol)) {
            dropped++;   // ascending: the dropped ones are a prefix
        }
        if (dropped > 0) {
            if (policy == SingularPolicy.ERROR) {
                throw new IllegalStateException(singularMessage(l, dropped, relTol, tol));
            }
            LOG.warn("Fisher information [{}, {}]: pseudo-inverse drops {} of {} eigen-directions (eigenvalues <= {} = {} * largest {}; "
                    + "smallest {}); standard errors cover only the identified directions", n, n, dropped, n, tol, relTol, max, l[0]);
        }
        int kept = n - dropped;
        if (kept == 0) {
            INDArray zeros = Nd4j.zeros(DataType.DOUBLE, n, n);
            return new Covariance(zeros, Nd4j.zeros(DataType.DOUBLE, n), dropped);
        }
        INDArray v = e.vectors().get(NDArrayIndex.all(), NDArrayIndex.interval(dropped, n));       // [N, kept]
        INDArray inv = Nd4j.create(Arrays.copyOfRange(invert(l), dropped, n), new long[] {1, kept}, DataType.DOUBLE);
        INDArray scaled = v.mulRowVector(inv);                                                  // V diag(1/lambda)
        INDArray product = scaled.mmul(v.transpose());
        INDArray cov = product.add(product.transpose()).muli(0.5);                               // exactly symmetric
        INDArray diag = v.mul(scaled).sum(1);                                                   // sum_j V_ij^2 / lambda_j >= 0
        return new Covariance(cov, Transforms.sqrt(diag, false).reshape(n), dropped);
    }

    /** {@code sqrt(diag(I^{-1}))} with {@link SingularPolicy#ERROR}. */
    public static INDArray standardErrors(INDArray fisher) {
        return covariance(fisher, SingularPolicy.ERROR).standardErrors();
    }

    /**
     * A Wald table: for each parameter {@code z = estimate / SE} and
     * {@code p = erfc(|z| / sqrt 2)}; {@code names} may be null ({@code theta[i]}). SE = 0 gives
     * {@code z = +-Infinity, p = 0} (NaN z and p when the estimate is also 0).
     */
    public static List<Coefficient> coefficients(INDArray estimates, INDArray standardErrors, List<String> names) {
        double[] est = vector(estimates, "estimates");
        double[] se = vector(standardErrors, "standardErrors");
        if (est.length != se.length) {
            throw new IllegalArgumentException("coefficients: " + est.length + " estimates but " + se.length + " standard errors");
        }
        if (names != null && names.size() != est.length) {
            throw new IllegalArgumentException("coefficients: " + est.length + " estimates but " + names.size() + " names");
        }
        List<Coefficient> out = new ArrayList<>(est.length);
        for (int i = 0; i < est.length; i++) {
            if (se[i] < 0) {
                throw new IllegalArgumentException("coefficients: negative standard error " + se[i] + " at " + i);
            }
            double z = est[i] / se[i];
            out.add(new Coefficient(names == null ? "theta[" + i + "]" : names.get(i), est[i], se[i], z, pValue(z)));
        }
        return out;
    }

    /** Two-sided normal p-value {@code 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2)} (accurate far in the tail). */
    public static double pValue(double z) {
        if (Double.isNaN(z)) {
            return Double.NaN;
        }
        return Erf.erfc(Math.abs(z) / Math.sqrt(2.0));
    }

    private static double defaultTol(INDArray fisher) {
        long n = fisher.rank() == 2 ? Math.max(1, fisher.size(0)) : 1;
        return n * Math.ulp(1.0);
    }

    private static double[] invert(double[] l) {
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = 1.0 / l[i];
        }
        return out;
    }

    private static double[] vector(INDArray a, String what) {
        if (a == null || (a.rank() != 1 && !(a.rank() == 2 && (a.size(0) == 1 || a.size(1) == 1)))) {
            throw new IllegalArgumentException("coefficients: " + what + " must be a vector [N], got "
                    + (a == null ? "null" : Arrays.toString(a.shape())));
        }
        return a.castTo(DataType.DOUBLE).reshape(a.length()).toDoubleVector();
    }

    private static String singularMessage(double[] l, int dropped, double relTol, double tol) {
        int n = l.length;
        int negative = 0;
        for (double v : l) {
            if (v < -tol) {
                negative++;   // clearly negative; rounding-level negatives count as zero
            }
        }
        return String.format("observed Fisher information [%d, %d] is %s: smallest eigenvalue %.6g, largest %.6g; %d of %d eigenvalues are "
                + "non-positive or below %.3g (= %.3g * largest)%s. The covariance (its inverse) does not exist: some parameter "
                + "combinations are not identified by the data, or theta is not a maximum of the likelihood. Use "
                + "SingularPolicy.PSEUDO_INVERSE for a pseudo-inverse (standard errors of the identified directions only), "
                + "or reparameterise/regularise the model.",
                n, n, negative > 0 ? "not positive definite" : "singular", l[0], l[n - 1], dropped, n, tol, relTol,
                negative > 0 ? " (" + negative + " negative beyond rounding)" : "");
    }
}
