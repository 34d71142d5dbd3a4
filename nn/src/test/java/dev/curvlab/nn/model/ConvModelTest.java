package dev.curvlab.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Image models: build-time shape checks, layout, a 1x1 convolution as a dense layer, derivatives against differences. */
class ConvModelTest {
    static Sequential tinyCnn() {
        return Sequential.imageBuilder(1, 5, 5)
                .conv2d(2, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, null)
                .flatten()
                .dense(3, Activation.IDENTITY)
                .build();
    }

    private static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.DOUBLE, shape).subi(0.5);
    }

    private static void assertClose(String what, INDArray a, INDArray b, double tol) {
        assertTrue(Comparison.close(a, b, tol), () -> Comparison.describe(what, a, b, tol));
    }

    @Test
    void layoutShapesAndTheDenseChainView() {
        Sequential m = tinyCnn();
        assertEquals("[1, 5, 5]-conv2x3x3p1x1(tanh)-maxpool2x2-flatten-3", m.describe());
        assertArrayEquals(new long[] {2, 1, 3, 3}, m.layout().block("layer0.W").shape());
        assertArrayEquals(new long[] {3}, m.layout().block("layer3.b").shape());
        assertEquals(18 + 2 + 8 * 3 + 3, m.parameterCount());
        assertArrayEquals(new long[] {20, 47}, m.parameterRange(3));
        assertArrayEquals(new long[] {50, 8, 8, 3}, m.activationSizes());
        assertEquals(25, m.inputSize());
        assertArrayEquals(new long[] {1, 5, 5}, m.inputShape());
        assertFalse(m.isDenseChain());
        IllegalStateException e = assertThrows(IllegalStateException.class, m::layers);
        assertTrue(e.getMessage().contains("not a chain of dense layers"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> m.parameterRange(1)).getMessage().contains("has no parameters"));
        Sequential mlp = Sequential.mlp(new int[] {4, 3, 2}, Activation.TANH);
        assertTrue(mlp.isDenseChain());
        assertEquals(2, mlp.layers().size());
        assertEquals("layer1.W", mlp.layout().block(2).name());
    }

    @Test
    void shapesAreCheckedWhenTheModelIsBuilt() {
        String big = assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4)
                .conv2d(2, new int[] {5, 5}, null, null, Activation.TANH)).getMessage();
        assertTrue(big.startsWith("layer 0 (conv2d): ") && big.contains("kernel [5, 5] is larger than the padded input [4, 4]"), big);
        String dense = assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4).dense(3, Activation.TANH)).getMessage();
        assertTrue(dense.contains("add a flatten layer"), dense);
        String pool = assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4)
                .maxPool2d(new int[] {2, 2}, null).maxPool2d(new int[] {3, 3}, null)).getMessage();
        assertTrue(pool.startsWith("layer 1 (maxpool2d)") && pool.contains("[1, 2, 2]"), pool);
        assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(0, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4).conv2d(0, new int[] {1, 1}, null, null, Activation.TANH));
        assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4).conv2d(1, new int[] {1, -1}, null, null, Activation.TANH));
        String out = assertThrows(IllegalArgumentException.class, () -> Sequential.imageBuilder(1, 4, 4)
                .conv2d(1, new int[] {1, 1}, null, null, Activation.TANH).build()).getMessage();
        assertTrue(out.contains("not a vector"), out);
        String input = assertThrows(IllegalArgumentException.class, () -> tinyCnn().validate(new long[] {47}, new long[] {2, 1, 4, 5})).getMessage();
        assertTrue(input.contains("[2, 1, 4, 5]") && input.contains("[n, 1, 5, 5]"), input);
    }

    @Test
    void aOneByOneConvolutionModelEqualsAnMlpOnEachPixel() {
        // image [3, 1, 1]: conv 1x1 with 4 filters is a dense 3 -> 4 layer with W_dense = W_conv^T
        Sequential cnn = Sequential.imageBuilder(3, 1, 1).conv2d(4, new int[] {1, 1}, null, null, Activation.TANH).flatten()
                .dense(2, Activation.IDENTITY).build();
        Sequential mlp = Sequential.mlp(new int[] {3, 4, 2}, Activation.TANH);
        INDArray theta = rand(1, cnn.parameterCount());
        INDArray wConv = theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 12)).reshape(4, 3);
        INDArray thetaMlp = Nd4j.concat(0, wConv.transpose().dup('c').reshape(12), theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(12, 26)));
        INDArray x = rand(2, 6, 3, 1, 1);
        assertClose("1x1 conv model vs MLP", cnn.predict(theta, x), mlp.predict(thetaMlp, x.reshape(6, 3)), Tolerances.CLOSED_FORM);
        assertClose("flat rows are the same images", cnn.predict(theta, x.reshape(6, 3)), cnn.predict(theta, x), 0.0);
    }

    @Test
    void lossDerivativesOfACnnWithEveryLayerTypeAgreeWithDifferences() {
        Sequential m = Sequential.imageBuilder(2, 5, 4)
                .conv2d(2, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 0}, Activation.SOFTPLUS)
                .avgPool2d(new int[] {2, 1}, null)
                .maxPool2d(new int[] {1, 3}, new int[] {1, 1})
                .flatten()
                .dense(3, Activation.IDENTITY)
                .build();
        Dataset data = new Dataset(rand(3, 4, 2, 5, 4), Nd4j.create(new double[] {0, 2, 1, 2}, new long[] {4}, DataType.DOUBLE));
        ModelObjective f = new ModelObjective(m, Losses.CROSS_ENTROPY, data, Reduction.MEAN);
        INDArray theta = rand(4, m.parameterCount()).muli(2);
        Tensor g = Autodiff.grad(f).apply(Tensor.of(theta));
        assertClose("gradient vs differences", g.array(), FiniteDifferences.jacobian(f, theta, Tolerances.FD_STEP).reshape(theta.length()), Tolerances.FD_FIRST);
        Tensor h = Autodiff.hessian(f).apply(Tensor.of(theta));
        assertClose("hessian vs jacrev(jacrev)", h.array(), Autodiff.jacrev(Autodiff.jacrev(f)).apply(Tensor.of(theta)).array(), Tolerances.EXACT);
        assertClose("hessian vs differences of the gradient", h.array(), FiniteDifferences.jacobian(Autodiff.grad(f), theta, Tolerances.FD_STEP),
                Tolerances.FD_FIRST);
    }

    @Test
    void initialisationUsesConvolutionFans() {
        Sequential m = tinyCnn();
        INDArray theta = m.initialParameters(Init.XAVIER, 5);
        double bound = Math.sqrt(6.0 / (9 + 18));
        INDArray w = theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 18));
        assertTrue(w.amaxNumber().doubleValue() <= bound && w.amaxNumber().doubleValue() > bound / 2);
        assertEquals(0.0, theta.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(18, 20)).amaxNumber().doubleValue(), 0.0);
    }
}
