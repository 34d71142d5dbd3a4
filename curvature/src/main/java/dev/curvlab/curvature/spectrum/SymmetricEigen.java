package dev.curvlab.curvature.spectrum;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dense symmetric eigen-decomposition {@code A = V diag(lambda) V^T} of a materialised curvature
 * matrix {@code A [N, N]} (float64), through LAPACK {@code dsyev} (the routine behind ND4J's
 * {@code Eigen.symmetricGeneralizedEigenvalues(A, true)}, called here directly so that its
 * {@code info} code is checked). Cost {@code O(N^3)} time, two {@code [N, N]} arrays.
 *
 * <p>The input is validated (rank 2, square, non-empty, finite, symmetric to
 * {@value #SYMMETRY_TOL} relative to {@code max|A|}) and then symmetrised as {@code (A + A^T)/2}, so
 * that both triangles count; it is never modified. Eigenvalues are ascending; eigenvector
 * {@code i} is column {@code i} of {@code vectors} (unit norm, sign as LAPACK returns it).
 */
public final class SymmetricEigen {
    /** Largest accepted {@code max|A - A^T| / max|A|}. */
    public static final double SYMMETRY_TOL = 1e-8;

    private SymmetricEigen() {
    }

    /**
     * @param values ascending eigenvalues {@code [N]}
     * @param vectors {@code [N, N]}, column {@code i} the unit eigenvector of {@code values[i]}
     */
    public record Decomposition(double[] values, INDArray vectors) {
    }

    /**
     * A spectrum at a glance. With {@code tol = relTol * max|lambda|}: {@code nearZero} counts
     * {@code |lambda| <= tol}, {@code negative} counts {@code lambda < -tol} (clearly negative, not
     * near zero), and {@code condition = max|lambda| / min{|lambda| : |lambda| > tol}} is the
     * condition number of the matrix restricted to its numerically non-singular part (+Infinity when
     * no eigenvalue exceeds tol, e.g. for the zero matrix). A matrix is numerically singular when
     * {@code nearZero > 0}.
     */
    public record Summary(double min, double max, int negative, int nearZero, double condition) {
    }

    /** Ascending eigenvalues of the symmetric matrix {@code [N, N]} (no eigenvectors computed). */
    public static double[] eigenvalues(INDArray symmetric) {
        INDArray work = symmetrised(symmetric);
        return syev(work, false);
    }

    /** Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix {@code [N, N]}. */
    public static Decomposition decompose(INDArray symmetric) {
        INDArray work = symmetrised(symmetric);
        double[] values = syev(work, true);
        return new Decomposition(values, work);
    }

    /** See {@link Summary}; {@code relTol >= 0}. */
    public static Summary summarize(double[] values, double relTol) {
        if (values.length == 0) {
            throw new IllegalArgumentException("summarize: no eigenvalues");
        }
        if (!(relTol >= 0) || Double.isInfinite(relTol)) {
            throw new IllegalArgumentException("summarize: relTol must be finite and >= 0, got " + relTol);
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double maxAbs = 0;
        for (double v : values) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("summarize: non-finite eigenvalue " + v);
            }
            min = Math.min(min, v);
            max = Math.max(max, v);
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        double tol = relTol * maxAbs;
        int negative = 0;
        int nearZero = 0;
        double minAbove = Double.POSITIVE_INFINITY;
        for (double v : values) {
            double a = Math.abs(v);
            if (a <= tol) {
                nearZero++;
            } else {
                minAbove = Math.min(minAbove, a);
                if (v < 0) {
                    negative++;
                }
            }
        }
        double condition = Double.isInfinite(minAbove) ? Double.POSITIVE_INFINITY : maxAbs / minAbove;
        return new Summary(min, max, negative, nearZero, condition);
    }

    /**
     * Checks that {@code a} is a finite, symmetric, non-empty square float64-convertible matrix and
     * returns a fresh c-order float64 copy of {@code (A + A^T)/2}.
     */
    static INDArray symmetrised(INDArray a) {
        long n = requireSquareFinite(a, "SymmetricEigen");
        INDArray a64 = a.dataType() == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE);
        INDArray work = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n, n}, 'c');
        work.assign(a64.transpose());
        double maxAbs = a64.amaxNumber().doubleValue();
        double asym = work.subi(a64).amaxNumber().doubleValue();   // work = A^T - A
        if (asym > SYMMETRY_TOL * maxAbs) {
            throw new IllegalArgumentException(String.format(
                    "SymmetricEigen: matrix [%d, %d] is not symmetric: max|A - A^T| = %.3e is %.3e relative to max|A| = %.3e"
                            + " (tolerance %.0e); symmetrise it as (A + A^T)/2 if the asymmetry is rounding error",
                    n, n, asym, asym / maxAbs, maxAbs, SYMMETRY_TOL));
        }
        // work = A^T - A  ->  (A + A^T)/2 = A + (A^T - A)/2
        return work.muli(0.5).addi(a64);
    }

    /** Validates a square, non-empty, finite matrix; returns N. */
    static long requireSquareFinite(INDArray a, String who) {
        if (a == null) {
            throw new IllegalArgumentException(who + ": matrix is null");
        }
        if (a.rank() != 2 || a.size(0) != a.size(1)) {
            throw new IllegalArgumentException(who + ": need a square matrix [N, N], got shape " + Arrays.toString(a.shape()));
        }
        if (a.size(0) == 0) {
            throw new IllegalArgumentException(who + ": empty matrix [0, 0]");
        }
        if (!a.dataType().isFPType()) {
            throw new IllegalArgumentException(who + ": need a floating-point matrix, got " + a.dataType());
        }
        double s = a.sumNumber().doubleValue();
        if (!Double.isFinite(s)) {
            double[] flat = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            long n = a.size(1);
            for (int i = 0; i < flat.length; i++) {
                if (!Double.isFinite(flat[i])) {
                    throw new IllegalArgumentException(who + ": matrix has a non-finite entry " + flat[i] + " at [" + (i / n) + ", "
                            + (i % n) + "]");
                }
            }
            throw new IllegalArgumentException(who + ": matrix entries overflow when summed (sum = " + s + "); rescale it");
        }
        return a.size(0);
    }

    /** LAPACK dsyev on the c-order work array; vectors overwrite it when {@code vectors}. */
    private static double[] syev(INDArray work, boolean vectors) {
        long n = work.size(0);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("SymmetricEigen: N = " + n + " is too large for LAPACK");
        }
        INDArray w = Nd4j.create(DataType.DOUBLE, n);
        int info = Nd4j.getBlasWrapper().syev(vectors ? 'V' : 'N', 'L', work, w);
        if (info != 0) {
            throw new IllegalStateException("SymmetricEigen: LAPACK dsyev failed (info = " + info + ")"
                    + (info > 0 ? ": " + info + " off-diagonal elements of the tridiagonal form did not converge" : ": illegal argument"));
        }
        return w.toDoubleVector();   // ascending (LAPACK)
    }
}
