package dev.curvlab.curvature.operator;

/**
 * Which curvature matrix an operator is. Consumers (the dense-matrix driver, the structured method,
 * the CLI) read it from {@link LinearOperator#capabilities()} instead of testing the operator's class.
 */
public enum CurvatureKind {
    /** The Hessian of the loss in the parameters. */
    HESSIAN(true),
    /** The generalized Gauss-Newton matrix {@code J^T H_out J}. */
    GGN(true),
    /** The uncentred second moment of per-sample gradients (not the Fisher information). */
    EMPIRICAL_FISHER(false),
    /** The Hessian of the negative log-likelihood summed over the data. */
    OBSERVED_FISHER(true),
    /** Any other operator: known only through its products. */
    OTHER(false);

    private final boolean structuredForm;

    CurvatureKind(boolean structuredForm) {
        this.structuredForm = structuredForm;
    }

    /**
     * True when {@link dev.curvlab.curvature.hessian.StructuredHessian} has a formula for this kind
     * (it computes the summed-loss Hessian, or its GGN, of a dense network, times a scale).
     */
    public boolean hasStructuredForm() {
        return structuredForm;
    }

    /** True for the kinds that drop the network's second-order terms (the structured method's GGN switch). */
    public boolean gaussNewton() {
        return this == GGN;
    }
}
