package dev.curvlab.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SequentialTest {
    private static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape);
    }

    static INDArray targetsFor(Loss loss, int n, int outputs, long seed) {
        INDArray r = randn(seed, n, outputs);
        return switch (loss.name()) {
            case "ce" -> Nd4j.create(new double[] {0, 1, 2, 1, 0, 2, 1}, new long[] {7}, DataType.DOUBLE).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, n)).dup();
            case "bce" -> org.nd4j.linalg.ops.transforms.Transforms.sigmoid(r, true);
            case "poisson" -> org.nd4j.linalg.ops.transforms.Transforms.floor(org.nd4j.linalg.ops.transforms.Transforms.abs(r.mul(3), true), true);
            case "gaussian" -> randn(seed, n, outputs / 2);
            default -> r;
        };
    }

    static Stream<Arguments> modelLossPairs() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (Activation a : Activation.values()) {
            for (Loss l : new Loss[] {Losses.MSE, Losses.CROSS_ENTROPY, Losses.BCE, Losses.GAUSSIAN, Losses.POISSON}) {
                b.add(Arguments.of(a, l));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} / {1}")
    @MethodSource("modelLossPairs")
    void gradientMatchesCentralDifferences(Activation act, Loss loss) {
        int outputs = loss == Losses.CROSS_ENTROPY ? 3 : 2;
        Sequential m = Sequential.builder(3).dense(4, act).dense(outputs, Activation.IDENTITY).build();
        INDArray theta = m.initialParameters(Init.XAVIER, 7);
        ModelObjective obj = new ModelObjective(m, loss, randn(8, 6, 3), targetsFor(loss, 6, outputs, 9), Reduction.MEAN);
        INDArray g = obj.gradient(theta);
        INDArray fd = FiniteDifferences.jacobian(obj, theta, Tolerances.FD_STEP);
        assertTrue(Comparison.close(g, fd, Tolerances.FD_FIRST), () -> Comparison.describe(act + "/" + loss.name(), g, fd, Tolerances.FD_FIRST));
    }

    @Test
    void linearModelWithMseHasHessianTwoOverNOutTimesIdentityKronXtX() {
        int n = 9;
        int d = 3;
        int out = 2;
        Sequential m = Sequential.builder(d).dense(out, Activation.IDENTITY).build();
        INDArray x = randn(10, n, d);
        ModelObjective obj = new ModelObjective(m, Losses.MSE, x, randn(11, n, out), Reduction.MEAN);
        INDArray h = Autodiff.hessian(obj).apply(Tensor.of(m.initialParameters(Init.XAVIER, 1))).array();
        // theta = [W (row-major [d, out]), b]: b is row d of the augmented [W; b], so H = 2/(n out) (X~^T X~) kron I_out
        INDArray xa = Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, n, 1));
        INDArray xtx = xa.transpose().mmul(xa);
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, (d + 1) * out, (d + 1) * out);
        for (int i = 0; i <= d; i++) {
            for (int j = 0; j <= d; j++) {
                for (int o = 0; o < out; o++) {
                    expected.putScalar(i * out + o, j * out + o, 2.0 / (n * out) * xtx.getDouble(i, j));
                }
            }
        }
        assertTrue(Comparison.close(h, expected, Tolerances.CLOSED_FORM), () -> Comparison.describe("linear MSE Hessian", h, expected, Tolerances.CLOSED_FORM));
    }

    @Test
    void activationDerivativesMatchFiniteDifferences() {
        INDArray z = randn(12, 2, 5).addi(0.05);   // keep away from the kink at 0
        for (Activation a : Activation.values()) {
            INDArray d1 = a.derivative(z);
            INDArray d2 = a.secondDerivative(z);
            double h = 1e-5;
            INDArray fd1 = a.apply(Tensor.of(z.add(h))).array().sub(a.apply(Tensor.of(z.sub(h))).array()).div(2 * h);
            INDArray fd2 = a.derivative(z.add(h)).sub(a.derivative(z.sub(h))).div(2 * h);
            assertTrue(Comparison.close(d1, fd1, Tolerances.FD_FIRST), a + " s'");
            assertTrue(Comparison.close(d2, fd2, Tolerances.FD_FIRST), a + " s''");
        }
        assertEquals(Activation.GELU, Activation.parse("GELU"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.parse("swishy"));
        assertTrue(e.getMessage().contains("swishy") && e.getMessage().contains("tanh"), e.getMessage());
    }

    @Test
    void layoutAndValidation() {
        Sequential m = Sequential.mlp(new int[] {10, 32, 32, 1}, Activation.TANH);
        assertEquals(1441, m.parameterCount());
        assertEquals("layer0.b[5]", m.layout().describe(325));
        assertEquals("layer1.W[0, 0]", m.layout().describe(352));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(1440), Tensor.zeros(4, 10)));
        assertTrue(e.getMessage().contains("1441") && e.getMessage().contains("[1440]"), e.getMessage());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(1441), Tensor.zeros(4, 9)));
        assertTrue(ex.getMessage().contains("[4, 9]") && ex.getMessage().contains("[n, 10]"), ex.getMessage());
        // forward computes x W + b layer by layer
        Sequential lin = Sequential.builder(2).dense(1, Activation.IDENTITY).build();
        INDArray out = lin.predict(Nd4j.create(new double[] {2, 3, 0.5}, new long[] {3}, DataType.DOUBLE),
                Nd4j.create(new double[][] {{1, 1}, {2, 0}}).castTo(DataType.DOUBLE));
        assertEquals(5.5, out.getDouble(0, 0), 1e-15);
        assertEquals(4.5, out.getDouble(1, 0), 1e-15);
    }
}
