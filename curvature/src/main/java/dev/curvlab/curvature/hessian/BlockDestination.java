package dev.curvlab.curvature.hessian;

import dev.curvlab.core.kernels.RawAccess;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where {@link KroneckerBlocks} writes a layer pair's entries: a row-major destination holding
 * global rows {@code [row0, row0 + rows)} and columns from {@code col0}; rows outside it are
 * skipped. With {@code accumulate}, values are added to what is there.
 */
final class BlockDestination {
    private final long row0;
    private final long col0;
    private final long rows;
    private final long width;
    private final boolean accumulate;
    private final RawAccess.Elements elements;

    BlockDestination(INDArray dest, long row0, long col0, boolean accumulate) {
        this.row0 = row0;
        this.col0 = col0;
        this.rows = dest.size(0);
        this.width = dest.size(1);
        this.accumulate = accumulate;
        this.elements = RawAccess.elements(dest);
    }

    boolean wants(long row) {
        long r = row - row0;
        return r >= 0 && r < rows;
    }

    /** Flat index of global {@code (row, col)}. */
    long flat(long row, long col) {
        return (row - row0) * width + (col - col0);
    }

    void put(long flat, double v) {
        if (accumulate) {
            elements.add(flat, v);
        } else {
            elements.set(flat, v);
        }
    }
}
