package dev.curvlab.nn.loss;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-sample derivatives of a loss in the network outputs, in closed form: for sample s,
 * {@code gradient[s] = d l_s / d f_s} ({@code [n, out]}) and {@code hessian[s] = d2 l_s / d f_s2}
 * ({@code [n, out, out]}), where {@code l_s} is {@link Loss#perSample}. The structured Hessian
 * starts its backward recursion from these (without them it differentiates perSample with the
 * engine, which is exact too but costs a few dozen small operations more).
 */
public record OutputDerivatives(INDArray gradient, INDArray hessian) {
    /** A per-sample diagonal Hessian {@code [n, out, out]} with diagonals {@code d: [n, out]}. */
    static INDArray diagonal(INDArray d) {
        long n = d.size(0);
        long out = d.size(1);
        INDArray h = Nd4j.zeros(DataType.DOUBLE, n, out, out);
        diagonalView(h).assign(d);
        return h;
    }

    /** The diagonals of a C-order {@code [n, out, out]} array as a {@code [n, out]} view (stride out + 1). */
    static INDArray diagonalView(INDArray h) {
        long n = h.size(0);
        long out = h.size(1);
        return Nd4j.create(h.data(), new long[] {n, out}, new long[] {out * out, out + 1}, 0, 'c');
    }
}
