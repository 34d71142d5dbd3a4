package dev.curvlab.examples;

import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.train.Adam;
import dev.curvlab.nn.train.Trainer;
import dev.curvlab.nn.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
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
        // random pixel images at 3x the largest norm of a training image
        double radius = 3 * train.x().reshape(train.n(), train.x().length() / train.n()).norm2(1).maxNumber().doubleValue();
        INDArray far = LaplaceComparison.far(train.x(), test.n(), radius, seed);
        LaplaceComparison c = LaplaceComparison.run(model, train, test, theta, far, trainingPrior);
        c.print(String.format(Locale.ROOT, "Digits, %s (N = %d), %d train / %d test; MAP trained with weight decay %.4g (prior precision n x wd = %.4g)",
                model.describe(), model.parameterCount(), train.n(), test.n(), weightDecay, trainingPrior));
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("model", model.describe());
        header.put("weight_decay", weightDecay);
        header.put("training_prior_precision", trainingPrior);
        c.write(out, "digits_laplace", "Digits CNN test set: reliability (10 bins)", test.y(), header);
        return 0;
    }
}
