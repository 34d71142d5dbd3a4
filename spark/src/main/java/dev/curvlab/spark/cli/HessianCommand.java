package dev.curvlab.spark.cli;

import dev.curvlab.spark.operator.OperatorKind;
import picocli.CommandLine.Command;

/** {@code curvlab-spark hessian}. */
@Command(name = "hessian", sortOptions = false, usageHelpAutoWidth = true,
        description = "The dense Hessian [N, N] of the mean loss as row bands, one Spark task per band (structured per layer for dense"
                + " networks, else blocked).")
final class HessianCommand extends DenseCommand {
    @Override
    protected OperatorKind kind() {
        return OperatorKind.HESSIAN;
    }
}
