package dev.curvlab.nn.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Imported CNNs against DL4J itself in float64: outputs, score and gradient (DL4J's gradient is n
 * times the gradient of its score; see {@link Dl4jParityTest}), for conv (Truncate with padding,
 * Same, Strict with stride), max and average subsampling, dense and output layers, softmax
 * cross-entropy and mse, image and flat image input.
 */
class Dl4jConvParityTest {
    private static NeuralNetConfiguration.ListBuilder base(long seed) {
        return new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.DOUBLE).updater(new Sgd(0.1)).l1(0.0).l2(0.0).list();
    }

    private static MultiLayerNetwork init(NeuralNetConfiguration.ListBuilder b, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        Nd4j.getRandom().setSeed(seed);
        net.params().addi(Nd4j.randn(DataType.DOUBLE, net.numParams()).muli(0.2));
        return net;
    }

    private static void assertClose(String what, INDArray a, INDArray b, double tol) {
        assertTrue(Comparison.close(a, b, tol), () -> Comparison.describe(what, a, b, tol));
    }

    /** conv (Truncate, padding 1, tanh) - max 2x2 - conv (Same, softplus) - avg 2x2 stride 1 - dense sigmoid - softmax ce, on [1, 8, 7]. */
    static MultiLayerNetwork lenetLike() {
        return init(base(3)
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).stride(1, 1).padding(1, 1).convolutionMode(ConvolutionMode.Truncate)
                        .activation(Activation.TANH).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).convolutionMode(ConvolutionMode.Same).activation(Activation.SOFTPLUS).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(1, 1).build())
                .layer(new DenseLayer.Builder().nOut(5).activation(Activation.SIGMOID).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 7, 1)), 3);
    }

    @Test
    void convolutionalCrossEntropyNetworkMatchesDl4j() {
        MultiLayerNetwork net = lenetLike();
        ImportedModel imported = Dl4jConvImport.fromNetwork(net, 1, 8, 7);
        assertEquals("[1, 8, 7]-conv3x3x3p1x1(tanh)-maxpool2x2-conv2x3x3p1x1(softplus)-avgpool2x2s1x1-flatten-5(sigmoid)-3",
                imported.model().describe());
        assertSame(Losses.CROSS_ENTROPY, imported.loss());
        int n = 6;
        Nd4j.getRandom().setSeed(4);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, 1, 8, 7);
        INDArray classes = Nd4j.create(new double[] {0, 2, 1, 1, 0, 2}, new long[] {n}, DataType.DOUBLE);
        INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, n, 3);
        for (int i = 0; i < n; i++) {
            oneHot.putScalar(i, (int) classes.getDouble(i), 1.0);
        }
        INDArray logits = imported.model().predict(imported.parameters(), x);
        INDArray probs = Tensor.of(logits).logSoftmax(1).exp().array();
        assertClose("outputs (softmax of logits)", probs, net.output(x), Tolerances.EXACT);
        compareScoreAndGradient(net, imported, x, oneHot, classes, Tolerances.EXACT);
    }

    @Test
    void flatImageInputWithStrictStridedConvolutionAndMseMatchesDl4j() {
        MultiLayerNetwork net = init(base(5)
                .layer(new ConvolutionLayer.Builder(2, 2).nOut(2).stride(2, 2).convolutionMode(ConvolutionMode.Strict)
                        .activation(Activation.ELU).build())
                .layer(new DenseLayer.Builder().nOut(4).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MSE).nOut(2).activation(Activation.IDENTITY).build())
                .setInputType(InputType.convolutionalFlat(6, 6, 2)), 5);
        ImportedModel imported = Dl4jImport.fromNetwork(net);       // the shape comes from the FeedForwardToCnn preprocessor
        assertEquals("[2, 6, 6]-conv2x2x2s2x2(elu)-flatten-4(tanh)-2", imported.model().describe());
        int n = 5;
        Nd4j.getRandom().setSeed(6);
        INDArray flat = Nd4j.randn(DataType.DOUBLE, n, 72);
        INDArray y = Nd4j.randn(DataType.DOUBLE, n, 2);
        assertClose("outputs", imported.model().predict(imported.parameters(), flat.reshape(n, 2, 6, 6)), net.output(flat), Tolerances.EXACT);
        compareScoreAndGradient(net, imported, flat, y, y, Tolerances.EXACT);
    }

    private static void compareScoreAndGradient(MultiLayerNetwork net, ImportedModel imported, INDArray x, INDArray yDl4j, INDArray yCurvlab,
            double tol) {
        int n = (int) x.size(0);
        ModelObjective f = new ModelObjective(imported.model(), imported.loss(), x, yCurvlab, Reduction.MEAN);
        assertEquals(net.score(new DataSet(x, yDl4j)), f.value(imported.parameters()), tol, "score");
        net.setInput(x);
        net.setLabels(yDl4j);
        net.computeGradientAndScore();
        INDArray dl4j = Dl4jConvImport.fromDl4jTable(net, imported, net.gradient().gradientForVariable());
        assertClose("gradient (DL4J's is n times the score's)", dl4j, f.gradient(imported.parameters()).mul(n), tol);
        assertClose("parameters via the table", Dl4jConvImport.fromDl4jTable(net, imported, net.paramTable()), imported.parameters(), 0.0);
    }

    @Test
    void unsupportedLayersAndAsymmetricSamePaddingAreClearErrors() {
        MultiLayerNetwork bn = init(base(1)
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new OutputLayer.Builder(LossFunction.MSE).nOut(1).activation(Activation.IDENTITY).build())
                .setInputType(InputType.convolutional(5, 5, 1)), 1);
        String m = assertThrows(IllegalArgumentException.class, () -> Dl4jConvImport.fromNetwork(bn, 1, 5, 5)).getMessage();
        assertTrue(m.startsWith("DL4J layer 1: is a BatchNormalization"), m);
        MultiLayerNetwork same = init(base(1)
                .layer(new ConvolutionLayer.Builder(2, 2).nOut(2).convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunction.MSE).nOut(1).activation(Activation.IDENTITY).build())
                .setInputType(InputType.convolutional(5, 5, 1)), 1);
        String s = assertThrows(IllegalArgumentException.class, () -> Dl4jConvImport.fromNetwork(same, 1, 5, 5)).getMessage();
        assertTrue(s.startsWith("DL4J layer 0: convolution mode Same pads 1") && s.contains("not symmetric"), s);
        String noShape = assertThrows(IllegalArgumentException.class, () -> Dl4jImport.fromNetwork(lenetLike())).getMessage();
        assertTrue(noShape.contains("fromNetwork(net, channels, height, width)"), noShape);
    }
}
