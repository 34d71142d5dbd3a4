package dev.curvlab.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ArrayScopeTest {
    @Test
    void freesIntermediatesKeepsResultsAndNeverTouchesInputs() {
        INDArray input = Nd4j.rand(DataType.DOUBLE, 4, 3);
        Tensor x = Tensor.of(input);
        Tensor[] intermediate = new Tensor[1];
        Tensor result = ArrayScope.run(() -> {
            intermediate[0] = x.exp();
            return intermediate[0].mul(2).transpose();   // a view of a scope-allocated buffer
        });
        assertFalse(ArrayScope.base(result.array()).wasClosed(), "result must survive");
        assertTrue(ArrayScope.base(intermediate[0].array()).wasClosed(), "intermediate must be freed");
        assertFalse(input.data().wasClosed(), "input must never be freed");
        assertEquals(Math.exp(input.getDouble(1, 2)) * 2, result.array().getDouble(2, 1), 1e-15);
        assertThrows(IllegalStateException.class, () -> intermediate[0].array().mul(1.0));
    }

    @Test
    void viewsOfInputsAreNotFreed() {
        INDArray input = Nd4j.rand(DataType.DOUBLE, 4, 3);
        Tensor r = ArrayScope.run(() -> Tensor.of(input).permute(1, 0).reshape(12).sum());
        assertFalse(input.data().wasClosed());
        assertEquals(input.sumNumber().doubleValue(), r.item(), 1e-12);
    }

    @Test
    void nothingIsFreedWhenTheResultIsATracer() {
        Tensor g = Autodiff.grad(theta -> ArrayScope.run(() -> theta.mul(theta.exp())).sum()).apply(Tensor.vector(0.5, 1.0));
        assertEquals(Math.exp(0.5) * 1.5, g.array().getDouble(0), 1e-12);
    }
}
