package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A float64 C-order matrix {@code [rows, cols]} in native memory, allocated once and reused: the
 * ND4J array for GEMMs and direct element access ({@link RawAccess.Elements}) for the elementwise
 * loops that run in Java (one ND4J call costs 10-60 us, more than the loop itself at these sizes).
 * {@link #as} reinterprets the same memory with another shape (e.g. {@code [B, k*w]} as {@code [B*k, w]}).
 */
final class Matrix {
    final int rows;
    final int cols;
    final INDArray array;
    final RawAccess.Elements at;

    private Matrix(INDArray array, int rows, int cols) {
        this.array = array;
        this.rows = rows;
        this.cols = cols;
        this.at = array.offset() == 0 ? RawAccess.elements(array) : null;
    }

    /** A new zero matrix. */
    static Matrix zeros(int rows, int cols) {
        return new Matrix(Nd4j.create(DataType.DOUBLE, new long[] {rows, cols}, 'c'), rows, cols);
    }

    /** The same memory as {@code [rows, cols]} (same element count). */
    Matrix as(int newRows, int newCols) {
        if ((long) newRows * newCols != (long) rows * cols) {
            throw new IllegalArgumentException("cannot view [" + rows + ", " + cols + "] as [" + newRows + ", " + newCols + "]");
        }
        return new Matrix(array.reshape('c', new long[] {newRows, newCols}), newRows, newCols);
    }

    /** A contiguous block of this matrix's memory from flat element {@code offset}, as {@code [rows, cols]} (for GEMM operands and outputs). */
    Matrix block(long offset, int newRows, int newCols) {
        INDArray flat = array.reshape('c', new long[] {(long) rows * cols});
        INDArray part = flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + (long) newRows * newCols))
                .reshape('c', new long[] {newRows, newCols});
        return new Matrix(part, newRows, newCols);
    }

    double get(int flat) {
        return at.get(flat);
    }

    void set(int flat, double v) {
        at.set(flat, v);
    }

    void close() {
        array.close();
    }
}
