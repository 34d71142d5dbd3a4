package dev.curvlab.curvature.operator;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** An explicit matrix {@code [N, N]} as an operator (for tests and for materialised Hessians). */
public final class DenseOperator extends LinearOperator {
    private final INDArray matrix;
    private final boolean symmetric;

    public DenseOperator(INDArray matrix) {
        if (matrix.rank() != 2 || matrix.size(0) != matrix.size(1)) {
            throw new IllegalArgumentException("DenseOperator needs a square matrix, got " + java.util.Arrays.toString(matrix.shape()));
        }
        this.matrix = matrix.castTo(DataType.DOUBLE);
        this.symmetric = this.matrix.equalsWithEps(this.matrix.transpose(), 1e-12 * Math.max(1, this.matrix.amaxNumber().doubleValue()));
    }

    @Override
    public long size() {
        return matrix.size(0);
    }

    @Override
    public boolean isSymmetric() {
        return symmetric;
    }

    @Override
    protected INDArray apply(INDArray v) {
        return matrix.mmul(v);
    }

    public INDArray matrix() {
        return matrix;
    }
}
