package dev.curvlab.core.kernels;

import java.util.stream.LongStream;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.buffer.DoubleBuffer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Zero-filled float64 C-order matrices of hundreds of megabytes, allocated fast: fresh memory is
 * paid for in page faults on first touch (about 0.7 ms per MB on one core of the reference machine,
 * 0.2 s for a 260 MB Hessian), and ND4J's own allocation touches it on one thread; here every core
 * touches a share. The memory is freed by {@link INDArray#close()} on the returned array, or when
 * it becomes unreachable. Below {@link #THRESHOLD_BYTES} this is {@code Nd4j.zeros}.
 */
public final class LargeMatrix {
    /** Matrices smaller than this (32 MB) come from {@code Nd4j.zeros}. */
    public static final long THRESHOLD_BYTES = 32L << 20;
    private static final long PIECE_BYTES = 8L << 20;

    private LargeMatrix() {
    }

    /** A zero {@code [rows, cols]} float64 matrix in C order. */
    public static INDArray zeros(long rows, long cols) {
        long length = rows * cols;
        if (8 * length < THRESHOLD_BYTES) {
            return Nd4j.zeros(DataType.DOUBLE, rows, cols);
        }
        DoublePointer memory = new DoublePointer(length);
        if (memory.isNull()) {
            throw new OutOfMemoryError("cannot allocate a " + rows + " x " + cols + " float64 matrix (" + (8 * length >> 20) + " MB)");
        }
        long bytes = 8 * length;
        long pieces = (bytes + PIECE_BYTES - 1) / PIECE_BYTES;
        LongStream.range(0, pieces).parallel().forEach(i -> {
            long start = i * PIECE_BYTES;
            Pointer.memset(new Pointer(memory).position(start), 0, Math.min(PIECE_BYTES, bytes - start));
        });
        return Nd4j.create(new OwnedBuffer(memory, length), new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c');
    }

    /** An ND4J buffer over memory this class allocated, released with the buffer. */
    private static final class OwnedBuffer extends DoubleBuffer {
        private final DoublePointer memory;

        OwnedBuffer(DoublePointer memory, long length) {
            super(memory, DoubleIndexer.create(memory), length);
            this.memory = memory;
        }

        @Override
        protected void release() {
            super.release();
            memory.deallocate();
        }
    }
}
