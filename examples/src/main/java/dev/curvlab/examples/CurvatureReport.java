package dev.curvlab.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.SpectralDensity;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.curvature.spectrum.TraceOptions;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Standardizer;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.train.Adam;
import dev.curvlab.nn.train.Metrics;
import dev.curvlab.nn.train.Trainer;
import dev.curvlab.nn.train.TrainingConfig;
import dev.curvlab.nn.train.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main analysis: trains a small MLP (Iris by default, shipped inside deeplearning4j-core), then
 * measures the curvature of its training loss at the trained parameters: the full Hessian, its
 * spectrum, trace (exact and Hutch++), the GGN beside it, Lanczos eigenvalues against the dense ones,
 * and per-layer curvature. Writes {@code report.json}, {@code hessian.npy}, the model files and three
 * PNG plots into the output folder.
 */
@Command(name = "curvature-report", mixinStandardHelpOptions = true,
        description = "Train an MLP and report the curvature of its loss (Hessian spectrum, trace, GGN, per-layer).")
public final class CurvatureReport implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(CurvatureReport.class);

    @Option(names = "--data", description = "iris (default), a CSV file (last column = target unless --target-column), or X.npy with --y")
    String data = "iris";
    @Option(names = "--y", description = "targets .npy when --data is an X.npy file")
    Path y;
    @Option(names = "--target-column", description = "CSV target column (negative counts from the end; default -1)")
    int targetColumn = -1;
    @Option(names = "--header", description = "the CSV has a header row")
    boolean header;
    @Option(names = "--hidden", split = ",", description = "hidden layer widths (default 16,16)")
    int[] hidden = {16, 16};
    @Option(names = "--activation", description = "hidden activation (default tanh)")
    String activation = "tanh";
    @Option(names = "--loss", description = "mse, ce, bce, ... (default: ce for class targets, mse otherwise)")
    String loss;
    @Option(names = "--epochs", description = "training epochs (default 300)")
    int epochs = 300;
    @Option(names = "--lr", description = "Adam learning rate (default 0.01)")
    double lr = 0.01;
    @Option(names = "--batch", description = "minibatch size, 0 = full batch (default 0)")
    int batch;
    @Option(names = "--seed", description = "seed for the split, initialisation and shuffling (default 1)")
    long seed = 1;
    @Option(names = "--method", description = "full-Hessian method: auto, structured, blocked, rowloop (default auto)")
    String method = "auto";
    @Option(names = "--out", description = "output folder (default results)")
    Path out = Path.of("results");

    public static void main(String[] args) {
        Launch.configure();
        System.exit(new CommandLine(new CurvatureReport()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Dataset all = load();
        Dataset.Split split = all.split(0.8, seed);
        Standardizer std = Standardizer.fit(split.train());
        Dataset train = std.transform(split.train());
        Dataset test = std.transform(split.test());
        boolean classes = train.hasClassIndices();
        Loss lossFn = loss != null ? Losses.parse(loss) : classes ? Losses.CROSS_ENTROPY : Losses.MSE;
        int outputs = classes ? Math.max(2, all.numClasses()) : (int) lossFn.outputsFor(train.k());
        int[] sizes = new int[hidden.length + 2];
        sizes[0] = train.d();
        System.arraycopy(hidden, 0, sizes, 1, hidden.length);
        sizes[sizes.length - 1] = outputs;
        Sequential model = Sequential.mlp(sizes, Activation.parse(activation));
        LOG.info("data: {} train / {} test samples, {} features; model {} (N = {}), loss {}", train.n(), test.n(), train.d(), model.describe(),
                model.parameterCount(), lossFn.name());

        TrainingConfig cfg = TrainingConfig.builder().epochs(epochs).batchSize(batch).seed(seed).optimizer(new Adam(lr))
                .logEvery(Math.max(1, epochs / 10)).build();
        TrainingResult tr = new Trainer().train(model, lossFn, train, model.initialParameters(seed), cfg);
        INDArray theta = tr.theta();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", Map.of("architecture", model.describe(), "parameters", model.parameterCount(), "loss", lossFn.name()));
        report.put("data", Map.of("source", data, "train", train.n(), "test", test.n(), "features", train.d()));
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("epochs", tr.epochs());
        training.put("stop", tr.stopReason().name());
        training.put("seconds", tr.wallTime().toMillis() / 1000.0);
        training.put("trainLoss", new ModelObjective(model, lossFn, train, Reduction.MEAN).value(theta));
        training.put("testLoss", new ModelObjective(model, lossFn, test, Reduction.MEAN).value(theta));
        if (classes) {
            training.put("trainAccuracy", Metrics.accuracy(model, theta, train));
            training.put("testAccuracy", Metrics.accuracy(model, theta, test));
        }
        training.put("gradientNorm", new ModelObjective(model, lossFn, train, Reduction.MEAN).gradient(theta).norm2Number().doubleValue());
        report.put("training", training);
        ReportPlots.lossCurve(out.resolve("loss_curve.png"), tr.lossHistory(), "Training loss, " + model.describe());
        ModelFile.write(out.resolve("model.json"), out.resolve("params.npy"), new ModelSpec(model, lossFn, "curvature-report"), theta);

        // the full Hessian of the mean training loss
        HessianOperator hop = new HessianOperator(model, lossFn, train, theta, 0);
        FullHessian.Result hr = FullHessian.compute(hop, FullHessian.Options.defaults().withMethod(HessianMethod.parse(method))
                .withProgress(new LoggingProgress("columns", 2000)).withOut(out.resolve("hessian.npy")));
        INDArray h = hr.matrix();
        double[] eig = SymmetricEigen.eigenvalues(h);
        NpyFile.write(out.resolve("eigenvalues.npy"), Nd4j.create(eig, new long[] {eig.length}, DataType.DOUBLE));
        SymmetricEigen.Summary sum = SymmetricEigen.summarize(eig, 1e-10);
        Map<String, Object> hess = new LinkedHashMap<>();
        hess.put("method", hr.method().name().toLowerCase());
        hess.put("seconds", hr.seconds());
        hess.put("maxAsymmetry", hr.asymmetry());
        hess.put("minEigenvalue", sum.min());
        hess.put("maxEigenvalue", sum.max());
        hess.put("negativeEigenvalues", sum.negative());
        hess.put("nearZeroEigenvalues", sum.nearZero());
        hess.put("condition", sum.condition());
        double exactTrace = TraceEstimator.exact(h).value();
        TraceEstimator.TraceEstimate hpp = TraceEstimator.hutchPlusPlus(hop, TraceOptions.defaults().withSeed(seed));
        hess.put("trace", exactTrace);
        hess.put("traceHutchPlusPlus", Map.of("estimate", hpp.value(), "standardError", hpp.standardError(), "matvecs", hpp.matvecs()));
        int k = (int) Math.min(5, model.parameterCount());
        EigenResult top = Lanczos.extremal(hop, k, Lanczos.Which.LARGEST);
        double lanczosErr = 0;
        for (int i = 0; i < k; i++) {
            lanczosErr = Math.max(lanczosErr, Math.abs(top.values()[i] - eig[eig.length - 1 - i]));
        }
        hess.put("topEigenvalues", top5(eig));
        hess.put("lanczosTop", top.values());
        hess.put("lanczosIterations", top.iterations());
        hess.put("lanczosMaxAbsError", lanczosErr);
        report.put("hessian", hess);

        // GGN beside the Hessian
        INDArray g = FullHessian.compute(new GgnOperator(model, lossFn, train, theta, 0), FullHessian.Options.defaults().withMethod(HessianMethod.parse(method))).matrix();
        double[] geig = SymmetricEigen.eigenvalues(g);
        Map<String, Object> ggn = new LinkedHashMap<>();
        ggn.put("relativeDifferenceFromHessian", h.sub(g).norm2Number().doubleValue() / h.norm2Number().doubleValue());
        ggn.put("minEigenvalue", geig[0]);
        ggn.put("topEigenvalues", top5(geig));
        ggn.put("trace", TraceEstimator.exact(g).value());
        report.put("ggn", ggn);

        // per-layer curvature: the diagonal blocks of H
        long[] bounds = new long[model.layers().size() + 1];
        List<String> names = new ArrayList<>();
        List<Map<String, Object>> layers = new ArrayList<>();
        for (int l = 0; l < model.layers().size(); l++) {
            bounds[l + 1] = bounds[l] + model.layers().get(l).parameterCount();
            INDArray block = h.get(NDArrayIndex.interval(bounds[l], bounds[l + 1]), NDArrayIndex.interval(bounds[l], bounds[l + 1])).dup('c');
            double[] be = SymmetricEigen.eigenvalues(block);
            names.add("layer " + l);
            layers.add(Map.of("layer", l, "parameters", bounds[l + 1] - bounds[l], "trace", TraceEstimator.exact(block).value(),
                    "topEigenvalue", be[be.length - 1], "minEigenvalue", be[0]));
        }
        report.put("layers", layers);

        double range = Math.max(1e-12, eig[eig.length - 1] - eig[0]);
        SpectralDensity.Density dens = SpectralDensity.of(eig, range / 200, 800);
        ReportPlots.spectrum(out.resolve("spectrum.png"), dens.grid(), dens.density(), eig, "Hessian eigenvalue density, N = " + model.parameterCount());
        ReportPlots.heatmap(out.resolve("hessian_heatmap.png"), h, bounds, names, "Hessian of the training loss, " + model.describe());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        dev.curvlab.nn.io.AtomicFiles.write(out.resolve("report.json"), json.writeValueAsBytes(report));
        print(report, model, lossFn);
        return 0;
    }

    private Dataset load() throws java.io.IOException {
        if (data.equals("iris")) {
            return dev.curvlab.nn.data.Datasets.iris();
        }
        Path p = Path.of(data);
        if (data.endsWith(".npy")) {
            if (y == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--data " + data + " needs --y Y.npy");
            }
            return dev.curvlab.nn.data.Datasets.npy(p, y);
        }
        return dev.curvlab.nn.data.Datasets.csv(p, targetColumn, header);
    }

    private static double[] top5(double[] ascending) {
        int k = Math.min(5, ascending.length);
        double[] t = new double[k];
        for (int i = 0; i < k; i++) {
            t[i] = ascending[ascending.length - 1 - i];
        }
        return t;
    }

    @SuppressWarnings("unchecked")
    private void print(Map<String, Object> r, Sequential model, Loss loss) {
        Map<String, Object> t = (Map<String, Object>) r.get("training");
        Map<String, Object> h = (Map<String, Object>) r.get("hessian");
        Map<String, Object> g = (Map<String, Object>) r.get("ggn");
        System.out.printf("%ncurvlab curvature report: %s, loss %s, N = %d%n", model.describe(), loss.name(), model.parameterCount());
        System.out.printf("  training    loss %.4g (test %.4g)%s, |grad| %.2e, %d epochs%n", t.get("trainLoss"), t.get("testLoss"),
                t.containsKey("testAccuracy") ? String.format(", accuracy %.3f (test %.3f)", t.get("trainAccuracy"), t.get("testAccuracy")) : "",
                t.get("gradientNorm"), t.get("epochs"));
        System.out.printf("  Hessian     %s in %.3f s, max |H - H^T| %.1e%n", h.get("method"), h.get("seconds"), h.get("maxAsymmetry"));
        System.out.printf("  eigenvalues min %.4g, max %.4g, %d negative, condition %.3g%n", h.get("minEigenvalue"), h.get("maxEigenvalue"),
                h.get("negativeEigenvalues"), h.get("condition"));
        Map<String, Object> hpp = (Map<String, Object>) h.get("traceHutchPlusPlus");
        System.out.printf("  trace       %.6g exact, %.6g +- %.2g Hutch++ (%s products)%n", h.get("trace"), hpp.get("estimate"), hpp.get("standardError"),
                hpp.get("matvecs"));
        System.out.printf("  top eigenvalues     %s%n  Lanczos (%d it.)    %s (max error %.1e)%n", java.util.Arrays.toString((double[]) h.get("topEigenvalues")),
                h.get("lanczosIterations"), java.util.Arrays.toString((double[]) h.get("lanczosTop")), h.get("lanczosMaxAbsError"));
        System.out.printf("  GGN         ||H - G|| / ||H|| = %.3g, min eigenvalue %.3g, trace %.6g%n", g.get("relativeDifferenceFromHessian"),
                g.get("minEigenvalue"), g.get("trace"));
        for (Map<String, Object> l : (List<Map<String, Object>>) r.get("layers")) {
            System.out.printf("  layer %s     %d parameters, trace %.4g, top eigenvalue %.4g, min %.3g%n", l.get("layer"), l.get("parameters"),
                    l.get("trace"), l.get("topEigenvalue"), l.get("minEigenvalue"));
        }
        System.out.printf("  written to %s: report.json, hessian.npy, eigenvalues.npy, model.json, params.npy, loss_curve.png, spectrum.png,"
                + " hessian_heatmap.png%n", out.toAbsolutePath());
    }
}
