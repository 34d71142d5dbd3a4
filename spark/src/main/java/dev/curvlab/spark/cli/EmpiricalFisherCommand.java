package dev.curvlab.spark.cli;

import dev.curvlab.spark.operator.OperatorKind;
import picocli.CommandLine.Command;

/** {@code curvlab-spark empirical-fisher}. */
@Command(name = "empirical-fisher", sortOptions = false, usageHelpAutoWidth = true,
        description = "The dense empirical Fisher [N, N] (uncentred second moment of per-sample gradients) as row bands (blocked).")
final class EmpiricalFisherCommand extends DenseCommand {
    @Override
    protected OperatorKind kind() {
        return OperatorKind.EMPIRICAL_FISHER;
    }
}
