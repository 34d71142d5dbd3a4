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
import dev.curvlab.nn.data.Standardizer;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
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
 * MAP vs Laplace on Iris: a 4-16-16-3 tanh network trained with weight decay (the MAP of a Gaussian
 * prior with precision n x weight decay), then three Laplace approximations (kron over all layers,
 * kron over the last layer, full over all layers) with the prior precision chosen by maximising the
 * evidence. For each: test NLL, accuracy, expected calibration error, and the mean confidence on
 * inputs far from the data (standardised test inputs scaled by 20), which the Laplace predictive
 * lowers. Writes {@code laplace_reliability.png} (reliability diagram) and {@code laplace.json}.
 */
@Command(name = "iris-laplace", mixinStandardHelpOptions = true, description = "MAP vs Laplace predictive on Iris: NLL, accuracy, ECE, far-away confidence.")
public final class IrisLaplace implements Callable<Integer> {
    @Option(names = "--epochs", description = "training epochs (default 400)")
    int epochs = 400;

    @Option(names = "--weight-decay", description = "L2 coefficient of the mean loss (default 0.005)")
    double weightDecay = 0.005;

    @Option(names = "--seed", description = "split, initialisation and training seed (default 7)")
    long seed = 7;

    @Option(names = "--out", description = "output folder (default results)")
    Path out = Path.of("results");

    /** One row of the comparison. */
    record Row(String name, double nll, double accuracy, double ece, double farConfidence, double priorPrecision, double logEvidence) {
    }

    public static void main(String[] args) {
        Launch.configure();
        System.exit(new CommandLine(new IrisLaplace()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Dataset.Split split = Datasets.iris().split(0.8, seed);
        Standardizer std = Standardizer.fit(split.train());
        Dataset train = std.transform(split.train());
        Dataset test = std.transform(split.test());
        Sequential model = Sequential.mlp(new int[] {4, 16, 16, 3}, Activation.TANH);
        TrainingConfig cfg = TrainingConfig.builder().epochs(epochs).fullBatch().seed(seed).optimizer(new Adam(0.01, 0.9, 0.999, 1e-8, weightDecay))
                .logEvery(Math.max(1, epochs / 4)).build();
        INDArray theta = new Trainer().train(model, Losses.CROSS_ENTROPY, train, model.initialParameters(seed), cfg).theta();
        double trainingPrior = train.n() * weightDecay;
        INDArray far = far(test.x(), seed);

        List<Row> rows = new ArrayList<>();
        INDArray mapProbs = Transforms.softmax(model.predict(theta, test.x()), true);
        rows.add(row("MAP", mapProbs, test, Transforms.softmax(model.predict(theta, far), true), Double.NaN, Double.NaN));
        Map<String, INDArray> probs = new LinkedHashMap<>();
        probs.put("MAP", mapProbs);
        Object[][] configs = {{"Laplace kron, all layers", Structure.KRON, Subset.ALL}, {"Laplace kron, last layer", Structure.KRON, Subset.LAST_LAYER},
            {"Laplace full, all layers", Structure.FULL, Subset.ALL}};
        for (Object[] c : configs) {
            Laplace la = Laplace.fit(model, Losses.CROSS_ENTROPY, train, theta, new Laplace.Options((Structure) c[1], (Subset) c[2], CurvatureType.GGN,
                    new double[] {trainingPrior}, 1.0, MemoryBudget.defaultBudget()), ProgressListener.NONE).optimize(false);
            INDArray p = GlmPredictive.predict(la, test.x(), 0, 0, ProgressListener.NONE).mean();
            INDArray pf = GlmPredictive.predict(la, far, 0, 0, ProgressListener.NONE).mean();
            rows.add(row((String) c[0], p, test, pf, la.priorPrecision()[0], la.logMarginalLikelihood()));
            probs.put((String) c[0], p);
        }
        System.out.println(String.format(Locale.ROOT, "Iris, 4-16-16-3 tanh, %d train / %d test; MAP trained with weight decay %.4g (prior precision n x wd = %.4g)",
                train.n(), test.n(), weightDecay, trainingPrior));
        System.out.println(String.format(Locale.ROOT, "%-26s %8s %9s %7s %16s %17s %12s", "", "test NLL", "accuracy", "ECE", "far confidence",
                "prior precision", "log Z"));
        for (Row r : rows) {
            System.out.println(String.format(Locale.ROOT, "%-26s %8.4f %9.3f %7.4f %16.4f %17s %12s", r.name(), r.nll(), r.accuracy(), r.ece(),
                    r.farConfidence(), Double.isNaN(r.priorPrecision()) ? "-" : String.format(Locale.ROOT, "%.4g (evidence)", r.priorPrecision()),
                    Double.isNaN(r.logEvidence()) ? "-" : String.format(Locale.ROOT, "%.3f", r.logEvidence())));
        }
        CalibrationPlots.reliability(out.resolve("laplace_reliability.png"), probs, test.y(), 10, "Iris test set: reliability (10 bins)");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("weight_decay", weightDecay);
        json.put("training_prior_precision", trainingPrior);
        json.put("rows", rows);
        Files.write(out.resolve("laplace.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json));
        System.out.println("wrote " + out.resolve("laplace_reliability.png") + " and " + out.resolve("laplace.json"));
        return 0;
    }

    private static Row row(String name, INDArray p, Dataset test, INDArray farProbs, double delta, double logZ) {
        return new Row(name, Calibration.nll(p, test.y()), Calibration.accuracy(p, test.y()), Calibration.ece(p, test.y(), 10),
                Calibration.meanConfidence(farProbs), delta, logZ);
    }

    /** Inputs far from the (standardised) data: random directions at radius 20. */
    static INDArray far(INDArray like, long seed) {
        Random r = new Random(seed);
        int n = (int) like.size(0);
        int d = (int) like.size(1);
        double[] v = new double[n * d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                v[i * d + j] = r.nextGaussian();
                norm += v[i * d + j] * v[i * d + j];
            }
            for (int j = 0; j < d; j++) {
                v[i * d + j] *= 20 / Math.sqrt(norm);
            }
        }
        return Nd4j.create(v, new long[] {n, d}, DataType.DOUBLE);
    }
}
