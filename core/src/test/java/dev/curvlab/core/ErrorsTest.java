package dev.curvlab.core;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Misuse is reported before work starts, naming the operation and the shapes involved. */
class ErrorsTest {
    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void shapeMismatchNamesOpAndBothShapes() {
        Tensor a = Tensor.zeros(2, 3);
        Tensor b = Tensor.zeros(4, 3);
        assertMentions(assertThrows(ShapeException.class, () -> a.add(b)), "add", "[2, 3]", "[4, 3]");
        assertMentions(assertThrows(ShapeException.class, () -> a.matmul(b)), "matmul", "[2, 3]", "[4, 3]");
        assertMentions(assertThrows(ShapeException.class, () -> a.reshape(5)), "reshape", "[2, 3]", "[5]");
        assertMentions(assertThrows(ShapeException.class, () -> a.cols(2, 7)), "slice", "[2, 3]");
        assertMentions(assertThrows(ShapeException.class, () -> Ops.hstack(a, Tensor.zeros(3, 1))), "concat", "[2, 3]", "[3, 1]");
    }

    /** Regression (issue 10, defect 5): two -1 sizes used to give a confusing shape error from the kernel. */
    @Test
    void reshapeNamesAnAmbiguousOrImpossibleInferredSize() {
        Tensor a = Tensor.zeros(2, 3);
        assertMentions(assertThrows(ShapeException.class, () -> a.reshape(-1, -1)), "reshape", "[2, 3]", "[-1, -1]", "at most one");
        assertMentions(assertThrows(ShapeException.class, () -> a.reshape(4, -1)), "reshape", "[2, 3]", "[4, -1]", "divide");
        assertMentions(assertThrows(ShapeException.class, () -> a.reshape(-2, 3)), "reshape", "[-2, 3]", "axis 0");
        assertTrue(java.util.Arrays.equals(new long[] {3, 2}, a.reshape(3, -1).shape()));
    }

    @Test
    void shapeErrorsInsideTransformsAreReportedTheSameWay() {
        Tensor b = Tensor.zeros(4, 3);
        assertMentions(assertThrows(ShapeException.class, () -> Autodiff.grad(x -> x.mul(b).sum()).apply(Tensor.zeros(2, 3))),
                "mul", "[2, 3]", "[4, 3]");
    }

    @Test
    void nonScalarOutputWhereScalarIsRequired() {
        assertMentions(assertThrows(ShapeException.class, () -> Autodiff.grad(x -> x.square()).apply(Tensor.zeros(3))),
                "grad", "single-element", "[3]");
        assertMentions(assertThrows(ShapeException.class, () -> Autodiff.hvp(x -> x.exp()).apply(Tensor.zeros(3), Tensor.zeros(3))),
                "single-element");
    }

    @Test
    void jvpDirectionOfWrongShape() {
        assertMentions(assertThrows(ShapeException.class, () -> Autodiff.jvp(x -> x, Tensor.zeros(3), Tensor.zeros(4))), "jvp", "[4]", "[3]");
    }

    @Test
    void nonFiniteDerivativeIsTracedToItsPrimitiveWhenCheckIsOn() {
        boolean before = FiniteCheck.enable(true);
        try {
            // sqrt is finite at 0 but its derivative 0.5 / sqrt(0) is not
            NonFiniteValueException e = assertThrows(NonFiniteValueException.class,
                    () -> Autodiff.grad(x -> x.sqrt().sum()).apply(Tensor.zeros(2)));
            assertMentions(e, "rdiv", "VJP of 'sqrt'");
            NonFiniteValueException fwd = assertThrows(NonFiniteValueException.class,
                    () -> Autodiff.grad(x -> x.log().sum()).apply(Tensor.vector(1.0, 0.0)));
            assertMentions(fwd, "log");
        } finally {
            FiniteCheck.enable(before);
        }
        // off: no exception, the Inf comes back
        double g = Autodiff.grad(x -> x.sqrt().sum()).apply(Tensor.zeros(1)).item();
        assertTrue(Double.isInfinite(g));
    }

    @Test
    void escapedTracerIsRejected() {
        Tensor[] leaked = new Tensor[1];
        Autodiff.grad(x -> {
            leaked[0] = x;
            return x.sum();
        }).apply(Tensor.zeros(2));
        assertMentions(assertThrows(IllegalStateException.class, () -> leaked[0].exp()), "exp", "already finished");
    }

    @Test
    void mixedDataTypesAreRejected() {
        Tensor d = Tensor.zeros(2);
        Tensor f = Tensor.of(org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> d.add(f)), "add", "DOUBLE", "FLOAT");
    }
}
