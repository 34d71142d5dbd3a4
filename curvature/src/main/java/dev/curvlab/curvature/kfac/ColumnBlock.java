package dev.curvlab.curvature.kfac;

import dev.curvlab.core.kernels.MatMulKernel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A per-sample sum of signed outer products, {@code M_s = sum_c sign[s, c] b_sc b_sc^T}, held as its
 * columns {@code b: [S, C, width]} and signs {@code [S, C]} (null when all are +1). A positive
 * semi-definite output Hessian is one block with no signs (its square root); an indefinite one, or
 * the activation-curvature terms of the exact Hessian, carry signs.
 */
record ColumnBlock(INDArray columns, INDArray signs) {
    long samples() {
        return columns.size(0);
    }

    long count() {
        return columns.size(1);
    }

    long width() {
        return columns.size(2);
    }

    /** The columns multiplied by their signs (the columns themselves when there are none). */
    INDArray signed() {
        return signs == null ? columns : columns.mul(signs.reshape(samples(), count(), 1));
    }

    /**
     * The upper triangle of {@code acc} ({@code [width, width]}) {@code += sum_s M_s}: one symmetric
     * rank-k update over all S*C columns ({@link SymmetricGram}; a GEMM against the signed columns when
     * there are signs). The lower triangle is stale until {@link SymmetricGram#mirrorUpper}.
     */
    void addUpperGramTo(INDArray acc) {
        long rows = samples() * count();
        INDArray b = columns.reshape('c', new long[] {rows, width()});
        if (signs == null) {
            SymmetricGram.addUpper(b, acc);
            return;
        }
        INDArray sb = signed().reshape('c', new long[] {rows, width()});
        Nd4j.gemm(b, sb, acc, true, false, 1.0, 1.0);
        Buffers.free(sb);
    }

    /** The diagonal of each sample's {@code M_s} in the basis q ({@code diag(q^T M_s q)}), {@code [S, width]}; q null for the identity. */
    INDArray diagonals(INDArray q) {
        INDArray b = columns;
        if (q != null) {
            b = MatMulKernel.gemm(columns.reshape('c', new long[] {samples() * count(), width()}), q, false, false)
                    .reshape('c', new long[] {samples(), count(), width()});
        }
        INDArray sq = b.mul(b);
        if (q != null) {
            Buffers.free(b);
        }
        if (signs != null) {
            sq.muli(signs.reshape(samples(), count(), 1));
        }
        INDArray d = sq.sum(1);
        Buffers.free(sq);
        return d;
    }
}
