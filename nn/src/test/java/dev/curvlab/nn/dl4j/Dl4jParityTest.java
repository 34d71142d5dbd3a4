package dev.curvlab.nn.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Imported models against DL4J itself (double precision throughout): outputs, loss and gradient.
 *
 * <p>DL4J's conventions, verified here for n samples and k outputs (exact in double, e.g. n = 5,
 * k = 3 gives score / curvlab-mean = 1, 1, 3 and DL4J-gradient / curvlab-gradient = 5, 5, 15 for
 * mse, ce, bce):
 * <ul>
 * <li>{@code score} = mean over the batch of a per-sample loss; that per-sample loss is
 *     {@code sum_j (f_j - y_j)^2 / k} for mse (so the score is curvlab's mse MEAN over all n*k
 *     elements), {@code -sum_j y_j log softmax_j} for mcxent (curvlab's ce MEAN) and
 *     {@code sum_j bce_j} for xent, which is k times curvlab's bce MEAN (a mean over n*k elements).</li>
 * <li>{@code gradient()} after {@code computeGradientAndScore()} is {@code n * d(score)/d(theta)}
 *     (the per-sample gradients summed; DL4J's updater divides by the minibatch later).</li>
 * </ul>
 * Everything matches to {@link Tolerances#EXACT}: DL4J runs in float64 with
 * {@code dataType(DOUBLE)}, and the only differences are the order of floating-point operations.
 */
class Dl4jParityTest {
    /** The three output layers with a curvlab loss, with the factor {@code score / curvlab MEAN}. */
    enum Kind {
        MSE(LossFunction.MSE, Activation.IDENTITY, Losses.MSE),
        CE(LossFunction.MCXENT, Activation.SOFTMAX, Losses.CROSS_ENTROPY),
        BCE(LossFunction.XENT, Activation.SIGMOID, Losses.BCE);

        final LossFunction lossFunction;
        final Activation output;
        final Loss loss;

        Kind(LossFunction lossFunction, Activation output, Loss loss) {
            this.lossFunction = lossFunction;
            this.output = output;
            this.loss = loss;
        }

        /** DL4J's score divided by curvlab's MEAN loss for k outputs. */
        double scoreFactor(int k) {
            return this == BCE ? k : 1.0;
        }
    }

    /** A DL4J network, a batch, and its targets in both conventions (one-hot vs class indices for ce). */
    record Problem(MultiLayerNetwork net, INDArray x, INDArray yDl4j, INDArray yCurvlab, Kind kind) {
        int n() {
            return (int) x.size(0);
        }

        int k() {
            return (int) yDl4j.size(1);
        }
    }

    private static final int[] SIZES = {4, 7, 5, 3};

    /**
     * DL4J's leaky relu backward pass ({@code LeakyReLUBp}) takes alpha as float32, so its slope is
     * {@code (float) 0.01 = 0.009999999776...} (asserted in {@link #dl4jLeakyReluBackpropUsesFloat32Alpha});
     * its forward pass uses the double 0.01. Gradients through negative units are therefore off by
     * about 2.2e-8 relative (observed: up to 4.5e-10 relative to the largest gradient entry), so
     * leaky relu gradients are compared at 1e-8 instead of {@link Tolerances#EXACT}.
     */
    private static final double LEAKY_RELU_GRADIENT = 1e-8;

    static Problem problem(Kind kind, Activation hidden, long seed, int n, int... sizes) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE)
                .updater(new Sgd(0.1)).l1(0.0).l2(0.0).list();
        for (int l = 1; l < sizes.length - 1; l++) {
            b.layer(new DenseLayer.Builder().nIn(sizes[l - 1]).nOut(sizes[l]).activation(hidden).build());
        }
        int k = sizes[sizes.length - 1];
        b.layer(new OutputLayer.Builder(kind.lossFunction).nIn(sizes[sizes.length - 2]).nOut(k).activation(kind.output).build());
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        Nd4j.getRandom().setSeed(seed);
        net.params().addi(Nd4j.randn(DataType.DOUBLE, net.numParams()).muli(0.2)); // biases away from 0
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, sizes[0]);
        INDArray yDl4j;
        INDArray yCurvlab;
        if (kind == Kind.CE) {
            Random r = new Random(seed);
            yCurvlab = Nd4j.zeros(DataType.DOUBLE, n);
            yDl4j = Nd4j.zeros(DataType.DOUBLE, n, k);
            for (int i = 0; i < n; i++) {
                int c = r.nextInt(k);
                yCurvlab.putScalar(i, c);
                yDl4j.putScalar(i, c, 1.0);
            }
        } else {
            yDl4j = kind == Kind.MSE ? Nd4j.randn(DataType.DOUBLE, n, k) : Nd4j.rand(DataType.DOUBLE, n, k);
            yCurvlab = yDl4j;
        }
        for (int it = 0; it < 3; it++) {
            net.fit(new DataSet(x, yDl4j)); // a trained network, not just an initialised one
        }
        return new Problem(net, x, yDl4j, yCurvlab, kind);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        Activation[] hidden = {Activation.TANH, Activation.SIGMOID, Activation.RELU, Activation.SOFTPLUS, Activation.LEAKYRELU,
            Activation.ELU, Activation.SWISH, Activation.IDENTITY};
        for (Activation a : hidden) {
            for (Kind k : Kind.values()) {
                out.add(Arguments.of(a, k));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} hidden, {1} output")
    @MethodSource("cases")
    void outputsLossAndGradientMatchDl4j(Activation hidden, Kind kind) {
        Problem p = problem(kind, hidden, 7 + hidden.ordinal() * 3L + kind.ordinal(), 6, SIZES);
        assertEquals(DataType.DOUBLE, p.net().params().dataType());
        ImportedModel im = Dl4jImport.fromNetwork(p.net());
        assertSame(kind.loss, im.loss());
        String h = "(" + curvlabName(hidden) + ")";
        assertEquals(("4-7" + h + "-5" + h + "-3").replace("(identity)", ""), im.model().describe());

        // Outputs: DL4J applies softmax/sigmoid; curvlab's model returns the logits.
        INDArray expected = p.net().output(p.x());
        INDArray actual = probabilities(kind, im.model().predict(im.parameters(), p.x()));
        assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe("outputs", actual, expected, Tolerances.EXACT));

        // Loss: DL4J's score is scoreFactor(k) times curvlab's MEAN (no regularisation configured).
        ModelObjective objective = new ModelObjective(im.model(), im.loss(), p.x(), p.yCurvlab(), Reduction.MEAN);
        double score = p.net().score(new DataSet(p.x(), p.yDl4j()));
        assertClose("score", kind.scoreFactor(p.k()) * objective.value(im.parameters()), score);

        // Gradient: DL4J's is n * d(score), in DL4J's layout.
        INDArray dl4jGrad = dl4jGradient(p);
        assertClose("score after computeGradientAndScore", score, p.net().score());
        INDArray curvlabGrad = objective.gradient(im.parameters());
        double scale = p.n() * kind.scoreFactor(p.k());
        INDArray converted = Dl4jImport.toDl4jOrder(im.model(), curvlabGrad).muli(scale);
        double tol = hidden == Activation.LEAKYRELU ? LEAKY_RELU_GRADIENT : Tolerances.EXACT;
        assertTrue(Comparison.close(converted, dl4jGrad, tol), Comparison.describe("gradient", converted, dl4jGrad, tol));
        INDArray back = Dl4jImport.fromDl4jOrder(p.net(), dl4jGrad).divi(scale);
        assertTrue(Comparison.close(back, curvlabGrad, tol), Comparison.describe("gradient in curvlab order", back, curvlabGrad, tol));
    }

    @Test
    void dl4jLeakyReluBackpropUsesFloat32Alpha() {
        INDArray z = Nd4j.createFromArray(-2.0, 3.0);
        INDArray forward = new ActivationLReLU().getActivation(z.dup(), false);
        INDArray slope = new ActivationLReLU().backprop(z.dup(), Nd4j.onesLike(z)).getFirst();
        assertEquals(-0.02, forward.getDouble(0), 0.0);
        assertEquals((double) 0.01f, slope.getDouble(0), 0.0);
        assertEquals(1.0, slope.getDouble(1), 0.0);
    }

    @Test
    void wrongLayoutOrWrongScalingDoesNotMatch() {
        Problem p = problem(Kind.MSE, Activation.TANH, 11, 5, SIZES);
        ImportedModel im = Dl4jImport.fromNetwork(p.net());
        INDArray dl4jParams = p.net().params().reshape(p.net().numParams()).dup();
        // Right layout: exact. Wrong layout (DL4J's flat vector read as if W were row-major): far off.
        assertTrue(Comparison.close(Dl4jImport.toDl4jOrder(im.model(), im.parameters()), dl4jParams, 0.0));
        assertFalse(Comparison.close(im.parameters(), dl4jParams, 1e-3));
        INDArray wrongOutputs = im.model().predict(dl4jParams, p.x());
        assertFalse(Comparison.close(wrongOutputs, p.net().output(p.x()), 1e-3), "outputs are sensitive to the W layout");

        INDArray dl4jGrad = dl4jGradient(p);
        INDArray curvlabGrad = new ModelObjective(im.model(), im.loss(), p.x(), p.yCurvlab(), Reduction.MEAN).gradient(im.parameters());
        assertTrue(Comparison.close(Dl4jImport.toDl4jOrder(im.model(), curvlabGrad).muli(5), dl4jGrad, Tolerances.EXACT));
        assertFalse(Comparison.close(curvlabGrad.mul(5), dl4jGrad, 1e-3), "curvlab layout read as DL4J layout must not match");
        assertFalse(Comparison.close(Dl4jImport.toDl4jOrder(im.model(), curvlabGrad), dl4jGrad, 1e-3),
                "DL4J's gradient is n = 5 times d(score), not d(score)");
    }

    @Test
    void scalingNumbersForOneBatch() {
        // n = 5 samples, k = 3 outputs: the exact ratios stated in the class comment.
        for (Kind kind : Kind.values()) {
            Problem p = problem(kind, Activation.TANH, 3, 5, 4, 6, 3);
            ImportedModel im = Dl4jImport.fromNetwork(p.net());
            ModelObjective objective = new ModelObjective(im.model(), im.loss(), p.x(), p.yCurvlab(), Reduction.MEAN);
            double ratio = p.net().score(new DataSet(p.x(), p.yDl4j())) / objective.value(im.parameters());
            assertEquals(kind == Kind.BCE ? 3.0 : 1.0, ratio, 1e-12, kind + " score / curvlab mean");
            INDArray g = dl4jGradient(p);
            INDArray c = Dl4jImport.toDl4jOrder(im.model(), objective.gradient(im.parameters()));
            INDArray ratios = g.div(c);
            double want = kind == Kind.BCE ? 15.0 : 5.0;
            assertEquals(want, ratios.minNumber().doubleValue(), 1e-10, kind + " gradient ratio");
            assertEquals(want, ratios.maxNumber().doubleValue(), 1e-10, kind + " gradient ratio");
        }
    }

    @Test
    void parametersAgreeWithFlatVectorConversion() {
        Problem p = problem(Kind.CE, Activation.RELU, 5, 4, 3, 8, 2);
        ImportedModel im = Dl4jImport.fromNetwork(p.net());
        INDArray dl4jParams = p.net().params().reshape(p.net().numParams());
        // getParam-based import and the flat-vector conversion are independent paths; both exact.
        assertTrue(Comparison.close(Dl4jImport.fromDl4jOrder(p.net(), dl4jParams), im.parameters(), 0.0));
        assertTrue(Comparison.close(Dl4jImport.toDl4jOrder(p.net(), im.parameters()), dl4jParams, 0.0));
        // Spot check: layer0.W[i, j] is DL4J's W[i, j] and sits at i * out + j.
        INDArray w0 = p.net().getParam("0_W");
        for (int[] ij : new int[][] {{0, 0}, {1, 0}, {0, 1}, {2, 7}}) {
            assertEquals(w0.getDouble(ij[0], ij[1]), im.parameters().getDouble(ij[0] * 8L + ij[1]), 0.0);
        }
        assertEquals(p.net().getParam("1_b").getDouble(1), im.parameters().getDouble(3 * 8 + 8 + 8 * 2 + 1), 0.0);
    }

    @Test
    void modelSerializerRoundTrip(@TempDir Path dir) throws Exception {
        Problem p = problem(Kind.BCE, Activation.SOFTPLUS, 19, 6, SIZES);
        Path zip = dir.resolve("net.zip");
        ModelSerializer.writeModel(p.net(), zip.toFile(), false);
        ImportedModel direct = Dl4jImport.fromNetwork(p.net());
        ImportedModel fromFile = Dl4jImport.fromFile(zip);
        assertEquals(direct.model().describe(), fromFile.model().describe());
        assertSame(Losses.BCE, fromFile.loss());
        assertTrue(Comparison.close(fromFile.parameters(), direct.parameters(), 0.0));
        INDArray expected = p.net().output(p.x());
        INDArray actual = probabilities(Kind.BCE, fromFile.model().predict(fromFile.parameters(), p.x()));
        assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe("outputs", actual, expected, Tolerances.EXACT));
    }

    /** DL4J's flat gradient (its layout) at the network's parameters for the problem's batch. */
    static INDArray dl4jGradient(Problem p) {
        p.net().setInput(p.x());
        p.net().setLabels(p.yDl4j());
        p.net().computeGradientAndScore();
        INDArray g = p.net().gradient().gradient();
        return g.reshape(g.length()).dup();
    }

    /** What DL4J's output layer applies to the logits curvlab returns. */
    static INDArray probabilities(Kind kind, INDArray z) {
        return switch (kind) {
            case MSE -> z;
            case BCE -> Transforms.sigmoid(z, true);
            case CE -> {
                INDArray e = Transforms.exp(z.subColumnVector(z.max(true, 1)), true);
                yield e.divColumnVector(e.sum(true, 1));
            }
        };
    }

    static void assertClose(String what, double expected, double actual) {
        double err = Math.abs(actual - expected) / Math.max(1.0, Math.abs(expected));
        assertTrue(err <= Tolerances.EXACT, what + ": " + actual + " vs " + expected + " (relative error " + err + ")");
    }

    private static String curvlabName(Activation a) {
        return switch (a) {
            case LEAKYRELU -> "leaky_relu";
            case SWISH -> "silu";
            default -> a.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
