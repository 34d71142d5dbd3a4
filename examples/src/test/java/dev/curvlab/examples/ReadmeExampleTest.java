package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorFunction;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Java example of README.md, verbatim between the markers, so the README cannot drift from the API. */
class ReadmeExampleTest {
    @Test
    void readmeExampleRuns() throws Exception {
        INDArray x = Nd4j.randn(DataType.DOUBLE, 1000, 3);
        // --- README example begins
        // Hessian of a function of a vector: H = jacfwd(jacrev(f))
        TensorFunction f = v -> v.slice(0, 0, 1).mul(v.slice(0, 1, 2)).mul(v.slice(0, 2, 3)).sin().sum();
        Tensor h = Autodiff.hessian(f).apply(Tensor.vector(0.3, 1.2, -0.7));                  // [3, 3]

        // per-sample Hessians of a row-wise function, the whole batch in one pass
        Tensor hs = Rowwise.hessian(r -> r.col(0).mul(r.col(1)).mul(r.col(2)).sin()).apply(Tensor.of(x));   // [1000, 3, 3]

        // a network's loss as a function of its flat parameters: gradient, Hessian-vector products, full Hessian
        Dataset iris = Datasets.iris();
        Sequential net = Sequential.mlp(new int[] {4, 16, 3}, Activation.TANH);
        INDArray theta = net.initialParameters(42);                                          // [N], N = 131
        ModelObjective loss = new ModelObjective(net, Losses.CROSS_ENTROPY, iris, Reduction.MEAN);
        Tensor grad = Autodiff.grad(loss).apply(Tensor.of(theta));                              // [N]
        Tensor hv = Autodiff.hvp(loss).apply(Tensor.of(theta), Tensor.of(Nd4j.randn(DataType.DOUBLE, 8, 131)));  // [8, N]
        INDArray hessian = FullHessian.compute(new HessianOperator(net, Losses.CROSS_ENTROPY, iris, theta, 0),
                FullHessian.Options.defaults()).matrix();                                           // [N, N], exact
        // --- README example ends
        assertArrayEquals(new long[] {3, 3}, h.shape());
        assertArrayEquals(new long[] {1000, 3, 3}, hs.shape());
        assertArrayEquals(new long[] {131}, grad.shape());
        assertArrayEquals(new long[] {8, 131}, hv.shape());
        INDArray expected = Autodiff.hessian(loss).apply(Tensor.of(theta)).array();
        assertTrue(Comparison.close(hessian, expected, Tolerances.EXACT), () -> Comparison.describe("README Hessian", hessian, expected, Tolerances.EXACT));
    }
}
