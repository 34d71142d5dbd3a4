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
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.train.Adam;
import dev.curvlab.nn.train.Trainer;
import dev.curvlab.nn.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * MAP vs Laplace for the digits CNN of {@link DigitsCnnReport} (conv 6x3x3 tanh, max pool 2x2, dense
 * 10; N = 1,030) trained with weight decay on 80% of the 8x8 digits: three Laplace approximations
 * (kron over all layers with KFC for the conv layer, kron over the last (dense) layer on the CNN's
 * features, full GGN over all 1,030 parameters), each with the prior precision that maximises the
 * evidence. For each: test NLL, accuracy, expected calibration error, and the mean confidence on
 * images far from the data (random pixel images at 3x the largest training-image norm), which the
 * Laplace predictive lowers. Writes {@code digits_laplace_reliability.png} and {@code digits_laplace.json}.
 */
@Command(name = "digits-laplace", mixinStandardHelpOptions = true,
        description = "MAP vs Laplace predictive for the digits CNN: NLL, accuracy, ECE, far-away confidence.")
public final class DigitsLaplace implements Callable<Integer> {
    @Option(names = "--epochs", description = "training epochs (default 30)")
    int epochs = 30;

    @Option(names = "--weight-decay", description = "L2 coefficient of the mean loss (default 0.0005)")
    double weightDecay = 0.0005;

    @Option(names = "--seed", description = "split, initialisation and training seed (default 7)")
    long seed = 7;

    @Option(names = "--out", description = "output folder (default results-digits)")
    Path out = Path.of("results-digits");

    public static void main(String[] args) {
        Launch.configure();
        System.exit(new CommandLine(new DigitsLaplace()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Dataset.Split split = Datasets.digits().split(0.8, seed);
        Dataset train = split.train();
        Dataset test = split.test();
        Sequential model = DigitsCnnReport.network(6);
        TrainingConfig cfg = TrainingConfig.builder().epochs(epochs).batchSize(64).seed(seed).optimizer(new Adam(0.01, 0.9, 0.999, 1e-8, weightDecay))
                .logEvery(Math.max(1, epochs / 5)).build();
        INDArray theta = new Trainer().train(model, Losses.CROSS_ENTROPY, train, model.initialParameters(seed), cfg).theta();
        double trainingPrior = train.n() * weightDecay;
        INDArray far = far(train.x(), test.n(), seed);

        List<IrisLaplace.Row> rows = new ArrayList<>();
        Map<String, INDArray> probs = new LinkedHashMap<>();
        INDArray mapProbs = Transforms.softmax(model.predict(theta, test.x()), true);
        rows.add(row("MAP", mapProbs, test, Transforms.softmax(model.predict(theta, far), true), Double.NaN, Double.NaN));
        probs.put("MAP", mapProbs);
        Object[][] configs = {{"Laplace kron, all layers", Structure.KRON, Subset.ALL}, {"Laplace kron, last layer", Structure.KRON, Subset.LAST_LAYER},
            {"Laplace full, all layers", Structure.FULL, Subset.ALL}};
        for (Object[] c : configs) {
            long t0 = System.nanoTime();
            Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, train, theta, new Laplace.Options((Structure) c[1], (Subset) c[2], CurvatureType.GGN,
                    new double[] {trainingPrior}, 1.0, MemoryBudget.defaultBudget()), ProgressListener.NONE).optimize(false);
            long t1 = System.nanoTime();
            INDArray p = GlmPredictive.predict(la, test.x(), 0, 0, ProgressListener.NONE).mean();
            INDArray pf = GlmPredictive.predict(la, far, 0, 0, ProgressListener.NONE).mean();
            System.out.println(String.format(Locale.ROOT, "%s: fit + evidence optimisation %.2f s, predictive of %d + %d inputs %.2f s", c[0],
                    (t1 - t0) / 1e9, test.n(), far.size(0), (System.nanoTime() - t1) / 1e9));
            rows.add(row((String) c[0], p, test, pf, la.priorPrecision()[0], la.logMarginalLikelihood()));
            probs.put((String) c[0], p);
        }
        print(model, train, test, trainingPrior, rows);
        CalibrationPlots.reliability(out.resolve("digits_laplace_reliability.png"), probs, test.y(), 10, "Digits CNN test set: reliability (10 bins)");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model.describe());
        json.put("weight_decay", weightDecay);
        json.put("training_prior_precision", trainingPrior);
        json.put("rows", rows);
        Files.write(out.resolve("digits_laplace.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json));
        System.out.println("wrote " + out.resolve("digits_laplace_reliability.png") + " and " + out.resolve("digits_laplace.json"));
        return 0;
    }

    private void print(Sequential model, Dataset train, Dataset test, double trainingPrior, List<IrisLaplace.Row> rows) {
        System.out.println(String.format(Locale.ROOT, "Digits, %s (N = %d), %d train / %d test; MAP trained with weight decay %.4g (prior precision n x wd"
                + " = %.4g)", model.describe(), model.parameterCount(), train.n(), test.n(), weightDecay, trainingPrior));
        System.out.println(String.format(Locale.ROOT, "%-26s %8s %9s %7s %16s %17s %12s", "", "test NLL", "accuracy", "ECE", "far confidence",
                "prior precision", "log Z"));
        for (IrisLaplace.Row r : rows) {
            System.out.println(String.format(Locale.ROOT, "%-26s %8.4f %9.3f %7.4f %16.4f %17s %12s", r.name(), r.nll(), r.accuracy(), r.ece(),
                    r.farConfidence(), Double.isNaN(r.priorPrecision()) ? "-" : String.format(Locale.ROOT, "%.4g (evidence)", r.priorPrecision()),
                    Double.isNaN(r.logEvidence()) ? "-" : String.format(Locale.ROOT, "%.3f", r.logEvidence())));
        }
    }

    private static IrisLaplace.Row row(String name, INDArray p, Dataset test, INDArray farProbs, double delta, double logZ) {
        return new IrisLaplace.Row(name, Calibration.nll(p, test.y()), Calibration.accuracy(p, test.y()), Calibration.ece(p, test.y(), 10),
                Calibration.meanConfidence(farProbs), delta, logZ);
    }

    /** {@code n} images far from the data: random Gaussian pixels scaled to 3x the largest norm of the training images. */
    static INDArray far(INDArray images, long n, long seed) {
        double radius = 3 * images.reshape(images.size(0), images.length() / images.size(0)).norm2(1).maxNumber().doubleValue();
        Random r = new Random(seed);
        long[] shape = images.shape().clone();
        shape[0] = n;
        int d = (int) (images.length() / images.size(0));
        double[] v = new double[(int) n * d];
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
