package dev.curvlab.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Assertions on arrays with the relative error of {@link Comparison}. */
final class Arrays2 {
    private Arrays2() {
    }

    static void assertClose(String what, INDArray actual, INDArray expected, double tol) {
        assertTrue(Comparison.close(actual, expected, tol), () -> Comparison.describe(what, actual, expected, tol));
    }

    static void assertClose(String what, Tensor actual, INDArray expected, double tol) {
        assertClose(what, actual.array(), expected, tol);
    }

    static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
        assertClose(what, actual.array(), expected.array(), tol);
    }
}
