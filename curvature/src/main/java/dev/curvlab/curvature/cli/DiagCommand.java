package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.kfac.CurvatureDiagonal;
import dev.curvlab.curvature.kfac.DiagonalKind;
import dev.curvlab.curvature.kfac.Kfac;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code curvlab diag}: the diagonal of the GGN, the Hessian or the MC Fisher of the mean loss, without forming the matrix. */
@Command(name = "diag", sortOptions = false, usageHelpAutoWidth = true,
        description = "Diagonal [N] of a curvature matrix of the mean loss (as 'curvlab ggn' / 'hessian'), exactly in O(N) memory"
                + " for dense networks: ggn, hessian, or mc-fisher (gradients at labels sampled from the model).")
final class DiagCommand extends CurvlabSubcommand {
    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--of", order = 10, paramLabel = "M", defaultValue = "ggn", converter = KindConverter.class,
            description = "ggn, hessian or mc-fisher (default: ${DEFAULT-VALUE})")
    DiagonalKind kind;

    @Option(names = "--samples", order = 11, paramLabel = "S", defaultValue = "1", description = "with --of mc-fisher: sampled labels per input (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seed", order = 12, paramLabel = "SEED", defaultValue = "0", description = "seed of the sampled labels (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", order = 13, required = true, paramLabel = "FILE", description = "write the diagonal [N] (float64 .npy)")
    Path out;

    @Mixin
    MemoryOption memory;

    @Override
    protected void checkOptions() {
        if (samples < 1 || samples > KfacCommand.MAX_SAMPLES) {
            throw usage("--samples must be in 1.." + KfacCommand.MAX_SAMPLES + ", got " + samples);
        }
        if (samples != 1 && kind != DiagonalKind.MC_FISHER) {
            throw usage("--samples only applies with --of mc-fisher");
        }
        checkWritable(out, "--out");
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        requireKfacModel(p.model(), model.model.toString());
        if (kind == DiagonalKind.HESSIAN) {
            requireDenseChain(p.model(), model.model.toString(), "diag --of hessian (use --of ggn or mc-fisher)");
        }
        long n = p.parameterCount();
        ResourcePreflight.require(String.format(Locale.ROOT, "diag --of %s of N = %d parameters (the diagonal, its per-layer buffers and a chunk's"
                + " working memory)", kind.id(), n), 8.0 * 4 * n + Kfac.chunkBytes(p.model(), p.data().n()), memory.budget(),
                "lower the number of samples per run or raise --max-memory");
        requireSpace(out, 8.0 * n + 128);
        long t0 = System.nanoTime();
        INDArray d;
        try (CliProgress progress = progress("samples")) {
            d = CurvatureDiagonal.compute(kind, p.model(), p.loss(), p.data(), p.theta(), samples, seed, progress);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        write(out, d);
        out().println(String.format(Locale.ROOT, "diag (%s): N = %d, trace %s, min %s, max %s, %.3f s", kind.id(), d.length(),
                num(d.sumNumber().doubleValue()), num(d.minNumber().doubleValue()), num(d.maxNumber().doubleValue()), seconds));
        out().println("wrote " + out + " " + shape(d));
    }

    /** ggn, hessian, mc-fisher (or mc_fisher). */
    static final class KindConverter implements ITypeConverter<DiagonalKind> {
        @Override
        public DiagonalKind convert(String value) {
            String v = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            try {
                return DiagonalKind.valueOf(v);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not one of ggn, hessian, mc-fisher");
            }
        }
    }
}
