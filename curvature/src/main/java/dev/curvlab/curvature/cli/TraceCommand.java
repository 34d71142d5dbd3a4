package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.curvature.spectrum.TraceOptions;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code curvlab trace}: the trace of the Hessian, estimated (Hutch++) or exact. */
@Command(name = "trace", sortOptions = false, usageHelpAutoWidth = true,
        description = "Trace of the Hessian of the mean loss: estimated from Hessian-vector products (Hutch++, with its"
                + " standard error), or exact from the dense Hessian with --exact.")
final class TraceCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--samples", order = 10, paramLabel = "S",
            description = "exactly S matrix-vector products (default: adaptive, 32 to 256, until the standard error is 1%% of the estimate)")
    Integer samples;

    @Option(names = "--estimator", order = 11, paramLabel = "E", defaultValue = "hutch++",
            description = "hutch++ or hutchinson (default: ${DEFAULT-VALUE})")
    String estimator;

    @Option(names = "--seed", order = 12, paramLabel = "SEED", defaultValue = "0", description = "seed of the random probes (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--exact", order = 13, description = "exact trace of the dense Hessian (N^2 memory) instead of an estimate")
    boolean exact;

    @Option(names = "--max-memory", order = 14, paramLabel = "SIZE", converter = DenseOptions.BudgetConverter.class,
            description = "with --exact: memory budget, e.g. 512M, 12G (default: 75%% of physical memory)")
    MemoryBudget maxMemory;

    /** Largest --samples accepted. */
    static final int MAX_SAMPLES = 1_000_000;

    @Override
    protected void checkOptions() {
        String e = estimator.trim().toLowerCase(Locale.ROOT);
        if (!e.equals("hutch++") && !e.equals("hutchpp") && !e.equals("hutchinson")) {
            throw usage("--estimator must be hutch++ or hutchinson, got '" + estimator + "'");
        }
        int min = e.equals("hutchinson") ? 1 : 3;
        if (samples != null && (samples < min || samples > MAX_SAMPLES)) {
            throw usage("--samples must be in " + min + ".." + MAX_SAMPLES + " for " + e + ", got " + samples);
        }
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        long n = p.parameterCount();
        if (!exact) {
            boolean hutchinson = estimator.trim().equalsIgnoreCase("hutchinson");
            int s = samples != null ? samples : TraceOptions.defaults().maxSamples();
            // Hutch++ multiplies its sketch of s/3 columns at once (and keeps it); Hutchinson works in blocks
            long columns = hutchinson ? Math.min(s, TraceOptions.defaults().blockSize()) : Math.max(1, s / 3 + 1);
            ResourcePreflight.require(String.format(Locale.ROOT, "trace with %d samples (--samples) for N = %d", s, n),
                    8.0 * n * columns * 4 + ResourcePreflight.directions(p, targets.engine, columns), maxMemory != null ? maxMemory : MemoryBudget.defaultBudget(),
                    "lower --samples or --batch-size");
        }
        HessianOperator op = targets.configure(new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), p.batchSize()));
        long t0 = System.nanoTime();
        if (exact) {
            FullHessian.Result r;
            try (CliProgress progress = progress("columns")) {
                FullHessian.Options o = FullHessian.Options.defaults().withProgress(progress);
                if (maxMemory != null) {
                    o = o.withBudget(maxMemory);
                }
                r = FullHessian.compute(op, o);
            }
            TraceEstimator.TraceEstimate t = TraceEstimator.exact(r.matrix());
            out().println(String.format(Locale.ROOT, "trace = %s (exact, N = %d, %.3f s)", num(t.value()), n, (System.nanoTime() - t0) / 1e9));
            return;
        }
        boolean hutchinson = estimator.trim().equalsIgnoreCase("hutchinson");
        try (CliProgress progress = progress("products")) {
            TraceOptions o = samples != null ? new TraceOptions(samples, seed, progress)
                    : TraceOptions.defaults().withSeed(seed).withProgress(progress);
            TraceEstimator.TraceEstimate t = hutchinson ? TraceEstimator.hutchinson(op, o) : TraceEstimator.hutchPlusPlus(op, o);
            out().println(String.format(Locale.ROOT, "trace = %s +- %s (%s, %d matrix-vector products, N = %d, %.3f s)", num(t.value()),
                    num(t.standardError()), t.method(), t.matvecs(), n, (System.nanoTime() - t0) / 1e9));
        }
    }
}
