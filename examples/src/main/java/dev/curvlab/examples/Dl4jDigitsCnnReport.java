package dev.curvlab.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.dl4j.Dl4jConvImport;
import dev.curvlab.nn.dl4j.Dl4jImport;
import dev.curvlab.nn.dl4j.ImportedModel;
import dev.curvlab.nn.io.AtomicFiles;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.train.Metrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A digits CNN trained with DL4J's own trainer, imported into curvlab and analysed: the DL4J twin
 * of {@link DigitsCnnReport}. The {@code MultiLayerNetwork} (ConvolutionLayer 3x3, Truncate with
 * padding 1, tanh; SubsamplingLayer MAX 2x2; OutputLayer softmax + MCXENT; on
 * {@code InputType.convolutionalFlat(8, 8, 1)}, float64) is trained with Adam on the 8x8 digits,
 * imported with {@link Dl4jImport#fromNetwork} (curvlab model
 * {@code [1, 8, 8]-conv-maxpool2x2-flatten-10} returning logits {@code z}, loss {@code ce}), and
 * checked against DL4J on the Hessian's images: {@code max |softmax(z) - net.output(x)|}, the mean
 * loss against {@code net.score}, and the gradient against DL4J's (which is {@code n} times the
 * score's gradient). Then the curvature section of {@link HessianReport}. Writes {@code report.json}
 * ({@code "dl4jParity"} holds the checks), {@code hessian.npy}, {@code model.json} +
 * {@code params.npy} (for the {@code curvlab} command), {@code dl4j-model.zip} (DL4J's own file) and
 * the PNGs into {@code --out}.
 *
 * <p>Run: {@code java -cp examples/target/curvlab-examples.jar dev.curvlab.examples.Dl4jDigitsCnnReport}
 */
@Command(name = "dl4j-digits-cnn-report", mixinStandardHelpOptions = true,
        description = "Train a digits CNN with DL4J, import it into curvlab and report its curvature.")
public final class Dl4jDigitsCnnReport implements Callable<Integer> {
    @Option(names = "--filters", description = "conv filters (default 6)")
    int filters = 6;
    @Option(names = "--epochs", description = "DL4J training epochs, minibatches of 64 (default 30)")
    int epochs = 30;
    @Option(names = "--samples", description = "training images in the Hessian and the parity checks (default 1000)")
    int samples = 1000;
    @Option(names = "--seed", description = "seed (default 1)")
    long seed = 1;
    @Option(names = "--out", description = "output folder (default results-dl4j-digits)")
    Path out = Path.of("results-dl4j-digits");

    public static void main(String[] args) {
        Launch.configure();
        System.exit(new CommandLine(new Dl4jDigitsCnnReport()).execute(args));
    }

    /** The DL4J network (initialised, float64): the same architecture as {@link DigitsCnnReport#network(int)}. */
    public static MultiLayerNetwork network(int filters, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(new Adam(0.01)).weightInit(WeightInit.XAVIER).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(filters).stride(1, 1).padding(1, 1).convolutionMode(ConvolutionMode.Truncate)
                        .activation(Activation.TANH).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1)).build());
        net.init();
        return net;
    }

    /** A dataset of images {@code [n, 1, 8, 8]} with class indices as DL4J's flat rows {@code [n, 64]} and one-hot labels {@code [n, 10]}. */
    public static DataSet toDl4j(Dataset images) {
        int n = images.n();
        INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, n, 10);
        for (int i = 0; i < n; i++) {
            oneHot.putScalar(i, (int) images.y().getDouble(i), 1.0);
        }
        return new DataSet(images.x().dup('c').reshape('c', n, 64), oneHot);
    }

    @Override
    public Integer call() throws Exception {
        if (filters < 1 || epochs < 0 || samples < 1) {
            System.err.printf("dl4j-digits-cnn-report: --filters (%d) and --samples (%d) must be at least 1 and --epochs (%d) at least 0%n", filters,
                    samples, epochs);
            return 2;
        }
        Files.createDirectories(out);
        Dataset.Split split = Datasets.digits().split(0.8, seed);
        Dataset train = split.train();
        MultiLayerNetwork net = network(filters, seed);
        double[] lossHistory = train(net, toDl4j(train));
        ImportedModel imported = Dl4jImport.fromNetwork(net);
        INDArray theta = imported.parameters();
        Dataset part = train.rows(0, Math.min(samples, train.n()));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", Map.of("architecture", imported.model().describe(), "parameters", imported.model().parameterCount(),
                "loss", imported.loss().name()));
        report.put("training", Map.of("trainer", "DL4J MultiLayerNetwork.fit, Adam 0.01", "epochs", epochs,
                "trainAccuracy", Metrics.accuracy(imported.model(), theta, train),
                "testAccuracy", Metrics.accuracy(imported.model(), theta, split.test())));
        Map<String, Object> parity = parity(net, imported, part);
        report.put("dl4jParity", parity);
        writeModelFiles(net, imported);
        ReportPlots.lossCurve(out.resolve("loss_curve.png"), lossHistory, "DL4J training loss, " + imported.model().describe());

        HessianReport curvature = HessianReport.compute(imported.model(), imported.loss(), part, theta, out);
        report.put("hessian", curvature.hessian());
        report.put("layers", curvature.layers());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), report);
        System.out.printf("%nDL4J digits CNN imported as %s, N = %d: test accuracy %.3f%n", imported.model().describe(),
                imported.model().parameterCount(), ((Map<?, ?>) report.get("training")).get("testAccuracy"));
        System.out.printf("  against DL4J on %d images: max |output difference| %.1e, loss %.10f (DL4J %.10f), gradient relative error %.1e%n",
                part.n(), parity.get("maxOutputDifference"), parity.get("curvlabLoss"), parity.get("dl4jScore"), parity.get("gradientRelativeError"));
        curvature.print();
        System.out.printf("  written to %s%n", out.toAbsolutePath());
        return 0;
    }

    /** {@code model.json} + {@code params.npy} (the import, for the {@code curvlab} command) and DL4J's own {@code dl4j-model.zip}. */
    private void writeModelFiles(MultiLayerNetwork net, ImportedModel imported) throws IOException {
        ModelFile.write(out.resolve("model.json"), out.resolve("params.npy"), new ModelSpec(imported.model(), imported.loss(), "dl4j-digits-cnn"),
                imported.parameters());
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, zip, false);
        AtomicFiles.write(out.resolve("dl4j-model.zip"), zip.toByteArray());
    }

    /** DL4J's own training loop: {@code epochs} passes over minibatches of 64; the score on all of {@code data} after each. */
    private double[] train(MultiLayerNetwork net, DataSet data) {
        List<DataSet> batches = data.batchBy(64);
        double[] loss = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            for (DataSet b : batches) {
                net.fit(b);
            }
            loss[e] = net.score(data);
        }
        return loss;
    }

    /**
     * The import against DL4J on {@code data}: outputs (softmax of curvlab's logits vs
     * {@code net.output}), mean loss vs {@code net.score}, and {@code n} times curvlab's gradient vs
     * DL4J's gradient table (relative error, {@link Comparison#relativeError}).
     */
    static Map<String, Object> parity(MultiLayerNetwork net, ImportedModel imported, Dataset data) {
        DataSet ds = toDl4j(data);
        INDArray theta = imported.parameters();
        INDArray probs = Tensor.of(imported.model().predict(theta, data.x())).logSoftmax(1).exp().array();
        double outDiff = Transforms.abs(probs.sub(net.output(ds.getFeatures())), false).maxNumber().doubleValue();
        ModelObjective f = new ModelObjective(imported.model(), imported.loss(), data, Reduction.MEAN);
        double dl4jScore = net.score(ds);
        net.setInput(ds.getFeatures());
        net.setLabels(ds.getLabels());
        net.computeGradientAndScore();
        INDArray dl4jGradient = Dl4jConvImport.fromDl4jTable(net, imported, net.gradient().gradientForVariable());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", data.n());
        m.put("maxOutputDifference", outDiff);
        m.put("curvlabLoss", f.value(theta));
        m.put("dl4jScore", dl4jScore);
        m.put("gradientRelativeError", Comparison.relativeError(f.gradient(theta).mul(data.n()), dl4jGradient));
        return m;
    }

    /** Reads back the DL4J network the report wrote ({@code dl4j-model.zip}). */
    static MultiLayerNetwork readDl4jModel(Path dir) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(dir.resolve("dl4j-model.zip").toFile(), false);
    }
}
