package dev.curvlab.core;

import static dev.curvlab.core.Arrays2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curvlab.core.check.FiniteDifferences;
import dev.curvlab.core.check.Tolerances;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Table-driven check of every primitive's reverse and forward rules: each case is a function of a
 * flat input vector x built around one primitive (operands are slices of x, or constants, so every
 * operand's rule runs, alone and together). Checks: jacfwd (JVP rules) vs jacrev (VJP rules),
 * {@code <u, J v>} both ways, the Jacobian vs central differences, the Hessian of a random scalar
 * projection vs second differences and vs jacrev(jacrev), and a third derivative by two paths.
 * The table must cover every name in {@link PrimitiveTable}.
 */
class PrimitiveRulesTest {
    /** Input domain of a case. */
    enum Domain {
        ANY, POSITIVE, AWAY_FROM_ZERO
    }

    record Case(String primitive, String label, int inputs, Domain domain, boolean smooth, TensorFunction f) {
        @Override
        public String toString() {
            return primitive + ": " + label;
        }
    }

    private static Tensor c(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Tensor.of(Nd4j.rand(DataType.DOUBLE, shape).subi(0.5));
    }

    /** Operand {@code k} of shape {@code shape}, cut from the flat input x at {@code offset}. */
    private static Tensor part(Tensor x, long offset, long... shape) {
        return x.slice(0, offset, offset + Shapes.length(shape)).reshape(shape);
    }

    private static Case unary(String name, Domain domain, boolean smooth, TensorFunction op) {
        return new Case(name, "[2,3]", 6, domain, smooth, x -> op.apply(x.reshape(2, 3)));
    }

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        // elementwise
        cs.add(unary("affine", Domain.ANY, true, x -> x.mul(-2.5).add(0.75)));
        cs.add(unary("affine", Domain.ANY, true, Tensor::neg));
        cs.add(unary("exp", Domain.ANY, true, Tensor::exp));
        cs.add(unary("log", Domain.POSITIVE, true, Tensor::log));
        cs.add(unary("log1p", Domain.POSITIVE, true, Tensor::log1p));
        cs.add(unary("sqrt", Domain.POSITIVE, true, Tensor::sqrt));
        cs.add(unary("sin", Domain.ANY, true, Tensor::sin));
        cs.add(unary("cos", Domain.ANY, true, Tensor::cos));
        cs.add(unary("tanh", Domain.ANY, true, Tensor::tanh));
        cs.add(unary("sigmoid", Domain.ANY, true, Tensor::sigmoid));
        cs.add(unary("softplus", Domain.ANY, true, Tensor::softplus));
        cs.add(unary("relu", Domain.AWAY_FROM_ZERO, false, Tensor::relu));
        cs.add(unary("leaky_relu", Domain.AWAY_FROM_ZERO, false, x -> Ops.leakyRelu(x, 0.1)));
        cs.add(unary("elu", Domain.AWAY_FROM_ZERO, false, x -> Ops.elu(x, 0.7)));
        cs.add(unary("erf", Domain.ANY, true, Tensor::erf));
        cs.add(unary("abs", Domain.AWAY_FROM_ZERO, false, Tensor::abs));
        cs.add(unary("pow", Domain.ANY, true, x -> x.pow(3)));
        cs.add(unary("pow", Domain.ANY, true, Tensor::square));
        cs.add(unary("pow", Domain.POSITIVE, true, x -> x.pow(-1.5)));
        cs.add(unary("pow", Domain.POSITIVE, true, x -> x.pow(0.5)));
        cs.add(unary("rdiv", Domain.POSITIVE, true, x -> x.rdiv(3.0)));
        // binary, with broadcasting and constant operands
        for (String op : List.of("add", "sub", "mul", "div")) {
            Domain dom = op.equals("div") ? Domain.POSITIVE : Domain.ANY;
            cs.add(new Case(op, "[2,3] (.) [2,3]", 12, dom, true, x -> bin(op, part(x, 0, 2, 3), part(x, 6, 2, 3))));
            cs.add(new Case(op, "[3,1] (.) [1,4]", 7, dom, true, x -> bin(op, part(x, 0, 3, 1), part(x, 3, 1, 4))));
            cs.add(new Case(op, "[2,3] (.) [3] (rank padding)", 9, dom, true, x -> bin(op, part(x, 0, 2, 3), part(x, 6, 3))));
            cs.add(new Case(op, "x (.) x (same operand)", 6, dom, true, x -> bin(op, part(x, 0, 2, 3), part(x, 0, 2, 3).mul(1.3).add(0.1))));
            cs.add(new Case(op, "x (.) constant", 6, dom, true, x -> bin(op, part(x, 0, 2, 3), c(7, 2, 3).add(2.0))));
            cs.add(new Case(op, "constant (.) x", 6, dom, true, x -> bin(op, c(8, 2, 3).add(2.0), part(x, 0, 2, 3))));
        }
        INDArray mask = Nd4j.create(new double[] {1, 0, 1, 0, 0, 1}, new long[] {2, 3}, DataType.DOUBLE);
        cs.add(new Case("where", "mask ? a : b", 12, Domain.ANY, true, x -> Ops.where(mask, part(x, 0, 2, 3), part(x, 6, 2, 3).exp())));
        cs.add(new Case("where", "broadcast [2,1] ? x : const", 2, Domain.ANY, true,
                x -> Ops.where(mask, part(x, 0, 2, 1).square(), c(9, 1, 3))));
        // reductions
        cs.add(new Case("sum", "all", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).square().sum()));
        cs.add(new Case("sum", "axis 0", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).square().sum(0)));
        cs.add(new Case("sum", "axis 1 keepdims", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).sin().sum(1, true)));
        cs.add(new Case("sum", "axes {0,2} of rank 3", 12, Domain.ANY, true, x -> Ops.sum(part(x, 0, 2, 3, 2).exp(), new int[] {0, 2}, false)));
        cs.add(new Case("logsumexp", "axis 1", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).mul(3).logSumExp(1, false)));
        cs.add(new Case("logsumexp", "axis 0 keepdims", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).logSumExp(0, true)));
        cs.add(new Case("logsumexp", "log-softmax", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).logSoftmax(1)));
        // structural
        cs.add(new Case("reshape", "[6] -> [3,2]", 6, Domain.ANY, true, x -> x.reshape(3, 2).square()));
        cs.add(new Case("permute", "[2,3,2] -> (2,0,1)", 12, Domain.ANY, true, x -> part(x, 0, 2, 3, 2).permute(2, 0, 1).sin()));
        cs.add(new Case("permute", "transpose", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).transpose().exp()));
        cs.add(new Case("slice", "columns 1..3", 8, Domain.ANY, true, x -> part(x, 0, 2, 4).cols(1, 3).square()));
        cs.add(new Case("slice", "rows 1..2", 8, Domain.ANY, true, x -> part(x, 0, 4, 2).rows(1, 2).exp()));
        cs.add(new Case("pad", "pad (VJP of slice, used forward)", 4, Domain.ANY, true,
                x -> new Structural.Pad(1, 1, 5).bind(part(x, 0, 2, 2).square())));
        cs.add(new Case("concat", "hstack of x, x^2, constant", 6, Domain.ANY, true,
                x -> Ops.hstack(part(x, 0, 2, 3), part(x, 0, 2, 3).square(), c(3, 2, 2))));
        cs.add(new Case("concat", "vstack", 6, Domain.ANY, true, x -> Ops.vstack(part(x, 0, 1, 3), part(x, 3, 1, 3).exp())));
        cs.add(new Case("broadcast_to", "[1,3] -> [4,3]", 3, Domain.ANY, true, x -> part(x, 0, 1, 3).broadcastTo(4, 3).mul(c(4, 4, 3))));
        // matmul: every transpose flag, batched on either side, both
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                String l = (ta ? "A^T" : "A") + (tb ? " B^T" : " B");
                cs.add(new Case("matmul", l, 12 + 8, Domain.ANY, true,
                        x -> Ops.matmul(ta ? part(x, 0, 4, 3) : part(x, 0, 3, 4), tb ? part(x, 12, 2, 4) : part(x, 12, 4, 2), ta, tb)));
                cs.add(new Case("matmul", "batched " + l + " x unbatched", 24 + 8, Domain.ANY, true,
                        x -> Ops.matmul(ta ? part(x, 0, 2, 4, 3) : part(x, 0, 2, 3, 4), tb ? part(x, 24, 2, 4) : part(x, 24, 4, 2), ta, tb)));
                cs.add(new Case("matmul", "unbatched " + l + " x batched", 12 + 16, Domain.ANY, true,
                        x -> Ops.matmul(ta ? part(x, 0, 4, 3) : part(x, 0, 3, 4), tb ? part(x, 12, 2, 2, 4) : part(x, 12, 2, 4, 2), ta, tb)));
                cs.add(new Case("matmul", "broadcast batches " + l, 24 + 16, Domain.ANY, true,
                        x -> Ops.matmul(ta ? part(x, 0, 2, 1, 4, 3) : part(x, 0, 2, 1, 3, 4), tb ? part(x, 24, 1, 2, 2, 4) : part(x, 24, 1, 2, 4, 2), ta, tb)));
            }
        }
        cs.add(new Case("matmul", "vector x matrix", 4 + 8, Domain.ANY, true, x -> Ops.matmul(part(x, 0, 4), part(x, 4, 4, 2))));
        cs.add(new Case("matmul", "x W with constant W", 6, Domain.ANY, true, x -> part(x, 0, 2, 3).matmul(c(5, 3, 4)).tanh()));
        // sliding windows (linear; a square afterwards gives them a non-zero Hessian)
        ConvGeometry g = new ConvGeometry(2, 3, 3, 2, 2, 1, 1, 1, 1);
        ConvGeometry strided = new ConvGeometry(1, 4, 5, 3, 2, 2, 3, 1, 0);
        cs.add(new Case("unfold", "[1,2,3,3] kernel 2x2 padding 1", 18, Domain.ANY, true, x -> Ops.unfold(part(x, 0, 1, 2, 3, 3), g).square()));
        cs.add(new Case("unfold", "strided, padded rows only", 20, Domain.ANY, true, x -> Ops.unfold(part(x, 0, 1, 4, 5), strided).sin()));
        cs.add(new Case("unfold", "conv2d of x, w, b", 18 + 8 + 2, Domain.ANY, true,
                x -> Ops.conv2d(part(x, 0, 1, 2, 3, 3), part(x, 18, 2, 2, 2, 1), part(x, 26, 2), new int[] {1, 2}, new int[] {0, 1}).tanh()));
        cs.add(new Case("unfold", "avgpool2d 2x2 stride 1", 18, Domain.ANY, true,
                x -> Ops.avgPool2d(part(x, 0, 1, 2, 3, 3).exp(), new int[] {2, 2}, new int[] {1, 1}).square()));
        ConvGeometry small = new ConvGeometry(1, 3, 3, 2, 2, 1, 1, 0, 0);
        cs.add(new Case("fold", "[1,4,4] back to [1,3,3]", 16, Domain.ANY, true, x -> Ops.fold(part(x, 0, 1, 4, 4), small).square()));
        cs.add(new Case("fold", "strided", 24, Domain.ANY, true, x -> Ops.fold(part(x, 0, 4, 6), strided).sin()));
        cs.add(new Case("gather", "maxpool2d 2x2 of [1,2,4,4]", 32, Domain.ANY, true,
                x -> Ops.maxPool2d(part(x, 0, 1, 2, 4, 4), new int[] {2, 2}, new int[] {2, 2}).square()));
        cs.add(new Case("gather", "maxpool2d 3x2 stride 1 of tanh", 12, Domain.ANY, true,
                x -> Ops.maxPool2d(part(x, 0, 1, 1, 4, 3).tanh(), new int[] {3, 2}, new int[] {1, 1}).exp()));
        int[] index = {0, 2, 2, 5, 1};
        cs.add(new Case("scatter_add", "repeated indices", 10, Domain.ANY, true,
                x -> new Window.ScatterAdd(index, new long[] {5}, new long[] {2, 3}).bind(part(x, 0, 2, 5)).square()));
        return cs;
    }

    private static Tensor bin(String op, Tensor a, Tensor b) {
        return switch (op) {
            case "add" -> a.add(b);
            case "sub" -> a.sub(b);
            case "mul" -> a.mul(b);
            default -> a.div(b);
        };
    }

    static Stream<Case> caseStream() {
        return cases().stream();
    }

    private static Tensor input(Case c, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray v = Nd4j.rand(DataType.DOUBLE, c.inputs()).subi(0.5).muli(2);
        switch (c.domain()) {
            case POSITIVE -> v = org.nd4j.linalg.ops.transforms.Transforms.abs(v, false).addi(0.3);
            case AWAY_FROM_ZERO -> v.addi(org.nd4j.linalg.ops.transforms.Transforms.sign(v, true).muli(0.2));
            default -> { }
        }
        return Tensor.of(v);
    }

    @Test
    void everyPrimitiveInTheTableHasACase() {
        TreeSet<String> covered = new TreeSet<>();
        for (Case c : cases()) {
            covered.add(c.primitive());
        }
        assertEquals(new TreeSet<>(PrimitiveTable.NAMES), covered);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseStream")
    void firstDerivativesAgreeAcrossModesAndWithFiniteDifferences(Case c) {
        Tensor x = input(c, 11);
        Tensor jr = Autodiff.jacrev(c.f()).apply(x);
        Tensor jf = Autodiff.jacfwd(c.f()).apply(x);
        assertClose(c + " jacfwd vs jacrev", jf, jr, Tolerances.EXACT);
        assertClose(c + " jacrev vs central differences", jr, FiniteDifferences.jacobian(c.f(), x.array(), Tolerances.FD_STEP),
                Tolerances.FD_FIRST);
        // <u, J v> by one JVP and by one VJP
        Tensor y = c.f().apply(x);
        Tensor u = c(21, y.shape());
        Tensor v = c(22, x.shape());
        double forward = Autodiff.jvp(c.f(), x, v).tangent().mul(u).sum().item();
        double reverse = Autodiff.vjp(c.f(), x).pullback(u).mul(v).sum().item();
        assertEquals(forward, reverse, Tolerances.EXACT * Math.max(1, Math.abs(forward)), c + " <u, Jv> vs <J^T u, v>");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseStream")
    void secondAndThirdDerivativesAgree(Case c) {
        Tensor x = input(c, 12);
        Tensor w = c(23, c.f().apply(x).shape());
        TensorFunction s = z -> c.f().apply(z).mul(w).sum();
        Tensor h = Autodiff.hessian(s).apply(x);
        assertClose(c + " hessian vs jacrev(jacrev)", h, Autodiff.jacrev(Autodiff.jacrev(s)).apply(x), Tolerances.EXACT);
        assertClose(c + " hessian vs second differences", h, FiniteDifferences.hessian(s, x.array(), Tolerances.FD_STEP_SECOND),
                Tolerances.FD_SECOND);
        if (c.smooth()) {
            Tensor t1 = Autodiff.jacfwd(Autodiff.hessian(s)).apply(x);
            Tensor t2 = Autodiff.jacrev(Autodiff.jacrev(Autodiff.grad(s))).apply(x);
            assertClose(c + " third derivative, two paths", t1, t2, Tolerances.EXACT);
            Tensor fdOfHessian = Tensor.of(FiniteDifferences.jacobian(Autodiff.hessian(s), x.array(), Tolerances.FD_STEP));
            assertClose(c + " third derivative vs differences of the Hessian", t1, fdOfHessian, Tolerances.FD_FIRST * 10);
        }
    }

    /** Cases grouped by primitive name (for reporting). */
    static Map<String, List<Case>> byName() {
        Map<String, List<Case>> m = new TreeMap<>();
        for (Case c : cases()) {
            m.computeIfAbsent(c.primitive(), k -> new ArrayList<>()).add(c);
        }
        return m;
    }
}
