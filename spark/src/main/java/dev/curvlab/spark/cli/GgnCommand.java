package dev.curvlab.spark.cli;

import dev.curvlab.spark.operator.OperatorKind;
import picocli.CommandLine.Command;

/** {@code curvlab-spark ggn}. */
@Command(name = "ggn", sortOptions = false, usageHelpAutoWidth = true,
        description = "The dense generalized Gauss-Newton matrix [N, N] of the mean loss as row bands, one Spark task per band.")
final class GgnCommand extends DenseCommand {
    @Override
    protected OperatorKind kind() {
        return OperatorKind.GGN;
    }
}
