package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.EmpiricalFisherOperator;
import picocli.CommandLine.Command;

/** {@code curvlab empirical-fisher}: the uncentred second moment of per-sample gradients. */
@Command(name = "empirical-fisher", sortOptions = false, usageHelpAutoWidth = true,
        description = "Empirical Fisher [N, N], (1/Z) sum_i g_i g_i^T of the per-sample loss gradients"
                + " (an approximation, not the Fisher information; see fisher).")
final class EmpiricalFisherCommand extends DenseMatrixCommand {
    @Override
    protected String matrixName() {
        return "empirical Fisher";
    }

    @Override
    protected CurvatureOperator operator(Problem p) {
        return new EmpiricalFisherOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize());
    }
}
