package dev.curvlab.core;

import static dev.curvlab.core.Arrays2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class AutodiffTest {
    private static Tensor rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Tensor.of(Nd4j.rand(DataType.DOUBLE, shape).subi(0.5).muli(2));
    }

    @Test
    void gradientOfSumOfSquaresIsTwoX() {
        Tensor x = rand(1, 5);
        Tensor g = Autodiff.grad(v -> v.square().sum()).apply(x);
        assertClose("grad", g, x.array().mul(2), Tolerances.CLOSED_FORM);
    }

    @Test
    void jacfwdEqualsJacrevOnAMatrixFunction() {
        Tensor w = rand(2, 4, 3);
        TensorFunction f = x -> x.matmul(w).tanh().mul(x.sum());   // [2,4] -> [2,3]
        Tensor x = rand(3, 2, 4);
        Tensor jr = Autodiff.jacrev(f).apply(x);
        Tensor jf = Autodiff.jacfwd(f).apply(x);
        assertEquals(4, jr.rank());
        assertClose("jacfwd vs jacrev", jf, jr, Tolerances.EXACT);
        assertClose("jacrev vs finite differences", jr, FiniteDifferences.jacobian(f, x.array(), Tolerances.FD_STEP), Tolerances.FD_FIRST);
    }

    @Test
    void hessianMatchesJacrevOfJacrevAndFiniteDifferences() {
        TensorFunction f = x -> x.sin().mul(x.square().sum()).sum().add(x.col(0).mul(x.col(1)).mul(x.col(2)).sum());
        Tensor x = rand(4, 3);
        Tensor h1 = Autodiff.hessian(f).apply(x);
        Tensor h2 = Autodiff.jacrev(Autodiff.jacrev(f)).apply(x);
        Tensor h3 = Autodiff.jacfwd(Autodiff.jacfwd(f)).apply(x);
        assertClose("hessian vs jacrev(jacrev)", h1, h2, Tolerances.EXACT);
        assertClose("hessian vs jacfwd(jacfwd)", h1, h3, Tolerances.EXACT);
        assertClose("hessian vs FD", h1, FiniteDifferences.hessian(f, x.array(), Tolerances.FD_STEP_SECOND), Tolerances.FD_SECOND);
    }

    @Test
    void valueAndGradIsAFunctionLikeGradAndNestsUnderAnOuterTransform() {
        TensorFunction f = x -> x.sin().mul(x.square().sum()).sum();
        Tensor x = rand(5, 4);
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(f).apply(x);
        assertClose("value", vg.value(), f.apply(x), Tolerances.EXACT);
        assertClose("grad", vg.grad(), Autodiff.grad(f).apply(x), Tolerances.EXACT);
        // under jacfwd the inner call sees tracers and must keep its tape: jacfwd(grad of valueAndGrad) = hessian
        Tensor h = Autodiff.jacfwd(z -> Autodiff.valueAndGrad(f).apply(z).grad()).apply(x);
        assertClose("jacfwd(valueAndGrad.grad) vs hessian", h, Autodiff.hessian(f).apply(x), Tolerances.EXACT);
    }

    @Test
    void scopedTransformsKeepTheirResultAndFreeTheRest() {
        TensorFunction f = x -> x.tanh().square().sum();
        Tensor x = rand(6, 3);
        Tensor g;
        try (ArrayScope outer = ArrayScope.open()) {
            g = Autodiff.grad(f).apply(x);
            outer.keep(g.array());
        }
        // the result survives both the transform's scope and the caller's (kept); x was never touched
        assertClose("grad after scopes", g, Autodiff.grad(f).apply(x), Tolerances.EXACT);
        assertEquals(3, x.length());
    }
}
