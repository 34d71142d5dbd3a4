package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import picocli.CommandLine.Command;

/** {@code curvlab hessian}: the dense Hessian of the mean loss, or one layer's diagonal block ({@code --layer}). */
@Command(name = "hessian", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Hessian [N, N] of the mean loss at the parameters; prints N, the method, the time and max |H - H^T|.",
                "Rows and columns follow the parameter layout (per layer W [in, out] row-major, then b)."})
final class HessianCommand extends DenseMatrixCommand {
    @Override
    protected String matrixName() {
        return "Hessian";
    }

    @Override
    protected CurvatureOperator operator(Problem p) {
        return new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize());
    }
}
