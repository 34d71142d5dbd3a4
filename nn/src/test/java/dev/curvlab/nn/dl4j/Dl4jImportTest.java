package dev.curvlab.nn.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossL1;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

/** Structure mapping, the cases without a curvlab loss, and the error messages of {@link Dl4jImport}. */
class Dl4jImportTest {
    /** A 4-5-3 network: a dense layer with {@code hidden}, an output layer with {@code loss}/{@code output}; randomised. */
    private static MultiLayerNetwork net(IActivation hidden, ILossFunction loss, IActivation output) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(hidden).build())
                .layer(new OutputLayer.Builder().lossFunction(loss).nIn(5).nOut(3).activation(output).build()).build());
        net.init();
        Nd4j.getRandom().setSeed(42);
        net.params().addi(Nd4j.randn(DataType.DOUBLE, net.numParams()).muli(0.3));
        return net;
    }

    private static INDArray x() {
        Nd4j.getRandom().setSeed(9);
        return Nd4j.randn(DataType.DOUBLE, 6, 4);
    }

    private static void assertSameOutputs(MultiLayerNetwork net, ImportedModel im) {
        INDArray expected = net.output(x());
        INDArray actual = im.model().predict(im.parameters(), x());
        assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe("outputs", actual, expected, Tolerances.EXACT));
    }

    private static IllegalArgumentException importFails(MultiLayerNetwork net) {
        return assertThrows(IllegalArgumentException.class, () -> Dl4jImport.fromNetwork(net));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should mention '" + part + "'");
        }
    }

    @Test
    void outputActivationIsKeptWhenTheLossHasNoCurvlabEquivalent() {
        MultiLayerNetwork mseTanh = net(new ActivationSigmoid(), new LossMSE(), new ActivationTanH());
        ImportedModel a = Dl4jImport.fromNetwork(mseTanh);
        assertNull(a.loss());
        assertEquals("4-5(sigmoid)-3(tanh)", a.model().describe());
        assertSameOutputs(mseTanh, a);

        MultiLayerNetwork mseSigmoid = net(new ActivationTanH(), new LossMSE(), new ActivationSigmoid());
        ImportedModel b = Dl4jImport.fromNetwork(mseSigmoid);
        assertNull(b.loss());
        assertEquals(Activation.SIGMOID, b.model().layers().get(1).activation());
        assertSameOutputs(mseSigmoid, b);

        MultiLayerNetwork weighted = net(new ActivationTanH(), new LossMSE(Nd4j.createFromArray(1.0, 2.0, 1.0)), new ActivationIdentity());
        assertNull(Dl4jImport.fromNetwork(weighted).loss());

        MultiLayerNetwork l1 = net(new ActivationTanH(), new LossL1(), new ActivationIdentity());
        assertNull(Dl4jImport.fromNetwork(l1).loss());
        assertSameOutputs(l1, Dl4jImport.fromNetwork(l1));
    }

    @Test
    void negativeLogLikelihoodWithSoftmaxIsCrossEntropyOnLogits() {
        MultiLayerNetwork net = net(new ActivationTanH(), new LossNegativeLogLikelihood(), new ActivationSoftmax());
        ImportedModel im = Dl4jImport.fromNetwork(net);
        assertSame(Losses.CROSS_ENTROPY, im.loss());
        assertEquals(Activation.IDENTITY, im.model().layers().get(1).activation());
        INDArray y = Nd4j.createFromArray(0.0, 2.0, 1.0, 1.0, 0.0, 2.0);
        INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, 6, 3);
        for (int i = 0; i < 6; i++) {
            oneHot.putScalar(i, y.getInt(i), 1.0);
        }
        double mean = new ModelObjective(im.model(), im.loss(), x(), y, Reduction.MEAN).value(im.parameters());
        double score = net.score(new DataSet(x(), oneHot));
        assertEquals(score, mean, Tolerances.EXACT * Math.max(1, Math.abs(score)));
    }

    @Test
    void weightedLossHasNoEquivalentAndSoftmaxAloneIsRefused() {
        MultiLayerNetwork net = net(new ActivationTanH(), new LossMCXENT(Nd4j.createFromArray(1.0, 2.0, 3.0)), new ActivationSoftmax());
        assertMentions(importFails(net), "layer 1", "ActivationSoftmax");
    }

    @Test
    void finalDenseLayerImportsWithoutLoss() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(new ActivationELU()).build())
                .layer(new DenseLayer.Builder().nIn(6).nOut(2).activation(new ActivationSigmoid()).build()).build());
        net.init();
        ImportedModel im = Dl4jImport.fromNetwork(net);
        assertNull(im.loss());
        assertEquals("4-6(elu)-2(sigmoid)", im.model().describe());
        assertSameOutputs(net, im);
    }

    @Test
    void layersWithoutBiasImportWithZeroBias() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).hasBias(false).activation(new ActivationTanH()).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossMSE()).nIn(5).nOut(3).hasBias(true).activation(new ActivationIdentity())
                        .build()).build());
        net.init();
        net.params().addi(0.1);
        ImportedModel im = Dl4jImport.fromNetwork(net);
        assertEquals(4 * 5 + 5 + 5 * 3 + 3, im.model().parameterCount());
        assertEquals(4 * 5 + 5 * 3 + 3, net.numParams());
        assertTrue(im.parameters().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(20, 25)).equals(Nd4j.zeros(DataType.DOUBLE, 5)));
        assertSameOutputs(net, im);
        INDArray flat = net.params().reshape(net.numParams());
        assertTrue(Comparison.close(Dl4jImport.toDl4jOrder(net, im.parameters()), flat, 0.0));
        assertTrue(Comparison.close(Dl4jImport.fromDl4jOrder(net, flat), im.parameters(), 0.0));

        // Gradient parity (DL4J's is n = 6 times d(mean)); the zero-bias entries are dropped.
        INDArray y = Nd4j.randn(DataType.DOUBLE, 6, 3);
        net.setInput(x());
        net.setLabels(y);
        net.computeGradientAndScore();
        INDArray g = net.gradient().gradient().reshape(net.numParams());
        INDArray c = Dl4jImport.toDl4jOrder(net, new ModelObjective(im.model(), im.loss(), x(), y, Reduction.MEAN).gradient(im.parameters())).muli(6);
        assertTrue(Comparison.close(c, g, Tolerances.EXACT), Comparison.describe("gradient", c, g, Tolerances.EXACT));
    }

    @Test
    void convolutionLayersImportAndDilatedOnesAreRefusedNamingTheirIndex() {
        MultiLayerNetwork plain = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new ConvolutionLayer.Builder(2, 2).nIn(1).nOut(2).activation(new ActivationReLU()).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossMSE()).nOut(1).activation(new ActivationIdentity()).build())
                .setInputType(InputType.convolutionalFlat(4, 4, 1)).build());
        plain.init();
        assertEquals("[1, 4, 4]-conv2x2x2(relu)-flatten-1", Dl4jImport.fromNetwork(plain).model().describe());
        MultiLayerNetwork dilated = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new ConvolutionLayer.Builder(2, 2).nIn(1).nOut(2).dilation(2, 2).activation(new ActivationReLU()).build())
                .layer(new OutputLayer.Builder().lossFunction(new LossMSE()).nOut(1).activation(new ActivationIdentity()).build())
                .setInputType(InputType.convolutionalFlat(4, 4, 1)).build());
        dilated.init();
        assertMentions(importFails(dilated), "layer 0", "dilation");
    }

    @Test
    void otherLayerTypeIsRefusedNamingItsIndex() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(new ActivationTanH()).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new OutputLayer.Builder().lossFunction(new LossMSE()).nOut(2).activation(new ActivationIdentity()).build())
                .setInputType(InputType.feedForward(4)).build());
        net.init();
        assertMentions(importFails(net), "layer 1", "BatchNormalization");
    }

    @Test
    void unsupportedActivationsAreRefusedNamingLayerAndClass() {
        assertMentions(importFails(net(new ActivationTanH(), new LossMSE(), new ActivationHardTanH())), "layer 1", "ActivationHardTanH");
        assertMentions(importFails(net(new ActivationLReLU(0.2), new LossMSE(), new ActivationIdentity())), "layer 0", "ActivationLReLU", "0.2");
        assertMentions(importFails(net(new ActivationELU(0.5), new LossMSE(), new ActivationIdentity())), "layer 0", "ActivationELU", "0.5");
        assertMentions(importFails(net(new ActivationReLU(6.0, null, null), new LossMSE(), new ActivationIdentity())), "layer 0", "max=6.0");
        assertMentions(importFails(net(new ActivationGELU(), new LossMSE(), new ActivationIdentity())), "layer 0", "ActivationGELU", "Phi");
        assertMentions(importFails(net(new ActivationGELU(true), new LossMSE(), new ActivationIdentity())), "layer 0", "ActivationGELU");
        assertMentions(importFails(net(new ActivationSoftmax(), new LossMSE(), new ActivationIdentity())), "layer 0", "ActivationSoftmax");
    }

    @Test
    void dl4jGeluIsAnApproximationNotTheExactErfForm() {
        // Why GELU is refused: DL4J 1.0.0-M2.1 computes z sigmoid(1.702 z) by default and, with
        // precise=true, z (1 + tanh(sqrt(2/pi) (z + (0.044715 z)^3))) / 2 (the cube on the product);
        // curvlab's GELU is the exact z Phi(z). (DL4J's constants are float32, hence 1e-6 below.)
        double[] zs = {-3.0, -1.0, -0.5, 0.3, 1.0, 2.5};
        INDArray z = Nd4j.createFromArray(zs);
        INDArray approx = new ActivationGELU().getActivation(z.dup(), false);
        INDArray precise = new ActivationGELU(true).getActivation(z.dup(), false);
        INDArray exact = Activation.GELU.apply(Tensor.of(z)).array();
        for (int i = 0; i < zs.length; i++) {
            double v = zs[i];
            assertEquals(v / (1 + Math.exp(-1.702 * v)), approx.getDouble(i), 1e-6);
            assertEquals(0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + Math.pow(0.044715 * v, 3)))), precise.getDouble(i), 1e-6);
        }
        assertTrue(Comparison.relativeError(approx, exact) > 1e-3);
        assertTrue(Comparison.relativeError(precise, exact) > 1e-3);
    }

    @Test
    void uninitialisedNetworkAndBadFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        MultiLayerNetwork raw = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new OutputLayer.Builder().lossFunction(new LossMSE()).nIn(2).nOut(1).activation(new ActivationIdentity()).build()).build());
        assertMentions(importFails(raw), "init()");
        assertThrows(NoSuchFileException.class, () -> Dl4jImport.fromFile(dir.resolve("missing.zip")));
        Path junk = Files.writeString(dir.resolve("junk.zip"), "not a model");
        assertThrows(IOException.class, () -> Dl4jImport.fromFile(junk));
    }

    @Test
    void importedModelChecksParameterLength() {
        Sequential model = Sequential.mlp(new int[] {2, 3, 1}, Activation.TANH);
        assertThrows(IllegalArgumentException.class, () -> new ImportedModel(model, Nd4j.zeros(DataType.DOUBLE, 5), null));
        assertEquals(13, new ImportedModel(model, Nd4j.zeros(DataType.DOUBLE, 13), null).parameters().length());
    }
}
