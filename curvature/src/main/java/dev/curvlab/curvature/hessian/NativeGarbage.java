package dev.curvlab.curvature.hessian;

import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a dense-matrix computation's resident memory within its plan. ND4J frees the native memory
 * of an array that is not closed explicitly only after the garbage collector has found it, and the
 * collector is in no hurry: its heap holds only small array handles (a young collection every 20-40 s
 * in issue 10's cases), so the garbage of many chunks or blocks piles up meanwhile. ND4J's own buffers
 * are not counted by JavaCPP ({@code Pointer.totalBytes()} stays near 0), so the guard watches the
 * process's resident size ({@code Pointer.physicalBytes()}, from {@code /proc/self/statm}).
 *
 * <p>The guard is made once the result is allocated (an in-memory result is resident then; a result
 * mapped from its output file is file-backed and not counted by {@code physicalBytes}); its limit is
 * the process's size then plus the method's planned working memory. After each chunk or block,
 * {@link #check} collects the
 * garbage and frees it when the resident size is over that limit and has grown by more than
 * {@link #STEP} since the last collection: the C allocator keeps freed memory in the process for
 * reuse ({@code NativeSettings}), so the resident size does not fall after a collection, but it stops
 * growing while the freed memory is reused. The peak thus stays within the plan plus one step and
 * one chunk's or block's garbage.
 */
final class NativeGarbage {
    private static final Logger LOG = LoggerFactory.getLogger(NativeGarbage.class);

    /** Does nothing (computations without a budget). */
    static final NativeGarbage NONE = new NativeGarbage(Long.MAX_VALUE);

    /** Growth past the limit between two collections: 16 MB. */
    static final long STEP = 16L << 20;

    private final long limit;
    private long lastCollection;

    private NativeGarbage(long limit) {
        this.limit = limit;
        this.lastCollection = Long.MIN_VALUE / 2;
    }

    /** A guard for a method that plans {@code workingBytes} of working memory, made once its result is allocated. */
    static NativeGarbage beyond(double workingBytes) {
        long planned = (long) Math.min(Long.MAX_VALUE / 4.0, Math.max(0, workingBytes));
        return new NativeGarbage(Pointer.physicalBytes() + planned);
    }

    /** Frees unreachable native arrays now when the process has grown past the plan. */
    void check() {
        if (limit == Long.MAX_VALUE) {
            return;
        }
        long resident = Pointer.physicalBytes();
        if (resident <= limit || resident <= lastCollection + STEP) {
            return;
        }
        System.gc();
        Pointer.deallocateReferences();
        try {
            Thread.sleep(5);                                      // the collector enqueues the garbage's references on its own thread
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Pointer.deallocateReferences();
        lastCollection = Pointer.physicalBytes();
        LOG.debug("hessian: collected native garbage at {} resident (limit {}), {} after", MemoryBudget.format(resident),
                MemoryBudget.format(limit), MemoryBudget.format(lastCollection));
    }
}
