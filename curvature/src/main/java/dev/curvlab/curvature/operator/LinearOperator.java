package dev.curvlab.curvature.operator;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A square linear operator {@code A: R^N -> R^N} known only through products, as in curvlinops and
 * scipy: {@code matmat(V: [N, k]) -> A V: [N, k]}. Every curvature matrix in curvlab is one, and
 * every estimator (eigenvalues, trace, diagonal, spectral density) takes any operator.
 */
public abstract class LinearOperator {
    /** N. */
    public abstract long size();

    /** True when {@code A = A^T} (all curvature matrices; estimators that assume symmetry check this). */
    public boolean isSymmetric() {
        return true;
    }

    /**
     * What this operator declares about itself (kind, symmetry, scale, structured method); consumers
     * read this instead of testing the operator's class. A plain operator is {@link CurvatureKind#OTHER}.
     */
    public OperatorCapabilities capabilities() {
        return OperatorCapabilities.generic(isSymmetric());
    }

    /** {@code A V} for a block of k columns; {@code V} is not modified. Subclasses implement this. */
    protected abstract INDArray apply(INDArray v);

    /** {@code A V}: {@code V: [N, k]} float64, returns a new {@code [N, k]}. */
    public final INDArray matmat(INDArray v) {
        if (v.rank() != 2 || v.size(0) != size()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".matmat: V must be [" + size() + ", k], got "
                    + Arrays.toString(v.shape()));
        }
        INDArray out = apply(v.dataType() == DataType.DOUBLE ? v : v.castTo(DataType.DOUBLE));
        if (out.rank() != 2 || out.size(0) != size() || out.size(1) != v.size(1)) {
            throw new IllegalStateException(getClass().getSimpleName() + " returned " + Arrays.toString(out.shape()) + " for V of shape "
                    + Arrays.toString(v.shape()));
        }
        return out;
    }

    /** {@code A v} for {@code v: [N]}, returns {@code [N]}. */
    public final INDArray matvec(INDArray v) {
        if (v.rank() != 1 || v.length() != size()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".matvec: v must be [" + size() + "], got "
                    + Arrays.toString(v.shape()));
        }
        return matmat(v.reshape(size(), 1)).reshape(size());
    }

    /**
     * The dense matrix {@code [N, N]} by products with identity blocks of {@code block} columns: the
     * dense-matrix pipeline's blocked method ({@link dev.curvlab.curvature.hessian.FullHessian#compute}
     * with {@code HessianMethod.BLOCKED}), in memory, with its memory preflight under the default budget
     * (a matrix that cannot fit is refused before any product). Use {@code FullHessian} directly for
     * the structured method, files, checkpoints, progress or a budget.
     */
    public INDArray toDense(int block) {
        if (block < 1) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".toDense: block must be >= 1, got " + block);
        }
        try {
            return FullHessian.compute(this, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(block)).matrix();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);      // (no file is involved in memory)
        }
    }
}
