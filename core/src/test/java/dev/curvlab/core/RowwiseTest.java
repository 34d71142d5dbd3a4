package dev.curvlab.core;

import static dev.curvlab.core.Arrays2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Batched per-sample derivatives equal the same derivatives taken one sample at a time. */
class RowwiseTest {
    private static final Tensor W1 = rand(1, 4, 6);
    private static final Tensor W2 = rand(2, 6, 3);

    private static Tensor rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Tensor.of(Nd4j.rand(DataType.DOUBLE, shape).subi(0.5).muli(2));
    }

    /** A small network R^4 -> R^3 applied row-wise. */
    private static Tensor net(Tensor x) {
        return x.matmul(W1).tanh().matmul(W2).sin();
    }

    /** A scalar-per-row function R^4 -> R. */
    private static Tensor energy(Tensor x) {
        return net(x).square().sum(1).add(x.col(0).mul(x.col(3)).reshape(-1));
    }

    @Test
    void batchedDerivativesEqualPerSampleDerivatives() {
        Tensor x = rand(3, 9, 4);
        Tensor g = Rowwise.grad(RowwiseTest::energy).apply(x);
        Tensor jf = Rowwise.jacfwd(RowwiseTest::net).apply(x);
        Tensor jr = Rowwise.jacrev(RowwiseTest::net).apply(x);
        Tensor h = Rowwise.hessian(RowwiseTest::energy).apply(x);
        Tensor v = rand(4, 9, 4);
        Tensor hv = Rowwise.hvp(RowwiseTest::energy).apply(x, v);
        assertArrayEquals(new long[] {9, 3, 4}, jf.shape());
        assertArrayEquals(new long[] {9, 4, 4}, h.shape());
        for (int i = 0; i < 9; i++) {
            Tensor xi = x.rows(i, i + 1).reshape(4);
            TensorFunction fi = z -> energy(z.reshape(1, 4)).sum();
            TensorFunction ni = z -> net(z.reshape(1, 4)).reshape(3);
            Tensor hi = Autodiff.hessian(fi).apply(xi);
            Tensor ji = Autodiff.jacrev(ni).apply(xi);
            assertClose("gradient row " + i, g.rows(i, i + 1).reshape(4), Autodiff.grad(fi).apply(xi), Tolerances.EXACT);
            assertClose("jacobian (forward) sample " + i, jf.rows(i, i + 1).reshape(3, 4), ji, Tolerances.EXACT);
            assertClose("jacobian (reverse) sample " + i, jr.rows(i, i + 1).reshape(3, 4), ji, Tolerances.EXACT);
            assertClose("hessian sample " + i, h.rows(i, i + 1).reshape(4, 4), hi, Tolerances.EXACT);
            assertClose("hvp sample " + i, hv.rows(i, i + 1).reshape(4), hi.matmul(v.rows(i, i + 1).reshape(4)), Tolerances.EXACT);
        }
        Tensor block = rand(5, 2, 9, 4);
        Tensor hvBlock = Rowwise.hvp(RowwiseTest::energy).apply(x, block);
        assertClose("hvp block", hvBlock.slice(0, 1, 2).reshape(9, 4), Rowwise.hvp(RowwiseTest::energy).apply(x, block.slice(0, 1, 2).reshape(9, 4)),
                Tolerances.EXACT);
    }

    @Test
    void rowwiseDerivativesCompose() {
        // the per-sample Hessian is itself differentiable: d/dx of trace(H_i) by jacrev vs forward differences of Rowwise.hessian
        Tensor x = rand(6, 3, 4);
        TensorFunction traceOfHessians = z -> {
            Tensor h = Rowwise.hessian(RowwiseTest::energy).apply(z);
            return h.reshape(3, 16).mul(Tensor.of(Nd4j.eye(4).castTo(DataType.DOUBLE).reshape(1, 16))).sum();
        };
        Tensor g = Autodiff.grad(traceOfHessians).apply(x);
        assertClose("gradient of sum of Hessian traces", g,
                dev.curvlab.core.check.FiniteDifferences.jacobian(traceOfHessians, x.array(), Tolerances.FD_STEP), Tolerances.FD_FIRST);
    }

    @Test
    void misuseGivesClearErrors() {
        Tensor x = rand(7, 5, 4);
        ShapeException vector = assertThrows(ShapeException.class, () -> Rowwise.grad(RowwiseTest::net).apply(x));
        assertTrue(vector.getMessage().contains("[5, 3]"), vector.getMessage());
        ShapeException notBatch = assertThrows(ShapeException.class, () -> Rowwise.hessian(RowwiseTest::energy).apply(rand(8, 4)));
        assertTrue(notBatch.getMessage().contains("[n, d]"), notBatch.getMessage());
        ShapeException reduced = assertThrows(ShapeException.class, () -> Rowwise.jacfwd(z -> z.sum()).apply(x));
        assertTrue(reduced.getMessage().contains("row-wise"), reduced.getMessage());
    }
}
