package dev.curvlab.nn.loss;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The closed-form output derivatives of every built-in loss against the engine's per-sample gradient and Hessian of perSample. */
class OutputDerivativesTest {
    private static INDArray gaussian(Random r, int n, int k, double scale) {
        double[] v = new double[n * k];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * r.nextGaussian();
        }
        return Nd4j.create(v, new long[] {n, k}, DataType.DOUBLE);
    }

    private static INDArray targets(Loss loss, Random r, int n, int out) {
        int k = (int) (loss == Losses.GAUSSIAN ? out / 2 : out);
        double[] v = new double[loss == Losses.CROSS_ENTROPY ? n : n * k];
        for (int i = 0; i < v.length; i++) {
            v[i] = loss == Losses.CROSS_ENTROPY ? r.nextInt(out) : loss == Losses.BCE ? r.nextDouble()
                    : loss == Losses.POISSON ? r.nextInt(5) : r.nextGaussian();
        }
        return loss == Losses.CROSS_ENTROPY ? Nd4j.create(v, new long[] {n}, DataType.DOUBLE) : Nd4j.create(v, new long[] {n, k}, DataType.DOUBLE);
    }

    @Test
    void closedFormsEqualTheEngine() {
        Loss[] losses = {Losses.MSE, Losses.CROSS_ENTROPY, Losses.BCE, Losses.GAUSSIAN, Losses.POISSON};
        Random r = new Random(7);
        for (Loss loss : losses) {
            for (int out : new int[] {1, 2, 4}) {
                if (loss == Losses.GAUSSIAN && out % 2 != 0) {
                    continue;
                }
                int n = 6;
                INDArray f = gaussian(r, n, out, 1.5);
                Tensor y = loss.prepare(targets(loss, r, n, out), out);
                OutputDerivatives d = loss.outputDerivatives(f, y.array());
                assertNotNull(d, loss.name() + " has no closed form");
                INDArray g = Rowwise.grad(t -> loss.perSample(t, y)).apply(Tensor.of(f)).array();
                INDArray h = Rowwise.hessian(t -> loss.perSample(t, y)).apply(Tensor.of(f)).array();
                String what = loss.name() + " out=" + out;
                assertTrue(Comparison.close(d.gradient(), g, Tolerances.EXACT), () -> Comparison.describe(what + " gradient", d.gradient(), g, Tolerances.EXACT));
                assertTrue(Comparison.close(d.hessian(), h, Tolerances.EXACT), () -> Comparison.describe(what + " hessian", d.hessian(), h, Tolerances.EXACT));
            }
        }
    }
}
