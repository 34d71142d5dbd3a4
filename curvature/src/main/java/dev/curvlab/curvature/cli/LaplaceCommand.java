package dev.curvlab.curvature.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.laplace.CurvatureType;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.LaplaceFiles;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.ParametricLayers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code curvlab laplace}: the Laplace approximation at the given (MAP) parameters, its evidence, and a posterior for predict. */
@Command(name = "laplace", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Laplace approximation around the given (trained, MAP) parameters: prior N(0, 1/delta I), posterior precision"
                + " P = C + delta I with C the GGN (or Hessian) of the summed NLL in a structure (full, kron = KFAC, diag) over all"
                + " parameters or the last layer.",
                "Log marginal likelihood log Z = log p(D|theta) - delta/2 |theta|^2 + N/2 log delta - 1/2 log det P; --optimize maximises"
                        + " it over delta (and sigma for mse) at the fixed parameters.",
                "--report writes laplace.json; --posterior DIR holds everything 'curvlab predict' needs."})
final class LaplaceCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--structure", order = 10, paramLabel = "S", defaultValue = "kron", description = "full, kron or diag (default: ${DEFAULT-VALUE})")
    Structure structure;

    @Option(names = "--subset", order = 11, paramLabel = "S", defaultValue = "all", converter = SubsetConverter.class,
            description = "all or last-layer (default: ${DEFAULT-VALUE})")
    Subset subset;

    @Option(names = "--curvature", order = 12, paramLabel = "C", defaultValue = "ggn", description = "ggn or hessian (full and diag only) (default: ${DEFAULT-VALUE})")
    CurvatureType curvature;

    @Option(names = "--prior-precision", order = 13, paramLabel = "D", split = ",",
            description = "prior precision delta: one value, or one per covered layer (comma-separated) (default: 1)")
    double[] priorPrecision;

    @Option(names = "--optimize", order = 14, description = "maximise the log marginal likelihood over delta (and sigma for mse, starting at --sigma)")
    boolean optimize;

    @Option(names = "--sigma", order = 15, paramLabel = "S", description = "mse only: Gaussian noise standard deviation (default: 1)")
    Double sigma;

    @Option(names = "--report", order = 16, paramLabel = "FILE", description = "write laplace.json (evidence, hyper-parameters, sizes)")
    Path report;

    @Option(names = "--posterior", order = 17, paramLabel = "DIR", description = "write the posterior (model, parameters, curvature) for 'curvlab predict'")
    Path posterior;

    @Mixin
    MemoryOption memory;

    @Override
    protected void checkOptions() {
        if (optimize && priorPrecision != null) {
            throw usage("--prior-precision and --optimize exclude each other (--optimize starts at 1 and finds delta)");
        }
        if (priorPrecision != null) {
            if (priorPrecision.length > 100_000) {
                throw usage("--prior-precision: at most one value per layer, got " + priorPrecision.length);
            }
            for (double d : priorPrecision) {
                if (!(d > 0) || Double.isInfinite(d)) {
                    throw usage("--prior-precision must be positive and finite, got " + d);
                }
            }
        }
        if (sigma != null && (!(sigma > 0) || sigma.isInfinite())) {
            throw usage("--sigma must be positive and finite, got " + sigma);
        }
        if (structure == Structure.KRON && curvature == CurvatureType.HESSIAN) {
            throw usage("--structure kron approximates the GGN (KFAC); use --curvature ggn, or --structure full|diag for the Hessian");
        }
        checkWritable(report, "--report");
        checkWritableDirectory(posterior, "--posterior", LaplaceFiles.MARKER);
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        if (sigma != null && !p.loss().name().equals("mse")) {
            throw new BadInputException("--sigma applies to the mse (Gaussian) likelihood only; the loss is " + p.loss().name());
        }
        int layers = ParametricLayers.of(p.model()).count();
        int covered = layers - subset.firstLayer(layers);
        double[] delta = priorPrecision != null ? priorPrecision : new double[] {1.0};
        if (delta.length != 1 && delta.length != covered) {
            throw new BadInputException("--prior-precision: " + delta.length + " values for " + covered + " covered layer(s); give one, or one per layer");
        }
        requireKfacModel(p.model(), model.model.toString());
        if (structure == Structure.DIAG && curvature == CurvatureType.HESSIAN) {
            requireDenseChain(p.model(), model.model.toString(), "laplace --structure diag --curvature hessian (use --curvature ggn)");
        }
        MemoryBudget budget = memory.budget();
        preflight(p, subset.firstLayer(layers), budget);
        Path staged = posterior != null ? stageDirectory(posterior) : null;   // hidden until the command succeeds
        long t0 = System.nanoTime();
        Laplace la;
        try (CliProgress progress = progress("samples")) {
            la = Laplace.fit(p.model(), p.loss(), p.data(), p.theta(),
                    new Laplace.Options(structure, subset, curvature, delta, sigma != null ? sigma : 1.0, budget), progress);
        }
        if (optimize) {
            la = la.optimize(true);
        }
        double logZ = la.logMarginalLikelihood();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (posterior != null) {
            LaplaceFiles.save(staged, la);
        }
        if (report != null) {
            writeReport(report, la, logZ, seconds);
        }
        boolean mse = la.likelihood().hasSigma();
        out().println(String.format(Locale.ROOT, "laplace (%s, %s, %s): N = %d, log p(D|theta) = %s, log Z = %s, prior precision = %s%s%s, %.3f s",
                structure.id(), subset.id(), curvature.id(), la.parameterCount(), num(la.logLikelihood()), num(logZ), deltaText(la.priorPrecision()),
                mse ? ", sigma = " + num(la.sigma()) : "", optimize ? " (optimized)" : "", seconds));
        if (report != null) {
            out().println("wrote " + report);
        }
        if (posterior != null) {
            out().println("wrote " + posterior);
        }
    }

    private static String deltaText(double[] d) {
        return Arrays.stream(d).distinct().count() == 1 ? num(d[0]) : Arrays.toString(d);
    }

    private void writeReport(Path file, Laplace la, double logZ, double seconds) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = json.createObjectNode();
        o.put("log_marginal_likelihood", logZ);
        o.put("log_likelihood", la.logLikelihood());
        double[] d = la.priorPrecision();
        if (Arrays.stream(d).distinct().count() == 1) {
            o.put("prior_precision", d[0]);
        } else {
            ArrayNode a = o.putArray("prior_precision");
            Arrays.stream(d).forEach(a::add);
        }
        if (la.likelihood().hasSigma()) {
            o.put("sigma", la.sigma());
        }
        o.put("n_params", la.parameterCount());
        o.put("n_data", la.likelihood().samples());
        o.put("structure", la.structure().id());
        o.put("subset", la.subset().id());
        o.put("curvature", la.curvature().id());
        o.put("loss", la.likelihood().loss().name());
        o.put("log_det_posterior_precision", la.logDetPrecision());
        o.put("curvature_scale", la.curvatureScale());
        o.put("optimized", optimize);
        o.put("seconds", seconds);
        outputs.write(file, json.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Memory and disk before the work: full, the curvature of the covered parameters, its
     * eigendecomposition and a work copy (3 N^2 doubles, plus FullHessian's columns); kron, the
     * KFAC factors with their eigenbases; diag, a few N-vectors; each plus a chunk's working memory.
     */
    private void preflight(Problem p, int first, MemoryBudget budget) {
        long covered = ParametricLayers.of(p.model()).sizeFrom(first);
        double chunk = Kfac.chunkBytes(p.model(), p.data().n());
        double posteriorBytes = switch (structure) {
            case FULL -> 8.0 * covered * covered;
            case KRON -> Kfac.memoryBytes(p.model(), p.data().n(), false) - chunk;
            case DIAG -> 8.0 * covered;
        };
        double need = switch (structure) {
            case FULL -> 3 * posteriorBytes + ResourcePreflight.perColumn(p) * 2;
            case KRON -> 3 * posteriorBytes + chunk;
            case DIAG -> 4 * posteriorBytes + chunk;
        };
        ResourcePreflight.require(String.format(Locale.ROOT, "--structure %s over N = %d parameters (the posterior precision%s)", structure.id(),
                covered, structure == Structure.FULL ? ", N^2, with its eigendecomposition" : ""), need, budget,
                structure == Structure.FULL ? "use --structure kron (KFAC) or diag, or --subset last-layer" : "use --subset last-layer");
        requireSpace(posterior, posteriorBytes + 8.0 * p.parameterCount() + (1 << 20));
        requireSpace(report, 4096);
    }

    /** all, last-layer (or last_layer). */
    static final class SubsetConverter implements ITypeConverter<Subset> {
        @Override
        public Subset convert(String value) {
            try {
                return Subset.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not one of all, last-layer");
            }
        }
    }
}
