package dev.curvlab.curvature.cli;

import dev.curvlab.core.NativeSettings;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loads ND4J (class initialisation, native libraries, BLAS: about a second) on a background thread
 * while the command line is parsed and logging starts, instead of before the command's work (0.1 to
 * 0.2 s less wall time per command on the reference machine). A failure is kept for
 * {@link #failure()} and surfaces again, with its cause, when the command itself first uses ND4J.
 */
final class NativeWarmUp {
    private static volatile Throwable failure;
    private static volatile Thread thread;

    private NativeWarmUp() {
    }

    /** Starts the warm-up on a daemon thread (it never holds the process open). */
    static void start() {
        Thread t = new Thread(() -> {
            try {
                Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
                NativeSettings.retainFreedMemory();
                INDArray a = Nd4j.rand(DataType.DOUBLE, 8, 8);
                Nd4j.gemm(a, a, Nd4j.createUninitialized(DataType.DOUBLE, 8, 8), false, true, 1.0, 0.0);
            } catch (Throwable e) {
                failure = e;
            }
        }, "curvlab-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        thread = t;
        t.start();
    }

    /**
     * Waits for the warm-up to end (at once if none was started). Commands call it before their
     * first use of ND4J or JavaCPP: two threads initialising JavaCPP's Loader and Pointer classes at
     * the same time would deadlock.
     */
    static void await() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join();
        }
    }

    /** What went wrong in the warm-up, if anything (null otherwise or while it runs). */
    static Throwable failure() {
        return failure;
    }
}
