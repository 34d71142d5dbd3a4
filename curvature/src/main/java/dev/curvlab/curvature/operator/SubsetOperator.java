package dev.curvlab.curvature.operator;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The restriction {@code P^T A P} of an operator to a contiguous range of parameters
 * {@code [start, end)} (e.g. one layer's block of the Hessian): columns are embedded into
 * {@code [N, k]} with zeros elsewhere, multiplied, and the range's rows kept.
 */
public final class SubsetOperator extends LinearOperator {
    private final LinearOperator base;
    private final long start;
    private final long end;

    public SubsetOperator(LinearOperator base, long start, long end) {
        if (start < 0 || end > base.size() || start >= end) {
            throw new IllegalArgumentException("parameter range [" + start + ", " + end + ") outside [0, " + base.size() + ")");
        }
        this.base = base;
        this.start = start;
        this.end = end;
    }

    @Override
    public long size() {
        return end - start;
    }

    @Override
    public boolean isSymmetric() {
        return base.isSymmetric();
    }

    @Override
    protected INDArray apply(INDArray v) {
        INDArray full = Nd4j.zeros(DataType.DOUBLE, base.size(), v.size(1));
        full.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(v);
        return base.matmat(full).get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c');
    }
}
