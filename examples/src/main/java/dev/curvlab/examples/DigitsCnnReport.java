package dev.curvlab.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.SpectralDensity;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.train.Adam;
import dev.curvlab.nn.train.Metrics;
import dev.curvlab.nn.train.Trainer;
import dev.curvlab.nn.train.TrainingConfig;
import dev.curvlab.nn.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A small CNN on the 8x8 digits (conv 6x3x3 tanh, max pool 2x2, dense 10; N = 1,030), trained in
 * curvlab, then the curvature report of the Iris example: the exact Hessian of the mean training
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
        HessianOperator hop = new HessianOperator(model, Losses.CROSS_ENTROPY, part, theta, 0);
        FullHessian.Result hr = FullHessian.compute(hop, new FullHessian.Options().progress(new LoggingProgress("columns", 2000))
                .out(out.resolve("hessian.npy")));
        INDArray h = hr.matrix();
        double[] eig = SymmetricEigen.eigenvalues(h);
        SymmetricEigen.Summary sum = SymmetricEigen.summarize(eig, 1e-10);
        EigenResult top = Lanczos.extremal(hop, 5, Lanczos.Which.LARGEST);
        double lanczosErr = 0;
        for (int i = 0; i < 5; i++) {
            lanczosErr = Math.max(lanczosErr, Math.abs(top.values()[i] - eig[eig.length - 1 - i]));
        }
        Map<String, Object> hess = new LinkedHashMap<>();
        hess.put("samples", part.n());
        hess.put("method", hr.method().name().toLowerCase());
        hess.put("seconds", hr.seconds());
        hess.put("maxAsymmetry", hr.asymmetry());
        hess.put("minEigenvalue", sum.min());
        hess.put("maxEigenvalue", sum.max());
        hess.put("negativeEigenvalues", sum.negative());
        hess.put("trace", TraceEstimator.exact(h).value());
        hess.put("lanczosTop", top.values());
        hess.put("lanczosMaxAbsError", lanczosErr);
        report.put("hessian", hess);

        List<Long> bounds = new ArrayList<>(List.of(0L));
        List<String> names = new ArrayList<>();
        List<Map<String, Object>> layers = new ArrayList<>();
        for (int l = 0; l < model.modules().size(); l++) {
            Layer m = model.modules().get(l);
            if (m.parameterShapes().isEmpty()) {
                continue;
            }
            long[] r = model.parameterRange(l);
            bounds.add(r[1]);
            names.add(m.type() + " " + l);
            INDArray block = h.get(NDArrayIndex.interval(r[0], r[1]), NDArrayIndex.interval(r[0], r[1])).dup('c');
            double[] be = SymmetricEigen.eigenvalues(block);
            layers.add(Map.of("layer", l, "type", m.type(), "parameters", r[1] - r[0], "trace", TraceEstimator.exact(block).value(),
                    "topEigenvalue", be[be.length - 1], "minEigenvalue", be[0]));
        }
        report.put("layers", layers);
        double range = Math.max(1e-12, eig[eig.length - 1] - eig[0]);
        SpectralDensity.Density dens = SpectralDensity.of(eig, range / 200, 800);
        ReportPlots.spectrum(out.resolve("spectrum.png"), dens.grid(), dens.density(), eig, "Hessian eigenvalue density, N = " + model.parameterCount());
        ReportPlots.heatmap(out.resolve("hessian_heatmap.png"), h, bounds.stream().mapToLong(Long::longValue).toArray(), names,
                "Hessian of the training loss, " + model.describe());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), report);
        System.out.printf("%ndigits CNN %s, N = %d: test accuracy %.3f%n", model.describe(), model.parameterCount(),
                ((Map<?, ?>) report.get("training")).get("testAccuracy"));
        System.out.printf("  Hessian on %d images: %s in %.2f s, eigenvalues [%.4g, %.4g], %d negative, trace %.6g%n", part.n(), hess.get("method"),
                hr.seconds(), sum.min(), sum.max(), sum.negative(), hess.get("trace"));
        System.out.printf("  Lanczos top 5 %s (max error vs dense %.1e)%n", Arrays.toString(top.values()), lanczosErr);
        for (Map<String, Object> l : layers) {
            System.out.printf("  layer %s (%s): %d parameters, trace %.4g, top eigenvalue %.4g%n", l.get("layer"), l.get("type"), l.get("parameters"),
                    l.get("trace"), l.get("topEigenvalue"));
        }
        System.out.printf("  written to %s%n", out.toAbsolutePath());
        return 0;
    }
}
