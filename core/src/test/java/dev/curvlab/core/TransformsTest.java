package dev.curvlab.core;

import static dev.curvlab.core.Arrays2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Compositions of transforms against closed forms and against each other. */
class TransformsTest {
    private static Tensor rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Tensor.of(Nd4j.rand(DataType.DOUBLE, shape).subi(0.5).muli(2));
    }

    /** A small tanh network loss of a flat parameter vector: something with a dense, indefinite Hessian. */
    private static Tensor netLoss(Tensor theta, Tensor x, Tensor y) {
        Tensor w1 = theta.slice(0, 0, 12).reshape(3, 4);
        Tensor b1 = theta.slice(0, 12, 16);
        Tensor w2 = theta.slice(0, 16, 24).reshape(4, 2);
        Tensor out = x.matmul(w1).add(b1).tanh().matmul(w2);
        return out.sub(y).square().mean();
    }

    @Test
    void hvpEqualsHessianTimesVectorsForOneAndManyDirections() {
        Tensor x = rand(1, 5, 3);
        Tensor y = rand(2, 5, 2);
        TensorFunction f = t -> netLoss(t, x, y);
        Tensor theta = rand(3, 24);
        Tensor h = Autodiff.hessian(f).apply(theta);
        Tensor v = rand(4, 24);
        assertClose("H v", Autodiff.hvp(f).apply(theta, v), h.matmul(v), Tolerances.EXACT);
        Tensor block = rand(5, 7, 24);
        Tensor hv = Autodiff.hvp(f).apply(theta, block);
        assertArrayEquals(new long[] {7, 24}, hv.shape());
        assertClose("H V (block of 7)", hv, block.matmul(h), Tolerances.EXACT);
        assertClose("H vs second differences", h, FiniteDifferences.hessian(f, theta.array(), Tolerances.FD_STEP_SECOND), Tolerances.FD_SECOND);
    }

    @Test
    void thirdDerivativeOfPolynomialMatchesClosedForm() {
        // f = x0^3 x1 + x1^2 x2^2; nonzero third derivatives: f000 = 6 x1, f001 = 6 x0, f112 = 4 x2, f122 = 4 x1
        TensorFunction f = v -> v.slice(0, 0, 1).pow(3).mul(v.slice(0, 1, 2)).add(v.slice(0, 1, 2).square().mul(v.slice(0, 2, 3).square())).sum();
        double[] p = {0.7, -1.3, 2.1};
        Tensor x = Tensor.vector(p);
        double[][][] t = new double[3][3][3];
        setSym(t, 0, 0, 0, 6 * p[1]);
        setSym(t, 0, 0, 1, 6 * p[0]);
        setSym(t, 1, 1, 2, 4 * p[2]);
        setSym(t, 1, 2, 2, 4 * p[1]);
        INDArray expected = Nd4j.create(flatten(t), new long[] {3, 3, 3}, DataType.DOUBLE);
        assertClose("jacfwd(hessian)", Autodiff.jacfwd(Autodiff.hessian(f)).apply(x), expected, Tolerances.CLOSED_FORM);
        assertClose("jacrev(jacrev(grad)) (reverse over reverse over reverse)",
                Autodiff.jacrev(Autodiff.jacrev(Autodiff.grad(f))).apply(x), expected, Tolerances.CLOSED_FORM);
        assertClose("jacfwd(jacfwd(jacfwd))", Autodiff.jacfwd(Autodiff.jacfwd(Autodiff.jacfwd(f))).apply(x).reshape(3, 3, 3), expected,
                Tolerances.CLOSED_FORM);
    }

    private static void setSym(double[][][] t, int i, int j, int k, double v) {
        int[][] perms = {{i, j, k}, {i, k, j}, {j, i, k}, {j, k, i}, {k, i, j}, {k, j, i}};
        for (int[] q : perms) {
            t[q[0]][q[1]][q[2]] = v;
        }
    }

    private static double[] flatten(double[][][] t) {
        double[] out = new double[27];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                System.arraycopy(t[i][j], 0, out, 9 * i + 3 * j, 3);
            }
        }
        return out;
    }

    @Test
    void nestedDerivativesDoNotConfuseTheirPerturbations() {
        // d/dx [ x * d/dy (x + y) |_{y=1} ] at x = 1 is 1 (a confused implementation gives 2)
        TensorFunction inner = x -> x.mul(Autodiff.grad(y -> x.add(y)).apply(Tensor.scalar(1.0)));
        assertEquals(1.0, Autodiff.grad(inner).apply(Tensor.scalar(1.0)).item(), 0.0);
        TensorFunction innerFwd = x -> x.mul(Autodiff.jacfwd(y -> x.add(y)).apply(Tensor.scalar(1.0)));
        assertEquals(1.0, Autodiff.jacfwd(innerFwd).apply(Tensor.scalar(1.0)).item(), 0.0);
        assertEquals(1.0, Autodiff.jacrev(innerFwd).apply(Tensor.scalar(1.0)).item(), 0.0);
    }

    @Test
    void gradientWithRespectToAChosenArgument() {
        MultiTensorFunction f = a -> a[0].matmul(a[1]).square().sum();
        Tensor x = rand(6, 3, 2);
        Tensor w = rand(7, 2, 4);
        // d/dW ||X W||^2 = 2 X^T X W ; d/dX = 2 X W W^T
        assertClose("d/dW", Autodiff.grad(f, 1).apply(x, w), x.transpose().matmul(x).matmul(w).mul(2), Tolerances.CLOSED_FORM);
        assertClose("d/dX", Autodiff.grad(f, 0).apply(x, w), x.matmul(w).matmul(w.transpose()).mul(2), Tolerances.CLOSED_FORM);
        // Hessian in W of ||X W||^2 for one column: 2 X^T X
        Tensor w1 = rand(8, 2, 1);
        Tensor h = Autodiff.hessian(f, 1).apply(x, w1).reshape(2, 2);
        assertClose("d2/dW2", h, x.transpose().matmul(x).mul(2), Tolerances.CLOSED_FORM);
    }

    @Test
    void linearLeastSquaresHessianIsTwoIKronXtX() {
        // f(W) = ||X W - Y||^2 for W [d, m] flattened row-major: H = 2 (X^T X) kron I_m
        Tensor x = rand(9, 6, 3);
        Tensor y = rand(10, 6, 2);
        Tensor h = Autodiff.hessian(wf -> x.matmul(wf.reshape(3, 2)).sub(y).square().sum()).apply(rand(11, 6));
        INDArray xtx = x.array().transpose().mmul(x.array());
        INDArray expected = Nd4j.zeros(DataType.DOUBLE, 6, 6);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 2; k++) {
                    expected.putScalar(i * 2 + k, j * 2 + k, 2 * xtx.getDouble(i, j));
                }
            }
        }
        assertClose("2 X^T X kron I", h, expected, Tolerances.CLOSED_FORM);
    }

    @Test
    void float32IsSupportedWhenAsked() {
        Tensor x = Tensor.of(rand(12, 4).array().castTo(DataType.FLOAT));
        Tensor g = Autodiff.grad(v -> v.sin().mul(v).sum()).apply(x);
        assertEquals(DataType.FLOAT, g.dataType());
        INDArray x64 = x.array().castTo(DataType.DOUBLE);
        INDArray expected = org.nd4j.linalg.ops.transforms.Transforms.sin(x64, true)
                .add(x64.mul(org.nd4j.linalg.ops.transforms.Transforms.cos(x64, true)));
        assertClose("float32 gradient", g.array(), expected, Tolerances.FLOAT32);
        Tensor h = Autodiff.hessian(v -> v.tanh().sum()).apply(x);
        assertEquals(DataType.FLOAT, h.dataType());
    }

    @Test
    void jvpOfFunctionIgnoringItsInputIsZero() {
        Tensor c = rand(13, 3);
        JvpResult r = Autodiff.jvp(x -> c.exp(), rand(14, 2), rand(15, 2));
        assertClose("zero tangent", r.tangent(), Nd4j.zeros(DataType.DOUBLE, 3), 0.0);
        assertClose("zero gradient", Autodiff.grad(x -> c.sum()).apply(rand(16, 2)), Nd4j.zeros(DataType.DOUBLE, 2), 0.0);
    }

    @Test
    void pullbackBlockEqualsSeparatePullbacks() {
        Tensor w = rand(17, 3, 4);
        VjpResult r = Autodiff.vjp(x -> x.matmul(w).sin(), rand(18, 2, 3));
        Tensor u = rand(19, 5, 2, 4);
        Tensor block = r.pullbackBlock(u);
        for (int k = 0; k < 5; k++) {
            Tensor uk = u.slice(0, k, k + 1).reshape(2, 4);
            assertClose("pullback " + k, block.slice(0, k, k + 1).reshape(2, 3), r.pullback(uk), Tolerances.EXACT);
        }
    }
}
