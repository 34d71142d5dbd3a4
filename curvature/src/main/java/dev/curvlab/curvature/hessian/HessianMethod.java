package dev.curvlab.curvature.hessian;

import java.util.Locale;

/** How {@link FullHessian} builds the dense matrix. */
public enum HessianMethod {
    /** STRUCTURED when the problem qualifies (a Sequential model of dense layers with a built-in loss), else BLOCKED. */
    AUTO,
    /** The per-sample Kronecker-structured exact Hessian of dense networks ({@link StructuredHessian}). */
    STRUCTURED,
    /** Forward-over-reverse Hessian-vector products, a block of k columns per pass. */
    BLOCKED,
    /** The seed's method: one Hessian-vector product per parameter (for comparison and testing). */
    ROWLOOP;

    public static HessianMethod parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown Hessian method '" + s + "'; known: auto, structured, blocked, rowloop");
        }
    }
}
