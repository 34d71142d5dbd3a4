package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import picocli.CommandLine.Command;

/** {@code curvlab ggn}: the generalized Gauss-Newton matrix of the mean loss. */
@Command(name = "ggn", sortOptions = false, usageHelpAutoWidth = true,
        description = "Generalized Gauss-Newton matrix [N, N] of the mean loss, (1/Z) sum_i J_i^T H_i J_i"
                + " (positive semi-definite for convex losses).")
final class GgnCommand extends DenseMatrixCommand {
    @Override
    protected String matrixName() {
        return "GGN";
    }

    @Override
    protected CurvatureOperator operator(Problem p) {
        return new GgnOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize());
    }
}
