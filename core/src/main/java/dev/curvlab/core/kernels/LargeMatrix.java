package dev.curvlab.core.kernels;

import java.nio.ByteBuffer;
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
 * touches a share. {@link INDArray#close()} on the returned array gives its memory back, or, when
 * it becomes unreachable, the garbage collector does. The memory of the most recently closed matrix
 * (one, up to {@link #SPARE_LIMIT_BYTES}) is kept as a spare for the next one of at most its size,
 * which then costs a memset instead of fresh page faults (a loop that computes and closes Hessians
 * pays for fresh memory once); {@link #releaseSpare()} returns it. Below {@link #THRESHOLD_BYTES}
 * this is {@code Nd4j.zeros}.
 */
public final class LargeMatrix {
    /** Matrices smaller than this (32 MB) come from {@code Nd4j.zeros}. */
    public static final long THRESHOLD_BYTES = 32L << 20;
    /** The largest spare kept after a close (1 GB). */
    public static final long SPARE_LIMIT_BYTES = 1L << 30;
    private static final long PIECE_BYTES = 8L << 20;
    private static DoublePointer spare;                       // guarded by LargeMatrix.class

    private LargeMatrix() {
    }

    /** A zero {@code [rows, cols]} float64 matrix in C order. */
    public static INDArray zeros(long rows, long cols) {
        long length = rows * cols;
        if (8 * length < THRESHOLD_BYTES) {
            return Nd4j.zeros(DataType.DOUBLE, rows, cols);
        }
        DoublePointer reused = takeSpare(length);
        DoublePointer memory = reused != null ? reused : new DoublePointer(length);
        if (memory.isNull()) {
            throw new OutOfMemoryError("cannot allocate a " + rows + " x " + cols + " float64 matrix (" + (8 * length >> 20) + " MB)");
        }
        zeroInParallel(memory, 8 * length);
        return Nd4j.create(new ExternalBuffer(memory, length, memory, () -> keepOrFree(memory)), new long[] {rows, cols}, new long[] {cols, 1},
                0, 'c');
    }

    /** Frees the kept spare, if any (its memory goes back to the system). */
    public static synchronized void releaseSpare() {
        if (spare != null) {
            spare.deallocate();
            spare = null;
        }
    }

    /** The spare, when it holds {@code length} doubles without wasting more than as much again. */
    private static synchronized DoublePointer takeSpare(long length) {
        if (spare == null || spare.capacity() < length || spare.capacity() > 2 * length) {
            return null;
        }
        DoublePointer s = spare;
        spare = null;
        return s;
    }

    /** On close: keep this memory as the spare (freeing an older one) when small enough, else free it. */
    private static synchronized void keepOrFree(DoublePointer memory) {
        if (8 * memory.capacity() > SPARE_LIMIT_BYTES) {
            memory.deallocate();
            return;
        }
        releaseSpare();
        spare = memory;
    }

    /**
     * The {@code [rows, cols]} float64 C-order matrix stored in a direct buffer from
     * {@code byteOffset} (a multiple of 8), as it is: e.g. a file mapped with
     * {@code FileChannel.map} (read-write: writes to the matrix go straight to the file; private:
     * they stay in memory). The buffer stays reachable while the matrix is; closing the matrix leaves
     * the buffer as it is.
     */
    public static INDArray over(ByteBuffer direct, long byteOffset, long rows, long cols) {
        long length = rows * cols;
        if (!direct.isDirect() || byteOffset % 8 != 0 || byteOffset + 8 * length > direct.capacity()) {
            throw new IllegalArgumentException("need a direct buffer of at least " + (byteOffset + 8 * length) + " bytes and an offset that is a"
                    + " multiple of 8; got " + (direct.isDirect() ? "" : "a heap buffer of ") + direct.capacity() + " bytes, offset " + byteOffset);
        }
        long first = new Pointer(direct).address() + byteOffset;     // (a name that is not one of Pointer's fields)
        DoublePointer memory = new DoublePointer() {
            {
                address = first;
                limit = length;
                capacity = length;
            }
        };
        return Nd4j.create(new ExternalBuffer(memory, length, direct, () -> { }), new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c');
    }

    /** Writes zeros over {@code bytes} bytes from {@code memory}, a share per core (each faults its own pages in). */
    private static void zeroInParallel(DoublePointer memory, long bytes) {
        long pieces = (bytes + PIECE_BYTES - 1) / PIECE_BYTES;
        LongStream.range(0, pieces).parallel().forEach(i -> {
            long start = i * PIECE_BYTES;
            Pointer.memset(new Pointer(memory).position(start), 0, Math.min(PIECE_BYTES, bytes - start));
        });
    }

    /** An ND4J buffer over memory ND4J did not allocate: keeps its owner reachable and runs {@code onRelease} when closed. */
    private static final class ExternalBuffer extends DoubleBuffer {
        @SuppressWarnings("unused") // held so the memory's owner (a mapped file, the pointer) lives as long as the buffer
        private final Object owner;
        private final Runnable onRelease;

        ExternalBuffer(DoublePointer memory, long length, Object owner, Runnable onRelease) {
            super(memory, DoubleIndexer.create(memory), length);
            this.owner = owner;
            this.onRelease = onRelease;
        }

        @Override
        protected void release() {
            super.release();
            onRelease.run();
        }
    }
}
