package dev.curvlab.spark.cli;

import dev.curvlab.spark.operator.DistributedGradient;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab-spark gradient}: the mean loss and its gradient [N] over all partitions. */
@Command(name = "gradient", sortOptions = false, usageHelpAutoWidth = true,
        description = "Gradient [N] of the mean loss over the data's partitions; prints the loss and the gradient norm.")
final class GradientCommand extends SparkSubcommand {
    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the gradient [N] (float64 .npy)")
    Path out;

    @Override
    protected void checkOptions() {
        checkWritable(out, "--out");
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        DistributedGradient.Result r = DistributedGradient.meanLoss(sc, p.data(), p.spec(), p.theta(), p.batchSize());
        if (out != null) {
            write(out, r.gradient());
        }
        out().println("loss = " + r.loss());
        out().println("gradient norm = " + r.gradient().norm2Number().doubleValue() + " (N = " + r.gradient().length() + ", n = "
                + p.data().samples() + " in " + p.data().partitions() + " partitions)");
        if (out != null) {
            out().println("wrote " + out + " " + shape(r.gradient()));
        }
    }
}
