package dev.curvlab.curvature.hessian;

import org.bytedeco.javacpp.Pointer;

/**
 * Keeps a dense-matrix computation within its plan. ND4J frees the native memory of an array that
 * is not closed explicitly only after the garbage collector has found it, and the collector is in no
 * hurry: its heap holds only small array handles, and JavaCPP forces a collection only when its
 * native total passes its limit (by default the Java heap's maximum, a quarter of physical memory).
 * A forward-over-reverse pass leaves such garbage behind, so the blocked method under a 2 GB budget
 * peaked at 6.6 GB resident (issue 10). After each block or chunk, {@link #check} compares JavaCPP's
 * count of native bytes with the plan (what was allocated when the computation started, plus the
 * planned result and working memory, plus half the rest of the budget) and, when it is over,
 * collects the garbage and frees it now. Freed memory is reused by the next block (curvlab keeps it
 * in the process, see {@code NativeSettings}), so the peak stays near the plan.
 */
final class NativeGarbage {
    /** Does nothing (computations without a budget). */
    static final NativeGarbage NONE = new NativeGarbage(Long.MAX_VALUE);

    private final long trigger;

    private NativeGarbage(long trigger) {
        this.trigger = trigger;
    }

    /** A guard for a computation that plans {@code plannedBytes} of a {@code budgetBytes} budget, starting now. */
    static NativeGarbage beyond(double plannedBytes, double budgetBytes) {
        double slack = Math.max(0, budgetBytes - plannedBytes) / 2;
        return new NativeGarbage(Pointer.totalBytes() + (long) Math.min(Long.MAX_VALUE / 2.0, plannedBytes + slack));
    }

    /** Frees unreachable native arrays now when the native total is over the plan. */
    void check() {
        if (Pointer.totalBytes() <= trigger) {
            return;
        }
        System.gc();
        for (int attempt = 0; attempt < 10 && Pointer.totalBytes() > trigger; attempt++) {
            Pointer.deallocateReferences();               // the collector enqueues the garbage's references on its own thread
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        Pointer.deallocateReferences();
    }
}
