package dev.curvlab.core;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide settings of ND4J's native runtime that decide curvlab's speed on small machines,
 * measured on this project's 2-core machines:
 * <ul>
 * <li>Threads: matrix products (BLAS) gain from every core; the many small elementwise ops of a
 *     backward pass do not: with OpenMP spinning on both cores a gradient of MLP 20-64-64-3 took
 *     11 ms instead of 5 ms. {@link #threads} sets the two pools separately.</li>
 * <li>Freed memory: ND4J returns large buffers to the operating system on free, and every fresh
 *     page then costs a page fault on first touch (a 33 MB array: 25 ms to allocate fresh, 5 ms
 *     when reused). {@link #retainFreedMemory} asks the C allocator to keep freed memory for reuse
 *     ({@code mallopt}); the process keeps its peak footprint.</li>
 * </ul>
 * {@link #recommended()} applies both; curvlab's command-line tool, examples and benchmarks call it
 * at start. Library users may call it too (or set {@code OMP_NUM_THREADS}).
 */
public final class NativeSettings {
    private static final Logger LOG = LoggerFactory.getLogger(NativeSettings.class);

    private NativeSettings() {
    }

    /** Threads for BLAS (GEMM) and for ND4J's elementwise and reduction kernels. */
    public static void threads(int blasThreads, int elementwiseThreads) {
        if (blasThreads < 1 || elementwiseThreads < 1) {
            throw new IllegalArgumentException("thread counts must be >= 1, got " + blasThreads + " and " + elementwiseThreads);
        }
        Nd4j.factory().blas().setMaxThreads(blasThreads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(elementwiseThreads);
    }

    /** The current BLAS thread count. */
    public static int blasThreads() {
        return Nd4j.factory().blas().getMaxThreads();
    }

    /** The C library's allocator tuning call. */
    interface LibC extends Library {
        int mallopt(int param, int value);
    }

    /**
     * Keeps memory freed by native arrays inside the process (glibc: serve allocations up to 32 MB
     * from the heap and never trim it; larger ones are always fresh mappings). Returns false where unsupported (not Linux/glibc).
     */
    public static boolean retainFreedMemory() {
        try {
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
                return false;
            }
            LibC c = (LibC) Native.loadLibrary("c", LibC.class);
            int mmapThreshold = -3;
            int trimThreshold = -1;
            // 32 MB is glibc's largest mmap threshold on 64-bit systems; larger blocks are always mapped fresh
            return c.mallopt(mmapThreshold, 32 << 20) == 1 && c.mallopt(trimThreshold, Integer.MAX_VALUE) == 1;
        } catch (Throwable t) {
            LOG.debug("mallopt unavailable: {}", t.toString());
            return false;
        }
    }

    /** All processors for BLAS, one thread for elementwise kernels, freed memory retained. */
    public static void recommended() {
        threads(Runtime.getRuntime().availableProcessors(), 1);
        retainFreedMemory();
    }
}
