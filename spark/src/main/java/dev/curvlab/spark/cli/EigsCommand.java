package dev.curvlab.spark.cli;

import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.EigensolverOptions;
import dev.curvlab.spark.operator.DistributedOperator;
import dev.curvlab.spark.operator.OperatorKind;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code curvlab-spark eigs}: extremal eigenvalues by Lanczos on the driver, each product a Spark job. */
@Command(name = "eigs", sortOptions = false, usageHelpAutoWidth = true,
        description = "The k largest or smallest eigenvalues of the Hessian (or --matrix ggn, empirical-fisher, observed-fisher) by Lanczos"
                + " on the driver; every product is one pass over the data's partitions.")
final class EigsCommand extends SparkSubcommand {
    @Option(names = "--k", order = 10, required = true, paramLabel = "K", description = "number of eigenvalues, 1..N")
    int k;

    @Option(names = "--which", order = 11, paramLabel = "W", defaultValue = "largest", description = "largest, smallest or largest-magnitude (default: ${DEFAULT-VALUE})")
    String which;

    @Option(names = "--tol", order = 12, paramLabel = "TOL", defaultValue = "1e-10", description = "relative residual tolerance (default: ${DEFAULT-VALUE})")
    double tol;

    @Option(names = "--max-iter", order = 13, paramLabel = "M", defaultValue = "0", description = "Lanczos iterations at most; 0 = automatic (default: ${DEFAULT-VALUE})")
    int maxIterations;

    @Option(names = "--seed", order = 14, paramLabel = "S", defaultValue = "0", description = "seed of the start vector (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--matrix", order = 15, paramLabel = "M", defaultValue = "hessian", converter = KindConverter.class,
            description = "hessian, ggn, empirical-fisher or observed-fisher (default: ${DEFAULT-VALUE})")
    OperatorKind matrix;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the eigenvalues [k] (float64 .npy)")
    Path out;

    private Lanczos.Which parsedWhich;

    @Override
    protected void checkOptions() {
        if (k < 1) {
            throw usage("--k must be >= 1, got " + k);
        }
        if (!(tol > 0) || maxIterations < 0 || (maxIterations > 0 && maxIterations < k)) {
            throw usage("--tol must be > 0 and --max-iter 0 or >= --k");
        }
        String w = which.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            parsedWhich = Lanczos.Which.valueOf(w);
        } catch (IllegalArgumentException e) {
            throw usage("--which must be largest, smallest or largest-magnitude, got '" + which + "'");
        }
        checkWritable(out, "--out");
    }

    @Override
    protected void run(JavaSparkContext sc, SparkProblem p) throws Exception {
        long n = p.parameterCount();
        if (k > n) {
            throw usage("--k " + k + " is out of range: the model has N = " + n + " parameters");
        }
        try (DistributedOperator op = new DistributedOperator(sc, p.data(), matrix, p.spec(), p.theta(), p.batchSize())) {
            long t0 = System.nanoTime();
            EigenResult r = Lanczos.extremal(op, k, parsedWhich, new EigensolverOptions(tol, maxIterations, seed, new LoggingProgress("iterations", 5000)));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double[] values = r.values();
            if (out != null) {
                write(out, Nd4j.createFromArray(values).castTo(DataType.DOUBLE));
            }
            out().println(String.format(Locale.ROOT, "eigs: %d %s eigenvalue(s) of the %s (N = %d, n = %d in %d partitions), %d iterations, %.3f s, %s",
                    values.length, which, matrix.title(), n, p.data().samples(), p.data().partitions(), r.iterations(), seconds,
                    r.converged() ? "converged" : "NOT converged (raise --max-iter or --tol)"));
            for (int i = 0; i < values.length; i++) {
                out().println(String.format(Locale.ROOT, "%4d  %s", i + 1, values[i]));
            }
            if (out != null) {
                out().println("wrote " + out + " [" + values.length + "]");
            }
        }
    }

    /** hessian, ggn, empirical-fisher, observed-fisher. */
    static final class KindConverter implements picocli.CommandLine.ITypeConverter<OperatorKind> {
        @Override
        public OperatorKind convert(String value) {
            for (OperatorKind kind : OperatorKind.values()) {
                if (kind.id().equalsIgnoreCase(value.trim())) {
                    return kind;
                }
            }
            throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not one of hessian, ggn, empirical-fisher, observed-fisher");
        }
    }
}
