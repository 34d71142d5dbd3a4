package dev.curvlab.curvature.laplace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.curvlab.nn.io.AtomicFiles;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.curvature.kfac.ParametricLayers;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A saved posterior: everything {@code curvlab predict} needs, in one directory.
 * <ul>
 * <li>{@code model.json}, {@code params.npy}: the model and its (MAP) parameters ({@link ModelFile});</li>
 * <li>{@code posterior.json}: structure, subset, curvature, loss, prior precision per covered layer,
 *     sigma, and the likelihood's sufficient numbers (samples, summed loss, constant);</li>
 * <li>the curvature of the mean loss: {@code curvature.npy} (full), {@code A_l.npy} and
 *     {@code G_l.npy} per covered layer l counted from the first covered one (kron), {@code diagonal.npy} (diag).</li>
 * </ul>
 */
public final class LaplaceFiles {
    static final String FORMAT = "curvlab-laplace-posterior";
    public static final String MARKER = "posterior.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LaplaceFiles() {
    }

    /**
     * Writes the posterior's files into the existing directory {@code dir} (each through
     * {@link AtomicFiles}); the CLI passes the private temporary directory of its output
     * transaction, so the posterior appears complete or not at all.
     */
    public static void save(Path dir, Laplace la) throws IOException {
        ModelFile.write(dir.resolve("model.json"), dir.resolve("params.npy"), new ModelSpec(la.model(), la.likelihood().loss()), la.parameters());
        for (Map.Entry<String, INDArray> e : la.precision().arrays().entrySet()) {
            NpyFile.write(dir.resolve(e.getKey() + ".npy"), e.getValue());
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", 1);
        o.put("structure", la.structure().id());
        o.put("subset", la.subset().id());
        o.put("curvature", la.curvature().id());
        o.put("loss", la.likelihood().loss().name());
        o.put("first_layer", la.firstLayer());
        o.put("n_params", la.parameterCount());
        o.put("n_data", la.likelihood().samples());
        o.put("summed_loss", la.likelihood().summedLoss());
        o.put("likelihood_constant", la.likelihood().constant());
        ArrayNode d = o.putArray("prior_precision");
        for (double v : la.priorPrecision()) {
            d.add(v);
        }
        o.put("sigma", la.sigma());
        AtomicFiles.write(dir.resolve(MARKER), JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
    }

    /** Reads a posterior saved by {@link #save}; the message names the file that is missing or wrong. */
    public static Laplace load(Path dir) throws IOException {
        Path meta = dir.resolve(MARKER);
        if (!Files.isRegularFile(meta)) {
            throw new NoSuchFileException(meta + " (not a posterior directory written by 'curvlab laplace')");
        }
        JsonNode o = JSON.readTree(Files.readAllBytes(meta));
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new IOException(meta + ": not a curvlab posterior (format '" + o.path("format").asText() + "')");
        }
        ModelFile.Bundle bundle = ModelFile.read(dir.resolve("model.json"), dir.resolve("params.npy"));
        Sequential model = bundle.spec().model();
        Loss loss = Losses.parse(o.path("loss").asText());
        Structure structure = Structure.valueOf(o.path("structure").asText().toUpperCase(Locale.ROOT));
        Subset subset = Subset.valueOf(o.path("subset").asText().toUpperCase(Locale.ROOT).replace('-', '_'));
        CurvatureType curvature = CurvatureType.valueOf(o.path("curvature").asText("ggn").toUpperCase(Locale.ROOT));
        ParametricLayers layers = ParametricLayers.of(model);
        int first = subset.firstLayer(layers.count());
        int covered = layers.count() - first;
        long[] sizes = new long[covered];
        long[] widths = new long[covered];
        for (int l = first; l < layers.count(); l++) {
            sizes[l - first] = layers.get(l).size();
            widths[l - first] = layers.get(l).cols();
        }
        PosteriorPrecision p = switch (structure) {
            case FULL -> new FullPrecision(NpyFile.read(dir.resolve("curvature.npy")), sizes);
            case DIAG -> new DiagPrecision(NpyFile.read(dir.resolve("diagonal.npy")), sizes, widths);
            case KRON -> {
                List<INDArray> a = new ArrayList<>();
                List<INDArray> g = new ArrayList<>();
                for (int l = 0; l < covered; l++) {
                    a.add(NpyFile.read(dir.resolve("A_" + l + ".npy")));
                    g.add(NpyFile.read(dir.resolve("G_" + l + ".npy")));
                }
                yield new KronPrecision(a, g, layers.transposedWeights(first));
            }
        };
        double[] delta = new double[o.path("prior_precision").size()];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = o.path("prior_precision").get(i).asDouble();
        }
        Likelihood lik = new Likelihood(loss, o.path("n_data").asLong(), model.outputSize(), o.path("summed_loss").asDouble(),
                o.path("likelihood_constant").asDouble());
        return new Laplace(model, bundle.parameters(), lik, p, subset, curvature, delta, o.path("sigma").asDouble(1.0));
    }
}
