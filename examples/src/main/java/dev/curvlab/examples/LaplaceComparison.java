package dev.curvlab.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.laplace.CurvatureType;
import dev.curvlab.curvature.laplace.GlmPredictive;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * MAP vs Laplace for a classifier trained with cross-entropy (the shared body of {@link IrisLaplace}
 * and {@link DigitsLaplace}): the MAP's softmax, then three Laplace approximations (kron over all
 * layers, kron over the last layer, full GGN over all layers), each with the prior precision that
 * maximises the evidence (starting from the training prior n x weight decay), and their GLM probit
 * predictives: test NLL, accuracy, expected calibration error (10 bins), mean confidence on inputs
 * far from the data, prior precision and log Z. {@link #write} draws the reliability diagram and
 * writes the rows as JSON.
 */
final class LaplaceComparison {
    /** One row of the comparison. */
    record Row(String name, double nll, double accuracy, double ece, double farConfidence, double priorPrecision, double logEvidence) {
    }

    private static final Object[][] POSTERIORS = {{"Laplace kron, all layers", Structure.KRON, Subset.ALL},
        {"Laplace kron, last layer", Structure.KRON, Subset.LAST_LAYER}, {"Laplace full, all layers", Structure.FULL, Subset.ALL}};

    final List<Row> rows = new ArrayList<>();
    final Map<String, INDArray> probabilities = new LinkedHashMap<>();

    /** Runs the comparison at the trained parameters {@code theta}; {@code far}: inputs far from the data. */
    static LaplaceComparison run(Sequential model, Dataset train, Dataset test, INDArray theta, INDArray far, double trainingPrior) throws IOException {
        LaplaceComparison c = new LaplaceComparison();
        INDArray map = Transforms.softmax(model.predict(theta, test.x()), true);
        c.add("MAP", map, test, Transforms.softmax(model.predict(theta, far), true), Double.NaN, Double.NaN);
        for (Object[] posterior : POSTERIORS) {
            String name = (String) posterior[0];
            long t0 = System.nanoTime();
            Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, train, theta, new Laplace.Options((Structure) posterior[1], (Subset) posterior[2],
                    CurvatureType.GGN, new double[] {trainingPrior}, 1.0, MemoryBudget.defaultBudget()), ProgressListener.NONE).optimize(false);
            long t1 = System.nanoTime();
            INDArray p = GlmPredictive.predict(la, test.x(), 0, 0, ProgressListener.NONE).mean();
            INDArray pf = GlmPredictive.predict(la, far, 0, 0, ProgressListener.NONE).mean();
            System.out.println(String.format(Locale.ROOT, "%s: fit + evidence optimisation %.2f s, predictive of %d + %d inputs %.2f s", name,
                    (t1 - t0) / 1e9, test.n(), far.size(0), (System.nanoTime() - t1) / 1e9));
            c.add(name, p, test, pf, la.priorPrecision()[0], la.logMarginalLikelihood());
        }
        return c;
    }

    private void add(String name, INDArray p, Dataset test, INDArray farProbabilities, double delta, double logZ) {
        rows.add(new Row(name, Calibration.nll(p, test.y()), Calibration.accuracy(p, test.y()), Calibration.ece(p, test.y(), 10),
                Calibration.meanConfidence(farProbabilities), delta, logZ));
        probabilities.put(name, p);
    }

    /** Prints the table under {@code title}. */
    void print(String title) {
        System.out.println(title);
        System.out.println(String.format(Locale.ROOT, "%-26s %8s %9s %7s %16s %17s %12s", "", "test NLL", "accuracy", "ECE", "far confidence",
                "prior precision", "log Z"));
        for (Row r : rows) {
            System.out.println(String.format(Locale.ROOT, "%-26s %8.4f %9.3f %7.4f %16.4f %17s %12s", r.name(), r.nll(), r.accuracy(), r.ece(),
                    r.farConfidence(), Double.isNaN(r.priorPrecision()) ? "-" : String.format(Locale.ROOT, "%.4g (evidence)", r.priorPrecision()),
                    Double.isNaN(r.logEvidence()) ? "-" : String.format(Locale.ROOT, "%.3f", r.logEvidence())));
        }
    }

    /** Writes {@code <prefix>_reliability.png} and {@code <prefix>.json} ({@code header} then the rows) to {@code out}. */
    void write(Path out, String prefix, String plotTitle, INDArray testLabels, Map<String, Object> header) throws IOException {
        Path png = out.resolve(prefix + "_reliability.png");
        Path json = out.resolve(prefix + ".json");
        CalibrationPlots.reliability(png, probabilities, testLabels, 10, plotTitle);
        Map<String, Object> doc = new LinkedHashMap<>(header);
        doc.put("rows", rows);
        Files.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        System.out.println("wrote " + png + " and " + json);
    }

    /** {@code n} inputs shaped like {@code like}'s rows, in random directions at Euclidean norm {@code radius}. */
    static INDArray far(INDArray like, long n, double radius, long seed) {
        Random r = new Random(seed);
        long[] shape = like.shape().clone();
        shape[0] = n;
        int d = (int) (like.length() / like.size(0));
        double[] v = new double[Math.toIntExact(n * d)];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                v[i * d + j] = r.nextGaussian();
                norm += v[i * d + j] * v[i * d + j];
            }
            for (int j = 0; j < d; j++) {
                v[i * d + j] *= radius / Math.sqrt(norm);
            }
        }
        return Nd4j.create(v, shape, DataType.DOUBLE);
    }
}
