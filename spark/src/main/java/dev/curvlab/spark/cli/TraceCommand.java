package dev.curvlab.spark.cli;

import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.curvature.spectrum.TraceOptions;
import dev.curvlab.spark.operator.DistributedOperator;
import dev.curvlab.spark.operator.OperatorKind;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab-spark trace}: Hutch++ (or Hutchinson) on the driver over distributed products. */
@Command(name = "trace", sortOptions = false, usageHelpAutoWidth = true,
        description = "Trace of the Hessian (or --matrix ...) by Hutch++ with its standard error; each block of probes is one pass over the partitions.")
final class TraceCommand extends SparkSubcommand {
    @Option(names = "--samples", order = 10, paramLabel = "S", description = "exactly S products (default: adaptive, 32 to 256, until the standard error is 1%% of the estimate)")
    Integer samples;

    @Option(names = "--estimator", order = 11, paramLabel = "E", defaultValue = "hutch++", description = "hutch++ or hutchinson (default: ${DEFAULT-VALUE})")
    String estimator;

    @Option(names = "--seed", order = 12, paramLabel = "SEED", defaultValue = "0", description = "seed of the random probes (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--matrix", order = 15, paramLabel = "M", defaultValue = "hessian", converter = EigsCommand.KindConverter.class,
            description = "hessian, ggn, empirical-fisher or observed-fisher (default: ${DEFAULT-VALUE})")
    OperatorKind matrix;

    @Override
    protected void checkOptions() {
        String e = estimator.trim().toLowerCase(Locale.ROOT);
        if (!e.equals("hutch++") && !e.equals("hutchinson")) {
            throw usage("--estimator must be hutch++ or hutchinson, got '" + estimator + "'");
        }
        if (samples != null && samples < (e.equals("hutchinson") ? 1 : 3)) {
            throw usage("--samples is too small for " + e + ": " + samples);
        }
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        try (DistributedOperator op = new DistributedOperator(sc, p.data(), matrix, p.spec(), p.theta(), p.batchSize())) {
            long t0 = System.nanoTime();
            LoggingProgress progress = new LoggingProgress("products", 5000);
            TraceOptions o = samples != null ? new TraceOptions(samples, seed, progress) : TraceOptions.defaults().withSeed(seed).withProgress(progress);
            TraceEstimator.TraceEstimate t = estimator.trim().equalsIgnoreCase("hutchinson") ? TraceEstimator.hutchinson(op, o)
                    : TraceEstimator.hutchPlusPlus(op, o);
            out().println(String.format(Locale.ROOT, "trace = %s +- %s (%s of the %s, %d products, N = %d, %d partitions, %.3f s)", t.value(),
                    t.standardError(), t.method(), matrix.title(), t.matvecs(), p.parameterCount(), p.data().partitions(), (System.nanoTime() - t0) / 1e9));
        }
    }
}
