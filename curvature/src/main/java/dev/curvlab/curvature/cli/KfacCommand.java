package dev.curvlab.curvature.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.KfacVariant;
import dev.curvlab.curvature.kfac.ParametricLayers;
import dev.curvlab.nn.io.AtomicFiles;
import dev.curvlab.nn.io.NpyFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code curvlab kfac}: the KFAC (and EKFAC) factors of the mean loss's GGN, per dense layer. */
@Command(name = "kfac", sortOptions = false, usageHelpAutoWidth = true,
        description = {"KFAC factors of the GGN of the mean loss per dense layer: A_l = (1/n) sum_i a~_i a~_i^T [in+1, in+1] and"
                + " G_l = sum_i J_i^T H_i J_i [out, out], the layer's block approximated by A_l kron G_l (W~ = [W; b] row-major).",
                "Writes A_<l>.npy and G_<l>.npy to the --factors directory (with --ekfac also the re-fitted diagonal ekfac_<l>.npy"
                        + " [in+1, out] and the eigenbases QA_<l>.npy, QG_<l>.npy)."})
final class KfacCommand extends CurvlabSubcommand {
    static final String MARKER = "factors.json";

    @Mixin
    ModelOptions model;

    @Mixin
    TargetOptions targets;

    @Option(names = "--variant", order = 10, paramLabel = "V", defaultValue = "exact",
            description = "exact (output Hessian, type-2), mc (gradients at labels sampled from the model), empirical (at the observed"
                    + " labels) (default: ${DEFAULT-VALUE})")
    KfacVariant variant;

    @Option(names = "--samples", order = 11, paramLabel = "S", defaultValue = "1", description = "with --variant mc: sampled labels per input (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seed", order = 12, paramLabel = "SEED", defaultValue = "0", description = "seed of the sampled labels (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--ekfac", order = 13, description = "also re-fit the diagonal in the factors' eigenbasis (EKFAC; a second pass over the data)")
    boolean ekfac;

    @Option(names = "--factors", order = 14, required = true, paramLabel = "DIR", description = "directory for A_<l>.npy, G_<l>.npy, ...")
    Path factors;

    @Option(names = "--out", order = 15, paramLabel = "FILE", description = "also write the dense block-diagonal matrix [N, N] (small models)")
    Path out;

    @Mixin
    MemoryOption memory;

    /** Largest --samples accepted (MC labels per input). */
    static final int MAX_SAMPLES = 100_000;

    @Override
    protected void checkOptions() {
        if (samples < 1 || samples > MAX_SAMPLES) {
            throw usage("--samples must be in 1.." + MAX_SAMPLES + ", got " + samples);
        }
        if (samples != 1 && variant != KfacVariant.MC) {
            throw usage("--samples only applies with --variant mc");
        }
        checkWritableDirectory(factors, "--factors", MARKER);
        checkWritable(out, "--out");
    }

    @Override
    protected void run() throws Exception {
        Problem p = Problem.load(model, targets);
        requireKfacModel(p.model(), model.model.toString());
        long n = p.parameterCount();
        preflight(p);
        Path dir = stageDirectory(factors);   // a hidden temporary directory during the work; removed on failure or SIGINT/SIGTERM
        long t0 = System.nanoTime();
        KfacFactors f;
        try (CliProgress progress = progress("samples")) {
            f = Kfac.compute(p.model(), p.loss(), p.data(), p.theta(), new Kfac.Options(variant, samples, seed, ekfac), progress);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        writeFactors(dir, f, p);
        if (out != null) {
            write(out, f.dense());
        }
        out().println(String.format(Locale.ROOT, "kfac (%s%s%s): %d layers, N = %d, %.3f s", variant.id(),
                variant == KfacVariant.MC ? ", " + samples + " samples, seed " + seed : "", ekfac ? ", ekfac" : "", f.layers(), n, seconds));
        for (int l = 0; l < f.layers(); l++) {
            out().println(String.format(Locale.ROOT, "  layer %d: A %s trace %s, G %s trace %s", l, shape(f.a().get(l)),
                    num(trace(f.a().get(l))), shape(f.g().get(l)), num(trace(f.g().get(l)))));
        }
        out().println("wrote " + factors + (out != null ? " and " + out + " [" + n + ", " + n + "]" : ""));
    }

    /**
     * Memory (the factors, with EKFAC's bases, plus a chunk's working memory; --out 2 N^2 doubles
     * more) and disk, before the work.
     */
    private void preflight(Problem p) {
        long n = p.parameterCount();
        MemoryBudget budget = memory.budget();
        double factorBytes = Kfac.memoryBytes(p.model(), p.data().n(), ekfac);
        ResourcePreflight.require(String.format(Locale.ROOT, "kfac factors of %d layers (--factors%s, with a chunk's working memory)",
                ParametricLayers.of(p.model()).count(), ekfac ? ", --ekfac" : ""), factorBytes, budget, "the factors are the compact form; nothing smaller exists");
        if (out != null) {
            ResourcePreflight.require(String.format(Locale.ROOT, "--out (the dense [N, N] matrix of N = %d parameters, built and copied)", n),
                    factorBytes + 2.0 * 8 * n * n, budget, "leave out --out: the factors in --factors are the compact form");
        }
        requireSpace(factors, factorBytes - Kfac.chunkBytes(p.model(), p.data().n()) + 4096.0 * 5 * ParametricLayers.of(p.model()).count());
        requireSpace(out, 8.0 * n * n + 128);
    }

    /** The factor files and factors.json, into the staged (private) directory; each file through AtomicFiles. */
    private void writeFactors(Path dir, KfacFactors f, Problem p) throws java.io.IOException {
        for (int l = 0; l < f.layers(); l++) {
            NpyFile.write(dir.resolve("A_" + l + ".npy"), f.a().get(l));
            NpyFile.write(dir.resolve("G_" + l + ".npy"), f.g().get(l));
            if (f.ekfac() != null) {
                NpyFile.write(dir.resolve("ekfac_" + l + ".npy"), f.ekfac().get(l));
                NpyFile.write(dir.resolve("QA_" + l + ".npy"), f.ekfacBases().get(l)[0]);
                NpyFile.write(dir.resolve("QG_" + l + ".npy"), f.ekfacBases().get(l)[1]);
            }
        }
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("variant", variant.id());
        o.put("samples", samples);
        o.put("seed", seed);
        o.put("ekfac", ekfac);
        o.put("layers", f.layers());
        if (f.transposedWeights() != null) {    // conv layers: W~ = [W^T; b^T], the flat order transposes W (README, KFAC for CNNs)
            com.fasterxml.jackson.databind.node.ArrayNode t = o.putArray("transposed_weights");
            for (int l = 0; l < f.layers(); l++) {
                t.add(f.transposed(l));
            }
        }
        o.put("loss", p.loss().name());
        o.put("n_data", p.data().n());
        o.put("n_params", p.parameterCount());
        AtomicFiles.write(dir.resolve(MARKER), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o)
                .getBytes(StandardCharsets.UTF_8));
    }

    static double trace(org.nd4j.linalg.api.ndarray.INDArray m) {
        double t = 0;
        for (long i = 0; i < m.size(0); i++) {
            t += m.getDouble(i, i);
        }
        return t;
    }
}
