package dev.curvlab.curvature.hessian;

import java.util.Locale;

/** How {@link FullHessian} builds the dense matrix. */
public enum HessianMethod {
    /**
     * STRUCTURED when the operator declares a structured form (the Hessian, GGN or observed Fisher of
     * a Sequential dense network, with any loss: one without closed-form output derivatives gets them
     * from the engine) and the parameters asked for are whole layers; else BLOCKED (for image models on
     * the layer engine's module-chain path, the fastest exact method there).
     */
    AUTO,
    /** The per-sample Kronecker-structured exact Hessian of dense networks ({@link StructuredHessian}). */
    STRUCTURED,
    /**
     * Hessian-vector products, a block of k columns per pass: on the layer engine where it applies
     * (for CNNs the AUTO choice: blocks of 64 exact R-operator products; README, CNN rows, compares it with the generic
     * engine), else forward-over-reverse on the generic engine.
     */
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
