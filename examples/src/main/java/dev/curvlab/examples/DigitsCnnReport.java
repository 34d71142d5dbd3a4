package dev.curvlab.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.train.Adam;
import dev.curvlab.nn.train.Metrics;
import dev.curvlab.nn.train.Trainer;
import dev.curvlab.nn.train.TrainingConfig;
import dev.curvlab.nn.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A small CNN on the 8x8 digits (conv 6x3x3 tanh, max pool 2x2, dense 10; N = 1,030), trained in
 * curvlab, then the curvature report of the Iris example ({@link HessianReport}): the exact Hessian of the mean training
 * loss on {@code --samples} images (generic blocked method), its spectrum, top eigenvalues by
 * Lanczos checked against the dense ones, exact trace, per-layer blocks, heat map with layer
 * boundaries; {@code report.json}, {@code hessian.npy}, model files and PNGs in {@code --out}.
 */
@Command(name = "digits-cnn-report", mixinStandardHelpOptions = true, description = "Train a CNN on the 8x8 digits and report its curvature.")
public final class DigitsCnnReport implements Callable<Integer> {
    @Option(names = "--filters", description = "conv filters (default 6)")
    int filters = 6;
    @Option(names = "--epochs", description = "training epochs (default 30)")
    int epochs = 30;
    @Option(names = "--samples", description = "training images in the Hessian (default 1000)")
    int samples = 1000;
    @Option(names = "--seed", description = "seed (default 1)")
    long seed = 1;
    @Option(names = "--out", description = "output folder (default results-digits)")
    Path out = Path.of("results-digits");

    public static void main(String[] args) {
        Launch.configure();
        System.exit(new CommandLine(new DigitsCnnReport()).execute(args));
    }

    /** The example's network on images [1, 8, 8]. */
    public static Sequential network(int filters) {
        return Sequential.imageBuilder(1, 8, 8)
                .conv2d(filters, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, null)
                .flatten()
                .dense(10, Activation.IDENTITY)
                .build();
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Dataset.Split split = Datasets.digits().split(0.8, seed);
        Dataset train = split.train();
        Sequential model = network(filters);
        TrainingConfig cfg = TrainingConfig.builder().epochs(epochs).batchSize(64).seed(seed).optimizer(new Adam(0.01))
                .logEvery(Math.max(1, epochs / 5)).build();
        TrainingResult tr = new Trainer().train(model, Losses.CROSS_ENTROPY, train, model.initialParameters(seed), cfg);
        INDArray theta = tr.theta();
        ModelFile.write(out.resolve("model.json"), out.resolve("params.npy"), new ModelSpec(model, Losses.CROSS_ENTROPY, "digits-cnn"), theta);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", Map.of("architecture", model.describe(), "parameters", model.parameterCount(), "loss", "ce"));
        report.put("training", Map.of("epochs", tr.epochs(), "seconds", tr.wallTime().toMillis() / 1000.0,
                "trainAccuracy", Metrics.accuracy(model, theta, train), "testAccuracy", Metrics.accuracy(model, theta, split.test())));
        ReportPlots.lossCurve(out.resolve("loss_curve.png"), tr.lossHistory(), "Training loss, " + model.describe());

        Dataset part = train.rows(0, Math.min(samples, train.n()));
        HessianReport curvature = HessianReport.compute(model, Losses.CROSS_ENTROPY, part, theta, out);
        report.put("hessian", curvature.hessian());
        report.put("layers", curvature.layers());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), report);
        System.out.printf("%ndigits CNN %s, N = %d: test accuracy %.3f%n", model.describe(), model.parameterCount(),
                ((Map<?, ?>) report.get("training")).get("testAccuracy"));
        curvature.print();
        System.out.printf("  written to %s%n", out.toAbsolutePath());
        return 0;
    }
}
