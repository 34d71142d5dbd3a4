package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.EigensolverOptions;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code curvlab eigs}: extremal eigenvalues of the Hessian by Lanczos, without forming it. */
@Command(name = "eigs", sortOptions = false, usageHelpAutoWidth = true,
        description = "The k largest or smallest eigenvalues of the Hessian of the mean loss, by Lanczos on Hessian-vector"
                + " products (the Hessian is never formed).")
final class EigsCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--k", order = 10, required = true, paramLabel = "K", description = "number of eigenvalues, 1..N")
    int k;

    @Option(names = "--which", order = 11, paramLabel = "W", defaultValue = "largest", converter = WhichConverter.class,
            description = "largest, smallest or largest-magnitude (default: ${DEFAULT-VALUE})")
    Lanczos.Which which;

    @Option(names = "--tol", order = 12, paramLabel = "TOL", defaultValue = "1e-10", description = "relative residual tolerance (default: ${DEFAULT-VALUE})")
    double tol;

    @Option(names = "--max-iter", order = 13, paramLabel = "M", defaultValue = "0", description = "Lanczos iterations (operator products) at most; 0 = min(N, max(2k + 20, 60)) (default: ${DEFAULT-VALUE})")
    int maxIterations;

    @Option(names = "--seed", order = 14, paramLabel = "S", defaultValue = "0", description = "seed of the start vector (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--allow-unconverged", order = 15,
            description = "exit 0 and write --out even when Lanczos stops before the tolerance (default: print the values, write nothing, exit 3)")
    boolean allowUnconverged;

    @Mixin
    MemoryOption memory;

    @Option(names = "--out", order = 30, paramLabel = "FILE", description = "write the eigenvalues [k] (float64 .npy, in the order printed: descending for largest, ascending for smallest)")
    Path out;

    @Override
    protected void checkOptions() {
        if (k < 1) {
            throw usage("--k must be >= 1, got " + k);
        }
        if (!(tol > 0) || Double.isInfinite(tol)) {
            throw usage("--tol must be a positive number, got " + tol);
        }
        if (maxIterations < 0) {
            throw usage("--max-iter must be >= 0 (0 = automatic), got " + maxIterations);
        }
        if (maxIterations > 0 && maxIterations < k) {
            throw usage("--max-iter " + maxIterations + " is smaller than --k " + k);
        }
        checkWritable(out, "--out");
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        long n = p.parameterCount();
        if (k > n) {
            throw usage("--k " + k + " is out of range: model " + p.model().describe() + " has N = " + n + " parameters, so k must be in 1.." + n);
        }
        // Lanczos keeps its whole basis (m vectors of N; no restarts) and an m x m tridiagonal eigenproblem
        long m = maxIterations == 0 ? Math.min(n, Math.max(2L * k + 20, 60)) : Math.min(n, maxIterations);
        ResourcePreflight.require(String.format(Locale.ROOT, "eigs --k %d (a Lanczos basis of %d vectors of N = %d)", k, m, n),
                8.0 * n * (m + 4) + 8.0 * 3 * m * m + ResourcePreflight.directions(p, targets.engine, 1), memory.budget(), "lower --k (or --max-iter)");
        requireSpace(out, 8.0 * k + 128);
        HessianOperator op = targets.configure(new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize()));
        long t0 = System.nanoTime();
        try (CliProgress progress = progress("iterations")) {
            EigenResult result = Lanczos.extremal(op, k, which, new EigensolverOptions(tol, maxIterations, seed, progress));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double[] values = result.values();
            boolean accepted = result.converged() || allowUnconverged;
            if (out != null && accepted) {
                write(out, Nd4j.createFromArray(values).castTo(DataType.DOUBLE));
            }
            out().println(String.format(Locale.ROOT, "eigs: %d %s eigenvalue(s) of the Hessian (N = %d), %d iterations, %.3f s, %s", values.length,
                    which.name().toLowerCase(Locale.ROOT).replace('_', '-'), n, result.iterations(), seconds,
                    result.converged() ? "converged" : "NOT converged (raise --max-iter or --tol)"));
            double[] res = result.residuals();
            for (int i = 0; i < values.length; i++) {
                out().println(String.format(Locale.ROOT, "%4d  %s%s", i + 1, num(values[i]),
                        res != null && i < res.length ? String.format(Locale.ROOT, "  (residual %.2e)", res[i]) : ""));
            }
            if (!accepted) {
                throw new NotConvergedException(String.format(Locale.ROOT, "eigs did not converge to --tol %s in %d iterations (largest residual %.2e);"
                        + " the values above are approximate%s; raise --max-iter or --tol, or pass --allow-unconverged to accept them", num(tol),
                        result.iterations(), maxResidual(res), out != null ? " and " + out + " was not written" : ""));
            }
            if (out != null) {
                out().println("wrote " + out + " [" + values.length + "]");
            }
        }
    }

    private static double maxResidual(double[] res) {
        double max = Double.NaN;
        if (res != null) {
            for (double r : res) {
                max = Double.isNaN(max) ? r : Math.max(max, r);
            }
        }
        return max;
    }

    /** largest, smallest, largest-magnitude (also largest_magnitude, magnitude), case-insensitive. */
    static final class WhichConverter implements ITypeConverter<Lanczos.Which> {
        @Override
        public Lanczos.Which convert(String value) {
            String v = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            if (v.equals("MAGNITUDE")) {
                v = "LARGEST_MAGNITUDE";
            }
            try {
                return Lanczos.Which.valueOf(v);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not one of largest, smallest, largest-magnitude");
            }
        }
    }
}
