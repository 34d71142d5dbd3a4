package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import org.bytedeco.javacpp.DoublePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A float64 C-order matrix {@code [rows, cols]} in native memory, allocated once and reused: the
 * ND4J array for GEMMs and direct element access ({@link RawAccess.Elements}) for the elementwise
 * loops that run in Java (one ND4J call costs 10-60 us, more than the loop itself at these sizes).
 * {@link #as} reinterprets the same memory with another shape (e.g. {@code [w, k*B]} as
 * {@code [w*k, B]}); {@link #block} is a contiguous part of it (a layer's parameters). Both are
 * views by address only (no ND4J view array: a reshape or interval get costs one op dispatch).
 */
final class Matrix {
    final int rows;
    final int cols;
    /** The ND4J array of a matrix that owns its memory; null for views ({@link #as}, {@link #block}) and heap matrices. */
    final INDArray array;
    private final INDArray owner;
    private final RawAccess.Elements at;
    private final long base;
    /** The first element's native address as a BLAS operand (position = base); null on the heap. */
    final DoublePointer pointer;
    /** The elements of a heap matrix (never a BLAS operand: activation derivatives); null for native ones. */
    final double[] heap;

    private Matrix(INDArray array, int rows, int cols, INDArray owner, long base) {
        this(array, rows, cols, owner, base, RawAccess.elements(owner));
    }

    private Matrix(INDArray array, int rows, int cols, INDArray owner, long base, RawAccess.Elements at) {
        this.array = array;
        this.owner = owner;
        this.rows = rows;
        this.cols = cols;
        this.at = at;
        this.base = base;
        this.pointer = new DoublePointer(owner.data().addressPointer()).position(base);
        this.heap = null;
    }

    private Matrix(double[] heap, int rows, int cols) {
        this.array = null;
        this.owner = null;
        this.rows = rows;
        this.cols = cols;
        this.at = null;
        this.base = 0;
        this.pointer = null;
        this.heap = heap;
    }

    /** A new zero matrix in a Java array, for operands of Java loops only (no ND4J array, not a GEMM operand). */
    static Matrix onHeap(int rows, int cols) {
        return new Matrix(new double[Math.multiplyExact(rows, cols)], rows, cols);
    }

    /** A new zero matrix. */
    static Matrix zeros(int rows, int cols) {
        INDArray a = Nd4j.create(DataType.DOUBLE, new long[] {rows, cols}, 'c');
        return new Matrix(a, rows, cols, a, 0);
    }

    /** A new zero vector {@code [n]} (a 1 x n matrix whose array is rank 1). */
    static Matrix vector(int n) {
        INDArray a = Nd4j.create(DataType.DOUBLE, new long[] {n}, 'c');
        return new Matrix(a, 1, n, a, 0);
    }

    /** The same memory as {@code [rows, cols]} (same element count). */
    Matrix as(int newRows, int newCols) {
        if ((long) newRows * newCols != (long) rows * cols) {
            throw new IllegalArgumentException("cannot view [" + rows + ", " + cols + "] as [" + newRows + ", " + newCols + "]");
        }
        return new Matrix(null, newRows, newCols, owner, base, at);
    }

    /** A contiguous block of this matrix's memory from flat element {@code offset}, as {@code [rows, cols]}. */
    Matrix block(long offset, int newRows, int newCols) {
        if (offset < 0 || offset + (long) newRows * newCols > (long) rows * cols) {
            throw new IllegalArgumentException("block of [" + newRows + ", " + newCols + "] at " + offset + " outside [" + rows + ", " + cols + "]");
        }
        return new Matrix(null, newRows, newCols, owner, base + offset, at);
    }

    double get(int flat) {
        return heap != null ? heap[flat] : at.get(base + flat);
    }

    void set(int flat, double v) {
        if (heap != null) {
            heap[flat] = v;
        } else {
            at.set(base + flat, v);
        }
    }

    /** Copies all elements into {@code dst[0..rows*cols)} (one memcpy). */
    void read(double[] dst) {
        if (heap != null) {
            System.arraycopy(heap, 0, dst, 0, rows * cols);
        } else {
            pointer.get(dst, 0, rows * cols);
        }
    }

    /** All elements in a new Java array (one memcpy). */
    double[] copy() {
        double[] all = new double[Math.multiplyExact(rows, cols)];
        read(all);
        return all;
    }

    /** Copies {@code src[0..rows*cols)} into the elements (one memcpy). */
    void write(double[] src) {
        if (heap != null) {
            System.arraycopy(src, 0, heap, 0, rows * cols);
        } else {
            pointer.put(src, 0, rows * cols);
        }
    }

    void close() {
        if (array != null) {
            array.close();
        }
    }
}
