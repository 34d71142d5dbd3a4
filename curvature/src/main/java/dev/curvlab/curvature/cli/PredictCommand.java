package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.laplace.GlmPredictive;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.LaplaceFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import dev.curvlab.curvature.hessian.MemoryBudget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code curvlab predict}: the linearised (GLM) predictive of a saved Laplace posterior. */
@Command(name = "predict", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Predictive of a posterior written by 'curvlab laplace --posterior DIR' (no model options needed):"
                + " f* ~ N(f(x*), J P^-1 J^T).",
                "ce: class probabilities [n, classes] by the probit approximation softmax(mu / sqrt(1 + pi/8 var)), or by --mc S samples;"
                        + " bce: [n, out] likewise with the sigmoid; mse: the mean, with variance J P^-1 J^T + sigma^2."})
final class PredictCommand extends CurvlabSubcommand {
    @Option(names = "--posterior", order = 1, required = true, paramLabel = "DIR", description = "posterior directory from 'curvlab laplace'")
    Path posterior;

    @Option(names = "--x", order = 2, required = true, paramLabel = "FILE", description = "inputs X [n, in], .npy")
    Path x;

    @Option(names = "--out", order = 3, required = true, paramLabel = "FILE", description = "write probabilities or means [n, out]")
    Path out;

    @Option(names = "--var", order = 4, paramLabel = "FILE", description = "also write the predictive variances [n, out]")
    Path var;

    @Option(names = "--mc", order = 5, paramLabel = "S", defaultValue = "0", description = "classification by S samples of f* instead of the probit approximation")
    int mc;

    @Option(names = "--seed", order = 6, paramLabel = "SEED", defaultValue = "0", description = "seed of the --mc samples (default: ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    MemoryOption memory;

    @Override
    protected void checkOptions() {
        if (mc < 0 || mc > KfacCommand.MAX_SAMPLES) {
            throw usage("--mc must be in 0.." + KfacCommand.MAX_SAMPLES + " (0 = probit approximation), got " + mc);
        }
        checkWritable(out, "--out");
        checkWritable(var, "--var");
        if (var != null && var.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw usage("--var and --out name the same file " + out);
        }
        if (!Files.isDirectory(posterior)) {
            throw new BadInputException(posterior + ": --posterior is not a directory");
        }
        if (!Files.isRegularFile(posterior.resolve(LaplaceFiles.MARKER))) {
            throw new BadInputException(posterior + ": no " + LaplaceFiles.MARKER + " (write one with 'curvlab laplace --posterior DIR')");
        }
    }

    /** Bytes of the regular files directly in {@code dir}. */
    private static double storedBytes(Path dir) throws java.io.IOException {
        double total = 0;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    total += Files.size(f);
                }
            }
        }
        return total;
    }

    @Override
    protected void run() throws Exception {
        MemoryBudget budget = memory.budget();
        double stored = storedBytes(posterior);
        ResourcePreflight.require(String.format(Locale.ROOT, "--posterior %s (%s of arrays on disk, loaded with their decompositions)", posterior,
                MemoryBudget.format(stored)), 3 * stored, budget, "use a posterior with --structure kron or diag, or --subset last-layer");
        Laplace la;
        try {
            la = LaplaceFiles.load(posterior);
        } catch (java.io.IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new BadInputException(posterior + ": --posterior is not a readable posterior: " + m, e);
        }
        requireKfacModel(la.model(), posterior.toString());
        INDArray inputs = Problem.readArray(x, "--x");
        long in = la.model().inputSize();
        if (la.model().hasImageInput() && inputs.rank() == 4 && inputs.size(0) >= 1
                && Arrays.equals(Arrays.copyOfRange(inputs.shape(), 1, 4), la.model().inputShape())) {
            inputs = inputs.dup('c').reshape('c', new long[] {inputs.size(0), in});     // images [n, C, H, W] as rows [n, C H W]
        }
        if (inputs.rank() != 2 || inputs.size(1) != in || inputs.size(0) < 1) {
            throw new BadInputException(x + ": inputs must be [n, " + in + "]" + (la.model().hasImageInput() ? " or " + la.model().expectedInput() : "")
                    + " for model " + la.model().describe() + ", got shape "
                    + Arrays.toString(inputs.shape()));
        }
        long bad = BooleanIndexing.firstIndex(inputs.reshape(inputs.length()), Conditions.notFinite()).getLong(0);
        if (bad >= 0) {
            throw new BadInputException(x + ": element " + bad + " (row " + bad / in + ") is not finite");
        }
        String loss = la.likelihood().loss().name();
        if (mc > 0 && !loss.equals("ce") && !loss.equals("bce")) {
            throw new BadInputException("--mc applies to classification (ce, bce); the posterior's loss is " + loss);
        }
        long n = inputs.size(0);
        long outs = la.model().outputSize();
        double result = 8.0 * n * outs * (2 + outs);
        double chunk = 8.0 * 3 * Math.min(n, GlmPredictive.CHUNK) * outs * la.parameterCount();
        ResourcePreflight.require(String.format(Locale.ROOT, "predict for the %d rows of --x (results [%d, %d] and Jacobian chunks of %d x %d x %d)",
                n, n, outs, Math.min(n, GlmPredictive.CHUNK), outs, la.parameterCount()), 3 * stored + result + chunk, budget,
                "predict fewer rows of --x per run");
        requireSpace(out, 8.0 * n * outs + 128);
        requireSpace(var, 8.0 * n * outs + 128);
        long t0 = System.nanoTime();
        GlmPredictive.Prediction pr;
        try (CliProgress progress = progress("inputs")) {
            pr = GlmPredictive.predict(la, inputs, mc, seed, progress);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        write(out, pr.mean());
        if (var != null) {
            write(var, pr.variance());
        }
        String what = loss.equals("ce") || loss.equals("bce") ? (mc > 0 ? "probabilities (" + mc + " samples)" : "probabilities (probit)") : "means";
        out().println(String.format(Locale.ROOT, "predict (%s, %s): %d inputs, %s, %.3f s", la.structure().id(), la.subset().id(),
                inputs.size(0), what, seconds));
        out().println("wrote " + out + " " + shape(pr.mean()) + (var != null ? " and " + var + " " + shape(pr.variance()) : ""));
    }
}
