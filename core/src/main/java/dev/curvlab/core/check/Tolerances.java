package dev.curvlab.core.check;

/**
 * The tolerances curvlab's tests (and {@link GradCheck}) compare derivatives with, in one place.
 * All are relative: {@code max|a - b| / max(1, max|b|)} (see {@link Comparison#relativeError}).
 */
public final class Tolerances {
    private Tolerances() {
    }

    /** Two exact float64 computations of the same quantity by different paths (jacfwd vs jacrev, blocked vs per-column). */
    public static final double EXACT = 1e-12;

    /** An exact computation against a closed form evaluated with different floating-point operations. */
    public static final double CLOSED_FORM = 1e-10;

    /** First derivatives against central differences with step {@link #FD_STEP} (error O(h^2) + O(eps/h)). */
    public static final double FD_FIRST = 1e-6;

    /** Second derivatives against central second differences with step {@link #FD_STEP_SECOND}. */
    public static final double FD_SECOND = 1e-4;

    /** Step for first-order central differences. */
    public static final double FD_STEP = 1e-5;

    /** Step for second-order central differences. */
    public static final double FD_STEP_SECOND = 1e-4;

    /** float32 computations against float64 references. */
    public static final double FLOAT32 = 1e-4;
}
