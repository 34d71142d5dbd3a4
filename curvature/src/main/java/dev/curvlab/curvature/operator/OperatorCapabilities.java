package dev.curvlab.curvature.operator;

/**
 * What an operator declares about itself, so that consumers never test its class:
 *
 * @param kind which curvature matrix it is ({@link CurvatureKind#OTHER} for a plain operator)
 * @param symmetric {@code A = A^T}; the dense-matrix driver stores computed columns as rows only then
 * @param lossScale the factor relative to the same matrix of the summed loss {@code sum_i loss_i}
 *     (1/Z for the mean loss, {@link dev.curvlab.nn.loss.Loss#nllPerSum} for the observed Fisher; NaN
 *     when the operator is not tied to a loss)
 * @param structured whether the structured method computes it ({@code StructuredHessian})
 */
public record OperatorCapabilities(CurvatureKind kind, boolean symmetric, double lossScale, boolean structured) {
    /** A plain operator known only through its products. */
    public static OperatorCapabilities generic(boolean symmetric) {
        return new OperatorCapabilities(CurvatureKind.OTHER, symmetric, Double.NaN, false);
    }
}
